import { describe, expect, it } from "vitest";
import { BASIC_COLORS, afterCarriageReturn, color256, markMatches, parseAnsi, plainText } from "./ansi";

describe("parseAnsi", () => {
  it("colours red and resets", () => {
    expect(parseAnsi("\x1b[31mred\x1b[0m plain")).toEqual([
      { text: "red", style: { fg: BASIC_COLORS[1] } },
      { text: " plain", style: {} },
    ]);
  });

  it("handles bold with colour in one sequence, and bright colours", () => {
    const spans = parseAnsi("\x1b[1;32mok\x1b[22m thin\x1b[39m \x1b[91mbright");
    expect(spans).toEqual([
      { text: "ok", style: { fg: BASIC_COLORS[2], bold: true } },
      { text: " thin", style: { fg: BASIC_COLORS[2] } },
      { text: " ", style: {} },
      { text: "bright", style: { fg: BASIC_COLORS[9] } },
    ]);
  });

  it("reads 256-colour and truecolor foreground and background", () => {
    expect(parseAnsi("\x1b[38;5;208mo")).toEqual([{ text: "o", style: { fg: "#ff8700" } }]);
    expect(parseAnsi("\x1b[48;5;21mb")).toEqual([{ text: "b", style: { bg: "#0000ff" } }]);
    expect(parseAnsi("\x1b[38;2;10;20;200mt")).toEqual([{ text: "t", style: { fg: "#0a14c8" } }]);
    expect(parseAnsi("\x1b[48;2;255;0;0;1mx")).toEqual([{ text: "x", style: { bg: "#ff0000", bold: true } }]);
    expect(parseAnsi("\x1b[38:5:196mc")).toEqual([{ text: "c", style: { fg: "#ff0000" } }]);
    expect(parseAnsi("\x1b[38:2::1:2:3mc")).toEqual([{ text: "c", style: { fg: "#010203" } }]);
  });

  it("treats an empty SGR as reset and 49 as default background", () => {
    expect(parseAnsi("\x1b[41;33ma\x1b[49mb\x1b[mc")).toEqual([
      { text: "a", style: { fg: BASIC_COLORS[3], bg: BASIC_COLORS[1] } },
      { text: "b", style: { fg: BASIC_COLORS[3] } },
      { text: "c", style: {} },
    ]);
  });

  it("strips cursor, erase, OSC and charset sequences", () => {
    expect(plainText("\x1b[2K\x1b[1Gdone\x1b[?25l\x1b[3A!")).toBe("done!");
    expect(plainText("\x1b]0;title\x07hello\x1b]8;;http://x\x1b\\link")).toBe("hellolink");
    expect(plainText("\x1b(Bplain\x1b7\x1b8")).toBe("plain");
    expect(plainText("tail\x1b")).toBe("tail");
  });

  it("keeps what a terminal shows after carriage returns", () => {
    expect(afterCarriageReturn("10%\r50%\r100%")).toBe("100%");
    expect(afterCarriageReturn("done\r")).toBe("done");
    expect(plainText("a\rb\x1b[32mc")).toBe("bc");
  });

  it("drops control characters but keeps tabs", () => {
    expect(plainText("a\tb\x07c\x00")).toBe("a\tbc");
  });
});

describe("color256", () => {
  it("maps the basic, cube and grey ranges", () => {
    expect(color256(1)).toBe(BASIC_COLORS[1]);
    expect(color256(16)).toBe("#000000");
    expect(color256(231)).toBe("#ffffff");
    expect(color256(232)).toBe("#080808");
    expect(color256(255)).toBe("#eeeeee");
    expect(color256(256)).toBeUndefined();
  });
});

describe("markMatches", () => {
  it("splits spans at case-insensitive matches, across span borders", () => {
    const spans = parseAnsi("\x1b[31mErr\x1b[0mor: error");
    const marked = markMatches(spans, "error");
    expect(marked.map((s) => [s.text, s.match, s.style.fg ?? null])).toEqual([
      ["Err", true, BASIC_COLORS[1]],
      ["or", true, null],
      [": ", false, null],
      ["error", true, null],
    ]);
  });

  it("marks nothing for an empty query", () => {
    expect(markMatches(parseAnsi("abc"), "")).toEqual([{ text: "abc", style: {}, match: false }]);
  });
});

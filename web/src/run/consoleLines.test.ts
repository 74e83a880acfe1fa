import { describe, expect, it } from "vitest";
import type { ConsoleLine } from "../api";
import { mergeLines } from "./consoleLines";

const line = (index: number, text: string, stream = "stdout"): ConsoleLine => ({ index, text, stream, time: 0 });

describe("mergeLines", () => {
  it("appends, keeps index order and strips escapes for search", () => {
    const first = mergeLines([], [line(1, "b"), line(0, "\x1b[31ma\x1b[0m")]);
    expect(first.map((l) => [l.index, l.plain])).toEqual([
      [0, "a"],
      [1, "b"],
    ]);
    const next = mergeLines(first, [line(2, "c")]);
    expect(next.map((l) => l.index)).toEqual([0, 1, 2]);
  });

  it("replaces a redrawn line and returns the same array when nothing changed", () => {
    const lines = mergeLines([], [line(0, "10%"), line(1, "x")]);
    expect(mergeLines(lines, [line(1, "x")])).toBe(lines);
    expect(mergeLines(lines, [])).toBe(lines);
    const redrawn = mergeLines(lines, [line(0, "100%")]);
    expect(redrawn.map((l) => l.text)).toEqual(["100%", "x"]);
  });

  it("prepends earlier pages", () => {
    const lines = mergeLines([], [line(5, "f")]);
    expect(mergeLines(lines, [line(3, "d"), line(4, "e")]).map((l) => l.index)).toEqual([3, 4, 5]);
  });
});

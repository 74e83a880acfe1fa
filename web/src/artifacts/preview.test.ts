import { describe, expect, it } from "vitest";
import { decodeText, imageType, looksBinary, parseDelimited, prettyJson, previewKind, readPrefix } from "./preview";

describe("previewKind", () => {
  it("picks the preview from the file name", () => {
    expect(previewKind("plots/loss.PNG")).toBe("image");
    expect(previewKind("a/b/photo.jpeg")).toBe("image");
    expect(previewKind("diagram.svg")).toBe("image");
    expect(previewKind("data/train.csv")).toBe("csv");
    expect(previewKind("data/train.tsv")).toBe("tsv");
    expect(previewKind("config.json")).toBe("json");
    expect(previewKind("notes/README.md")).toBe("text");
    expect(previewKind("LICENSE")).toBe("text");
    expect(previewKind("model.safetensors")).toBe("none");
    expect(previewKind(".hidden")).toBe("none");
  });

  it("gives images their MIME type", () => {
    expect(imageType("x/y.svg")).toBe("image/svg+xml");
    expect(imageType("y.JPG")).toBe("image/jpeg");
    expect(imageType("y.bin")).toBe("application/octet-stream");
  });
});

describe("parseDelimited", () => {
  it("reads quoted fields with delimiters, quotes and newlines", () => {
    const text = 'name,note\r\n"a, b","say ""hi"""\n"multi\nline",x\n';
    expect(parseDelimited(text, ",", 100, true)).toEqual({
      rows: [
        ["name", "note"],
        ["a, b", 'say "hi"'],
        ["multi\nline", "x"],
      ],
      more: false,
    });
  });

  it("keeps a last row without a line end and empty fields", () => {
    expect(parseDelimited("a,,c\n1,2,", ",", 100, true).rows).toEqual([
      ["a", "", "c"],
      ["1", "2", ""],
    ]);
  });

  it("skips blank lines and splits TSV on tabs", () => {
    expect(parseDelimited("x\ty\n\n1\t2\n", "\t", 100, true).rows).toEqual([
      ["x", "y"],
      ["1", "2"],
    ]);
  });

  it("stops after maxRows and says more followed", () => {
    const text = Array.from({ length: 500 }, (_, i) => `${i},${i * 2}`).join("\n");
    const table = parseDelimited(text, ",", 101, true);
    expect(table.rows).toHaveLength(101);
    expect(table.rows[100]).toEqual(["100", "200"]);
    expect(table.more).toBe(true);
    expect(parseDelimited("a\nb\n", ",", 2, true).more).toBe(false);
  });

  it("drops a row cut short by the end of a truncated prefix", () => {
    expect(parseDelimited("a,b\n1,2\n3,", ",", 100, false)).toEqual({
      rows: [
        ["a", "b"],
        ["1", "2"],
      ],
      more: true,
    });
    expect(parseDelimited('a\n"open quote\nstill', ",", 100, false).rows).toEqual([["a"]]);
  });
});

describe("readPrefix", () => {
  it("reads a short body whole", async () => {
    const prefix = await readPrefix(new Response("hello"), 64);
    expect(decodeText(prefix)).toBe("hello");
    expect(prefix.truncated).toBe(false);
  });

  it("stops at maxBytes of a long streamed body", async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 1000) controller.close();
        else controller.enqueue(new Uint8Array(1024).fill(65));
      },
    });
    const prefix = await readPrefix(new Response(body), 4096);
    expect(prefix.bytes.length).toBe(4096);
    expect(prefix.truncated).toBe(true);
    expect(pulled).toBeLessThan(20);
  });

  it("drops a character cut in two at the end of a truncated prefix", async () => {
    const prefix = await readPrefix(new Response("aé"), 2); // é is two bytes in UTF-8
    expect(prefix.truncated).toBe(true);
    expect(decodeText(prefix)).toBe("a");
  });
});

describe("looksBinary and prettyJson", () => {
  it("calls bytes with a NUL binary", () => {
    expect(looksBinary(new Uint8Array([65, 0, 66]))).toBe(true);
    expect(looksBinary(new TextEncoder().encode("plain text"))).toBe(false);
  });

  it("pretty-prints JSON and refuses what does not parse", () => {
    expect(prettyJson('{"a":[1,2],"b":{"c":null}}')).toBe('{\n  "a": [\n    1,\n    2\n  ],\n  "b": {\n    "c": null\n  }\n}');
    expect(prettyJson("{nope")).toBeNull();
  });
});

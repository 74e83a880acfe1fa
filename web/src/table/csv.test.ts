import { describe, expect, it } from "vitest";
import { csvField, csvValue, runsCsv } from "./csv";
import { testRun } from "../testing";

const run = testRun;

describe("CSV", () => {
  it("quotes fields with commas, quotes and line breaks", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField("cr\r")).toBe('"cr\r"');
    expect(csvField("")).toBe("");
  });

  it("writes values in full", () => {
    expect(csvValue(0.1 + 0.2)).toBe("0.30000000000000004");
    expect(csvValue(null)).toBe("");
    expect(csvValue(undefined)).toBe("");
    expect(csvValue(["a", "b"])).toBe("a,b");
    // Text a spreadsheet would run as a formula is defused; numbers stay numbers.
    expect(csvValue("=HYPERLINK(\"x\")")).toBe("'=HYPERLINK(\"x\")");
    expect(csvValue("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvValue("-cmd")).toBe("'-cmd");
    expect(csvValue(-1.5)).toBe("-1.5");
    expect(csvValue("resnet-50")).toBe("resnet-50");
    expect(csvValue({ x: 1 })).toBe('{"x":1}');
    expect(csvValue(true)).toBe("true");
  });

  it("one line per run in the column order", () => {
    const runs = [
      run({ id: "a", name: "first, run", config: { lr: 0.01 }, summary: { loss: 0.5 }, tags: ["x", "y"] }),
      run({ id: "b", name: 'b "q"', config: { lr: 0.1 } }),
    ];
    expect(runsCsv(runs, ["name", "config.lr", "summary.loss", "tags", "duration"], 0)).toBe(
      'name,config.lr,summary.loss,tags,duration\r\n"first, run",0.01,0.5,"x,y",90\r\n"b ""q""",0.1,,,90\r\n',
    );
  });
});

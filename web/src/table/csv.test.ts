import { describe, expect, it } from "vitest";
import type { Run } from "../api";
import { csvField, csvValue, runsCsv } from "./csv";

const run = (over: Partial<Run>): Run => ({
  entity: "e", project: "p", id: "r1", name: "run", state: "finished", config: {}, summary: {}, tags: [],
  notes: "", group: null, job_type: null, sweep: null, host: null, metadata: {},
  created_at: "2026-11-26T10:00:00Z", updated_at: "2026-11-26T10:00:00Z", heartbeat_at: "2026-11-26T10:01:00Z",
  finished_at: "2026-11-26T10:01:30Z", exit_code: 0, last_step: 1, history_rows: 2, ...over,
});

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

import { describe, expect, it } from "vitest";
import { buildFilter, literal, parseFilterRows, rowText, type FilterRow } from "./filterText";

describe("filter builder text", () => {
  it("writes numbers, booleans and null bare, other values as quoted strings", () => {
    expect(literal("0.01")).toBe("0.01");
    expect(literal("-1.5e3")).toBe("-1.5e3");
    expect(literal("TRUE")).toBe("true");
    expect(literal("adam")).toBe('"adam"');
    expect(literal('say "hi"')).toBe('"say \\"hi\\""');
    expect(literal('"4"')).toBe('"4"');
    expect(literal("'x'")).toBe('"x"');
    expect(literal("4", true)).toBe('"4"');
  });

  it("one predicate per row, joined with and", () => {
    const rows: FilterRow[] = [
      { field: "config.lr", op: ">", value: "0.01" },
      { field: "config.optimizer", op: "=", value: "adam" },
      { field: "state", op: "in", value: "running, finished" },
      { field: "tags", op: "not contains", value: "debug" },
      { field: "summary.acc", op: "exists", value: "" },
      { field: "name", op: "=~", value: "^resnet-\\d+$" },
    ];
    expect(buildFilter(rows)).toBe(
      'config.lr > 0.01 and config.optimizer = "adam" and state in ("running", "finished") and ' +
        'tags not contains "debug" and summary.acc exists and name =~ "^resnet-\\\\d+$"',
    );
  });

  it("backquotes field names and skips incomplete rows", () => {
    expect(rowText({ field: "config.batch size", op: ">=", value: "32" })).toBe("config.`batch size` >= 32");
    expect(rowText({ field: "and", op: "=", value: "1" })).toBe("`and` = 1");
    expect(rowText({ field: "config.lr", op: ">", value: " " })).toBeNull();
    expect(rowText({ field: "", op: "=", value: "1" })).toBeNull();
    expect(buildFilter([{ field: "", op: "=", value: "" }, { field: "config.x", op: "not exists", value: "" }])).toBe(
      "config.x not exists",
    );
    expect(rowText({ field: "config.x", op: "in", value: '"a,b", c' })).toBe('config.x in ("a,b", "c")');
  });

  it("reads a plain conjunction back into rows", () => {
    const text = 'config.lr > 0.01 and config.`batch size` = 32 and state in ("running", "failed") and tags contains "a b"';
    const rows = parseFilterRows(text);
    expect(rows).toEqual([
      { field: "config.lr", op: ">", value: "0.01" },
      { field: "config.batch size", op: "=", value: "32" },
      { field: "state", op: "in", value: "running, failed" },
      { field: "tags", op: "contains", value: "a b" },
    ]);
    expect(buildFilter(rows!)).toBe(text);
    expect(parseFilterRows('config.x = "4"')).toEqual([{ field: "config.x", op: "=", value: '"4"' }]);
    expect(parseFilterRows("a = 1 or b = 2")).toBeNull();
    expect(parseFilterRows("(a = 1)")).toBeNull();
    expect(parseFilterRows("")).toEqual([]);
  });
});

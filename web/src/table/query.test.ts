import { describe, expect, it } from "vitest";
import { canonicalPath, errorColumn, formatSegments, metricPath, parsePath, queryPath, quoteText } from "./query";

describe("field paths", () => {
  it("writes segments bare where the lexer allows", () => {
    expect(queryPath("config.lr")).toBe("config.lr");
    expect(queryPath("summary.train/loss")).toBe("summary.train/loss");
    expect(queryPath("config.val-acc")).toBe("config.val-acc");
    expect(queryPath("config.2d_conv")).toBe("config.2d_conv");
    expect(queryPath("config.batch size")).toBe("config.`batch size`");
    expect(queryPath("config.a`b")).toBe("config.`a\\`b`");
    expect(queryPath("2fast")).toBe("`2fast`");
    expect(queryPath("and")).toBe("`and`");
    expect(queryPath("config.and")).toBe("config.and");
    expect(queryPath("größe")).toBe("größe");
    expect(formatSegments(["config", "my.key"])).toBe("config.`my.key`");
  });

  it("backquotes a metric key with other characters", () => {
    expect(metricPath("train/loss", "min")).toBe("metrics.train/loss.min");
    expect(metricPath("val acc", "max")).toBe("metrics.`val acc`.max");
    expect(metricPath("val.loss", "last")).toBe("metrics.`val.loss`.last");
  });

  it("reads paths back", () => {
    expect(parsePath("config.`batch size`.x")).toEqual(["config", "batch size", "x"]);
    expect(parsePath("config.`a\\`b`")).toEqual(["config", "a`b"]);
    expect(parsePath("config.")).toBeNull();
    expect(parsePath("config lr")).toBeNull();
    expect(parsePath("1abc")).toBeNull();
    expect(canonicalPath("`config`.`lr`")).toBe("config.lr");
  });

  it("quotes strings with the lexer's escapes", () => {
    expect(quoteText('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
    expect(quoteText("a\\d")).toBe('"a\\\\d"');
  });

  it("finds the column of a server error", () => {
    expect(errorColumn('filter: expected a value after ">", found end of input at column 13')).toBe(13);
    expect(errorColumn("something else")).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import type { JsonObject, Run } from "../api";
import {
  brushRuns,
  categoricalFields,
  colorScale,
  makeAxis,
  niceTicks,
  numericFields,
  numericValue,
  prefersLog,
  type Axis,
} from "./numeric";
import { testRun } from "../testing";

function run(id: string, config: JsonObject, summary: JsonObject = {}): Run {
  return testRun({ id, name: id, config, summary });
}

const runs = [
  run("a", { lr: 0.001, opt: "adam", model: { depth: 2 } }, { loss: 0.5, note: "x", bad: "NaN" }),
  run("b", { lr: 0.01, opt: "sgd", model: { depth: 4 } }, { loss: 0.3 }),
  run("c", { lr: 0.1, opt: "adam", model: { depth: 6 } }, { loss: 0.9 }),
  run("d", { lr: 1, opt: "sgd" }, {}),
];

describe("numeric fields", () => {
  it("reads finite numbers only", () => {
    expect(numericValue(runs[0]!, "summary.loss")).toBe(0.5);
    expect(numericValue(runs[0]!, "summary.bad")).toBeNull();
    expect(numericValue(runs[0]!, "config.opt")).toBeNull();
    expect(numericValue(runs[3]!, "config.model.depth")).toBeNull();
  });

  it("finds numeric config and summary leaves with counts", () => {
    expect(numericFields(runs).map((f) => [f.path, f.count])).toEqual([
      ["config.lr", 4],
      ["config.model.depth", 3],
      ["summary.loss", 3],
    ]);
    expect(numericFields(runs, ["summary"]).map((f) => f.path)).toEqual(["summary.loss"]);
  });

  it("finds categorical config fields", () => {
    expect(categoricalFields(runs).map((f) => [f.path, f.distinct])).toEqual([["config.opt", 2]]);
  });
});

describe("axes", () => {
  it("scales linearly onto [0, 1] with round ticks", () => {
    const axis = makeAxis(runs, "config.model.depth");
    expect(axis.kind).toBe("linear");
    expect(axis.position(runs[0]!)).toBe(0);
    expect(axis.position(runs[1]!)).toBe(0.5);
    expect(axis.position(runs[2]!)).toBe(1);
    expect(axis.position(runs[3]!)).toBeNull();
    expect(axis.ticks.map((t) => t.label)).toEqual(["2", "3", "4", "5", "6"]);
  });

  it("picks a log axis for positive values spanning decades", () => {
    expect(prefersLog([0.001, 1])).toBe(true);
    expect(prefersLog([1, 5])).toBe(false);
    const axis = makeAxis(runs, "config.lr");
    expect(axis.kind).toBe("log");
    expect(axis.position(runs[1]!)).toBeCloseTo(1 / 3);
    expect(axis.ticks.map((t) => t.label)).toEqual(["0.001", "0.01", "0.1", "1"]);
    expect(makeAxis(runs, "config.lr", "linear").kind).toBe("linear");
  });

  it("pads a constant field and makes category axes for strings", () => {
    const flat = makeAxis([runs[0]!], "summary.loss");
    expect(flat.position(runs[0]!)).toBeCloseTo(0.5);
    const opt = makeAxis(runs, "config.opt");
    expect(opt.kind).toBe("category");
    expect(opt.categories).toEqual(["adam", "sgd"]);
    expect(opt.position(runs[1]!)).toBe(1);
  });

  it("computes nice ticks", () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.13, 0.87, 4)).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });
});

describe("brushing", () => {
  const axes = new Map<string, Axis>(
    ["config.model.depth", "summary.loss", "config.opt"].map((path) => [path, makeAxis(runs, path)]),
  );

  it("keeps everything without brushes", () => {
    expect(brushRuns(runs, [], axes)).toHaveLength(4);
  });

  it("keeps exactly the runs in range, inclusive, on every brushed axis", () => {
    // depth 2..6 → 0..1: [0.4, 1] is depth >= 3.6 → b and c; d has no depth.
    expect(brushRuns(runs, [{ path: "config.model.depth", lo: 1, hi: 0.4 }], axes).map((r) => r.id)).toEqual(["b", "c"]);
    // loss 0.3..0.9: loss <= 0.5 is [0, 1/3].
    const both = brushRuns(
      runs,
      [
        { path: "config.model.depth", lo: 0.4, hi: 1 },
        { path: "summary.loss", lo: 0, hi: 1 / 3 },
      ],
      axes,
    );
    expect(both.map((r) => r.id)).toEqual(["b"]);
    expect(brushRuns(runs, [{ path: "config.model.depth", lo: 0.5, hi: 0.5 }], axes).map((r) => r.id)).toEqual(["b"]);
  });

  it("brushes category axes", () => {
    expect(brushRuns(runs, [{ path: "config.opt", lo: 0.9, hi: 1 }], axes).map((r) => r.id)).toEqual(["b", "d"]);
  });
});

describe("colorScale", () => {
  it("runs from blue to red and clamps", () => {
    expect(colorScale(0)).toBe("rgb(49, 54, 149)");
    expect(colorScale(1)).toBe("rgb(165, 0, 38)");
    expect(colorScale(2)).toBe(colorScale(1));
  });
});

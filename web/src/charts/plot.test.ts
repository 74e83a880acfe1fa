import { describe, expect, it } from "vitest";
import type { ChartResponse, ChartSeries, Run } from "../api";
import { resolveSettings } from "./model";
import { drawnSeries, plotData } from "./plot";

function series(run: string, key: string, xs: number[], ys: number[]): ChartSeries {
  return {
    run,
    key,
    bucket: xs.map((_, i) => i),
    count: xs.map(() => 1),
    first_x: xs,
    first_y: ys,
    last_x: xs,
    last_y: ys,
    min_x: xs,
    min_y: ys,
    max_x: xs,
    max_y: ys,
  };
}

function run(id: string, config: Run["config"]): Run {
  return { id, name: `name-${id}`, config } as unknown as Run;
}

const response = (list: ChartSeries[]): ChartResponse => ({ x: "step", x_min: 0, x_max: 3, buckets: 4, series: list });
const color = (id: string) => (id.startsWith("group:") ? "#000000" : "#ff0000");

describe("drawnSeries", () => {
  const runs = [run("a", { opt: "adam" }), run("b", { opt: "adam" }), run("c", { opt: "sgd" })];
  const data = response([series("a", "loss", [0, 1, 2, 3], [4, 3, 2, 1]), series("b", "loss", [0, 1, 2, 3], [6, 5, 4, 3]), series("c", "loss", [0, 1, 2, 3], [1, 1, 1, 1])]);

  it("draws one line per run, labelled by run name, in its colour", () => {
    const drawn = drawnSeries(data, resolveSettings({}, {}), runs, [], color);
    expect(drawn.map((d) => d.label)).toEqual(["name-a", "name-b", "name-c"]);
    expect(drawn[0]!.y).toEqual([4, 3, 2, 1]);
    expect(drawn[0]!.smoothed).toBeNull();
    expect(drawn[0]!.color).toBe("#ff0000");
  });

  it("draws one line per group with its band", () => {
    const drawn = drawnSeries(data, resolveSettings({}, { groupBand: "minmax" }), runs, ["config.opt"], color);
    expect(drawn.map((d) => [d.label, d.run])).toEqual([
      ["adam (2)", "group:adam"],
      ["sgd (1)", "group:sgd"],
    ]);
    expect(drawn[0]!.y).toEqual([5, 4, 3, 2]);
    expect(drawn[0]!.lo).toEqual([4, 3, 2, 1]);
    expect(drawn[0]!.hi).toEqual([6, 5, 4, 3]);
  });

  it("a group of one run is that run's exact line (a spike survives)", () => {
    const spiky = response([series("c", "loss", [0, 1, 2, 3], [1, 1e6, 1, 1])]);
    const drawn = drawnSeries(spiky, resolveSettings({}, {}), runs, ["config.opt"], color);
    expect(drawn).toHaveLength(1);
    expect(drawn[0]!.label).toBe("sgd (1)");
    expect(drawn[0]!.y).toEqual([1, 1e6, 1, 1]);
    expect(drawn[0]!.hi).toEqual([1, 1e6, 1, 1]);
  });

  it("log scales leave out x <= 0 and make y <= 0 a gap", () => {
    const d = drawnSeries(response([series("a", "loss", [0, 1, 2], [-1, 0, 5])]), resolveSettings({}, { logX: true, logY: true }), runs, [], color);
    expect(d[0]!.x).toEqual([1, 2]);
    expect(d[0]!.y).toEqual([null, 5]);
  });

  it("smooths when asked, keeping the raw line", () => {
    const d = drawnSeries(data, resolveSettings({ smoothing: { kind: "ema", value: 0.5 } }, {}), runs, [], color);
    expect(d[0]!.y).toEqual([4, 3, 2, 1]);
    expect(d[0]!.smoothed![0]).toBe(4);
    expect(d[0]!.smoothed![1]).toBeGreaterThan(3);
  });
});

describe("plotData", () => {
  it("aligns raw, smoothed and band series and points the tooltip at the main line", () => {
    const runs = [run("a", {})];
    const d = drawnSeries(response([series("a", "loss", [0, 1], [2, 4])]), resolveSettings({ smoothing: { kind: "ema", value: 0.5 } }, { band: true }), runs, [], color);
    const plot = plotData(d, true);
    // x, band hi, band lo, raw, smoothed
    expect(plot.data.length).toBe(5);
    expect(plot.bands).toEqual([{ series: [1, 2], fill: "rgba(255, 0, 0, 0.15)" }]);
    expect(plot.mainOf).toEqual([-1, -1, -1, -1, 0]);
    expect(plot.data[0]).toEqual([0, 1]);
    expect(plot.data[3]).toEqual([2, 4]);
  });
});

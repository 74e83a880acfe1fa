import { describe, expect, it } from "vitest";
import { testRun } from "../testing";
import type { KeyInfo, Run } from "../api";
import {
  compact,
  compareSections,
  nextPanelId,
  panelModels,
  removePanel,
  resolveKeys,
  resolveSettings,
  sectionOf,
  setPanelSettings,
  setZoom,
  unionKeys,
  definitionOf,
  metricDefinitions,
  movePanel,
  type WorkspaceState,
} from "./model";

const info = (key: string, stream: KeyInfo["stream"] = "history", kind: KeyInfo["kind"] = "scalar"): KeyInfo => ({
  key,
  stream,
  kind,
  count: 1,
  min_step: 0,
  max_step: 0,
  min: 0,
  max: 0,
  last: 0,
});

describe("sections", () => {
  it("come from the key prefix; no prefix is Charts, system metrics System", () => {
    expect(sectionOf("train/loss")).toBe("train");
    expect(sectionOf("val/acc/top1")).toBe("val");
    expect(sectionOf("loss")).toBe("Charts");
    expect(sectionOf("system/cpu", "system")).toBe("System");
    expect(sectionOf("system/gpu.0.util")).toBe("System");
    expect(["val", "System", "Charts", "train", "Custom"].sort(compareSections)).toEqual(["Custom", "Charts", "train", "val", "System"]);
  });
});

describe("keys", () => {
  it("union keeps scalar keys of all runs, without internal ones, history winning a clash", () => {
    const keys = unionKeys([
      [info("train/loss"), info("_timestamp"), info("image", "history", "object")],
      [info("train/loss"), info("system/cpu", "system"), info("lr")],
    ]);
    expect(keys).toEqual([
      { key: "lr", stream: "history" },
      { key: "system/cpu", stream: "system" },
      { key: "train/loss", stream: "history" },
    ]);
  });

  it("regex specs match known keys, plain keys stand as written, no duplicates", () => {
    const known = ["lr", "train/acc", "train/loss", "val/loss"];
    expect(resolveKeys(["/^train\\//"], known)).toEqual(["train/acc", "train/loss"]);
    expect(resolveKeys(["/loss$/", "train/loss", "other"], known)).toEqual(["train/loss", "val/loss", "other"]);
    expect(resolveKeys(["/LOSS/i"], known)).toEqual(["train/loss", "val/loss"]);
    expect(resolveKeys(["/([/"], known)).toEqual(["/([/"]);
    expect(resolveKeys(["/./"], known, 2)).toEqual(["lr", "train/acc"]);
  });
});

describe("workspace state", () => {
  const known = [
    { key: "loss", stream: "history" as const },
    { key: "train/acc", stream: "history" as const },
  ];

  it("has one default panel per key, then the added ones", () => {
    const ws: WorkspaceState = { added: [{ id: "p1", keys: ["/acc/"] }], removed: ["k:loss"], settings: { p1: { logY: true } } };
    const panels = panelModels(ws, known);
    expect(panels.map((p) => [p.id, p.section])).toEqual([
      ["k:train/acc", "train"],
      ["p1", "Custom"],
    ]);
    expect(panels[1]!.settings).toEqual({ logY: true });
    expect(nextPanelId(ws)).toBe("p2");
  });

  it("panel settings inherit the workspace's x-axis and smoothing", () => {
    const ws: WorkspaceState = { x: "relative_time", smoothing: { kind: "ema", value: 0.5 } };
    expect(resolveSettings(ws, {})).toMatchObject({ x: "relative_time", smoothing: { kind: "ema", value: 0.5 }, width: "third", height: "small" });
    expect(resolveSettings(ws, { x: "epoch" }).x).toBe("epoch");
    expect(resolveSettings({}, {}).x).toBe("step");
  });

  it("compacts to the deviations from the defaults", () => {
    expect(compact({})).toBeNull();
    expect(compact({ x: "step", smoothing: { kind: "twema", value: 0 }, collapsed: [], zoom: {}, settings: { "k:loss": { logY: undefined } } })).toBeNull();
    const ws = setZoom(setPanelSettings({}, "k:loss", { width: "full" }), "k:loss", [10, 20]);
    expect(compact(ws)).toEqual({ settings: { "k:loss": { width: "full" } }, zoom: { "k:loss": [10, 20] } });
    expect(compact(setZoom(ws, "k:loss", null))).toEqual({ settings: { "k:loss": { width: "full" } } });
  });

  it("removing a panel drops its settings and zoom", () => {
    const ws: WorkspaceState = { added: [{ id: "p1", keys: ["a"] }], settings: { p1: { logX: true } }, zoom: { p1: [0, 1] } };
    expect(compact(removePanel(ws, "p1"))).toBeNull();
    expect(removePanel({}, "k:loss").removed).toEqual(["k:loss"]);
  });
});

describe("define_metric in the workspace", () => {
  const runWith = (metrics: Record<string, unknown>) => testRun({ metadata: { metrics } as Run["metadata"] });
  const defs = metricDefinitions([
    runWith({ "val/*": { step_metric: "epoch", hidden: false }, "debug/grad": { step_metric: null, hidden: true } }),
    runWith({ "val/*": { step_metric: "other" } }),
  ]);

  it("reads the runs' definitions, the first run's winning", () => {
    expect(definitionOf("val/loss", defs)).toEqual({ pattern: "val/*", stepMetric: "epoch", hidden: false });
    expect(definitionOf("train/loss", defs)).toBeNull();
    expect(definitionOf("val.x", metricDefinitions([runWith({ "val.*": { step_metric: "s" } })]))?.stepMetric).toBe("s");
    expect(definitionOf("valAx", metricDefinitions([runWith({ "val.*": { step_metric: "s" } })]))).toBeNull();
  });

  it("sets a default panel's x-axis and leaves hidden keys out; the workspace's own x wins", () => {
    const known = [{ key: "val/loss", stream: "history" as const }, { key: "debug/grad", stream: "history" as const }, { key: "epoch", stream: "history" as const }];
    const panels = panelModels({}, known, defs);
    expect(panels.map((p) => p.id)).toEqual(["k:val/loss", "k:epoch"]);
    expect(resolveSettings({}, panels[0]!.settings, panels[0]!.defaultX).x).toBe("epoch");
    expect(resolveSettings({ x: "relative_time" }, panels[0]!.settings, panels[0]!.defaultX).x).toBe("relative_time");
    expect(resolveSettings({}, { x: "time" }, panels[0]!.defaultX).x).toBe("time");
  });
});

describe("panel order", () => {
  const known = ["train/acc", "train/loss", "val/loss"].map((key) => ({ key, stream: "history" as const }));

  it("moves a panel within its section and keeps the order in the workspace state", () => {
    const panels = panelModels({}, known);
    const moved = movePanel({}, panels, "k:train/loss", -1);
    expect(panelModels(moved, known).map((p) => p.id)).toEqual(["k:train/loss", "k:train/acc", "k:val/loss"]);
    // The first of its section does not move earlier, nor the last later, across sections.
    expect(movePanel({}, panels, "k:train/acc", -1)).toEqual({});
    expect(movePanel({}, panels, "k:train/loss", 1)).toEqual({});
    // Keys that appear later go after the arranged ones.
    const more = [...known, { key: "train/lr", stream: "history" as const }];
    expect(panelModels(moved, more).map((p) => p.id)).toEqual(["k:train/loss", "k:train/acc", "k:val/loss", "k:train/lr"]);
    expect(compact(moved)).toEqual({ order: ["k:train/loss", "k:train/acc", "k:val/loss"] });
  });
});

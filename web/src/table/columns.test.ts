import { describe, expect, it } from "vitest";
import {
  availableColumns,
  cellText,
  defaultLayout,
  displayOrder,
  dropColumn,
  formatDuration,
  metricKeyOf,
  moveColumn,
  readLayout,
  toggleColumn,
  togglePin,
} from "./columns";
import { displayRuns, groupRuns, tableRows } from "./grouping";
import { runDuration } from "../fields";
import { testRun } from "../testing";

const run = testRun;

describe("columns", () => {
  const runs = [
    run({ id: "a", config: { lr: 0.1, "batch size": 8, model: { depth: 2 } }, summary: { loss: 1, acc: 0.5, "train/loss": 2, f1: 0 } }),
    run({ id: "b", config: { lr: 0.2, opt: "adam" }, summary: { loss: 2 } }),
  ];

  it("offers the run's fields and every config / summary leaf with its sort field", () => {
    const columns = availableColumns(runs);
    const byPath = Object.fromEntries(columns.map((c) => [c.path, c]));
    expect(byPath["config.batch size"]?.sortField).toBe("config.`batch size`");
    expect(byPath["config.model.depth"]?.label).toBe("model.depth");
    expect(byPath["summary.train/loss"]?.sortField).toBe("summary.train/loss");
    expect(byPath["duration"]?.sortField).toBeNull();
  });

  it("defaults to name, state, created and a few summary and config columns", () => {
    expect(defaultLayout(availableColumns(runs))).toEqual({
      show: ["name", "state", "created_at", "summary.acc", "summary.f1", "summary.loss", "config.batch size", "config.lr", "config.model.depth"],
      pin: ["name"],
    });
  });

  it("moves, drops, hides, shows and pins", () => {
    const layout = { show: ["name", "state", "config.lr", "summary.loss"], pin: ["name"] };
    expect(moveColumn(layout, "config.lr", -1).show).toEqual(["name", "config.lr", "state", "summary.loss"]);
    expect(moveColumn(layout, "name", -1)).toBe(layout);
    expect(dropColumn(layout, "summary.loss", "state").show).toEqual(["name", "summary.loss", "state", "config.lr"]);
    expect(dropColumn(layout, "name", "config.lr").show).toEqual(["state", "config.lr", "name", "summary.loss"]);
    expect(toggleColumn(layout, "name", false)).toEqual({ show: ["state", "config.lr", "summary.loss"], pin: [] });
    expect(toggleColumn(layout, "tags", true).show).toEqual([...layout.show, "tags"]);
    const pinned = togglePin(layout, "summary.loss");
    expect(displayOrder(pinned)).toEqual(["name", "summary.loss", "state", "config.lr"]);
    expect(togglePin(pinned, "summary.loss").pin).toEqual(["name"]);
  });

  it("reads only a well-formed layout from the URL", () => {
    expect(readLayout(null)).toBeNull();
    expect(readLayout(["name"])).toBeNull();
    expect(readLayout({ show: ["name", 3, "name", "state"], pin: ["state", "gone"], widths: { name: 300, state: 5 } })).toEqual({
      show: ["name", "state"],
      pin: ["state"],
      widths: { name: 300 },
    });
  });

  it("durations: to the end, to now while running, to the heartbeat otherwise", () => {
    expect(runDuration(run({}), 0)).toBe(90);
    const now = Date.parse("2026-11-26T10:10:00Z");
    expect(runDuration(run({ state: "running", finished_at: null }), now)).toBe(600);
    expect(runDuration(run({ state: "crashed", finished_at: null }), now)).toBe(60);
    expect(formatDuration(59)).toBe("59s");
    expect(formatDuration(3725)).toBe("1h 2m");
    expect(formatDuration(90000)).toBe("1d 1h");
    expect(cellText(run({ tags: ["a", "b"] }), "tags", 0)).toBe("a, b");
    expect(cellText(run({ config: { lr: 0.000012345 } }), "config.lr", 0)).toBe("1.234e-5");
  });
});

describe("grouping", () => {
  const runs = [
    run({ id: "1", config: { opt: "adam", lr: 1 } }),
    run({ id: "2", config: { opt: "sgd", lr: 1 } }),
    run({ id: "3", config: { opt: "adam", lr: 2 } }),
    run({ id: "4", config: { lr: 2 } }),
  ];

  it("groups in order of first appearance", () => {
    const groups = groupRuns(runs, ["config.opt"]);
    expect(groups.map((g) => [g.values, g.runs.map((r) => r.id)])).toEqual([
      [["adam"], ["1", "3"]],
      [["sgd"], ["2"]],
      [[""], ["4"]],
    ]);
    expect(groupRuns(runs, ["config.opt", "config.lr"])).toHaveLength(4);
  });

  it("rows: headers then runs, collapsed groups without their runs", () => {
    const key = JSON.stringify(["adam"]);
    const rows = tableRows(runs, ["config.opt"], new Set([key]));
    expect(rows.map((r) => (r.kind === "group" ? `g${r.group.runs.length}` : r.run.id))).toEqual(["g2", "g1", "2", "g1", "4"]);
    expect(tableRows(runs, [], new Set()).map((r) => r.kind)).toEqual(["run", "run", "run", "run"]);
    expect(displayRuns(runs, ["config.opt"]).map((r) => r.id)).toEqual(["1", "3", "2", "4"]);
  });
});

describe("metric columns", () => {
  it("offer min, max and last of each logged key, read from the run's metrics", () => {
    const r = run({ metrics: { "train/loss": { min: 0.1, max: 5, last: 0.2, count: 10 }, "val.acc": { min: 0.5, max: 0.9, last: 0.8, count: 3 } } });
    const columns = availableColumns([r], ["train/loss", "val.acc"]).filter((c) => c.group === "metrics");
    expect(columns.map((c) => c.path)).toEqual([
      "metrics.train/loss.min", "metrics.train/loss.max", "metrics.train/loss.last",
      "metrics.val.acc.min", "metrics.val.acc.max", "metrics.val.acc.last",
    ]);
    expect(columns[0]!.label).toBe("train/loss (min)");
    expect(columns[0]!.sortField).toBe("metrics.train/loss.min");
    expect(cellText(r, "metrics.train/loss.max", 0)).toBe("5");
    expect(cellText(r, "metrics.val.acc.last", 0)).toBe("0.8");
    expect(metricKeyOf("metrics.val.acc.min")).toBe("val.acc");
    expect(metricKeyOf("summary.loss")).toBeNull();
  });
});

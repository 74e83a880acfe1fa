import { describe, expect, it } from "vitest";
import type { Run } from "../api";
import { runDuration } from "../fields";
import { compareRows, formatDuration } from "./compare";
import { testRun } from "../testing";

function run(id: string, extra: Partial<Run>): Run {
  return testRun({ id, name: id, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", heartbeat_at: "2026-01-01T00:01:00Z", finished_at: "2026-01-01T00:01:30Z", last_step: null, history_rows: 0, ...extra });
}

describe("compareRows", () => {
  const a = run("a", { config: { lr: 0.1, model: { depth: 3 } }, summary: { loss: 1 }, tags: ["x", "y"], metadata: { host: "h1" } });
  const b = run("b", { config: { lr: 0.1, model: { depth: 4 }, extra: true }, summary: { loss: 2 }, tags: ["y", "x"], metadata: { host: "h1" } });
  const rows = compareRows([a, b]);
  const byField = new Map(rows.map((row) => [row.field, row]));

  it("has one row per built-in field and config/summary leaf", () => {
    expect(rows.map((row) => row.field)).toEqual([
      "name", "state", "created_at", "duration", "host", "metadata.git.commit", "tags", "group",
      "config.extra", "config.lr", "config.model.depth", "summary.loss",
    ]);
  });

  it("marks differing rows", () => {
    expect(byField.get("name")!.differs).toBe(true);
    expect(byField.get("config.lr")!.differs).toBe(false);
    expect(byField.get("config.model.depth")!.differs).toBe(true);
    expect(byField.get("config.model.depth")!.values).toEqual(["3", "4"]);
    expect(byField.get("summary.loss")!.differs).toBe(true);
    expect(byField.get("host")!.values).toEqual(["h1", "h1"]);
    expect(byField.get("host")!.differs).toBe(false);
  });

  it("treats a missing value as different from any value, and tag order as irrelevant", () => {
    expect(byField.get("config.extra")!.values).toEqual(["", "true"]);
    expect(byField.get("config.extra")!.differs).toBe(true);
    expect(byField.get("tags")!.differs).toBe(false);
  });
});

describe("runDuration", () => {
  it("uses finish, then heartbeat, then now while running", () => {
    expect(runDuration(run("a", {}))).toBe(90);
    expect(runDuration(run("a", { finished_at: null, state: "crashed" }))).toBe(60);
    const now = Date.parse("2026-01-01T00:00:10Z");
    expect(runDuration(run("a", { finished_at: null, state: "running" }), now)).toBe(10);
  });
  it("formats", () => {
    expect(formatDuration(5)).toBe("5s");
    expect(formatDuration(125)).toBe("2m 5s");
    expect(formatDuration(3 * 3600 + 61)).toBe("3h 1m 1s");
    expect(formatDuration(null)).toBe("");
  });
});

import { describe, expect, it } from "vitest";
import type { ChartSeries } from "../api";
import { m4Columns, plotValue, relativeTimeColumns, seriesColumns } from "./series";

describe("plotValue", () => {
  it("keeps finite numbers and turns NaN, infinities and objects into gaps", () => {
    expect(plotValue(1.5)).toBe(1.5);
    expect(plotValue("NaN")).toBeNull();
    expect(plotValue("Infinity")).toBeNull();
    expect(plotValue({ a: 1 })).toBeNull();
    expect(plotValue(null)).toBeNull();
  });
});

describe("seriesColumns / relativeTimeColumns", () => {
  it("pairs steps with values", () => {
    expect(seriesColumns([0, 1, 2], [1, "NaN", 3])).toEqual([[0, 1, 2], [1, null, 3]]);
  });
  it("measures time from the first sample and skips missing times", () => {
    expect(relativeTimeColumns([100, null, 102.5], [1, 2, 3])).toEqual([[0, 2.5], [1, 3]]);
    expect(relativeTimeColumns([null], [1])).toEqual([[], []]);
  });
});

describe("m4Columns", () => {
  it("orders each bucket's first/min/max/last by x so a spike survives", () => {
    const series: ChartSeries = {
      run: "r",
      key: "loss",
      bucket: [0, 1],
      count: [4, 1],
      first_x: [0, 4],
      first_y: [1, 7],
      last_x: [3, 4],
      last_y: [2, 7],
      min_x: [2, 4],
      min_y: [0.5, 7],
      max_x: [1, 4],
      max_y: [50, 7],
    };
    expect(m4Columns(series)).toEqual([
      [0, 1, 2, 3, 4],
      [1, 50, 0.5, 2, 7],
    ]);
  });
  it("keeps NaN buckets as gaps", () => {
    const series: ChartSeries = {
      run: "r",
      key: "loss",
      bucket: [0],
      count: [1],
      first_x: [5],
      first_y: ["NaN"],
      last_x: [5],
      last_y: ["NaN"],
      min_x: [null],
      min_y: [null],
      max_x: [null],
      max_y: [null],
    };
    expect(m4Columns(series)).toEqual([[5], [null]]);
  });
});

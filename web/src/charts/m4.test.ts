import { describe, expect, it } from "vitest";
import type { ChartSeries, Scalar } from "../api";
import { aggregateGroup, aggregateValues, alignLines, m4Band, m4Line } from "./m4";

/** The server's M4 reduction of (x, y) points into `buckets` equal buckets over [x0, x1], for tests. */
function reduce(run: string, xs: number[], ys: number[], buckets: number, x0 = xs[0]!, x1 = xs[xs.length - 1]!): ChartSeries {
  const s: ChartSeries = {
    run,
    key: "k",
    bucket: [],
    count: [],
    first_x: [],
    first_y: [],
    last_x: [],
    last_y: [],
    min_x: [],
    min_y: [],
    max_x: [],
    max_y: [],
  };
  const wire = (v: number): Scalar => (Number.isNaN(v) ? "NaN" : v === Infinity ? "Infinity" : v === -Infinity ? "-Infinity" : v);
  const width = (x1 - x0) / buckets;
  const byBucket = new Map<number, number[]>();
  xs.forEach((x, i) => {
    const b = Math.min(buckets - 1, Math.floor((x - x0) / width));
    if (!byBucket.has(b)) byBucket.set(b, []);
    byBucket.get(b)!.push(i);
  });
  for (const b of [...byBucket.keys()].sort((a, c) => a - c)) {
    const idx = byBucket.get(b)!;
    const first = idx[0]!;
    const last = idx[idx.length - 1]!;
    let min: number | null = null;
    let max: number | null = null;
    for (const i of idx) {
      if (Number.isNaN(ys[i]!)) continue;
      if (min === null || ys[i]! < ys[min]!) min = i;
      if (max === null || ys[i]! > ys[max]!) max = i;
    }
    s.bucket.push(b);
    s.count.push(idx.length);
    s.first_x.push(xs[first]!);
    s.first_y.push(wire(ys[first]!));
    s.last_x.push(xs[last]!);
    s.last_y.push(wire(ys[last]!));
    s.min_x.push(min === null ? null : xs[min]!);
    s.min_y.push(min === null ? null : wire(ys[min]!));
    s.max_x.push(max === null ? null : xs[max]!);
    s.max_y.push(max === null ? null : wire(ys[max]!));
  }
  return s;
}

const steps = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("m4Line", () => {
  it("keeps a single spike of 1e6 in flat data", () => {
    const xs = steps(200_000);
    const ys = xs.map((x) => (x === 123_457 ? 1e6 : 1));
    const line = m4Line(reduce("r", xs, ys, 1000));
    expect(Math.max(...(line.y as number[]))).toBe(1e6);
    expect(line.x[line.y.indexOf(1e6)]).toBe(123_457);
    // At most 4 points per bucket, and flat buckets collapse to their first and last.
    expect(line.x.length).toBeLessThanOrEqual(4 * 1000);
    expect(line.x.length).toBeLessThanOrEqual(2 * 1000 + 2);
  });

  it("emits each bucket's points in x order without duplicates", () => {
    // One bucket: first (0, 5), max at x=1, min at x=2, last (3, 4).
    const line = m4Line(reduce("r", [0, 1, 2, 3], [5, 9, 1, 4], 1));
    expect(line.x).toEqual([0, 1, 2, 3]);
    expect(line.y).toEqual([5, 9, 1, 4]);
    // first == max and last == min: two points only.
    const two = m4Line(reduce("r", [0, 1, 2], [9, 5, 1], 1));
    expect(two.x).toEqual([0, 2]);
    expect(two.y).toEqual([9, 1]);
  });

  it("x is non-decreasing across buckets", () => {
    const xs = steps(1000);
    const ys = xs.map((x) => Math.sin(x) * x);
    const line = m4Line(reduce("r", xs, ys, 37));
    for (let i = 1; i < line.x.length; i++) expect(line.x[i]!).toBeGreaterThanOrEqual(line.x[i - 1]!);
  });

  it("turns NaN into a gap and skips infinities", () => {
    const line = m4Line(reduce("r", [0, 1, 2, 3], [Number.NaN, 2, Infinity, 3], 4));
    expect(line.x).toEqual([0, 1, 3]);
    expect(line.y).toEqual([null, 2, 3]);
  });

  it("an all-NaN bucket is one gap", () => {
    const line = m4Line(reduce("r", [0, 1, 2, 3], [1, Number.NaN, Number.NaN, 3], 2, 0, 3));
    expect(line.y).toContain(null);
    expect(line.y.filter((v) => v === null).length).toBeGreaterThanOrEqual(1);
    expect(line.y[0]).toBe(1);
    expect(line.y[line.y.length - 1]).toBe(3);
  });
});

describe("m4Band", () => {
  it("spans each bucket's min and max at its first and last x", () => {
    const band = m4Band(reduce("r", [0, 1, 2, 3], [5, 9, 1, 4], 1));
    expect(band.x).toEqual([0, 3]);
    expect(band.lo).toEqual([1, 1]);
    expect(band.hi).toEqual([9, 9]);
  });
});

describe("alignLines", () => {
  it("merges x and marks missing points undefined, gaps null", () => {
    const { x, ys } = alignLines([
      { x: [0, 2, 4], y: [1, null, 3] },
      { x: [1, 2], y: [7, 8] },
    ]);
    expect(x).toEqual([0, 1, 2, 4]);
    expect(ys[0]).toEqual([1, undefined, null, 3]);
    expect(ys[1]).toEqual([undefined, 7, 8, undefined]);
  });

  it("gives a repeated x as many slots as needed", () => {
    const { x, ys } = alignLines([
      { x: [0, 1, 1, 1, 2], y: [0, 5, 1, 3, 2] },
      { x: [1], y: [9] },
    ]);
    expect(x).toEqual([0, 1, 1, 1, 2]);
    expect(ys[0]).toEqual([0, 5, 1, 3, 2]);
    expect(ys[1]).toEqual([undefined, 9, undefined, undefined, undefined]);
  });
});

describe("alignLines on a grid", () => {
  it("lets many runs share slots, keeps every value and each point's real x", () => {
    // 100 runs, 10 buckets of 100 steps; each run's min and max fall at its own steps.
    const lines = Array.from({ length: 100 }, (_, r) => {
      const x: number[] = [];
      const y: number[] = [];
      for (let b = 0; b < 10; b++) {
        const lo = b * 100 + 1 + (r % 40);
        const hi = b * 100 + 50 + (r % 45);
        x.push(b * 100, lo, hi, b * 100 + 99);
        y.push(1, r === 37 && b === 6 ? 1e6 : 0, 2, 1);
      }
      return { x, y };
    });
    const exact = alignLines(lines);
    const snapped = alignLines(lines, { origin: 0, cell: 999 / 40 });
    expect(snapped.x.length).toBeLessThan(exact.x.length / 10);
    expect(snapped.x.length).toBeLessThanOrEqual(10 * 4 * 2);
    for (let r = 0; r < lines.length; r++) {
      const values = snapped.ys[r]!.filter((v) => v !== undefined);
      expect(values).toEqual(lines[r]!.y);
      const real = snapped.trueX[r]!.filter((v) => v !== undefined);
      expect(real).toEqual(lines[r]!.x);
    }
    // The spike stays, at its real step, and its slot is within a quarter bucket of it.
    const slot = snapped.ys[37]!.indexOf(1e6);
    expect(snapped.trueX[37]![slot]).toBe(600 + 1 + (37 % 40));
    expect(Math.abs(snapped.x[slot]! - (600 + 1 + (37 % 40)))).toBeLessThanOrEqual(999 / 80);
  });
});

describe("aggregateGroup", () => {
  const xs = steps(100);
  const a = reduce("a", xs, xs.map(() => 1), 10, 0, 99);
  const b = reduce("b", xs, xs.map(() => 3), 10, 0, 99);
  const c = reduce("c", xs, xs.map((x) => (x === 55 ? 1000 : 8)), 10, 0, 99);

  it("computes mean, median, min and max per bucket", () => {
    expect(aggregateGroup([a, b, c], "mean", "none").y[0]).toBeCloseTo(4, 12);
    expect(aggregateGroup([a, b, c], "median", "none").y[0]).toBe(3);
    expect(aggregateGroup([a, b, c], "min", "none").y[0]).toBe(1);
    expect(aggregateGroup([a, b, c], "max", "none").y[0]).toBe(8);
    expect(aggregateGroup([a, b, c], "mean", "none").runs[0]).toBe(3);
  });

  it("spans the runs' first to last x, with each bucket's first and last values", () => {
    const g = aggregateGroup([a, b], "mean", "none");
    expect(g.x[0]).toBe(0);
    expect(g.x[g.x.length - 1]).toBe(99);
    // Constant runs: one point per bucket start and end, all at the mean 2.
    expect(g.x.length).toBe(20);
    expect(g.y.every((v) => v === 2)).toBe(true);
  });

  it("min-max band keeps a spike of one run", () => {
    const g = aggregateGroup([a, b, c], "mean", "minmax");
    expect(Math.max(...(g.hi as number[]))).toBe(1000);
    expect(Math.min(...(g.lo as number[]))).toBe(1);
  });

  it("std and stderr bands are around the line", () => {
    const std = aggregateGroup([a, b], "mean", "std");
    expect(std.y[0]).toBe(2);
    expect(std.lo[0]).toBeCloseTo(1, 12);
    expect(std.hi[0]).toBeCloseTo(3, 12);
    const se = aggregateGroup([a, b], "mean", "stderr");
    expect(se.hi[0]).toBeCloseTo(2 + 1 / Math.sqrt(2), 12);
  });

  it("ignores NaN values and a run missing in a bucket", () => {
    const short = reduce("s", steps(20), steps(20).map(() => Number.NaN), 10, 0, 99);
    const g = aggregateGroup([a, short], "mean", "std");
    expect(g.y[0]).toBe(1);
    expect(g.runs[0]).toBe(1);
    expect(g.y.every((v) => v !== null && Number.isFinite(v))).toBe(true);
  });

  it("median of an even count averages the middle two", () => {
    expect(aggregateValues([4, 1, 3, 2], "median")).toBe(2.5);
  });
});

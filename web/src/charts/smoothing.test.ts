import { describe, expect, it } from "vitest";
import { debiasedEma, gaussian, isSmoothing, runningAverage, smooth, timeWeightedEma } from "./smoothing";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("time-weighted EMA", () => {
  it("keeps a constant constant, even unevenly spaced", () => {
    const xs = [0, 1, 2, 50, 51, 400, 1000];
    const out = timeWeightedEma(xs, xs.map(() => 3.5), 0.9);
    for (const y of out) expect(y).toBeCloseTo(3.5, 12);
  });

  it("starts at the first point and weight 0 is no smoothing", () => {
    const xs = range(10);
    const ys = xs.map((x) => x * x);
    expect(timeWeightedEma(xs, ys, 0.8)[0]).toBe(0);
    expect(timeWeightedEma(xs, ys, 0)).toEqual(ys);
  });

  it("equals the debiased EMA for points one thousandth of the extent apart", () => {
    const xs = range(1001);
    const ys = xs.map((x) => Math.sin(x / 7) + (x % 13) / 5);
    const a = timeWeightedEma(xs, ys, 0.6);
    const b = debiasedEma(ys, 0.6);
    for (let i = 0; i < xs.length; i++) expect(a[i]).toBeCloseTo(b[i] as number, 9);
  });

  it("lets a far-away point count less than a near one", () => {
    // Same values, but the step from 0 to 1 is far in the second case: less of the old value remains.
    const near = timeWeightedEma([0, 1, 2, 1000], [0, 0, 10, 10], 0.9);
    const far = timeWeightedEma([0, 1, 900, 1000], [0, 0, 10, 10], 0.9);
    expect(far[2] as number).toBeGreaterThan(near[2] as number);
    expect(far[2] as number).toBeLessThanOrEqual(10);
  });

  it("turns NaN into a gap that does not poison later values", () => {
    const out = timeWeightedEma([0, 1, 2, 3], [1, Number.NaN, 1, null as unknown as number], 0.9);
    expect(out).toEqual([1, null, 1, null]);
  });
});

describe("debiased EMA", () => {
  it("first value equals the first point", () => {
    expect(debiasedEma([7, 1, 1], 0.95)[0]).toBeCloseTo(7, 12);
  });

  it("follows TensorBoard's formula", () => {
    const w = 0.5;
    const out = debiasedEma([2, 4], w);
    // last1 = 0.5*2 = 1, debias 0.5 -> 2; last2 = 0.5*1 + 0.5*4 = 2.5, debias 0.75 -> 3.333...
    expect(out[1]).toBeCloseTo(2.5 / 0.75, 12);
  });

  it("keeps a constant constant and skips NaN and infinities", () => {
    const out = debiasedEma([5, Number.NaN, 5, Number.POSITIVE_INFINITY, 5], 0.99);
    expect(out[0]).toBeCloseTo(5, 12);
    expect(out[1]).toBeNull();
    expect(out[2]).toBeCloseTo(5, 12);
    expect(out[3]).toBeNull();
    expect(out[4]).toBeCloseTo(5, 12);
  });
});

describe("gaussian", () => {
  it("keeps a constant and a straight line (away from the ends)", () => {
    const xs = range(100);
    for (const y of gaussian(xs, xs.map(() => 2), 5)) expect(y).toBeCloseTo(2, 12);
    const line = gaussian(xs, xs.map((x) => 3 * x), 4);
    expect(line[50]).toBeCloseTo(150, 9);
  });

  it("weights by x distance, not by index", () => {
    // A far-away point (x=1000) must not pull x=0 and x=1.
    const out = gaussian([0, 1, 1000], [0, 2, 100], 1);
    expect(out[0] as number).toBeLessThan(1.5);
    expect(out[2]).toBeCloseTo(100, 9);
  });

  it("spreads a spike and keeps gaps", () => {
    const xs = range(21);
    const ys: (number | null)[] = xs.map((x) => (x === 10 ? 100 : 0));
    ys[3] = Number.NaN;
    const out = gaussian(xs, ys, 2);
    expect(out[10] as number).toBeLessThan(100);
    expect(out[10] as number).toBeGreaterThan(out[12] as number);
    expect(out[3]).toBeNull();
    expect(Number.isFinite(out[4] as number)).toBe(true);
  });
});

describe("running average", () => {
  it("averages a centred window of points", () => {
    expect(runningAverage([0, 3, 6, 9, 12], 3)).toEqual([1.5, 3, 6, 9, 10.5]);
  });

  it("skips gaps without counting them", () => {
    expect(runningAverage([0, Number.NaN, 6, 9], 3)).toEqual([3, null, 5, 7.5]);
  });

  it("window 0 or 1 is no smoothing", () => {
    expect(runningAverage([1, 5, 2], 1)).toEqual([1, 5, 2]);
    expect(isSmoothing({ kind: "average", value: 1 })).toBe(false);
  });
});

describe("smooth", () => {
  it("a parameter of 0 returns the data for every kind", () => {
    const xs = [0, 1, 2];
    const ys = [1, 9, 4];
    for (const kind of ["twema", "ema", "gaussian", "average"] as const) {
      expect(smooth(xs, ys, { kind, value: 0 })).toEqual(ys);
    }
  });
});

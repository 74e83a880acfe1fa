// From the server's M4 buckets to drawable lines. Every point drawn is a stored point (the
// first, minimum, maximum or last of its bucket), so a spike survives any zoom; nothing here
// samples. Group lines aggregate the runs of a group bucket by bucket.
import { scalarValue, type ChartSeries, type Scalar } from "../api";

/** A line: x ascending, y null for a gap (a NaN point). */
export interface Line {
  x: number[];
  y: (number | null)[];
}

/** The points of each bucket in x order (first, min, max, last; duplicates dropped). NaN is a gap, ±inf is skipped. */
export function m4Line(series: ChartSeries): Line {
  const x: number[] = [];
  const y: (number | null)[] = [];
  const px: number[] = [];
  const py: (number | null)[] = [];
  const add = (bx: number | null | undefined, by: Scalar | null | undefined) => {
    if (bx === null || bx === undefined || by === null || by === undefined) return;
    const v = scalarValue(by) as number;
    if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) return;
    const value = Number.isNaN(v) ? null : v;
    for (let k = 0; k < px.length; k++) if (px[k] === bx && py[k] === value) return;
    // Insert by x, after equal x (keeps first/min/max/last order among ties).
    let at = px.length;
    while (at > 0 && (px[at - 1] as number) > bx) at--;
    px.splice(at, 0, bx);
    py.splice(at, 0, value);
  };
  for (let i = 0; i < series.bucket.length; i++) {
    px.length = 0;
    py.length = 0;
    add(series.first_x[i], series.first_y[i]);
    add(series.min_x[i], series.min_y[i]);
    add(series.max_x[i], series.max_y[i]);
    add(series.last_x[i], series.last_y[i]);
    for (let k = 0; k < px.length; k++) {
      x.push(px[k] as number);
      y.push(py[k] as number | null);
    }
  }
  return { x, y };
}

/** Per bucket, the bucket's minimum and maximum at its first and last x (for a min..max band). */
export function m4Band(series: ChartSeries): { x: number[]; lo: (number | null)[]; hi: (number | null)[] } {
  const x: number[] = [];
  const lo: (number | null)[] = [];
  const hi: (number | null)[] = [];
  for (let i = 0; i < series.bucket.length; i++) {
    const min = finite(scalarValue(series.min_y[i]));
    const max = finite(scalarValue(series.max_y[i]));
    const fx = series.first_x[i] as number;
    const lx = series.last_x[i] as number;
    x.push(fx);
    lo.push(min);
    hi.push(max);
    if (lx !== fx) {
      x.push(lx);
      lo.push(min);
      hi.push(max);
    }
  }
  return { x, lo, hi };
}

function finite(v: number | null): number | null {
  return v !== null && Number.isFinite(v) ? v : null;
}

/** Where aligned lines put their points: x snapped to cells of `cell` width from `origin`. */
export interface AlignGrid {
  origin: number;
  cell: number;
}

/**
 * Puts several lines on one x array, as uPlot wants. A line's value is `undefined` where it
 * has no point (drawn across), `null` where it has a gap. An x repeated within a line (a
 * non-step x axis) gets as many slots as the line that repeats it most.
 *
 * With a `grid`, x values are snapped to its cells first. Chart answers give each run its own
 * minimum and maximum x inside every bucket, so a hundred runs would otherwise need a hundred
 * times as many slots as one; on a grid of a quarter bucket they share them, and a point moves
 * by less than its bucket (one pixel column). `trueX` keeps each point's real x for tooltips.
 */
export function alignLines(
  lines: readonly { x: readonly number[]; y: readonly (number | null)[] }[],
  grid: AlignGrid | null = null,
): {
  x: number[];
  ys: (number | null | undefined)[][];
  trueX: (number | undefined)[][];
} {
  const keyOf = grid ? (v: number) => Math.round((v - grid.origin) / grid.cell) : (v: number) => v;
  const slots = new Map<number, number>();
  for (const line of lines) {
    let run = 0;
    let previous = Number.NaN;
    for (let i = 0; i < line.x.length; i++) {
      const key = keyOf(line.x[i] as number);
      run = i > 0 && previous === key ? run + 1 : 1;
      previous = key;
      if ((slots.get(key) ?? 0) < run) slots.set(key, run);
    }
  }
  const keys = [...slots.keys()].sort((a, b) => a - b);
  const x: number[] = [];
  const start = new Map<number, number>();
  for (const key of keys) {
    start.set(key, x.length);
    const at = grid ? grid.origin + key * grid.cell : key;
    for (let k = 0; k < (slots.get(key) as number); k++) x.push(at);
  }
  const ys: (number | null | undefined)[][] = [];
  const trueX: (number | undefined)[][] = [];
  for (const line of lines) {
    const out: (number | null | undefined)[] = new Array(x.length);
    const real: (number | undefined)[] = new Array(x.length);
    let run = 0;
    let previous = Number.NaN;
    for (let i = 0; i < line.x.length; i++) {
      const v = line.x[i] as number;
      const key = keyOf(v);
      run = i > 0 && previous === key ? run + 1 : 0;
      previous = key;
      const slot = (start.get(key) as number) + run;
      out[slot] = line.y[i] as number | null;
      real[slot] = v;
    }
    ys.push(out);
    trueX.push(real);
  }
  return { x, ys, trueX };
}

export type Aggregate = "mean" | "median" | "min" | "max";
export type GroupBand = "none" | "minmax" | "std" | "stderr";

export interface GroupLine extends Line {
  lo: (number | null)[];
  hi: (number | null)[];
  /** How many runs had a value in each bucket. */
  runs: number[];
}

/**
 * One line for a group of runs (their series of one key over the same buckets). Per bucket it
 * has up to two points: the aggregate of the runs' first values (at their mean x) and of their
 * last values; NaN and infinite values are left out. The `minmax` band spans the bucket
 * minimum and maximum over all runs (so a spike of one run shows); `std` and `stderr` are
 * around the line, over the runs' values at that point.
 */
export function aggregateGroup(series: readonly ChartSeries[], aggregate: Aggregate, band: GroupBand): GroupLine {
  interface Bucket {
    firstX: number[];
    first: number[];
    lastX: number[];
    last: number[];
    min: number;
    max: number;
  }
  const buckets = new Map<number, Bucket>();
  for (const s of series) {
    for (let i = 0; i < s.bucket.length; i++) {
      const b = s.bucket[i] as number;
      let entry = buckets.get(b);
      if (!entry) {
        entry = { firstX: [], first: [], lastX: [], last: [], min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
        buckets.set(b, entry);
      }
      const min = finite(scalarValue(s.min_y[i]));
      const max = finite(scalarValue(s.max_y[i]));
      if (min !== null) entry.min = Math.min(entry.min, min);
      if (max !== null) entry.max = Math.max(entry.max, max);
      const first = finite(scalarValue(s.first_y[i]));
      const last = finite(scalarValue(s.last_y[i]));
      if (first !== null) {
        entry.first.push(first);
        entry.firstX.push(s.first_x[i] as number);
      }
      if (last !== null) {
        entry.last.push(last);
        entry.lastX.push(s.last_x[i] as number);
      }
    }
  }
  const out: GroupLine = { x: [], y: [], lo: [], hi: [], runs: [] };
  const push = (xs: number[], vs: number[], entry: Bucket) => {
    const center = aggregateValues(vs, aggregate);
    const x = mean(xs);
    const n = out.x.length;
    if (n > 0 && out.x[n - 1] === x && out.y[n - 1] === center) return;
    out.x.push(x);
    out.y.push(center);
    out.runs.push(vs.length);
    if (band === "minmax") {
      out.lo.push(Number.isFinite(entry.min) ? entry.min : null);
      out.hi.push(Number.isFinite(entry.max) ? entry.max : null);
    } else if (band === "std" || band === "stderr") {
      const sd = std(vs);
      const spread = band === "std" ? sd : sd / Math.sqrt(vs.length);
      out.lo.push(center - spread);
      out.hi.push(center + spread);
    } else {
      out.lo.push(null);
      out.hi.push(null);
    }
  };
  for (const b of [...buckets.keys()].sort((a, c) => a - c)) {
    const entry = buckets.get(b)!;
    if (entry.first.length) push(entry.firstX, entry.first, entry);
    if (entry.last.length) push(entry.lastX, entry.last, entry);
  }
  // Mean x of runs that disagree could step back a little; keep x ascending for drawing.
  return sortLine(out);
}

function sortLine(line: GroupLine): GroupLine {
  let sorted = true;
  for (let i = 1; i < line.x.length; i++) if ((line.x[i] as number) < (line.x[i - 1] as number)) sorted = false;
  if (sorted) return line;
  const idx = line.x.map((_, i) => i).sort((a, b) => (line.x[a] as number) - (line.x[b] as number));
  return {
    x: idx.map((i) => line.x[i] as number),
    y: idx.map((i) => line.y[i] as number | null),
    lo: idx.map((i) => line.lo[i] as number | null),
    hi: idx.map((i) => line.hi[i] as number | null),
    runs: idx.map((i) => line.runs[i] as number),
  };
}

export function aggregateValues(values: readonly number[], aggregate: Aggregate): number {
  switch (aggregate) {
    case "mean":
      return mean(values);
    case "min":
      return Math.min(...values);
    case "max":
      return Math.max(...values);
    case "median": {
      const sorted = [...values].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    }
  }
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Population standard deviation. */
function std(values: readonly number[]): number {
  const m = mean(values);
  let sum = 0;
  for (const v of values) sum += (v - m) * (v - m);
  return Math.sqrt(sum / values.length);
}

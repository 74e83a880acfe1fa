// Smoothing of one drawn line. Every function takes the line's x (sorted, non-decreasing) and
// y (null or NaN for a gap) and returns a y array of the same length: gaps stay gaps and never
// affect later values. A parameter of 0 (or less) means no smoothing.

export type SmoothingKind = "twema" | "ema" | "gaussian" | "average";

export interface Smoothing {
  kind: SmoothingKind;
  /** EMA kinds: weight in [0, 1); gaussian: kernel width (standard deviation) in x units; average: window in points. */
  value: number;
}

export const SMOOTHING_KINDS: { kind: SmoothingKind; label: string }[] = [
  { kind: "twema", label: "Time-weighted EMA" },
  { kind: "ema", label: "Debiased EMA" },
  { kind: "gaussian", label: "Gaussian" },
  { kind: "average", label: "Running average" },
];

export const NO_SMOOTHING: Smoothing = { kind: "twema", value: 0 };

type Ys = readonly (number | null | undefined)[];

function usable(y: number | null | undefined): y is number {
  return typeof y === "number" && Number.isFinite(y);
}

function gapsOnly(ys: Ys): (number | null)[] {
  return ys.map((y) => (usable(y) ? y : null));
}

/**
 * W&B-style time-weighted EMA: the weight decays with the x distance between consecutive
 * points, measured in thousandths of the line's x extent, so unevenly spaced points (and the
 * same curve at another zoom) are smoothed alike. Debiased, so the first value is the first point.
 */
export function timeWeightedEma(xs: readonly number[], ys: Ys, weight: number): (number | null)[] {
  if (!(weight > 0)) return gapsOnly(ys);
  const w = Math.min(weight, 0.999);
  let first = Number.NaN;
  let last = Number.NaN;
  for (let i = 0; i < ys.length; i++) {
    if (!usable(ys[i])) continue;
    const x = xs[i] as number;
    if (Number.isNaN(first)) first = x;
    last = x;
  }
  const unit = last > first ? (last - first) / 1000 : 1;
  const out: (number | null)[] = new Array(ys.length);
  let sum = 0;
  let norm = 0;
  let prevX: number | null = null;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (!usable(y)) {
      out[i] = null;
      continue;
    }
    const x = xs[i] as number;
    if (prevX !== null) {
      const decay = Math.pow(w, Math.max(0, x - prevX) / unit);
      sum *= decay;
      norm *= decay;
    }
    sum += y;
    norm += 1;
    out[i] = sum / norm;
    prevX = x;
  }
  return out;
}

/** TensorBoard's EMA: one decay step per point (x ignored), debiased by 1 - w^n. */
export function debiasedEma(ys: Ys, weight: number): (number | null)[] {
  if (!(weight > 0)) return gapsOnly(ys);
  const w = Math.min(weight, 0.999);
  const out: (number | null)[] = new Array(ys.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (!usable(y)) {
      out[i] = null;
      continue;
    }
    last = last * w + (1 - w) * y;
    n += 1;
    out[i] = last / (1 - Math.pow(w, n));
  }
  return out;
}

/** Gaussian kernel over x with standard deviation `width` (x units), cut at 3 widths. */
export function gaussian(xs: readonly number[], ys: Ys, width: number): (number | null)[] {
  if (!(width > 0)) return gapsOnly(ys);
  const px: number[] = [];
  const py: number[] = [];
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (usable(y)) {
      px.push(xs[i] as number);
      py.push(y);
    }
  }
  const reach = 3 * width;
  const denom = 2 * width * width;
  const smoothed: number[] = new Array(px.length);
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < px.length; i++) {
    const x = px[i] as number;
    while ((px[lo] as number) < x - reach) lo++;
    while (hi < px.length && (px[hi] as number) <= x + reach) hi++;
    let sum = 0;
    let norm = 0;
    for (let j = lo; j < hi; j++) {
      const d = (px[j] as number) - x;
      const k = Math.exp(-(d * d) / denom);
      sum += k * (py[j] as number);
      norm += k;
    }
    smoothed[i] = sum / norm;
  }
  return scatter(ys, smoothed);
}

/** Centred running average over `window` points (gaps skipped, not counted). */
export function runningAverage(ys: Ys, window: number): (number | null)[] {
  const size = Math.floor(window);
  if (!(size > 1)) return gapsOnly(ys);
  const values: number[] = [];
  for (const y of ys) if (usable(y)) values.push(y);
  const prefix = new Float64Array(values.length + 1);
  for (let i = 0; i < values.length; i++) prefix[i + 1] = (prefix[i] as number) + (values[i] as number);
  const before = Math.floor((size - 1) / 2);
  const after = size - 1 - before;
  const smoothed = values.map((_, i) => {
    const a = Math.max(0, i - before);
    const b = Math.min(values.length, i + after + 1);
    return ((prefix[b] as number) - (prefix[a] as number)) / (b - a);
  });
  return scatter(ys, smoothed);
}

/** Puts values computed over the usable points back at their places; gaps stay null. */
function scatter(ys: Ys, smoothed: number[]): (number | null)[] {
  let k = 0;
  return ys.map((y) => (usable(y) ? (smoothed[k++] as number) : null));
}

export function smooth(xs: readonly number[], ys: Ys, smoothing: Smoothing): (number | null)[] {
  switch (smoothing.kind) {
    case "twema":
      return timeWeightedEma(xs, ys, smoothing.value);
    case "ema":
      return debiasedEma(ys, smoothing.value);
    case "gaussian":
      return gaussian(xs, ys, smoothing.value);
    case "average":
      return runningAverage(ys, smoothing.value);
  }
}

export function isSmoothing(s: Smoothing): boolean {
  return s.kind === "average" ? s.value > 1 : s.value > 0;
}

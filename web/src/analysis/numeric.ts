// The pure parts of the analysis tab: which run fields are numeric, axes (linear, log or
// categorical) mapping values to [0, 1], their ticks, and brushing.
import type { Json, Run } from "../api";
import { fieldValue, formatNumber, leafPaths } from "../fields";

/** A finite number at `path`, else null (strings such as "NaN", objects and missing values). */
export function numericValue(run: Run, path: string): number | null {
  const value = fieldValue(run, path);
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  return null;
}

export interface FieldInfo {
  path: string;
  /** Runs with a value. */
  count: number;
  /** Distinct values (capped at 1000). */
  distinct: number;
}

/**
 * The config and summary leaves that hold a finite number (or boolean) in at least one run,
 * config first. Leaves that are never numeric are left out.
 */
export function numericFields(runs: Run[], sections: ("config" | "summary")[] = ["config", "summary"]): FieldInfo[] {
  const out: FieldInfo[] = [];
  for (const section of sections) {
    for (const path of leafPaths(runs, section)) {
      let count = 0;
      const seen = new Set<number>();
      for (const run of runs) {
        const value = numericValue(run, path);
        if (value === null) continue;
        count++;
        if (seen.size < 1000) seen.add(value);
      }
      if (count > 0) out.push({ path, count, distinct: seen.size });
    }
  }
  return out;
}

/** Config leaves that hold strings (few distinct values): categorical axes. */
export function categoricalFields(runs: Run[], maxDistinct = 20): FieldInfo[] {
  const out: FieldInfo[] = [];
  for (const path of leafPaths(runs, "config")) {
    const seen = new Set<string>();
    let count = 0;
    let numeric = false;
    for (const run of runs) {
      const value = fieldValue(run, path);
      if (typeof value === "string") {
        count++;
        seen.add(value);
      } else if (typeof value === "number" || typeof value === "boolean") numeric = true;
    }
    if (!numeric && count > 0 && seen.size <= maxDistinct) out.push({ path, count, distinct: seen.size });
  }
  return out;
}

export interface Axis {
  kind: "linear" | "log" | "category";
  path: string;
  /** Data domain (linear and log): min and max, padded when equal. */
  min: number;
  max: number;
  /** Categories in order (category axes). */
  categories: string[];
  /** Where a run sits on the axis in [0, 1] (0 = min), or null when it has no value. */
  position: (run: Run) => number | null;
  /** Where a value sits (numbers for linear/log, strings for categories). */
  scale: (value: number | string) => number | null;
  ticks: Tick[];
}

export interface Tick {
  at: number;
  label: string;
}

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const span = max - min;
  const rough = span / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(rough)));
  const fraction = rough / power;
  const step = (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * power;
  const ticks: number[] = [];
  const start = Math.ceil(min / step - 1e-9) * step;
  for (let v = start; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Whether a log axis suits these values: all positive and spanning at least `decades`. */
export function prefersLog(values: number[], decades = 2): boolean {
  if (values.length < 2 || values.some((v) => v <= 0)) return false;
  const min = Math.min(...values);
  const max = Math.max(...values);
  return Math.log10(max / min) >= decades;
}

export type AxisMode = "auto" | "linear" | "log";

/**
 * An axis for `path` over `runs`: categorical when the field holds only strings, else numeric
 * (log when asked for, or in `auto` mode when `prefersLog`, and only if every value is positive).
 */
export function makeAxis(runs: Run[], path: string, mode: AxisMode = "auto"): Axis {
  const numbers: number[] = [];
  const strings = new Set<string>();
  for (const run of runs) {
    const n = numericValue(run, path);
    if (n !== null) numbers.push(n);
    else {
      const value: Json | undefined = fieldValue(run, path);
      if (typeof value === "string") strings.add(value);
    }
  }
  if (numbers.length === 0 && strings.size > 0) {
    const categories = [...strings].sort();
    const scale = (value: number | string) => {
      const at = categories.indexOf(String(value));
      if (at < 0) return null;
      return categories.length === 1 ? 0.5 : at / (categories.length - 1);
    };
    return {
      kind: "category",
      path,
      min: 0,
      max: categories.length - 1,
      categories,
      scale,
      position: (run) => {
        const value = fieldValue(run, path);
        return typeof value === "string" ? scale(value) : null;
      },
      ticks: categories.map((label) => ({ at: scale(label)!, label })),
    };
  }
  const positive = numbers.length > 0 && numbers.every((v) => v > 0);
  const log = positive && (mode === "log" || (mode === "auto" && prefersLog(numbers)));
  let min = numbers.length ? Math.min(...numbers) : 0;
  let max = numbers.length ? Math.max(...numbers) : 1;
  if (min === max) {
    if (log) {
      min /= 2;
      max *= 2;
    } else {
      const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
      min -= pad;
      max += pad;
    }
  }
  const lo = log ? Math.log10(min) : min;
  const hi = log ? Math.log10(max) : max;
  const scale = (value: number | string) => {
    if (typeof value !== "number" || !Number.isFinite(value)) return null;
    if (log) return value > 0 ? (Math.log10(value) - lo) / (hi - lo) : null;
    return (value - min) / (max - min);
  };
  let ticks: Tick[];
  if (log) {
    const powers: number[] = [];
    for (let p = Math.ceil(lo - 1e-9); p <= Math.floor(hi + 1e-9); p++) powers.push(p);
    const values = powers.length >= 2 ? powers.map((p) => Math.pow(10, p)) : [min, max];
    ticks = values.map((v) => ({ at: scale(v)!, label: formatNumber(Number(v.toPrecision(6))) }));
  } else {
    ticks = niceTicks(min, max).map((v) => ({ at: scale(v)!, label: formatNumber(v) }));
  }
  return {
    kind: log ? "log" : "linear",
    path,
    min,
    max,
    categories: [],
    scale,
    position: (run) => {
      const value = numericValue(run, path);
      return value === null ? null : scale(value);
    },
    ticks,
  };
}

/** A brush on one axis: the runs whose position lies in [lo, hi] (axis units, 0..1). */
export interface Brush {
  path: string;
  lo: number;
  hi: number;
}

/** Whether `run` lies inside every brush (a run without a value on a brushed axis does not). */
export function insideBrushes(run: Run, brushes: Brush[], axes: Map<string, Axis>): boolean {
  for (const brush of brushes) {
    const axis = axes.get(brush.path);
    if (!axis) continue;
    const at = axis.position(run);
    const lo = Math.min(brush.lo, brush.hi);
    const hi = Math.max(brush.lo, brush.hi);
    if (at === null || at < lo - 1e-9 || at > hi + 1e-9) return false;
  }
  return true;
}

/** The runs inside every brush, in their order. */
export function brushRuns(runs: Run[], brushes: Brush[], axes: Map<string, Axis>): Run[] {
  return runs.filter((run) => insideBrushes(run, brushes, axes));
}

/** A colour on a blue → yellow → red scale for t in [0, 1]. */
export function colorScale(t: number): string {
  const stops: [number, number, number][] = [
    [49, 54, 149],
    [69, 117, 180],
    [171, 217, 233],
    [254, 224, 144],
    [244, 109, 67],
    [165, 0, 38],
  ];
  const x = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  const mix = (k: number) => Math.round(a[k]! + (b[k]! - a[k]!) * f);
  return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
}

// Turning the server's series answers into uPlot's aligned columns.
import { scalarValue, type ChartSeries, type Json, type Scalar } from "../api";
import { m4Line } from "../charts/m4";

export type Columns = [number[], (number | null)[]];

/** A stored value as a plotted y: numbers and the NaN/infinity strings; NaN and objects become gaps. */
export function plotValue(value: Json | Scalar | null | undefined): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (value === "NaN" || value === "Infinity" || value === "-Infinity") {
    const v = scalarValue(value);
    return v !== null && Number.isFinite(v) ? v : null;
  }
  return null;
}

/** Full-resolution series (`history/series`) against steps. */
export function seriesColumns(xs: number[], values: Json[]): Columns {
  const x: number[] = [];
  const y: (number | null)[] = [];
  for (let i = 0; i < xs.length; i++) {
    x.push(xs[i]!);
    y.push(plotValue(values[i]));
  }
  return [x, y];
}

/**
 * System samples against seconds since the first sample; samples without a time are dropped.
 */
export function relativeTimeColumns(times: (number | null)[], values: Json[]): Columns {
  const first = times.find((t): t is number => t !== null);
  const x: number[] = [];
  const y: (number | null)[] = [];
  if (first === undefined) return [x, y];
  const points: [number, number | null][] = [];
  for (let i = 0; i < times.length; i++) {
    const t = times[i];
    if (t === null || t === undefined) continue;
    points.push([t - first, plotValue(values[i])]);
  }
  points.sort((a, b) => a[0] - b[0]);
  for (const [px, py] of points) {
    x.push(px);
    y.push(py);
  }
  return [x, y];
}

/**
 * An M4 answer as points in x order: per bucket its first, min, max and last points, so a spike
 * inside a bucket still draws (the workspace's conversion, as columns).
 */
export function m4Columns(series: ChartSeries): Columns {
  const line = m4Line(series);
  return [line.x, line.y];
}

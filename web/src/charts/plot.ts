// Turns a chart answer into what a panel draws: one line per run and key (or per group and
// key), each with its smoothed twin and optional band, all on one x array for uPlot.
import type uPlot from "uplot";
import type { ChartResponse, ChartSeries, Run } from "../api";
import { PALETTE } from "../colors";
import { fieldValue, formatValue } from "../fields";
import { aggregateGroup, alignLines, m4Band, m4Line, type AlignGrid, type Line } from "./m4";
import type { ResolvedSettings } from "./model";
import { isSmoothing, smooth } from "./smoothing";

/** One drawn line, as published for tests and shown in the tooltip. */
export interface DrawnSeries {
  label: string;
  /** The run id, or `group:<label>` for a group line. */
  run: string;
  key: string;
  color: string;
  x: number[];
  y: (number | null)[];
  smoothed: (number | null)[] | null;
  lo: (number | null)[] | null;
  hi: (number | null)[] | null;
  /** x of lo/hi when it differs from x (an M4 band). */
  bandX: number[] | null;
  /** Line dash (canvas segments) telling apart the keys of a multi-key panel; null for solid. */
  dash: number[] | null;
}

/** Dashes for the 2nd, 3rd, ... key of a panel (the first is solid). */
const DASHES: number[][] = [[6, 3], [2, 2], [8, 3, 2, 3], [12, 4]];

function dashOf(keyIndex: number): number[] | null {
  return keyIndex <= 0 ? null : (DASHES[(keyIndex - 1) % DASHES.length] as number[]);
}

export interface Grouping {
  fields: string[];
  runs: Run[];
}

/** Group label of a run: its values of the grouping fields. */
export function groupLabel(run: Run, fields: readonly string[]): string {
  return fields.map((f) => formatValue(fieldValue(run, f)) || "(none)").join(" · ");
}

export function drawnSeries(
  response: ChartResponse,
  settings: ResolvedSettings,
  runs: readonly Run[],
  groupBy: readonly string[],
  colorOf: (id: string) => string,
): DrawnSeries[] {
  const keyOrder = [...new Set(response.series.map((s) => s.key))];
  const multiKey = keyOrder.length > 1;
  const names = new Map(runs.map((r) => [r.id, r.name || r.id]));
  const out: DrawnSeries[] = [];
  if (groupBy.length > 0) {
    const labelOf = new Map(runs.map((r) => [r.id, groupLabel(r, groupBy)]));
    const groups = new Map<string, Map<string, ChartSeries[]>>();
    for (const s of response.series) {
      const label = labelOf.get(s.run) ?? "(none)";
      if (!groups.has(label)) groups.set(label, new Map());
      const byKey = groups.get(label)!;
      if (!byKey.has(s.key)) byKey.set(s.key, []);
      byKey.get(s.key)!.push(s);
    }
    const ordered = [...groups.entries()].sort((a, b) => a[0].localeCompare(b[0], undefined, { numeric: true }));
    // Groups take the palette in order: few lines, as far apart as the palette allows.
    const groupColors = new Map(ordered.map(([label], i) => [label, PALETTE[i % PALETTE.length] as string]));
    for (const [label, byKey] of ordered) {
      for (const [key, list] of byKey) {
        // A group of one run is that run: its exact M4 line, with its bucket min..max as the band.
        const g = list.length === 1 ? singleRunGroup(list[0]!, settings.groupBand) : aggregateGroup(list, settings.aggregate, settings.groupBand);
        const line = forScales(g, settings);
        const hasBand = settings.groupBand !== "none";
        out.push({
          label: `${label} (${list.length})${multiKey ? ` ${key}` : ""}`,
          run: `group:${label}`,
          key,
          color: groupColors.get(label) ?? colorOf(`group:${label}`),
          ...line,
          smoothed: smoothedOf(line, settings),
          lo: hasBand ? logSafe(g.lo, settings.logY) : null,
          hi: hasBand ? logSafe(g.hi, settings.logY) : null,
          bandX: null,
          dash: dashOf(keyOrder.indexOf(key)),
        });
      }
    }
    return out;
  }
  for (const s of response.series) {
    const line = forScales(m4Line(s), settings);
    const band = settings.band ? m4Band(s) : null;
    out.push({
      label: `${names.get(s.run) ?? s.run}${multiKey ? ` ${s.key}` : ""}`,
      run: s.run,
      key: s.key,
      color: colorOf(s.run),
      ...line,
      smoothed: smoothedOf(line, settings),
      lo: band ? logSafe(band.lo, settings.logY) : null,
      hi: band ? logSafe(band.hi, settings.logY) : null,
      bandX: band ? band.x : null,
      dash: dashOf(keyOrder.indexOf(s.key)),
    });
  }
  return out;
}

function singleRunGroup(series: ChartSeries, band: ResolvedSettings["groupBand"]): Line & { lo: (number | null)[]; hi: (number | null)[] } {
  const line = m4Line(series);
  if (band !== "minmax") return { ...line, lo: line.y.map(() => null), hi: line.y.map(() => null) };
  // The band on the line's own x: each point gets its bucket's min..max.
  const lo: (number | null)[] = [];
  const hi: (number | null)[] = [];
  const b = m4Band(series);
  let k = 0;
  for (const x of line.x) {
    while (k + 1 < b.x.length && (b.x[k + 1] as number) <= x) k++;
    lo.push(b.lo[k] ?? null);
    hi.push(b.hi[k] ?? null);
  }
  return { ...line, lo, hi };
}

function smoothedOf(line: Line, settings: ResolvedSettings): (number | null)[] | null {
  return isSmoothing(settings.smoothing) ? smooth(line.x, line.y, settings.smoothing) : null;
}

/** Log scales: points at x <= 0 are left out, y <= 0 becomes a gap. */
function forScales(line: Line, settings: ResolvedSettings): Line {
  let { x, y } = line;
  if (settings.logX && x.some((v) => v <= 0)) {
    const keep = x.map((v) => v > 0);
    x = x.filter((_, i) => keep[i]);
    y = y.filter((_, i) => keep[i]);
  }
  return { x, y: logSafe(y, settings.logY) };
}

function logSafe(y: (number | null)[], logY: boolean): (number | null)[] {
  return logY ? y.map((v) => (v !== null && v <= 0 ? null : v)) : y;
}

/** What uPlot needs, plus for each uPlot series index the drawn series it belongs to. */
export interface PlotData {
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  bands: uPlot.Band[];
  /** For uPlot series i (1-based as in uPlot), the index in `drawn` it shows as its main line, or -1. */
  mainOf: number[];
  /** For uPlot series i, the real x of the point in each slot (the slot's x may be snapped). */
  trueX: (number | undefined)[][];
}

/**
 * The grid aligned points snap to: a quarter of the answer's bucket width (see `alignLines`);
 * null when the answer has no x range.
 */
export function gridOf(response: ChartResponse | null): AlignGrid | null {
  if (!response || response.x_min === null || response.x_max === null || response.buckets <= 0) return null;
  const cell = (response.x_max - response.x_min) / (response.buckets * 4);
  return cell > 0 && Number.isFinite(cell) ? { origin: response.x_min, cell } : null;
}

export function plotData(drawn: readonly DrawnSeries[], smoothing: boolean, grid: AlignGrid | null = null): PlotData {
  const lines: { x: readonly number[]; y: readonly (number | null)[] }[] = [];
  const series: uPlot.Series[] = [{}];
  const bands: uPlot.Band[] = [];
  const mainOf: number[] = [-1];
  drawn.forEach((d, i) => {
    if (d.lo && d.hi) {
      const bx = d.bandX ?? d.x;
      const hiIdx = series.length;
      lines.push({ x: bx, y: d.hi }, { x: bx, y: d.lo });
      series.push(bandEdge(d.label), bandEdge(d.label));
      mainOf.push(-1, -1);
      bands.push({ series: [hiIdx, hiIdx + 1], fill: alpha(d.color, 0.15) });
    }
    lines.push({ x: d.x, y: d.y });
    series.push({
      label: d.label,
      stroke: smoothing ? alpha(d.color, 0.25) : d.color,
      width: 1.25,
      ...(d.dash ? { dash: d.dash } : {}),
      points: { show: false },
      spanGaps: false,
    });
    mainOf.push(smoothing ? -1 : i);
    if (d.smoothed) {
      lines.push({ x: d.x, y: d.smoothed });
      series.push({
        label: `${d.label} (smoothed)`,
        stroke: d.color,
        width: 1.5,
        points: { show: false },
        spanGaps: false,
        ...(d.dash ? { dash: d.dash } : {}),
      });
      mainOf.push(i);
    }
  });
  const { x, ys, trueX } = alignLines(lines, grid);
  return { data: [x, ...ys] as uPlot.AlignedData, series, bands, mainOf, trueX: [[], ...trueX] };
}

function bandEdge(label: string): uPlot.Series {
  return { label: `${label} band`, stroke: "transparent", width: 0, points: { show: false } };
}

/** `#rrggbb` with an alpha, as rgba(). */
export function alpha(color: string, a: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!m) return color;
  return `rgba(${parseInt(m[1]!, 16)}, ${parseInt(m[2]!, 16)}, ${parseInt(m[3]!, 16)}, ${a})`;
}

/** The largest number of points of one drawn line. */
export function maxPoints(drawn: readonly DrawnSeries[]): number {
  return drawn.reduce((m, d) => Math.max(m, d.x.length), 0);
}

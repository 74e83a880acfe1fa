// The runs table's columns: the run's own fields plus every config / summary / metadata leaf,
// how each reads and shows a run, and the layout (which are shown, in what order, which are
// pinned) that the URL keeps.
import type { Json, Run } from "../api";
import { fieldValue, formatValue, leafPaths, runDuration } from "../fields";
import { queryPath } from "./query";

export interface Column {
  /** Dashboard field path; also the column's id (`name`, `config.lr`, `duration`). */
  path: string;
  label: string;
  group: "run" | "config" | "summary" | "metadata" | "metrics";
  /** The sort field text, or null where the server cannot sort by it (duration). */
  sortField: string | null;
  width: number;
}

export interface ColumnLayout {
  /** Shown columns, in order (the eye and colour columns are always first). */
  show: string[];
  /** Shown columns kept at the left while scrolling sideways. */
  pin: string[];
  /** Widths the user dragged, by column. */
  widths?: Record<string, number>;
}

const RUN_COLUMNS: Array<[path: string, label: string, width: number, sortable: boolean]> = [
  ["name", "Name", 220, true],
  ["state", "State", 96, true],
  ["created_at", "Created", 150, true],
  ["duration", "Duration", 90, false],
  ["tags", "Tags", 160, true],
  ["id", "ID", 110, true],
  ["group", "Group", 120, true],
  ["job_type", "Job type", 110, true],
  ["host", "Host", 120, true],
  ["notes", "Notes", 200, true],
  ["sweep", "Sweep", 110, true],
  ["updated_at", "Updated", 150, true],
  ["finished_at", "Finished", 150, true],
  ["exit_code", "Exit code", 80, true],
  ["last_step", "Last step", 90, true],
  ["history_rows", "History rows", 100, true],
];

/** Statistics of a logged key offered as columns (`metrics.<key>.<stat>`, read by the server). */
export const METRIC_STATS = ["min", "max", "last"] as const;

/** The history key of a `metrics.<key>.<stat>` path, or null for any other path. */
export function metricKeyOf(path: string): string | null {
  if (!path.startsWith("metrics.")) return null;
  const last = path.lastIndexOf(".");
  return last > "metrics.".length ? path.slice("metrics.".length, last) : null;
}

/**
 * Every column the runs offer, the run's own fields first, then config / summary / metadata
 * leaves, then the min, max and last of each logged key in `metricKeys`.
 */
export function availableColumns(runs: Run[], metricKeys: readonly string[] = []): Column[] {
  const columns: Column[] = RUN_COLUMNS.map(([path, label, width, sortable]) => ({
    path,
    label,
    group: "run",
    sortField: sortable ? path : null,
    width,
  }));
  for (const group of ["summary", "config", "metadata"] as const) {
    for (const path of leafPaths(runs, group)) {
      columns.push({ path, label: path.slice(group.length + 1), group, sortField: queryPath(path), width: 120 });
    }
  }
  for (const key of metricKeys) {
    for (const stat of METRIC_STATS) {
      const path = `metrics.${key}.${stat}`;
      columns.push({ path, label: `${key} (${stat})`, group: "metrics", sortField: queryPath(path), width: 120 });
    }
  }
  return columns;
}

/** A column for a path no run has (yet): kept in the layout, shown empty. */
export function unknownColumn(path: string): Column {
  const dot = path.indexOf(".");
  const head = dot < 0 ? path : path.slice(0, dot);
  const group = head === "config" || head === "summary" || head === "metadata" || head === "metrics" ? head : "run";
  const metric = metricKeyOf(path);
  return {
    path,
    label: metric !== null ? `${metric} (${path.slice(path.lastIndexOf(".") + 1)})` : group === "run" ? path : path.slice(dot + 1),
    group,
    sortField: path === "duration" ? null : queryPath(path),
    width: 120,
  };
}

/** Name, state, created, then the first few summary and config columns. */
export function defaultLayout(columns: Column[]): ColumnLayout {
  const summary = columns.filter((c) => c.group === "summary").slice(0, 3);
  const config = columns.filter((c) => c.group === "config").slice(0, 3);
  return { show: ["name", "state", "created_at", ...summary.map((c) => c.path), ...config.map((c) => c.path)], pin: ["name"] };
}

/** The shown columns in display order: pinned ones first (they stay left), each in layout order. */
export function displayOrder(layout: ColumnLayout): string[] {
  const pinned = layout.show.filter((path) => layout.pin.includes(path));
  return [...pinned, ...layout.show.filter((path) => !layout.pin.includes(path))];
}

export function moveColumn(layout: ColumnLayout, path: string, delta: number): ColumnLayout {
  const show = layout.show.slice();
  const from = show.indexOf(path);
  const to = from + delta;
  if (from < 0 || to < 0 || to >= show.length) return layout;
  show.splice(from, 1);
  show.splice(to, 0, path);
  return { ...layout, show };
}

/** Moves `path` to where `target` is (drag and drop). */
export function dropColumn(layout: ColumnLayout, path: string, target: string): ColumnLayout {
  if (path === target) return layout;
  const show = layout.show.filter((p) => p !== path);
  const at = show.indexOf(target);
  if (at < 0) return layout;
  const from = layout.show.indexOf(path);
  const to = layout.show.indexOf(target);
  show.splice(from < to ? at + 1 : at, 0, path);
  return { ...layout, show };
}

export function toggleColumn(layout: ColumnLayout, path: string, visible: boolean): ColumnLayout {
  if (visible) return layout.show.includes(path) ? layout : { ...layout, show: [...layout.show, path] };
  return { ...layout, show: layout.show.filter((p) => p !== path), pin: layout.pin.filter((p) => p !== path) };
}

/** A layout read from the URL, or null when it is not one. */
export function readLayout(raw: unknown): ColumnLayout | null {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return null;
  const { show, pin, widths } = raw as { show?: unknown; pin?: unknown; widths?: unknown };
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);
  if (!Array.isArray(show)) return null;
  const layout: ColumnLayout = { show: [...new Set(strings(show))], pin: strings(pin) };
  layout.pin = layout.pin.filter((p) => layout.show.includes(p));
  if (widths && typeof widths === "object" && !Array.isArray(widths)) {
    const valid = Object.entries(widths).filter(([, w]) => typeof w === "number" && w >= 40 && w <= 2000);
    if (valid.length) layout.widths = Object.fromEntries(valid) as Record<string, number>;
  }
  return layout;
}

export function togglePin(layout: ColumnLayout, path: string): ColumnLayout {
  const pin = layout.pin.includes(path) ? layout.pin.filter((p) => p !== path) : [...layout.pin, path];
  return { ...layout, pin };
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return "";
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function formatTime(iso: string | null): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The column's value for a run, as data (CSV, grouping). */
export function cellValue(run: Run, path: string, now: number): Json | undefined {
  if (path === "duration") return runDuration(run, now);
  return fieldValue(run, path);
}

/** The column's value for a run, as the table shows it. */
export function cellText(run: Run, path: string, now: number): string {
  if (path === "duration") return formatDuration(runDuration(run, now));
  if (path === "created_at" || path === "updated_at" || path === "finished_at" || path === "heartbeat_at") {
    return formatTime(fieldValue(run, path) as string | null);
  }
  if (path === "tags") return run.tags.join(", ");
  return formatValue(fieldValue(run, path));
}

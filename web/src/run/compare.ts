// The rows of the run comparer: one per field, one value per run, and whether they differ.
import type { Json, Run } from "../api";
import { fieldValue, formatValue, leafPaths, runDuration } from "../fields";

export interface CompareRow {
  /** A field path (`config.lr`) or a built-in name (`name`, `duration`). */
  field: string;
  label: string;
  /** Display text, one per run. */
  values: string[];
  /** Whether not all runs show the same value. */
  differs: boolean;
  section: "run" | "config" | "summary";
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return "";
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m ${sec}s`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** The run's host: the run's own field, else what the SDK recorded in metadata. */
export function runHost(run: Run): string {
  if (run.host) return run.host;
  const host = run.metadata.host;
  return typeof host === "string" ? host : "";
}

function metaText(run: Run, path: string): string {
  return formatValue(fieldValue(run, path));
}

function canonical(value: Json | undefined): string {
  if (value === undefined) return "\u0000missing";
  return JSON.stringify(value);
}

/** Every row for `runs`, built-in fields first, then config and summary leaves. */
export function compareRows(runs: Run[], now: number = Date.now()): CompareRow[] {
  const rows: CompareRow[] = [];
  const builtin = (field: string, label: string, text: (run: Run) => string, key: (run: Run) => string = text) => {
    const keys = runs.map(key);
    rows.push({
      field,
      label,
      values: runs.map(text),
      differs: keys.some((k) => k !== keys[0]),
      section: "run",
    });
  };
  builtin("name", "Name", (run) => run.name);
  builtin("state", "State", (run) => run.state);
  builtin("created_at", "Created", (run) => formatTime(run.created_at));
  builtin("duration", "Duration", (run) => formatDuration(runDuration(run, now)));
  builtin("host", "Host", runHost);
  builtin("metadata.git.commit", "Git commit", (run) => metaText(run, "metadata.git.commit").slice(0, 12), (run) =>
    metaText(run, "metadata.git.commit"),
  );
  builtin("tags", "Tags", (run) => [...run.tags].sort().join(", "));
  builtin("group", "Group", (run) => run.group ?? "");
  for (const section of ["config", "summary"] as const) {
    for (const path of leafPaths(runs, section)) {
      const values = runs.map((run) => fieldValue(run, path));
      const keys = values.map(canonical);
      rows.push({
        field: path,
        label: path.slice(section.length + 1),
        values: values.map((value) => formatValue(value)),
        differs: keys.some((k) => k !== keys[0]),
        section,
      });
    }
  }
  return rows;
}

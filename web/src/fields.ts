// Reading run fields by the dotted paths of the query language (`config.optimizer.lr`,
// `summary.train/loss`, `metadata.git.commit`), so table columns, grouping and filters agree.
import type { Json, Run } from "./api";

/**
 * The value at `path`, read as the server's filters read it: at each level the next segment is
 * a key, or else the next segments joined with dots are (`config.optimizer.lr` also finds
 * `{"optimizer.lr": ...}`, and `metrics.val.acc.min` finds the key `val.acc`).
 */
export function fieldValue(run: Run, path: string): Json | undefined {
  return lookup(run as unknown as Json, path.split("."));
}

function lookup(node: Json | undefined, segments: readonly string[]): Json | undefined {
  if (segments.length === 0) return node;
  if (node === null || node === undefined || typeof node !== "object" || Array.isArray(node)) return undefined;
  let key = "";
  for (let i = 0; i < segments.length; i++) {
    key = i === 0 ? (segments[0] as string) : `${key}.${segments[i]}`;
    if (key in node) {
      const found = lookup(node[key], segments.slice(i + 1));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Every leaf path under `prefix` (`config`, `summary`, `metadata`) across runs, sorted. */
export function leafPaths(runs: Run[], prefix: "config" | "summary" | "metadata", maxDepth = 4): string[] {
  const paths = new Set<string>();
  const walk = (node: Json, path: string, depth: number) => {
    if (node !== null && typeof node === "object" && !Array.isArray(node) && depth < maxDepth) {
      for (const [key, child] of Object.entries(node)) walk(child, `${path}.${key}`, depth + 1);
    } else {
      paths.add(path);
    }
  };
  for (const run of runs) {
    const root = run[prefix];
    for (const [key, child] of Object.entries(root)) {
      if (key.startsWith("_")) continue;
      walk(child, `${prefix}.${key}`, 1);
    }
  }
  return [...paths].sort();
}

/** Seconds from creation to finish (or to `now` while running, to the last heartbeat otherwise). */
export function runDuration(run: Run, now: number = Date.now()): number | null {
  const start = Date.parse(run.created_at);
  if (Number.isNaN(start)) return null;
  const endText = run.finished_at ?? (run.state === "running" ? null : run.heartbeat_at);
  const end = endText ? Date.parse(endText) : now;
  return Number.isNaN(end) ? null : Math.max(0, (end - start) / 1000);
}

/** A short display form of any field value. */
export function formatValue(value: Json | undefined): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  return JSON.stringify(value);
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(3);
  return String(Number(value.toPrecision(5)));
}

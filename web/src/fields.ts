// Reading run fields by the dotted paths of the query language (`config.optimizer.lr`,
// `summary.train/loss`, `metadata.git.commit`), so table columns, grouping and filters agree.
import type { Json, Run } from "./api";

/** The value at `path`; a missing nested key falls back to the joined rest as one flat key. */
export function fieldValue(run: Run, path: string): Json | undefined {
  const segments = path.split(".");
  let node: Json | undefined = run as unknown as Json;
  for (let i = 0; i < segments.length; i++) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    const object: { [key: string]: Json } = node;
    const segment = segments[i] as string;
    if (segment in object) {
      node = object[segment];
      continue;
    }
    const flat = segments.slice(i).join(".");
    return flat in object ? object[flat] : undefined;
  }
  return node;
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

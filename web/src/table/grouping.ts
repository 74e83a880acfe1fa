// Grouping runs by field values, and the flat list of rows (group headers and runs) the
// virtualised table scrolls through.
import type { Run } from "../api";
import { fieldValue, formatValue } from "../fields";

export interface RunGroup {
  /** Stable id of the group: its values as JSON. */
  key: string;
  /** One display value per grouping field. */
  values: string[];
  runs: Run[];
}

export type Row = { kind: "group"; group: RunGroup; collapsed: boolean } | { kind: "run"; run: Run; depth: number };

/** Groups in order of their first run (so the sort order holds among groups and inside them). */
export function groupRuns(runs: Run[], fields: string[]): RunGroup[] {
  const groups = new Map<string, RunGroup>();
  for (const run of runs) {
    const values = fields.map((field) => {
      const value = fieldValue(run, field);
      return value === undefined || value === null ? "" : formatValue(value);
    });
    const key = JSON.stringify(values);
    let group = groups.get(key);
    if (!group) {
      group = { key, values, runs: [] };
      groups.set(key, group);
    }
    group.runs.push(run);
  }
  return [...groups.values()];
}

/** The rows to scroll: plain runs, or per group a header followed by its runs unless collapsed. */
export function tableRows(runs: Run[], fields: string[], collapsed: ReadonlySet<string>): Row[] {
  if (fields.length === 0) return runs.map((run) => ({ kind: "run", run, depth: 0 }));
  const rows: Row[] = [];
  for (const group of groupRuns(runs, fields)) {
    const isCollapsed = collapsed.has(group.key);
    rows.push({ kind: "group", group, collapsed: isCollapsed });
    if (!isCollapsed) for (const run of group.runs) rows.push({ kind: "run", run, depth: 1 });
  }
  return rows;
}

/** The runs in display order (grouped where grouping is on), collapsed groups included. */
export function displayRuns(runs: Run[], fields: string[]): Run[] {
  return fields.length === 0 ? runs : groupRuns(runs, fields).flatMap((group) => group.runs);
}

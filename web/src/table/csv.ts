// CSV export of the runs table as shown: its visible columns in their order, one line a run.
import type { Json, Run } from "../api";
import { cellValue } from "./columns";

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * A value as CSV text: numbers in full precision, arrays of strings comma-joined, JSON otherwise.
 * Text that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR)
 * gets a leading `'`, so a run name or tag can never execute in whoever opens the export.
 */
export function csvValue(value: Json | undefined): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value.join(",");
  return JSON.stringify(value);
}

export function csvLine(fields: string[]): string {
  return fields.map(csvField).join(",");
}

/** The header line (field paths) and one line per run, CRLF-terminated. */
export function runsCsv(runs: Run[], paths: string[], now: number): string {
  const lines = [csvLine(paths)];
  for (const run of runs) lines.push(csvLine(paths.map((path) => csvValue(cellValue(run, path, now)))));
  return lines.join("\r\n") + "\r\n";
}

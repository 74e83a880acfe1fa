// The server's `sort` string (`summary.loss desc, config.lr`) as a list of keys, and what a
// click on a column header does to it.
import { canonicalPath } from "./query";

export interface SortKey {
  /** The field as the query language writes it (canonical: `config.lr`, ``config.`a b` ``). */
  field: string;
  desc: boolean;
}

/** Splits at top-level commas (not inside backquotes or string quotes). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      current += c;
      if (c === "\\" && i + 1 < text.length) current += text[++i];
      else if (c === quote) quote = null;
    } else if (c === "`" || c === '"' || c === "'") {
      quote = c;
      current += c;
    } else if (c === ",") {
      parts.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

/** Reads a sort string; parts it cannot read are kept as written (ascending). */
export function parseSort(text: string): SortKey[] {
  const keys: SortKey[] = [];
  for (const raw of splitTopLevel(text)) {
    let part = raw.trim();
    if (!part) continue;
    let desc = false;
    if (part.startsWith("-")) {
      desc = true;
      part = part.slice(1).trim();
    } else {
      const direction = /\s+(asc|desc)$/i.exec(part);
      if (direction) {
        desc = (direction[1] as string).toLowerCase() === "desc";
        part = part.slice(0, direction.index).trim();
      }
    }
    keys.push({ field: canonicalPath(part), desc });
  }
  return keys;
}

export function formatSort(keys: readonly SortKey[]): string {
  return keys.map((key) => (key.desc ? `${key.field} desc` : key.field)).join(", ");
}

/**
 * A header click on `field`. A plain click sorts by that field alone: ascending, then
 * descending, then unsorted. A shift-click adds it as the next key, or cycles its direction
 * (ascending, descending, removed) where it is already a key, leaving the others in place.
 */
export function clickSort(current: readonly SortKey[], field: string, shift: boolean): SortKey[] {
  const canonical = canonicalPath(field);
  const index = current.findIndex((key) => key.field === canonical);
  const existing = index >= 0 ? current[index] : undefined;
  if (!shift) {
    if (!existing || current.length > 1) return [{ field: canonical, desc: existing ? !existing.desc : false }];
    return existing.desc ? [] : [{ field: canonical, desc: true }];
  }
  if (!existing) return [...current, { field: canonical, desc: false }];
  const next = current.slice();
  if (existing.desc) next.splice(index, 1);
  else next[index] = { field: canonical, desc: true };
  return next;
}

/** Where `field` is among the sort keys: its 1-based rank and direction, or null. */
export function sortRank(keys: readonly SortKey[], field: string): { rank: number; desc: boolean } | null {
  const canonical = canonicalPath(field);
  const index = keys.findIndex((key) => key.field === canonical);
  return index < 0 ? null : { rank: index + 1, desc: (keys[index] as SortKey).desc };
}

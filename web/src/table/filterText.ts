// The filter builder's rows (field, operator, value) as query-language text, and back where
// the text is a plain conjunction of such predicates.
import { canonicalPath, parsePath, queryPath, quoteText } from "./query";

export const OPERATORS = [
  "=",
  "!=",
  "<",
  "<=",
  ">",
  ">=",
  "contains",
  "not contains",
  "in",
  "not in",
  "=~",
  "!~",
  "exists",
  "not exists",
] as const;

export type Operator = (typeof OPERATORS)[number];

export interface FilterRow {
  /** A dashboard field path (`config.lr`, `summary.train/loss`, `state`). */
  field: string;
  op: Operator;
  /** As typed: `0.01`, `adam`, `"quoted"`; for `in`, comma-separated. */
  value: string;
}

export function takesValue(op: Operator): boolean {
  return op !== "exists" && op !== "not exists";
}

const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * One value as a literal: numbers, `true`, `false` and `null` bare; anything else (and
 * every regex) a double-quoted string. A value typed in quotes is taken as the string inside.
 */
export function literal(value: string, forceString = false): string {
  const text = value.trim();
  const quoted = /^"(.*)"$|^'(.*)'$/s.exec(text);
  if (quoted) return quoteText(quoted[1] ?? quoted[2] ?? "");
  if (!forceString && (NUMBER.test(text) || /^(true|false|null)$/i.test(text))) return text.toLowerCase();
  return quoteText(text);
}

/** Splits an `in` list at commas outside quotes. */
function splitList(value: string): string[] {
  const items: string[] = [];
  let current = "";
  let quote: string | null = null;
  for (const c of value) {
    if (quote) {
      current += c;
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
      current += c;
    } else if (c === ",") {
      items.push(current);
      current = "";
    } else current += c;
  }
  items.push(current);
  return items.map((item) => item.trim()).filter((item) => item !== "");
}

/** One predicate; null while the row is incomplete (no field, or a missing value). */
export function rowText(row: FilterRow): string | null {
  if (!row.field.trim()) return null;
  const field = queryPath(row.field.trim());
  if (!takesValue(row.op)) return `${field} ${row.op}`;
  if (row.op === "in" || row.op === "not in") {
    const items = splitList(row.value);
    return `${field} ${row.op} (${items.map((item) => literal(item)).join(", ")})`;
  }
  if (row.value.trim() === "") return null;
  const regex = row.op === "=~" || row.op === "!~";
  return `${field} ${row.op} ${literal(row.value, regex)}`;
}

/** The complete rows joined with `and`. */
export function buildFilter(rows: readonly FilterRow[]): string {
  return rows
    .map(rowText)
    .filter((text): text is string => text !== null)
    .join(" and ");
}

// Reading text back into rows: a small tokenizer for the plain `field op value and ...` shape.

type Token = { kind: "word" | "op" | "str" | "num" | "punct"; text: string; value: string };

function tokenize(text: string): Token[] | null {
  const tokens: Token[] = [];
  const chars = [...text];
  let pos = 0;
  while (pos < chars.length) {
    const c = chars[pos] as string;
    if (/\s/.test(c)) {
      pos++;
    } else if (c === "(" || c === ")" || c === ",") {
      tokens.push({ kind: "punct", text: c, value: c });
      pos++;
    } else if (c === '"' || c === "'") {
      const start = pos++;
      let value = "";
      while (pos < chars.length && chars[pos] !== c) {
        if (chars[pos] === "\\" && pos + 1 < chars.length) {
          const e = chars[pos + 1] as string;
          const map: Record<string, string> = { n: "\n", r: "\r", t: "\t", "0": "\0", "\\": "\\", '"': '"', "'": "'", "`": "`" };
          value += map[e] ?? "\\" + e;
          pos += 2;
        } else value += chars[pos++];
      }
      if (pos >= chars.length) return null;
      pos++;
      tokens.push({ kind: "str", text: chars.slice(start, pos).join(""), value });
    } else if ("=!<>~".includes(c)) {
      const start = pos;
      while (pos < chars.length && "=!<>~".includes(chars[pos] as string)) pos++;
      const op = chars.slice(start, pos).join("");
      tokens.push({ kind: "op", text: op, value: op === "==" ? "=" : op });
    } else if (/[-\d]/.test(c) && /^-?\d/.test(chars.slice(pos, pos + 2).join(""))) {
      const start = pos++;
      while (pos < chars.length && /[\d.eE+-]/.test(chars[pos] as string)) pos++;
      const num = chars.slice(start, pos).join("");
      tokens.push({ kind: "num", text: num, value: num });
    } else {
      // A word or path, backquoted segments included.
      const start = pos;
      while (pos < chars.length) {
        const d = chars[pos] as string;
        if (d === "`") {
          pos++;
          while (pos < chars.length && chars[pos] !== "`") pos += chars[pos] === "\\" ? 2 : 1;
          if (pos >= chars.length) return null;
          pos++;
        } else if (/[\p{Alphabetic}\p{N}_\-/.]/u.test(d)) pos++;
        else break;
      }
      if (pos === start) return null;
      const word = chars.slice(start, pos).join("");
      tokens.push({ kind: "word", text: word, value: word });
    }
  }
  return tokens;
}

const isWord = (token: Token | undefined, word: string) =>
  token?.kind === "word" && token.text.toLowerCase() === word;

function valueText(token: Token): string | null {
  if (token.kind === "str") {
    // Keep a string that looks like a number or keyword quoted so it stays a string.
    return NUMBER.test(token.value) || /^(true|false|null)$/i.test(token.value) || token.value.includes(",")
      ? quoteText(token.value)
      : token.value;
  }
  if (token.kind === "num") return token.text;
  if (isWord(token, "true") || isWord(token, "false") || isWord(token, "null")) return token.text.toLowerCase();
  return null;
}

/** The rows of a filter that is only predicates joined by `and`; null for anything else. */
export function parseFilterRows(text: string): FilterRow[] | null {
  const tokens = tokenize(text);
  if (!tokens) return null;
  const rows: FilterRow[] = [];
  let i = 0;
  while (i < tokens.length) {
    const fieldToken = tokens[i++];
    if (!fieldToken || fieldToken.kind !== "word") return null;
    const segments = parsePath(fieldToken.text);
    if (!segments) return null;
    const field = segments.join(".");
    if (canonicalPath(fieldToken.text) !== queryPath(field)) return null;
    let op: Operator;
    const t = tokens[i];
    if (t?.kind === "op" && (OPERATORS as readonly string[]).includes(t.value)) {
      op = t.value as Operator;
      i++;
    } else if (isWord(t, "not") && (isWord(tokens[i + 1], "contains") || isWord(tokens[i + 1], "in") || isWord(tokens[i + 1], "exists"))) {
      op = `not ${tokens[i + 1]!.text.toLowerCase()}` as Operator;
      i += 2;
    } else if (isWord(t, "contains") || isWord(t, "in") || isWord(t, "exists")) {
      op = t!.text.toLowerCase() as Operator;
      i++;
    } else return null;
    let value = "";
    if (op === "in" || op === "not in") {
      if (tokens[i]?.text !== "(") return null;
      i++;
      const items: string[] = [];
      while (tokens[i] && tokens[i]!.text !== ")") {
        const item = valueText(tokens[i]!);
        if (item === null) return null;
        items.push(tokens[i]!.kind === "str" && item === tokens[i]!.value && item.includes(",") ? quoteText(item) : item);
        i++;
        if (tokens[i]?.text === ",") i++;
      }
      if (tokens[i]?.text !== ")") return null;
      i++;
      value = items.join(", ");
    } else if (takesValue(op)) {
      const token = tokens[i++];
      if (!token) return null;
      const v = valueText(token);
      if (v === null) return null;
      value = op === "=~" || op === "!~" ? token.value : v;
    }
    rows.push({ field, op, value });
    if (i < tokens.length) {
      if (!isWord(tokens[i], "and")) return null;
      i++;
      if (i === tokens.length) return null;
    }
  }
  return rows;
}

// Suggestions for the filter box: field paths where a field may start, operators after a
// field, values seen in the runs after an operator, `and`/`or` after a complete predicate.
import type { Json } from "../api";
import { metricPath, parsePath, queryPath, quoteText } from "./query";

export interface Suggestion {
  /** What the list shows. */
  label: string;
  /** What replaces the text from `from` to `to`. */
  insert: string;
  kind: "field" | "operator" | "keyword" | "value";
}

export interface Suggestions {
  from: number;
  to: number;
  items: Suggestion[];
}

/** Top-level run fields (docs/query-language.md), offered with the run's nested fields. */
export const TOP_FIELDS = [
  "name",
  "state",
  "tags",
  "id",
  "notes",
  "group",
  "job_type",
  "sweep",
  "host",
  "created_at",
  "updated_at",
  "heartbeat_at",
  "finished_at",
  "exit_code",
  "last_step",
  "history_rows",
];

export const FILTER_OPERATORS = [
  "=",
  "!=",
  ">",
  ">=",
  "<",
  "<=",
  "=~",
  "!~",
  "in",
  "not in",
  "contains",
  "not contains",
  "exists",
  "not exists",
  "is null",
  "is not null",
];

type Lexeme = { kind: "word" | "op" | "str" | "num" | "open" | "close" | "comma"; text: string; start: number; end: number };

/** A forgiving tokenizer for text being typed: never fails, stops inside an open quote. */
function lexPartial(text: string): { tokens: Lexeme[]; openQuote: number | null } {
  const tokens: Lexeme[] = [];
  let pos = 0;
  while (pos < text.length) {
    const c = text[pos] as string;
    const start = pos;
    if (/\s/.test(c)) {
      pos++;
      continue;
    }
    if (c === "(" || c === ")" || c === ",") {
      tokens.push({ kind: c === "(" ? "open" : c === ")" ? "close" : "comma", text: c, start, end: ++pos });
    } else if (c === '"' || c === "'") {
      pos++;
      while (pos < text.length && text[pos] !== c) pos += text[pos] === "\\" ? 2 : 1;
      if (pos >= text.length) return { tokens, openQuote: start };
      pos++;
      tokens.push({ kind: "str", text: text.slice(start, pos), start, end: pos });
    } else if ("=!<>~".includes(c)) {
      while (pos < text.length && "=!<>~".includes(text[pos] as string)) pos++;
      tokens.push({ kind: "op", text: text.slice(start, pos), start, end: pos });
    } else if (/\d/.test(c) || (c === "-" && /\d/.test(text[pos + 1] ?? ""))) {
      pos++;
      while (pos < text.length && /[\d.eE+\-]/.test(text[pos] as string)) pos++;
      tokens.push({ kind: "num", text: text.slice(start, pos), start, end: pos });
    } else {
      while (pos < text.length) {
        const d = text[pos] as string;
        if (d === "`") {
          pos++;
          while (pos < text.length && text[pos] !== "`") pos += text[pos] === "\\" ? 2 : 1;
          if (pos >= text.length) {
            // An open backquote: the word runs to the end.
            pos = text.length;
            break;
          }
          pos++;
        } else if (/[\p{Alphabetic}\p{N}_\-/.]/u.test(d)) pos++;
        else break;
      }
      if (pos === start) pos++;
      tokens.push({ kind: "word", text: text.slice(start, pos), start, end: pos });
    }
  }
  return { tokens, openQuote: null };
}

type Expect = "field" | "operator" | "value" | "connective" | "none";

/** What the grammar expects after `tokens` (all complete). */
function expectation(tokens: Lexeme[]): { expect: Expect; field: string | null } {
  let expect: Expect = "field";
  let field: string | null = null;
  let inList = false;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Lexeme;
    const word = token.kind === "word" ? token.text.toLowerCase() : null;
    if (inList) {
      if (token.kind === "close") {
        inList = false;
        expect = "connective";
      } else expect = token.kind === "comma" ? "value" : "none";
      continue;
    }
    switch (expect) {
      case "field":
        if (token.kind === "open" || word === "not") expect = "field";
        else if (token.kind === "word") {
          field = token.text;
          expect = "operator";
        }
        break;
      case "operator":
        if (token.kind === "op") expect = "value";
        else if (word === "not" || word === "is") expect = "operator";
        else if (word === "contains") expect = "value";
        else if (word === "in") {
          expect = "value";
          if (tokens[i + 1]?.kind === "open") {
            i++;
            inList = true;
          }
        } else if (word === "exists" || word === "null") expect = "connective";
        break;
      case "value":
        expect = "connective";
        break;
      case "connective":
        if (word === "and" || word === "or") expect = "field";
        break;
      case "none":
        break;
    }
  }
  return { expect, field };
}

function rank(candidates: string[], typed: string): string[] {
  const t = typed.toLowerCase();
  const prefix = candidates.filter((c) => c.toLowerCase().startsWith(t));
  const inside = candidates.filter((c) => !c.toLowerCase().startsWith(t) && c.toLowerCase().includes(t));
  return [...prefix, ...inside];
}

export interface SuggestContext {
  /** Dashboard field paths known from the runs (`config.lr`, `summary.loss`, ...). */
  fields: string[];
  /** Values the runs hold at a dashboard path, for value suggestions. */
  valuesOf?: (path: string) => Json[];
  limit?: number;
}

/** Suggestions for the filter `text` with the caret at `cursor`. */
export function suggest(text: string, cursor: number, context: SuggestContext): Suggestions {
  const limit = context.limit ?? 12;
  const before = text.slice(0, cursor);
  const { tokens, openQuote } = lexPartial(before);
  // The token being typed: the last one when it touches the caret.
  let partial: Lexeme | null = null;
  let complete = tokens;
  if (openQuote !== null) {
    partial = { kind: "str", text: before.slice(openQuote), start: openQuote, end: cursor };
  } else {
    const last = tokens[tokens.length - 1];
    if (last && last.end === cursor && (last.kind === "word" || last.kind === "op" || last.kind === "num")) {
      partial = last;
      complete = tokens.slice(0, -1);
    }
  }
  const { expect, field } = expectation(complete);
  const from = partial ? partial.start : cursor;
  const typed = partial ? partial.text : "";
  // Replace the whole word under the caret, not only its part before it.
  let to = cursor;
  if (partial && partial.kind !== "str") {
    while (to < text.length && /[\p{Alphabetic}\p{N}_\-/.`=!<>~]/u.test(text[to] as string)) to++;
  }
  const items: Suggestion[] = [];

  if (expect === "field") {
    const paths = [...TOP_FIELDS, ...context.fields.map(queryPath)];
    const t = typed.toLowerCase();
    if (t.length >= 2 && ("metrics.".startsWith(t) || t.startsWith("metrics."))) {
      for (const f of context.fields) {
        if (!f.startsWith("summary.")) continue;
        for (const r of ["min", "max", "last", "count"] as const) paths.push(metricPath(f.slice("summary.".length), r));
      }
    }
    const offerNot = typed === "" || "not".startsWith(typed.toLowerCase());
    for (const path of rank(paths, typed).slice(0, offerNot ? limit - 1 : limit)) {
      items.push({ label: path, insert: path + " ", kind: "field" });
    }
    if (offerNot) items.push({ label: "not", insert: "not ", kind: "keyword" });
  } else if (expect === "operator") {
    // After `not` or `is` (part of an operator), offer how it goes on.
    const words = complete.slice(-2).map((token) => (token.kind === "word" ? token.text.toLowerCase() : ""));
    const last = words[words.length - 1];
    const operators =
      last === "not"
        ? words[0] === "is"
          ? ["null"]
          : ["in", "contains", "exists"]
        : last === "is"
          ? ["null", "not null"]
          : FILTER_OPERATORS;
    for (const op of rank(operators, typed)) items.push({ label: op, insert: op + " ", kind: "operator" });
  } else if (expect === "value") {
    const segments = field ? parsePath(field) : null;
    const values = segments && context.valuesOf ? context.valuesOf(segments.join(".")) : [];
    const seen = new Set<string>();
    for (const value of values) {
      const literal = valueLiteral(value);
      if (literal === null || seen.has(literal)) continue;
      seen.add(literal);
    }
    for (const literal of rank([...seen], typed).slice(0, limit)) {
      items.push({ label: literal, insert: literal + " ", kind: "value" });
    }
  } else if (expect === "connective") {
    for (const word of rank(["and", "or"], typed)) items.push({ label: word, insert: word + " ", kind: "keyword" });
  }
  // Nothing to offer when the one suggestion is exactly what is typed.
  const shown = items.filter((item) => item.insert.trim() !== typed);
  return { from, to, items: shown.slice(0, limit) };
}

/** A value as a filter literal, for suggestions; null for arrays and objects. */
export function valueLiteral(value: Json): string | null {
  if (value === null) return "null";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : null;
  if (typeof value === "boolean") return String(value);
  if (typeof value === "string") return quoteText(value);
  return null;
}

// Writing and reading pieces of the server's run query language (docs/query-language.md):
// field paths with their backquoting, string literals, the column an error message names.
// Pure functions, shared by the sort menu, the filter builder and the autocomplete.

const KEYWORDS = ["and", "or", "not", "in", "contains", "exists", "is", "null", "true", "false"];

const IDENT_START = /^[\p{Alphabetic}_]$/u;
const IDENT_CHAR = /^[\p{Alphabetic}\p{N}_\-/]$/u;

export function isKeyword(word: string): boolean {
  return KEYWORDS.includes(word.toLowerCase());
}

function isIdentChar(c: string): boolean {
  return IDENT_CHAR.test(c);
}

/** Text between `quote`s with the escapes the server's lexer understands. */
export function quoteText(text: string, quote: '"' | "`" = '"'): string {
  let out = quote;
  for (const c of text) {
    if (c === "\\") out += "\\\\";
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\t") out += "\\t";
    else if (c === "\0") out += "\\0";
    else if (c === quote) out += "\\" + c;
    else out += c;
  }
  return out + quote;
}

/** A field path from its segments, bare where the lexer allows, backquoted elsewhere. */
export function formatSegments(segments: readonly string[]): string {
  return segments
    .map((segment, i) => {
      const chars = [...segment];
      const bare =
        i === 0
          ? chars.length > 0 &&
            IDENT_START.test(chars[0] as string) &&
            chars.every(isIdentChar) &&
            (segments.length > 1 || !isKeyword(segment))
          : chars.length > 0 && chars.every(isIdentChar);
      return bare ? segment : quoteText(segment, "`");
    })
    .join(".");
}

/**
 * The query text of a dashboard field path (`config.batch size` → ``config.`batch size` ``).
 * Dashboard paths are dotted (as `leafPaths` builds them); the server tries the joined rest as
 * one flat key when a nested key is missing, so splitting on every dot reads the same value.
 */
export function queryPath(path: string): string {
  return formatSegments(path.split("."));
}

/**
 * Reads a field path written in the query language into its segments; null when `text` is
 * not one whole path.
 */
export function parsePath(text: string): string[] | null {
  const chars = [...text.trim()];
  const segments: string[] = [];
  let pos = 0;
  while (true) {
    if (chars[pos] === "`") {
      pos++;
      let segment = "";
      while (true) {
        const c = chars[pos];
        if (c === undefined) return null;
        pos++;
        if (c === "`") break;
        if (c === "\\") {
          const escaped = chars[pos];
          if (escaped === undefined) return null;
          pos++;
          const map: Record<string, string> = { n: "\n", r: "\r", t: "\t", "0": "\0", "\\": "\\", '"': '"', "'": "'", "`": "`" };
          segment += map[escaped] ?? "\\" + escaped;
        } else {
          segment += c;
        }
      }
      segments.push(segment);
    } else {
      const start = pos;
      while (pos < chars.length && isIdentChar(chars[pos] as string)) pos++;
      if (pos === start) return null;
      if (segments.length === 0 && !IDENT_START.test(chars[start] as string)) return null;
      segments.push(chars.slice(start, pos).join(""));
    }
    if (pos === chars.length) return segments;
    if (chars[pos] !== ".") return null;
    pos++;
  }
}

/** The canonical text of a written path (so `` `config`.lr `` and `config.lr` compare equal). */
export function canonicalPath(text: string): string {
  const segments = parsePath(text);
  return segments ? formatSegments(segments) : text.trim();
}

/** The 1-based column a server parse error names (`... at column 13`), or null. */
export function errorColumn(message: string): number | null {
  const found = /at column (\d+)\s*$/.exec(message);
  return found ? Number(found[1]) : null;
}

export type MetricStat = "min" | "max" | "last" | "count";

/** The field path of a statistic of a logged metric: `metrics.<key>.min` (the key is one segment). */
export function metricPath(key: string, reduction: MetricStat): string {
  return formatSegments(["metrics", key, reduction]);
}

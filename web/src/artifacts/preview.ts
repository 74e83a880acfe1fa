// What the Files tab can show of an artifact file without downloading it whole: the kind of
// preview a file name asks for, the first bytes of a download, and the first rows of a CSV/TSV.

export type PreviewKind = "text" | "image" | "csv" | "tsv" | "json" | "none";

/** Bytes of a text, CSV or TSV file read for its preview. */
export const TEXT_PREVIEW_BYTES = 64 * 1024;
/** Data rows of a CSV or TSV preview (the header row is extra). */
export const TABLE_PREVIEW_ROWS = 100;
/** Images and JSON files above this size are not previewed (download them). */
export const WHOLE_PREVIEW_BYTES = 16 * 1024 * 1024;

const IMAGE_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
};

const TEXT_EXTENSIONS = new Set([
  "txt", "md", "markdown", "rst", "log", "out", "err", "py", "pyi", "ipynb", "rs", "ts", "tsx", "js", "mjs", "jsx", "c", "h",
  "cc", "cpp", "hpp", "go", "java", "scala", "kt", "rb", "r", "jl", "lua", "sh", "bash", "zsh", "sql", "html", "htm", "css",
  "xml", "yaml", "yml", "toml", "ini", "cfg", "conf", "env", "jsonl", "ndjson", "proto", "tex", "bib", "diff", "patch",
  "gitignore", "dockerfile", "makefile", "vocab", "tokens", "license",
]);

const TEXT_NAMES = new Set(["readme", "license", "makefile", "dockerfile", "notice", "authors", "requirements.txt"]);

function extension(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  const dot = name.lastIndexOf(".");
  return dot <= 0 ? "" : name.slice(dot + 1);
}

/** The preview a file gets from its name. */
export function previewKind(path: string): PreviewKind {
  const ext = extension(path);
  if (ext in IMAGE_TYPES) return "image";
  if (ext === "csv") return "csv";
  if (ext === "tsv" || ext === "tab") return "tsv";
  if (ext === "json") return "json";
  if (TEXT_EXTENSIONS.has(ext)) return "text";
  const name = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  return TEXT_NAMES.has(name) ? "text" : "none";
}

/** The MIME type an image preview is shown with (the blob store answers octet-stream). */
export function imageType(path: string): string {
  return IMAGE_TYPES[extension(path)] ?? "application/octet-stream";
}

export interface Prefix {
  bytes: Uint8Array;
  /** More bytes followed than were read. */
  truncated: boolean;
}

/** Reads at most `maxBytes` of a response body, then stops the download. */
export async function readPrefix(response: Response, maxBytes: number): Promise<Prefix> {
  if (!response.body) {
    const all = new Uint8Array(await response.arrayBuffer());
    return { bytes: all.slice(0, maxBytes), truncated: all.length > maxBytes };
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
    if (length >= maxBytes) {
      // Whether anything follows is only known for sure when the body goes on.
      truncated = length > maxBytes || !(await reader.read()).done;
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  const bytes = new Uint8Array(Math.min(length, maxBytes));
  let at = 0;
  for (const chunk of chunks) {
    const take = Math.min(chunk.length, bytes.length - at);
    bytes.set(chunk.subarray(0, take), at);
    at += take;
    if (at === bytes.length) break;
  }
  return { bytes, truncated };
}

/** A NUL among the first bytes: not text. */
export function looksBinary(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length, 8192);
  for (let i = 0; i < end; i++) if (bytes[i] === 0) return true;
  return false;
}

/** UTF-8 text of a prefix; a character cut at the end of a truncated prefix is dropped. */
export function decodeText(prefix: Prefix): string {
  const decoder = new TextDecoder("utf-8");
  return prefix.truncated ? decoder.decode(prefix.bytes, { stream: true }) : decoder.decode(prefix.bytes);
}

export interface Table {
  rows: string[][];
  /** Rows were left out: past `maxRows`, or cut off by the end of a truncated prefix. */
  more: boolean;
}

/**
 * The first `maxRows` rows of delimited text (RFC 4180: fields in double quotes may hold the
 * delimiter, newlines and `""` for a quote; rows end with LF or CRLF). Blank lines are
 * skipped. `complete` says whether `text` is the whole file: if not, a last row without its
 * line end may be cut short and is left out.
 */
export function parseDelimited(text: string, delimiter: string, maxRows: number, complete: boolean): Table {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  // Whether the row being read has any content yet (so a blank line is not a row).
  let started = false;
  let i = 0;
  const endRow = () => {
    row.push(field);
    if (started) rows.push(row);
    row = [];
    field = "";
    started = false;
  };
  while (i < text.length) {
    if (rows.length === maxRows) return { rows, more: text.slice(i).trim() !== "" || !complete };
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += c;
      }
      i++;
      continue;
    }
    if (c === '"' && field === "") {
      quoted = true;
      started = true;
    } else if (c === delimiter) {
      row.push(field);
      field = "";
      started = true;
    } else if (c === "\n" || c === "\r") {
      endRow();
      if (c === "\r" && text[i + 1] === "\n") i++;
    } else {
      field += c;
      started = true;
    }
    i++;
  }
  if (started) {
    if (complete) endRow();
    else return { rows, more: true };
  }
  return { rows, more: !complete };
}

/** JSON text pretty-printed with two spaces, or null when it does not parse. */
export function prettyJson(text: string): string | null {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return null;
  }
}

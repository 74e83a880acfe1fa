// ANSI escape handling for console lines: SGR (colours and weight) becomes styled spans, every
// other escape sequence (cursor moves, erase, OSC titles, charset switches) is dropped.
// Each console line is parsed on its own, starting from the default style.

export interface AnsiStyle {
  fg?: string;
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
}

export interface AnsiSpan {
  text: string;
  style: AnsiStyle;
}

/** A span after search highlighting: `match` marks text inside a match of the query. */
export interface MarkedSpan extends AnsiSpan {
  match: boolean;
}

/** The 16 basic colours (xterm's defaults, slightly darkened for a white page). */
export const BASIC_COLORS = [
  "#000000", "#c91b00", "#00a600", "#a68a00", "#0225c7", "#b300b3", "#00a6b2", "#bfbfbf",
  "#686868", "#ff6e67", "#3fc931", "#c7c400", "#6871ff", "#ff77ff", "#3fc7c7", "#ffffff",
];

const CUBE_LEVELS = [0, 95, 135, 175, 215, 255];

function hex(r: number, g: number, b: number): string {
  const part = (v: number) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, "0");
  return `#${part(r)}${part(g)}${part(b)}`;
}

/** The xterm 256-colour palette: 16 basic, a 6×6×6 cube, 24 greys. */
export function color256(n: number): string | undefined {
  if (!Number.isInteger(n) || n < 0 || n > 255) return undefined;
  if (n < 16) return BASIC_COLORS[n];
  if (n < 232) {
    const i = n - 16;
    return hex(CUBE_LEVELS[Math.floor(i / 36)]!, CUBE_LEVELS[Math.floor(i / 6) % 6]!, CUBE_LEVELS[i % 6]!);
  }
  const grey = 8 + (n - 232) * 10;
  return hex(grey, grey, grey);
}

/**
 * Reads an extended colour (`38;5;n`, `38;2;r;g;b`, or the colon forms `38:5:n`,
 * `38:2::r:g:b`) starting at `params[i]` (the 38/48). Answers the colour and how many
 * parameters it used.
 */
function extendedColor(params: string[], i: number): { color: string | undefined; used: number } {
  const head = params[i]!;
  if (head.includes(":")) {
    const parts = head.split(":").map((p) => (p === "" ? NaN : Number(p)));
    if (parts[1] === 5) return { color: color256(parts[2] ?? NaN), used: 1 };
    if (parts[1] === 2) {
      // 38:2:colourspace:r:g:b or 38:2:r:g:b.
      const rgb = parts.length >= 6 ? parts.slice(3, 6) : parts.slice(2, 5);
      const ok = rgb.length === 3 && rgb.every((v) => Number.isInteger(v) && v >= 0 && v <= 255);
      return { color: ok ? hex(rgb[0]!, rgb[1]!, rgb[2]!) : undefined, used: 1 };
    }
    return { color: undefined, used: 1 };
  }
  const mode = Number(params[i + 1]);
  if (mode === 5) return { color: color256(Number(params[i + 2])), used: 3 };
  if (mode === 2) {
    const rgb = [params[i + 2], params[i + 3], params[i + 4]].map((p) => Number(p));
    const ok = rgb.every((v) => Number.isInteger(v) && v >= 0 && v <= 255);
    return { color: ok ? hex(rgb[0]!, rgb[1]!, rgb[2]!) : undefined, used: 5 };
  }
  return { color: undefined, used: 2 };
}

/** Applies one SGR parameter list (the part between `ESC[` and `m`) to `style`. */
export function applySgr(style: AnsiStyle, paramText: string): AnsiStyle {
  const params = paramText === "" ? ["0"] : paramText.split(";");
  let next: AnsiStyle = { ...style };
  for (let i = 0; i < params.length; i++) {
    const raw = params[i]!;
    const code = raw === "" ? 0 : Number(raw.split(":")[0]);
    if (code === 38 || code === 48) {
      const { color, used } = extendedColor(params, i);
      if (color !== undefined) {
        if (code === 38) next.fg = color;
        else next.bg = color;
      }
      i += used - 1;
      continue;
    }
    if (code === 0) next = {};
    else if (code === 1) next.bold = true;
    else if (code === 2) next.dim = true;
    else if (code === 3) next.italic = true;
    else if (code === 4) next.underline = true;
    else if (code === 7) next.inverse = true;
    else if (code === 21 || code === 22) {
      delete next.bold;
      delete next.dim;
    } else if (code === 23) delete next.italic;
    else if (code === 24) delete next.underline;
    else if (code === 27) delete next.inverse;
    else if (code >= 30 && code <= 37) next.fg = BASIC_COLORS[code - 30]!;
    else if (code === 39) delete next.fg;
    else if (code >= 40 && code <= 47) next.bg = BASIC_COLORS[code - 40]!;
    else if (code === 49) delete next.bg;
    else if (code >= 90 && code <= 97) next.fg = BASIC_COLORS[code - 90 + 8]!;
    else if (code >= 100 && code <= 107) next.bg = BASIC_COLORS[code - 100 + 8]!;
    // Anything else (blink, fonts, overline, ...) is ignored.
  }
  return next;
}

function sameStyle(a: AnsiStyle, b: AnsiStyle): boolean {
  return (
    a.fg === b.fg &&
    a.bg === b.bg &&
    !!a.bold === !!b.bold &&
    !!a.dim === !!b.dim &&
    !!a.italic === !!b.italic &&
    !!a.underline === !!b.underline &&
    !!a.inverse === !!b.inverse
  );
}

/**
 * What a terminal would show of a line holding carriage returns: the text after the last `\r`
 * that has something after it (a progress bar's final state). A trailing `\r` is dropped.
 */
export function afterCarriageReturn(line: string): string {
  const trimmed = line.replace(/\r+$/, "");
  const at = trimmed.lastIndexOf("\r");
  return at < 0 ? trimmed : trimmed.slice(at + 1);
}

/** Splits one line into styled spans; escape sequences other than SGR are removed. */
export function parseAnsi(line: string, initial: AnsiStyle = {}): AnsiSpan[] {
  const input = afterCarriageReturn(line);
  const spans: AnsiSpan[] = [];
  let style: AnsiStyle = { ...initial };
  let text = "";
  const push = () => {
    if (!text) return;
    const last = spans[spans.length - 1];
    if (last && sameStyle(last.style, style)) last.text += text;
    else spans.push({ text, style });
    text = "";
  };
  let i = 0;
  while (i < input.length) {
    const ch = input.charCodeAt(i);
    if (ch === 0x1b || ch === 0x9b) {
      // CSI: ESC [ (or the 8-bit 0x9b), parameters 0x30–0x3f, intermediates 0x20–0x2f, final 0x40–0x7e.
      const csiStart = ch === 0x9b ? i + 1 : input[i + 1] === "[" ? i + 2 : -1;
      if (csiStart >= 0) {
        let j = csiStart;
        while (j < input.length && input.charCodeAt(j) >= 0x30 && input.charCodeAt(j) <= 0x3f) j++;
        const params = input.slice(csiStart, j);
        while (j < input.length && input.charCodeAt(j) >= 0x20 && input.charCodeAt(j) <= 0x2f) j++;
        const final = input[j];
        if (final === "m" && /^[0-9;:]*$/.test(params)) {
          push();
          style = applySgr(style, params);
        }
        i = j + 1;
        continue;
      }
      const next = input[i + 1];
      if (next === "]" || next === "P" || next === "_" || next === "^" || next === "X") {
        // OSC / DCS / APC / PM / SOS: up to BEL or ST (ESC \).
        let j = i + 2;
        while (j < input.length && input.charCodeAt(j) !== 0x07 && !(input[j] === "\x1b" && input[j + 1] === "\\")) j++;
        i = j < input.length && input.charCodeAt(j) === 0x07 ? j + 1 : j + 2;
        continue;
      }
      // Two- or three-character escapes (ESC 7, ESC ( B, ...): intermediates, then one final.
      let j = i + 1;
      while (j < input.length && input.charCodeAt(j) >= 0x20 && input.charCodeAt(j) <= 0x2f) j++;
      i = j + 1;
      continue;
    }
    if (ch === 0x09 || ch >= 0x20) {
      if (ch !== 0x7f) text += input[i];
    } else if (ch === 0x08) {
      // Backspace erases the character before it.
      text = text.slice(0, -1);
    }
    i++;
  }
  push();
  return spans;
}

/** The line's visible text (no escapes). */
export function plainText(line: string): string {
  return parseAnsi(line)
    .map((span) => span.text)
    .join("");
}

/**
 * Splits `spans` where `query` matches (case-insensitive) so matches can be highlighted.
 * An empty query marks nothing.
 */
export function markMatches(spans: AnsiSpan[], query: string): MarkedSpan[] {
  if (!query) return spans.map((span) => ({ ...span, match: false }));
  const full = spans.map((span) => span.text).join("");
  const lower = full.toLowerCase();
  const needle = query.toLowerCase();
  const ranges: [number, number][] = [];
  for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, at + needle.length)) {
    ranges.push([at, at + needle.length]);
  }
  const out: MarkedSpan[] = [];
  let offset = 0;
  let r = 0;
  for (const span of spans) {
    const end = offset + span.text.length;
    let pos = offset;
    while (pos < end) {
      while (r < ranges.length && ranges[r]![1] <= pos) r++;
      const range = ranges[r];
      if (!range || range[0] >= end) {
        out.push({ text: full.slice(pos, end), style: span.style, match: false });
        pos = end;
      } else if (range[0] > pos) {
        out.push({ text: full.slice(pos, range[0]), style: span.style, match: false });
        pos = range[0];
      } else {
        const stop = Math.min(range[1], end);
        out.push({ text: full.slice(pos, stop), style: span.style, match: true });
        pos = stop;
      }
    }
    offset = end;
  }
  return out;
}

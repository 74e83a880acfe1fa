// The console tab's line store: lines by index, merged as pages arrive (a re-read line
// replaces the one shown, as a progress bar redraws its line).
import type { ConsoleLine } from "../api";
import { plainText } from "./ansi";

export interface Line extends ConsoleLine {
  /** The text without escape sequences (what search looks at). */
  plain: string;
}

export function withPlain(line: ConsoleLine): Line {
  return { ...line, plain: plainText(line.text) };
}

/**
 * `current` with `incoming` merged in by line index, sorted; the same array when nothing
 * changed (so a poll that brings nothing new does not re-render).
 */
export function mergeLines(current: Line[], incoming: ConsoleLine[]): Line[] {
  if (incoming.length === 0) return current;
  const byIndex = new Map(current.map((line) => [line.index, line]));
  let changed = false;
  for (const line of incoming) {
    const old = byIndex.get(line.index);
    if (!old || old.text !== line.text || old.stream !== line.stream) {
      byIndex.set(line.index, withPlain(line));
      changed = true;
    }
  }
  if (!changed) return current;
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

// Run colours: stable (a run keeps its colour across reloads and filters, derived from its
// id) and editable (a user's choice is kept per project in localStorage).

export const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
  "#bcbd22", "#7f7f7f", "#393b79", "#e6550d", "#31a354", "#ad494a", "#6b6ecf", "#bd9e39",
  "#00a6a6", "#c51b7d", "#7fbc41", "#5e3c99", "#f46d43", "#1a9850", "#2166ac", "#b35806",
];

function paletteIndex(runId: string): number {
  // FNV-1a of the id.
  let hash = 0x811c9dc5;
  for (let i = 0; i < runId.length; i++) {
    hash ^= runId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % PALETTE.length;
}

/** The colour a run has on its own: picked by its id, so it does not move when runs come and go. */
export function defaultColor(runId: string): string {
  return PALETTE[paletteIndex(runId)] as string;
}

/**
 * Colours for a set of runs shown together: each run's own colour, except that a run whose
 * colour an older run (by creation time) already has takes the next free palette entry, so
 * runs on one chart differ while there are colours left. The same runs always get the same
 * colours.
 */
export function assignColors(runs: readonly { id: string; created_at: string }[]): Map<string, string> {
  const byAge = [...runs].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  const used = new Set<number>();
  const colors = new Map<string, string>();
  for (const run of byAge) {
    let index = paletteIndex(run.id);
    if (used.size < PALETTE.length) {
      while (used.has(index)) index = (index + 1) % PALETTE.length;
    }
    used.add(index);
    colors.set(run.id, PALETTE[index] as string);
  }
  return colors;
}

function storageKey(entity: string, project: string): string {
  return `heron:colors:${entity}/${project}`;
}

export function loadColors(entity: string, project: string): Record<string, string> {
  try {
    const raw = window.localStorage.getItem(storageKey(entity, project));
    return raw ? (JSON.parse(raw) as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export function saveColors(entity: string, project: string, colors: Record<string, string>): void {
  try {
    window.localStorage.setItem(storageKey(entity, project), JSON.stringify(colors));
  } catch {
    // Storage full or disabled: the colour holds for this page only.
  }
}

// Run colours: stable (a run keeps its colour across reloads and filters, derived from its
// id) and editable (a user's choice is kept per project in localStorage).

export const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
  "#bcbd22", "#7f7f7f", "#393b79", "#e6550d", "#31a354", "#ad494a", "#6b6ecf", "#bd9e39",
];

/** FNV-1a of the run id picks the palette entry, so colours do not move when runs come and go. */
export function defaultColor(runId: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < runId.length; i++) {
    hash ^= runId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return PALETTE[hash % PALETTE.length] as string;
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

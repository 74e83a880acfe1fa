// The workspace's state as it lives in the URL (`ws`): only what differs from the defaults,
// so a fresh workspace has no `ws` at all. Default panels (one per key) are named `k:<key>`;
// added panels `p<n>`.
import type { KeyInfo, Run, XAxis } from "../api";
import type { Aggregate, GroupBand } from "./m4";
import { NO_SMOOTHING, type Smoothing } from "./smoothing";

export type Width = "third" | "half" | "full";
export type Height = "small" | "large";

/** Per-panel settings; every field absent means "inherit / default". */
export interface PanelSettings {
  width?: Width;
  height?: Height;
  x?: XAxis;
  smoothing?: Smoothing;
  logX?: boolean;
  logY?: boolean;
  /** Draw each series' bucket min..max as a band. */
  band?: boolean;
  aggregate?: Aggregate;
  groupBand?: GroupBand;
}

export interface AddedPanel {
  id: string;
  /** Keys or regexes written `/.../`. */
  keys: string[];
  section?: string;
}

export interface WorkspaceState {
  x?: XAxis;
  smoothing?: Smoothing;
  collapsed?: string[];
  added?: AddedPanel[];
  /** Default panels removed (by id). */
  removed?: string[];
  settings?: Record<string, PanelSettings>;
  zoom?: Record<string, [number, number]>;
  /** Panel ids in the order the user arranged them (panels not listed keep their place after). */
  order?: string[];
}

/** A panel as drawn: its id, key specs and settings with the workspace's defaults applied. */
export interface PanelModel {
  id: string;
  keys: string[];
  section: string;
  settings: PanelSettings;
  /** The x-axis the run's code asked for (`define_metric(key, step_metric=...)`), if any. */
  defaultX?: XAxis;
}

export interface ResolvedSettings {
  width: Width;
  height: Height;
  x: XAxis;
  smoothing: Smoothing;
  logX: boolean;
  logY: boolean;
  band: boolean;
  aggregate: Aggregate;
  groupBand: GroupBand;
}

export function resolveSettings(ws: WorkspaceState, own: PanelSettings, defaultX?: XAxis): ResolvedSettings {
  return {
    width: own.width ?? "third",
    height: own.height ?? "small",
    x: own.x ?? ws.x ?? defaultX ?? "step",
    smoothing: own.smoothing ?? ws.smoothing ?? NO_SMOOTHING,
    logX: own.logX ?? false,
    logY: own.logY ?? false,
    band: own.band ?? false,
    aggregate: own.aggregate ?? "mean",
    groupBand: own.groupBand ?? "minmax",
  };
}

export const CHARTS_SECTION = "Charts";
export const SYSTEM_SECTION = "System";
export const CUSTOM_SECTION = "Custom";

/** The section of a key: its prefix before the first `/`, "System" for system metrics, else "Charts". */
export function sectionOf(key: string, stream: KeyInfo["stream"] = "history"): string {
  if (stream === "system") return SYSTEM_SECTION;
  const slash = key.indexOf("/");
  if (slash <= 0) return CHARTS_SECTION;
  const prefix = key.slice(0, slash);
  return prefix === "system" ? SYSTEM_SECTION : prefix;
}

/** Section order: custom panels first, then "Charts", prefixes alphabetically, "System" last. */
export function compareSections(a: string, b: string): number {
  const rank = (s: string) => (s === CUSTOM_SECTION ? 0 : s === CHARTS_SECTION ? 1 : s === SYSTEM_SECTION ? 3 : 2);
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** A key spec `/re/` (optionally with flags) as a RegExp, or null for a plain key or a bad regex. */
export function specRegex(spec: string): RegExp | null {
  const m = /^\/(.+)\/([a-z]*)$/.exec(spec);
  if (!m) return null;
  try {
    return new RegExp(m[1] as string, (m[2] as string).replace(/g/g, ""));
  } catch {
    return null;
  }
}

/** The keys a panel draws: plain specs as written, regexes matched against the known keys (in order). */
export function resolveKeys(specs: readonly string[], known: readonly string[], limit = 100): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    const re = specRegex(spec);
    const matches = re ? known.filter((k) => re.test(k)) : [spec];
    for (const k of matches) {
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(k);
      if (out.length >= limit) return out;
    }
  }
  return out;
}

export interface KnownKey {
  key: string;
  stream: KeyInfo["stream"];
}

/** The union of the runs' scalar keys (internal `_` keys left out), history before system on a clash. */
export function unionKeys(perRun: readonly (readonly Pick<KeyInfo, "key" | "stream" | "kind">[])[]): KnownKey[] {
  const keys = new Map<string, KnownKey>();
  for (const infos of perRun) {
    for (const info of infos) {
      if (info.kind !== "scalar" || info.key.startsWith("_")) continue;
      const had = keys.get(info.key);
      if (!had || (had.stream === "system" && info.stream === "history")) keys.set(info.key, { key: info.key, stream: info.stream });
    }
  }
  return [...keys.values()].sort((a, b) => a.key.localeCompare(b.key, undefined, { numeric: true }));
}

/** A `define_metric` of the runs' code, as the SDKs record it in `metadata.metrics`. */
export interface MetricDefinition {
  /** A key, or a glob with `*` (`val/*`). */
  pattern: string;
  stepMetric: string | null;
  hidden: boolean;
}

/** The metric definitions of the runs (the first run that defines a pattern wins). */
export function metricDefinitions(runs: readonly Run[]): MetricDefinition[] {
  const found = new Map<string, MetricDefinition>();
  for (const run of runs) {
    const metrics = run.metadata["metrics"];
    if (metrics === null || typeof metrics !== "object" || Array.isArray(metrics)) continue;
    for (const [pattern, def] of Object.entries(metrics)) {
      if (found.has(pattern) || def === null || typeof def !== "object" || Array.isArray(def)) continue;
      const step = def["step_metric"];
      found.set(pattern, { pattern, stepMetric: typeof step === "string" && step ? step : null, hidden: def["hidden"] === true });
    }
  }
  return [...found.values()];
}

/** The definition that applies to `key`: an exact pattern first, else the first matching glob. */
export function definitionOf(key: string, defs: readonly MetricDefinition[]): MetricDefinition | null {
  const exact = defs.find((d) => d.pattern === key);
  if (exact) return exact;
  return defs.find((d) => d.pattern.includes("*") && globRegex(d.pattern).test(key)) ?? null;
}

function globRegex(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

/**
 * Every panel of the workspace: default ones for the known keys (not removed, and not hidden by
 * a `define_metric(..., hidden=True)`), then added ones. A default panel's x-axis is the
 * `step_metric` its key was defined with, unless the workspace or the panel sets one.
 */
export function panelModels(ws: WorkspaceState, known: readonly KnownKey[], defs: readonly MetricDefinition[] = []): PanelModel[] {
  const removed = new Set(ws.removed ?? []);
  const settings = ws.settings ?? {};
  const panels: PanelModel[] = [];
  for (const k of known) {
    const id = `k:${k.key}`;
    const def = definitionOf(k.key, defs);
    if (removed.has(id) || def?.hidden) continue;
    panels.push({
      id,
      keys: [k.key],
      section: sectionOf(k.key, k.stream),
      settings: settings[id] ?? {},
      ...(def?.stepMetric ? { defaultX: def.stepMetric } : {}),
    });
  }
  for (const added of ws.added ?? []) {
    panels.push({ id: added.id, keys: added.keys, section: added.section ?? CUSTOM_SECTION, settings: settings[added.id] ?? {} });
  }
  const order = ws.order ?? [];
  if (order.length === 0) return panels;
  const rank = new Map(order.map((id, i) => [id, i]));
  return panels
    .map((panel, i) => ({ panel, key: rank.get(panel.id) ?? order.length + i }))
    .sort((a, b) => a.key - b.key)
    .map((entry) => entry.panel);
}

/** Moves a panel one place earlier (-1) or later (+1) among the panels of its section. */
export function movePanel(ws: WorkspaceState, panels: readonly PanelModel[], id: string, delta: -1 | 1): WorkspaceState {
  const panel = panels.find((p) => p.id === id);
  if (!panel) return ws;
  const ids = panels.map((p) => p.id);
  const siblings = panels.filter((p) => p.section === panel.section).map((p) => p.id);
  const neighbour = siblings[siblings.indexOf(id) + delta];
  if (neighbour === undefined) return ws;
  const a = ids.indexOf(id);
  const b = ids.indexOf(neighbour);
  [ids[a], ids[b]] = [ids[b] as string, ids[a] as string];
  return { ...ws, order: ids };
}

/** The next free id for an added panel. */
export function nextPanelId(ws: WorkspaceState): string {
  let n = 1;
  const used = new Set((ws.added ?? []).map((p) => p.id));
  while (used.has(`p${n}`)) n++;
  return `p${n}`;
}

/** Drops empty fields so the URL keeps only deviations from the defaults; null when all default. */
export function compact(ws: WorkspaceState): WorkspaceState | null {
  const out: WorkspaceState = {};
  if (ws.x && ws.x !== "step") out.x = ws.x;
  if (ws.smoothing && (ws.smoothing.kind !== NO_SMOOTHING.kind || ws.smoothing.value !== NO_SMOOTHING.value)) out.smoothing = ws.smoothing;
  if (ws.collapsed?.length) out.collapsed = ws.collapsed;
  if (ws.added?.length) out.added = ws.added;
  if (ws.removed?.length) out.removed = ws.removed;
  const settings: Record<string, PanelSettings> = {};
  for (const [id, s] of Object.entries(ws.settings ?? {})) {
    const kept = Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as PanelSettings;
    if (Object.keys(kept).length) settings[id] = kept;
  }
  if (Object.keys(settings).length) out.settings = settings;
  if (ws.zoom && Object.keys(ws.zoom).length) out.zoom = ws.zoom;
  if (ws.order?.length) out.order = ws.order;
  return Object.keys(out).length ? out : null;
}

/** Removes a panel: an added one from the list, a default one by remembering it; its settings and zoom go. */
export function removePanel(ws: WorkspaceState, id: string): WorkspaceState {
  const next: WorkspaceState = { ...ws };
  if (id.startsWith("k:")) next.removed = [...(ws.removed ?? []), id];
  else next.added = (ws.added ?? []).filter((p) => p.id !== id);
  if (ws.settings?.[id]) {
    const { [id]: _drop, ...rest } = ws.settings;
    next.settings = rest;
  }
  next.zoom = withoutKey(ws.zoom, id);
  return next;
}

export function setPanelSettings(ws: WorkspaceState, id: string, patch: PanelSettings): WorkspaceState {
  return { ...ws, settings: { ...(ws.settings ?? {}), [id]: { ...(ws.settings?.[id] ?? {}), ...patch } } };
}

export function setZoom(ws: WorkspaceState, id: string, range: [number, number] | null): WorkspaceState {
  if (range === null) return { ...ws, zoom: withoutKey(ws.zoom, id) };
  return { ...ws, zoom: { ...(ws.zoom ?? {}), [id]: range } };
}

function withoutKey<T>(record: Record<string, T> | undefined, key: string): Record<string, T> | undefined {
  if (!record || !(key in record)) return record;
  const { [key]: _drop, ...rest } = record;
  return rest;
}

// The chart workspace: a toolbar (saved views, workspace x-axis and smoothing, add panel) and
// collapsible sections of line panels, one per logged key by default. Everything a user
// changes lives in the URL (`ws`), compacted to what differs from the defaults.
import { useCallback, useEffect, useMemo, useState } from "react";
import { useProject } from "../project/state";
import { useJsonParam } from "../router";
import { AddPanel } from "./AddPanel";
import "./charts.css";
import { SmoothingInput, XAxisSelect } from "./controls";
import { LinePanel } from "./LinePanel";
import {
  compact,
  CUSTOM_SECTION,
  compareSections,
  nextPanelId,
  metricDefinitions,
  movePanel,
  panelModels,
  removePanel,
  resolveSettings,
  setPanelSettings,
  setZoom,
  type PanelModel,
  type WorkspaceState,
} from "./model";
import { NO_SMOOTHING } from "./smoothing";
import { useKnownKeys } from "./useKnownKeys";
import { Views } from "./Views";

const EMPTY: WorkspaceState = {};

export function Workspace() {
  const { visibleRuns, loading: runsLoading } = useProject();
  const [wsParam, setWsParam] = useJsonParam<WorkspaceState>("ws", EMPTY);
  const wsKey = JSON.stringify(wsParam);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const ws = useMemo(() => wsParam, [wsKey]);
  const update = useCallback(
    (change: (current: WorkspaceState) => WorkspaceState) => {
      // Read the URL afresh so quick successive changes compose.
      let current = EMPTY;
      const raw = new URLSearchParams(window.location.search).get("ws");
      if (raw) {
        try {
          current = JSON.parse(raw) as WorkspaceState;
        } catch {
          current = EMPTY;
        }
      }
      setWsParam(compact(change(current)));
    },
    [setWsParam],
  );
  const { keys: known, loading: keysLoading } = useKnownKeys();
  const knownKeys = useMemo(() => known.map((k) => k.key), [known]);
  // What the runs' code declared with define_metric (x-axis, hidden keys), from the first runs.
  const defsKey = JSON.stringify(visibleRuns.slice(0, 20).map((run) => run.metadata["metrics"] ?? null));
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const defs = useMemo(() => metricDefinitions(visibleRuns.slice(0, 20)), [defsKey]);
  const panels = useMemo(() => panelModels(ws, known, defs), [ws, known, defs]);
  const sections = useMemo(() => {
    const bySection = new Map<string, PanelModel[]>();
    for (const p of panels) {
      if (!bySection.has(p.section)) bySection.set(p.section, []);
      bySection.get(p.section)!.push(p);
    }
    return [...bySection.entries()].sort((a, b) => compareSections(a[0], b[0]));
  }, [panels]);
  const [adding, setAdding] = useState(false);
  const [full, setFull] = useState<string | null>(null);
  const collapsed = new Set(ws.collapsed ?? []);

  useEffect(() => {
    if (!full) return;
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setFull(null);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [full]);

  const toggleSection = (name: string) =>
    update((w) => {
      const set = new Set(w.collapsed ?? []);
      if (set.has(name)) set.delete(name);
      else set.add(name);
      return { ...w, collapsed: [...set] };
    });

  const renderPanel = (p: PanelModel, fullscreen: boolean) => (
    <LinePanel
      key={fullscreen ? `${p.id}#full` : p.id}
      instanceId={fullscreen ? `${p.id}#full` : p.id}
      model={p}
      resolved={resolveSettings(ws, p.settings, p.defaultX)}
      knownKeys={knownKeys}
      zoom={ws.zoom?.[p.id] ?? null}
      onZoom={(range) => update((w) => setZoom(w, p.id, range))}
      onSettings={(patch) =>
        // A zoom range is in x-axis units: a new x-axis drops it.
        update((w) => setPanelSettings("x" in patch ? setZoom(w, p.id, null) : w, p.id, patch))
      }
      {...(p.id.startsWith("k:")
        ? {}
        : { onKeys: (keys: string[]) => update((w) => ({ ...w, added: (w.added ?? []).map((a) => (a.id === p.id ? { ...a, keys } : a)) })) })}
      {...(fullscreen
        ? { fullscreen: true, onClose: () => setFull(null) }
        : {
            onFullscreen: () => setFull(p.id),
            onRemove: () => update((w) => removePanel(w, p.id)),
            onMove: (delta: -1 | 1) => update((w) => movePanel(w, panels, p.id, delta)),
          })}
    />
  );

  const fullPanel = full ? panels.find((p) => p.id === full) : undefined;
  return (
    <div className="workspace">
      <div className="ws-toolbar">
        <Views />
        <span className="ws-setting">
          <span>x-axis</span>
          <XAxisSelect value={ws.x ?? "step"} keys={knownKeys} onChange={(x) => update((w) => ({ ...w, x, zoom: {} }))} />
        </span>
        <span className="ws-setting">
          <span>Smoothing</span>
          <SmoothingInput value={ws.smoothing ?? NO_SMOOTHING} onChange={(smoothing) => update((w) => ({ ...w, smoothing }))} />
        </span>
        <span className="spacer" />
        {(ws.removed?.length ?? 0) > 0 && (
          <button className="link" onClick={() => update((w) => ({ ...w, removed: [] }))} title="Show the removed default panels again">
            Restore {ws.removed!.length} removed
          </button>
        )}
        <button className="primary" onClick={() => setAdding(true)}>
          Add panel
        </button>
      </div>
      {visibleRuns.length === 0 && !runsLoading && <div className="empty">No visible runs to chart.</div>}
      {visibleRuns.length > 0 && panels.length === 0 && !keysLoading && <div className="empty">These runs have logged no scalar keys yet.</div>}
      {sections.map(([name, list]) => (
        <section key={name} className="ws-section" data-section={name}>
          <button className="ws-section-head" aria-expanded={!collapsed.has(name)} onClick={() => toggleSection(name)}>
            <span className="chevron">{collapsed.has(name) ? "▸" : "▾"}</span>
            {name}
            <span className="muted"> {list.length}</span>
          </button>
          {!collapsed.has(name) && <div className="ws-grid">{list.map((p) => renderPanel(p, false))}</div>}
        </section>
      ))}
      {fullPanel && (
        <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && setFull(null)}>
          <div className="fullscreen-box">{renderPanel(fullPanel, true)}</div>
        </div>
      )}
      {adding && (
        <AddPanel
          knownKeys={knownKeys}
          sections={sections.map(([name]) => name)}
          onCancel={() => setAdding(false)}
          onAdd={(keys, section) => {
            setAdding(false);
            update((w) => ({ ...w, added: [...(w.added ?? []), { id: nextPanelId(w), keys, ...(section === CUSTOM_SECTION ? {} : { section }) }] }));
          }}
        />
      )}
    </div>
  );
}

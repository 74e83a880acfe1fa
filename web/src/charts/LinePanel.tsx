// One line chart: its keys for the visible runs (or groups), fetched as exact M4 buckets about
// one per pixel column, zoomed by a new request, kept live. Publishes what it draws on
// `window.__heronCharts[id]` for end-to-end tests.
import { useEffect, useMemo, useRef, useState } from "react";
import type { ChartResponse } from "../api";
import { useProject } from "../project/state";
import { CloseIcon, ExpandIcon, GearIcon, TrashIcon, ZoomOutIcon } from "./icons";
import { Plot } from "./Plot";
import { Legend } from "./Legend";
import { PanelMenu } from "./PanelMenu";
import type { PanelModel, PanelSettings, ResolvedSettings } from "./model";
import { resolveKeys, specRegex } from "./model";
import { drawnSeries, gridOf, maxPoints, plotData, type DrawnSeries } from "./plot";
import { isSmoothing } from "./smoothing";
import { chartFetches, useChartData } from "./useChartData";
import { useInView } from "./useInView";

/** Runs one panel draws at most (the first visible ones, in table order). */
export const MAX_PANEL_RUNS = 200;
const MAX_BUCKETS = 2000;

export interface PublishedChart {
  keys: string[];
  xMin: number | null;
  xMax: number | null;
  zoom: [number, number] | null;
  buckets: number;
  series: { label: string; run: string; key: string; x: number[]; y: (number | null)[] }[];
  fetches: number;
}

declare global {
  interface Window {
    __heronCharts?: Record<string, PublishedChart>;
  }
}

export interface LinePanelProps {
  /** Unique among mounted panels (the full-screen copy has its own). */
  instanceId: string;
  model: PanelModel;
  resolved: ResolvedSettings;
  knownKeys: readonly string[];
  zoom: [number, number] | null;
  onZoom: (range: [number, number] | null) => void;
  onSettings: (patch: PanelSettings) => void;
  onKeys?: (keys: string[]) => void;
  onRemove?: () => void;
  onMove?: (delta: -1 | 1) => void;
  onFullscreen?: () => void;
  onClose?: () => void;
  fullscreen?: boolean;
}

export function LinePanel(props: LinePanelProps) {
  const { instanceId, model, knownKeys, zoom } = props;
  // Settings arrive as a new object on every workspace change: keep one per distinct value.
  const resolvedKey = JSON.stringify(props.resolved);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const resolved = useMemo(() => props.resolved, [resolvedKey]);
  const { visibleRuns, groupBy, colorOf } = useProject();
  const [menu, setMenu] = useState(false);
  const [buckets, setBuckets] = useState(0);
  const root = useRef<HTMLDivElement>(null);
  const seen = useInView(root);
  const keys = useMemo(() => resolveKeys(model.keys, knownKeys), [model.keys, knownKeys]);
  // The project state hands out new arrays on every URL change: keep these while their content holds.
  const shown = visibleRuns.slice(0, MAX_PANEL_RUNS);
  const runsKey = shown.map((r) => `${r.id}@${r.updated_at}`).join("\n");
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const runs = useMemo(() => shown, [runsKey]);
  const groupKey = JSON.stringify(groupBy);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const grouping = useMemo(() => groupBy, [groupKey]);
  const runIds = useMemo(() => runs.map((r) => r.id), [runs]);

  const data = useChartData({
    counter: instanceId,
    runs: runIds,
    keys,
    x: resolved.x,
    zoom,
    buckets,
    enabled: (seen || !!props.fullscreen) && buckets > 0,
  });

  const response: ChartResponse | null = data.response;
  const drawn = useMemo<DrawnSeries[]>(
    () => (response ? drawnSeries(response, resolved, runs, grouping, colorOf) : []),
    [response, resolved, runs, grouping, colorOf],
  );
  const smoothing = isSmoothing(resolved.smoothing);
  const plot = useMemo(() => plotData(drawn, smoothing, gridOf(response)), [drawn, smoothing, response]);

  useEffect(() => {
    const charts = (window.__heronCharts ??= {});
    charts[instanceId] = {
      keys,
      xMin: response?.x_min ?? null,
      xMax: response?.x_max ?? null,
      zoom,
      buckets,
      series: drawn.map((d) => ({ label: d.label, run: d.run, key: d.key, x: d.x, y: d.y })),
      fetches: chartFetches(instanceId),
    };
  });
  useEffect(
    () => () => {
      if (window.__heronCharts) delete window.__heronCharts[instanceId];
    },
    [instanceId],
  );

  const height = props.fullscreen ? Math.max(300, window.innerHeight - 160) : resolved.height === "large" ? 400 : 220;
  const regex = model.keys.some((k) => specRegex(k) !== null);
  const title = model.keys.join(", ") + (regex ? ` (${keys.length} key${keys.length === 1 ? "" : "s"})` : "");
  const empty = keys.length === 0 ? "No keys match" : runIds.length === 0 ? "No visible runs" : response && drawn.every((d) => d.x.length === 0) ? "No data" : null;

  return (
    <div
      ref={root}
      className={`panel w-${resolved.width} h-${resolved.height}${props.fullscreen ? " fullscreen" : ""}`}
      data-testid="panel"
      data-panel-id={instanceId}
      data-keys={keys.join(",")}
      data-zoomed={zoom ? "true" : "false"}
      data-points={maxPoints(drawn)}
    >
      <div className="panel-head">
        <span className="panel-title" title={title}>
          {title}
        </span>
        {data.loading && <span className="panel-loading" aria-label="loading" />}
        {zoom && (
          <button className="icon on" title="Reset zoom (double-click)" aria-label="Reset zoom" onClick={() => props.onZoom(null)}>
            <ZoomOutIcon />
          </button>
        )}
        <button className="icon" title="Settings" aria-label="Panel settings" data-menu-toggle onClick={() => setMenu((m) => !m)}>
          <GearIcon />
        </button>
        {props.onFullscreen && (
          <button className="icon" title="Full screen" aria-label="Full screen" onClick={props.onFullscreen}>
            <ExpandIcon />
          </button>
        )}
        {props.onClose && (
          <button className="icon" title="Close" aria-label="Close" onClick={props.onClose}>
            <CloseIcon />
          </button>
        )}
        {props.onRemove && (
          <button className="icon" title="Remove panel" aria-label="Remove panel" onClick={props.onRemove}>
            <TrashIcon />
          </button>
        )}
      </div>
      {menu && (
        <PanelMenu
          model={model}
          resolved={resolved}
          knownKeys={knownKeys}
          grouped={groupBy.length > 0}
          onSettings={props.onSettings}
          {...(props.onKeys ? { onKeys: props.onKeys } : {})}
          {...(props.onMove ? { onMove: props.onMove } : {})}
          onClose={() => setMenu(false)}
        />
      )}
      <div className="panel-body" style={{ height }}>
        {data.error && <div className="panel-error error">{data.error}</div>}
        {empty && !data.error && <div className="panel-empty">{empty}</div>}
        {(seen || props.fullscreen) && (
          <Plot
            plot={plot}
            drawn={drawn}
            x={resolved.x}
            logX={resolved.logX}
            logY={resolved.logY}
            xRange={zoom}
            height={height}
            onWidth={(w) => setBuckets(bucketsFor(w))}
            onZoom={(range) => props.onZoom(roundRange(range, resolved.x))}
            onResetZoom={() => props.onZoom(null)}
          />
        )}
      </div>
      <Legend drawn={drawn} />
    </div>
  );
}

/** About one bucket per pixel column, in steps of 50 (so small resizes do not re-fetch), at most 2000. */
export function bucketsFor(width: number): number {
  return Math.max(50, Math.min(MAX_BUCKETS, Math.ceil(width / 50) * 50));
}

/** A dragged range, rounded outward: whole steps on the step axis, else 6 significant digits of its width. */
export function roundRange(range: [number, number], x: string): [number, number] {
  const [a, b] = range;
  if (x === "step") return [Math.floor(a), Math.ceil(b)];
  const unit = Math.pow(10, Math.floor(Math.log10(Math.max(b - a, Number.MIN_VALUE))) - 5);
  return [Math.floor(a / unit) * unit, Math.ceil(b / unit) * unit].map((v) => Number(v.toPrecision(12))) as [number, number];
}

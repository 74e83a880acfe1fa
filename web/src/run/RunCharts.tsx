// The Charts and System tabs: one small chart per scalar key of one stream of the run.
import { useEffect, useMemo, useRef, useState } from "react";
import { api, ApiError, type KeyInfo, type Run } from "../api";
import { definitionOf, metricDefinitions } from "../charts/model";
import { LineChart } from "./LineChart";
import { m4Columns, relativeTimeColumns, seriesColumns, type Columns } from "./series";
import { formatDuration } from "./compare";

/** Above this many points a key is read as M4 buckets instead of in full. */
export const FULL_SERIES_LIMIT = 5000;

export function RunCharts(props: { run: Run; stream: "history" | "system"; color: string; tick: number }) {
  const { run, stream, color, tick } = props;
  const [keys, setKeys] = useState<KeyInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [search, setSearch] = useState("");

  useEffect(() => {
    let live = true;
    api.keys(run.entity, run.project, run.id).then(
      (all) => {
        if (!live) return;
        setKeys(all.filter((k) => k.stream === stream && k.kind === "scalar" && !k.key.startsWith("_")));
        setError(null);
      },
      (e: unknown) => live && setError(e instanceof ApiError ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [run.entity, run.project, run.id, stream, tick]);

  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const list = (keys ?? []).filter((k) => !needle || k.key.toLowerCase().includes(needle));
    return list.sort((a, b) => a.key.localeCompare(b.key));
  }, [keys, search]);

  if (error) return <div className="error">{error}</div>;
  if (!keys) return <div className="muted">Loading keys…</div>;
  if (keys.length === 0)
    return (
      <div className="empty">
        {stream === "history" ? "This run has logged no metrics." : "This run has recorded no system metrics."}
      </div>
    );
  return (
    <div className="run-charts">
      <div className="toolbar">
        <input
          type="search"
          placeholder={`Search ${keys.length} keys`}
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <span className="muted">
          {shown.length} of {keys.length} charts
        </span>
      </div>
      <div className="chart-grid">
        {shown.map((info) => (
          <KeyChart key={info.key} run={run} info={info} stream={stream} color={color} />
        ))}
      </div>
    </div>
  );
}

/** One key's chart; it re-reads when the key's point count changes (the keys are re-read live). */
function KeyChart(props: { run: Run; info: KeyInfo; stream: "history" | "system"; color: string }) {
  const { run, info, stream, color } = props;
  const box = useRef<HTMLDivElement>(null);
  const [visible, setVisible] = useState(false);
  const [data, setData] = useState<Columns | null>(null);
  const [error, setError] = useState<string | null>(null);
  // A key the run's code declared with define_metric(step_metric=...) is drawn against it.
  const stepMetric = stream === "history" ? (definitionOf(info.key, metricDefinitions([run]))?.stepMetric ?? null) : null;

  useEffect(() => {
    // Read a key only once its panel comes near the screen.
    const element = box.current;
    if (!element || visible) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) setVisible(true);
    }, { rootMargin: "300px" });
    observer.observe(element);
    return () => observer.disconnect();
  }, [visible]);

  useEffect(() => {
    if (!visible) return;
    const controller = new AbortController();
    const width = Math.max(100, Math.min(10000, Math.round(box.current?.clientWidth ?? 400)));
    const load = async (): Promise<Columns> => {
      if (info.count <= FULL_SERIES_LIMIT && stepMetric === null) {
        const series = await api.series(run.entity, run.project, run.id, info.key, stream);
        return stream === "system"
          ? relativeTimeColumns(series.times, series.values)
          : seriesColumns(series.steps, series.values);
      }
      const answer = await api.chart(
        run.entity,
        run.project,
        { runs: [run.id], keys: [info.key], x: stream === "system" ? "relative_time" : (stepMetric ?? "step"), buckets: width },
        controller.signal,
      );
      const series = answer.series.find((s) => s.key === info.key);
      return series ? m4Columns(series) : [[], []];
    };
    load().then(
      (columns) => {
        if (controller.signal.aborted) return;
        setData(columns);
        setError(null);
      },
      (e: unknown) => {
        if (!controller.signal.aborted) setError(e instanceof ApiError ? e.message : String(e));
      },
    );
    return () => controller.abort();
  }, [visible, run.entity, run.project, run.id, info.key, info.count, info.max_step, stream, stepMetric]);

  return (
    <div className="chart-panel" ref={box} data-testid="run-chart" data-key={info.key}>
      <div className="chart-title" title={info.key}>
        {info.key}
        {info.count > FULL_SERIES_LIMIT && <span className="muted"> · {info.count.toLocaleString()} points (M4)</span>}
      </div>
      {error ? (
        <div className="error">{error}</div>
      ) : data ? (
        <LineChart
          data={data}
          color={color}
          label={info.key}
          xLabel={stream === "system" ? "time" : (stepMetric ?? "step")}
          formatX={stream === "system" ? formatSeconds : undefined}
        />
      ) : (
        <div className="chart-placeholder" />
      )}
    </div>
  );
}

function formatSeconds(seconds: number): string {
  return seconds < 60 ? `${Math.round(seconds * 10) / 10}s` : formatDuration(seconds);
}

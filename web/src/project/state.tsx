// The state one project page shares between its runs table and its charts: the runs that
// match the filter (in table order), which of them are hidden, their colours and grouping, and
// the live event stream. The table edits it; every chart follows it.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { api, ApiError, subscribeProject, type ProjectEvent, type Run } from "../api";
import { assignColors, defaultColor, loadColors, saveColors } from "../colors";
import { useJsonParam, useQueryParam } from "../router";
import { hiddenParam, hiddenSet, type HiddenParam } from "./visibility";

export type PointsEvent = Extract<ProjectEvent, { type: "points" }>;

export interface ProjectState {
  entity: string;
  project: string;
  /** Runs matching the filter, in the table's sort order. */
  runs: Run[];
  total: number;
  loading: boolean;
  /** The server's message when the filter or sort was refused (with its column). */
  error: string | null;
  filter: string;
  setFilter: (filter: string) => void;
  sort: string;
  setSort: (sort: string) => void;
  /** Field paths the runs are grouped by (`config.optimizer`); empty for no grouping. */
  groupBy: string[];
  setGroupBy: (fields: string[]) => void;
  hidden: ReadonlySet<string>;
  setHidden: (ids: string[]) => void;
  toggleHidden: (id: string) => void;
  /** History keys whose statistics the runs carry (`run.metrics`), for table columns. */
  metricKeys: readonly string[];
  setMetricKeys: (keys: readonly string[]) => void;
  /** Runs that are not hidden: what charts draw. */
  visibleRuns: Run[];
  colorOf: (runId: string) => string;
  setColor: (runId: string, color: string) => void;
  /** Listen to new points of this project's runs (from the server's event stream). */
  onPoints: (listener: (event: PointsEvent) => void) => () => void;
  /** Bumped when the event stream reconnects or lags: re-read what is shown. */
  resetTick: number;
  refresh: () => void;
}

const Context = createContext<ProjectState | null>(null);

/** The URL parameters' default: one array, so its identity never changes. */
const NONE: string[] = [];

export function useProject(): ProjectState {
  const state = useContext(Context);
  if (!state) throw new Error("useProject outside ProjectProvider");
  return state;
}

export function ProjectProvider(props: { entity: string; project: string; children: ReactNode }) {
  const { entity, project } = props;
  const [filter, setFilterParam] = useQueryParam("filter");
  const [sort, setSortParam] = useQueryParam("sort");
  const [groupBy, setGroupByParam] = useJsonParam<string[]>("group", NONE);
  const [hiddenRaw, setHiddenParam] = useJsonParam<HiddenParam>("hidden", NONE);
  const [runs, setRuns] = useState<Run[]>([]);
  const [total, setTotal] = useState(0);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [colors, setColors] = useState<Record<string, string>>(() => loadColors(entity, project));
  const [resetTick, setResetTick] = useState(0);
  const [metricKeys, setMetricKeyList] = useState<readonly string[]>(NONE);
  const metricsText = metricKeys.join(",");
  const [reloadTick, setReloadTick] = useState(0);
  const pointListeners = useRef(new Set<(event: PointsEvent) => void>());

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    api
      .runs(entity, project, { filter: filter ?? "", sort: sort ?? "", metrics: metricKeys }, controller.signal)
      .then((page) => {
        setRuns(page.runs);
        setTotal(page.total);
        setError(null);
      })
      .catch((e: unknown) => {
        if (controller.signal.aborted) return;
        setError(e instanceof ApiError ? e.message : String(e));
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
    // metricsText stands for metricKeys.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [entity, project, filter, sort, reloadTick, metricsText]);

  useEffect(() => {
    // Run changes are applied in place; a new run appears after the next re-read (the
    // filter and sort decide where it goes), which a created run triggers.
    return subscribeProject(
      entity,
      project,
      (event) => {
        if (event.type === "points") {
          for (const listener of pointListeners.current) listener(event);
        } else if (event.type === "run") {
          setRuns((current) => {
            const index = current.findIndex((run) => run.id === event.run.id);
            if (index < 0) {
              setReloadTick((tick) => tick + 1);
              return current;
            }
            const next = current.slice();
            // Events carry the run without metric statistics: keep the ones we have.
            const metrics = current[index]?.metrics;
            next[index] = metrics ? { ...event.run, metrics } : event.run;
            return next;
          });
        } else {
          setRuns((current) => current.filter((run) => run.id !== event.run));
        }
      },
      () => {
        setReloadTick((tick) => tick + 1);
        setResetTick((tick) => tick + 1);
      },
    );
  }, [entity, project]);

  const hidden = useMemo(() => hiddenSet(hiddenRaw, runs), [hiddenRaw, runs]);
  const visibleRuns = useMemo(() => runs.filter((run) => !hidden.has(run.id)), [runs, hidden]);
  const toggleHidden = useCallback(
    (id: string) => {
      const next = new Set(hidden);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      setHiddenParam(hiddenParam(next, runs));
    },
    [hidden, runs, setHiddenParam],
  );
  const assigned = useMemo(() => assignColors(runs), [runs]);
  const colorOf = useCallback(
    (runId: string) => colors[runId] ?? assigned.get(runId) ?? defaultColor(runId),
    [colors, assigned],
  );
  const setColor = useCallback(
    (runId: string, color: string) => {
      setColors((current) => {
        const next = { ...current, [runId]: color };
        saveColors(entity, project, next);
        return next;
      });
    },
    [entity, project],
  );
  const onPoints = useCallback((listener: (event: PointsEvent) => void) => {
    pointListeners.current.add(listener);
    return () => {
      pointListeners.current.delete(listener);
    };
  }, []);

  const state: ProjectState = {
    entity,
    project,
    runs,
    total,
    loading,
    error,
    filter: filter ?? "",
    setFilter: (value) => setFilterParam(value || null),
    sort: sort ?? "",
    setSort: (value) => setSortParam(value || null),
    groupBy,
    setGroupBy: (fields) => setGroupByParam(fields.length ? fields : null),
    hidden,
    setHidden: (ids) => setHiddenParam(hiddenParam(new Set(ids), runs)),
    toggleHidden,
    metricKeys,
    setMetricKeys: (keys) => {
      const unique = [...new Set(keys)].sort();
      if (unique.join(",") !== metricsText) setMetricKeyList(unique.length ? unique : NONE);
    },
    visibleRuns,
    colorOf,
    setColor,
    onPoints,
    resetTick,
    refresh: () => setReloadTick((tick) => tick + 1),
  };
  return <Context.Provider value={state}>{props.children}</Context.Provider>;
}

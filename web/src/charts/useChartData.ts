// Fetches one panel's M4 data and keeps it current: again when the query changes, when the
// event stream resets, and (throttled, unzoomed only) when new points of its runs and keys arrive.
import { useEffect, useRef, useState } from "react";
import { api, ApiError, type ChartResponse, type XAxis } from "../api";
import { useProject } from "../project/state";

/** Chart requests made per counter id (a panel), across remounts. */
const fetchCounts = new Map<string, number>();

export function chartFetches(id: string): number {
  return fetchCounts.get(id) ?? 0;
}

export interface ChartRequest {
  /** Counts this request under this id (see `chartFetches`). */
  counter: string;
  runs: string[];
  keys: string[];
  x: XAxis;
  zoom: [number, number] | null;
  buckets: number;
  /** False while the panel is off screen: nothing is fetched. */
  enabled: boolean;
}

export interface ChartData {
  response: ChartResponse | null;
  /** The request the response answers. */
  answered: ChartRequest | null;
  error: string | null;
  loading: boolean;
}

const LIVE_INTERVAL_MS = 1000;

export function useChartData(request: ChartRequest): ChartData {
  const { entity, project, onPoints, resetTick } = useProject();
  const [state, setState] = useState<ChartData>({ response: null, answered: null, error: null, loading: false });
  const [liveTick, setLiveTick] = useState(0);
  const { counter, runs, keys, x, zoom, buckets, enabled } = request;
  const runsKey = runs.join("\n");
  const keysKey = keys.join("\n");
  const zoomKey = zoom ? `${zoom[0]},${zoom[1]}` : "";

  useEffect(() => {
    if (!enabled || runs.length === 0 || keys.length === 0) {
      setState((s) => (s.response || s.loading ? { response: null, answered: null, error: null, loading: false } : s));
      return;
    }
    const controller = new AbortController();
    const asked: ChartRequest = { counter, runs, keys, x, zoom, buckets, enabled };
    fetchCounts.set(counter, chartFetches(counter) + 1);
    setState((s) => ({ ...s, loading: true }));
    api
      .chart(
        entity,
        project,
        { runs, keys, x, buckets, ...(zoom ? { x_min: zoom[0], x_max: zoom[1] } : {}) },
        controller.signal,
      )
      .then((response) => setState({ response, answered: asked, error: null, loading: false }))
      .catch((e: unknown) => {
        if (controller.signal.aborted) return;
        setState((s) => ({ ...s, error: e instanceof ApiError ? e.message : String(e), loading: false }));
      });
    return () => controller.abort();
    // The joined keys stand for the arrays.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [counter, entity, project, runsKey, keysKey, x, zoomKey, buckets, enabled, resetTick, liveTick]);

  // Live points: at most one re-read per second, and none while zoomed (the view is pinned).
  const live = useRef({ runs: new Set<string>(), keys: new Set<string>(), active: false });
  live.current = { runs: new Set(runs), keys: new Set(keys), active: enabled && zoom === null };
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    let last = 0;
    const unsubscribe = onPoints((event) => {
      const { runs: r, keys: k, active } = live.current;
      if (!active || !r.has(event.run) || timer !== null) return;
      if (!event.keys.some((key) => k.has(key))) return;
      const wait = Math.max(0, last + LIVE_INTERVAL_MS - Date.now());
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        setLiveTick((t) => t + 1);
      }, wait);
    });
    return () => {
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
    };
  }, [onPoints]);

  return state;
}

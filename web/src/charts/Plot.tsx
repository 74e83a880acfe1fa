// A uPlot canvas in React: built again when its shape changes, fed new data in place
// otherwise. Drag-select reports an x range (the panel re-fetches it); double-click resets.
// Every plot shares one cursor sync key, so the crosshair moves across all panels.
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import uPlot from "uplot";
import type { XAxis } from "../api";
import { formatNumber } from "../fields";
import { formatDuration, formatLogTick, formatTick } from "./format";
import type { DrawnSeries, PlotData } from "./plot";

export const CURSOR_SYNC_KEY = "heron-charts";

export interface PlotProps {
  plot: PlotData;
  drawn: readonly DrawnSeries[];
  x: XAxis;
  logX: boolean;
  logY: boolean;
  /** Fixed x range (zoomed), or null to fit the data. */
  xRange: [number, number] | null;
  height: number;
  onWidth: (width: number) => void;
  onZoom: (range: [number, number]) => void;
  onResetZoom: () => void;
}

export function Plot(props: PlotProps) {
  const box = useRef<HTMLDivElement>(null);
  const tip = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const [width, setWidth] = useState(0);

  useLayoutEffect(() => {
    const el = box.current!;
    const observer = new ResizeObserver(() => setWidth(Math.floor(el.clientWidth)));
    observer.observe(el);
    setWidth(Math.floor(el.clientWidth));
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    if (width > 0) latest.current.onWidth(width);
  }, [width]);

  const { plot, x, logX, logY, xRange, height } = props;
  // The shape: what needs a new uPlot (series, bands, scales); data alone is set in place.
  const shape = JSON.stringify([
    plot.series.map((s) => [s.label, s.stroke, s.width, s.dash]),
    plot.bands.map((b) => b.series),
    x,
    logX,
    logY,
    xRange,
    height,
  ]);

  const widthRef = useRef(width);
  widthRef.current = width;
  const hasWidth = width > 0;
  useEffect(() => {
    if (!hasWidth) return;
    const el = box.current!;
    const options: uPlot.Options = {
      width: widthRef.current,
      height,
      series: plot.series,
      bands: plot.bands,
      legend: { show: false },
      scales: {
        x: {
          time: x === "time",
          distr: logX ? 3 : 1,
          ...(xRange ? { range: [xRange[0], xRange[1]] as uPlot.Range.MinMax } : {}),
        },
        y: { distr: logY ? 3 : 1 },
      },
      axes: [
        {
          stroke: "#6b7280",
          grid: { stroke: "#eef0f3" },
          ticks: { stroke: "#e2e5ea" },
          ...(x === "relative_time" ? { values: (_u: uPlot, splits: number[]) => splits.map(formatDuration) } : {}),
        },
        { stroke: "#6b7280", grid: { stroke: "#eef0f3" }, ticks: { stroke: "#e2e5ea" }, size: axisSize, values: (_u, splits, _axis, _space, increment) => splits.map((v) => (logY ? formatLogTick(v) : formatTick(v, increment))) },
      ],
      cursor: {
        // The crosshair follows other panels; a drag (zoom) stays in the panel it started in.
        sync: { key: CURSOR_SYNC_KEY, setSeries: false, filters: { pub: (type) => type !== "mousedown" && type !== "mouseup" } },
        drag: { x: true, y: false, setScale: false },
        points: { show: false },
        bind: {
          dblclick: () => () => {
            latest.current.onResetZoom();
            return null;
          },
        },
      },
      hooks: {
        setSelect: [
          (u) => {
            const { left, width: w } = u.select;
            if (w > 3) {
              const a = u.posToVal(left, "x");
              const b = u.posToVal(left + w, "x");
              if (Number.isFinite(a) && Number.isFinite(b) && b > a) latest.current.onZoom([a, b]);
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
        setCursor: [(u) => showTooltip(u, tip.current, latest.current)],
      },
    };
    const u = new uPlot(options, plot.data, el);
    chart.current = u;
    const over = u.over;
    const enter = () => over.classList.add("hovered");
    const leave = () => {
      over.classList.remove("hovered");
      if (tip.current) tip.current.style.display = "none";
    };
    over.addEventListener("mouseenter", enter);
    over.addEventListener("mouseleave", leave);
    return () => {
      over.removeEventListener("mouseenter", enter);
      over.removeEventListener("mouseleave", leave);
      u.destroy();
      chart.current = null;
    };
    // The shape string stands for the options.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, hasWidth]);

  useEffect(() => {
    const u = chart.current;
    if (u && width > 0 && u.width !== width) u.setSize({ width, height: u.height });
  }, [width]);

  useEffect(() => {
    const u = chart.current;
    if (u && u.data !== plot.data) u.setData(plot.data);
  }, [plot.data]);

  return (
    <div className="plot" ref={box}>
      <div className="plot-tooltip" ref={tip} />
    </div>
  );
}

/** Lists, for the hovered plot only, each line's value nearest the cursor, highest first. */
function showTooltip(u: uPlot, tip: HTMLDivElement | null, props: PlotProps): void {
  if (!tip) return;
  const idx = u.cursor.idx;
  if (idx === null || idx === undefined || !u.over.classList.contains("hovered")) {
    tip.style.display = "none";
    return;
  }
  const xs = u.data[0];
  const rows: { label: string; color: string; value: number; x: number }[] = [];
  props.plot.mainOf.forEach((drawnIdx, seriesIdx) => {
    if (drawnIdx < 0) return;
    const ys = u.data[seriesIdx] as (number | null | undefined)[];
    const at = nearestDefined(ys, idx);
    if (at === null) return;
    const value = ys[at];
    const d = props.drawn[drawnIdx];
    if (value === null || value === undefined || !d) return;
    rows.push({ label: d.label, color: d.color, value, x: props.plot.trueX[seriesIdx]?.[at] ?? (xs[at] as number) });
  });
  if (rows.length === 0) {
    tip.style.display = "none";
    return;
  }
  rows.sort((a, b) => b.value - a.value);
  const shown = rows.slice(0, 12);
  // The head names the x of the top row (slot x may be snapped to a grid; the rows' x are real).
  const headX = shown[0]!.x;
  const xName = props.x === "step" ? "step" : props.x === "relative_time" ? "time" : props.x;
  const xText = (v: number) => (props.x === "time" ? new Date(v * 1000).toLocaleString() : props.x === "relative_time" ? formatDuration(v) : formatNumber(v));
  tip.replaceChildren(
    el("div", "tip-head", `${xName} ${xText(headX)}`),
    ...shown.map((r) => {
      const row = el("div", "tip-row", "");
      const swatch = el("span", "tip-swatch", "");
      swatch.style.background = r.color;
      row.append(swatch, el("span", "tip-label", r.label), el("span", "tip-value", formatNumber(r.value)));
      if (r.x !== headX) row.append(el("span", "tip-x", `@${xText(r.x)}`));
      return row;
    }),
    ...(rows.length > shown.length ? [el("div", "tip-more", `+${rows.length - shown.length} more`)] : []),
  );
  tip.style.display = "block";
  const left = (u.cursor.left ?? 0) + u.over.offsetLeft;
  const plotWidth = u.over.offsetLeft + u.over.clientWidth;
  tip.style.left = left + 16 + tip.offsetWidth > plotWidth ? `${Math.max(0, left - 16 - tip.offsetWidth)}px` : `${left + 16}px`;
  tip.style.top = `${Math.max(0, (u.cursor.top ?? 0) + u.over.offsetTop - 10)}px`;
}

function el(tag: string, className: string, text: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

/** The index nearest `idx` where the line has a value (not a missing slot), within a few hundred slots. */
function nearestDefined(ys: readonly (number | null | undefined)[], idx: number): number | null {
  for (let d = 0; d < 400; d++) {
    if (idx - d >= 0 && ys[idx - d] !== undefined) return idx - d;
    if (idx + d < ys.length && ys[idx + d] !== undefined) return idx + d;
    if (idx - d < 0 && idx + d >= ys.length) break;
  }
  return null;
}

/** Room for the longest y tick label (about 7.5 px a character at uPlot's 12 px font). */
function axisSize(_u: uPlot, values: string[] | null): number {
  const longest = (values ?? []).reduce((m, v) => Math.max(m, v ? v.length : 0), 0);
  return Math.max(40, Math.ceil(18 + longest * 7.5));
}


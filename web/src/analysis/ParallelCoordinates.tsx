// Parallel coordinates: one vertical axis per chosen field, one polyline per run. Dragging
// along an axis brushes a range; runs inside every brush stay highlighted.
import { useMemo, useRef, useState, type PointerEvent as ReactPointerEvent } from "react";
import { runPath, type Run } from "../api";
import { fieldValue, formatValue } from "../fields";
import { navigate } from "../router";
import { FieldSelect } from "./Scatter";
import { colorScale, insideBrushes, makeAxis, type Axis, type Brush, type FieldInfo } from "./numeric";
import { useWidth } from "./useWidth";

const HEIGHT = 380;
const PAD = { left: 50, right: 70, top: 44, bottom: 26 };

export function ParallelCoordinates(props: {
  entity: string;
  project: string;
  runs: Run[];
  fields: FieldInfo[];
  axes: string[];
  setAxes: (axes: string[]) => void;
  target: string;
  colorBy: "run" | "target";
  setColorBy: (mode: "run" | "target") => void;
  colorOf: (runId: string) => string;
}) {
  const { entity, project, runs, fields, axes, setAxes, target, colorBy, setColorBy, colorOf } = props;
  const [brushes, setBrushes] = useState<Brush[]>([]);
  const [hover, setHover] = useState<string | null>(null);
  const [drag, setDrag] = useState<{ path: string; from: number; to: number } | null>(null);
  const svg = useRef<SVGSVGElement>(null);
  const [box, width] = useWidth<HTMLDivElement>();

  const axisMap = useMemo(() => new Map<string, Axis>(axes.map((path) => [path, makeAxis(runs, path)])), [runs, axes]);
  const targetAxis = useMemo(() => (target ? makeAxis(runs, target) : null), [runs, target]);
  const liveBrushes = useMemo(
    () => (drag ? [...brushes.filter((b) => b.path !== drag.path), { path: drag.path, lo: drag.from, hi: drag.to }] : brushes),
    [brushes, drag],
  );
  const inside = useMemo(() => new Set(runs.filter((run) => insideBrushes(run, liveBrushes, axisMap)).map((run) => run.id)), [runs, liveBrushes, axisMap]);

  const innerW = Math.max(50, width - PAD.left - PAD.right);
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const axisX = (i: number) => PAD.left + (axes.length <= 1 ? innerW / 2 : (i * innerW) / (axes.length - 1));
  const posY = (t: number) => PAD.top + (1 - t) * innerH;
  const unitAt = (clientY: number) => {
    const rect = svg.current?.getBoundingClientRect();
    if (!rect) return 0;
    return Math.max(0, Math.min(1, 1 - (clientY - rect.top - PAD.top) / innerH));
  };

  const startBrush = (path: string, event: ReactPointerEvent<SVGRectElement>) => {
    event.preventDefault();
    (event.target as Element).setPointerCapture(event.pointerId);
    const at = unitAt(event.clientY);
    setDrag({ path, from: at, to: at });
  };
  const moveBrush = (event: ReactPointerEvent<SVGRectElement>) => {
    if (!drag) return;
    setDrag({ ...drag, to: unitAt(event.clientY) });
  };
  const endBrush = () => {
    if (!drag) return;
    const rest = brushes.filter((b) => b.path !== drag.path);
    // A click without a drag clears the axis's brush.
    const span = Math.abs(drag.to - drag.from) * innerH;
    setBrushes(span < 3 ? rest : [...rest, { path: drag.path, lo: Math.min(drag.from, drag.to), hi: Math.max(drag.from, drag.to) }]);
    setDrag(null);
  };

  const move = (i: number, step: number) => {
    const next = [...axes];
    const [taken] = next.splice(i, 1);
    next.splice(i + step, 0, taken!);
    setAxes(next);
  };
  const remove = (path: string) => {
    setAxes(axes.filter((p) => p !== path));
    setBrushes(brushes.filter((b) => b.path !== path));
  };

  const lineColor = (run: Run) => {
    if (colorBy === "target" && targetAxis) {
      const t = targetAxis.position(run);
      return t === null ? "#9ca3af" : colorScale(t);
    }
    return colorOf(run.id);
  };

  const pathOf = (run: Run) => {
    let d = "";
    let pen = false;
    axes.forEach((path, i) => {
      const t = axisMap.get(path)?.position(run) ?? null;
      if (t === null) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${axisX(i).toFixed(1)},${posY(t).toFixed(1)}`;
      pen = true;
    });
    return d;
  };

  const available = fields.filter((field) => !axes.includes(field.path));
  const ordered = [...runs].sort((a, b) => Number(inside.has(a.id)) - Number(inside.has(b.id)));
  const hoverRun = hover ? runs.find((run) => run.id === hover) : undefined;

  return (
    <section className="card analysis-panel" data-testid="parcoords">
      <div className="card-head">
        <h3>Parallel coordinates</h3>
        <label>
          colour by{" "}
          <select value={colorBy} onChange={(e) => setColorBy(e.target.value as "run" | "target")} data-testid="parcoord-color">
            <option value="run">run colour</option>
            <option value="target" disabled={!target}>
              {target ? `${target} (scale)` : "target metric"}
            </option>
          </select>
        </label>
        <FieldSelect
          fields={available}
          value=""
          placeholder="add axis…"
          onChange={(path) => path && setAxes([...axes, path])}
          testid="parcoord-add"
        />
        {brushes.length > 0 && (
          <button onClick={() => setBrushes([])} data-testid="parcoord-clear">
            Clear {brushes.length} brush{brushes.length > 1 ? "es" : ""}
          </button>
        )}
      </div>
      <div className="plot-box" ref={box}>
        {axes.length < 2 ? (
          <div className="empty">Pick at least two axes.</div>
        ) : runs.length < 2 ? (
          <div className="empty">Parallel coordinates need at least 2 visible runs.</div>
        ) : (
          <svg ref={svg} width={width} height={HEIGHT} className="parcoord-svg">
            <g className="lines">
              {ordered.map((run) => {
                const active = inside.has(run.id);
                return (
                  <path
                    key={run.id}
                    d={pathOf(run)}
                    stroke={active ? lineColor(run) : "#c9ced6"}
                    strokeWidth={hover === run.id ? 3.5 : active ? 1.8 : 1}
                    strokeOpacity={active ? 0.9 : 0.35}
                    fill="none"
                    className="parcoord-line"
                    data-testid="parcoord-line"
                    data-run-id={run.id}
                    data-active={active ? "true" : "false"}
                    onMouseEnter={() => setHover(run.id)}
                    onMouseLeave={() => setHover(null)}
                    onClick={() => navigate(runPath(entity, project, run.id))}
                  />
                );
              })}
            </g>
            {axes.map((path, i) => {
              const axis = axisMap.get(path)!;
              const x = axisX(i);
              const brush = liveBrushes.find((b) => b.path === path);
              return (
                <g key={path} className="pc-axis" data-testid="parcoord-axis" data-path={path}>
                  <line x1={x} x2={x} y1={PAD.top} y2={PAD.top + innerH} className="axis-line" />
                  {axis.ticks.map((tick) => (
                    <g key={tick.label}>
                      <line x1={x - 4} x2={x} y1={posY(tick.at)} y2={posY(tick.at)} className="axis-line" />
                      <text x={x - 6} y={posY(tick.at) + 4} textAnchor="end" className="tick">
                        {tick.label}
                      </text>
                    </g>
                  ))}
                  <text x={x} y={PAD.top - 22} textAnchor="middle" className={`axis-label${path === target ? " target" : ""}`}>
                    {shortName(path)}
                    {axis.kind === "log" ? " (log)" : ""}
                    <title>{path}</title>
                  </text>
                  <g className="axis-tools">
                    {i > 0 && (
                      <text x={x - 14} y={PAD.top - 8} textAnchor="middle" className="axis-tool" onClick={() => move(i, -1)}>
                        ◀<title>Move left</title>
                      </text>
                    )}
                    <text x={x} y={PAD.top - 8} textAnchor="middle" className="axis-tool remove" onClick={() => remove(path)}>
                      ✕<title>Remove axis</title>
                    </text>
                    {i < axes.length - 1 && (
                      <text x={x + 14} y={PAD.top - 8} textAnchor="middle" className="axis-tool" onClick={() => move(i, 1)}>
                        ▶<title>Move right</title>
                      </text>
                    )}
                  </g>
                  {brush && (
                    <rect
                      x={x - 8}
                      width={16}
                      y={posY(Math.max(brush.lo, brush.hi))}
                      height={Math.max(1, Math.abs(brush.hi - brush.lo) * innerH)}
                      className="brush"
                      data-testid="parcoord-brush"
                    />
                  )}
                  <rect
                    x={x - 12}
                    width={24}
                    y={PAD.top - 4}
                    height={innerH + 8}
                    className="brush-area"
                    data-testid="parcoord-brush-area"
                    onPointerDown={(e) => startBrush(path, e)}
                    onPointerMove={moveBrush}
                    onPointerUp={endBrush}
                  />
                </g>
              );
            })}
          </svg>
        )}
        {hoverRun && (
          <div className="plot-tooltip parcoord-tip" data-testid="parcoord-tooltip">
            <div className="tooltip-name">
              <span className="run-swatch" style={{ background: colorOf(hoverRun.id) }} /> {hoverRun.name}
            </div>
            {axes.map((path) => (
              <div key={path}>
                {path}: <b>{formatValue(fieldValue(hoverRun, path))}</b>
              </div>
            ))}
          </div>
        )}
      </div>
      <div className="muted small" data-testid="parcoord-count">
        {brushes.length ? `${inside.size} of ${runs.length} runs inside the brushes. ` : ""}Drag along an axis to brush a range; click an axis to clear its brush.
      </div>
    </section>
  );
}

function shortName(path: string): string {
  const name = path.replace(/^(config|summary)\./, "");
  return name.length > 22 ? `…${name.slice(-21)}` : name;
}

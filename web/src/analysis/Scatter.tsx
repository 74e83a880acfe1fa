// Scatter plot of two numeric run fields, one point per visible run in its colour.
import { useMemo, useState } from "react";
import { runPath, type Run } from "../api";
import { fieldValue, formatValue } from "../fields";
import { navigate } from "../router";
import { makeAxis, type AxisMode, type FieldInfo } from "./numeric";
import { useWidth } from "./useWidth";

const HEIGHT = 400;
const PAD = { left: 64, right: 20, top: 16, bottom: 48 };
const INSET = 0.04;

export function Scatter(props: {
  entity: string;
  project: string;
  runs: Run[];
  fields: FieldInfo[];
  x: string;
  y: string;
  setX: (path: string) => void;
  setY: (path: string) => void;
  colorOf: (runId: string) => string;
}) {
  const { entity, project, runs, fields, x, y, setX, setY, colorOf } = props;
  const [xMode, setXMode] = useState<AxisMode>("auto");
  const [yMode, setYMode] = useState<AxisMode>("auto");
  const [hover, setHover] = useState<{ run: Run; px: number; py: number } | null>(null);
  const [box, width] = useWidth<HTMLDivElement>();

  // Axes over the runs that have a value on each (numbers, or strings on a category axis).
  const plotted = useMemo(() => {
    const xs = makeAxis(runs, x, xMode);
    const ys = makeAxis(runs, y, yMode);
    return runs.filter((run) => xs.position(run) !== null && ys.position(run) !== null);
  }, [runs, x, y, xMode, yMode]);
  const xAxis = useMemo(() => makeAxis(plotted, x, xMode), [plotted, x, xMode]);
  const yAxis = useMemo(() => makeAxis(plotted, y, yMode), [plotted, y, yMode]);
  const innerW = Math.max(50, width - PAD.left - PAD.right);
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  // A margin inside the frame so points at the extremes are not cut by it.
  const px = (t: number) => PAD.left + (INSET + (1 - 2 * INSET) * t) * innerW;
  const py = (t: number) => PAD.top + (1 - INSET - (1 - 2 * INSET) * t) * innerH;

  return (
    <section className="card analysis-panel" data-testid="scatter">
      <div className="card-head">
        <h3>Scatter plot</h3>
        <label>
          x <FieldSelect fields={fields} value={x} onChange={setX} testid="scatter-x" />
        </label>
        <ModeSelect value={xMode} onChange={setXMode} />
        <label>
          y <FieldSelect fields={fields} value={y} onChange={setY} testid="scatter-y" />
        </label>
        <ModeSelect value={yMode} onChange={setYMode} />
      </div>
      <div className="plot-box" ref={box}>
        {!x || !y ? (
          <div className="empty">Pick two numeric fields.</div>
        ) : plotted.length === 0 ? (
          <div className="empty" data-testid="scatter-empty">
            No visible run has both {x} and {y}.
          </div>
        ) : (
          <svg width={width} height={HEIGHT} className="scatter-svg">
            {xAxis.ticks.map((tick) => (
              <g key={`x${tick.at}`}>
                <line x1={px(tick.at)} x2={px(tick.at)} y1={PAD.top} y2={PAD.top + innerH} className="grid" />
                <text x={px(tick.at)} y={PAD.top + innerH + 16} textAnchor="middle" className="tick">
                  {tick.label}
                </text>
              </g>
            ))}
            {yAxis.ticks.map((tick) => (
              <g key={`y${tick.at}`}>
                <line x1={PAD.left} x2={PAD.left + innerW} y1={py(tick.at)} y2={py(tick.at)} className="grid" />
                <text x={PAD.left - 6} y={py(tick.at) + 4} textAnchor="end" className="tick">
                  {tick.label}
                </text>
              </g>
            ))}
            <rect x={PAD.left} y={PAD.top} width={innerW} height={innerH} className="frame" />
            <text x={PAD.left + innerW / 2} y={HEIGHT - 8} textAnchor="middle" className="axis-label">
              {x}
              {xAxis.kind === "log" ? " (log)" : ""}
            </text>
            <text
              transform={`translate(14, ${PAD.top + innerH / 2}) rotate(-90)`}
              textAnchor="middle"
              className="axis-label"
            >
              {y}
              {yAxis.kind === "log" ? " (log)" : ""}
            </text>
            {plotted.map((run) => {
              const cx = px(xAxis.position(run) ?? 0);
              const cy = py(yAxis.position(run) ?? 0);
              return (
                <circle
                  key={run.id}
                  cx={cx}
                  cy={cy}
                  r={hover?.run.id === run.id ? 7 : 5}
                  fill={colorOf(run.id)}
                  className="scatter-point"
                  data-testid="scatter-point"
                  data-run-id={run.id}
                  onMouseEnter={() => setHover({ run, px: cx, py: cy })}
                  onMouseLeave={() => setHover(null)}
                  onClick={() => navigate(runPath(entity, project, run.id))}
                >
                  <title>{run.name}</title>
                </circle>
              );
            })}
          </svg>
        )}
        {hover && (
          <div
            className="plot-tooltip"
            data-testid="scatter-tooltip"
            style={{ left: Math.min(hover.px + 12, width - 220), top: Math.max(0, hover.py - 10) }}
          >
            <div className="tooltip-name">
              <span className="run-swatch" style={{ background: colorOf(hover.run.id) }} /> {hover.run.name}
            </div>
            <div>
              {x}: <b>{formatValue(fieldValue(hover.run, x))}</b>
            </div>
            <div>
              {y}: <b>{formatValue(fieldValue(hover.run, y))}</b>
            </div>
            <div className="muted small">click to open the run</div>
          </div>
        )}
      </div>
      {x && y && plotted.length > 0 && plotted.length < runs.length && (
        <div className="muted small">
          {plotted.length} of {runs.length} visible runs have both values.
        </div>
      )}
    </section>
  );
}

export function FieldSelect(props: {
  fields: FieldInfo[];
  value: string;
  onChange: (path: string) => void;
  testid?: string;
  placeholder?: string;
}) {
  const { fields, value, onChange, testid, placeholder } = props;
  const known = fields.some((field) => field.path === value);
  return (
    <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={testid}>
      {(!value || !known) && <option value={value}>{value || placeholder || "choose…"}</option>}
      {fields.map((field) => (
        <option key={field.path} value={field.path}>
          {field.path}
        </option>
      ))}
    </select>
  );
}

function ModeSelect(props: { value: AxisMode; onChange: (mode: AxisMode) => void }) {
  return (
    <select value={props.value} onChange={(e) => props.onChange(e.target.value as AxisMode)} title="Axis scale">
      <option value="auto">auto</option>
      <option value="linear">linear</option>
      <option value="log">log</option>
    </select>
  );
}

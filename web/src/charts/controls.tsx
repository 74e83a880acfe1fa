// Small form controls shared by the workspace toolbar and the panel settings.
import type { XAxis } from "../api";
import { SMOOTHING_KINDS, type Smoothing, type SmoothingKind } from "./smoothing";

const BUILT_IN_X: { value: XAxis; label: string }[] = [
  { value: "step", label: "Step" },
  { value: "relative_time", label: "Relative time" },
  { value: "time", label: "Wall time" },
];

/** x-axis choice: the built-in axes and any logged numeric key; "" means inherit when `inherit` is given. */
export function XAxisSelect(props: {
  value: XAxis | undefined;
  keys: readonly string[];
  inherit?: string;
  onChange: (value: XAxis | undefined) => void;
}) {
  const { value, keys, inherit } = props;
  const custom = value !== undefined && !BUILT_IN_X.some((b) => b.value === value) && !keys.includes(value);
  return (
    <select
      aria-label="x-axis"
      value={value ?? ""}
      onChange={(e) => props.onChange(e.target.value === "" ? undefined : e.target.value)}
    >
      {inherit !== undefined && <option value="">{inherit}</option>}
      {BUILT_IN_X.map((b) => (
        <option key={b.value} value={b.value}>
          {b.label}
        </option>
      ))}
      {custom && <option value={value}>{value}</option>}
      {keys.length > 0 && (
        <optgroup label="Logged keys">
          {keys.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </optgroup>
      )}
    </select>
  );
}

const DEFAULT_VALUE: Record<SmoothingKind, number> = { twema: 0.6, ema: 0.6, gaussian: 10, average: 10 };

/** Smoothing kind and amount; `inherit` offers "inherit" (undefined). */
export function SmoothingInput(props: {
  value: Smoothing | undefined;
  inherit?: string;
  onChange: (value: Smoothing | undefined) => void;
}) {
  const { value, inherit } = props;
  const isEma = value?.kind === "twema" || value?.kind === "ema";
  return (
    <span className="smoothing-input">
      <select
        aria-label="smoothing"
        value={value?.kind ?? ""}
        onChange={(e) => {
          const kind = e.target.value as SmoothingKind | "";
          props.onChange(kind === "" ? undefined : { kind, value: value && value.kind === kind ? value.value : DEFAULT_VALUE[kind] });
        }}
      >
        {inherit !== undefined && <option value="">{inherit}</option>}
        {SMOOTHING_KINDS.map((k) => (
          <option key={k.kind} value={k.kind}>
            {k.label}
          </option>
        ))}
      </select>
      {value && isEma && (
        <>
          <input
            type="range"
            aria-label="smoothing weight"
            min={0}
            max={0.99}
            step={0.01}
            value={value.value}
            onChange={(e) => props.onChange({ kind: value.kind, value: Number(e.target.value) })}
          />
          <span className="smoothing-value">{value.value.toFixed(2)}</span>
        </>
      )}
      {value && !isEma && (
        <input
          type="number"
          aria-label={value.kind === "gaussian" ? "kernel width (x units)" : "window (points)"}
          title={value.kind === "gaussian" ? "kernel width (x units)" : "window (points)"}
          min={0}
          step={value.kind === "average" ? 1 : "any"}
          value={value.value}
          onChange={(e) => props.onChange({ kind: value.kind, value: Math.max(0, Number(e.target.value) || 0) })}
        />
      )}
    </span>
  );
}

/** A row of buttons for one choice. */
export function Choice<T extends string>(props: { value: T; options: { value: T; label: string }[]; onChange: (value: T) => void; label: string }) {
  return (
    <span className="choice" role="group" aria-label={props.label}>
      {props.options.map((o) => (
        <button key={o.value} className={o.value === props.value ? "active" : ""} onClick={() => props.onChange(o.value)}>
          {o.label}
        </button>
      ))}
    </span>
  );
}

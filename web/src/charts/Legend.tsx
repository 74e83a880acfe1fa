// The lines of a panel under its plot: colour and name, the first few only.
import type { DrawnSeries } from "./plot";

const SHOWN = 8;

export function Legend(props: { drawn: readonly DrawnSeries[] }) {
  const lines = props.drawn.filter((d) => d.x.length > 0);
  if (lines.length === 0) return null;
  return (
    <div className="legend">
      {lines.slice(0, SHOWN).map((d) => (
        <span key={`${d.run}\n${d.key}`} className="legend-item" title={d.label}>
          <span
            className="legend-swatch"
            style={d.dash ? { borderTop: `2px dashed ${d.color}`, height: 0 } : { background: d.color }}
          />
          {d.label}
        </span>
      ))}
      {lines.length > SHOWN && <span className="muted">+{lines.length - SHOWN} more</span>}
    </div>
  );
}

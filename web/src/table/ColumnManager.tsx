// The column manager: the shown columns in order (move, pin, hide) and every other column
// the runs offer (search, show).
import { useState } from "react";
import { moveColumn, togglePin, toggleColumn, type Column, type ColumnLayout } from "./columns";

const MAX_LISTED = 200;

export function ColumnManager(props: {
  layout: ColumnLayout;
  setLayout: (layout: ColumnLayout) => void;
  columns: Column[];
  onReset: () => void;
}) {
  const { layout, setLayout } = props;
  const [search, setSearch] = useState("");
  const needle = search.trim().toLowerCase();
  const hidden = props.columns.filter(
    (column) => !layout.show.includes(column.path) && (!needle || column.path.toLowerCase().includes(needle)),
  );
  return (
    <div className="rt-menu rt-columns" data-testid="column-manager">
      <h4>Shown columns</h4>
      <ol className="rt-menu-list">
        {layout.show.map((path, i) => (
          <li key={path} data-testid={`shown-${path}`}>
            <code title={path}>{path}</code>
            <button type="button" className="rt-tool" title="Move left" disabled={i === 0} onClick={() => setLayout(moveColumn(layout, path, -1))}>
              ▲
            </button>
            <button
              type="button"
              className="rt-tool"
              title="Move right"
              disabled={i === layout.show.length - 1}
              onClick={() => setLayout(moveColumn(layout, path, 1))}
            >
              ▼
            </button>
            <label className="rt-check" title="Pinned columns stay at the left while scrolling sideways">
              <input type="checkbox" checked={layout.pin.includes(path)} onChange={() => setLayout(togglePin(layout, path))} /> pin
            </label>
            <button type="button" className="rt-tool" title="Hide" onClick={() => setLayout(toggleColumn(layout, path, false))}>
              ×
            </button>
          </li>
        ))}
      </ol>
      <h4>More columns</h4>
      <input
        className="rt-column-search"
        placeholder="Search columns"
        value={search}
        data-testid="column-search"
        onChange={(event) => setSearch(event.target.value)}
      />
      <ul className="rt-menu-list rt-column-choices">
        {hidden.slice(0, MAX_LISTED).map((column) => (
          <li key={column.path}>
            <label className="rt-check">
              <input type="checkbox" checked={false} onChange={() => setLayout(toggleColumn(layout, column.path, true))} />{" "}
              <code>{column.path}</code>
            </label>
          </li>
        ))}
        {hidden.length > MAX_LISTED && <li className="rt-note">{hidden.length - MAX_LISTED} more: search to narrow down</li>}
        {hidden.length === 0 && <li className="rt-note">No other columns{needle ? " match" : ""}.</li>}
      </ul>
      <button type="button" className="rt-tool" onClick={props.onReset}>
        Reset to defaults
      </button>
    </div>
  );
}

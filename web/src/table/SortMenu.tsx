// The sort menu: the sort keys in order (direction, move, remove), add a column, or add a
// metric's min / max / last over its whole history (`metrics.<key>.min`).
import { useState } from "react";
import type { Column } from "./columns";
import { metricPath, type MetricStat } from "./query";
import { formatSort, parseSort, type SortKey } from "./sort";

export function SortMenu(props: { sort: string; setSort: (sort: string) => void; columns: Column[] }) {
  const keys = parseSort(props.sort);
  const sortable = props.columns.filter((column) => column.sortField !== null);
  const metricKeys = props.columns.filter((column) => column.group === "summary").map((column) => column.label);
  const [field, setField] = useState("");
  const [metric, setMetric] = useState("");
  const [reduction, setReduction] = useState<MetricStat>("min");
  const [desc, setDesc] = useState(false);
  const write = (next: SortKey[]) => props.setSort(formatSort(next));
  const add = (sortField: string, descending: boolean) =>
    write([...keys.filter((key) => key.field !== sortField), { field: sortField, desc: descending }]);
  const labelOf = (sortField: string) => props.columns.find((column) => column.sortField === sortField)?.path ?? sortField;

  return (
    <div className="rt-menu" data-testid="sort-menu">
      <h4>Sort by</h4>
      {keys.length === 0 && <p className="rt-note">Newest first. Click a header to sort; shift-click to add a key.</p>}
      <ol className="rt-menu-list">
        {keys.map((key, i) => (
          <li key={key.field}>
            <code title={key.field}>{labelOf(key.field)}</code>
            <button type="button" className="rt-tool" onClick={() => write(keys.map((k, j) => (j === i ? { ...k, desc: !k.desc } : k)))}>
              {key.desc ? "↓ desc" : "↑ asc"}
            </button>
            <button
              type="button"
              className="rt-tool"
              disabled={i === 0}
              title="Move up"
              onClick={() => write([...keys.slice(0, i - 1), key, keys[i - 1] as SortKey, ...keys.slice(i + 1)])}
            >
              ▲
            </button>
            <button type="button" className="rt-tool" title="Remove" onClick={() => write(keys.filter((_, j) => j !== i))}>
              ×
            </button>
          </li>
        ))}
      </ol>
      <div className="rt-menu-row">
        <select value={field} onChange={(event) => setField(event.target.value)} aria-label="sort field">
          <option value="">Add a column…</option>
          {sortable.map((column) => (
            <option key={column.path} value={column.sortField ?? ""}>
              {column.path}
            </option>
          ))}
        </select>
        <button type="button" className="rt-tool" disabled={!field} onClick={() => (add(field, desc), setField(""))}>
          Add
        </button>
      </div>
      <h4>Metric over its history</h4>
      <div className="rt-menu-row">
        <select value={reduction} onChange={(event) => setReduction(event.target.value as MetricStat)} aria-label="reduction">
          <option value="min">min of</option>
          <option value="max">max of</option>
          <option value="last">last of</option>
          <option value="count">count of</option>
        </select>
        <select value={metric} onChange={(event) => setMetric(event.target.value)} aria-label="metric" data-testid="sort-metric">
          <option value="">metric…</option>
          {metricKeys.map((key) => (
            <option key={key} value={key}>
              {key}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="rt-tool"
          disabled={!metric}
          data-testid="sort-metric-add"
          onClick={() => (add(metricPath(metric, reduction), desc), setMetric(""))}
        >
          Add
        </button>
      </div>
      <label className="rt-check">
        <input type="checkbox" checked={desc} onChange={(event) => setDesc(event.target.checked)} /> add descending
      </label>
      {keys.length > 0 && (
        <div className="rt-menu-row">
          <code className="rt-sort-text">{props.sort}</code>
          <button type="button" className="rt-tool" onClick={() => props.setSort("")}>
            Clear
          </button>
        </div>
      )}
    </div>
  );
}

// Grouping: pick one or more fields (config keys mostly); runs with equal values share a group.
import { useState } from "react";
import type { Column } from "./columns";

const RUN_GROUP_FIELDS = ["state", "group", "job_type", "host", "sweep"];

export function GroupMenu(props: { groupBy: string[]; setGroupBy: (fields: string[]) => void; columns: Column[] }) {
  const [field, setField] = useState("");
  const candidates = [
    ...props.columns.filter((column) => column.group === "config").map((column) => column.path),
    ...RUN_GROUP_FIELDS,
    ...props.columns.filter((column) => column.group === "metadata").map((column) => column.path),
  ].filter((path) => !props.groupBy.includes(path));
  return (
    <div className="rt-menu" data-testid="group-menu">
      <h4>Group by</h4>
      {props.groupBy.length === 0 && <p className="rt-note">No grouping. Runs with equal values of the chosen fields form a group.</p>}
      <ol className="rt-menu-list">
        {props.groupBy.map((path) => (
          <li key={path}>
            <code>{path}</code>
            <button
              type="button"
              className="rt-tool"
              title="Remove"
              onClick={() => props.setGroupBy(props.groupBy.filter((p) => p !== path))}
            >
              ×
            </button>
          </li>
        ))}
      </ol>
      <div className="rt-menu-row">
        <select value={field} onChange={(event) => setField(event.target.value)} aria-label="group field" data-testid="group-field">
          <option value="">Add a field…</option>
          {candidates.map((path) => (
            <option key={path} value={path}>
              {path}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="rt-tool"
          disabled={!field}
          data-testid="group-add"
          onClick={() => {
            props.setGroupBy([...props.groupBy, field]);
            setField("");
          }}
        >
          Add
        </button>
      </div>
      {props.groupBy.length > 0 && (
        <button type="button" className="rt-tool" onClick={() => props.setGroupBy([])}>
          Ungroup
        </button>
      )}
    </div>
  );
}

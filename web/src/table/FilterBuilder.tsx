// The filter builder: rows of field / operator / value joined with `and`, writing the same
// query-language text the filter box holds.
import { useId, useState } from "react";
import { TOP_FIELDS } from "./autocomplete";
import { buildFilter, OPERATORS, parseFilterRows, takesValue, type FilterRow, type Operator } from "./filterText";

export function FilterBuilder(props: { filter: string; setFilter: (filter: string) => void; fields: string[]; onDone: () => void }) {
  const parsed = parseFilterRows(props.filter);
  const [rows, setRows] = useState<FilterRow[]>(() =>
    parsed && parsed.length ? parsed : [{ field: "", op: "=", value: "" }],
  );
  const listId = useId();
  const text = buildFilter(rows);
  const update = (index: number, patch: Partial<FilterRow>) =>
    setRows(rows.map((row, i) => (i === index ? { ...row, ...patch } : row)));

  return (
    <div className="rt-builder" data-testid="filter-builder">
      <datalist id={listId}>
        {[...TOP_FIELDS, ...props.fields].map((field) => (
          <option key={field} value={field} />
        ))}
      </datalist>
      {parsed === null && (
        <p className="rt-note">The current filter is more than predicates joined by “and”; applying the builder replaces it.</p>
      )}
      {rows.map((row, i) => (
        <div className="rt-builder-row" key={i}>
          <span className="rt-builder-join">{i === 0 ? "where" : "and"}</span>
          <input
            list={listId}
            placeholder="field (config.lr)"
            value={row.field}
            aria-label="field"
            data-testid="builder-field"
            onChange={(event) => update(i, { field: event.target.value })}
          />
          <select
            value={row.op}
            aria-label="operator"
            data-testid="builder-op"
            onChange={(event) => update(i, { op: event.target.value as Operator })}
          >
            {OPERATORS.map((op) => (
              <option key={op} value={op}>
                {op}
              </option>
            ))}
          </select>
          {takesValue(row.op) ? (
            <input
              placeholder={row.op === "in" || row.op === "not in" ? "a, b, c" : "value"}
              value={row.value}
              aria-label="value"
              data-testid="builder-value"
              onChange={(event) => update(i, { value: event.target.value })}
            />
          ) : (
            <span className="rt-builder-novalue" />
          )}
          <button type="button" className="rt-tool" title="Remove" onClick={() => setRows(rows.filter((_, j) => j !== i))}>
            ×
          </button>
        </div>
      ))}
      <div className="rt-builder-foot">
        <button type="button" className="rt-tool" onClick={() => setRows([...rows, { field: "", op: "=", value: "" }])}>
          + Condition
        </button>
        <code className="rt-builder-preview" data-testid="builder-preview">
          {text || "(every run)"}
        </code>
        <button
          type="button"
          className="primary"
          data-testid="builder-apply"
          onClick={() => {
            props.setFilter(text);
            props.onDone();
          }}
        >
          Apply
        </button>
      </div>
      <p className="rt-note">
        Values that read as numbers, <code>true</code>, <code>false</code> or <code>null</code> are written bare; anything else
        is quoted as a string (type <code>"4"</code> for the string 4).
      </p>
    </div>
  );
}

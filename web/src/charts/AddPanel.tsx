// The "Add panel" dialog: pick keys from the list or type them (a `/regex/` matches keys).
import { useMemo, useState } from "react";
import { CUSTOM_SECTION, resolveKeys } from "./model";
import { splitKeys } from "./PanelMenu";

export function AddPanel(props: {
  knownKeys: readonly string[];
  sections: readonly string[];
  onAdd: (keys: string[], section: string) => void;
  onCancel: () => void;
}) {
  const [text, setText] = useState("");
  const [section, setSection] = useState(CUSTOM_SECTION);
  const specs = useMemo(() => splitKeys(text), [text]);
  const matched = useMemo(() => resolveKeys(specs, props.knownKeys), [specs, props.knownKeys]);
  const toggle = (key: string) => {
    const next = specs.includes(key) ? specs.filter((s) => s !== key) : [...specs, key];
    setText(next.join(", "));
  };
  const sections = props.sections.includes(CUSTOM_SECTION) ? props.sections : [CUSTOM_SECTION, ...props.sections];

  return (
    <div className="overlay" role="dialog" aria-label="Add panel" onMouseDown={props.onCancel}>
      <form
        className="dialog add-panel"
        onMouseDown={(e) => e.stopPropagation()}
        onSubmit={(e) => {
          e.preventDefault();
          if (specs.length) props.onAdd(specs, section);
        }}
      >
        <h3>Add line panel</h3>
        <label>
          <span>Keys</span>
          <input
            autoFocus
            aria-label="keys"
            placeholder="train/loss, val/loss or /^train\//"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        </label>
        <div className="key-list">
          {props.knownKeys.map((k) => (
            <label key={k} className={matched.includes(k) ? "check matched" : "check"}>
              <input type="checkbox" checked={specs.includes(k)} onChange={() => toggle(k)} />
              {k}
            </label>
          ))}
        </div>
        <div className="muted">{matched.length ? `Draws ${matched.length} key${matched.length > 1 ? "s" : ""}: ${matched.slice(0, 8).join(", ")}${matched.length > 8 ? ", …" : ""}` : "No keys chosen"}</div>
        <label>
          <span>Section</span>
          <select aria-label="section" value={section} onChange={(e) => setSection(e.target.value)}>
            {sections.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <div className="dialog-buttons">
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={specs.length === 0}>
            Add panel
          </button>
        </div>
      </form>
    </div>
  );
}

// The filter text box: the query language as typed, applied on Enter, with autocomplete of
// fields, operators and values, and the server's parse error shown under it at its column.
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import type { Json } from "../api";
import { suggest, type Suggestion } from "./autocomplete";
import { errorColumn } from "./query";

export function FilterBox(props: {
  filter: string;
  setFilter: (filter: string) => void;
  /** The server's message when the applied filter was refused. */
  error: string | null;
  fields: string[];
  valuesOf: (path: string) => Json[];
}) {
  const { filter, setFilter, error, fields, valuesOf } = props;
  const [text, setText] = useState(filter);
  const [cursor, setCursor] = useState(filter.length);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [navigated, setNavigated] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  // Where the caret goes once an accepted suggestion is in the input (set before the next
  // keystroke can land, so typing goes on after the suggestion).
  const pendingCaret = useRef<number | null>(null);
  useLayoutEffect(() => {
    const caret = pendingCaret.current;
    if (caret === null || !input.current) return;
    pendingCaret.current = null;
    input.current.focus();
    input.current.setSelectionRange(caret, caret);
  });

  // The applied filter can change from elsewhere (the builder, the URL, back button).
  useEffect(() => {
    setText(filter);
  }, [filter]);

  const suggestions = useMemo(
    () => (open ? suggest(text, cursor, { fields, valuesOf }) : { from: 0, to: 0, items: [] as Suggestion[] }),
    [open, text, cursor, fields, valuesOf],
  );
  const items = suggestions.items;

  const accept = (item: Suggestion) => {
    const next = text.slice(0, suggestions.from) + item.insert + text.slice(suggestions.to).replace(/^ /, "");
    const caret = suggestions.from + item.insert.length;
    setText(next);
    setCursor(caret);
    setActive(0);
    setNavigated(false);
    pendingCaret.current = caret;
  };

  const apply = () => {
    setOpen(false);
    setFilter(text.trim());
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "ArrowDown" && items.length) {
      event.preventDefault();
      setActive((active + 1) % items.length);
      setNavigated(true);
    } else if (event.key === "ArrowUp" && items.length) {
      event.preventDefault();
      setActive((active - 1 + items.length) % items.length);
      setNavigated(true);
    } else if (event.key === "Tab" && items.length && open && text.trim() !== "") {
      event.preventDefault();
      accept(items[Math.min(active, items.length - 1)] as Suggestion);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (navigated && items.length && open) accept(items[Math.min(active, items.length - 1)] as Suggestion);
      else apply();
    } else if (event.key === "Escape") {
      setOpen(false);
    }
  };

  const filterError = error && error.startsWith("filter:") ? error : null;
  const column = filterError ? errorColumn(filterError) : null;
  const applied = [...filter];

  return (
    <div className="rt-filter">
      <div className="rt-filter-row">
        <input
          ref={input}
          className={filterError ? "rt-filter-input invalid" : "rt-filter-input"}
          data-testid="filter-input"
          placeholder='Filter: config.lr > 0.01 and state = "finished"'
          spellCheck={false}
          autoComplete="off"
          value={text}
          aria-invalid={filterError ? true : undefined}
          onChange={(event) => {
            setText(event.target.value);
            setCursor(event.target.selectionStart ?? event.target.value.length);
            setOpen(true);
            setActive(0);
            setNavigated(false);
          }}
          onSelect={(event) => setCursor(event.currentTarget.selectionStart ?? text.length)}
          onFocus={() => setOpen(true)}
          onBlur={() => setOpen(false)}
          onKeyDown={onKeyDown}
        />
        {text !== filter && (
          <button type="button" className="rt-tool" onMouseDown={(event) => event.preventDefault()} onClick={apply} title="Apply (Enter)">
            Apply
          </button>
        )}
        {filter && (
          <button
            type="button"
            className="rt-tool"
            title="Clear the filter"
            data-testid="filter-clear"
            onClick={() => {
              setText("");
              setFilter("");
            }}
          >
            ×
          </button>
        )}
      </div>
      {open && items.length > 0 && (
        <ul className="rt-suggestions" role="listbox" data-testid="filter-suggestions">
          {items.map((item, i) => (
            <li
              key={item.label}
              role="option"
              aria-selected={i === active}
              className={`rt-suggestion ${item.kind} ${i === active ? "active" : ""}`}
              onMouseDown={(event) => {
                event.preventDefault();
                accept(item);
              }}
            >
              <span className="rt-suggestion-label">{item.label}</span>
              <span className="rt-suggestion-kind">{item.kind}</span>
            </li>
          ))}
        </ul>
      )}
      {filterError && (
        <div className="rt-filter-error" data-testid="filter-error" role="alert">
          {column !== null && (
            <pre className="rt-filter-marker" aria-hidden="true">
              {applied.slice(0, column - 1).join("")}
              <mark>{applied[column - 1] ?? " "}</mark>
              {applied.slice(column).join("")}
              {"\n"}
              {" ".repeat(Math.max(0, column - 1))}^
            </pre>
          )}
          <span>{filterError.replace(/^filter:\s*/, "")}</span>
        </div>
      )}
    </div>
  );
}

// Config and summary as a searchable, collapsible key/value tree.
import { useMemo, useState, type ReactNode } from "react";
import type { Json, JsonObject } from "../api";
import { formatValue } from "../fields";
import { isBranch, matchingPaths } from "./trees";

export function KeyValueTree(props: {
  title: string;
  data: JsonObject;
  testid: string;
  hideUnderscore?: boolean;
  /** Starts with its top-level branches folded. */
  collapsedByDefault?: boolean;
}) {
  const { title, data, testid, hideUnderscore = false, collapsedByDefault = false } = props;
  const [search, setSearch] = useState("");
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() =>
    collapsedByDefault ? new Set(Object.keys(data).filter((key) => isBranch(data[key]))) : new Set(),
  );
  const entries = useMemo(() => {
    const shown: JsonObject = {};
    for (const [key, value] of Object.entries(data)) if (!hideUnderscore || !key.startsWith("_")) shown[key] = value;
    return shown;
  }, [data, hideUnderscore]);
  const keep = useMemo(() => matchingPaths(entries, search), [entries, search]);
  const count = Object.keys(entries).length;
  const toggle = (path: string) => {
    const next = new Set(collapsed);
    if (next.has(path)) next.delete(path);
    else next.add(path);
    setCollapsed(next);
  };
  return (
    <section className="card kv" data-testid={testid}>
      <div className="card-head">
        <h3>{title}</h3>
        {count > 0 && (
          <input type="search" placeholder={`Search ${title.toLowerCase()}`} value={search} onChange={(e) => setSearch(e.target.value)} />
        )}
      </div>
      {count === 0 ? (
        <div className="muted">Empty.</div>
      ) : keep && keep.size === 0 ? (
        <div className="muted">No key or value matches “{search}”.</div>
      ) : (
        <table className="kv-table">
          <tbody>
            <Rows object={entries} prefix="" depth={0} keep={keep} collapsed={keep ? new Set() : collapsed} toggle={toggle} query={search.trim()} />
          </tbody>
        </table>
      )}
    </section>
  );
}

function Rows(props: {
  object: { [key: string]: Json } | Json[];
  prefix: string;
  depth: number;
  keep: Set<string> | null;
  collapsed: ReadonlySet<string>;
  toggle: (path: string) => void;
  query: string;
}) {
  const { object, prefix, depth, keep, collapsed, toggle, query } = props;
  const entries = Array.isArray(object) ? object.map((v, i) => [String(i), v] as const) : Object.entries(object).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      {entries.map(([key, value]) => {
        const path = prefix ? `${prefix}.${key}` : key;
        if (keep && !keep.has(path)) return null;
        const branch = isBranch(value) && (Array.isArray(value) ? value.some(isBranch) || value.length > 8 : true);
        if (branch) {
          const open = !collapsed.has(path);
          const size = Array.isArray(value) ? value.length : Object.keys(value).length;
          return (
            <FragmentRows key={path}>
              <tr className="kv-branch" data-path={path}>
                <td colSpan={2} style={{ paddingLeft: 6 + depth * 16 }}>
                  <button className="link tree-toggle" onClick={() => toggle(path)} aria-expanded={open}>
                    {open ? "▾" : "▸"} <Highlight text={key} query={query} />
                  </button>{" "}
                  <span className="muted">{Array.isArray(value) ? `[${size}]` : `{${size}}`}</span>
                </td>
              </tr>
              {open && <Rows object={value as { [key: string]: Json }} prefix={path} depth={depth + 1} keep={keep} collapsed={collapsed} toggle={toggle} query={query} />}
            </FragmentRows>
          );
        }
        return (
          <tr key={path} className="kv-leaf" data-testid="kv-row" data-path={path}>
            <td className="kv-key" style={{ paddingLeft: 6 + depth * 16 + 14 }} title={path}>
              <Highlight text={key} query={query} />
            </td>
            <td className={`kv-value ${typeof value === "number" ? "num" : ""}`}>
              <Highlight text={formatValue(value)} query={query} />
            </td>
          </tr>
        );
      })}
    </>
  );
}

function FragmentRows(props: { children: ReactNode }) {
  return <>{props.children}</>;
}

export function Highlight(props: { text: string; query: string }) {
  const { text, query } = props;
  if (!query) return <>{text}</>;
  const lower = text.toLowerCase();
  const needle = query.toLowerCase();
  const parts: ReactNode[] = [];
  let at = 0;
  for (let hit = lower.indexOf(needle); hit >= 0; hit = lower.indexOf(needle, at)) {
    if (hit > at) parts.push(text.slice(at, hit));
    parts.push(<mark key={hit}>{text.slice(hit, hit + needle.length)}</mark>);
    at = hit + needle.length;
  }
  parts.push(text.slice(at));
  return <>{parts}</>;
}

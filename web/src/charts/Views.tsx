// Named saved views: a view is the page's URL query (filter, sort, grouping, hidden runs,
// workspace) saved on the server; loading one navigates to it.
import { useEffect, useState } from "react";
import { api, ApiError, type JsonObject, type SavedView } from "../api";
import { useProject } from "../project/state";
import { navigate } from "../router";

/** The current query as a view state (the tab is left out: a view opens on the workspace). */
export function currentViewState(): JsonObject {
  const state: JsonObject = {};
  for (const [k, v] of new URLSearchParams(window.location.search)) if (k !== "tab") state[k] = v;
  return state;
}

export function viewQuery(state: JsonObject): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) if (typeof v === "string") params.set(k, v);
  const query = params.toString();
  return query ? `?${query}` : "";
}

export function Views() {
  const { entity, project } = useProject();
  const [views, setViews] = useState<SavedView[]>([]);
  const [current, setCurrent] = useState("");
  const [naming, setNaming] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = () =>
    api.views(entity, project).then(
      (list) => {
        setViews(list);
        setError(null);
      },
      (e: unknown) => setError(e instanceof ApiError && e.status === 404 ? null : String(e instanceof Error ? e.message : e)),
    );
  useEffect(() => {
    void reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [entity, project]);

  const load = (name: string) => {
    setCurrent(name);
    const view = views.find((v) => v.name === name);
    if (view) navigate(window.location.pathname + viewQuery(view.state));
  };
  const save = (name: string) => {
    const trimmed = name.trim();
    if (!trimmed) return;
    api.saveView(entity, project, trimmed, currentViewState()).then(
      () => {
        setNaming(null);
        setCurrent(trimmed);
        void reload();
      },
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
  };
  const remove = () => {
    if (!current || !window.confirm(`Delete the view "${current}"?`)) return;
    api.deleteView(entity, project, current).then(
      () => {
        setCurrent("");
        void reload();
      },
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
  };

  return (
    <span className="views">
      <select aria-label="Saved views" value={current} onChange={(e) => load(e.target.value)}>
        <option value="">Views…</option>
        {views.map((v) => (
          <option key={v.name} value={v.name}>
            {v.name}
          </option>
        ))}
      </select>
      {naming === null ? (
        <button onClick={() => setNaming(current)}>Save view</button>
      ) : (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            save(naming);
          }}
        >
          <input autoFocus aria-label="View name" placeholder="View name" value={naming} onChange={(e) => setNaming(e.target.value)} />
          <button type="submit" className="primary">
            Save
          </button>
          <button type="button" onClick={() => setNaming(null)}>
            Cancel
          </button>
        </form>
      )}
      {current && (
        <button className="link" onClick={remove} title="Delete this view">
          Delete
        </button>
      )}
      {error && <span className="error">{error}</span>}
    </span>
  );
}

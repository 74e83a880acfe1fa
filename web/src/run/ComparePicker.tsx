// "Compare with…": pick other runs of the project to open the comparer with this one.
import { useEffect, useMemo, useState } from "react";
import { api, projectPath, type Run } from "../api";
import { navigate } from "../router";

export function comparePath(entity: string, project: string, ids: string[]): string {
  return `${projectPath(entity, project)}/compare?runs=${ids.map(encodeURIComponent).join(",")}`;
}

export function ComparePicker(props: { run: Run }) {
  const { run } = props;
  const [open, setOpen] = useState(false);
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [search, setSearch] = useState("");
  const [picked, setPicked] = useState<string[]>([]);

  useEffect(() => {
    if (!open || runs) return;
    api.runs(run.entity, run.project, { sort: "-created_at", limit: 1000 }).then(
      (page) => setRuns(page.runs.filter((other) => other.id !== run.id)),
      () => setRuns([]),
    );
  }, [open, runs, run.entity, run.project, run.id]);

  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return (runs ?? []).filter((other) => !needle || other.name.toLowerCase().includes(needle) || other.id.toLowerCase().includes(needle));
  }, [runs, search]);

  const toggle = (id: string) => setPicked((current) => (current.includes(id) ? current.filter((x) => x !== id) : [...current, id]));

  return (
    <div className="picker">
      <button onClick={() => setOpen(!open)} data-testid="compare-with" aria-expanded={open}>
        Compare with…
      </button>
      {open && (
        <div className="picker-pop" role="dialog">
          <input type="search" autoFocus placeholder="Filter runs" value={search} onChange={(e) => setSearch(e.target.value)} />
          <div className="picker-list">
            {!runs && <div className="muted">Loading runs…</div>}
            {runs && runs.length === 0 && <div className="muted">No other runs in this project.</div>}
            {shown.map((other) => (
              <label key={other.id} className="picker-item" data-testid="compare-option" data-run-id={other.id}>
                <input type="checkbox" checked={picked.includes(other.id)} onChange={() => toggle(other.id)} />
                <span className="picker-name">{other.name}</span>
                <span className="muted">{other.id}</span>
              </label>
            ))}
          </div>
          <div className="picker-actions">
            <button onClick={() => setOpen(false)}>Cancel</button>
            <button
              className="primary"
              disabled={!picked.length}
              data-testid="compare-go"
              onClick={() => navigate(comparePath(run.entity, run.project, [run.id, ...picked]))}
            >
              Compare {picked.length + 1} runs
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

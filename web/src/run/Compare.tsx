// The run comparer (`compare?runs=a,b,c`): one column per run, one row per field, with the
// rows where all runs agree hidden by default.
import { Fragment, useEffect, useMemo, useState } from "react";
import { api, ApiError, runPath, subscribeProject, type Run } from "../api";
import { assignColors, loadColors } from "../colors";
import { Crumbs } from "./Crumbs";
import { Link, navigate, useQueryParam } from "../router";
import { comparePath } from "./ComparePicker";
import { compareRows, type CompareRow } from "./compare";
import { StateBadge } from "./RunPage";
import "./run.css";

const SECTION_TITLES: Record<CompareRow["section"], string> = { run: "Run", config: "Config", summary: "Summary" };

export function Compare(props: { entity: string; project: string }) {
  const { entity, project } = props;
  const [runsParam] = useQueryParam("runs");
  const [allParam, setAllParam] = useQueryParam("all");
  const differencesOnly = allParam !== "1";
  const ids = useMemo(
    () => [...new Set((runsParam ?? "").split(",").map((id) => id.trim()).filter(Boolean))],
    [runsParam],
  );
  const [runs, setRuns] = useState<Map<string, Run>>(new Map());
  const [missing, setMissing] = useState<string[]>([]);
  const [loading, setLoading] = useState(true);
  const [search, setSearch] = useState("");

  useEffect(() => {
    let live = true;
    setLoading(true);
    Promise.allSettled(ids.map((id) => api.run(entity, project, id))).then((results) => {
      if (!live) return;
      const found = new Map<string, Run>();
      const lost: string[] = [];
      results.forEach((result, i) => {
        if (result.status === "fulfilled") found.set(ids[i]!, result.value);
        else lost.push(`${ids[i]}${result.reason instanceof ApiError && result.reason.status !== 404 ? ` (${result.reason.message})` : ""}`);
      });
      setRuns(found);
      setMissing(lost);
      setLoading(false);
    });
    return () => {
      live = false;
    };
  }, [entity, project, ids]);

  useEffect(
    () =>
      subscribeProject(
        entity,
        project,
        (event) => {
          if (event.type !== "run") return;
          setRuns((current) => {
            if (!current.has(event.run.id)) return current;
            const next = new Map(current);
            next.set(event.run.id, event.run);
            return next;
          });
        },
        () => undefined,
      ),
    [entity, project],
  );

  const ordered = useMemo(() => ids.map((id) => runs.get(id)).filter((run): run is Run => !!run), [ids, runs]);
  const rows = useMemo(() => compareRows(ordered), [ordered]);
  const needle = search.trim().toLowerCase();
  const shown = rows.filter(
    (row) =>
      (!differencesOnly || row.differs || ordered.length < 2) &&
      (!needle || row.field.toLowerCase().includes(needle) || row.values.some((v) => v.toLowerCase().includes(needle))),
  );
  const differing = rows.filter((row) => row.differs).length;
  const colors = loadColors(entity, project);
  const assigned = assignColors(ordered);
  const setIds = (next: string[]) => navigate(comparePath(entity, project, next) + (differencesOnly ? "" : "&all=1"), true);

  return (
    <div className="compare" data-testid="compare">
      <div className="run-head">
        <Crumbs entity={entity} project={project} tail="compare" />
        <h1 className="run-name">Compare {ordered.length} runs</h1>
      </div>
      <div className="toolbar">
        <label>
          <input
            type="checkbox"
            checked={differencesOnly}
            data-testid="differences-only"
            onChange={(e) => setAllParam(e.target.checked ? null : "1")}
          />{" "}
          Differences only
        </label>
        <span className="muted">
          {differing} of {rows.length} fields differ
        </span>
        <input type="search" placeholder="Search fields and values" value={search} onChange={(e) => setSearch(e.target.value)} />
        <span className="spacer" />
        <AddRun entity={entity} project={project} ids={ids} onAdd={(id) => setIds([...ids, id])} />
      </div>
      {missing.length > 0 && <div className="error">Not found: {missing.join(", ")}</div>}
      {loading && ordered.length === 0 ? (
        <div className="muted">Loading runs…</div>
      ) : ordered.length === 0 ? (
        <div className="empty">No runs to compare. Pick runs in the runs table, or add one above.</div>
      ) : (
        <>
          {ordered.length < 2 && <div className="muted">Add another run to see differences.</div>}
          <div className="compare-table-wrap">
            <table className="compare-table">
              <thead>
                <tr>
                  <th className="field">Field</th>
                  {ordered.map((run) => (
                    <th key={run.id} data-testid="compare-column" data-run-id={run.id}>
                      <div className="compare-head">
                        <span className="run-swatch" style={{ background: colors[run.id] ?? assigned.get(run.id) }} />
                        <Link to={runPath(entity, project, run.id)}>{run.name}</Link>
                        <button
                          className="link"
                          title="Remove from the comparison"
                          onClick={() => setIds(ids.filter((id) => id !== run.id))}
                        >
                          ×
                        </button>
                      </div>
                      <StateBadge run={run} testid="compare-state" />
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {(["run", "config", "summary"] as const).map((section) => {
                  const sectionRows = shown.filter((row) => row.section === section);
                  if (sectionRows.length === 0) return null;
                  return (
                    <Fragment key={section}>
                      <tr className="section">
                        <th colSpan={ordered.length + 1}>{SECTION_TITLES[section]}</th>
                      </tr>
                      {sectionRows.map((row) => (
                        <tr
                          key={row.field}
                          className={row.differs ? "differs" : ""}
                          data-testid="compare-row"
                          data-field={row.field}
                          data-differs={row.differs ? "true" : "false"}
                        >
                          <td className="field" title={row.field}>
                            {row.label}
                          </td>
                          {row.values.map((value, i) => (
                            <td
                              key={ordered[i]!.id}
                              className={`value${row.differs && i > 0 && value !== row.values[0] ? " odd" : ""}${value === "" ? " missing" : ""}`}
                            >
                              {value === "" ? "—" : value}
                            </td>
                          ))}
                        </tr>
                      ))}
                    </Fragment>
                  );
                })}
              </tbody>
            </table>
            {shown.length === 0 && <div className="empty">All compared fields agree.</div>}
          </div>
        </>
      )}
    </div>
  );
}

function AddRun(props: { entity: string; project: string; ids: string[]; onAdd: (id: string) => void }) {
  const { entity, project, ids, onAdd } = props;
  const [runs, setRuns] = useState<Run[] | null>(null);
  useEffect(() => {
    api.runs(entity, project, { sort: "-created_at", limit: 1000 }).then(
      (page) => setRuns(page.runs),
      () => setRuns([]),
    );
  }, [entity, project]);
  const options = (runs ?? []).filter((run) => !ids.includes(run.id));
  return (
    <select
      value=""
      data-testid="compare-add"
      disabled={!options.length}
      onChange={(e) => {
        if (e.target.value) onAdd(e.target.value);
      }}
    >
      <option value="">{runs ? "Add a run…" : "Loading runs…"}</option>
      {options.map((run) => (
        <option key={run.id} value={run.id}>
          {run.name} ({run.id})
        </option>
      ))}
    </select>
  );
}

// Parameter importance: which config parameters explain a target metric across the visible
// runs (computed by the server: permutation importance of a random forest, and correlation).
import { useEffect, useState } from "react";
import { api, ApiError, type ImportanceResponse, type Run } from "../api";
import { FieldSelect } from "./Scatter";
import { numericValue, type FieldInfo } from "./numeric";

/** The server's bound on the runs of one importance query (`MAX_IMPORTANCE_RUNS`). */
const MAX_RUNS = 10_000;

export function Importance(props: {
  entity: string;
  project: string;
  runs: Run[];
  targets: FieldInfo[];
  params: FieldInfo[];
  target: string;
  setTarget: (path: string) => void;
  onPlot: (param: string) => void;
}) {
  const { entity, project, runs, targets, params, target, setTarget, onPlot } = props;
  const [answer, setAnswer] = useState<ImportanceResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const withTarget = target ? runs.filter((run) => numericValue(run, target) !== null) : [];
  const idsKey = withTarget.map((run) => run.id).join(",");
  const enough = withTarget.length >= 2 && params.length > 0;

  useEffect(() => {
    if (!enough) {
      setAnswer(null);
      setError(null);
      return;
    }
    let live = true;
    setLoading(true);
    const timer = window.setTimeout(() => {
      api.importance(entity, project, { runs: idsKey.split(",").slice(0, MAX_RUNS), target }).then(
        (result) => {
          if (!live) return;
          setAnswer(result);
          setError(null);
          setLoading(false);
        },
        (e: unknown) => {
          if (!live) return;
          setAnswer(null);
          setLoading(false);
          if (e instanceof ApiError && e.status === 404 && e.message.startsWith("no such route"))
            setError("This server does not compute parameter importance (update Heron).");
          else setError(e instanceof Error ? e.message : String(e));
        },
      );
    }, 300);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [entity, project, idsKey, target, enough]);

  const sorted = answer ? [...answer.params].sort((a, b) => b.importance - a.importance) : [];
  const maxImportance = Math.max(1e-12, ...sorted.map((p) => p.importance));

  return (
    <section className="card analysis-panel" data-testid="importance">
      <div className="card-head">
        <h3>Parameter importance</h3>
        <label>
          target <FieldSelect fields={targets} value={target} onChange={setTarget} testid="importance-target" />
        </label>
        {loading && <span className="muted">computing…</span>}
      </div>
      {targets.length === 0 ? (
        <div className="empty">No numeric summary metric in the visible runs.</div>
      ) : params.length === 0 ? (
        <div className="empty">The visible runs have no config parameters to rank.</div>
      ) : withTarget.length < 2 ? (
        <div className="empty" data-testid="importance-few">
          Parameter importance needs at least 2 visible runs with {target || "a target"} ({withTarget.length} now).
        </div>
      ) : error ? (
        <div className="error" data-testid="importance-error">
          {error}
        </div>
      ) : answer ? (
        <>
          <div className="muted small">
            {answer.runs_used} runs used for {answer.target}
            {answer.runs_used < 10 ? " — with this few runs, read the ranking as a rough hint." : "."}
          </div>
          <table className="importance-table">
            <thead>
              <tr>
                <th>Parameter</th>
                <th>Importance</th>
                <th>Correlation</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {sorted.map((row) => (
                <tr key={row.param} data-testid="importance-row" data-param={row.param}>
                  <td className="param" title={row.param}>
                    {row.param.replace(/^config\./, "")}
                  </td>
                  <td>
                    <div className="bar-cell">
                      <div className="bar-track">
                        <div className="bar" style={{ width: `${(row.importance / maxImportance) * 100}%` }} />
                      </div>
                      <span className="bar-value">{(row.importance * 100).toFixed(1)}%</span>
                    </div>
                  </td>
                  <td>
                    {row.correlation === null ? (
                      <span className="muted">—</span>
                    ) : (
                      <div className="signed-cell">
                        <div className="signed-track">
                          <div
                            className={row.correlation >= 0 ? "signed positive" : "signed negative"}
                            style={
                              row.correlation >= 0
                                ? { left: "50%", width: `${row.correlation * 50}%` }
                                : { right: "50%", width: `${-row.correlation * 50}%` }
                            }
                          />
                        </div>
                        <span className="bar-value">{row.correlation.toFixed(2)}</span>
                      </div>
                    )}
                  </td>
                  <td>
                    <button className="link small" onClick={() => onPlot(row.param)} title="Scatter this parameter against the target">
                      plot
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : (
        <div className="muted">Computing…</div>
      )}
    </section>
  );
}

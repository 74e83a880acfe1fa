// A project's Storage tab: where its bytes went, per artifact, largest first.
import { useEffect, useMemo, useState } from "react";
import { api, ApiError, type StorageReport } from "../api";
import { Link } from "../router";
import { formatBytes } from "../run/trees";
import { artifactUrl } from "./links";
import "../run/run.css";
import "./artifacts.css";

function Bytes(props: { value: number }) {
  return <span title={`${props.value.toLocaleString()} bytes`}>{formatBytes(props.value)}</span>;
}

export function StorageView(props: { entity: string; project: string }) {
  const { entity, project } = props;
  const [report, setReport] = useState<StorageReport | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    api.storage(entity, project).then(
      (answer) => live && setReport(answer),
      (e: unknown) => live && setError(e instanceof ApiError ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [entity, project]);

  // The server sends them largest first; sorting again keeps that whatever it sends.
  const rows = useMemo(
    () => [...(report?.artifacts ?? [])].sort((a, b) => b.stored_bytes - a.stored_bytes || b.logical_bytes - a.logical_bytes || a.name.localeCompare(b.name)),
    [report],
  );

  if (error) return <div className="empty error">{error}</div>;
  if (!report) return <div className="muted">Loading storage…</div>;
  const largest = Math.max(1, ...rows.map((row) => row.stored_bytes));
  const saved = report.logical_bytes - report.stored_bytes;
  return (
    <div className="storage" data-testid="storage">
      <section className="card storage-totals">
        <div>
          <div className="muted small">Artifacts, as logged</div>
          <div className="big" data-testid="storage-logical">
            <Bytes value={report.logical_bytes} />
          </div>
        </div>
        <div>
          <div className="muted small">Artifacts, stored</div>
          <div className="big" data-testid="storage-stored">
            <Bytes value={report.stored_bytes} />
          </div>
          {saved > 0 && (
            <div className="muted small">
              <Bytes value={saved} /> saved by storing shared files once
            </div>
          )}
        </div>
        <div>
          <div className="muted small">Run files</div>
          <div className="big" data-testid="storage-run-files">
            <Bytes value={report.run_file_bytes} />
          </div>
        </div>
      </section>
      <section className="card">
        <h3>By artifact</h3>
        {rows.length === 0 ? (
          <div className="muted">This project has no artifacts.</div>
        ) : (
          <table className="file-table storage-table">
            <thead>
              <tr>
                <th>Artifact</th>
                <th>Type</th>
                <th className="num">Versions</th>
                <th className="num" title="Every version's size added up">
                  Logical
                </th>
                <th className="num" title="Distinct files, each counted once">
                  Stored
                </th>
                <th className="num" title="Files no other artifact holds: freed if this artifact is deleted">
                  Exclusive
                </th>
                <th className="share-cell" />
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.name} data-testid="storage-row" data-name={row.name}>
                  <td>
                    <Link to={artifactUrl(entity, project, row.name)}>{row.name}</Link>
                  </td>
                  <td className="muted">{row.type}</td>
                  <td className="num">{row.versions}</td>
                  <td className="num">
                    <Bytes value={row.logical_bytes} />
                  </td>
                  <td className="num" data-testid="storage-stored-bytes">
                    <Bytes value={row.stored_bytes} />
                  </td>
                  <td className="num">
                    <Bytes value={row.exclusive_bytes} />
                  </td>
                  <td className="share-cell">
                    <div className="share-bar" style={{ width: `${(100 * row.stored_bytes) / largest}%` }} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

// A project's Artifacts tab: its artifacts grouped by type, with version counts and sizes.
import { useEffect, useMemo, useState } from "react";
import { api, ApiError, type Artifact } from "../api";
import { Link } from "../router";
import { formatTime } from "../run/compare";
import { formatBytes } from "../run/trees";
import { artifactUrl } from "./links";
import { groupByType } from "./versions";
import "../run/run.css";
import "./artifacts.css";

export function ArtifactsTab(props: { entity: string; project: string }) {
  const { entity, project } = props;
  const [artifacts, setArtifacts] = useState<Artifact[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [search, setSearch] = useState("");

  useEffect(() => {
    let live = true;
    api.artifacts(entity, project).then(
      (list) => live && setArtifacts(list),
      (e: unknown) => live && setError(e instanceof ApiError ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [entity, project]);

  const groups = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const shown = (artifacts ?? []).filter(
      (a) => !needle || a.name.toLowerCase().includes(needle) || a.type.toLowerCase().includes(needle),
    );
    return groupByType(shown);
  }, [artifacts, search]);

  if (error) return <div className="empty error">{error}</div>;
  if (!artifacts) return <div className="muted">Loading artifacts…</div>;
  if (artifacts.length === 0)
    return (
      <div className="first-run" data-testid="artifacts-empty">
        <h2>No artifacts yet</h2>
        <p>
          Datasets, models and other files logged as versioned artifacts appear here. A version is logged over the HTTP API in
          three steps (see <code>docs/http-api.md</code>, “Artifacts”):
        </p>
        <pre>
          <code>{`POST /api/v1/projects/${entity}/${project}/blobs/missing      {"blobs": [{"sha256", "size"}]}
PUT  {upload_url}&part=0                                         the file's bytes
POST /api/v1/projects/${entity}/${project}/artifacts/NAME/versions {"type": "dataset", "files": [...], "run": "RUN_ID"}`}</code>
        </pre>
      </div>
    );

  return (
    <div className="artifacts" data-testid="artifacts-list">
      <div className="toolbar">
        <input type="search" placeholder="Search artifacts" value={search} onChange={(e) => setSearch(e.target.value)} />
        <span className="muted">
          {artifacts.length} artifact{artifacts.length === 1 ? "" : "s"}
        </span>
      </div>
      {groups.length === 0 && <div className="muted">No artifact matches “{search}”.</div>}
      {groups.map(([type, list]) => (
        <section key={type} className="card" data-testid="artifact-type" data-type={type}>
          <h3>
            {type} <span className="muted">{list.length}</span>
          </h3>
          <table className="file-table artifact-table">
            <thead>
              <tr>
                <th>Name</th>
                <th className="num">Versions</th>
                <th>Latest</th>
                <th className="num">Size</th>
                <th>Updated</th>
                <th>Description</th>
              </tr>
            </thead>
            <tbody>
              {list.map((artifact) => (
                <tr key={artifact.name} data-testid="artifact-row" data-name={artifact.name}>
                  <td>
                    <Link to={artifactUrl(entity, project, artifact.name)}>{artifact.name}</Link>
                  </td>
                  <td className="num">{artifact.versions}</td>
                  <td>{artifact.latest === null ? "" : `v${artifact.latest}`}</td>
                  <td className="num" title={`${artifact.size.toLocaleString()} bytes`}>
                    {formatBytes(artifact.size)}
                  </td>
                  <td className="muted">{formatTime(artifact.updated_at)}</td>
                  <td className="muted">{artifact.description ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}

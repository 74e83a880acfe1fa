// The run page's Artifacts tab: the versions the run produced and used, and its lineage.
import { useEffect, useState } from "react";
import { api, ApiError, type ArtifactVersion, type Run, type RunArtifacts } from "../api";
import { Link } from "../router";
import { formatTime } from "../run/compare";
import { formatBytes } from "../run/trees";
import { Aliases } from "./ArtifactPage";
import { LineageView } from "./LineageGraph";
import { artifactUrl } from "./links";
import "./artifacts.css";

export function RunArtifactsView(props: { run: Run }) {
  const { run } = props;
  const [lists, setLists] = useState<RunArtifacts | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    api.runArtifacts(run.entity, run.project, run.id).then(
      (answer) => live && setLists(answer),
      (e: unknown) => live && setError(e instanceof ApiError ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [run.entity, run.project, run.id]);

  return (
    <div className="run-artifacts">
      {error && <div className="error">{error}</div>}
      {!lists && !error && <div className="muted">Loading artifacts…</div>}
      {lists && (
        <div className="run-artifact-lists">
          <VersionList title="Produced" versions={lists.produced} testid="run-produced" none="This run has logged no artifact versions." />
          <VersionList title="Used" versions={lists.used} testid="run-used" none="This run has used no artifact versions." />
        </div>
      )}
      <LineageView source={{ kind: "run", entity: run.entity, project: run.project, run: run.id }} />
    </div>
  );
}

function VersionList(props: { title: string; versions: ArtifactVersion[]; testid: string; none: string }) {
  const { title, versions, testid, none } = props;
  return (
    <section className="card" data-testid={testid}>
      <h3>
        {title} <span className="muted">{versions.length}</span>
      </h3>
      {versions.length === 0 ? (
        <div className="muted">{none}</div>
      ) : (
        <table className="file-table">
          <thead>
            <tr>
              <th>Artifact</th>
              <th>Type</th>
              <th>Aliases</th>
              <th className="num">Size</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={`${v.entity}/${v.project}/${v.name}:${v.version}`} data-testid="run-artifact" data-ref={`${v.name}:${v.version}`}>
                <td>
                  <Link to={artifactUrl(v.entity, v.project, v.name, v.version)}>
                    {v.name}:{v.version}
                  </Link>
                </td>
                <td className="muted">{v.type}</td>
                <td>
                  <Aliases aliases={v.aliases} />
                </td>
                <td className="num">{formatBytes(v.size)}</td>
                <td className="muted">{formatTime(v.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

// One artifact: its versions (aliases, sizes, producing runs) and the selected version's
// overview, files, users and lineage.
import { useEffect, useMemo, useState, type FormEvent, type ReactNode } from "react";
import { api, ApiError, type Artifact, type ArtifactVersion, type Lineage, type RegisteredModel } from "../api";
import { Link, navigate, useQueryParam } from "../router";
import { KeyValueTree } from "../run/KeyValueTree";
import { formatTime } from "../run/compare";
import { formatBytes } from "../run/trees";
import { InfoCard } from "../run/InfoCard";
import { LineageView } from "./LineageGraph";
import { VersionFiles } from "./VersionFiles";
import { artifactUrl, modelUrl, projectUrl, runUrl, versionNodeId, type VersionTab } from "./links";
import { expiry, findVersion } from "./versions";
import "../run/run.css";
import "./artifacts.css";

const TABS: readonly VersionTab[] = ["overview", "files", "used", "lineage"];
const TAB_NAMES: Record<VersionTab, string> = { overview: "Overview", files: "Files", used: "Used by", lineage: "Lineage" };

export function ArtifactPage(props: { entity: string; project: string; name: string; version: string | null }) {
  const { entity, project, name } = props;
  const [artifact, setArtifact] = useState<Artifact | null>(null);
  const [versions, setVersions] = useState<ArtifactVersion[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Bumped after an alias changes: re-read the versions.
  const [tick, setTick] = useState(0);
  const [tabParam] = useQueryParam("tab");
  const tab: VersionTab = (TABS as readonly string[]).includes(tabParam ?? "") ? (tabParam as VersionTab) : "overview";

  useEffect(() => {
    let live = true;
    Promise.all([api.artifact(entity, project, name), api.artifactVersions(entity, project, name)]).then(
      ([loaded, list]) => {
        if (!live) return;
        setArtifact(loaded);
        setVersions(list);
      },
      (e: unknown) => {
        if (!live) return;
        setError(e instanceof ApiError && e.status === 404 ? `Artifact ${name} not found in ${entity}/${project}.` : String(e instanceof Error ? e.message : e));
      },
    );
    return () => {
      live = false;
    };
  }, [entity, project, name, tick]);

  useEffect(() => {
    document.title = `${name} · ${project} · Heron`;
  }, [name, project]);

  const selected = useMemo(() => {
    if (!versions || versions.length === 0) return null;
    if (props.version) return findVersion(versions, props.version);
    return findVersion(versions, "latest") ?? versions[0]!;
  }, [versions, props.version]);

  const crumbs = (
    <div className="crumbs">
      <Link to={projectUrl(entity, project)}>
        {entity} / {project}
      </Link>{" "}
      / <Link to={projectUrl(entity, project, "artifacts")}>artifacts</Link> / {name}
    </div>
  );

  if (error)
    return (
      <div className="artifact-page" data-testid="artifact-page">
        {crumbs}
        <div className="empty error">{error}</div>
      </div>
    );
  if (!artifact || !versions)
    return (
      <div className="artifact-page" data-testid="artifact-page">
        {crumbs}
        <div className="muted">Loading artifact…</div>
      </div>
    );

  return (
    <div className="artifact-page" data-testid="artifact-page">
      <div className="run-head">
        {crumbs}
        <div className="run-title">
          <h1 className="run-name">{artifact.name}</h1>
          <span className="type-chip" data-testid="artifact-type">
            {artifact.type}
          </span>
          <span className="muted">
            {artifact.versions} version{artifact.versions === 1 ? "" : "s"} · {formatBytes(artifact.size)}
          </span>
        </div>
        {artifact.description && <p className="muted artifact-description">{artifact.description}</p>}
      </div>
      <VersionsTable artifact={artifact} versions={versions} selected={selected?.version ?? null} tab={tab} />
      {props.version && !selected && <div className="error">No version or alias “{props.version}” in {name}.</div>}
      {selected && (
        <section className="version-view" data-testid="version-view" data-version={selected.version}>
          <div className="version-head">
            <h2>
              {name}:{selected.version}
            </h2>
            <Aliases aliases={selected.aliases} />
            <span className="spacer" />
            <DeleteVersion
              version={selected}
              onDeleted={() => {
                navigate(artifactUrl(entity, project, name));
                setTick((t) => t + 1);
              }}
            />
          </div>
          <nav className="tabs" role="tablist">
            {TABS.map((t) => (
              <button
                key={t}
                role="tab"
                aria-selected={tab === t}
                className={tab === t ? "tab active" : "tab"}
                data-testid={`version-tab-${t}`}
                onClick={() => navigate(artifactUrl(entity, project, name, props.version ?? undefined, t), true)}
              >
                {TAB_NAMES[t]}
              </button>
            ))}
          </nav>
          <div className="version-body">
            {tab === "overview" && <VersionOverview version={selected} onChanged={() => setTick((t) => t + 1)} />}
            {tab === "files" && <VersionFiles version={selected} />}
            {tab === "used" && <UsedBy version={selected} />}
            {tab === "lineage" && (
              <LineageView source={{ kind: "version", entity, project, name, version: selected.version }} />
            )}
          </div>
        </section>
      )}
    </div>
  );
}

export function Aliases(props: { aliases: readonly string[] }) {
  return (
    <span className="aliases">
      {props.aliases.map((alias) => (
        <span key={alias} className={alias === "latest" ? "alias-chip latest" : "alias-chip"} data-testid="alias" data-alias={alias}>
          {alias}
        </span>
      ))}
    </span>
  );
}

function VersionsTable(props: { artifact: Artifact; versions: ArtifactVersion[]; selected: string | null; tab: VersionTab }) {
  const { artifact, versions, selected, tab } = props;
  if (versions.length === 0) return <div className="muted">This artifact has no versions left.</div>;
  return (
    <section className="card versions-card">
      <h3>Versions</h3>
      <div className="versions-scroll">
        <table className="file-table versions-table" data-testid="versions">
          <thead>
            <tr>
              <th>Version</th>
              <th>Aliases</th>
              <th>Created</th>
              <th className="num">Size</th>
              <th className="num">Files</th>
              <th>Produced by</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => {
              const to = artifactUrl(artifact.entity, artifact.project, artifact.name, v.version, tab);
              return (
                <tr
                  key={v.version}
                  className={v.version === selected ? "selected" : undefined}
                  data-testid="version-row"
                  data-version={v.version}
                  onClick={(event) => {
                    // A click on a link in the row (the run) goes there instead.
                    if ((event.target as HTMLElement).closest("a")) return;
                    navigate(to);
                  }}
                >
                  <td>
                    <Link to={to}>{v.version}</Link>
                  </td>
                  <td>
                    <Aliases aliases={v.aliases} />
                  </td>
                  <td className="muted">{formatTime(v.created_at)}</td>
                  <td className="num" title={`${v.size.toLocaleString()} bytes`}>
                    {formatBytes(v.size)}
                  </td>
                  <td className="num">{v.file_count}</td>
                  <td>{v.run ? <Link to={runUrl(v.entity, v.project, v.run)}>{v.run}</Link> : <span className="muted">—</span>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function VersionOverview(props: { version: ArtifactVersion; onChanged: () => void }) {
  const { version, onChanged } = props;
  const rows: [string, ReactNode][] = [
    ["Version", `${version.version} (index ${version.index})`],
    ["Type", version.type],
    ["Aliases", <AliasEditor version={version} onChanged={onChanged} />],
    ["Created", formatTime(version.created_at)],
    ["Created by", version.created_by],
    [
      "Produced by",
      version.run ? (
        <Link to={runUrl(version.entity, version.project, version.run)} data-testid="producing-run">
          {version.run}
        </Link>
      ) : (
        <span className="muted">no run</span>
      ),
    ],
    ["Size", <span title={`${version.size.toLocaleString()} bytes`}>{formatBytes(version.size)}</span>],
    ["Files", String(version.file_count)],
    ["Digest", <code className="digest" data-testid="version-digest">{version.digest}</code>],
    ["TTL", <span data-testid="version-ttl">{expiry(version)}</span>],
  ];
  return (
    <div className="overview">
      <div>
        <InfoCard title="Version" rows={rows} />
        <LinkToRegistry version={version} />
      </div>
      <div>
        <section className="card">
          <h3>Description</h3>
          {version.description ? (
            <p className="description" data-testid="version-description">
              {version.description}
            </p>
          ) : (
            <div className="muted">No description.</div>
          )}
        </section>
        <KeyValueTree key={version.version} title="Metadata" data={version.metadata ?? {}} testid="version-metadata" />
      </div>
    </div>
  );
}

/**
 * Deletes the version after a confirmation; its files are freed by the server's garbage
 * collection once no version holds them. A version linked in the registry is refused, and the
 * server's reason is shown.
 */
function DeleteVersion(props: { version: ArtifactVersion; onDeleted: () => void }) {
  const { version, onDeleted } = props;
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setError(null), [version.version]);
  const remove = async () => {
    if (!window.confirm(`Delete ${version.name}:${version.version}? Its files are freed once no other version holds them.`)) return;
    setError(null);
    try {
      await api.deleteArtifactVersion(version.entity, version.project, version.name, version.version);
      onDeleted();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <span className="delete-version">
      <button className="link danger" data-testid="delete-version" onClick={() => void remove()}>
        Delete version
      </button>
      {error && (
        <span className="error small" data-testid="delete-version-error">
          {error}
        </span>
      )}
    </span>
  );
}

/**
 * The version's aliases, each but `latest` (which the server moves) removable, and a box that
 * puts another on it (moving it from the version that had it).
 */
function AliasEditor(props: { version: ArtifactVersion; onChanged: () => void }) {
  const { version, onChanged } = props;
  const [draft, setDraft] = useState("");
  const [error, setError] = useState<string | null>(null);
  const run = async (change: () => Promise<unknown>) => {
    setError(null);
    try {
      await change();
      setDraft("");
      onChanged();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  const add = (event: FormEvent) => {
    event.preventDefault();
    const alias = draft.trim();
    if (alias) void run(() => api.setArtifactAlias(version.entity, version.project, version.name, alias, version.version));
  };
  return (
    <div className="alias-editor">
      <span className="aliases" data-testid="version-aliases">
        {version.aliases.map((alias) => (
          <span key={alias} className={alias === "latest" ? "alias-chip latest" : "alias-chip"} data-testid="alias" data-alias={alias}>
            {alias}
            {alias !== "latest" && (
              <button
                className="link chip-remove"
                title={`Remove alias ${alias}`}
                aria-label={`Remove alias ${alias}`}
                onClick={() => void run(() => api.removeArtifactAlias(version.entity, version.project, version.name, alias))}
              >
                ×
              </button>
            )}
          </span>
        ))}
      </span>
      <form className="alias-add" onSubmit={add}>
        <input placeholder="add alias" value={draft} onChange={(e) => setDraft(e.target.value)} data-testid="artifact-alias-input" />
      </form>
      {error && <div className="error small">{error}</div>}
    </div>
  );
}

/** Links the version into a registered model of its entity, creating the model if it is new. */
function LinkToRegistry(props: { version: ArtifactVersion }) {
  const { version } = props;
  const [models, setModels] = useState<RegisteredModel[]>([]);
  const [model, setModel] = useState("");
  const [aliases, setAliases] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string; model?: string } | null>(null);

  useEffect(() => {
    let live = true;
    api.models(version.entity).then(
      (list) => live && setModels(list),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [version.entity]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const target = model.trim();
    if (!target) return;
    setBusy(true);
    setMessage(null);
    try {
      if (!models.some((m) => m.name === target)) await api.createModel(version.entity, target);
      const linked = await api.linkModelVersion(
        version.entity,
        target,
        `${version.entity}/${version.project}/${version.name}:${version.version}`,
        aliases.split(/[\s,]+/).filter(Boolean),
      );
      setMessage({ ok: true, text: `Linked as ${target}:${linked.version}.`, model: target });
      setModel("");
      setAliases("");
      api.models(version.entity).then(setModels, () => undefined);
    } catch (e) {
      setMessage({ ok: false, text: e instanceof ApiError ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  };

  const listId = `models-${version.entity}`;
  return (
    <section className="card">
      <h3>Model registry</h3>
      <form className="inline-form fill" onSubmit={submit} data-testid="link-to-registry">
        <input
          list={listId}
          placeholder="Registered model (new or existing)"
          value={model}
          onChange={(e) => setModel(e.target.value)}
          required
          data-testid="link-model"
        />
        <datalist id={listId}>
          {models.map((m) => (
            <option key={m.name} value={m.name} />
          ))}
        </datalist>
        <input placeholder="Aliases (staging, …)" value={aliases} onChange={(e) => setAliases(e.target.value)} data-testid="link-aliases" />
        <button type="submit" disabled={busy} data-testid="link-submit">
          {busy ? "Linking…" : "Link version"}
        </button>
      </form>
      {message && (
        <p className={message.ok ? "ok" : "error"} role="status" data-testid="link-message">
          {message.text} {message.model && <Link to={modelUrl(version.entity, message.model)}>Open the model</Link>}
        </p>
      )}
    </section>
  );
}

/** The runs that used the version and the one that produced it (the lineage one step out). */
function UsedBy(props: { version: ArtifactVersion }) {
  const { version } = props;
  const [lineage, setLineage] = useState<Lineage | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    api.versionLineage(version.entity, version.project, version.name, version.version, "both", 1).then(
      (answer) => live && setLineage(answer),
      (e: unknown) => live && setError(e instanceof ApiError ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [version.entity, version.project, version.name, version.version]);

  if (error) return <div className="error">{error}</div>;
  if (!lineage) return <div className="muted">Loading…</div>;
  const self = lineage.root || versionNodeId(version.entity, version.project, version.name, version.version);
  const nodes = new Map(lineage.nodes.map((node) => [node.id, node]));
  const users = lineage.edges.filter((e) => e.from === self).map((e) => nodes.get(e.to)).filter((n) => n?.kind === "run");
  const producers = lineage.edges.filter((e) => e.to === self).map((e) => nodes.get(e.from)).filter((n) => n?.kind === "run");
  const runTable = (list: typeof users, testid: string, none: string) =>
    list.length === 0 ? (
      <div className="muted">{none}</div>
    ) : (
      <table className="file-table" data-testid={testid}>
        <thead>
          <tr>
            <th>Run</th>
            <th>Project</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {list.map((node) => (
            <tr key={node!.id} data-testid="run-row" data-run={node!.name}>
              <td>
                <Link to={runUrl(node!.entity, node!.project, node!.name)}>{node!.name}</Link>
              </td>
              <td className="muted">
                {node!.entity}/{node!.project}
              </td>
              <td>
                <span className={`state-badge state-${node!.detail}`}>{node!.detail}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  return (
    <div className="used-by">
      <section className="card">
        <h3>Used by</h3>
        {runTable(users, "used-by-runs", "No run has used this version yet.")}
      </section>
      <section className="card">
        <h3>Produced by</h3>
        {runTable(producers, "producing-runs", "No run is recorded as producing this version.")}
      </section>
    </div>
  );
}

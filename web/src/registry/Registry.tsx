// The model registry of an entity: its registered models, and a page per model with its
// versions (each linking an artifact version), its aliases, and its audit trail.
import { useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import { api, ApiError, type AuditEntry, type ModelVersion, type RegisteredModel } from "../api";
import { Aliases } from "../artifacts/ArtifactPage";
import { artifactUrl, modelUrl, parseArtifactRef, registryUrl } from "../artifacts/links";
import { modelAliases } from "../artifacts/versions";
import { Link, navigate } from "../router";
import { formatTime } from "../run/compare";
import "../run/run.css";
import "../artifacts/artifacts.css";

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : String(e instanceof Error ? e.message : e);
}

export function RegistryPage(props: { entity: string }) {
  const { entity } = props;
  const [models, setModels] = useState<RegisteredModel[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [formError, setFormError] = useState<string | null>(null);

  useEffect(() => {
    document.title = `Registry · ${entity} · Heron`;
    let live = true;
    api.models(entity).then(
      (list) => live && setModels([...list].sort((a, b) => a.name.localeCompare(b.name))),
      (e: unknown) => live && setError(message(e)),
    );
    return () => {
      live = false;
    };
  }, [entity]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setFormError(null);
    try {
      const model = await api.createModel(entity, name.trim(), description.trim());
      navigate(modelUrl(entity, model.name));
    } catch (e) {
      setFormError(message(e));
    }
  };

  return (
    <div className="registry" data-testid="registry">
      <div className="crumbs">
        <Link to="/">Projects</Link> / {entity}
      </div>
      <h1 className="run-name">Model registry</h1>
      <p className="muted">
        Registered models of <b>{entity}</b>. Each version of a model links an artifact version; aliases such as{" "}
        <code>production</code> point at one version and move.
      </p>
      {error && <div className="error">{error}</div>}
      {!models && !error && <div className="muted">Loading models…</div>}
      {models && models.length === 0 && <div className="muted">No registered models yet. Create one below, or link an artifact version from its page.</div>}
      {models && models.length > 0 && (
        <table className="file-table registry-table" data-testid="models">
          <thead>
            <tr>
              <th>Model</th>
              <th>Description</th>
              <th className="num">Versions</th>
              <th>Aliases</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {models.map((model) => (
              <tr key={model.name} data-testid="model-row" data-model={model.name}>
                <td>
                  <Link to={modelUrl(entity, model.name)}>{model.name}</Link>
                </td>
                <td className="muted">{model.description ?? ""}</td>
                <td className="num">{model.versions.length}</td>
                <td>
                  <Aliases aliases={modelAliases(model).map(([alias, version]) => `${alias}: ${version}`)} />
                </td>
                <td className="muted">{formatTime(model.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="inline-form card" onSubmit={create} data-testid="new-model">
        <b>New model</b>
        <input placeholder="Name" value={name} onChange={(e) => setName(e.target.value)} required data-testid="new-model-name" />
        <input placeholder="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
        <button type="submit">Create</button>
        {formError && <span className="error">{formError}</span>}
      </form>
    </div>
  );
}

export function ModelPage(props: { entity: string; model: string }) {
  const { entity } = props;
  const [model, setModel] = useState<RegisteredModel | null>(null);
  const [audit, setAudit] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    document.title = `${props.model} · Registry · Heron`;
    let live = true;
    Promise.all([api.model(entity, props.model), api.modelAudit(entity, props.model)]).then(
      ([loaded, trail]) => {
        if (!live) return;
        setModel(loaded);
        setAudit(trail);
        setError(null);
      },
      (e: unknown) => {
        if (!live) return;
        setError(e instanceof ApiError && e.status === 404 ? `No registered model ${props.model} in ${entity}.` : message(e));
      },
    );
    return () => {
      live = false;
    };
  }, [entity, props.model, tick]);

  /** Runs a change, then re-reads the model and its audit trail. */
  const act = async (change: () => Promise<unknown>): Promise<boolean> => {
    setActionError(null);
    try {
      await change();
      return true;
    } catch (e) {
      setActionError(message(e));
      return false;
    } finally {
      reload();
    }
  };

  const crumbs = (
    <div className="crumbs">
      <Link to="/">Projects</Link> / <Link to={registryUrl(entity)}>{entity} registry</Link> / {props.model}
    </div>
  );
  if (error)
    return (
      <div className="model-page" data-testid="model-page">
        {crumbs}
        <div className="empty error">{error}</div>
      </div>
    );
  if (!model || !audit)
    return (
      <div className="model-page" data-testid="model-page">
        {crumbs}
        <div className="muted">Loading model…</div>
      </div>
    );

  const versions = [...model.versions].sort((a, b) => b.index - a.index);
  return (
    <div className="model-page" data-testid="model-page">
      <div className="run-head">
        {crumbs}
        <div className="run-title">
          <h1 className="run-name">{model.name}</h1>
          <span className="type-chip">registered model</span>
          <span className="muted">
            {model.versions.length} version{model.versions.length === 1 ? "" : "s"}
          </span>
        </div>
        {model.description && <p className="muted">{model.description}</p>}
      </div>
      {actionError && (
        <div className="error" role="alert" data-testid="model-error">
          {actionError}
        </div>
      )}
      <section className="card">
        <h3>Versions</h3>
        {versions.length === 0 ? (
          <div className="muted">No versions linked yet. Link an artifact version below or from its page.</div>
        ) : (
          <table className="file-table" data-testid="model-versions">
            <thead>
              <tr>
                <th>Version</th>
                <th>Artifact</th>
                <th>Aliases</th>
                <th>Linked by</th>
                <th>Linked at</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {versions.map((version) => (
                <tr key={version.version} data-testid="model-version" data-version={version.version}>
                  <td>{version.version}</td>
                  <td>
                    <ArtifactRefLink reference={version.artifact} />
                  </td>
                  <td>
                    <span className="aliases">
                      {version.aliases.map((alias) => (
                        <span key={alias} className="alias-chip" data-testid="alias" data-alias={alias}>
                          {alias}
                          <button
                            className="link chip-remove"
                            title={`Remove alias ${alias}`}
                            aria-label={`Remove alias ${alias}`}
                            onClick={() => act(() => api.removeModelAlias(entity, model.name, alias))}
                            data-testid="alias-remove"
                          >
                            ×
                          </button>
                        </span>
                      ))}
                    </span>
                  </td>
                  <td>{version.linked_by}</td>
                  <td className="muted">{formatTime(version.linked_at)}</td>
                  <td>
                    <button
                      className="link danger"
                      onClick={() => {
                        if (window.confirm(`Unlink ${model.name}:${version.version} (${version.artifact})? The artifact version itself is kept.`))
                          void act(() => api.unlinkModelVersion(entity, model.name, version.version));
                      }}
                      data-testid="unlink"
                    >
                      Unlink
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <div className="model-forms">
        <AliasForm model={model} versions={versions} act={act} />
        <LinkForm model={model} act={act} />
      </div>
      <AuditTrail entries={audit} />
    </div>
  );
}

function ArtifactRefLink(props: { reference: string }) {
  const ref = parseArtifactRef(props.reference);
  if (!ref) return <code>{props.reference}</code>;
  return (
    <Link to={artifactUrl(ref.entity, ref.project, ref.name, ref.version)} data-testid="model-artifact">
      {ref.project}/{ref.name}:{ref.version}
    </Link>
  );
}

function AliasForm(props: { model: RegisteredModel; versions: ModelVersion[]; act: (change: () => Promise<unknown>) => Promise<boolean> }) {
  const { model, versions, act } = props;
  const [alias, setAlias] = useState("");
  const [version, setVersion] = useState("");
  const current = useMemo(() => new Map(modelAliases(model)), [model]);
  const target = version || versions[0]?.version || "";
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const name = alias.trim();
    if (!name || !target) return;
    if (await act(() => api.setModelAlias(model.entity, model.name, name, target))) setAlias("");
  };
  const from = current.get(alias.trim());
  return (
    <section className="card">
      <h3>Set or move an alias</h3>
      <form className="inline-form" onSubmit={submit} data-testid="alias-form">
        <input
          placeholder="Alias (production, staging, …)"
          list={`aliases-${model.name}`}
          value={alias}
          onChange={(e) => setAlias(e.target.value)}
          required
          data-testid="alias-name"
        />
        <datalist id={`aliases-${model.name}`}>
          {[...current.keys()].map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <span className="muted">→</span>
        <select value={target} onChange={(e) => setVersion(e.target.value)} disabled={versions.length === 0} data-testid="alias-version">
          {versions.map((v) => (
            <option key={v.version} value={v.version}>
              {v.version} ({v.artifact})
            </option>
          ))}
        </select>
        <button type="submit" disabled={versions.length === 0} data-testid="alias-submit">
          {from ? "Move" : "Set"}
        </button>
      </form>
      {from && from !== target && (
        <div className="muted small">
          Moves <b>{alias.trim()}</b> from {from} to {target}.
        </div>
      )}
    </section>
  );
}

function LinkForm(props: { model: RegisteredModel; act: (change: () => Promise<unknown>) => Promise<boolean> }) {
  const { model, act } = props;
  const [artifact, setArtifact] = useState("");
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const ref = artifact.trim();
    if (!ref) return;
    if (await act(() => api.linkModelVersion(model.entity, model.name, ref))) setArtifact("");
  };
  return (
    <section className="card">
      <h3>Link an artifact version</h3>
      <form className="inline-form" onSubmit={submit} data-testid="link-form">
        <input
          placeholder="project/name:v3 or entity/project/name:alias"
          value={artifact}
          onChange={(e) => setArtifact(e.target.value)}
          required
          className="wide"
          data-testid="link-artifact"
        />
        <button type="submit">Link</button>
      </form>
    </section>
  );
}

const ACTIONS: Record<string, string> = {
  create: "created",
  link: "linked",
  unlink: "unlinked",
  alias_set: "set alias",
  alias_remove: "removed alias",
  delete: "deleted",
};

function AuditTrail(props: { entries: AuditEntry[] }) {
  // The server answers oldest first; the newest change is what one looks for.
  const entries = [...props.entries].reverse();
  return (
    <section className="card">
      <h3>
        Audit trail
      </h3>
      {entries.length === 0 ? (
        <div className="muted">No changes recorded.</div>
      ) : (
        <table className="file-table" data-testid="audit">
          <thead>
            <tr>
              <th>Time</th>
              <th>User</th>
              <th>Action</th>
              <th>Version</th>
              <th>Alias</th>
              <th>Previous version</th>
              <th>Artifact</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry, i) => (
              <tr key={`${entry.at}-${i}`} data-testid="audit-row" data-action={entry.action}>
                <td className="muted">{formatTime(entry.at)}</td>
                <td>{entry.user}</td>
                <td>
                  <span className={`audit-action action-${entry.action}`}>{ACTIONS[entry.action] ?? entry.action}</span>
                </td>
                <td data-testid="audit-version">{entry.version ?? ""}</td>
                <td data-testid="audit-alias">{entry.alias ?? ""}</td>
                <td data-testid="audit-previous">{entry.previous_version ?? ""}</td>
                <td>{entry.artifact ? <ArtifactRefLink reference={entry.artifact} /> : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

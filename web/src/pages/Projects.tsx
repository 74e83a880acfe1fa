// The projects of every entity the viewer belongs to, and the viewer's account (password).
import { useEffect, useState, type FormEvent } from "react";
import { api, ApiError, projectPath, type Project, type Viewer } from "../api";
import { registryUrl } from "../artifacts/links";
import { Link } from "../router";
import "./pages.css";

type EntityProjects = { entity: string; projects: Project[] | null; error: string | null };

const FIRST_RUN = `python -c "import heron; run = heron.init(project='quickstart'); run.log({'loss': 1.0}); run.finish()"`;

export function Projects(props: { viewer: Viewer | null }) {
  const { viewer } = props;
  const [lists, setLists] = useState<EntityProjects[]>([]);

  useEffect(() => {
    if (!viewer) return;
    let live = true;
    setLists(viewer.entities.map((entity) => ({ entity, projects: null, error: null })));
    for (const entity of viewer.entities) {
      api.projects(entity).then(
        (projects) => {
          if (live) setLists((current) => current.map((l) => (l.entity === entity ? { ...l, projects } : l)));
        },
        (e: unknown) => {
          const error = e instanceof ApiError ? e.message : String(e);
          if (live) setLists((current) => current.map((l) => (l.entity === entity ? { ...l, error } : l)));
        },
      );
    }
    return () => {
      live = false;
    };
  }, [viewer]);

  if (!viewer) return <div className="empty">Loading…</div>;

  const loaded = lists.every((l) => l.projects !== null || l.error !== null);
  const none = loaded && lists.every((l) => (l.projects ?? []).length === 0) && lists.every((l) => l.error === null);

  return (
    <div className="projects">
      <h1>Projects</h1>
      {none ? (
        <FirstRun />
      ) : (
        lists.map((list) => (
          <section key={list.entity} className="entity" data-testid="entity-projects" data-entity={list.entity}>
            <div className="entity-head">
              {(viewer.entities.length > 1 || list.entity !== viewer.name) && <h2>{list.entity}</h2>}
              <Link to={registryUrl(list.entity)} className="registry-link" data-testid="registry-link">
                Model registry
              </Link>
            </div>
            {list.error && <p className="error">{list.error}</p>}
            {list.projects === null && !list.error && <p className="muted">Loading…</p>}
            {list.projects && list.projects.length === 0 && <p className="muted">No projects yet.</p>}
            {list.projects && list.projects.length > 0 && (
              <table className="project-list">
                <thead>
                  <tr>
                    <th>Project</th>
                    <th>Description</th>
                    <th className="num">Runs</th>
                    <th>Created</th>
                  </tr>
                </thead>
                <tbody>
                  {list.projects.map((project) => (
                    <tr key={project.name} data-testid="project-row" data-project={`${project.entity}/${project.name}`}>
                      <td>
                        <Link to={projectPath(project.entity, project.name)}>{project.name}</Link>
                      </td>
                      <td className="muted">{project.description}</td>
                      <td className="num">{project.run_count}</td>
                      <td title={project.created_at}>{new Date(project.created_at).toLocaleDateString()}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        ))
      )}
      <Account viewer={viewer} />
    </div>
  );
}

function FirstRun() {
  return (
    <div className="first-run" data-testid="projects-empty">
      <h2>No projects yet</h2>
      <p>A project appears with its first run. Log one from Python with the Heron SDK:</p>
      <pre>
        <code>{FIRST_RUN}</code>
      </pre>
      <p className="muted">
        The SDK finds this server and your key in the credentials file that <code>heron login --host {window.location.origin}</code>{" "}
        writes (or set <code>HERON_BASE_URL={window.location.origin}</code> and <code>HERON_API_KEY</code>). Reload this page once it
        has run.
      </p>
    </div>
  );
}

function Account(props: { viewer: Viewer }) {
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (password !== repeat) {
      setMessage({ ok: false, text: "The two passwords differ." });
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      await api.setPassword(password);
      setMessage({ ok: true, text: `Password set: sign in as "${props.viewer.name}" with it from now on.` });
      setPassword("");
      setRepeat("");
    } catch (e) {
      setMessage({ ok: false, text: e instanceof ApiError ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="account">
      <h2>Account</h2>
      <p className="muted">
        Signed in as <b>{props.viewer.name}</b>
        {props.viewer.admin ? " (admin)" : ""}.
      </p>
      <form className="password-form" onSubmit={submit} data-testid="set-password">
        <h3>Set password</h3>
        <input type="text" name="username" autoComplete="username" value={props.viewer.name} readOnly hidden />
        <label>
          New password
          <input
            type="password"
            autoComplete="new-password"
            value={password}
            required
            onChange={(event) => setPassword(event.target.value)}
            data-testid="new-password"
          />
        </label>
        <label>
          Repeat
          <input
            type="password"
            autoComplete="new-password"
            value={repeat}
            required
            onChange={(event) => setRepeat(event.target.value)}
            data-testid="repeat-password"
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : "Set password"}
        </button>
        {message && (
          <p className={message.ok ? "ok" : "error"} role="status" data-testid="password-message">
            {message.text}
          </p>
        )}
      </form>
    </section>
  );
}

// One run: overview (state, timing, host, git, command, config, summary, editable name, tags
// and notes), its charts, system metrics, console and files. Follows the run live through the
// project's event stream.
import { useEffect, useRef, useState, type ReactNode } from "react";
import { InfoCard } from "./InfoCard";
import { api, ApiError, projectPath, subscribeProject, type Json, type Run, type RunPatch } from "../api";
import { defaultColor, loadColors } from "../colors";
import { fieldValue, formatValue } from "../fields";
import { Crumbs } from "./Crumbs";
import { Link, useQueryParam } from "../router";
import { RunArtifactsView } from "../artifacts/RunArtifacts";
import { ComparePicker } from "./ComparePicker";
import { ConsoleView } from "./ConsoleView";
import { FilesView } from "./FilesView";
import { KeyValueTree } from "./KeyValueTree";
import { RunCharts } from "./RunCharts";
import { runDuration } from "../fields";
import { formatDuration, formatTime, runHost } from "./compare";
import "./run.css";

const TABS = ["overview", "charts", "system", "console", "files", "artifacts"] as const;
type Tab = (typeof TABS)[number];

/** Minimum time between re-reads triggered by a burst of `points` events. */
const POINTS_THROTTLE_MS = 2000;

export function RunPage(props: { entity: string; project: string; runId: string }) {
  const { entity, project, runId } = props;
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [deleted, setDeleted] = useState(false);
  const [tabParam, setTab] = useQueryParam("tab");
  const tab: Tab = (TABS as readonly string[]).includes(tabParam ?? "") ? (tabParam as Tab) : "overview";
  // Bumped (at most every 2 s) when new points of this run arrive: charts re-read.
  const [pointsTick, setPointsTick] = useState(0);
  const throttle = useRef<{ last: number; timer: number | null }>({ last: 0, timer: null });

  useEffect(() => {
    let live = true;
    const load = () =>
      api.run(entity, project, runId).then(
        (loaded) => {
          if (!live) return;
          setRun(loaded);
          setError(null);
        },
        (e: unknown) => {
          if (live) setError(e instanceof ApiError && e.status === 404 ? `Run ${runId} not found.` : String(e instanceof Error ? e.message : e));
        },
      );
    load();
    const bump = () => {
      const state = throttle.current;
      if (state.timer !== null) return;
      const wait = Math.max(0, state.last + POINTS_THROTTLE_MS - Date.now());
      state.timer = window.setTimeout(() => {
        state.timer = null;
        state.last = Date.now();
        if (live) setPointsTick((tick) => tick + 1);
      }, wait);
    };
    const unsubscribe = subscribeProject(
      entity,
      project,
      (event) => {
        if (event.type === "run" && event.run.id === runId) setRun(event.run);
        else if (event.type === "run_deleted" && event.run === runId) setDeleted(true);
        else if (event.type === "points" && event.run === runId) bump();
      },
      () => {
        load();
        bump();
      },
    );
    return () => {
      live = false;
      unsubscribe();
      if (throttle.current.timer !== null) window.clearTimeout(throttle.current.timer);
      throttle.current.timer = null;
    };
  }, [entity, project, runId]);

  useEffect(() => {
    if (run) document.title = `${run.name} · ${project} · Heron`;
  }, [run?.name, project]);

  const patch = async (change: RunPatch) => {
    const updated = await api.patchRun(entity, project, runId, change);
    setRun(updated);
  };

  if (error)
    return (
      <div className="run-page" data-testid="run-page">
        <div className="empty error">{error}</div>
        <Link to={projectPath(entity, project)}>Back to {project}</Link>
      </div>
    );
  if (!run)
    return (
      <div className="run-page" data-testid="run-page">
        <div className="muted">Loading run…</div>
      </div>
    );
  const color = loadColors(entity, project)[run.id] ?? defaultColor(run.id);
  return (
    <div className="run-page" data-testid="run-page">
      <div className="run-head">
        <Crumbs entity={entity} project={project} tail="runs" />
        <div className="run-title">
          <span className="run-swatch" style={{ background: color }} />
          <EditableName run={run} onSave={(name) => patch({ name })} />
          <StateBadge run={run} testid="run-state" />
          <span className="muted run-id">{run.id}</span>
          <span className="spacer" />
          <ComparePicker run={run} />
        </div>
        {deleted && <div className="error">This run has been deleted.</div>}
        <nav className="tabs" role="tablist">
          {TABS.map((name) => (
            <button
              key={name}
              role="tab"
              aria-selected={tab === name}
              className={tab === name ? "tab active" : "tab"}
              data-testid={`run-tab-${name}`}
              onClick={() => setTab(name === "overview" ? null : name)}
            >
              {name[0]!.toUpperCase() + name.slice(1)}
            </button>
          ))}
        </nav>
      </div>
      {tab === "overview" && <Overview run={run} patch={patch} />}
      {tab === "charts" && <RunCharts run={run} stream="history" color={color} tick={pointsTick} />}
      {tab === "system" && <RunCharts run={run} stream="system" color={color} tick={pointsTick} />}
      {tab === "console" && <ConsoleView run={run} />}
      {tab === "files" && <FilesView run={run} tick={run.state === "running" ? pointsTick : 0} />}
      {tab === "artifacts" && <RunArtifactsView run={run} />}
    </div>
  );
}

function useNow(active: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [active, intervalMs]);
  return now;
}

export function StateBadge(props: { run: Run; testid?: string }) {
  const { state } = props.run;
  return (
    <span className={`state-badge state-${state}`} data-testid={props.testid} data-state={state}>
      {state === "running" && <span className="pulse" aria-label="live" />}
      {state}
    </span>
  );
}

function EditableName(props: { run: Run; onSave: (name: string) => Promise<void> }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(props.run.name);
  const [error, setError] = useState<string | null>(null);
  const save = () => {
    const name = draft.trim();
    if (!name || name === props.run.name) {
      setEditing(false);
      return;
    }
    props.onSave(name).then(
      () => {
        setEditing(false);
        setError(null);
      },
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
  };
  if (!editing)
    return (
      <h1 className="run-name" data-testid="run-name">
        {props.run.name}{" "}
        <button
          className="link small"
          title="Rename"
          data-testid="rename"
          onClick={() => {
            setDraft(props.run.name);
            setEditing(true);
          }}
        >
          ✎
        </button>
      </h1>
    );
  return (
    <span className="rename">
      <input
        autoFocus
        value={draft}
        data-testid="name-input"
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter") save();
          if (e.key === "Escape") setEditing(false);
        }}
      />
      <button className="primary" onClick={save}>
        Save
      </button>
      <button onClick={() => setEditing(false)}>Cancel</button>
      {error && <span className="error">{error}</span>}
    </span>
  );
}

function text(value: Json | undefined): string {
  return formatValue(value);
}

function Overview(props: { run: Run; patch: (change: RunPatch) => Promise<void> }) {
  const { run, patch } = props;
  const running = run.state === "running";
  const now = useNow(running);
  const meta = (path: string) => fieldValue(run, `metadata.${path}`);
  const program = text(meta("program"));
  const args = meta("args");
  const command = [program, ...(Array.isArray(args) ? args.map((a) => text(a)) : [])].filter(Boolean).join(" ");
  const gitCommit = text(meta("git.commit"));
  const gitDirty = meta("git.dirty");
  const python = text(meta("python.version"));
  const implementation = text(meta("python.implementation"));
  const rows: [string, ReactNode][] = [
    ["State", <StateBadge run={run} />],
    ["Duration", <span data-testid="run-duration">{formatDuration(runDuration(run, now))}</span>],
    ["Created", formatTime(run.created_at)],
    [running ? "Last heartbeat" : "Finished", formatTime(run.finished_at ?? run.heartbeat_at)],
  ];
  if (run.exit_code !== null) rows.push(["Exit code", String(run.exit_code)]);
  if (run.last_step !== null) rows.push(["Last step", `${run.last_step} (${run.history_rows.toLocaleString()} rows)`]);
  if (run.group) rows.push(["Group", run.group]);
  if (run.job_type) rows.push(["Job type", run.job_type]);
  if (run.sweep) rows.push(["Sweep", run.sweep]);
  const host = runHost(run);
  if (host) rows.push(["Host", host]);
  const os = text(meta("os_release")) || text(meta("os"));
  if (os) rows.push(["OS", os]);
  if (python) rows.push(["Python", `${implementation ? implementation + " " : ""}${python}`]);
  if (command) rows.push(["Command", <code className="command">{command}</code>]);
  const cwd = text(meta("cwd"));
  if (cwd) rows.push(["Directory", <code>{cwd}</code>]);
  if (gitCommit)
    rows.push([
      "Git",
      <span className="git">
        <code title={gitCommit}>{gitCommit.slice(0, 12)}</code>
        {text(meta("git.branch")) && <> on <b>{text(meta("git.branch"))}</b></>}
        {gitDirty === true && <span className="dirty" title="Uncommitted changes when the run started"> dirty</span>}
        {text(meta("git.remote")) && <div className="muted">{text(meta("git.remote"))}</div>}
      </span>,
    ]);
  const gpu = meta("gpu");
  if (gpu !== undefined) rows.push(["GPU", text(gpu)]);
  const cpus = meta("cpu_count");
  if (cpus !== undefined) rows.push(["CPUs", `${text(cpus)}${meta("memory_gb") !== undefined ? ` · ${text(meta("memory_gb"))} GB memory` : ""}`]);
  return (
    <div className="overview">
      <div className="overview-side">
        <InfoCard title="Run" rows={rows} />
        <TagsEditor run={run} patch={patch} />
        <NotesEditor run={run} patch={patch} />
      </div>
      <div className="overview-main">
        <KeyValueTree title="Config" data={run.config} testid="run-config" />
        <KeyValueTree title="Summary" data={run.summary} testid="run-summary" hideUnderscore />
        <KeyValueTree title="Metadata" data={run.metadata} testid="run-metadata" collapsedByDefault />
      </div>
    </div>
  );
}

function TagsEditor(props: { run: Run; patch: (change: RunPatch) => Promise<void> }) {
  const { run, patch } = props;
  const [draft, setDraft] = useState("");
  const [error, setError] = useState<string | null>(null);
  const save = (tags: string[]) =>
    patch({ tags }).then(
      () => setError(null),
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
  const add = () => {
    const tag = draft.trim();
    if (!tag) return;
    setDraft("");
    if (!run.tags.includes(tag)) void save([...run.tags, tag]);
  };
  return (
    <section className="card" data-testid="run-tags">
      <h3>Tags</h3>
      <div className="tags">
        {run.tags.length === 0 && <span className="muted">No tags.</span>}
        {run.tags.map((tag) => (
          <span className="tag" key={tag} data-testid="tag" data-tag={tag}>
            {tag}
            <button className="link" title={`Remove ${tag}`} data-testid="tag-remove" onClick={() => void save(run.tags.filter((t) => t !== tag))}>
              ×
            </button>
          </span>
        ))}
      </div>
      <div className="row">
        <input
          placeholder="Add a tag"
          value={draft}
          data-testid="tag-input"
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") add();
          }}
        />
        <button onClick={add} disabled={!draft.trim()} data-testid="tag-add">
          Add
        </button>
      </div>
      {error && <div className="error">{error}</div>}
    </section>
  );
}

function NotesEditor(props: { run: Run; patch: (change: RunPatch) => Promise<void> }) {
  const { run, patch } = props;
  const [draft, setDraft] = useState<string | null>(null);
  const [state, setState] = useState<"idle" | "saving" | "saved">("idle");
  const [error, setError] = useState<string | null>(null);
  const value = draft ?? run.notes;
  const dirty = draft !== null && draft !== run.notes;
  const save = () => {
    if (draft === null) return;
    setState("saving");
    patch({ notes: draft }).then(
      () => {
        setDraft(null);
        setState("saved");
        setError(null);
      },
      (e: unknown) => {
        setState("idle");
        setError(e instanceof Error ? e.message : String(e));
      },
    );
  };
  return (
    <section className="card" data-testid="run-notes">
      <h3>Notes</h3>
      <textarea
        rows={4}
        value={value}
        placeholder="What was this run about?"
        data-testid="notes-input"
        onChange={(e) => {
          setDraft(e.target.value);
          setState("idle");
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) save();
        }}
      />
      <div className="row">
        <button className="primary" onClick={save} disabled={!dirty || state === "saving"} data-testid="notes-save">
          {state === "saving" ? "Saving…" : "Save notes"}
        </button>
        {dirty && (
          <button onClick={() => setDraft(null)} data-testid="notes-cancel">
            Discard
          </button>
        )}
        {state === "saved" && !dirty && <span className="muted" data-testid="notes-saved">Saved</span>}
      </div>
      {error && <div className="error">{error}</div>}
    </section>
  );
}

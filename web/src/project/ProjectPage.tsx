import { Analysis } from "../analysis/Analysis";
import { ArtifactsTab } from "../artifacts/ArtifactsTab";
import { StorageView } from "../artifacts/StorageView";
import { Workspace } from "../charts/Workspace";
import { Link, useQueryParam } from "../router";
import { RunsTable } from "../table/RunsTable";
import { ProjectProvider, useProject } from "./state";

const TABS = ["workspace", "table", "analysis", "artifacts", "storage"] as const;
type Tab = (typeof TABS)[number];

export function ProjectPage(props: { entity: string; project: string }) {
  return (
    <ProjectProvider entity={props.entity} project={props.project}>
      <ProjectBody />
    </ProjectProvider>
  );
}

function ProjectBody() {
  const state = useProject();
  const [tabParam, setTab] = useQueryParam("tab");
  const tab: Tab = (TABS as readonly string[]).includes(tabParam ?? "") ? (tabParam as Tab) : "workspace";
  return (
    <div className="project">
      <div className="project-head">
        <h1>
          <Link to="/">{state.entity}</Link> / {state.project}
        </h1>
        <nav className="tabs" role="tablist">
          {TABS.map((name) => (
            <button
              key={name}
              role="tab"
              aria-selected={tab === name}
              className={tab === name ? "tab active" : "tab"}
              data-testid={`project-tab-${name}`}
              onClick={() => setTab(name === "workspace" ? null : name)}
            >
              {name[0]!.toUpperCase() + name.slice(1)}
            </button>
          ))}
        </nav>
      </div>
      {tab === "workspace" && (
        <div className="split">
          <aside className="split-side">
            <RunsTable compact />
          </aside>
          <section className="split-main">
            <Workspace />
          </section>
        </div>
      )}
      {tab === "table" && <RunsTable />}
      {tab === "analysis" && <Analysis />}
      {tab === "artifacts" && <ArtifactsTab entity={state.entity} project={state.project} />}
      {tab === "storage" && <StorageView entity={state.entity} project={state.project} />}
    </div>
  );
}

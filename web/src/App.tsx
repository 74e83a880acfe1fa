import { useEffect, useState } from "react";
import { api, type Viewer } from "./api";
import { ArtifactPage } from "./artifacts/ArtifactPage";
import { ModelPage, RegistryPage } from "./registry/Registry";
import { Compare } from "./run/Compare";
import { Projects } from "./pages/Projects";
import { SignIn } from "./pages/SignIn";
import { ProjectPage } from "./project/ProjectPage";
import { RunPage } from "./run/RunPage";
import { Link, matchPath, navigate, usePath } from "./router";

export function App() {
  const path = usePath();
  const [viewer, setViewer] = useState<Viewer | null>(null);

  useEffect(() => {
    // Any 401 sends the user to sign in, and back here afterwards.
    const toSignIn = () => {
      if (window.location.pathname === "/signin") return;
      const next = window.location.pathname + window.location.search;
      navigate(`/signin?next=${encodeURIComponent(next)}`, true);
    };
    window.addEventListener("heron:unauthenticated", toSignIn);
    return () => window.removeEventListener("heron:unauthenticated", toSignIn);
  }, []);

  useEffect(() => {
    if (path === "/signin") return;
    api.viewer().then(setViewer, () => setViewer(null));
  }, [path]);

  if (path === "/signin") return <SignIn onSignedIn={setViewer} />;

  let page = <NotFound />;
  let params: Record<string, string> | null;
  if (path === "/") page = <Projects viewer={viewer} />;
  else if ((params = matchPath("/projects/:entity/:project", path)))
    page = <ProjectPage key={`${params.entity}/${params.project}`} entity={params.entity!} project={params.project!} />;
  else if ((params = matchPath("/projects/:entity/:project/compare", path)))
    page = <Compare entity={params.entity!} project={params.project!} />;
  else if ((params = matchPath("/projects/:entity/:project/runs/:run", path)))
    page = <RunPage key={params.run} entity={params.entity!} project={params.project!} runId={params.run!} />;
  else if ((params = matchPath("/projects/:entity/:project/artifacts/:name", path)))
    page = <ArtifactPage key={params.name} entity={params.entity!} project={params.project!} name={params.name!} version={null} />;
  else if ((params = matchPath("/projects/:entity/:project/artifacts/:name/:version", path)))
    page = (
      <ArtifactPage key={params.name} entity={params.entity!} project={params.project!} name={params.name!} version={params.version!} />
    );
  // After every `/projects/...` route, so that an entity called "projects" cannot hide them.
  else if ((params = matchPath("/:entity/registry", path))) page = <RegistryPage key={params.entity} entity={params.entity!} />;
  else if ((params = matchPath("/:entity/registry/:model", path)))
    page = <ModelPage key={`${params.entity}/${params.model}`} entity={params.entity!} model={params.model!} />;

  return (
    <div className="app">
      <header className="topbar">
        <Link to="/" className="brand">
          Heron
        </Link>
        <span className="spacer" />
        {viewer && (
          <span className="viewer">
            {viewer.name}
            <button
              className="link"
              onClick={() => api.signOut().finally(() => navigate("/signin"))}
              data-testid="sign-out"
            >
              Sign out
            </button>
          </span>
        )}
      </header>
      <main className="page">{page}</main>
    </div>
  );
}

function NotFound() {
  return (
    <div className="empty">
      <h2>Page not found</h2>
      <Link to="/">Back to projects</Link>
    </div>
  );
}

import { useProject } from "../project/state";

/** Placeholder: the chart workspace is being built. */
export function Workspace() {
  const { visibleRuns } = useProject();
  return <div className="workspace">{visibleRuns.length} visible runs</div>;
}

import { useProject } from "../project/state";

/** Placeholder: the runs table is being built. `compact` is the workspace's side panel. */
export function RunsTable(props: { compact?: boolean }) {
  const { runs } = useProject();
  return <div className={props.compact ? "runs-table compact" : "runs-table"}>{runs.length} runs</div>;
}

/** Placeholder: the run page is being built. */
export function RunPage(props: { entity: string; project: string; runId: string }) {
  return <div className="run-page">{props.runId}</div>;
}

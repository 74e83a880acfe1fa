import type { Viewer } from "../api";

/** Placeholder: the project list is being built. */
export function Projects(props: { viewer: Viewer | null }) {
  return <div className="projects">{props.viewer?.name}</div>;
}

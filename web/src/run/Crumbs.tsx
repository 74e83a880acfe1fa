import { projectPath } from "../api";
import { Link } from "../router";

/** `entity / project / tail`, the project linking back to its workspace. */
export function Crumbs(props: { entity: string; project: string; tail: string }) {
  return (
    <div className="crumbs">
      <Link to={projectPath(props.entity, props.project)}>
        {props.entity} / {props.project}
      </Link>{" "}
      / {props.tail}
    </div>
  );
}

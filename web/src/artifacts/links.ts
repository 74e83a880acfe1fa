// Dashboard URLs of artifacts, runs and registered models, and reading the artifact references
// the server writes (`entity/project/name:v3`, lineage node ids).
import type { LineageNode } from "../api";

const seg = encodeURIComponent;

export type VersionTab = "overview" | "files" | "used" | "lineage";

export function projectUrl(entity: string, project: string, tab?: string): string {
  return `/projects/${seg(entity)}/${seg(project)}${tab ? `?tab=${seg(tab)}` : ""}`;
}

/** The artifact's page; with a version, that version selected; with a tab, that tab open. */
export function artifactUrl(entity: string, project: string, name: string, version?: string, tab?: VersionTab): string {
  let url = `/projects/${seg(entity)}/${seg(project)}/artifacts/${seg(name)}`;
  if (version) url += `/${seg(version)}`;
  if (tab && tab !== "overview") url += `?tab=${tab}`;
  return url;
}

export function runUrl(entity: string, project: string, run: string, tab?: string): string {
  return `/projects/${seg(entity)}/${seg(project)}/runs/${seg(run)}${tab ? `?tab=${seg(tab)}` : ""}`;
}

export function registryUrl(entity: string): string {
  return `/${seg(entity)}/registry`;
}

export function modelUrl(entity: string, model: string): string {
  return `${registryUrl(entity)}/${seg(model)}`;
}

/** Where clicking a lineage node goes: a run's artifacts, or a version's lineage. */
export function lineageNodeUrl(node: LineageNode): string {
  if (node.kind === "run") return runUrl(node.entity, node.project, node.name, "artifacts");
  return artifactUrl(node.entity, node.project, node.name, node.version ?? undefined, "lineage");
}

export interface ArtifactRef {
  entity: string;
  project: string;
  name: string;
  version: string;
}

/** `entity/project/name:v3` (as a model version names its artifact); null for anything else. */
export function parseArtifactRef(text: string): ArtifactRef | null {
  const colon = text.lastIndexOf(":");
  if (colon < 0) return null;
  const parts = text.slice(0, colon).split("/");
  const version = text.slice(colon + 1);
  if (parts.length !== 3 || parts.some((part) => part === "") || version === "") return null;
  const [entity, project, name] = parts as [string, string, string];
  return { entity, project, name, version };
}

/** The version id of an artifact-version lineage node, as `artifact:` + a reference. */
export function versionNodeId(entity: string, project: string, name: string, version: string): string {
  return `artifact:${entity}/${project}/${name}:${version}`;
}

// The one module that talks to the Heron server. Types mirror `heron-types` (see
// docs/http-api.md); every request goes through `request`, which turns an error body into an
// `ApiError` carrying the server's kind and message.

export type Scalar = number | "NaN" | "Infinity" | "-Infinity";
export type RunState = "running" | "finished" | "failed" | "crashed" | "killed";
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Viewer {
  name: string;
  admin: boolean;
  entities: string[];
}

export interface Project {
  entity: string;
  name: string;
  description: string;
  created_at: string;
  run_count: number;
}

export interface Run {
  entity: string;
  project: string;
  id: string;
  name: string;
  state: RunState;
  config: JsonObject;
  summary: JsonObject;
  tags: string[];
  notes: string;
  group: string | null;
  job_type: string | null;
  sweep: string | null;
  host: string | null;
  metadata: JsonObject;
  created_at: string;
  updated_at: string;
  heartbeat_at: string;
  finished_at: string | null;
  exit_code: number | null;
  last_step: number | null;
  history_rows: number;
  /** Statistics of history keys, when the listing asked for them (`metrics`). */
  metrics?: Record<string, MetricStats>;
}

export interface MetricStats {
  min: number | null;
  max: number | null;
  last: number | null;
  count: number;
}

export interface RunPage {
  runs: Run[];
  total: number;
  next_cursor?: string | null;
}

export interface RunPatch {
  name?: string;
  tags?: string[];
  notes?: string;
  group?: string;
  job_type?: string;
  state?: RunState;
  exit_code?: number;
}

export type XAxis = "step" | "time" | "relative_time" | string;

export interface ChartQuery {
  runs: string[];
  keys: string[];
  x?: XAxis;
  x_min?: number | null;
  x_max?: number | null;
  buckets?: number;
}

/** M4 reduction of one key of one run: parallel arrays, one entry per non-empty bucket. */
export interface ChartSeries {
  run: string;
  key: string;
  bucket: number[];
  count: number[];
  first_x: number[];
  first_y: Scalar[];
  last_x: number[];
  last_y: Scalar[];
  min_x: (number | null)[];
  min_y: (Scalar | null)[];
  max_x: (number | null)[];
  max_y: (Scalar | null)[];
}

export interface ChartResponse {
  x: XAxis;
  x_min: number | null;
  x_max: number | null;
  buckets: number;
  series: ChartSeries[];
}

export interface KeyInfo {
  key: string;
  stream: "history" | "system";
  kind: "scalar" | "object";
  count: number;
  min_step: number | null;
  max_step: number | null;
  min: Scalar | null;
  max: Scalar | null;
  last: Scalar | null;
}

/** A key logged in a project, with the number of runs that have it. */
export interface ProjectKey {
  key: string;
  stream: "history" | "system";
  kind: "scalar" | "object";
  runs: number;
}

export interface SeriesColumns {
  key: string;
  steps: number[];
  times: (number | null)[];
  values: Json[];
}

export interface ConsoleLine {
  index: number;
  stream: string;
  text: string;
  time: number;
}

export interface ConsolePage {
  lines: ConsoleLine[];
  total: number;
}

export interface RunFile {
  path: string;
  size: number;
  sha256: string;
  updated_at: string;
}

export type ProjectEvent =
  | { type: "run"; run: Run }
  | { type: "run_deleted"; run: string }
  | {
      type: "points";
      run: string;
      stream: "history" | "system";
      keys: string[];
      first_step: number;
      last_step: number;
      rows: JsonObject[] | null;
    };

export interface SavedView {
  name: string;
  /** The workspace state as the dashboard saved it (its URL query). */
  state: JsonObject;
  updated_at: string;
}

export interface ImportanceQuery {
  /** Run ids to learn from (at least 2 with the target). */
  runs: string[];
  /** The metric to explain: a run field path such as `summary.val_loss`. */
  target: string;
  /** Parameters (run field paths); every numeric `config.*` leaf when absent. */
  params?: string[];
}

export interface ParamImportance {
  param: string;
  /** Pearson correlation with the target, null when either is constant. */
  correlation: number | null;
  /** Permutation importance from a random forest, scaled so the parameters sum to 1. */
  importance: number;
}

export interface ImportanceResponse {
  target: string;
  runs_used: number;
  params: ParamImportance[];
}

/** One artifact: a name in a project, of one type, with versions `v0..vN`. */
export interface Artifact {
  entity: string;
  project: string;
  name: string;
  type: string;
  description: string | null;
  /** Versions that exist now. */
  versions: number;
  /** Index of the version `latest` points at. */
  latest: number | null;
  /** Bytes of every version (a file shared between versions counted in each). */
  size: number;
  created_at: string;
  updated_at: string;
}

export interface ArtifactVersion {
  entity: string;
  project: string;
  name: string;
  type: string;
  /** `v0`, `v1`, ... */
  version: string;
  index: number;
  /** sha256 of the manifest: equal digests mean equal contents. */
  digest: string;
  description: string | null;
  metadata: JsonObject;
  /** `latest` included when it points here. */
  aliases: string[];
  size: number;
  file_count: number;
  created_at: string;
  created_by: string;
  /** Id of the run (in the artifact's project) that produced it. */
  run: string | null;
  expires_at: string | null;
  created?: boolean;
}

/**
 * A file of a version: stored (`sha256`, and a signed download `url` relative to the server) or
 * a reference (`reference` URI and the `digest` it was tracked by; its bytes are elsewhere).
 */
export interface ArtifactFile {
  path: string;
  size: number;
  sha256?: string;
  reference?: string;
  digest?: string;
  url?: string;
}

export interface LineageNode {
  /** `run:entity/project/run` or `artifact:entity/project/name:vN`. */
  id: string;
  kind: "run" | "artifact";
  entity: string;
  project: string;
  /** Run id, or artifact name. */
  name: string;
  /** `vN` for an artifact version. */
  version: string | null;
  /** What to show: the run's display name, or `name:vN`. */
  label: string;
  /** The artifact's type, or the run's state. */
  detail: string;
}

/** `from` → `to`: a run `produced` a version, or a version was `used` by a run. */
export interface LineageEdge {
  from: string;
  to: string;
  kind: "produced" | "used" | string;
}

export interface Lineage {
  /** The node asked about. */
  root: string;
  nodes: LineageNode[];
  edges: LineageEdge[];
}

export type LineageDirection = "up" | "down" | "both";

export interface RunArtifacts {
  produced: ArtifactVersion[];
  used: ArtifactVersion[];
}

export interface ArtifactStorage {
  name: string;
  type: string;
  versions: number;
  /** Sum of every version's size. */
  logical_bytes: number;
  /** Bytes of the distinct blobs its versions hold. */
  stored_bytes: number;
  /** Bytes no other artifact holds: freed if it is deleted. */
  exclusive_bytes: number;
}

export interface StorageReport {
  /** Largest `stored_bytes` first. */
  artifacts: ArtifactStorage[];
  logical_bytes: number;
  stored_bytes: number;
  /** Run files, which are not deduplicated. */
  run_file_bytes: number;
}

export interface ModelVersion {
  /** `v0`, `v1`, ... numbered in the model. */
  version: string;
  index: number;
  /** The linked artifact version as `entity/project/name:vN`. */
  artifact: string;
  aliases: string[];
  linked_at: string;
  linked_by: string;
}

export interface RegisteredModel {
  entity: string;
  name: string;
  description: string | null;
  versions: ModelVersion[];
  created_at: string;
  updated_at: string;
}

export interface AuditEntry {
  at: string;
  user: string;
  /** `create`, `link`, `unlink`, `alias_set`, `alias_remove`, `delete`. */
  action: string;
  version: string | null;
  alias: string | null;
  /** For `alias_set`: the version the alias left (none when it was new). */
  previous_version: string | null;
  /** For `link` / `unlink`: the artifact version. */
  artifact: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

/** Turns `"NaN"` / `"Infinity"` / `"-Infinity"` into numbers. */
export function scalarValue(value: Scalar | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return value;
  if (value === "NaN") return Number.NaN;
  return value === "Infinity" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
}

export async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin", signal: signal ?? null };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "Content-Type": "application/json" };
  }
  const response = await fetch(`/api/v1${path}`, init);
  if (!response.ok) {
    let kind = "http_error";
    let message = `${method} ${path} answered ${response.status}`;
    try {
      const error = (await response.json()) as { error?: { kind?: string; message?: string } };
      kind = error.error?.kind ?? kind;
      message = error.error?.message ?? message;
    } catch {
      // Not a JSON error body: keep the status line.
    }
    if (response.status === 401) window.dispatchEvent(new Event("heron:unauthenticated"));
    throw new ApiError(response.status, kind, message);
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

const seg = encodeURIComponent;

export function projectPath(entity: string, project: string): string {
  return `/projects/${seg(entity)}/${seg(project)}`;
}

export function runPath(entity: string, project: string, run: string): string {
  return `${projectPath(entity, project)}/runs/${seg(run)}`;
}

export function artifactPath(entity: string, project: string, name: string): string {
  return `${projectPath(entity, project)}/artifacts/${seg(name)}`;
}

function versionPath(entity: string, project: string, name: string, version: string): string {
  return `${artifactPath(entity, project, name)}/versions/${seg(version)}`;
}

function modelPath(entity: string, model: string): string {
  return `/entities/${seg(entity)}/models/${seg(model)}`;
}

/**
 * A signed blob URL as the server lists it (relative to the server, `/api/v1/blobs/...`) as a
 * link the browser can follow; it needs no key.
 */
export function blobUrl(url: string): string {
  if (/^[a-z]+:\/\//i.test(url) || url.startsWith("/api/")) return url;
  return `/api/v1${url.startsWith("/") ? "" : "/"}${url}`;
}

export const api = {
  signIn: (body: { key: string } | { user: string; password: string }) => request<Viewer>("POST", "/session", body),
  signOut: () => request<void>("DELETE", "/session"),
  setPassword: (password: string) => request<void>("PUT", "/viewer/password", { password }),
  viewer: () => request<Viewer>("GET", "/viewer"),
  projects: (entity: string) => request<Project[]>("GET", `/entities/${seg(entity)}/projects`),
  project: (entity: string, project: string) => request<Project>("GET", projectPath(entity, project)),
  runs: (
    entity: string,
    project: string,
    query: { filter?: string; sort?: string; limit?: number; cursor?: string; metrics?: readonly string[] },
    signal?: AbortSignal,
  ) => {
    const params = new URLSearchParams();
    if (query.filter) params.set("filter", query.filter);
    if (query.sort) params.set("sort", query.sort);
    params.set("limit", String(query.limit ?? 10000));
    if (query.cursor) params.set("cursor", query.cursor);
    if (query.metrics?.length) params.set("metrics", query.metrics.join(","));
    return request<RunPage>("GET", `${projectPath(entity, project)}/runs?${params}`, undefined, signal);
  },
  run: (entity: string, project: string, run: string) => request<Run>("GET", runPath(entity, project, run)),
  patchRun: (entity: string, project: string, run: string, patch: RunPatch) =>
    request<Run>("PATCH", runPath(entity, project, run), patch),
  chart: (entity: string, project: string, query: ChartQuery, signal?: AbortSignal) =>
    request<ChartResponse>("POST", `${projectPath(entity, project)}/chart`, query, signal),
  projectKeys: (entity: string, project: string) => request<ProjectKey[]>("GET", `${projectPath(entity, project)}/keys`),
  keys: (entity: string, project: string, run: string) =>
    request<KeyInfo[]>("GET", `${runPath(entity, project, run)}/history/keys`),
  series: (entity: string, project: string, run: string, key: string, stream: "history" | "system" = "history") =>
    request<SeriesColumns>(
      "GET",
      `${runPath(entity, project, run)}/history/series?key=${seg(key)}&stream=${stream}`,
    ),
  console: (entity: string, project: string, run: string, offset: number, limit = 10000) =>
    request<ConsolePage>("GET", `${runPath(entity, project, run)}/console?offset=${offset}&limit=${limit}`),
  files: (entity: string, project: string, run: string) =>
    request<RunFile[]>("GET", `${runPath(entity, project, run)}/files`),
  views: (entity: string, project: string) => request<SavedView[]>("GET", `${projectPath(entity, project)}/views`),
  saveView: (entity: string, project: string, name: string, state: JsonObject) =>
    request<SavedView>("PUT", `${projectPath(entity, project)}/views/${seg(name)}`, { state }),
  deleteView: (entity: string, project: string, name: string) =>
    request<void>("DELETE", `${projectPath(entity, project)}/views/${seg(name)}`),
  importance: (entity: string, project: string, query: ImportanceQuery) =>
    request<ImportanceResponse>("POST", `${projectPath(entity, project)}/importance`, query),
  /** A link the browser can follow (the key cookie authenticates it). */
  fileUrl: (entity: string, project: string, run: string, path: string) =>
    `/api/v1${runPath(entity, project, run)}/files/${path.split("/").map(seg).join("/")}`,
  exportUrl: (entity: string, project: string, run: string, format: "csv" | "parquet") =>
    `/api/v1${runPath(entity, project, run)}/history/export?format=${format}`,
  artifacts: (entity: string, project: string, type?: string) =>
    request<Artifact[]>("GET", `${projectPath(entity, project)}/artifacts${type ? `?type=${seg(type)}` : ""}`),
  artifact: (entity: string, project: string, name: string) =>
    request<Artifact>("GET", artifactPath(entity, project, name)),
  artifactVersions: (entity: string, project: string, name: string) =>
    request<ArtifactVersion[]>("GET", `${artifactPath(entity, project, name)}/versions`),
  artifactVersion: (entity: string, project: string, name: string, version: string) =>
    request<ArtifactVersion>("GET", versionPath(entity, project, name, version)),
  artifactFiles: (entity: string, project: string, name: string, version: string) =>
    request<ArtifactFile[]>("GET", `${versionPath(entity, project, name, version)}/files`),
  versionLineage: (entity: string, project: string, name: string, version: string, direction: LineageDirection = "both", depth = 10) =>
    request<Lineage>("GET", `${versionPath(entity, project, name, version)}/lineage?direction=${direction}&depth=${depth}`),
  setArtifactAlias: (entity: string, project: string, name: string, alias: string, version: string) =>
    request<ArtifactVersion>("PUT", `${artifactPath(entity, project, name)}/aliases/${seg(alias)}`, { version }),
  removeArtifactAlias: (entity: string, project: string, name: string, alias: string) =>
    request<void>("DELETE", `${artifactPath(entity, project, name)}/aliases/${seg(alias)}`),
  deleteArtifactVersion: (entity: string, project: string, name: string, version: string) =>
    request<void>("DELETE", `${artifactPath(entity, project, name)}/versions/${seg(version)}`),
  runArtifacts: (entity: string, project: string, run: string) =>
    request<RunArtifacts>("GET", `${runPath(entity, project, run)}/artifacts`),
  runLineage: (entity: string, project: string, run: string, direction: LineageDirection = "both", depth = 10) =>
    request<Lineage>("GET", `${runPath(entity, project, run)}/lineage?direction=${direction}&depth=${depth}`),
  storage: (entity: string, project: string) => request<StorageReport>("GET", `${projectPath(entity, project)}/storage`),
  models: (entity: string) => request<RegisteredModel[]>("GET", `/entities/${seg(entity)}/models`),
  model: (entity: string, model: string) => request<RegisteredModel>("GET", modelPath(entity, model)),
  createModel: (entity: string, name: string, description?: string) =>
    request<RegisteredModel>("POST", `/entities/${seg(entity)}/models`, { name, description: description || null }),
  /** `artifact` is `project/name:version` in the model's entity, or `entity/project/name:version`. */
  linkModelVersion: (entity: string, model: string, artifact: string, aliases: string[] = []) =>
    request<ModelVersion>("POST", `${modelPath(entity, model)}/versions`, { artifact, aliases }),
  unlinkModelVersion: (entity: string, model: string, version: string) =>
    request<void>("DELETE", `${modelPath(entity, model)}/versions/${seg(version)}`),
  setModelAlias: (entity: string, model: string, alias: string, version: string) =>
    request<ModelVersion>("PUT", `${modelPath(entity, model)}/aliases/${seg(alias)}`, { version }),
  removeModelAlias: (entity: string, model: string, alias: string) =>
    request<void>("DELETE", `${modelPath(entity, model)}/aliases/${seg(alias)}`),
  modelAudit: (entity: string, model: string) => request<AuditEntry[]>("GET", `${modelPath(entity, model)}/audit`),
};

/**
 * Follows the project's event stream; reconnects after a drop. `onReset` runs after a
 * reconnect or a `lagged` event, when the caller must re-read what it shows.
 */
export function subscribeProject(
  entity: string,
  project: string,
  onEvent: (event: ProjectEvent) => void,
  onReset: () => void,
): () => void {
  const source = new EventSource(`/api/v1${projectPath(entity, project)}/events`);
  let opened = false;
  const handle = (message: MessageEvent<string>) => {
    try {
      onEvent(JSON.parse(message.data) as ProjectEvent);
    } catch {
      // A malformed event is skipped; the next reset re-reads.
    }
  };
  source.addEventListener("run", handle);
  source.addEventListener("run_deleted", handle);
  source.addEventListener("points", handle);
  source.addEventListener("lagged", () => onReset());
  source.addEventListener("open", () => {
    if (opened) onReset();
    opened = true;
  });
  return () => source.close();
}

//! Artifacts, content-addressed blobs, lineage and the model registry: the wire shapes of
//! `docs/http-api.md` § Artifacts and § Model registry.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[cfg(feature = "utoipa")]
use utoipa::ToSchema;

/// Bounds on artifacts; each is enforced with a 4xx answer that names it.
pub mod artifact_limits {
    /// Files (manifest entries) in one artifact version.
    pub const MAX_FILES: usize = 1_000_000;
    /// Blobs in one `blobs/missing` request.
    pub const MAX_BLOBS_PER_CHECK: usize = 10_000;
    /// Largest blob (one file of an artifact), in bytes.
    pub const MAX_BLOB_BYTES: u64 = 1 << 40;
    /// Size of each piece of a multipart upload (the last may be smaller). A blob no larger
    /// than this is sent in one piece.
    pub const PART_BYTES: u64 = 16 * 1024 * 1024;
    /// User aliases on one version.
    pub const MAX_ALIASES: usize = 100;
    /// Length of a path inside an artifact (bytes).
    pub const MAX_PATH_BYTES: usize = 1024;
    /// Serialized size of a version's metadata (bytes).
    pub const MAX_METADATA_BYTES: usize = 1024 * 1024;
    /// Lifetime of a signed blob URL (seconds).
    pub const SIGNED_URL_SECONDS: u64 = 6 * 3600;
}

/// One file of an artifact version. A stored file has `sha256`; a reference (`s3://`, `gs://`,
/// `https://`, `file://`) has `reference` and the `digest` it was tracked by (a checksum or
/// ETag) instead, and its bytes are not copied.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// Relative, `/`-separated path inside the artifact.
    pub path: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// A file of a version as the server lists it: the manifest entry and, for stored files, a
/// signed download URL (relative to the server) valid until `url_expires_at`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct ArtifactFile {
    pub path: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Body of `POST /projects/{entity}/{project}/artifacts/{name}/versions`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VersionCreate {
    /// The artifact's type (`dataset`, `model`, ...). Set by the first version; later versions
    /// must match it.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub description: Option<String>,
    /// A JSON object.
    #[serde(default)]
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<Object>))]
    pub metadata: Option<Value>,
    /// User aliases to put on the new version (moved from any other version); `latest` moves
    /// by itself.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Id of the run (in this project) that produced the version.
    #[serde(default)]
    pub run: Option<String>,
    /// The version is deleted this many seconds after it is created.
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
    pub files: Vec<ManifestEntry>,
}

/// An artifact: a name in a project, of one type, with versions `v0..vN`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct Artifact {
    pub entity: String,
    pub project: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub description: Option<String>,
    /// Versions that exist now.
    pub versions: u64,
    /// Index of the version `latest` points at.
    pub latest: Option<u64>,
    /// Sum of the sizes of every version (files shared between versions counted once each).
    pub size: u64,
    pub created_at: String,
    pub updated_at: String,
}

/// One version of an artifact.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct ArtifactVersion {
    pub entity: String,
    pub project: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// `v0`, `v1`, ...
    pub version: String,
    pub index: u64,
    /// sha256 of the version's manifest: equal digests mean equal contents.
    pub digest: String,
    pub description: Option<String>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    pub metadata: Value,
    /// `latest` included when it points here.
    pub aliases: Vec<String>,
    pub size: u64,
    pub file_count: u64,
    pub created_at: String,
    pub created_by: String,
    /// The run that produced it.
    pub run: Option<String>,
    pub expires_at: Option<String>,
    /// False when the request matched an existing version's contents and no version was made.
    #[serde(default = "yes")]
    pub created: bool,
}

fn yes() -> bool {
    true
}

/// Body of `PATCH .../artifacts/{name}/versions/{version}`: the fields to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VersionPatch {
    pub description: Option<String>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<Object>))]
    pub metadata: Option<Value>,
    /// Seconds from now until the version is deleted; 0 removes the TTL.
    pub ttl_seconds: Option<u64>,
}

/// Body of `PUT .../artifacts/{name}/aliases/{alias}` and `PUT /entities/{e}/models/{m}/aliases/{alias}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AliasSet {
    /// `v3`, or another alias.
    pub version: String,
}

/// Body of `POST .../artifacts/{name}/versions/{version}/uses`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UseCreate {
    /// The run that used the version: a run id of the artifact's project, or
    /// `entity/project/run` for a run elsewhere.
    pub run: String,
}

/// A blob the client wants to store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BlobRef {
    pub sha256: String,
    pub size: u64,
}

/// Body of `POST /projects/{entity}/{project}/blobs/missing`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BlobsCheck {
    pub blobs: Vec<BlobRef>,
}

/// How to upload one missing blob: `PUT {upload_url}&part=K` with part K's bytes for each K in
/// `0..parts` not in `received`; then, when `parts > 1`, `POST {complete_url}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct BlobUpload {
    pub sha256: String,
    pub size: u64,
    pub part_size: u64,
    pub parts: u64,
    /// Parts the server already holds from an earlier, interrupted upload.
    pub received: Vec<u64>,
    /// Signed: no API key needed. Relative to the server.
    pub upload_url: String,
    pub complete_url: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct BlobsMissing {
    pub missing: Vec<BlobUpload>,
}

/// Answer to a part upload or a completion.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct BlobStatus {
    pub sha256: String,
    pub size: u64,
    /// True once the whole blob is stored and verified.
    pub stored: bool,
    pub received: Vec<u64>,
}

/// A node of the lineage graph: a run, or an artifact version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct LineageNode {
    /// `run:entity/project/run` or `artifact:entity/project/name:vN`.
    pub id: String,
    /// `run` or `artifact`.
    pub kind: String,
    pub entity: String,
    pub project: String,
    /// Run id, or artifact name.
    pub name: String,
    /// `vN` for an artifact version.
    pub version: Option<String>,
    /// What to show: the run's display name, or `name:vN`.
    pub label: String,
    /// The artifact's type, or the run's state.
    pub detail: String,
}

/// `from` → `to`: a run produced an artifact version (`produced`), or an artifact version was
/// used by a run (`used`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct LineageEdge {
    pub from: String,
    pub to: String,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct Lineage {
    /// The node asked about.
    pub root: String,
    pub nodes: Vec<LineageNode>,
    pub edges: Vec<LineageEdge>,
}

/// `GET {run}/artifacts`: what a run produced and used.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct RunArtifacts {
    pub produced: Vec<ArtifactVersion>,
    pub used: Vec<ArtifactVersion>,
}

/// One artifact's share of a project's storage.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct ArtifactStorage {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub versions: u64,
    /// Sum of every version's size.
    pub logical_bytes: u64,
    /// Bytes of the distinct blobs its versions hold.
    pub stored_bytes: u64,
    /// Bytes of the blobs no other artifact (in any project) holds: freed if it is deleted.
    pub exclusive_bytes: u64,
}

/// `GET /projects/{entity}/{project}/storage`: where a project's storage went.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct StorageReport {
    /// Largest `stored_bytes` first.
    pub artifacts: Vec<ArtifactStorage>,
    pub logical_bytes: u64,
    /// Bytes of the distinct blobs the project's artifacts hold.
    pub stored_bytes: u64,
    /// Run files (`{run}/files`), which are not deduplicated.
    pub run_file_bytes: u64,
}

/// `GET /admin/blobs`: the blob store as a whole.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct BlobTotals {
    pub blobs: u64,
    pub bytes: u64,
    /// Blobs no artifact version holds (freed by the next collection past their grace time).
    pub unreferenced: u64,
    /// Multipart uploads begun and not completed.
    pub uploads_in_progress: u64,
}

/// Body of `POST /admin/gc`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GcRequest {
    /// Keep unreferenced blobs stored less than this many seconds ago (default 3600), so that
    /// an upload whose version is not created yet keeps its blobs.
    pub grace_seconds: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct GcReport {
    pub expired_versions: u64,
    pub blobs_deleted: u64,
    pub bytes_freed: u64,
    pub uploads_abandoned: u64,
}

/// Body of `POST /entities/{entity}/models`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ModelCreate {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// A registered model: versions that link artifact versions, and aliases.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct RegisteredModel {
    pub entity: String,
    pub name: String,
    pub description: Option<String>,
    pub versions: Vec<ModelVersion>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct ModelVersion {
    /// `v0`, `v1`, ... (numbered in the model, apart from the artifact's own numbers).
    pub version: String,
    pub index: u64,
    /// The linked artifact version as `entity/project/name:vN`.
    pub artifact: String,
    pub aliases: Vec<String>,
    pub linked_at: String,
    pub linked_by: String,
}

/// Body of `POST /entities/{entity}/models/{model}/versions`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ModelLink {
    /// `project/name:version` in the model's entity, or `entity/project/name:version`;
    /// `version` is `vN` or an alias of the artifact.
    pub artifact: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// One entry of a registered model's audit trail.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct AuditEntry {
    pub at: String,
    pub user: String,
    /// `create`, `link`, `unlink`, `alias_set`, `alias_remove`, `delete`.
    pub action: String,
    pub version: Option<String>,
    pub alias: Option<String>,
    /// For `alias_set`: the version the alias left (none when it is new).
    pub previous_version: Option<String>,
    /// For `link` / `unlink`: the artifact version.
    pub artifact: Option<String>,
}

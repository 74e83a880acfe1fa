//! The storage contracts. Every backend (SQLite now, PostgreSQL later) implements [`Store`];
//! blobs go through [`BlobStore`]. The server holds them as `Arc<dyn Store>` and never names a
//! database driver. `conformance` (feature `conformance`) is the test suite every backend runs.

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use heron_types::{
    Artifact, ArtifactVersion, AuditEntry, BlobRef, BlobTotals, ChartQuery, ChartResponse, ConsoleAppend, ConsolePage,
    Entity, HistoryBatch, HistoryPage, IngestAck, KeyInfo, Lineage, ManifestEntry, ModelCreate, ModelVersion, Project,
    ProjectCreate, ProjectKey, RegisteredModel, Run, RunArtifacts, RunFile, RunPatch, RunUpsert, RunUpserted,
    SavedView, SeriesColumns, StorageReport, Stream, SystemBatch, VersionCreate, VersionPatch,
};
use serde_json::Value;

use crate::error::Result;

/// Identifies a run by its public names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunRef {
    pub entity: String,
    pub project: String,
    pub run: String,
}

impl RunRef {
    pub fn new(entity: impl Into<String>, project: impl Into<String>, run: impl Into<String>) -> Self {
        RunRef { entity: entity.into(), project: project.into(), run: run.into() }
    }
}

impl std::fmt::Display for RunRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.entity, self.project, self.run)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub admin: bool,
}

/// Metadata, history, console and file records of every run, on one database.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- accounts ---
    /// Creates the first admin (with its personal entity and an API key) when the store has no
    /// user; returns whether it did.
    async fn bootstrap_admin(&self, name: &str, key_hash: &str) -> Result<bool>;
    /// Creates a user, its personal entity of the same name, and one API key.
    async fn create_user(&self, name: &str, admin: bool, key_hash: &str) -> Result<User>;
    async fn user_by_key(&self, key_hash: &str) -> Result<Option<User>>;
    /// Adds another API key (hashed) to a user.
    async fn add_api_key(&self, user_id: i64, key_hash: &str) -> Result<()>;
    /// Stores a one-time login token (hashed) for a user, valid until `expires_at` (unix s).
    async fn add_login_token(&self, user: &str, token_hash: &str, expires_at: f64) -> Result<()>;
    /// Uses up a login token; the user it was for, when it was valid.
    async fn redeem_login_token(&self, token_hash: &str, now: f64) -> Result<Option<User>>;
    /// Entities the user belongs to (their own and their teams').
    async fn entities_of(&self, user_id: i64) -> Result<Vec<String>>;
    async fn get_entity(&self, name: &str) -> Result<Entity>;
    /// Creates a team entity with `owner` as its first member.
    async fn create_team(&self, name: &str, owner_id: i64) -> Result<Entity>;

    // --- projects ---
    async fn create_project(&self, entity: &str, create: &ProjectCreate) -> Result<Project>;
    async fn get_project(&self, entity: &str, project: &str) -> Result<Project>;
    async fn list_projects(&self, entity: &str) -> Result<Vec<Project>>;

    // --- runs ---
    /// Creates the run (and its project, if new) or, when `id` exists, applies the given
    /// fields to it and returns what a resuming client needs.
    async fn upsert_run(&self, entity: &str, project: &str, id: &str, body: &RunUpsert) -> Result<RunUpserted>;
    async fn get_run(&self, run: &RunRef) -> Result<Run>;
    /// Every run of a project; filtering, sorting and paging are done by the caller.
    async fn list_runs(&self, entity: &str, project: &str) -> Result<Vec<Run>>;
    async fn patch_run(&self, run: &RunRef, patch: &RunPatch) -> Result<Run>;
    async fn delete_run(&self, run: &RunRef) -> Result<()>;
    /// Applies a JSON merge patch (RFC 7386) to the run's config.
    async fn merge_config(&self, run: &RunRef, patch: &Value) -> Result<Run>;
    /// Applies a JSON merge patch (RFC 7386) to the run's summary.
    async fn merge_summary(&self, run: &RunRef, patch: &Value) -> Result<Run>;
    /// Records that the run is alive; a crashed run becomes running again.
    async fn heartbeat(&self, run: &RunRef) -> Result<Run>;
    /// Marks `running` runs whose last heartbeat is before `before` (unix s) as crashed.
    async fn crash_stale_runs(&self, before: f64) -> Result<Vec<Run>>;

    // --- history ---
    /// Appends a batch in one transaction; durable when it returns; a `seq` already stored
    /// adds nothing.
    async fn append_history(&self, run: &RunRef, batch: &HistoryBatch) -> Result<IngestAck>;
    async fn append_system(&self, run: &RunRef, batch: &SystemBatch) -> Result<IngestAck>;
    async fn history_keys(&self, run: &RunRef) -> Result<Vec<KeyInfo>>;
    /// Raw rows with steps in `[min_step, max_step]`, at most `limit` of them. `keys` = all
    /// keys when `None`. System metrics when `system` is true.
    async fn history_rows(
        &self,
        run: &RunRef,
        keys: Option<&[String]>,
        min_step: i64,
        max_step: i64,
        limit: usize,
        system: bool,
    ) -> Result<HistoryPage>;
    /// Every stored value of one key with steps in `[min_step, max_step]`, in step order, at
    /// full resolution, with each step's time from the stream's `_timestamp` series. A key the
    /// run never logged gives empty columns; more than `limits::MAX_SERIES_POINTS` values is
    /// refused (InvalidArgument) before any is read.
    async fn history_series(
        &self,
        run: &RunRef,
        key: &str,
        min_step: i64,
        max_step: i64,
        stream: Stream,
    ) -> Result<SeriesColumns>;
    /// Chart read (M4) over runs of one project.
    async fn chart(&self, entity: &str, project: &str, query: &ChartQuery) -> Result<ChartResponse>;

    // --- console ---
    /// Writes console lines; returns the number of lines stored afterwards.
    async fn append_console(&self, run: &RunRef, append: &ConsoleAppend, now: f64) -> Result<u64>;
    async fn read_console(&self, run: &RunRef, offset: u64, limit: u64) -> Result<ConsolePage>;

    // --- files ---
    async fn record_file(&self, run: &RunRef, file: &RunFile) -> Result<()>;
    async fn list_files(&self, run: &RunRef) -> Result<Vec<RunFile>>;
    async fn get_file(&self, run: &RunRef, path: &str) -> Result<RunFile>;

    // --- dashboard: sign-in, saved views, metric statistics ---
    /// Sets (or with `None` removes) a user's password hash (a PHC string).
    async fn set_password(&self, user_id: i64, password_hash: Option<&str>) -> Result<()>;
    /// The user of this name and their password hash, when they have a password.
    async fn password_of(&self, user: &str) -> Result<Option<(User, String)>>;
    /// Revokes one API key (a browser session's); unknown keys are ignored.
    async fn delete_api_key(&self, key_hash: &str) -> Result<()>;
    /// The project's saved views, by name.
    async fn list_views(&self, entity: &str, project: &str) -> Result<Vec<SavedView>>;
    /// Creates or replaces a view.
    async fn put_view(&self, entity: &str, project: &str, name: &str, state: &Value) -> Result<SavedView>;
    /// Deletes a view; a missing one is `NotFound`.
    async fn delete_view(&self, entity: &str, project: &str, name: &str) -> Result<()>;
    /// Every key logged by any run of the project (both streams, `_timestamp` included), with
    /// the number of runs that have it; ordered by stream, then key.
    async fn project_keys(&self, entity: &str, project: &str) -> Result<Vec<ProjectKey>>;
    /// Statistics of the scalar history keys `keys` of every run of the project, from the
    /// per-key records ingest keeps (no point is read).
    async fn run_metrics(&self, entity: &str, project: &str, keys: &[String]) -> Result<Vec<RunMetric>>;

    // --- blobs (content-addressed artifact files) ---
    /// For each blob, its stored size when it is stored and `caller` may use it without
    /// sending its bytes: an admin, a user who sent them before, or a member of an entity
    /// whose artifacts hold it. `None` otherwise.
    async fn blobs_held(&self, caller: &User, blobs: &[BlobRef]) -> Result<Vec<Option<u64>>>;
    /// The stored size of a blob, whoever holds it.
    async fn blob_size(&self, sha256: &str) -> Result<Option<u64>>;
    /// Records a verified blob (a no-op when stored) and that `user_id` sent its bytes.
    async fn record_blob(&self, sha256: &str, size: u64, user_id: i64, now: f64) -> Result<()>;
    /// Parts of an upload in progress that the server holds.
    async fn upload_parts(&self, sha256: &str, size: u64) -> Result<Vec<u64>>;
    async fn record_upload_part(&self, sha256: &str, size: u64, part: u64, now: f64) -> Result<()>;
    /// Forgets an upload's parts (their bytes are the caller's to delete).
    async fn clear_upload(&self, sha256: &str, size: u64) -> Result<()>;
    /// Deletes the records of blobs no version holds that were stored before `before`, and
    /// answers them (sha256, size): their bytes are the caller's to delete.
    async fn collect_blobs(&self, before: f64) -> Result<Vec<(String, u64)>>;
    /// Forgets uploads whose last part arrived before `before`; answers their parts' paths.
    async fn abandon_uploads(&self, before: f64) -> Result<Vec<(String, u64, u64)>>;
    async fn blob_totals(&self) -> Result<BlobTotals>;
    /// A random secret of the server's (created on first use), the same for every server on
    /// this database: signs blob URLs.
    async fn server_secret(&self, name: &str) -> Result<String>;

    // --- artifacts ---
    /// Creates a version (and the artifact, and the project, when new). Every stored file's
    /// blob must be held by `caller` (see `blobs_held`), else `Conflict` naming the missing.
    async fn create_version(
        &self,
        entity: &str,
        project: &str,
        name: &str,
        create: &VersionCreate,
        caller: &User,
        now: f64,
    ) -> Result<ArtifactVersion>;
    async fn list_artifacts(&self, entity: &str, project: &str, kind: Option<&str>) -> Result<Vec<Artifact>>;
    async fn get_artifact(&self, entity: &str, project: &str, name: &str) -> Result<Artifact>;
    /// Deletes every version; `Conflict` while one is linked in the registry.
    async fn delete_artifact(&self, entity: &str, project: &str, name: &str) -> Result<()>;
    /// Newest first.
    async fn list_versions(&self, entity: &str, project: &str, name: &str) -> Result<Vec<ArtifactVersion>>;
    /// `version` is `vN`, `latest` or an alias.
    async fn get_version(&self, entity: &str, project: &str, name: &str, version: &str) -> Result<ArtifactVersion>;
    async fn patch_version(
        &self,
        entity: &str,
        project: &str,
        name: &str,
        version: &str,
        patch: &VersionPatch,
        now: f64,
    ) -> Result<ArtifactVersion>;
    /// `Conflict` while the version is linked in the registry.
    async fn delete_version(&self, entity: &str, project: &str, name: &str, version: &str) -> Result<()>;
    async fn version_files(&self, entity: &str, project: &str, name: &str, version: &str)
    -> Result<Vec<ManifestEntry>>;
    async fn set_alias(
        &self,
        entity: &str,
        project: &str,
        name: &str,
        alias: &str,
        version: &str,
    ) -> Result<ArtifactVersion>;
    async fn delete_alias(&self, entity: &str, project: &str, name: &str, alias: &str) -> Result<()>;
    /// Records that `run` used the version (again: no change).
    async fn record_use(
        &self,
        entity: &str,
        project: &str,
        name: &str,
        version: &str,
        run: &RunRef,
        now: f64,
    ) -> Result<()>;
    async fn run_artifacts(&self, run: &RunRef) -> Result<RunArtifacts>;
    /// The lineage graph from a version or a run, walked `up` (what it came from), `down`
    /// (what came of it) or both, at most `depth` steps.
    async fn lineage(&self, root: LineageRoot, up: bool, down: bool, depth: u32) -> Result<Lineage>;
    async fn storage_report(&self, entity: &str, project: &str) -> Result<StorageReport>;
    /// Deletes versions whose TTL passed (not those linked in the registry); answers how many.
    async fn expire_versions(&self, now: f64) -> Result<u64>;

    // --- model registry ---
    async fn list_models(&self, entity: &str) -> Result<Vec<RegisteredModel>>;
    async fn create_model(&self, entity: &str, create: &ModelCreate, user: &str, now: f64) -> Result<RegisteredModel>;
    async fn get_model(&self, entity: &str, name: &str) -> Result<RegisteredModel>;
    /// Deletes the model and its links (the audit trail is kept and records who deleted it).
    async fn delete_model(&self, entity: &str, name: &str, user: &str, now: f64) -> Result<()>;
    /// Links an artifact version as the model's next version (or answers the version that
    /// links it already, with `false`), and puts `aliases` on it.
    async fn link_model_version(
        &self,
        entity: &str,
        model: &str,
        artifact: &ArtifactKey,
        aliases: &[String],
        user: &str,
        now: f64,
    ) -> Result<(ModelVersion, bool)>;
    async fn unlink_model_version(&self, entity: &str, model: &str, version: &str, user: &str, now: f64) -> Result<()>;
    async fn set_model_alias(
        &self,
        entity: &str,
        model: &str,
        alias: &str,
        version: &str,
        user: &str,
        now: f64,
    ) -> Result<ModelVersion>;
    async fn delete_model_alias(&self, entity: &str, model: &str, alias: &str, user: &str, now: f64) -> Result<()>;
    async fn model_audit(&self, entity: &str, model: &str) -> Result<Vec<AuditEntry>>;
}

/// An artifact version by its names; `version` is `vN`, `latest` or an alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactKey {
    pub entity: String,
    pub project: String,
    pub name: String,
    pub version: String,
}

/// Where a lineage walk starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineageRoot {
    Version(ArtifactKey),
    Run(RunRef),
}

/// Count, minimum, maximum (both ignoring NaN) and last value of one history key of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunMetric {
    pub run: String,
    pub key: String,
    pub count: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// `None` when the last value was NaN.
    pub last: Option<f64>,
}

pub type ByteStream = BoxStream<'static, Result<Bytes>>;

/// Blob storage: a flat namespace of `/`-separated paths.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Writes a blob from a stream; returns its size and sha256 (hex).
    async fn put_stream(&self, path: &str, data: ByteStream) -> Result<(u64, String)>;
    async fn get_stream(&self, path: &str) -> Result<ByteStream>;
    async fn delete(&self, path: &str) -> Result<()>;
}

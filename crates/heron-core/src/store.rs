//! The storage contracts. Every backend (SQLite now, PostgreSQL later) implements [`Store`];
//! blobs go through [`BlobStore`]. The server holds them as `Arc<dyn Store>` and never names a
//! database driver. `conformance` (feature `conformance`) is the test suite every backend runs.

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use heron_types::{
    ChartQuery, ChartResponse, ConsoleAppend, ConsolePage, Entity, HistoryBatch, HistoryPage, IngestAck, KeyInfo,
    Project, ProjectCreate, ProjectKey, Run, RunFile, RunPatch, RunUpsert, RunUpserted, SavedView, SeriesColumns,
    Stream, SystemBatch,
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

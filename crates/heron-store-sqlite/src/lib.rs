//! Heron's embedded store: the [`heron_core::Store`] contract on one SQLite file (WAL mode).
//!
//! One writer connection serialises writes (SQLite allows one writer at a time anyway); a small
//! pool of reader connections serves reads concurrently from the WAL snapshot. All database
//! work runs on tokio's blocking pool, never on the async executor. Blobs live elsewhere
//! (`heron-blob`); this crate owns only metadata, history chunks, console lines and file records.
#![forbid(unsafe_code)]

mod accounts;
mod artifacts;
mod cache;
mod dashboard;
mod history;
mod migrations;
mod runs;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use heron_core::{Error, Result};
use rusqlite::{Connection, OpenFlags};

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// fsync on every commit: an acknowledged batch survives power loss (default).
    #[default]
    Full,
    /// fsync at WAL checkpoints only: an acknowledged batch survives the server being killed
    /// but not the machine losing power.
    Normal,
}

#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub durability: Durability,
    /// Reader connections kept open.
    pub readers: usize,
    /// Memory for chart reads' cache of chunk summaries and points (bytes).
    pub cache_bytes: u64,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions { durability: Durability::Full, readers: 4, cache_bytes: 256 * 1024 * 1024 }
    }
}

pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    options: SqliteOptions,
    cache: cache::ChartCache,
}

fn db_error(error: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    match &error {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                Error::unavailable(format!("database is busy, retry: {error}"))
            }
            ErrorCode::DiskFull => Error::unavailable(format!("disk is full: {error}")),
            ErrorCode::ConstraintViolation => Error::conflict(format!("conflicting write: {error}")),
            _ => Error::internal(format!("database error: {error}")),
        },
        _ => Error::internal(format!("database error: {error}")),
    }
}

trait ResultExt<T> {
    fn db(self) -> Result<T>;
}

impl<T> ResultExt<T> for std::result::Result<T, rusqlite::Error> {
    fn db(self) -> Result<T> {
        self.map_err(db_error)
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>, options: SqliteOptions) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::unavailable(format!("cannot create {}: {e}", parent.display())))?;
        }
        let mut writer = open_connection(&path, &options, false)?;
        migrations::migrate(&mut writer)?;
        let cache = cache::ChartCache::new(options.cache_bytes);
        let inner = Inner { path, writer: Mutex::new(writer), readers: Mutex::new(Vec::new()), options, cache };
        Ok(SqliteStore { inner: Arc::new(inner) })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `work` with the writer connection on the blocking pool.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().map_err(|_| Error::internal("writer connection poisoned"))?;
            work(&mut conn)
        })
        .await
        .map_err(|e| Error::internal(format!("database task failed: {e}")))?
    }

    /// Runs `work` with a reader connection on the blocking pool.
    async fn read<T: Send + 'static>(&self, work: impl FnOnce(&Connection) -> Result<T> + Send + 'static) -> Result<T> {
        self.read_cached(move |conn, _| work(conn)).await
    }

    /// Like `read`, with the chart cache at hand.
    async fn read_cached<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection, &cache::ChartCache) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().map_err(|_| Error::internal("reader pool poisoned"))?.pop();
            let conn = match pooled {
                Some(conn) => conn,
                None => open_connection(&inner.path, &inner.options, true)?,
            };
            let result = work(&conn, &inner.cache);
            if let Ok(mut pool) = inner.readers.lock()
                && pool.len() < inner.options.readers
            {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|e| Error::internal(format!("database task failed: {e}")))?
    }
}

fn open_connection(path: &Path, options: &SqliteOptions, read_only: bool) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let mut conn = Connection::open_with_flags(path, flags)
        .map_err(|e| Error::unavailable(format!("cannot open database {}: {e}", path.display())))?;
    if !read_only {
        // The writer's transactions take the write lock when they begin: a transaction that
        // reads first and writes later could otherwise fail with SQLITE_BUSY when its snapshot
        // went stale, which no busy timeout retries.
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
    }
    let synchronous = match options.durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    conn.busy_timeout(std::time::Duration::from_secs(10)).db()?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL").db()?;
    }
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {synchronous};
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -8000;
         PRAGMA temp_store = MEMORY;"
    ))
    .db()?;
    Ok(conn)
}

mod store_impl {
    use async_trait::async_trait;
    use heron_core::{ArtifactKey, LineageRoot, Result, RunMetric, RunRef, Store, User};
    use heron_types::{
        Artifact, ArtifactVersion, AuditEntry, BlobRef, BlobTotals, ChartQuery, ChartResponse, ConsoleAppend,
        ConsolePage, Entity, HistoryBatch, HistoryPage, IngestAck, KeyInfo, Lineage, ManifestEntry, ModelCreate,
        ModelVersion, Project, ProjectCreate, ProjectKey, RegisteredModel, Run, RunArtifacts, RunFile, RunPatch,
        RunUpsert, RunUpserted, SavedView, SeriesColumns, StorageReport, Stream, SystemBatch, VersionCreate,
        VersionPatch, XAxis,
    };
    use serde_json::Value;

    use crate::{SqliteStore, accounts, artifacts, dashboard, history, runs};

    /// Charts over at least this many runs are reduced on two threads.
    const PARALLEL_CHART_RUNS: usize = 8;

    #[async_trait]
    impl Store for SqliteStore {
        async fn bootstrap_admin(&self, name: &str, key_hash: &str) -> Result<bool> {
            let (name, key_hash) = (name.to_string(), key_hash.to_string());
            self.write(move |conn| {
                let tx = conn.transaction().map_err(crate::db_error)?;
                if accounts::user_count(&tx)? > 0 {
                    return Ok(false);
                }
                accounts::insert_user(&tx, &name, true, &key_hash)?;
                tx.commit().map_err(crate::db_error)?;
                Ok(true)
            })
            .await
        }

        async fn create_user(&self, name: &str, admin: bool, key_hash: &str) -> Result<User> {
            let (name, key_hash) = (name.to_string(), key_hash.to_string());
            self.write(move |conn| {
                let tx = conn.transaction().map_err(crate::db_error)?;
                let user = accounts::insert_user(&tx, &name, admin, &key_hash)?;
                tx.commit().map_err(crate::db_error)?;
                Ok(user)
            })
            .await
        }

        async fn user_by_key(&self, key_hash: &str) -> Result<Option<User>> {
            let key_hash = key_hash.to_string();
            self.read(move |conn| accounts::user_by_key(conn, &key_hash)).await
        }

        async fn add_api_key(&self, user_id: i64, key_hash: &str) -> Result<()> {
            let key_hash = key_hash.to_string();
            self.write(move |conn| accounts::add_api_key(conn, user_id, &key_hash)).await
        }

        async fn add_login_token(&self, user: &str, token_hash: &str, expires_at: f64) -> Result<()> {
            let (user, token_hash) = (user.to_string(), token_hash.to_string());
            self.write(move |conn| accounts::add_login_token(conn, &user, &token_hash, expires_at)).await
        }

        async fn redeem_login_token(&self, token_hash: &str, now: f64) -> Result<Option<User>> {
            let token_hash = token_hash.to_string();
            self.write(move |conn| accounts::redeem_login_token(conn, &token_hash, now)).await
        }

        async fn entities_of(&self, user_id: i64) -> Result<Vec<String>> {
            self.read(move |conn| accounts::entities_of(conn, user_id)).await
        }

        async fn get_entity(&self, name: &str) -> Result<Entity> {
            let name = name.to_string();
            self.read(move |conn| accounts::get_entity(conn, &name)).await
        }

        async fn create_team(&self, name: &str, owner_id: i64) -> Result<Entity> {
            let name = name.to_string();
            self.write(move |conn| {
                let tx = conn.transaction().map_err(crate::db_error)?;
                let team = accounts::create_team(&tx, &name, owner_id)?;
                tx.commit().map_err(crate::db_error)?;
                Ok(team)
            })
            .await
        }

        async fn create_project(&self, entity: &str, create: &ProjectCreate) -> Result<Project> {
            let (entity, create) = (entity.to_string(), create.clone());
            self.write(move |conn| accounts::create_project(conn, &entity, &create)).await
        }

        async fn get_project(&self, entity: &str, project: &str) -> Result<Project> {
            let (entity, project) = (entity.to_string(), project.to_string());
            self.read(move |conn| accounts::get_project(conn, &entity, &project)).await
        }

        async fn list_projects(&self, entity: &str) -> Result<Vec<Project>> {
            let entity = entity.to_string();
            self.read(move |conn| accounts::list_projects(conn, &entity)).await
        }

        async fn upsert_run(&self, entity: &str, project: &str, id: &str, body: &RunUpsert) -> Result<RunUpserted> {
            let (entity, project, id, body) = (entity.to_string(), project.to_string(), id.to_string(), body.clone());
            self.write(move |conn| runs::upsert_run(conn, &entity, &project, &id, &body)).await
        }

        async fn get_run(&self, run: &RunRef) -> Result<Run> {
            let run = run.clone();
            self.read(move |conn| runs::get_run(conn, &run)).await
        }

        async fn list_runs(&self, entity: &str, project: &str) -> Result<Vec<Run>> {
            let (entity, project) = (entity.to_string(), project.to_string());
            self.read(move |conn| runs::list_runs(conn, &entity, &project)).await
        }

        async fn patch_run(&self, run: &RunRef, patch: &RunPatch) -> Result<Run> {
            let (run, patch) = (run.clone(), patch.clone());
            self.write(move |conn| runs::patch_run(conn, &run, &patch)).await
        }

        async fn delete_run(&self, run: &RunRef) -> Result<()> {
            let run = run.clone();
            self.write(move |conn| runs::delete_run(conn, &run)).await
        }

        async fn merge_config(&self, run: &RunRef, patch: &Value) -> Result<Run> {
            let (run, patch) = (run.clone(), patch.clone());
            self.write(move |conn| runs::merge_document(conn, &run, "config", &patch)).await
        }

        async fn merge_summary(&self, run: &RunRef, patch: &Value) -> Result<Run> {
            let (run, patch) = (run.clone(), patch.clone());
            self.write(move |conn| runs::merge_document(conn, &run, "summary", &patch)).await
        }

        async fn heartbeat(&self, run: &RunRef) -> Result<Run> {
            let run = run.clone();
            self.write(move |conn| runs::heartbeat(conn, &run)).await
        }

        async fn crash_stale_runs(&self, before: f64) -> Result<Vec<Run>> {
            self.write(move |conn| runs::crash_stale_runs(conn, before)).await
        }

        async fn append_history(&self, run: &RunRef, batch: &HistoryBatch) -> Result<IngestAck> {
            // Validated once, by `columnize`, inside the append.
            let (run, batch) = (run.clone(), batch.clone());
            self.write(move |conn| {
                let seq = batch.seq;
                history::append(conn, &run, Stream::History, seq, move |_| Ok(batch.rows))
            })
            .await
        }

        async fn append_system(&self, run: &RunRef, batch: &SystemBatch) -> Result<IngestAck> {
            let (run, batch) = (run.clone(), batch.clone());
            self.write(move |conn| {
                history::append(conn, &run, Stream::System, batch.seq, |first| {
                    heron_core::ingest::system_rows(&batch, first)
                })
            })
            .await
        }

        async fn history_keys(&self, run: &RunRef) -> Result<Vec<KeyInfo>> {
            let run = run.clone();
            self.read(move |conn| history::keys(conn, &run)).await
        }

        async fn history_rows(
            &self,
            run: &RunRef,
            keys: Option<&[String]>,
            min_step: i64,
            max_step: i64,
            limit: usize,
            system: bool,
        ) -> Result<HistoryPage> {
            let (run, keys) = (run.clone(), keys.map(<[String]>::to_vec));
            let stream = if system { Stream::System } else { Stream::History };
            self.read(move |conn| history::rows(conn, &run, keys.as_deref(), min_step, max_step, limit, stream)).await
        }

        async fn history_series(
            &self,
            run: &RunRef,
            key: &str,
            min_step: i64,
            max_step: i64,
            stream: Stream,
        ) -> Result<SeriesColumns> {
            let (run, key) = (run.clone(), key.to_string());
            self.read_cached(move |conn, cache| history::series(conn, cache, &run, &key, min_step, max_step, stream))
                .await
        }

        async fn chart(&self, entity: &str, project: &str, query: &ChartQuery) -> Result<ChartResponse> {
            heron_core::chart::check_query(query)?;
            let answer = |query: ChartQuery| {
                let (entity, project) = (entity.to_string(), project.to_string());
                self.read_cached(move |conn, cache| {
                    let mut source = history::ProjectSeries::new(conn, cache, &entity, &project);
                    heron_core::chart::answer(&mut source, &query)
                })
            };
            // Many runs on the step axis: fix the shared range, then reduce two halves of the
            // runs on two reader connections at once.
            if query.x != XAxis::Step || query.runs.len() < PARALLEL_CHART_RUNS {
                return answer(query.clone()).await;
            }
            let (entity_name, project_name, whole) = (entity.to_string(), project.to_string(), query.clone());
            let range = self
                .read_cached(move |conn, cache| {
                    let mut source = history::ProjectSeries::new(conn, cache, &entity_name, &project_name);
                    heron_core::chart::step_range(&mut source, &whole)
                })
                .await?;
            let Some((lo, hi)) = range else { return answer(query.clone()).await };
            let half = query.runs.len() / 2;
            let part = |runs: &[String]| ChartQuery {
                runs: runs.to_vec(),
                x_min: Some(lo as f64),
                x_max: Some(hi as f64),
                ..query.clone()
            };
            let (mut first, second) =
                tokio::try_join!(answer(part(&query.runs[..half])), answer(part(&query.runs[half..])))?;
            first.series.extend(second.series);
            Ok(first)
        }

        async fn append_console(&self, run: &RunRef, append: &ConsoleAppend, now: f64) -> Result<u64> {
            let (run, append) = (run.clone(), append.clone());
            self.write(move |conn| runs::append_console(conn, &run, &append, now)).await
        }

        async fn read_console(&self, run: &RunRef, offset: u64, limit: u64) -> Result<ConsolePage> {
            let run = run.clone();
            self.read(move |conn| runs::read_console(conn, &run, offset, limit)).await
        }

        async fn record_file(&self, run: &RunRef, file: &RunFile) -> Result<()> {
            let (run, file) = (run.clone(), file.clone());
            self.write(move |conn| runs::record_file(conn, &run, &file)).await
        }

        async fn list_files(&self, run: &RunRef) -> Result<Vec<RunFile>> {
            let run = run.clone();
            self.read(move |conn| runs::list_files(conn, &run)).await
        }

        async fn get_file(&self, run: &RunRef, path: &str) -> Result<RunFile> {
            let (run, path) = (run.clone(), path.to_string());
            self.read(move |conn| runs::get_file(conn, &run, &path)).await
        }

        async fn set_password(&self, user_id: i64, password_hash: Option<&str>) -> Result<()> {
            let hash = password_hash.map(str::to_string);
            self.write(move |conn| dashboard::set_password(conn, user_id, hash.as_deref())).await
        }

        async fn password_of(&self, user: &str) -> Result<Option<(User, String)>> {
            let user = user.to_string();
            self.read(move |conn| dashboard::password_of(conn, &user)).await
        }

        async fn delete_api_key(&self, key_hash: &str) -> Result<()> {
            let key_hash = key_hash.to_string();
            self.write(move |conn| dashboard::delete_api_key(conn, &key_hash)).await
        }

        async fn list_views(&self, entity: &str, project: &str) -> Result<Vec<SavedView>> {
            let (entity, project) = (entity.to_string(), project.to_string());
            self.read(move |conn| dashboard::list_views(conn, &entity, &project)).await
        }

        async fn put_view(&self, entity: &str, project: &str, name: &str, state: &Value) -> Result<SavedView> {
            let (entity, project, name, state) =
                (entity.to_string(), project.to_string(), name.to_string(), state.clone());
            self.write(move |conn| dashboard::put_view(conn, &entity, &project, &name, &state)).await
        }

        async fn delete_view(&self, entity: &str, project: &str, name: &str) -> Result<()> {
            let (entity, project, name) = (entity.to_string(), project.to_string(), name.to_string());
            self.write(move |conn| dashboard::delete_view(conn, &entity, &project, &name)).await
        }

        async fn project_keys(&self, entity: &str, project: &str) -> Result<Vec<ProjectKey>> {
            let (entity, project) = (entity.to_string(), project.to_string());
            self.read(move |conn| dashboard::project_keys(conn, &entity, &project)).await
        }

        async fn run_metrics(&self, entity: &str, project: &str, keys: &[String]) -> Result<Vec<RunMetric>> {
            let (entity, project, keys) = (entity.to_string(), project.to_string(), keys.to_vec());
            self.read(move |conn| dashboard::run_metrics(conn, &entity, &project, &keys)).await
        }

        // --- blobs ---
        async fn blobs_held(&self, caller: &User, blobs: &[BlobRef]) -> Result<Vec<Option<u64>>> {
            let (caller, blobs) = (caller.clone(), blobs.to_vec());
            self.read(move |conn| artifacts::blobs_held(conn, &caller, &blobs)).await
        }

        async fn blob_size(&self, sha256: &str) -> Result<Option<u64>> {
            let sha256 = sha256.to_string();
            self.read(move |conn| artifacts::blob_size(conn, &sha256)).await
        }

        async fn record_blob(&self, sha256: &str, size: u64, user_id: i64, now: f64) -> Result<()> {
            let sha256 = sha256.to_string();
            self.write(move |conn| artifacts::record_blob(conn, &sha256, size, user_id, now)).await
        }

        async fn upload_parts(&self, sha256: &str, size: u64) -> Result<Vec<u64>> {
            let sha256 = sha256.to_string();
            self.read(move |conn| artifacts::upload_parts(conn, &sha256, size)).await
        }

        async fn record_upload_part(&self, sha256: &str, size: u64, part: u64, now: f64) -> Result<()> {
            let sha256 = sha256.to_string();
            self.write(move |conn| artifacts::record_upload_part(conn, &sha256, size, part, now)).await
        }

        async fn clear_upload(&self, sha256: &str, size: u64) -> Result<()> {
            let sha256 = sha256.to_string();
            self.write(move |conn| artifacts::clear_upload(conn, &sha256, size)).await
        }

        async fn collect_blobs(&self, before: f64) -> Result<Vec<(String, u64)>> {
            self.write(move |conn| artifacts::collect_blobs(conn, before)).await
        }

        async fn abandon_uploads(&self, before: f64) -> Result<Vec<(String, u64, u64)>> {
            self.write(move |conn| artifacts::abandon_uploads(conn, before)).await
        }

        async fn blob_totals(&self) -> Result<BlobTotals> {
            self.read(artifacts::blob_totals).await
        }

        async fn server_secret(&self, name: &str) -> Result<String> {
            let name = name.to_string();
            self.write(move |conn| artifacts::server_secret(conn, &name)).await
        }

        // --- artifacts ---
        async fn create_version(
            &self,
            entity: &str,
            project: &str,
            name: &str,
            create: &VersionCreate,
            caller: &User,
            now: f64,
        ) -> Result<ArtifactVersion> {
            let (entity, project, name, create, caller) =
                (entity.to_string(), project.to_string(), name.to_string(), create.clone(), caller.clone());
            self.write(move |conn| artifacts::create_version(conn, &entity, &project, &name, &create, &caller, now))
                .await
        }

        async fn list_artifacts(&self, entity: &str, project: &str, kind: Option<&str>) -> Result<Vec<Artifact>> {
            let (entity, project, kind) = (entity.to_string(), project.to_string(), kind.map(str::to_string));
            self.read(move |conn| artifacts::list_artifacts(conn, &entity, &project, kind.as_deref())).await
        }

        async fn get_artifact(&self, entity: &str, project: &str, name: &str) -> Result<Artifact> {
            let (entity, project, name) = (entity.to_string(), project.to_string(), name.to_string());
            self.read(move |conn| artifacts::get_artifact(conn, &entity, &project, &name)).await
        }

        async fn delete_artifact(&self, entity: &str, project: &str, name: &str) -> Result<()> {
            let (entity, project, name) = (entity.to_string(), project.to_string(), name.to_string());
            self.write(move |conn| artifacts::delete_artifact(conn, &entity, &project, &name)).await
        }

        async fn list_versions(&self, entity: &str, project: &str, name: &str) -> Result<Vec<ArtifactVersion>> {
            let (entity, project, name) = (entity.to_string(), project.to_string(), name.to_string());
            self.read(move |conn| artifacts::list_versions(conn, &entity, &project, &name)).await
        }

        async fn get_version(&self, entity: &str, project: &str, name: &str, version: &str) -> Result<ArtifactVersion> {
            let key = key(entity, project, name, version);
            self.read(move |conn| artifacts::get_version(conn, &key)).await
        }

        async fn patch_version(
            &self,
            entity: &str,
            project: &str,
            name: &str,
            version: &str,
            patch: &VersionPatch,
            now: f64,
        ) -> Result<ArtifactVersion> {
            let (key, patch) = (key(entity, project, name, version), patch.clone());
            self.write(move |conn| artifacts::patch_version(conn, &key, &patch, now)).await
        }

        async fn delete_version(&self, entity: &str, project: &str, name: &str, version: &str) -> Result<()> {
            let key = key(entity, project, name, version);
            self.write(move |conn| artifacts::delete_version(conn, &key)).await
        }

        async fn version_files(
            &self,
            entity: &str,
            project: &str,
            name: &str,
            version: &str,
        ) -> Result<Vec<ManifestEntry>> {
            let key = key(entity, project, name, version);
            self.read(move |conn| artifacts::version_files(conn, &key)).await
        }

        async fn set_alias(
            &self,
            entity: &str,
            project: &str,
            name: &str,
            alias: &str,
            version: &str,
        ) -> Result<ArtifactVersion> {
            let (key, alias) = (key(entity, project, name, version), alias.to_string());
            self.write(move |conn| artifacts::set_alias(conn, &key, &alias)).await
        }

        async fn delete_alias(&self, entity: &str, project: &str, name: &str, alias: &str) -> Result<()> {
            let (entity, project, name, alias) =
                (entity.to_string(), project.to_string(), name.to_string(), alias.to_string());
            self.write(move |conn| artifacts::delete_alias(conn, &entity, &project, &name, &alias)).await
        }

        async fn record_use(
            &self,
            entity: &str,
            project: &str,
            name: &str,
            version: &str,
            run: &RunRef,
            now: f64,
        ) -> Result<()> {
            let (key, run) = (key(entity, project, name, version), run.clone());
            self.write(move |conn| artifacts::record_use(conn, &key, &run, now)).await
        }

        async fn run_artifacts(&self, run: &RunRef) -> Result<RunArtifacts> {
            let run = run.clone();
            self.read(move |conn| artifacts::run_artifacts(conn, &run)).await
        }

        async fn lineage(&self, root: LineageRoot, up: bool, down: bool, depth: u32) -> Result<Lineage> {
            self.read(move |conn| artifacts::lineage(conn, &root, up, down, depth)).await
        }

        async fn storage_report(&self, entity: &str, project: &str) -> Result<StorageReport> {
            let (entity, project) = (entity.to_string(), project.to_string());
            self.read(move |conn| artifacts::storage_report(conn, &entity, &project)).await
        }

        async fn expire_versions(&self, now: f64) -> Result<u64> {
            self.write(move |conn| artifacts::expire_versions(conn, now)).await
        }

        // --- model registry ---
        async fn list_models(&self, entity: &str) -> Result<Vec<RegisteredModel>> {
            let entity = entity.to_string();
            self.read(move |conn| artifacts::list_models(conn, &entity)).await
        }

        async fn create_model(
            &self,
            entity: &str,
            create: &ModelCreate,
            user: &str,
            now: f64,
        ) -> Result<RegisteredModel> {
            let (entity, create, user) = (entity.to_string(), create.clone(), user.to_string());
            self.write(move |conn| artifacts::create_model(conn, &entity, &create, &user, now)).await
        }

        async fn get_model(&self, entity: &str, name: &str) -> Result<RegisteredModel> {
            let (entity, name) = (entity.to_string(), name.to_string());
            self.read(move |conn| artifacts::get_model(conn, &entity, &name)).await
        }

        async fn delete_model(&self, entity: &str, name: &str, user: &str, now: f64) -> Result<()> {
            let (entity, name, user) = (entity.to_string(), name.to_string(), user.to_string());
            self.write(move |conn| artifacts::delete_model(conn, &entity, &name, &user, now)).await
        }

        async fn link_model_version(
            &self,
            entity: &str,
            model: &str,
            artifact: &ArtifactKey,
            aliases: &[String],
            user: &str,
            now: f64,
        ) -> Result<(ModelVersion, bool)> {
            let (entity, model, artifact, aliases, user) =
                (entity.to_string(), model.to_string(), artifact.clone(), aliases.to_vec(), user.to_string());
            self.write(move |conn| {
                artifacts::link_model_version(conn, &entity, &model, &artifact, &aliases, &user, now)
            })
            .await
        }

        async fn unlink_model_version(
            &self,
            entity: &str,
            model: &str,
            version: &str,
            user: &str,
            now: f64,
        ) -> Result<()> {
            let (entity, model, version, user) =
                (entity.to_string(), model.to_string(), version.to_string(), user.to_string());
            self.write(move |conn| artifacts::unlink_model_version(conn, &entity, &model, &version, &user, now)).await
        }

        async fn set_model_alias(
            &self,
            entity: &str,
            model: &str,
            alias: &str,
            version: &str,
            user: &str,
            now: f64,
        ) -> Result<ModelVersion> {
            let (entity, model, alias, version, user) =
                (entity.to_string(), model.to_string(), alias.to_string(), version.to_string(), user.to_string());
            self.write(move |conn| artifacts::set_model_alias(conn, &entity, &model, &alias, &version, &user, now))
                .await
        }

        async fn delete_model_alias(&self, entity: &str, model: &str, alias: &str, user: &str, now: f64) -> Result<()> {
            let (entity, model, alias, user) =
                (entity.to_string(), model.to_string(), alias.to_string(), user.to_string());
            self.write(move |conn| artifacts::delete_model_alias(conn, &entity, &model, &alias, &user, now)).await
        }

        async fn model_audit(&self, entity: &str, model: &str) -> Result<Vec<AuditEntry>> {
            let (entity, model) = (entity.to_string(), model.to_string());
            self.read(move |conn| artifacts::model_audit(conn, &entity, &model)).await
        }
    }

    fn key(entity: &str, project: &str, name: &str, version: &str) -> ArtifactKey {
        ArtifactKey {
            entity: entity.to_string(),
            project: project.to_string(),
            name: name.to_string(),
            version: version.to_string(),
        }
    }
}

//! The Heron server: the axum application (router, auth, handlers, Server-Sent Events,
//! OpenAPI document) over a [`heron_core::Store`] and a [`heron_core::BlobStore`] chosen once,
//! at start-up, from URLs. One entry point: [`serve`]. No database driver is named outside
//! [`open_store`].
#![forbid(unsafe_code)]

mod api;
mod artifacts;
mod auth;
mod dashboard;
mod error;
mod events;
mod export;
mod openapi;
mod ui;

pub use ui::embedded as dashboard_embedded;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use heron_core::{BlobStore, Error, Result, Store, keys, time};
use heron_store_sqlite::{SqliteOptions, SqliteStore};
use heron_types::ProjectEvent;
use tokio::net::TcpListener;

pub use artifacts::collect as collect_garbage;
pub use auth::KEY_COOKIE;
pub use error::status_of;
pub use heron_store_sqlite::Durability;
pub use openapi::openapi_json;

/// What the server needs to start. The CLI fills it from flags, env vars and a TOML file.
#[derive(Clone)]
pub struct ServerConfig {
    /// Holds `heron.db` and `blobs/` unless the URLs below say otherwise.
    pub data_dir: PathBuf,
    /// `sqlite:///abs/path.db` or a file path; default `DATA_DIR/heron.db`.
    pub database_url: Option<String>,
    /// `file:///abs/dir`, `memory://`; default `DATA_DIR/blobs`.
    pub blob_url: Option<String>,
    /// A `running` run whose heartbeat is older than this is marked `crashed`.
    pub heartbeat_timeout: Duration,
    /// `full` (fsync every commit, default) or `normal`.
    pub durability: Durability,
    /// Memory for chart reads' cache of chunk summaries and points.
    pub cache_bytes: u64,
    /// Serve the dashboard from this folder (a `web/dist`) instead of the built-in one.
    pub web_dir: Option<PathBuf>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|_| "<redacted>"))
            .field("blob_url", &self.blob_url)
            .field("heartbeat_timeout", &self.heartbeat_timeout)
            .field("durability", &self.durability)
            .field("cache_bytes", &self.cache_bytes)
            .field("web_dir", &self.web_dir)
            .finish()
    }
}

impl ServerConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            data_dir: data_dir.into(),
            database_url: None,
            blob_url: None,
            heartbeat_timeout: Duration::from_secs(300),
            durability: Durability::Full,
            cache_bytes: 256 * 1024 * 1024,
            web_dir: None,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub blobs: Arc<dyn BlobStore>,
    pub events: Arc<events::Events>,
    pub config: Arc<ServerConfig>,
    /// Cancelled when the server starts shutting down: ends the event streams so that the
    /// graceful shutdown does not wait on them.
    pub closing: tokio_util::sync::CancellationToken,
    /// Blob-collection and per-blob locks, and the key that signs blob URLs.
    pub blob_guard: Arc<artifacts::BlobGuard>,
}

impl AppState {
    pub fn publish(&self, entity: &str, project: &str, event: ProjectEvent) {
        self.events.publish(entity, project, event);
    }
}

/// Opens the metadata store named by the config: the one place a backend is chosen.
pub fn open_store(config: &ServerConfig) -> Result<Arc<dyn Store>> {
    let path = match config.database_url.as_deref() {
        None => config.data_dir.join("heron.db"),
        Some(url) => {
            if let Some(path) = url.strip_prefix("sqlite://") {
                PathBuf::from(path)
            } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                return Err(Error::invalid(
                    "PostgreSQL is not supported by this build yet; use the embedded store (omit --database-url)",
                ));
            } else if url.contains("://") {
                return Err(Error::invalid(format!(
                    "unsupported database URL {url:?}; use sqlite:///path/to/heron.db"
                )));
            } else {
                PathBuf::from(url)
            }
        }
    };
    let options =
        SqliteOptions { durability: config.durability, cache_bytes: config.cache_bytes, ..Default::default() };
    Ok(Arc::new(SqliteStore::open(path, options)?))
}

pub fn open_blobs(config: &ServerConfig) -> Result<Arc<dyn BlobStore>> {
    match config.blob_url.as_deref() {
        Some(url) => heron_blob::open(url),
        None => heron_blob::open(&format!("file://{}", config.data_dir.join("blobs").display())),
    }
}

impl AppState {
    pub fn open(config: ServerConfig) -> Result<AppState> {
        let blobs = open_blobs(&config)?;
        let store = open_store(&config)?;
        Ok(AppState {
            store,
            blobs,
            events: Arc::default(),
            config: Arc::new(config),
            closing: Default::default(),
            blob_guard: artifacts::guard(),
        })
    }
}

/// What the first start on an empty store created.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    pub admin: String,
    /// The admin's API key: shown once.
    pub api_key: String,
    /// A one-time token for `/login?token=...` (valid 24 hours).
    pub login_token: String,
}

pub const ADMIN_NAME: &str = "admin";

/// On an empty store, creates the admin account with `api_key` (else a generated key) and a
/// one-time browser login token. `None` when the store already has users.
pub async fn bootstrap(state: &AppState, api_key: Option<String>) -> Result<Option<Bootstrapped>> {
    let api_key = api_key.filter(|k| !k.trim().is_empty()).unwrap_or_else(keys::generate_api_key);
    if !state.store.bootstrap_admin(ADMIN_NAME, &keys::hash_secret(&api_key)).await? {
        return Ok(None);
    }
    let login_token = keys::random_hex(24);
    state.store.add_login_token(ADMIN_NAME, &keys::hash_secret(&login_token), time::now() + 86_400.0).await?;
    Ok(Some(Bootstrapped { admin: ADMIN_NAME.to_string(), api_key, login_token }))
}

pub fn router(state: AppState) -> Router {
    api::router(state)
}

/// Marks runs whose heartbeat stopped as crashed. Runs open before a restart get one full
/// timeout after the start to speak again.
async fn watch_heartbeats(state: AppState) {
    let timeout = state.config.heartbeat_timeout;
    let period = (timeout / 4).clamp(Duration::from_millis(200), Duration::from_secs(30));
    let started = tokio::time::Instant::now();
    let mut ticker = tokio::time::interval(period);
    loop {
        ticker.tick().await;
        if started.elapsed() < timeout {
            continue;
        }
        match state.store.crash_stale_runs(time::now() - timeout.as_secs_f64()).await {
            Ok(runs) => {
                for run in runs {
                    tracing::info!(run = %run.id, project = %run.project, "run stopped sending heartbeats: marked crashed");
                    let (entity, project) = (run.entity.clone(), run.project.clone());
                    state.publish(&entity, &project, ProjectEvent::Run { run: Box::new(run) });
                }
            }
            Err(error) => tracing::warn!(%error, "heartbeat check failed"),
        }
    }
}

/// Serves the API on `listener` until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let watcher = tokio::spawn(watch_heartbeats(state.clone()));
    let collector = tokio::spawn(artifacts::collect_periodically(state.clone()));
    let closing = state.closing.clone();
    let app = router(state);
    let shutdown = async move {
        shutdown.await;
        closing.cancel();
    };
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    watcher.abort();
    collector.abort();
    result
}

//! `heron server` settings: defaults, then a TOML file (`--config` / `HERON_CONFIG`), then
//! `HERON_*` environment variables, then flags.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use heron_server::{Durability, ServerConfig};
use serde::Deserialize;

#[derive(Args, Debug)]
pub struct ServerArgs {
    /// Address to listen on; loopback unless you mean to expose the server [default: 127.0.0.1]
    #[arg(long, env = "HERON_HOST")]
    host: Option<String>,
    /// Port to listen on; 0 picks a free one [default: 8745]
    #[arg(long, env = "HERON_PORT")]
    port: Option<u16>,
    /// Folder for the embedded database and blobs [default: $XDG_DATA_HOME/heron]
    #[arg(long, env = "HERON_DATA_DIR")]
    data: Option<PathBuf>,
    /// Metadata database: sqlite:///path/heron.db [default: DATA/heron.db]
    #[arg(long, env = "HERON_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Blob storage: file:///abs/dir or memory:// [default: DATA/blobs]
    #[arg(long, env = "HERON_BLOB_URL")]
    blob_url: Option<String>,
    /// Seconds without a heartbeat after which a running run is marked crashed [default: 300]
    #[arg(long, env = "HERON_HEARTBEAT_TIMEOUT")]
    heartbeat_timeout: Option<f64>,
    /// `full`: fsync each acknowledged batch (survives power loss); `normal`: survives a killed
    /// server but not a power cut [default: full]
    #[arg(long, env = "HERON_DURABILITY")]
    durability: Option<String>,
    /// Memory in MiB for the chart-read cache of chunk summaries and points [default: 256]
    #[arg(long, env = "HERON_CACHE_MB")]
    cache_mb: Option<u64>,
    /// Serve the dashboard from this folder (a built `web/dist`) instead of the one built in
    #[arg(long, env = "HERON_WEB_DIR")]
    web_dir: Option<PathBuf>,
    /// TOML file with any of the settings above (keys as the flags, with underscores)
    #[arg(long, env = "HERON_CONFIG")]
    config: Option<PathBuf>,
    /// On first start (empty store), log the `heron demo` training into the project `demo`
    #[arg(long)]
    demo: bool,
}

#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    host: Option<String>,
    port: Option<u16>,
    data: Option<PathBuf>,
    database_url: Option<String>,
    blob_url: Option<String>,
    heartbeat_timeout: Option<f64>,
    durability: Option<String>,
    cache_mb: Option<u64>,
    web_dir: Option<PathBuf>,
}

pub struct Settings {
    pub demo: bool,
    pub host: String,
    pub port: u16,
    pub server: ServerConfig,
}

impl ServerArgs {
    pub fn resolve(self) -> Result<Settings> {
        let file: FileSettings = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("invalid settings in {}", path.display()))?
            }
            None => FileSettings::default(),
        };
        let data_dir = match self.data.or(file.data) {
            Some(dir) => dir,
            None => dirs::data_dir().context("cannot find the user's data folder; pass --data DIR")?.join("heron"),
        };
        let data_dir = if data_dir.is_absolute() { data_dir } else { std::env::current_dir()?.join(data_dir) };
        let heartbeat = self.heartbeat_timeout.or(file.heartbeat_timeout).unwrap_or(300.0);
        if !(heartbeat.is_finite() && heartbeat > 0.0) {
            bail!("--heartbeat-timeout must be a positive number of seconds");
        }
        let durability = match self.durability.or(file.durability).as_deref().unwrap_or("full") {
            "full" => Durability::Full,
            "normal" => Durability::Normal,
            other => bail!("--durability must be `full` or `normal`, not {other:?}"),
        };
        let mut server = ServerConfig::new(data_dir);
        server.database_url = self.database_url.or(file.database_url);
        server.blob_url = self.blob_url.or(file.blob_url);
        server.heartbeat_timeout = Duration::from_secs_f64(heartbeat);
        server.durability = durability;
        server.cache_bytes = self.cache_mb.or(file.cache_mb).unwrap_or(256) * 1024 * 1024;
        server.web_dir = self.web_dir.or(file.web_dir);
        if let Some(dir) = &server.web_dir
            && !dir.join("index.html").is_file()
        {
            bail!(
                "--web-dir {}: no index.html there; build the dashboard with `cd web && npm run build`",
                dir.display()
            );
        }
        Ok(Settings {
            demo: self.demo,
            host: self.host.or(file.host).unwrap_or_else(|| "127.0.0.1".to_string()),
            port: self.port.or(file.port).unwrap_or(8745),
            server,
        })
    }
}

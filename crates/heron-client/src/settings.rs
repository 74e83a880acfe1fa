//! Client settings: arguments first, then `HERON_*` environment variables, then the local
//! credentials file (API key) and defaults.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8745";
pub const DEFAULT_PROJECT: &str = "uncategorized";
/// How long `finish()` waits for the upload before leaving the rest for `heron sync`.
pub const DEFAULT_FINISH_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_SYSTEM_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Log locally and upload as it goes.
    Online,
    /// Log locally only; `heron sync` uploads later.
    Offline,
    /// Do nothing: every call returns at once and nothing is written.
    Disabled,
}

impl Mode {
    pub fn parse(text: &str) -> Result<Mode, crate::Error> {
        match text.trim().to_ascii_lowercase().as_str() {
            "online" | "run" => Ok(Mode::Online),
            "offline" | "dryrun" => Ok(Mode::Offline),
            "disabled" => Ok(Mode::Disabled),
            other => Err(crate::Error::local(format!("mode must be online, offline or disabled, not {other:?}"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Online => "online",
            Mode::Offline => "offline",
            Mode::Disabled => "disabled",
        }
    }
}

/// Where warnings go (the Python package routes them to `warnings.warn`); default: stderr.
pub type WarningSink = Arc<dyn Fn(&str) + Send + Sync>;

pub fn stderr_sink() -> WarningSink {
    Arc::new(|message: &str| eprintln!("heron: {message}"))
}

#[derive(Clone)]
pub struct Settings {
    pub base_url: String,
    pub api_key: Option<String>,
    pub mode: Mode,
    /// The folder that holds run folders (`HERON_DIR`, default `./heron`).
    pub dir: PathBuf,
    pub finish_timeout: Duration,
    /// None turns system metrics off.
    pub system_interval: Option<Duration>,
    /// Record git commit, remote and the uncommitted diff.
    pub git: bool,
    /// Record host, OS, program and arguments.
    pub host_metadata: bool,
    /// Time allowed for the run to be created on the server at `init` before carrying on offline-first.
    pub init_timeout: Duration,
    pub warn: WarningSink,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("mode", &self.mode)
            .field("dir", &self.dir)
            .field("finish_timeout", &self.finish_timeout)
            .field("system_interval", &self.system_interval)
            .finish()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_seconds(name: &str) -> Result<Option<Duration>, crate::Error> {
    match env(name) {
        None => Ok(None),
        Some(text) => match text.trim().parse::<f64>() {
            Ok(secs) if secs.is_finite() && secs >= 0.0 => Ok(Some(Duration::from_secs_f64(secs))),
            _ => Err(crate::Error::local(format!("{name} must be a number of seconds, not {text:?}"))),
        },
    }
}

fn env_flag(name: &str, default: bool) -> bool {
    match env(name).map(|v| v.to_ascii_lowercase()) {
        Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => false,
        Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => true,
        _ => default,
    }
}

impl Settings {
    /// Settings from the environment (`HERON_BASE_URL`, `HERON_API_KEY`, `HERON_MODE`, `HERON_DIR`,
    /// `HERON_FINISH_TIMEOUT`, `HERON_SYSTEM_INTERVAL` (0 = off), `HERON_GIT`, `HERON_HOST_METADATA`,
    /// `HERON_INIT_TIMEOUT`) and the credentials file.
    pub fn from_env() -> Result<Settings, crate::Error> {
        let base_url =
            env("HERON_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.into()).trim_end_matches('/').to_string();
        let mode = match env("HERON_MODE") {
            Some(text) => Mode::parse(&text)?,
            None => Mode::Online,
        };
        let api_key = env("HERON_API_KEY").or_else(|| crate::credentials::load(&base_url));
        let system_interval = match env_seconds("HERON_SYSTEM_INTERVAL")? {
            Some(d) if d.is_zero() => None,
            Some(d) => Some(d.max(Duration::from_millis(100))),
            None => Some(DEFAULT_SYSTEM_INTERVAL),
        };
        Ok(Settings {
            api_key,
            mode,
            dir: env("HERON_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("heron")),
            finish_timeout: env_seconds("HERON_FINISH_TIMEOUT")?.unwrap_or(DEFAULT_FINISH_TIMEOUT),
            system_interval,
            git: env_flag("HERON_GIT", true),
            host_metadata: env_flag("HERON_HOST_METADATA", true),
            init_timeout: env_seconds("HERON_INIT_TIMEOUT")?.unwrap_or(Duration::from_secs(10)),
            warn: stderr_sink(),
            base_url,
        })
    }

    /// Re-reads the key for a changed base URL when none was given explicitly.
    pub fn with_base_url(mut self, base_url: &str) -> Settings {
        self.base_url = base_url.trim_end_matches('/').to_string();
        if env("HERON_API_KEY").is_none() {
            self.api_key = crate::credentials::load(&self.base_url);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_with_wandb_aliases() {
        assert_eq!(Mode::parse("ONLINE").unwrap(), Mode::Online);
        assert_eq!(Mode::parse("dryrun").unwrap(), Mode::Offline);
        assert_eq!(Mode::parse("disabled").unwrap(), Mode::Disabled);
        let error = Mode::parse("sometimes").unwrap_err();
        assert!(error.message.contains("online, offline or disabled"), "{error}");
    }
}

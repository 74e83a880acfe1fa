//! The local credentials file that SDKs and the CLI read: `$XDG_CONFIG_HOME/heron/credentials.toml`
//! (default `~/.config/heron/credentials.toml`), one table per server URL:
//!
//! ```toml
//! [hosts."http://127.0.0.1:8745"]
//! api_key = "heron_..."
//! ```

use std::path::PathBuf;

use anyhow::{Context, Result};

pub fn path() -> Result<PathBuf> {
    let base = dirs::config_dir().context("cannot find the user's config folder; set XDG_CONFIG_HOME")?;
    Ok(base.join("heron").join("credentials.toml"))
}

/// Records `api_key` for `base_url`, keeping the other hosts; the file is readable by its owner only.
pub fn save(base_url: &str, api_key: &str) -> Result<PathBuf> {
    let path = path()?;
    let mut document: toml::Table = match std::fs::read_to_string(&path) {
        Ok(text) => text.parse().with_context(|| format!("{} is not valid TOML", path.display()))?,
        Err(_) => toml::Table::new(),
    };
    let hosts = document.entry("hosts").or_insert_with(|| toml::Value::Table(Default::default()));
    let Some(hosts) = hosts.as_table_mut() else {
        anyhow::bail!("{}: `hosts` must be a table", path.display());
    };
    let mut entry = toml::Table::new();
    entry.insert("api_key".into(), toml::Value::String(api_key.to_string()));
    hosts.insert(base_url.trim_end_matches('/').to_string(), toml::Value::Table(entry));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let temp = path.with_extension("toml.tmp");
    std::fs::write(&temp, toml::to_string(&document)?).with_context(|| format!("cannot write {}", temp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&temp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

//! The local credentials file that the SDKs and the CLI read: `$XDG_CONFIG_HOME/heron/credentials.toml`
//! (default `~/.config/heron/credentials.toml`), one table per server URL:
//!
//! ```toml
//! [hosts."http://127.0.0.1:8745"]
//! api_key = "heron_..."
//! ```

use std::path::PathBuf;

use crate::Error;

pub fn path() -> Result<PathBuf, Error> {
    let base =
        dirs::config_dir().ok_or_else(|| Error::local("cannot find the user's config folder; set XDG_CONFIG_HOME"))?;
    Ok(base.join("heron").join("credentials.toml"))
}

fn read() -> Result<(PathBuf, toml::Table), Error> {
    let path = path()?;
    let document = match std::fs::read_to_string(&path) {
        Ok(text) => text.parse().map_err(|e| Error::local(format!("{} is not valid TOML: {e}", path.display())))?,
        Err(_) => toml::Table::new(),
    };
    Ok((path, document))
}

/// The key saved for `base_url`, if any.
pub fn load(base_url: &str) -> Option<String> {
    let (_, document) = read().ok()?;
    let entry = document.get("hosts")?.as_table()?.get(base_url.trim_end_matches('/'))?;
    entry.get("api_key")?.as_str().map(String::from)
}

/// Records `api_key` for `base_url`, keeping the other hosts; the file is readable by its owner only.
pub fn save(base_url: &str, api_key: &str) -> Result<PathBuf, Error> {
    let (path, mut document) = read()?;
    let hosts = document.entry("hosts").or_insert_with(|| toml::Value::Table(Default::default()));
    let Some(hosts) = hosts.as_table_mut() else {
        return Err(Error::local(format!("{}: `hosts` must be a table", path.display())));
    };
    let mut entry = toml::Table::new();
    entry.insert("api_key".into(), toml::Value::String(api_key.to_string()));
    hosts.insert(base_url.trim_end_matches('/').to_string(), toml::Value::Table(entry));
    let io = |e: std::io::Error| Error::local(format!("cannot write {}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let temp = path.with_extension("toml.tmp");
    let text = toml::to_string(&document).map_err(|e| Error::local(e.to_string()))?;
    std::fs::write(&temp, text).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    std::fs::rename(&temp, &path).map_err(io)?;
    Ok(path)
}

//! The artifact download cache: blobs stored once by sha256 under `HERON_CACHE_DIR` (default
//! `$XDG_CACHE_HOME/heron/artifacts`), bounded by `HERON_CACHE_SIZE` (default 10 GB; `0` turns
//! the cache off), least recently used first out.
//!
//! Downloads are hard-linked from the cache into their destination when both sit on one file
//! system (copied otherwise). Cached blobs are made read-only, so that editing a downloaded file
//! in place fails instead of silently changing the cache and every other download linked to it.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::http::Error;

/// `HERON_CACHE_SIZE` when unset: 10 GB.
pub const DEFAULT_CACHE_BYTES: u64 = 10_000_000_000;

/// Parses a size: plain bytes (`1048576`), or a number with a unit: `KB`, `MB`, `GB`, `TB`
/// (powers of 1000) or `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024); case does not matter and
/// `K`, `M`, `G`, `T` mean the decimal units.
pub fn parse_size(text: &str) -> Result<u64, Error> {
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let bad =
        || Error::local(format!("size {text:?} must be a number of bytes or a number with a unit (500MB, 10GB, 2GiB)"));
    let number: f64 = number.parse().map_err(|_| bad())?;
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad()),
    };
    let bytes = number * multiplier;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes.round() as u64)
}

/// Shows a byte count the way people read it (`1.5 MiB`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[derive(Debug, Clone)]
pub struct Cache {
    pub dir: PathBuf,
    pub max_bytes: u64,
}

impl Cache {
    /// The cache the environment asks for; `None` when `HERON_CACHE_SIZE` is 0.
    pub fn from_env() -> Result<Option<Cache>, Error> {
        let max_bytes = match std::env::var("HERON_CACHE_SIZE").ok().filter(|v| !v.trim().is_empty()) {
            Some(text) => parse_size(&text).map_err(|e| Error::local(format!("HERON_CACHE_SIZE: {}", e.message)))?,
            None => DEFAULT_CACHE_BYTES,
        };
        if max_bytes == 0 {
            return Ok(None);
        }
        Ok(Some(Cache { dir: default_dir()?, max_bytes }))
    }

    /// Where `sha256`'s bytes are kept.
    pub fn blob_path(&self, sha256: &str) -> PathBuf {
        self.dir.join("blobs").join(&sha256[..2.min(sha256.len())]).join(sha256)
    }

    /// The cached copy of a blob when there is one of the right size; marks it used.
    pub fn lookup(&self, sha256: &str, size: u64) -> Option<PathBuf> {
        let path = self.blob_path(sha256);
        let metadata = std::fs::metadata(&path).ok()?;
        if !metadata.is_file() || metadata.len() != size {
            let _ = remove_read_only(&path);
            return None;
        }
        touch(&path);
        Some(path)
    }

    /// Keeps `file` (already verified to hold `sha256`) in the cache: a hard link when the
    /// file system allows it, else a copy. Failures only cost a later download, so they are
    /// returned for a warning, not raised.
    pub fn insert(&self, sha256: &str, file: &Path) -> Result<(), Error> {
        let path = self.blob_path(sha256);
        if path.is_file() {
            touch(&path);
            return Ok(());
        }
        let io = |e: std::io::Error| {
            Error::local(format!("cannot add {} to the cache {}: {e}", file.display(), self.dir.display()))
        };
        let parent = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent).map_err(io)?;
        let temp = parent.join(format!(".{sha256}.{}.tmp", std::process::id()));
        let _ = std::fs::remove_file(&temp);
        if std::fs::hard_link(file, &temp).is_err() {
            std::fs::copy(file, &temp).map_err(io)?;
        }
        set_read_only(&temp);
        std::fs::rename(&temp, &path).map_err(io)?;
        touch(&path);
        Ok(())
    }

    /// Removes the least recently used blobs until the cache holds at most `max_bytes`;
    /// returns (files removed, bytes freed).
    pub fn cleanup(&self, max_bytes: u64) -> Result<(u64, u64), Error> {
        let mut blobs: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
        let root = self.dir.join("blobs");
        let shards = match std::fs::read_dir(&root) {
            Ok(shards) => shards,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
            Err(e) => return Err(Error::local(format!("cannot read the cache {}: {e}", root.display()))),
        };
        for shard in shards.flatten() {
            for entry in std::fs::read_dir(shard.path()).into_iter().flatten().flatten() {
                let Ok(metadata) = entry.metadata() else { continue };
                if !metadata.is_file() {
                    continue;
                }
                let used = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                blobs.push((used, metadata.len(), entry.path()));
            }
        }
        let mut total: u64 = blobs.iter().map(|(_, size, _)| size).sum();
        blobs.sort();
        let (mut removed, mut freed) = (0, 0);
        for (_, size, path) in blobs {
            if total <= max_bytes {
                break;
            }
            if remove_read_only(&path).is_ok() {
                total -= size;
                removed += 1;
                freed += size;
            }
        }
        Ok((removed, freed))
    }

    /// Total bytes held.
    pub fn size(&self) -> u64 {
        let root = self.dir.join("blobs");
        std::fs::read_dir(root)
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|shard| std::fs::read_dir(shard.path()).into_iter().flatten().flatten())
            .filter_map(|entry| entry.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum()
    }
}

/// `HERON_CACHE_DIR`, else `$XDG_CACHE_HOME/heron/artifacts` (`~/.cache/heron/artifacts`).
pub fn default_dir() -> Result<PathBuf, Error> {
    if let Some(dir) = std::env::var_os("HERON_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let base =
        dirs::cache_dir().ok_or_else(|| Error::local("cannot find the user's cache folder; set HERON_CACHE_DIR"))?;
    Ok(base.join("heron").join("artifacts"))
}

/// Shrinks the cache of `HERON_CACHE_DIR` to `max_bytes` (default: `HERON_CACHE_SIZE`, else
/// 10 GB); returns (files removed, bytes freed).
pub fn cache_cleanup(max_bytes: Option<u64>) -> Result<(u64, u64), Error> {
    let limit = match max_bytes {
        Some(limit) => limit,
        None => Cache::from_env()?.map_or(0, |c| c.max_bytes),
    };
    Cache { dir: default_dir()?, max_bytes: limit }.cleanup(limit)
}

/// Marks a blob as just used (its modification time orders the eviction).
fn touch(path: &Path) {
    if let Ok(file) = std::fs::File::options().append(true).open(path).or_else(|_| std::fs::File::open(path)) {
        let _ = file.set_modified(SystemTime::now());
    }
}

fn set_read_only(path: &Path) {
    if let Ok(metadata) = std::fs::metadata(path) {
        let mut permissions = metadata.permissions();
        permissions.set_readonly(true);
        let _ = std::fs::set_permissions(path, permissions);
    }
}

fn remove_read_only(path: &Path) -> std::io::Result<()> {
    // On Unix removing needs only the folder's permission; elsewhere the file must be writable.
    #[cfg(not(unix))]
    if let Ok(metadata) = std::fs::metadata(path) {
        let mut permissions = metadata.permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        let _ = std::fs::set_permissions(path, permissions);
    }
    std::fs::remove_file(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_decimal_and_binary_units() {
        assert_eq!(parse_size("1048576").unwrap(), 1_048_576);
        assert_eq!(parse_size("500MB").unwrap(), 500_000_000);
        assert_eq!(parse_size("10GB").unwrap(), 10_000_000_000);
        assert_eq!(parse_size("10 gb").unwrap(), 10_000_000_000);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("1.5k").unwrap(), 1500);
        assert_eq!(parse_size("0").unwrap(), 0);
        for bad in ["", "ten", "10 parsecs", "-5MB", "MB"] {
            let error = parse_size(bad).unwrap_err();
            assert!(error.message.contains("500MB"), "{bad}: {error}");
        }
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }

    #[test]
    fn eviction_removes_the_least_recently_used_first() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache { dir: dir.path().join("cache"), max_bytes: 1000 };
        let source = dir.path().join("source");
        std::fs::create_dir(&source).unwrap();
        let mut names = Vec::new();
        for (i, age) in [(0u8, 300u64), (1, 200), (2, 100)] {
            let sha = format!("{i:02x}{}", "0".repeat(62));
            let file = source.join(&sha);
            std::fs::write(&file, vec![i; 400]).unwrap();
            cache.insert(&sha, &file).unwrap();
            let when = SystemTime::now() - std::time::Duration::from_secs(age);
            std::fs::File::open(cache.blob_path(&sha)).unwrap().set_modified(when).unwrap();
            names.push(sha);
        }
        assert_eq!(cache.size(), 1200);
        // Using the oldest makes the middle one the least recently used.
        assert!(cache.lookup(&names[0], 400).is_some());
        assert_eq!(cache.cleanup(900).unwrap(), (1, 400));
        assert!(!cache.blob_path(&names[1]).exists(), "least recently used goes first");
        assert!(cache.blob_path(&names[0]).exists() && cache.blob_path(&names[2]).exists());
        assert!(cache.lookup(&names[2], 399).is_none(), "a wrong size is a miss, and the entry is dropped");
        assert_eq!(cache.size(), 400);
        assert_eq!(cache.cleanup(0).unwrap(), (1, 400));
        assert_eq!(cache.cleanup(0).unwrap(), (0, 0));
    }
}

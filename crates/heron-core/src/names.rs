//! Validation of names that become parts of URLs and storage paths.

use heron_types::limits;

use crate::error::{Error, Result};

/// Entity, project and run ids: ASCII letters, digits, `_`, `-`, `.`; not starting with `.`.
pub fn check_name(what: &str, name: &str) -> Result<()> {
    const MAX: usize = 64;
    if name.is_empty() {
        return Err(Error::invalid(format!("{what} must not be empty")));
    }
    if name.len() > MAX {
        return Err(Error::invalid(format!("{what} {name:?} is longer than {MAX} characters")));
    }
    if name.starts_with('.') {
        return Err(Error::invalid(format!("{what} {name:?} must not start with '.'")));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
        return Err(Error::invalid(format!("{what} {name:?} contains {bad:?}; use letters, digits, '_', '-' and '.'")));
    }
    Ok(())
}

/// Metric keys and tags: any non-empty unicode text up to `MAX_KEY_BYTES`, without control characters.
pub fn check_key(what: &str, key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid(format!("{what} must not be empty")));
    }
    if key.len() > limits::MAX_KEY_BYTES {
        let head: String = key.chars().take(32).collect();
        return Err(Error::invalid(format!(
            "{what} {head:?}... is {} bytes; the limit is {} bytes",
            key.len(),
            limits::MAX_KEY_BYTES
        )));
    }
    if key.chars().any(char::is_control) {
        return Err(Error::invalid(format!("{what} {key:?} contains a control character")));
    }
    Ok(())
}

/// Run-file paths: relative, `/`-separated, no `..`, `.` or empty segments, no backslashes.
pub fn check_file_path(path: &str) -> Result<()> {
    if path.is_empty() || path.len() > 1024 {
        return Err(Error::invalid("file path must be 1 to 1024 bytes"));
    }
    if path.starts_with('/') || path.contains('\\') || path.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "file path {path:?} must be relative, use '/' and hold no control characters"
        )));
    }
    if path.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..") {
        return Err(Error::invalid(format!("file path {path:?} must not contain empty, '.' or '..' segments")));
    }
    Ok(())
}

/// Depth of a JSON value (a scalar has depth 1).
pub fn json_depth(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Array(items) => 1 + items.iter().map(json_depth).max().unwrap_or(0),
        serde_json::Value::Object(map) => 1 + map.values().map(json_depth).max().unwrap_or(0),
        _ => 1,
    }
}

pub fn check_document(what: &str, value: &serde_json::Value) -> Result<()> {
    if json_depth(value) > limits::MAX_JSON_DEPTH {
        return Err(Error::invalid(format!("{what} is nested deeper than {} levels", limits::MAX_JSON_DEPTH)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("run id", "abc-1_2.x").is_ok());
        assert!(check_name("run id", "").is_err());
        assert!(check_name("run id", "../x").is_err());
        assert!(check_name("run id", "a/b").is_err());
        assert!(check_name("run id", &"a".repeat(65)).is_err());
    }

    #[test]
    fn paths() {
        assert!(check_file_path("media/images/a.png").is_ok());
        for bad in ["/etc/passwd", "../x", "a/../../x", "a//b", "a\\b", "./a", ""] {
            assert!(check_file_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys() {
        assert!(check_key("key", "train/loss ✓").is_ok());
        assert!(check_key("key", &"k".repeat(257)).is_err());
        assert!(check_key("key", "a\nb").is_err());
    }
}

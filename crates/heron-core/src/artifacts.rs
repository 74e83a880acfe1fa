//! Rules of artifacts and the registry shared by the server and the SDKs: which names,
//! aliases, paths, hashes and references are valid, how a version is named, how a manifest's
//! digest is computed, and where a blob's bytes live.

use heron_types::{ManifestEntry, artifact_limits};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Artifact and registered-model names: letters, digits, `_`, `-`, `.`; up to 128 characters;
/// not starting with `.`.
pub fn check_artifact_name(what: &str, name: &str) -> Result<()> {
    check_word(what, name, 128)
}

/// Artifact types: as names, up to 64 characters.
pub fn check_type(kind: &str) -> Result<()> {
    check_word("artifact type", kind, 64)
}

fn check_word(what: &str, name: &str, max: usize) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid(format!("{what} must not be empty")));
    }
    if name.len() > max {
        return Err(Error::invalid(format!("{what} {name:?} is longer than {max} characters")));
    }
    if name.starts_with('.') {
        return Err(Error::invalid(format!("{what} {name:?} must not start with '.'")));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
        return Err(Error::invalid(format!("{what} {name:?} contains {bad:?}; use letters, digits, '_', '-' and '.'")));
    }
    Ok(())
}

/// The alias every artifact's newest version carries, moved by the server only.
pub const LATEST: &str = "latest";

/// A user alias: a name that does not look like a version (`v3`) and is not `latest`.
pub fn check_alias(alias: &str) -> Result<()> {
    check_word("alias", alias, 128)?;
    if version_index(alias).is_some() {
        return Err(Error::invalid(format!("alias {alias:?} looks like a version number; choose another name")));
    }
    if alias == LATEST {
        return Err(Error::invalid("alias \"latest\" is moved by the server to the newest version; it cannot be set"));
    }
    Ok(())
}

/// `v12` → 12.
pub fn version_index(version: &str) -> Option<u64> {
    let digits = version.strip_prefix('v')?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

pub fn version_name(index: u64) -> String {
    format!("v{index}")
}

/// A path inside an artifact: relative, `/`-separated, at most `MAX_PATH_BYTES`, no empty,
/// `.` or `..` segment, no backslash or control character. What a download writes under its
/// root, so nothing may escape it.
pub fn check_path(path: &str) -> Result<()> {
    if path.is_empty() || path.len() > artifact_limits::MAX_PATH_BYTES {
        return Err(Error::invalid(format!(
            "artifact path {:?} must be 1 to {} bytes",
            path.chars().take(64).collect::<String>(),
            artifact_limits::MAX_PATH_BYTES
        )));
    }
    if path.starts_with('/') || path.contains('\\') || path.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "artifact path {path:?} must be relative, use '/' and hold no backslash or control characters"
        )));
    }
    if path.split('/').any(|segment| segment.is_empty() || segment == "." || segment == "..") {
        return Err(Error::invalid(format!("artifact path {path:?} must not contain empty, '.' or '..' segments")));
    }
    Ok(())
}

/// A sha256 as 64 lowercase hex digits.
pub fn check_sha256(sha256: &str) -> Result<()> {
    if sha256.len() != 64 || !sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(Error::invalid(format!(
            "{:?} is not a sha256: expected 64 lowercase hex digits",
            sha256.chars().take(80).collect::<String>()
        )));
    }
    Ok(())
}

/// URI schemes a reference may use.
pub const REFERENCE_SCHEMES: [&str; 5] = ["s3://", "gs://", "https://", "http://", "file://"];

pub fn check_reference(uri: &str) -> Result<()> {
    let scheme_ok = REFERENCE_SCHEMES.iter().any(|s| uri.len() > s.len() && uri[..s.len()].eq_ignore_ascii_case(s));
    if !scheme_ok || uri.len() > 4096 || uri.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "reference {:?} must be a URI of up to 4096 bytes starting with one of {}",
            uri.chars().take(80).collect::<String>(),
            REFERENCE_SCHEMES.join(", ")
        )));
    }
    Ok(())
}

/// Checks a manifest: valid, distinct paths; stored files with a sha256 and no reference,
/// references with a valid URI and no sha256; sizes in bounds.
pub fn check_manifest(files: &[ManifestEntry]) -> Result<()> {
    if files.len() > artifact_limits::MAX_FILES {
        return Err(Error::too_large(format!(
            "a version holds at most {} files; this one has {}",
            artifact_limits::MAX_FILES,
            files.len()
        )));
    }
    let mut paths = std::collections::HashSet::with_capacity(files.len());
    for entry in files {
        check_path(&entry.path)?;
        if !paths.insert(entry.path.as_str()) {
            return Err(Error::invalid(format!("artifact path {:?} appears twice", entry.path)));
        }
        if entry.size > artifact_limits::MAX_BLOB_BYTES {
            return Err(Error::too_large(format!(
                "file {:?} is {} bytes; the limit is {} bytes",
                entry.path,
                entry.size,
                artifact_limits::MAX_BLOB_BYTES
            )));
        }
        match (&entry.sha256, &entry.reference) {
            (Some(sha), None) => {
                check_sha256(sha)?;
                if entry.digest.is_some() {
                    return Err(Error::invalid(format!(
                        "file {:?}: `digest` belongs to references; a stored file is named by its sha256",
                        entry.path
                    )));
                }
            }
            (None, Some(uri)) => {
                check_reference(uri)?;
                if let Some(digest) = &entry.digest
                    && (digest.len() > 256 || digest.chars().any(char::is_control))
                {
                    return Err(Error::invalid(format!("reference {:?}: digest is not valid", entry.path)));
                }
            }
            _ => {
                return Err(Error::invalid(format!(
                    "file {:?} must have either a sha256 (a stored file) or a reference (a URI), not both or neither",
                    entry.path
                )));
            }
        }
    }
    Ok(())
}

/// The digest of a manifest: sha256 over its entries sorted by path. Equal digests mean equal
/// contents, whatever order the files were listed in.
pub fn manifest_digest(files: &[ManifestEntry]) -> String {
    let mut sorted: Vec<&ManifestEntry> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut hasher = Sha256::new();
    for entry in sorted {
        hasher.update(entry.path.as_bytes());
        hasher.update([0]);
        hasher.update(entry.size.to_le_bytes());
        match (&entry.sha256, &entry.reference) {
            (Some(sha), _) => {
                hasher.update(b"S");
                hasher.update(sha.as_bytes());
            }
            (None, reference) => {
                hasher.update(b"R");
                hasher.update(reference.as_deref().unwrap_or_default().as_bytes());
                hasher.update([0]);
                hasher.update(entry.digest.as_deref().unwrap_or_default().as_bytes());
            }
        }
        hasher.update([b'\n']);
    }
    hex::encode(hasher.finalize())
}

/// Where a blob's bytes live in the blob store.
pub fn blob_path(sha256: &str) -> String {
    format!("blobs/sha256/{}/{}", &sha256[..2], &sha256[2..])
}

/// Where part `part` of an upload in progress lives.
pub fn upload_part_path(sha256: &str, size: u64, part: u64) -> String {
    format!("uploads/{sha256}-{size}/{part:06}")
}

/// Parts of a blob of `size` bytes.
pub fn part_count(size: u64) -> u64 {
    size.div_ceil(artifact_limits::PART_BYTES).max(1)
}

/// Size of part `part` of a blob of `size` bytes.
pub fn part_len(size: u64, part: u64) -> u64 {
    let start = part * artifact_limits::PART_BYTES;
    size.saturating_sub(start).min(artifact_limits::PART_BYTES)
}

/// `[entity/][project/]name[:version]`, the way SDKs and the CLI name a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRef {
    pub entity: Option<String>,
    pub project: Option<String>,
    pub name: String,
    /// `latest` when not given.
    pub version: String,
}

impl VersionRef {
    pub fn parse(text: &str) -> Result<VersionRef> {
        let (path, version) = match text.rsplit_once(':') {
            Some((path, version)) => (path, version.to_string()),
            None => (text, LATEST.to_string()),
        };
        let parts: Vec<&str> = path.split('/').collect();
        let (entity, project, name) = match parts.as_slice() {
            [name] => (None, None, *name),
            [project, name] => (None, Some(project.to_string()), *name),
            [entity, project, name] => (Some(entity.to_string()), Some(project.to_string()), *name),
            _ => {
                return Err(Error::invalid(format!(
                    "{text:?} is not an artifact reference; use name:version, project/name:version or entity/project/name:version"
                )));
            }
        };
        if let Some(entity) = &entity {
            crate::names::check_name("entity", entity)?;
        }
        if let Some(project) = &project {
            crate::names::check_name("project", project)?;
        }
        check_artifact_name("artifact name", name)?;
        if version != LATEST && version_index(&version).is_none() {
            check_alias(&version)?;
        }
        Ok(VersionRef { entity, project, name: name.to_string(), version })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(path: &str, sha: char) -> ManifestEntry {
        ManifestEntry {
            path: path.into(),
            size: 3,
            sha256: Some(sha.to_string().repeat(64)),
            reference: None,
            digest: None,
        }
    }

    #[test]
    fn escaping_paths_are_refused() {
        for bad in ["", "/etc/passwd", "../x", "a/../../b", "a//b", "./a", "a/.", "a\\b", "a\nb", "C:\\x"] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
        for good in ["a", "a/b.txt", "dir/sub/file.bin", "..a", "a..", "é/ü.txt", "a b/c"] {
            check_path(good).unwrap();
        }
    }

    #[test]
    fn aliases_and_versions() {
        assert_eq!(version_index("v0"), Some(0));
        assert_eq!(version_index("v12"), Some(12));
        for not in ["v", "12", "v1a", "V1", "v-1"] {
            assert_eq!(version_index(not), None, "{not}");
        }
        check_alias("production").unwrap();
        for bad in ["v3", "latest", "", "a b", ".x", "a/b"] {
            assert!(check_alias(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn digest_ignores_order_and_sees_every_field() {
        let a = vec![stored("a", 'a'), stored("b", 'b')];
        let b = vec![stored("b", 'b'), stored("a", 'a')];
        assert_eq!(manifest_digest(&a), manifest_digest(&b));
        let mut c = a.clone();
        c[1].sha256 = Some("c".repeat(64));
        assert_ne!(manifest_digest(&a), manifest_digest(&c));
        let mut d = a.clone();
        d[1].path = "bb".into();
        assert_ne!(manifest_digest(&a), manifest_digest(&d));
    }

    #[test]
    fn manifests_are_checked() {
        check_manifest(&[stored("a", 'a')]).unwrap();
        assert!(check_manifest(&[stored("a", 'a'), stored("a", 'b')]).is_err());
        let mut upper = stored("a", 'A');
        assert!(check_manifest(std::slice::from_ref(&upper)).is_err());
        upper.sha256 = None;
        upper.reference = Some("s3://bucket/key".into());
        check_manifest(std::slice::from_ref(&upper)).unwrap();
        upper.reference = Some("ftp://host/x".into());
        assert!(check_manifest(&[upper]).is_err());
    }

    #[test]
    fn parts_cover_the_blob() {
        let p = artifact_limits::PART_BYTES;
        assert_eq!(part_count(0), 1);
        assert_eq!(part_count(p), 1);
        assert_eq!(part_count(p + 1), 2);
        assert_eq!(part_len(p + 1, 1), 1);
        assert_eq!(part_len(10, 0), 10);
    }

    #[test]
    fn references_parse() {
        let r = VersionRef::parse("ent/proj/model:production").unwrap();
        assert_eq!(
            (r.entity.as_deref(), r.project.as_deref(), r.name.as_str(), r.version.as_str()),
            (Some("ent"), Some("proj"), "model", "production")
        );
        assert_eq!(VersionRef::parse("data").unwrap().version, "latest");
        assert_eq!(VersionRef::parse("p/data:v3").unwrap().project.as_deref(), Some("p"));
        assert!(VersionRef::parse("a/b/c/d:v1").is_err());
        assert!(VersionRef::parse("../x:v1").is_err());
    }
}

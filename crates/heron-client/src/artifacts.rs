//! Artifacts and the model registry, client side: build an [`Artifact`] from files, folders and
//! references; [`Artifacts::log_artifact`] hashes it, uploads only the blobs the server lacks
//! (in parallel, in parts, resuming parts an interrupted upload left) and creates the version;
//! [`Artifacts::download`] fetches a version's files through their signed URLs, verifying each
//! sha256 before a file appears under its final name, and keeps blobs in the local [`Cache`].
//!
//! The wire protocol is `docs/http-api.md` § Artifacts and § Model registry.
//!
//! ```no_run
//! use heron_client::artifacts::{Artifact, Artifacts};
//! let mut artifact = Artifact::new("mnist", "dataset");
//! artifact.add_dir("data/mnist".as_ref(), None)?;
//! let client = Artifacts::from_env()?;
//! let logged = client.log_artifact("admin", "demo", &artifact, &["baseline".into()], None)?;
//! println!("{}: {} uploaded", logged.version.version, logged.uploaded_bytes);
//! # Ok::<(), heron_client::Error>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use heron_core::artifacts as rules;
use heron_types::artifact_limits::{MAX_ALIASES, MAX_BLOBS_PER_CHECK};
use heron_types::{
    AliasSet, ArtifactFile, ArtifactVersion, AuditEntry, BlobRef, BlobStatus, BlobUpload, BlobsCheck, BlobsMissing,
    Lineage, ManifestEntry, ModelCreate, ModelLink, ModelVersion, RegisteredModel, StorageReport, UseCreate,
    VersionCreate,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::cache::{Cache, human_bytes};
use crate::http::{Api, Error, enc};
use crate::settings::{Settings, WarningSink};

/// Blobs uploaded or downloaded at once.
pub const TRANSFER_THREADS: usize = 8;
/// Attempts of one transfer on network errors and 5xx answers.
const ATTEMPTS: u32 = 5;
/// Rounds of "check what is missing, upload it, create the version" before giving up.
const ROUNDS: usize = 3;
const READ_BUFFER: usize = 1 << 20;

/// Where the bytes of one artifact file come from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// A local file, uploaded as a blob.
    Local { path: PathBuf, size: u64 },
    /// A URI that is recorded, not uploaded. `local` is the file of a `file://` reference whose
    /// sha256 is computed when the version is logged.
    Reference { uri: String, digest: Option<String>, size: u64, local: Option<PathBuf> },
}

/// One file of an artifact being built, as [`Artifact::entries`] lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactEntry {
    /// Path inside the artifact.
    pub path: String,
    /// The local file, or the reference's URI.
    pub source: String,
    pub size: u64,
    pub reference: bool,
}

/// An artifact version being built: files, folders and references under paths of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    pub name: String,
    /// `dataset`, `model`, ...
    pub kind: String,
    pub description: Option<String>,
    /// A JSON object.
    pub metadata: Option<Value>,
    entries: BTreeMap<String, Source>,
}

impl Artifact {
    pub fn new(name: &str, kind: &str) -> Artifact {
        Artifact {
            name: name.to_string(),
            kind: kind.to_string(),
            description: None,
            metadata: None,
            entries: BTreeMap::new(),
        }
    }

    pub fn description(&mut self, text: &str) -> &mut Artifact {
        self.description = Some(text.to_string());
        self
    }

    pub fn metadata(&mut self, metadata: Value) -> &mut Artifact {
        self.metadata = Some(metadata);
        self
    }

    /// Checks the name, type and metadata the way the server will.
    pub fn validate(&self) -> Result<(), Error> {
        check_artifact_name("artifact name", &self.name)?;
        rules::check_type(&self.kind).map_err(local)?;
        if let Some(metadata) = &self.metadata
            && !metadata.is_object()
        {
            return Err(Error::local("artifact metadata must be a JSON object"));
        }
        Ok(())
    }

    /// Adds a local file as `name` (default: its file name).
    pub fn add_file(&mut self, local: &Path, name: Option<&str>) -> Result<&mut Artifact, Error> {
        let metadata =
            std::fs::metadata(local).map_err(|e| Error::local(format!("cannot add {}: {e}", local.display())))?;
        if !metadata.is_file() {
            return Err(Error::local(format!("cannot add {}: not a file (use add_dir for a folder)", local.display())));
        }
        let name = match name {
            Some(name) => name.to_string(),
            None => file_name(local)?,
        };
        // Absolute, so that the artifact still finds it after a change of working folder.
        let path = std::path::absolute(local).unwrap_or_else(|_| local.to_path_buf());
        self.insert(name, Source::Local { path, size: metadata.len() })?;
        Ok(self)
    }

    /// Adds every file under `dir` (recursively, following links to files), at its relative
    /// path under `prefix` (default: the artifact's root).
    pub fn add_dir(&mut self, dir: &Path, prefix: Option<&str>) -> Result<&mut Artifact, Error> {
        if !dir.is_dir() {
            return Err(Error::local(format!("cannot add {}: not a folder", dir.display())));
        }
        let prefix = prefix.map(|p| p.trim_end_matches('/')).filter(|p| !p.is_empty());
        if let Some(prefix) = prefix {
            check_artifact_path(prefix)?;
        }
        let mut found = Vec::new();
        walk(&std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()), "", &mut found)?;
        if found.is_empty() {
            return Err(Error::local(format!("cannot add {}: the folder holds no files", dir.display())));
        }
        for (relative, path, size) in found {
            let name = match prefix {
                Some(prefix) => format!("{prefix}/{relative}"),
                None => relative,
            };
            self.insert(name, Source::Local { path, size })?;
        }
        Ok(self)
    }

    /// Adds a reference: its bytes stay where they are and only the URI and a digest are
    /// recorded. `file://` URIs (to a file or a folder) get their sha256 computed when the
    /// version is logged, unless a `digest` is given; `s3://`, `gs://`, `https://` and `http://`
    /// keep the `digest` given (a checksum or ETag) and are not fetched.
    pub fn add_reference(
        &mut self,
        uri: &str,
        name: Option<&str>,
        digest: Option<&str>,
    ) -> Result<&mut Artifact, Error> {
        self.add_reference_with(uri, name, digest, true)
    }

    /// [`add_reference`](Self::add_reference) with `checksum: false` to record `file://` files
    /// by size only (nothing is read).
    pub fn add_reference_with(
        &mut self,
        uri: &str,
        name: Option<&str>,
        digest: Option<&str>,
        checksum: bool,
    ) -> Result<&mut Artifact, Error> {
        let scheme = uri.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("file") => {
                let local = PathBuf::from(&uri["file://".len()..]);
                if !local.is_absolute() {
                    return Err(Error::local(format!(
                        "{uri}: a file:// reference needs an absolute path (file:///...)"
                    )));
                }
                let metadata = std::fs::metadata(&local).map_err(|e| Error::local(format!("cannot add {uri}: {e}")))?;
                let keep_local = |path: &Path| (checksum && digest.is_none()).then(|| path.to_path_buf());
                if metadata.is_dir() {
                    let mut found = Vec::new();
                    walk(&local, "", &mut found)?;
                    let prefix = name.map(|p| p.trim_end_matches('/')).filter(|p| !p.is_empty());
                    for (relative, path, size) in found {
                        let entry_name = match prefix {
                            Some(prefix) => format!("{prefix}/{relative}"),
                            None => relative,
                        };
                        let file_uri = format!("file://{}", path.display());
                        let local = keep_local(&path);
                        self.insert(entry_name, Source::Reference { uri: file_uri, digest: None, size, local })?;
                    }
                    return Ok(self);
                }
                let entry_name = match name {
                    Some(name) => name.to_string(),
                    None => file_name(&local)?,
                };
                let source = Source::Reference {
                    uri: uri.to_string(),
                    digest: digest.map(String::from),
                    size: metadata.len(),
                    local: keep_local(&local),
                };
                self.insert(entry_name, source)?;
            }
            Some("s3" | "gs" | "https" | "http") => {
                let entry_name = match name {
                    Some(name) => name.to_string(),
                    None => {
                        let without_query = uri.split(['?', '#']).next().unwrap_or_default();
                        let last = without_query.split("://").nth(1).and_then(|rest| rest.split('/').skip(1).last());
                        match last.filter(|l| !l.is_empty()) {
                            Some(last) => last.to_string(),
                            None => return Err(Error::local(format!("{uri}: give the reference a name"))),
                        }
                    }
                };
                let source =
                    Source::Reference { uri: uri.to_string(), digest: digest.map(String::from), size: 0, local: None };
                self.insert(entry_name, source)?;
            }
            _ => {
                return Err(Error::local(format!(
                    "{uri}: a reference must start with s3://, gs://, https://, http:// or file://"
                )));
            }
        }
        Ok(self)
    }

    fn insert(&mut self, name: String, source: Source) -> Result<(), Error> {
        check_artifact_path(&name)?;
        if let Some(existing) = self.entries.get(&name)
            && *existing != source
        {
            return Err(Error::local(format!(
                "the artifact already has a file at {name:?} (from {}); give this one another name",
                describe(existing)
            )));
        }
        self.entries.insert(name, source);
        Ok(())
    }

    /// The files added so far, by path.
    pub fn entries(&self) -> Vec<ArtifactEntry> {
        self.entries
            .iter()
            .map(|(path, source)| ArtifactEntry {
                path: path.clone(),
                source: describe(source),
                size: match source {
                    Source::Local { size, .. } | Source::Reference { size, .. } => *size,
                },
                reference: matches!(source, Source::Reference { .. }),
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn describe(source: &Source) -> String {
    match source {
        Source::Local { path, .. } => path.display().to_string(),
        Source::Reference { uri, .. } => uri.clone(),
    }
}

fn file_name(path: &Path) -> Result<String, Error> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(String::from)
        .ok_or_else(|| Error::local(format!("{} has no file name in UTF-8; give it a name", path.display())))
}

/// Files under `dir` as (relative `/` path, path, size), sorted.
fn walk(dir: &Path, relative: &str, out: &mut Vec<(String, PathBuf, u64)>) -> Result<(), Error> {
    let io = |e: std::io::Error| Error::local(format!("cannot read {}: {e}", dir.display()));
    let mut children: Vec<_> = std::fs::read_dir(dir).map_err(io)?.collect::<Result<_, _>>().map_err(io)?;
    children.sort_by_key(|e| e.file_name());
    for child in children {
        let name = child
            .file_name()
            .into_string()
            .map_err(|n| Error::local(format!("{}: a file name is not UTF-8 ({n:?})", dir.display())))?;
        let path = child.path();
        let child_relative = if relative.is_empty() { name } else { format!("{relative}/{name}") };
        // Follows links; a dangling link is skipped.
        let Ok(metadata) = std::fs::metadata(&path) else { continue };
        if metadata.is_dir() {
            // A link to a folder could loop: only real folders are walked.
            if child.file_type().map(|t| t.is_symlink()).unwrap_or(false) {
                continue;
            }
            walk(&path, &child_relative, out)?;
        } else if metadata.is_file() {
            out.push((child_relative, path, metadata.len()));
        }
    }
    Ok(())
}

/// The server's naming rules (`heron_core::artifacts`), as this crate's errors.
fn local(error: heron_core::Error) -> Error {
    Error::local(error.message)
}

/// Artifact and model names: `[A-Za-z0-9_.-]`, up to 128 characters, not starting with `.`.
pub fn check_artifact_name(what: &str, name: &str) -> Result<(), Error> {
    rules::check_artifact_name(what, name).map_err(local)
}

/// User aliases: name characters, not `latest` (the server moves it) and not a version (`v3`).
pub fn check_alias(alias: &str) -> Result<(), Error> {
    rules::check_alias(alias).map_err(local)
}

/// Paths inside an artifact: relative, `/`-separated, 1 to 1024 bytes, no empty, `.` or `..`
/// segment, no backslash, no control character. The same rule the server applies.
pub fn check_artifact_path(path: &str) -> Result<(), Error> {
    rules::check_path(path).map_err(local)
}

/// `root` joined with a checked artifact path: never outside `root`.
pub fn safe_join(root: &Path, path: &str) -> Result<PathBuf, Error> {
    check_artifact_path(path)?;
    let mut out = root.to_path_buf();
    for segment in path.split('/') {
        out.push(segment);
    }
    Ok(out)
}

/// `[entity/][project/]name[:version]` (version default `latest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactRef {
    pub entity: Option<String>,
    pub project: Option<String>,
    pub name: String,
    pub version: String,
}

impl ArtifactRef {
    pub fn parse(text: &str) -> Result<ArtifactRef, Error> {
        let parsed = rules::VersionRef::parse(text).map_err(local)?;
        Ok(ArtifactRef { entity: parsed.entity, project: parsed.project, name: parsed.name, version: parsed.version })
    }
}

/// An artifact checked and hashed, ready to be sent: what an offline run keeps in its folder
/// (`artifacts/*.json`) until `heron sync` logs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StagedArtifact {
    pub name: String,
    pub kind: String,
    pub description: Option<String>,
    pub metadata: Option<Value>,
    pub aliases: Vec<String>,
    pub files: Vec<ManifestEntry>,
    /// sha256 → (a local file holding it, size).
    pub blobs: BTreeMap<String, (PathBuf, u64)>,
}

impl StagedArtifact {
    /// Re-hashes the local files: an error names the first one that changed since staging.
    pub fn verify(&self) -> Result<(), Error> {
        for (sha, (path, _)) in &self.blobs {
            let (found, _) = sha256_file(path, None)?;
            if &found != sha {
                return Err(Error::local(format!(
                    "{} changed after the offline run logged artifact {:?}; log it again from an online run",
                    path.display(),
                    self.name
                )));
            }
        }
        Ok(())
    }

    /// What `log_artifact` answers before the server has seen it (version empty).
    pub fn pending_report(&self, entity: &str, project: &str, run: Option<&str>) -> LogReport {
        let mut version = placeholder_version();
        version.entity = entity.to_string();
        version.project = project.to_string();
        version.name = self.name.clone();
        version.kind = self.kind.clone();
        version.description = self.description.clone();
        version.metadata = self.metadata.clone().unwrap_or(Value::Null);
        version.size = self.files.iter().map(|f| f.size).sum();
        version.file_count = self.files.len() as u64;
        version.run = run.map(String::from);
        LogReport {
            version,
            files: self.files.len() as u64,
            uploaded_bytes: 0,
            deduplicated_bytes: 0,
            resumed_bytes: 0,
            uploaded_blobs: 0,
        }
    }
}

/// Where an offline run keeps the artifacts it logged.
pub const STAGED_DIR: &str = "artifacts";

/// Whether the run folder keeps artifacts that `heron sync` has not logged yet.
pub fn has_staged(run_dir: &Path) -> bool {
    std::fs::read_dir(run_dir.join(STAGED_DIR))
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.path().extension().is_some_and(|x| x == "json"))
}

/// Writes `staged` into the run folder `run_dir` for `heron sync`; returns its file.
pub fn save_staged(run_dir: &Path, staged: &StagedArtifact) -> Result<PathBuf, Error> {
    let dir = run_dir.join(STAGED_DIR);
    let io = |e: std::io::Error| Error::local(format!("cannot write {}: {e}", dir.display()));
    std::fs::create_dir_all(&dir).map_err(io)?;
    let count = std::fs::read_dir(&dir).map_err(io)?.count();
    let path = dir.join(format!("{count:05}-{}.json", staged.name));
    let temp = path.with_extension("json.tmp");
    let text = serde_json::to_vec_pretty(staged).map_err(|e| Error::local(e.to_string()))?;
    let mut file = std::fs::File::create(&temp).map_err(io)?;
    file.write_all(&text).and_then(|_| file.sync_all()).map_err(io)?;
    std::fs::rename(&temp, &path).map_err(io)?;
    Ok(path)
}

/// Logs the artifacts an offline run staged in `run_dir`, in the order they were logged, as
/// produced by `run` of `entity/project`; each one done is marked (`.json` → `.done`) so a
/// second sync does not log it again. Returns the versions made.
pub fn sync_staged(
    client: &Artifacts,
    run_dir: &Path,
    entity: &str,
    project: &str,
    run: &str,
) -> Result<Vec<ArtifactVersion>, Error> {
    let dir = run_dir.join(STAGED_DIR);
    let mut pending: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => {
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect()
        }
        Err(_) => return Ok(Vec::new()),
    };
    pending.sort();
    let mut made = Vec::new();
    for path in pending {
        let text = std::fs::read(&path).map_err(|e| Error::local(format!("cannot read {}: {e}", path.display())))?;
        let staged: StagedArtifact = serde_json::from_slice(&text)
            .map_err(|e| Error::local(format!("{} is not a staged artifact: {e}", path.display())))?;
        staged.verify()?;
        let report = client.log_staged(entity, project, &staged, Some(run))?;
        std::fs::rename(&path, path.with_extension("done"))
            .map_err(|e| Error::local(format!("cannot mark {} as done: {e}", path.display())))?;
        made.push(report.version);
    }
    Ok(made)
}

/// What `log_artifact` did.
#[derive(Debug, Clone)]
pub struct LogReport {
    pub version: ArtifactVersion,
    /// Files in the version (references included).
    pub files: u64,
    /// Bytes sent by this call.
    pub uploaded_bytes: u64,
    /// Bytes of blobs the server already held (earlier versions, other artifacts or projects).
    pub deduplicated_bytes: u64,
    /// Bytes of parts an earlier, interrupted upload had already sent.
    pub resumed_bytes: u64,
    /// Blobs uploaded (in whole or in part) by this call.
    pub uploaded_blobs: u64,
}

/// What `download` did.
#[derive(Debug, Clone)]
pub struct DownloadReport {
    pub root: PathBuf,
    /// Files now in `root`, verified.
    pub files: Vec<ArtifactFile>,
    /// References that were not fetched (`s3://`, `gs://`, `http(s)://`): where their bytes are.
    pub skipped_references: Vec<ArtifactFile>,
    pub downloaded_bytes: u64,
    /// Files taken from the local cache.
    pub from_cache: u64,
    /// Files already in `root` with the right contents.
    pub already_present: u64,
}

/// The artifacts and registry API of one server.
#[derive(Clone)]
pub struct Artifacts {
    api: Api,
    transfer: Api,
    completion: Api,
    warn: WarningSink,
    cache: Option<Cache>,
    /// Draw a progress line on stderr when it is a terminal.
    pub progress: bool,
    pub threads: usize,
    pub default_entity: Option<String>,
    pub default_project: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Artifacts {
    pub fn new(settings: &Settings) -> Result<Artifacts, Error> {
        let api = Api::new(&settings.base_url, settings.api_key.as_deref(), Duration::from_secs(120));
        Ok(Artifacts {
            transfer: api.for_transfers(Duration::from_secs(120)),
            completion: api.for_transfers(Duration::from_secs(3600)),
            api,
            warn: settings.warn.clone(),
            cache: Cache::from_env()?,
            progress: true,
            threads: TRANSFER_THREADS,
            default_entity: env("HERON_ENTITY"),
            default_project: env("HERON_PROJECT"),
        })
    }

    /// From `HERON_BASE_URL`, `HERON_API_KEY` (or the credentials file), `HERON_ENTITY`,
    /// `HERON_PROJECT`, `HERON_CACHE_DIR` and `HERON_CACHE_SIZE`.
    pub fn from_env() -> Result<Artifacts, Error> {
        Artifacts::new(&Settings::from_env()?)
    }

    pub fn api(&self) -> &Api {
        &self.api
    }

    /// Replaces the download cache (`None`: no cache).
    pub fn set_cache(&mut self, cache: Option<Cache>) {
        self.cache = cache;
    }

    pub fn cache(&self) -> Option<&Cache> {
        self.cache.as_ref()
    }

    /// The entity to use when none is given: `HERON_ENTITY`, else the key's user.
    pub fn entity(&self) -> Result<String, Error> {
        if let Some(entity) = &self.default_entity {
            return Ok(entity.clone());
        }
        let viewer: heron_types::Viewer = self.api.get("/api/v1/viewer").map_err(|e| explain(e, &self.api))?;
        Ok(viewer.entities.first().cloned().unwrap_or(viewer.name))
    }

    /// The project to use when none is given: `HERON_PROJECT`.
    pub fn project(&self) -> Result<String, Error> {
        self.default_project.clone().ok_or_else(|| {
            Error::local("no project given: pass one (--project P, or project/name:version) or set HERON_PROJECT")
        })
    }

    /// Fills in a reference's entity and project from the defaults.
    pub fn resolve(&self, reference: &str) -> Result<(String, String, String, String), Error> {
        let parsed = ArtifactRef::parse(reference)?;
        let project = match parsed.project {
            Some(project) => project,
            None => self.project()?,
        };
        let entity = match parsed.entity {
            Some(entity) => entity,
            None => self.entity()?,
        };
        Ok((entity, project, parsed.name, parsed.version))
    }

    fn artifact_path(entity: &str, project: &str, name: &str) -> String {
        format!("/api/v1/projects/{}/{}/artifacts/{}", enc(entity), enc(project), enc(name))
    }

    // -- logging ---------------------------------------------------------------------------

    /// Logs `artifact` as a new version of `entity/project/name`: hashes its files, uploads
    /// the blobs the server lacks and creates the version with `aliases`, produced by `run`
    /// (a run id of the project). Logging the same contents again makes no new version: the
    /// existing one is answered with `created: false` and the aliases move to it.
    pub fn log_artifact(
        &self,
        entity: &str,
        project: &str,
        artifact: &Artifact,
        aliases: &[String],
        run: Option<&str>,
    ) -> Result<LogReport, Error> {
        let staged = self.stage(artifact, aliases)?;
        self.log_staged(entity, project, &staged, run).map_err(|error| {
            if error.is_transient() {
                Error {
                    message: format!(
                        "{}; the parts the server received are kept: log the artifact again (the same command) to send only the rest",
                        error.message
                    ),
                    ..error
                }
            } else {
                error
            }
        })
    }

    /// Checks and hashes an artifact: what `log_staged` sends, now or later (an offline run
    /// keeps it in its folder for `heron sync`).
    pub fn stage(&self, artifact: &Artifact, aliases: &[String]) -> Result<StagedArtifact, Error> {
        artifact.validate()?;
        if artifact.is_empty() {
            return Err(Error::local(format!("artifact {:?} has no files; add some first", artifact.name)));
        }
        if aliases.len() > MAX_ALIASES {
            return Err(Error::local(format!("at most {MAX_ALIASES} aliases per version")));
        }
        for alias in aliases {
            check_alias(alias)?;
        }
        let (files, blobs) = self.hash(artifact)?;
        Ok(StagedArtifact {
            name: artifact.name.clone(),
            kind: artifact.kind.clone(),
            description: artifact.description.clone(),
            metadata: artifact.metadata.clone(),
            aliases: aliases.to_vec(),
            files,
            blobs,
        })
    }

    /// Uploads the blobs of a staged artifact that the server lacks and creates the version.
    pub fn log_staged(
        &self,
        entity: &str,
        project: &str,
        staged: &StagedArtifact,
        run: Option<&str>,
    ) -> Result<LogReport, Error> {
        let blobs = &staged.blobs;
        let mut report = LogReport {
            version: placeholder_version(),
            files: staged.files.len() as u64,
            uploaded_bytes: 0,
            deduplicated_bytes: 0,
            resumed_bytes: 0,
            uploaded_blobs: 0,
        };
        let total_blob_bytes: u64 = blobs.values().map(|(_, size)| size).sum();
        let body = VersionCreate {
            kind: staged.kind.clone(),
            description: staged.description.clone(),
            metadata: staged.metadata.clone(),
            aliases: staged.aliases.clone(),
            run: run.map(String::from),
            ttl_seconds: None,
            files: staged.files.clone(),
        };
        let versions_path = format!("{}/versions", Self::artifact_path(entity, project, &staged.name));
        for round in 0..ROUNDS {
            let missing = self.missing(entity, project, blobs)?;
            if round == 0 {
                let missing_bytes: u64 = missing.iter().map(|m| m.size).sum();
                report.deduplicated_bytes = total_blob_bytes.saturating_sub(missing_bytes);
            }
            let missing_count = missing.len();
            if !missing.is_empty() {
                match self.upload(&missing, blobs) {
                    Ok((sent, resumed)) => {
                        report.uploaded_bytes += sent;
                        report.resumed_bytes += resumed;
                        report.uploaded_blobs += missing_count as u64;
                    }
                    // A completion that found parts missing (their upload was lost): ask again.
                    Err(error) if error.status == Some(409) && round + 1 < ROUNDS => continue,
                    Err(error) => return Err(error),
                }
            }
            match self.api.send_json::<ArtifactVersion>("POST", &versions_path, &body) {
                Ok(version) => {
                    report.version = version;
                    return Ok(report);
                }
                // A blob vanished between the check and the version (collected, or never
                // completed): check again and send what is missing, a bounded number of times.
                Err(error) if error.status == Some(409) && round + 1 < ROUNDS => {
                    if self.missing(entity, project, blobs)?.is_empty() {
                        return Err(error);
                    }
                }
                Err(error) => return Err(explain(error, &self.api)),
            }
        }
        Err(Error::local("the server kept reporting missing blobs after 3 uploads; try again later"))
    }

    /// Manifest entries, and the distinct blobs: sha256 → (a local file holding it, size).
    #[allow(clippy::type_complexity)]
    fn hash(&self, artifact: &Artifact) -> Result<(Vec<ManifestEntry>, BTreeMap<String, (PathBuf, u64)>), Error> {
        let items: Vec<(&String, &Source)> = artifact.entries.iter().collect();
        let to_read: u64 = items
            .iter()
            .map(|(_, source)| match source {
                Source::Local { size, .. } => *size,
                Source::Reference { local: Some(_), size, .. } => *size,
                Source::Reference { .. } => 0,
            })
            .sum();
        let progress = Progress::start("hashing", items.len() as u64, to_read, self.progress);
        let hashed = parallel(self.threads.clamp(1, 4), &items, |(path, source)| {
            let entry = match source {
                Source::Local { path: local, .. } => {
                    let (sha, size) = sha256_file(local, Some(&progress))?;
                    ManifestEntry { path: (*path).clone(), size, sha256: Some(sha), reference: None, digest: None }
                }
                Source::Reference { uri, digest, size, local } => {
                    let (digest, size) = match local {
                        Some(local) => {
                            let (sha, size) = sha256_file(local, Some(&progress))?;
                            (Some(sha), size)
                        }
                        None => (digest.clone(), *size),
                    };
                    ManifestEntry { path: (*path).clone(), size, sha256: None, reference: Some(uri.clone()), digest }
                }
            };
            progress.file_done();
            Ok(entry)
        });
        progress.finish();
        let mut files = Vec::with_capacity(items.len());
        let mut blobs = BTreeMap::new();
        for (result, (_, source)) in hashed.into_iter().zip(&items) {
            let entry = result?;
            if let (Some(sha), Source::Local { path, .. }) = (&entry.sha256, source) {
                blobs.entry(sha.clone()).or_insert_with(|| (path.clone(), entry.size));
            }
            files.push(entry);
        }
        Ok((files, blobs))
    }

    /// Asks which blobs the server lacks, 10,000 at a time.
    fn missing(
        &self,
        entity: &str,
        project: &str,
        blobs: &BTreeMap<String, (PathBuf, u64)>,
    ) -> Result<Vec<BlobUpload>, Error> {
        let path = format!("/api/v1/projects/{}/{}/blobs/missing", enc(entity), enc(project));
        let all: Vec<BlobRef> =
            blobs.iter().map(|(sha, (_, size))| BlobRef { sha256: sha.clone(), size: *size }).collect();
        let mut missing = Vec::new();
        for chunk in all.chunks(MAX_BLOBS_PER_CHECK) {
            let body = BlobsCheck { blobs: chunk.to_vec() };
            let answer: BlobsMissing =
                with_retries(|| self.api.send_json("POST", &path, &body)).map_err(|e| explain(e, &self.api))?;
            missing.extend(answer.missing);
        }
        Ok(missing)
    }

    /// Uploads the missing blobs' parts that the server has not received, several at once;
    /// returns (bytes sent, bytes skipped as already received).
    fn upload(&self, missing: &[BlobUpload], blobs: &BTreeMap<String, (PathBuf, u64)>) -> Result<(u64, u64), Error> {
        struct Job<'a> {
            blob: &'a BlobUpload,
            local: &'a Path,
            part: u64,
            remaining: Arc<AtomicUsize>,
        }
        let mut jobs = Vec::new();
        let mut resumed = 0u64;
        let mut to_send = 0u64;
        for blob in missing {
            let Some((local, size)) = blobs.get(&blob.sha256) else {
                return Err(Error::local(format!("the server asked for blob {} that was not offered", blob.sha256)));
            };
            if *size != blob.size {
                return Err(Error::local(format!("the server reports blob {} with another size", blob.sha256)));
            }
            let parts = blob.parts.max(1);
            let todo: Vec<u64> = (0..parts).filter(|k| !blob.received.contains(k)).collect();
            for k in &blob.received {
                resumed += part_len(blob, *k);
            }
            if todo.is_empty() {
                // Every part arrived earlier: only the completion is left.
                self.complete(blob)?;
                continue;
            }
            let remaining = Arc::new(AtomicUsize::new(todo.len()));
            for part in todo {
                to_send += part_len(blob, part);
                jobs.push(Job { blob, local, part, remaining: remaining.clone() });
            }
        }
        let progress = Progress::start("uploading", missing.len() as u64, to_send, self.progress);
        // After one part fails for good, the parts not started yet are not sent.
        let failed = AtomicBool::new(false);
        let results = parallel(self.threads.max(1), &jobs, |job| {
            if failed.load(Ordering::Acquire) {
                return Ok(0);
            }
            let outcome = self.upload_part(job.blob, job.local, job.part, &job.remaining, &progress);
            if outcome.is_err() {
                failed.store(true, Ordering::Release);
            }
            outcome
        });
        progress.finish();
        let mut sent = 0;
        for result in results {
            sent += result?;
        }
        Ok((sent, resumed))
    }

    /// Sends part `part` of `blob` from `local`; the last part of a blob to arrive completes it.
    fn upload_part(
        &self,
        blob: &BlobUpload,
        local: &Path,
        part: u64,
        remaining: &AtomicUsize,
        progress: &Progress,
    ) -> Result<u64, Error> {
        let len = part_len(blob, part);
        let mut bytes = vec![0u8; len as usize];
        let io = |e: std::io::Error| Error::local(format!("cannot read {}: {e}", local.display()));
        let mut file = std::fs::File::open(local).map_err(io)?;
        file.seek(SeekFrom::Start(part * blob.part_size)).map_err(io)?;
        file.read_exact(&mut bytes).map_err(|e| {
            Error::local(format!(
                "{} changed while it was being uploaded ({e}); log the artifact again",
                local.display()
            ))
        })?;
        let part_sha = hex::encode(Sha256::digest(&bytes));
        let separator = if blob.upload_url.contains('?') { '&' } else { '?' };
        let url = format!("{}{separator}part={part}", blob.upload_url);
        let headers = [("Content-Type", "application/octet-stream"), ("X-Heron-Part-Sha256", part_sha.as_str())];
        let status: BlobStatus = with_retries(|| {
            let mut response = self.transfer.signed("PUT", &url, Some(bytes.as_slice()), &headers)?;
            let body = response
                .body_mut()
                .read_to_vec()
                .map_err(|e| Error::network(format!("reading the answer to a part upload: {e}")))?;
            serde_json::from_slice(&body).map_err(|e| Error::local(format!("unexpected answer to a part upload: {e}")))
        })?;
        progress.add_bytes(len);
        if remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            if blob.parts > 1 && !status.stored {
                self.complete(blob)?;
            }
            progress.file_done();
        }
        Ok(len)
    }

    fn complete(&self, blob: &BlobUpload) -> Result<BlobStatus, Error> {
        with_retries(|| {
            // The server reads the whole blob back to check it: a large one takes a while.
            let mut response = self.completion.signed("POST", &blob.complete_url, None, &[])?;
            let body = response
                .body_mut()
                .read_to_vec()
                .map_err(|e| Error::network(format!("reading the answer to a completion: {e}")))?;
            serde_json::from_slice(&body).map_err(|e| Error::local(format!("unexpected answer to a completion: {e}")))
        })
    }

    // -- reading ---------------------------------------------------------------------------

    /// A version by reference: `name:version`, `project/name:version` or
    /// `entity/project/name:version` (version `vN`, `latest` or an alias; default `latest`).
    pub fn get(&self, reference: &str) -> Result<ArtifactVersion, Error> {
        let (entity, project, name, version) = self.resolve(reference)?;
        self.version(&entity, &project, &name, &version)
    }

    pub fn version(&self, entity: &str, project: &str, name: &str, version: &str) -> Result<ArtifactVersion, Error> {
        let path = format!("{}/versions/{}", Self::artifact_path(entity, project, name), enc(version));
        self.api.get(&path).map_err(|e| explain(e, &self.api))
    }

    /// The artifacts of a project, by name (of one type when `kind` is given).
    pub fn list(&self, entity: &str, project: &str, kind: Option<&str>) -> Result<Vec<heron_types::Artifact>, Error> {
        let mut path = format!("/api/v1/projects/{}/{}/artifacts", enc(entity), enc(project));
        if let Some(kind) = kind {
            path.push_str(&format!("?type={}", enc(kind)));
        }
        self.api.get(&path).map_err(|e| explain(e, &self.api))
    }

    /// Every version of an artifact, newest first.
    pub fn versions(&self, entity: &str, project: &str, name: &str) -> Result<Vec<ArtifactVersion>, Error> {
        let path = format!("{}/versions", Self::artifact_path(entity, project, name));
        self.api.get(&path).map_err(|e| explain(e, &self.api))
    }

    /// Deletes one version, or (with `version` None) the artifact and every version.
    pub fn delete(&self, entity: &str, project: &str, name: &str, version: Option<&str>) -> Result<(), Error> {
        let mut path = Self::artifact_path(entity, project, name);
        if let Some(version) = version {
            path.push_str(&format!("/versions/{}", enc(version)));
        }
        self.api.request("DELETE", &path, None).map(drop).map_err(|e| explain(e, &self.api))
    }

    /// The files of a version, with signed download URLs.
    pub fn files(&self, version: &ArtifactVersion) -> Result<Vec<ArtifactFile>, Error> {
        let path = format!(
            "{}/versions/{}/files",
            Self::artifact_path(&version.entity, &version.project, &version.name),
            enc(&version.version)
        );
        self.api.get(&path).map_err(|e| explain(e, &self.api))
    }

    /// Points `alias` at `version` (`vN` or another alias) of an artifact.
    pub fn set_alias(
        &self,
        entity: &str,
        project: &str,
        name: &str,
        alias: &str,
        version: &str,
    ) -> Result<ArtifactVersion, Error> {
        check_alias(alias)?;
        let path = format!("{}/aliases/{}", Self::artifact_path(entity, project, name), enc(alias));
        self.api.send_json("PUT", &path, &AliasSet { version: version.to_string() }).map_err(|e| explain(e, &self.api))
    }

    pub fn remove_alias(&self, entity: &str, project: &str, name: &str, alias: &str) -> Result<(), Error> {
        let path = format!("{}/aliases/{}", Self::artifact_path(entity, project, name), enc(alias));
        self.api.request("DELETE", &path, None).map(drop).map_err(|e| explain(e, &self.api))
    }

    /// Records that `run` (a run id of the artifact's project, or `entity/project/run`) used the version.
    pub fn record_use(&self, version: &ArtifactVersion, run: &str) -> Result<(), Error> {
        let path = format!(
            "{}/versions/{}/uses",
            Self::artifact_path(&version.entity, &version.project, &version.name),
            enc(&version.version)
        );
        self.api
            .request("POST", &path, Some(&serde_json::to_vec(&UseCreate { run: run.to_string() }).unwrap_or_default()))
            .map(drop)
            .map_err(|e| explain(e, &self.api))
    }

    /// The lineage graph around a version: `direction` `up`, `down` or `both`.
    pub fn lineage(&self, version: &ArtifactVersion, direction: &str, depth: u32) -> Result<Lineage, Error> {
        let path = format!(
            "{}/versions/{}/lineage?direction={}&depth={depth}",
            Self::artifact_path(&version.entity, &version.project, &version.name),
            enc(&version.version),
            enc(direction)
        );
        self.api.get(&path).map_err(|e| explain(e, &self.api))
    }

    /// Where a project's storage went.
    pub fn storage(&self, entity: &str, project: &str) -> Result<StorageReport, Error> {
        self.api
            .get(&format!("/api/v1/projects/{}/{}/storage", enc(entity), enc(project)))
            .map_err(|e| explain(e, &self.api))
    }

    // -- downloading -----------------------------------------------------------------------

    /// Downloads a version's files into `root`, several at once. Each file is written to a
    /// temporary file next to its destination, its sha256 checked while writing, synced and
    /// renamed into place only when it matches: an interrupted download leaves no file under a
    /// final name (and its leftovers are removed by the next try). Blobs come from the cache
    /// when it has them. `file://` references are copied and verified; other references are
    /// skipped with a warning and listed in the report.
    pub fn download(&self, version: &ArtifactVersion, root: &Path) -> Result<DownloadReport, Error> {
        let files = self.files(version)?;
        std::fs::create_dir_all(root).map_err(|e| Error::local(format!("cannot create {}: {e}", root.display())))?;
        let mut report = DownloadReport {
            root: root.to_path_buf(),
            files: Vec::new(),
            skipped_references: Vec::new(),
            downloaded_bytes: 0,
            from_cache: 0,
            already_present: 0,
        };
        let mut work = Vec::new();
        for file in files {
            let dest = safe_join(root, &file.path)
                .map_err(|e| Error::local(format!("the server listed an unsafe path: {}", e.message)))?;
            match (&file.sha256, &file.reference) {
                (Some(_), _) => work.push((file, dest)),
                (None, Some(uri)) if uri.starts_with("file://") => work.push((file, dest)),
                (None, Some(uri)) => {
                    (self.warn)(&format!("{}: reference {uri} is not downloaded (fetch it from there)", file.path));
                    report.skipped_references.push(file);
                }
                (None, None) => return Err(Error::local(format!("the server listed {} without a sha256", file.path))),
            }
        }
        let total: u64 = work.iter().map(|(f, _)| f.size).sum();
        let progress = Progress::start("downloading", work.len() as u64, total, self.progress);
        let results = parallel(self.threads.max(1), &work, |(file, dest)| {
            let outcome = self.fetch_one(file, dest, &progress);
            progress.file_done();
            outcome
        });
        progress.finish();
        for (result, (file, _)) in results.into_iter().zip(work) {
            match result? {
                Fetched::Downloaded(bytes) => report.downloaded_bytes += bytes,
                Fetched::FromCache => report.from_cache += 1,
                Fetched::Present => report.already_present += 1,
            }
            report.files.push(file);
        }
        if let Some(cache) = &self.cache
            && let Err(error) = cache.cleanup(cache.max_bytes)
        {
            (self.warn)(&error.to_string());
        }
        Ok(report)
    }

    fn fetch_one(&self, file: &ArtifactFile, dest: &Path, progress: &Progress) -> Result<Fetched, Error> {
        let parent = dest.parent().unwrap_or(Path::new("."));
        let io = |e: std::io::Error| Error::local(format!("cannot write {}: {e}", dest.display()));
        std::fs::create_dir_all(parent).map_err(io)?;
        let temp = temp_path(dest);
        // Left by an interrupted download.
        let _ = std::fs::remove_file(&temp);
        if let Some(uri) = &file.reference {
            let local = PathBuf::from(&uri["file://".len()..]);
            let expected = file.digest.as_deref().filter(|d| is_sha256(d));
            let result = copy_verified(&local, &temp, expected, progress);
            if let Err(error) = result {
                let _ = std::fs::remove_file(&temp);
                return Err(Error::local(format!("{}: reference {uri}: {}", file.path, error.message)));
            }
            std::fs::rename(&temp, dest).map_err(io)?;
            return Ok(Fetched::Downloaded(0));
        }
        let sha = file.sha256.as_deref().unwrap_or_default();
        if let Ok(metadata) = std::fs::metadata(dest)
            && metadata.is_file()
            && metadata.len() == file.size
            && sha256_file(dest, None).is_ok_and(|(found, _)| found == sha)
        {
            progress.add_bytes(file.size);
            if let Some(cache) = &self.cache {
                let _ = cache.insert(sha, dest);
            }
            return Ok(Fetched::Present);
        }
        if let Some(cache) = &self.cache
            && let Some(cached) = cache.lookup(sha, file.size)
        {
            let placed = std::fs::hard_link(&cached, &temp)
                .map_err(|e| e.to_string())
                .or_else(|_| copy_verified(&cached, &temp, Some(sha), progress).map_err(|e| e.message));
            if placed.is_ok() {
                std::fs::rename(&temp, dest).map_err(io)?;
                progress.add_bytes(file.size);
                return Ok(Fetched::FromCache);
            }
            let _ = std::fs::remove_file(&temp);
        }
        let Some(url) = &file.url else {
            return Err(Error::local(format!("the server gave no download URL for {}", file.path)));
        };
        let result = with_retries(|| {
            let outcome = self.download_to(url, &temp, sha, file.size, progress);
            if outcome.is_err() {
                let _ = std::fs::remove_file(&temp);
            }
            outcome
        });
        if let Err(error) = result {
            return Err(Error { message: format!("{}: {}", file.path, error.message), ..error });
        }
        std::fs::rename(&temp, dest).map_err(io)?;
        if let Some(cache) = &self.cache
            && let Err(error) = cache.insert(sha, dest)
        {
            (self.warn)(&error.to_string());
        }
        Ok(Fetched::Downloaded(file.size))
    }

    /// One GET of a signed URL into `temp`, hashing as it writes; an error when the bytes do
    /// not match (network errors are transient and retried by the caller).
    fn download_to(&self, url: &str, temp: &Path, sha: &str, size: u64, progress: &Progress) -> Result<(), Error> {
        let mut response = self.transfer.signed("GET", url, None, &[])?;
        let io = |e: std::io::Error| Error::local(format!("cannot write {}: {e}", temp.display()));
        let mut out = std::fs::File::create(temp).map_err(io)?;
        let mut reader = response.body_mut().with_config().limit(u64::MAX).reader();
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; READ_BUFFER];
        let mut written = 0u64;
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    progress.sub_bytes(written);
                    return Err(Error::network(format!("download interrupted: {e}")));
                }
            };
            hasher.update(&buffer[..n]);
            out.write_all(&buffer[..n]).map_err(io)?;
            written += n as u64;
            progress.add_bytes(n as u64);
        }
        let found = hex::encode(hasher.finalize());
        if written != size || found != sha {
            progress.sub_bytes(written);
            return Err(Error::local(format!(
                "the downloaded bytes do not match: expected {size} bytes with sha256 {sha}, got {written} bytes with {found}"
            )));
        }
        out.sync_all().map_err(io)?;
        Ok(())
    }

    // -- model registry --------------------------------------------------------------------

    fn model_path(entity: &str, model: &str) -> String {
        format!("/api/v1/entities/{}/models/{}", enc(entity), enc(model))
    }

    pub fn create_model(&self, entity: &str, name: &str, description: Option<&str>) -> Result<RegisteredModel, Error> {
        check_artifact_name("model name", name)?;
        let body = ModelCreate { name: name.to_string(), description: description.map(String::from) };
        self.api
            .send_json("POST", &format!("/api/v1/entities/{}/models", enc(entity)), &body)
            .map_err(|e| explain(e, &self.api))
    }

    pub fn models(&self, entity: &str) -> Result<Vec<RegisteredModel>, Error> {
        self.api.get(&format!("/api/v1/entities/{}/models", enc(entity))).map_err(|e| explain(e, &self.api))
    }

    pub fn model(&self, entity: &str, name: &str) -> Result<RegisteredModel, Error> {
        self.api.get(&Self::model_path(entity, name)).map_err(|e| explain(e, &self.api))
    }

    pub fn delete_model(&self, entity: &str, name: &str) -> Result<(), Error> {
        self.api.request("DELETE", &Self::model_path(entity, name), None).map(drop).map_err(|e| explain(e, &self.api))
    }

    /// Links an artifact version (`project/name:version` in the model's entity, or
    /// `entity/project/name:version`) as the model's next version, with `aliases`.
    pub fn link(&self, entity: &str, model: &str, artifact: &str, aliases: &[String]) -> Result<ModelVersion, Error> {
        for alias in aliases {
            check_alias(alias)?;
        }
        let body = ModelLink { artifact: artifact.to_string(), aliases: aliases.to_vec() };
        self.api
            .send_json("POST", &format!("{}/versions", Self::model_path(entity, model)), &body)
            .map_err(|e| explain(e, &self.api))
    }

    pub fn unlink(&self, entity: &str, model: &str, version: &str) -> Result<(), Error> {
        let path = format!("{}/versions/{}", Self::model_path(entity, model), enc(version));
        self.api.request("DELETE", &path, None).map(drop).map_err(|e| explain(e, &self.api))
    }

    pub fn set_model_alias(
        &self,
        entity: &str,
        model: &str,
        alias: &str,
        version: &str,
    ) -> Result<ModelVersion, Error> {
        check_alias(alias)?;
        let path = format!("{}/aliases/{}", Self::model_path(entity, model), enc(alias));
        self.api.send_json("PUT", &path, &AliasSet { version: version.to_string() }).map_err(|e| explain(e, &self.api))
    }

    pub fn remove_model_alias(&self, entity: &str, model: &str, alias: &str) -> Result<(), Error> {
        let path = format!("{}/aliases/{}", Self::model_path(entity, model), enc(alias));
        self.api.request("DELETE", &path, None).map(drop).map_err(|e| explain(e, &self.api))
    }

    /// The model's audit trail, oldest first.
    pub fn audit(&self, entity: &str, model: &str) -> Result<Vec<AuditEntry>, Error> {
        self.api.get(&format!("{}/audit", Self::model_path(entity, model))).map_err(|e| explain(e, &self.api))
    }
}

enum Fetched {
    Downloaded(u64),
    FromCache,
    Present,
}

fn placeholder_version() -> ArtifactVersion {
    ArtifactVersion {
        entity: String::new(),
        project: String::new(),
        name: String::new(),
        kind: String::new(),
        version: String::new(),
        index: 0,
        digest: String::new(),
        description: None,
        metadata: Value::Null,
        aliases: Vec::new(),
        size: 0,
        file_count: 0,
        created_at: String::new(),
        created_by: String::new(),
        run: None,
        expires_at: None,
        created: false,
    }
}

/// Adds what to do to the errors people meet first.
fn explain(error: Error, api: &Api) -> Error {
    match error.status {
        Some(401) => Error {
            message: format!(
                "the Heron server at {} did not accept the API key ({}); set HERON_API_KEY or run `heron login --host {}`",
                api.base_url(),
                error.message,
                api.base_url()
            ),
            ..error
        },
        None if error.kind == "network" => Error {
            message: format!("cannot reach the Heron server at {} ({}); is it running?", api.base_url(), error.message),
            ..error
        },
        _ => error,
    }
}

fn part_len(blob: &BlobUpload, part: u64) -> u64 {
    let start = part.saturating_mul(blob.part_size);
    blob.size.saturating_sub(start).min(blob.part_size.max(1))
}

/// Retries `f` on transient errors (network, 408, 429, 5xx) with a doubling pause.
fn with_retries<T>(mut f: impl FnMut() -> Result<T, Error>) -> Result<T, Error> {
    let mut pause = Duration::from_millis(250);
    let mut attempt = 1;
    loop {
        match f() {
            Ok(value) => return Ok(value),
            Err(error) if error.is_transient() && attempt < ATTEMPTS => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(8));
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Runs `f` over `items` on up to `threads` threads; results in the items' order.
fn parallel<T: Sync, R: Send>(threads: usize, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let workers = threads.min(items.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= items.len() {
                        break;
                    }
                    let result = f(&items[i]);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().map(|r| r.expect("every item ran")).collect()
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// sha256 (hex) and size of a file, read in 1 MiB pieces.
pub fn sha256_file(path: &Path, progress: Option<&Progress>) -> Result<(String, u64), Error> {
    let io = |e: std::io::Error| Error::local(format!("cannot read {}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; READ_BUFFER];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
        if let Some(progress) = progress {
            progress.add_bytes(n as u64);
        }
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// Copies `from` to `to`, checking the sha256 when one is expected; `to` is synced.
fn copy_verified(from: &Path, to: &Path, expected: Option<&str>, progress: &Progress) -> Result<(), Error> {
    let read = |e: std::io::Error| Error::local(format!("cannot read {}: {e}", from.display()));
    let write = |e: std::io::Error| Error::local(format!("cannot write {}: {e}", to.display()));
    let mut input = std::fs::File::open(from).map_err(read)?;
    let mut out = std::fs::File::create(to).map_err(write)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; READ_BUFFER];
    loop {
        let n = input.read(&mut buffer).map_err(read)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        out.write_all(&buffer[..n]).map_err(write)?;
        progress.add_bytes(n as u64);
    }
    if let Some(expected) = expected {
        let found = hex::encode(hasher.finalize());
        if found != expected {
            return Err(Error::local(format!(
                "{} changed since it was logged (sha256 {found}, expected {expected})",
                from.display()
            )));
        }
    }
    out.sync_all().map_err(write)?;
    Ok(())
}

/// The temporary name a download of `dest` is written under (hidden, next to it).
pub fn temp_path(dest: &Path) -> PathBuf {
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    dest.with_file_name(format!(".{name}.heron-download"))
}

/// Files and bytes done, drawn as one line on stderr (when it is a terminal and drawing is on)
/// by a thread of its own, every 200 ms.
pub struct Progress {
    state: Arc<ProgressState>,
    drawer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

struct ProgressState {
    label: &'static str,
    files: u64,
    bytes: u64,
    files_done: AtomicU64,
    bytes_done: AtomicU64,
    stop: AtomicBool,
}

impl ProgressState {
    fn line(&self) -> String {
        format!(
            "heron: {} {}/{} files, {} / {}",
            self.label,
            self.files_done.load(Ordering::Relaxed),
            self.files,
            human_bytes(self.bytes_done.load(Ordering::Relaxed).min(self.bytes)),
            human_bytes(self.bytes)
        )
    }
}

impl Progress {
    pub fn start(label: &'static str, files: u64, bytes: u64, draw: bool) -> Progress {
        let state = Arc::new(ProgressState {
            label,
            files,
            bytes,
            files_done: AtomicU64::new(0),
            bytes_done: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let mut drawer = None;
        if draw && files > 0 && std::io::stderr().is_terminal() {
            let shared = state.clone();
            drawer = std::thread::Builder::new()
                .name("heron-progress".into())
                .spawn(move || {
                    let started = Instant::now();
                    let mut shown = false;
                    while !shared.stop.load(Ordering::Acquire) {
                        // Quick jobs draw nothing.
                        if started.elapsed() > Duration::from_millis(300) {
                            eprint!("\r\x1b[2K{}", shared.line());
                            shown = true;
                        }
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    if shown {
                        eprintln!("\r\x1b[2K{}", shared.line());
                    }
                })
                .ok();
        }
        Progress { state, drawer: Mutex::new(drawer) }
    }

    pub fn add_bytes(&self, n: u64) {
        self.state.bytes_done.fetch_add(n, Ordering::Relaxed);
    }

    fn sub_bytes(&self, n: u64) {
        let _ = self.state.bytes_done.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| Some(b.saturating_sub(n)));
    }

    pub fn file_done(&self) {
        self.state.files_done.fetch_add(1, Ordering::Relaxed);
    }

    pub fn finish(&self) {
        self.state.stop.store(true, Ordering::Release);
        if let Some(handle) = self.drawer.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = handle.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Summary of how many blobs a manifest shares: used by reports.
pub fn distinct_blob_bytes(files: &[ManifestEntry]) -> u64 {
    let mut seen: HashMap<&str, u64> = HashMap::new();
    for file in files {
        if let Some(sha) = &file.sha256 {
            seen.insert(sha, file.size);
        }
    }
    seen.values().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_escape_are_refused() {
        for bad in ["../x", "/etc/passwd", "a/../../b", "a//b", "./a", "a/.", "a\\b", "", "a/\u{7}b", "a/"] {
            assert!(check_artifact_path(bad).is_err(), "{bad:?} should be refused");
        }
        for good in ["a", "a/b.txt", "data/train/0001.png", "ü/ß", "..a", "a..b/c"] {
            check_artifact_path(good).unwrap();
        }
        assert!(check_artifact_path(&"a".repeat(1025)).is_err());
        let root = Path::new("/tmp/root");
        assert_eq!(safe_join(root, "a/b").unwrap(), Path::new("/tmp/root/a/b"));
        assert!(safe_join(root, "../b").is_err());
    }

    #[test]
    fn references_parse_with_defaults() {
        let r = ArtifactRef::parse("mnist").unwrap();
        assert_eq!((r.entity, r.project, r.name.as_str(), r.version.as_str()), (None, None, "mnist", "latest"));
        let r = ArtifactRef::parse("demo/mnist:v3").unwrap();
        assert_eq!((r.project.as_deref(), r.name.as_str(), r.version.as_str()), (Some("demo"), "mnist", "v3"));
        let r = ArtifactRef::parse("team/demo/mnist:best").unwrap();
        assert_eq!(r.entity.as_deref(), Some("team"));
        assert_eq!(r.version, "best");
        for bad in ["a/b/c/d:v1", "mnist:", "../x:v1", "a b:v1", ":v1"] {
            let error = ArtifactRef::parse(bad).unwrap_err();
            assert!(!error.message.is_empty(), "{bad}");
        }
    }

    #[test]
    fn aliases_are_checked() {
        check_alias("production").unwrap();
        check_alias("best-val.2").unwrap();
        assert!(check_alias("latest").unwrap_err().message.contains("moved by the server"));
        assert!(check_alias("v12").unwrap_err().message.contains("version"));
        assert!(check_alias("a/b").is_err());
        check_alias("v1x").unwrap();
    }

    #[test]
    fn building_an_artifact_from_files_folders_and_references() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("sub")).unwrap();
        std::fs::write(data.join("a.txt"), b"alpha").unwrap();
        std::fs::write(data.join("sub/b.txt"), b"beta").unwrap();
        std::fs::write(dir.path().join("model.bin"), b"weights").unwrap();
        let mut artifact = Artifact::new("mnist", "dataset");
        artifact.description("digits").metadata(serde_json::json!({"rows": 2}));
        artifact.add_dir(&data, Some("train")).unwrap();
        artifact.add_file(&dir.path().join("model.bin"), None).unwrap();
        artifact.add_reference("s3://bucket/path/big.tar?versionId=3", None, Some("etag-1")).unwrap();
        let uri = format!("file://{}", data.display());
        artifact.add_reference(&uri, Some("mirror"), None).unwrap();
        let entries = artifact.entries();
        let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["big.tar", "mirror/a.txt", "mirror/sub/b.txt", "model.bin", "train/a.txt", "train/sub/b.txt"]
        );
        assert_eq!(entries.iter().filter(|e| e.reference).count(), 3);
        // The same file again under the same name is fine; another file there is not.
        artifact.add_file(&dir.path().join("model.bin"), None).unwrap();
        let error = artifact.add_file(&data.join("a.txt"), Some("model.bin")).unwrap_err();
        assert!(error.message.contains("already has a file"), "{error}");
        for bad in ["../x", "/etc/passwd", "a/../../b"] {
            let error = artifact.add_file(&data.join("a.txt"), Some(bad)).unwrap_err();
            assert!(error.message.contains("artifact path"), "{bad}: {error}");
            assert!(artifact.add_dir(&data, Some(bad)).is_err(), "{bad}");
            assert!(artifact.add_reference("s3://b/k", Some(bad), None).is_err(), "{bad}");
        }
        assert!(artifact.add_reference("ftp://host/x", None, None).is_err());
        assert!(artifact.add_reference("file://relative/x", None, None).is_err());
        assert!(artifact.add_reference("https://host/", None, None).unwrap_err().message.contains("name"));
        assert!(Artifact::new("bad name", "dataset").validate().is_err());
        assert!(Artifact::new("ok", "").validate().is_err());
        artifact.validate().unwrap();
    }

    #[test]
    fn references_and_files_are_hashed_in_parallel() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..20 {
            std::fs::write(dir.path().join(format!("f{i:02}")), format!("file {}", i % 5)).unwrap();
        }
        let mut artifact = Artifact::new("many", "dataset");
        artifact.add_dir(dir.path(), None).unwrap();
        artifact.add_reference(&format!("file://{}/f00", dir.path().display()), Some("ref"), None).unwrap();
        artifact.add_reference("gs://bucket/k", Some("remote"), Some("abc")).unwrap();
        let settings = Settings { api_key: None, ..Settings::from_env().unwrap() };
        let client = Artifacts { progress: false, ..Artifacts::new(&settings).unwrap() };
        let (files, blobs) = client.hash(&artifact).unwrap();
        assert_eq!(files.len(), 22);
        assert_eq!(blobs.len(), 5, "identical contents are one blob");
        let expected = hex::encode(Sha256::digest(b"file 0"));
        assert_eq!(files.iter().find(|f| f.path == "f00").unwrap().sha256.as_deref(), Some(expected.as_str()));
        let reference = files.iter().find(|f| f.path == "ref").unwrap();
        assert_eq!((reference.sha256.as_deref(), reference.digest.as_deref()), (None, Some(expected.as_str())));
        assert_eq!(reference.size, 6);
        let remote = files.iter().find(|f| f.path == "remote").unwrap();
        assert_eq!((remote.reference.as_deref(), remote.digest.as_deref()), (Some("gs://bucket/k"), Some("abc")));
        assert_eq!(distinct_blob_bytes(&files), 30);
    }

    #[test]
    fn parts_cover_the_blob() {
        let blob = |size, part_size, parts| BlobUpload {
            sha256: String::new(),
            size,
            part_size,
            parts,
            received: vec![],
            upload_url: String::new(),
            complete_url: String::new(),
            expires_at: String::new(),
        };
        let b = blob(40, 16, 3);
        assert_eq!((0..3).map(|k| part_len(&b, k)).collect::<Vec<_>>(), [16, 16, 8]);
        let b = blob(32, 16, 2);
        assert_eq!((0..2).map(|k| part_len(&b, k)).collect::<Vec<_>>(), [16, 16]);
        assert_eq!(part_len(&blob(0, 16, 1), 0), 0);
    }

    /// A stand-in for the server's blob and version routes, answering from `answer`; records
    /// every request as (method, path and query, headers, body).
    struct FakeServer {
        base: String,
        requests: Arc<Mutex<Vec<Recorded>>>,
    }

    /// Method, path with query, headers (lowercase names), body.
    type Recorded = (String, String, Vec<(String, String)>, Vec<u8>);

    type Answer = dyn Fn(&str, &str, &[u8]) -> (u16, Vec<u8>) + Send + Sync;

    impl FakeServer {
        fn start(answer: Arc<Answer>) -> FakeServer {
            use std::io::BufRead;
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let requests = Arc::new(Mutex::new(Vec::new()));
            let seen = requests.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { return };
                    let answer = answer.clone();
                    let seen = seen.clone();
                    std::thread::spawn(move || {
                        let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                        let mut out = stream;
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            let mut parts = line.split_whitespace();
                            let method = parts.next().unwrap_or_default().to_string();
                            let path = parts.next().unwrap_or_default().to_string();
                            let mut headers = Vec::new();
                            loop {
                                let mut header = String::new();
                                reader.read_line(&mut header).unwrap();
                                let header = header.trim_end();
                                if header.is_empty() {
                                    break;
                                }
                                let (name, value) = header.split_once(':').unwrap();
                                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
                            }
                            let length = headers
                                .iter()
                                .find(|(n, _)| n == "content-length")
                                .map_or(0, |(_, v)| v.parse::<usize>().unwrap());
                            let mut body = vec![0u8; length];
                            reader.read_exact(&mut body).unwrap();
                            let (status, reply) = answer(&method, &path, &body);
                            seen.lock().unwrap().push((method, path, headers, body));
                            let head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n", reply.len());
                            if out.write_all(head.as_bytes()).and_then(|_| out.write_all(&reply)).is_err() {
                                return;
                            }
                        }
                    });
                }
            });
            FakeServer { base, requests }
        }

        fn client(&self, cache: Option<Cache>) -> Artifacts {
            let settings =
                Settings { base_url: self.base.clone(), api_key: Some("k".into()), ..Settings::from_env().unwrap() };
            let mut client = Artifacts { progress: false, ..Artifacts::new(&settings).unwrap() };
            client.set_cache(cache);
            client
        }
    }

    /// The fake server's answers for a 5-byte blob of one part: `blobs/missing` naming it, and
    /// the upload storing it.
    fn one_part_answers(blob_sha: &str) -> (serde_json::Value, serde_json::Value) {
        let missing = serde_json::json!({"missing": [{
            "sha256": blob_sha, "size": 5, "part_size": 16, "parts": 1, "received": [],
            "upload_url": format!("/api/v1/blobs/{blob_sha}/upload?sig=s"),
            "complete_url": format!("/api/v1/blobs/{blob_sha}/complete?sig=s"), "expires_at": "t"}]});
        let stored = serde_json::json!({"sha256": blob_sha, "size": 5, "stored": true, "received": [0]});
        (missing, stored)
    }

    fn version_json(name: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "entity": "e", "project": "p", "name": name, "type": "model", "version": "v0", "index": 0,
            "digest": "d", "description": null, "metadata": {}, "aliases": ["latest"], "size": 40,
            "file_count": 1, "created_at": "t", "created_by": "u", "run": null, "expires_at": null
        }))
        .unwrap()
    }

    #[test]
    fn an_upload_sends_only_the_parts_not_received_then_completes() {
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..40u8).collect();
        std::fs::write(dir.path().join("w.bin"), &bytes).unwrap();
        let sha = hex::encode(Sha256::digest(&bytes));
        let blob_sha = sha.clone();
        let answer: Arc<Answer> = Arc::new(move |method, path, _body| {
            let blob = serde_json::json!({"sha256": blob_sha, "size": 40, "stored": false, "received": []});
            match (method, path) {
                ("POST", "/api/v1/projects/e/p/blobs/missing") => (
                    200,
                    serde_json::to_vec(&serde_json::json!({"missing": [{
                    "sha256": blob_sha, "size": 40, "part_size": 16, "parts": 3, "received": [1],
                    "upload_url": format!("/api/v1/blobs/{blob_sha}/upload?expires=1&sig=s"),
                    "complete_url": format!("/api/v1/blobs/{blob_sha}/complete?expires=1&sig=s"),
                    "expires_at": "t"}]}))
                    .unwrap(),
                ),
                ("PUT", _) | ("POST", _) if path.contains("/blobs/") => (200, serde_json::to_vec(&blob).unwrap()),
                ("POST", "/api/v1/projects/e/p/artifacts/m/versions") => (201, version_json("m")),
                _ => (404, b"{}".to_vec()),
            }
        });
        let server = FakeServer::start(answer);
        let mut artifact = Artifact::new("m", "model");
        artifact.add_file(&dir.path().join("w.bin"), None).unwrap();
        let report = server.client(None).log_artifact("e", "p", &artifact, &["best".into()], Some("r1")).unwrap();
        assert_eq!((report.uploaded_bytes, report.resumed_bytes, report.deduplicated_bytes), (24, 16, 0));
        assert_eq!(report.version.name, "m");
        let requests = server.requests.lock().unwrap();
        let mut parts: Vec<(String, Vec<u8>, Option<String>)> = requests
            .iter()
            .filter(|(m, _, _, _)| m == "PUT")
            .map(|(_, path, headers, body)| {
                let sent = headers.iter().find(|(n, _)| n == "x-heron-part-sha256").map(|(_, v)| v.clone());
                (path.rsplit('=').next().unwrap().to_string(), body.clone(), sent)
            })
            .collect();
        parts.sort();
        assert_eq!(parts.len(), 2, "part 1 was received before");
        assert_eq!((parts[0].0.as_str(), &parts[0].1[..]), ("0", &bytes[..16]));
        assert_eq!((parts[1].0.as_str(), &parts[1].1[..]), ("2", &bytes[32..]));
        assert_eq!(parts[1].2.as_deref(), Some(hex::encode(Sha256::digest(&bytes[32..])).as_str()));
        for (method, _, headers, _) in
            requests.iter().filter(|(_, p, _, _)| p.contains("/blobs/") && !p.contains("missing"))
        {
            assert!(!headers.iter().any(|(n, _)| n == "authorization"), "{method}: signed URLs go without the key");
        }
        let completions = requests.iter().filter(|(m, p, _, _)| m == "POST" && p.contains("/complete")).count();
        assert_eq!(completions, 1);
        let (_, _, _, body) = requests.iter().find(|(_, p, _, _)| p.ends_with("/artifacts/m/versions")).unwrap();
        let created: VersionCreate = serde_json::from_slice(body).unwrap();
        assert_eq!(
            created.files,
            vec![ManifestEntry { path: "w.bin".into(), size: 40, sha256: Some(sha), reference: None, digest: None }]
        );
        assert_eq!(
            (created.aliases, created.run.as_deref(), created.kind.as_str()),
            (vec!["best".to_string()], Some("r1"), "model")
        );
    }

    #[test]
    fn a_blob_missing_at_creation_is_uploaded_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), b"alpha").unwrap();
        let sha = hex::encode(Sha256::digest(b"alpha"));
        let creates = Arc::new(AtomicUsize::new(0));
        let (count, blob_sha) = (creates.clone(), sha.clone());
        let answer: Arc<Answer> = Arc::new(move |method, path, _body| {
            let (missing, stored) = one_part_answers(&blob_sha);
            match method {
                "POST" if path.ends_with("/blobs/missing") => (200, serde_json::to_vec(&missing).unwrap()),
                "PUT" => (200, serde_json::to_vec(&stored).unwrap()),
                "POST" if path.ends_with("/versions") => {
                    if count.fetch_add(1, Ordering::SeqCst) == 0 {
                        // Collected between the upload and the version (the server's 409).
                        let error = serde_json::json!({"error": {"kind": "conflict", "message": "blob missing"}});
                        (409, serde_json::to_vec(&error).unwrap())
                    } else {
                        (201, version_json("a"))
                    }
                }
                _ => (404, b"{}".to_vec()),
            }
        });
        let server = FakeServer::start(answer);
        let mut artifact = Artifact::new("a", "dataset");
        artifact.add_file(&dir.path().join("a.txt"), None).unwrap();
        let report = server.client(None).log_artifact("e", "p", &artifact, &[], None).unwrap();
        assert_eq!(creates.load(Ordering::SeqCst), 2);
        assert_eq!(report.uploaded_bytes, 10, "sent twice");
        let puts = server.requests.lock().unwrap().iter().filter(|r| r.0 == "PUT").count();
        assert_eq!(puts, 2);
    }

    #[test]
    fn parts_are_retried_after_server_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), b"alpha").unwrap();
        let sha = hex::encode(Sha256::digest(b"alpha"));
        let puts = Arc::new(AtomicUsize::new(0));
        let (count, blob_sha) = (puts.clone(), sha.clone());
        let answer: Arc<Answer> = Arc::new(move |method, path, _body| {
            let (missing, stored) = one_part_answers(&blob_sha);
            match method {
                "POST" if path.ends_with("/blobs/missing") => (200, serde_json::to_vec(&missing).unwrap()),
                // Two failures (a busy server), then success.
                "PUT" if count.fetch_add(1, Ordering::SeqCst) < 2 => (503, b"{}".to_vec()),
                "PUT" => (200, serde_json::to_vec(&stored).unwrap()),
                "POST" if path.ends_with("/versions") => (201, version_json("a")),
                _ => (404, b"{}".to_vec()),
            }
        });
        let server = FakeServer::start(answer);
        let mut artifact = Artifact::new("a", "dataset");
        artifact.add_file(&dir.path().join("a.txt"), None).unwrap();
        let report = server.client(None).log_artifact("e", "p", &artifact, &[], None).unwrap();
        assert_eq!(puts.load(Ordering::SeqCst), 3);
        assert_eq!(report.uploaded_bytes, 5);
    }

    #[test]
    fn a_download_whose_bytes_do_not_match_leaves_no_file() {
        let good: Vec<u8> = b"the right bytes".to_vec();
        let sha = hex::encode(Sha256::digest(&good));
        let serve_bad = Arc::new(AtomicBool::new(true));
        let (bad_flag, file_sha) = (serve_bad.clone(), sha.clone());
        let answer: Arc<Answer> = Arc::new(move |_method, path, _body| {
            if path.ends_with("/versions/v0/files") {
                let files = serde_json::json!([{"path": "sub/w.bin", "size": 15, "sha256": file_sha,
                    "url": format!("/api/v1/blobs/{file_sha}?expires=1&sig=s")}]);
                return (200, serde_json::to_vec(&files).unwrap());
            }
            if path.starts_with("/api/v1/blobs/") {
                return (
                    200,
                    if bad_flag.load(Ordering::SeqCst) {
                        b"the wrong bytes".to_vec()
                    } else {
                        b"the right bytes".to_vec()
                    },
                );
            }
            (404, b"{}".to_vec())
        });
        let server = FakeServer::start(answer);
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache { dir: dir.path().join("cache"), max_bytes: 1 << 20 };
        let client = server.client(Some(cache.clone()));
        let version: ArtifactVersion = serde_json::from_slice(&version_json("m")).unwrap();
        let root = dir.path().join("root");
        // A stale temporary file from an interrupted download.
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(temp_path(&root.join("sub/w.bin")), b"half").unwrap();
        let error = client.download(&version, &root).unwrap_err();
        assert!(error.message.contains("do not match"), "{error}");
        assert!(!root.join("sub/w.bin").exists(), "nothing under the final name");
        assert!(!temp_path(&root.join("sub/w.bin")).exists(), "no temporary file left");
        assert!(cache.lookup(&sha, 15).is_none());

        serve_bad.store(false, Ordering::SeqCst);
        let report = client.download(&version, &root).unwrap();
        assert_eq!(std::fs::read(root.join("sub/w.bin")).unwrap(), good);
        assert_eq!((report.downloaded_bytes, report.from_cache), (15, 0));
        assert!(cache.lookup(&sha, 15).is_some(), "kept in the cache");
        let again = client.download(&version, &dir.path().join("other")).unwrap();
        assert_eq!((again.downloaded_bytes, again.from_cache), (0, 1));
        assert_eq!(std::fs::read(dir.path().join("other/sub/w.bin")).unwrap(), good);
    }

    #[test]
    fn parallel_keeps_the_order() {
        let items: Vec<u64> = (0..100).collect();
        let out = parallel(8, &items, |x| x * 2);
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        assert!(parallel(8, &Vec::<u64>::new(), |x| *x).is_empty());
    }
}

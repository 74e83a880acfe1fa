//! Blob storage by URL: run files, artifacts and media bytes, kept under `/`-separated paths in
//! a local folder, in memory, or (later) in an S3 bucket, all behind
//! [`heron_core::BlobStore`] and built on the `object_store` crate. [`open`] picks the backend
//! from a URL.
//!
//! This crate owns bytes only. What a blob is (which run it belongs to, its name, size and
//! sha256 as recorded) is metadata and lives in the `Store`; nothing here knows about runs.
//!
//! Writes stream: a blob is uploaded in parts of [`PART_SIZE`] bytes with at most
//! [`PARTS_IN_FLIGHT`] parts uploading at once, so a 1 GiB file never sits in memory whole.
//! A blob appears at its path only when its upload completes; a stream that fails midway
//! aborts the upload and leaves the previous blob at that path, or nothing, in place.
#![forbid(unsafe_code)]

use std::path::Path as FsPath;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use heron_core::{BlobStore, ByteStream, Error, Result};
use object_store::chunked::ChunkedStore;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};

/// Size of each uploaded part (the last may be smaller). 5 MiB is the smallest part S3 accepts.
pub const PART_SIZE: usize = 5 * 1024 * 1024;

/// Parts uploading at once per blob. A write holds about `(PARTS_IN_FLIGHT + 1) * PART_SIZE`
/// bytes of the blob in memory (the part being filled too), plus the piece the stream just gave.
pub const PARTS_IN_FLIGHT: usize = 2;

/// Size of the pieces a blob in a local folder is read in.
const LOCAL_READ_CHUNK: usize = 256 * 1024;

const SUPPORTED: &str = "file:///absolute/path (or a bare absolute path), memory://";

/// Opens the blob store a URL names:
///
/// - `file:///abs/path` or `/abs/path`: a local folder, created if missing. Blobs are written
///   to a temporary file beside their path and renamed into place, with fsync.
/// - `memory://`: an empty in-memory store, private to the returned value (for tests).
/// - `s3://bucket/prefix`: not built in yet; an `InvalidArgument` error says so.
///
/// Any other URL is an `InvalidArgument` error naming the supported schemes; a folder that
/// cannot be created or opened is `Unavailable`.
pub fn open(url: &str) -> Result<Arc<dyn BlobStore>> {
    let url = url.trim();
    if url.is_empty() {
        return Err(Error::invalid(format!("blob store URL is empty; supported: {SUPPORTED}")));
    }
    if FsPath::new(url).is_absolute() {
        return open_local(FsPath::new(url));
    }
    let parsed = url::Url::parse(url).map_err(|e| {
        Error::invalid(format!("blob store URL {url:?} is not a URL or an absolute path ({e}); supported: {SUPPORTED}"))
    })?;
    match parsed.scheme() {
        "file" => {
            // `file:rel` and `file:/abs` parse too; only the plain `file:///abs` form is taken.
            let has_slashes = url.get(..7).is_some_and(|s| s.eq_ignore_ascii_case("file://"));
            let folder = has_slashes.then(|| parsed.to_file_path().ok()).flatten();
            let folder = folder.ok_or_else(|| {
                Error::invalid(format!(
                    "blob store URL {url:?} does not name a local absolute path; supported: {SUPPORTED}"
                ))
            })?;
            open_local(&folder)
        }
        "memory" => Ok(Arc::new(ObjectBlobStore::new(Arc::new(InMemory::new())))),
        "s3" => Err(Error::invalid(format!(
            "blob store URL {url:?}: S3 support is not built into this Heron yet; supported: {SUPPORTED}"
        ))),
        other => Err(Error::invalid(format!(
            "blob store URL {url:?} has unsupported scheme {other:?}; supported: {SUPPORTED}"
        ))),
    }
}

fn open_local(folder: &FsPath) -> Result<Arc<dyn BlobStore>> {
    std::fs::create_dir_all(folder)
        .map_err(|e| Error::unavailable(format!("cannot create blob folder {}: {e}", folder.display())))?;
    let local = LocalFileSystem::new_with_prefix(folder)
        .map_err(|e| Error::unavailable(format!("cannot open blob folder {}: {e}", folder.display())))?
        .with_fsync(true);
    // `into_stream` reads local files 8 KiB at a time, one blocking task each; read bigger pieces.
    let chunked = ChunkedStore::new(Arc::new(local), LOCAL_READ_CHUNK);
    Ok(Arc::new(ObjectBlobStore::new(Arc::new(chunked))))
}

/// A [`BlobStore`] over any `object_store` backend.
struct ObjectBlobStore {
    inner: Arc<dyn ObjectStore>,
}

impl ObjectBlobStore {
    fn new(inner: Arc<dyn ObjectStore>) -> Self {
        ObjectBlobStore { inner }
    }
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    async fn put_stream(&self, path: &str, mut data: ByteStream) -> Result<(u64, String)> {
        let location = blob_path(path)?;
        let upload = self.inner.put_multipart(&location).await.map_err(|e| store_error(e, path))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        while let Some(piece) = data.next().await {
            let piece = match piece {
                Ok(piece) => piece,
                Err(e) => {
                    // The caller's error (a broken upload, a size limit) is the one to report.
                    let _ = writer.abort().await;
                    return Err(e);
                }
            };
            if piece.is_empty() {
                continue;
            }
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = writer.abort().await;
                return Err(store_error(e, path));
            }
            hasher.update(&piece);
            size += piece.len() as u64;
            writer.put(piece);
        }
        // `finish` aborts the upload itself when a part or the completion fails.
        writer.finish().await.map_err(|e| store_error(e, path))?;
        Ok((size, hex::encode(hasher.finalize())))
    }

    async fn get_stream(&self, path: &str) -> Result<ByteStream> {
        let location = blob_path(path)?;
        let result = self.inner.get(&location).await.map_err(|e| store_error(e, path))?;
        let path = path.to_owned();
        Ok(result.into_stream().map_err(move |e| store_error(e, &path)).boxed())
    }

    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        let (source, target) = (blob_path(from)?, blob_path(to)?);
        self.inner.rename(&source, &target).await.map_err(|e| store_error(e, from))
    }

    async fn delete(&self, path: &str) -> Result<()> {
        let location = blob_path(path)?;
        match self.inner.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(e, path)),
        }
    }
}

/// Checks a blob path and converts it: relative, `/`-separated, no empty, `.` or `..`
/// segment, no control character, and no last segment ending in `#` and digits (the local
/// folder backend's name for uploads in progress).
fn blob_path(path: &str) -> Result<Path> {
    let bad = |why: &str| Error::invalid(format!("blob path {path:?} {why}"));
    if path.is_empty() {
        return Err(bad("is empty"));
    }
    if path.starts_with('/') {
        return Err(bad("is absolute; blob paths are relative, like a/b/c"));
    }
    if path.ends_with('/') {
        return Err(bad("ends with '/'; it must name a blob, not a folder"));
    }
    for segment in path.split('/') {
        match segment {
            "" => return Err(bad("has an empty segment ('//')")),
            "." | ".." => return Err(bad("has a '.' or '..' segment")),
            _ => {}
        }
    }
    if let Some((_, suffix)) = path.rsplit('/').next().and_then(|name| name.rsplit_once('#'))
        && !suffix.is_empty()
        && suffix.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad("ends with '#' and digits, which names a partial upload"));
    }
    Path::parse(path).map_err(|e| bad(&format!("is not valid: {e}")))
}

/// Maps an `object_store` error on blob `path` to Heron's error kinds.
fn store_error(e: object_store::Error, path: &str) -> Error {
    use object_store::Error as E;
    match e {
        E::NotFound { .. } => Error::not_found(format!("blob {path} not found")),
        E::InvalidPath { .. } => Error::invalid(format!("blob path {path:?} is not valid: {e}")),
        E::AlreadyExists { .. } => Error::already_exists(format!("blob {path} already exists")),
        E::Precondition { .. } | E::NotModified { .. } => {
            Error::conflict(format!("blob {path} changed meanwhile: {e}"))
        }
        // I/O and network failures; often transient on remote stores.
        E::Generic { .. } => Error::unavailable(format!("blob storage failed on {path}: {e}")),
        // Permissions, credentials, unsupported operations: the server's setup, not the caller.
        _ => Error::internal(format!("blob storage failed on {path}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use heron_core::ErrorKind;

    use super::*;

    #[test]
    fn good_paths_pass_unchanged() {
        for p in ["a", "a/b/c.txt", "runs/x y/files/model#best.pt", "a/b#1/c", "x#", "é/ü"] {
            assert_eq!(blob_path(p).unwrap().as_ref(), p);
        }
    }

    #[test]
    fn bad_paths_are_invalid() {
        for p in ["", "/a", "a/", "a//b", "../a", "a/../b", "a/..", "./a", "a/./b", "a/b#12", "a\nb", "/"] {
            let e = blob_path(p).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidArgument, "{p:?}: {e}");
        }
    }
}

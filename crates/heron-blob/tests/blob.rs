//! The blob stores `open` returns, exercised through the `BlobStore` contract only.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream};
use heron_core::{BlobStore, ByteStream, Error, ErrorKind};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// A store to test, with the folder that backs it (if any) kept alive.
struct Case {
    name: &'static str,
    store: Arc<dyn BlobStore>,
    dir: Option<TempDir>,
}

fn cases() -> Vec<Case> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("blobs").display());
    vec![
        Case { name: "memory", store: heron_blob::open("memory://").unwrap(), dir: None },
        Case { name: "file", store: heron_blob::open(&url).unwrap(), dir: Some(dir) },
    ]
}

/// Deterministic, incompressible-looking bytes.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Splits `data` into pieces of uneven sizes (1 byte to ~100 KiB), as a network body would.
fn pieces(data: &[u8]) -> Vec<Bytes> {
    let sizes = [1usize, 17, 4096, 65_536, 100_003, 3, 8192, 77_777];
    let mut out = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < data.len() {
        let n = sizes[i % sizes.len()].min(data.len() - at);
        out.push(Bytes::copy_from_slice(&data[at..at + n]));
        at += n;
        i += 1;
    }
    out
}

fn stream_of(data: &[u8]) -> ByteStream {
    stream::iter(pieces(data).into_iter().map(Ok)).boxed()
}

/// Yields `good` bytes in pieces, then an error.
fn failing_stream(good: &[u8], error: Error) -> ByteStream {
    let items: Vec<heron_core::Result<Bytes>> =
        pieces(good).into_iter().map(Ok).chain(std::iter::once(Err(error))).collect();
    stream::iter(items).boxed()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

async fn read_all(store: &dyn BlobStore, path: &str) -> heron_core::Result<Vec<u8>> {
    let mut s = store.get_stream(path).await?;
    let mut out = Vec::new();
    while let Some(piece) = s.try_next().await? {
        out.extend_from_slice(&piece);
    }
    Ok(out)
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                todo.push(entry.path());
            } else {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_of_a_multi_megabyte_stream() {
    // 12 MiB and a bit: two full parts and a partial one.
    let data = pattern(12 * 1024 * 1024 + 12_345, 7);
    for case in cases() {
        let (size, sha) = case.store.put_stream("runs/abc/files/model.bin", stream_of(&data)).await.unwrap();
        assert_eq!(size, data.len() as u64, "{}", case.name);
        assert_eq!(sha, sha256_hex(&data), "{}", case.name);
        let back = read_all(&*case.store, "runs/abc/files/model.bin").await.unwrap();
        assert!(back == data, "{}: bytes read back differ", case.name);
        if let Some(dir) = &case.dir {
            let files = files_under(dir.path());
            assert_eq!(files, vec![dir.path().join("blobs/runs/abc/files/model.bin")]);
        }
    }
}

#[tokio::test]
async fn small_and_empty_blobs_and_overwrites() {
    for case in cases() {
        let s = &*case.store;
        assert_eq!(s.put_stream("e", stream::empty().boxed()).await.unwrap(), (0, sha256_hex(b"")));
        assert_eq!(read_all(s, "e").await.unwrap(), b"");

        let (size, sha) = s.put_stream("a/b.txt", stream_of(b"hello")).await.unwrap();
        assert_eq!((size, sha), (5, sha256_hex(b"hello")), "{}", case.name);
        let (size, _) = s.put_stream("a/b.txt", stream_of(b"bye")).await.unwrap();
        assert_eq!(size, 3);
        assert_eq!(read_all(s, "a/b.txt").await.unwrap(), b"bye", "{}", case.name);
    }
}

#[tokio::test]
async fn missing_blob_is_not_found() {
    for case in cases() {
        let e = read_all(&*case.store, "no/such/blob").await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound, "{}: {e}", case.name);
        assert_eq!(e.message, "blob no/such/blob not found");
        // A folder of blobs is not a blob either.
        case.store.put_stream("dir/x", stream_of(b"x")).await.unwrap();
        let e = read_all(&*case.store, "dir").await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound, "{}: {e}", case.name);
    }
}

#[tokio::test]
async fn delete_is_idempotent() {
    for case in cases() {
        let s = &*case.store;
        s.put_stream("d/x", stream_of(b"data")).await.unwrap();
        s.delete("d/x").await.unwrap();
        assert_eq!(read_all(s, "d/x").await.unwrap_err().kind, ErrorKind::NotFound, "{}", case.name);
        s.delete("d/x").await.unwrap();
        s.delete("never/was").await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_failing_midway_leaves_nothing_behind() {
    // Past the first part, so a part has been written before the failure.
    let good = pattern(7 * 1024 * 1024, 3);
    for case in cases() {
        let s = &*case.store;
        let e = s
            .put_stream("runs/r/big.bin", failing_stream(&good, Error::too_large("upload over 1 GiB")))
            .await
            .unwrap_err();
        // The stream's own error comes back unchanged.
        assert_eq!(e, Error::too_large("upload over 1 GiB"), "{}", case.name);
        assert_eq!(read_all(s, "runs/r/big.bin").await.unwrap_err().kind, ErrorKind::NotFound);

        // Failing early (before any part) is no different.
        let e = s.put_stream("runs/r/small.bin", failing_stream(b"abc", Error::unavailable("client gone"))).await;
        assert_eq!(e.unwrap_err().kind, ErrorKind::Unavailable);
        assert_eq!(read_all(s, "runs/r/small.bin").await.unwrap_err().kind, ErrorKind::NotFound);

        if let Some(dir) = &case.dir {
            assert_eq!(files_under(dir.path()), Vec::<PathBuf>::new(), "no blob and no partial upload");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_overwrite_keeps_the_old_blob() {
    let good = pattern(6 * 1024 * 1024, 5);
    for case in cases() {
        let s = &*case.store;
        s.put_stream("keep", stream_of(b"old")).await.unwrap();
        s.put_stream("keep", failing_stream(&good, Error::invalid("bad"))).await.unwrap_err();
        assert_eq!(read_all(s, "keep").await.unwrap(), b"old", "{}", case.name);
        if let Some(dir) = &case.dir {
            assert_eq!(files_under(dir.path()), vec![dir.path().join("blobs/keep")]);
        }
    }
}

/// The upload is written out part by part while the stream is still running, not gathered in
/// memory first: before the stream ends, the partial upload on disk already holds a full part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_reach_the_disk_before_the_stream_ends() {
    let dir = tempfile::tempdir().unwrap();
    let store = heron_blob::open(dir.path().to_str().unwrap()).unwrap();
    let part = heron_blob::PART_SIZE;
    let data = Bytes::from(pattern(3 * part, 9));
    let root = dir.path().to_path_buf();
    let first = data.slice(..part + 1);
    let rest = data.slice(part + 1..);
    let body = stream::once(async move { Ok(first) })
        .chain(stream::once(async move {
            // The upload's first part is full now; wait for it to be on disk.
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let on_disk: u64 = files_under(&root).iter().map(|f| f.metadata().unwrap().len()).sum();
                if on_disk >= part as u64 {
                    break;
                }
                assert!(Instant::now() < deadline, "no part written while the stream runs");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Ok(rest)
        }))
        .boxed();
    let (size, sha) = store.put_stream("x/y", body).await.unwrap();
    assert_eq!((size, sha), (data.len() as u64, sha256_hex(&data)));
    assert!(read_all(&*store, "x/y").await.unwrap() == data[..]);
}

#[tokio::test]
async fn bad_paths_are_rejected() {
    for case in cases() {
        let s = &*case.store;
        for p in ["", "/abs", "a/../b", "..", "a//b", "a/", "./a", "a/#7", "a\u{0}b"] {
            let put = s.put_stream(p, stream_of(b"x")).await.unwrap_err();
            assert_eq!(put.kind, ErrorKind::InvalidArgument, "{} put {p:?}: {put}", case.name);
            let get = s.get_stream(p).await.err().unwrap();
            assert_eq!(get.kind, ErrorKind::InvalidArgument, "{} get {p:?}: {get}", case.name);
            let del = s.delete(p).await.unwrap_err();
            assert_eq!(del.kind, ErrorKind::InvalidArgument, "{} delete {p:?}: {del}", case.name);
        }
        if let Some(dir) = &case.dir {
            assert_eq!(files_under(dir.path()), Vec::<PathBuf>::new());
        }
    }
}

#[test]
fn bad_urls_are_rejected() {
    for url in
        ["", "relative/dir", "./blobs", "gs://bucket/x", "http://host/x", "file://host/x", "file:rel", "file:/abs"]
    {
        let e = heron_blob::open(url).err().unwrap();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{url:?}: {e}");
        assert!(e.message.contains("file://") && e.message.contains("memory://"), "{url:?}: {e}");
    }
    let e = heron_blob::open("s3://bucket/prefix").err().unwrap();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("S3 support is not built"), "{e}");
}

#[tokio::test]
async fn local_folders_are_created_and_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("deep/er/blobs");
    let url = format!("file://{}", folder.display());
    let store = heron_blob::open(&url).unwrap();
    assert!(folder.is_dir());
    store.put_stream("k", stream_of(b"kept")).await.unwrap();
    drop(store);
    // The same folder as a bare path sees the same blobs.
    let again = heron_blob::open(folder.to_str().unwrap()).unwrap();
    assert_eq!(read_all(&*again, "k").await.unwrap(), b"kept");

    // A file where the folder should be is not a usable store.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"").unwrap();
    let e = heron_blob::open(file.to_str().unwrap()).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Unavailable, "{e}");
}

#[tokio::test]
async fn memory_stores_are_separate() {
    let a = heron_blob::open("memory://").unwrap();
    let b = heron_blob::open("memory://").unwrap();
    a.put_stream("x", stream_of(b"1")).await.unwrap();
    assert_eq!(read_all(&*b, "x").await.unwrap_err().kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn a_blob_moves_to_a_new_path_and_replaces_what_is_there() {
    for case in cases() {
        let name = case.name;
        let data = pattern(300_000, 9);
        let chunks: Vec<heron_core::Result<Bytes>> = vec![Ok(Bytes::from(data.clone()))];
        case.store.put_stream("uploads/x-1-1/000000", stream::iter(chunks).boxed()).await.unwrap();
        case.store.rename("uploads/x-1-1/000000", "blobs/sha256/ab/cdef/000000").await.unwrap();
        let moved: Vec<u8> = case
            .store
            .get_stream("blobs/sha256/ab/cdef/000000")
            .await
            .unwrap()
            .try_fold(Vec::new(), |mut all, piece| async move {
                all.extend_from_slice(&piece);
                Ok(all)
            })
            .await
            .unwrap();
        assert!(moved == data, "{name}: the moved blob reads back");
        let gone = case.store.get_stream("uploads/x-1-1/000000").await.err().expect("the old path is empty");
        assert_eq!(gone.kind, ErrorKind::NotFound, "{name}");
        let missing = case.store.rename("uploads/nothing", "blobs/x").await.unwrap_err();
        assert_eq!(missing.kind, ErrorKind::NotFound, "{name}");
    }
}

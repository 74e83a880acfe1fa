//! Artifacts, content-addressed blobs, lineage and the model registry (docs/http-api.md §
//! Artifacts and § Model registry).
//!
//! Blob bytes move through signed, expiring URLs (`/api/v1/blobs/...`): the routes that hand
//! them out check the API key, the blob routes check only the signature, so that the same
//! URLs can later point straight at an object store. A blob is stored under its sha256 only
//! after the server has hashed every byte of it.
//!
//! Garbage collection deletes blobs that no version names. It is safe against uploads in
//! flight: storing a blob (writing its bytes, then its record) holds [`BlobGuard::gc`] for
//! reading, collection (deleting records, then bytes) holds it for writing, and a version is
//! created in one transaction that checks its blobs' records, so no version ever names a blob
//! whose bytes collection removed; a blob stored within the grace time is kept, so an upload
//! whose version is not created yet keeps its blobs.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use futures::{StreamExt, TryStreamExt};
use heron_core::artifacts::{
    self as rules, VersionRef, blob_part_path, blob_path, part_count, part_len, upload_part_path,
};
use heron_core::{ArtifactKey, ByteStream, Error, ErrorKind, LineageRoot, RunRef, UploadKey, names, time};
use heron_types::{
    AliasSet, Artifact, ArtifactFile, ArtifactVersion, AuditEntry, BlobStatus, BlobTotals, BlobUpload, BlobsCheck,
    BlobsMissing, GcReport, GcRequest, Lineage, ModelCreate, ModelLink, ModelVersion, RegisteredModel, RunArtifacts,
    StorageReport, UseCreate, VersionCreate, VersionPatch, artifact_limits,
};
use hmac::{KeyInit, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, OnceCell, RwLock};
use utoipa::IntoParams;

use crate::AppState;
use crate::api::{ProjectPath, RunPath, bytes_response, limited_body};
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};

type HmacSha256 = hmac::Hmac<Sha256>;

/// Uploads that have not sent a part for this long are abandoned by collection.
const ABANDONED_UPLOAD_SECONDS: f64 = 24.0 * 3600.0;
/// Unreferenced blobs younger than this are kept by the periodic collection.
pub const DEFAULT_GRACE_SECONDS: u64 = 3600;

/// What keeps blob storage consistent: the collection lock, per-blob locks for stores of the
/// same blob, gates that keep an upload's parts from changing while it completes, and the key
/// that signs blob URLs.
pub struct BlobGuard {
    gc: RwLock<()>,
    stripes: Vec<Mutex<()>>,
    gates: Vec<RwLock<()>>,
    secret: OnceCell<Vec<u8>>,
}

impl Default for BlobGuard {
    fn default() -> Self {
        BlobGuard {
            gc: RwLock::new(()),
            stripes: (0..64).map(|_| Mutex::new(())).collect(),
            gates: (0..64).map(|_| RwLock::new(())).collect(),
            secret: OnceCell::new(),
        }
    }
}

impl BlobGuard {
    fn stripe(&self, sha256: &str) -> &Mutex<()> {
        let byte = u8::from_str_radix(&sha256[..2], 16).unwrap_or(0) as usize;
        &self.stripes[byte % self.stripes.len()]
    }

    /// Part uploads hold their upload's gate for reading, its completion for writing: a part
    /// sent again cannot replace one between its being hashed and its being moved into place.
    fn gate(&self, upload: &UploadKey) -> &RwLock<()> {
        let byte = u8::from_str_radix(&upload.sha256[2..4], 16).unwrap_or(0) as usize;
        &self.gates[(byte + upload.user.unsigned_abs() as usize) % self.gates.len()]
    }
}

pub fn routes() -> Router<AppState> {
    let artifact = "/projects/{entity}/{project}/artifacts/{name}";
    let version = "/projects/{entity}/{project}/artifacts/{name}/versions/{version}";
    let run = "/projects/{entity}/{project}/runs/{run}";
    let model = "/entities/{entity}/models/{model}";
    Router::new()
        .route("/projects/{entity}/{project}/artifacts", get(list_artifacts))
        .route("/projects/{entity}/{project}/blobs/missing", post(blobs_missing))
        .route("/projects/{entity}/{project}/storage", get(storage_report))
        .route(artifact, get(get_artifact).delete(delete_artifact))
        .route(&format!("{artifact}/versions"), get(list_versions).post(create_version))
        .route(version, get(get_version).patch(patch_version).delete(delete_version))
        .route(&format!("{version}/files"), get(version_files))
        .route(&format!("{version}/files/{{*path}}"), get(version_file))
        .route(&format!("{version}/lineage"), get(version_lineage))
        .route(&format!("{version}/uses"), post(record_use))
        .route(&format!("{artifact}/aliases/{{alias}}"), put(set_alias).delete(delete_alias))
        .route(&format!("{run}/artifacts"), get(run_artifacts))
        .route(&format!("{run}/lineage"), get(run_lineage))
        .route("/entities/{entity}/models", get(list_models).post(create_model))
        .route(model, get(get_model).delete(delete_model))
        .route(&format!("{model}/versions"), post(link_model_version))
        .route(&format!("{model}/versions/{{version}}"), axum::routing::delete(unlink_model_version))
        .route(&format!("{model}/aliases/{{alias}}"), put(set_model_alias).delete(delete_model_alias))
        .route(&format!("{model}/audit"), get(model_audit))
        .route("/admin/blobs", get(blob_totals))
        .route("/admin/gc", post(gc))
}

/// The blob routes: authorised by their signed query, not an API key.
pub fn blob_routes() -> Router<AppState> {
    Router::new()
        .route("/blobs/{sha256}", get(download_blob))
        .route("/blobs/{sha256}/upload", put(upload_part).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/blobs/{sha256}/complete", post(complete_upload))
}

// ------------------------------------------------------------------------------------------
// signing

async fn secret(state: &AppState) -> ApiResult<&[u8]> {
    let secret = state
        .blob_guard
        .secret
        .get_or_try_init(|| async {
            let text = state.store.server_secret("blob-urls").await?;
            hex::decode(&text).map_err(|e| Error::internal(format!("stored blob-URL secret is not hex: {e}")))
        })
        .await?;
    Ok(secret.as_slice())
}

fn mac(secret: &[u8], message: &str) -> HmacSha256 {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(message.as_bytes());
    mac
}

fn upload_message(sha256: &str, size: u64, user: i64, expires: u64) -> String {
    format!("upload\n{sha256}\n{size}\n{user}\n{expires}")
}

fn download_message(sha256: &str, expires: u64) -> String {
    format!("download\n{sha256}\n{expires}")
}

fn sign(secret: &[u8], message: &str) -> String {
    hex::encode(mac(secret, message).finalize().into_bytes())
}

fn verify(secret: &[u8], message: &str, signature: &str, expires: u64) -> ApiResult<()> {
    let bytes = hex::decode(signature).map_err(|_| Error::forbidden("the URL's signature is not valid"))?;
    mac(secret, message).verify_slice(&bytes).map_err(|_| Error::forbidden("the URL's signature is not valid"))?;
    if (expires as f64) < time::now() {
        return Err(Error::forbidden("the signed URL has expired; ask for a new one").into());
    }
    Ok(())
}

fn expiry() -> u64 {
    time::now() as u64 + artifact_limits::SIGNED_URL_SECONDS
}

// ------------------------------------------------------------------------------------------
// blobs

#[utoipa::path(post, path = "/api/v1/projects/{entity}/{project}/blobs/missing", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path)), request_body = BlobsCheck,
    responses((status = 200, body = BlobsMissing), (status = 422, body = heron_types::ErrorBody)))]
pub async fn blobs_missing(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ProjectPath>,
    ApiJson(check): ApiJson<BlobsCheck>,
) -> ApiResult<Json<BlobsMissing>> {
    state.authorize(&caller, &path.entity).await?;
    if check.blobs.len() > artifact_limits::MAX_BLOBS_PER_CHECK {
        return Err(Error::too_large(format!(
            "at most {} blobs per request; send the rest in another",
            artifact_limits::MAX_BLOBS_PER_CHECK
        ))
        .into());
    }
    let mut blobs = check.blobs;
    for blob in &blobs {
        rules::check_sha256(&blob.sha256)?;
        if blob.size > artifact_limits::MAX_BLOB_BYTES {
            return Err(Error::too_large(format!(
                "blob {} is {} bytes; the limit is {} bytes",
                blob.sha256,
                blob.size,
                artifact_limits::MAX_BLOB_BYTES
            ))
            .into());
        }
    }
    let mut seen = std::collections::HashSet::new();
    blobs.retain(|b| seen.insert(b.sha256.clone()));
    let held = state.store.blobs_held(&caller.user, &blobs).await?;
    let expires = expiry();
    let key = secret(&state).await?;
    let mut missing = Vec::new();
    for (blob, held) in blobs.into_iter().zip(held) {
        match held {
            Some(size) if size == blob.size => continue,
            Some(size) => {
                return Err(Error::invalid(format!(
                    "blob {} is stored with {size} bytes, not {}: the size or the hash is wrong",
                    blob.sha256, blob.size
                ))
                .into());
            }
            None => {}
        }
        let parts = part_count(blob.size);
        let upload = UploadKey { sha256: blob.sha256.clone(), size: blob.size, user: caller.user.id };
        let received = if parts > 1 { state.store.upload_parts(&upload).await? } else { Vec::new() };
        let signature = sign(key, &upload_message(&blob.sha256, blob.size, caller.user.id, expires));
        let query = format!("size={}&user={}&expires={expires}&sig={signature}", blob.size, caller.user.id);
        missing.push(BlobUpload {
            upload_url: format!("/api/v1/blobs/{}/upload?{query}", blob.sha256),
            complete_url: format!("/api/v1/blobs/{}/complete?{query}", blob.sha256),
            sha256: blob.sha256,
            size: blob.size,
            part_size: artifact_limits::PART_BYTES,
            parts,
            received,
            expires_at: time::rfc3339(expires as f64),
        });
    }
    Ok(Json(BlobsMissing { missing }))
}

#[derive(Deserialize, IntoParams)]
pub struct UploadParams {
    size: u64,
    user: i64,
    expires: u64,
    sig: String,
    /// Which part (from 0); only on `upload`.
    part: Option<u64>,
}

/// Checks the signature; answers the upload it is for.
fn checked_upload(state_secret: &[u8], sha256: &str, params: &UploadParams) -> ApiResult<UploadKey> {
    rules::check_sha256(sha256)?;
    verify(
        state_secret,
        &upload_message(sha256, params.size, params.user, params.expires),
        &params.sig,
        params.expires,
    )?;
    Ok(UploadKey { sha256: sha256.to_string(), size: params.size, user: params.user })
}

/// The bytes of a stored blob: one object, or its parts in order.
async fn blob_stream(state: &AppState, sha256: &str, size: u64) -> heron_core::Result<ByteStream> {
    let parts = part_count(size);
    if parts == 1 {
        return state.blobs.get_stream(&blob_path(sha256)).await;
    }
    let blobs = state.blobs.clone();
    let sha256 = sha256.to_string();
    Ok(futures::stream::iter(0..parts)
        .then(move |part| {
            let blobs = blobs.clone();
            let path = blob_part_path(&sha256, part);
            async move { blobs.get_stream(&path).await }
        })
        .try_flatten()
        .boxed())
}

/// Deletes a stored blob's bytes.
async fn delete_blob(state: &AppState, sha256: &str, size: u64) -> heron_core::Result<()> {
    let parts = part_count(size);
    if parts == 1 {
        return state.blobs.delete(&blob_path(sha256)).await;
    }
    for part in 0..parts {
        state.blobs.delete(&blob_part_path(sha256, part)).await?;
    }
    Ok(())
}

/// Hashes a stream to its end: (size, sha256).
async fn hash_stream(mut stream: ByteStream) -> heron_core::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(piece) = stream.next().await {
        let piece = piece?;
        size += piece.len() as u64;
        hasher.update(&piece);
    }
    Ok((size, hex::encode(hasher.finalize())))
}

fn mismatch(sha256: &str, size: u64, got: (u64, &str)) -> ApiError {
    Error::invalid(format!(
        "the bytes sent are not blob {sha256} of {size} bytes (they are {} bytes with sha256 {}); upload it again",
        got.0, got.1
    ))
    .into()
}

/// Stores a whole blob from `data` (or, when it is stored already, checks that `data` is it),
/// then records that `user` holds it. Holds the collection lock for reading and the blob's lock.
async fn store_blob(state: &AppState, sha256: &str, size: u64, user: i64, data: ByteStream) -> ApiResult<()> {
    let guard = &state.blob_guard;
    let _gc = guard.gc.read().await;
    let _blob = guard.stripe(sha256).lock().await;
    if state.store.blob_size(sha256).await?.is_some() {
        let (got_size, got_sha) = hash_stream(data).await?;
        if (got_size, got_sha.as_str()) != (size, sha256) {
            return Err(mismatch(sha256, size, (got_size, &got_sha)));
        }
    } else {
        let path = blob_path(sha256);
        let (got_size, got_sha) = state.blobs.put_stream(&path, data).await?;
        if (got_size, got_sha.as_str()) != (size, sha256) {
            state.blobs.delete(&path).await?;
            return Err(mismatch(sha256, size, (got_size, &got_sha)));
        }
    }
    state.store.record_blob(sha256, size, user, time::now()).await?;
    Ok(())
}

#[utoipa::path(put, path = "/api/v1/blobs/{sha256}/upload", tag = "artifacts",
    params(("sha256" = String, Path), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = BlobStatus), (status = 403, body = heron_types::ErrorBody), (status = 422, body = heron_types::ErrorBody)),
    security(()))]
pub async fn upload_part(
    State(state): State<AppState>,
    Path(sha256): Path<String>,
    Query(params): Query<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<BlobStatus>> {
    let upload = checked_upload(secret(&state).await?, &sha256, &params)?;
    let parts = part_count(params.size);
    let part = params.part.ok_or_else(|| Error::invalid("add `&part=K` (from 0) to the upload URL"))?;
    if part >= parts {
        return Err(Error::invalid(format!("part {part} does not exist: blob {sha256} has {parts} parts")).into());
    }
    let expected = part_len(params.size, part);
    let data = limited_body(body, expected, |limit| {
        Error::invalid(format!("the part is longer than the {limit} bytes expected"))
    });
    if parts == 1 {
        store_blob(&state, &sha256, params.size, params.user, data).await?;
        return Ok(Json(BlobStatus { sha256, size: params.size, stored: true, received: vec![0] }));
    }
    let _gate = state.blob_guard.gate(&upload).read().await;
    let path = upload_part_path(&upload, part);
    let (got_size, got_sha) = state.blobs.put_stream(&path, data).await?;
    let wanted_sha = headers.get("x-heron-part-sha256").and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
    if got_size != expected || wanted_sha.as_ref().is_some_and(|w| *w != got_sha) {
        state.blobs.delete(&path).await?;
        return Err(Error::invalid(format!(
            "part {part} of blob {sha256} should be {expected} bytes{}; {got_size} bytes with sha256 {got_sha} arrived: send it again",
            wanted_sha.map(|w| format!(" with sha256 {w}")).unwrap_or_default()
        ))
        .into());
    }
    state.store.record_upload_part(&upload, part, time::now()).await?;
    let received = state.store.upload_parts(&upload).await?;
    Ok(Json(BlobStatus { sha256, size: params.size, stored: false, received }))
}

#[utoipa::path(post, path = "/api/v1/blobs/{sha256}/complete", tag = "artifacts",
    params(("sha256" = String, Path), UploadParams),
    responses((status = 200, body = BlobStatus), (status = 409, body = heron_types::ErrorBody), (status = 422, body = heron_types::ErrorBody)),
    security(()))]
pub async fn complete_upload(
    State(state): State<AppState>,
    Path(sha256): Path<String>,
    Query(params): Query<UploadParams>,
) -> ApiResult<Json<BlobStatus>> {
    let upload = checked_upload(secret(&state).await?, &sha256, &params)?;
    let parts = part_count(params.size);
    let received = state.store.upload_parts(&upload).await?;
    let missing: Vec<u64> = (0..parts).filter(|p| received.binary_search(p).is_err()).collect();
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(10).map(u64::to_string).collect();
        return Err(Error::conflict(format!(
            "blob {sha256} is missing {} of its {parts} parts ({}{}); upload them, then complete",
            missing.len(),
            shown.join(", "),
            if missing.len() > 10 { ", ..." } else { "" }
        ))
        .into());
    }
    let guard = &state.blob_guard;
    let _gate = guard.gate(&upload).write().await;
    let _gc = guard.gc.read().await;
    let _blob = guard.stripe(&sha256).lock().await;
    let already = state.store.blob_size(&sha256).await?.is_some();
    // The parts, in order: where the upload left them or, after a completion that was cut
    // off while moving them, already in place. Read back and hashed as one.
    let blobs = state.blobs.clone();
    let (key, sha) = (upload.clone(), sha256.clone());
    let joined: ByteStream = futures::stream::iter(0..parts)
        .then(move |part| {
            let blobs = blobs.clone();
            let (staged, placed) = (upload_part_path(&key, part), blob_part_path(&sha, part));
            async move {
                match blobs.get_stream(&staged).await {
                    Err(e) if e.kind == ErrorKind::NotFound && !already => blobs.get_stream(&placed).await,
                    other => other,
                }
            }
        })
        .try_flatten()
        .boxed();
    let (got_size, got_sha) = hash_stream(joined).await?;
    let matches = (got_size, got_sha.as_str()) == (params.size, sha256.as_str());
    for part in 0..parts {
        let staged = upload_part_path(&upload, part);
        if matches && !already {
            // The verified parts become the blob: moved, not written again.
            match state.blobs.rename(&staged, &blob_part_path(&sha256, part)).await {
                Err(e) if e.kind != ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        } else {
            state.blobs.delete(&staged).await?;
        }
    }
    state.store.clear_upload(&upload).await?;
    if !matches {
        return Err(mismatch(&sha256, params.size, (got_size, &got_sha)));
    }
    state.store.record_blob(&sha256, params.size, params.user, time::now()).await?;
    Ok(Json(BlobStatus { sha256, size: params.size, stored: true, received: (0..parts).collect() }))
}

#[derive(Deserialize, IntoParams)]
pub struct DownloadParams {
    expires: u64,
    sig: String,
}

#[utoipa::path(get, path = "/api/v1/blobs/{sha256}", tag = "artifacts",
    params(("sha256" = String, Path), DownloadParams),
    responses((status = 200, description = "The blob's bytes", content_type = "application/octet-stream"), (status = 403, body = heron_types::ErrorBody), (status = 404, body = heron_types::ErrorBody)),
    security(()))]
pub async fn download_blob(
    State(state): State<AppState>,
    Path(sha256): Path<String>,
    Query(params): Query<DownloadParams>,
) -> ApiResult<Response> {
    rules::check_sha256(&sha256)?;
    verify(secret(&state).await?, &download_message(&sha256, params.expires), &params.sig, params.expires)?;
    let size =
        state.store.blob_size(&sha256).await?.ok_or_else(|| Error::not_found(format!("blob {sha256} not found")))?;
    let stream = blob_stream(&state, &sha256, size).await?;
    Ok(bytes_response(stream, size, &sha256))
}

// ------------------------------------------------------------------------------------------
// artifacts

#[derive(Deserialize)]
pub struct ArtifactPath {
    entity: String,
    project: String,
    name: String,
}

#[derive(Deserialize)]
pub struct VersionPath {
    entity: String,
    project: String,
    name: String,
    version: String,
}

impl VersionPath {
    fn key(&self) -> ArtifactKey {
        ArtifactKey {
            entity: self.entity.clone(),
            project: self.project.clone(),
            name: self.name.clone(),
            version: self.version.clone(),
        }
    }
}

#[derive(Deserialize)]
pub struct VersionFilePath {
    entity: String,
    project: String,
    name: String,
    version: String,
    path: String,
}

#[derive(Deserialize)]
pub struct AliasPath {
    entity: String,
    project: String,
    name: String,
    alias: String,
}

#[derive(Deserialize, IntoParams)]
pub struct ListParams {
    /// Only artifacts of this type.
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/artifacts", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ListParams),
    responses((status = 200, body = Vec<Artifact>)))]
pub async fn list_artifacts(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ProjectPath>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<Vec<Artifact>>> {
    state.authorize(&caller, &path.entity).await?;
    Ok(Json(state.store.list_artifacts(&path.entity, &path.project, params.kind.as_deref()).await?))
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/artifacts/{name}", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = Artifact), (status = 404, body = heron_types::ErrorBody)))]
pub async fn get_artifact(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ArtifactPath>,
) -> ApiResult<Json<Artifact>> {
    state.authorize(&caller, &path.entity).await?;
    Ok(Json(state.store.get_artifact(&path.entity, &path.project, &path.name).await?))
}

#[utoipa::path(delete, path = "/api/v1/projects/{entity}/{project}/artifacts/{name}", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path)),
    responses((status = 204), (status = 409, body = heron_types::ErrorBody)))]
pub async fn delete_artifact(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ArtifactPath>,
) -> ApiResult<StatusCode> {
    state.authorize(&caller, &path.entity).await?;
    state.store.delete_artifact(&path.entity, &path.project, &path.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/artifacts/{name}/versions", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = Vec<ArtifactVersion>)))]
pub async fn list_versions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ArtifactPath>,
) -> ApiResult<Json<Vec<ArtifactVersion>>> {
    state.authorize(&caller, &path.entity).await?;
    Ok(Json(state.store.list_versions(&path.entity, &path.project, &path.name).await?))
}

#[utoipa::path(post, path = "/api/v1/projects/{entity}/{project}/artifacts/{name}/versions", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path)), request_body = VersionCreate,
    responses((status = 201, body = ArtifactVersion), (status = 200, description = "Same contents as an existing version", body = ArtifactVersion),
        (status = 409, body = heron_types::ErrorBody), (status = 422, body = heron_types::ErrorBody)))]
pub async fn create_version(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ArtifactPath>,
    ApiJson(create): ApiJson<VersionCreate>,
) -> ApiResult<(StatusCode, Json<ArtifactVersion>)> {
    state.authorize(&caller, &path.entity).await?;
    names::check_name("project name", &path.project)?;
    let version =
        state.store.create_version(&path.entity, &path.project, &path.name, &create, &caller.user, time::now()).await?;
    let status = if version.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(version)))
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/artifacts/{name}/versions/{version}", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path), ("version" = String, Path, description = "vN, latest or an alias")),
    responses((status = 200, body = ArtifactVersion), (status = 404, body = heron_types::ErrorBody)))]
pub async fn get_version(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<VersionPath>,
) -> ApiResult<Json<ArtifactVersion>> {
    state.authorize(&caller, &path.entity).await?;
    Ok(Json(state.store.get_version(&path.entity, &path.project, &path.name, &path.version).await?))
}

#[utoipa::path(patch, path = "/api/v1/projects/{entity}/{project}/artifacts/{name}/versions/{version}", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path), ("version" = String, Path)),
    request_body = VersionPatch, responses((status = 200, body = ArtifactVersion)))]
pub async fn patch_version(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<VersionPath>,
    ApiJson(patch): ApiJson<VersionPatch>,
) -> ApiResult<Json<ArtifactVersion>> {
    state.authorize(&caller, &path.entity).await?;
    let version =
        state.store.patch_version(&path.entity, &path.project, &path.name, &path.version, &patch, time::now()).await?;
    Ok(Json(version))
}

#[utoipa::path(delete, path = "/api/v1/projects/{entity}/{project}/artifacts/{name}/versions/{version}", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path), ("version" = String, Path)),
    responses((status = 204), (status = 409, body = heron_types::ErrorBody)))]
pub async fn delete_version(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<VersionPath>,
) -> ApiResult<StatusCode> {
    state.authorize(&caller, &path.entity).await?;
    state.store.delete_version(&path.entity, &path.project, &path.name, &path.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/artifacts/{name}/versions/{version}/files", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = Vec<ArtifactFile>)))]
pub async fn version_files(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<VersionPath>,
) -> ApiResult<Json<Vec<ArtifactFile>>> {
    state.authorize(&caller, &path.entity).await?;
    let entries = state.store.version_files(&path.entity, &path.project, &path.name, &path.version).await?;
    let expires = expiry();
    let key = secret(&state).await?;
    let files = entries
        .into_iter()
        .map(|e| {
            let url = e.sha256.as_ref().map(|sha| {
                format!("/api/v1/blobs/{sha}?expires={expires}&sig={}", sign(key, &download_message(sha, expires)))
            });
            ArtifactFile { path: e.path, size: e.size, sha256: e.sha256, reference: e.reference, digest: e.digest, url }
        })
        .collect();
    Ok(Json(files))
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/artifacts/{name}/versions/{version}/files/{path}", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path), ("version" = String, Path), ("path" = String, Path)),
    responses((status = 200, description = "The file's bytes", content_type = "application/octet-stream"), (status = 404, body = heron_types::ErrorBody)))]
pub async fn version_file(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<VersionFilePath>,
) -> ApiResult<Response> {
    state.authorize(&caller, &path.entity).await?;
    rules::check_path(&path.path)?;
    let entries = state.store.version_files(&path.entity, &path.project, &path.name, &path.version).await?;
    let entry = entries.into_iter().find(|e| e.path == path.path).ok_or_else(|| {
        Error::not_found(format!(
            "{}/{}/{}:{} has no file {:?}",
            path.entity, path.project, path.name, path.version, path.path
        ))
    })?;
    let Some(sha256) = entry.sha256 else {
        return Err(Error::conflict(format!(
            "{:?} is a reference to {}; its bytes are not stored by Heron",
            entry.path,
            entry.reference.unwrap_or_default()
        ))
        .into());
    };
    let stream = blob_stream(&state, &sha256, entry.size).await?;
    Ok(bytes_response(stream, entry.size, &sha256))
}

#[utoipa::path(put, path = "/api/v1/projects/{entity}/{project}/artifacts/{name}/aliases/{alias}", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path), ("alias" = String, Path)),
    request_body = AliasSet, responses((status = 200, body = ArtifactVersion), (status = 422, body = heron_types::ErrorBody)))]
pub async fn set_alias(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<AliasPath>,
    ApiJson(body): ApiJson<AliasSet>,
) -> ApiResult<Json<ArtifactVersion>> {
    state.authorize(&caller, &path.entity).await?;
    Ok(Json(state.store.set_alias(&path.entity, &path.project, &path.name, &path.alias, &body.version).await?))
}

#[utoipa::path(delete, path = "/api/v1/projects/{entity}/{project}/artifacts/{name}/aliases/{alias}", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path), ("alias" = String, Path)),
    responses((status = 204), (status = 404, body = heron_types::ErrorBody)))]
pub async fn delete_alias(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<AliasPath>,
) -> ApiResult<StatusCode> {
    state.authorize(&caller, &path.entity).await?;
    state.store.delete_alias(&path.entity, &path.project, &path.name, &path.alias).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `id` (a run of `entity/project`) or `entity/project/id`.
fn run_named(entity: &str, project: &str, run: &str) -> ApiResult<RunRef> {
    let parts: Vec<&str> = run.split('/').collect();
    let run = match parts.as_slice() {
        [id] => RunRef::new(entity, project, *id),
        [e, p, id] => RunRef::new(*e, *p, *id),
        _ => return Err(Error::invalid(format!("run {run:?}: use a run id or entity/project/run")).into()),
    };
    names::check_name("run id", &run.run)?;
    Ok(run)
}

#[utoipa::path(post, path = "/api/v1/projects/{entity}/{project}/artifacts/{name}/versions/{version}/uses", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path), ("version" = String, Path)),
    request_body = UseCreate, responses((status = 204), (status = 404, body = heron_types::ErrorBody)))]
pub async fn record_use(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<VersionPath>,
    ApiJson(body): ApiJson<UseCreate>,
) -> ApiResult<StatusCode> {
    state.authorize(&caller, &path.entity).await?;
    let run = run_named(&path.entity, &path.project, &body.run)?;
    state.authorize(&caller, &run.entity).await?;
    state.store.record_use(&path.entity, &path.project, &path.name, &path.version, &run, time::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/runs/{run}/artifacts", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path)),
    responses((status = 200, body = RunArtifacts)))]
pub async fn run_artifacts(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
) -> ApiResult<Json<RunArtifacts>> {
    state.authorize(&caller, &path.entity).await?;
    Ok(Json(state.store.run_artifacts(&path.run_ref()).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct LineageParams {
    /// `up` (what it came from), `down` (what came of it) or `both` (default).
    direction: Option<String>,
    /// Steps to walk, 1 to 100 (default 10).
    depth: Option<u32>,
}

/// The lineage graph as `caller` may see it: runs and versions of entities they are not a
/// member of are left out (with their edges), though the walk passes through them.
async fn lineage(
    state: &AppState,
    caller: &Caller,
    root: LineageRoot,
    params: &LineageParams,
) -> ApiResult<Json<Lineage>> {
    let (up, down) = match params.direction.as_deref().unwrap_or("both") {
        "up" => (true, false),
        "down" => (false, true),
        "both" => (true, true),
        other => return Err(Error::invalid(format!("direction {other:?}: use up, down or both")).into()),
    };
    let depth = params.depth.unwrap_or(10);
    if !(1..=100).contains(&depth) {
        return Err(Error::invalid("depth must be 1 to 100").into());
    }
    let mut graph = state.store.lineage(root, up, down, depth).await?;
    if !caller.user.admin {
        let visible: std::collections::HashSet<String> =
            state.store.entities_of(caller.user.id).await?.into_iter().collect();
        graph.nodes.retain(|node| visible.contains(&node.entity));
        let kept: std::collections::HashSet<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
        graph.edges.retain(|edge| kept.contains(edge.from.as_str()) && kept.contains(edge.to.as_str()));
    }
    Ok(Json(graph))
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/artifacts/{name}/versions/{version}/lineage", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path), ("version" = String, Path), LineageParams),
    responses((status = 200, body = Lineage)))]
pub async fn version_lineage(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<VersionPath>,
    ApiQuery(params): ApiQuery<LineageParams>,
) -> ApiResult<Json<Lineage>> {
    state.authorize(&caller, &path.entity).await?;
    lineage(&state, &caller, LineageRoot::Version(path.key()), &params).await
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/runs/{run}/lineage", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path), LineageParams),
    responses((status = 200, body = Lineage)))]
pub async fn run_lineage(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
    ApiQuery(params): ApiQuery<LineageParams>,
) -> ApiResult<Json<Lineage>> {
    state.authorize(&caller, &path.entity).await?;
    lineage(&state, &caller, LineageRoot::Run(path.run_ref()), &params).await
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/storage", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path)),
    responses((status = 200, body = StorageReport)))]
pub async fn storage_report(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ProjectPath>,
) -> ApiResult<Json<StorageReport>> {
    state.authorize(&caller, &path.entity).await?;
    Ok(Json(state.store.storage_report(&path.entity, &path.project).await?))
}

// ------------------------------------------------------------------------------------------
// lifecycle

fn require_admin(caller: &Caller) -> ApiResult<()> {
    if caller.user.admin { Ok(()) } else { Err(Error::forbidden("only admins may do this").into()) }
}

#[utoipa::path(get, path = "/api/v1/admin/blobs", tag = "artifacts", responses((status = 200, body = BlobTotals)))]
pub async fn blob_totals(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<BlobTotals>> {
    require_admin(&caller)?;
    Ok(Json(state.store.blob_totals().await?))
}

#[utoipa::path(post, path = "/api/v1/admin/gc", tag = "artifacts", request_body = GcRequest, responses((status = 200, body = GcReport)))]
pub async fn gc(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: bytes::Bytes,
) -> ApiResult<Json<GcReport>> {
    require_admin(&caller)?;
    let request: GcRequest = if body.iter().all(u8::is_ascii_whitespace) {
        GcRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| Error::invalid(format!("invalid JSON body: {e}")))?
    };
    let grace = request.grace_seconds.unwrap_or(DEFAULT_GRACE_SECONDS);
    Ok(Json(collect(&state, grace).await?))
}

/// Deletes expired versions, then the blobs no version holds that were stored more than
/// `grace_seconds` ago, then uploads abandoned for a day.
pub async fn collect(state: &AppState, grace_seconds: u64) -> heron_core::Result<GcReport> {
    let now = time::now();
    let expired_versions = state.store.expire_versions(now).await?;
    let (mut blobs_deleted, mut bytes_freed) = (0, 0);
    {
        let _gc = state.blob_guard.gc.write().await;
        for (sha256, size) in state.store.collect_blobs(now - grace_seconds as f64).await? {
            delete_blob(state, &sha256, size).await?;
            blobs_deleted += 1;
            bytes_freed += size;
        }
    }
    let abandoned = state.store.abandon_uploads(now - ABANDONED_UPLOAD_SECONDS).await?;
    let mut uploads = std::collections::HashSet::new();
    for (upload, part) in abandoned {
        state.blobs.delete(&upload_part_path(&upload, part)).await?;
        uploads.insert(upload);
    }
    if blobs_deleted > 0 || expired_versions > 0 {
        tracing::info!(expired_versions, blobs_deleted, bytes_freed, "artifact storage collected");
    }
    Ok(GcReport { expired_versions, blobs_deleted, bytes_freed, uploads_abandoned: uploads.len() as u64 })
}

/// Every minute, deletes expired versions; every hour, collects garbage.
pub(crate) async fn collect_periodically(state: AppState) {
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(60));
    let mut ticks: u64 = 0;
    loop {
        ticker.tick().await;
        ticks += 1;
        let result = if ticks.is_multiple_of(60) {
            collect(&state, DEFAULT_GRACE_SECONDS).await.map(|_| ())
        } else {
            state.store.expire_versions(time::now()).await.map(|n| {
                if n > 0 {
                    tracing::info!(versions = n, "expired artifact versions deleted");
                }
            })
        };
        if let Err(error) = result {
            tracing::warn!(%error, "artifact collection failed");
        }
    }
}

// ------------------------------------------------------------------------------------------
// model registry

#[derive(Deserialize)]
pub struct EntityPath {
    entity: String,
}

#[derive(Deserialize)]
pub struct ModelPath {
    entity: String,
    model: String,
}

#[derive(Deserialize)]
pub struct ModelVersionPath {
    entity: String,
    model: String,
    version: String,
}

#[derive(Deserialize)]
pub struct ModelAliasPath {
    entity: String,
    model: String,
    alias: String,
}

#[utoipa::path(get, path = "/api/v1/entities/{entity}/models", tag = "registry",
    params(("entity" = String, Path)), responses((status = 200, body = Vec<RegisteredModel>)))]
pub async fn list_models(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<EntityPath>,
) -> ApiResult<Json<Vec<RegisteredModel>>> {
    state.authorize(&caller, &path.entity).await?;
    Ok(Json(state.store.list_models(&path.entity).await?))
}

#[utoipa::path(post, path = "/api/v1/entities/{entity}/models", tag = "registry",
    params(("entity" = String, Path)), request_body = ModelCreate,
    responses((status = 201, body = RegisteredModel), (status = 409, body = heron_types::ErrorBody)))]
pub async fn create_model(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<EntityPath>,
    ApiJson(create): ApiJson<ModelCreate>,
) -> ApiResult<(StatusCode, Json<RegisteredModel>)> {
    state.authorize(&caller, &path.entity).await?;
    let model = state.store.create_model(&path.entity, &create, &caller.user.name, time::now()).await?;
    Ok((StatusCode::CREATED, Json(model)))
}

#[utoipa::path(get, path = "/api/v1/entities/{entity}/models/{model}", tag = "registry",
    params(("entity" = String, Path), ("model" = String, Path)), responses((status = 200, body = RegisteredModel)))]
pub async fn get_model(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ModelPath>,
) -> ApiResult<Json<RegisteredModel>> {
    state.authorize(&caller, &path.entity).await?;
    Ok(Json(state.store.get_model(&path.entity, &path.model).await?))
}

#[utoipa::path(delete, path = "/api/v1/entities/{entity}/models/{model}", tag = "registry",
    params(("entity" = String, Path), ("model" = String, Path)), responses((status = 204)))]
pub async fn delete_model(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ModelPath>,
) -> ApiResult<StatusCode> {
    state.authorize(&caller, &path.entity).await?;
    state.store.delete_model(&path.entity, &path.model, &caller.user.name, time::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/entities/{entity}/models/{model}/versions", tag = "registry",
    params(("entity" = String, Path), ("model" = String, Path)), request_body = ModelLink,
    responses((status = 201, body = ModelVersion), (status = 200, description = "Already linked", body = ModelVersion)))]
pub async fn link_model_version(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ModelPath>,
    ApiJson(link): ApiJson<ModelLink>,
) -> ApiResult<(StatusCode, Json<ModelVersion>)> {
    state.authorize(&caller, &path.entity).await?;
    let reference = VersionRef::parse(&link.artifact)?;
    let project = reference.project.ok_or_else(|| {
        Error::invalid(format!(
            "artifact {:?}: name its project too, as project/name:version or entity/project/name:version",
            link.artifact
        ))
    })?;
    let artifact = ArtifactKey {
        entity: reference.entity.unwrap_or_else(|| path.entity.clone()),
        project,
        name: reference.name,
        version: reference.version,
    };
    state.authorize(&caller, &artifact.entity).await?;
    let (version, created) = state
        .store
        .link_model_version(&path.entity, &path.model, &artifact, &link.aliases, &caller.user.name, time::now())
        .await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(version)))
}

#[utoipa::path(delete, path = "/api/v1/entities/{entity}/models/{model}/versions/{version}", tag = "registry",
    params(("entity" = String, Path), ("model" = String, Path), ("version" = String, Path)), responses((status = 204)))]
pub async fn unlink_model_version(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ModelVersionPath>,
) -> ApiResult<StatusCode> {
    state.authorize(&caller, &path.entity).await?;
    state.store.unlink_model_version(&path.entity, &path.model, &path.version, &caller.user.name, time::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/entities/{entity}/models/{model}/aliases/{alias}", tag = "registry",
    params(("entity" = String, Path), ("model" = String, Path), ("alias" = String, Path)), request_body = AliasSet,
    responses((status = 200, body = ModelVersion)))]
pub async fn set_model_alias(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ModelAliasPath>,
    ApiJson(body): ApiJson<AliasSet>,
) -> ApiResult<Json<ModelVersion>> {
    state.authorize(&caller, &path.entity).await?;
    let version = state
        .store
        .set_model_alias(&path.entity, &path.model, &path.alias, &body.version, &caller.user.name, time::now())
        .await?;
    Ok(Json(version))
}

#[utoipa::path(delete, path = "/api/v1/entities/{entity}/models/{model}/aliases/{alias}", tag = "registry",
    params(("entity" = String, Path), ("model" = String, Path), ("alias" = String, Path)), responses((status = 204)))]
pub async fn delete_model_alias(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ModelAliasPath>,
) -> ApiResult<StatusCode> {
    state.authorize(&caller, &path.entity).await?;
    state.store.delete_model_alias(&path.entity, &path.model, &path.alias, &caller.user.name, time::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/entities/{entity}/models/{model}/audit", tag = "registry",
    params(("entity" = String, Path), ("model" = String, Path)), responses((status = 200, body = Vec<AuditEntry>)))]
pub async fn model_audit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ModelPath>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    state.authorize(&caller, &path.entity).await?;
    Ok(Json(state.store.model_audit(&path.entity, &path.model).await?))
}

pub(crate) fn guard() -> Arc<BlobGuard> {
    Arc::new(BlobGuard::default())
}

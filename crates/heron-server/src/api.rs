//! `/api/v1`: the routes and their handlers. Handlers check who may act, call the store, and
//! publish what changed to the project's event stream.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Extension, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use heron_core::query::{Cursor, Filter, compare_runs, parse_sort};
use heron_core::{Error, RunRef, keys, names, time};
use heron_types::{
    ChartQuery, ChartResponse, ConsoleAppend, ConsolePage, Entity, EntityCreate, Health, HistoryBatch, HistoryPage,
    IngestAck, KeyInfo, Project, ProjectCreate, ProjectEvent, Run, RunFile, RunPage, RunPatch, RunUpsert, RunUpserted,
    Scalar, SeriesColumns, Stream as SeriesStream, SystemBatch, UserCreate, UserCreated, Viewer, limits,
};
use serde::Deserialize;
use serde_json::Value;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::trace::TraceLayer;
use utoipa::IntoParams;

use crate::auth::{self, Caller};
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult, HistoryJson};
use crate::{AppState, dashboard};

pub fn router(state: AppState) -> Router {
    let run = "/projects/{entity}/{project}/runs/{run}";
    let protected = Router::new()
        .route("/viewer", get(viewer))
        .route("/viewer/password", axum::routing::put(dashboard::set_password))
        .route("/users", post(create_user))
        .route("/entities", post(create_team))
        .route("/entities/{entity}", get(get_entity))
        .route("/entities/{entity}/projects", get(list_projects).post(create_project))
        .route("/projects/{entity}/{project}", get(get_project))
        .route("/projects/{entity}/{project}/runs", get(list_runs).post(upsert_run))
        .route("/projects/{entity}/{project}/chart", post(chart))
        .route("/projects/{entity}/{project}/events", get(project_events))
        .route("/projects/{entity}/{project}/importance", post(dashboard::importance))
        .route("/projects/{entity}/{project}/keys", get(dashboard::project_keys))
        .route("/projects/{entity}/{project}/views", get(dashboard::list_views))
        .route(
            "/projects/{entity}/{project}/views/{name}",
            axum::routing::put(dashboard::put_view).delete(dashboard::delete_view),
        )
        .route(run, get(get_run).patch(patch_run).delete(delete_run))
        .route(&format!("{run}/config"), axum::routing::patch(merge_config))
        .route(&format!("{run}/summary"), axum::routing::patch(merge_summary))
        .route(&format!("{run}/heartbeat"), post(heartbeat))
        .route(&format!("{run}/history"), get(history_rows).post(append_history))
        .route(&format!("{run}/history/keys"), get(history_keys))
        .route(&format!("{run}/history/series"), get(history_series))
        .route(&format!("{run}/history/export"), get(crate::export::export))
        .route(&format!("{run}/system"), get(system_rows).post(append_system))
        .route(&format!("{run}/console"), get(read_console).post(append_console))
        .route(&format!("{run}/files"), get(list_files))
        .route(
            &format!("{run}/files/{{*path}}"),
            get(download_file).put(upload_file).layer(DefaultBodyLimit::disable()),
        )
        .merge(crate::artifacts::routes())
        .layer(middleware::from_fn_with_state(state.clone(), auth::require_key));
    let api = Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .route("/session", post(dashboard::create_session).delete(dashboard::delete_session))
        .merge(crate::artifacts::blob_routes())
        .merge(protected)
        .fallback(not_found);
    Router::new()
        .nest("/api/v1", api)
        .route("/login", get(login))
        .fallback(crate::ui::serve)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limits::MAX_BODY_BYTES))
        .layer(RequestDecompressionLayer::new())
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Fastest)
                .compress_when(DefaultPredicate::new().and(compressible as fn(_, _, &_, &_) -> bool)),
        )
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Answers worth compressing (for a client that accepts gzip, br or zstd): JSON, CSV and the
/// dashboard's text files. A chart answer shrinks several times; file downloads (often already
/// compressed) and event streams are sent as they are. The fastest level keeps the CPU cost
/// far below the time saved on any real network.
fn compressible(
    _: StatusCode,
    _: axum::http::Version,
    headers: &axum::http::HeaderMap,
    _: &axum::http::Extensions,
) -> bool {
    let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    ["application/json", "text/csv", "text/html", "text/javascript", "text/css", "image/svg+xml"]
        .iter()
        .any(|kind| content_type.starts_with(kind))
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError(Error::internal("the server hit a bug handling this request; it has been logged")).into_response()
}

async fn not_found() -> ApiError {
    ApiError(Error::not_found("no such route; see /api/v1/openapi.json"))
}

async fn method_not_allowed() -> Response {
    let body = heron_types::ErrorBody {
        error: heron_types::ErrorDetail {
            kind: "method_not_allowed".into(),
            message: "method not allowed on this route; see /api/v1/openapi.json".into(),
        },
    };
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoginParams {
    /// The one-time token printed when the server first started.
    token: String,
}

/// Redeems the one-time login token: sets a browser key cookie and goes to the dashboard.
async fn login(State(state): State<AppState>, ApiQuery(params): ApiQuery<LoginParams>) -> ApiResult<Response> {
    let user =
        state.store.redeem_login_token(&keys::hash_secret(&params.token), time::now()).await?.ok_or_else(|| {
            Error::unauthenticated("this login link was already used or has expired; sign in with your API key")
        })?;
    let cookie = dashboard::new_session_cookie(&state, &user).await?;
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

#[derive(Deserialize)]
pub struct ProjectPath {
    pub(crate) entity: String,
    pub(crate) project: String,
}

#[derive(Deserialize)]
pub struct RunPath {
    pub(crate) entity: String,
    pub(crate) project: String,
    pub(crate) run: String,
}

impl RunPath {
    pub(crate) fn run_ref(&self) -> RunRef {
        RunRef::new(&self.entity, &self.project, &self.run)
    }
}

#[derive(Deserialize)]
pub struct FilePath {
    entity: String,
    project: String,
    run: String,
    path: String,
}

/// Authorises the caller for a run's entity and names the run.
async fn run_ref(state: &AppState, caller: &Caller, path: &RunPath) -> ApiResult<RunRef> {
    state.authorize(caller, &path.entity).await?;
    Ok(path.run_ref())
}

#[utoipa::path(get, path = "/api/v1/health", tag = "server", security(()), responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into() })
}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "server", security(()), responses((status = 200, description = "This document")))]
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], crate::openapi::openapi_json())
}

#[utoipa::path(get, path = "/api/v1/viewer", tag = "accounts", responses((status = 200, body = Viewer), (status = 401, body = heron_types::ErrorBody)))]
pub async fn viewer(State(state): State<AppState>, Extension(caller): Extension<Caller>) -> ApiResult<Json<Viewer>> {
    let entities = state.store.entities_of(caller.user.id).await?;
    Ok(Json(Viewer { name: caller.user.name, admin: caller.user.admin, entities }))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = UserCreate,
    responses((status = 201, body = UserCreated), (status = 403, body = heron_types::ErrorBody), (status = 409, body = heron_types::ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<UserCreate>,
) -> ApiResult<(StatusCode, Json<UserCreated>)> {
    if !caller.user.admin {
        return Err(Error::forbidden("only an admin can create users").into());
    }
    let api_key = keys::generate_api_key();
    let user = state.store.create_user(&body.name, body.admin, &keys::hash_secret(&api_key)).await?;
    Ok((StatusCode::CREATED, Json(UserCreated { name: user.name, admin: user.admin, api_key })))
}

#[utoipa::path(post, path = "/api/v1/entities", tag = "accounts", request_body = EntityCreate,
    responses((status = 201, body = Entity), (status = 409, body = heron_types::ErrorBody)))]
pub async fn create_team(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<EntityCreate>,
) -> ApiResult<(StatusCode, Json<Entity>)> {
    let entity = state.store.create_team(&body.name, caller.user.id).await?;
    Ok((StatusCode::CREATED, Json(entity)))
}

#[utoipa::path(get, path = "/api/v1/entities/{entity}", tag = "accounts", params(("entity" = String, Path)),
    responses((status = 200, body = Entity), (status = 404, body = heron_types::ErrorBody)))]
pub async fn get_entity(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(entity): Path<String>,
) -> ApiResult<Json<Entity>> {
    state.authorize(&caller, &entity).await?;
    Ok(Json(state.store.get_entity(&entity).await?))
}

#[utoipa::path(get, path = "/api/v1/entities/{entity}/projects", tag = "projects", params(("entity" = String, Path)),
    responses((status = 200, body = Vec<Project>), (status = 403, body = heron_types::ErrorBody)))]
pub async fn list_projects(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(entity): Path<String>,
) -> ApiResult<Json<Vec<Project>>> {
    state.authorize(&caller, &entity).await?;
    Ok(Json(state.store.list_projects(&entity).await?))
}

#[utoipa::path(post, path = "/api/v1/entities/{entity}/projects", tag = "projects", params(("entity" = String, Path)),
    request_body = ProjectCreate, responses((status = 201, body = Project), (status = 409, body = heron_types::ErrorBody)))]
pub async fn create_project(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(entity): Path<String>,
    ApiJson(body): ApiJson<ProjectCreate>,
) -> ApiResult<(StatusCode, Json<Project>)> {
    state.authorize(&caller, &entity).await?;
    Ok((StatusCode::CREATED, Json(state.store.create_project(&entity, &body).await?)))
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}", tag = "projects",
    params(("entity" = String, Path), ("project" = String, Path)),
    responses((status = 200, body = Project), (status = 404, body = heron_types::ErrorBody)))]
pub async fn get_project(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ProjectPath>,
) -> ApiResult<Json<Project>> {
    state.authorize(&caller, &path.entity).await?;
    Ok(Json(state.store.get_project(&path.entity, &path.project).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunListParams {
    /// Run query, e.g. `config.lr > 0.01 and (tags contains "baseline" or state = "running")`.
    filter: Option<String>,
    /// Sort keys, e.g. `summary.val_loss desc, created_at`; default newest first.
    sort: Option<String>,
    /// Page size (default 100, at most 10000).
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Comma-separated history keys whose statistics (`min`, `max`, `last`, `count`) each run
    /// of the page carries in `metrics`.
    metrics: Option<String>,
}

pub(crate) fn query_error(what: &str, error: heron_core::query::ParseError) -> ApiError {
    ApiError(Error::invalid(format!("{what}: {} at column {}", error.message, error.column)))
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/runs", tag = "runs",
    params(("entity" = String, Path), ("project" = String, Path), RunListParams),
    responses((status = 200, body = RunPage), (status = 422, body = heron_types::ErrorBody)))]
pub async fn list_runs(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ProjectPath>,
    ApiQuery(params): ApiQuery<RunListParams>,
) -> ApiResult<Json<RunPage>> {
    state.authorize(&caller, &path.entity).await?;
    let filter = Filter::parse(params.filter.as_deref().unwrap_or_default()).map_err(|e| query_error("filter", e))?;
    let sort = parse_sort(params.sort.as_deref().unwrap_or_default()).map_err(|e| query_error("sort", e))?;
    let cursor = params.cursor.as_deref().map(Cursor::decode).transpose().map_err(|e| query_error("cursor", e))?;
    let limit = params.limit.unwrap_or(100);
    if limit == 0 || limit > limits::MAX_PAGE_RUNS {
        return Err(Error::invalid(format!("limit must be 1 to {}", limits::MAX_PAGE_RUNS)).into());
    }
    let runs = state.store.list_runs(&path.entity, &path.project).await?;
    let wanted = split_keys(&params.metrics).unwrap_or_default();
    if wanted.len() > limits::MAX_CHART_KEYS {
        return Err(Error::invalid(format!("metrics takes at most {} keys", limits::MAX_CHART_KEYS)).into());
    }
    let paths = filter.fields().into_iter().chain(sort.iter().map(|key| &key.field));
    let metrics = dashboard::metric_stats(&state, &path.entity, &path.project, paths, &wanted).await?;
    // Filtering and sorting are CPU work over every run: keep them off the async executor.
    let page = tokio::task::spawn_blocking(move || {
        let mut matching: Vec<(Value, Run)> = runs
            .into_iter()
            .filter_map(|run| {
                let document = dashboard::run_document(&run, &metrics)?;
                filter.matches(&document).then_some((document, run))
            })
            .collect();
        matching.sort_by(|a, b| compare_runs(&a.0, &b.0, &sort));
        let total = matching.len() as u64;
        let start = match &cursor {
            Some(cursor) => matching.partition_point(|(document, _)| !cursor.is_before(document, &sort)),
            None => 0,
        };
        let end = (start + limit).min(matching.len());
        let next_cursor =
            (end < matching.len() && end > start).then(|| Cursor::after(&matching[end - 1].0, &sort).encode());
        let runs = matching
            .drain(start..end)
            .map(|(_, mut run)| {
                if !wanted.is_empty() {
                    run.metrics = Some(dashboard::metrics_of(&metrics, &run.id, &wanted));
                }
                run
            })
            .collect();
        RunPage { runs, total, next_cursor }
    })
    .await
    .map_err(|e| Error::internal(format!("run listing failed: {e}")))?;
    Ok(Json(page))
}

#[utoipa::path(post, path = "/api/v1/projects/{entity}/{project}/runs", tag = "runs",
    params(("entity" = String, Path), ("project" = String, Path)), request_body = RunUpsert,
    responses((status = 201, description = "Created", body = RunUpserted), (status = 200, description = "Resumed", body = RunUpserted),
        (status = 404, body = heron_types::ErrorBody), (status = 409, body = heron_types::ErrorBody)))]
pub async fn upsert_run(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ProjectPath>,
    ApiJson(body): ApiJson<RunUpsert>,
) -> ApiResult<(StatusCode, Json<RunUpserted>)> {
    state.authorize(&caller, &path.entity).await?;
    names::check_name("project name", &path.project)?;
    let id = body.id.clone().unwrap_or_else(keys::random_run_id);
    let upserted = state.store.upsert_run(&path.entity, &path.project, &id, &body).await?;
    state.publish(&path.entity, &path.project, ProjectEvent::Run { run: Box::new(upserted.run.clone()) });
    let status = if upserted.resumed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(upserted)))
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/runs/{run}", tag = "runs",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path)),
    responses((status = 200, body = Run), (status = 404, body = heron_types::ErrorBody)))]
pub async fn get_run(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
) -> ApiResult<Json<Run>> {
    let run = run_ref(&state, &caller, &path).await?;
    Ok(Json(state.store.get_run(&run).await?))
}

async fn publish_run(state: &AppState, run: Run) -> Json<Run> {
    let (entity, project) = (run.entity.clone(), run.project.clone());
    state.publish(&entity, &project, ProjectEvent::Run { run: Box::new(run.clone()) });
    Json(run)
}

#[utoipa::path(patch, path = "/api/v1/projects/{entity}/{project}/runs/{run}", tag = "runs",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path)), request_body = RunPatch,
    responses((status = 200, body = Run), (status = 404, body = heron_types::ErrorBody), (status = 422, body = heron_types::ErrorBody)))]
pub async fn patch_run(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
    ApiJson(patch): ApiJson<RunPatch>,
) -> ApiResult<Json<Run>> {
    let run = run_ref(&state, &caller, &path).await?;
    let updated = state.store.patch_run(&run, &patch).await?;
    Ok(publish_run(&state, updated).await)
}

#[utoipa::path(delete, path = "/api/v1/projects/{entity}/{project}/runs/{run}", tag = "runs",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path)),
    responses((status = 204, description = "Deleted with its history, console and files"), (status = 404, body = heron_types::ErrorBody)))]
pub async fn delete_run(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
) -> ApiResult<StatusCode> {
    let run = run_ref(&state, &caller, &path).await?;
    let files = state.store.list_files(&run).await?;
    state.store.delete_run(&run).await?;
    for file in files {
        if let Err(error) = state.blobs.delete(&file_blob_path(&run, &file.path)).await {
            tracing::warn!(%error, run = %run, path = %file.path, "could not delete the blob of a deleted run's file");
        }
    }
    state.publish(&path.entity, &path.project, ProjectEvent::RunDeleted { run: path.run.clone() });
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(patch, path = "/api/v1/projects/{entity}/{project}/runs/{run}/config", tag = "runs",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path)),
    request_body(content = Object, description = "JSON merge patch (RFC 7386): objects merge, null removes a key"),
    responses((status = 200, body = Run)))]
pub async fn merge_config(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
    ApiJson(patch): ApiJson<Value>,
) -> ApiResult<Json<Run>> {
    let run = run_ref(&state, &caller, &path).await?;
    let updated = state.store.merge_config(&run, &patch).await?;
    Ok(publish_run(&state, updated).await)
}

#[utoipa::path(patch, path = "/api/v1/projects/{entity}/{project}/runs/{run}/summary", tag = "runs",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path)),
    request_body(content = Object, description = "JSON merge patch (RFC 7386): objects merge, null removes a key"),
    responses((status = 200, body = Run)))]
pub async fn merge_summary(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
    ApiJson(patch): ApiJson<Value>,
) -> ApiResult<Json<Run>> {
    let run = run_ref(&state, &caller, &path).await?;
    let updated = state.store.merge_summary(&run, &patch).await?;
    Ok(publish_run(&state, updated).await)
}

#[utoipa::path(post, path = "/api/v1/projects/{entity}/{project}/runs/{run}/heartbeat", tag = "runs",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path)),
    responses((status = 200, description = "The run; a crashed run that beats again is running", body = Run)))]
pub async fn heartbeat(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
) -> ApiResult<Json<Run>> {
    let run = run_ref(&state, &caller, &path).await?;
    let beating = state.store.heartbeat(&run).await?;
    Ok(publish_run(&state, beating).await)
}

/// Points events carry the rows themselves when the batch is this small.
const EVENT_POINTS: usize = 1000;

fn points_event(run: &str, stream: SeriesStream, rows: &[(i64, Vec<(&String, Value)>)]) -> Option<ProjectEvent> {
    let first_step = rows.iter().map(|r| r.0).min()?;
    let last_step = rows.iter().map(|r| r.0).max()?;
    let mut keys: Vec<String> = rows.iter().flat_map(|r| r.1.iter().map(|(k, _)| (*k).clone())).collect();
    keys.sort();
    keys.dedup();
    let points: usize = rows.iter().map(|r| r.1.len()).sum();
    let rows = (points <= EVENT_POINTS).then(|| {
        rows.iter()
            .map(|(step, values)| {
                let mut row = serde_json::Map::new();
                row.insert("_step".into(), Value::from(*step));
                for (key, value) in values {
                    row.insert((*key).clone(), value.clone());
                }
                Value::Object(row)
            })
            .collect()
    });
    Some(ProjectEvent::Points { run: run.to_string(), stream, keys, first_step, last_step, rows })
}

#[utoipa::path(post, path = "/api/v1/projects/{entity}/{project}/runs/{run}/history", tag = "history",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path)), request_body = HistoryBatch,
    responses((status = 200, description = "Stored and durable (or already stored: `duplicate`)", body = IngestAck),
        (status = 413, body = heron_types::ErrorBody), (status = 422, body = heron_types::ErrorBody)))]
pub async fn append_history(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
    HistoryJson(batch): HistoryJson,
) -> ApiResult<Json<IngestAck>> {
    let run = run_ref(&state, &caller, &path).await?;
    // Live clients are sent only new steps; reading the previous last step costs a query, so
    // only when someone listens.
    let listening = state.events.has_subscribers(&path.entity, &path.project);
    let previous_last = if listening { state.store.get_run(&run).await?.last_step } else { None };
    let ack = state.store.append_history(&run, &batch).await?;
    if !ack.duplicate && listening {
        let rows: Vec<(i64, Vec<(&String, Value)>)> = batch
            .rows
            .iter()
            .filter(|row| previous_last.is_none_or(|last| row.step > last))
            .map(|row| {
                let values = row
                    .scalars
                    .iter()
                    .map(|(k, v)| (k, Scalar::to_json(v.0)))
                    .chain(row.objects.iter().map(|(k, v)| (k, v.clone())))
                    .collect();
                (row.step, values)
            })
            .collect();
        if let Some(event) = points_event(&path.run, SeriesStream::History, &rows) {
            state.publish(&path.entity, &path.project, event);
        }
    }
    Ok(Json(ack))
}

#[utoipa::path(post, path = "/api/v1/projects/{entity}/{project}/runs/{run}/system", tag = "history",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path)), request_body = SystemBatch,
    responses((status = 200, body = IngestAck), (status = 422, body = heron_types::ErrorBody)))]
pub async fn append_system(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
    ApiJson(batch): ApiJson<SystemBatch>,
) -> ApiResult<Json<IngestAck>> {
    let run = run_ref(&state, &caller, &path).await?;
    let ack = state.store.append_system(&run, &batch).await?;
    if !ack.duplicate && state.events.has_subscribers(&path.entity, &path.project) {
        let mut keys: Vec<String> = batch.rows.iter().flat_map(|r| r.values.keys().cloned()).collect();
        keys.sort();
        keys.dedup();
        state.publish(
            &path.entity,
            &path.project,
            ProjectEvent::Points {
                run: path.run.clone(),
                stream: SeriesStream::System,
                keys,
                first_step: 0,
                last_step: 0,
                rows: None,
            },
        );
    }
    Ok(Json(ack))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RowParams {
    /// Comma-separated keys; all keys when absent.
    keys: Option<String>,
    /// First step (inclusive); for the next page pass the previous `next_step`.
    min_step: Option<i64>,
    /// Last step (inclusive).
    max_step: Option<i64>,
    /// Rows per page (default 1000, at most 100000).
    limit: Option<usize>,
}

pub(crate) fn split_keys(keys: &Option<String>) -> Option<Vec<String>> {
    keys.as_ref().map(|text| text.split(',').map(str::trim).filter(|k| !k.is_empty()).map(String::from).collect())
}

async fn rows_page(state: &AppState, run: &RunRef, params: &RowParams, system: bool) -> ApiResult<HistoryPage> {
    let limit = params.limit.unwrap_or(1000);
    if limit == 0 || limit > limits::MAX_PAGE_ROWS {
        return Err(Error::invalid(format!("limit must be 1 to {}", limits::MAX_PAGE_ROWS)).into());
    }
    let keys = split_keys(&params.keys);
    let page = state
        .store
        .history_rows(
            run,
            keys.as_deref(),
            params.min_step.unwrap_or(i64::MIN),
            params.max_step.unwrap_or(i64::MAX),
            limit,
            system,
        )
        .await?;
    Ok(page)
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/runs/{run}/history", tag = "history",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path), RowParams),
    responses((status = 200, description = "Exact rows, paginated by step", body = HistoryPage)))]
pub async fn history_rows(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
    ApiQuery(params): ApiQuery<RowParams>,
) -> ApiResult<Json<HistoryPage>> {
    let run = run_ref(&state, &caller, &path).await?;
    Ok(Json(rows_page(&state, &run, &params, false).await?))
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/runs/{run}/system", tag = "history",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path), RowParams),
    responses((status = 200, description = "System-metric samples, numbered from 0", body = HistoryPage)))]
pub async fn system_rows(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
    ApiQuery(params): ApiQuery<RowParams>,
) -> ApiResult<Json<HistoryPage>> {
    let run = run_ref(&state, &caller, &path).await?;
    Ok(Json(rows_page(&state, &run, &params, true).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesParams {
    /// The key to read.
    key: String,
    /// First step (inclusive).
    min_step: Option<i64>,
    /// Last step (inclusive).
    max_step: Option<i64>,
    /// `history` (default) or `system`.
    stream: Option<SeriesStream>,
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/runs/{run}/history/series", tag = "history",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path), SeriesParams),
    responses((status = 200, description = "Every value of one key in step order, at full resolution, as parallel columns; empty for a key the run never logged", body = SeriesColumns),
        (status = 404, body = heron_types::ErrorBody), (status = 422, description = "More than MAX_SERIES_POINTS values: read in parts with min_step and max_step", body = heron_types::ErrorBody)))]
pub async fn history_series(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
    ApiQuery(params): ApiQuery<SeriesParams>,
) -> ApiResult<Response> {
    let run = run_ref(&state, &caller, &path).await?;
    let started = std::time::Instant::now();
    let series = state
        .store
        .history_series(
            &run,
            &params.key,
            params.min_step.unwrap_or(i64::MIN),
            params.max_step.unwrap_or(i64::MAX),
            params.stream.unwrap_or(SeriesStream::History),
        )
        .await?;
    let read = started.elapsed();
    let points = series.steps.len();
    let parts = encode_series(series).await?;
    let bytes: usize = parts.iter().map(Bytes::len).sum();
    tracing::debug!(
        key = %params.key,
        points,
        read_ms = read.as_secs_f64() * 1e3,
        encode_ms = (started.elapsed() - read).as_secs_f64() * 1e3,
        bytes,
        "series read"
    );
    let body = Body::from_stream(futures::stream::iter(parts.into_iter().map(Ok::<_, Infallible>)));
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(bytes));
    Ok(response)
}

/// Points below which a series is encoded on one thread.
const SERIES_PIECE_POINTS: usize = 32_768;
/// Threads one series read may encode on at once.
const SERIES_ENCODE_THREADS: usize = 4;

/// Compact JSON of a series, exactly what `serde_json` writes for it, with its points cut into
/// pieces encoded at once on several blocking threads: number formatting is the whole cost of
/// a series read (~4 MB of text for 100k points). The parts are sent as they are, not copied
/// into one buffer.
async fn encode_series(series: SeriesColumns) -> ApiResult<Vec<Bytes>> {
    let points = series.steps.len();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(SERIES_ENCODE_THREADS);
    let pieces = points.div_ceil(SERIES_PIECE_POINTS).clamp(1, threads);
    let failed = |e: &dyn std::fmt::Display| Error::internal(format!("series encoding failed: {e}"));
    let series = std::sync::Arc::new(series);
    let tasks = (0..pieces).map(|piece| {
        let series = series.clone();
        let range = piece * points / pieces..(piece + 1) * points / pieces;
        tokio::task::spawn_blocking(move || -> serde_json::Result<[Bytes; 3]> {
            Ok([
                encode_elements(&series.steps[range.clone()], 8)?,
                encode_elements(&series.times[range.clone()], 20)?,
                encode_elements(&series.values[range], 22)?,
            ])
        })
    });
    let encoded = futures::future::try_join_all(tasks).await.map_err(|e| failed(&e))?;
    let encoded = encoded.into_iter().collect::<serde_json::Result<Vec<_>>>().map_err(|e| failed(&e))?;
    let mut head = b"{\"key\":".to_vec();
    serde_json::to_writer(&mut head, &series.key).map_err(|e| failed(&e))?;
    let mut parts = vec![Bytes::from(head)];
    let openings: [&'static [u8]; 3] = [b",\"steps\":[", b"],\"times\":[", b"],\"values\":["];
    for (column, opening) in openings.into_iter().enumerate() {
        parts.push(Bytes::from_static(opening));
        for (index, piece) in encoded.iter().map(|columns| &columns[column]).filter(|b| !b.is_empty()).enumerate() {
            if index > 0 {
                parts.push(Bytes::from_static(b","));
            }
            parts.push(piece.clone());
        }
    }
    parts.push(Bytes::from_static(b"]}"));
    Ok(parts)
}

/// The JSON of some elements of an array, without the brackets, so pieces join with commas.
fn encode_elements<T: serde::Serialize>(items: &[T], bytes_per_item: usize) -> serde_json::Result<Bytes> {
    let mut buffer = Vec::with_capacity(items.len() * (bytes_per_item + 1) + 2);
    serde_json::to_writer(&mut buffer, items)?;
    let inner = 1..buffer.len().saturating_sub(1).max(1);
    Ok(Bytes::from(buffer).slice(inner))
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/runs/{run}/history/keys", tag = "history",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path)),
    responses((status = 200, body = Vec<KeyInfo>)))]
pub async fn history_keys(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
) -> ApiResult<Json<Vec<KeyInfo>>> {
    let run = run_ref(&state, &caller, &path).await?;
    Ok(Json(state.store.history_keys(&run).await?))
}

#[utoipa::path(post, path = "/api/v1/projects/{entity}/{project}/chart", tag = "history",
    params(("entity" = String, Path), ("project" = String, Path)), request_body = ChartQuery,
    responses((status = 200, description = "M4 buckets per run and key", body = ChartResponse),
        (status = 404, body = heron_types::ErrorBody), (status = 422, body = heron_types::ErrorBody)))]
pub async fn chart(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ProjectPath>,
    ApiJson(query): ApiJson<ChartQuery>,
) -> ApiResult<Response> {
    state.authorize(&caller, &path.entity).await?;
    let started = std::time::Instant::now();
    let answer = state.store.chart(&path.entity, &path.project, &query).await?;
    let reduced = started.elapsed();
    let parts = encode_chart(answer).await?;
    let bytes: usize = parts.iter().map(Bytes::len).sum();
    tracing::debug!(
        runs = query.runs.len(),
        keys = query.keys.len(),
        reduce_ms = reduced.as_secs_f64() * 1e3,
        encode_ms = (started.elapsed() - reduced).as_secs_f64() * 1e3,
        bytes,
        "chart read"
    );
    let body = Body::from_stream(futures::stream::iter(parts.into_iter().map(Ok::<_, Infallible>)));
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(bytes));
    Ok(response)
}

/// Encodes a chart answer off the async executor, the two halves of its series on two threads:
/// 100 runs × 1000 buckets is ~10 MB of JSON, mostly float formatting.
async fn encode_chart(answer: ChartResponse) -> ApiResult<Vec<Bytes>> {
    let ChartResponse { x, x_min, x_max, buckets, mut series } = answer;
    let second = series.split_off(series.len() / 2);
    let encode = |part: Vec<heron_types::ChartSeries>| {
        tokio::task::spawn_blocking(move || -> serde_json::Result<Vec<u8>> {
            // About 110 bytes per bucket: sized once instead of regrowing a large buffer.
            let size: usize = part.iter().map(|s| s.bucket.len() * 112 + 256).sum();
            let mut buffer = Vec::with_capacity(size);
            for (index, one) in part.iter().enumerate() {
                if index > 0 {
                    buffer.push(b',');
                }
                serde_json::to_writer(&mut buffer, one)?;
            }
            Ok(buffer)
        })
    };
    let failed = |e: &dyn std::fmt::Display| Error::internal(format!("chart encoding failed: {e}"));
    let (first, second) = tokio::try_join!(encode(series), encode(second)).map_err(|e| failed(&e))?;
    let (first, second) = (first.map_err(|e| failed(&e))?, second.map_err(|e| failed(&e))?);
    let head = ChartResponse { x, x_min, x_max, buckets, series: Vec::new() };
    let mut head = serde_json::to_vec(&head).map_err(|e| failed(&e))?;
    // `head` ends in `"series":[]}`: the encoded series go between the brackets, sent as they
    // are rather than copied into one buffer.
    head.truncate(head.len() - 2);
    let comma: &'static [u8] = if !first.is_empty() && !second.is_empty() { b"," } else { b"" };
    Ok(vec![
        Bytes::from(head),
        Bytes::from(first),
        Bytes::from_static(comma),
        Bytes::from(second),
        Bytes::from_static(b"]}"),
    ])
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/events", tag = "history",
    params(("entity" = String, Path), ("project" = String, Path)),
    responses((status = 200, description = "Server-Sent Events: `run`, `run_deleted`, `points`; `lagged` when events were skipped (re-read)", content_type = "text/event-stream")))]
pub async fn project_events(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ProjectPath>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    state.authorize(&caller, &path.entity).await?;
    state.store.get_project(&path.entity, &path.project).await?;
    let receiver = state.events.subscribe(&path.entity, &path.project);
    let stream = tokio_stream::wrappers::BroadcastStream::new(receiver)
        .map(|item| {
            Ok(match item {
                Ok(event) => {
                    let value = serde_json::to_value(&*event).unwrap_or(Value::Null);
                    let name = value.get("type").and_then(Value::as_str).unwrap_or("message").to_string();
                    Event::default().event(name).data(value.to_string())
                }
                Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(skipped)) => {
                    Event::default().event("lagged").data(skipped.to_string())
                }
            })
        })
        .take_until(state.closing.clone().cancelled_owned());
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[utoipa::path(post, path = "/api/v1/projects/{entity}/{project}/runs/{run}/console", tag = "console",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path)), request_body = ConsoleAppend,
    responses((status = 200, description = "Lines stored in all", body = u64), (status = 422, body = heron_types::ErrorBody)))]
pub async fn append_console(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
    ApiJson(append): ApiJson<ConsoleAppend>,
) -> ApiResult<Json<u64>> {
    let run = run_ref(&state, &caller, &path).await?;
    Ok(Json(state.store.append_console(&run, &append, time::now()).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsoleParams {
    /// First line index (default 0).
    offset: Option<u64>,
    /// Lines to return (default 1000, at most 100000).
    limit: Option<u64>,
    /// Return the last N lines instead (overrides offset).
    tail: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/runs/{run}/console", tag = "console",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path), ConsoleParams),
    responses((status = 200, body = ConsolePage)))]
pub async fn read_console(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
    ApiQuery(params): ApiQuery<ConsoleParams>,
) -> ApiResult<Json<ConsolePage>> {
    let run = run_ref(&state, &caller, &path).await?;
    let max = limits::MAX_PAGE_ROWS as u64;
    for value in [params.limit, params.tail].into_iter().flatten() {
        if value == 0 || value > max {
            return Err(Error::invalid(format!("limit and tail must be 1 to {max}")).into());
        }
    }
    let limit = params.limit.unwrap_or(1000);
    let offset = match params.tail {
        Some(tail) => {
            let total = state.store.read_console(&run, u64::MAX, 1).await?.total;
            total.saturating_sub(tail)
        }
        None => params.offset.unwrap_or(0),
    };
    let limit = params.tail.unwrap_or(limit);
    Ok(Json(state.store.read_console(&run, offset, limit).await?))
}

pub(crate) fn file_blob_path(run: &RunRef, path: &str) -> String {
    format!("runs/{}/{}/{}/files/{path}", run.entity, run.project, run.run)
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/runs/{run}/files", tag = "files",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path)),
    responses((status = 200, body = Vec<RunFile>)))]
pub async fn list_files(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
) -> ApiResult<Json<Vec<RunFile>>> {
    let run = run_ref(&state, &caller, &path).await?;
    Ok(Json(state.store.list_files(&run).await?))
}

#[utoipa::path(put, path = "/api/v1/projects/{entity}/{project}/runs/{run}/files/{path}", tag = "files",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path), ("path" = String, Path, description = "relative path, may contain '/'")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = RunFile), (status = 413, body = heron_types::ErrorBody), (status = 422, body = heron_types::ErrorBody)))]
pub async fn upload_file(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<FilePath>,
    body: Body,
) -> ApiResult<Json<RunFile>> {
    let run = run_ref(&state, &caller, &RunPath { entity: path.entity, project: path.project, run: path.run }).await?;
    names::check_file_path(&path.path)?;
    state.store.get_run(&run).await?;
    let stream = limited_body(body, limits::MAX_FILE_BYTES as u64, |limit| {
        Error::too_large(format!("file is larger than the limit of {limit} bytes"))
    });
    let (size, sha256) = state.blobs.put_stream(&file_blob_path(&run, &path.path), stream).await?;
    let file = RunFile { path: path.path.clone(), size, sha256, updated_at: time::rfc3339(time::now()) };
    state.store.record_file(&run, &file).await?;
    Ok(Json(state.store.get_file(&run, &path.path).await?))
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/runs/{run}/files/{path}", tag = "files",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path), ("path" = String, Path)),
    responses((status = 200, description = "The file's bytes", content_type = "application/octet-stream"), (status = 404, body = heron_types::ErrorBody)))]
pub async fn download_file(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<FilePath>,
) -> ApiResult<Response> {
    let run = run_ref(&state, &caller, &RunPath { entity: path.entity, project: path.project, run: path.run }).await?;
    names::check_file_path(&path.path)?;
    let file = state.store.get_file(&run, &path.path).await?;
    let stream = state.blobs.get_stream(&file_blob_path(&run, &path.path)).await?;
    Ok(bytes_response(stream, file.size, &file.sha256))
}

/// A request body as a stream that fails with `too_long(limit)` past `limit` bytes.
pub(crate) fn limited_body(body: Body, limit: u64, too_long: fn(u64) -> Error) -> heron_core::ByteStream {
    let mut received = 0u64;
    body.into_data_stream()
        .map_err(|e| Error::invalid(format!("upload interrupted: {e}")))
        .and_then(move |chunk| {
            received += chunk.len() as u64;
            let over = received > limit;
            async move { if over { Err(too_long(limit)) } else { Ok(chunk) } }
        })
        .boxed()
}

/// Stored bytes as an answer: octet-stream, with their length and their sha256 as `ETag`.
pub(crate) fn bytes_response(stream: heron_core::ByteStream, size: u64, sha256: &str) -> Response {
    let mut response = Body::from_stream(stream.map_err(|e| std::io::Error::other(e.message))).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{sha256}\"")) {
        headers.insert(header::ETAG, etag);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use heron_types::{ChartSeries, SeriesValue, XAxis};

    #[tokio::test]
    async fn split_series_encoding_is_plain_json_of_the_series() {
        for points in [0usize, 1, 2, 1000, SERIES_PIECE_POINTS, SERIES_PIECE_POINTS + 1, 100_003] {
            let series = SeriesColumns {
                key: "loss \"quoted\" 損失".into(),
                steps: (0..points as i64).map(|i| i * 7 - 3).collect(),
                times: (0..points).map(|i| (i % 5 != 1).then_some(1_795_697_000.0 + i as f64 * 0.013)).collect(),
                values: (0..points)
                    .map(|i| match i % 6 {
                        0 => SeriesValue::Scalar(Scalar(f64::NAN)),
                        1 => SeriesValue::Scalar(Scalar(f64::NEG_INFINITY)),
                        2 => SeriesValue::Object(Box::new(serde_json::json!({"n": i, "s": "x,y"}))),
                        _ => SeriesValue::Scalar(Scalar((i as f64 * 0.37).sin() * 1e3)),
                    })
                    .collect(),
            };
            let expected = serde_json::to_vec(&series).unwrap();
            let encoded: Vec<u8> = encode_series(series).await.unwrap().concat();
            assert!(
                encoded == expected,
                "{points} points: {}",
                String::from_utf8_lossy(&encoded[..200.min(encoded.len())])
            );
        }
    }

    #[tokio::test]
    async fn split_chart_encoding_is_plain_json_of_the_answer() {
        for count in [0, 1, 2, 5] {
            let series = (0..count)
                .map(|i| ChartSeries {
                    run: format!("r{i}"),
                    key: "loss".into(),
                    bucket: vec![0, 3],
                    count: vec![2, 1],
                    first_x: vec![0.0, 7.0],
                    first_y: vec![Scalar(1.5), Scalar(f64::NAN)],
                    last_x: vec![1.0, 7.0],
                    last_y: vec![Scalar(2.0), Scalar(f64::NAN)],
                    min_x: vec![Some(0.0), None],
                    min_y: vec![Some(Scalar(1.5)), None],
                    max_x: vec![Some(1.0), None],
                    max_y: vec![Some(Scalar(2.0)), None],
                })
                .collect();
            let answer = ChartResponse { x: XAxis::Step, x_min: Some(0.0), x_max: Some(9.0), buckets: 10, series };
            let expected: Value = serde_json::to_value(&answer).unwrap();
            let encoded: Vec<u8> = encode_chart(answer).await.unwrap().concat();
            let parsed: Value = serde_json::from_slice(&encoded).unwrap();
            assert_eq!(parsed, expected, "{count} series");
        }
    }
}

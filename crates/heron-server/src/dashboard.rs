//! Routes the dashboard adds: browser sessions (`/session`), passwords, saved views, parameter
//! importance, and the `metrics.<key>.<stat>` fields that filters and sorts may name.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use heron_core::query::{FieldPath, metric_key};
use heron_core::{Error, User, importance, keys};
use heron_types::{
    ImportanceQuery, ImportanceResponse, MetricStats, ParamImportance, PasswordSet, ProjectKey, Run, SavedView,
    SessionCreate, ViewPut, Viewer, limits,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::AppState;
use crate::api::{ProjectPath, query_error};
use crate::auth::{self, Caller, KEY_COOKIE};
use crate::error::{ApiJson, ApiResult};

/// Statistics of history keys, by run id, then key.
pub(crate) type RunMetrics = HashMap<String, BTreeMap<String, MetricStats>>;

/// The statistics of the keys that `paths` name as `metrics.<key>.<stat>`, and of
/// `extra_keys`. Empty (and no query) when there are none.
pub(crate) async fn metric_stats<'p>(
    state: &AppState,
    entity: &str,
    project: &str,
    paths: impl IntoIterator<Item = &'p FieldPath>,
    extra_keys: &[String],
) -> ApiResult<RunMetrics> {
    let mut metric_keys: BTreeSet<String> = paths.into_iter().filter_map(metric_key).collect();
    metric_keys.extend(extra_keys.iter().cloned());
    let mut metrics = RunMetrics::new();
    if !metric_keys.is_empty() {
        let keys: Vec<String> = metric_keys.into_iter().collect();
        for metric in state.store.run_metrics(entity, project, &keys).await? {
            let stats = MetricStats { min: metric.min, max: metric.max, last: metric.last, count: metric.count };
            metrics.entry(metric.run).or_default().insert(metric.key, stats);
        }
    }
    Ok(metrics)
}

/// A run as the document filters, sorts and importance read: the run as JSON, with a `metrics`
/// object of its statistics when any were read (see [`metric_stats`]). Called per run while
/// filtering, so documents of runs that do not match are dropped at once.
pub(crate) fn run_document(run: &Run, metrics: &RunMetrics) -> Option<Value> {
    let mut document = serde_json::to_value(run).ok()?;
    if !metrics.is_empty()
        && let Some(object) = document.as_object_mut()
    {
        let stats = metrics.get(&run.id).map(serde_json::to_value).transpose().ok()?;
        object.insert("metrics".into(), stats.unwrap_or_else(|| Value::Object(Map::new())));
    }
    Some(document)
}

/// The statistics of `keys` for one run (keys the run never logged are left out).
pub(crate) fn metrics_of(metrics: &RunMetrics, run: &str, keys: &[String]) -> BTreeMap<String, MetricStats> {
    let Some(stats) = metrics.get(run) else { return BTreeMap::new() };
    keys.iter().filter_map(|key| Some((key.clone(), stats.get(key)?.clone()))).collect()
}

// --- sessions and passwords ---

fn session_cookie(key: &str, max_age: u64) -> ApiResult<HeaderValue> {
    let cookie = format!("{KEY_COOKIE}={key}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}");
    HeaderValue::from_str(&cookie).map_err(|e| Error::internal(e.to_string()).into())
}

/// Creates a browser session key for `user` (what sign-out revokes) and its cookie. The
/// one-time login link and `POST /session` both sign in through it.
pub(crate) async fn new_session_cookie(state: &AppState, user: &User) -> ApiResult<HeaderValue> {
    let key = keys::generate_api_key();
    state.store.add_api_key(user.id, &keys::hash_secret(&key)).await?;
    session_cookie(&key, 31_536_000)
}

#[utoipa::path(post, path = "/api/v1/session", tag = "accounts", request_body = SessionCreate,
    responses((status = 200, description = "Signed in; the `heron_key` cookie is set", body = Viewer),
        (status = 401, body = heron_types::ErrorBody), (status = 422, body = heron_types::ErrorBody)))]
pub async fn create_session(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SessionCreate>,
) -> ApiResult<Response> {
    let user = match (body.key, body.user, body.password) {
        (Some(key), None, None) => state
            .store
            .user_by_key(&keys::hash_secret(key.trim()))
            .await?
            .ok_or_else(|| Error::unauthenticated("invalid API key"))?,
        (None, Some(name), Some(password)) => {
            let wrong = || Error::unauthenticated("wrong user name or password");
            // No password that could be set is longer: do not hash megabytes to say no.
            if password.len() > limits::MAX_PASSWORD_BYTES {
                return Err(wrong().into());
            }
            let (user, stored) = state.store.password_of(&name).await?.ok_or_else(wrong)?;
            let matches = tokio::task::spawn_blocking(move || {
                PasswordHash::new(&stored)
                    .is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
            })
            .await
            .map_err(|e| Error::internal(format!("password check failed: {e}")))?;
            if !matches {
                return Err(wrong().into());
            }
            user
        }
        _ => {
            return Err(Error::invalid(r#"send {"key": "heron_..."} or {"user": "NAME", "password": "..."}"#).into());
        }
    };
    let cookie = new_session_cookie(&state, &user).await?;
    let entities = state.store.entities_of(user.id).await?;
    let mut response = Json(Viewer { name: user.name, admin: user.admin, entities }).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

#[utoipa::path(delete, path = "/api/v1/session", tag = "accounts",
    responses((status = 204, description = "Signed out: the session key is revoked and the cookie cleared")))]
pub async fn delete_session(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(key) = auth::cookie_key(&headers) {
        state.store.delete_api_key(&keys::hash_secret(&key)).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, session_cookie("", 0)?);
    Ok(response)
}

#[utoipa::path(put, path = "/api/v1/viewer/password", tag = "accounts", request_body = PasswordSet,
    responses((status = 204, description = "Password set"), (status = 422, body = heron_types::ErrorBody)))]
pub async fn set_password(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<PasswordSet>,
) -> ApiResult<StatusCode> {
    let length = body.password.len();
    if !(limits::MIN_PASSWORD_BYTES..=limits::MAX_PASSWORD_BYTES).contains(&length) {
        return Err(Error::invalid(format!(
            "a password must be {} to {} bytes long",
            limits::MIN_PASSWORD_BYTES,
            limits::MAX_PASSWORD_BYTES
        ))
        .into());
    }
    let hash = tokio::task::spawn_blocking(move || {
        // 16 random bytes from the OS source, as hex: a valid salt string of 128 bits.
        let salt = SaltString::from_b64(&keys::random_hex(16)).map_err(|e| e.to_string())?;
        Argon2::default()
            .hash_password(body.password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| Error::internal(format!("password hashing failed: {e}")))?
    .map_err(|e| Error::internal(format!("password hashing failed: {e}")))?;
    state.store.set_password(caller.user.id, Some(&hash)).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- saved views ---

#[derive(Deserialize)]
pub struct ViewPath {
    entity: String,
    project: String,
    name: String,
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/views", tag = "views",
    params(("entity" = String, Path), ("project" = String, Path)), responses((status = 200, body = Vec<SavedView>)))]
pub async fn list_views(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ProjectPath>,
) -> ApiResult<Json<Vec<SavedView>>> {
    state.authorize(&caller, &path.entity).await?;
    Ok(Json(state.store.list_views(&path.entity, &path.project).await?))
}

#[utoipa::path(put, path = "/api/v1/projects/{entity}/{project}/views/{name}", tag = "views",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path)), request_body = ViewPut,
    responses((status = 200, body = SavedView), (status = 413, body = heron_types::ErrorBody), (status = 422, body = heron_types::ErrorBody)))]
pub async fn put_view(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ViewPath>,
    ApiJson(body): ApiJson<ViewPut>,
) -> ApiResult<Json<SavedView>> {
    state.authorize(&caller, &path.entity).await?;
    Ok(Json(state.store.put_view(&path.entity, &path.project, &path.name, &body.state).await?))
}

#[utoipa::path(delete, path = "/api/v1/projects/{entity}/{project}/views/{name}", tag = "views",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = heron_types::ErrorBody)))]
pub async fn delete_view(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ViewPath>,
) -> ApiResult<StatusCode> {
    state.authorize(&caller, &path.entity).await?;
    state.store.delete_view(&path.entity, &path.project, &path.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- project keys ---

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/keys", tag = "history",
    params(("entity" = String, Path), ("project" = String, Path)), responses((status = 200, body = Vec<ProjectKey>)))]
pub async fn project_keys(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ProjectPath>,
) -> ApiResult<Json<Vec<ProjectKey>>> {
    state.authorize(&caller, &path.entity).await?;
    Ok(Json(state.store.project_keys(&path.entity, &path.project).await?))
}

// --- parameter importance ---

/// Distinct strings a text parameter may have and still be used (as ordered categories).
const MAX_CATEGORIES: usize = 50;

/// A parameter's values as numbers, and whether they are categories: numbers and booleans as
/// they are, strings by their rank among the parameter's distinct values.
fn column(documents: &[&Value], path: &FieldPath) -> Option<(Vec<f64>, bool)> {
    let values: Vec<Option<&Value>> = documents.iter().map(|d| path.get(d)).collect();
    let numeric = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    };
    if values.iter().flatten().any(|v| numeric(v).is_some()) {
        return Some((values.iter().map(|v| v.and_then(numeric).unwrap_or(f64::NAN)).collect(), false));
    }
    let categories: BTreeSet<&str> = values.iter().flatten().filter_map(|v| v.as_str()).collect();
    if categories.len() < 2 || categories.len() > MAX_CATEGORIES {
        return None;
    }
    let rank: HashMap<&str, f64> = categories.iter().enumerate().map(|(i, c)| (*c, i as f64)).collect();
    let ranks = values.iter().map(|v| v.and_then(Value::as_str).and_then(|s| rank.get(s).copied()).unwrap_or(f64::NAN));
    Some((ranks.collect(), true))
}

/// Every leaf path under `config` (numbers, booleans, strings) across the documents.
fn config_leaves(documents: &[&Value]) -> Vec<FieldPath> {
    fn walk(value: &Value, path: &mut Vec<String>, out: &mut BTreeSet<Vec<String>>) {
        match value {
            Value::Object(object) if path.len() < 6 => {
                for (key, child) in object {
                    if key.starts_with('_') {
                        continue;
                    }
                    path.push(key.clone());
                    walk(child, path, out);
                    path.pop();
                }
            }
            Value::Number(_) | Value::Bool(_) | Value::String(_) => {
                out.insert(path.clone());
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    for document in documents {
        if let Some(config) = document.get("config") {
            walk(config, &mut vec!["config".to_string()], &mut out);
        }
    }
    out.into_iter().filter_map(FieldPath::new).collect()
}

#[utoipa::path(post, path = "/api/v1/projects/{entity}/{project}/importance", tag = "runs",
    params(("entity" = String, Path), ("project" = String, Path)), request_body = ImportanceQuery,
    responses((status = 200, body = ImportanceResponse), (status = 404, body = heron_types::ErrorBody), (status = 422, body = heron_types::ErrorBody)))]
pub async fn importance(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<ProjectPath>,
    ApiJson(body): ApiJson<ImportanceQuery>,
) -> ApiResult<Json<ImportanceResponse>> {
    state.authorize(&caller, &path.entity).await?;
    if body.runs.is_empty() || body.runs.len() > limits::MAX_IMPORTANCE_RUNS {
        return Err(Error::invalid(format!("runs must list 1 to {} run ids", limits::MAX_IMPORTANCE_RUNS)).into());
    }
    let target: FieldPath = body.target.parse().map_err(|e| query_error("target", e))?;
    let params: Option<Vec<FieldPath>> = match &body.params {
        Some(params) if params.len() > limits::MAX_IMPORTANCE_PARAMS => {
            return Err(Error::invalid(format!("params takes at most {} fields", limits::MAX_IMPORTANCE_PARAMS)).into());
        }
        Some(params) => {
            Some(params.iter().map(|p| p.parse().map_err(|e| query_error("params", e))).collect::<ApiResult<_>>()?)
        }
        None => None,
    };
    let wanted: BTreeSet<&str> = body.runs.iter().map(String::as_str).collect();
    let runs: Vec<Run> = state
        .store
        .list_runs(&path.entity, &path.project)
        .await?
        .into_iter()
        .filter(|run| wanted.contains(run.id.as_str()))
        .collect();
    if runs.len() < wanted.len() {
        let found: BTreeSet<&str> = runs.iter().map(|r| r.id.as_str()).collect();
        let missing = wanted.difference(&found).next().copied().unwrap_or_default();
        return Err(Error::not_found(format!("run {missing:?} not found in {}/{}", path.entity, path.project)).into());
    }
    let mut paths = vec![target.clone()];
    paths.extend(params.iter().flatten().cloned());
    let metrics = metric_stats(&state, &path.entity, &path.project, paths.iter(), &[]).await?;
    let response = tokio::task::spawn_blocking(move || {
        let documents: Vec<Value> = runs.iter().filter_map(|run| run_document(run, &metrics)).collect();
        // Only runs with a numeric target take part.
        let with_target: Vec<(&Value, f64)> = documents
            .iter()
            .filter_map(|document| {
                target.get(document).and_then(Value::as_f64).filter(|v| v.is_finite()).map(|v| (document, v))
            })
            .collect();
        let docs: Vec<&Value> = with_target.iter().map(|(d, _)| *d).collect();
        let values: Vec<f64> = with_target.iter().map(|(_, v)| *v).collect();
        let params = params.unwrap_or_else(|| config_leaves(&docs));
        let mut names = Vec::new();
        let mut columns = Vec::new();
        let mut categorical = Vec::new();
        for param in params.iter().filter(|p| **p != target) {
            if let Some((values, is_category)) = column(&docs, param) {
                names.push(param.to_string());
                columns.push(values);
                categorical.push(is_category);
            }
        }
        let scores = importance::importance(&columns, &values);
        let mut params: Vec<ParamImportance> = names
            .into_iter()
            .zip(scores)
            .zip(categorical)
            .map(|((param, score), is_category)| ParamImportance {
                param,
                // A rank among text values has no direction: no correlation for it.
                correlation: if is_category { None } else { score.correlation },
                importance: score.importance,
            })
            .collect();
        params.sort_by(|a, b| {
            b.importance
                .total_cmp(&a.importance)
                .then_with(|| b.correlation.unwrap_or(0.0).abs().total_cmp(&a.correlation.unwrap_or(0.0).abs()))
                .then_with(|| a.param.cmp(&b.param))
        });
        ImportanceResponse { target: target.to_string(), runs_used: values.len() as u64, params }
    })
    .await
    .map_err(|e| Error::internal(format!("importance failed: {e}")))?;
    Ok(Json(response))
}

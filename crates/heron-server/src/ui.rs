//! The dashboard: `web/dist`, embedded in release builds (debug builds read it from disk, so
//! `npm run build` shows up without recompiling). Paths that are not files get `index.html`,
//! so the dashboard's own routes (`/projects/...`) load on refresh.

use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../web/dist/"]
#[allow_missing = true]
struct Assets;

/// Hashed file names under `assets/` never change content: cache them for a year. Everything
/// else (index.html) is revalidated, so a new server version is picked up at once.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

pub async fn serve(method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    let path = uri.path().trim_start_matches('/');
    if let Some(response) = asset(path) {
        return response;
    }
    // A missing file with an extension (or under assets/) is a real 404, not an app route.
    let looks_like_file = path.starts_with("assets/") || path.rsplit('/').next().is_some_and(|last| last.contains('.'));
    if !looks_like_file && let Some(response) = asset("index.html") {
        return response;
    }
    if looks_like_file {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Heron server. The dashboard was not built into this binary: run `make build` (or `cd web && npm ci && npm run build`, then rebuild).\nAPI: /api/v1 (OpenAPI document: /api/v1/openapi.json).\n",
    )
        .into_response()
}

fn asset(path: &str) -> Option<Response> {
    let path = if path.is_empty() { "index.html" } else { path };
    let file = Assets::get(path)?;
    let mime = file.metadata.mimetype();
    let cache = if path.starts_with("assets/") { IMMUTABLE } else { REVALIDATE };
    let mut response = file.data.into_owned().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Some(response)
}

/// Whether this binary carries the dashboard (for the start-up message).
pub fn embedded() -> bool {
    Assets::get("index.html").is_some()
}

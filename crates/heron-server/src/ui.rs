//! The dashboard: `web/dist`, embedded in release builds (debug builds read it from disk, so
//! `npm run build` shows up without recompiling). Paths that are not files get `index.html`,
//! so the dashboard's own routes (`/projects/...`) load on refresh.

use std::borrow::Cow;
use std::path::Path;

use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::AppState;

#[derive(RustEmbed)]
#[folder = "../../web/dist/"]
#[allow_missing = true]
struct Assets;

/// Hashed file names under `assets/` never change content: cache them for a year. Everything
/// else (index.html) is revalidated, so a new server version is picked up at once.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

pub async fn serve(State(state): State<AppState>, method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    let path = uri.path().trim_start_matches('/');
    let web_dir = state.config.web_dir.as_deref();
    if let Some(response) = asset(web_dir, path).await {
        return response;
    }
    // A missing file with an extension (or under assets/) is a real 404, not an app route.
    let looks_like_file = path.starts_with("assets/") || path.rsplit('/').next().is_some_and(|last| last.contains('.'));
    if !looks_like_file && let Some(response) = asset(web_dir, "index.html").await {
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

async fn asset(web_dir: Option<&Path>, path: &str) -> Option<Response> {
    let path = if path.is_empty() { "index.html" } else { path };
    let (data, mime): (Cow<'static, [u8]>, String) = match web_dir {
        Some(dir) => {
            // Only plain relative segments: a request can never leave the folder.
            if path
                .split('/')
                .any(|segment| segment.is_empty() || segment == "." || segment == ".." || segment.contains('\\'))
            {
                return None;
            }
            let data = tokio::fs::read(dir.join(path)).await.ok()?;
            (Cow::Owned(data), mime_guess::from_path(path).first_or_octet_stream().to_string())
        }
        None => {
            let file = Assets::get(path)?;
            let mime = file.metadata.mimetype().to_string();
            (file.data, mime)
        }
    };
    let cache = if path.starts_with("assets/") { IMMUTABLE } else { REVALIDATE };
    let mut response = data.into_owned().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Some(response)
}

/// Whether this binary carries the dashboard (for the start-up message).
pub fn embedded() -> bool {
    Assets::get("index.html").is_some()
}

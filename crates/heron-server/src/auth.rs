//! Who is calling, and may they touch this entity's projects.
//!
//! A key arrives as `Authorization: Bearer KEY`, as HTTP Basic with user `api` and the key as
//! password (what wandb clients send), or as the `heron_key` cookie set by the one-time
//! browser login. Keys are looked up by their sha256.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use heron_core::{Error, User, keys};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

pub const KEY_COOKIE: &str = "heron_key";

#[derive(Clone, Debug)]
pub struct Caller {
    pub user: User,
}

fn key_from_headers(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let value = value.trim();
        if let Some(token) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) {
            return Some(token.trim().to_string());
        }
        if let Some(encoded) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) {
            let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (user, password) = text.split_once(':')?;
            // wandb sends user "api"; accept any user name, the key alone identifies the caller.
            let _ = user;
            return Some(password.to_string());
        }
        return None;
    }
    cookie_key(headers)
}

/// The key in the `heron_key` cookie (a browser session), if any.
pub fn cookie_key(headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(axum::http::header::COOKIE)?.to_str().ok()?;
    cookies.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == KEY_COOKIE && !value.is_empty()).then(|| value.to_string())
    })
}

pub async fn require_key(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(key) = key_from_headers(request.headers()) else {
        return ApiError(Error::unauthenticated(
            "missing API key: send `Authorization: Bearer KEY`; the key was printed when the server first started, or run `heron login`",
        ))
        .into_response();
    };
    match state.store.user_by_key(&keys::hash_secret(&key)).await {
        Ok(Some(user)) => {
            request.extensions_mut().insert(Caller { user });
            next.run(request).await
        }
        Ok(None) => ApiError(Error::unauthenticated("invalid API key")).into_response(),
        Err(error) => ApiError(error).into_response(),
    }
}

impl AppState {
    /// The caller may read and write the projects of `entity` when they are an admin or a
    /// member of it. A missing entity is 404, someone else's is 403.
    pub async fn authorize(&self, caller: &Caller, entity: &str) -> ApiResult<()> {
        if caller.user.admin {
            return Ok(());
        }
        let entities = self.store.entities_of(caller.user.id).await?;
        if entities.iter().any(|e| e == entity) {
            return Ok(());
        }
        self.store.get_entity(entity).await?;
        Err(Error::forbidden(format!("user {:?} is not a member of {entity:?}", caller.user.name)).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_from_bearer_basic_and_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer abc".parse().unwrap());
        assert_eq!(key_from_headers(&headers).as_deref(), Some("abc"));
        let basic = base64::engine::general_purpose::STANDARD.encode("api:k3y");
        headers.insert("authorization", format!("Basic {basic}").parse().unwrap());
        assert_eq!(key_from_headers(&headers).as_deref(), Some("k3y"));
        headers.clear();
        headers.insert("cookie", "a=b; heron_key=xyz".parse().unwrap());
        assert_eq!(key_from_headers(&headers).as_deref(), Some("xyz"));
        headers.clear();
        assert_eq!(key_from_headers(&headers), None);
    }
}

//! The one place where failure kinds become HTTP statuses, and the extractors that turn bad
//! requests into the documented JSON error instead of axum's plain-text rejections.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use heron_core::{Error, ErrorKind};
use heron_types::{ErrorBody, ErrorDetail};
use serde::de::DeserializeOwned;

/// An error as the API answers it: `{"error": {"kind", "message"}}` with the kind's status.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError(error)
    }
}

pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::AlreadyExists | ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::InvalidArgument => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(self.0.kind);
        if status.is_server_error() {
            tracing::error!(kind = self.0.kind.as_str(), message = %self.0.message, "request failed");
        }
        let body = ErrorBody { error: ErrorDetail { kind: self.0.kind.as_str().to_string(), message: self.0.message } };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"heron\", Basic realm=\"heron\""),
            );
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A JSON body. Any content type is accepted; a body over the limit is 413, unparseable or
/// mistyped JSON is 422 with serde's line and column.
pub struct ApiJson<T>(pub T);

/// A history batch, parsed by `HistoryBatch::from_json_slice` (see there for why).
pub struct HistoryJson(pub heron_types::HistoryBatch);

async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Ok(Bytes::from_request(request, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::too_large(format!(
                "request body is larger than the limit of {} bytes",
                heron_types::limits::MAX_BODY_BYTES
            ))
        } else {
            Error::invalid(format!("cannot read request body: {}", rejection.body_text()))
        }
    })?)
}

fn invalid_json(error: serde_json::Error) -> ApiError {
    ApiError(Error::invalid(format!("invalid JSON body: {error}")))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(request, state).await?;
        serde_json::from_slice(&bytes).map(ApiJson).map_err(invalid_json)
    }
}

impl<S: Send + Sync> FromRequest<S> for HistoryJson {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(request, state).await?;
        heron_types::HistoryBatch::from_json_slice(&bytes).map(HistoryJson).map_err(invalid_json)
    }
}

/// Query-string parameters, with rejections in the API's error format.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded_like(query).map(ApiQuery)
    }
}

fn serde_urlencoded_like<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}").parse().map_err(|_| Error::invalid("bad query string"))?,
    )
    .map(|q| q.0)
    .map_err(|e| ApiError(Error::invalid(format!("invalid query parameters: {}", e.body_text()))))
}

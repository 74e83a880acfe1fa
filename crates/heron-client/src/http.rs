//! A small blocking client for Heron's HTTP API, shared by the uploader, `heron sync`, the CLI and
//! the Python package's `heron.Api()`.

use std::fmt;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// An error from the server (with its HTTP status and `kind`), the network, or this machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// The HTTP status, when the server answered.
    pub status: Option<u16>,
    /// The server's error kind (`not_found`, `invalid_argument`, ...), or `network` / `local`.
    pub kind: String,
    pub message: String,
}

impl Error {
    pub fn local(message: impl Into<String>) -> Error {
        Error { status: None, kind: "local".into(), message: message.into() }
    }

    pub fn network(message: impl Into<String>) -> Error {
        Error { status: None, kind: "network".into(), message: message.into() }
    }

    /// Worth retrying later: the network, a server that is starting or overloaded.
    pub fn is_transient(&self) -> bool {
        match self.status {
            None => self.kind == "network",
            Some(status) => status == 408 || status == 429 || status >= 500,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "{} ({status} {})", self.message, self.kind),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

/// Percent-encodes one path segment or query value.
pub fn enc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[derive(Clone)]
pub struct Api {
    agent: ureq::Agent,
    base: String,
    key: Option<String>,
}

/// Request bodies above this size are sent gzip-compressed.
const COMPRESS_ABOVE: usize = 16 * 1024;

impl Api {
    /// `timeout` bounds each whole request (connect, send, answer).
    pub fn new(base_url: &str, api_key: Option<&str>, timeout: Duration) -> Api {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .timeout_connect(Some(timeout.min(Duration::from_secs(10))))
            .user_agent(concat!("heron-client/", env!("CARGO_PKG_VERSION")))
            .build();
        Api {
            agent: ureq::Agent::new_with_config(config),
            base: base_url.trim_end_matches('/').to_string(),
            key: api_key.map(String::from),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A client for blob transfers to and from signed URLs: a whole request has no time bound
    /// (a large blob takes as long as it takes), but each read or write must make progress
    /// within `idle`.
    pub fn for_transfers(&self, idle: Duration) -> Api {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(idle.min(Duration::from_secs(10))))
            .timeout_per_read(Some(idle))
            .timeout_per_write(Some(idle))
            .timeout_recv_response(Some(idle.max(Duration::from_secs(60))))
            .user_agent(concat!("heron-client/", env!("CARGO_PKG_VERSION")))
            .build();
        Api { agent: ureq::Agent::new_with_config(config), base: self.base.clone(), key: self.key.clone() }
    }

    /// Sends a request to a signed URL (`/api/v1/blobs/...` relative to the server, or an
    /// absolute URL): no API key goes with it, the signature is the permission. The answer is
    /// left unread for streaming.
    pub(crate) fn signed(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
        headers: &[(&str, &str)],
    ) -> Result<ureq::http::Response<ureq::Body>, Error> {
        let full = if url.starts_with("http://") || url.starts_with("https://") {
            url.to_string()
        } else {
            format!("{}{}{url}", self.base, if url.starts_with('/') { "" } else { "/" })
        };
        let mut builder = ureq::http::Request::builder().method(method).uri(&full);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let shown = full.split('?').next().unwrap_or_default().to_string();
        let result = match body {
            Some(bytes) => {
                let request = builder.body(bytes).map_err(|e| Error::local(format!("bad request {shown}: {e}")))?;
                self.agent.run(request)
            }
            None => {
                let request = builder.body(()).map_err(|e| Error::local(format!("bad request {shown}: {e}")))?;
                self.agent.run(request)
            }
        };
        let mut response = result.map_err(|e| Error::network(format!("{method} {shown}: {e}")))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(response);
        }
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Err(server_error(status, &text, method, &shown))
    }

    /// `path` starts with `/api/v1/...` (already encoded). Returns the body of a 2xx answer.
    /// A JSON body above 16 KiB is sent gzip-compressed.
    pub fn request(&self, method: &str, path: &str, body: Option<&[u8]>) -> Result<Vec<u8>, Error> {
        const JSON: (&str, &str) = ("Content-Type", "application/json");
        let mut response = match body {
            None => self.send(method, path, (), &[])?,
            Some(bytes) if bytes.len() > COMPRESS_ABOVE => {
                let mut gz =
                    flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 4), flate2::Compression::fast());
                gz.write_all(bytes).map_err(|e| Error::local(e.to_string()))?;
                let packed = gz.finish().map_err(|e| Error::local(e.to_string()))?;
                self.send(method, path, packed, &[JSON, ("Content-Encoding", "gzip")])?
            }
            Some(bytes) => self.send(method, path, bytes, &[JSON])?,
        };
        response
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(|e| Error::network(format!("reading the answer to {method} {path}: {e}")))
    }

    /// Sends one request; a status outside 2xx becomes the server's error.
    fn send(
        &self,
        method: &str,
        path: &str,
        body: impl ureq::AsSendBody,
        headers: &[(&str, &str)],
    ) -> Result<ureq::http::Response<ureq::Body>, Error> {
        let url = format!("{}{path}", self.base);
        let mut builder = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(key) = &self.key {
            builder = builder.header("Authorization", format!("Bearer {key}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(body).map_err(|e| Error::local(format!("bad request {url}: {e}")))?;
        let mut response = self.agent.run(request).map_err(|e| Error::network(format!("{method} {url}: {e}")))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(response);
        }
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Err(server_error(status, &text, method, &url))
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        parse(&self.request("GET", path, None)?, path)
    }

    pub fn send_json<T: DeserializeOwned>(&self, method: &str, path: &str, body: &impl Serialize) -> Result<T, Error> {
        let bytes = serde_json::to_vec(body).map_err(|e| Error::local(e.to_string()))?;
        parse(&self.request(method, path, Some(&bytes))?, path)
    }

    /// Streams a local file as the body of a PUT.
    pub fn put_file(&self, path: &str, file: &Path) -> Result<(), Error> {
        let opened =
            std::fs::File::open(file).map_err(|e| Error::local(format!("cannot read {}: {e}", file.display())))?;
        self.send("PUT", path, opened, &[("Content-Type", "application/octet-stream")])?;
        Ok(())
    }

    /// Downloads to `dest` through a temporary file renamed into place, so an interrupted
    /// download never leaves a partial file under the final name.
    pub fn download(&self, path: &str, dest: &Path) -> Result<u64, Error> {
        let mut response = self.send("GET", path, (), &[])?;
        let io = |e: std::io::Error| Error::local(format!("cannot write {}: {e}", dest.display()));
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let temp = dest.with_file_name(format!(
            ".{}.heron-part",
            dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        ));
        let mut out = std::fs::File::create(&temp).map_err(io)?;
        let mut reader = response.body_mut().with_config().limit(u64::MAX).reader();
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let _ = std::fs::remove_file(&temp);
                    return Err(Error::network(format!("download of {path} interrupted: {e}")));
                }
            };
            out.write_all(&buf[..n]).map_err(io)?;
            total += n as u64;
        }
        out.sync_all().map_err(io)?;
        std::fs::rename(&temp, dest).map_err(io)?;
        Ok(total)
    }
}

fn parse<T: DeserializeOwned>(bytes: &[u8], path: &str) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::local(format!("unexpected answer from {path}: {e}")))
}

fn server_error(status: u16, text: &str, method: &str, url: &str) -> Error {
    if let Ok(body) = serde_json::from_str::<heron_types::ErrorBody>(text) {
        return Error { status: Some(status), kind: body.error.kind, message: body.error.message };
    }
    let snippet: String = text.chars().take(200).collect();
    Error {
        status: Some(status),
        kind: "http".into(),
        message: format!("{method} {url} answered {status}{}{snippet}", if snippet.is_empty() { "" } else { ": " }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(enc("a b/ü?&=x"), "a%20b%2F%C3%BC%3F%26%3Dx");
        assert_eq!(enc("train_loss-1.0~"), "train_loss-1.0~");
    }

    #[test]
    fn transient_errors_are_retried_and_client_errors_are_not() {
        assert!(Error::network("refused").is_transient());
        let status = |s| Error { status: Some(s), kind: "x".into(), message: String::new() };
        assert!(status(503).is_transient());
        assert!(status(429).is_transient());
        assert!(!status(422).is_transient());
        assert!(!status(401).is_transient());
        assert!(!Error::local("disk").is_transient());
    }
}

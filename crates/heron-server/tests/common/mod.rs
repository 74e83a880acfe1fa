//! A real Heron server on port 0 over a fresh SQLite file, and a client for it.
#![allow(dead_code)]

use std::time::Duration;

use heron_server::{AppState, ServerConfig, bootstrap, serve};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub const ADMIN_KEY: &str = "heron_test_admin_key_0123456789";

pub struct TestServer {
    pub base: String,
    pub key: String,
    pub client: Client,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = ServerConfig::new(dir.path().join("data"));
        adjust(&mut config);
        let state = AppState::open(config).expect("open store");
        bootstrap(&state, Some(ADMIN_KEY.to_string())).await.expect("bootstrap");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(state.clone(), listener, async move {
            let _ = stopped.await;
        }));
        let client = Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
        TestServer { base, key: ADMIN_KEY.to_string(), client, state, stop: Some(stop), task: Some(task), _dir: dir }
    }

    /// Stops the server gracefully; returns once it has finished.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task).await.expect("server stops in time").unwrap().unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(&self.key)
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call_with_key(&self.key.clone(), method, path, body).await
    }

    pub async fn call_with_key(
        &self,
        key: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, self.url(path)).bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        decode(request.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, None).await;
        assert!(status.is_success(), "GET {path}: {status} {body}");
        body
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.call(Method::POST, path, Some(body)).await;
        assert!(status.is_success(), "POST {path}: {status} {answer}");
        answer
    }

    pub async fn create_run(&self, project: &str, id: &str) -> Value {
        self.post(&format!("/projects/admin/{project}/runs"), json!({"id": id})).await
    }

    /// Logs `points` (step, value) of one key in batches of `batch` rows, seq numbers from 1.
    pub async fn log_series(&self, project: &str, run: &str, key: &str, points: &[(i64, f64)], batch: usize) {
        for (index, chunk) in points.chunks(batch.max(1)).enumerate() {
            let rows: Vec<Value> =
                chunk.iter().map(|(step, value)| json!({"step": step, "scalars": {key: scalar(*value)}})).collect();
            let ack = self
                .post(&format!("/projects/admin/{project}/runs/{run}/history"), json!({"seq": index + 1, "rows": rows}))
                .await;
            assert_eq!(ack["duplicate"], false);
        }
    }
}

pub async fn decode(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, value)
}

/// The wire form of a scalar: a number, or "NaN" / "Infinity" / "-Infinity".
pub fn scalar(value: f64) -> Value {
    heron_types::Scalar::to_json(value)
}

/// The value of a wire scalar.
pub fn number(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().expect("f64"),
        Value::String(s) => heron_types::Scalar::parse_special(s).expect("special"),
        other => panic!("not a scalar: {other}"),
    }
}

/// Asserts the API's error shape and kind.
pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, kind: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["kind"], kind, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

//! The `heron` binary as users run it: first-start bootstrap, settings, and data surviving
//! `kill -9` in the middle of ingest.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const KEY: &str = "heron_process_test_key_42";

struct Server {
    child: Child,
    base: String,
    stdout: Vec<String>,
}

impl Drop for Server {
    /// A failing test must not leave its server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `heron server --port 0` on `data` and waits for its "listening on" line.
fn start(data: &Path, config_home: &Path, env_key: Option<&str>) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_heron"));
    command
        .args(["server", "--port", "0", "--data"])
        .arg(data)
        .env("XDG_CONFIG_HOME", config_home)
        .env("HERON_LOG", "warn")
        .env_remove("HERON_BOOTSTRAP_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(key) = env_key {
        command.env("HERON_BOOTSTRAP_API_KEY", key);
    }
    let mut child = command.spawn().expect("start heron server");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut stdout = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let base = loop {
        assert!(Instant::now() < deadline, "server did not start: {stdout:?}");
        let line = lines.next().expect("server exited before listening").expect("read stdout");
        stdout.push(line.clone());
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().expect("url").to_string();
        }
    };
    Server { child, base, stdout }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

fn batch(seq: u64, rows: u64) -> Value {
    let first = (seq - 1) * rows;
    let rows: Vec<Value> = (first..first + rows)
        .map(|step| json!({"step": step, "scalars": {"a": step as f64, "b": -(step as f64)}}))
        .collect();
    json!({"seq": seq, "rows": rows})
}

#[test]
fn acknowledged_points_survive_kill_9_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = start(&data, dir.path(), Some(KEY));
    let http = client();
    let base = server.base.clone();
    let runs_url = format!("{base}/api/v1/projects/admin/crash/runs");
    assert!(http.post(&runs_url).bearer_auth(KEY).json(&json!({"id": "r"})).send().unwrap().status().is_success());

    // A writer sends batches back to back and records which ones were acknowledged.
    const ROWS: u64 = 500;
    let acked = Arc::new(Mutex::new(Vec::<u64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, stop, url) = (acked.clone(), stop.clone(), format!("{runs_url}/r/history"));
        std::thread::spawn(move || {
            let http = client();
            let mut seq = 1;
            while !stop.load(Ordering::Relaxed) {
                match http.post(&url).bearer_auth(KEY).json(&batch(seq, ROWS)).send() {
                    Ok(response) if response.status().is_success() => {
                        acked.lock().unwrap().push(seq);
                        seq += 1;
                    }
                    _ => break, // the server died mid-request: this batch was not acknowledged
                }
            }
            seq // the first batch that was not acknowledged
        })
    };
    // Let some batches land, then kill the server without warning.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 20 {
        assert!(Instant::now() < deadline, "ingest too slow");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    let in_flight = writer.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked, (1..in_flight).collect::<Vec<_>>());

    // Restart on the same data: every acknowledged row is there exactly once.
    let server = start(&data, dir.path(), None);
    let base = server.base.clone();
    let runs_url = format!("{base}/api/v1/projects/admin/crash/runs");
    let history = format!("{runs_url}/r/history");
    let read_all = |http: &reqwest::blocking::Client| -> Vec<Value> {
        let page: Value =
            http.get(format!("{history}?keys=a,b&limit=100000")).bearer_auth(KEY).send().unwrap().json().unwrap();
        assert!(page["next_step"].is_null());
        page["rows"].as_array().unwrap().clone()
    };
    let rows = read_all(&http);
    let acked_rows = (in_flight - 1) * ROWS;
    // The batch in flight when the server died is either wholly stored or not at all.
    assert!(
        rows.len() as u64 == acked_rows || rows.len() as u64 == acked_rows + ROWS,
        "{} rows for {acked_rows} acknowledged",
        rows.len()
    );
    for (index, row) in rows.iter().enumerate() {
        assert_eq!(row["_step"], index as u64);
        assert_eq!(row["a"], index as f64);
        assert_eq!(row["b"], -(index as f64));
    }
    // The client retries the unacknowledged batch, and one more: nothing is doubled.
    for seq in [in_flight, in_flight, in_flight + 1] {
        let response = http.post(&history).bearer_auth(KEY).json(&batch(seq, ROWS)).send().unwrap();
        assert!(response.status().is_success());
    }
    let rows = read_all(&http);
    assert_eq!(rows.len() as u64, (in_flight + 1) * ROWS);
    assert!(rows.iter().enumerate().all(|(i, row)| row["_step"] == i as u64));
    let run: Value = http.get(format!("{runs_url}/r")).bearer_auth(KEY).send().unwrap().json().unwrap();
    assert_eq!(run["history_rows"], (in_flight + 1) * ROWS);
    assert_eq!(run["state"], "running", "an open run is resumed after a restart, not crashed");
}

#[test]
fn first_start_creates_the_admin_key_and_saves_it_for_the_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = start(&data, dir.path(), None);
    let printed = server.stdout.join("\n");
    let key = printed.split_whitespace().find(|w| w.starts_with("heron_")).expect("key printed").to_string();
    assert!(printed.contains("/login?token="), "{printed}");
    let credentials = std::fs::read_to_string(dir.path().join("heron/credentials.toml")).unwrap();
    assert!(credentials.contains(&key) && credentials.contains(&server.base), "{credentials}");
    let http = client();
    let viewer: Value =
        http.get(format!("{}/api/v1/viewer", server.base)).bearer_auth(&key).send().unwrap().json().unwrap();
    assert_eq!(viewer["name"], "admin");
    assert_eq!(viewer["admin"], true);

    // The one-time login link sets a browser key cookie, and works once.
    let token = printed.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let no_redirect = reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = no_redirect.get(format!("{}/login?token={token}", server.base)).send().unwrap();
    assert!(login.status().is_redirection(), "{}", login.status());
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let viewer = http.get(format!("{}/api/v1/viewer", server.base)).header("cookie", &cookie).send().unwrap();
    assert_eq!(viewer.status(), 200);
    let again = no_redirect.get(format!("{}/login?token={token}", server.base)).send().unwrap();
    assert_eq!(again.status(), 401);

    // A second start on the same store creates nothing and prints no key.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let mut second = start(&data, dir.path(), None);
    assert!(!second.stdout.join("\n").contains("heron_"), "{:?}", second.stdout);
    // SIGTERM stops it gracefully.
    Command::new("kill").args(["-TERM", &second.child.id().to_string()]).status().unwrap();
    let status = second.child.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn bad_settings_are_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_heron"))
        .args(["server", "--port", "0", "--durability", "sometimes", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--durability must be `full` or `normal`"));

    let config = dir.path().join("heron.toml");
    std::fs::write(&config, "port = 0\nhost = \"127.0.0.1\"\nbogus = 1\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_heron")).args(["server", "--config"]).arg(&config).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("bogus"), "{}", String::from_utf8_lossy(&output.stderr));

    let help = Command::new(env!("CARGO_BIN_EXE_heron")).args(["server", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in ["--host", "--port", "--data", "--database-url", "--blob-url", "HERON_DATA_DIR"] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn the_demo_logs_runs_artifacts_their_lineage_and_a_registered_model() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"), dir.path(), Some(KEY));
    let output = Command::new(env!("CARGO_BIN_EXE_heron"))
        .args(["demo", "--epochs", "2", "--key", KEY, "--host", &server.base])
        .env("XDG_CONFIG_HOME", dir.path())
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .env("HERON_DIR", dir.path().join("runs"))
        .env_remove("HERON_API_KEY")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(printed.contains("linked as demo-classifier:production"), "{printed}");
    let http = client();
    let get = |path: &str| -> Value {
        http.get(format!("{}/api/v1{path}", server.base)).bearer_auth(KEY).send().unwrap().json().unwrap()
    };
    assert_eq!(get("/projects/admin/demo")["run_count"], 5);
    let data = get("/projects/admin/demo/artifacts/synthetic-data/versions/latest");
    assert_eq!((data["version"].as_str(), data["file_count"].as_u64()), (Some("v0"), Some(2)));
    assert_eq!(get("/projects/admin/demo/artifacts/logreg")["versions"], 4);
    // The data was used by the four training runs, each of which produced a model version.
    let lineage = get("/projects/admin/demo/artifacts/synthetic-data/versions/v0/lineage?direction=down");
    let kinds: Vec<&str> = lineage["nodes"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "run").count(), 4, "{lineage}");
    assert_eq!(kinds.iter().filter(|k| **k == "artifact").count(), 5, "{lineage}");
    let model = get("/entities/admin/models/demo-classifier");
    assert_eq!(model["versions"][0]["aliases"], json!(["production"]));
    assert!(model["versions"][0]["artifact"].as_str().unwrap().starts_with("admin/demo/logreg:v"));
}

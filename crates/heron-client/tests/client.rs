//! The Rust SDK against a real Heron server (in this process, on a loopback port, over a real
//! SQLite file): logging, step semantics, the server down at `init`, offline runs and `sync`,
//! re-syncing without its progress file, and the `finish` deadline.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use heron_client::sync::{SyncStatus, sync_dir};
use heron_client::{Api, LogValue, MetricDef, Mode, Run, RunOptions, Settings};
use heron_server::{AppState, ServerConfig, bootstrap, serve};
use serde_json::{Value, json};

const KEY: &str = "heron_client_test_key_0123456789";

struct Server {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// A real server over `data` on `port` (0: any free port).
    fn start(data: &Path, port: u16) -> Server {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let data = data.to_path_buf();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let state = AppState::open(ServerConfig::new(data)).expect("open store");
                bootstrap(&state, Some(KEY.to_string())).await.expect("bootstrap");
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
                ready_tx.send(listener.local_addr().unwrap().port()).unwrap();
                serve(state, listener, async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        let port = ready_rx.recv_timeout(Duration::from_secs(30)).expect("server starts");
        Server { base: format!("http://127.0.0.1:{port}"), stop: Some(stop), thread: Some(thread) }
    }

    fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }

    fn api(&self) -> Api {
        Api::new(&self.base, Some(KEY), Duration::from_secs(30))
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn settings(base: &str, dir: &Path, mode: Mode) -> Settings {
    let mut s = Settings::from_env().unwrap();
    s.base_url = base.to_string();
    s.api_key = Some(KEY.to_string());
    s.mode = mode;
    s.dir = dir.to_path_buf();
    s.system_interval = None;
    s.git = false;
    s.finish_timeout = Duration::from_secs(30);
    s
}

fn options(id: &str, settings: Settings) -> RunOptions {
    RunOptions {
        project: Some("sdk".into()),
        entity: Some("admin".into()),
        id: Some(id.into()),
        config: Some(json!({"lr": 0.1})),
        settings: Some(settings),
        ..Default::default()
    }
}

fn run_path(id: &str) -> String {
    format!("/api/v1/projects/admin/sdk/runs/{id}")
}

/// Every history row of a run, via the rows endpoint.
fn rows(api: &Api, id: &str) -> Vec<Value> {
    let page: Value = api.get(&format!("{}/history?limit=100000", run_path(id))).unwrap();
    page["rows"].as_array().unwrap().clone()
}

fn run_dir_of(root: &Path, id: &str) -> PathBuf {
    std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().ends_with(id))
        .expect("run folder")
}

#[test]
fn an_online_run_arrives_whole_with_wandb_step_semantics() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), 0);
    let run = Run::init(options("online1", settings(&server.base, logs.path(), Mode::Online))).unwrap();
    assert!(run.info().connected);
    run.define_metric(MetricDef {
        name: "loss".into(),
        summary: vec!["min".into(), "max".into()],
        ..Default::default()
    });
    for step in 0..5000 {
        run.log([("loss", LogValue::from(1.0 / (step + 1) as f64)), ("tag", LogValue::from("x"))]);
    }
    // commit=false merges into one row; an explicit step commits the open row when a later step comes.
    run.log_at(None, Some(false), [("a", 1.0)]);
    run.log_at(None, None, [("b", 2.0)]);
    run.log_at(Some(6000), None, [("c", 3.0)]);
    run.log_at(Some(6000), None, [("d", 4.0)]);
    run.log_at(Some(5999), None, [("dropped", 5.0)]);
    run.log_at(Some(6001), None, [("e", f64::NAN)]);
    run.update_config(json!({"epochs": 3}));
    // An explicit summary value stands over the logged one (until the key is logged again).
    run.update_summary(json!({"tag": "explicit"}));
    let file = logs.path().join("notes.txt");
    std::fs::write(&file, "hello").unwrap();
    run.save(&file, None, "now").unwrap();
    run.console_write(heron_client::ConsoleStream::Stdout, "epoch 1\r\repoch 2 done\n");
    let report = run.finish(0);
    assert!(report.uploaded, "{report:?}");

    let api = server.api();
    let stored: heron_types::Run = api.get(&run_path("online1")).unwrap();
    assert_eq!(stored.state, heron_types::RunState::Finished);
    assert_eq!(stored.config, json!({"lr": 0.1, "epochs": 3}));
    assert_eq!(stored.summary["loss"], json!({"min": 1.0 / 5000.0, "max": 1.0}));
    assert_eq!(stored.summary["e"], json!("NaN"));
    assert_eq!(stored.summary["tag"], json!("explicit"));
    let rows = rows(&api, "online1");
    assert_eq!(rows.len(), 5003);
    assert_eq!(rows[5000]["_step"], 5000);
    assert_eq!((rows[5000]["a"].clone(), rows[5000]["b"].clone()), (json!(1.0), json!(2.0)));
    assert_eq!(
        (rows[5001]["_step"].clone(), rows[5001]["c"].clone(), rows[5001]["d"].clone()),
        (json!(6000), json!(3.0), json!(4.0))
    );
    assert!(rows.iter().all(|r| r.get("dropped").is_none()));
    assert_eq!(rows[5002]["e"], json!("NaN"));
    let files: Vec<heron_types::RunFile> = api.get(&format!("{}/files", run_path("online1"))).unwrap();
    assert_eq!(files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["notes.txt"]);
    let console: heron_types::ConsolePage = api.get(&format!("{}/console", run_path("online1"))).unwrap();
    assert_eq!(console.lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(), ["epoch 2 done"]);
    server.stop();
}

#[test]
fn a_server_down_at_init_gets_everything_once_it_starts() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut s = settings(&base, logs.path(), Mode::Online);
    s.init_timeout = Duration::from_secs(2);
    let run = Run::init(options("late1", s)).unwrap();
    assert!(!run.info().connected);
    let started = Instant::now();
    for step in 0..20_000 {
        run.log([("x", step as f64)]);
    }
    assert!(started.elapsed() < Duration::from_secs(5), "log must not wait on the network");
    let server = Server::start(data.path(), port);
    let report = run.finish(0);
    assert!(report.uploaded, "{report:?}");
    let rows = rows(&server.api(), "late1");
    assert_eq!(rows.len(), 20_000);
    assert!(rows.iter().enumerate().all(|(i, r)| r["_step"] == i && r["x"] == i as f64));
    server.stop();
}

#[test]
fn offline_runs_sync_once_even_when_synced_twice_or_without_progress_file() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), 0);
    let s = settings(&server.base, logs.path(), Mode::Offline);
    let run = Run::init(RunOptions { entity: None, ..options("off1", s.clone()) }).unwrap();
    for step in 0..3000 {
        run.log([("y", (step * 2) as f64)]);
    }
    run.console_write(heron_client::ConsoleStream::Stderr, "warning: offline\n");
    let report = run.finish(0);
    assert!(!report.uploaded);
    assert!(report.message.as_deref().unwrap_or_default().contains("heron sync"), "{report:?}");
    let api = server.api();
    assert_eq!(api.get::<Value>(&run_path("off1")).unwrap_err().status, Some(404));

    let dir = run_dir_of(logs.path(), "off1");
    let first = sync_dir(&s, &dir, |_| {});
    assert_eq!(first.status, SyncStatus::Complete, "{first:?}");
    assert_eq!(first.rows, 3000);
    let second = sync_dir(&s, &dir, |_| {});
    assert_eq!((second.status, second.rows), (SyncStatus::Complete, 0));
    // Without its progress file, sync asks the server what it holds and sends nothing twice.
    std::fs::remove_file(dir.join(heron_client::uploader::STATE_FILE)).unwrap();
    let third = sync_dir(&s, &dir, |_| {});
    assert_eq!(third.status, SyncStatus::Complete, "{third:?}");
    let rows = rows(&api, "off1");
    assert_eq!(rows.len(), 3000);
    let stored: heron_types::Run = api.get(&run_path("off1")).unwrap();
    assert_eq!(stored.history_rows, 3000);
    assert_eq!(stored.state, heron_types::RunState::Finished);
    let console: heron_types::ConsolePage = api.get(&format!("{}/console", run_path("off1"))).unwrap();
    assert_eq!(console.total, 1);
    server.stop();
}

#[test]
fn finish_leaves_what_it_cannot_upload_for_sync() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut s = settings(&base, logs.path(), Mode::Online);
    s.init_timeout = Duration::from_secs(1);
    s.finish_timeout = Duration::from_millis(800);
    let run = Run::init(options("deadline1", s.clone())).unwrap();
    for step in 0..1000 {
        run.log([("z", step as f64)]);
    }
    let started = Instant::now();
    let report = run.finish(0);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!report.uploaded);
    let message = report.message.unwrap();
    assert!(message.contains("heron sync") && message.contains("deadline1"), "{message}");
    let server = Server::start(data.path(), port);
    let outcome = sync_dir(&s, &run_dir_of(logs.path(), "deadline1"), |_| {});
    assert_eq!(outcome.status, SyncStatus::Complete, "{outcome:?}");
    assert_eq!(rows(&server.api(), "deadline1").len(), 1000);
    server.stop();
}

#[test]
fn resume_continues_after_the_last_step_and_rules_are_enforced() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), 0);
    let s = settings(&server.base, logs.path(), Mode::Online);
    let run = Run::init(options("resume1", s.clone())).unwrap();
    run.log([("v", 1.0)]);
    run.log([("v", 2.0)]);
    assert!(run.finish(0).uploaded);
    let again =
        Run::init(RunOptions { resume: Some(heron_types::ResumeMode::Must), ..options("resume1", s.clone()) }).unwrap();
    assert!(again.info().resumed);
    assert_eq!(again.step(), 2);
    again.log([("v", 3.0)]);
    assert!(again.finish(0).uploaded);
    assert_eq!(rows(&server.api(), "resume1").len(), 3);
    let never = Run::init(RunOptions { resume: Some(heron_types::ResumeMode::Never), ..options("resume1", s.clone()) });
    assert_eq!(never.err().map(|e| e.status), Some(Some(409)));
    let must = Run::init(RunOptions { resume: Some(heron_types::ResumeMode::Must), ..options("nosuch", s) });
    assert_eq!(must.err().map(|e| e.status), Some(Some(404)));
    server.stop();
}

#[test]
fn the_summary_so_far_is_readable_while_logging_and_after_finish() {
    let logs = tempfile::tempdir().unwrap();
    let run = Run::init(options("summary1", settings("http://127.0.0.1:9", logs.path(), Mode::Offline))).unwrap();
    run.define_metric(MetricDef { name: "loss".into(), summary: vec!["min".into()], ..Default::default() });
    for (loss, acc) in [(3.0, 0.1), (1.0, 0.5), (2.0, 0.4)] {
        run.log([("loss", loss), ("acc", acc)]);
    }
    assert_eq!(run.summary(), json!({"loss": {"min": 1.0}, "acc": 0.4}));
    run.update_summary(json!({"acc": 0.99}));
    assert_eq!(run.summary(), json!({"loss": {"min": 1.0}}), "an explicitly set key is the caller's");
    run.log([("acc", 0.6)]);
    assert_eq!(run.summary()["acc"], json!(0.6), "logging it again takes it back");
    run.finish(0);
    assert_eq!(run.summary(), json!({"loss": {"min": 1.0}, "acc": 0.6}));
}

//! Artifacts through the Rust SDK against a real Heron server (in this process, on a loopback
//! port, over a real SQLite file and blob folder): a run logs versions that upload only what
//! changed, another run uses one (lineage) and downloads it through the cache, and the model
//! registry links it.

use std::path::Path;
use std::time::Duration;

use heron_client::{Artifact, Artifacts, Cache, Mode, Run, RunOptions, Settings};
use heron_server::{AppState, ServerConfig, bootstrap, serve};

const KEY: &str = "heron_client_artifacts_key_0123456";

struct Server {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(data: &Path) -> Server {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let data = data.to_path_buf();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let state = AppState::open(ServerConfig::new(data)).expect("open store");
                bootstrap(&state, Some(KEY.to_string())).await.expect("bootstrap");
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
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
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn settings(base: &str, dir: &Path) -> Settings {
    let mut s = Settings::from_env().unwrap();
    s.base_url = base.to_string();
    s.api_key = Some(KEY.to_string());
    s.mode = Mode::Online;
    s.dir = dir.to_path_buf();
    s.system_interval = None;
    s.git = false;
    s.host_metadata = false;
    s
}

fn run(id: &str, settings: Settings) -> Run {
    Run::init(RunOptions {
        project: Some("arts".into()),
        entity: Some("admin".into()),
        id: Some(id.into()),
        settings: Some(settings),
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn versions_upload_what_changed_and_downloads_are_verified_and_cached() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let files = work.path().join("files");
    std::fs::create_dir_all(files.join("sub")).unwrap();
    for i in 0..10 {
        std::fs::write(files.join(format!("sub/f{i}.bin")), vec![i as u8; 20_000]).unwrap();
    }

    let producer = run("producer", settings(&server.base, &work.path().join("runs")));
    let mut artifact = Artifact::new("shards", "dataset");
    artifact.metadata(serde_json::json!({"shards": 10})).add_dir(&files, Some("data")).unwrap();
    let first = producer.log_artifact_report(&artifact, &["raw"]).unwrap();
    assert_eq!((first.version.version.as_str(), first.uploaded_bytes, first.deduplicated_bytes), ("v0", 200_000, 0));
    assert_eq!(first.version.run.as_deref(), Some("producer"));

    std::fs::write(files.join("sub/f3.bin"), b"changed").unwrap();
    let mut changed = Artifact::new("shards", "dataset");
    changed.add_dir(&files, Some("data")).unwrap();
    let second = producer.log_artifact_report(&changed, &[]).unwrap();
    assert_eq!((second.version.version.as_str(), second.uploaded_bytes), ("v1", 7));
    assert_eq!(second.deduplicated_bytes, 180_000);
    producer.finish(0);

    let consumer = run("consumer", settings(&server.base, &work.path().join("runs")));
    let used = consumer.use_artifact("shards:raw").unwrap();
    assert_eq!(used.version, "v0");
    let mut client = consumer.artifacts().unwrap();
    client.progress = false;
    client.set_cache(Some(Cache { dir: work.path().join("cache"), max_bytes: 1 << 30 }));
    let report = client.download(&used, &work.path().join("out")).unwrap();
    assert_eq!((report.files.len(), report.downloaded_bytes, report.from_cache), (10, 200_000, 0));
    for i in 0..10 {
        assert_eq!(std::fs::read(work.path().join(format!("out/data/sub/f{i}.bin"))).unwrap(), vec![i as u8; 20_000]);
    }
    let latest = client.get("arts/shards").unwrap();
    let report = client.download(&latest, &work.path().join("out2")).unwrap();
    assert_eq!((report.from_cache, report.downloaded_bytes), (9, 7), "only the changed file is fetched");
    consumer.finish(0);

    let lineage = client.lineage(&used, "down", 5).unwrap();
    assert!(lineage.edges.iter().any(|e| e.kind == "used" && e.to == "run:admin/arts/consumer"), "{lineage:?}");

    let registry: Artifacts = client;
    registry.create_model("admin", "shard-model", Some("for the test")).unwrap();
    let linked = registry.link("admin", "shard-model", "arts/shards:v1", &["staging".into()]).unwrap();
    assert_eq!((linked.version.as_str(), linked.artifact.as_str()), ("v0", "admin/arts/shards:v1"));
    registry.set_model_alias("admin", "shard-model", "production", "v0").unwrap();
    let actions: Vec<String> = registry.audit("admin", "shard-model").unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions.first().map(String::as_str), Some("create"));
    assert!(actions.contains(&"link".to_string()) && actions.contains(&"alias_set".to_string()), "{actions:?}");
    let refused = registry.delete("admin", "arts", "shards", Some("v1")).unwrap_err();
    assert_eq!(refused.status, Some(409), "a linked version stays: {refused}");
}

#[test]
fn an_offline_run_keeps_artifacts_until_sync_logs_them() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let file = work.path().join("model.bin");
    std::fs::write(&file, b"offline weights").unwrap();
    let mut offline = settings(&server.base, &work.path().join("runs"));
    offline.mode = Mode::Offline;
    let run = run("offline-1", offline);
    let mut artifact = Artifact::new("weights", "model");
    artifact.add_file(&file, None).unwrap();
    let pending = run.log_artifact(&artifact, &["candidate"]).unwrap();
    assert_eq!((pending.version.as_str(), pending.name.as_str(), pending.file_count), ("", "weights", 1));
    assert!(run.use_artifact("weights:latest").unwrap_err().message.contains("online run"));
    let dir = run.info().dir.clone();
    run.finish(0);
    assert!(heron_client::artifacts::has_staged(&dir));

    let online = settings(&server.base, &work.path().join("runs"));
    let outcome = heron_client::sync::sync_dir(&online, &dir, |_| {});
    assert_eq!(outcome.status, heron_client::sync::SyncStatus::Complete, "{outcome:?}");
    assert!(!heron_client::artifacts::has_staged(&dir), "marked done");
    let client = Artifacts::new(&online).unwrap();
    let logged = client.version("admin", "arts", "weights", "candidate").unwrap();
    assert_eq!((logged.version.as_str(), logged.run.as_deref()), ("v0", Some("offline-1")));
    // A second sync logs nothing more.
    heron_client::sync::sync_dir(&online, &dir, |_| {});
    assert_eq!(client.versions("admin", "arts", "weights").unwrap().len(), 1);
    assert!(heron_client::sync::pending_runs(&work.path().join("runs")).is_empty());
}

//! `heron-bench`: the server benchmarks of DESIGN §5 (P3 ingest, P4 chart read, P6 resident
//! memory, P7 runs list), measured against the real release `heron server` binary over HTTP on
//! 127.0.0.1. It starts the server as a child process on port 0 with a fresh data folder under
//! `--work`, drives it with `reqwest`, stops it with SIGTERM, and prints a JSON summary (also
//! written to `--out`). Every loop is bounded in count and in time.
#![forbid(unsafe_code)]

mod du;

use du::dir_bytes;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::Parser;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const API_KEY: &str = "heron_bench_key_0123456789abcdef";
const PROJECT: &str = "bench";
const P7_PROJECT: &str = "runs10k";
/// The value planted in one step of one P4 run; the chart's max_y must show it.
const SPIKE: f64 = 1e9;

#[derive(Parser, Debug, Clone)]
#[command(name = "heron-bench", about = "Heron server benchmarks P3, P4, P6, P7 (DESIGN §5)")]
struct Args {
    /// The release server binary (`target/release/heron`).
    #[arg(long, default_value = "target/release/heron")]
    heron: PathBuf,
    /// Scratch folder for data folders and server logs.
    #[arg(long, default_value = "bench/work")]
    work: PathBuf,
    /// Also write the JSON summary here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Which benchmarks: any of p3, p4, p7 (P6 is measured inside P3 and P4).
    #[arg(long, value_delimiter = ',', default_value = "p3,p4,p7")]
    only: Vec<String>,
    /// Seconds to let a freshly started server settle before reading its idle memory.
    #[arg(long, default_value_t = 5.0)]
    settle_secs: f64,

    /// P3: scalar points per repetition (rows of 10 keys, 1000 rows per POST).
    #[arg(long, default_value_t = 10_000_000)]
    p3_points: u64,
    /// P3: concurrent client connections, one run each.
    #[arg(long, default_value_t = 4)]
    p3_clients: usize,
    /// P3: repetitions per durability mode (fresh data folder each); the median is reported.
    #[arg(long, default_value_t = 3)]
    p3_repeats: usize,
    /// P3: durability modes to measure (`full` is the budgeted one).
    #[arg(long, value_delimiter = ',', default_value = "full,normal")]
    p3_durability: Vec<String>,
    /// P3: stop a repetition after this many seconds even if not all points were sent.
    #[arg(long, default_value_t = 90.0)]
    p3_max_secs: f64,

    /// P4: runs, steps per run, buckets, warm-up and timed reads.
    #[arg(long, default_value_t = 100)]
    p4_runs: usize,
    #[arg(long, default_value_t = 100_000)]
    p4_steps: u64,
    #[arg(long, default_value_t = 1000)]
    p4_buckets: u32,
    #[arg(long, default_value_t = 5)]
    p4_warmup: usize,
    #[arg(long, default_value_t = 50)]
    p4_reads: usize,
    /// P4: rows per POST while loading.
    #[arg(long, default_value_t = 10_000)]
    p4_batch_rows: u64,

    /// P8: the dashboard benchmark script (`bench/p8_dashboard.mjs`), run with Node against the
    /// P4 server once its reads are done; P8 is skipped when absent.
    #[arg(long)]
    p8_script: Option<PathBuf>,
    /// P8: where to save the screenshot of the workspace.
    #[arg(long, default_value = "bench/p8-workspace.png")]
    p8_screenshot: PathBuf,
    /// P8: repetitions (fresh browser context each); the median is reported.
    #[arg(long, default_value_t = 5)]
    p8_repeats: usize,

    /// P7: runs to create, timed list requests, client concurrency while creating.
    #[arg(long, default_value_t = 10_000)]
    p7_runs: usize,
    #[arg(long, default_value_t = 50)]
    p7_reads: usize,
    #[arg(long, default_value_t = 8)]
    p7_concurrency: usize,

    /// Give up (stopping the server) after this many seconds in all.
    #[arg(long, default_value_t = 1200.0)]
    max_secs: f64,
    /// Keep the data folders instead of deleting them at the end.
    #[arg(long)]
    keep: bool,
}

// ---------------------------------------------------------------------------------------------
// The server child process

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
struct Mem {
    rss_kb: u64,
    hwm_kb: u64,
}

fn proc_mem(pid: u32) -> Result<Mem> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let field = |name: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Ok(Mem { rss_kb: field("VmRSS:"), hwm_kb: field("VmHWM:") })
}

struct Server {
    child: Child,
    pid: u32,
    base: String,
    data: PathBuf,
    startup: Duration,
}

impl Server {
    async fn start(args: &Args, data: &Path, durability: &str, label: &str) -> Result<Server> {
        std::fs::create_dir_all(data)?;
        let log_path = args.work.join(format!("server-{label}.log"));
        let log = std::fs::File::create(&log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
        let mut command = Command::new(&args.heron);
        for (name, _) in std::env::vars() {
            if name.starts_with("HERON_") {
                command.env_remove(name);
            }
        }
        command
            .args(["server", "--host", "127.0.0.1", "--port", "0", "--durability", durability, "--data"])
            .arg(data)
            .env("HERON_BOOTSTRAP_API_KEY", API_KEY)
            .env("HERON_LOG", std::env::var("HERON_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = command.spawn().with_context(|| format!("cannot start {}", args.heron.display()))?;
        let pid = child.id().context("server exited at once")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let base = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.strip_prefix("heron server listening on ") {
                    let url = rest.split_whitespace().next().unwrap_or_default().to_string();
                    return Ok::<_, anyhow::Error>(url);
                }
            }
            bail!("server stdout closed before it said where it listens (see {})", log_path.display())
        })
        .await
        .context("server did not start within 60 s")??;
        let startup = started.elapsed();
        if !base.starts_with("http://127.0.0.1:") {
            bail!("server listens on {base}, expected 127.0.0.1");
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server { child, pid, base, data: data.to_path_buf(), startup })
    }

    fn mem(&self) -> Result<Mem> {
        proc_mem(self.pid)
    }

    /// SIGTERM, then wait up to 30 s (SIGKILL after that).
    async fn stop(mut self) -> Result<()> {
        let status = std::process::Command::new("kill").args(["-TERM", &self.pid.to_string()]).status()?;
        if !status.success() {
            bail!("kill -TERM {} failed", self.pid);
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => {
                eprintln!("server {} did not stop within 30 s of SIGTERM; killing it", self.pid);
                self.child.kill().await?;
            }
        }
        Ok(())
    }
}

/// Samples the server's VmRSS every 100 ms on its own thread until stopped.
struct Sampler {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<(u64, usize)>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let (mut peak, mut samples) = (0u64, 0usize);
            // Bounded: at most one hour of samples.
            while !flag.load(Ordering::Relaxed) && samples < 36_000 {
                if let Ok(mem) = proc_mem(pid) {
                    peak = peak.max(mem.rss_kb);
                    samples += 1;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            (peak, samples)
        });
        Sampler { stop, handle }
    }

    fn finish(self) -> (u64, usize) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or((0, 0))
    }
}

fn fresh_dir(args: &Args, name: &str) -> Result<PathBuf> {
    let dir = args.work.join("data").join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn remove_dir(args: &Args, dir: &Path) {
    if !args.keep {
        let _ = std::fs::remove_dir_all(dir);
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder().timeout(Duration::from_secs(120)).pool_max_idle_per_host(64).build()?)
}

async fn check(response: reqwest::Response, what: &str) -> Result<Bytes> {
    let status = response.status();
    let body = response.bytes().await.with_context(|| format!("{what}: reading the answer"))?;
    if !status.is_success() {
        bail!("{what}: HTTP {status}: {}", String::from_utf8_lossy(&body[..body.len().min(500)]));
    }
    Ok(body)
}

async fn post_json(client: &reqwest::Client, url: &str, body: &Value, what: &str) -> Result<Bytes> {
    let response = client.post(url).bearer_auth(API_KEY).json(body).send().await.with_context(|| what.to_string())?;
    check(response, what).await
}

async fn create_run(client: &reqwest::Client, base: &str, project: &str, id: &str, config: Value) -> Result<()> {
    let url = format!("{base}/api/v1/projects/admin/{project}/runs");
    post_json(client, &url, &json!({"id": id, "name": id, "config": config}), "create run").await?;
    Ok(())
}

/// Deterministic noise in [0, 1).
fn noise(a: u64, b: u64, c: u64) -> f64 {
    let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ b.wrapping_mul(0xBF58_476D_1CE4_E5B9)
        ^ c.wrapping_add(0x94D0_49BB_1331_11EB);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// A history batch as JSON text: rows `first_step..first_step+rows`, keys `k0..k{keys-1}`.
/// `value(step, key)` gives each value.
fn history_body(seq: u64, first_step: u64, rows: u64, keys: usize, value: impl Fn(u64, usize) -> f64) -> Bytes {
    use std::fmt::Write;
    let mut out = String::with_capacity((rows as usize) * (40 + keys * 26) + 32);
    write!(out, "{{\"seq\":{seq},\"rows\":[").unwrap();
    for i in 0..rows {
        let step = first_step + i;
        if i > 0 {
            out.push(',');
        }
        let time = 1_700_000_000.0 + step as f64 * 0.01;
        write!(out, "{{\"step\":{step},\"time\":{time},\"scalars\":{{").unwrap();
        for k in 0..keys {
            if k > 0 {
                out.push(',');
            }
            write!(out, "\"k{k}\":{}", value(step, k)).unwrap();
        }
        out.push_str("}}");
    }
    out.push_str("]}");
    Bytes::from(out)
}

async fn post_history(client: &reqwest::Client, url: &str, body: Bytes) -> Result<Value> {
    let response = client
        .post(url)
        .bearer_auth(API_KEY)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .context("POST history")?;
    let body = check(response, "POST history").await?;
    Ok(serde_json::from_slice(&body)?)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

fn latency_summary(mut ms: Vec<f64>) -> Value {
    ms.sort_by(f64::total_cmp);
    json!({
        "n": ms.len(),
        "p50_ms": percentile(&ms, 50.0),
        "p95_ms": percentile(&ms, 95.0),
        "min_ms": ms.first().copied().unwrap_or(f64::NAN),
        "max_ms": ms.last().copied().unwrap_or(f64::NAN),
        "mean_ms": ms.iter().sum::<f64>() / ms.len().max(1) as f64,
    })
}

// ---------------------------------------------------------------------------------------------
// P3 (+ P6 idle on an empty store and peak under load)

const P3_KEYS: usize = 10;
const P3_ROWS: u64 = 1000;

async fn p3_once(args: &Args, durability: &str, rep: usize, bodies: &Arc<Vec<Vec<Bytes>>>) -> Result<Value> {
    let label = format!("p3-{durability}-{rep}");
    let data = fresh_dir(args, &label)?;
    let server = Server::start(args, &data, durability, &label).await?;
    tokio::time::sleep(Duration::from_secs_f64(args.settle_secs)).await;
    let idle = server.mem()?;
    let setup = client()?;
    for c in 0..bodies.len() {
        create_run(&setup, &server.base, PROJECT, &format!("p3-{c}"), json!({"client": c})).await?;
    }
    let deadline = Instant::now() + Duration::from_secs_f64(args.p3_max_secs);
    let points = Arc::new(AtomicU64::new(0));
    let sampler = Sampler::start(server.pid);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..bodies.len() {
        let url = format!("{}/api/v1/projects/admin/{PROJECT}/runs/p3-{c}/history", server.base);
        let bodies = bodies.clone();
        let points = points.clone();
        tasks.push(tokio::spawn(async move {
            // One connection per client: its own pool, requests one after another.
            let http =
                reqwest::Client::builder().timeout(Duration::from_secs(120)).pool_max_idle_per_host(1).build()?;
            let mut latencies = Vec::with_capacity(bodies[c].len());
            for body in bodies[c].iter() {
                if Instant::now() > deadline {
                    break;
                }
                let t = Instant::now();
                let ack = post_history(&http, &url, body.clone()).await?;
                latencies.push(t.elapsed().as_secs_f64() * 1e3);
                if ack["duplicate"].as_bool() != Some(false) || ack["dropped_points"].as_u64() != Some(0) {
                    bail!("unexpected ack {ack}");
                }
                points.fetch_add(ack["points"].as_u64().unwrap_or(0), Ordering::Relaxed);
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    let (peak_rss_kb, samples) = sampler.finish();
    let after = server.mem()?;
    let points = points.load(Ordering::Relaxed);
    let disk = dir_bytes(&server.data);
    let startup_ms = server.startup.as_secs_f64() * 1e3;
    server.stop().await?;
    remove_dir(args, &data);
    let rate = points as f64 / secs;
    eprintln!(
        "P3 {durability} #{rep}: {points} points in {secs:.2} s = {rate:.0} points/s; idle RSS {} kB, peak RSS {} kB, HWM {} kB",
        idle.rss_kb, peak_rss_kb, after.hwm_kb
    );
    Ok(json!({
        "durability": durability, "rep": rep, "points": points, "secs": secs, "points_per_s": rate,
        "complete": points == args.p3_points,
        "batch_latency": latency_summary(latencies),
        "idle_rss_kb": idle.rss_kb, "idle_hwm_kb": idle.hwm_kb,
        "peak_rss_kb_sampled": peak_rss_kb, "rss_samples": samples,
        "hwm_kb_after": after.hwm_kb, "rss_kb_after": after.rss_kb,
        "disk_bytes": disk, "startup_ms": startup_ms,
    }))
}

fn p3_bodies(args: &Args) -> Vec<Vec<Bytes>> {
    let total_batches = (args.p3_points / (P3_ROWS * P3_KEYS as u64)) as usize;
    let clients = args.p3_clients.max(1);
    (0..clients)
        .map(|c| {
            let n = total_batches / clients + usize::from(c < total_batches % clients);
            (0..n)
                .map(|b| {
                    let first = b as u64 * P3_ROWS;
                    history_body(b as u64 + 1, first, P3_ROWS, P3_KEYS, |step, k| {
                        2.0 * (-(step as f64) / 50_000.0).exp()
                            + 0.1 * k as f64
                            + 0.05 * noise(c as u64, step, k as u64)
                    })
                })
                .collect()
        })
        .collect()
}

async fn p3(args: &Args) -> Result<Value> {
    let t = Instant::now();
    let bodies = Arc::new(p3_bodies(args));
    let body_bytes: usize = bodies.iter().flatten().map(Bytes::len).sum();
    let batches: usize = bodies.iter().map(Vec::len).sum();
    eprintln!("P3: {batches} request bodies prepared ({body_bytes} bytes) in {:.1} s", t.elapsed().as_secs_f64());
    let mut modes = serde_json::Map::new();
    for durability in &args.p3_durability {
        let mut reps = Vec::new();
        for rep in 1..=args.p3_repeats {
            reps.push(p3_once(args, durability, rep, &bodies).await?);
        }
        let field = |name: &str| reps.iter().map(|r| r[name].as_f64().unwrap_or(f64::NAN)).collect::<Vec<_>>();
        let max_of = |name: &str| reps.iter().filter_map(|r| r[name].as_u64()).max();
        modes.insert(
            durability.clone(),
            json!({
                "median_points_per_s": median(&field("points_per_s")),
                "median_idle_rss_kb": median(&field("idle_rss_kb")),
                "max_peak_rss_kb_sampled": max_of("peak_rss_kb_sampled"),
                "max_hwm_kb": max_of("hwm_kb_after"),
                "all_complete": reps.iter().all(|r| r["complete"].as_bool() == Some(true)),
                "reps": reps,
            }),
        );
    }
    Ok(json!({
        "clients": args.p3_clients, "rows_per_batch": P3_ROWS, "keys_per_row": P3_KEYS,
        "points_per_rep_target": args.p3_points, "batches_per_rep": batches, "request_bytes_per_rep": body_bytes,
        "max_secs_per_rep": args.p3_max_secs,
        "modes": modes,
    }))
}

// ---------------------------------------------------------------------------------------------
// P4 (+ P6 idle on the P4 store)

fn p4_run_id(r: usize) -> String {
    format!("c{r:03}")
}

async fn p4_load(args: &Args, server: &Server, spike: (usize, u64)) -> Result<Value> {
    let setup = client()?;
    for r in 0..args.p4_runs {
        create_run(&setup, &server.base, PROJECT, &p4_run_id(r), json!({"index": r})).await?;
    }
    let batches_per_run = args.p4_steps.div_ceil(args.p4_batch_rows);
    let total_runs = args.p4_runs;
    // Work is handed out run by run: one connection sends all of a run's batches in step order
    // (a point whose step is not after its key's last stored step would be dropped).
    let next = Arc::new(AtomicUsize::new(0));
    let points = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(900);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (next, points, base) = (next.clone(), points.clone(), server.base.clone());
        let (steps, rows) = (args.p4_steps, args.p4_batch_rows);
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().timeout(Duration::from_secs(300)).build()?;
            loop {
                let r = next.fetch_add(1, Ordering::Relaxed);
                if r >= total_runs {
                    break;
                }
                let url = format!("{base}/api/v1/projects/admin/{PROJECT}/runs/{}/history", p4_run_id(r));
                for b in 0..batches_per_run {
                    if Instant::now() > deadline {
                        bail!("P4 load did not finish within 900 s");
                    }
                    let first = b * rows;
                    let n = rows.min(steps - first);
                    let body = tokio::task::spawn_blocking(move || {
                        history_body(b + 1, first, n, 1, |step, _| {
                            if (r, step) == spike {
                                SPIKE
                            } else {
                                1.0 / (1.0 + step as f64 / 5_000.0) + 0.02 * noise(r as u64, step, 0) + 0.001 * r as f64
                            }
                        })
                    })
                    .await?;
                    let ack = post_history(&http, &url, body).await?;
                    if ack["duplicate"].as_bool() != Some(false) || ack["dropped_points"].as_u64() != Some(0) {
                        bail!("unexpected ack {ack}");
                    }
                    points.fetch_add(ack["points"].as_u64().unwrap_or(0), Ordering::Relaxed);
                }
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    let points = points.load(Ordering::Relaxed);
    eprintln!("P4 load: {points} points in {secs:.1} s ({:.0} points/s)", points as f64 / secs);
    Ok(
        json!({"points": points, "secs": secs, "points_per_s": points as f64 / secs, "batch_rows": args.p4_batch_rows, "clients": 4}),
    )
}

/// Largest max_y of one series in a chart answer (numbers only; "NaN"/null ignored).
fn series_max(series: &Value) -> Option<f64> {
    series["max_y"].as_array()?.iter().filter_map(Value::as_f64).reduce(f64::max)
}

async fn p4(args: &Args) -> Result<Value> {
    let data = fresh_dir(args, "p4")?;
    let spike = (args.p4_runs * 37 / 100, args.p4_steps * 54_321 / 100_000);
    let server = Server::start(args, &data, "full", "p4-load").await?;
    let load = p4_load(args, &server, spike).await?;
    server.stop().await?;
    let disk = dir_bytes(&data);

    // Restart on the loaded store: idle memory, then the reads.
    let server = Server::start(args, &data, "full", "p4-read").await?;
    tokio::time::sleep(Duration::from_secs_f64(args.settle_secs)).await;
    let idle = server.mem()?;
    let url = format!("{}/api/v1/projects/admin/{PROJECT}/chart", server.base);
    let runs: Vec<String> = (0..args.p4_runs).map(p4_run_id).collect();
    let query = json!({"runs": runs, "keys": ["k0"], "buckets": args.p4_buckets});
    let http = client()?;
    let mut cold_ms = None;
    let mut sizes = Vec::new();
    let mut check = Value::Null;
    for i in 0..args.p4_warmup {
        let t = Instant::now();
        let body = post_json(&http, &url, &query, "chart").await?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        if i == 0 {
            cold_ms = Some(ms);
            check = p4_check(&body, args, spike)?;
        }
        sizes.push(body.len());
    }
    let mut latencies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    for _ in 0..args.p4_reads {
        if Instant::now() > deadline {
            break;
        }
        let t = Instant::now();
        let body = post_json(&http, &url, &query, "chart").await?;
        latencies.push(t.elapsed().as_secs_f64() * 1e3);
        sizes.push(body.len());
    }
    let after = server.mem()?;
    let p8 = match &args.p8_script {
        Some(script) => {
            let mark = CpuMark::now();
            let mut value = p8(args, script, &server).await.unwrap_or_else(|e| {
                eprintln!("P8 failed: {e:#}");
                json!({"error": format!("{e:#}")})
            });
            // The browser's processes are not all children this process waits for: what P8
            // used is told apart, so it is not taken for contention during P4.
            value["cpu"] = mark.since();
            value
        }
        None => Value::Null,
    };
    server.stop().await?;
    remove_dir(args, &data);
    sizes.sort_unstable();
    sizes.dedup();
    let summary = latency_summary(latencies);
    eprintln!("P4 chart: {summary}; response {sizes:?} bytes; {check}");
    Ok(json!({
        "runs": args.p4_runs, "steps": args.p4_steps, "keys": 1, "buckets": args.p4_buckets,
        "load": load, "disk_bytes": disk,
        "first_read_after_restart_ms": cold_ms, "warmup": args.p4_warmup,
        "timed": summary, "response_bytes": sizes,
        "spike": check,
        "idle_rss_kb": idle.rss_kb, "idle_hwm_kb": idle.hwm_kb,
        "rss_kb_after_reads": after.rss_kb, "hwm_kb_after_reads": after.hwm_kb,
        "p8": p8,
    }))
}

/// P8: the dashboard's first chart over the P4 store, measured in headless Chromium by the
/// Node script (see bench/p8_dashboard.mjs).
async fn p8(args: &Args, script: &Path, server: &Server) -> Result<Value> {
    let out = args.work.join("p8.json");
    let _ = std::fs::remove_file(&out);
    eprintln!("P8: {} repetitions in headless Chromium", args.p8_repeats);
    let status = Command::new("node")
        .arg(script)
        .args(["--url", &server.base, "--key", API_KEY, "--project", PROJECT])
        .args(["--runs", &args.p4_runs.to_string(), "--spike", &SPIKE.to_string()])
        .args(["--repeats", &args.p8_repeats.to_string()])
        .arg("--out")
        .arg(&out)
        .arg("--screenshot")
        .arg(&args.p8_screenshot)
        .stdin(Stdio::null())
        .status()
        .await
        .context("cannot run node (P8 needs Node.js and `make web`)")?;
    if !status.success() {
        bail!("{} exited with {status}", script.display());
    }
    let text = std::fs::read_to_string(&out).with_context(|| format!("cannot read {}", out.display()))?;
    Ok(serde_json::from_str(&text)?)
}

fn p4_check(body: &[u8], args: &Args, spike: (usize, u64)) -> Result<Value> {
    let answer: Value = serde_json::from_slice(body).context("chart answer is not JSON")?;
    let series = answer["series"].as_array().context("chart answer has no series")?;
    let spike_run = p4_run_id(spike.0);
    let mut found = false;
    let mut elsewhere = Vec::new();
    let mut buckets_per_series = Vec::new();
    for s in series {
        let run = s["run"].as_str().unwrap_or_default();
        let max = series_max(s);
        buckets_per_series.push(s["bucket"].as_array().map_or(0, Vec::len));
        if run == spike_run {
            found = max == Some(SPIKE);
        } else if max == Some(SPIKE) {
            elsewhere.push(run.to_string());
        }
    }
    let ok = found && elsewhere.is_empty() && series.len() == args.p4_runs;
    let min_b = buckets_per_series.iter().min().copied().unwrap_or(0);
    let max_b = buckets_per_series.iter().max().copied().unwrap_or(0);
    Ok(json!({
        "ok": ok, "run": spike_run, "step": spike.1, "value": SPIKE, "found_in_max_y": found,
        "also_in": elsewhere, "series": series.len(), "buckets_per_series_min": min_b, "buckets_per_series_max": max_b,
        "x_min": answer["x_min"], "x_max": answer["x_max"],
    }))
}

// ---------------------------------------------------------------------------------------------
// P7

struct P7Run {
    lr: f64,
    batch_size: u64,
    optimizer: &'static str,
    val_loss: f64,
    acc: f64,
}

fn p7_run(i: usize) -> P7Run {
    let i = i as u64;
    // lr log-uniform in [1e-5, 1e-1]; val_loss uniform in [0.1, 2.1).
    let lr = 10f64.powf(-5.0 + 4.0 * noise(7, i, 1));
    let val_loss = 0.1 + 2.0 * noise(7, i, 2);
    P7Run {
        lr,
        batch_size: [16, 32, 64, 128, 256][(noise(7, i, 3) * 5.0) as usize % 5],
        optimizer: ["adam", "sgd", "adamw"][(noise(7, i, 4) * 3.0) as usize % 3],
        val_loss,
        acc: (1.0 - val_loss / 2.5).clamp(0.0, 1.0),
    }
}

async fn p7(args: &Args) -> Result<Value> {
    let data = fresh_dir(args, "p7")?;
    let server = Server::start(args, &data, "full", "p7").await?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(900);
    let http = client()?;
    let mut tasks = Vec::new();
    for _ in 0..args.p7_concurrency.max(1) {
        let (next, http, base, n) = (next.clone(), http.clone(), server.base.clone(), args.p7_runs);
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                if Instant::now() > deadline {
                    bail!("P7 set-up did not finish within 900 s");
                }
                let run = p7_run(i);
                let id = format!("r{i:05}");
                let config = json!({"lr": run.lr, "batch_size": run.batch_size, "optimizer": run.optimizer});
                create_run(&http, &base, P7_PROJECT, &id, config).await?;
                let url = format!("{base}/api/v1/projects/admin/{P7_PROJECT}/runs/{id}/summary");
                let response = http
                    .patch(&url)
                    .bearer_auth(API_KEY)
                    .json(&json!({"val_loss": run.val_loss, "acc": run.acc}))
                    .send()
                    .await
                    .context("PATCH summary")?;
                check(response, "PATCH summary").await?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let setup_secs = started.elapsed().as_secs_f64();
    eprintln!("P7 set-up: {} runs created and summarised in {setup_secs:.1} s", args.p7_runs);

    let mut expected: Vec<(f64, usize)> = (0..args.p7_runs)
        .map(|i| (i, p7_run(i)))
        .filter(|(_, r)| r.lr > 0.001 && r.val_loss < 0.5)
        .map(|(i, r)| (r.val_loss, i))
        .collect();
    expected.sort_by(|a, b| b.0.total_cmp(&a.0));
    let filter = "config.lr > 0.001 and summary.val_loss < 0.5";
    let sort = "summary.val_loss desc";
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    let url = format!(
        "{}/api/v1/projects/admin/{P7_PROJECT}/runs?filter={}&sort={}&limit=100",
        server.base,
        enc(filter),
        enc(sort)
    );
    let mut latencies = Vec::new();
    let mut first = None;
    let mut size = 0;
    let deadline = Instant::now() + Duration::from_secs(300);
    for i in 0..(args.p7_reads + 5) {
        if Instant::now() > deadline {
            break;
        }
        let t = Instant::now();
        let response = http.get(&url).bearer_auth(API_KEY).send().await.context("GET runs")?;
        let body = check(response, "GET runs").await?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        if i == 0 {
            first = Some(serde_json::from_slice::<Value>(&body)?);
        }
        size = body.len();
        if i >= 5 {
            latencies.push(ms);
        }
    }
    let page = first.context("no answer")?;
    let total = page["total"].as_u64();
    let ids: Vec<&str> =
        page["runs"].as_array().map(|a| a.iter().filter_map(|r| r["id"].as_str()).collect()).unwrap_or_default();
    let want: Vec<String> = expected.iter().take(100).map(|(_, i)| format!("r{i:05}")).collect();
    let order_ok = ids.len() == want.len() && ids.iter().zip(&want).all(|(a, b)| a == b);
    let after = server.mem()?;
    server.stop().await?;
    remove_dir(args, &data);
    let summary = latency_summary(latencies);
    eprintln!(
        "P7 list: {summary}; matched {total:?} (expected {}); first page in the expected order: {order_ok}",
        expected.len()
    );
    Ok(json!({
        "runs": args.p7_runs, "setup_secs": setup_secs, "setup_concurrency": args.p7_concurrency,
        "filter": filter, "sort": sort, "limit": 100, "warmup": 5,
        "timed": summary, "matched": total, "expected_matches": expected.len(), "page_runs": ids.len(),
        "page_order_ok": order_ok, "response_bytes": size,
        "rss_kb_after": after.rss_kb, "hwm_kb_after": after.hwm_kb,
    }))
}

// ---------------------------------------------------------------------------------------------
// CPU time of everything else on the machine, to tell a quiet run from a contended one

/// Busy CPU time of the whole machine, in clock ticks (USER_HZ, 100 on Linux): the `cpu` line
/// of /proc/stat without idle and iowait.
fn machine_busy_ticks() -> u64 {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = text.lines().find(|l| l.starts_with("cpu ")) else { return 0 };
    let fields: Vec<u64> = line.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    fields.iter().take(8).enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, v)| v).sum()
}

/// CPU time of this process and of its children that have been waited for (the servers), in ticks.
fn own_ticks() -> u64 {
    let text = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest: Vec<u64> = text
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().map(|f| f.parse().unwrap_or(0)).collect())
        .unwrap_or_default();
    // after the command name: state(0) ... utime(11) stime(12) cutime(13) cstime(14)
    rest.get(11..15).map_or(0, |v| v.iter().sum())
}

struct CpuMark {
    busy: u64,
    own: u64,
    at: Instant,
}

impl CpuMark {
    fn now() -> CpuMark {
        CpuMark { busy: machine_busy_ticks(), own: own_ticks(), at: Instant::now() }
    }

    fn since(&self) -> Value {
        let (busy, own) = (machine_busy_ticks().saturating_sub(self.busy), own_ticks().saturating_sub(self.own));
        let wall = self.at.elapsed().as_secs_f64();
        let others = busy.saturating_sub(own) as f64 / 100.0;
        json!({
            "wall_s": wall, "machine_busy_cpu_s": busy as f64 / 100.0, "bench_and_servers_cpu_s": own as f64 / 100.0,
            "other_processes_cpu_s": others, "other_processes_cpus": others / wall.max(1e-9),
        })
    }
}

// ---------------------------------------------------------------------------------------------

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if !args.heron.is_file() {
        bail!("no server binary at {} (build it with `cargo build --release -p heron-cli`)", args.heron.display());
    }
    std::fs::create_dir_all(&args.work)?;
    let started = Instant::now();
    // SIGTERM, Ctrl-C or the overall time limit end the benchmark in progress; dropping it
    // drops its `Server`, whose child process is then killed (kill_on_drop).
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(None::<&'static str>);
    let limit = Duration::from_secs_f64(args.max_secs);
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::spawn(async move {
        let why = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = tokio::signal::ctrl_c() => "interrupt",
            _ = tokio::time::sleep(limit) => "the --max-secs time limit",
        };
        let _ = stop_tx.send(Some(why));
    });
    let mut out = serde_json::Map::new();
    out.insert("heron".into(), json!(args.heron.display().to_string()));
    out.insert("settle_secs".into(), json!(args.settle_secs));
    for which in &args.only {
        let t = Instant::now();
        let cpu = CpuMark::now();
        let work = async {
            match which.as_str() {
                "p3" => p3(&args).await,
                "p4" => p4(&args).await,
                "p7" => p7(&args).await,
                other => bail!("unknown benchmark {other} (p3, p4, p7)"),
            }
        };
        let mut stop = stop_rx.clone();
        let result = tokio::select! {
            result = work => result,
            why = stop.wait_for(Option::is_some) => {
                Err(anyhow::anyhow!("stopped by {}", why.ok().and_then(|w| *w).unwrap_or("a signal")))
            }
        };
        let stopped = stop_rx.borrow().is_some();
        let mut value = result.unwrap_or_else(|e| {
            eprintln!("{which} failed: {e:#}");
            json!({"error": format!("{e:#}")})
        });
        value["wall_secs"] = json!(t.elapsed().as_secs_f64());
        value["cpu"] = cpu.since();
        if let Some(p8) = value.get("p8").and_then(|p8| p8.get("cpu")).cloned() {
            // P4's window holds P8's browser run: leave it out of P4's contention figure.
            let others = value["cpu"]["other_processes_cpu_s"].as_f64().unwrap_or(0.0)
                - p8["other_processes_cpu_s"].as_f64().unwrap_or(0.0);
            let wall = value["cpu"]["wall_s"].as_f64().unwrap_or(0.0) - p8["wall_s"].as_f64().unwrap_or(0.0);
            value["cpu"]["other_processes_cpu_s"] = json!(others.max(0.0));
            value["cpu"]["other_processes_cpus"] = json!(others.max(0.0) / wall.max(1e-9));
            value["cpu"]["wall_s"] = json!(wall);
            value["cpu"]["excludes_p8"] = json!(true);
        }
        eprintln!(
            "{which}: other processes used {:.1} CPU-s during it",
            value["cpu"]["other_processes_cpu_s"].as_f64().unwrap_or(0.0)
        );
        out.insert(which.clone(), value);
        if stopped {
            break;
        }
    }
    out.insert("wall_secs".into(), json!(started.elapsed().as_secs_f64()));
    let text = serde_json::to_string_pretty(&Value::Object(out))?;
    if let Some(path) = &args.out {
        std::fs::write(path, &text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("{text}");
    Ok(())
}

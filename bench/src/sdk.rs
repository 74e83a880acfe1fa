//! `heron-sdk-bench`: P2 of DESIGN §5, the Rust SDK's `Run::log` per call. Logs `--rows` rows of
//! `--keys` floats (`m0`..`m9`, the peers' workload) into an offline run under `--dir` (no server),
//! one `log` call per row, and reports the loop time / rows per repetition (median over
//! `--repeats`, each a fresh run folder), the spread over blocks of 1000 calls, and how long
//! `finish()` takes. Prints a JSON summary (also written to `--out`).
#![forbid(unsafe_code)]

mod du;

use du::dir_bytes;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use heron_client::{Mode, Run, RunOptions, Settings};
use serde_json::{Value, json};

/// Calls per timed block (one `Instant::now()` per block keeps the clock out of the figure).
const BLOCK: usize = 1000;

#[derive(Parser, Debug)]
#[command(name = "heron-sdk-bench", about = "Heron Rust SDK benchmark P2 (DESIGN §5): Run::log per call, offline")]
struct Args {
    /// Rows per repetition, one `log` call each.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Float keys per row.
    #[arg(long, default_value_t = 10)]
    keys: usize,
    /// Repetitions (a fresh offline run each); medians are reported.
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Scratch folder for the run folders (HERON_DIR of the runs).
    #[arg(long, default_value = "bench/work/sdk-rust")]
    dir: PathBuf,
    /// Also write the JSON summary here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep the run folders instead of deleting them.
    #[arg(long)]
    keep: bool,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    percentile(&sorted, 50.0)
}

fn one_repetition(args: &Args, rep: usize, names: &[String]) -> Result<Value> {
    let dir = args.dir.join(format!("rep-{rep}"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    let warnings = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = warnings.clone();
    let mut settings = Settings::from_env().context("heron settings from the environment")?;
    settings.mode = Mode::Offline;
    settings.dir = dir.clone();
    // System metrics off, as for every peer; everything else is the SDK's default.
    settings.system_interval = None;
    settings.warn =
        Arc::new(move |message: &str| sink.lock().unwrap_or_else(|e| e.into_inner()).push(message.to_string()));

    let started = Instant::now();
    let run = Run::init(RunOptions {
        project: Some("bench".into()),
        name: Some("run0".into()),
        settings: Some(settings),
        ..Default::default()
    })
    .context("Run::init (offline)")?;
    let init_s = started.elapsed().as_secs_f64();

    let mut block_ns = Vec::with_capacity(args.rows / BLOCK + 1);
    let loop_start = Instant::now();
    let mut block_start = loop_start;
    for i in 0..args.rows {
        let x = i as f64 * 1e-3;
        run.log(names.iter().enumerate().map(|(j, name)| (name.as_str(), x + j as f64)));
        if (i + 1) % BLOCK == 0 {
            let now = Instant::now();
            block_ns.push((now - block_start).as_nanos() as f64 / BLOCK as f64);
            block_start = now;
        }
    }
    let loop_s = loop_start.elapsed().as_secs_f64();
    let finish_start = Instant::now();
    let report = run.finish(0);
    let finish_s = finish_start.elapsed().as_secs_f64();
    drop(run);
    let disk = dir_bytes(&dir);
    if !args.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    block_ns.sort_by(f64::total_cmp);
    let warnings = warnings.lock().unwrap_or_else(|e| e.into_inner()).clone();
    // The offline run's finish says where it is saved; anything else is worth showing.
    let unexpected: Vec<&String> = warnings.iter().filter(|w| !w.contains("saved offline")).collect();
    let result = json!({
        "rep": rep,
        "init_s": init_s,
        "loop_s": loop_s,
        "ns_per_call": loop_s * 1e9 / args.rows as f64,
        "block_p50_ns": percentile(&block_ns, 50.0),
        "block_p99_ns": percentile(&block_ns, 99.0),
        "block_max_ns": block_ns.last().copied().unwrap_or(f64::NAN),
        "finish_s": finish_s,
        "pending_bytes": report.pending_bytes,
        "disk_bytes": disk,
        "warnings": unexpected,
    });
    eprintln!(
        "P2 rep {rep}: {:.0} ns/call ({} rows x {} keys in {loop_s:.3} s; blocks of {BLOCK}: p50 {:.0} ns, p99 {:.0} ns), finish {:.3} s, {:.1} MB on disk",
        loop_s * 1e9 / args.rows as f64,
        args.rows,
        args.keys,
        percentile(&block_ns, 50.0),
        percentile(&block_ns, 99.0),
        finish_s,
        disk as f64 / 1e6
    );
    Ok(result)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let names: Vec<String> = (0..args.keys).map(|j| format!("m{j}")).collect();
    let mut reps = Vec::new();
    for rep in 1..=args.repeats.max(1) {
        reps.push(one_repetition(&args, rep, &names)?);
    }
    let field = |name: &str| -> Vec<f64> { reps.iter().filter_map(|r| r[name].as_f64()).collect() };
    let summary = json!({
        "p2": {
            "rows": args.rows,
            "keys": args.keys,
            "repeats": reps.len(),
            "mode": "offline",
            "median_ns_per_call": median(&field("ns_per_call")),
            "min_ns_per_call": field("ns_per_call").into_iter().fold(f64::INFINITY, f64::min),
            "median_block_p50_ns": median(&field("block_p50_ns")),
            "median_block_p99_ns": median(&field("block_p99_ns")),
            "median_finish_s": median(&field("finish_s")),
            "median_init_s": median(&field("init_s")),
            "reps": reps,
        }
    });
    let text = serde_json::to_string_pretty(&summary)?;
    println!("{text}");
    if let Some(out) = &args.out {
        std::fs::write(out, &text).with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(())
}

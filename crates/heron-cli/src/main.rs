//! The `heron` command: runs the server and talks to it.
#![forbid(unsafe_code)]

mod artifact;
mod demo;
mod settings;

use std::io::{BufRead, Write};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use heron_client::credentials;
use heron_server::{AppState, bootstrap, serve};
use tokio::net::TcpListener;

use crate::settings::ServerArgs;

#[derive(Parser)]
#[command(name = "heron", version, about = "Heron: self-hosted experiment tracking", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API on an embedded store (SQLite + a blob folder).
    ///
    /// On first start with an empty store it creates the `admin` account and its API key
    /// (from HERON_BOOTSTRAP_API_KEY, else generated, printed once and saved to the local
    /// credentials file), and prints a one-time browser login link.
    Server(ServerArgs),
    /// Save an API key for a server in the local credentials file, after checking it works.
    Login {
        /// Server URL.
        #[arg(long, env = "HERON_BASE_URL", default_value = "http://127.0.0.1:8745")]
        host: String,
        /// API key; read from standard input when absent.
        #[arg(long, env = "HERON_API_KEY", hide_env_values = true)]
        key: Option<String>,
    },
    /// Upload runs logged offline, or left behind by a crash or a `finish()` timeout.
    ///
    /// Each run folder (under HERON_DIR, default ./heron) holds the run's local log; sync sends
    /// what the server does not have yet and remembers how far it got, so it is safe to run
    /// twice, to interrupt, and to run on an offline run that is still being written. A run
    /// still logging online uploads itself and is left alone. Artifacts an offline run logged
    /// are logged once the run is up. With no folders given, every run under HERON_DIR that is
    /// not fully uploaded (or still holds such artifacts) is synced.
    Sync(SyncArgs),
    /// Log a small real training (logistic regression, several learning rates) into the
    /// project `demo`, with system metrics and console output, so the dashboard has something
    /// to show.
    Demo(demo::DemoArgs),
    /// Version datasets, models and other files: put, get, ls, rm, and the local cache.
    ///
    /// Project from --project or HERON_PROJECT; entity from --entity, HERON_ENTITY, else the
    /// API key's user.
    #[command(subcommand)]
    Artifact(artifact::ArtifactCommand),
    /// The model registry: registered models whose versions link artifact versions, with
    /// aliases (`production`, `staging`) and an audit trail.
    #[command(subcommand)]
    Model(artifact::ModelCommand),
}

#[derive(clap::Args)]
struct SyncArgs {
    /// Run folders (default: all under HERON_DIR that are not fully uploaded)
    dirs: Vec<std::path::PathBuf>,
    /// Server URL
    #[arg(long, env = "HERON_BASE_URL", default_value = heron_client::settings::DEFAULT_BASE_URL)]
    host: String,
    /// API key [default: HERON_API_KEY, else the credentials file]
    #[arg(long)]
    key: Option<String>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HERON_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match cli.command {
        Command::Server(args) => run_server(args),
        Command::Login { host, key } => login(&host, key),
        Command::Sync(args) => sync(args),
        Command::Demo(args) => demo::run(args),
        Command::Artifact(command) => artifact::run(command),
        Command::Model(command) => artifact::model(command),
    }
}

fn run_server(args: ServerArgs) -> Result<()> {
    let settings = args.resolve()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let shutdown = shutdown_signal()?;
        let listener = TcpListener::bind((settings.host.as_str(), settings.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", settings.host, settings.port))?;
        let address = listener.local_addr()?;
        let shown_host = if address.ip().is_unspecified() { "127.0.0.1".to_string() } else { address.ip().to_string() };
        let base_url = format!("http://{shown_host}:{}", address.port());
        let state = AppState::open(settings.server.clone()).map_err(|e| anyhow::anyhow!(e.message))?;
        let bootstrap_key = std::env::var("HERON_BOOTSTRAP_API_KEY").ok();
        let from_env = bootstrap_key.as_deref().is_some_and(|k| !k.trim().is_empty());
        let created = bootstrap(&state, bootstrap_key).await.map_err(|e| anyhow::anyhow!(e.message))?;
        if let Some(created) = &created {
            println!("Heron: first start on an empty store, created the user \"{}\".", created.admin);
            if from_env {
                println!("  API key: taken from HERON_BOOTSTRAP_API_KEY");
            } else {
                println!("  API key (shown once): {}", created.api_key);
                match credentials::save(&base_url, &created.api_key) {
                    Ok(path) => println!("  saved to {} for SDKs and the CLI on this machine", path.display()),
                    Err(error) => println!("  could not save it to the credentials file: {error:#}"),
                }
            }
            println!("  Sign in from a browser (one time, valid 24 h): {base_url}/login?token={}", created.login_token);
        }
        if let Some(dir) = &settings.server.web_dir {
            println!("  Dashboard: {base_url}/ (served from {})", dir.display());
        } else if heron_server::dashboard_embedded() {
            println!("  Dashboard: {base_url}/ (sign in with the one-time link, an API key or a password)");
        } else {
            println!(
                "  The dashboard is not built into this binary: `make build` builds it (the API works without it)"
            );
        }
        println!("heron server listening on {base_url} (data: {})", settings.server.data_dir.display());
        std::io::stdout().flush().ok();
        if let (true, Some(created)) = (settings.demo, created) {
            seed_demo(base_url.clone(), created.api_key.clone());
        }
        tracing::info!(address = %address, "serving");
        serve(state, listener, shutdown).await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Logs the demo project in the background while the server starts serving (`--demo`).
fn seed_demo(base_url: String, api_key: String) {
    std::thread::spawn(move || {
        let settings = match heron_client::Settings::from_env() {
            Ok(s) => heron_client::Settings {
                api_key: Some(api_key),
                mode: heron_client::Mode::Online,
                ..s.with_base_url(&base_url)
            },
            Err(error) => return eprintln!("heron: demo not logged: {error}"),
        };
        let dir = std::env::temp_dir().join(format!("heron-demo-{}", std::process::id()));
        let settings = heron_client::Settings { dir: dir.clone(), ..settings };
        match demo::log_demo(settings, 30, |_| {}) {
            Ok(runs) => println!("  Logged {runs} demo runs into the project \"demo\""),
            Err(error) => eprintln!("heron: demo not logged: {error:#}"),
        }
        let _ = std::fs::remove_dir_all(dir);
    });
}

/// Registers the SIGINT and SIGTERM handlers now, before the server says it is listening, so
/// that a signal sent right after that line stops it gracefully rather than killing it; the
/// returned future resolves when either signal arrives.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
            tracing::info!("shutting down: finishing requests in flight");
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing requests in flight");
    })
}

fn login(host: &str, key: Option<String>) -> Result<()> {
    let host = host.trim_end_matches('/');
    if !host.starts_with("http://") && !host.starts_with("https://") {
        bail!("the server URL must start with http:// or https:// (got {host})");
    }
    let key = match key {
        Some(key) => key,
        None => {
            eprint!("API key for {host}: ");
            std::io::stderr().flush().ok();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim().to_string()
        }
    };
    if key.is_empty() {
        bail!("no API key given");
    }
    let api = heron_client::Api::new(host, Some(&key), Duration::from_secs(10));
    let viewer: heron_types::Viewer = api.get("/api/v1/viewer").map_err(|error| match error.status {
        None => anyhow::anyhow!("cannot reach {host} ({error}); is `heron server` running there?"),
        Some(_) => anyhow::anyhow!("{host} refused the key: {error}"),
    })?;
    let path = credentials::save(host, &key)?;
    println!("Logged in to {host} as {}; key saved to {}", viewer.name, path.display());
    Ok(())
}

fn sync(args: SyncArgs) -> Result<()> {
    let mut settings = heron_client::Settings::from_env()?.with_base_url(&args.host);
    if let Some(key) = args.key {
        settings.api_key = Some(key);
    }
    let dirs = if args.dirs.is_empty() {
        let root = settings.dir.clone();
        let found: Vec<_> = heron_client::sync::pending_runs(&root);
        if found.is_empty() {
            println!("Nothing to sync under {}.", root.display());
            return Ok(());
        }
        found
    } else {
        args.dirs
    };
    let mut failed = 0;
    for dir in &dirs {
        println!("Syncing {} to {}", dir.display(), settings.base_url);
        let outcome = heron_client::sync::sync_dir(&settings, dir, |line| println!("{line}"));
        use heron_client::sync::SyncStatus;
        match outcome.status {
            SyncStatus::Complete => println!("  {}: done ({} rows sent by this sync)", outcome.run, outcome.rows),
            SyncStatus::UpToDate => println!(
                "  {}: everything logged so far is uploaded ({} rows sent); the run has not finished yet",
                outcome.run, outcome.rows
            ),
            SyncStatus::Live { pid } => {
                println!("  skipped: process {pid} is still logging this run online and uploads it itself")
            }
            SyncStatus::Failed(why) => {
                failed += 1;
                println!("  failed: {why}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} runs could not be synced; nothing was lost, run the same command again", dirs.len());
    }
    Ok(())
}

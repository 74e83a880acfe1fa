//! The `heron` command: runs the server and talks to it.
#![forbid(unsafe_code)]

mod credentials;
mod settings;

use std::io::{BufRead, Write};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
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
        if let Some(created) = bootstrap(&state, bootstrap_key).await.map_err(|e| anyhow::anyhow!(e.message))? {
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
        println!("heron server listening on {base_url} (data: {})", settings.server.data_dir.display());
        std::io::stdout().flush().ok();
        tracing::info!(address = %address, "serving");
        serve(state, listener, shutdown).await?;
        tracing::info!("stopped");
        Ok(())
    })
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
    if !host.starts_with("http://") {
        bail!("only http:// servers are supported by this build (got {host})");
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
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let response = client
        .get(format!("{host}/api/v1/viewer"))
        .bearer_auth(&key)
        .send()
        .with_context(|| format!("cannot reach {host}; is `heron server` running there?"))?;
    let status = response.status();
    let body: serde_json::Value = response.json().unwrap_or_default();
    if !status.is_success() {
        let message = body.pointer("/error/message").and_then(|m| m.as_str()).unwrap_or("no details");
        bail!("{host} refused the key ({status}): {message}");
    }
    let path = credentials::save(host, &key)?;
    let name = body.get("name").and_then(|n| n.as_str()).unwrap_or("?");
    println!("Logged in to {host} as {name}; key saved to {}", path.display());
    Ok(())
}

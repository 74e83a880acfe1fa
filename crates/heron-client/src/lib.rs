//! Heron's Rust SDK: a run handle whose `log` never waits on the network.
//!
//! ```no_run
//! use heron_client::{Run, RunOptions};
//! let run = Run::init(RunOptions { project: Some("demo".into()), ..Default::default() }).unwrap();
//! for step in 0..100 {
//!     run.log([("loss", 1.0 / (step + 1) as f64)]);
//! }
//! run.finish(0);
//! ```
//!
//! Every record goes to a local run log first (`HERON_DIR`, default `./heron`); an uploader
//! thread streams it to the server. Offline runs, and anything left when `finish` times out, are
//! uploaded later by `heron sync` ([`sync`]).
//!
//! Artifacts ([`artifacts`]) are versioned sets of files: [`Artifacts`] uploads only the blobs
//! the server lacks and downloads through a bounded local [`cache`]; it also speaks to the model
//! registry. `Run::log_artifact` and `Run::use_artifact` tie versions to runs for lineage.

#![forbid(unsafe_code)]

pub mod artifacts;
pub mod cache;
pub mod console;
pub mod credentials;
pub mod distributed;
pub mod http;
pub mod metadata;
pub mod run;
pub mod runlog;
pub mod settings;
pub mod sync;
pub mod system;
pub mod uploader;

pub use artifacts::{Artifact, ArtifactRef, Artifacts, DownloadReport, LogReport};
pub use cache::{Cache, cache_cleanup, parse_size};
pub use http::{Api, Error};
pub use run::{ConsoleStream, FinishReport, LogValue, MetricDef, RowSink, Run, RunInfo, RunOptions};
pub use settings::{Mode, Settings};

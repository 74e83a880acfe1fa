//! Heron's domain rules: run lifecycle and names, the history engine's chunking and M4
//! reduction, merge semantics, API keys, and the `Store` / `BlobStore` contracts that storage
//! backends implement. No HTTP and no concrete database here.
#![forbid(unsafe_code)]

pub mod artifacts;
pub mod chart;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod error;
pub mod history;
pub mod importance;
pub mod ingest;
pub mod keys;
pub mod merge;
pub mod names;
pub mod query;
pub mod store;
pub mod time;

pub use error::{Error, ErrorKind, Result};
pub use store::{ArtifactKey, BlobStore, ByteStream, LineageRoot, RunMetric, RunRef, Store, User};

//! `heron sync`: uploads offline or interrupted runs from their run logs. Incremental (it starts
//! where the last upload stopped), safe to repeat, and safe on a run that is still being written.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::http::{Api, Error};
use crate::settings::Settings;
use crate::uploader::{self, Holder, LOG_FILE, Progress, UploadState, Uploader};

#[derive(Debug, Clone, PartialEq)]
pub enum SyncStatus {
    /// Everything is on the server, including the run's end.
    Complete,
    /// Everything written so far is on the server; the run has not finished (it is still being
    /// written offline, or its process died before `finish`).
    UpToDate,
    /// Left alone: a live online run that uploads itself.
    Live {
        pid: u32,
    },
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct SyncOutcome {
    pub dir: PathBuf,
    pub run: String,
    pub status: SyncStatus,
    /// Rows sent by this sync.
    pub rows: u64,
}

/// Run folders under `root` (those holding a run log) that are not fully uploaded, or that keep
/// artifacts not logged yet, oldest first.
pub fn pending_runs(root: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.join(LOG_FILE).is_file()
                && (!UploadState::load(p).is_some_and(|s| s.finished) || crate::artifacts::has_staged(p))
        })
        .collect();
    found.sort();
    found
}

/// Uploads one run folder. `report` gets progress lines.
pub fn sync_dir(settings: &Settings, dir: &Path, mut report: impl FnMut(&str)) -> SyncOutcome {
    let mut outcome = SyncOutcome { dir: dir.to_path_buf(), run: String::new(), status: SyncStatus::UpToDate, rows: 0 };
    if let Holder::Process { pid, online: true } = uploader::holder(dir) {
        outcome.status = SyncStatus::Live { pid };
        return outcome;
    }
    let api = Api::new(&settings.base_url, settings.api_key.as_deref(), Duration::from_secs(60));
    let progress = Arc::new(Progress::new(0));
    let mut uploader = match Uploader::open(api, dir, progress, settings.warn.clone()) {
        Ok(u) => u,
        Err(error) => {
            outcome.status = SyncStatus::Failed(error.to_string());
            return outcome;
        }
    };
    outcome.run = format!("{}/{}", uploader.init_record().project, uploader.init_record().id);
    let before = uploader.state().rows_sent;
    let result = uploader.sync(4, |state| {
        report(&format!("  {}: {} rows, {} points uploaded", outcome.run, state.rows_sent, state.points_sent))
    });
    outcome.rows = uploader.state().rows_sent - before;
    outcome.status = match result {
        Ok(true) => SyncStatus::Complete,
        Ok(false) => SyncStatus::UpToDate,
        Err(error) => SyncStatus::Failed(explain(error, settings)),
    };
    if matches!(outcome.status, SyncStatus::Complete | SyncStatus::UpToDate)
        && let Err(error) = sync_artifacts(settings, dir, &uploader, &mut report)
    {
        outcome.status = SyncStatus::Failed(explain(error, settings));
    }
    outcome
}

/// Logs the artifacts an offline run kept, once the run is on the server.
fn sync_artifacts(
    settings: &Settings,
    dir: &Path,
    uploader: &Uploader,
    report: &mut impl FnMut(&str),
) -> Result<(), Error> {
    if !dir.join(crate::artifacts::STAGED_DIR).is_dir() {
        return Ok(());
    }
    let init = uploader.init_record();
    let mut client = crate::artifacts::Artifacts::new(settings)?;
    client.progress = false;
    let entity = match &init.entity {
        Some(entity) => entity.clone(),
        None => client.entity()?,
    };
    for version in crate::artifacts::sync_staged(&client, dir, &entity, &init.project, &init.id)? {
        report(&format!(
            "  {}: logged artifact {}/{}/{}:{}",
            init.id, version.entity, version.project, version.name, version.version
        ));
    }
    Ok(())
}

fn explain(error: Error, settings: &Settings) -> String {
    match error.status {
        Some(401) => format!(
            "the server at {} did not accept the API key; set HERON_API_KEY or run `heron login --host {}`",
            settings.base_url, settings.base_url
        ),
        None if error.kind == "network" => {
            format!(
                "cannot reach the server at {} ({error}); nothing was lost, run `heron sync` again later",
                settings.base_url
            )
        }
        _ => error.to_string(),
    }
}

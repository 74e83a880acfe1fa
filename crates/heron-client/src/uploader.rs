//! Streams a run log to the server: the live uploader thread of an online run, and `heron sync`
//! for offline or interrupted runs. Both are the same code reading the same file.
//!
//! Nothing is sent twice and nothing is lost:
//! - progress (the log offset reached and the record counts) is saved in `upload.json` after
//!   every acknowledged batch;
//! - history and system batches carry `seq = epoch << 32 | ordinal of their last row`, so the
//!   server keeps a retried batch once, and on every start the uploader asks the server for the
//!   last stored `seq` and skips the rows of this log that it already holds;
//! - console lines are written at their absolute line index (overwriting is idempotent);
//! - config, summary and metadata are merge patches, which can be re-applied in order.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use heron_types::{RunUpserted, Scalar};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};

use crate::http::{Api, Error, enc};
use crate::runlog::{Cell, Event, InitRecord, LogReader, Record, Row};
use crate::settings::{Mode, WarningSink};

pub const LOG_FILE: &str = "run.log";
pub const STATE_FILE: &str = "upload.json";
pub const LOCK_FILE: &str = "run.lock";

const BATCH_ROWS: usize = 50_000;
const BATCH_POINTS: usize = 1_000_000;
const BATCH_BYTES: usize = 24 * 1024 * 1024;
const CONSOLE_LINES: usize = 10_000;
const HEARTBEAT_EVERY: Duration = Duration::from_secs(60);
const ORDINAL_MASK: u64 = (1 << 32) - 1;

/// Shared between the run (writer, `finish`) and its uploader thread.
pub struct Progress {
    state: Mutex<ProgressState>,
    changed: Condvar,
}

#[derive(Default)]
struct ProgressState {
    written: u64,
    closed: bool,
    uploaded: u64,
    done: bool,
    stop: bool,
    error: Option<String>,
}

impl Progress {
    pub fn new(written: u64) -> Progress {
        Progress {
            state: Mutex::new(ProgressState { written, uploaded: written, ..Default::default() }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ProgressState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The writer has put `bytes` of log on disk; `closed` once the finish record is among them.
    pub fn written(&self, bytes: u64, closed: bool) {
        let mut s = self.lock();
        s.written = bytes;
        s.closed |= closed;
        self.changed.notify_all();
    }

    fn uploaded(&self, offset: u64) {
        self.lock().uploaded = offset;
        self.changed.notify_all();
    }

    fn set_done(&self) {
        self.lock().done = true;
        self.changed.notify_all();
    }

    fn fail(&self, error: String) {
        self.lock().error = Some(error);
        self.changed.notify_all();
    }

    /// Asks the uploader to stop after its current request.
    pub fn stop(&self) {
        self.lock().stop = true;
        self.changed.notify_all();
    }

    fn stopped(&self) -> bool {
        self.lock().stop
    }

    pub fn error(&self) -> Option<String> {
        self.lock().error.clone()
    }

    /// Bytes written but not yet uploaded.
    pub fn pending(&self) -> u64 {
        let s = self.lock();
        if s.done { 0 } else { s.written.saturating_sub(s.uploaded) }
    }

    /// Waits until everything is uploaded (true), the uploader gave up, or the deadline.
    pub fn wait_done(&self, deadline: Instant) -> bool {
        let mut s = self.lock();
        while !s.done && s.error.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            s = self.changed.wait_timeout(s, left).unwrap_or_else(|e| e.into_inner()).0;
        }
        s.done
    }

    /// Waits (at most `timeout`) for more log than `offset`, the close, or a stop.
    fn wait_more(&self, offset: u64, timeout: Duration) {
        let s = self.lock();
        if s.written > offset || s.stop {
            return;
        }
        let _ = self.changed.wait_timeout(s, timeout);
    }

    fn sleep(&self, timeout: Duration) {
        let s = self.lock();
        if !s.stop {
            let _ = self.changed.wait_timeout(s, timeout);
        }
    }
}

/// Upload progress saved next to the log.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct UploadState {
    pub offset: u64,
    /// Records of each stream read so far (history rows, system rows, console lines).
    pub history: u64,
    pub system: u64,
    pub console: u64,
    pub entity: Option<String>,
    pub console_base: Option<u64>,
    pub finished: bool,
    /// Totals sent, for reports.
    pub rows_sent: u64,
    pub points_sent: u64,
}

impl UploadState {
    pub fn load(dir: &Path) -> Option<UploadState> {
        serde_json::from_slice(&std::fs::read(dir.join(STATE_FILE)).ok()?).ok()
    }

    fn save(&self, dir: &Path) -> Result<(), Error> {
        let path = dir.join(STATE_FILE);
        let temp = dir.join(format!("{STATE_FILE}.tmp"));
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::local(e.to_string()))?;
        std::fs::write(&temp, bytes)
            .and_then(|_| std::fs::rename(&temp, &path))
            .map_err(|e| Error::local(format!("cannot write {}: {e}", path.display())))
    }
}

/// Takes the run folder's lock for the life of the run: `heron sync` leaves a live online run to
/// its own uploader. The lock file says which process holds it and in which mode.
pub fn lock_run_dir(dir: &Path, mode: Mode) -> Result<File, Error> {
    use std::io::Write;
    let path = dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::local(format!("cannot create {}: {e}", path.display())))?;
    if rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
        return Err(Error::local(format!("{} is in use by another process", dir.display())));
    }
    let _ = file.set_len(0);
    let _ = write!(file, "{} {}", std::process::id(), mode.as_str());
    Ok(file)
}

/// Who holds a run folder.
#[derive(Debug, Clone, PartialEq)]
pub enum Holder {
    Nobody,
    /// A live process; `online` when it uploads the run itself.
    Process {
        pid: u32,
        online: bool,
    },
}

pub fn holder(dir: &Path) -> Holder {
    let path = dir.join(LOCK_FILE);
    let Ok(file) = File::open(&path) else { return Holder::Nobody };
    // The shared lock is released when `file` closes.
    if rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockShared).is_ok() {
        return Holder::Nobody;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut parts = text.split_whitespace();
    let pid = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Holder::Process { pid, online: parts.next() == Some("online") }
}

pub(crate) fn spawn(
    api: Api,
    dir: PathBuf,
    registered: Option<RunUpserted>,
    progress: Arc<Progress>,
    warn: WarningSink,
) -> Result<JoinHandle<()>, Error> {
    std::thread::Builder::new()
        .name("heron-uploader".into())
        .spawn(move || {
            let mut uploader = match Uploader::open(api, &dir, progress.clone(), warn.clone()) {
                Ok(u) => u,
                Err(error) => {
                    warn(&error.to_string());
                    progress.fail(error.to_string());
                    return;
                }
            };
            uploader.live(registered);
        })
        .map_err(|e| Error::local(e.to_string()))
}

/// One request of a batch; a batch's requests go in order and each is dropped once acknowledged.
enum Request {
    Rows { system: bool, seq: u64, rows: Vec<Row> },
    Console { stream: String, offset: u64, lines: Vec<String> },
    Event(Event),
}

struct Batch {
    requests: std::collections::VecDeque<Request>,
    /// The state once every request is acknowledged.
    after: UploadState,
    finish: bool,
}

pub struct Uploader {
    api: Api,
    dir: PathBuf,
    init: InitRecord,
    state: UploadState,
    progress: Arc<Progress>,
    warn: WarningSink,
    skip_history: u64,
    skip_system: u64,
    pending: Option<Batch>,
    /// The run was created or resumed on the server by this uploader (or by `init`).
    registered: bool,
    last_contact: Instant,
}

/// What one step of the upload did.
#[derive(Debug, PartialEq)]
enum Pump {
    /// Sent something (registered the run, or a batch); there may be more.
    Sent,
    /// Nothing new in the log for now.
    Idle,
    /// The run's finish record is on the server.
    Finished,
}

impl Uploader {
    pub fn open(api: Api, dir: &Path, progress: Arc<Progress>, warn: WarningSink) -> Result<Uploader, Error> {
        let log = dir.join(LOG_FILE);
        let mut reader =
            LogReader::open(&log).map_err(|e| Error::local(format!("cannot read {}: {e}", log.display())))?;
        let init = match reader.next_record() {
            Ok(Some(Record::Event(Event::Init(init)))) => init,
            _ => return Err(Error::local(format!("{} does not start with a run record", log.display()))),
        };
        let mut state = UploadState::load(dir).unwrap_or_default();
        state.offset = state.offset.max(reader.offset());
        Ok(Uploader {
            api,
            dir: dir.to_path_buf(),
            init,
            state,
            progress,
            warn,
            skip_history: 0,
            skip_system: 0,
            pending: None,
            registered: false,
            last_contact: Instant::now(),
        })
    }

    pub fn state(&self) -> &UploadState {
        &self.state
    }

    pub fn init_record(&self) -> &InitRecord {
        &self.init
    }

    /// `/api/v1/projects/{entity}/{project}/runs`
    fn project_path(&self) -> String {
        format!(
            "/api/v1/projects/{}/{}/runs",
            enc(self.state.entity.as_deref().unwrap_or_default()),
            enc(&self.init.project)
        )
    }

    fn run_path(&self) -> String {
        format!("{}/{}", self.project_path(), enc(&self.init.id))
    }

    /// Creates or resumes the run on the server and learns what it already holds.
    fn register(&mut self, answer: Option<RunUpserted>) -> Result<(), Error> {
        let answer = match answer {
            Some(a) => a,
            None => {
                let mut upsert: heron_types::RunUpsert =
                    serde_json::from_value(self.init.upsert.clone()).map_err(|e| Error::local(e.to_string()))?;
                upsert.resume = Some(heron_types::ResumeMode::Allow);
                let mut entity = self.state.entity.clone().or_else(|| self.init.entity.clone());
                let answer = crate::run::register(&self.api, &mut entity, &self.init.project, &upsert)?;
                self.state.entity = entity;
                answer
            }
        };
        self.state.entity = Some(answer.run.entity.clone());
        let same_epoch = |seq: Option<u64>| seq.filter(|s| s >> 32 == self.init.epoch).map_or(0, |s| s & ORDINAL_MASK);
        self.skip_history = same_epoch(answer.last_history_seq);
        self.skip_system = same_epoch(answer.last_system_seq);
        if self.state.console_base.is_none() {
            self.state.console_base = Some(self.init.console_base.unwrap_or(answer.console_lines));
        }
        self.state.save(&self.dir)?;
        self.registered = true;
        self.last_contact = Instant::now();
        Ok(())
    }

    /// The live uploader: follows the log until the finish record is uploaded or it is stopped.
    fn live(&mut self, registered: Option<RunUpserted>) {
        let mut answer = registered;
        let mut backoff = Duration::from_millis(250);
        let mut warned_offline = false;
        loop {
            if self.progress.stopped() {
                return;
            }
            // Not registered yet (the server was down at init): register before anything else.
            let step = if self.registered { self.pump() } else { self.register(answer.take()).map(|_| Pump::Sent) };
            match step {
                Ok(Pump::Finished) => {
                    self.progress.set_done();
                    return;
                }
                Ok(done) => {
                    backoff = Duration::from_millis(250);
                    if warned_offline {
                        warned_offline = false;
                        (self.warn)(&format!("the server at {} answers again; uploading", self.api.base_url()));
                    }
                    if done == Pump::Idle {
                        if self.last_contact.elapsed() >= HEARTBEAT_EVERY {
                            let _ = self.api.request("POST", &format!("{}/heartbeat", self.run_path()), Some(b"{}"));
                            self.last_contact = Instant::now();
                        }
                        self.progress.wait_more(self.state.offset, Duration::from_secs(1));
                    }
                }
                Err(error) if error.is_transient() => {
                    if !warned_offline && backoff >= Duration::from_secs(4) {
                        warned_offline = true;
                        (self.warn)(&format!(
                            "cannot upload ({error}); retrying, the data is safe in {}",
                            self.dir.display()
                        ));
                    }
                    self.progress.sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
                Err(error) => {
                    let message = format!("upload stopped: {error}");
                    (self.warn)(&message);
                    self.progress.fail(message);
                    return;
                }
            }
        }
    }

    /// `heron sync`: uploads what the log holds now. Returns true when the run's finish record
    /// was uploaded (the run is complete on the server).
    pub fn sync(&mut self, attempts: u32, mut report: impl FnMut(&UploadState)) -> Result<bool, Error> {
        if self.state.finished {
            return Ok(true);
        }
        let mut tries = 0;
        loop {
            let step = if self.registered { self.pump() } else { self.register(None).map(|_| Pump::Sent) };
            match step {
                Ok(Pump::Finished) => return Ok(true),
                Ok(Pump::Idle) => return Ok(false),
                Ok(Pump::Sent) => {
                    tries = 0;
                    if self.state.rows_sent > 0 {
                        report(&self.state);
                    }
                }
                Err(error) if error.is_transient() && tries + 1 < attempts => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(500 << tries.min(4)));
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Sends the pending batch, or reads and sends the next one.
    fn pump(&mut self) -> Result<Pump, Error> {
        if self.state.finished {
            return Ok(Pump::Finished);
        }
        if self.pending.is_none() {
            self.pending = self.read_batch()?;
        }
        let (project, path) = (self.project_path(), self.run_path());
        let Some(batch) = self.pending.as_mut() else { return Ok(Pump::Idle) };
        while let Some(request) = batch.requests.front() {
            // After a finish deadline, stop between requests: `heron sync` takes over from the
            // saved offset (what was sent of this batch is recognised and not stored twice).
            if self.progress.stopped() {
                return Ok(Pump::Idle);
            }
            match send(&self.api, &project, &path, &self.init.id, &self.dir, request) {
                Ok(()) => {}
                Err(error) if error.is_transient() => return Err(error),
                Err(error) if matches!(error.status, Some(401) | Some(403) | Some(404)) => return Err(error),
                Err(error) => {
                    (self.warn)(&format!("the server refused part of run {}: {error}; skipped", self.init.id))
                }
            }
            batch.requests.pop_front();
        }
        let batch = self.pending.take().expect("batch present");
        self.state = batch.after;
        self.state.finished = batch.finish;
        self.state.save(&self.dir)?;
        self.progress.uploaded(self.state.offset);
        self.last_contact = Instant::now();
        Ok(if batch.finish { Pump::Finished } else { Pump::Sent })
    }

    fn read_batch(&mut self) -> Result<Option<Batch>, Error> {
        let log = self.dir.join(LOG_FILE);
        let io = |e: std::io::Error| Error::local(format!("cannot read {}: {e}", log.display()));
        let mut reader = LogReader::open_at(&log, self.state.offset).map_err(io)?;
        let mut after = self.state.clone();
        let mut history: Vec<Row> = Vec::new();
        let mut system: Vec<Row> = Vec::new();
        let mut consoles: Vec<Request> = Vec::new();
        let mut events: Vec<Event> = Vec::new();
        let (mut points, mut bytes) = (0usize, 0usize);
        let mut finish = None;
        let base = after.console_base.unwrap_or(0);
        while history.len() < BATCH_ROWS && system.len() < BATCH_ROWS && points < BATCH_POINTS && bytes < BATCH_BYTES {
            let Some(record) = reader.next_record().map_err(io)? else { break };
            match record {
                Record::Row(row) => {
                    let (ordinal, skip, rows) = if row.system {
                        after.system += 1;
                        (after.system, self.skip_system, &mut system)
                    } else {
                        after.history += 1;
                        (after.history, self.skip_history, &mut history)
                    };
                    if ordinal > skip {
                        points += row.values.len();
                        bytes += row_bytes(&row);
                        rows.push(row);
                    }
                }
                Record::Event(Event::Console { stream, lines }) => {
                    let offset = base + after.console;
                    after.console += lines.len() as u64;
                    bytes += lines.iter().map(|l| l.len() + 8).sum::<usize>();
                    match consoles.last_mut() {
                        Some(Request::Console { stream: s, lines: l, .. })
                            if *s == stream && l.len() < CONSOLE_LINES =>
                        {
                            l.extend(lines)
                        }
                        _ => consoles.push(Request::Console { stream, offset, lines }),
                    }
                }
                Record::Event(Event::Init(_)) => {}
                Record::Event(Event::Finish { exit_code }) => {
                    finish = Some(exit_code);
                    after.offset = reader.offset();
                    break;
                }
                Record::Event(event) => events.push(event),
            }
            after.offset = reader.offset();
        }
        if after.offset == self.state.offset {
            return Ok(None);
        }
        let mut requests = std::collections::VecDeque::new();
        after.rows_sent += (history.len() + system.len()) as u64;
        after.points_sent += points as u64;
        if !history.is_empty() {
            requests.push_back(Request::Rows {
                system: false,
                seq: self.init.epoch << 32 | after.history,
                rows: history,
            });
        }
        if !system.is_empty() {
            requests.push_back(Request::Rows { system: true, seq: self.init.epoch << 32 | after.system, rows: system });
        }
        requests.extend(consoles);
        requests.extend(events.into_iter().map(Request::Event));
        if let Some(exit_code) = finish {
            requests.push_back(Request::Event(Event::Finish { exit_code }));
        }
        Ok(Some(Batch { requests, after, finish: finish.is_some() }))
    }
}

fn row_bytes(row: &Row) -> usize {
    row.values
        .iter()
        .map(|(k, v)| {
            k.len()
                + match v {
                    Cell::Scalar(_) => 24,
                    Cell::Object(o) => serde_json::to_vec(o).map_or(0, |b| b.len()),
                }
        })
        .sum::<usize>()
        + 48
}

/// `project`: the project's runs path; `run`: the run's path.
fn send(api: &Api, project: &str, run: &str, id: &str, dir: &Path, request: &Request) -> Result<(), Error> {
    match request {
        Request::Rows { system, seq, rows } => {
            let body = serde_json::to_vec(&RowsBody { seq: *seq, rows, system: *system })
                .map_err(|e| Error::local(e.to_string()))?;
            let path = format!("{run}/{}", if *system { "system" } else { "history" });
            api.request("POST", &path, Some(&body))?;
        }
        Request::Console { stream, offset, lines } => {
            let body = json!({"offset": offset, "lines": lines, "stream": stream});
            api.send_json::<Value>("POST", &format!("{run}/console"), &body)?;
        }
        Request::Event(event) => match event {
            Event::Config { patch } => {
                api.send_json::<Value>("PATCH", &format!("{run}/config"), patch)?;
            }
            Event::Summary { patch } => {
                api.send_json::<Value>("PATCH", &format!("{run}/summary"), patch)?;
            }
            Event::Metadata { patch } => {
                let body = json!({"id": id, "metadata": patch, "resume": "allow"});
                api.send_json::<Value>("POST", project, &body)?;
            }
            Event::Patch { patch } => {
                api.send_json::<Value>("PATCH", run, patch)?;
            }
            Event::File { name } => {
                let local = dir.join("files").join(name);
                let remote: Vec<String> = name.split('/').map(enc).collect();
                api.put_file(&format!("{run}/files/{}", remote.join("/")), &local)?;
            }
            Event::Finish { exit_code } => {
                let state = if *exit_code == 0 { "finished" } else { "failed" };
                api.send_json::<Value>("PATCH", run, &json!({"state": state, "exit_code": exit_code}))?;
            }
            Event::Console { .. } | Event::Init(_) => {}
        },
    }
    Ok(())
}

/// The body of a history or system batch, serialized straight from the log's rows.
struct RowsBody<'a> {
    seq: u64,
    rows: &'a [Row],
    system: bool,
}

impl Serialize for RowsBody<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("seq", &self.seq)?;
        map.serialize_entry("rows", &RowsJson(self.rows, self.system))?;
        map.end()
    }
}

struct RowsJson<'a>(&'a [Row], bool);

impl Serialize for RowsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for row in self.0 {
            seq.serialize_element(&RowJson(row, self.1))?;
        }
        seq.end()
    }
}

struct RowJson<'a>(&'a Row, bool);

impl Serialize for RowJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let row = self.0;
        // A key logged as both a number and an object in one row keeps the object.
        let objects: Vec<&str> =
            row.values.iter().filter(|(_, v)| matches!(v, Cell::Object(_))).map(|(k, _)| k.as_str()).collect();
        let scalars = Values(row, false, &objects);
        if self.1 {
            let mut map = s.serialize_map(Some(2))?;
            map.serialize_entry("time", &row.time)?;
            map.serialize_entry("values", &scalars)?;
            return map.end();
        }
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("step", &row.step)?;
        map.serialize_entry("time", &row.time)?;
        map.serialize_entry("scalars", &scalars)?;
        if !objects.is_empty() {
            map.serialize_entry("objects", &Values(row, true, &objects))?;
        }
        map.end()
    }
}

struct Values<'a>(&'a Row, bool, &'a [&'a str]);

impl Serialize for Values<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (key, value) in &self.0.values {
            match value {
                Cell::Scalar(x) if !self.1 && !self.2.contains(&key.as_str()) => {
                    map.serialize_entry(key, &Scalar(*x))?
                }
                Cell::Object(v) if self.1 => map.serialize_entry(key, v)?,
                _ => {}
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_serialize_as_the_server_expects() {
        let rows = vec![Row {
            system: false,
            step: 3,
            time: 10.5,
            values: vec![
                ("loss".into(), Cell::Scalar(f64::NAN)),
                ("both".into(), Cell::Scalar(1.0)),
                ("both".into(), Cell::Object(json!("text"))),
            ],
        }];
        let body: heron_types::HistoryBatch =
            serde_json::from_slice(&serde_json::to_vec(&RowsBody { seq: 9, rows: &rows, system: false }).unwrap())
                .unwrap();
        assert_eq!(body.seq, 9);
        assert_eq!(body.rows[0].step, 3);
        assert!(body.rows[0].scalars["loss"].0.is_nan());
        assert!(!body.rows[0].scalars.contains_key("both"));
        assert_eq!(body.rows[0].objects["both"], json!("text"));
        let sys = vec![Row { system: true, step: 0, time: 1.0, values: vec![("cpu".into(), Cell::Scalar(5.0))] }];
        let body: heron_types::SystemBatch =
            serde_json::from_slice(&serde_json::to_vec(&RowsBody { seq: 1, rows: &sys, system: true }).unwrap())
                .unwrap();
        assert_eq!(body.rows[0].values["cpu"].0, 5.0);
    }

    #[test]
    fn lock_holders_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(holder(dir.path()), Holder::Nobody);
        let lock = lock_run_dir(dir.path(), Mode::Online).unwrap();
        assert_eq!(holder(dir.path()), Holder::Process { pid: std::process::id(), online: true });
        assert!(lock_run_dir(dir.path(), Mode::Offline).is_err());
        drop(lock);
        assert_eq!(holder(dir.path()), Holder::Nobody);
    }
}

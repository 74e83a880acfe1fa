//! The run handle. `log` only appends to memory under a short lock; a writer thread moves
//! records into the run log on disk, the uploader thread streams the log to the server, and a
//! sampler thread adds system metrics.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use heron_types::{ArtifactVersion, ResumeMode, RunUpsert, RunUpserted, Scalar, limits};
use rustc_hash::FxHashMap;
use serde_json::{Map, Value, json};

use crate::artifacts::{Artifact, Artifacts, LogReport};
use crate::console::ConsoleAssembler;
use crate::http::{Api, Error, enc};
use crate::runlog::{Event, InitRecord, LogWriter, Record, RowValue};
use crate::settings::{Mode, Settings, WarningSink};
use crate::uploader::{self, Progress};

/// Queued points above which `log` waits for the writer (which only waits on the local disk).
const MAX_QUEUED_POINTS: usize = 1 << 20;
/// Queued points at which `log` wakes the writer before its next 50 ms round.
const WAKE_POINTS: usize = 1 << 16;
/// Key positions remembered from recent rows (a row logs its keys in the same order each step).
const RECENT_KEYS: usize = 1024;
/// Warnings after this many are summarised once.
const MAX_WARNINGS: usize = 50;
const DROPPED: u32 = u32::MAX;
/// Objects larger than this stay out of the summary (they are still in the history).
const MAX_SUMMARY_OBJECT: usize = 64 * 1024;

/// What `init` is given; everything is optional.
#[derive(Default, Clone)]
pub struct RunOptions {
    pub project: Option<String>,
    pub entity: Option<String>,
    pub name: Option<String>,
    pub id: Option<String>,
    pub config: Option<Value>,
    pub tags: Option<Vec<String>>,
    pub notes: Option<String>,
    pub group: Option<String>,
    pub job_type: Option<String>,
    pub resume: Option<ResumeMode>,
    /// Extra metadata merged into what the SDK records (the Python package adds its own).
    pub metadata: Option<Value>,
    /// Settings; `Settings::from_env()` when absent.
    pub settings: Option<Settings>,
}

/// One logged value.
#[derive(Debug, Clone, PartialEq)]
pub enum LogValue {
    Number(f64),
    Object(Value),
}

macro_rules! number_from {
    ($($t:ty),*) => {$(
        impl From<$t> for LogValue {
            fn from(value: $t) -> LogValue {
                LogValue::Number(value as f64)
            }
        }
    )*};
}
number_from!(f64, f32, i64, i32, u32, u64, usize, i16, u16, i8, u8);

impl From<bool> for LogValue {
    fn from(value: bool) -> LogValue {
        LogValue::Object(Value::Bool(value))
    }
}
impl From<&str> for LogValue {
    fn from(value: &str) -> LogValue {
        LogValue::Object(Value::String(value.to_string()))
    }
}
impl From<String> for LogValue {
    fn from(value: String) -> LogValue {
        LogValue::Object(Value::String(value))
    }
}
impl From<Value> for LogValue {
    fn from(value: Value) -> LogValue {
        match value.as_f64() {
            Some(x) if value.is_number() => LogValue::Number(x),
            _ => LogValue::Object(value),
        }
    }
}

/// How a metric is summarised and charted (`define_metric`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricDef {
    /// A key, or a glob with `*` (`val/*`).
    pub name: String,
    /// The key to use as this metric's x-axis.
    pub step_metric: Option<String>,
    /// Any of `min`, `max`, `mean`, `last`, `best`, `first`, `none`.
    pub summary: Vec<String>,
    /// `minimize` or `maximize` (for `best`).
    pub goal: Option<String>,
    pub hidden: bool,
}

/// The console streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleStream {
    Stdout,
    Stderr,
}

enum Op {
    Row {
        step: i64,
        time: f64,
        scalars: (usize, usize),
        objects: (usize, usize),
    },
    System {
        time: f64,
        values: Vec<(String, f64)>,
    },
    Console {
        stream: ConsoleStream,
        line: String,
    },
    Metric(MetricDef),
    Event(Event),
    /// Answers with the summary of everything logged before it.
    Summary(std::sync::mpsc::Sender<Value>),
}

#[derive(Default)]
struct Inbox {
    step: i64,
    pending_scalars: Vec<(u32, f64)>,
    pending_objects: Vec<(u32, Value)>,
    ops: Vec<Op>,
    scalars: Vec<(u32, f64)>,
    objects: Vec<(u32, Value)>,
    keys: FxHashMap<Box<str>, u32>,
    /// The key at each position of the last rows, with its id: a string comparison instead of a hash lookup.
    recent: Vec<(Box<str>, u32)>,
    key_count: u32,
    new_keys: Vec<String>,
    closing: bool,
}

impl Inbox {
    fn queued(&self) -> usize {
        self.scalars.len() + self.objects.len()
    }

    fn commit(&mut self) {
        if !(self.pending_scalars.is_empty() && self.pending_objects.is_empty()) {
            let s0 = self.scalars.len();
            let o0 = self.objects.len();
            self.scalars.append(&mut self.pending_scalars);
            self.objects.append(&mut self.pending_objects);
            self.ops.push(Op::Row {
                step: self.step,
                time: now(),
                scalars: (s0, self.scalars.len()),
                objects: (o0, self.objects.len()),
            });
        }
        self.step += 1;
    }
}

struct Shared {
    inbox: Mutex<Inbox>,
    wake_writer: Condvar,
    space: Condvar,
    warn: WarningSink,
    warnings: AtomicUsize,
    console: Mutex<[ConsoleAssembler; 2]>,
    progress: Arc<Progress>,
    /// The summary the writer computed last, kept when it stops (for `Run::summary` after `finish`).
    final_summary: Mutex<Value>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn warn(&self, message: &str) {
        let n = self.warnings.fetch_add(1, Ordering::Relaxed);
        if n < MAX_WARNINGS {
            (self.warn)(message);
        } else if n == MAX_WARNINGS {
            (self.warn)("more warnings for this run are not shown");
        }
    }

    fn push(&self, op: Op) {
        let mut inbox = self.lock();
        inbox.ops.push(op);
        drop(inbox);
        self.wake_writer.notify_one();
    }
}

/// What the server (or the run log, when resumed offline) knew of the run at `init`.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub entity: Option<String>,
    pub project: String,
    pub id: String,
    pub name: Option<String>,
    pub mode: Mode,
    /// This run's folder under `HERON_DIR` (empty when disabled).
    pub dir: PathBuf,
    pub resumed: bool,
    /// The step the next `log` writes (after the last stored step when resumed).
    pub step: i64,
    pub config: Value,
    pub summary: Value,
    /// Whether the server answered at `init`.
    pub connected: bool,
    pub base_url: String,
}

/// What happened to the run's data at `finish`.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishReport {
    /// Everything reached the server.
    pub uploaded: bool,
    /// Bytes of the run log not yet uploaded (0 when uploaded or disabled).
    pub pending_bytes: u64,
    /// The one-line message printed when something stays for `heron sync`, if any.
    pub message: Option<String>,
}

pub struct Run {
    info: RunInfo,
    shared: Option<Arc<Shared>>,
    threads: Mutex<Vec<(&'static str, JoinHandle<()>)>>,
    finished: AtomicBool,
    settings: Settings,
    saved: Mutex<Vec<(PathBuf, String)>>,
    /// Held until the run has finished writing its log (see `uploader::holder`).
    lock: Mutex<Option<std::fs::File>>,
    /// Short jobs that add records (git state, packages): joined before the finish record.
    helpers: Mutex<Vec<JoinHandle<()>>>,
}

fn now() -> f64 {
    heron_core::time::now()
}

impl Run {
    /// Starts a run. Online, it registers the run with the server first (bounded by the init
    /// timeout; an unreachable server is not an error: the run log keeps everything). Errors are
    /// what the user must fix: a bad argument, a rejected key, `resume` rules.
    pub fn init(options: RunOptions) -> Result<Run, Error> {
        let settings = match options.settings.clone() {
            Some(s) => s,
            None => Settings::from_env()?,
        };
        let project = options
            .project
            .clone()
            .or_else(|| std::env::var("HERON_PROJECT").ok().filter(|p| !p.is_empty()))
            .unwrap_or_else(|| crate::settings::DEFAULT_PROJECT.to_string());
        heron_core::names::check_name("project name", &project).map_err(core_error)?;
        let mut entity =
            options.entity.clone().or_else(|| std::env::var("HERON_ENTITY").ok().filter(|e| !e.is_empty()));
        if let Some(entity) = &entity {
            heron_core::names::check_name("entity name", entity).map_err(core_error)?;
        }
        let id = options.id.clone().unwrap_or_else(heron_core::keys::random_run_id);
        heron_core::names::check_name("run id", &id).map_err(core_error)?;
        if let Some(tags) = &options.tags {
            for tag in tags {
                heron_core::names::check_key("tag", tag).map_err(core_error)?;
            }
        }
        let mut info = RunInfo {
            entity: entity.clone(),
            project: project.clone(),
            id: id.clone(),
            name: options.name.clone(),
            mode: settings.mode,
            dir: PathBuf::new(),
            resumed: false,
            step: 0,
            config: options.config.clone().unwrap_or_else(|| json!({})),
            summary: json!({}),
            connected: false,
            base_url: settings.base_url.clone(),
        };
        if settings.mode == Mode::Disabled {
            return Ok(Run {
                info,
                shared: None,
                threads: Mutex::new(Vec::new()),
                finished: AtomicBool::new(false),
                settings,
                saved: Mutex::new(Vec::new()),
                lock: Mutex::new(None),
                helpers: Mutex::new(Vec::new()),
            });
        }
        let mut metadata = json!({"sdk": {"name": "heron-client", "version": env!("CARGO_PKG_VERSION")}});
        if settings.host_metadata {
            heron_core::merge::merge_patch(&mut metadata, &crate::metadata::host_and_program());
        }
        if let Some(extra) = &options.metadata {
            heron_core::merge::merge_patch(&mut metadata, extra);
        }
        let rank = crate::distributed::detect();
        if let Some(rank) = &rank {
            heron_core::merge::merge_patch(&mut metadata, &json!({"distributed": rank.to_json()}));
        }
        // One run per rank, grouped by the job, unless a group was given.
        let group = options.group.clone().or_else(|| rank.as_ref().and_then(|r| r.job.clone()));
        let host = metadata.pointer("/host/name").and_then(Value::as_str).map(String::from);
        let upsert = RunUpsert {
            id: Some(id.clone()),
            name: options.name.clone(),
            config: options.config.clone(),
            tags: options.tags.clone(),
            notes: options.notes.clone(),
            group,
            job_type: options.job_type.clone(),
            sweep: None,
            host,
            metadata: Some(metadata),
            resume: options.resume,
        };
        let api = Api::new(&settings.base_url, settings.api_key.as_deref(), settings.init_timeout);
        let mut registered: Option<RunUpserted> = None;
        if settings.mode == Mode::Online {
            match register(&api, &mut entity, &project, &upsert) {
                Ok(answer) => registered = Some(answer),
                Err(error) if error.is_transient() => (settings.warn)(&format!(
                    "cannot reach the Heron server at {}: {error}. Logging to the local run log; it is uploaded when the server answers",
                    settings.base_url
                )),
                Err(error) => return Err(explain_init_error(error, &settings)),
            }
        }
        let mut epoch = now() as u64;
        let mut console_base = None;
        if let Some(answer) = &registered {
            info.entity = entity.clone();
            info.connected = true;
            info.resumed = answer.resumed;
            info.name = Some(answer.run.name.clone());
            info.step = answer.run.last_step.map_or(0, |s| s + 1);
            info.config = answer.run.config.clone();
            info.summary = answer.run.summary.clone();
            for seq in [answer.last_history_seq, answer.last_system_seq].into_iter().flatten() {
                epoch = epoch.max((seq >> 32) + 1);
            }
            console_base = Some(answer.console_lines);
        }
        // A new run starts its console at line 0; a resumed one after the lines stored (known
        // when online), so re-syncing never shifts lines.
        if console_base.is_none() && !matches!(options.resume, Some(ResumeMode::Allow | ResumeMode::Must)) {
            console_base = Some(0);
        }
        let stamp = chrono::Local::now().format("%Y%m%d_%H%M%S");
        let mut dir = settings.dir.join(format!("run-{stamp}-{id}"));
        for n in 1.. {
            if !dir.exists() {
                break;
            }
            dir = settings.dir.join(format!("run-{stamp}-{id}-{n}"));
        }
        std::fs::create_dir_all(dir.join("files"))
            .map_err(|e| Error::local(format!("cannot create the run folder {}: {e}", dir.display())))?;
        info.dir = dir.clone();
        let lock = uploader::lock_run_dir(&dir, settings.mode)?;
        let log_path = dir.join(uploader::LOG_FILE);
        let mut writer = LogWriter::open(&log_path)
            .map_err(|e| Error::local(format!("cannot create the run log {}: {e}", log_path.display())))?;
        let init = InitRecord {
            entity: entity.clone(),
            project: project.clone(),
            id: id.clone(),
            upsert: serde_json::to_value(&upsert).map_err(|e| Error::local(e.to_string()))?,
            epoch,
            console_base,
        };
        writer
            .append(&Record::Event(Event::Init(init.clone())))
            .and_then(|_| writer.flush())
            .map_err(|e| Error::local(format!("cannot write the run log {}: {e}", log_path.display())))?;
        let progress = Arc::new(Progress::new(writer.bytes));
        let shared = Arc::new(Shared {
            inbox: Mutex::new(Inbox { step: info.step, ..Inbox::default() }),
            wake_writer: Condvar::new(),
            space: Condvar::new(),
            warn: settings.warn.clone(),
            warnings: AtomicUsize::new(0),
            console: Mutex::new([ConsoleAssembler::new(), ConsoleAssembler::new()]),
            progress: progress.clone(),
            final_summary: Mutex::new(Value::Object(Map::new())),
        });
        let mut threads = Vec::new();
        let writer_shared = shared.clone();
        threads.push((
            "writer",
            std::thread::Builder::new()
                .name("heron-writer".into())
                .spawn(move || write_loop(writer_shared, writer))
                .map_err(|e| Error::local(e.to_string()))?,
        ));
        if settings.mode == Mode::Online {
            // The server's answer at init, when it answered, so the uploader need not ask again.
            let upload_api = Api::new(&settings.base_url, settings.api_key.as_deref(), Duration::from_secs(60));
            let handle = uploader::spawn(upload_api, dir.clone(), registered, progress.clone(), settings.warn.clone())?;
            threads.push(("uploader", handle));
        }
        if let Some(interval) = settings.system_interval {
            let sampler_shared = shared.clone();
            threads.push((
                "sampler",
                std::thread::Builder::new()
                    .name("heron-system".into())
                    .spawn(move || sample_loop(sampler_shared, interval))
                    .map_err(|e| Error::local(e.to_string()))?,
            ));
        }
        let mut helpers = Vec::new();
        if settings.git {
            let git_shared = shared.clone();
            let git_dir = dir.clone();
            // Git can take a moment on a large repository: keep it off the start-up path.
            helpers.extend(
                std::thread::Builder::new()
                    .name("heron-git".into())
                    .spawn(move || record_git(git_shared, git_dir))
                    .ok(),
            );
        }
        Ok(Run {
            info,
            shared: Some(shared),
            threads: Mutex::new(threads),
            finished: AtomicBool::new(false),
            settings,
            saved: Mutex::new(Vec::new()),
            lock: Mutex::new(Some(lock)),
            helpers: Mutex::new(helpers),
        })
    }

    pub fn info(&self) -> &RunInfo {
        &self.info
    }

    /// The step the next committed row gets.
    pub fn step(&self) -> i64 {
        match &self.shared {
            Some(shared) => shared.lock().step,
            None => 0,
        }
    }

    /// Logs one row at the next step: `run.log([("loss", 0.25), ("acc", 0.9)])`.
    pub fn log<K: AsRef<str>, V: Into<LogValue>>(&self, values: impl IntoIterator<Item = (K, V)>) {
        self.log_at(None, None, values);
    }

    /// `log` with wandb's step semantics: `step` (at or after the current step; earlier steps are
    /// dropped with a warning) and `commit` (default: true without a step, false with one; a row
    /// left open is committed by the next step or by `finish`).
    pub fn log_at<K: AsRef<str>, V: Into<LogValue>>(
        &self,
        step: Option<i64>,
        commit: Option<bool>,
        values: impl IntoIterator<Item = (K, V)>,
    ) {
        self.log_with(step, commit, |sink| {
            for (key, value) in values {
                match value.into() {
                    LogValue::Number(x) => sink.number(key.as_ref(), x),
                    LogValue::Object(v) => sink.object(key.as_ref(), v),
                }
            }
        });
    }

    /// The raw entry for bindings: `fill` adds values through a `RowSink`.
    pub fn log_with(&self, step: Option<i64>, commit: Option<bool>, fill: impl FnOnce(&mut RowSink<'_>)) {
        let Some(shared) = &self.shared else { return };
        let mut inbox = shared.lock();
        if inbox.closing {
            drop(inbox);
            return shared.warn("the run has finished; log() after finish() is ignored (start a new run with init)");
        }
        if inbox.queued() >= MAX_QUEUED_POINTS {
            inbox = wait_for_space(shared, inbox);
        }
        if !begin_row(shared, &mut inbox, step) {
            return;
        }
        let mut sink = RowSink { shared, inbox: &mut inbox, pos: 0 };
        fill(&mut sink);
        end_row(shared, inbox, step, commit);
    }

    /// Merges a patch into the run's config (RFC 7386: null removes a key).
    pub fn update_config(&self, patch: Value) {
        self.push_patch("config", patch, |patch| Event::Config { patch });
    }

    /// Merges a patch into the run's summary.
    pub fn update_summary(&self, patch: Value) {
        self.push_patch("summary", patch, |patch| Event::Summary { patch });
    }

    /// Merges a patch into the run's metadata.
    pub fn update_metadata(&self, patch: Value) {
        self.push_patch("metadata", patch, |patch| Event::Metadata { patch });
    }

    /// Changes name, tags, notes, group or job type (a `RunPatch` body).
    pub fn update_run(&self, patch: Value) {
        self.push_patch("run fields", patch, |patch| Event::Patch { patch });
    }

    /// Queues a document patch as `event`, after checking it is an object of bounded depth.
    fn push_patch(&self, what: &str, patch: Value, event: fn(Value) -> Event) {
        let Some(shared) = &self.shared else { return };
        if !patch.is_object() {
            return shared.warn(&format!("{what} update must be a JSON object; ignored"));
        }
        if heron_core::names::json_depth(&patch) > limits::MAX_JSON_DEPTH {
            return shared
                .warn(&format!("{what} update is nested deeper than {} levels; ignored", limits::MAX_JSON_DEPTH));
        }
        shared.push(Op::Event(event(patch)));
    }

    pub fn define_metric(&self, def: MetricDef) {
        let Some(shared) = &self.shared else { return };
        for agg in &def.summary {
            if !["min", "max", "mean", "last", "best", "first", "none"].contains(&agg.as_str()) {
                shared.warn(&format!(
                    "define_metric summary {agg:?} is not one of min, max, mean, last, best, first, none"
                ));
            }
        }
        if let Some(goal) = &def.goal
            && goal != "minimize"
            && goal != "maximize"
        {
            shared.warn(&format!("define_metric goal must be \"minimize\" or \"maximize\", not {goal:?}"));
        }
        shared.push(Op::Metric(def));
    }

    /// Adds text written to stdout or stderr; whole lines are recorded (see `ConsoleAssembler`).
    pub fn console_write(&self, stream: ConsoleStream, text: &str) {
        let Some(shared) = &self.shared else { return };
        let lines = {
            let mut console = shared.console.lock().unwrap_or_else(|e| e.into_inner());
            console[stream as usize].write(text)
        };
        if !lines.is_empty() {
            let mut inbox = shared.lock();
            inbox.ops.extend(lines.into_iter().map(|line| Op::Console { stream, line }));
            drop(inbox);
            shared.wake_writer.notify_one();
        }
    }

    /// Saves a file with the run, uploaded as `name` (default: its file name). `policy`: `now`
    /// copies it at once; `end` and `live` copy it again at `finish`, so its final content is kept.
    pub fn save(&self, path: &Path, name: Option<&str>, policy: &str) -> Result<String, Error> {
        let Some(shared) = &self.shared else { return Ok(String::new()) };
        let name = match name {
            Some(n) => n.to_string(),
            None => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| Error::local(format!("{} has no file name", path.display())))?,
        };
        heron_core::names::check_file_path(&name).map_err(core_error)?;
        if !path.is_file() {
            return Err(Error::local(format!("cannot save {}: not a file", path.display())));
        }
        if !["now", "end", "live"].contains(&policy) {
            return Err(Error::local(format!("policy must be now, end or live, not {policy:?}")));
        }
        copy_into_run(&self.info.dir, path, &name)?;
        shared.push(Op::Event(Event::File { name: name.clone() }));
        if policy != "now" {
            self.saved.lock().unwrap_or_else(|e| e.into_inner()).push((path.to_path_buf(), name.clone()));
        }
        Ok(name)
    }

    /// The summary of what this run logged so far: each key's last value, or the aggregates
    /// `define_metric` asked for (explicit `update_summary` patches are not included).
    pub fn summary(&self) -> Value {
        let Some(shared) = &self.shared else { return Value::Object(Map::new()) };
        if !self.finished.load(Ordering::SeqCst) {
            let (answer, reply) = std::sync::mpsc::channel();
            {
                let mut inbox = shared.lock();
                if !inbox.closing {
                    inbox.ops.push(Op::Summary(answer));
                }
            }
            shared.wake_writer.notify_one();
            if let Ok(summary) = reply.recv_timeout(Duration::from_secs(10)) {
                return summary;
            }
        }
        shared.final_summary.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Writes `requirements.txt` of the Python packages installed in `paths` (`sys.path`) and
    /// saves it with the run, on a thread of its own.
    pub fn record_python_packages(&self, paths: Vec<PathBuf>) {
        let Some(shared) = self.shared.clone() else { return };
        let dir = self.info.dir.join("files");
        let job = std::thread::Builder::new().name("heron-packages".into()).spawn(move || {
            let lines = crate::metadata::python_packages(&paths);
            if !lines.is_empty() && std::fs::write(dir.join("requirements.txt"), lines.join("\n") + "\n").is_ok() {
                shared.push(Op::Event(Event::File { name: "requirements.txt".into() }));
            }
        });
        self.helpers.lock().unwrap_or_else(|e| e.into_inner()).extend(job.ok());
    }

    /// The artifacts API of this run's server, with the run's entity and project as defaults.
    /// Artifacts need the server: an offline or disabled run gets an error that says so.
    pub fn artifacts(&self) -> Result<Artifacts, Error> {
        match self.info.mode {
            Mode::Online => {}
            Mode::Offline => {
                return Err(Error::local(format!(
                    "artifacts need an online run: run {} is offline (HERON_MODE=offline); log_artifact keeps artifacts for `heron sync`, but use_artifact and downloads need the server",
                    self.info.id
                )));
            }
            Mode::Disabled => {
                return Err(Error::local("artifacts need an online run: this run is disabled (HERON_MODE=disabled)"));
            }
        }
        let mut client = Artifacts::new(&self.settings)?;
        client.default_project = Some(self.info.project.clone());
        client.default_entity = match &self.info.entity {
            Some(entity) => Some(entity.clone()),
            None => Some(client.entity()?),
        };
        Ok(client)
    }

    /// Logs `artifact` as a version produced by this run, with `aliases`; uploads before it
    /// returns (see [`Artifacts::log_artifact`]). An offline run keeps it for `heron sync`
    /// (the version answered has an empty `version` until then).
    pub fn log_artifact(&self, artifact: &Artifact, aliases: &[&str]) -> Result<ArtifactVersion, Error> {
        self.log_artifact_report(artifact, aliases).map(|report| report.version)
    }

    /// [`log_artifact`](Self::log_artifact), answering what was uploaded and what was already stored.
    ///
    /// An offline run hashes the artifact and keeps it in its folder; `heron sync` logs it
    /// (after the run) and the answer's `version` stays empty until then.
    pub fn log_artifact_report(&self, artifact: &Artifact, aliases: &[&str]) -> Result<LogReport, Error> {
        let aliases: Vec<String> = aliases.iter().map(|a| a.to_string()).collect();
        if self.info.mode == Mode::Offline {
            let staged = Artifacts::new(&self.settings)?.stage(artifact, &aliases)?;
            let path = crate::artifacts::save_staged(&self.info.dir, &staged)?;
            (self.settings.warn)(&format!(
                "artifact {:?} is kept in {} until `heron sync {}` logs it (its files must not change until then)",
                staged.name,
                path.display(),
                self.info.dir.display()
            ));
            let entity = self.info.entity.clone().unwrap_or_default();
            return Ok(staged.pending_report(&entity, &self.info.project, Some(&self.info.id)));
        }
        let client = self.artifacts()?;
        let entity = client.entity()?;
        client.log_artifact(&entity, &self.info.project, artifact, &aliases, Some(&self.info.id))
    }

    /// Looks up an artifact version (`name:alias`, `project/name:v1`, `entity/project/name:v1`;
    /// this run's project and entity by default) and records that this run used it (lineage).
    pub fn use_artifact(&self, reference: &str) -> Result<ArtifactVersion, Error> {
        let client = self.artifacts()?;
        let version = client.get(reference)?;
        let entity = client.entity()?;
        let run = if version.entity == entity && version.project == self.info.project {
            self.info.id.clone()
        } else {
            format!("{entity}/{}/{}", self.info.project, self.info.id)
        };
        client.record_use(&version, &run)?;
        Ok(version)
    }

    /// Ends the run: commits an open row, records the exit code (non-zero marks it failed), and
    /// waits for the upload up to the finish timeout. What is left stays in the run log, and one
    /// message says which `heron sync` command uploads it. Calling it again does nothing.
    pub fn finish(&self, exit_code: i32) -> FinishReport {
        let done = FinishReport { uploaded: true, pending_bytes: 0, message: None };
        if self.finished.swap(true, Ordering::SeqCst) {
            return done;
        }
        let Some(shared) = &self.shared else { return done };
        for job in self.helpers.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = job.join();
        }
        for (path, name) in self.saved.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            match copy_into_run(&self.info.dir, &path, &name) {
                Ok(()) => shared.push(Op::Event(Event::File { name })),
                Err(error) => shared.warn(&error.to_string()),
            }
        }
        let tails: Vec<(ConsoleStream, String)> = {
            let mut console = shared.console.lock().unwrap_or_else(|e| e.into_inner());
            [ConsoleStream::Stdout, ConsoleStream::Stderr]
                .into_iter()
                .filter_map(|s| console[s as usize].flush().map(|line| (s, line)))
                .collect()
        };
        {
            let mut inbox = shared.lock();
            inbox.ops.extend(tails.into_iter().map(|(stream, line)| Op::Console { stream, line }));
            if !(inbox.pending_scalars.is_empty() && inbox.pending_objects.is_empty()) {
                inbox.commit();
            }
            inbox.ops.push(Op::Event(Event::Finish { exit_code }));
            inbox.closing = true;
        }
        shared.wake_writer.notify_all();
        shared.space.notify_all();
        let threads: Vec<_> = self.threads.lock().unwrap_or_else(|e| e.into_inner()).drain(..).collect();
        let mut uploader = None;
        for (name, handle) in threads {
            if name == "uploader" {
                uploader = Some(handle);
            } else {
                let _ = handle.join();
            }
        }
        let deadline = Instant::now() + self.settings.finish_timeout;
        let release = || drop(self.lock.lock().unwrap_or_else(|e| e.into_inner()).take());
        let sync_hint = format!("heron sync {}", self.info.dir.display());
        if self.info.mode == Mode::Offline {
            let message = format!(
                "run {} is saved offline in {}; upload it with: {sync_hint}",
                self.info.id,
                self.info.dir.display()
            );
            (self.settings.warn)(&message);
            release();
            return FinishReport { uploaded: false, pending_bytes: shared.progress.pending(), message: Some(message) };
        }
        let uploaded = shared.progress.wait_done(deadline);
        if uploaded {
            if let Some(handle) = uploader {
                let _ = handle.join();
            }
            release();
            return done;
        }
        shared.progress.stop();
        // The uploader stops after its current request; wait for it briefly so `heron sync` can take over.
        if let Some(handle) = uploader {
            let waited = Instant::now();
            while !handle.is_finished() && waited.elapsed() < Duration::from_secs(2) {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        release();
        let pending = shared.progress.pending();
        let why = shared.progress.error().map(|e| format!(" ({e})")).unwrap_or_default();
        let message = format!(
            "run {} was not fully uploaded within {:.0} s{why}; the rest ({} KiB) is safe in {}; upload it with: {sync_hint}",
            self.info.id,
            self.settings.finish_timeout.as_secs_f64(),
            pending.div_ceil(1024),
            self.info.dir.display()
        );
        (self.settings.warn)(&message);
        FinishReport { uploaded: false, pending_bytes: pending, message: Some(message) }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if !self.finished.load(Ordering::SeqCst) && self.shared.is_some() {
            self.finish(0);
        }
    }
}

/// Adds values to the row being built, for bindings that convert their own value types.
pub struct RowSink<'a> {
    shared: &'a Shared,
    inbox: &'a mut Inbox,
    pos: usize,
}

impl RowSink<'_> {
    fn key(&mut self, key: &str) -> u32 {
        let pos = self.pos;
        self.pos += 1;
        if let Some((known, id)) = self.inbox.recent.get(pos)
            && **known == *key
        {
            return *id;
        }
        let id = key_id(self.shared, self.inbox, key);
        let recent = &mut self.inbox.recent;
        if pos < recent.len() {
            recent[pos] = (key.into(), id);
        } else if pos == recent.len() && pos < RECENT_KEYS {
            recent.push((key.into(), id));
        }
        id
    }

    pub fn number(&mut self, key: &str, value: f64) {
        let id = self.key(key);
        if id != DROPPED {
            self.inbox.pending_scalars.push((id, value));
        }
    }

    pub fn object(&mut self, key: &str, value: Value) {
        let id = self.key(key);
        if id != DROPPED {
            push_object(self.shared, self.inbox, id, key, value);
        }
    }

    pub fn warn(&mut self, message: &str) {
        self.shared.warn(message);
    }
}

fn begin_row(shared: &Shared, inbox: &mut Inbox, step: Option<i64>) -> bool {
    if let Some(step) = step {
        if step < inbox.step {
            shared.warn(&format!(
                "step {step} is before the current step {}; the values were dropped (steps must not go back)",
                inbox.step
            ));
            return false;
        }
        if step > inbox.step {
            if !(inbox.pending_scalars.is_empty() && inbox.pending_objects.is_empty()) {
                inbox.commit();
            }
            inbox.step = step;
        }
    }
    true
}

fn end_row(shared: &Shared, mut inbox: MutexGuard<'_, Inbox>, step: Option<i64>, commit: Option<bool>) {
    if inbox.pending_scalars.len() + inbox.pending_objects.len() > limits::MAX_KEYS_PER_ROW {
        shared.warn(&format!("a row has more than {} keys; the extra keys were dropped", limits::MAX_KEYS_PER_ROW));
        let keep = limits::MAX_KEYS_PER_ROW.saturating_sub(inbox.pending_objects.len());
        inbox.pending_scalars.truncate(keep);
        inbox.pending_objects.truncate(limits::MAX_KEYS_PER_ROW);
    }
    if commit.unwrap_or(step.is_none()) {
        let before = inbox.queued();
        inbox.commit();
        // The writer drains every 50 ms on its own; wake it early only for a big queue, so a
        // training loop does not pay a wake-up per row.
        let wake = before < WAKE_POINTS && inbox.queued() >= WAKE_POINTS;
        drop(inbox);
        if wake {
            shared.wake_writer.notify_one();
        }
    }
}

fn wait_for_space<'a>(shared: &'a Shared, mut inbox: MutexGuard<'a, Inbox>) -> MutexGuard<'a, Inbox> {
    shared.wake_writer.notify_one();
    while inbox.queued() >= MAX_QUEUED_POINTS && !inbox.closing {
        inbox = shared.space.wait_timeout(inbox, Duration::from_millis(50)).unwrap_or_else(|e| e.into_inner()).0;
    }
    inbox
}

fn key_id(shared: &Shared, inbox: &mut Inbox, key: &str) -> u32 {
    if let Some(&id) = inbox.keys.get(key) {
        return id;
    }
    let problem = heron_core::names::check_key("metric key", key).err().map(|e| e.message).or_else(|| {
        heron_core::ingest::RESERVED_KEYS
            .contains(&key)
            .then(|| format!("key {key:?} is reserved; Heron records it itself"))
    });
    let id = match problem {
        Some(message) => {
            shared.warn(&format!("{message}; values of this key are dropped"));
            DROPPED
        }
        None => {
            let id = inbox.key_count;
            inbox.key_count += 1;
            inbox.new_keys.push(key.to_string());
            id
        }
    };
    // Remember rejected keys too (so they warn once), unless absurdly long.
    if id != DROPPED || key.len() <= 4096 {
        inbox.keys.insert(key.into(), id);
    }
    id
}

fn push_object(shared: &Shared, inbox: &mut Inbox, id: u32, key: &str, value: Value) {
    if heron_core::names::json_depth(&value) > limits::MAX_JSON_DEPTH {
        shared.warn(&format!("value of {key:?} is nested deeper than {} levels; dropped", limits::MAX_JSON_DEPTH));
        return;
    }
    let size = serde_json::to_vec(&value).map_or(usize::MAX, |v| v.len());
    if size > limits::MAX_OBJECT_BYTES {
        shared.warn(&format!(
            "value of {key:?} is {size} bytes of JSON; the limit is {} bytes; dropped",
            limits::MAX_OBJECT_BYTES
        ));
        return;
    }
    inbox.pending_objects.push((id, value));
}

fn copy_into_run(run_dir: &Path, path: &Path, name: &str) -> Result<(), Error> {
    let dest = run_dir.join("files").join(name);
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::local(format!("cannot create {}: {e}", parent.display())))?;
    }
    let temp = dest.with_extension("heron-part");
    std::fs::copy(path, &temp)
        .and_then(|_| std::fs::rename(&temp, &dest))
        .map_err(|e| Error::local(format!("cannot save {}: {e}", path.display())))?;
    Ok(())
}

fn core_error(error: heron_core::Error) -> Error {
    Error::local(error.message)
}

fn explain_init_error(error: Error, settings: &Settings) -> Error {
    match error.status {
        Some(401) => Error {
            message: format!(
                "the Heron server at {} did not accept the API key ({}); set HERON_API_KEY or run `heron login --host {}`",
                settings.base_url, error.message, settings.base_url
            ),
            ..error
        },
        _ => error,
    }
}

/// Creates or resumes the run on the server; fills in the entity from the key's user if unset.
pub(crate) fn register(
    api: &Api,
    entity: &mut Option<String>,
    project: &str,
    upsert: &RunUpsert,
) -> Result<RunUpserted, Error> {
    if entity.is_none() {
        let viewer: heron_types::Viewer = api.get("/api/v1/viewer")?;
        *entity = Some(viewer.entities.first().cloned().unwrap_or(viewer.name));
    }
    let path = format!("/api/v1/projects/{}/{}/runs", enc(entity.as_deref().unwrap_or_default()), enc(project));
    api.send_json("POST", &path, upsert)
}

/// Per-key summary: the last value, and the aggregates `define_metric` asked for.
/// A value kept for the summary: numbers stay plain until a patch is built.
#[derive(Default, Clone)]
enum Kept {
    #[default]
    Nothing,
    Number(f64),
    Object(Value),
}

impl Kept {
    fn json(&self) -> Value {
        match self {
            Kept::Nothing => Value::Null,
            Kept::Number(x) => Scalar::to_json(*x),
            Kept::Object(v) => v.clone(),
        }
    }
}

#[derive(Default)]
struct KeySummary {
    last: Kept,
    first: Option<f64>,
    min: f64,
    max: f64,
    sum: f64,
    count: u64,
    metric: Option<usize>,
    /// Set explicitly (`update_summary`) since it was last logged: the explicit value stands.
    pinned: bool,
}

struct Summaries {
    keys: Vec<KeySummary>,
    metrics: Vec<MetricDef>,
    dirty: Vec<u32>,
    is_dirty: Vec<bool>,
}

impl Summaries {
    fn new() -> Summaries {
        Summaries { keys: Vec::new(), metrics: Vec::new(), dirty: Vec::new(), is_dirty: Vec::new() }
    }

    fn add_key(&mut self, name: &str) {
        let metric = self.metrics.iter().rposition(|m| glob_match(&m.name, name));
        self.keys.push(KeySummary { min: f64::INFINITY, max: f64::NEG_INFINITY, metric, ..KeySummary::default() });
        self.is_dirty.push(false);
    }

    fn define(&mut self, def: MetricDef, names: &[String]) {
        self.metrics.push(def);
        let index = self.metrics.len() - 1;
        for (id, name) in names.iter().enumerate() {
            if glob_match(&self.metrics[index].name, name) {
                self.keys[id].metric = Some(index);
            }
        }
    }

    /// An explicit summary value for this key replaces the logged one until the key is logged again.
    fn pin(&mut self, id: u32) {
        self.keys[id as usize].pinned = true;
        self.is_dirty[id as usize] = false;
        self.dirty.retain(|d| *d != id);
    }

    fn touch(&mut self, id: u32) {
        self.keys[id as usize].pinned = false;
        if !self.is_dirty[id as usize] {
            self.is_dirty[id as usize] = true;
            self.dirty.push(id);
        }
    }

    fn number(&mut self, id: u32, x: f64) {
        let k = &mut self.keys[id as usize];
        if k.first.is_none() {
            k.first = Some(x);
        }
        k.last = Kept::Number(x);
        if !x.is_nan() {
            k.min = k.min.min(x);
            k.max = k.max.max(x);
            k.sum += x;
            k.count += 1;
        }
        self.touch(id);
    }

    fn object(&mut self, id: u32, value: &Value) {
        let k = &mut self.keys[id as usize];
        if serde_json::to_vec(value).map_or(usize::MAX, |v| v.len()) <= MAX_SUMMARY_OBJECT {
            k.last = Kept::Object(value.clone());
            self.touch(id);
        }
    }

    /// A key's summary value; None when `define_metric` said `none` or nothing was kept.
    fn value_of(&self, id: u32) -> Option<Value> {
        let k = &self.keys[id as usize];
        if matches!(k.last, Kept::Nothing) || k.pinned {
            return None;
        }
        let aggs = k.metric.map(|m| &self.metrics[m].summary);
        Some(match aggs {
            Some(aggs) if aggs.iter().any(|a| a == "none") => return None,
            Some(aggs) if !(aggs.is_empty() || aggs.len() == 1 && aggs[0] == "last") => {
                let goal = k.metric.and_then(|m| self.metrics[m].goal.as_deref()).unwrap_or("minimize");
                let num = |x: f64| if x.is_finite() { Scalar::to_json(x) } else { Value::Null };
                let mut out = Map::new();
                for agg in aggs {
                    let v = match agg.as_str() {
                        "min" => num(k.min),
                        "max" => num(k.max),
                        "mean" if k.count > 0 => num(k.sum / k.count as f64),
                        "best" if goal == "maximize" => num(k.max),
                        "best" => num(k.min),
                        "first" => k.first.map_or(Value::Null, Scalar::to_json),
                        "last" => k.last.json(),
                        _ => Value::Null,
                    };
                    out.insert(agg.clone(), v);
                }
                Value::Object(out)
            }
            _ => k.last.json(),
        })
    }

    /// The summary patch for the keys changed since the last call.
    fn take_patch(&mut self, names: &[String]) -> Option<Value> {
        let mut patch = Map::new();
        for id in std::mem::take(&mut self.dirty) {
            self.is_dirty[id as usize] = false;
            if let Some(value) = self.value_of(id) {
                patch.insert(names[id as usize].clone(), value);
            }
        }
        (!patch.is_empty()).then_some(Value::Object(patch))
    }

    /// Every logged key's summary value.
    fn full(&self, names: &[String]) -> Value {
        let mut all = Map::new();
        for (id, name) in names.iter().enumerate() {
            if let Some(value) = self.value_of(id as u32) {
                all.insert(name.clone(), value);
            }
        }
        Value::Object(all)
    }
}

/// `*` matches any run of characters (including `/`); everything else matches itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == text;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

fn metric_json(def: &MetricDef) -> Value {
    json!({def.name.clone(): {
        "step_metric": def.step_metric,
        "summary": def.summary,
        "goal": def.goal,
        "hidden": def.hidden,
    }})
}

/// Moves queued records into the run log: every 50 ms, or sooner when the queue grows.
fn write_loop(shared: Arc<Shared>, mut writer: LogWriter) {
    let mut names: Vec<String> = Vec::new();
    let mut ids: rustc_hash::FxHashMap<String, u32> = Default::default();
    let mut summaries = Summaries::new();
    let mut last_summary = Instant::now();
    let mut failed = false;
    // Swapped with the inbox's each round and handed back cleared, so logging never regrows them.
    let (mut ops, mut scalars, mut objects) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        let closing = {
            let mut inbox = shared.lock();
            if !inbox.closing && inbox.queued() < WAKE_POINTS {
                inbox = shared
                    .wake_writer
                    .wait_timeout(inbox, Duration::from_millis(50))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            for key in inbox.new_keys.drain(..) {
                summaries.add_key(&key);
                ids.insert(key.clone(), names.len() as u32);
                names.push(key);
            }
            std::mem::swap(&mut inbox.ops, &mut ops);
            std::mem::swap(&mut inbox.scalars, &mut scalars);
            std::mem::swap(&mut inbox.objects, &mut objects);
            inbox.closing
        };
        shared.space.notify_all();
        let mut result = Ok(());
        let mut console: Option<(ConsoleStream, Vec<String>)> = None;
        let mut finish = None;
        for op in ops.drain(..) {
            if let Op::Console { stream, line } = op {
                match &mut console {
                    Some((s, lines)) if *s == stream => lines.push(line),
                    _ => {
                        result = result.and(flush_console(&mut writer, console.take()));
                        console = Some((stream, vec![line]));
                    }
                }
                continue;
            }
            result = result.and(flush_console(&mut writer, console.take()));
            result = result.and(match op {
                Op::Row { step, time, scalars: (s0, s1), objects: (o0, o1) } => {
                    for &(id, x) in &scalars[s0..s1] {
                        summaries.number(id, x);
                    }
                    for (id, v) in &objects[o0..o1] {
                        summaries.object(*id, v);
                    }
                    let values = scalars[s0..s1]
                        .iter()
                        .map(|(id, x)| (names[*id as usize].as_str(), RowValue::Scalar(*x)))
                        .chain(
                            objects[o0..o1].iter().map(|(id, v)| (names[*id as usize].as_str(), RowValue::Object(v))),
                        );
                    writer.append_row(false, step, time, ExactChain(values, (s1 - s0) + (o1 - o0)))
                }
                Op::System { time, values } => {
                    let n = values.len();
                    writer.append_row(
                        true,
                        0,
                        time,
                        ExactChain(values.iter().map(|(k, v)| (k.as_str(), RowValue::Scalar(*v))), n),
                    )
                }
                Op::Metric(def) => {
                    let patch = json!({"metrics": metric_json(&def)});
                    summaries.define(def, &names);
                    writer.append(&Record::Event(Event::Metadata { patch }))
                }
                Op::Summary(answer) => {
                    let _ = answer.send(summaries.full(&names));
                    Ok(())
                }
                Op::Event(Event::Finish { exit_code }) => {
                    finish = Some(exit_code);
                    Ok(())
                }
                Op::Event(event) => {
                    if let Event::Summary { patch: Value::Object(set) } = &event {
                        for id in set.keys().filter_map(|k| ids.get(k)) {
                            summaries.pin(*id);
                        }
                    }
                    writer.append(&Record::Event(event))
                }
                Op::Console { .. } => unreachable!("handled above"),
            });
        }
        result = result.and(flush_console(&mut writer, console.take()));
        scalars.clear();
        objects.clear();
        if (closing || last_summary.elapsed() >= Duration::from_secs(1))
            && let Some(patch) = summaries.take_patch(&names)
        {
            result = result.and(writer.append(&Record::Event(Event::Summary { patch })));
            last_summary = Instant::now();
        }
        if let Some(exit_code) = finish {
            result = result.and(writer.append(&Record::Event(Event::Finish { exit_code })));
        }
        result = result.and(writer.flush());
        if closing {
            result = result.and(writer.sync());
        }
        if let Err(error) = result
            && !failed
        {
            failed = true;
            shared.warn(&format!("cannot write the run log: {error}; data logged from now on may be lost"));
        }
        shared.progress.written(writer.bytes, closing);
        if closing {
            let inbox = shared.lock();
            if inbox.ops.is_empty() {
                *shared.final_summary.lock().unwrap_or_else(|e| e.into_inner()) = summaries.full(&names);
                return;
            }
        }
    }
}

fn flush_console(writer: &mut LogWriter, console: Option<(ConsoleStream, Vec<String>)>) -> std::io::Result<()> {
    match console {
        None => Ok(()),
        Some((stream, lines)) => {
            let stream = if stream == ConsoleStream::Stdout { "stdout" } else { "stderr" };
            writer.append(&Record::Event(Event::Console { stream: stream.into(), lines }))
        }
    }
}

/// An iterator with a known length (for the row encoder's count prefix).
struct ExactChain<I>(I, usize);

impl<I: Iterator> Iterator for ExactChain<I> {
    type Item = I::Item;
    fn next(&mut self) -> Option<I::Item> {
        self.0.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.1, Some(self.1))
    }
}

impl<I: Iterator> ExactSizeIterator for ExactChain<I> {}

fn sample_loop(shared: Arc<Shared>, interval: Duration) {
    let mut sampler = crate::system::SystemSampler::new(std::process::id());
    let gpus = sampler.gpu_names();
    if !gpus.is_empty() {
        shared.push(Op::Event(Event::Metadata { patch: json!({"gpu": {"count": gpus.len(), "names": gpus}}) }));
    }
    loop {
        let values = sampler.sample();
        if !values.is_empty() {
            shared.push(Op::System { time: now(), values });
        }
        let inbox = shared.lock();
        if inbox.closing {
            return;
        }
        let (inbox, _) = shared.wake_writer.wait_timeout(inbox, interval).unwrap_or_else(|e| e.into_inner());
        if inbox.closing {
            return;
        }
    }
}

fn record_git(shared: Arc<Shared>, run_dir: PathBuf) {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let Some(git) = crate::metadata::git(&cwd) else { return };
    shared.push(Op::Event(Event::Metadata {
        patch: json!({"git": {"commit": git.commit, "branch": git.branch, "remote": git.remote, "dirty": git.dirty}}),
    }));
    if git.dirty
        && let Some(diff) = crate::metadata::git_diff(&cwd, 8 * 1024 * 1024)
        && std::fs::write(run_dir.join("files").join("diff.patch"), diff).is_ok()
    {
        shared.push(Op::Event(Event::File { name: "diff.patch".into() }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_prefixes_suffixes_and_middles() {
        assert!(glob_match("val/*", "val/acc"));
        assert!(glob_match("*", "anything/at/all"));
        assert!(glob_match("*/loss", "train/loss"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("val/*", "train/acc"));
        assert!(!glob_match("a*b*c", "acb"));
        assert!(glob_match("loss", "loss"));
        assert!(!glob_match("loss", "loss2"));
    }

    #[test]
    fn summaries_follow_define_metric() {
        let names = vec!["loss".to_string(), "acc".to_string(), "note".to_string()];
        let mut s = Summaries::new();
        for n in &names {
            s.add_key(n);
        }
        s.define(
            MetricDef { name: "loss".into(), summary: vec!["min".into(), "mean".into()], ..Default::default() },
            &names,
        );
        s.define(
            MetricDef {
                name: "a*".into(),
                summary: vec!["best".into()],
                goal: Some("maximize".into()),
                ..Default::default()
            },
            &names,
        );
        for (loss, acc) in [(3.0, 0.1), (1.0, 0.7), (2.0, 0.5)] {
            s.number(0, loss);
            s.number(1, acc);
        }
        s.object(2, &json!("hello"));
        let patch = s.take_patch(&names).unwrap();
        assert_eq!(patch, json!({"loss": {"min": 1.0, "mean": 2.0}, "acc": {"best": 0.7}, "note": "hello"}));
        assert!(s.take_patch(&names).is_none(), "nothing changed since");
        s.number(1, f64::NAN);
        assert_eq!(s.take_patch(&names).unwrap(), json!({"acc": {"best": 0.7}}));
    }
}

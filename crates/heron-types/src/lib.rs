//! Wire and domain types shared by the Heron server, SDKs and CLI: runs, history batches,
//! chart answers, API request and response bodies, the error body and the documented limits.
//!
//! This crate owns shapes only (serde, optionally utoipa schemas); rules live in `heron-core`.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

mod artifacts;
mod scalar;
pub use artifacts::*;
pub use scalar::Scalar;

#[cfg(feature = "utoipa")]
use utoipa::ToSchema;

/// Bounds on what a client may send. Every one is enforced by the server with a 4xx answer
/// that names the bound, and documented in `docs/http-api.md`.
pub mod limits {
    /// Largest request body accepted on any route but run-file uploads (bytes, after decompression).
    pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
    /// Largest run file accepted by one upload (bytes).
    pub const MAX_FILE_BYTES: usize = 1024 * 1024 * 1024;
    /// Rows in one history or system-metrics batch.
    pub const MAX_ROWS_PER_BATCH: usize = 100_000;
    /// Points (row × key) in one batch.
    pub const MAX_POINTS_PER_BATCH: usize = 2_000_000;
    /// Keys in one history row.
    pub const MAX_KEYS_PER_ROW: usize = 10_000;
    /// Length of one metric key or tag (bytes).
    pub const MAX_KEY_BYTES: usize = 256;
    /// Serialized size of one non-scalar history value (bytes).
    pub const MAX_OBJECT_BYTES: usize = 4 * 1024 * 1024;
    /// Serialized size of a run's config or summary (bytes).
    pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;
    /// Nesting depth of config, summary and history objects.
    pub const MAX_JSON_DEPTH: usize = 64;
    /// Lines in one console append; bytes in one console line.
    pub const MAX_CONSOLE_LINES: usize = 100_000;
    pub const MAX_CONSOLE_LINE_BYTES: usize = 64 * 1024;
    /// Runs, keys and buckets in one chart query.
    pub const MAX_CHART_RUNS: usize = 1_000;
    pub const MAX_CHART_KEYS: usize = 100;
    pub const MAX_CHART_BUCKETS: u32 = 10_000;
    /// Page sizes.
    pub const MAX_PAGE_RUNS: usize = 10_000;
    pub const MAX_PAGE_ROWS: usize = 100_000;
    /// Points in one full-resolution series read (`GET {run}/history/series`); a longer series
    /// is read in parts with `min_step` and `max_step`.
    pub const MAX_SERIES_POINTS: usize = 10_000_000;
    /// Tags on one run.
    pub const MAX_TAGS: usize = 1_000;
    /// Saved views per project, and the size of one view's state as JSON text.
    pub const MAX_VIEWS: usize = 1_000;
    pub const MAX_VIEW_BYTES: usize = 256 * 1024;
    /// Runs and parameters one importance request may take.
    pub const MAX_IMPORTANCE_RUNS: usize = 10_000;
    pub const MAX_IMPORTANCE_PARAMS: usize = 200;
    /// Password length bounds, in bytes.
    pub const MIN_PASSWORD_BYTES: usize = 8;
    pub const MAX_PASSWORD_BYTES: usize = 1024;
}

/// The error body of every failed request: `{"error": {"kind": "...", "message": "..."}}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct ErrorDetail {
    /// One of `not_found`, `already_exists`, `invalid_argument`, `conflict`, `unauthenticated`,
    /// `forbidden`, `payload_too_large`, `unavailable`, `internal`.
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Running,
    Finished,
    Failed,
    Crashed,
    Killed,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Finished => "finished",
            RunState::Failed => "failed",
            RunState::Crashed => "crashed",
            RunState::Killed => "killed",
        }
    }

    pub fn parse(text: &str) -> Option<RunState> {
        Some(match text {
            "running" => RunState::Running,
            "finished" => RunState::Finished,
            "failed" => RunState::Failed,
            "crashed" => RunState::Crashed,
            "killed" => RunState::Killed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct Entity {
    pub name: String,
    /// `user` or `team`.
    pub kind: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct Project {
    pub entity: String,
    pub name: String,
    pub description: String,
    pub created_at: String,
    pub run_count: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProjectCreate {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EntityCreate {
    pub name: String,
}

/// A run as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct Run {
    pub entity: String,
    pub project: String,
    pub id: String,
    pub name: String,
    pub state: RunState,
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    pub config: Value,
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    pub summary: Value,
    pub tags: Vec<String>,
    pub notes: String,
    pub group: Option<String>,
    pub job_type: Option<String>,
    pub sweep: Option<String>,
    pub host: Option<String>,
    /// Environment captured by the SDK: git, program, args, python, packages, GPU, ...
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    pub metadata: Value,
    pub created_at: String,
    pub updated_at: String,
    pub heartbeat_at: String,
    pub finished_at: Option<String>,
    pub exit_code: Option<i32>,
    /// Highest history step stored, if any.
    pub last_step: Option<i64>,
    /// Number of history rows stored (distinct steps).
    pub history_rows: u64,
    /// Statistics of history keys, by key: only in run listings that ask for them
    /// (`GET .../runs?metrics=loss,acc`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<BTreeMap<String, MetricStats>>,
}

/// Count, minimum and maximum (both ignoring NaN) and last value of one history key of a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct MetricStats {
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Null when the last value was NaN.
    pub last: Option<f64>,
    pub count: u64,
}

/// Create a run, or update it when the id exists (`upsert`). Used by SDKs at `init`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RunUpsert {
    /// Client-chosen id (`[A-Za-z0-9_.-]`, at most 64 characters); generated when absent.
    pub id: Option<String>,
    pub name: Option<String>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<Object>))]
    pub config: Option<Value>,
    pub tags: Option<Vec<String>>,
    pub notes: Option<String>,
    pub group: Option<String>,
    pub job_type: Option<String>,
    pub sweep: Option<String>,
    pub host: Option<String>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<Object>))]
    pub metadata: Option<Value>,
    /// `allow` (default: create or resume), `must` (the run must exist), `never` (must not exist).
    pub resume: Option<ResumeMode>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ResumeMode {
    Allow,
    Must,
    Never,
}

/// Answer to an upsert: the run, whether it was resumed, and what a resuming client needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct RunUpserted {
    pub run: Run,
    /// True when the run already existed (the client is resuming it).
    pub resumed: bool,
    /// Sequence number of the last history batch stored; the client continues after it.
    pub last_history_seq: Option<u64>,
    pub last_system_seq: Option<u64>,
    /// Number of console lines stored; the client appends from this offset.
    pub console_lines: u64,
}

/// Change a run's editable fields; absent fields are left as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RunPatch {
    pub name: Option<String>,
    pub tags: Option<Vec<String>>,
    pub notes: Option<String>,
    /// Empty string clears the group.
    pub group: Option<String>,
    pub job_type: Option<String>,
    pub state: Option<RunState>,
    pub exit_code: Option<i32>,
}

/// Answer to `GET .../runs`: one page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct RunPage {
    pub runs: Vec<Run>,
    /// Matching runs in all pages.
    pub total: u64,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// One history row: a step, its wall time, scalar values and other values.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HistoryRow {
    pub step: i64,
    /// Unix seconds; the server's clock when absent.
    pub time: Option<f64>,
    /// Numbers; NaN and infinities as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
    #[serde(default)]
    #[cfg_attr(feature = "utoipa", schema(value_type = BTreeMap<String, f64>))]
    pub scalars: BTreeMap<String, Scalar>,
    /// Any other JSON value (strings, booleans, objects such as media references), kept per step.
    #[serde(default)]
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    pub objects: BTreeMap<String, Value>,
}

/// A batch of history rows. `seq` numbers a run's batches: a batch sent again with a `seq`
/// already stored is acknowledged and adds nothing.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HistoryBatch {
    pub seq: u64,
    pub rows: Vec<HistoryRow>,
}

impl HistoryBatch {
    /// Parses a batch from JSON. Being a plain function here, the parser is compiled (and
    /// optimised) once with the types, whatever crate calls it: ingest is the hot path.
    pub fn from_json_slice(bytes: &[u8]) -> serde_json::Result<HistoryBatch> {
        serde_json::from_slice(bytes)
    }
}

/// A batch of system-metric samples (`system/cpu`, `system/gpu.0.util`, ...), keyed by time.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SystemBatch {
    pub seq: u64,
    pub rows: Vec<SystemRow>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SystemRow {
    pub time: f64,
    #[cfg_attr(feature = "utoipa", schema(value_type = BTreeMap<String, f64>))]
    pub values: BTreeMap<String, Scalar>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct IngestAck {
    pub seq: u64,
    /// True when this `seq` was already stored: nothing was added.
    pub duplicate: bool,
    pub rows: u64,
    pub points: u64,
    /// Points whose step was not after the last stored step of their key (dropped, as wandb does).
    pub dropped_points: u64,
    pub last_step: Option<i64>,
}

/// Which stream a key belongs to.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    History,
    System,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct KeyInfo {
    pub key: String,
    pub stream: Stream,
    /// `scalar` (numbers) or `object` (anything else).
    pub kind: String,
    pub count: u64,
    pub min_step: Option<i64>,
    pub max_step: Option<i64>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<f64>))]
    pub min: Option<Scalar>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<f64>))]
    pub max: Option<Scalar>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<f64>))]
    pub last: Option<Scalar>,
}

/// The x-axis of a chart: `step`, `time` (unix seconds), `relative_time` (seconds since the
/// run's first row) or the name of another logged key (`epoch`, `tokens`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum XAxis {
    #[default]
    Step,
    Time,
    RelativeTime,
    Key(String),
}

impl XAxis {
    pub fn parse(text: &str) -> XAxis {
        match text {
            "" | "step" | "_step" => XAxis::Step,
            "time" | "_timestamp" | "wall_time" => XAxis::Time,
            "relative_time" | "_runtime" => XAxis::RelativeTime,
            other => XAxis::Key(other.to_string()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            XAxis::Step => "step",
            XAxis::Time => "time",
            XAxis::RelativeTime => "relative_time",
            XAxis::Key(key) => key,
        }
    }
}

impl Serialize for XAxis {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for XAxis {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(XAxis::parse(&text))
    }
}

#[cfg(feature = "utoipa")]
impl utoipa::PartialSchema for XAxis {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        String::schema()
    }
}

#[cfg(feature = "utoipa")]
impl ToSchema for XAxis {}

/// A chart read: one or more keys over one or more runs, reduced to M4 buckets.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChartQuery {
    /// Run ids in the project.
    pub runs: Vec<String>,
    pub keys: Vec<String>,
    #[serde(default)]
    pub x: XAxis,
    /// Inclusive x range; the data's extent when absent.
    pub x_min: Option<f64>,
    pub x_max: Option<f64>,
    /// Number of buckets (pixel columns); default 1000.
    pub buckets: Option<u32>,
}

/// M4 reduction of one key of one run. Arrays are parallel, one entry per non-empty bucket:
/// the bucket's index, its point count, and its first, last, minimum and maximum points
/// (x and y). Minimum and maximum ignore NaN; they are null when a bucket holds only NaN.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct ChartSeries {
    pub run: String,
    pub key: String,
    pub bucket: Vec<u32>,
    pub count: Vec<u64>,
    #[serde(serialize_with = "scalar::compact_numbers")]
    pub first_x: Vec<f64>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<f64>))]
    pub first_y: Vec<Scalar>,
    #[serde(serialize_with = "scalar::compact_numbers")]
    pub last_x: Vec<f64>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<f64>))]
    pub last_y: Vec<Scalar>,
    #[serde(serialize_with = "scalar::compact_options")]
    pub min_x: Vec<Option<f64>>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<Option<f64>>))]
    pub min_y: Vec<Option<Scalar>>,
    #[serde(serialize_with = "scalar::compact_options")]
    pub max_x: Vec<Option<f64>>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<Option<f64>>))]
    pub max_y: Vec<Option<Scalar>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct ChartResponse {
    pub x: XAxis,
    /// The x range the buckets divide (inclusive); null when there is no data.
    pub x_min: Option<f64>,
    pub x_max: Option<f64>,
    pub buckets: u32,
    pub series: Vec<ChartSeries>,
}

/// A page of raw history rows (`_step`, `_timestamp` and the requested keys).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct HistoryPage {
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<Object>))]
    pub rows: Vec<Value>,
    /// Pass as `min_step` for the next page; absent on the last page.
    pub next_step: Option<i64>,
}

/// One key of one run at full resolution, as parallel columns in step order: `values[i]` was
/// logged at `steps[i]`, whose wall-clock time (unix seconds, from the run's `_timestamp`
/// series) is `times[i]`, null where none was stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct SeriesColumns {
    pub key: String,
    pub steps: Vec<i64>,
    pub times: Vec<Option<f64>>,
    /// Numbers (NaN and infinities as their strings); values that are not numbers as sent.
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<Value>))]
    pub values: Vec<SeriesValue>,
}

/// One value of a series: a number, or any other JSON value (text, an object, a boolean).
///
/// On the wire it is the bare value. Reading back, a number or one of the strings `"NaN"`,
/// `"Infinity"`, `"-Infinity"` is a [`Scalar`]; anything else is an object.
#[derive(Debug, Clone, PartialEq)]
pub enum SeriesValue {
    Scalar(Scalar),
    /// Boxed: series are long and almost always scalar, so the common case stays 16 bytes.
    Object(Box<Value>),
}

impl Serialize for SeriesValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            SeriesValue::Scalar(scalar) => scalar.serialize(serializer),
            SeriesValue::Object(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for SeriesValue {
    /// Decided on the first token, without buffering: series run to millions of values.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
        use serde::de::{Error, MapAccess, SeqAccess, Visitor};

        struct SeriesValueVisitor;
        impl<'de> Visitor<'de> for SeriesValueVisitor {
            type Value = SeriesValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, \"NaN\", \"Infinity\", \"-Infinity\" or any JSON value")
            }
            fn visit_f64<E: Error>(self, v: f64) -> Result<SeriesValue, E> {
                Ok(SeriesValue::Scalar(Scalar(v)))
            }
            fn visit_i64<E: Error>(self, v: i64) -> Result<SeriesValue, E> {
                Ok(SeriesValue::Scalar(Scalar(v as f64)))
            }
            fn visit_u64<E: Error>(self, v: u64) -> Result<SeriesValue, E> {
                Ok(SeriesValue::Scalar(Scalar(v as f64)))
            }
            fn visit_str<E: Error>(self, v: &str) -> Result<SeriesValue, E> {
                Ok(match Scalar::parse_special(v) {
                    Some(special) => SeriesValue::Scalar(Scalar(special)),
                    None => SeriesValue::Object(Box::new(Value::String(v.to_string()))),
                })
            }
            fn visit_bool<E: Error>(self, v: bool) -> Result<SeriesValue, E> {
                Ok(SeriesValue::Object(Box::new(Value::Bool(v))))
            }
            fn visit_unit<E: Error>(self) -> Result<SeriesValue, E> {
                Ok(SeriesValue::Object(Box::new(Value::Null)))
            }
            fn visit_none<E: Error>(self) -> Result<SeriesValue, E> {
                self.visit_unit()
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<SeriesValue, A::Error> {
                Ok(SeriesValue::Object(Box::new(Value::deserialize(SeqAccessDeserializer::new(seq))?)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SeriesValue, A::Error> {
                Ok(SeriesValue::Object(Box::new(Value::deserialize(MapAccessDeserializer::new(map))?)))
            }
        }
        deserializer.deserialize_any(SeriesValueVisitor)
    }
}

impl SeriesValue {
    /// The value as the rows endpoint gives it.
    pub fn to_json(&self) -> Value {
        match self {
            SeriesValue::Scalar(scalar) => Scalar::to_json(scalar.0),
            SeriesValue::Object(value) => (**value).clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsoleAppend {
    /// Line index of `lines[0]`. Lines already stored at these indices are overwritten
    /// (progress bars); omitted, the lines are appended.
    pub offset: Option<u64>,
    pub lines: Vec<String>,
    /// `stdout` (default) or `stderr`.
    pub stream: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct ConsoleLine {
    pub index: u64,
    pub stream: String,
    pub text: String,
    pub time: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct ConsolePage {
    pub lines: Vec<ConsoleLine>,
    /// Lines stored in all.
    pub total: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct RunFile {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    pub name: String,
    #[serde(default)]
    pub admin: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct UserCreated {
    pub name: String,
    pub admin: bool,
    /// Shown once; only its hash is stored.
    pub api_key: String,
}

/// One key logged in a project: its stream and kind, and how many runs have it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct ProjectKey {
    pub key: String,
    pub stream: Stream,
    /// `scalar` or `object`.
    pub kind: String,
    pub runs: u64,
}

/// A named workspace view of a project: the dashboard's state (panels, filter, sort, ...) as
/// it saved it. The server keeps it as given.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct SavedView {
    pub name: String,
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    pub state: Value,
    pub updated_at: String,
}

/// Body of `PUT /projects/{entity}/{project}/views/{name}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ViewPut {
    /// A JSON object.
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    pub state: Value,
}

/// Body of `POST /session`: sign in with `key` (an API key), or with `user` and `password`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionCreate {
    pub key: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
}

/// Body of `PUT /viewer/password`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordSet {
    pub password: String,
}

/// Body of `POST /projects/{entity}/{project}/importance`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ImportanceQuery {
    /// Run ids of the project to learn from.
    pub runs: Vec<String>,
    /// The metric to explain, as a run field path (`summary.val_loss`).
    pub target: String,
    /// Parameters as run field paths; every numeric or boolean `config` leaf when absent.
    pub params: Option<Vec<String>>,
}

/// How much one parameter explains of the target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct ParamImportance {
    pub param: String,
    /// Pearson correlation with the target; null when the parameter or the target is constant.
    pub correlation: Option<f64>,
    /// Permutation importance in a random forest, scaled so that all parameters sum to 1.
    pub importance: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct ImportanceResponse {
    pub target: String,
    /// Runs that had a numeric target (the others are left out).
    pub runs_used: u64,
    /// Most important first.
    pub params: Vec<ParamImportance>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct Viewer {
    pub name: String,
    pub admin: bool,
    /// Entities the user may write to.
    pub entities: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
pub struct Health {
    pub status: String,
    pub version: String,
}

/// An event on a project's Server-Sent-Events stream.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "utoipa", derive(ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ProjectEvent {
    /// A run was created or changed (state, config, summary, tags, ...).
    Run {
        #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
        run: Box<Run>,
    },
    /// A run was deleted.
    RunDeleted { run: String },
    /// New history or system points were stored. `rows` holds them when the batch was small
    /// (at most 1000 points); otherwise only the step range is given and clients re-read.
    Points {
        run: String,
        stream: Stream,
        keys: Vec<String>,
        first_step: i64,
        last_step: i64,
        #[cfg_attr(feature = "utoipa", schema(value_type = Option<Vec<Object>>))]
        rows: Option<Vec<Value>>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn series_values_are_bare_json_both_ways() {
        let columns = SeriesColumns {
            key: "loss".into(),
            steps: vec![0, 1, 2, 3, 4, 5],
            times: vec![Some(1000.5), None, Some(1002.0), Some(1003.0), Some(1004.0), Some(1005.0)],
            values: vec![
                SeriesValue::Scalar(Scalar(1.5)),
                SeriesValue::Scalar(Scalar(f64::NAN)),
                SeriesValue::Scalar(Scalar(f64::NEG_INFINITY)),
                SeriesValue::Object(Box::new(json!({"path": "a.png", "size": [3, 4]}))),
                SeriesValue::Object(Box::new(json!("text"))),
                SeriesValue::Object(Box::new(json!(true))),
            ],
        };
        let text = serde_json::to_string(&columns).unwrap();
        assert_eq!(
            text,
            r#"{"key":"loss","steps":[0,1,2,3,4,5],"times":[1000.5,null,1002.0,1003.0,1004.0,1005.0],"values":[1.5,"NaN","-Infinity",{"path":"a.png","size":[3,4]},"text",true]}"#
        );
        let back: SeriesColumns = serde_json::from_str(&text).unwrap();
        assert_eq!((back.key.as_str(), &back.steps, &back.times), ("loss", &columns.steps, &columns.times));
        assert!(matches!(back.values[1], SeriesValue::Scalar(Scalar(v)) if v.is_nan()));
        assert_eq!(back.values[2..], columns.values[2..]);
        assert_eq!(back.values[0], SeriesValue::Scalar(Scalar(1.5)));
        let whole: SeriesValue = serde_json::from_str("7").unwrap();
        assert_eq!(whole, SeriesValue::Scalar(Scalar(7.0)));
        let null: SeriesValue = serde_json::from_str("null").unwrap();
        assert_eq!(null, SeriesValue::Object(Box::new(Value::Null)));
    }
}

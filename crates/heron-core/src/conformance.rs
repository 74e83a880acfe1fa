//! The storage conformance suite: what every [`Store`] backend must do, checked through the
//! trait alone. A backend's test file runs each check on a fresh, empty store, one test per
//! check so a failure is named (see `heron-store-sqlite/tests/conformance.rs`), or all of them
//! through [`run_all`]. Every check panics with a message saying what differed.
//!
//! The checks assert what users rely on, with exact values: run lifecycle and resume, merge
//! semantics, idempotent history batches, the per-key "steps only go forward" rule, history
//! read back exactly across chunk boundaries (NaN and infinities included), and chart reads
//! equal to a brute-force M4 reduction of the raw points.
//!
//! Time: the checks give the store no clock. Where a check needs time to pass (heartbeats,
//! stale runs) it sleeps the calling thread briefly and reads the store's own timestamps back,
//! so a backend that uses its database server's clock passes as well.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use heron_types::{
    ChartQuery, ChartResponse, ChartSeries, ConsoleAppend, HistoryBatch, HistoryRow, IngestAck, KeyInfo, ProjectCreate,
    ResumeMode, Run, RunFile, RunPatch, RunState, RunUpsert, Scalar, SeriesColumns, Stream, SystemBatch, SystemRow,
    XAxis,
};
use serde_json::{Value, json};

use crate::error::{ErrorKind, Result};
use crate::history::{Buckets, Point, StepBuckets, Summary, reduce_points};
use crate::store::{ArtifactKey, RunMetric, RunRef, Store, User};

/// One check: runs against a fresh, empty store and panics on the first difference.
pub type CheckFn = for<'a> fn(&'a dyn Store) -> BoxFuture<'a, ()>;

macro_rules! checks {
    ($($name:ident),* $(,)?) => {
        /// Every check, by name, in the order [`run_all`] runs them.
        pub const CHECKS: &[(&str, CheckFn)] = &[$(
            (stringify!($name), {
                fn boxed(store: &dyn Store) -> BoxFuture<'_, ()> {
                    Box::pin($name(store))
                }
                boxed
            })
        ),*];
    };
}

/// Calls `$callback!(check_a, check_b, ...)` with the name of every check, in order: the one
/// list that this suite and each backend's tests (one test per check) are made from.
#[macro_export]
macro_rules! conformance_checks {
    ($callback:ident) => {
        $callback!(
            accounts_bootstrap_and_api_keys,
            accounts_users_teams_and_names,
            accounts_login_tokens,
            projects,
            runs_upsert_and_resume,
            runs_get_and_list,
            runs_patch,
            runs_merge_config_and_summary,
            runs_delete,
            runs_heartbeat_and_crash,
            history_round_trip,
            history_duplicate_seq,
            history_stale_points_dropped,
            history_chunk_boundaries,
            history_pagination_and_ranges,
            history_series_matches_rows,
            history_concurrent_appends,
            history_resume_state,
            system_metrics,
            chart_step_axis,
            chart_time_axis,
            chart_missing_runs_and_keys,
            console,
            files,
            dashboard_passwords_and_session_keys,
            dashboard_views,
            dashboard_run_metrics,
            dashboard_project_keys,
            artifacts_blobs_versions_and_collection,
            artifacts_registry_and_audit,
        );
    };
}

conformance_checks!(checks);

/// Runs every check, each on a fresh store from `factory`; a failure names its check.
pub async fn run_all(factory: &dyn Fn() -> Arc<dyn Store>) {
    for (name, check) in CHECKS {
        let store = factory();
        if let Err(panic) = AssertUnwindSafe(check(store.as_ref())).catch_unwind().await {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(no message)".to_string());
            panic!("conformance check {name} failed: {message}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const ENTITY: &str = "alice";
const PROJECT: &str = "proj";

#[track_caller]
fn ok<T>(what: &str, result: Result<T>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("{what}: expected success, got {:?}: {}", error.kind, error.message),
    }
}

#[track_caller]
fn expect_err<T: Debug>(what: &str, result: Result<T>, kind: ErrorKind) {
    match result {
        Ok(value) => panic!("{what}: expected a {kind:?} error, got Ok({value:?})"),
        Err(error) => {
            assert_eq!(error.kind, kind, "{what}: expected a {kind:?} error, got {:?}: {}", error.kind, error.message)
        }
    }
}

fn same_f64(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

fn same_opt_scalar(a: Option<Scalar>, b: Option<Scalar>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same_f64(a.0, b.0),
        (None, None) => true,
        _ => false,
    }
}

/// JSON equality where numbers compare by value (`1` equals `1.0`): backends may give
/// integers or floats for whole numbers.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(key, value)| y.get(key).is_some_and(|other| same_json(value, other)))
        }
        _ => a == b,
    }
}

#[track_caller]
fn assert_json(what: &str, actual: &Value, expected: &Value) {
    assert!(same_json(actual, expected), "{what}:\n  got:      {actual}\n  expected: {expected}");
}

#[track_caller]
fn assert_rows(what: &str, actual: &[Value], expected: &[Value]) {
    for (index, (got, want)) in actual.iter().zip(expected).enumerate() {
        assert!(same_json(got, want), "{what}: row {index} differs:\n  got:      {got}\n  expected: {want}");
    }
    assert_eq!(
        actual.len(),
        expected.len(),
        "{what}: got {} rows, expected {} (first extra: {:?})",
        actual.len(),
        expected.len(),
        actual.get(expected.len()).or(expected.get(actual.len()))
    );
}

fn unix(rfc3339: &str) -> f64 {
    let parsed = chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("timestamp {rfc3339:?} is not RFC 3339: {e}"));
    parsed.timestamp_micros() as f64 / 1e6
}

fn pause(millis: u64) {
    std::thread::sleep(Duration::from_millis(millis));
}

fn run_ref(run: &str) -> RunRef {
    RunRef::new(ENTITY, PROJECT, run)
}

/// Creates the user `alice` (entity `alice`); runs go to `alice/proj`.
async fn setup(store: &dyn Store) -> User {
    ok("create_user alice", store.create_user(ENTITY, false, "alice-key").await)
}

async fn new_run(store: &dyn Store, id: &str) -> RunRef {
    ok(&format!("upsert run {id}"), store.upsert_run(ENTITY, PROJECT, id, &RunUpsert::default()).await);
    run_ref(id)
}

async fn get(store: &dyn Store, run: &RunRef) -> Run {
    ok(&format!("get_run {run}"), store.get_run(run).await)
}

fn row(step: i64, time: f64, scalars: &[(&str, f64)], objects: &[(&str, Value)]) -> HistoryRow {
    HistoryRow {
        step,
        time: Some(time),
        scalars: scalars.iter().map(|(k, v)| (k.to_string(), Scalar(*v))).collect(),
        objects: objects.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
    }
}

async fn append(store: &dyn Store, run: &RunRef, seq: u64, rows: Vec<HistoryRow>) -> IngestAck {
    ok(&format!("append_history seq {seq}"), store.append_history(run, &HistoryBatch { seq, rows }).await)
}

/// Every row of a stream in one page.
async fn all_rows(store: &dyn Store, run: &RunRef, system: bool) -> Vec<Value> {
    let page = ok("history_rows (all)", store.history_rows(run, None, i64::MIN, i64::MAX, 100_000, system).await);
    assert_eq!(page.next_step, None, "history_rows with a limit above the row count must be the last page");
    page.rows
}

/// The keys of a run that the user logged (names starting with `_` are the store's own).
async fn user_keys(store: &dyn Store, run: &RunRef) -> BTreeMap<String, KeyInfo> {
    let keys = ok("history_keys", store.history_keys(run).await);
    let mut out = BTreeMap::new();
    for info in keys.into_iter().filter(|k| !k.key.starts_with('_')) {
        let name = format!("{:?}:{}", info.stream, info.key);
        assert!(out.insert(name.clone(), info).is_none(), "history_keys lists {name} twice");
    }
    out
}

#[allow(clippy::too_many_arguments)]
#[track_caller]
fn assert_key(
    keys: &BTreeMap<String, KeyInfo>,
    stream: Stream,
    key: &str,
    kind: &str,
    count: u64,
    steps: (i64, i64),
    min: Option<f64>,
    max: Option<f64>,
    last: Option<f64>,
) {
    let name = format!("{stream:?}:{key}");
    let info = keys.get(&name).unwrap_or_else(|| panic!("history_keys has no {name}; it has {:?}", keys.keys()));
    let what = format!("history_keys {name}: {info:?}");
    assert_eq!(info.key, key, "{what}");
    assert_eq!(info.stream, stream, "{what}");
    assert_eq!(info.kind, kind, "{what}: kind");
    assert_eq!(info.count, count, "{what}: count");
    assert_eq!((info.min_step, info.max_step), (Some(steps.0), Some(steps.1)), "{what}: min_step, max_step");
    assert!(same_opt_scalar(info.min, min.map(Scalar)), "{what}: min, expected {min:?}");
    assert!(same_opt_scalar(info.max, max.map(Scalar)), "{what}: max, expected {max:?}");
    assert!(same_opt_scalar(info.last, last.map(Scalar)), "{what}: last, expected {last:?}");
}

/// A deterministic pseudo-random sequence (64-bit LCG, high bits).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A value in [-scale, scale).
    fn value(&mut self, scale: f64) -> f64 {
        (self.below(2_000_001) as f64 / 1_000_000.0 - 1.0) * scale
    }
}

// ---------------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------------

/// The first admin is created once; API keys find their user.
pub async fn accounts_bootstrap_and_api_keys(store: &dyn Store) {
    assert_eq!(ok("user_by_key on an empty store", store.user_by_key("admin-key").await), None);
    assert!(
        ok("first bootstrap_admin", store.bootstrap_admin("admin", "admin-key").await),
        "bootstrap_admin on an empty store must create the admin"
    );
    assert!(
        !ok("second bootstrap_admin", store.bootstrap_admin("other", "other-key").await),
        "bootstrap_admin must do nothing once a user exists"
    );
    let admin =
        ok("user_by_key admin-key", store.user_by_key("admin-key").await).expect("the admin's key must find the admin");
    assert_eq!((admin.name.as_str(), admin.admin), ("admin", true), "bootstrapped user: {admin:?}");
    assert_eq!(
        ok("user_by_key other-key", store.user_by_key("other-key").await),
        None,
        "the second bootstrap must not add a key"
    );
    expect_err("get_entity of the refused second admin", store.get_entity("other").await, ErrorKind::NotFound);
    let entity = ok("get_entity admin", store.get_entity("admin").await);
    assert_eq!(
        (entity.name.as_str(), entity.kind.as_str()),
        ("admin", "user"),
        "the admin's personal entity: {entity:?}"
    );
    assert_eq!(ok("entities_of admin", store.entities_of(admin.id).await), vec!["admin".to_string()]);

    let bob = ok("create_user bob", store.create_user("bob", false, "bob-key").await);
    assert_eq!((bob.name.as_str(), bob.admin), ("bob", false), "{bob:?}");
    assert_ne!(bob.id, admin.id, "users must get distinct ids");
    assert_eq!(ok("user_by_key bob-key", store.user_by_key("bob-key").await), Some(bob.clone()));
    assert_eq!(ok("user_by_key with a wrong hash", store.user_by_key("bob-key-wrong").await), None);
    assert_eq!(ok("user_by_key with an empty hash", store.user_by_key("").await), None);
    let carol = ok("create_user carol (admin)", store.create_user("carol", true, "carol-key").await);
    assert_eq!(ok("user_by_key carol-key", store.user_by_key("carol-key").await), Some(carol.clone()));

    // A user may hold several keys; each finds them.
    ok("add_api_key", store.add_api_key(bob.id, "bob-key-2").await);
    assert_eq!(ok("user_by_key bob-key-2", store.user_by_key("bob-key-2").await), Some(bob.clone()));
    assert_eq!(
        ok("user_by_key bob-key", store.user_by_key("bob-key").await),
        Some(bob.clone()),
        "the first key still works"
    );
    let unknown = admin.id.max(bob.id).max(carol.id) + 1000;
    assert!(store.add_api_key(unknown, "ghost-key").await.is_err(), "add_api_key for an unknown user must fail");
    assert_eq!(ok("user_by_key ghost-key", store.user_by_key("ghost-key").await), None);
}

/// Users own a personal entity; user and team names share one namespace.
pub async fn accounts_users_teams_and_names(store: &dyn Store) {
    let alice = setup(store).await;
    assert_eq!((alice.name.as_str(), alice.admin), (ENTITY, false));
    let entity = ok("get_entity alice", store.get_entity(ENTITY).await);
    assert_eq!((entity.name.as_str(), entity.kind.as_str()), (ENTITY, "user"), "{entity:?}");
    assert!(!entity.created_at.is_empty(), "entity created_at must be set");
    unix(&entity.created_at);
    assert_eq!(ok("entities_of alice", store.entities_of(alice.id).await), vec![ENTITY.to_string()]);

    expect_err(
        "create_user with a taken name",
        store.create_user(ENTITY, false, "another-key").await,
        ErrorKind::AlreadyExists,
    );
    assert_eq!(
        ok("user_by_key of the refused user", store.user_by_key("another-key").await),
        None,
        "a refused user must not get a key"
    );
    expect_err("create_team with a user's name", store.create_team(ENTITY, alice.id).await, ErrorKind::AlreadyExists);
    for bad in ["", "has space", "../x", "a/b", ".hidden"] {
        expect_err(
            &format!("create_user {bad:?}"),
            store.create_user(bad, false, "bad-key").await,
            ErrorKind::InvalidArgument,
        );
        expect_err(&format!("create_team {bad:?}"), store.create_team(bad, alice.id).await, ErrorKind::InvalidArgument);
    }

    let team = ok("create_team lab", store.create_team("lab", alice.id).await);
    assert_eq!((team.name.as_str(), team.kind.as_str()), ("lab", "team"), "{team:?}");
    assert_eq!(ok("get_entity lab", store.get_entity("lab").await).kind, "team");
    expect_err("create_team twice", store.create_team("lab", alice.id).await, ErrorKind::AlreadyExists);
    expect_err(
        "create_user with a team's name",
        store.create_user("lab", false, "lab-key").await,
        ErrorKind::AlreadyExists,
    );
    let mut entities = ok("entities_of alice", store.entities_of(alice.id).await);
    entities.sort();
    assert_eq!(
        entities,
        vec![ENTITY.to_string(), "lab".to_string()],
        "alice belongs to her own entity and the team she owns"
    );

    let bob = ok("create_user bob", store.create_user("bob", false, "bob-key").await);
    assert_eq!(
        ok("entities_of bob", store.entities_of(bob.id).await),
        vec!["bob".to_string()],
        "bob is not in alice's team"
    );
    expect_err("get_entity of an unknown name", store.get_entity("nobody").await, ErrorKind::NotFound);
    assert_eq!(
        ok("entities_of an unknown user id", store.entities_of(bob.id + alice.id + 1000).await),
        Vec::<String>::new()
    );

    // A team for an owner that does not exist is refused and leaves no team behind.
    expect_err(
        "create_team with an unknown owner",
        store.create_team("ghosts", bob.id + alice.id + 1000).await,
        ErrorKind::NotFound,
    );
    expect_err("get_entity of the refused team", store.get_entity("ghosts").await, ErrorKind::NotFound);
}

/// Login tokens are single-use and expire.
pub async fn accounts_login_tokens(store: &dyn Store) {
    let alice = setup(store).await;
    let bob = ok("create_user bob", store.create_user("bob", false, "bob-key").await);
    ok("add_login_token t1", store.add_login_token(ENTITY, "t1", 2000.0).await);
    ok("add_login_token t2", store.add_login_token("bob", "t2", 2000.0).await);
    ok("add_login_token t-old", store.add_login_token(ENTITY, "t-old", 1500.0).await);
    expect_err(
        "add_login_token for an unknown user",
        store.add_login_token("nobody", "t3", 2000.0).await,
        ErrorKind::NotFound,
    );

    assert_eq!(
        ok("redeem t1", store.redeem_login_token("t1", 1000.0).await),
        Some(alice),
        "a valid token gives its user"
    );
    assert_eq!(
        ok("redeem t1 again", store.redeem_login_token("t1", 1000.0).await),
        None,
        "a token is used up by its first redeem"
    );
    assert_eq!(ok("redeem an unknown token", store.redeem_login_token("t9", 1000.0).await), None);
    assert_eq!(
        ok("redeem an expired token", store.redeem_login_token("t-old", 1600.0).await),
        None,
        "an expired token gives no user"
    );
    assert_eq!(ok("redeem t2", store.redeem_login_token("t2", 1999.0).await), Some(bob));
    assert_eq!(ok("redeem t2 again", store.redeem_login_token("t2", 1999.0).await), None);
}

// ---------------------------------------------------------------------------------------------
// Projects
// ---------------------------------------------------------------------------------------------

pub async fn projects(store: &dyn Store) {
    setup(store).await;
    let create = ProjectCreate { name: "vision".into(), description: "image models".into() };
    let project = ok("create_project vision", store.create_project(ENTITY, &create).await);
    assert_eq!(
        (project.entity.as_str(), project.name.as_str(), project.description.as_str(), project.run_count),
        (ENTITY, "vision", "image models", 0),
        "{project:?}"
    );
    unix(&project.created_at);
    assert_eq!(ok("get_project vision", store.get_project(ENTITY, "vision").await), project);
    expect_err("create_project twice", store.create_project(ENTITY, &create).await, ErrorKind::AlreadyExists);
    let empty = ProjectCreate { name: "nlp".into(), description: String::new() };
    ok("create_project nlp", store.create_project(ENTITY, &empty).await);
    expect_err("get_project of a missing project", store.get_project(ENTITY, "missing").await, ErrorKind::NotFound);
    expect_err("get_project of a missing entity", store.get_project("nobody", "vision").await, ErrorKind::NotFound);
    expect_err(
        "create_project in a missing entity",
        store.create_project("nobody", &ProjectCreate { name: "p".into(), description: String::new() }).await,
        ErrorKind::NotFound,
    );
    let long = "p".repeat(65);
    for bad in ["", "has space", "../x", "a/b", ".p", long.as_str()] {
        let create = ProjectCreate { name: bad.to_string(), description: String::new() };
        expect_err(
            &format!("create_project {bad:?}"),
            store.create_project(ENTITY, &create).await,
            ErrorKind::InvalidArgument,
        );
    }

    // Runs count toward their project; the first run in a new project creates it.
    for id in ["r1", "r2"] {
        ok("upsert run", store.upsert_run(ENTITY, "vision", id, &RunUpsert::default()).await);
    }
    ok("upsert run again", store.upsert_run(ENTITY, "vision", "r1", &RunUpsert::default()).await);
    assert_eq!(
        ok("get_project vision", store.get_project(ENTITY, "vision").await).run_count,
        2,
        "run_count after two runs"
    );
    ok("upsert into a new project", store.upsert_run(ENTITY, "fresh", "r1", &RunUpsert::default()).await);
    let fresh = ok("get_project fresh", store.get_project(ENTITY, "fresh").await);
    assert_eq!((fresh.name.as_str(), fresh.description.as_str(), fresh.run_count), ("fresh", "", 1), "{fresh:?}");
    expect_err(
        "upsert into a project with an invalid name",
        store.upsert_run(ENTITY, "bad name", "r1", &RunUpsert::default()).await,
        ErrorKind::InvalidArgument,
    );
    expect_err(
        "upsert into a missing entity",
        store.upsert_run("nobody", "vision", "r1", &RunUpsert::default()).await,
        ErrorKind::NotFound,
    );

    let mut listed: Vec<(String, String, u64)> = ok("list_projects", store.list_projects(ENTITY).await)
        .into_iter()
        .map(|p| (p.name, p.description, p.run_count))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        vec![
            ("fresh".to_string(), String::new(), 1),
            ("nlp".to_string(), String::new(), 0),
            ("vision".to_string(), "image models".to_string(), 2)
        ]
    );
    let bob = ok("create_user bob", store.create_user("bob", false, "bob-key").await);
    assert_eq!(ok("list_projects of bob", store.list_projects(&bob.name).await), Vec::new());
    expect_err("list_projects of a missing entity", store.list_projects("nobody").await, ErrorKind::NotFound);
}

// ---------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------

/// Upsert creates a run, then resumes it: fields given replace, config and metadata merge.
pub async fn runs_upsert_and_resume(store: &dyn Store) {
    setup(store).await;
    let body = RunUpsert {
        config: Some(json!({"lr": 0.1, "optimizer": {"name": "adam", "beta1": 0.9}, "layers": [64, 32]})),
        tags: Some(vec!["baseline".into(), "v1".into()]),
        notes: Some("first try".into()),
        group: Some("sweep-a".into()),
        job_type: Some("train".into()),
        host: Some("gpu-01".into()),
        metadata: Some(json!({"git": {"commit": "abc123"}, "python": "3.12"})),
        ..Default::default()
    };
    let created = ok("upsert new run", store.upsert_run(ENTITY, PROJECT, "r1", &body).await);
    assert!(!created.resumed, "a new run is not resumed");
    assert_eq!((created.last_history_seq, created.last_system_seq, created.console_lines), (None, None, 0));
    let run = &created.run;
    assert_eq!((run.entity.as_str(), run.project.as_str(), run.id.as_str()), (ENTITY, PROJECT, "r1"));
    assert_eq!(run.name, "r1", "the name defaults to the id");
    assert_eq!(run.state, RunState::Running);
    assert_json("config", &run.config, body.config.as_ref().unwrap());
    assert_json("summary", &run.summary, &json!({}));
    assert_json("metadata", &run.metadata, body.metadata.as_ref().unwrap());
    assert_eq!(run.tags, vec!["baseline".to_string(), "v1".to_string()]);
    assert_eq!(run.notes, "first try");
    assert_eq!(run.group.as_deref(), Some("sweep-a"));
    assert_eq!(run.job_type.as_deref(), Some("train"));
    assert_eq!(run.host.as_deref(), Some("gpu-01"));
    assert_eq!(run.sweep, None);
    assert_eq!((run.finished_at.as_deref(), run.exit_code, run.last_step, run.history_rows), (None, None, None, 0));
    for stamp in [&run.created_at, &run.updated_at, &run.heartbeat_at] {
        unix(stamp);
    }
    assert_eq!(&get(store, &run_ref("r1")).await, run, "get_run returns what upsert returned");

    // Resume: config merges (RFC 7386, null removes), absent fields stay.
    let resume = RunUpsert {
        name: Some("nice name".into()),
        config: Some(json!({"lr": null, "optimizer": {"beta1": 0.95, "eps": 1e-8}, "batch": 32})),
        metadata: Some(json!({"python": null, "resumed_from": "r1"})),
        ..Default::default()
    };
    let resumed = ok("upsert existing run", store.upsert_run(ENTITY, PROJECT, "r1", &resume).await);
    assert!(resumed.resumed, "upserting an existing id resumes it");
    let run = &resumed.run;
    assert_eq!(run.name, "nice name");
    assert_json(
        "merged config",
        &run.config,
        &json!({"optimizer": {"name": "adam", "beta1": 0.95, "eps": 1e-8}, "layers": [64, 32], "batch": 32}),
    );
    assert_json("merged metadata", &run.metadata, &json!({"git": {"commit": "abc123"}, "resumed_from": "r1"}));
    assert_eq!(run.tags, vec!["baseline".to_string(), "v1".to_string()], "absent tags stay");
    assert_eq!(
        (run.notes.as_str(), run.group.as_deref(), run.job_type.as_deref()),
        ("first try", Some("sweep-a"), Some("train"))
    );
    assert_eq!(run.created_at, created.run.created_at, "resuming keeps created_at");
    assert_eq!(&get(store, &run_ref("r1")).await, run);

    // Resuming a finished run makes it running again.
    ok(
        "finish r1",
        store
            .patch_run(
                &run_ref("r1"),
                &RunPatch { state: Some(RunState::Finished), exit_code: Some(0), ..Default::default() },
            )
            .await,
    );
    let again = ok("resume finished run", store.upsert_run(ENTITY, PROJECT, "r1", &RunUpsert::default()).await);
    assert!(again.resumed);
    assert_eq!(
        (again.run.state, again.run.finished_at.as_deref()),
        (RunState::Running, None),
        "a resumed run is running"
    );
    assert_eq!(again.run.name, "nice name", "an upsert without a name keeps the name");

    // Resume modes.
    let never = RunUpsert { resume: Some(ResumeMode::Never), ..Default::default() };
    let must = RunUpsert { resume: Some(ResumeMode::Must), ..Default::default() };
    let allow = RunUpsert { resume: Some(ResumeMode::Allow), ..Default::default() };
    expect_err(
        "resume never on an existing run",
        store.upsert_run(ENTITY, PROJECT, "r1", &never).await,
        ErrorKind::AlreadyExists,
    );
    expect_err(
        "resume must on a missing run",
        store.upsert_run(ENTITY, PROJECT, "r2", &must).await,
        ErrorKind::NotFound,
    );
    expect_err("get_run after a refused resume must", store.get_run(&run_ref("r2")).await, ErrorKind::NotFound);
    assert!(!ok("resume never on a new run", store.upsert_run(ENTITY, PROJECT, "r2", &never).await).resumed);
    assert!(ok("resume must on an existing run", store.upsert_run(ENTITY, PROJECT, "r2", &must).await).resumed);
    assert!(!ok("resume allow on a new run", store.upsert_run(ENTITY, PROJECT, "r3", &allow).await).resumed);
    assert!(ok("resume allow on an existing run", store.upsert_run(ENTITY, PROJECT, "r3", &allow).await).resumed);

    // Validation.
    let long = "r".repeat(65);
    for bad in ["", "a/b", "../x", "has space", long.as_str()] {
        expect_err(
            &format!("upsert run id {bad:?}"),
            store.upsert_run(ENTITY, PROJECT, bad, &RunUpsert::default()).await,
            ErrorKind::InvalidArgument,
        );
    }
    let not_object = RunUpsert { config: Some(json!([1, 2])), ..Default::default() };
    expect_err(
        "upsert with a non-object config",
        store.upsert_run(ENTITY, PROJECT, "r4", &not_object).await,
        ErrorKind::InvalidArgument,
    );
    expect_err("get_run of the refused run", store.get_run(&run_ref("r4")).await, ErrorKind::NotFound);
}

pub async fn runs_get_and_list(store: &dyn Store) {
    setup(store).await;
    for id in ["b", "a", "c"] {
        new_run(store, id).await;
    }
    ok("upsert in another project", store.upsert_run(ENTITY, "other", "z", &RunUpsert::default()).await);
    let mut ids: Vec<String> =
        ok("list_runs", store.list_runs(ENTITY, PROJECT).await).into_iter().map(|r| r.id).collect();
    ids.sort();
    assert_eq!(ids, vec!["a", "b", "c"], "list_runs gives the project's runs only");
    for run in ok("list_runs", store.list_runs(ENTITY, PROJECT).await) {
        assert_eq!(get(store, &run_ref(&run.id)).await, run, "list_runs and get_run agree");
    }
    expect_err("get_run of a missing run", store.get_run(&run_ref("missing")).await, ErrorKind::NotFound);
    expect_err(
        "get_run in a missing project",
        store.get_run(&RunRef::new(ENTITY, "nope", "a")).await,
        ErrorKind::NotFound,
    );
    expect_err(
        "get_run in a missing entity",
        store.get_run(&RunRef::new("nobody", PROJECT, "a")).await,
        ErrorKind::NotFound,
    );
    expect_err("get_run of a run in another project", store.get_run(&run_ref("z")).await, ErrorKind::NotFound);
    expect_err("list_runs of a missing project", store.list_runs(ENTITY, "nope").await, ErrorKind::NotFound);
    ok(
        "create_project empty",
        store.create_project(ENTITY, &ProjectCreate { name: "empty".into(), description: String::new() }).await,
    );
    assert_eq!(ok("list_runs of an empty project", store.list_runs(ENTITY, "empty").await), Vec::new());
}

pub async fn runs_patch(store: &dyn Store) {
    setup(store).await;
    let r = new_run(store, "r1").await;
    let patch = RunPatch {
        name: Some("renamed".into()),
        tags: Some(vec!["x".into(), "y".into()]),
        notes: Some("some notes".into()),
        group: Some("g1".into()),
        job_type: Some("eval".into()),
        ..Default::default()
    };
    let run = ok("patch fields", store.patch_run(&r, &patch).await);
    assert_eq!(
        (run.name.as_str(), run.tags.clone(), run.notes.as_str(), run.group.as_deref(), run.job_type.as_deref()),
        ("renamed", vec!["x".to_string(), "y".to_string()], "some notes", Some("g1"), Some("eval"))
    );
    assert_eq!(run.state, RunState::Running, "a patch without state leaves the state");
    assert_eq!(get(store, &r).await, run, "get_run shows the patch");

    let run = ok("empty patch", store.patch_run(&r, &RunPatch::default()).await);
    assert_eq!(
        (run.name.as_str(), run.group.as_deref(), run.notes.as_str()),
        ("renamed", Some("g1"), "some notes"),
        "absent fields stay"
    );
    let run = ok(
        "clear group",
        store.patch_run(&r, &RunPatch { group: Some(String::new()), tags: Some(vec![]), ..Default::default() }).await,
    );
    assert_eq!(run.group, None, "an empty group clears it");
    assert_eq!(run.tags, Vec::<String>::new(), "an empty tag list clears the tags");

    let run = ok(
        "finish",
        store
            .patch_run(&r, &RunPatch { state: Some(RunState::Finished), exit_code: Some(0), ..Default::default() })
            .await,
    );
    assert_eq!((run.state, run.exit_code), (RunState::Finished, Some(0)));
    let finished_at = run.finished_at.clone().expect("a finished run has finished_at");
    unix(&finished_at);
    assert_eq!(get(store, &r).await.finished_at, Some(finished_at));
    let run = ok("exit code only", store.patch_run(&r, &RunPatch { exit_code: Some(3), ..Default::default() }).await);
    assert_eq!((run.state, run.exit_code), (RunState::Finished, Some(3)), "exit_code alone leaves the state");
    assert!(run.finished_at.is_some());

    let run = ok(
        "running again",
        store.patch_run(&r, &RunPatch { state: Some(RunState::Running), ..Default::default() }).await,
    );
    assert_eq!((run.state, run.finished_at.as_deref()), (RunState::Running, None), "running clears finished_at");
    for state in [RunState::Failed, RunState::Killed, RunState::Crashed] {
        let run = ok(
            &format!("state {state:?}"),
            store.patch_run(&r, &RunPatch { state: Some(state), ..Default::default() }).await,
        );
        assert_eq!(run.state, state);
        assert!(run.finished_at.is_some(), "a {state:?} run has finished_at");
    }

    expect_err(
        "patch an empty name",
        store.patch_run(&r, &RunPatch { name: Some(String::new()), ..Default::default() }).await,
        ErrorKind::InvalidArgument,
    );
    expect_err(
        "patch a tag with a control character",
        store.patch_run(&r, &RunPatch { tags: Some(vec!["a\nb".into()]), ..Default::default() }).await,
        ErrorKind::InvalidArgument,
    );
    assert_eq!(get(store, &r).await.name, "renamed", "a refused patch changes nothing");
    expect_err(
        "patch a missing run",
        store.patch_run(&run_ref("missing"), &RunPatch::default()).await,
        ErrorKind::NotFound,
    );
}

pub async fn runs_merge_config_and_summary(store: &dyn Store) {
    setup(store).await;
    let r = new_run(store, "r1").await;
    let run = ok(
        "merge_config",
        store.merge_config(&r, &json!({"model": {"depth": 12, "width": 768}, "lr": 0.001, "tags": ["a"]})).await,
    );
    assert_json("config", &run.config, &json!({"model": {"depth": 12, "width": 768}, "lr": 0.001, "tags": ["a"]}));
    let run = ok(
        "merge_config again",
        store.merge_config(&r, &json!({"model": {"depth": 24, "dropout": null}, "lr": null, "tags": ["b"]})).await,
    );
    assert_json("merged config", &run.config, &json!({"model": {"depth": 24, "width": 768}, "tags": ["b"]}));
    assert_json("summary untouched by merge_config", &run.summary, &json!({}));

    let run =
        ok("merge_summary", store.merge_summary(&r, &json!({"loss": 0.5, "best": {"acc": 0.9, "epoch": 3}})).await);
    assert_json("summary", &run.summary, &json!({"loss": 0.5, "best": {"acc": 0.9, "epoch": 3}}));
    let run = ok(
        "merge_summary again",
        store.merge_summary(&r, &json!({"loss": 0.25, "best": {"epoch": null, "acc": 0.95}, "text": "done"})).await,
    );
    assert_json("merged summary", &run.summary, &json!({"loss": 0.25, "best": {"acc": 0.95}, "text": "done"}));
    assert_json(
        "config untouched by merge_summary",
        &run.config,
        &json!({"model": {"depth": 24, "width": 768}, "tags": ["b"]}),
    );
    let stored = get(store, &r).await;
    assert_json("stored config", &stored.config, &run.config);
    assert_json("stored summary", &stored.summary, &run.summary);

    expect_err("merge_config with a non-object", store.merge_config(&r, &json!(5)).await, ErrorKind::InvalidArgument);
    expect_err(
        "merge_summary with a non-object",
        store.merge_summary(&r, &json!([1])).await,
        ErrorKind::InvalidArgument,
    );
    expect_err(
        "merge_config on a missing run",
        store.merge_config(&run_ref("missing"), &json!({})).await,
        ErrorKind::NotFound,
    );
    expect_err(
        "merge_summary on a missing run",
        store.merge_summary(&run_ref("missing"), &json!({})).await,
        ErrorKind::NotFound,
    );
}

pub async fn runs_delete(store: &dyn Store) {
    setup(store).await;
    let r = new_run(store, "r1").await;
    let keep = new_run(store, "r2").await;
    for run in [&r, &keep] {
        append(
            store,
            run,
            0,
            vec![row(0, 10.0, &[("loss", 1.0)], &[("text", json!("hi"))]), row(1, 11.0, &[("loss", 0.5)], &[])],
        )
        .await;
        ok(
            "append_system",
            store
                .append_system(
                    run,
                    &SystemBatch {
                        seq: 0,
                        rows: vec![SystemRow { time: 10.0, values: [("cpu".to_string(), Scalar(5.0))].into() }],
                    },
                )
                .await,
        );
        ok(
            "append_console",
            store
                .append_console(run, &ConsoleAppend { offset: None, lines: vec!["line".into()], stream: None }, 10.0)
                .await,
        );
        ok(
            "record_file",
            store
                .record_file(
                    run,
                    &RunFile { path: "a.txt".into(), size: 1, sha256: "00".into(), updated_at: String::new() },
                )
                .await,
        );
    }
    ok("delete_run", store.delete_run(&r).await);
    expect_err("get_run after delete", store.get_run(&r).await, ErrorKind::NotFound);
    expect_err("delete_run twice", store.delete_run(&r).await, ErrorKind::NotFound);
    expect_err(
        "history_rows after delete",
        store.history_rows(&r, None, i64::MIN, i64::MAX, 100, false).await,
        ErrorKind::NotFound,
    );
    expect_err("history_keys after delete", store.history_keys(&r).await, ErrorKind::NotFound);
    expect_err(
        "append_history after delete",
        store.append_history(&r, &HistoryBatch { seq: 1, rows: vec![] }).await,
        ErrorKind::NotFound,
    );
    let ids: Vec<String> = ok("list_runs", store.list_runs(ENTITY, PROJECT).await).into_iter().map(|r| r.id).collect();
    assert_eq!(ids, vec!["r2"]);
    assert_eq!(ok("get_project", store.get_project(ENTITY, PROJECT).await).run_count, 1, "run_count after delete");

    // The same id again is a new, empty run: nothing of the deleted one survives.
    let fresh = ok("upsert the deleted id", store.upsert_run(ENTITY, PROJECT, "r1", &RunUpsert::default()).await);
    assert!(!fresh.resumed, "a deleted run is not resumed");
    assert_eq!((fresh.last_history_seq, fresh.last_system_seq, fresh.console_lines), (None, None, 0));
    assert_eq!((fresh.run.last_step, fresh.run.history_rows), (None, 0));
    assert_eq!(all_rows(store, &r, false).await, Vec::<Value>::new(), "history of a deleted run must be gone");
    assert_eq!(all_rows(store, &r, true).await, Vec::<Value>::new(), "system metrics of a deleted run must be gone");
    assert_eq!(ok("history_keys", store.history_keys(&r).await), Vec::new(), "keys of a deleted run must be gone");
    assert_eq!(
        ok("read_console", store.read_console(&r, 0, 100).await).total,
        0,
        "console of a deleted run must be gone"
    );
    assert_eq!(ok("list_files", store.list_files(&r).await), Vec::new(), "files of a deleted run must be gone");
    let ack = append(store, &r, 0, vec![row(0, 20.0, &[("loss", 2.0)], &[])]).await;
    assert!(!ack.duplicate, "seq 0 of the new run is not a duplicate of the deleted run's");
    assert_rows(
        "history of the new run",
        &all_rows(store, &r, false).await,
        &[json!({"_step": 0, "_timestamp": 20.0, "loss": 2.0})],
    );

    // The other run is untouched.
    assert_rows(
        "history of the run kept",
        &all_rows(store, &keep, false).await,
        &[
            json!({"_step": 0, "_timestamp": 10.0, "loss": 1.0, "text": "hi"}),
            json!({"_step": 1, "_timestamp": 11.0, "loss": 0.5}),
        ],
    );
    assert_eq!(ok("read_console", store.read_console(&keep, 0, 100).await).total, 1);
}

pub async fn runs_heartbeat_and_crash(store: &dyn Store) {
    setup(store).await;
    let old = new_run(store, "old").await;
    let done = new_run(store, "done").await;
    ok(
        "finish done",
        store.patch_run(&done, &RunPatch { state: Some(RunState::Finished), ..Default::default() }).await,
    );
    let first_beat = unix(&get(store, &old).await.heartbeat_at);
    pause(60);
    let cutoff = first_beat + 0.03;
    let fresh = new_run(store, "fresh").await;
    assert!(unix(&get(store, &fresh).await.heartbeat_at) > cutoff, "the store's clock must advance");

    let crashed = ok("crash_stale_runs", store.crash_stale_runs(cutoff).await);
    let ids: Vec<&str> = crashed.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["old"], "only running runs whose heartbeat is before the cutoff crash");
    assert_eq!(crashed[0].state, RunState::Crashed, "crash_stale_runs returns the runs as crashed");
    assert_eq!(get(store, &old).await.state, RunState::Crashed);
    assert_eq!(get(store, &fresh).await.state, RunState::Running);
    assert_eq!(get(store, &done).await.state, RunState::Finished, "a finished run never crashes");
    assert_eq!(
        ok("crash_stale_runs again", store.crash_stale_runs(cutoff).await),
        Vec::new(),
        "a crashed run is not crashed twice"
    );

    // A heartbeat brings a crashed run back.
    let before = unix(&get(store, &old).await.heartbeat_at);
    pause(20);
    let run = ok("heartbeat", store.heartbeat(&old).await);
    assert_eq!((run.state, run.finished_at.as_deref()), (RunState::Running, None), "a heartbeat revives a crashed run");
    assert!(unix(&run.heartbeat_at) > before, "heartbeat moves heartbeat_at forward");
    assert_eq!(get(store, &old).await, run);

    // So does a history append.
    pause(20);
    let far = unix(&get(store, &fresh).await.heartbeat_at) + 3600.0;
    let mut crashed: Vec<String> =
        ok("crash every running run", store.crash_stale_runs(far).await).into_iter().map(|r| r.id).collect();
    crashed.sort();
    assert_eq!(crashed, vec!["fresh", "old"]);
    append(store, &fresh, 0, vec![row(0, 1.0, &[("loss", 1.0)], &[])]).await;
    let run = get(store, &fresh).await;
    assert_eq!(
        (run.state, run.finished_at.as_deref()),
        (RunState::Running, None),
        "a history append revives a crashed run"
    );
    assert_eq!(get(store, &old).await.state, RunState::Crashed);

    // A heartbeat does not reopen a finished run.
    let run = ok("heartbeat finished", store.heartbeat(&done).await);
    assert_eq!(run.state, RunState::Finished, "a heartbeat leaves a finished run finished");
    expect_err("heartbeat a missing run", store.heartbeat(&run_ref("missing")).await, ErrorKind::NotFound);
}

// ---------------------------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------------------------

/// Five steps, sent out of order, step 4 in two parts (the later value wins), scalars with
/// NaN and infinities, and object values.
fn mixed_batch() -> Vec<HistoryRow> {
    let image = json!({"_type": "image-file", "path": "media/images/a.png", "size": [3, 4], "meta": {"caption": "x", "n": null}});
    vec![
        row(2, 1002.0, &[("loss", f64::NAN), ("acc", 0.5)], &[("text", json!("two"))]),
        row(0, 1000.0, &[("loss", 1.5)], &[("text", json!("hello")), ("flag", json!(true)), ("img", image)]),
        row(1, 1001.0, &[("loss", f64::INFINITY)], &[]),
        row(3, 1003.0, &[("loss", f64::NEG_INFINITY), ("acc", 0.75)], &[]),
        row(4, 1004.0, &[("loss", 0.25), ("acc", 0.9)], &[]),
        row(4, 1004.0, &[("acc", 1.0)], &[("flag", json!(false))]),
    ]
}

fn mixed_expected() -> Vec<Value> {
    vec![
        json!({"_step": 0, "_timestamp": 1000.0, "loss": 1.5, "text": "hello", "flag": true,
               "img": {"_type": "image-file", "path": "media/images/a.png", "size": [3, 4], "meta": {"caption": "x", "n": null}}}),
        json!({"_step": 1, "_timestamp": 1001.0, "loss": "Infinity"}),
        json!({"_step": 2, "_timestamp": 1002.0, "loss": "NaN", "acc": 0.5, "text": "two"}),
        json!({"_step": 3, "_timestamp": 1003.0, "loss": "-Infinity", "acc": 0.75}),
        json!({"_step": 4, "_timestamp": 1004.0, "loss": 0.25, "acc": 1.0, "flag": false}),
    ]
}

#[track_caller]
fn assert_mixed_keys(keys: &BTreeMap<String, KeyInfo>) {
    let names: Vec<&String> = keys.keys().collect();
    assert_eq!(
        names,
        vec!["History:acc", "History:flag", "History:img", "History:loss", "History:text"],
        "history_keys"
    );
    assert_key(
        keys,
        Stream::History,
        "loss",
        "scalar",
        5,
        (0, 4),
        Some(f64::NEG_INFINITY),
        Some(f64::INFINITY),
        Some(0.25),
    );
    assert_key(keys, Stream::History, "acc", "scalar", 3, (2, 4), Some(0.5), Some(1.0), Some(1.0));
    assert_key(keys, Stream::History, "flag", "object", 2, (0, 4), None, None, None);
    assert_key(keys, Stream::History, "img", "object", 1, (0, 0), None, None, None);
    assert_key(keys, Stream::History, "text", "object", 2, (0, 2), None, None, None);
}

/// A batch reads back exactly: NaN and infinities as their strings, objects per step.
pub async fn history_round_trip(store: &dyn Store) {
    setup(store).await;
    let r = new_run(store, "r1").await;
    let ack = append(store, &r, 0, mixed_batch()).await;
    assert_eq!((ack.seq, ack.duplicate, ack.dropped_points, ack.last_step), (0, false, 0, Some(4)), "ack: {ack:?}");
    assert_eq!(ack.points, 13, "ack.points counts the values stored (8 scalars, 5 objects): {ack:?}");
    assert_rows("history_rows", &all_rows(store, &r, false).await, &mixed_expected());
    let run = get(store, &r).await;
    assert_eq!((run.last_step, run.history_rows), (Some(4), 5), "run.last_step and run.history_rows");
    assert_mixed_keys(&user_keys(store, &r).await);

    // A filter on keys gives those keys (with _step and _timestamp).
    let keys = vec!["acc".to_string(), "img".to_string()];
    let page = ok("history_rows with keys", store.history_rows(&r, Some(&keys), i64::MIN, i64::MAX, 100, false).await);
    let filtered: Vec<Value> =
        page.rows.into_iter().filter(|row| row.get("acc").is_some() || row.get("img").is_some()).collect();
    assert_rows(
        "history_rows with keys [acc, img]",
        &filtered,
        &[
            json!({"_step": 0, "_timestamp": 1000.0, "img": mixed_expected()[0]["img"].clone()}),
            json!({"_step": 2, "_timestamp": 1002.0, "acc": 0.5}),
            json!({"_step": 3, "_timestamp": 1003.0, "acc": 0.75}),
            json!({"_step": 4, "_timestamp": 1004.0, "acc": 1.0}),
        ],
    );

    // History and system metrics are separate.
    assert_eq!(all_rows(store, &r, true).await, Vec::<Value>::new(), "history rows are not system metrics");
    expect_err(
        "append_history to a missing run",
        store.append_history(&run_ref("missing"), &HistoryBatch { seq: 0, rows: mixed_batch() }).await,
        ErrorKind::NotFound,
    );
    expect_err(
        "history_rows of a missing run",
        store.history_rows(&run_ref("missing"), None, 0, 10, 10, false).await,
        ErrorKind::NotFound,
    );
    expect_err("history_keys of a missing run", store.history_keys(&run_ref("missing")).await, ErrorKind::NotFound);
    for (what, bad) in [
        ("a reserved key", row(9, 1.0, &[("_step", 1.0)], &[])),
        ("an empty key", row(9, 1.0, &[("", 1.0)], &[])),
        ("a key both scalar and object", row(9, 1.0, &[("k", 1.0)], &[("k", json!("x"))])),
    ] {
        expect_err(
            &format!("append_history with {what}"),
            store.append_history(&r, &HistoryBatch { seq: 9, rows: vec![bad] }).await,
            ErrorKind::InvalidArgument,
        );
    }
    let mut bad_time = row(9, 1.0, &[("x", 1.0)], &[]);
    bad_time.time = Some(f64::INFINITY);
    expect_err(
        "append_history with an infinite time",
        store.append_history(&r, &HistoryBatch { seq: 9, rows: vec![bad_time] }).await,
        ErrorKind::InvalidArgument,
    );
    assert_rows("history_rows after refused batches", &all_rows(store, &r, false).await, &mixed_expected());
    let ack = append(store, &r, 9, vec![row(5, 1005.0, &[("x", 1.0)], &[])]).await;
    assert!(!ack.duplicate, "a refused batch's seq is not recorded");
}

/// A batch sent twice (same seq) is acknowledged as a duplicate and stored once.
pub async fn history_duplicate_seq(store: &dyn Store) {
    setup(store).await;
    let r = new_run(store, "r1").await;
    let first = append(store, &r, 0, mixed_batch()).await;
    let second = append(store, &r, 0, mixed_batch()).await;
    assert!(!first.duplicate, "{first:?}");
    assert!(second.duplicate, "the same seq again must be acknowledged as a duplicate: {second:?}");
    assert_eq!(second.seq, 0);
    assert_eq!(second.last_step, Some(4));
    assert_rows("history_rows after a duplicate", &all_rows(store, &r, false).await, &mixed_expected());
    let run = get(store, &r).await;
    assert_eq!((run.last_step, run.history_rows), (Some(4), 5), "a duplicate adds no rows");
    assert_mixed_keys(&user_keys(store, &r).await);

    // The seq decides, not the content: a different batch with a stored seq adds nothing.
    let other = append(store, &r, 0, vec![row(10, 1010.0, &[("loss", 3.0)], &[])]).await;
    assert!(other.duplicate, "{other:?}");
    assert_rows("history_rows after a reused seq", &all_rows(store, &r, false).await, &mixed_expected());

    // Later batches, also retried, and an older seq arriving late.
    let ack = append(store, &r, 2, vec![row(5, 1005.0, &[("loss", 0.125)], &[])]).await;
    assert_eq!((ack.duplicate, ack.points, ack.last_step), (false, 1, Some(5)), "{ack:?}");
    assert!(append(store, &r, 2, vec![row(5, 1005.0, &[("loss", 0.125)], &[])]).await.duplicate);
    let late = append(store, &r, 1, vec![row(6, 1006.0, &[("loss", 0.0625)], &[])]).await;
    assert!(!late.duplicate, "a seq never stored is not a duplicate, even below the highest");
    assert!(append(store, &r, 1, vec![]).await.duplicate);
    let mut expected = mixed_expected();
    expected.push(json!({"_step": 5, "_timestamp": 1005.0, "loss": 0.125}));
    expected.push(json!({"_step": 6, "_timestamp": 1006.0, "loss": 0.0625}));
    assert_rows("history_rows", &all_rows(store, &r, false).await, &expected);
    assert_eq!(get(store, &r).await.history_rows, 7);
    let upserted = ok("upsert (resume)", store.upsert_run(ENTITY, PROJECT, "r1", &RunUpsert::default()).await);
    assert_eq!(upserted.last_history_seq, Some(2), "last_history_seq is the highest seq stored");
}

/// Points at or before their key's last stored step are dropped and counted; other keys of the
/// same rows are kept.
pub async fn history_stale_points_dropped(store: &dyn Store) {
    setup(store).await;
    let r = new_run(store, "r1").await;
    append(store, &r, 0, mixed_batch()).await;
    let ack = append(
        store,
        &r,
        1,
        vec![
            row(3, 2003.0, &[("loss", 9.0), ("fresh", 1.0)], &[]),
            row(4, 2004.0, &[("loss", 9.0)], &[("flag", json!("stale"))]),
            row(5, 1005.0, &[("loss", 2.0), ("acc", 0.8)], &[("text", json!("five"))]),
        ],
    )
    .await;
    assert_eq!(
        (ack.duplicate, ack.points, ack.dropped_points, ack.last_step),
        (false, 4, 3, Some(5)),
        "loss at steps 3 and 4 and flag at step 4 are stale (3 dropped); fresh@3, loss@5, acc@5, text@5 are stored: {ack:?}"
    );
    let mut expected = mixed_expected();
    expected[3]["fresh"] = json!(1.0);
    expected.push(json!({"_step": 5, "_timestamp": 1005.0, "loss": 2.0, "acc": 0.8, "text": "five"}));
    assert_rows("history_rows after stale points", &all_rows(store, &r, false).await, &expected);
    let run = get(store, &r).await;
    assert_eq!((run.last_step, run.history_rows), (Some(5), 6));
    let keys = user_keys(store, &r).await;
    assert_key(
        &keys,
        Stream::History,
        "loss",
        "scalar",
        6,
        (0, 5),
        Some(f64::NEG_INFINITY),
        Some(f64::INFINITY),
        Some(2.0),
    );
    assert_key(&keys, Stream::History, "fresh", "scalar", 1, (3, 3), Some(1.0), Some(1.0), Some(1.0));
    assert_key(&keys, Stream::History, "flag", "object", 2, (0, 4), None, None, None);

    // A batch that is all stale stores nothing but is recorded (not a duplicate the first time).
    let ack =
        append(store, &r, 2, vec![row(1, 3001.0, &[("loss", 5.0)], &[]), row(5, 3005.0, &[("acc", 0.1)], &[])]).await;
    assert_eq!((ack.duplicate, ack.points, ack.dropped_points, ack.last_step), (false, 0, 2, Some(5)), "{ack:?}");
    assert_rows("history_rows after an all-stale batch", &all_rows(store, &r, false).await, &expected);
    assert_eq!(get(store, &r).await.history_rows, 6);
    assert!(append(store, &r, 2, vec![]).await.duplicate);
}

/// 3000 rows in batches of uneven sizes: the 1024-point chunks of a key fill, split and
/// continue; steps have gaps. Returns the expected rows.
async fn load_long_history(store: &dyn Store, run: &RunRef) -> Vec<Value> {
    let mut rng = Lcg(42);
    let mut rows = Vec::new();
    let mut expected = Vec::new();
    for i in 0..3000i64 {
        let step = i * 2 + i / 700;
        let time = 5000.0 + i as f64 * 0.25;
        let roll = rng.below(101);
        let y = if i == 2999 {
            0.5
        } else if roll == 0 {
            f64::NAN
        } else if roll == 1 {
            f64::INFINITY
        } else {
            rng.value(100.0)
        };
        let mut scalars = vec![("y", y)];
        let mut want = json!({"_step": step, "_timestamp": time, "y": Scalar::to_json(y)});
        if i % 3 == 0 {
            let z = i as f64 * 0.5;
            scalars.push(("z", z));
            want["z"] = json!(z);
        }
        rows.push(row(step, time, &scalars, &[]));
        expected.push(want);
    }
    let mut rest = rows.as_slice();
    for (seq, size) in [1usize, 1023, 1, 1000, 600, 375].into_iter().enumerate() {
        let (batch, tail) = rest.split_at(size);
        rest = tail;
        let ack = append(store, run, seq as u64, batch.to_vec()).await;
        let z_points = batch.iter().filter(|r| r.scalars.contains_key("z")).count() as u64;
        assert_eq!(
            (ack.duplicate, ack.points, ack.dropped_points, ack.last_step),
            (false, size as u64 + z_points, 0, Some(batch[size - 1].step)),
            "ack of batch {seq}: {ack:?}"
        );
    }
    assert!(rest.is_empty());
    expected
}

pub async fn history_chunk_boundaries(store: &dyn Store) {
    setup(store).await;
    let r = new_run(store, "r1").await;
    let expected = load_long_history(store, &r).await;
    assert_rows("3000 rows across chunk boundaries", &all_rows(store, &r, false).await, &expected);
    let run = get(store, &r).await;
    let last = expected[2999]["_step"].as_i64().unwrap();
    assert_eq!((run.last_step, run.history_rows), (Some(last), 3000));
    let ys: Vec<f64> =
        expected.iter().map(|row| serde_json::from_value::<Scalar>(row["y"].clone()).unwrap().0).collect();
    let min = ys.iter().copied().filter(|v| !v.is_nan()).fold(f64::INFINITY, f64::min);
    let max = ys.iter().copied().filter(|v| !v.is_nan()).fold(f64::NEG_INFINITY, f64::max);
    let keys = user_keys(store, &r).await;
    assert_key(&keys, Stream::History, "y", "scalar", 3000, (0, last), Some(min), Some(max), Some(0.5));
    let z_last = expected[2997]["_step"].as_i64().unwrap();
    assert_key(
        &keys,
        Stream::History,
        "z",
        "scalar",
        1000,
        (0, z_last),
        Some(0.0),
        Some(2997.0 * 0.5),
        Some(2997.0 * 0.5),
    );

    // Appending after the chunks are full keeps every point.
    let ack = append(store, &r, 6, vec![row(last + 1, 9999.0, &[("y", -1.0)], &[])]).await;
    assert_eq!((ack.points, ack.last_step), (1, Some(last + 1)));
    let mut expected = expected;
    expected.push(json!({"_step": last + 1, "_timestamp": 9999.0, "y": -1.0}));
    assert_rows("rows after one more", &all_rows(store, &r, false).await, &expected);
}

/// Pages of `history_rows` visit each row once; step ranges and key filters are exact.
pub async fn history_pagination_and_ranges(store: &dyn Store) {
    setup(store).await;
    let r = new_run(store, "r1").await;
    let expected = load_long_history(store, &r).await;
    for limit in [700usize, 1024, 2999, 3000] {
        let mut seen = Vec::new();
        let mut min_step = i64::MIN;
        let mut pages = 0;
        loop {
            let page = ok("history_rows page", store.history_rows(&r, None, min_step, i64::MAX, limit, false).await);
            pages += 1;
            assert!(page.rows.len() <= limit, "a page holds at most limit rows");
            seen.extend(page.rows);
            match page.next_step {
                Some(next) => {
                    assert!(next > min_step, "next_step must move forward");
                    assert_eq!(seen.len() % limit, 0, "pages before the last are full");
                    min_step = next;
                }
                None => break,
            }
            assert!(pages < 10_000, "pagination does not end");
        }
        assert_eq!(pages, 3000usize.div_ceil(limit), "pages for limit {limit}");
        assert_rows(&format!("rows paged by {limit}"), &seen, &expected);
    }
    // One row at a time over a range.
    let (lo, hi) = (expected[100]["_step"].as_i64().unwrap(), expected[140]["_step"].as_i64().unwrap());
    let mut seen = Vec::new();
    let mut min_step = lo;
    loop {
        let page = ok("history_rows limit 1", store.history_rows(&r, None, min_step, hi, 1, false).await);
        seen.extend(page.rows);
        match page.next_step {
            Some(next) => min_step = next,
            None => break,
        }
    }
    assert_rows("rows paged by 1 over a range", &seen, &expected[100..=140]);

    // A range that starts and ends between steps, and a range past the end.
    let page = ok("history_rows range", store.history_rows(&r, None, lo - 1, hi + 1, 10_000, false).await);
    assert_rows("rows in a range", &page.rows, &expected[100..=140]);
    let end = expected[2999]["_step"].as_i64().unwrap();
    let page = ok("history_rows past the end", store.history_rows(&r, None, end + 1, i64::MAX, 10, false).await);
    assert_eq!((page.rows.len(), page.next_step), (0, None));

    // Only the requested keys.
    let keys = vec!["y".to_string()];
    let page = ok("history_rows keys [y]", store.history_rows(&r, Some(&keys), lo, hi, 10_000, false).await);
    let want: Vec<Value> = expected[100..=140]
        .iter()
        .map(|row| json!({"_step": row["_step"].clone(), "_timestamp": row["_timestamp"].clone(), "y": row["y"].clone()}))
        .collect();
    assert_rows("rows with keys [y]", &page.rows, &want);

    // Pages over rows mixing scalars and objects.
    let r2 = new_run(store, "r2").await;
    append(store, &r2, 0, mixed_batch()).await;
    let mut seen = Vec::new();
    let mut min_step = 0;
    loop {
        let page = ok("history_rows limit 2", store.history_rows(&r2, None, min_step, i64::MAX, 2, false).await);
        seen.extend(page.rows);
        match page.next_step {
            Some(next) => min_step = next,
            None => break,
        }
    }
    assert_rows("mixed rows paged by 2", &seen, &mixed_expected());
}

/// Reads one key with `history_series` and checks it against the rows read of the same range:
/// the same steps in order, each with its row's `_timestamp` (null where the row has none) and
/// its value, exactly. Returns the series.
async fn assert_series_matches_rows(
    store: &dyn Store,
    run: &RunRef,
    key: &str,
    (lo, hi): (i64, i64),
    stream: Stream,
) -> SeriesColumns {
    let what = format!("history_series {key:?} of {run} in [{lo}, {hi}] ({stream:?})");
    let series = ok(&what, store.history_series(run, key, lo, hi, stream).await);
    let keys = vec![key.to_string()];
    let page = ok(
        "history_rows for the same key",
        store.history_rows(run, Some(&keys), lo, hi, 100_000, stream == Stream::System).await,
    );
    assert_eq!(page.next_step, None, "{what}: the rows read must fit one page");
    let expected: Vec<&Value> = page.rows.iter().filter(|row| row.get(key).is_some()).collect();
    assert_eq!(series.key, key, "{what}: key");
    assert_eq!(
        (series.steps.len(), series.times.len(), series.values.len()),
        (expected.len(), expected.len(), expected.len()),
        "{what}: lengths of steps, times, values against the rows holding the key"
    );
    for (index, row) in expected.iter().enumerate() {
        let at = format!("{what}: point {index}, row {row}");
        assert_eq!(Some(series.steps[index]), row["_step"].as_i64(), "{at}: step");
        let time = row.get("_timestamp").and_then(Value::as_f64);
        assert!(
            series.times[index].map(f64::to_bits) == time.map(f64::to_bits),
            "{at}: time {:?}, expected {time:?}",
            series.times[index]
        );
        let value = series.values[index].to_json();
        assert!(same_json(&value, &row[key]), "{at}: value {value}");
    }
    series
}

/// `history_series` gives one key at full resolution, equal to the rows read: scalars with NaN
/// and infinities, objects, a key holding both, steps without a timestamp, exact step ranges
/// across chunk boundaries, system metrics; an unknown key is empty, a missing run not found.
pub async fn history_series_matches_rows(store: &dyn Store) {
    setup(store).await;
    let all = (i64::MIN, i64::MAX);
    let r1 = new_run(store, "r1").await;
    append(store, &r1, 0, mixed_batch()).await;
    for key in ["loss", "acc", "text", "flag", "img", "_timestamp"] {
        assert_series_matches_rows(store, &r1, key, all, Stream::History).await;
    }
    let loss = assert_series_matches_rows(store, &r1, "loss", all, Stream::History).await;
    let values: Vec<Value> = loss.values.iter().map(|v| v.to_json()).collect();
    assert_eq!(
        (loss.steps, loss.times, values),
        (
            vec![0, 1, 2, 3, 4],
            vec![Some(1000.0), Some(1001.0), Some(1002.0), Some(1003.0), Some(1004.0)],
            vec![json!(1.5), json!("Infinity"), json!("NaN"), json!("-Infinity"), json!(0.25)]
        ),
        "history_series loss"
    );
    let part = assert_series_matches_rows(store, &r1, "loss", (1, 3), Stream::History).await;
    assert_eq!(part.steps, vec![1, 2, 3], "history_series loss in [1, 3]");
    let unknown =
        ok("history_series of an unknown key", store.history_series(&r1, "nope", 0, 10, Stream::History).await);
    assert_eq!(unknown, SeriesColumns { key: "nope".into(), ..Default::default() }, "an unknown key is empty");
    let empty = assert_series_matches_rows(store, &r1, "loss", (3, 2), Stream::History).await;
    assert!(empty.steps.is_empty(), "an empty range reads nothing");
    expect_err(
        "history_series of a missing run",
        store.history_series(&run_ref("missing"), "loss", i64::MIN, i64::MAX, Stream::History).await,
        ErrorKind::NotFound,
    );

    // Steps whose timestamp was dropped (other keys had already gone past them), and a key
    // logged as a number at some steps and as an object at others.
    append(store, &r1, 1, vec![row(10, 1010.0, &[("late", 1.0)], &[]), row(11, 1011.0, &[("mixed", 0.5)], &[])]).await;
    append(
        store,
        &r1,
        2,
        vec![
            row(6, 2006.0, &[("fresh", f64::NAN)], &[]),
            row(7, 2007.0, &[], &[("mixed", json!({"n": 7}))]),
            row(12, 1012.0, &[], &[("mixed", json!("twelve"))]),
        ],
    )
    .await;
    let mixed = assert_series_matches_rows(store, &r1, "mixed", all, Stream::History).await;
    assert_eq!(mixed.steps, vec![7, 11, 12], "history_series of a key with both kinds");
    assert_eq!(mixed.times, vec![None, Some(1011.0), Some(1012.0)], "step 7 has no timestamp");
    assert_series_matches_rows(store, &r1, "mixed", (8, 11), Stream::History).await;
    let fresh = assert_series_matches_rows(store, &r1, "fresh", all, Stream::History).await;
    assert_eq!((fresh.steps, fresh.times), (vec![6], vec![None]), "history_series fresh");

    // Thousands of points across chunk boundaries, whole and in ranges that start and end
    // inside chunks, between steps, or past the end.
    let r2 = new_run(store, "r2").await;
    let expected = load_long_history(store, &r2).await;
    let step = |index: usize| expected[index]["_step"].as_i64().unwrap();
    let end = step(2999);
    for key in ["y", "z"] {
        let whole = assert_series_matches_rows(store, &r2, key, all, Stream::History).await;
        assert_eq!(whole.steps.len(), if key == "y" { 3000 } else { 1000 }, "history_series {key}: every point");
        for range in [
            (step(100), step(140)),
            (step(100) - 1, step(2500) + 1),
            (step(1023), step(1024)),
            (step(1000), end + 5),
            (end + 1, i64::MAX),
            (i64::MIN, step(0)),
        ] {
            assert_series_matches_rows(store, &r2, key, range, Stream::History).await;
        }
    }
    let y: Vec<Value> = assert_series_matches_rows(store, &r2, "y", all, Stream::History)
        .await
        .values
        .iter()
        .map(|v| v.to_json())
        .collect();
    let want: Vec<Value> = expected.iter().map(|row| row["y"].clone()).collect();
    assert!(y.iter().zip(&want).all(|(a, b)| same_json(a, b)), "history_series y equals what was logged");
    assert!(y.iter().any(|v| v == "NaN") && y.iter().any(|v| v == "Infinity"), "the long series has NaN and inf");

    // System metrics are their own stream.
    let first = SystemBatch {
        seq: 0,
        rows: vec![sample(1000.0, &[("system/cpu", 10.0)]), sample(1010.0, &[("system/cpu", f64::NAN)])],
    };
    ok("append_system", store.append_system(&r1, &first).await);
    let cpu = assert_series_matches_rows(store, &r1, "system/cpu", all, Stream::System).await;
    assert_eq!((cpu.steps, cpu.times), (vec![0, 1], vec![Some(1000.0), Some(1010.0)]), "system/cpu");
    let in_history =
        ok("history_series", store.history_series(&r1, "system/cpu", i64::MIN, i64::MAX, Stream::History).await);
    assert!(in_history.steps.is_empty(), "a system key is not in the history stream");
    let loss_in_system =
        ok("history_series", store.history_series(&r1, "loss", i64::MIN, i64::MAX, Stream::System).await);
    assert!(loss_in_system.steps.is_empty(), "a history key is not in the system stream");
}

/// Batches sent at the same time to one run all land once, and a batch retried while the first
/// send is still in flight is stored once.
pub async fn history_concurrent_appends(store: &dyn Store) {
    setup(store).await;
    let r = new_run(store, "r1").await;
    let batch = |i: u64| HistoryBatch {
        seq: i,
        rows: (0..200)
            .map(|s| row(s, 100.0 + s as f64, &[(format!("k{i}").as_str(), (s * 10 + i as i64) as f64)], &[]))
            .collect(),
    };
    let mut sends = Vec::new();
    for i in 0..8u64 {
        sends.push(batch(i));
    }
    sends.push(batch(0));
    sends.push(batch(0));
    let acks = futures::future::join_all(sends.iter().map(|b| store.append_history(&r, b))).await;
    let acks: Vec<IngestAck> = acks.into_iter().map(|a| ok("concurrent append_history", a)).collect();
    let stored_seq0 = acks.iter().filter(|a| a.seq == 0 && !a.duplicate).count();
    assert_eq!(stored_seq0, 1, "seq 0 sent three times at once must be stored once: {acks:?}");
    assert!(acks.iter().filter(|a| a.seq != 0).all(|a| !a.duplicate && a.points == 200), "{acks:?}");
    let expected: Vec<Value> = (0..200i64)
        .map(|s| {
            let mut row = json!({"_step": s, "_timestamp": 100.0 + s as f64});
            for i in 0..8 {
                row[format!("k{i}")] = json!((s * 10 + i) as f64);
            }
            row
        })
        .collect();
    assert_rows("rows after concurrent appends", &all_rows(store, &r, false).await, &expected);
    let run = get(store, &r).await;
    assert_eq!((run.last_step, run.history_rows), (Some(199), 200), "concurrent batches over the same steps");
    let keys = user_keys(store, &r).await;
    for i in 0..8 {
        assert_eq!(keys[&format!("History:k{i}")].count, 200, "k{i}: each point once");
    }
}

/// What a resuming client needs comes back from upsert.
pub async fn history_resume_state(store: &dyn Store) {
    setup(store).await;
    let r = new_run(store, "r1").await;
    append(store, &r, 0, vec![row(0, 1.0, &[("loss", 1.0)], &[]), row(1, 2.0, &[("loss", 0.9)], &[])]).await;
    append(store, &r, 1, vec![row(7, 3.0, &[("loss", 0.8)], &[])]).await;
    ok(
        "append_system",
        store
            .append_system(
                &r,
                &SystemBatch {
                    seq: 4,
                    rows: vec![SystemRow { time: 1.0, values: [("cpu".to_string(), Scalar(1.0))].into() }],
                },
            )
            .await,
    );
    ok(
        "append_console",
        store
            .append_console(
                &r,
                &ConsoleAppend { offset: None, lines: vec!["a".into(), "b".into(), "c".into()], stream: None },
                1.0,
            )
            .await,
    );
    let resumed = ok("upsert (resume)", store.upsert_run(ENTITY, PROJECT, "r1", &RunUpsert::default()).await);
    assert!(resumed.resumed);
    assert_eq!(
        (resumed.last_history_seq, resumed.last_system_seq, resumed.console_lines),
        (Some(1), Some(4), 3),
        "last_history_seq, last_system_seq, console_lines"
    );
    assert_eq!((resumed.run.last_step, resumed.run.history_rows), (Some(7), 3), "run.last_step and run.history_rows");
    // The client continues after the last step; the next batch is not a duplicate.
    let ack = append(store, &r, 2, vec![row(8, 4.0, &[("loss", 0.7)], &[])]).await;
    assert_eq!((ack.duplicate, ack.dropped_points, ack.last_step), (false, 0, Some(8)));
}

// ---------------------------------------------------------------------------------------------
// System metrics
// ---------------------------------------------------------------------------------------------

fn sample(time: f64, values: &[(&str, f64)]) -> SystemRow {
    SystemRow { time, values: values.iter().map(|(k, v)| (k.to_string(), Scalar(*v))).collect() }
}

pub async fn system_metrics(store: &dyn Store) {
    setup(store).await;
    let r = new_run(store, "r1").await;
    append(store, &r, 0, vec![row(0, 1.0, &[("loss", 1.0)], &[])]).await;
    let first = SystemBatch {
        seq: 0,
        rows: vec![
            sample(1000.0, &[("system/cpu", 10.0), ("system/mem", 50.0)]),
            sample(1010.0, &[("system/cpu", 20.0)]),
        ],
    };
    let ack = ok("append_system seq 0", store.append_system(&r, &first).await);
    assert!(!ack.duplicate, "system seq 0 is separate from history seq 0: {ack:?}");
    assert_eq!((ack.seq, ack.rows, ack.points), (0, 2, 3), "{ack:?}");
    let second = SystemBatch { seq: 1, rows: vec![sample(1020.0, &[("system/cpu", 30.0), ("system/mem", f64::NAN)])] };
    ok("append_system seq 1", store.append_system(&r, &second).await);
    let expected = vec![
        json!({"_step": 0, "_timestamp": 1000.0, "system/cpu": 10.0, "system/mem": 50.0}),
        json!({"_step": 1, "_timestamp": 1010.0, "system/cpu": 20.0}),
        json!({"_step": 2, "_timestamp": 1020.0, "system/cpu": 30.0, "system/mem": "NaN"}),
    ];
    assert_rows("system rows", &all_rows(store, &r, true).await, &expected);

    let again = ok("append_system seq 1 again", store.append_system(&r, &second).await);
    assert!(again.duplicate, "{again:?}");
    assert_rows("system rows after a duplicate", &all_rows(store, &r, true).await, &expected);

    let third = SystemBatch { seq: 2, rows: vec![sample(1030.0, &[("system/cpu", 40.0), ("system/mem", 60.0)])] };
    ok("append_system seq 2", store.append_system(&r, &third).await);
    let mut expected = expected;
    expected.push(json!({"_step": 3, "_timestamp": 1030.0, "system/cpu": 40.0, "system/mem": 60.0}));
    assert_rows("system rows numbered on", &all_rows(store, &r, true).await, &expected);

    // System samples leave the history alone.
    assert_rows(
        "history rows",
        &all_rows(store, &r, false).await,
        &[json!({"_step": 0, "_timestamp": 1.0, "loss": 1.0})],
    );
    let run = get(store, &r).await;
    assert_eq!((run.last_step, run.history_rows), (Some(0), 1), "system samples are not history rows");
    let keys = user_keys(store, &r).await;
    assert_key(&keys, Stream::System, "system/cpu", "scalar", 4, (0, 3), Some(10.0), Some(40.0), Some(40.0));
    assert_key(&keys, Stream::System, "system/mem", "scalar", 3, (0, 3), Some(50.0), Some(60.0), Some(60.0));
    assert_key(&keys, Stream::History, "loss", "scalar", 1, (0, 0), Some(1.0), Some(1.0), Some(1.0));
    let sys_only = new_run(store, "r2").await;
    ok("append_system", store.append_system(&sys_only, &first).await);
    assert_eq!(get(store, &sys_only).await.last_step, None);
    assert_eq!(all_rows(store, &sys_only, false).await, Vec::<Value>::new());
    let bad = SystemBatch { seq: 5, rows: vec![sample(f64::NAN, &[("system/cpu", 1.0)])] };
    expect_err("append_system with a NaN time", store.append_system(&r, &bad).await, ErrorKind::InvalidArgument);
    expect_err(
        "append_system to a missing run",
        store.append_system(&run_ref("missing"), &first).await,
        ErrorKind::NotFound,
    );
}

// ---------------------------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------------------------

struct ChartRun {
    id: &'static str,
    y: Vec<Point>,
    time: BTreeMap<i64, f64>,
}

const SPIKE: f64 = 1e12;
const SPIKE_RUN: usize = 1;

/// Three runs of the key `y`: different lengths and step offsets, gaps, NaN (scattered and one
/// all-NaN stretch), one huge spike in run 1. Loaded in uneven batches.
async fn load_chart_runs(store: &dyn Store) -> Vec<ChartRun> {
    let mut rng = Lcg(7);
    let mut out = Vec::new();
    for (index, (id, len, start)) in
        [("c0", 2500usize, 0i64), ("c1", 1700, 500), ("c2", 3300, 37)].into_iter().enumerate()
    {
        let mut step = start;
        let mut y = Vec::new();
        let mut time = BTreeMap::new();
        let mut level = 0.0;
        for i in 0..len {
            level += rng.value(1.0);
            let value = if index == SPIKE_RUN && i == 1234 {
                SPIKE
            } else if rng.below(60) == 0 || (index == 2 && (1000..1040).contains(&i)) {
                f64::NAN
            } else {
                level + rng.value(0.5)
            };
            y.push(Point::new(step, value));
            time.insert(step, 1.7e9 + index as f64 * 123.4 + step as f64 * 0.731 + rng.below(100) as f64 * 1e-3);
            step += 1 + rng.below(3) as i64;
        }
        let run = new_run(store, id).await;
        let rows: Vec<HistoryRow> = y.iter().map(|p| row(p.step, time[&p.step], &[("y", p.value)], &[])).collect();
        let mut rest = rows.as_slice();
        let mut seq = 0;
        let sizes = [700usize, 13, 1024, 1, 999, 333];
        while !rest.is_empty() {
            let size = sizes[seq % sizes.len()].min(rest.len());
            let (batch, tail) = rest.split_at(size);
            append(store, &run, seq as u64, batch.to_vec()).await;
            rest = tail;
            seq += 1;
        }
        out.push(ChartRun { id, y, time });
    }
    out
}

fn chart_query(runs: &[&str], x: XAxis, x_min: Option<f64>, x_max: Option<f64>, buckets: u32) -> ChartQuery {
    ChartQuery {
        runs: runs.iter().map(|r| r.to_string()).collect(),
        keys: vec!["y".into()],
        x,
        x_min,
        x_max,
        buckets: Some(buckets),
    }
}

#[track_caller]
fn assert_series(what: &str, series: &ChartSeries, expected: &BTreeMap<u32, Summary>, x_of: impl Fn(i64) -> f64) {
    let buckets: Vec<u32> = expected.keys().copied().collect();
    assert_eq!(series.bucket, buckets, "{what}: non-empty buckets");
    let n = buckets.len();
    let lens = [
        series.count.len(),
        series.first_x.len(),
        series.first_y.len(),
        series.last_x.len(),
        series.last_y.len(),
        series.min_x.len(),
        series.min_y.len(),
        series.max_x.len(),
        series.max_y.len(),
    ];
    assert!(lens.iter().all(|len| *len == n), "{what}: the arrays must all hold {n} entries: {lens:?}");
    let same_opt = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => same_f64(a, b),
        (None, None) => true,
        _ => false,
    };
    for (i, (bucket, s)) in expected.iter().enumerate() {
        let at = format!("{what}: bucket {bucket}");
        assert_eq!(series.count[i], s.count, "{at}: count");
        assert!(
            same_f64(series.first_x[i], x_of(s.first.step)),
            "{at}: first_x {} != {}",
            series.first_x[i],
            x_of(s.first.step)
        );
        assert!(
            same_f64(series.first_y[i].0, s.first.value),
            "{at}: first_y {:?} != {}",
            series.first_y[i],
            s.first.value
        );
        assert!(
            same_f64(series.last_x[i], x_of(s.last.step)),
            "{at}: last_x {} != {}",
            series.last_x[i],
            x_of(s.last.step)
        );
        assert!(same_f64(series.last_y[i].0, s.last.value), "{at}: last_y {:?} != {}", series.last_y[i], s.last.value);
        assert!(
            same_opt(series.min_x[i], s.min.map(|p| x_of(p.step))),
            "{at}: min_x {:?} != {:?}",
            series.min_x[i],
            s.min
        );
        assert!(
            same_opt(series.min_y[i].map(|v| v.0), s.min.map(|p| p.value)),
            "{at}: min_y {:?} != {:?}",
            series.min_y[i],
            s.min
        );
        assert!(
            same_opt(series.max_x[i], s.max.map(|p| x_of(p.step))),
            "{at}: max_x {:?} != {:?}",
            series.max_x[i],
            s.max
        );
        assert!(
            same_opt(series.max_y[i].map(|v| v.0), s.max.map(|p| p.value)),
            "{at}: max_y {:?} != {:?}",
            series.max_y[i],
            s.max
        );
    }
}

#[track_caller]
fn assert_response_shape(what: &str, answer: &ChartResponse, runs: &[&str], x: &XAxis, buckets: u32) {
    assert_eq!(&answer.x, x, "{what}: x");
    assert_eq!(answer.buckets, buckets, "{what}: buckets");
    let order: Vec<(&str, &str)> = answer.series.iter().map(|s| (s.run.as_str(), s.key.as_str())).collect();
    let want: Vec<(&str, &str)> = runs.iter().map(|r| (*r, "y")).collect();
    assert_eq!(order, want, "{what}: one series per run and key, in query order");
}

/// `chart()` on the step axis equals a brute-force M4 of the raw points, and never hides the spike.
pub async fn chart_step_axis(store: &dyn Store) {
    setup(store).await;
    let data = load_chart_runs(store).await;
    let ids: Vec<&str> = data.iter().map(|r| r.id).collect();
    let spike_step = data[SPIKE_RUN].y.iter().find(|p| p.value == SPIKE).unwrap().step;
    let extent =
        (data.iter().map(|r| r.y[0].step).min().unwrap(), data.iter().map(|r| r.y[r.y.len() - 1].step).max().unwrap());
    let mut cases: Vec<(Option<f64>, Option<f64>, u32)> =
        [1, 2, 7, 100, 999, 1000, 10_000].into_iter().map(|n| (None, None, n)).collect();
    cases.extend([
        (Some(100.5), Some(2000.0), 50),
        (Some(-1000.0), Some(1.0e5), 333),
        (Some(1500.0), None, 64),
        (None, Some(450.0), 64),
        (Some(spike_step as f64), Some(spike_step as f64), 10),
        (Some(spike_step as f64 - 40.0), Some(spike_step as f64 + 40.0), 3),
        (Some(2100.0), Some(2200.0), 1000),
        (Some(extent.1 as f64 + 10.0), Some(extent.1 as f64 + 20.0), 5),
    ]);
    for (x_min, x_max, n) in cases {
        let what = format!("chart step x_min={x_min:?} x_max={x_max:?} buckets={n}");
        let query = chart_query(&ids, XAxis::Step, x_min, x_max, n);
        let answer = ok(&what, store.chart(ENTITY, PROJECT, &query).await);
        assert_response_shape(&what, &answer, &ids, &XAxis::Step, n);
        let lo = x_min.map_or(extent.0, |v| v.ceil() as i64);
        let hi = x_max.map_or(extent.1, |v| v.floor() as i64);
        assert_eq!((answer.x_min, answer.x_max), (Some(lo as f64), Some(hi as f64)), "{what}: x range");
        let buckets = StepBuckets { lo, hi, n };
        for (run, series) in data.iter().zip(&answer.series) {
            let expected = reduce_points(run.y.iter().copied(), |p| {
                (p.step >= lo && p.step <= hi).then(|| buckets.bucket_of(p.step))
            });
            assert_series(&format!("{what}, run {}", run.id), series, &expected, |step| step as f64);
        }
        if (lo..=hi).contains(&spike_step) {
            let series = &answer.series[SPIKE_RUN];
            let at =
                series.bucket.iter().position(|b| *b == buckets.bucket_of(spike_step)).expect("the spike's bucket");
            assert_eq!(series.max_y[at].map(|v| v.0), Some(SPIKE), "{what}: the spike must be the max of its bucket");
            assert_eq!(series.max_x[at], Some(spike_step as f64), "{what}: at its step");
        }
    }
}

/// `chart()` with x = time: each point's x is its row's `_timestamp`; buckets divide the time range.
pub async fn chart_time_axis(store: &dyn Store) {
    setup(store).await;
    let data = load_chart_runs(store).await;
    let ids: Vec<&str> = data.iter().map(|r| r.id).collect();
    let spike = data[SPIKE_RUN].y.iter().find(|p| p.value == SPIKE).unwrap().step;
    let spike_time = data[SPIKE_RUN].time[&spike];
    let t_min = data.iter().flat_map(|r| r.time.values().copied()).fold(f64::INFINITY, f64::min);
    let t_max = data.iter().flat_map(|r| r.time.values().copied()).fold(f64::NEG_INFINITY, f64::max);
    let mut cases: Vec<(Option<f64>, Option<f64>, u32)> =
        [1, 10, 500, 4000].into_iter().map(|n| (None, None, n)).collect();
    cases.extend([
        (Some(t_min + 300.0), Some(t_min + 900.0), 100),
        (Some(spike_time - 5.0), Some(spike_time + 5.0), 7),
        (Some(t_min + 1000.0), None, 250),
    ]);
    for (x_min, x_max, n) in cases {
        let what = format!("chart time x_min={x_min:?} x_max={x_max:?} buckets={n}");
        let query = chart_query(&ids, XAxis::parse("time"), x_min, x_max, n);
        let answer = ok(&what, store.chart(ENTITY, PROJECT, &query).await);
        assert_response_shape(&what, &answer, &ids, &XAxis::Time, n);
        let (lo, hi) = (x_min.unwrap_or(t_min), x_max.unwrap_or(t_max));
        assert_eq!((answer.x_min, answer.x_max), (Some(lo), Some(hi)), "{what}: x range");
        let width = hi - lo;
        let bucket_of_x = |x: f64| -> Option<u32> {
            if !(x >= lo && x <= hi) {
                return None;
            }
            if width <= 0.0 {
                return Some(0);
            }
            Some((((x - lo) / width) * n as f64).floor().clamp(0.0, (n - 1) as f64) as u32)
        };
        for (run, series) in data.iter().zip(&answer.series) {
            let expected = reduce_points(run.y.iter().copied(), |p| bucket_of_x(run.time[&p.step]));
            assert_series(&format!("{what}, run {}", run.id), series, &expected, |step| run.time[&step]);
        }
        if spike_time >= lo && spike_time <= hi {
            let peak = answer.series[SPIKE_RUN].max_y.iter().flatten().map(|v| v.0).fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(peak, SPIKE, "{what}: the spike must be visible");
        }
    }
    let relative = ok(
        "chart relative_time",
        store.chart(ENTITY, PROJECT, &chart_query(&ids, XAxis::RelativeTime, None, None, 10)).await,
    );
    assert_eq!(relative.x, XAxis::RelativeTime);
    assert_eq!(relative.x_min, Some(0.0), "relative time starts at 0");
    for (run, series) in data.iter().zip(&relative.series) {
        let total: u64 = series.count.iter().sum();
        assert_eq!(total, run.y.len() as u64, "relative_time, run {}: every point is in some bucket", run.id);
    }
}

pub async fn chart_missing_runs_and_keys(store: &dyn Store) {
    setup(store).await;
    let r = new_run(store, "r1").await;
    new_run(store, "empty").await;
    append(store, &r, 0, (0..10).map(|s| row(s, 100.0 + s as f64, &[("y", s as f64)], &[])).collect()).await;
    expect_err(
        "chart with an unknown run",
        store.chart(ENTITY, PROJECT, &chart_query(&["r1", "nope"], XAxis::Step, None, None, 10)).await,
        ErrorKind::NotFound,
    );
    expect_err(
        "chart in an unknown project",
        store.chart(ENTITY, "nope", &chart_query(&["r1"], XAxis::Step, None, None, 10)).await,
        ErrorKind::NotFound,
    );

    let answer = ok(
        "chart with a run without the key",
        store.chart(ENTITY, PROJECT, &chart_query(&["r1", "empty"], XAxis::Step, None, None, 10)).await,
    );
    assert_response_shape("chart r1+empty", &answer, &["r1", "empty"], &XAxis::Step, 10);
    assert_eq!((answer.x_min, answer.x_max), (Some(0.0), Some(9.0)));
    assert_eq!(answer.series[0].bucket, (0..10).collect::<Vec<u32>>());
    assert_eq!(
        answer.series[1],
        ChartSeries { run: "empty".into(), key: "y".into(), ..Default::default() },
        "a run without the key has an empty series"
    );

    let mut query = chart_query(&["r1", "empty"], XAxis::Step, None, None, 10);
    query.keys = vec!["missing".into()];
    let answer = ok("chart of a key no run has", store.chart(ENTITY, PROJECT, &query).await);
    assert_eq!((answer.x_min, answer.x_max), (None, None), "no data: no x range");
    assert_eq!(answer.series.len(), 2);
    assert!(answer.series.iter().all(|s| s.bucket.is_empty() && s.count.is_empty()), "no data: empty series");

    let time = ok(
        "chart time with a run without data",
        store.chart(ENTITY, PROJECT, &chart_query(&["r1", "empty"], XAxis::Time, None, None, 5)).await,
    );
    assert_eq!((time.x_min, time.x_max), (Some(100.0), Some(109.0)));
    assert_eq!(time.series[0].count, vec![2, 2, 2, 2, 2]);
    assert!(time.series[1].bucket.is_empty());

    for (what, query) in [
        ("no runs", ChartQuery { runs: vec![], ..chart_query(&["r1"], XAxis::Step, None, None, 10) }),
        ("zero buckets", chart_query(&["r1"], XAxis::Step, None, None, 0)),
        ("x_min > x_max", chart_query(&["r1"], XAxis::Step, Some(5.0), Some(1.0), 10)),
    ] {
        expect_err(
            &format!("chart with {what}"),
            store.chart(ENTITY, PROJECT, &query).await,
            ErrorKind::InvalidArgument,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Console and files
// ---------------------------------------------------------------------------------------------

fn lines(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| t.to_string()).collect()
}

pub async fn console(store: &dyn Store) {
    setup(store).await;
    let r = new_run(store, "r1").await;
    let msg = |offset: Option<u64>, texts: &[&str], stream: Option<&str>| ConsoleAppend {
        offset,
        lines: lines(texts),
        stream: stream.map(str::to_string),
    };
    assert_eq!(ok("append 3", store.append_console(&r, &msg(None, &["a", "b", "c"], None), 10.0).await), 3);
    assert_eq!(ok("append stderr", store.append_console(&r, &msg(None, &["err"], Some("stderr")), 11.0).await), 4);
    assert_eq!(
        ok("append at the end", store.append_console(&r, &msg(Some(4), &["progress 10%"], None), 12.0).await),
        5
    );
    assert_eq!(
        ok("overwrite (progress bar)", store.append_console(&r, &msg(Some(4), &["progress 50%"], None), 13.0).await),
        5
    );
    assert_eq!(
        ok(
            "overwrite and extend",
            store.append_console(&r, &msg(Some(4), &["progress 100%", "done"], Some("stdout")), 14.0).await
        ),
        6
    );
    assert_eq!(
        ok("overwrite in the middle", store.append_console(&r, &msg(Some(1), &["B"], Some("stderr")), 15.0).await),
        6
    );
    expect_err(
        "offset past the end",
        store.append_console(&r, &msg(Some(7), &["x"], None), 16.0).await,
        ErrorKind::InvalidArgument,
    );
    expect_err(
        "unknown stream",
        store.append_console(&r, &msg(None, &["x"], Some("stdweird")), 16.0).await,
        ErrorKind::InvalidArgument,
    );
    expect_err(
        "append to a missing run",
        store.append_console(&run_ref("missing"), &msg(None, &["x"], None), 16.0).await,
        ErrorKind::NotFound,
    );

    let page = ok("read_console", store.read_console(&r, 0, 100).await);
    assert_eq!(page.total, 6);
    let got: Vec<(u64, &str, &str, f64)> =
        page.lines.iter().map(|l| (l.index, l.stream.as_str(), l.text.as_str(), l.time)).collect();
    assert_eq!(
        got,
        vec![
            (0, "stdout", "a", 10.0),
            (1, "stderr", "B", 15.0),
            (2, "stdout", "c", 10.0),
            (3, "stderr", "err", 11.0),
            (4, "stdout", "progress 100%", 14.0),
            (5, "stdout", "done", 14.0),
        ]
    );
    let page = ok("read_console offset 2 limit 2", store.read_console(&r, 2, 2).await);
    let got: Vec<(u64, &str)> = page.lines.iter().map(|l| (l.index, l.text.as_str())).collect();
    assert_eq!((got, page.total), (vec![(2, "c"), (3, "err")], 6));
    let page = ok("read_console past the end", store.read_console(&r, 6, 10).await);
    assert_eq!((page.lines.len(), page.total), (0, 6));
    let page = ok("read_console limit 0", store.read_console(&r, 0, 0).await);
    assert_eq!((page.lines.len(), page.total), (0, 6));
    assert_eq!(ok("append nothing", store.append_console(&r, &msg(None, &[], None), 17.0).await), 6);
    assert_eq!(
        ok("upsert (resume)", store.upsert_run(ENTITY, PROJECT, "r1", &RunUpsert::default()).await).console_lines,
        6
    );
    expect_err(
        "read_console of a missing run",
        store.read_console(&run_ref("missing"), 0, 10).await,
        ErrorKind::NotFound,
    );
}

pub async fn files(store: &dyn Store) {
    setup(store).await;
    let r = new_run(store, "r1").await;
    let file = |path: &str, size: u64, sha: &str| RunFile {
        path: path.into(),
        size,
        sha256: sha.into(),
        updated_at: String::new(),
    };
    ok("record_file model", store.record_file(&r, &file("model/weights.bin", 1024, "aa11")).await);
    ok("record_file config", store.record_file(&r, &file("config.yaml", 12, "bb22")).await);
    let got = ok("get_file", store.get_file(&r, "model/weights.bin").await);
    assert_eq!((got.path.as_str(), got.size, got.sha256.as_str()), ("model/weights.bin", 1024, "aa11"));
    unix(&got.updated_at);
    let listed = |files: Vec<RunFile>| {
        let mut out: Vec<(String, u64, String)> = files.into_iter().map(|f| (f.path, f.size, f.sha256)).collect();
        out.sort();
        out
    };
    assert_eq!(
        listed(ok("list_files", store.list_files(&r).await)),
        vec![("config.yaml".into(), 12, "bb22".into()), ("model/weights.bin".into(), 1024, "aa11".into())]
    );
    ok("record_file overwrite", store.record_file(&r, &file("model/weights.bin", 2048, "cc33")).await);
    let got = ok("get_file after overwrite", store.get_file(&r, "model/weights.bin").await);
    assert_eq!((got.size, got.sha256.as_str()), (2048, "cc33"));
    assert_eq!(
        listed(ok("list_files", store.list_files(&r).await)),
        vec![("config.yaml".into(), 12, "bb22".into()), ("model/weights.bin".into(), 2048, "cc33".into())],
        "an overwrite replaces the record"
    );
    for bad in ["../x", "/etc/passwd", "a//b", "a/./b", "a\\b", ""] {
        expect_err(
            &format!("record_file {bad:?}"),
            store.record_file(&r, &file(bad, 1, "00")).await,
            ErrorKind::InvalidArgument,
        );
    }
    assert_eq!(ok("list_files", store.list_files(&r).await).len(), 2, "refused paths are not recorded");
    expect_err("get_file of a missing path", store.get_file(&r, "missing.txt").await, ErrorKind::NotFound);
    expect_err("get_file of a directory", store.get_file(&r, "model").await, ErrorKind::NotFound);
    let other = new_run(store, "r2").await;
    assert_eq!(ok("list_files of another run", store.list_files(&other).await), Vec::new());
    expect_err("get_file in another run", store.get_file(&other, "config.yaml").await, ErrorKind::NotFound);
    expect_err(
        "record_file in a missing run",
        store.record_file(&run_ref("missing"), &file("a", 1, "00")).await,
        ErrorKind::NotFound,
    );
    expect_err("list_files of a missing run", store.list_files(&run_ref("missing")).await, ErrorKind::NotFound);
}

// ---------------------------------------------------------------------------------------------
// Dashboard: passwords, session keys, saved views, run metrics
// ---------------------------------------------------------------------------------------------

pub async fn dashboard_passwords_and_session_keys(store: &dyn Store) {
    let alice = setup(store).await;
    assert_eq!(ok("password_of before any is set", store.password_of(ENTITY).await), None);
    ok("set_password", store.set_password(alice.id, Some("$argon2id$hash-1")).await);
    assert_eq!(
        ok("password_of", store.password_of(ENTITY).await),
        Some((alice.clone(), "$argon2id$hash-1".to_string()))
    );
    ok("set_password again", store.set_password(alice.id, Some("$argon2id$hash-2")).await);
    assert_eq!(ok("password_of", store.password_of(ENTITY).await).map(|(_, h)| h).as_deref(), Some("$argon2id$hash-2"));
    assert_eq!(ok("password_of an unknown user", store.password_of("nobody").await), None);
    ok("set_password None", store.set_password(alice.id, None).await);
    assert_eq!(ok("password_of after removal", store.password_of(ENTITY).await), None);
    expect_err("set_password of an unknown user", store.set_password(9999, Some("x")).await, ErrorKind::NotFound);

    ok("add_api_key session", store.add_api_key(alice.id, "session-key").await);
    assert_eq!(ok("user_by_key session", store.user_by_key("session-key").await), Some(alice.clone()));
    ok("delete_api_key", store.delete_api_key("session-key").await);
    assert_eq!(ok("user_by_key after delete", store.user_by_key("session-key").await), None);
    assert_eq!(ok("the first key stays", store.user_by_key("alice-key").await), Some(alice));
    ok("delete_api_key of an unknown key", store.delete_api_key("nothing").await);
}

pub async fn dashboard_views(store: &dyn Store) {
    setup(store).await;
    new_run(store, "a").await;
    assert_eq!(ok("list_views empty", store.list_views(ENTITY, PROJECT).await), Vec::new());
    let saved = ok("put_view", store.put_view(ENTITY, PROJECT, "loss ✓", &json!({"ws": {"x": "step"}})).await);
    assert_eq!(saved.name, "loss ✓");
    assert_eq!(saved.state, json!({"ws": {"x": "step"}}));
    ok("put_view b", store.put_view(ENTITY, PROJECT, "b", &json!({})).await);
    ok("put_view replaces", store.put_view(ENTITY, PROJECT, "b", &json!({"filter": "state = \"running\""})).await);
    let views = ok("list_views", store.list_views(ENTITY, PROJECT).await);
    let names: Vec<&str> = views.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, vec!["b", "loss ✓"], "views are listed by name, one per name");
    assert_eq!(views[0].state, json!({"filter": "state = \"running\""}), "a second put replaces the state");
    expect_err(
        "put_view with a non-object",
        store.put_view(ENTITY, PROJECT, "c", &json!([1])).await,
        ErrorKind::InvalidArgument,
    );
    expect_err(
        "put_view with an empty name",
        store.put_view(ENTITY, PROJECT, "", &json!({})).await,
        ErrorKind::InvalidArgument,
    );
    expect_err(
        "put_view in a missing project",
        store.put_view(ENTITY, "nope", "v", &json!({})).await,
        ErrorKind::NotFound,
    );
    ok("delete_view", store.delete_view(ENTITY, PROJECT, "b").await);
    expect_err("delete_view again", store.delete_view(ENTITY, PROJECT, "b").await, ErrorKind::NotFound);
    assert_eq!(ok("list_views", store.list_views(ENTITY, PROJECT).await).len(), 1);
}

pub async fn dashboard_run_metrics(store: &dyn Store) {
    setup(store).await;
    let a = new_run(store, "a").await;
    let b = new_run(store, "b").await;
    new_run(store, "c").await;
    append(
        store,
        &a,
        1,
        vec![
            row(0, 1.0, &[("loss", 3.0), ("acc", 0.1)], &[("text", json!("x"))]),
            row(1, 2.0, &[("loss", f64::NAN)], &[]),
            row(2, 3.0, &[("loss", 1.5)], &[]),
        ],
    )
    .await;
    append(store, &b, 1, vec![row(0, 1.0, &[("loss", 9.0)], &[]), row(1, 2.0, &[("loss", f64::NAN)], &[])]).await;
    let keys = vec!["loss".to_string(), "acc".to_string(), "text".to_string(), "missing".to_string()];
    let mut metrics = ok("run_metrics", store.run_metrics(ENTITY, PROJECT, &keys).await);
    metrics.sort_by(|x, y| (&x.run, &x.key).cmp(&(&y.run, &y.key)));
    let metric = |run: &str, key: &str, count, min, max, last| RunMetric {
        run: run.into(),
        key: key.into(),
        count,
        min,
        max,
        last,
    };
    assert_eq!(
        metrics,
        vec![
            metric("a", "acc", 1, Some(0.1), Some(0.1), Some(0.1)),
            metric("a", "loss", 3, Some(1.5), Some(3.0), Some(1.5)),
            metric("b", "loss", 2, Some(9.0), Some(9.0), None),
        ],
        "scalar keys only; min and max ignore NaN; a NaN last value is None; runs without the key are absent"
    );
    expect_err("run_metrics of a missing project", store.run_metrics(ENTITY, "nope", &keys).await, ErrorKind::NotFound);
}

pub async fn dashboard_project_keys(store: &dyn Store) {
    setup(store).await;
    let a = new_run(store, "a").await;
    let b = new_run(store, "b").await;
    new_run(store, "c").await;
    append(store, &a, 1, vec![row(0, 1.0, &[("loss", 1.0), ("acc", 0.5)], &[("sample", json!("x"))])]).await;
    append(store, &b, 1, vec![row(0, 1.0, &[("loss", 2.0)], &[])]).await;
    ok(
        "append_system",
        store
            .append_system(
                &b,
                &SystemBatch {
                    seq: 1,
                    rows: vec![SystemRow { time: 1.0, values: [("system/cpu".to_string(), Scalar(5.0))].into() }],
                },
            )
            .await,
    );
    ok("upsert in another project", store.upsert_run(ENTITY, "other", "z", &RunUpsert::default()).await);
    append(store, &RunRef::new(ENTITY, "other", "z"), 1, vec![row(0, 1.0, &[("elsewhere", 1.0)], &[])]).await;
    let keys: Vec<(String, Stream, String, u64)> = ok("project_keys", store.project_keys(ENTITY, PROJECT).await)
        .into_iter()
        .filter(|k| !k.key.starts_with('_'))
        .map(|k| (k.key, k.stream, k.kind, k.runs))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("acc".into(), Stream::History, "scalar".into(), 1),
            ("loss".into(), Stream::History, "scalar".into(), 2),
            ("sample".into(), Stream::History, "object".into(), 1),
            ("system/cpu".into(), Stream::System, "scalar".into(), 1),
        ],
        "every key of the project's runs once per stream and kind, with its run count; history first"
    );
    expect_err("project_keys of a missing project", store.project_keys(ENTITY, "nope").await, ErrorKind::NotFound);
}

// ---------------------------------------------------------------------------------------------
// Artifacts
// ---------------------------------------------------------------------------------------------

fn blob(c: char, size: u64) -> heron_types::BlobRef {
    heron_types::BlobRef { sha256: c.to_string().repeat(64), size }
}

fn stored_file(path: &str, c: char, size: u64) -> heron_types::ManifestEntry {
    heron_types::ManifestEntry {
        path: path.into(),
        size,
        sha256: Some(c.to_string().repeat(64)),
        reference: None,
        digest: None,
    }
}

fn version_create(files: Vec<heron_types::ManifestEntry>, aliases: &[&str]) -> heron_types::VersionCreate {
    heron_types::VersionCreate {
        kind: "dataset".into(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        files,
        ..Default::default()
    }
}

fn key(name: &str, version: &str) -> ArtifactKey {
    ArtifactKey { entity: ENTITY.into(), project: "p".into(), name: name.into(), version: version.into() }
}

pub async fn artifacts_blobs_versions_and_collection(store: &dyn Store) {
    let alice = setup(store).await;
    let bob = ok("create_user bob", store.create_user("bob", false, "bob-key").await);
    let (a, b) = (blob('a', 10), blob('b', 20));
    assert_eq!(ok("blobs_held before upload", store.blobs_held(&alice, std::slice::from_ref(&a)).await), vec![None]);
    // A version cannot name a blob that is not stored.
    let create = version_create(vec![stored_file("a.txt", 'a', 10), stored_file("b.txt", 'b', 20)], &["best"]);
    expect_err(
        "create_version before the blobs",
        store.create_version(ENTITY, "p", "ds", &create, &alice, 1.0).await,
        ErrorKind::Conflict,
    );
    for (blob, t) in [(&a, 1.0), (&b, 2.0)] {
        ok("record_blob", store.record_blob(&blob.sha256, blob.size, alice.id, t).await);
    }
    assert_eq!(ok("blobs_held", store.blobs_held(&alice, &[a.clone(), b.clone()]).await), vec![Some(10), Some(20)]);
    assert_eq!(ok("blobs_held by another entity", store.blobs_held(&bob, std::slice::from_ref(&a)).await), vec![None]);
    let v0 = ok("create_version v0", store.create_version(ENTITY, "p", "ds", &create, &alice, 3.0).await);
    assert_eq!((v0.version.as_str(), v0.size, v0.file_count, v0.created), ("v0", 30, 2, true));
    assert_eq!(v0.aliases, ["latest", "best"]);
    let same = ok("create_version same contents", store.create_version(ENTITY, "p", "ds", &create, &alice, 4.0).await);
    assert_eq!((same.version.as_str(), same.created), ("v0", false));
    let v1 = ok(
        "create_version v1",
        store
            .create_version(ENTITY, "p", "ds", &version_create(vec![stored_file("b.txt", 'b', 20)], &[]), &alice, 5.0)
            .await,
    );
    assert_eq!((v1.version.as_str(), v1.aliases.as_slice()), ("v1", ["latest".to_string()].as_slice()));
    let files = ok("version_files", store.version_files(ENTITY, "p", "ds", "best").await);
    assert_eq!(files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["a.txt", "b.txt"]);

    // Nothing is collected while versions hold the blobs; deleting v0 frees `a` only, and only
    // once it is past the grace time.
    assert_eq!(ok("collect_blobs", store.collect_blobs(100.0).await), vec![]);
    ok("delete_version v0", store.delete_version(ENTITY, "p", "ds", "v0").await);
    assert_eq!(ok("collect_blobs within grace", store.collect_blobs(0.5).await), vec![]);
    assert_eq!(ok("collect_blobs", store.collect_blobs(100.0).await), vec![(a.sha256.clone(), 10)]);
    let totals = ok("blob_totals", store.blob_totals().await);
    assert_eq!((totals.blobs, totals.bytes, totals.unreferenced), (1, 20, 0));

    // Upload parts are remembered until cleared or abandoned.
    let upload = crate::store::UploadKey { sha256: a.sha256.clone(), size: 10, user: alice.id };
    let bobs = crate::store::UploadKey { user: bob.id, ..upload.clone() };
    ok("record_upload_part", store.record_upload_part(&upload, 1, 7.0).await);
    ok("record_upload_part", store.record_upload_part(&upload, 0, 8.0).await);
    ok("record_upload_part bob", store.record_upload_part(&bobs, 1, 8.0).await);
    assert_eq!(ok("upload_parts", store.upload_parts(&upload).await), vec![0, 1]);
    assert_eq!(ok("another user's upload is apart", store.upload_parts(&bobs).await), vec![1]);
    assert_eq!(ok("abandon_uploads too early", store.abandon_uploads(7.5).await), vec![]);
    assert_eq!(ok("abandon_uploads", store.abandon_uploads(9.0).await).len(), 3);
    assert_eq!(ok("upload_parts after", store.upload_parts(&upload).await), Vec::<u64>::new());
    ok("record_upload_part", store.record_upload_part(&upload, 0, 10.0).await);
    ok("clear_upload", store.clear_upload(&upload).await);
    assert_eq!(ok("upload_parts after clear", store.upload_parts(&upload).await), Vec::<u64>::new());

    // Aliases, TTLs and the secret.
    let moved = ok("set_alias", store.set_alias(ENTITY, "p", "ds", "best", "v1").await);
    assert_eq!(moved.aliases, ["latest", "best"]);
    let patch = heron_types::VersionPatch { ttl_seconds: Some(10), ..Default::default() };
    ok("patch_version ttl", store.patch_version(ENTITY, "p", "ds", "v1", &patch, 100.0).await);
    assert_eq!(ok("expire_versions early", store.expire_versions(105.0).await), 0);
    assert_eq!(ok("expire_versions", store.expire_versions(111.0).await), 1);
    assert_eq!(ok("get_artifact", store.get_artifact(ENTITY, "p", "ds").await).latest, None);
    let secret = ok("server_secret", store.server_secret("x").await);
    assert_eq!(ok("server_secret again", store.server_secret("x").await), secret);
    assert!(secret.len() >= 32);
}

pub async fn artifacts_registry_and_audit(store: &dyn Store) {
    let alice = setup(store).await;
    ok("record_blob", store.record_blob(&"c".repeat(64), 5, alice.id, 1.0).await);
    let create = version_create(vec![stored_file("m.pt", 'c', 5)], &[]);
    ok("create_version", store.create_version(ENTITY, "p", "net", &create, &alice, 2.0).await);
    let model = heron_types::ModelCreate { name: "clf".into(), description: None };
    ok("create_model", store.create_model(ENTITY, &model, "alice", 3.0).await);
    let aliases = vec!["prod".to_string()];
    let (linked, created) = ok(
        "link_model_version",
        store.link_model_version(ENTITY, "clf", &key("net", "v0"), &aliases, "alice", 4.0).await,
    );
    assert_eq!((linked.version.as_str(), linked.artifact.as_str(), created), ("v0", "alice/p/net:v0", true));
    let (_, created) =
        ok("link again", store.link_model_version(ENTITY, "clf", &key("net", "latest"), &[], "alice", 5.0).await);
    assert!(!created);
    expect_err("delete a linked version", store.delete_version(ENTITY, "p", "net", "v0").await, ErrorKind::Conflict);
    ok("delete_model_alias", store.delete_model_alias(ENTITY, "clf", "prod", "bob", 6.0).await);
    ok("unlink", store.unlink_model_version(ENTITY, "clf", "v0", "bob", 7.0).await);
    let trail: Vec<(String, String)> =
        ok("model_audit", store.model_audit(ENTITY, "clf").await).into_iter().map(|e| (e.user, e.action)).collect();
    let expected =
        [("alice", "create"), ("alice", "link"), ("alice", "alias_set"), ("bob", "alias_remove"), ("bob", "unlink")];
    assert_eq!(trail, expected.map(|(u, a)| (u.to_string(), a.to_string())));
    ok("delete_version once unlinked", store.delete_version(ENTITY, "p", "net", "v0").await);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn same_json_compares_numbers_by_value() {
        assert!(same_json(&json!({"a": [1, 2.0]}), &json!({"a": [1.0, 2]})));
        assert!(!same_json(&json!({"a": 1}), &json!({"a": 1, "b": null})));
        assert!(!same_json(&json!("NaN"), &json!(1.0)));
    }

    #[test]
    fn check_names_are_unique() {
        let names: BTreeSet<&str> = CHECKS.iter().map(|(name, _)| *name).collect();
        assert_eq!(names.len(), CHECKS.len());
    }
}

//! The storage conformance suite (`heron_core::conformance`) on SQLite: one test per check,
//! each on a fresh database file in its own temporary directory.

use std::sync::{Arc, Mutex};

use heron_core::Store;
use heron_core::conformance;
use heron_store_sqlite::{SqliteOptions, SqliteStore};
use tempfile::TempDir;

fn fresh_store() -> (TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(dir.path().join("heron.db"), SqliteOptions::default()).expect("open SQLite store");
    (dir, Arc::new(store))
}

macro_rules! conformance_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (_dir, store) = fresh_store();
                conformance::$name(store.as_ref()).await;
            }
        )*

        /// Every check of the suite has its test here, and nothing else.
        #[test]
        fn every_check_has_a_test() {
            let mut here = vec![$(stringify!($name)),*];
            let mut suite: Vec<&str> = conformance::CHECKS.iter().map(|(name, _)| *name).collect();
            here.sort();
            suite.sort();
            assert_eq!(here, suite, "add a test for each conformance check");
        }
    };
}

conformance_tests!(
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
);

/// `run_all` runs the whole suite through a factory of fresh stores.
#[tokio::test]
async fn run_all_checks() {
    let dirs: Mutex<Vec<TempDir>> = Mutex::new(Vec::new());
    let factory = || {
        let (dir, store) = fresh_store();
        dirs.lock().expect("temporary directories").push(dir);
        store
    };
    conformance::run_all(&factory).await;
}

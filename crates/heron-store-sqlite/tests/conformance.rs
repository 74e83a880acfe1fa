//! The storage conformance suite (`heron_core::conformance`) on SQLite: one test per check
//! (from the suite's own list, so none is missed), each on a fresh database file in its own
//! temporary directory.

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
    };
}

heron_core::conformance_checks!(conformance_tests);

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

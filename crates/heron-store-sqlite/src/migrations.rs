//! Schema migrations, applied in order inside one transaction each; `PRAGMA user_version`
//! records how many have run. Never edit a shipped migration: add the next one.

use heron_core::{Error, Result};
use rusqlite::Connection;

use crate::ResultExt;

const MIGRATIONS: &[&str] = &[
    // 1: accounts, projects, runs, history, console, files.
    r#"
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        admin INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE TABLE api_keys (
        hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE login_tokens (
        hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        expires_at REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE entities (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('user', 'team')),
        created_at REAL NOT NULL
    );
    CREATE TABLE memberships (
        entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        PRIMARY KEY (entity_id, user_id)
    ) WITHOUT ROWID;
    CREATE TABLE projects (
        id INTEGER PRIMARY KEY,
        entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        UNIQUE (entity_id, name)
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        run_id TEXT NOT NULL,
        name TEXT NOT NULL,
        state TEXT NOT NULL,
        config TEXT NOT NULL DEFAULT '{}',
        summary TEXT NOT NULL DEFAULT '{}',
        tags TEXT NOT NULL DEFAULT '[]',
        notes TEXT NOT NULL DEFAULT '',
        grp TEXT,
        job_type TEXT,
        sweep TEXT,
        host TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        heartbeat_at REAL NOT NULL,
        finished_at REAL,
        exit_code INTEGER,
        last_step INTEGER,
        history_rows INTEGER NOT NULL DEFAULT 0,
        system_rows INTEGER NOT NULL DEFAULT 0,
        last_history_seq INTEGER,
        last_system_seq INTEGER,
        console_lines INTEGER NOT NULL DEFAULT 0,
        UNIQUE (project_id, run_id)
    );
    CREATE INDEX runs_state_heartbeat ON runs (state, heartbeat_at);
    -- One series per (run, stream, key). kind: 'scalar' (chunks) or 'object' (objects table).
    -- AUTOINCREMENT: chart caches key chunk lists by series id.
    CREATE TABLE series (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_pk INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        stream INTEGER NOT NULL,
        key TEXT NOT NULL,
        kind TEXT NOT NULL,
        count INTEGER NOT NULL DEFAULT 0,
        min_step INTEGER,
        max_step INTEGER,
        vmin REAL,
        vmax REAL,
        vlast REAL,
        UNIQUE (run_pk, stream, key, kind)
    );
    -- Scalar points, CHUNK_POINTS per row, with their chunk and group summaries.
    -- AUTOINCREMENT: ids are never reused, so caches keyed by chunk id never go stale.
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
        step_min INTEGER NOT NULL,
        step_max INTEGER NOT NULL,
        count INTEGER NOT NULL,
        summary BLOB NOT NULL,
        groups BLOB NOT NULL,
        data BLOB NOT NULL
    );
    -- Covering: chart reads take chunk summaries from the index alone, never touching the
    -- large rows (groups and points) of chunks that fall inside one bucket.
    CREATE INDEX chunks_series_step ON chunks (series_id, step_max, step_min, count, summary);
    CREATE TABLE objects (
        series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
        step INTEGER NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (series_id, step)
    ) WITHOUT ROWID;
    -- Batch sequence numbers already stored: what makes a retried batch add nothing.
    CREATE TABLE batches (
        run_pk INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        stream INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        rows INTEGER NOT NULL,
        points INTEGER NOT NULL,
        PRIMARY KEY (run_pk, stream, seq)
    ) WITHOUT ROWID;
    CREATE TABLE console (
        run_pk INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        stream TEXT NOT NULL,
        text TEXT NOT NULL,
        time REAL NOT NULL,
        PRIMARY KEY (run_pk, idx)
    ) WITHOUT ROWID;
    CREATE TABLE files (
        run_pk INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (run_pk, path)
    ) WITHOUT ROWID;
    "#,
    // 2: dashboard sign-in with a password, and saved workspace views.
    r#"
    ALTER TABLE users ADD COLUMN password_hash TEXT;
    CREATE TABLE views (
        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (project_id, name)
    ) WITHOUT ROWID;
    "#,
];

pub fn migrate(conn: &mut Connection) -> Result<()> {
    let applied: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0)).db()?;
    let applied = applied.max(0) as usize;
    if applied > MIGRATIONS.len() {
        return Err(Error::unavailable(format!(
            "the database was written by a newer Heron (schema version {applied}, this build knows {}); upgrade Heron",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction().db()?;
        tx.execute_batch(sql).db()?;
        tx.pragma_update(None, "user_version", (index + 1) as i64).db()?;
        tx.commit().db()?;
        tracing::info!(version = index + 1, "applied database migration");
    }
    Ok(())
}

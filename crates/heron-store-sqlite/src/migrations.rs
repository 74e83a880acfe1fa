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
    // 3: artifacts (content-addressed blobs, versions, aliases, lineage) and the model registry.
    r#"
    CREATE TABLE blobs (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        -- manifest entries (of any version) naming this blob
        refs INTEGER NOT NULL DEFAULT 0,
        stored_at REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX blobs_unreferenced ON blobs (stored_at) WHERE refs <= 0;
    -- users who sent a blob's bytes (and so may use it without sending them again)
    CREATE TABLE blob_holders (
        sha256 TEXT NOT NULL REFERENCES blobs(sha256) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (sha256, user_id)
    ) WITHOUT ROWID;
    CREATE TABLE upload_parts (
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        part INTEGER NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (sha256, size, part)
    ) WITHOUT ROWID;
    CREATE TABLE artifacts (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        description TEXT,
        next_index INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        UNIQUE (project_id, name)
    );
    CREATE TABLE artifact_versions (
        id INTEGER PRIMARY KEY,
        artifact_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        digest TEXT NOT NULL,
        description TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        size INTEGER NOT NULL,
        file_count INTEGER NOT NULL,
        created_at REAL NOT NULL,
        created_by TEXT NOT NULL,
        run_pk INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        expires_at REAL,
        UNIQUE (artifact_id, idx)
    );
    CREATE INDEX artifact_versions_digest ON artifact_versions (artifact_id, digest);
    CREATE INDEX artifact_versions_run ON artifact_versions (run_pk);
    CREATE INDEX artifact_versions_expiry ON artifact_versions (expires_at) WHERE expires_at IS NOT NULL;
    CREATE TABLE artifact_files (
        version_id INTEGER NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT,
        reference TEXT,
        digest TEXT,
        PRIMARY KEY (version_id, path)
    ) WITHOUT ROWID;
    CREATE INDEX artifact_files_sha256 ON artifact_files (sha256) WHERE sha256 IS NOT NULL;
    CREATE TABLE artifact_aliases (
        artifact_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
        alias TEXT NOT NULL,
        version_id INTEGER NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE,
        PRIMARY KEY (artifact_id, alias)
    ) WITHOUT ROWID;
    CREATE INDEX artifact_aliases_version ON artifact_aliases (version_id);
    CREATE TABLE artifact_uses (
        version_id INTEGER NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE,
        run_pk INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        at REAL NOT NULL,
        PRIMARY KEY (version_id, run_pk)
    ) WITHOUT ROWID;
    CREATE INDEX artifact_uses_run ON artifact_uses (run_pk);
    CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        description TEXT,
        next_index INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        UNIQUE (entity_id, name)
    );
    CREATE TABLE model_versions (
        id INTEGER PRIMARY KEY,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        artifact_version_id INTEGER NOT NULL REFERENCES artifact_versions(id),
        linked_at REAL NOT NULL,
        linked_by TEXT NOT NULL,
        UNIQUE (model_id, idx),
        UNIQUE (model_id, artifact_version_id)
    );
    CREATE INDEX model_versions_artifact ON model_versions (artifact_version_id);
    CREATE TABLE model_aliases (
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        alias TEXT NOT NULL,
        model_version_id INTEGER NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
        PRIMARY KEY (model_id, alias)
    ) WITHOUT ROWID;
    -- kept when the model is deleted: the trail says who deleted it
    CREATE TABLE model_audit (
        id INTEGER PRIMARY KEY,
        entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        at REAL NOT NULL,
        user TEXT NOT NULL,
        action TEXT NOT NULL,
        version TEXT,
        alias TEXT,
        previous_version TEXT,
        artifact TEXT
    );
    CREATE INDEX model_audit_model ON model_audit (entity_id, model, id);
    CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
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

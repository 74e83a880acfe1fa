//! What the dashboard adds: passwords and browser-session keys, saved views, and per-run key
//! statistics for sorting and filtering runs by a metric's min, max or last value.

use heron_core::{Error, Result, RunMetric, User, names, time};
use heron_types::{ProjectKey, SavedView, limits};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::ResultExt;
use crate::accounts::project_id;
use crate::history::{stream_code, stream_of};

pub(crate) fn set_password(conn: &Connection, user_id: i64, password_hash: Option<&str>) -> Result<()> {
    let changed =
        conn.execute("UPDATE users SET password_hash = ?2 WHERE id = ?1", params![user_id, password_hash]).db()?;
    if changed == 0 {
        return Err(Error::not_found(format!("user {user_id} not found")));
    }
    Ok(())
}

pub(crate) fn password_of(conn: &Connection, user: &str) -> Result<Option<(User, String)>> {
    conn.query_row(
        "SELECT id, name, admin, password_hash FROM users WHERE name = ?1 AND password_hash IS NOT NULL",
        [user],
        |row| Ok((User { id: row.get(0)?, name: row.get(1)?, admin: row.get(2)? }, row.get(3)?)),
    )
    .optional()
    .db()
}

pub(crate) fn delete_api_key(conn: &Connection, key_hash: &str) -> Result<()> {
    conn.execute("DELETE FROM api_keys WHERE hash = ?1", [key_hash]).db()?;
    Ok(())
}

fn view_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, f64)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

fn to_view((name, state, updated_at): (String, String, f64)) -> Result<SavedView> {
    let state = serde_json::from_str(&state).map_err(|e| Error::internal(format!("stored view {name:?}: {e}")))?;
    Ok(SavedView { name, state, updated_at: time::rfc3339(updated_at) })
}

pub(crate) fn list_views(conn: &Connection, entity: &str, project: &str) -> Result<Vec<SavedView>> {
    let project_pk = project_id(conn, entity, project, false)?;
    let mut stmt =
        conn.prepare_cached("SELECT name, state, updated_at FROM views WHERE project_id = ?1 ORDER BY name").db()?;
    let rows = stmt.query_map([project_pk], view_row).db()?.collect::<Result<Vec<_>, _>>().db()?;
    rows.into_iter().map(to_view).collect()
}

pub(crate) fn put_view(conn: &Connection, entity: &str, project: &str, name: &str, state: &Value) -> Result<SavedView> {
    names::check_key("view name", name)?;
    if !state.is_object() {
        return Err(Error::invalid("a view's state must be a JSON object"));
    }
    let text = serde_json::to_string(state).map_err(|e| Error::invalid(format!("view state: {e}")))?;
    if text.len() > limits::MAX_VIEW_BYTES {
        return Err(Error::too_large(format!(
            "the view's state is {} bytes; the limit is {} bytes",
            text.len(),
            limits::MAX_VIEW_BYTES
        )));
    }
    let project_pk = project_id(conn, entity, project, false)?;
    let exists: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM views WHERE project_id = ?1 AND name = ?2)",
            params![project_pk, name],
            |row| row.get(0),
        )
        .db()?;
    if !exists {
        let count: i64 =
            conn.query_row("SELECT COUNT(*) FROM views WHERE project_id = ?1", [project_pk], |row| row.get(0)).db()?;
        if count as usize >= limits::MAX_VIEWS {
            return Err(Error::too_large(format!(
                "a project keeps at most {} views; delete one first",
                limits::MAX_VIEWS
            )));
        }
    }
    let now = time::now();
    conn.execute(
        "INSERT INTO views (project_id, name, state, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (project_id, name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        params![project_pk, name, text, now],
    )
    .db()?;
    Ok(SavedView { name: name.to_string(), state: state.clone(), updated_at: time::rfc3339(now) })
}

pub(crate) fn delete_view(conn: &Connection, entity: &str, project: &str, name: &str) -> Result<()> {
    let project_pk = project_id(conn, entity, project, false)?;
    let changed =
        conn.execute("DELETE FROM views WHERE project_id = ?1 AND name = ?2", params![project_pk, name]).db()?;
    if changed == 0 {
        return Err(Error::not_found(format!("view {name:?} not found in {entity}/{project}")));
    }
    Ok(())
}

pub(crate) fn run_metrics(conn: &Connection, entity: &str, project: &str, keys: &[String]) -> Result<Vec<RunMetric>> {
    let project_pk = project_id(conn, entity, project, false)?;
    let mut stmt = conn
        .prepare_cached(
            "SELECT r.run_id, s.count, s.vmin, s.vmax, s.vlast FROM series s JOIN runs r ON r.id = s.run_pk
             WHERE r.project_id = ?1 AND s.stream = ?2 AND s.key = ?3 AND s.kind = 'scalar'",
        )
        .db()?;
    let history = stream_code(heron_types::Stream::History);
    let mut metrics = Vec::new();
    for key in keys {
        let rows = stmt
            .query_map(params![project_pk, history, key], |row| {
                Ok(RunMetric {
                    run: row.get(0)?,
                    key: key.clone(),
                    count: row.get::<_, i64>(1)? as u64,
                    min: row.get(2)?,
                    max: row.get(3)?,
                    last: row.get(4)?,
                })
            })
            .db()?;
        for row in rows {
            metrics.push(row.db()?);
        }
    }
    Ok(metrics)
}

pub(crate) fn project_keys(conn: &Connection, entity: &str, project: &str) -> Result<Vec<ProjectKey>> {
    let project_pk = project_id(conn, entity, project, false)?;
    let mut stmt = conn
        .prepare_cached(
            "SELECT s.key, s.stream, s.kind, COUNT(*) FROM series s JOIN runs r ON r.id = s.run_pk
             WHERE r.project_id = ?1 GROUP BY s.stream, s.key, s.kind ORDER BY s.stream, s.key, s.kind",
        )
        .db()?;
    let keys = stmt
        .query_map([project_pk], |row| {
            Ok(ProjectKey {
                key: row.get(0)?,
                stream: stream_of(row.get(1)?),
                kind: row.get(2)?,
                runs: row.get::<_, i64>(3)? as u64,
            })
        })
        .db()?
        .collect::<Result<Vec<_>, _>>()
        .db()?;
    Ok(keys)
}

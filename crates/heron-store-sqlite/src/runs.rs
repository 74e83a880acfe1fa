//! Runs: upsert and resume, reads, edits, deletion, heartbeats, console lines and file records.

use heron_core::merge::merge_patch;
use heron_core::{Error, Result, RunRef, names, time};
use heron_types::{
    ConsoleAppend, ConsoleLine, ConsolePage, ResumeMode, Run, RunFile, RunPatch, RunState, RunUpsert, RunUpserted,
    limits,
};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::ResultExt;
use crate::accounts::project_id;

const RUN_SELECT: &str = "SELECT r.id, e.name, p.name, r.run_id, r.name, r.state, r.config, r.summary, r.tags, r.notes,
        r.grp, r.job_type, r.sweep, r.host, r.metadata, r.created_at, r.updated_at, r.heartbeat_at, r.finished_at,
        r.exit_code, r.last_step, r.history_rows
     FROM runs r JOIN projects p ON p.id = r.project_id JOIN entities e ON e.id = p.entity_id";

fn parse_json(text: &str, fallback: Value) -> Value {
    serde_json::from_str(text).unwrap_or(fallback)
}

fn run_row(row: &rusqlite::Row) -> rusqlite::Result<Run> {
    let state: String = row.get(5)?;
    Ok(Run {
        entity: row.get(1)?,
        project: row.get(2)?,
        id: row.get(3)?,
        name: row.get(4)?,
        state: RunState::parse(&state).unwrap_or(RunState::Crashed),
        config: parse_json(&row.get::<_, String>(6)?, Value::Object(Default::default())),
        summary: parse_json(&row.get::<_, String>(7)?, Value::Object(Default::default())),
        tags: serde_json::from_str(&row.get::<_, String>(8)?).unwrap_or_default(),
        notes: row.get(9)?,
        group: row.get(10)?,
        job_type: row.get(11)?,
        sweep: row.get(12)?,
        host: row.get(13)?,
        metadata: parse_json(&row.get::<_, String>(14)?, Value::Object(Default::default())),
        created_at: time::rfc3339(row.get(15)?),
        updated_at: time::rfc3339(row.get(16)?),
        heartbeat_at: time::rfc3339(row.get(17)?),
        finished_at: row.get::<_, Option<f64>>(18)?.map(time::rfc3339),
        exit_code: row.get(19)?,
        last_step: row.get(20)?,
        history_rows: row.get::<_, i64>(21)? as u64,
        metrics: None,
    })
}

/// The run's row id, or a not-found error naming it.
pub(crate) fn run_pk(conn: &Connection, run: &RunRef) -> Result<i64> {
    conn.prepare_cached(
        "SELECT r.id FROM runs r JOIN projects p ON p.id = r.project_id JOIN entities e ON e.id = p.entity_id
         WHERE e.name = ?1 AND p.name = ?2 AND r.run_id = ?3",
    )
    .db()?
    .query_row(params![run.entity, run.project, run.run], |row| row.get(0))
    .optional()
    .db()?
    .ok_or_else(|| Error::not_found(format!("run {run} not found")))
}

pub(crate) fn get_run_by_pk(conn: &Connection, pk: i64) -> Result<Run> {
    conn.prepare_cached(&format!("{RUN_SELECT} WHERE r.id = ?1"))
        .db()?
        .query_row([pk], run_row)
        .optional()
        .db()?
        .ok_or_else(|| Error::not_found("run not found"))
}

pub(crate) fn get_run(conn: &Connection, run: &RunRef) -> Result<Run> {
    let pk = run_pk(conn, run)?;
    get_run_by_pk(conn, pk)
}

pub(crate) fn list_runs(conn: &Connection, entity: &str, project: &str) -> Result<Vec<Run>> {
    let project_pk = project_id(conn, entity, project, false)?;
    let mut stmt = conn.prepare_cached(&format!("{RUN_SELECT} WHERE r.project_id = ?1")).db()?;
    let runs = stmt.query_map([project_pk], run_row).db()?.collect::<Result<Vec<_>, _>>().db()?;
    Ok(runs)
}

fn check_tags(tags: &[String]) -> Result<()> {
    if tags.len() > limits::MAX_TAGS {
        return Err(Error::too_large(format!("a run takes at most {} tags", limits::MAX_TAGS)));
    }
    tags.iter().try_for_each(|tag| names::check_key("tag", tag))
}

fn to_text(what: &str, value: &Value) -> Result<String> {
    names::check_document(what, value)?;
    let text = serde_json::to_string(value).map_err(|e| Error::invalid(format!("{what}: {e}")))?;
    if text.len() > limits::MAX_DOCUMENT_BYTES {
        return Err(Error::too_large(format!(
            "{what} is {} bytes; the limit is {} bytes",
            text.len(),
            limits::MAX_DOCUMENT_BYTES
        )));
    }
    Ok(text)
}

fn check_object(what: &str, value: &Option<Value>) -> Result<()> {
    match value {
        Some(v) if !v.is_object() => Err(Error::invalid(format!("{what} must be a JSON object"))),
        _ => Ok(()),
    }
}

pub(crate) fn upsert_run(
    conn: &mut Connection,
    entity: &str,
    project: &str,
    id: &str,
    body: &RunUpsert,
) -> Result<RunUpserted> {
    names::check_name("run id", id)?;
    let mut body = body.clone();
    // Blank text means "not given", as in a patch.
    body.name = body.name.filter(|n| !n.trim().is_empty());
    body.group = body.group.filter(|g| !g.is_empty());
    let body = &body;
    check_object("config", &body.config)?;
    check_object("metadata", &body.metadata)?;
    if let Some(tags) = &body.tags {
        check_tags(tags)?;
    }
    let tx = conn.transaction().db()?;
    let project_pk = project_id(&tx, entity, project, true)?;
    let now = time::now();
    let existing: Option<(i64, String, String)> = tx
        .query_row(
            "SELECT id, config, metadata FROM runs WHERE project_id = ?1 AND run_id = ?2",
            params![project_pk, id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()
        .db()?;
    let resume = body.resume.unwrap_or(ResumeMode::Allow);
    let (pk, resumed) = match existing {
        Some((pk, config_text, metadata_text)) => {
            if resume == ResumeMode::Never {
                return Err(Error::already_exists(format!(
                    "run {entity}/{project}/{id} already exists and resume is \"never\"; choose another id or resume it"
                )));
            }
            let mut config = parse_json(&config_text, Value::Object(Default::default()));
            if let Some(patch) = &body.config {
                merge_patch(&mut config, patch);
            }
            let mut metadata = parse_json(&metadata_text, Value::Object(Default::default()));
            if let Some(patch) = &body.metadata {
                merge_patch(&mut metadata, patch);
            }
            let tags = body
                .tags
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(|e| Error::internal(e.to_string()))?;
            tx.execute(
                "UPDATE runs SET name = COALESCE(?2, name), config = ?3, metadata = ?4, tags = COALESCE(?5, tags),
                    notes = COALESCE(?6, notes), grp = COALESCE(?7, grp), job_type = COALESCE(?8, job_type),
                    sweep = COALESCE(?9, sweep), host = COALESCE(?10, host), state = 'running', finished_at = NULL,
                    exit_code = NULL, updated_at = ?11, heartbeat_at = ?11
                 WHERE id = ?1",
                params![
                    pk,
                    body.name,
                    to_text("config", &config)?,
                    to_text("metadata", &metadata)?,
                    tags,
                    body.notes,
                    body.group,
                    body.job_type,
                    body.sweep,
                    body.host,
                    now
                ],
            )
            .db()?;
            (pk, true)
        }
        None => {
            if resume == ResumeMode::Must {
                return Err(Error::not_found(format!(
                    "run {entity}/{project}/{id} does not exist and resume is \"must\""
                )));
            }
            let empty = Value::Object(Default::default());
            tx.execute(
                "INSERT INTO runs (project_id, run_id, name, state, config, summary, tags, notes, grp, job_type, sweep, host,
                    metadata, created_at, updated_at, heartbeat_at)
                 VALUES (?1, ?2, ?3, 'running', ?4, '{}', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?12)",
                params![
                    project_pk,
                    id,
                    body.name.as_deref().unwrap_or(id),
                    to_text("config", body.config.as_ref().unwrap_or(&empty))?,
                    serde_json::to_string(body.tags.as_deref().unwrap_or_default()).unwrap_or_else(|_| "[]".into()),
                    body.notes.as_deref().unwrap_or_default(),
                    body.group,
                    body.job_type,
                    body.sweep,
                    body.host,
                    to_text("metadata", body.metadata.as_ref().unwrap_or(&empty))?,
                    now
                ],
            )
            .db()?;
            (tx.last_insert_rowid(), false)
        }
    };
    let (last_history_seq, last_system_seq, console_lines): (Option<i64>, Option<i64>, i64) = tx
        .query_row("SELECT last_history_seq, last_system_seq, console_lines FROM runs WHERE id = ?1", [pk], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .db()?;
    let run = get_run_by_pk(&tx, pk)?;
    tx.commit().db()?;
    Ok(RunUpserted {
        run,
        resumed,
        last_history_seq: last_history_seq.map(|s| s as u64),
        last_system_seq: last_system_seq.map(|s| s as u64),
        console_lines: console_lines as u64,
    })
}

pub(crate) fn patch_run(conn: &mut Connection, run: &RunRef, patch: &RunPatch) -> Result<Run> {
    if let Some(tags) = &patch.tags {
        check_tags(tags)?;
    }
    if let Some(name) = &patch.name
        && name.trim().is_empty()
    {
        return Err(Error::invalid("run name must not be empty"));
    }
    let tx = conn.transaction().db()?;
    let pk = run_pk(&tx, run)?;
    let now = time::now();
    let tags =
        patch.tags.as_ref().map(serde_json::to_string).transpose().map_err(|e| Error::internal(e.to_string()))?;
    tx.execute(
        "UPDATE runs SET name = COALESCE(?2, name), tags = COALESCE(?3, tags), notes = COALESCE(?4, notes),
            grp = CASE WHEN ?5 IS NULL THEN grp WHEN ?5 = '' THEN NULL ELSE ?5 END,
            job_type = COALESCE(?6, job_type), exit_code = COALESCE(?7, exit_code), updated_at = ?8
         WHERE id = ?1",
        params![pk, patch.name, tags, patch.notes, patch.group, patch.job_type, patch.exit_code, now],
    )
    .db()?;
    if let Some(state) = patch.state {
        let finished_at = (state != RunState::Running).then_some(now);
        tx.execute(
            "UPDATE runs SET state = ?2, finished_at = ?3, heartbeat_at = ?4 WHERE id = ?1",
            params![pk, state.as_str(), finished_at, now],
        )
        .db()?;
    }
    let updated = get_run_by_pk(&tx, pk)?;
    tx.commit().db()?;
    Ok(updated)
}

pub(crate) fn delete_run(conn: &mut Connection, run: &RunRef) -> Result<()> {
    let tx = conn.transaction().db()?;
    let pk = run_pk(&tx, run)?;
    tx.execute("DELETE FROM runs WHERE id = ?1", [pk]).db()?;
    tx.commit().db()
}

/// `column` is `config` or `summary` (never user input).
pub(crate) fn merge_document(conn: &mut Connection, run: &RunRef, column: &str, patch: &Value) -> Result<Run> {
    if !patch.is_object() {
        return Err(Error::invalid(format!("the {column} patch must be a JSON object")));
    }
    names::check_document(column, patch)?;
    let tx = conn.transaction().db()?;
    let pk = run_pk(&tx, run)?;
    let text: String =
        tx.query_row(&format!("SELECT {column} FROM runs WHERE id = ?1"), [pk], |row| row.get(0)).db()?;
    let mut document = parse_json(&text, Value::Object(Default::default()));
    merge_patch(&mut document, patch);
    tx.execute(
        &format!("UPDATE runs SET {column} = ?2, updated_at = ?3 WHERE id = ?1"),
        params![pk, to_text(column, &document)?, time::now()],
    )
    .db()?;
    let updated = get_run_by_pk(&tx, pk)?;
    tx.commit().db()?;
    Ok(updated)
}

pub(crate) fn heartbeat(conn: &mut Connection, run: &RunRef) -> Result<Run> {
    let pk = run_pk(conn, run)?;
    touch(conn, pk, time::now())?;
    get_run_by_pk(conn, pk)
}

/// Marks the run alive: a crashed run that speaks again is running.
pub(crate) fn touch(conn: &Connection, pk: i64, now: f64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE runs SET heartbeat_at = ?2, updated_at = ?2,
            state = CASE WHEN state = 'crashed' THEN 'running' ELSE state END,
            finished_at = CASE WHEN state = 'crashed' THEN NULL ELSE finished_at END
         WHERE id = ?1",
    )
    .db()?
    .execute(params![pk, now])
    .db()?;
    Ok(())
}

pub(crate) fn crash_stale_runs(conn: &mut Connection, before: f64) -> Result<Vec<Run>> {
    let tx = conn.transaction().db()?;
    let now = time::now();
    let pks = {
        let mut stmt = tx
            .prepare("UPDATE runs SET state = 'crashed', updated_at = ?2, finished_at = ?2 WHERE state = 'running' AND heartbeat_at < ?1 RETURNING id")
            .db()?;
        stmt.query_map(params![before, now], |row| row.get::<_, i64>(0)).db()?.collect::<Result<Vec<_>, _>>().db()?
    };
    let runs = pks.into_iter().map(|pk| get_run_by_pk(&tx, pk)).collect::<Result<Vec<_>>>()?;
    tx.commit().db()?;
    Ok(runs)
}

pub(crate) fn append_console(conn: &mut Connection, run: &RunRef, append: &ConsoleAppend, now: f64) -> Result<u64> {
    if append.lines.len() > limits::MAX_CONSOLE_LINES {
        return Err(Error::too_large(format!("at most {} console lines per request", limits::MAX_CONSOLE_LINES)));
    }
    if let Some(line) = append.lines.iter().find(|l| l.len() > limits::MAX_CONSOLE_LINE_BYTES) {
        return Err(Error::too_large(format!(
            "a console line of {} bytes exceeds the limit of {} bytes",
            line.len(),
            limits::MAX_CONSOLE_LINE_BYTES
        )));
    }
    let stream = append.stream.as_deref().unwrap_or("stdout");
    if !matches!(stream, "stdout" | "stderr") {
        return Err(Error::invalid(format!("console stream must be \"stdout\" or \"stderr\", not {stream:?}")));
    }
    let tx = conn.transaction().db()?;
    let pk = run_pk(&tx, run)?;
    let stored: i64 = tx.query_row("SELECT console_lines FROM runs WHERE id = ?1", [pk], |row| row.get(0)).db()?;
    let offset = append.offset.map_or(stored, |o| o as i64);
    if offset > stored {
        return Err(Error::invalid(format!(
            "console offset {offset} is past the end: {stored} lines are stored; send from offset {stored}"
        )));
    }
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT OR REPLACE INTO console (run_pk, idx, stream, text, time) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .db()?;
        for (i, line) in append.lines.iter().enumerate() {
            insert.execute(params![pk, offset + i as i64, stream, line, now]).db()?;
        }
    }
    let total = stored.max(offset + append.lines.len() as i64);
    tx.execute("UPDATE runs SET console_lines = ?2 WHERE id = ?1", params![pk, total]).db()?;
    touch(&tx, pk, now)?;
    tx.commit().db()?;
    Ok(total as u64)
}

pub(crate) fn read_console(conn: &Connection, run: &RunRef, offset: u64, limit: u64) -> Result<ConsolePage> {
    let pk = run_pk(conn, run)?;
    let total: i64 = conn.query_row("SELECT console_lines FROM runs WHERE id = ?1", [pk], |row| row.get(0)).db()?;
    let mut stmt = conn
        .prepare_cached(
            "SELECT idx, stream, text, time FROM console WHERE run_pk = ?1 AND idx >= ?2 ORDER BY idx LIMIT ?3",
        )
        .db()?;
    let lines = stmt
        .query_map(params![pk, offset as i64, limit as i64], |row| {
            Ok(ConsoleLine {
                index: row.get::<_, i64>(0)? as u64,
                stream: row.get(1)?,
                text: row.get(2)?,
                time: row.get(3)?,
            })
        })
        .db()?
        .collect::<Result<Vec<_>, _>>()
        .db()?;
    Ok(ConsolePage { lines, total: total as u64 })
}

pub(crate) fn record_file(conn: &mut Connection, run: &RunRef, file: &RunFile) -> Result<()> {
    names::check_file_path(&file.path)?;
    let pk = run_pk(conn, run)?;
    conn.execute(
        "INSERT OR REPLACE INTO files (run_pk, path, size, sha256, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![pk, file.path, file.size as i64, file.sha256, time::now()],
    )
    .db()?;
    Ok(())
}

fn file_row(row: &rusqlite::Row) -> rusqlite::Result<RunFile> {
    Ok(RunFile {
        path: row.get(0)?,
        size: row.get::<_, i64>(1)? as u64,
        sha256: row.get(2)?,
        updated_at: time::rfc3339(row.get(3)?),
    })
}

pub(crate) fn list_files(conn: &Connection, run: &RunRef) -> Result<Vec<RunFile>> {
    let pk = run_pk(conn, run)?;
    let mut stmt =
        conn.prepare_cached("SELECT path, size, sha256, updated_at FROM files WHERE run_pk = ?1 ORDER BY path").db()?;
    let files = stmt.query_map([pk], file_row).db()?.collect::<Result<Vec<_>, _>>().db()?;
    Ok(files)
}

pub(crate) fn get_file(conn: &Connection, run: &RunRef, path: &str) -> Result<RunFile> {
    let pk = run_pk(conn, run)?;
    conn.query_row(
        "SELECT path, size, sha256, updated_at FROM files WHERE run_pk = ?1 AND path = ?2",
        params![pk, path],
        file_row,
    )
    .optional()
    .db()?
    .ok_or_else(|| Error::not_found(format!("file {path:?} not found in run {run}")))
}

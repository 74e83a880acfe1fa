//! History and system-metric series on SQLite: one `series` row per key, scalar points in
//! `chunks` rows (see `heron_core::history`), other values in `objects`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use heron_core::chart::{ChartSource, OpenSeries, TIMESTAMP_KEY};
use heron_core::history::{
    CHUNK_POINTS, ChunkBody, ChunkMeta, Point, SeriesReader, Summary, check_series_points, count_points, decode_points,
    encode_chunk, plan_append, read_points, series_columns,
};
use heron_core::ingest::{Columns, columnize};
use heron_core::{Error, Result, RunRef, time};
use heron_types::{HistoryPage, HistoryRow, IngestAck, KeyInfo, Scalar, SeriesColumns, Stream};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::{Map, Value};

use std::sync::Arc;

use crate::ResultExt;
use crate::cache::{ChartCache, cacheable};
use crate::runs::{run_pk, touch};

pub(crate) fn stream_code(stream: Stream) -> i64 {
    match stream {
        Stream::History => 0,
        Stream::System => 1,
    }
}

pub(crate) fn stream_of(code: i64) -> Stream {
    if code == 1 { Stream::System } else { Stream::History }
}

struct SeriesState {
    id: i64,
    max_step: Option<i64>,
}

fn series_for_write(tx: &Transaction, run_pk: i64, stream: i64, key: &str, kind: &str) -> Result<SeriesState> {
    let found = tx
        .prepare_cached("SELECT id, max_step FROM series WHERE run_pk = ?1 AND stream = ?2 AND key = ?3 AND kind = ?4")
        .db()?
        .query_row(params![run_pk, stream, key, kind], |row| Ok(SeriesState { id: row.get(0)?, max_step: row.get(1)? }))
        .optional()
        .db()?;
    if let Some(state) = found {
        return Ok(state);
    }
    tx.prepare_cached("INSERT INTO series (run_pk, stream, key, kind) VALUES (?1, ?2, ?3, ?4)")
        .db()?
        .execute(params![run_pk, stream, key, kind])
        .db()?;
    Ok(SeriesState { id: tx.last_insert_rowid(), max_step: None })
}

/// Appends one series' new points, keeping chunks full but for the last.
fn append_scalars(tx: &Transaction, series: &SeriesState, points: &[Point]) -> Result<()> {
    let tail: Option<(i64, Vec<u8>)> = tx
        .prepare_cached(
            "SELECT id, data FROM chunks WHERE series_id = ?1 AND count < ?2 ORDER BY step_max DESC LIMIT 1",
        )
        .db()?
        .query_row(params![series.id, CHUNK_POINTS as i64], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .db()?;
    let (tail_id, tail_points) = match tail {
        Some((id, data)) => (Some(id), Some(decode_points(&data)?)),
        None => (None, None),
    };
    for (index, chunk_points) in plan_append(tail_points, points).iter().enumerate() {
        let chunk = encode_chunk(chunk_points)?;
        match tail_id.filter(|_| index == 0) {
            Some(id) => tx
                .prepare_cached("UPDATE chunks SET step_min = ?2, step_max = ?3, count = ?4, summary = ?5, groups = ?6, data = ?7 WHERE id = ?1")
                .db()?
                .execute(params![id, chunk.step_min, chunk.step_max, chunk.count as i64, chunk.summary, chunk.groups, chunk.data])
                .db()?,
            None => tx
                .prepare_cached("INSERT INTO chunks (series_id, step_min, step_max, count, summary, groups, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                .db()?
                .execute(params![series.id, chunk.step_min, chunk.step_max, chunk.count as i64, chunk.summary, chunk.groups, chunk.data])
                .db()?,
        };
    }
    let summary = Summary::of_points(points).ok_or_else(|| Error::internal("empty append"))?;
    tx.prepare_cached(
        "UPDATE series SET count = count + ?2, min_step = COALESCE(min_step, ?3), max_step = ?4,
            vmin = CASE WHEN ?5 IS NULL THEN vmin WHEN vmin IS NULL OR ?5 < vmin THEN ?5 ELSE vmin END,
            vmax = CASE WHEN ?6 IS NULL THEN vmax WHEN vmax IS NULL OR ?6 > vmax THEN ?6 ELSE vmax END,
            vlast = ?7
         WHERE id = ?1",
    )
    .db()?
    .execute(params![
        series.id,
        summary.count as i64,
        summary.first.step,
        summary.last.step,
        summary.min.map(|p| p.value),
        summary.max.map(|p| p.value),
        finite_or_none(summary.last.value),
    ])
    .db()?;
    Ok(())
}

/// SQLite stores NaN as NULL; ±inf are kept. The key listing reads `last` back as such.
fn finite_or_none(value: f64) -> Option<f64> {
    (!value.is_nan()).then_some(value)
}

fn append_objects(tx: &Transaction, series: &SeriesState, values: &[(i64, String)]) -> Result<()> {
    let mut insert = tx.prepare_cached("INSERT INTO objects (series_id, step, value) VALUES (?1, ?2, ?3)").db()?;
    for (step, text) in values {
        insert.execute(params![series.id, step, text]).db()?;
    }
    tx.prepare_cached(
        "UPDATE series SET count = count + ?2, min_step = COALESCE(min_step, ?3), max_step = ?4 WHERE id = ?1",
    )
    .db()?
    .execute(params![series.id, values.len() as i64, values[0].0, values[values.len() - 1].0])
    .db()?;
    Ok(())
}

/// Stores one batch in one transaction. `rows_of` turns the batch into rows once the run's
/// counters are known (system samples are numbered after the ones stored).
pub(crate) fn append(
    conn: &mut Connection,
    run: &RunRef,
    stream: Stream,
    seq: u64,
    rows_of: impl FnOnce(i64) -> Result<Vec<HistoryRow>>,
) -> Result<IngestAck> {
    heron_core::ingest::check_seq(seq)?;
    let stream_id = stream_code(stream);
    let now = time::now();
    let tx = conn.transaction().db()?;
    let pk = run_pk(&tx, run)?;
    let (last_step, stored_rows): (Option<i64>, i64) = tx
        .query_row(
            "SELECT last_step, CASE WHEN ?2 = 1 THEN system_rows ELSE history_rows END FROM runs WHERE id = ?1",
            params![pk, stream_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .db()?;
    let seen: Option<(i64, i64)> = tx
        .prepare_cached("SELECT rows, points FROM batches WHERE run_pk = ?1 AND stream = ?2 AND seq = ?3")
        .db()?
        .query_row(params![pk, stream_id, seq as i64], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .db()?;
    if let Some((rows, points)) = seen {
        touch(&tx, pk, now)?;
        tx.commit().db()?;
        return Ok(IngestAck {
            seq,
            duplicate: true,
            rows: rows as u64,
            points: points as u64,
            dropped_points: 0,
            last_step,
        });
    }
    let rows = rows_of(stored_rows)?;
    let Columns { scalars, objects, steps, rows: row_count } = columnize(&rows, now)?;
    let mut stored = 0u64;
    let mut dropped = 0u64;
    for (key, points) in &scalars {
        let series = series_for_write(&tx, pk, stream_id, key, "scalar")?;
        let fresh: Vec<Point> =
            points.iter().copied().filter(|p| series.max_step.is_none_or(|max| p.step > max)).collect();
        // The store's own `_timestamp` points are neither counted as stored nor as dropped.
        if key != TIMESTAMP_KEY {
            dropped += (points.len() - fresh.len()) as u64;
        }
        if !fresh.is_empty() {
            append_scalars(&tx, &series, &fresh)?;
            if key != TIMESTAMP_KEY {
                stored += fresh.len() as u64;
            }
        }
    }
    for (key, values) in &objects {
        let series = series_for_write(&tx, pk, stream_id, key, "object")?;
        let fresh: Vec<(i64, String)> =
            values.iter().filter(|(step, _)| series.max_step.is_none_or(|max| *step > max)).cloned().collect();
        dropped += (values.len() - fresh.len()) as u64;
        if !fresh.is_empty() {
            append_objects(&tx, &series, &fresh)?;
            stored += fresh.len() as u64;
        }
    }
    tx.prepare_cached("INSERT INTO batches (run_pk, stream, seq, rows, points) VALUES (?1, ?2, ?3, ?4, ?5)")
        .db()?
        .execute(params![pk, stream_id, seq as i64, row_count as i64, stored as i64])
        .db()?;
    let new_last = steps.last().copied();
    if stream == Stream::History {
        let new_rows = steps.iter().filter(|s| last_step.is_none_or(|last| **s > last)).count() as i64;
        tx.prepare_cached(
            "UPDATE runs SET last_step = CASE WHEN ?2 IS NULL THEN last_step ELSE MAX(COALESCE(last_step, ?2), ?2) END, history_rows = history_rows + ?3,
                last_history_seq = MAX(COALESCE(last_history_seq, ?4), ?4) WHERE id = ?1",
        )
        .db()?
        .execute(params![pk, new_last, new_rows, seq as i64])
        .db()?;
    } else {
        tx.prepare_cached(
            "UPDATE runs SET system_rows = system_rows + ?2, last_system_seq = MAX(COALESCE(last_system_seq, ?3), ?3) WHERE id = ?1",
        )
        .db()?
        .execute(params![pk, row_count as i64, seq as i64])
        .db()?;
    }
    touch(&tx, pk, now)?;
    tx.commit().db()?;
    let last_step = match stream {
        Stream::History => last_step.max(new_last),
        // For system metrics the step is the sample index.
        Stream::System => (stored_rows + row_count as i64).checked_sub(1).filter(|s| *s >= 0),
    };
    Ok(IngestAck { seq, duplicate: false, rows: row_count as u64, points: stored, dropped_points: dropped, last_step })
}

pub(crate) fn keys(conn: &Connection, run: &RunRef) -> Result<Vec<KeyInfo>> {
    let pk = run_pk(conn, run)?;
    let mut stmt = conn
        .prepare_cached("SELECT key, stream, kind, count, min_step, max_step, vmin, vmax, vlast FROM series WHERE run_pk = ?1 ORDER BY stream, key")
        .db()?;
    let keys = stmt
        .query_map([pk], |row| {
            let scalar = |v: Option<f64>| v.map(Scalar);
            Ok(KeyInfo {
                key: row.get(0)?,
                stream: stream_of(row.get(1)?),
                kind: row.get(2)?,
                count: row.get::<_, i64>(3)? as u64,
                min_step: row.get(4)?,
                max_step: row.get(5)?,
                min: scalar(row.get(6)?),
                max: scalar(row.get(7)?),
                last: scalar(row.get(8)?),
            })
        })
        .db()?
        .collect::<Result<Vec<_>, _>>()
        .db()?;
    Ok(keys)
}

/// A series' chunks read through SQLite. Chunk summaries come from a covering index; a chunk's
/// groups and points are read (and, for chart reads, cached) only when it straddles a bucket edge.
pub(crate) struct SqliteSeries<'c> {
    conn: &'c Connection,
    series_id: i64,
    /// Chart reads cache chunk lists and full chunks; raw reads and exports pass through.
    cache: Option<(&'c ChartCache, i64)>,
}

impl SqliteSeries<'_> {
    fn query_chunks(&self, lo: i64, hi: i64) -> Result<Vec<ChunkMeta>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, count, summary FROM chunks WHERE series_id = ?1 AND step_max >= ?2 AND step_min <= ?3 ORDER BY step_max",
            )
            .db()?;
        let rows = stmt
            .query_map(params![self.series_id, lo, hi], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, Vec<u8>>(2)?))
            })
            .db()?;
        let mut out = Vec::new();
        for row in rows {
            let (handle, count, summary) = row.db()?;
            out.push(ChunkMeta { handle, count: count as usize, summary: Summary::decode(&summary)? });
        }
        Ok(out)
    }
}

impl SeriesReader for SqliteSeries<'_> {
    fn chunks(&mut self, lo: i64, hi: i64) -> Result<Vec<ChunkMeta>> {
        let Some((cache, points)) = self.cache else { return self.query_chunks(lo, hi) };
        let key = (self.series_id, points);
        let list = match cache.lists.get(&key) {
            Some(list) => list,
            None => {
                let list = Arc::new(self.query_chunks(i64::MIN, i64::MAX)?);
                cache.lists.insert(key, list.clone());
                list
            }
        };
        Ok(list.iter().filter(|c| c.summary.last.step >= lo && c.summary.first.step <= hi).cloned().collect())
    }

    fn body(&mut self, chunk: &ChunkMeta) -> Result<Arc<ChunkBody>> {
        let cache = self.cache.map(|(cache, _)| &cache.chunks).filter(|_| cacheable(chunk.count));
        if let Some(body) = cache.and_then(|c| c.get(&chunk.handle)) {
            return Ok(body);
        }
        let (groups, data): (Vec<u8>, Vec<u8>) = self
            .conn
            .prepare_cached("SELECT groups, data FROM chunks WHERE id = ?1")
            .db()?
            .query_row([chunk.handle], |row| Ok((row.get(0)?, row.get(1)?)))
            .db()?;
        let body = Arc::new(ChunkBody::decode(&groups, &data)?);
        if let Some(cache) = cache {
            cache.insert(chunk.handle, body.clone());
        }
        Ok(body)
    }
}

/// Chart reads over the runs of one project.
pub(crate) struct ProjectSeries<'c> {
    conn: &'c Connection,
    cache: &'c ChartCache,
    entity: String,
    project: String,
    runs: HashMap<String, i64>,
}

impl<'c> ProjectSeries<'c> {
    pub(crate) fn new(conn: &'c Connection, cache: &'c ChartCache, entity: &str, project: &str) -> Self {
        ProjectSeries { conn, cache, entity: entity.to_string(), project: project.to_string(), runs: HashMap::new() }
    }
}

impl ChartSource for ProjectSeries<'_> {
    fn open(&mut self, run: &str, key: &str, stream: Option<Stream>) -> Result<Option<OpenSeries<'_>>> {
        let pk = match self.runs.get(run) {
            Some(pk) => *pk,
            None => {
                let pk = run_pk(self.conn, &RunRef::new(&self.entity, &self.project, run))?;
                self.runs.insert(run.to_string(), pk);
                pk
            }
        };
        // Without a stream, a key is looked up among history series first, then system metrics.
        let found: Option<(i64, i64, i64, i64, i64)> = self
            .conn
            .prepare_cached(
                "SELECT id, min_step, max_step, stream, count FROM series
                 WHERE run_pk = ?1 AND key = ?2 AND kind = 'scalar' AND min_step IS NOT NULL AND (?3 IS NULL OR stream = ?3)
                 ORDER BY stream LIMIT 1",
            )
            .db()?
            .query_row(params![pk, key, stream.map(stream_code)], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)))
            .optional()
            .db()?;
        Ok(found.map(|(series_id, lo, hi, code, points)| OpenSeries {
            reader: Box::new(SqliteSeries { conn: self.conn, series_id, cache: Some((self.cache, points)) }),
            extent: (lo, hi),
            stream: stream_of(code),
        }))
    }
}

/// Raw rows: up to `limit` distinct steps from `min_step`, with every requested key.
pub(crate) fn rows(
    conn: &Connection,
    run: &RunRef,
    keys: Option<&[String]>,
    min_step: i64,
    max_step: i64,
    limit: usize,
    stream: Stream,
) -> Result<HistoryPage> {
    let pk = run_pk(conn, run)?;
    let mut stmt =
        conn.prepare_cached("SELECT id, key, kind FROM series WHERE run_pk = ?1 AND stream = ?2 ORDER BY key").db()?;
    let all: Vec<(i64, String, String)> = stmt
        .query_map(params![pk, stream_code(stream)], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .db()?
        .collect::<Result<_, _>>()
        .db()?;
    let wanted = |key: &str| key == TIMESTAMP_KEY || keys.is_none_or(|ks| ks.iter().any(|k| k == key));
    // Each series gives at most limit + 1 values: enough to know the first limit + 1 steps.
    let mut values: BTreeMap<i64, Map<String, Value>> = BTreeMap::new();
    let mut steps = BTreeSet::new();
    for (series_id, key, kind) in all.into_iter().filter(|(_, key, _)| wanted(key)) {
        if kind == "scalar" {
            let mut reader = SqliteSeries { conn, series_id, cache: None };
            let mut taken = 0;
            'chunks: for chunk in reader.chunks(min_step, max_step)? {
                for &point in reader.body(&chunk)?.points.iter() {
                    if point.step < min_step || point.step > max_step {
                        continue;
                    }
                    if taken > limit {
                        break 'chunks;
                    }
                    taken += 1;
                    steps.insert(point.step);
                    values.entry(point.step).or_default().insert(key.clone(), Scalar::to_json(point.value));
                }
            }
        } else {
            let mut stmt = conn
                .prepare_cached("SELECT step, value FROM objects WHERE series_id = ?1 AND step >= ?2 AND step <= ?3 ORDER BY step LIMIT ?4")
                .db()?;
            let rows = stmt
                .query_map(params![series_id, min_step, max_step, (limit + 1) as i64], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
                })
                .db()?;
            for row in rows {
                let (step, text) = row.db()?;
                steps.insert(step);
                values.entry(step).or_default().insert(key.clone(), serde_json::from_str(&text).unwrap_or(Value::Null));
            }
        }
    }
    let next_step = steps.iter().nth(limit).copied();
    let rows = values
        .into_iter()
        .take_while(|(step, _)| next_step.is_none_or(|next| *step < next))
        .map(|(step, mut row)| {
            row.insert("_step".to_string(), Value::from(step));
            Value::Object(row)
        })
        .collect();
    Ok(HistoryPage { rows, next_step })
}

/// One key at full resolution (`Store::history_series`). Chunks go through the chart cache, so
/// a notebook that reads a series again finds its full chunks in memory.
pub(crate) fn series(
    conn: &Connection,
    cache: &ChartCache,
    run: &RunRef,
    key: &str,
    min_step: i64,
    max_step: i64,
    stream: Stream,
) -> Result<SeriesColumns> {
    // One snapshot for the count, the points and the times, however many statements read them,
    // so a batch stored meanwhile is either wholly in the answer or not at all.
    let snapshot = conn.unchecked_transaction().db()?;
    let conn: &Connection = &snapshot;
    let pk = run_pk(conn, run)?;
    // A key may hold both scalars and objects (a series of each kind).
    let mut stmt = conn
        .prepare_cached("SELECT id, kind, count FROM series WHERE run_pk = ?1 AND stream = ?2 AND key = ?3")
        .db()?;
    let found: Vec<(i64, String, i64)> = stmt
        .query_map(params![pk, stream_code(stream), key], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .db()?
        .collect::<Result<_, _>>()
        .db()?;
    let scalar_series = found.iter().find(|(_, kind, _)| kind == "scalar").map(|(id, _, count)| (*id, *count));
    let object_series = found.iter().find(|(_, kind, _)| kind == "object").map(|(id, _, _)| *id);
    let reader = |(series_id, points): (i64, i64)| SqliteSeries { conn, series_id, cache: Some((cache, points)) };

    let mut scalars = scalar_series.map(reader);
    let scalar_count = match scalars.as_mut() {
        Some(series) => count_points(series, min_step, max_step)?,
        None => 0,
    };
    let object_count: i64 = match object_series {
        Some(series_id) => conn
            .prepare_cached("SELECT count(*) FROM objects WHERE series_id = ?1 AND step >= ?2 AND step <= ?3")
            .db()?
            .query_row(params![series_id, min_step, max_step], |row| row.get(0))
            .db()?,
        None => 0,
    };
    check_series_points(key, min_step, max_step, scalar_count + object_count as usize)?;

    let points = match scalars.as_mut() {
        Some(series) => read_points(series, min_step, max_step)?,
        None => Vec::new(),
    };
    let mut objects: Vec<(i64, Value)> = Vec::new();
    if let Some(series_id) = object_series {
        let mut stmt = conn
            .prepare_cached(
                "SELECT step, value FROM objects WHERE series_id = ?1 AND step >= ?2 AND step <= ?3 ORDER BY step",
            )
            .db()?;
        let rows = stmt
            .query_map(params![series_id, min_step, max_step], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })
            .db()?;
        for row in rows {
            let (step, text) = row.db()?;
            objects.push((step, serde_json::from_str(&text).unwrap_or(Value::Null)));
        }
    }

    if key == TIMESTAMP_KEY {
        // The store's own series: each point is its own time.
        return Ok(series_columns(key, &points, objects, &points));
    }
    // Times only over the steps the key has.
    let first = points.first().map(|p| p.step).into_iter().chain(objects.first().map(|o| o.0)).min();
    let last = points.last().map(|p| p.step).into_iter().chain(objects.last().map(|o| o.0)).max();
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(series_columns(key, &points, objects, &[]));
    };
    let stamps: Option<(i64, i64)> = conn
        .prepare_cached(
            "SELECT id, count FROM series WHERE run_pk = ?1 AND stream = ?2 AND key = ?3 AND kind = 'scalar'",
        )
        .db()?
        .query_row(params![pk, stream_code(stream), TIMESTAMP_KEY], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .db()?;
    let timestamps = match stamps {
        Some(series) => read_points(&mut reader(series), first, last)?,
        None => Vec::new(),
    };
    Ok(series_columns(key, &points, objects, &timestamps))
}

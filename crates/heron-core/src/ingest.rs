//! What a history batch becomes before it is stored: validated against the documented limits,
//! then split into one sorted series per key.

use std::collections::BTreeMap;

use heron_types::{HistoryRow, SystemBatch, limits};

use crate::chart::TIMESTAMP_KEY;
use crate::error::{Error, Result};
use crate::history::Point;
use crate::names;

/// Keys the server fills in itself.
pub const RESERVED_KEYS: [&str; 3] = ["_step", "_timestamp", "_runtime"];

/// A batch split by key. Points are in strictly increasing step order per key.
#[derive(Debug, Default)]
pub struct Columns {
    pub scalars: BTreeMap<String, Vec<Point>>,
    /// Non-scalar values as JSON text.
    pub objects: BTreeMap<String, Vec<(i64, String)>>,
    /// Distinct steps of the batch, sorted.
    pub steps: Vec<i64>,
    pub rows: usize,
}

impl Columns {
    pub fn points(&self) -> usize {
        self.scalars.values().map(Vec::len).sum::<usize>() + self.objects.values().map(Vec::len).sum::<usize>()
    }
}

pub fn validate_rows(rows: &[HistoryRow]) -> Result<()> {
    if rows.len() > limits::MAX_ROWS_PER_BATCH {
        return Err(Error::too_large(format!(
            "batch has {} rows; the limit is {} rows per batch",
            rows.len(),
            limits::MAX_ROWS_PER_BATCH
        )));
    }
    let mut points = 0usize;
    for row in rows {
        let keys = row.scalars.len() + row.objects.len();
        if keys > limits::MAX_KEYS_PER_ROW {
            return Err(Error::too_large(format!(
                "the row at step {} has {keys} keys; the limit is {} keys per row",
                row.step,
                limits::MAX_KEYS_PER_ROW
            )));
        }
        points += keys;
        if let Some(time) = row.time
            && !time.is_finite()
        {
            return Err(Error::invalid(format!("the row at step {} has a non-finite time", row.step)));
        }
        for key in row.scalars.keys().chain(row.objects.keys()) {
            names::check_key("metric key", key)?;
            if RESERVED_KEYS.contains(&key.as_str()) {
                return Err(Error::invalid(format!("key {key:?} is reserved; the server records it itself")));
            }
        }
        if let Some(key) = row.scalars.keys().find(|k| row.objects.contains_key(*k)) {
            return Err(Error::invalid(format!("key {key:?} is both a scalar and an object at step {}", row.step)));
        }
        for (key, value) in &row.objects {
            if names::json_depth(value) > limits::MAX_JSON_DEPTH {
                return Err(Error::invalid(format!(
                    "value of {key:?} is nested deeper than {} levels",
                    limits::MAX_JSON_DEPTH
                )));
            }
        }
    }
    if points > limits::MAX_POINTS_PER_BATCH {
        return Err(Error::too_large(format!(
            "batch has {points} values; the limit is {} per batch",
            limits::MAX_POINTS_PER_BATCH
        )));
    }
    Ok(())
}

/// Splits rows into series. Rows are taken in step order (stable); when a key appears twice at
/// one step the later value wins, like a wandb row built from several `log(commit=False)` calls.
/// Every distinct step gets a `_timestamp` point (the row's time, else `now`).
pub fn columnize(rows: &[HistoryRow], now: f64) -> Result<Columns> {
    validate_rows(rows)?;
    let mut order: Vec<&HistoryRow> = rows.iter().collect();
    order.sort_by_key(|row| row.step);
    let mut columns = Columns { rows: rows.len(), ..Default::default() };
    let push = |series: &mut Vec<Point>, point: Point| match series.last_mut() {
        Some(last) if last.step == point.step => *last = point,
        _ => series.push(point),
    };
    for row in order {
        if columns.steps.last() != Some(&row.step) {
            columns.steps.push(row.step);
        }
        let time = row.time.unwrap_or(now);
        push(columns.scalars.entry(TIMESTAMP_KEY.to_string()).or_default(), Point::new(row.step, time));
        for (key, value) in &row.scalars {
            push(columns.scalars.entry(key.clone()).or_default(), Point::new(row.step, value.0));
        }
        for (key, value) in &row.objects {
            let text = serde_json::to_string(value).map_err(|e| Error::invalid(format!("value of {key:?}: {e}")))?;
            if text.len() > limits::MAX_OBJECT_BYTES {
                return Err(Error::too_large(format!(
                    "value of {key:?} at step {} is {} bytes; the limit is {} bytes",
                    row.step,
                    text.len(),
                    limits::MAX_OBJECT_BYTES
                )));
            }
            let series = columns.objects.entry(key.clone()).or_default();
            match series.last_mut() {
                Some(last) if last.0 == row.step => *last = (row.step, text),
                _ => series.push((row.step, text)),
            }
        }
    }
    Ok(columns)
}

/// System samples become rows whose steps continue the run's sample counter.
pub fn system_rows(batch: &SystemBatch, first_step: i64) -> Result<Vec<HistoryRow>> {
    batch
        .rows
        .iter()
        .enumerate()
        .map(|(index, sample)| {
            if !sample.time.is_finite() {
                return Err(Error::invalid("system sample time must be a finite unix time"));
            }
            Ok(HistoryRow {
                step: first_step + index as i64,
                time: Some(sample.time),
                scalars: sample.values.clone(),
                objects: BTreeMap::new(),
            })
        })
        .collect()
}

pub fn check_seq(seq: u64) -> Result<()> {
    if seq > i64::MAX as u64 {
        return Err(Error::invalid("seq must be below 2^63"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use heron_types::Scalar;
    use serde_json::json;

    fn row(step: i64, scalars: &[(&str, f64)]) -> HistoryRow {
        HistoryRow {
            step,
            time: Some(100.0 + step as f64),
            scalars: scalars.iter().map(|(k, v)| (k.to_string(), Scalar(*v))).collect(),
            objects: BTreeMap::new(),
        }
    }

    #[test]
    fn rows_become_sorted_series_with_last_value_winning() {
        let mut rows = vec![row(2, &[("a", 1.0)]), row(1, &[("a", 0.5), ("b", 3.0)]), row(2, &[("a", 9.0)])];
        rows[0].objects.insert("img".into(), json!({"path": "x.png"}));
        let columns = columnize(&rows, 0.0).unwrap();
        assert_eq!(columns.steps, vec![1, 2]);
        assert_eq!(columns.scalars["a"], vec![Point::new(1, 0.5), Point::new(2, 9.0)]);
        assert_eq!(columns.scalars["b"].len(), 1);
        assert_eq!(columns.scalars[TIMESTAMP_KEY].len(), 2);
        assert_eq!(columns.objects["img"], vec![(2, "{\"path\":\"x.png\"}".to_string())]);
    }

    #[test]
    fn limits_and_reserved_keys_are_enforced() {
        assert!(columnize(&[row(0, &[("_step", 1.0)])], 0.0).is_err());
        let long = "k".repeat(300);
        assert!(columnize(&[row(0, &[(long.as_str(), 1.0)])], 0.0).is_err());
        let wide: Vec<(String, f64)> = (0..limits::MAX_KEYS_PER_ROW + 1).map(|i| (format!("k{i}"), 1.0)).collect();
        let wide_row = HistoryRow {
            step: 0,
            time: None,
            scalars: wide.into_iter().map(|(k, v)| (k, Scalar(v))).collect(),
            objects: BTreeMap::new(),
        };
        assert_eq!(columnize(&[wide_row], 0.0).unwrap_err().kind, crate::ErrorKind::PayloadTooLarge);
    }
}

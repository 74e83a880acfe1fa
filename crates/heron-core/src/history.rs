//! The history engine's storage-independent half: how one series (one key of one run) is cut
//! into chunks, what each chunk summarises, and the M4 reduction that answers chart reads.
//!
//! A series is a sequence of points `(step, value)` with strictly increasing steps. It is stored
//! as chunks of at most [`CHUNK_POINTS`] points. Each chunk keeps three resolutions:
//! its own [`Summary`] (count, NaN count, first, last, min, max, sum), the summaries of its
//! groups of [`GROUP_POINTS`] points, and the points themselves. A chart read asks, per bucket
//! (pixel column), for the first, last, minimum and maximum point (M4). Chunks and groups that
//! fall inside one bucket are merged from their summaries; only the groups that straddle a
//! bucket edge are read point by point. So the cost follows the number of buckets, not the
//! number of points, and the answer is exactly what a reduction of every raw point gives.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use heron_types::{Scalar, SeriesColumns, SeriesValue, limits};
use serde_json::Value;

use crate::error::{Error, Result};

/// Points per chunk.
pub const CHUNK_POINTS: usize = 1024;
/// Points per group summary inside a chunk.
pub const GROUP_POINTS: usize = 32;
/// Bytes of one encoded point: step (i64 LE) then value (f64 LE).
pub const POINT_BYTES: usize = 16;
/// Bytes of one encoded [`Summary`].
pub const SUMMARY_BYTES: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub step: i64,
    pub value: f64,
}

impl Point {
    pub fn new(step: i64, value: f64) -> Self {
        Point { step, value }
    }
}

/// What a run of consecutive points reduces to. `min` and `max` ignore NaN (they are `None`
/// when every point is NaN); among equal values the earliest point is kept, so merging
/// summaries in step order gives the same answer as visiting every point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub nan_count: u64,
    pub first: Point,
    pub last: Point,
    pub min: Option<Point>,
    pub max: Option<Point>,
    /// Sum of the non-NaN values.
    pub sum: f64,
}

impl Summary {
    pub fn of_point(point: Point) -> Summary {
        let is_nan = point.value.is_nan();
        Summary {
            count: 1,
            nan_count: is_nan as u64,
            first: point,
            last: point,
            min: (!is_nan).then_some(point),
            max: (!is_nan).then_some(point),
            sum: if is_nan { 0.0 } else { point.value },
        }
    }

    /// The summary of consecutive points, in one tight pass (the hot loop of chart reads).
    pub fn of_points(points: &[Point]) -> Option<Summary> {
        let (first, last) = (*points.first()?, *points.last()?);
        let (mut min_index, mut max_index) = (usize::MAX, usize::MAX);
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut nan_count, mut sum) = (0u64, 0.0f64);
        for (index, point) in points.iter().enumerate() {
            let value = point.value;
            if value.is_nan() {
                nan_count += 1;
                continue;
            }
            sum += value;
            // Strict comparisons keep the earliest of equal values; the first non-NaN value
            // always takes both places (it may be an infinity).
            if value < min || min_index == usize::MAX {
                min = value;
                min_index = index;
            }
            if value > max || max_index == usize::MAX {
                max = value;
                max_index = index;
            }
        }
        Some(Summary {
            count: points.len() as u64,
            nan_count,
            first,
            last,
            min: points.get(min_index).copied(),
            max: points.get(max_index).copied(),
            sum,
        })
    }

    /// Adds a point that comes after every point already summarised.
    pub fn push(&mut self, point: Point) {
        self.merge(&Summary::of_point(point));
    }

    /// Adds a summary of points that all come after the points already summarised.
    pub fn merge(&mut self, later: &Summary) {
        self.count += later.count;
        self.nan_count += later.nan_count;
        self.last = later.last;
        self.sum += later.sum;
        if let Some(candidate) = later.min
            && self.min.is_none_or(|current| candidate.value < current.value)
        {
            self.min = Some(candidate);
        }
        if let Some(candidate) = later.max
            && self.max.is_none_or(|current| candidate.value > current.value)
        {
            self.max = Some(candidate);
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        let nan_point = Point::new(0, f64::NAN);
        let min = self.min.unwrap_or(nan_point);
        let max = self.max.unwrap_or(nan_point);
        for point in [self.first, self.last, min, max] {
            out.extend_from_slice(&point.step.to_le_bytes());
            out.extend_from_slice(&point.value.to_le_bytes());
        }
        out.extend_from_slice(&self.sum.to_le_bytes());
        out.extend_from_slice(&(self.count as u32).to_le_bytes());
        out.extend_from_slice(&(self.nan_count as u32).to_le_bytes());
    }

    pub fn decode(bytes: &[u8]) -> Result<Summary> {
        if bytes.len() != SUMMARY_BYTES {
            return Err(Error::internal(format!(
                "corrupt chunk summary: {} bytes instead of {SUMMARY_BYTES}",
                bytes.len()
            )));
        }
        let word = |i: usize| -> [u8; 8] { bytes[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]) };
        let point = |i: usize| Point::new(i64::from_le_bytes(word(2 * i)), f64::from_le_bytes(word(2 * i + 1)));
        let count = u32::from_le_bytes(bytes[72..76].try_into().unwrap_or([0; 4])) as u64;
        let nan_count = u32::from_le_bytes(bytes[76..80].try_into().unwrap_or([0; 4])) as u64;
        let has_extremes = count > nan_count;
        Ok(Summary {
            count,
            nan_count,
            first: point(0),
            last: point(1),
            min: has_extremes.then(|| point(2)),
            max: has_extremes.then(|| point(3)),
            sum: f64::from_le_bytes(word(8)),
        })
    }
}

/// A chunk ready to be written: its points and summaries encoded.
#[derive(Debug, Clone)]
pub struct EncodedChunk {
    pub step_min: i64,
    pub step_max: i64,
    pub count: usize,
    pub summary: Vec<u8>,
    pub groups: Vec<u8>,
    pub data: Vec<u8>,
}

pub fn encode_chunk(points: &[Point]) -> Result<EncodedChunk> {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Err(Error::internal("cannot encode an empty chunk"));
    };
    if points.len() > CHUNK_POINTS {
        return Err(Error::internal("chunk holds too many points"));
    }
    let mut data = Vec::with_capacity(points.len() * POINT_BYTES);
    for point in points {
        data.extend_from_slice(&point.step.to_le_bytes());
        data.extend_from_slice(&point.value.to_le_bytes());
    }
    let mut groups = Vec::with_capacity(points.len().div_ceil(GROUP_POINTS) * SUMMARY_BYTES);
    let mut whole: Option<Summary> = None;
    for group in points.chunks(GROUP_POINTS) {
        let Some(summary) = Summary::of_points(group) else { continue };
        summary.encode(&mut groups);
        match &mut whole {
            Some(total) => total.merge(&summary),
            None => whole = Some(summary),
        }
    }
    let mut summary = Vec::with_capacity(SUMMARY_BYTES);
    if let Some(total) = whole {
        total.encode(&mut summary);
    }
    Ok(EncodedChunk { step_min: first.step, step_max: last.step, count: points.len(), summary, groups, data })
}

pub fn decode_points(data: &[u8]) -> Result<Vec<Point>> {
    if !data.len().is_multiple_of(POINT_BYTES) {
        return Err(Error::internal(format!("corrupt chunk data: {} bytes", data.len())));
    }
    Ok(data
        .chunks_exact(POINT_BYTES)
        .map(|bytes| {
            let step = i64::from_le_bytes(bytes[..8].try_into().unwrap_or([0; 8]));
            let value = f64::from_le_bytes(bytes[8..].try_into().unwrap_or([0; 8]));
            Point::new(step, value)
        })
        .collect())
}

pub fn decode_groups(bytes: &[u8]) -> Result<Vec<Summary>> {
    if !bytes.len().is_multiple_of(SUMMARY_BYTES) {
        return Err(Error::internal(format!("corrupt group summaries: {} bytes", bytes.len())));
    }
    bytes.chunks_exact(SUMMARY_BYTES).map(Summary::decode).collect()
}

/// How new points join a series: the tail chunk (if not full) is rewritten with the first new
/// points, the rest go to new chunks. Returns the chunks to write, tail first.
pub fn plan_append(tail: Option<Vec<Point>>, new_points: &[Point]) -> Vec<Vec<Point>> {
    let mut out = Vec::new();
    let mut rest = new_points;
    if let Some(mut tail_points) = tail {
        let room = CHUNK_POINTS.saturating_sub(tail_points.len()).min(rest.len());
        tail_points.extend_from_slice(&rest[..room]);
        rest = &rest[room..];
        out.push(tail_points);
    }
    out.extend(rest.chunks(CHUNK_POINTS).map(<[Point]>::to_vec));
    out
}

/// A stored chunk as a reader sees it before opening it.
#[derive(Debug, Clone)]
pub struct ChunkMeta {
    /// Storage handle (row id).
    pub handle: i64,
    pub count: usize,
    pub summary: Summary,
}

/// A chunk opened: its group summaries and its points.
#[derive(Debug, Clone)]
pub struct ChunkBody {
    pub groups: Vec<Summary>,
    pub points: Vec<Point>,
}

impl ChunkBody {
    pub fn decode(groups: &[u8], data: &[u8]) -> Result<ChunkBody> {
        Ok(ChunkBody { groups: decode_groups(groups)?, points: decode_points(data)? })
    }
}

/// What the M4 reduction needs from storage, for one series.
pub trait SeriesReader {
    /// Chunks holding points with steps in `[lo, hi]`, in step order: their summaries only.
    fn chunks(&mut self, lo: i64, hi: i64) -> Result<Vec<ChunkMeta>>;
    /// A chunk's groups and points; read only for chunks that straddle a bucket edge.
    fn body(&mut self, chunk: &ChunkMeta) -> Result<Arc<ChunkBody>>;
}

/// Assigns steps to buckets; must be non-decreasing in the step over `[lo, hi]`.
pub trait Buckets {
    fn bucket_of(&self, step: i64) -> u32;
    /// The first step of every bucket after the first, in order: bucket `i` holds the steps in
    /// `[starts[i - 1], starts[i])`. Equal to what `bucket_of` says.
    fn starts(&self) -> Cow<'_, [i64]>;
}

/// `n` equal buckets over the inclusive step range `[lo, hi]`.
#[derive(Debug, Clone, Copy)]
pub struct StepBuckets {
    pub lo: i64,
    pub hi: i64,
    pub n: u32,
}

impl Buckets for StepBuckets {
    fn bucket_of(&self, step: i64) -> u32 {
        let span = (self.hi as i128 - self.lo as i128 + 1).max(1);
        let offset = (step as i128 - self.lo as i128).clamp(0, span - 1);
        (offset * self.n as i128 / span) as u32
    }

    fn starts(&self) -> Cow<'_, [i64]> {
        // Bucket b starts at the smallest step s with (s - lo) * n / span >= b.
        let span = (self.hi as i128 - self.lo as i128 + 1).max(1);
        let n = self.n as i128;
        let start = |bucket: i128| i64::try_from(self.lo as i128 + (bucket * span + n - 1) / n).unwrap_or(i64::MAX);
        Cow::Owned((1..n).map(start).collect())
    }
}

/// Buckets given by the first step of each bucket after the first (sorted): used when the
/// x-axis is a monotone function of the step (wall time, a custom step key).
#[derive(Debug, Clone)]
pub struct EdgeBuckets {
    /// `starts[i]` is the first step of bucket `i + 1`.
    pub starts: Vec<i64>,
}

impl Buckets for EdgeBuckets {
    fn bucket_of(&self, step: i64) -> u32 {
        self.starts.partition_point(|start| *start <= step) as u32
    }

    fn starts(&self) -> Cow<'_, [i64]> {
        Cow::Borrowed(&self.starts)
    }
}

/// M4 over the steps `[lo, hi]`: the non-empty buckets in order, each with its summary.
///
/// One forward sweep: chunks, groups and points come in step order, so the current bucket only
/// moves forward and placing anything costs comparisons, never arithmetic.
pub fn m4(reader: &mut dyn SeriesReader, lo: i64, hi: i64, buckets: &dyn Buckets) -> Result<Vec<(u32, Summary)>> {
    let mut out: Vec<(u32, Summary)> = Vec::new();
    if lo > hi {
        return Ok(out);
    }
    let starts = buckets.starts();
    let mut bucket = 0usize;
    // The bucket holding `step` (steps arrive in increasing order), and where that bucket ends.
    let mut seek = |step: i64| -> (usize, i64) {
        while starts.get(bucket).is_some_and(|start| *start <= step) {
            bucket += 1;
        }
        (bucket, starts.get(bucket).copied().unwrap_or(i64::MAX))
    };
    let mut add = |bucket: usize, summary: &Summary| match out.last_mut() {
        Some((last_bucket, acc)) if *last_bucket == bucket as u32 => acc.merge(summary),
        _ => out.push((bucket as u32, *summary)),
    };
    for chunk in reader.chunks(lo, hi)? {
        let summary = &chunk.summary;
        if summary.first.step >= lo && summary.last.step <= hi {
            let (index, end) = seek(summary.first.step);
            if summary.last.step < end {
                add(index, summary);
                continue;
            }
        }
        let body = reader.body(&chunk)?;
        for (group_index, group) in body.groups.iter().enumerate() {
            if group.last.step < lo || group.first.step > hi {
                continue;
            }
            if group.first.step >= lo && group.last.step <= hi {
                let (index, end) = seek(group.first.step);
                if group.last.step < end {
                    add(index, group);
                    continue;
                }
            }
            let from = group_index * GROUP_POINTS;
            let to = (from + GROUP_POINTS).min(body.points.len());
            let mut rest = &body.points[from..to];
            // Linear scans, not binary searches: the points are cold in memory and a forward
            // scan is what the prefetcher follows.
            if group.first.step < lo || group.last.step > hi {
                let start = rest.iter().position(|p| p.step >= lo).unwrap_or(rest.len());
                let end = rest.iter().rposition(|p| p.step <= hi).map_or(0, |i| i + 1).max(start);
                rest = &rest[start..end];
            }
            // Cut the group at bucket edges and summarise each piece in one pass.
            while let Some(first) = rest.first() {
                let (index, bucket_end) = seek(first.step);
                let split = rest.iter().position(|p| p.step >= bucket_end).unwrap_or(rest.len());
                if let Some(piece) = Summary::of_points(&rest[..split]) {
                    add(index, &piece);
                }
                rest = &rest[split..];
            }
        }
    }
    Ok(out)
}

/// How many points have a step in `[lo, hi]`: from the chunks' counts, opening only a chunk
/// that straddles an end of the range (at most two).
pub fn count_points(reader: &mut dyn SeriesReader, lo: i64, hi: i64) -> Result<usize> {
    let mut count = 0;
    for chunk in reader.chunks(lo, hi)? {
        if chunk.summary.first.step >= lo && chunk.summary.last.step <= hi {
            count += chunk.count;
        } else {
            count += reader.body(&chunk)?.points.iter().filter(|p| p.step >= lo && p.step <= hi).count();
        }
    }
    Ok(count)
}

/// Every point with a step in `[lo, hi]`, in step order: a full-resolution read.
pub fn read_points(reader: &mut dyn SeriesReader, lo: i64, hi: i64) -> Result<Vec<Point>> {
    let chunks = reader.chunks(lo, hi)?;
    let mut out = Vec::with_capacity(chunks.iter().map(|c| c.count).sum());
    for chunk in chunks {
        let body = reader.body(&chunk)?;
        if chunk.summary.first.step >= lo && chunk.summary.last.step <= hi {
            out.extend_from_slice(&body.points);
        } else {
            out.extend(body.points.iter().filter(|p| p.step >= lo && p.step <= hi));
        }
    }
    Ok(out)
}

/// Refuses a full-resolution read of more than [`limits::MAX_SERIES_POINTS`] points, saying
/// how to read it in parts.
pub fn check_series_points(key: &str, lo: i64, hi: i64, points: usize) -> Result<()> {
    if points <= limits::MAX_SERIES_POINTS {
        return Ok(());
    }
    let range = match (lo, hi) {
        (i64::MIN, i64::MAX) => String::new(),
        (lo, hi) => format!(" between steps {lo} and {hi}"),
    };
    Err(Error::invalid(format!(
        "key {key:?} has {points} points{range}; one series read returns at most {}; read it in parts with min_step and max_step",
        limits::MAX_SERIES_POINTS
    )))
}

/// Joins one key's stored values into columns: `scalars` and `objects` (each in step order;
/// where both hold a step, the scalar is given, as the rows read does) and each step's time
/// from `timestamps` (the stream's `_timestamp` points, in step order; null where absent).
pub fn series_columns(key: &str, scalars: &[Point], objects: Vec<(i64, Value)>, timestamps: &[Point]) -> SeriesColumns {
    let capacity = scalars.len() + objects.len();
    let mut columns = SeriesColumns {
        key: key.to_string(),
        steps: Vec::with_capacity(capacity),
        times: Vec::with_capacity(capacity),
        values: Vec::with_capacity(capacity),
    };
    if objects.is_empty() {
        columns.steps.extend(scalars.iter().map(|p| p.step));
        columns.values.extend(scalars.iter().map(|p| SeriesValue::Scalar(Scalar(p.value))));
    } else {
        let mut scalars = scalars.iter().peekable();
        let mut objects = objects.into_iter().peekable();
        loop {
            let next_scalar = scalars.peek().map(|p| p.step);
            let next_object = objects.peek().map(|(step, _)| *step);
            let take_scalar = match (next_scalar, next_object) {
                (None, None) => break,
                (Some(scalar), Some(object)) => scalar <= object,
                (scalar, _) => scalar.is_some(),
            };
            if take_scalar {
                let Some(point) = scalars.next() else { break };
                if next_object == Some(point.step) {
                    objects.next();
                }
                columns.steps.push(point.step);
                columns.values.push(SeriesValue::Scalar(Scalar(point.value)));
            } else if let Some((step, value)) = objects.next() {
                columns.steps.push(step);
                columns.values.push(SeriesValue::Object(Box::new(value)));
            }
        }
    }
    // Both in step order: one forward walk through the timestamps.
    let mut stamps = timestamps.iter().peekable();
    for step in &columns.steps {
        while stamps.next_if(|p| p.step < *step).is_some() {}
        columns.times.push(stamps.peek().filter(|p| p.step == *step).map(|p| p.value));
    }
    columns
}

/// The reference reduction: every point visited, in step order, into the bucket `bucket_of`
/// gives it (`None` = outside the chart). Used where no summary helps (a non-monotone x-axis)
/// and by tests as the truth M4 must equal.
pub fn reduce_points(
    points: impl IntoIterator<Item = Point>,
    bucket_of: impl Fn(Point) -> Option<u32>,
) -> BTreeMap<u32, Summary> {
    let mut out: BTreeMap<u32, Summary> = BTreeMap::new();
    for point in points {
        let Some(bucket) = bucket_of(point) else { continue };
        match out.get_mut(&bucket) {
            Some(acc) => acc.push(point),
            None => {
                out.insert(bucket, Summary::of_point(point));
            }
        }
    }
    out
}

/// An in-memory series laid out exactly as stores lay it out; for tests and small tails.
#[derive(Debug, Clone, Default)]
pub struct MemorySeries {
    chunks: Vec<EncodedChunk>,
}

impl MemorySeries {
    pub fn from_points(points: &[Point]) -> Result<Self> {
        let chunks = points.chunks(CHUNK_POINTS).map(encode_chunk).collect::<Result<_>>()?;
        Ok(MemorySeries { chunks })
    }
}

impl SeriesReader for MemorySeries {
    fn chunks(&mut self, lo: i64, hi: i64) -> Result<Vec<ChunkMeta>> {
        let mut out = Vec::new();
        for (handle, chunk) in self.chunks.iter().enumerate() {
            if chunk.step_max >= lo && chunk.step_min <= hi {
                out.push(ChunkMeta {
                    handle: handle as i64,
                    count: chunk.count,
                    summary: Summary::decode(&chunk.summary)?,
                });
            }
        }
        Ok(out)
    }

    fn body(&mut self, chunk: &ChunkMeta) -> Result<Arc<ChunkBody>> {
        let encoded = &self.chunks[chunk.handle as usize];
        ChunkBody::decode(&encoded.groups, &encoded.data).map(Arc::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn same(a: &Summary, b: &Summary) -> bool {
        let eq = |x: f64, y: f64| x == y || (x.is_nan() && y.is_nan());
        let peq = |x: &Point, y: &Point| x.step == y.step && eq(x.value, y.value);
        let oeq = |x: &Option<Point>, y: &Option<Point>| match (x, y) {
            (Some(x), Some(y)) => peq(x, y),
            (None, None) => true,
            _ => false,
        };
        a.count == b.count
            && a.nan_count == b.nan_count
            && peq(&a.first, &b.first)
            && peq(&a.last, &b.last)
            && oeq(&a.min, &b.min)
            && oeq(&a.max, &b.max)
    }

    fn value_strategy() -> impl Strategy<Value = f64> {
        prop_oneof![
            20 => -1e6f64..1e6,
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
            2 => Just(0.0),
            1 => Just(1e300),
        ]
    }

    fn series_strategy() -> impl Strategy<Value = Vec<Point>> {
        prop::collection::vec((1i64..50, value_strategy()), 0..5000).prop_map(|gaps| {
            let mut step = -100;
            gaps.into_iter()
                .map(|(gap, value)| {
                    step += gap;
                    Point::new(step, value)
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn m4_equals_brute_force(points in series_strategy(), lo_off in -200i64..3000, width in 1i64..200_000, n in 1u32..2000) {
            let lo = -100 + lo_off;
            let hi = lo + width;
            let buckets = StepBuckets { lo, hi, n };
            let mut series = MemorySeries::from_points(&points).unwrap();
            let fast = m4(&mut series, lo, hi, &buckets).unwrap();
            let slow = reduce_points(points.iter().copied(), |p| (p.step >= lo && p.step <= hi).then(|| buckets.bucket_of(p.step)));
            prop_assert_eq!(fast.len(), slow.len());
            for ((fb, fs), (sb, ss)) in fast.iter().zip(slow.iter()) {
                prop_assert_eq!(fb, sb);
                prop_assert!(same(fs, ss), "bucket {}: {:?} vs {:?}", fb, fs, ss);
            }
        }

        #[test]
        fn summary_round_trips(points in series_strategy()) {
            if let Some(summary) = Summary::of_points(&points) {
                let mut bytes = Vec::new();
                summary.encode(&mut bytes);
                prop_assert!(same(&Summary::decode(&bytes).unwrap(), &summary));
            }
        }

        #[test]
        fn append_plan_keeps_every_point(tail_len in 0usize..=CHUNK_POINTS, new_len in 0usize..5000) {
            let tail: Vec<Point> = (0..tail_len as i64).map(|s| Point::new(s, s as f64)).collect();
            let new: Vec<Point> = (0..new_len as i64).map(|s| Point::new(tail_len as i64 + s, 0.5)).collect();
            let plan = plan_append((tail_len > 0).then(|| tail.clone()), &new);
            let all: Vec<Point> = plan.iter().flatten().copied().collect();
            prop_assert_eq!(all.len(), tail_len + new_len);
            prop_assert!(plan.iter().all(|c| !c.is_empty() || new_len == 0) && plan.iter().all(|c| c.len() <= CHUNK_POINTS));
            prop_assert!(all.windows(2).all(|w| w[0].step < w[1].step));
        }
    }

    proptest! {
        #[test]
        fn range_reads_equal_a_filter(points in series_strategy(), lo_off in -200i64..3000, width in 0i64..200_000) {
            let (lo, hi) = (-100 + lo_off, -100 + lo_off + width);
            let mut series = MemorySeries::from_points(&points).unwrap();
            let want: Vec<Point> = points.iter().copied().filter(|p| p.step >= lo && p.step <= hi).collect();
            let got = read_points(&mut series, lo, hi).unwrap();
            prop_assert_eq!(got.len(), want.len());
            prop_assert!(got.iter().zip(&want).all(|(a, b)| a.step == b.step && a.value.to_bits() == b.value.to_bits()));
            prop_assert_eq!(count_points(&mut series, lo, hi).unwrap(), want.len());
            prop_assert_eq!(count_points(&mut series, i64::MIN, i64::MAX).unwrap(), points.len());
        }
    }

    #[test]
    fn series_columns_merge_kinds_and_times_by_step() {
        let scalars = [Point::new(1, 0.5), Point::new(3, f64::NAN), Point::new(4, 2.0)];
        let objects = vec![(0, json!("a")), (3, json!("shadowed")), (5, json!({"b": 1}))];
        let stamps = [Point::new(0, 100.0), Point::new(2, 102.0), Point::new(3, 103.0), Point::new(5, 105.0)];
        let columns = series_columns("k", &scalars, objects, &stamps);
        assert_eq!(columns.key, "k");
        assert_eq!(columns.steps, vec![0, 1, 3, 4, 5]);
        assert_eq!(columns.times, vec![Some(100.0), None, Some(103.0), None, Some(105.0)]);
        let values: Vec<Value> = columns.values.iter().map(SeriesValue::to_json).collect();
        assert_eq!(values, vec![json!("a"), json!(0.5), json!("NaN"), json!(2.0), json!({"b": 1})]);
        let only = series_columns("k", &scalars, Vec::new(), &[]);
        assert_eq!((only.steps, only.times), (vec![1, 3, 4], vec![None, None, None]));
        assert!(check_series_points("k", i64::MIN, i64::MAX, limits::MAX_SERIES_POINTS).is_ok());
        let refused = check_series_points("k", 0, 9, limits::MAX_SERIES_POINTS + 1).unwrap_err();
        assert_eq!(refused.kind, crate::ErrorKind::InvalidArgument);
        assert!(refused.message.contains("min_step"), "{}", refused.message);
    }

    #[test]
    fn a_single_spike_survives_any_bucketing() {
        let mut points: Vec<Point> = (0..100_000).map(|s| Point::new(s, 1.0)).collect();
        points[77_777].value = 1e9;
        let mut series = MemorySeries::from_points(&points).unwrap();
        for n in [1, 7, 1000, 99_999] {
            let out = m4(&mut series, 0, 99_999, &StepBuckets { lo: 0, hi: 99_999, n }).unwrap();
            let peak = out.iter().filter_map(|(_, s)| s.max).map(|p| p.value).fold(f64::MIN, f64::max);
            assert_eq!(peak, 1e9, "{n} buckets");
        }
    }

    proptest! {
        #[test]
        fn starts_agree_with_bucket_of(lo in -1000i64..1000, width in 0i64..5000, n in 1u32..300) {
            let buckets = StepBuckets { lo, hi: lo + width, n };
            let starts = buckets.starts();
            prop_assert_eq!(starts.len(), n as usize - 1);
            for step in lo..=lo + width {
                prop_assert_eq!(buckets.bucket_of(step), starts.partition_point(|s| *s <= step) as u32);
            }
        }
    }

    #[test]
    fn edge_buckets_partition_steps() {
        let buckets = EdgeBuckets { starts: vec![10, 20, 20, 35] };
        assert_eq!(buckets.bucket_of(0), 0);
        assert_eq!(buckets.bucket_of(10), 1);
        assert_eq!(buckets.bucket_of(19), 1);
        assert_eq!(buckets.bucket_of(20), 3);
        assert_eq!(buckets.bucket_of(99), 4);
    }
}

//! Chart reads: one or more keys over one or more runs, on any x-axis, reduced to M4 buckets.
//! Backends supply the series through [`ChartSource`]; the rules live here.
//!
//! On the step axis every run shares one set of equal step buckets and the M4 reduction reads
//! summaries (see [`crate::history`]). On another axis (wall time, relative time, a logged key
//! such as `epoch`) the x value of a point at step `s` is the x series' value at the greatest
//! step `<= s`. When the x series never decreases (the usual case), the x bucket edges become
//! step edges and the same summary-driven reduction runs; otherwise every point is reduced.

use std::collections::HashMap;

use heron_types::{ChartQuery, ChartResponse, ChartSeries, Scalar, Stream, XAxis, limits};

use crate::error::{Error, Result};
use crate::history::{Buckets, EdgeBuckets, Point, SeriesReader, StepBuckets, Summary, m4, reduce_points};

/// Key of the per-row wall-clock series every run has.
pub const TIMESTAMP_KEY: &str = "_timestamp";
pub const DEFAULT_BUCKETS: u32 = 1000;

/// A scalar series ready to be read.
pub struct OpenSeries<'a> {
    pub reader: Box<dyn SeriesReader + 'a>,
    /// First and last step.
    pub extent: (i64, i64),
    pub stream: Stream,
}

pub trait ChartSource {
    /// The scalar series `key` of `run` in `stream` (history first, then system metrics, when
    /// `None`); `None` when the run has no such series. An unknown run is an error.
    fn open(&mut self, run: &str, key: &str, stream: Option<Stream>) -> Result<Option<OpenSeries<'_>>>;
}

pub fn check_query(query: &ChartQuery) -> Result<u32> {
    if query.runs.is_empty() || query.keys.is_empty() {
        return Err(Error::invalid("a chart query needs at least one run and one key"));
    }
    if query.runs.len() > limits::MAX_CHART_RUNS {
        return Err(Error::too_large(format!("a chart query takes at most {} runs", limits::MAX_CHART_RUNS)));
    }
    if query.keys.len() > limits::MAX_CHART_KEYS {
        return Err(Error::too_large(format!("a chart query takes at most {} keys", limits::MAX_CHART_KEYS)));
    }
    let buckets = query.buckets.unwrap_or(DEFAULT_BUCKETS);
    if buckets == 0 || buckets > limits::MAX_CHART_BUCKETS {
        return Err(Error::invalid(format!("buckets must be 1 to {}", limits::MAX_CHART_BUCKETS)));
    }
    for bound in [query.x_min, query.x_max].into_iter().flatten() {
        if !bound.is_finite() {
            return Err(Error::invalid("x_min and x_max must be finite numbers"));
        }
    }
    if let (Some(lo), Some(hi)) = (query.x_min, query.x_max)
        && lo > hi
    {
        return Err(Error::invalid(format!("x_min ({lo}) is greater than x_max ({hi})")));
    }
    Ok(buckets)
}

/// Every point of a series, in step order.
pub fn read_all(reader: &mut dyn SeriesReader, lo: i64, hi: i64) -> Result<Vec<Point>> {
    let mut out = Vec::new();
    for chunk in reader.chunks(lo, hi)? {
        out.extend(reader.body(&chunk)?.points.iter().filter(|p| p.step >= lo && p.step <= hi));
    }
    Ok(out)
}

pub fn answer(source: &mut dyn ChartSource, query: &ChartQuery) -> Result<ChartResponse> {
    let buckets = check_query(query)?;
    match &query.x {
        XAxis::Step => answer_by_step(source, query, buckets),
        other => answer_by_x(source, query, buckets, other),
    }
}

/// The step range a step-axis chart divides: the one asked for, else the extent of all the
/// series; `None` when there is no data. Backends that split a chart's runs over several
/// threads fix it first, so that every part uses the same buckets.
pub fn step_range(source: &mut dyn ChartSource, query: &ChartQuery) -> Result<Option<(i64, i64)>> {
    Ok(Some(match (query.x_min, query.x_max) {
        (Some(lo), Some(hi)) => (lo.ceil() as i64, hi.floor() as i64),
        (lo_given, hi_given) => {
            let mut extent: Option<(i64, i64)> = None;
            for run in &query.runs {
                for key in &query.keys {
                    if let Some(OpenSeries { extent: (first, last), .. }) = source.open(run, key, None)? {
                        extent = Some(match extent {
                            Some((lo, hi)) => (lo.min(first), hi.max(last)),
                            None => (first, last),
                        });
                    }
                }
            }
            let Some((first, last)) = extent else {
                return Ok(None);
            };
            (lo_given.map_or(first, |v| v.ceil() as i64), hi_given.map_or(last, |v| v.floor() as i64))
        }
    }))
}

fn answer_by_step(source: &mut dyn ChartSource, query: &ChartQuery, n: u32) -> Result<ChartResponse> {
    let Some((lo, hi)) = step_range(source, query)? else {
        return Ok(empty_response(query, n));
    };
    if lo > hi {
        let mut empty = empty_response(query, n);
        (empty.x_min, empty.x_max) = (query.x_min, query.x_max);
        return Ok(empty);
    }
    // Bucket starts computed once for all the series of the chart.
    let buckets = EdgeBuckets { starts: StepBuckets { lo, hi, n }.starts().into_owned() };
    let mut series = Vec::new();
    for run in &query.runs {
        for key in &query.keys {
            let mut out = ChartSeries { run: run.clone(), key: key.clone(), ..Default::default() };
            if let Some(mut opened) = source.open(run, key, None)? {
                for (bucket, summary) in m4(opened.reader.as_mut(), lo, hi, &buckets)? {
                    push_bucket(&mut out, bucket, &summary, |step| step as f64);
                }
            }
            series.push(out);
        }
    }
    Ok(ChartResponse { x: XAxis::Step, x_min: Some(lo as f64), x_max: Some(hi as f64), buckets: n, series })
}

/// The x series of one run as (step, x) points, and whether x never decreases.
struct XSeries {
    points: Vec<Point>,
    monotone: bool,
}

impl XSeries {
    /// x at the greatest step `<= step`.
    fn at(&self, step: i64) -> Option<f64> {
        let index = self.points.partition_point(|p| p.step <= step);
        index.checked_sub(1).map(|i| self.points[i].value)
    }
}

fn answer_by_x(source: &mut dyn ChartSource, query: &ChartQuery, n: u32, axis: &XAxis) -> Result<ChartResponse> {
    // Each y series is placed by the x series of its own run and stream: system metrics by
    // their own sample times, history by the history rows' times.
    let mut x_series: HashMap<(String, Stream), XSeries> = HashMap::new();
    let mut y_streams: HashMap<(String, String), Stream> = HashMap::new();
    for run in &query.runs {
        for key in &query.keys {
            let Some(stream) = source.open(run, key, None)?.map(|opened| opened.stream) else { continue };
            y_streams.insert((run.clone(), key.clone()), stream);
            if x_series.contains_key(&(run.clone(), stream)) {
                continue;
            }
            let (x_key, x_stream) = match axis {
                XAxis::Key(x_key) => (x_key.as_str(), None),
                _ => (TIMESTAMP_KEY, Some(stream)),
            };
            let mut points = match source.open(run, x_key, x_stream)? {
                Some(mut x) => read_all(x.reader.as_mut(), x.extent.0, x.extent.1)?,
                None => Vec::new(),
            };
            points.retain(|p| !p.value.is_nan());
            if *axis == XAxis::RelativeTime
                && let Some(start) = points.first().map(|p| p.value)
            {
                points.iter_mut().for_each(|p| p.value -= start);
            }
            let monotone = points.windows(2).all(|w| w[0].value <= w[1].value);
            x_series.insert((run.clone(), stream), XSeries { points, monotone });
        }
    }
    let values = || x_series.values().flat_map(|x| x.points.iter().map(|p| p.value));
    let (Some(x_min), Some(x_max)) =
        (query.x_min.or(values().reduce(f64::min)), query.x_max.or(values().reduce(f64::max)))
    else {
        return Ok(empty_response(query, n));
    };
    let width = x_max - x_min;
    let bucket_of_x = |x: f64| -> Option<u32> {
        if !(x >= x_min && x <= x_max) {
            return None;
        }
        if width <= 0.0 {
            return Some(0);
        }
        Some((((x - x_min) / width) * n as f64).floor().clamp(0.0, (n - 1) as f64) as u32)
    };
    let mut series = Vec::new();
    for run in &query.runs {
        for key in &query.keys {
            let mut out = ChartSeries { run: run.clone(), key: key.clone(), ..Default::default() };
            let xs =
                y_streams.get(&(run.clone(), key.clone())).and_then(|stream| x_series.get(&(run.clone(), *stream)));
            let (Some(xs), Some(mut opened)) = (xs, source.open(run, key, None)?) else {
                series.push(out);
                continue;
            };
            let Some(x_first) = xs.points.first() else {
                series.push(out);
                continue;
            };
            let (first, last) = opened.extent;
            let x_of = |step: i64| xs.at(step).unwrap_or(f64::NAN);
            if xs.monotone {
                // Steps whose x lies in [x_min, x_max], and the first step of each later bucket.
                let lo_index = xs.points.partition_point(|p| p.value < x_min);
                let hi_index = xs.points.partition_point(|p| p.value <= x_max);
                if lo_index < hi_index {
                    let lo = xs.points[lo_index].step.max(first).max(x_first.step);
                    let hi = match xs.points.get(hi_index) {
                        Some(next) => next.step - 1,
                        None => last,
                    };
                    let edges = if width > 0.0 { n } else { 1 };
                    let starts = (1..edges)
                        .map(|i| {
                            let edge = x_min + width * i as f64 / n as f64;
                            let index = xs.points.partition_point(|p| p.value < edge);
                            xs.points.get(index).map_or(i64::MAX, |p| p.step)
                        })
                        .collect();
                    for (bucket, summary) in m4(opened.reader.as_mut(), lo, hi, &EdgeBuckets { starts })? {
                        push_bucket(&mut out, bucket, &summary, x_of);
                    }
                }
            } else {
                let points = read_all(opened.reader.as_mut(), first, last)?;
                for (bucket, summary) in reduce_points(points, |p| xs.at(p.step).and_then(&bucket_of_x)) {
                    push_bucket(&mut out, bucket, &summary, x_of);
                }
            }
            series.push(out);
        }
    }
    Ok(ChartResponse { x: axis.clone(), x_min: Some(x_min), x_max: Some(x_max), buckets: n, series })
}

fn empty_response(query: &ChartQuery, n: u32) -> ChartResponse {
    let series = query
        .runs
        .iter()
        .flat_map(|run| {
            query.keys.iter().map(move |key| ChartSeries { run: run.clone(), key: key.clone(), ..Default::default() })
        })
        .collect();
    ChartResponse { x: query.x.clone(), x_min: None, x_max: None, buckets: n, series }
}

fn push_bucket(out: &mut ChartSeries, bucket: u32, summary: &Summary, x_of: impl Fn(i64) -> f64) {
    out.bucket.push(bucket);
    out.count.push(summary.count);
    out.first_x.push(x_of(summary.first.step));
    out.first_y.push(Scalar(summary.first.value));
    out.last_x.push(x_of(summary.last.step));
    out.last_y.push(Scalar(summary.last.value));
    out.min_x.push(summary.min.map(|p| x_of(p.step)));
    out.min_y.push(summary.min.map(|p| Scalar(p.value)));
    out.max_x.push(summary.max.map(|p| x_of(p.step)));
    out.max_y.push(summary.max.map(|p| Scalar(p.value)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::MemorySeries;

    struct Source(HashMap<(String, String), Vec<Point>>);

    impl ChartSource for Source {
        fn open(&mut self, run: &str, key: &str, _stream: Option<Stream>) -> Result<Option<OpenSeries<'_>>> {
            let Some(points) = self.0.get(&(run.to_string(), key.to_string())) else { return Ok(None) };
            let (Some(first), Some(last)) = (points.first(), points.last()) else { return Ok(None) };
            let reader = Box::new(MemorySeries::from_points(points)?);
            Ok(Some(OpenSeries { reader, extent: (first.step, last.step), stream: Stream::History }))
        }
    }

    fn query(x: XAxis, buckets: u32) -> ChartQuery {
        ChartQuery {
            runs: vec!["r".into()],
            keys: vec!["y".into()],
            x,
            x_min: None,
            x_max: None,
            buckets: Some(buckets),
        }
    }

    #[test]
    fn monotone_x_axis_matches_point_by_point_reduction() {
        let y: Vec<Point> = (0..5000).map(|s| Point::new(s, ((s * 7919) % 1000) as f64)).collect();
        // Time advances unevenly, logged every other step.
        let t: Vec<Point> = (0..5000).step_by(2).map(|s| Point::new(s, 1000.0 + (s as f64).powf(1.3))).collect();
        let mut source = Source(HashMap::from([
            (("r".into(), "y".into()), y.clone()),
            (("r".into(), TIMESTAMP_KEY.into()), t.clone()),
        ]));
        let answer = answer(&mut source, &query(XAxis::Time, 97)).unwrap();
        let xs = XSeries { points: t.clone(), monotone: true };
        let (x_min, x_max) = (answer.x_min.unwrap(), answer.x_max.unwrap());
        let slow = reduce_points(y, |p| {
            let x = xs.at(p.step)?;
            Some((((x - x_min) / (x_max - x_min)) * 97.0).floor().clamp(0.0, 96.0) as u32)
        });
        let series = &answer.series[0];
        assert_eq!(series.bucket, slow.keys().copied().collect::<Vec<_>>());
        for (i, summary) in slow.values().enumerate() {
            assert_eq!(series.count[i], summary.count);
            assert_eq!(series.max_y[i].unwrap().0, summary.max.unwrap().value);
            assert_eq!(series.first_x[i], xs.at(summary.first.step).unwrap());
        }
    }

    #[test]
    fn non_monotone_x_axis_reduces_every_point() {
        let y: Vec<Point> = (0..100).map(|s| Point::new(s, s as f64)).collect();
        let x: Vec<Point> = (0..100).map(|s| Point::new(s, (s % 10) as f64)).collect();
        let mut source = Source(HashMap::from([(("r".into(), "y".into()), y), (("r".into(), "epoch".into()), x)]));
        let answer = answer(&mut source, &query(XAxis::Key("epoch".into()), 10)).unwrap();
        let series = &answer.series[0];
        assert_eq!(series.bucket, (0..10).collect::<Vec<_>>());
        assert!(series.count.iter().all(|c| *c == 10));
        assert_eq!(series.max_y[3].unwrap().0, 93.0);
    }

    #[test]
    fn a_zero_width_range_is_one_bucket_on_every_axis() {
        let y: Vec<Point> = (0..10).map(|s| Point::new(s, s as f64)).collect();
        let flat: Vec<Point> = (0..10).map(|s| Point::new(s, 7.0)).collect();
        let mut source = Source(HashMap::from([(("r".into(), "y".into()), y), (("r".into(), "epoch".into()), flat)]));
        let answer = answer(&mut source, &query(XAxis::Key("epoch".into()), 50)).unwrap();
        assert_eq!(answer.series[0].bucket, vec![0]);
        assert_eq!(answer.series[0].count, vec![10]);
        let mut step = query(XAxis::Step, 10);
        (step.x_min, step.x_max) = (Some(0.5), Some(0.6));
        let answer = answer_fn(&mut source, &step);
        assert!(answer.series[0].bucket.is_empty());
        assert_eq!((answer.x_min, answer.x_max), (Some(0.5), Some(0.6)));
    }

    fn answer_fn(source: &mut Source, query: &ChartQuery) -> ChartResponse {
        answer(source, query).unwrap()
    }

    #[test]
    fn bad_queries_are_rejected() {
        let mut source = Source(HashMap::new());
        let mut q = query(XAxis::Step, 0);
        assert!(answer(&mut source, &q).is_err());
        q.buckets = Some(10);
        q.x_min = Some(5.0);
        q.x_max = Some(1.0);
        assert!(answer(&mut source, &q).is_err());
        q.x_max = None;
        q.x_min = None;
        assert!(answer(&mut source, &q).unwrap().series[0].bucket.is_empty());
    }
}

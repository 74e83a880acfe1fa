//! Timestamps: stored as unix seconds (f64), shown as RFC 3339.

use chrono::{DateTime, SecondsFormat, Utc};

/// Unix seconds with microsecond precision (straight from the clock: no calendar conversion,
/// since the SDK calls it once per logged row).
pub fn now() -> f64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    since.as_micros() as f64 / 1e6
}

pub fn rfc3339(unix_seconds: f64) -> String {
    let micros = (unix_seconds * 1e6).round() as i64;
    DateTime::<Utc>::from_timestamp_micros(micros).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true)
}

//! Timestamps: stored as unix seconds (f64), shown as RFC 3339.

use chrono::{DateTime, SecondsFormat, Utc};

pub fn now() -> f64 {
    Utc::now().timestamp_micros() as f64 / 1e6
}

pub fn rfc3339(unix_seconds: f64) -> String {
    let micros = (unix_seconds * 1e6).round() as i64;
    DateTime::<Utc>::from_timestamp_micros(micros).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true)
}

//! Evaluates a filter against a run document.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::ast::{CmpOp, Expr, FieldPath, Literal, Num};

pub(crate) fn matches(expr: &Expr, run: &Value) -> bool {
    match expr {
        Expr::And(items) => items.iter().all(|e| matches(e, run)),
        Expr::Or(items) => items.iter().any(|e| matches(e, run)),
        Expr::Not(inner) => !matches(inner, run),
        Expr::Compare { path, op, value } => compare(present(run, path), *op, value, path.is_timestamp()),
        Expr::In { path, values, negated } => {
            let field = present(run, path);
            let any = values.iter().any(|v| compare(field, CmpOp::Eq, v, path.is_timestamp()));
            negate_if_present(field, any, *negated)
        }
        Expr::Matches { path, pattern, negated } => {
            let field = present(run, path);
            let found = field.and_then(Value::as_str).is_some_and(|s| pattern.0.is_match(s));
            negate_if_present(field, found, *negated)
        }
        Expr::Contains { path, value, negated } => {
            let field = present(run, path);
            let found = match field {
                Some(Value::Array(items)) => {
                    items.iter().any(|item| compare(Some(item).filter(|v| !v.is_null()), CmpOp::Eq, value, false))
                }
                Some(Value::String(s)) => {
                    matches!(value, Literal::Str(needle) if s.contains(needle.as_str()))
                }
                _ => false,
            };
            negate_if_present(field, found, *negated)
        }
        Expr::Exists { path, negated } => present(run, path).is_some() != *negated,
    }
}

/// The negated operators (`!=`, `not in`, …) only hold for fields that exist, like SQL's
/// `<>` does not match NULL; `not (…)` is there for plain negation.
fn negate_if_present(field: Option<&Value>, result: bool, negated: bool) -> bool {
    if negated { field.is_some() && !result } else { result }
}

/// `field` is the resolved field with null already mapped to `None`.
fn compare(field: Option<&Value>, op: CmpOp, literal: &Literal, timestamp: bool) -> bool {
    // Comparing with null asks whether the field is there at all.
    if *literal == Literal::Null {
        return match op {
            CmpOp::Eq => field.is_none(),
            CmpOp::Ne => field.is_some(),
            _ => false,
        };
    }
    let Some(field) = field else { return false };
    let field = Scalar::of_value(field, timestamp);
    let ordering = compare_scalars(field, Scalar::of_literal(literal, timestamp));
    // Bools only support `=` and `!=`.
    let orderable = !matches!(field, Scalar::Bool(_));
    match op {
        CmpOp::Eq => ordering == Some(Ordering::Equal),
        CmpOp::Ne => ordering != Some(Ordering::Equal),
        CmpOp::Lt => orderable && ordering == Some(Ordering::Less),
        CmpOp::Le => orderable && matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => orderable && ordering == Some(Ordering::Greater),
        CmpOp::Ge => orderable && matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
    }
}

/// A value reduced to what comparisons care about.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scalar<'a> {
    Null,
    Bool(bool),
    Num(Num),
    Str(&'a str),
    Instant(DateTime<Utc>),
    /// Arrays and objects: never equal to a literal.
    Composite,
}

impl<'a> Scalar<'a> {
    /// For timestamp fields, strings that parse as instants become `Instant`.
    pub(crate) fn of_value(value: &'a Value, timestamp: bool) -> Scalar<'a> {
        match value {
            Value::Null => Scalar::Null,
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => Scalar::Num(Num::from_json(n)),
            Value::String(s) => Scalar::string(s, timestamp),
            Value::Array(_) | Value::Object(_) => Scalar::Composite,
        }
    }

    fn of_literal(literal: &'a Literal, timestamp: bool) -> Scalar<'a> {
        match literal {
            Literal::Null => Scalar::Null,
            Literal::Bool(b) => Scalar::Bool(*b),
            Literal::Num(n) => Scalar::Num(*n),
            Literal::Str(s) => Scalar::string(s, timestamp),
        }
    }

    fn string(s: &'a str, timestamp: bool) -> Scalar<'a> {
        match parse_instant(s).filter(|_| timestamp) {
            Some(instant) => Scalar::Instant(instant),
            None => Scalar::Str(s),
        }
    }
}

/// Compares two scalars of the same type; `None` when the types differ or a number is NaN.
fn compare_scalars(a: Scalar<'_>, b: Scalar<'_>) -> Option<Ordering> {
    match (a, b) {
        (Scalar::Num(a), Scalar::Num(b)) => a.partial_cmp(b),
        (Scalar::Str(a), Scalar::Str(b)) => Some(a.cmp(b)),
        (Scalar::Instant(a), Scalar::Instant(b)) => Some(a.cmp(&b)),
        (Scalar::Bool(a), Scalar::Bool(b)) => Some(a.cmp(&b)),
        (Scalar::Null, Scalar::Null) => Some(Ordering::Equal),
        _ => None,
    }
}

/// Parses RFC 3339, or a plain `YYYY-MM-DD` date taken as midnight UTC.
pub(crate) fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(s) {
        return Some(instant.with_timezone(&Utc));
    }
    let mut parts = s.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let well_formed = parts.next().is_none()
        && [(year, 4), (month, 2), (day, 2)]
            .iter()
            .all(|(part, len)| part.len() == *len && part.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

/// Looks a path up, treating null like a missing field.
pub(crate) fn present<'a>(run: &'a Value, path: &FieldPath) -> Option<&'a Value> {
    lookup(run, path.segments()).filter(|v| !v.is_null())
}

/// Walks nested objects. Where a nested key is missing, joined segments are tried as one flat
/// key, because configs logged by wandb often hold keys like `"optimizer.lr"`.
pub(crate) fn lookup<'a>(value: &'a Value, segments: &[String]) -> Option<&'a Value> {
    if segments.is_empty() {
        return Some(value);
    }
    let object = value.as_object()?;
    let mut key = String::new();
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            key.push('.');
        }
        key.push_str(segment);
        if let Some(found) = object.get(&key).and_then(|child| lookup(child, &segments[i + 1..])) {
            return Some(found);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::Filter;
    use super::super::ast::Num;
    use super::*;

    fn run() -> Value {
        json!({
            "id": "abc123", "name": "resnet-1", "state": "running", "tags": ["baseline", "v2"],
            "group": "g1", "job_type": "train", "notes": "first try", "sweep": null, "host": "box1",
            "config": {
                "lr": 0.01, "optimizer": {"name": "adam"}, "optimizer.lr": 1, "layers": 4,
                "my key.with dots": 5, "flag": true, "sizes": [1, 2.5, null], "big": 18446744073709551615u64,
                "date": "2026-01-01"
            },
            "summary": {"val_loss": 0.25, "acc": 0.9, "train/loss": 0.5},
            "metadata": {"git": {"commit": "abc"}, "python": "3.11.7"},
            "created_at": "2026-11-26T12:00:00Z", "updated_at": "2026-11-26", "heartbeat_at": "not a time",
            "finished_at": null, "last_step": 9007199254740993u64
        })
    }

    #[track_caller]
    fn check(cases: &[(&str, bool)]) {
        let run = run();
        for &(src, expected) in cases {
            let filter = Filter::parse(src).unwrap_or_else(|err| panic!("{src:?}: {err}"));
            assert_eq!(filter.matches(&run), expected, "{src}");
        }
    }

    #[test]
    fn equality() {
        check(&[
            ("state = 'running'", true),
            ("state == \"running\"", true),
            ("state = 'Running'", false),
            ("config.layers = 4", true),
            ("config.layers = 4.0", true),
            ("config.layers = 4.5", false),
            ("config.lr = 0.01", true),
            ("config.flag = true", true),
            ("config.flag = false", false),
            ("config.flag != false", true),
            ("state != 'finished'", true),
            ("state != 'running'", false),
        ]);
    }

    #[test]
    fn ordering() {
        check(&[
            ("config.lr > 0.001", true),
            ("config.lr >= 0.01", true),
            ("config.lr > 0.01", false),
            ("summary.val_loss < 0.3", true),
            ("summary.val_loss <= 0.25", true),
            ("summary.val_loss < 0.25", false),
            ("config.layers < 4.5", true),
            ("config.layers > 3.999", true),
            ("name < 'z'", true),
            ("name > 'resnet'", true),
            ("name >= 'resnet-1'", true),
            ("config.flag > false", false),
            ("config.flag >= true", false),
        ]);
    }

    #[test]
    fn large_integers_compare_exactly() {
        check(&[
            ("last_step = 9007199254740993", true),
            ("last_step > 9007199254740992", true),
            // The float is 2^53 exactly, one less than the stored integer.
            ("last_step > 9007199254740992.0", true),
            ("last_step = 9007199254740992.0", false),
            ("config.big = 18446744073709551615", true),
            ("config.big < 18446744073709551616.0", true),
            ("config.big < 1e999", true),
            ("config.big > -1e999", true),
        ]);
    }

    #[test]
    fn type_mismatches_are_false_except_for_negated_operators_on_existing_fields() {
        check(&[
            ("config.layers = '4'", false),
            ("config.layers < '5'", false),
            ("config.layers != '4'", true),
            ("state > 1", false),
            ("state = true", false),
            ("tags = 'baseline'", false),
            ("tags != 'baseline'", true),
            ("config.optimizer < 1", false),
            ("nope = 1", false),
            ("nope != 1", false),
            ("nope < 1", false),
            ("sweep != 1", false),
            ("not nope = 1", true),
        ]);
    }

    #[test]
    fn null_and_exists() {
        check(&[
            ("sweep exists", false),
            ("sweep not exists", true),
            ("sweep is null", true),
            ("sweep is not null", false),
            ("nope is null", true),
            ("host exists", true),
            ("host is not null", true),
            ("sweep = null", true),
            ("nope = null", true),
            ("host = null", false),
            ("host != null", true),
            ("sweep != null", false),
            ("host < null", false),
            ("config.sizes exists", true),
        ]);
    }

    #[test]
    fn in_lists() {
        check(&[
            ("state in ('running', 'finished')", true),
            ("state in ('crashed', 'finished')", false),
            ("state in ()", false),
            ("config.layers in (1, 4.0)", true),
            ("state not in ('crashed')", true),
            ("state not in ('running')", false),
            ("nope in (1)", false),
            ("nope not in (1)", false),
            ("nope in (1, null)", true),
            ("sweep not in (null)", false),
        ]);
    }

    #[test]
    fn regex_matching() {
        check(&[
            (r"name =~ '^resnet-\d+$'", true),
            ("name =~ 'vgg'", false),
            ("name =~ 'net'", true),
            ("name !~ 'vgg'", true),
            ("name !~ 'res'", false),
            ("metadata.python =~ '^3\\.11'", true),
            ("config.layers =~ '4'", false),
            ("config.layers !~ '4'", true),
            ("nope =~ '.*'", false),
            ("nope !~ 'x'", false),
        ]);
    }

    #[test]
    fn contains() {
        check(&[
            ("tags contains 'baseline'", true),
            ("tags contains 'base'", false),
            ("tags not contains 'x'", true),
            ("tags not contains 'v2'", false),
            ("name contains 'net-'", true),
            ("name contains 'vgg'", false),
            ("name contains 1", false),
            ("config.sizes contains 2.5", true),
            ("config.sizes contains 2", false),
            ("config.sizes contains null", true),
            ("config.layers contains 4", false),
            ("nope contains 'x'", false),
            ("nope not contains 'x'", false),
        ]);
    }

    #[test]
    fn boolean_connectives() {
        check(&[
            (
                r#"config.lr > 0.001 and summary.val_loss < 0.3 and (tags contains "baseline" or state = "finished")"#,
                true,
            ),
            ("state = 'finished' and config.layers = 4 or tags contains 'v2'", true),
            ("state = 'finished' and (config.layers = 4 or tags contains 'v2')", false),
            ("not state = 'finished' and config.layers = 4", true),
            ("not (state = 'running' or config.layers = 4)", false),
            ("STATE = 'running' AND NOT tags CONTAINS 'x'", false),
            ("state = 'running' AND NOT tags CONTAINS 'x'", true),
        ]);
    }

    #[test]
    fn paths() {
        check(&[
            ("config.optimizer.name = 'adam'", true),
            ("config.`my key.with dots` = 5", true),
            // `optimizer` exists but has no `lr`, so the flat key is used.
            ("config.optimizer.lr = 1", true),
            ("summary.train/loss < 1", true),
            ("metadata.git.commit = 'abc'", true),
            ("metadata.git.commit.x exists", false),
            ("config.lr.x exists", false),
            ("id = 'abc123'", true),
        ]);
        let flat = json!({"config": {"a.b.c": 1, "a": {"b.c": 2}, "x.y": {"z": 3}}});
        let resolve = |src: &str| present(&flat, &src.parse().unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(resolve("config.a.b.c"), Some(&json!(2)));
        assert_eq!(resolve("config.x.y.z"), Some(&json!(3)));
        assert_eq!(resolve("config.x.y"), Some(&json!({"z": 3})));
        assert_eq!(resolve("config.`a.b.c`"), Some(&json!(1)));
        assert_eq!(resolve("config.a.q"), None);
    }

    #[test]
    fn timestamps_compare_as_instants() {
        check(&[
            ("created_at > '2026-11-25'", true),
            ("created_at >= '2026-11-26'", true),
            ("created_at < '2026-11-27'", true),
            ("created_at = '2026-11-26T13:00:00+01:00'", true),
            ("created_at = '2026-11-26T12:00:00.000Z'", true),
            ("created_at < '2026-11-26T12:00:01Z'", true),
            ("created_at in ('2026-01-01', '2026-11-26t12:00:00z')", true),
            ("updated_at = '2026-11-26T00:00:00Z'", true),
            ("updated_at < '2026-11-26T00:00:00-00:01'", true),
            ("heartbeat_at > '2000-01-01'", false),
            ("heartbeat_at != '2000-01-01'", true),
            ("finished_at < '2100-01-01'", false),
            // Only the run's own timestamps are special; elsewhere dates are plain strings.
            ("config.date < '2026-01-01T00:00:00Z'", true),
            ("config.date = '2026-01-01T00:00:00Z'", false),
        ]);
    }

    #[test]
    fn plain_dates() {
        assert_eq!(parse_instant("2026-11-26").map(|t| t.to_rfc3339()), Some("2026-11-26T00:00:00+00:00".to_owned()));
        for bad in ["2026-11-31", "2026-1-26", "26-11-2026", "2026-11-26-", "２０２６-11-26", "", "+2026-11-26"] {
            assert_eq!(parse_instant(bad), None, "{bad}");
        }
    }

    #[test]
    fn nan_never_compares() {
        let nan = Num::Float(f64::NAN);
        for other in [Num::Int(1), Num::Float(1.0), nan] {
            assert_eq!(nan.partial_cmp(other), None);
            assert_eq!(other.partial_cmp(nan), None);
        }
        assert_eq!(Num::Int(-3).partial_cmp(Num::Float(-3.5)), Some(Ordering::Greater));
        assert_eq!(Num::Int(-4).partial_cmp(Num::Float(-3.5)), Some(Ordering::Less));
        assert_eq!(Num::Float(-0.0).partial_cmp(Num::Int(0)), Some(Ordering::Equal));
        assert_eq!(Num::Int(i128::MIN).partial_cmp(Num::Float(-1e39)), Some(Ordering::Greater));
        assert_eq!(Num::Int(i128::MAX).partial_cmp(Num::Float(f64::INFINITY)), Some(Ordering::Less));
    }

    #[test]
    fn documents_of_any_shape_are_safe() {
        let filter = Filter::parse("a.b = 1 or a exists or a contains 1 or a =~ 'x' or created_at > '2026-01-01'")
            .unwrap_or_else(|e| panic!("{e}"));
        for doc in [json!(null), json!([1, 2]), json!("a"), json!(1), json!({"a": [[]]}), json!({"a": {"b": {}}})] {
            filter.matches(&doc);
        }
        assert!(Filter::parse("").is_ok_and(|f| f.matches(&json!(null))));
    }
}

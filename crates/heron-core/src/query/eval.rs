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
                Some(Value::String(s)) => matches!(value, Literal::Str(needle) if s.contains(needle.as_str())),
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
fn lookup<'a>(value: &'a Value, segments: &[String]) -> Option<&'a Value> {
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

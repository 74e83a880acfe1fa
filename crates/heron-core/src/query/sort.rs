//! Sort orders over runs and the cursors that page through them.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

use super::ParseError;
use super::ast::FieldPath;
use super::eval::{Scalar, present};
use super::lexer::{self, TokenKind};
use super::parser::Parser;

/// One field of a sort order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SortKey {
    pub field: FieldPath,
    pub descending: bool,
}

impl fmt::Display for SortKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.field, if self.descending { " desc" } else { "" })
    }
}

/// Parses `"summary.val_loss desc, created_at"`; `-field` also means descending.
pub fn parse_sort(src: &str) -> Result<Vec<SortKey>, ParseError> {
    let mut parser = Parser::new(lexer::lex(src)?);
    let mut keys = Vec::new();
    if parser.at(&TokenKind::Eof) {
        return Ok(keys);
    }
    loop {
        let minus = parser.eat(&TokenKind::Minus);
        let field = parser.field_path("a field name to sort by")?;
        let mut descending = minus;
        let token = parser.peek();
        // `asc` and `desc` are ordinary words to the lexer: they are only special here.
        let direction = ["asc", "desc"].into_iter().find(|d| d.eq_ignore_ascii_case(&token.text));
        if let (TokenKind::Path(_), Some(direction)) = (&token.kind, direction) {
            if minus {
                return Err(ParseError::new(
                    format!("\"-\" already sorts descending, it cannot be combined with \"{}\"", token.text),
                    token.column,
                ));
            }
            descending = direction == "desc";
            parser.bump();
        }
        keys.push(SortKey { field, descending });
        if parser.at(&TokenKind::Eof) {
            return Ok(keys);
        }
        if !parser.eat(&TokenKind::Comma) {
            return Err(parser.expected("\"asc\", \"desc\", \",\" or end of input"));
        }
    }
}

/// The order runs are listed in: by each sort key in turn, then by `created_at` descending,
/// then by `id`, so that the order is total and pages are stable.
///
/// Within a key, numbers sort before strings before bools (NaN after the other numbers);
/// missing and null values come last in either direction.
pub fn compare_runs(a: &Value, b: &Value, sort: &[SortKey]) -> Ordering {
    Position::of(a, sort).cmp(&Position::of(b, sort), sort)
}

/// A position in the `compare_runs` order, from which the next page starts.
///
/// It holds the sort-key values of the last run on a page plus its `created_at` and `id`, so
/// it stays valid when runs are added or removed between requests. It must be used with the
/// sort it was made for.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    keys: Vec<Value>,
    created_at: Value,
    id: Value,
}

impl Cursor {
    /// A cursor pointing just after `run`.
    pub fn after(run: &Value, sort: &[SortKey]) -> Cursor {
        let position = Position::of(run, sort);
        Cursor {
            keys: position.keys.into_iter().map(cursor_value).collect(),
            created_at: cursor_value(position.created_at),
            id: cursor_value(position.id),
        }
    }

    /// An opaque, URL-safe form of the cursor.
    pub fn encode(&self) -> String {
        let json = Value::Array(vec![Value::Array(self.keys.clone()), self.created_at.clone(), self.id.clone()]);
        base64url_encode(json.to_string().as_bytes())
    }

    pub fn decode(text: &str) -> Result<Cursor, ParseError> {
        let invalid = || ParseError::new("invalid cursor", 1);
        let bytes = base64url_decode(text).ok_or_else(invalid)?;
        let json: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        match json {
            Value::Array(mut parts) if parts.len() == 3 => {
                let id = parts.pop().unwrap_or_default();
                let created_at = parts.pop().unwrap_or_default();
                match parts.pop() {
                    Some(Value::Array(keys)) => Ok(Cursor { keys, created_at, id }),
                    _ => Err(invalid()),
                }
            }
            _ => Err(invalid()),
        }
    }

    /// Whether `run` comes strictly after the cursor in `compare_runs` order.
    pub fn is_before(&self, run: &Value, sort: &[SortKey]) -> bool {
        let mine = Position {
            keys: self.keys.iter().map(non_null).collect(),
            created_at: non_null(&self.created_at),
            id: non_null(&self.id),
        };
        mine.cmp(&Position::of(run, sort), sort) == Ordering::Less
    }
}

fn non_null(value: &Value) -> Option<&Value> {
    Some(value).filter(|v| !v.is_null())
}

/// Arrays and objects all sort alike, so an empty array stands in for them and keeps
/// a cursor from carrying a whole config.
fn cursor_value(value: Option<&Value>) -> Value {
    match value {
        None => Value::Null,
        Some(Value::Array(_) | Value::Object(_)) => Value::Array(Vec::new()),
        Some(value) => value.clone(),
    }
}

/// The values a run is ordered by; `None` for missing or null.
struct Position<'a> {
    keys: Vec<Option<&'a Value>>,
    created_at: Option<&'a Value>,
    id: Option<&'a Value>,
}

impl<'a> Position<'a> {
    fn of(run: &'a Value, sort: &[SortKey]) -> Position<'a> {
        Position {
            keys: sort.iter().map(|key| present(run, &key.field)).collect(),
            created_at: run.get("created_at").and_then(non_null),
            id: run.get("id").and_then(non_null),
        }
    }

    /// The value of the `i`th sort key; `None` also when a cursor holds fewer keys than the sort.
    fn key(&self, i: usize) -> Option<&'a Value> {
        self.keys.get(i).copied().flatten()
    }

    fn cmp(&self, other: &Position<'_>, sort: &[SortKey]) -> Ordering {
        sort.iter()
            .enumerate()
            .map(|(i, key)| compare_values(self.key(i), other.key(i), key.field.is_timestamp(), key.descending))
            .find(|ord| ord.is_ne())
            .unwrap_or(Ordering::Equal)
            .then_with(|| compare_values(self.created_at, other.created_at, true, true))
            .then_with(|| compare_values(self.id, other.id, false, false))
    }
}

/// Missing values go last whatever the direction, so only present values are reversed.
fn compare_values(a: Option<&Value>, b: Option<&Value>, timestamp: bool, descending: bool) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => {
            let ord = total_cmp(Scalar::of_value(a, timestamp), Scalar::of_value(b, timestamp));
            if descending { ord.reverse() } else { ord }
        }
    }
}

/// A total order across types: numbers, instants, strings, bools, then arrays and objects.
fn total_cmp(a: Scalar<'_>, b: Scalar<'_>) -> Ordering {
    fn rank(s: &Scalar<'_>) -> u8 {
        match s {
            Scalar::Num(_) => 0,
            // Timestamps that parse sort by instant, ahead of those that do not; comparing
            // the two kinds by text instead could make the order cyclic.
            Scalar::Instant(_) => 1,
            Scalar::Str(_) => 2,
            Scalar::Bool(_) => 3,
            Scalar::Composite => 4,
            Scalar::Null => 5,
        }
    }
    match (a, b) {
        (Scalar::Num(a), Scalar::Num(b)) => a.partial_cmp(b).unwrap_or_else(|| a.is_nan().cmp(&b.is_nan())),
        (Scalar::Instant(a), Scalar::Instant(b)) => a.cmp(&b),
        (Scalar::Str(a), Scalar::Str(b)) => a.cmp(b),
        (Scalar::Bool(a), Scalar::Bool(b)) => a.cmp(&b),
        (a, b) => rank(&a).cmp(&rank(&b)),
    }
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url (RFC 4648 §5).
fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let bits = chunk.iter().enumerate().fold(0u32, |bits, (i, &b)| bits | u32::from(b) << (16 - 8 * i));
        // n bytes carry n + 1 six-bit digits.
        for i in 0..=chunk.len() {
            out.push(char::from(BASE64URL[(bits >> (18 - 6 * i)) as usize & 63]));
        }
    }
    out
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    for chunk in text.as_bytes().chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut bits = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let digit = BASE64URL.iter().position(|&d| d == c)?;
            bits |= (digit as u32) << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((bits >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

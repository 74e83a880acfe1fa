//! Sort orders over runs and the cursors that page through them.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

use super::ParseError;
use super::ast::FieldPath;
use super::eval::{Scalar, present};
use super::lexer::TokenKind;
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
    let mut parser = Parser::new(src)?;
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
        let keys = self.keys.iter().map(to_wire).collect();
        let json = Value::Array(vec![Value::Array(keys), to_wire(&self.created_at), to_wire(&self.id)]);
        base64url_encode(json.to_string().as_bytes())
    }

    pub fn decode(text: &str) -> Result<Cursor, ParseError> {
        let invalid = || ParseError::new("invalid cursor", 1);
        let bytes = base64url_decode(text).ok_or_else(invalid)?;
        let json: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        let Value::Array(parts) = json else {
            return Err(invalid());
        };
        let Ok([Value::Array(keys), created_at, id]) = <[Value; 3]>::try_from(parts) else {
            return Err(invalid());
        };
        Ok(Cursor {
            keys: keys.into_iter().map(from_wire).collect::<Option<_>>().ok_or_else(invalid)?,
            created_at: from_wire(created_at).ok_or_else(invalid)?,
            id: from_wire(id).ok_or_else(invalid)?,
        })
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

/// serde_json's default float parsing can be one ulp off, which would move the cursor past
/// or before a run, so floats travel as their bit pattern. An object can tag them because
/// `cursor_value` never keeps one.
fn to_wire(value: &Value) -> Value {
    match value.as_f64().map(f64::to_bits) {
        Some(bits) if value.is_f64() => serde_json::json!({ "f64": bits }),
        _ => value.clone(),
    }
}

fn from_wire(value: Value) -> Option<Value> {
    match value {
        Value::Object(tagged) => {
            let bits = tagged.get("f64")?.as_u64()?;
            serde_json::Number::from_f64(f64::from_bits(bits)).map(Value::Number)
        }
        value => Some(value),
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::super::ast::Num;
    use super::*;

    fn sort(src: &str) -> Vec<SortKey> {
        parse_sort(src).unwrap_or_else(|err| panic!("{src:?}: {err}"))
    }

    fn key(field: &str, descending: bool) -> SortKey {
        SortKey { field: field.parse().unwrap_or_else(|err| panic!("{field:?}: {err}")), descending }
    }

    fn ids(runs: &[Value]) -> Vec<&str> {
        runs.iter().map(|r| r["id"].as_str().unwrap_or("?")).collect()
    }

    #[test]
    fn sort_specs() {
        assert_eq!(sort(""), vec![]);
        assert_eq!(sort("  "), vec![]);
        assert_eq!(
            sort("summary.val_loss desc, created_at"),
            vec![key("summary.val_loss", true), key("created_at", false)]
        );
        assert_eq!(
            sort("-created_at,name ASC, `a b` DeSc"),
            vec![key("created_at", true), key("name", false), key("`a b`", true)]
        );
        assert_eq!(sort("summary.train/loss"), vec![key("summary.train/loss", false)]);
        let printed: Vec<String> = sort("a desc, b").iter().map(ToString::to_string).collect();
        assert_eq!(printed, ["a desc", "b"]);
    }

    #[test]
    fn sort_spec_errors() {
        let cases: [(&str, &str, usize); 6] = [
            ("a,", "expected a field name to sort by, found end of input", 3),
            ("a desc b", "expected \"asc\", \"desc\", \",\" or end of input, found \"b\"", 8),
            ("-a desc", "\"-\" already sorts descending, it cannot be combined with \"desc\"", 4),
            ("a, , b", "expected a field name to sort by, found \",\"", 4),
            ("1", "expected a field name to sort by, found number 1", 1),
            ("a = 1", "expected \"asc\", \"desc\", \",\" or end of input, found \"=\"", 3),
        ];
        for (src, message, column) in cases {
            assert_eq!(parse_sort(src), Err(ParseError::new(message, column)), "{src}");
        }
    }

    #[test]
    fn default_order_is_newest_first_then_id() {
        let mut runs = vec![
            json!({"id": "b", "created_at": "2026-01-01T00:00:00Z"}),
            json!({"id": "a", "created_at": "2026-01-01T00:00:00Z"}),
            json!({"id": "c"}),
            json!({"id": "d", "created_at": "2026-01-02"}),
            // The same instant as `a` and `b`, written differently.
            json!({"id": "0", "created_at": "2026-01-01T01:00:00+01:00"}),
        ];
        runs.sort_by(|a, b| compare_runs(a, b, &[]));
        assert_eq!(ids(&runs), ["d", "0", "a", "b", "c"]);
    }

    #[test]
    fn types_order_and_missing_values_go_last_in_both_directions() {
        let mut runs = vec![
            json!({"id": "missing"}),
            json!({"id": "null", "v": null}),
            json!({"id": "true", "v": true}),
            json!({"id": "false", "v": false}),
            json!({"id": "str", "v": "abc"}),
            json!({"id": "obj", "v": {"x": 1}}),
            json!({"id": "big", "v": 18446744073709551615u64}),
            json!({"id": "neg", "v": -1.5}),
            json!({"id": "one", "v": 1}),
            json!({"id": "onef", "v": 1.0}),
        ];
        runs.sort_by(|a, b| compare_runs(a, b, &sort("v")));
        assert_eq!(ids(&runs), ["neg", "one", "onef", "big", "str", "false", "true", "obj", "missing", "null"]);
        runs.sort_by(|a, b| compare_runs(a, b, &sort("v desc")));
        assert_eq!(ids(&runs), ["obj", "true", "false", "str", "big", "one", "onef", "neg", "missing", "null"]);
    }

    #[test]
    fn timestamp_fields_sort_as_instants() {
        let mut runs = vec![
            json!({"id": "a", "finished_at": "2026-01-01T10:00:00+05:00"}),
            json!({"id": "b", "finished_at": "2026-01-01T06:00:00Z"}),
            json!({"id": "c", "finished_at": "2026-01-01T05:30:00Z"}),
            json!({"id": "d", "finished_at": "garbage"}),
        ];
        runs.sort_by(|a, b| compare_runs(a, b, &sort("finished_at")));
        assert_eq!(ids(&runs), ["a", "c", "b", "d"]);
    }

    #[test]
    fn nan_sorts_after_other_numbers() {
        let nan = Scalar::Num(Num::Float(f64::NAN));
        assert_eq!(total_cmp(nan, Scalar::Num(Num::Float(f64::INFINITY))), Ordering::Greater);
        assert_eq!(total_cmp(Scalar::Num(Num::Int(1)), nan), Ordering::Less);
        assert_eq!(total_cmp(nan, nan), Ordering::Equal);
        assert_eq!(total_cmp(nan, Scalar::Str("a")), Ordering::Less);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let run = json!({"id": "r1", "created_at": "2026-11-26T12:00:00Z", "summary": {"loss": 0.5, "s": "a/b?c"}, "config": {"x": 1}});
        let keys = sort("summary.loss desc, summary.s, config, nope");
        let cursor = Cursor::after(&run, &keys);
        let encoded = cursor.encode();
        assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{encoded}");
        assert_eq!(Cursor::decode(&encoded), Ok(cursor.clone()));
        assert!(!cursor.is_before(&run, &keys));
        for bad in ["", "!!!!", "a", "e30", &base64url_encode(b"[1,2,3]"), &base64url_encode(b"\xff")] {
            assert_eq!(Cursor::decode(bad), Err(ParseError::new("invalid cursor", 1)), "{bad}");
        }
    }

    #[test]
    fn cursor_floats_survive_encoding_exactly() {
        // serde_json parses these back one ulp off.
        for x in [1.0715660391465826e-75, -1.81996730402717e-179, 0.1, 1e300] {
            let cursor = Cursor::after(&json!({"id": "r", "v": x, "created_at": x}), &sort("v"));
            assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        }
        let tagged_nan = base64url_encode(format!("[[{{\"f64\":{}}}],null,null]", f64::NAN.to_bits()).as_bytes());
        assert!(Cursor::decode(&tagged_nan).is_err());
    }

    #[test]
    fn base64url() {
        for (plain, encoded) in
            [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("\u{ff}\u{fe}", "w7_Dvg")]
        {
            assert_eq!(base64url_encode(plain.as_bytes()), encoded);
            assert_eq!(base64url_decode(encoded), Some(plain.as_bytes().to_vec()));
        }
    }

    fn value() -> impl Strategy<Value = Option<Value>> {
        prop_oneof![
            Just(None),
            Just(Some(Value::Null)),
            (-3i64..3).prop_map(|i| Some(json!(i))),
            prop::sample::select(vec![-1.5, 0.5, 1.0, 2.0]).prop_map(|x| Some(json!(x))),
            prop::sample::select(vec!["a", "b", "2026-01-01", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00"])
                .prop_map(|s| Some(json!(s))),
            any::<bool>().prop_map(|b| Some(json!(b))),
            Just(Some(json!([1]))),
            // Arbitrary floats exercise the cursor's exact float encoding.
            any::<f64>().prop_filter("JSON has no NaN or infinity", |x| x.is_finite()).prop_map(|x| Some(json!(x))),
        ]
    }

    /// Runs with few distinct values, so that ties on every sort key are common.
    fn runs() -> impl Strategy<Value = Vec<Value>> {
        prop::collection::vec((value(), value(), value()), 0..25).prop_map(|fields| {
            fields
                .into_iter()
                .enumerate()
                .map(|(i, (a, b, created_at))| {
                    let mut run = json!({"id": format!("run-{i:02}"), "config": {}});
                    for (name, value) in [("a", a), ("created_at", created_at)] {
                        if let Some(value) = value {
                            run[name] = value;
                        }
                    }
                    if let Some(b) = b {
                        run["config"]["b"] = b;
                    }
                    run
                })
                .collect()
        })
    }

    fn sort_keys() -> impl Strategy<Value = Vec<SortKey>> {
        let field = prop::sample::select(vec!["a", "config.b", "created_at", "id", "nope"]);
        prop::collection::vec((field, any::<bool>()).prop_map(|(f, d)| key(f, d)), 0..3)
    }

    proptest! {
        #[test]
        fn paging_returns_every_run_exactly_once(runs in runs(), keys in sort_keys(), limit in 1usize..6) {
            let mut sorted = runs.clone();
            sorted.sort_by(|a, b| compare_runs(a, b, &keys));

            let mut paged: Vec<Value> = Vec::new();
            let mut cursor: Option<Cursor> = None;
            loop {
                let page: Vec<&Value> = sorted
                    .iter()
                    .filter(|run| cursor.as_ref().is_none_or(|c| c.is_before(run, &keys)))
                    .take(limit)
                    .collect();
                let Some(last) = page.last() else { break };
                let next = Cursor::after(last, &keys);
                // Clients only ever hold the encoded form.
                cursor = Some(Cursor::decode(&next.encode()).map_err(|e| TestCaseError::fail(e.to_string()))?);
                paged.extend(page.into_iter().cloned());
                prop_assert!(paged.len() <= runs.len(), "paging does not terminate");
            }
            prop_assert_eq!(paged, sorted);
        }

        #[test]
        fn compare_runs_is_a_total_order(runs in runs(), keys in sort_keys()) {
            for a in &runs {
                for b in &runs {
                    let ab = compare_runs(a, b, &keys);
                    prop_assert_eq!(ab, compare_runs(b, a, &keys).reverse());
                    // Ids are unique, so only a run equals itself.
                    prop_assert_eq!(ab == Ordering::Equal, a["id"] == b["id"]);
                    for c in &runs {
                        if ab != Ordering::Greater && compare_runs(b, c, &keys) != Ordering::Greater {
                            prop_assert_ne!(compare_runs(a, c, &keys), Ordering::Greater);
                        }
                    }
                }
            }
        }
    }
}

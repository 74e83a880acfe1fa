//! The syntax tree of a filter, and its canonical printed form.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use regex::Regex;

use super::ParseError;
use super::lexer::{self, Keyword};

/// Top-level fields that hold timestamps; string literals compared with them are instants.
const TIMESTAMP_FIELDS: [&str; 4] = ["created_at", "updated_at", "heartbeat_at", "finished_at"];

/// A dotted path into a run document, such as `config.optimizer.name`.
///
/// Parse one with `str::parse`; segments that are not plain identifiers are written in
/// backquotes: ``config.`my key.with dots` ``.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath {
    segments: Vec<String>,
}

impl FieldPath {
    /// Builds a path from its segments; `None` when there are none.
    pub fn new<S: Into<String>>(segments: impl IntoIterator<Item = S>) -> Option<FieldPath> {
        let segments: Vec<String> = segments.into_iter().map(Into::into).collect();
        (!segments.is_empty()).then_some(FieldPath { segments })
    }

    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The value at this path in a run document, as filters read it (a missing nested key
    /// falls back to the joined segments as one flat key).
    pub fn get<'a>(&self, document: &'a serde_json::Value) -> Option<&'a serde_json::Value> {
        super::eval::lookup(document, &self.segments)
    }

    /// Whether this is one of the run's own timestamp fields, which compare as instants.
    pub(crate) fn is_timestamp(&self) -> bool {
        matches!(self.segments.as_slice(), [only] if TIMESTAMP_FIELDS.contains(&only.as_str()))
    }
}

impl FromStr for FieldPath {
    type Err = ParseError;

    fn from_str(src: &str) -> Result<Self, Self::Err> {
        super::parser::parse_field_path(src)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            let bare = if i == 0 {
                // A lone keyword would lex as the keyword, so it needs quoting as well.
                lexer::is_identifier(segment) && (self.segments.len() > 1 || Keyword::from_word(segment).is_none())
            } else {
                !segment.is_empty() && segment.chars().all(lexer::is_identifier_char)
            };
            if bare {
                f.write_str(segment)?;
            } else {
                write_quoted(f, segment, '`')?;
            }
        }
        Ok(())
    }
}

/// Writes `text` between `quote`s with the escapes the lexer understands.
pub(crate) fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str, quote: char) -> fmt::Result {
    use fmt::Write;
    f.write_char(quote)?;
    for c in text.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\0' => f.write_str("\\0")?,
            c if c == quote => {
                f.write_char('\\')?;
                f.write_char(c)?;
            }
            c => f.write_char(c)?,
        }
    }
    f.write_char(quote)
}

/// A number as written in a filter or stored in a document.
///
/// Integers are kept exact (JSON holds both `i64` and `u64`, hence `i128`) so that large ids
/// and step counts compare correctly against each other.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i128),
    Float(f64),
}

impl Num {
    pub(crate) fn from_json(n: &serde_json::Number) -> Num {
        if let Some(i) = n.as_i64() {
            Num::Int(i.into())
        } else if let Some(u) = n.as_u64() {
            Num::Int(u.into())
        } else {
            Num::Float(n.as_f64().unwrap_or(f64::NAN))
        }
    }

    pub(crate) fn is_nan(self) -> bool {
        matches!(self, Num::Float(x) if x.is_nan())
    }

    /// Exact numeric comparison; `None` when either side is NaN.
    pub(crate) fn partial_cmp(self, other: Num) -> Option<Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (Num::Float(a), Num::Float(b)) => a.partial_cmp(&b),
            (Num::Int(a), Num::Float(b)) => cmp_int_float(a, b),
            (Num::Float(a), Num::Int(b)) => cmp_int_float(b, a).map(Ordering::reverse),
        }
    }
}

/// Compares without converting the integer to `f64`, which would round above 2^53.
fn cmp_int_float(i: i128, f: f64) -> Option<Ordering> {
    // 2^127 is exactly representable; floats at or beyond it are outside i128's range.
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    if f.is_nan() {
        None
    } else if f >= LIMIT {
        Some(Ordering::Less)
    } else if f < -LIMIT {
        Some(Ordering::Greater)
    } else {
        let whole = f.trunc();
        // In range and integral, so the cast is exact.
        Some(i.cmp(&(whole as i128)).then_with(|| whole.partial_cmp(&f).unwrap_or(Ordering::Equal)))
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Num::Int(i) => write!(f, "{i}"),
            // Debug always keeps a `.` or an exponent, so the text lexes back as a float.
            Num::Float(x) if x.is_finite() => write!(f, "{x:?}"),
            // Only reachable from literals like 1e999, which overflow to infinity again.
            Num::Float(x) if x > 0.0 => f.write_str("1e999"),
            Num::Float(x) if x < 0.0 => f.write_str("-1e999"),
            Num::Float(_) => f.write_str("NaN"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Null,
    Bool(bool),
    Num(Num),
    Str(String),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Num(n) => n.fmt(f),
            Literal::Str(s) => write_quoted(f, s, '"'),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A compiled regular expression that compares by its source text.
#[derive(Debug, Clone)]
pub(crate) struct Pattern(pub(crate) Regex);

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    // N-ary rather than binary so that long `a and b and c …` chains stay shallow:
    // evaluation, printing and dropping all recurse over the tree.
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Compare {
        path: FieldPath,
        op: CmpOp,
        value: Literal,
    },
    In {
        path: FieldPath,
        values: Vec<Literal>,
        negated: bool,
    },
    Matches {
        path: FieldPath,
        pattern: Pattern,
        negated: bool,
    },
    Contains {
        path: FieldPath,
        value: Literal,
        negated: bool,
    },
    /// Also what `is null` / `is not null` parse to: missing and null are the same thing.
    Exists {
        path: FieldPath,
        negated: bool,
    },
}

impl Expr {
    /// Calls `visit` with every field path the expression reads.
    pub(crate) fn visit_paths<'a>(&'a self, visit: &mut impl FnMut(&'a FieldPath)) {
        match self {
            Expr::And(items) | Expr::Or(items) => items.iter().for_each(|item| item.visit_paths(visit)),
            Expr::Not(inner) => inner.visit_paths(visit),
            Expr::Compare { path, .. }
            | Expr::In { path, .. }
            | Expr::Matches { path, .. }
            | Expr::Contains { path, .. }
            | Expr::Exists { path, .. } => visit(path),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let not = |negated: bool| if negated { "not " } else { "" };
        match self {
            Expr::And(items) | Expr::Or(items) => {
                let joiner = if matches!(self, Expr::And(_)) { " and " } else { " or " };
                f.write_str("(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(joiner)?;
                    }
                    item.fmt(f)?;
                }
                f.write_str(")")
            }
            Expr::Not(inner) => write!(f, "(not {inner})"),
            Expr::Compare { path, op, value } => write!(f, "{path} {} {value}", op.symbol()),
            Expr::In { path, values, negated } => {
                write!(f, "{path} {}in (", not(*negated))?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    value.fmt(f)?;
                }
                f.write_str(")")
            }
            Expr::Matches { path, pattern, negated } => {
                write!(f, "{path} {} ", if *negated { "!~" } else { "=~" })?;
                write_quoted(f, pattern.0.as_str(), '"')
            }
            Expr::Contains { path, value, negated } => write!(f, "{path} {}contains {value}", not(*negated)),
            Expr::Exists { path, negated } => write!(f, "{path} {}exists", not(*negated)),
        }
    }
}

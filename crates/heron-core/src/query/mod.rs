//! The run query language: filters, sort orders and pagination cursors.
//!
//! One implementation is shared by the HTTP API, the SDK and the dashboard so that a
//! filter typed anywhere selects the same runs everywhere.
//!
//! ```
//! use heron_core::query::Filter;
//! use serde_json::json;
//!
//! let filter: Filter = r#"config.lr > 0.01 and (tags contains "baseline" or state = "running")"#
//!     .parse()
//!     .expect("valid filter");
//! let run = json!({"state": "running", "tags": [], "config": {"lr": 0.1}});
//! assert!(filter.matches(&run));
//! ```
//!
//! Semantics in short: a comparison whose two sides have different types (or whose field is
//! missing or null) is false, except that `!=`, `not in`, `not contains` and `!~` are true for
//! any field that exists. `not (…)` is plain boolean negation.

mod ast;
mod eval;
mod lexer;
mod parser;
mod sort;

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

pub use ast::FieldPath;
pub use sort::{Cursor, SortKey, compare_runs, parse_sort};

/// Statistics a run document offers per history key under `metrics.<key>.<stat>`.
pub const METRIC_STATS: [&str; 4] = ["min", "max", "last", "count"];

/// The history key that `metrics.<key>.<stat>` names (`metrics.train/loss.min` → `train/loss`;
/// a key with dots is its segments joined, ``metrics.`val.acc`.max`` → `val.acc`).
pub fn metric_key(path: &FieldPath) -> Option<String> {
    match path.segments() {
        [first, key @ .., stat] if first == "metrics" && !key.is_empty() && METRIC_STATS.contains(&stat.as_str()) => {
            Some(key.join("."))
        }
        _ => None,
    }
}

/// A syntax error, located by a 1-based column counted in characters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} (column {column})")]
pub struct ParseError {
    pub message: String,
    pub column: usize,
}

impl ParseError {
    pub(crate) fn new(message: impl Into<String>, column: usize) -> Self {
        ParseError { message: message.into(), column }
    }
}

/// A parsed filter expression.
///
/// `Display` prints a canonical, fully parenthesised form that parses back to an equal filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// `None` for an empty source, which matches every run.
    expr: Option<ast::Expr>,
}

impl Filter {
    /// Parses a filter; an empty or whitespace-only source matches all runs.
    pub fn parse(src: &str) -> Result<Filter, ParseError> {
        Ok(Filter { expr: parser::parse_filter(src)? })
    }

    /// The field paths the filter reads, in order of appearance.
    pub fn fields(&self) -> Vec<&FieldPath> {
        let mut paths = Vec::new();
        if let Some(expr) = &self.expr {
            expr.visit_paths(&mut |path| paths.push(path));
        }
        paths
    }

    /// Whether the run document satisfies the filter.
    pub fn matches(&self, run: &Value) -> bool {
        self.expr.as_ref().is_none_or(|expr| eval::matches(expr, run))
    }
}

impl FromStr for Filter {
    type Err = ParseError;

    fn from_str(src: &str) -> Result<Self, Self::Err> {
        Filter::parse(src)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.expr {
            Some(expr) => expr.fmt(f),
            None => Ok(()),
        }
    }
}

//! Recursive-descent parser for filters: `or` binds loosest, then `and`, then `not`.

use regex::Regex;

use super::ParseError;
use super::ast::{Expr, FieldPath, Literal, Pattern};
use super::eval::parse_instant;
use super::lexer::{self, Keyword, Op, Token, TokenKind};

/// Bounds the recursion on `(((…` and `not not …`, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 64;

/// Parses a filter; `None` for a source holding no tokens at all.
pub(crate) fn parse_filter(src: &str) -> Result<Option<Expr>, ParseError> {
    let mut parser = Parser::new(src)?;
    if parser.at(&TokenKind::Eof) {
        return Ok(None);
    }
    let expr = parser.or()?;
    let token = parser.peek();
    match token.kind {
        TokenKind::Eof => Ok(Some(expr)),
        TokenKind::RParen => Err(ParseError::new("unmatched \")\"", token.column)),
        _ => Err(parser.expected("\"and\", \"or\" or end of input")),
    }
}

/// A field path on its own, as in sort specs' fields or API parameters.
pub(crate) fn parse_field_path(src: &str) -> Result<FieldPath, ParseError> {
    let mut parser = Parser::new(src)?;
    let path = parser.field_path("a field name")?;
    if !parser.at(&TokenKind::Eof) {
        return Err(parser.expected("end of input after the field name"));
    }
    Ok(path)
}

pub(crate) struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    /// Lexes `src`; the token list then always ends with `Eof`.
    pub(crate) fn new(src: &str) -> Result<Parser, ParseError> {
        let tokens = lexer::lex(src)?;
        Ok(Parser { tokens, pos: 0, depth: 0 })
    }

    pub(crate) fn peek(&self) -> &Token {
        // The Eof token is never consumed, so `pos` stays in bounds; fall back to it anyway.
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[self.pos.min(last)]
    }

    pub(crate) fn at(&self, kind: &TokenKind) -> bool {
        &self.peek().kind == kind
    }

    pub(crate) fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != TokenKind::Eof {
            self.pos += 1;
        }
        token
    }

    pub(crate) fn eat(&mut self, kind: &TokenKind) -> bool {
        let found = self.at(kind);
        if found {
            self.bump();
        }
        found
    }

    fn eat_keyword(&mut self, keyword: Keyword) -> bool {
        self.eat(&TokenKind::Keyword(keyword))
    }

    /// An error at the current token: "expected {what}, found {token}".
    pub(crate) fn expected(&self, what: &str) -> ParseError {
        let token = self.peek();
        ParseError::new(format!("expected {what}, found {}", token.describe()), token.column)
    }

    pub(crate) fn field_path(&mut self, what: &str) -> Result<FieldPath, ParseError> {
        match &self.peek().kind {
            TokenKind::Path(path) => {
                let path = path.clone();
                self.bump();
                Ok(path)
            }
            _ => Err(self.expected(what)),
        }
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.and()?];
        while self.eat_keyword(Keyword::Or) {
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::Or(items) })
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.unary()?];
        while self.eat_keyword(Keyword::And) {
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::And(items) })
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        let token = self.peek().clone();
        match token.kind {
            TokenKind::Keyword(Keyword::Not) => {
                self.bump();
                let inner = self.nested(&token, Parser::unary)?;
                Ok(Expr::Not(Box::new(inner)))
            }
            TokenKind::LParen => {
                self.bump();
                let inner = self.nested(&token, Parser::or)?;
                let close = self.peek();
                match close.kind {
                    TokenKind::RParen => {
                        self.bump();
                        Ok(inner)
                    }
                    TokenKind::Eof => Err(ParseError::new(
                        format!("unclosed \"(\", expected \")\" but found {}", close.describe()),
                        token.column,
                    )),
                    _ => Err(self.expected("\"and\", \"or\" or \")\"")),
                }
            }
            TokenKind::Path(_) => self.predicate(),
            _ => Err(self.expected("a field name, \"not\" or \"(\"")),
        }
    }

    fn nested(
        &mut self,
        opener: &Token,
        parse: fn(&mut Parser) -> Result<Expr, ParseError>,
    ) -> Result<Expr, ParseError> {
        if self.depth >= MAX_DEPTH {
            return Err(ParseError::new(
                format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
                opener.column,
            ));
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    /// `path <operator> …`, the leaves of the expression.
    fn predicate(&mut self) -> Result<Expr, ParseError> {
        let field = self.bump();
        let TokenKind::Path(path) = field.kind else {
            return Err(ParseError::new("expected a field name", field.column));
        };
        let operator = self.bump();
        let after = format!("after \"{}\"", operator.text);
        let expr = match operator.kind {
            TokenKind::Op(Op::Cmp(op)) => {
                let value = self.value(&after, path.is_timestamp())?;
                Expr::Compare { path, op, value }
            }
            TokenKind::Op(op @ (Op::Match | Op::NotMatch)) => {
                let pattern = self.pattern(&after)?;
                Expr::Matches { path, pattern, negated: op == Op::NotMatch }
            }
            TokenKind::Keyword(Keyword::In) => {
                let values = self.list(path.is_timestamp())?;
                Expr::In { path, values, negated: false }
            }
            TokenKind::Keyword(Keyword::Contains) => {
                let value = self.value(&after, false)?;
                Expr::Contains { path, value, negated: false }
            }
            TokenKind::Keyword(Keyword::Exists) => Expr::Exists { path, negated: false },
            TokenKind::Keyword(Keyword::Not) => {
                let negated = true;
                match self.peek().kind {
                    TokenKind::Keyword(Keyword::In) => {
                        self.bump();
                        Expr::In { values: self.list(path.is_timestamp())?, path, negated }
                    }
                    TokenKind::Keyword(Keyword::Contains) => {
                        self.bump();
                        let value = self.value("after \"not contains\"", false)?;
                        Expr::Contains { path, value, negated }
                    }
                    TokenKind::Keyword(Keyword::Exists) => {
                        self.bump();
                        Expr::Exists { path, negated }
                    }
                    _ => {
                        return Err(self.expected("\"in\", \"contains\" or \"exists\" after \"not\""));
                    }
                }
            }
            TokenKind::Keyword(Keyword::Is) => {
                let negated = self.eat_keyword(Keyword::Not);
                if !self.eat_keyword(Keyword::Null) {
                    let what =
                        if negated { "\"null\" after \"is not\"" } else { "\"null\" or \"not null\" after \"is\"" };
                    return Err(self.expected(what));
                }
                // Missing and null mean the same thing, so `is null` is `not exists`.
                Expr::Exists { path, negated: !negated }
            }
            _ => {
                return Err(ParseError::new(
                    format!("expected an operator after \"{}\", found {}", field.text, operator.describe()),
                    operator.column,
                ));
            }
        };
        Ok(expr)
    }

    /// A literal; string literals compared with a timestamp field must be valid instants.
    fn value(&mut self, after: &str, timestamp: bool) -> Result<Literal, ParseError> {
        let token = self.peek().clone();
        let literal = match token.kind {
            TokenKind::Number(n) => Literal::Num(n),
            TokenKind::Str(ref s) => {
                if timestamp && parse_instant(s).is_none() {
                    return Err(ParseError::new(
                        format!(
                            "invalid timestamp {}, expected RFC 3339 like \"2026-11-26T12:00:00Z\" or a date like \"2026-11-26\"",
                            token.text
                        ),
                        token.column,
                    ));
                }
                Literal::Str(s.clone())
            }
            TokenKind::Keyword(Keyword::True) => Literal::Bool(true),
            TokenKind::Keyword(Keyword::False) => Literal::Bool(false),
            TokenKind::Keyword(Keyword::Null) => Literal::Null,
            TokenKind::Path(_) => {
                // The usual mistake is a bare word meant as a string.
                return Err(self.expected(&format!("a value {after} (strings need quotes)")));
            }
            _ => return Err(self.expected(&format!("a value {after}"))),
        };
        self.bump();
        Ok(literal)
    }

    fn pattern(&mut self, after: &str) -> Result<Pattern, ParseError> {
        let token = self.peek().clone();
        let TokenKind::Str(source) = &token.kind else {
            return Err(self.expected(&format!("a quoted regular expression {after}")));
        };
        let regex = Regex::new(source).map_err(|err| {
            // The regex crate's message spans several lines with a caret diagram; keep the summary.
            let text = err.to_string();
            let summary = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
            let summary = summary.trim().trim_start_matches("error: ");
            ParseError::new(format!("invalid regular expression: {summary}"), token.column)
        })?;
        self.bump();
        Ok(Pattern(regex))
    }

    /// `( value, … )` after `in` / `not in`.
    fn list(&mut self, timestamp: bool) -> Result<Vec<Literal>, ParseError> {
        let open = self.peek().clone();
        if !self.eat(&TokenKind::LParen) {
            return Err(self.expected("\"(\" to start the list"));
        }
        let mut values = Vec::new();
        if self.eat(&TokenKind::RParen) {
            return Ok(values);
        }
        loop {
            values.push(self.value("in the list", timestamp)?);
            if self.eat(&TokenKind::RParen) {
                return Ok(values);
            }
            if !self.eat(&TokenKind::Comma) {
                if self.at(&TokenKind::Eof) {
                    return Err(ParseError::new("unclosed \"(\", expected \")\" but found end of input", open.column));
                }
                return Err(self.expected("\",\" or \")\" in the list"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::Filter;
    use super::super::ast::{CmpOp, Expr, FieldPath, Literal, Num, Pattern};
    use super::*;

    fn canonical(src: &str) -> String {
        match Filter::parse(src) {
            Ok(filter) => filter.to_string(),
            Err(err) => panic!("{src:?} should parse: {err}"),
        }
    }

    fn error(src: &str) -> ParseError {
        match Filter::parse(src) {
            Ok(filter) => panic!("{src:?} should not parse, got {filter}"),
            Err(err) => err,
        }
    }

    #[test]
    fn empty_source_is_match_all() {
        assert_eq!(canonical(""), "");
        assert_eq!(canonical("  \n\t "), "");
    }

    #[test]
    fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
        assert_eq!(canonical("a = 1 or b = 2 and not c = 3"), "(a = 1 or (b = 2 and (not c = 3)))");
        assert_eq!(canonical("(a = 1 or b = 2) and c = 3"), "((a = 1 or b = 2) and c = 3)");
        assert_eq!(canonical("a = 1 and b = 2 and c = 3"), "(a = 1 and b = 2 and c = 3)");
        assert_eq!(canonical("not not a = 1"), "(not (not a = 1))");
        assert_eq!(canonical("not (a = 1 or b = 2)"), "(not (a = 1 or b = 2))");
    }

    #[test]
    fn the_example_from_the_docs() {
        assert_eq!(
            canonical(
                r#"config.lr > 0.01 and summary.val_loss < 0.3 and (tags contains "baseline" or state = "running")"#
            ),
            r#"(config.lr > 0.01 and summary.val_loss < 0.3 and (tags contains "baseline" or state = "running"))"#
        );
    }

    #[test]
    fn every_operator_parses() {
        let cases = [
            ("a = 1", "a = 1"),
            ("a == 1", "a = 1"),
            ("a != 1", "a != 1"),
            ("a < 1", "a < 1"),
            ("a <= 1", "a <= 1"),
            ("a > 1", "a > 1"),
            ("a >= 1", "a >= 1"),
            ("a>=-1", "a >= -1"),
            ("a in (1, 'x', true, null)", "a in (1, \"x\", true, null)"),
            ("a in ()", "a in ()"),
            ("a not in (2.5)", "a not in (2.5)"),
            (r#"a =~ "^x\d+$""#, r#"a =~ "^x\\d+$""#),
            ("a !~ 'y'", "a !~ \"y\""),
            ("a contains 'z'", "a contains \"z\""),
            ("a not contains 3", "a not contains 3"),
            ("a exists", "a exists"),
            ("a not exists", "a not exists"),
            ("a is null", "a not exists"),
            ("a is not null", "a exists"),
        ];
        for (src, expected) in cases {
            assert_eq!(canonical(src), expected, "{src}");
        }
    }

    #[test]
    fn keywords_are_case_insensitive() {
        assert_eq!(
            canonical("a = TRUE AND NOT b IN (1) Or c Is Not Null oR d NOT CONTAINS False"),
            "((a = true and (not b in (1))) or c exists or d not contains false)"
        );
    }

    #[test]
    fn literals() {
        assert_eq!(canonical("a = -12"), "a = -12");
        assert_eq!(canonical("a = 1.5e3"), "a = 1500.0");
        assert_eq!(canonical("a = 1E-3"), "a = 0.001");
        assert_eq!(canonical("a = 18446744073709551615"), "a = 18446744073709551615");
        assert_eq!(canonical("a = 1e999"), "a = 1e999");
        assert_eq!(canonical(r#"a = "tab\there \"q\" it's""#), r#"a = "tab\there \"q\" it's""#);
        assert_eq!(canonical(r"a = 'it\'s'"), r#"a = "it's""#);
        assert_eq!(canonical("a = null"), "a = null");
    }

    #[test]
    fn field_paths() {
        assert_eq!(canonical("summary.train/loss < 1"), "summary.train/loss < 1");
        assert_eq!(canonical("config.`my key.with dots` = 1"), "config.`my key.with dots` = 1");
        assert_eq!(canonical("`config`.`lr` = 1"), "config.lr = 1");
        assert_eq!(canonical("config.0.layer-2 = 1"), "config.0.layer-2 = 1");
        assert_eq!(canonical("`and` = 1"), "`and` = 1");
        assert_eq!(canonical("and.or = 1"), "and.or = 1");
        assert_eq!(canonical(r"`a\`b`.`` = 1"), r"`a\`b`.`` = 1");
        assert_eq!(canonical("`1st` = 1"), "`1st` = 1");
        assert_eq!(canonical("naïve.größe = 1"), "naïve.größe = 1");
        assert_eq!(
            "config.`my key`".parse::<FieldPath>(),
            Ok(FieldPath::new(["config", "my key"]).expect("non-empty"))
        );
        assert_eq!("config.lr x".parse::<FieldPath>().map_err(|e| e.column), Err(11));
        assert_eq!("".parse::<FieldPath>().map_err(|e| e.column), Err(1));
    }

    #[test]
    fn error_messages_and_columns() {
        let cases: [(&str, &str, usize); 24] = [
            ("config.lr <", "expected a value after \"<\", found end of input", 12),
            ("state = \"running", "unclosed string, expected a closing \"", 9),
            ("name = 'x' and `open", "unclosed backquoted field name, expected a closing `", 16),
            ("(a = 1 or b = 2", "unclosed \"(\", expected \")\" but found end of input", 1),
            ("a = 1 and (b = 2 or (c = 3)", "unclosed \"(\", expected \")\" but found end of input", 11),
            ("(a = 1 b = 2)", "expected \"and\", \"or\" or \")\", found \"b\"", 8),
            ("a = 1 )", "unmatched \")\"", 7),
            ("a = 1 b", "expected \"and\", \"or\" or end of input, found \"b\"", 7),
            ("a =< 1", "unknown operator \"=<\", expected one of = == != < <= > >= =~ !~", 3),
            ("a ! 1", "unknown operator \"!\", expected one of = == != < <= > >= =~ !~", 3),
            ("a foo 1", "expected an operator after \"a\", found \"foo\"", 3),
            ("a", "expected an operator after \"a\", found end of input", 2),
            ("a = running", "expected a value after \"=\" (strings need quotes), found \"running\"", 5),
            ("a = 12abc", "invalid number \"12abc\"", 5),
            ("a = 1.", "invalid number \"1.\"", 5),
            ("a in 1", "expected \"(\" to start the list, found number 1", 6),
            ("a in (1, 2", "unclosed \"(\", expected \")\" but found end of input", 6),
            ("a in (1 2)", "expected \",\" or \")\" in the list, found number 2", 9),
            ("a is 1", "expected \"null\" or \"not null\" after \"is\", found number 1", 6),
            ("a not foo", "expected \"in\", \"contains\" or \"exists\" after \"not\", found \"foo\"", 7),
            ("not", "expected a field name, \"not\" or \"(\", found end of input", 4),
            ("a = 1 and or", "expected a field name, \"not\" or \"(\", found \"or\"", 11),
            ("config. = 1", "expected a field name after \".\", found ' '", 8),
            ("a @ 1", "unexpected character '@'", 3),
        ];
        for (src, message, column) in cases {
            assert_eq!(error(src), ParseError::new(message, column), "{src}");
        }
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(error("näme = 'ü").column, 8);
        assert_eq!(error("ünïcödé ==< 1").column, 9);
    }

    #[test]
    fn regex_errors_point_at_the_string() {
        let err = error(r#"name =~ "(unclosed" and a = 1"#);
        assert_eq!(err.column, 9);
        assert!(err.message.starts_with("invalid regular expression: "), "{}", err.message);
        assert!(!err.message.contains('\n'), "{}", err.message);
        assert_eq!(error("name =~ 3").message, "expected a quoted regular expression after \"=~\", found number 3");
    }

    #[test]
    fn timestamp_literals_are_validated() {
        let err = error("created_at > 'yesterday'");
        assert_eq!(err.column, 14);
        assert!(err.message.starts_with("invalid timestamp 'yesterday'"), "{}", err.message);
        assert_eq!(error("state = 'x' or finished_at in ('2026-11-26', '2026-13-01')").column, 46);
        // Only comparisons read the literal as an instant.
        assert!(Filter::parse("created_at =~ '^2026'").is_ok());
        assert!(Filter::parse("created_at contains '11-26'").is_ok());
        assert!(Filter::parse("config.created_at = 'whenever'").is_ok());
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}a = 1{}", "(".repeat(500), ")".repeat(500));
        assert_eq!(error(&deep).column, MAX_DEPTH + 1);
        assert!(error(&"not ".repeat(10_000)).message.contains("nested too deeply"));
        let ok = format!("{}a = 1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(Filter::parse(&ok).is_ok());
        // Long flat chains are fine: they do not nest.
        assert!(Filter::parse(&vec!["a = 1"; 10_000].join(" and ")).is_ok());
    }

    fn token_soup() -> impl Strategy<Value = String> {
        let token = prop_oneof![
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just(",".to_owned()),
            Just("-".to_owned()),
            Just("and".to_owned()),
            Just("or".to_owned()),
            Just("not".to_owned()),
            Just("in".to_owned()),
            Just("is".to_owned()),
            Just("null".to_owned()),
            Just("exists".to_owned()),
            Just("contains".to_owned()),
            Just("created_at".to_owned()),
            "[=!<>~]{1,2}",
            "[a-z`.]{1,4}",
            "['\"][a-z0-9\\\\-]{0,4}['\"]?",
            "-?[0-9.e]{1,4}",
        ];
        prop::collection::vec(token, 0..12).prop_map(|tokens| tokens.join(" "))
    }

    fn sample_run() -> serde_json::Value {
        serde_json::json!({"a": 1, "b": "x", "tags": ["t"], "c": {"d": null}, "created_at": "2026-11-26"})
    }

    proptest! {
        #[test]
        fn parser_never_panics(src in any::<String>()) {
            if let Ok(filter) = Filter::parse(&src) {
                filter.matches(&sample_run());
            }
        }

        #[test]
        fn anything_that_parses_prints_back_to_itself(src in token_soup()) {
            if let Ok(filter) = Filter::parse(&src) {
                filter.matches(&sample_run());
                prop_assert_eq!(Filter::parse(&filter.to_string()), Ok(filter));
            }
        }

        #[test]
        fn display_reparses_to_an_equal_filter(expr in expr()) {
            let filter = Filter { expr: Some(expr) };
            let printed = filter.to_string();
            prop_assert_eq!(Filter::parse(&printed), Ok(filter), "{}", printed);
        }
    }

    fn path() -> impl Strategy<Value = FieldPath> {
        let segment = prop_oneof![
            Just("config".to_owned()),
            Just("and".to_owned()),
            Just("NOT".to_owned()),
            Just("my key.with dots".to_owned()),
            Just("`".to_owned()),
            Just(String::new()),
            "[a-z_][a-z0-9_/-]{0,6}",
            "[0-9-][a-z]{0,3}",
            ".{0,6}",
        ];
        prop::collection::vec(segment, 1..4).prop_filter_map("timestamp fields only take valid instants", |segments| {
            FieldPath::new(segments).filter(|path| !path.is_timestamp())
        })
    }

    fn literal() -> impl Strategy<Value = Literal> {
        prop_oneof![
            Just(Literal::Null),
            any::<bool>().prop_map(Literal::Bool),
            any::<i64>().prop_map(|i| Literal::Num(Num::Int(i.into()))),
            any::<u64>().prop_map(|u| Literal::Num(Num::Int(u.into()))),
            any::<f64>().prop_filter("NaN is not writable", |x| !x.is_nan()).prop_map(|x| Literal::Num(Num::Float(x))),
            any::<String>().prop_map(Literal::Str),
        ]
    }

    fn pattern() -> impl Strategy<Value = Pattern> {
        prop::sample::select(vec![r"^resnet-\d+$", "a|b", r#"x"y"#, r"[\]]", r"\\", "(?i)Adam", "\n\t"])
            .prop_filter_map("valid regex", |src| Regex::new(src).ok().map(Pattern))
    }

    fn expr() -> impl Strategy<Value = Expr> {
        let op = prop::sample::select(vec![CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge]);
        let leaf = prop_oneof![
            (path(), op, literal()).prop_map(|(path, op, value)| Expr::Compare { path, op, value }),
            (path(), prop::collection::vec(literal(), 0..3), any::<bool>())
                .prop_map(|(path, values, negated)| Expr::In { path, values, negated }),
            (path(), pattern(), any::<bool>()).prop_map(|(path, pattern, negated)| Expr::Matches {
                path,
                pattern,
                negated
            }),
            (path(), literal(), any::<bool>()).prop_map(|(path, value, negated)| Expr::Contains {
                path,
                value,
                negated
            }),
            (path(), any::<bool>()).prop_map(|(path, negated)| Expr::Exists { path, negated }),
        ];
        leaf.prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
                inner.prop_map(|e| Expr::Not(Box::new(e))),
            ]
        })
    }
}

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
    let mut parser = Parser::new(lexer::lex(src)?);
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
    let mut parser = Parser::new(lexer::lex(src)?);
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
    /// `tokens` must end with `Eof`, as `lexer::lex` guarantees.
    pub(crate) fn new(tokens: Vec<Token>) -> Parser {
        Parser { tokens, pos: 0, depth: 0 }
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

    fn nested(&mut self, opener: &Token, parse: fn(&mut Parser) -> Result<Expr, ParseError>) -> Result<Expr, ParseError> {
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
                    _ => return Err(self.expected("\"in\", \"contains\" or \"exists\" after \"not\"")),
                }
            }
            TokenKind::Keyword(Keyword::Is) => {
                let negated = self.eat_keyword(Keyword::Not);
                if !self.eat_keyword(Keyword::Null) {
                    let what = if negated { "\"null\" after \"is not\"" } else { "\"null\" or \"not null\" after \"is\"" };
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
                    return Err(ParseError::new(
                        "unclosed \"(\", expected \")\" but found end of input",
                        open.column,
                    ));
                }
                return Err(self.expected("\",\" or \")\" in the list"));
            }
        }
    }
}

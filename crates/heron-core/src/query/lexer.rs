//! Splits source text into tokens, each remembering the column it starts at.

use super::ParseError;
use super::ast::{CmpOp, FieldPath, Num};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    And,
    Or,
    Not,
    In,
    Contains,
    Exists,
    Is,
    Null,
    True,
    False,
}

impl Keyword {
    /// Keywords are case-insensitive.
    pub(crate) fn from_word(word: &str) -> Option<Keyword> {
        const ALL: [(&str, Keyword); 10] = [
            ("and", Keyword::And),
            ("or", Keyword::Or),
            ("not", Keyword::Not),
            ("in", Keyword::In),
            ("contains", Keyword::Contains),
            ("exists", Keyword::Exists),
            ("is", Keyword::Is),
            ("null", Keyword::Null),
            ("true", Keyword::True),
            ("false", Keyword::False),
        ];
        ALL.iter().find(|(name, _)| name.eq_ignore_ascii_case(word)).map(|&(_, kw)| kw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Cmp(CmpOp),
    Match,
    NotMatch,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    Path(FieldPath),
    Keyword(Keyword),
    Number(Num),
    Str(String),
    Op(Op),
    LParen,
    RParen,
    Comma,
    /// Only meaningful in sort specs (`-created_at`); a `-` before a digit is part of the number.
    Minus,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    /// 1-based, in characters.
    pub(crate) column: usize,
    /// The source text, for error messages.
    pub(crate) text: String,
}

impl Token {
    /// How the token is named in "found …" messages.
    pub(crate) fn describe(&self) -> String {
        match self.kind {
            TokenKind::Eof => "end of input".to_owned(),
            TokenKind::Str(_) => format!("string {}", self.text),
            TokenKind::Number(_) => format!("number {}", self.text),
            _ => format!("\"{}\"", self.text),
        }
    }
}

pub(crate) fn is_identifier_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

/// `-` and `/` are allowed because metric names like `train/loss` and `val-acc` are common.
pub(crate) fn is_identifier_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '/')
}

/// Whether `s` can be written unquoted as the first segment of a path.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(is_identifier_start) && chars.all(is_identifier_char)
}

/// Tokenizes the whole source; the result always ends with an `Eof` token.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    Lexer { chars: src.chars().collect(), pos: 0 }.run()
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn text(&self, start: usize) -> String {
        self.chars[start..self.pos].iter().collect()
    }

    fn run(mut self) -> Result<Vec<Token>, ParseError> {
        let mut tokens = Vec::new();
        loop {
            while self.peek().is_some_and(char::is_whitespace) {
                self.pos += 1;
            }
            let start = self.pos;
            let Some(c) = self.peek() else {
                tokens.push(Token { kind: TokenKind::Eof, column: start + 1, text: String::new() });
                return Ok(tokens);
            };
            let kind = match c {
                '(' | ')' | ',' => {
                    self.pos += 1;
                    match c {
                        '(' => TokenKind::LParen,
                        ')' => TokenKind::RParen,
                        _ => TokenKind::Comma,
                    }
                }
                '"' | '\'' => TokenKind::Str(self.quoted(c)?),
                '-' if !self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) => {
                    self.pos += 1;
                    TokenKind::Minus
                }
                '-' | '0'..='9' => TokenKind::Number(self.number()?),
                '=' | '!' | '<' | '>' | '~' => TokenKind::Op(self.operator()?),
                c if is_identifier_start(c) || c == '`' => self.word()?,
                '&' | '|' => {
                    let hint = if c == '&' { "and" } else { "or" };
                    return Err(ParseError::new(format!("unexpected character \"{c}\", write \"{hint}\""), start + 1));
                }
                c => {
                    return Err(ParseError::new(format!("unexpected character {c:?}"), start + 1));
                }
            };
            tokens.push(Token { kind, column: start + 1, text: self.text(start) });
        }
    }

    /// Reads a string (or backquoted segment) starting at its opening quote.
    ///
    /// Unknown escapes such as `\d` are kept as written, so regexes read naturally.
    fn quoted(&mut self, quote: char) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                let what = if quote == '`' { "backquoted field name" } else { "string" };
                return Err(ParseError::new(format!("unclosed {what}, expected a closing {quote}"), open + 1));
            };
            self.pos += 1;
            if c == quote {
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            // At the end of input, let the loop report the missing closing quote.
            let Some(escaped) = self.peek() else { continue };
            self.pos += 1;
            match escaped {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                '0' => out.push('\0'),
                '\\' | '"' | '\'' | '`' => out.push(escaped),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Num, ParseError> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        self.digits();
        let mut is_float = false;
        let mut valid = true;
        if self.peek() == Some('.') {
            self.pos += 1;
            is_float = true;
            valid &= self.digits() > 0;
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.pos += 1;
            is_float = true;
            if matches!(self.peek(), Some('+' | '-')) {
                self.pos += 1;
            }
            valid &= self.digits() > 0;
        }
        // Swallow the rest of a word like `12abc` so the message shows all of it.
        while self.peek().is_some_and(|c| is_identifier_char(c) || c == '.') {
            self.pos += 1;
            valid = false;
        }
        let text = self.text(start);
        let invalid = || ParseError::new(format!("invalid number \"{text}\""), start + 1);
        if !valid {
            return Err(invalid());
        }
        if !is_float && let Ok(i) = text.parse::<i128>() {
            return Ok(Num::Int(i));
        }
        // Integers too large for i128 become (rounded) floats, as in JSON.
        text.parse::<f64>().map(Num::Float).map_err(|_| invalid())
    }

    fn operator(&mut self) -> Result<Op, ParseError> {
        let start = self.pos;
        while matches!(self.peek(), Some('=' | '!' | '<' | '>' | '~')) {
            self.pos += 1;
        }
        let op = match self.text(start).as_str() {
            "=" | "==" => Op::Cmp(CmpOp::Eq),
            "!=" => Op::Cmp(CmpOp::Ne),
            "<" => Op::Cmp(CmpOp::Lt),
            "<=" => Op::Cmp(CmpOp::Le),
            ">" => Op::Cmp(CmpOp::Gt),
            ">=" => Op::Cmp(CmpOp::Ge),
            "=~" => Op::Match,
            "!~" => Op::NotMatch,
            other => {
                return Err(ParseError::new(
                    format!("unknown operator \"{other}\", expected one of = == != < <= > >= =~ !~"),
                    start + 1,
                ));
            }
        };
        Ok(op)
    }

    /// A keyword or a dotted field path.
    fn word(&mut self) -> Result<TokenKind, ParseError> {
        let start = self.pos;
        let mut segments = Vec::new();
        let mut quoted_first = false;
        loop {
            if self.peek() == Some('`') {
                quoted_first |= segments.is_empty();
                segments.push(self.quoted('`')?);
            } else {
                let seg_start = self.pos;
                while self.peek().is_some_and(is_identifier_char) {
                    self.pos += 1;
                }
                if self.pos == seg_start {
                    let found = self.peek().map_or("end of input".to_owned(), |c| format!("{c:?}"));
                    return Err(ParseError::new(
                        format!("expected a field name after \".\", found {found}"),
                        self.pos + 1,
                    ));
                }
                segments.push(self.text(seg_start));
            }
            if self.peek() != Some('.') {
                break;
            }
            self.pos += 1;
        }
        if let [word] = segments.as_slice()
            && !quoted_first
            && let Some(keyword) = Keyword::from_word(word)
        {
            return Ok(TokenKind::Keyword(keyword));
        }
        match FieldPath::new(segments) {
            Some(path) => Ok(TokenKind::Path(path)),
            None => Err(ParseError::new("expected a field name", start + 1)),
        }
    }
}

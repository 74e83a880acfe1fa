//! Turns raw writes to stdout/stderr into console lines as a terminal would show them, so that
//! `\r`-driven progress bars (tqdm and friends) record their final state rather than every
//! intermediate frame.
//!
//! The model is one line of cells with a cursor: `\r` moves the cursor to column 0 and later
//! text overwrites cell by cell; `\n` completes the line. Each cell remembers the ANSI colour
//! (SGR) state it was written with, so overwriting part of a coloured line keeps the rest of
//! its colours. Other escape sequences (cursor movement, window titles, hyperlinks) are dropped:
//! a recorded line cannot be revisited. One character is one column; wide and combining
//! characters are not measured.

use std::sync::Arc;

/// The longest line kept, in bytes; the rest is cut and replaced by "…".
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Longest CSI parameter string kept; a longer sequence is dropped whole.
const MAX_CSI_PARAMS: usize = 64;
/// Longest accumulated colour state; a longer one restarts from the latest sequence.
const MAX_STYLE_BYTES: usize = 256;
const SGR_RESET: &str = "\x1b[0m";

/// Assembles the console lines of one stream (stdout or stderr).
#[derive(Debug, Default)]
pub struct ConsoleAssembler {
    cells: Vec<Cell>,
    cursor: usize,
    /// UTF-8 length of the characters in `cells`, escapes excluded.
    text_bytes: usize,
    /// Whether characters were dropped because the line reached [`MAX_LINE_BYTES`].
    truncated: bool,
    /// The SGR sequences in effect since the last reset. A terminal keeps colours across
    /// newlines, so this outlives the line.
    style: Option<Arc<str>>,
    escape: Escape,
}

#[derive(Clone, Debug)]
struct Cell {
    character: char,
    style: Option<Arc<str>>,
}

/// Where the parser stands in an escape sequence, kept across writes.
#[derive(Debug, Default)]
enum Escape {
    #[default]
    None,
    /// After ESC.
    Started,
    /// After `ESC [`: parameter and intermediate bytes so far.
    Csi { params: String, too_long: bool },
    /// Inside an OSC, DCS, SOS, PM or APC string, which ends with BEL or `ESC \`.
    String { after_escape: bool },
}

impl ConsoleAssembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed raw text as written; returns the lines completed by this write (without the '\n').
    pub fn write(&mut self, text: &str) -> Vec<String> {
        let mut lines = Vec::new();
        for character in text.chars() {
            match std::mem::take(&mut self.escape) {
                Escape::None => self.control_or_text(character, &mut lines),
                Escape::Started => match character {
                    '[' => self.escape = Escape::Csi { params: String::new(), too_long: false },
                    ']' | 'P' | 'X' | '^' | '_' => self.escape = Escape::String { after_escape: false },
                    // A control character aborts the sequence and takes effect, as in a terminal.
                    c if c.is_control() => self.control_or_text(c, &mut lines),
                    // Any other two-character sequence (save cursor, index, ...) is dropped.
                    _ => {}
                },
                Escape::Csi { mut params, too_long } => match character {
                    '\x40'..='\x7e' => {
                        if !too_long {
                            self.apply_csi(&params, character);
                        }
                    }
                    '\x20'..='\x3f' => {
                        let too_long = too_long || params.len() >= MAX_CSI_PARAMS;
                        if !too_long {
                            params.push(character);
                        }
                        self.escape = Escape::Csi { params, too_long };
                    }
                    c => self.control_or_text(c, &mut lines),
                },
                Escape::String { after_escape } => match character {
                    '\x07' => {}
                    '\\' if after_escape => {}
                    // Not a terminal's rule: an unterminated string would otherwise swallow
                    // the rest of the output.
                    '\n' => self.control_or_text('\n', &mut lines),
                    c => self.escape = Escape::String { after_escape: c == '\x1b' },
                },
            }
        }
        lines
    }

    /// The unfinished current line, if any (called at finish so nothing is lost).
    pub fn flush(&mut self) -> Option<String> {
        if self.cells.is_empty() && !self.truncated {
            return None;
        }
        Some(self.take_line())
    }

    fn control_or_text(&mut self, character: char, lines: &mut Vec<String>) {
        match character {
            '\n' => lines.push(self.take_line()),
            '\r' => self.cursor = 0,
            '\x08' => self.cursor = self.cursor.saturating_sub(1),
            '\x1b' => self.escape = Escape::Started,
            '\t' => self.put(character),
            c if c.is_control() => {}
            c => self.put(c),
        }
    }

    /// Writes one character at the cursor, overwriting what is there.
    fn put(&mut self, character: char) {
        let cell = Cell { character, style: self.style.clone() };
        if let Some(old) = self.cells.get_mut(self.cursor) {
            self.text_bytes = self.text_bytes - old.character.len_utf8() + character.len_utf8();
            *old = cell;
            self.cursor += 1;
        } else if self.text_bytes + character.len_utf8() <= MAX_LINE_BYTES {
            self.text_bytes += character.len_utf8();
            self.cells.push(cell);
            self.cursor += 1;
        } else {
            self.truncated = true;
        }
    }

    fn apply_csi(&mut self, params: &str, command: char) {
        match command {
            'm' => self.apply_sgr(params),
            'K' => self.erase_in_line(params),
            // Cursor movement and the rest cannot apply to lines already recorded.
            _ => {}
        }
    }

    fn apply_sgr(&mut self, params: &str) {
        let is_reset = |param: &str| param.bytes().all(|byte| byte == b'0');
        let sequence = format!("\x1b[{params}m");
        if params.split(';').all(is_reset) {
            self.style = None;
        } else if params.split(';').next().is_some_and(is_reset) {
            self.style = Some(sequence.into());
        } else {
            let style = match self.style.as_deref() {
                Some(style) if style.ends_with(&sequence) => return,
                Some(style) if style.len() + sequence.len() <= MAX_STYLE_BYTES => format!("{style}{sequence}"),
                _ => sequence,
            };
            self.style = Some(style.into());
        }
    }

    /// `ESC [ K` erases to the end of the line, `ESC [ 1 K` to the cursor and `ESC [ 2 K` the
    /// whole line; the cursor stays where it is.
    fn erase_in_line(&mut self, params: &str) {
        let blank = || Cell { character: ' ', style: None };
        match params {
            "" | "0" => {
                self.cells.truncate(self.cursor);
                self.truncated = false;
            }
            "1" => {
                let end = (self.cursor + 1).min(self.cells.len());
                self.cells[..end].fill_with(blank);
            }
            "2" => {
                self.cells.truncate(self.cursor);
                self.cells.fill_with(blank);
                self.truncated = false;
            }
            _ => return,
        }
        self.text_bytes = self.cells.iter().map(|cell| cell.character.len_utf8()).sum();
    }

    /// Renders the current line, colour changes included, and starts a new one.
    fn take_line(&mut self) -> String {
        let cells = std::mem::take(&mut self.cells);
        let mut cut = std::mem::take(&mut self.truncated);
        self.cursor = 0;
        self.text_bytes = 0;

        let mut line = String::with_capacity(cells.len() + 16);
        let mut current_style: Option<&str> = None;
        for cell in &cells {
            if line.len() + cell.character.len_utf8() > MAX_LINE_BYTES {
                cut = true;
                break;
            }
            let style = cell.style.as_deref();
            if style != current_style {
                match (current_style, style) {
                    // Only attributes were added: the difference is enough.
                    (Some(current), Some(new)) if new.starts_with(current) => line.push_str(&new[current.len()..]),
                    (Some(_), new) => {
                        line.push_str(SGR_RESET);
                        line.push_str(new.unwrap_or_default());
                    }
                    (None, new) => line.push_str(new.unwrap_or_default()),
                }
                current_style = style;
            }
            line.push(cell.character);
        }
        if current_style.is_some() {
            line.push_str(SGR_RESET);
        }
        if cut {
            line.push('…');
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds each write in turn and returns every completed line, then the flushed remainder.
    fn assemble(writes: &[&str]) -> (Vec<String>, Option<String>) {
        let mut console = ConsoleAssembler::new();
        let lines = writes.iter().flat_map(|write| console.write(write)).collect();
        (lines, console.flush())
    }

    fn lines(writes: &[&str]) -> Vec<String> {
        let (mut lines, rest) = assemble(writes);
        lines.extend(rest);
        lines
    }

    #[test]
    fn newline_completes_lines_and_flush_returns_the_rest() {
        assert_eq!(assemble(&["a\nb\n\nc"]), (vec!["a".into(), "b".into(), "".into()], Some("c".into())));
        assert_eq!(assemble(&["done\n"]), (vec!["done".into()], None));
        assert_eq!(assemble(&[]), (vec![], None));
    }

    #[test]
    fn carriage_return_newline_is_a_plain_newline() {
        assert_eq!(lines(&["a\r\nb\r\n"]), ["a", "b"]);
        assert_eq!(lines(&["a\r", "\n"]), ["a"]);
        assert_eq!(assemble(&["trailing\r"]), (vec![], Some("trailing".into())));
    }

    #[test]
    fn carriage_return_overwrites_character_by_character() {
        assert_eq!(lines(&["abc\rX\n"]), ["Xbc"]);
        assert_eq!(lines(&["50%\r100%\n"]), ["100%"]);
        assert_eq!(lines(&["0%\r50%\r100%\rdone\n"]), ["done"]);
    }

    #[test]
    fn a_progress_bar_yields_only_its_final_state() {
        let frames = [
            "\r  0%|          | 0/3 [00:00<?, ?it/s]",
            "\r 33%|███▎      | 1/3 [00:01<00:02,  1.00it/s]",
            "\r100%|██████████| 3/3 [00:03<00:00,  1.00it/s]",
            "\n",
            "after\n",
        ];
        assert_eq!(lines(&frames), ["100%|██████████| 3/3 [00:03<00:00,  1.00it/s]", "after"]);
    }

    #[test]
    fn writes_split_anywhere_give_the_same_lines() {
        assert_eq!(lines(&["hel", "lo ", "world\n"]), ["hello world"]);
        assert_eq!(lines(&["abc", "\r", "X", "\n"]), ["Xbc"]);
        assert_eq!(lines(&["\x1b", "[3", "1mred", "\x1b[0", "m\n"]), ["\x1b[31mred\x1b[0m"]);
    }

    #[test]
    fn unicode_is_overwritten_per_character() {
        assert_eq!(lines(&["héllo wörld ✓ 日本語 🚀\n"]), ["héllo wörld ✓ 日本語 🚀"]);
        assert_eq!(lines(&["αβγ\r🚀\n"]), ["🚀βγ"]);
        assert_eq!(lines(&["ab", "\rä", "\n"]), ["äb"]);
    }

    #[test]
    fn backspace_moves_the_cursor_left() {
        assert_eq!(lines(&["ab\x08c\n"]), ["ac"]);
        assert_eq!(lines(&["\x08\x08a\n"]), ["a"]);
    }

    #[test]
    fn colour_sequences_are_kept() {
        assert_eq!(lines(&["\x1b[31mred\x1b[0m plain\n"]), ["\x1b[31mred\x1b[0m plain"]);
        assert_eq!(lines(&["ok \x1b[1;32mpass\x1b[0m\n"]), ["ok \x1b[1;32mpass\x1b[0m"]);
        assert_eq!(lines(&["\x1b[31mre\x1b[1md\x1b[0m\n"]), ["\x1b[31mre\x1b[1md\x1b[0m"]);
        // A reset that changes nothing renders as nothing.
        assert_eq!(lines(&["plain\x1b[0m\n"]), ["plain"]);
    }

    #[test]
    fn colour_carries_over_lines_and_overwrites() {
        // Each line renders on its own, so an unclosed colour is closed and reopened.
        assert_eq!(lines(&["\x1b[31mred\nstill\x1b[m\n"]), ["\x1b[31mred\x1b[0m", "\x1b[31mstill\x1b[0m"]);
        // Overwriting the start keeps the colour of the cells left alone.
        assert_eq!(lines(&["\x1b[32m50%\x1b[0m\r\x1b[32m100%\x1b[0m\n"]), ["\x1b[32m100%\x1b[0m"]);
        assert_eq!(lines(&["\x1b[31mabc\x1b[0m\rX\n"]), ["X\x1b[31mbc\x1b[0m"]);
    }

    #[test]
    fn erase_and_cursor_movement_sequences_are_dropped() {
        assert_eq!(lines(&["a long old line\r\x1b[Knew\n"]), ["new"]);
        assert_eq!(lines(&["a long old line\r\x1b[2Knew\n"]), ["new"]);
        assert_eq!(lines(&["abcdef\r\x1b[2Cx\x1b[0K\n"]), ["x"]);
        assert_eq!(lines(&["one\x1b[A\x1b[?25l two\x1b[?25h\n"]), ["one two"]);
        assert_eq!(lines(&["\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x07 \x1b]0;title\x07end\n"]), ["link end"]);
    }

    #[test]
    fn other_control_characters_are_dropped_and_tabs_kept() {
        assert_eq!(lines(&["a\x07b\x00c\td\n"]), ["abc\td"]);
    }

    #[test]
    fn an_unterminated_escape_string_ends_at_the_newline() {
        assert_eq!(lines(&["\x1b]0;never ended\nvisible\n"]), ["", "visible"]);
    }

    #[test]
    fn long_lines_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_LINE_BYTES);
        let (completed, rest) = assemble(&[&long, &long, "\n"]);
        assert_eq!(rest, None);
        let line = &completed[0];
        assert!(line.ends_with('…'));
        let kept = line.trim_end_matches('…');
        assert!(kept.len() <= MAX_LINE_BYTES && kept.len() > MAX_LINE_BYTES - 4, "{}", kept.len());
        assert!(kept.chars().all(|c| c == 'é'));

        // A line at the limit, overwritten after `\r`, is not cut.
        let exact = "a".repeat(MAX_LINE_BYTES);
        let overwritten = lines(&[&exact, "\rb\n"]);
        assert_eq!(overwritten[0].len(), MAX_LINE_BYTES);
        assert!(overwritten[0].starts_with("ba"));

        // The flushed remainder is cut the same way.
        let (_, rest) = assemble(&[&long]);
        assert!(rest.is_some_and(|rest| rest.ends_with('…') && rest.len() <= MAX_LINE_BYTES + '…'.len_utf8()));
    }
}

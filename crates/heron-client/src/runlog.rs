//! The local run log: an append-only file of checksummed records that every run writes before
//! anything goes to the network. The uploader and `heron sync` read it back.
//!
//! Layout: the 8-byte magic `HERONLG1`, then frames `[len: u32 LE][crc32: u32 LE][payload]`.
//! A payload starts with a kind byte. History rows (the hot path) are binary; everything else is
//! JSON. A torn or corrupt tail — a process killed in the middle of a write — ends the readable
//! log: everything before it is intact, and a writer reopening the file truncates the tail.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const MAGIC: &[u8; 8] = b"HERONLG1";
/// Frames above this size are treated as corruption (a history row is bounded far below it).
pub const MAX_FRAME: usize = 64 * 1024 * 1024;

const KIND_ROW: u8 = b'H';
const KIND_JSON: u8 = b'J';

/// One value of a history or system row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Scalar(f64),
    Object(Value),
}

/// A committed history row, or a system-metric sample (`system` true, `step` unused).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub system: bool,
    pub step: i64,
    pub time: f64,
    pub values: Vec<(String, Cell)>,
}

/// The run as the SDK started it: what the uploader sends as the run upsert.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InitRecord {
    /// None when the SDK started offline without HERON_ENTITY: the uploader asks the server.
    pub entity: Option<String>,
    pub project: String,
    pub id: String,
    /// The `RunUpsert` body (name, config, tags, notes, group, job_type, host, metadata, resume).
    pub upsert: Value,
    /// Distinguishes this log's batch numbers from other logs of the same run (see uploader).
    pub epoch: u64,
    /// Console lines already stored for this run when it started (resumed runs), when known.
    pub console_base: Option<u64>,
}

/// Everything except rows. Serialized as JSON with a `t` tag.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Event {
    Init(InitRecord),
    /// RFC 7386 merge patches.
    Config {
        patch: Value,
    },
    Summary {
        patch: Value,
    },
    Metadata {
        patch: Value,
    },
    /// A `RunPatch` body: name, tags, notes, group, job_type.
    Patch {
        patch: Value,
    },
    Console {
        stream: String,
        lines: Vec<String>,
    },
    /// A file copied into the run folder's `files/`, to be uploaded as `name`.
    File {
        name: String,
    },
    Finish {
        exit_code: i32,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Row(Row),
    Event(Event),
}

/// Appends frames; buffered, so call `flush` to hand them to the OS (which is what survives
/// `kill -9`) and `sync` to put them on the disk.
pub struct LogWriter {
    file: BufWriter<File>,
    scratch: Vec<u8>,
    pub bytes: u64,
}

impl LogWriter {
    /// Creates the log, or reopens an existing one after its last whole frame.
    pub fn open(path: &Path) -> io::Result<LogWriter> {
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        let len = file.metadata()?.len();
        let end = if len == 0 {
            file.write_all(MAGIC)?;
            MAGIC.len() as u64
        } else {
            let mut reader = LogReader::open(path)?;
            while reader.next_record()?.is_some() {}
            let end = reader.offset();
            file.set_len(end)?;
            end
        };
        file.seek(SeekFrom::Start(end))?;
        Ok(LogWriter { file: BufWriter::with_capacity(1 << 20, file), scratch: Vec::new(), bytes: end })
    }

    pub fn append(&mut self, record: &Record) -> io::Result<()> {
        self.scratch.clear();
        encode(record, &mut self.scratch);
        self.append_payload()
    }

    /// Appends a row given as borrowed parts (the run's hot path: no owned `Row` is built).
    pub fn append_row<'a>(
        &mut self,
        system: bool,
        step: i64,
        time: f64,
        values: impl ExactSizeIterator<Item = (&'a str, RowValue<'a>)>,
    ) -> io::Result<()> {
        self.scratch.clear();
        encode_row(&mut self.scratch, system, step, time, values);
        self.append_payload()
    }

    fn append_payload(&mut self) -> io::Result<()> {
        let len = u32::try_from(self.scratch.len()).map_err(|_| io::Error::other("record too large"))?;
        let crc = crc32fast::hash(&self.scratch);
        self.file.write_all(&len.to_le_bytes())?;
        self.file.write_all(&crc.to_le_bytes())?;
        self.file.write_all(&self.scratch)?;
        self.bytes += 8 + self.scratch.len() as u64;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    pub fn sync(&mut self) -> io::Result<()> {
        self.file.flush()?;
        self.file.get_ref().sync_data()
    }
}

/// A borrowed row value for `append_row`.
#[derive(Clone, Copy)]
pub enum RowValue<'a> {
    Scalar(f64),
    Object(&'a Value),
}

fn encode(record: &Record, out: &mut Vec<u8>) {
    match record {
        Record::Row(row) => encode_row(
            out,
            row.system,
            row.step,
            row.time,
            row.values.iter().map(|(k, v)| {
                (
                    k.as_str(),
                    match v {
                        Cell::Scalar(x) => RowValue::Scalar(*x),
                        Cell::Object(o) => RowValue::Object(o),
                    },
                )
            }),
        ),
        Record::Event(event) => {
            out.push(KIND_JSON);
            serde_json::to_writer(&mut *out, event).expect("events serialize");
        }
    }
}

/// Row payload: kind, flags (1 = system), step i64, time f64, count u32, then per value:
/// key length u16, key bytes, tag (0 = f64 follows, 1 = JSON length u32 + JSON follows).
fn encode_row<'a>(
    out: &mut Vec<u8>,
    system: bool,
    step: i64,
    time: f64,
    values: impl ExactSizeIterator<Item = (&'a str, RowValue<'a>)>,
) {
    out.push(KIND_ROW);
    out.push(u8::from(system));
    out.extend_from_slice(&step.to_le_bytes());
    out.extend_from_slice(&time.to_le_bytes());
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for (key, value) in values {
        let key = &key.as_bytes()[..key.len().min(u16::MAX as usize)];
        out.extend_from_slice(&(key.len() as u16).to_le_bytes());
        out.extend_from_slice(key);
        match value {
            RowValue::Scalar(x) => {
                out.push(0);
                out.extend_from_slice(&x.to_le_bytes());
            }
            RowValue::Object(v) => {
                out.push(1);
                let at = out.len();
                out.extend_from_slice(&[0; 4]);
                serde_json::to_writer(&mut *out, v).expect("values serialize");
                let len = (out.len() - at - 4) as u32;
                out[at..at + 4].copy_from_slice(&len.to_le_bytes());
            }
        }
    }
}

fn decode(payload: &[u8]) -> Option<Record> {
    let (&kind, rest) = payload.split_first()?;
    match kind {
        KIND_JSON => serde_json::from_slice(rest).ok().map(Record::Event),
        KIND_ROW => decode_row(rest).map(Record::Row),
        _ => None,
    }
}

fn decode_row(mut b: &[u8]) -> Option<Row> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if b.len() < n {
            return None;
        }
        let (head, tail) = b.split_at(n);
        *b = tail;
        Some(head)
    }
    let system = take(&mut b, 1)?[0] == 1;
    let step = i64::from_le_bytes(take(&mut b, 8)?.try_into().ok()?);
    let time = f64::from_le_bytes(take(&mut b, 8)?.try_into().ok()?);
    let count = u32::from_le_bytes(take(&mut b, 4)?.try_into().ok()?) as usize;
    let mut values = Vec::with_capacity(count.min(b.len() / 11 + 1));
    for _ in 0..count {
        let len = u16::from_le_bytes(take(&mut b, 2)?.try_into().ok()?) as usize;
        let key = std::str::from_utf8(take(&mut b, len)?).ok()?.to_string();
        let value = match take(&mut b, 1)?[0] {
            0 => Cell::Scalar(f64::from_le_bytes(take(&mut b, 8)?.try_into().ok()?)),
            1 => {
                let len = u32::from_le_bytes(take(&mut b, 4)?.try_into().ok()?) as usize;
                Cell::Object(serde_json::from_slice(take(&mut b, len)?).ok()?)
            }
            _ => return None,
        };
        values.push((key, value));
    }
    Some(Row { system, step, time, values })
}

/// Reads whole frames from an offset; stops (returning None) at the end or at the first torn or
/// corrupt frame, so a log still being written is read up to its last complete record.
pub struct LogReader {
    file: io::BufReader<File>,
    offset: u64,
    frame: Vec<u8>,
}

impl LogReader {
    pub fn open(path: &Path) -> io::Result<LogReader> {
        let mut file = File::open(path)?;
        let mut magic = [0u8; 8];
        file.read_exact(&mut magic).map_err(|_| invalid(path, "too short to be a run log"))?;
        if &magic != MAGIC {
            return Err(invalid(path, "not a Heron run log"));
        }
        Ok(LogReader {
            file: io::BufReader::with_capacity(1 << 20, file),
            offset: MAGIC.len() as u64,
            frame: Vec::new(),
        })
    }

    /// Opens and positions at `offset` (a value previously returned by `offset()`).
    pub fn open_at(path: &Path, offset: u64) -> io::Result<LogReader> {
        let mut reader = LogReader::open(path)?;
        if offset > reader.offset {
            reader.file.seek(SeekFrom::Start(offset))?;
            reader.offset = offset;
        }
        Ok(reader)
    }

    /// The offset just past the last record returned.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next whole record; None at the end of what is complete on disk.
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        let start = self.offset;
        let mut head = [0u8; 8];
        if !read_full(&mut self.file, &mut head)? {
            self.rewind(start)?;
            return Ok(None);
        }
        let len = u32::from_le_bytes(head[0..4].try_into().unwrap()) as usize;
        let crc = u32::from_le_bytes(head[4..8].try_into().unwrap());
        if len == 0 || len > MAX_FRAME {
            self.rewind(start)?;
            return Ok(None);
        }
        self.frame.resize(len, 0);
        if !read_full(&mut self.file, &mut self.frame)? || crc32fast::hash(&self.frame) != crc {
            self.rewind(start)?;
            return Ok(None);
        }
        match decode(&self.frame) {
            Some(record) => {
                self.offset = start + 8 + len as u64;
                Ok(Some(record))
            }
            None => {
                self.rewind(start)?;
                Ok(None)
            }
        }
    }

    /// Leaves the reader at `offset` so a later `next` retries there (the writer may finish it).
    fn rewind(&mut self, offset: u64) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(offset))?;
        self.offset = offset;
        Ok(())
    }
}

/// Fills `buf` completely; false when the file ends first.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => return Ok(false),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

fn invalid(path: &Path, why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{}: {why}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(step: i64) -> Record {
        Record::Row(Row {
            system: false,
            step,
            time: 1.5 + step as f64,
            values: vec![
                ("loss".into(), Cell::Scalar(0.25)),
                ("nan".into(), Cell::Scalar(f64::NAN)),
                ("ünï/κey".into(), Cell::Object(json!({"a": [1, "x"]}))),
            ],
        })
    }

    fn read_all(path: &Path) -> Vec<Record> {
        let mut reader = LogReader::open(path).unwrap();
        let mut out = Vec::new();
        while let Some(r) = reader.next_record().unwrap() {
            out.push(r);
        }
        out
    }

    fn same(a: &Record, b: &Record) -> bool {
        // NaN != NaN, so compare the encoded bytes.
        let (mut x, mut y) = (Vec::new(), Vec::new());
        encode(a, &mut x);
        encode(b, &mut y);
        x == y
    }

    #[test]
    fn records_round_trip_and_reopen_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.log");
        let init = Record::Event(Event::Init(InitRecord {
            entity: None,
            project: "p".into(),
            id: "r1".into(),
            upsert: json!({"name": "n"}),
            epoch: 7,
            console_base: Some(0),
        }));
        let mut w = LogWriter::open(&path).unwrap();
        w.append(&init).unwrap();
        w.append(&row(0)).unwrap();
        w.flush().unwrap();
        drop(w);
        let mut w = LogWriter::open(&path).unwrap();
        w.append(&row(1)).unwrap();
        w.append(&Record::Event(Event::Finish { exit_code: 3 })).unwrap();
        w.flush().unwrap();
        let got = read_all(&path);
        let want = [init, row(0), row(1), Record::Event(Event::Finish { exit_code: 3 })];
        assert_eq!(got.len(), want.len());
        assert!(got.iter().zip(&want).all(|(a, b)| same(a, b)));
    }

    #[test]
    fn a_torn_tail_is_ignored_then_truncated_by_the_next_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.log");
        let mut w = LogWriter::open(&path).unwrap();
        for step in 0..10 {
            w.append(&row(step)).unwrap();
        }
        w.flush().unwrap();
        drop(w);
        let full = std::fs::read(&path).unwrap();
        // Cut the file at every byte of the last frame: the first nine rows always survive.
        let last_start = {
            let mut r = LogReader::open(&path).unwrap();
            for _ in 0..9 {
                r.next_record().unwrap().unwrap();
            }
            r.offset() as usize
        };
        for cut in last_start..full.len() {
            std::fs::write(&path, &full[..cut]).unwrap();
            assert_eq!(read_all(&path).len(), 9, "cut at {cut}");
        }
        // A flipped bit in the last frame is caught by the checksum.
        let mut bad = full.clone();
        *bad.last_mut().unwrap() ^= 1;
        std::fs::write(&path, &bad).unwrap();
        assert_eq!(read_all(&path).len(), 9);
        let mut w = LogWriter::open(&path).unwrap();
        w.append(&row(10)).unwrap();
        w.flush().unwrap();
        let got = read_all(&path);
        assert_eq!(got.len(), 10);
        assert!(same(&got[9], &row(10)));
    }

    #[test]
    fn a_reader_sees_frames_as_the_writer_completes_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.log");
        let mut w = LogWriter::open(&path).unwrap();
        w.flush().unwrap();
        let mut r = LogReader::open(&path).unwrap();
        assert!(r.next_record().unwrap().is_none());
        w.append(&row(0)).unwrap();
        w.flush().unwrap();
        assert!(r.next_record().unwrap().is_some());
        assert!(r.next_record().unwrap().is_none());
        let at = r.offset();
        w.append(&row(1)).unwrap();
        w.flush().unwrap();
        let mut again = LogReader::open_at(&path, at).unwrap();
        assert!(same(&again.next_record().unwrap().unwrap(), &row(1)));
    }

    #[test]
    fn other_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        std::fs::write(&path, b"hello world").unwrap();
        assert!(LogReader::open(&path).is_err());
    }
}

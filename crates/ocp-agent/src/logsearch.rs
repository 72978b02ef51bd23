//! Log search on this host: a managed server's `log/seekdb.log` and its rotated files
//! (`seekdb.log.YYYYMMDDHHMMSSmmm`), or one of the agent's own logs, read backwards from the
//! end in chunks so the newest lines come first, and only as far back as the range's start.
//!
//! Only those files are read: a request names a process or one of the agent's log names,
//! never a path. A search stops at its byte or time bound and says so, with a cursor (the
//! file's inode and an offset) to go on from; a rotation renames a file but keeps its inode,
//! so a cursor outlives it.
//!
//! A line that does not start with a time continues the line before it.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ocp_api::log::{
    normal_level, AgentLogLine, AgentLogResult, AgentLogSearch, STOPPED_BYTES, STOPPED_TIME,
};

/// Bytes read from a file at a time.
const CHUNK: u64 = 256 * 1024;
/// The most bytes of lines one answer holds: it stops there, with a cursor.
const MAX_ANSWER: usize = 8 << 20;
/// The longest line answered; longer ones are cut.
const MAX_LINE: usize = 16 * 1024;
/// Lines may be written slightly out of order by different threads: a line this much older
/// than the range's start does not end the search yet.
const SKEW_MS: i64 = 2_000;

/// One file to search, newest first.
#[derive(Debug, Clone)]
pub struct LogFile {
    pub path: PathBuf,
    pub name: String,
    pub inode: u64,
    pub len: u64,
}

/// `seekdb.log` then its rotated files, newest first, in a server's directory.
pub fn server_files(home: &Path) -> Vec<LogFile> {
    let dir = home.join("log");
    let mut rotated: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| {
            n.strip_prefix("seekdb.log.")
                .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    rotated.sort_by(|a, b| b.cmp(a));
    std::iter::once("seekdb.log".to_string())
        .chain(rotated)
        .filter_map(|name| file(&dir, &name))
        .collect()
}

/// The agent's own log named `name` (one of `names`).
pub fn agent_file(log_dir: &Path, name: &str) -> Option<LogFile> {
    file(log_dir, name)
}

fn file(dir: &Path, name: &str) -> Option<LogFile> {
    let path = dir.join(name);
    let meta = std::fs::metadata(&path).ok()?;
    meta.is_file().then(|| LogFile {
        path,
        name: name.to_string(),
        inode: meta.ino(),
        len: meta.len(),
    })
}

/// The time (ms) and level of a line that starts an entry: seekdb's
/// `[2026-12-03 08:05:53.570934] INFO  [...]`, or the agent's
/// `2026-12-03T08:04:35.123456Z  INFO target: ...`.
fn head(line: &str) -> Option<(i64, &'static str)> {
    use chrono::TimeZone as _;
    if let Some(rest) = line.strip_prefix('[') {
        let (stamp, rest) = rest.split_once("] ")?;
        let naive = chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S%.f").ok()?;
        let local = chrono::Local.from_local_datetime(&naive).earliest()?;
        let level = rest.split_whitespace().next()?;
        return Some((local.timestamp_millis(), normal_level(level)));
    }
    let mut words = line.split_whitespace();
    let stamp = chrono::DateTime::parse_from_rfc3339(words.next()?).ok()?;
    let level = words.next()?;
    Some((stamp.timestamp_millis(), normal_level(level)))
}

struct Matcher<'a> {
    q: &'a AgentLogSearch,
    regex: Option<regex::Regex>,
    trace: Option<String>,
}

impl Matcher<'_> {
    fn matches(&self, level: &str, text: &str) -> bool {
        (self.q.levels.is_empty() || self.q.levels.iter().any(|l| l == level))
            && self
                .trace
                .as_ref()
                .is_none_or(|t| text.contains(t.as_str()))
            && self
                .q
                .keyword
                .as_ref()
                .is_none_or(|k| text.contains(k.as_str()))
            && self.regex.as_ref().is_none_or(|r| r.is_match(text))
            && !self.q.exclude.iter().any(|x| text.contains(x.as_str()))
    }
}

fn cursor_of(inode: u64, offset: u64) -> String {
    format!("{inode}:{offset}")
}

fn parse_cursor(text: &str) -> Option<(u64, u64)> {
    let (inode, offset) = text.split_once(':')?;
    Some((inode.parse().ok()?, offset.parse().ok()?))
}

fn cut(text: &str) -> String {
    if text.len() <= MAX_LINE {
        return text.to_string();
    }
    let mut end = MAX_LINE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// Searches `files` (newest first). Errors are a bad regular expression or cursor.
pub fn search(files: &[LogFile], q: &AgentLogSearch) -> Result<AgentLogResult, String> {
    let regex = match &q.regex {
        Some(r) => Some(
            regex::RegexBuilder::new(r)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| format!("regex: {e}"))?,
        ),
        None => None,
    };
    let matcher = Matcher {
        q,
        regex,
        // seekdb writes a trace id in brackets; an agent's log as a field.
        trace: q.trace_id.clone(),
    };
    let (mut index, mut end) = match &q.cursor {
        None => (0, None),
        Some(c) => {
            let (inode, offset) = parse_cursor(c).ok_or("cursor: not one this search gave")?;
            match files.iter().position(|f| f.inode == inode) {
                Some(i) => (i, Some(offset)),
                // The file is gone (rotated out): nothing older is left to read.
                None => return Ok(AgentLogResult::default()),
            }
        }
    };
    let deadline = Instant::now() + Duration::from_millis(q.max_millis);
    let mut out = AgentLogResult::default();
    let mut answered = 0;
    while index < files.len() {
        let f = &files[index];
        let from = end.take().unwrap_or(f.len).min(f.len);
        match scan_file(f, from, q, &matcher, deadline, &mut out, &mut answered) {
            Scan::Done => return Ok(out),
            Scan::Stopped(why, offset) => {
                out.stopped_early = why.map(str::to_string);
                out.next = Some(cursor_of(f.inode, offset));
                return Ok(out);
            }
            Scan::Exhausted => index += 1,
        }
    }
    Ok(out)
}

enum Scan {
    /// The range's start was reached.
    Done,
    /// Stopped at a bound (or at `limit` lines, with no reason), to go on before `offset`.
    Stopped(Option<&'static str>, u64),
    /// The file's start was reached; older files follow.
    Exhausted,
}

fn scan_file(
    f: &LogFile,
    from: u64,
    q: &AgentLogSearch,
    m: &Matcher,
    deadline: Instant,
    out: &mut AgentLogResult,
    answered: &mut usize,
) -> Scan {
    let Ok(mut file) = std::fs::File::open(&f.path) else {
        return Scan::Exhausted;
    };
    let mut end = from;
    // Bytes before `end` not yet split into lines: the start of a line.
    let mut carry: Vec<u8> = Vec::new();
    // Lines that continue the entry above them, newest first.
    let mut pending: Vec<String> = Vec::new();
    loop {
        if out.scanned_bytes >= q.max_bytes {
            return Scan::Stopped(Some(STOPPED_BYTES), end + carry.len() as u64);
        }
        if Instant::now() >= deadline {
            return Scan::Stopped(Some(STOPPED_TIME), end + carry.len() as u64);
        }
        let start = end.saturating_sub(CHUNK);
        let mut buf = vec![0u8; (end - start) as usize];
        if file.seek(SeekFrom::Start(start)).is_err() || file.read_exact(&mut buf).is_err() {
            return Scan::Exhausted;
        }
        out.scanned_bytes += end - start;
        buf.extend_from_slice(&carry);
        // Whole lines are those after the first newline, unless this is the file's start.
        let split = if start == 0 {
            0
        } else {
            buf.iter()
                .position(|b| *b == b'\n')
                .map_or(buf.len(), |p| p + 1)
        };
        let lines = &buf[split..];
        let mut ranges = Vec::new();
        let mut from = 0;
        for (i, b) in lines.iter().enumerate() {
            if *b == b'\n' {
                ranges.push((from, i));
                from = i + 1;
            }
        }
        if from < lines.len() {
            ranges.push((from, lines.len()));
        }
        for (a, b) in ranges.into_iter().rev() {
            let offset = start + (split + a) as u64;
            let text = String::from_utf8_lossy(&lines[a..b]);
            let text = text.trim_end_matches('\r');
            if text.is_empty() {
                continue;
            }
            let Some((time, level)) = head(text) else {
                pending.push(cut(text));
                continue;
            };
            let mut entry = cut(text);
            for more in pending.drain(..).rev() {
                entry.push('\n');
                entry.push_str(&more);
            }
            if time < q.start_ms - SKEW_MS {
                return Scan::Done;
            }
            if time < q.start_ms || time > q.end_ms || !m.matches(level, &entry) {
                continue;
            }
            let entry_len = entry.len();
            out.lines.push(AgentLogLine {
                time_ms: Some(time),
                level: level.to_string(),
                file: f.name.clone(),
                text: entry,
            });
            *answered += entry_len;
            if out.lines.len() >= q.limit || *answered >= MAX_ANSWER {
                return Scan::Stopped(None, offset);
            }
        }
        carry = buf[..split].to_vec();
        if start == 0 {
            return Scan::Exhausted;
        }
        end = start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(start_ms: i64, end_ms: i64) -> AgentLogSearch {
        AgentLogSearch {
            source: ocp_api::log::LogSource::Agent { file: "x".into() },
            start_ms,
            end_ms,
            levels: Vec::new(),
            keyword: None,
            regex: None,
            exclude: Vec::new(),
            trace_id: None,
            limit: 100,
            cursor: None,
            max_bytes: 1 << 30,
            max_millis: 10_000,
        }
    }

    fn line(second: u32, level: &str, text: &str) -> String {
        let naive = chrono::NaiveDate::from_ymd_opt(2026, 12, 3)
            .unwrap()
            .and_hms_micro_opt(8, 0, second, 1234)
            .unwrap();
        format!(
            "[{}] {level} [SQL] f (x.cpp:1) [1][T1][YB42-{second}-0-0] [lt=1] {text}\n",
            naive.format("%Y-%m-%d %H:%M:%S%.6f")
        )
    }

    fn ms(second: u32) -> i64 {
        use chrono::TimeZone as _;
        let naive = chrono::NaiveDate::from_ymd_opt(2026, 12, 3)
            .unwrap()
            .and_hms_micro_opt(8, 0, second, 1234)
            .unwrap();
        chrono::Local
            .from_local_datetime(&naive)
            .earliest()
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn newest_first_within_the_range_across_rotated_files_and_pages() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        std::fs::create_dir(&log).unwrap();
        let mut old = String::new();
        for s in 0..20 {
            old.push_str(&line(s, "INFO", &format!("old {s}")));
        }
        std::fs::write(log.join("seekdb.log.20261203080020000"), old).unwrap();
        let mut new = String::new();
        for s in 20..40 {
            let level = if s % 10 == 0 { "ERROR" } else { "INFO" };
            new.push_str(&line(s, level, &format!("new {s}")));
            if s == 30 {
                new.push_str("  a continuation line\n");
            }
        }
        // A line being written, without its newline yet.
        new.push_str(line(40, "WARN", "partial").trim_end());
        std::fs::write(log.join("seekdb.log"), new).unwrap();
        let files = server_files(dir.path());
        assert_eq!(files.len(), 2);

        let all = search(&files, &query(ms(10), ms(45))).unwrap();
        let texts: Vec<&str> = all
            .lines
            .iter()
            .map(|l| l.text.rsplit("] ").next().unwrap())
            .collect();
        assert_eq!(texts.first(), Some(&"partial"));
        assert!(
            texts.contains(&"old 10") && !texts.contains(&"old 9"),
            "{texts:?}"
        );
        assert_eq!(all.lines.len(), 31);
        assert!(all.next.is_none() && all.stopped_early.is_none());
        let errors = search(
            &files,
            &AgentLogSearch {
                levels: vec!["ERROR".into()],
                ..query(0, ms(45))
            },
        )
        .unwrap();
        assert_eq!(errors.lines.len(), 2);
        assert!(
            errors.lines[0]
                .text
                .ends_with("new 30\n  a continuation line"),
            "{:?}",
            errors.lines[0]
        );
        let traced = search(
            &files,
            &AgentLogSearch {
                trace_id: Some("[YB42-5-0-0]".into()),
                ..query(0, ms(45))
            },
        )
        .unwrap();
        assert_eq!(traced.lines.len(), 1);
        assert_eq!(traced.lines[0].file, "seekdb.log.20261203080020000");

        // Pages of 7 go on where the last stopped, across the rotation.
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = search(
                &files,
                &AgentLogSearch {
                    limit: 7,
                    cursor: cursor.clone(),
                    ..query(ms(10), ms(45))
                },
            )
            .unwrap();
            seen.extend(page.lines.iter().map(|l| l.text.clone()));
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen.len(), 31, "{seen:?}");
        // A bound of one byte stops at once and says so.
        let bounded = search(
            &files,
            &AgentLogSearch {
                max_bytes: 1,
                ..query(0, ms(45))
            },
        )
        .unwrap();
        assert_eq!(bounded.stopped_early.as_deref(), Some(STOPPED_BYTES));
        assert!(search(
            &files,
            &AgentLogSearch {
                regex: Some("(".into()),
                ..query(0, 1)
            }
        )
        .is_err());
    }
}

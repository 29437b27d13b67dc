//! Job-log indexing: one pass over the raw trace bytes records line byte ranges and GitLab
//! sections; the text of a line (plain or styled) is rendered on demand.
//!
//! Logs are untrusted: only SGR styling survives rendering. Every other escape (OSC titles and
//! hyperlinks, cursor moves, DCS, ...) is dropped, `\r` and `\e[K` are emulated like a terminal
//! would, and invalid UTF-8 becomes U+FFFD.

use std::borrow::Cow;
use std::sync::Arc;

use memchr::memmem;
use vte::{Params, Parser, Perform};

/// Lines longer than this are rendered up to this many bytes, then a truncation note. A hostile
/// multi-megabyte line must not blow up memory (rendering costs ~4 bytes per char per cell).
const MAX_RENDER_BYTES: usize = 1 << 20;

/// Length of a runner timestamp prefix: `2024-01-01T00:00:00.000000Z 00O ` (FF_TIMESTAMPS).
const TS_PREFIX_LEN: usize = 32;

/// A parsed job log: the raw bytes, where each logical line lies in them, and the sections.
///
/// Offsets are stored as `u32`: only the first 4 GiB of a trace are indexed (GitLab's own trace
/// limit is far below that).
#[derive(Clone)]
pub struct LogIndex {
    bytes: Arc<Vec<u8>>,
    lines: Vec<LineRec>,
    /// Continuation segments (runner timestamp lines flagged `+`), sorted by line.
    extra: Vec<ExtraSeg>,
    sections: Vec<Section>,
    /// The section state after every logical line but the last: where an append-parse of a
    /// grown log resumes ([`extended`](Self::extended)).
    committed: SectionBuilder,
}

#[derive(Clone, Copy, Debug)]
struct LineRec {
    /// Start of the physical line (timestamp prefix and BOM included).
    raw_start: u32,
    /// Content of the first physical line: after BOM and timestamp prefix, before `\n`.
    start: u32,
    end: u32,
    /// End of the last physical line of this logical line (before its `\n`).
    raw_end: u32,
}

#[derive(Clone, Copy, Debug)]
struct ExtraSeg {
    line: u32,
    start: u32,
    end: u32,
}

/// A run of text sharing one SGR style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StyledRun {
    pub text: String,
    pub style: AnsiStyle,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AnsiStyle {
    pub fg: Option<AnsiColor>,
    pub bg: Option<AnsiColor>,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
    pub reverse: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnsiColor {
    /// 0-7 normal, 8-15 bright, 16-255 the xterm 256-colour cube and greys.
    Indexed(u8),
    Rgb(u8, u8, u8),
}

/// A GitLab collapsible section (`section_start:<ts>:<name>[opts]` ... `section_end:<ts>:<name>`).
/// Line numbers are 0-based indexes into the `LogIndex`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    /// Text printed on the marker line (or, for runners that put a newline after the marker,
    /// the next line); may be empty.
    pub header: String,
    pub start_line: usize,
    /// `None` while the section is still open (running job or truncated trace).
    pub end_line: Option<usize>,
    /// Unix seconds from the markers.
    pub start_ts: Option<u64>,
    pub end_ts: Option<u64>,
    /// 0 for top-level sections.
    pub depth: usize,
    pub collapsed: bool,
    pub hide_duration: bool,
}

impl Section {
    /// Seconds between the start and end markers.
    pub fn duration_secs(&self) -> Option<u64> {
        Some(self.end_ts?.saturating_sub(self.start_ts?))
    }
}

impl std::fmt::Debug for LogIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogIndex")
            .field("bytes", &self.bytes.len())
            .field("lines", &self.lines.len())
            .field("sections", &self.sections.len())
            .finish()
    }
}

impl LogIndex {
    /// Indexes a trace in one pass. No line text is allocated; only section names and headers.
    pub fn parse(bytes: Arc<Vec<u8>>) -> LogIndex {
        let len = bytes.len().min(u32::MAX as usize);
        let body_start = if bytes.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let lines = Vec::with_capacity(len / 64 + 1);
        Self::index_from(
            bytes,
            lines,
            Vec::new(),
            SectionBuilder::default(),
            body_start,
        )
    }

    /// The index of `bytes` when they are this log grown (a running job's log fetched again:
    /// GitLab sends it whole): only the last line, which the new bytes may continue, and what
    /// follows it are parsed. Any other change (a shorter log, a different start, a log cut to
    /// its tail) is a full parse.
    pub fn extended(&self, bytes: Arc<Vec<u8>>) -> LogIndex {
        let old = self.bytes.len();
        let last = self.lines.len().saturating_sub(1);
        if last == 0 || old >= u32::MAX as usize || !bytes.starts_with(&self.bytes) {
            return Self::parse(bytes);
        }
        let cut = self.lines[last].raw_start as usize;
        let mut lines = Vec::with_capacity(bytes.len().min(u32::MAX as usize) / 64 + 1);
        lines.extend_from_slice(&self.lines[..last]);
        let keep = self.extra.partition_point(|e| (e.line as usize) < last);
        let extra = self.extra[..keep].to_vec();
        Self::index_from(bytes, lines, extra, self.committed.clone(), cut)
    }

    /// Indexes `bytes` from `pos` (a line start), after `lines`, `extra` and `committed` that
    /// describe everything before it.
    fn index_from(
        bytes: Arc<Vec<u8>>,
        mut lines: Vec<LineRec>,
        mut extra: Vec<ExtraSeg>,
        mut committed: SectionBuilder,
        mut pos: usize,
    ) -> LogIndex {
        let len = bytes.len().min(u32::MAX as usize);
        let buf = &bytes[..len];
        let finder = memmem::Finder::new(b"section_");
        // Markers of the current logical line: committed once the next logical line starts
        // (a runner continuation may still add to it).
        let mut pending: Vec<(Marker<'_>, usize)> = Vec::new();

        while pos < len {
            let nl = memchr::memchr(b'\n', &buf[pos..]).map_or(len, |i| pos + i);
            let phys = &buf[pos..nl];
            let (content_off, append) = match timestamp_prefix(phys) {
                Some(append) => (TS_PREFIX_LEN, append),
                None => (0, false),
            };
            let start = pos + content_off;
            let line_no = if append && !lines.is_empty() {
                let li = lines.len() - 1;
                extra.push(ExtraSeg {
                    line: li as u32,
                    start: start as u32,
                    end: nl as u32,
                });
                lines[li].raw_end = nl as u32;
                li
            } else {
                for (m, l) in pending.drain(..) {
                    committed.marker(m, l);
                }
                lines.push(LineRec {
                    raw_start: if lines.is_empty() { 0 } else { pos as u32 },
                    start: start as u32,
                    end: nl as u32,
                    raw_end: nl as u32,
                });
                lines.len() - 1
            };
            let content = &buf[start..nl];
            if finder.find(content).is_some() {
                pending.extend(markers(content).into_iter().map(|m| (m, line_no)));
            }
            pos = nl + 1;
        }
        let mut builder = committed.clone();
        for (m, l) in pending {
            builder.marker(m, l);
        }

        let mut index = LogIndex {
            bytes,
            lines,
            extra,
            sections: Vec::new(),
            committed,
        };
        index.sections = builder.finish(&index);
        index
    }

    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// The bytes of line `i` as they are in the trace (timestamp prefixes, escapes and all,
    /// without the `\n`). Empty for an out-of-range index.
    pub fn raw(&self, i: usize) -> &[u8] {
        match self.lines.get(i) {
            Some(l) => &self.bytes[l.raw_start as usize..l.raw_end as usize],
            None => &[],
        }
    }

    /// The text of line `i`: CR and `\e[K` resolved, escapes, section markers and runner
    /// timestamp prefixes removed, lossy UTF-8. Empty for an out-of-range index.
    pub fn plain(&self, i: usize) -> String {
        self.plain_cow(i).into_owned()
    }

    /// Like [`plain`](Self::plain) but borrows when the line needs no rendering (most lines).
    pub fn plain_cow(&self, i: usize) -> Cow<'_, str> {
        let content = self.content(i);
        if let Cow::Borrowed(b) = content
            && is_plain_text(b)
            && let Ok(s) = std::str::from_utf8(b)
        {
            return Cow::Borrowed(s);
        }
        Cow::Owned(render(&content, false).plain())
    }

    /// The same text as [`plain`](Self::plain), split into runs by SGR style.
    pub fn styled(&self, i: usize) -> Vec<StyledRun> {
        render(&self.content(i), true).runs()
    }

    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The innermost section containing line `i`, if any.
    pub fn section_at(&self, i: usize) -> Option<&Section> {
        self.sections
            .iter()
            .filter(|s| s.start_line <= i && s.end_line.is_none_or(|e| i <= e))
            .max_by_key(|s| s.depth)
    }

    /// The trace's bytes, shared (a borrowed line's text is a slice of them).
    pub fn shared_bytes(&self) -> &Arc<Vec<u8>> {
        &self.bytes
    }

    /// The whole trace's byte length.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Content bytes of logical line `i` (continuations joined).
    fn content(&self, i: usize) -> Cow<'_, [u8]> {
        let Some(l) = self.lines.get(i) else {
            return Cow::Borrowed(&[]);
        };
        let first = &self.bytes[l.start as usize..l.end as usize];
        if self.extra.is_empty() {
            return Cow::Borrowed(first);
        }
        let from = self.extra.partition_point(|e| (e.line as usize) < i);
        let segs = self.extra[from..]
            .iter()
            .take_while(|e| e.line as usize == i);
        let mut joined: Option<Vec<u8>> = None;
        for e in segs {
            joined
                .get_or_insert_with(|| first.to_vec())
                .extend_from_slice(&self.bytes[e.start as usize..e.end as usize]);
        }
        match joined {
            Some(v) => Cow::Owned(v),
            None => Cow::Borrowed(first),
        }
    }
}

/// `Some(append)` when the line starts with a runner timestamp prefix
/// (`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z [0-9a-f]{2}[OE][ +]`).
fn timestamp_prefix(line: &[u8]) -> Option<bool> {
    let p = line.get(..TS_PREFIX_LEN)?;
    let digit = |i: usize| p[i].is_ascii_digit();
    let ok = (0..4).all(digit)
        && p[4] == b'-'
        && (5..7).all(digit)
        && p[7] == b'-'
        && (8..10).all(digit)
        && p[10] == b'T'
        && (11..13).all(digit)
        && p[13] == b':'
        && (14..16).all(digit)
        && p[16] == b':'
        && (17..19).all(digit)
        && p[19] == b'.'
        && (20..26).all(digit)
        && p[26] == b'Z'
        && p[27] == b' '
        && p[28..30]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        && matches!(p[30], b'O' | b'E')
        && matches!(p[31], b' ' | b'+');
    ok.then_some(p[31] == b'+')
}

/// True when the bytes render to themselves: no control bytes but tab, no section marker.
/// (UTF-8 validity and C1 controls are checked by the caller via `from_utf8` + this scan.)
fn is_plain_text(b: &[u8]) -> bool {
    (printable_ascii(b) || no_controls(b)) && SECTION_FINDER.find(b).is_none()
}

/// Whether every byte is printable ASCII (0x20..=0x7E), eight at a time: nearly every line of
/// a trace is, and the diagnosis asks twice for each (this crate is built for size, which
/// leaves a byte loop as it is written).
fn printable_ascii(b: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Some byte below `n` (n <= 128): the borrow of its subtraction sets its high bit.
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * n as u64) & !w & HIGH != 0;
    let word_ok = |w: u64| w & HIGH == 0 && !below(w, 0x20) && !below(w ^ (ONES * 0x7f), 1);
    let mut chunks = b.chunks_exact(8);
    let words_ok = chunks.all(|c| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        word_ok(u64::from_ne_bytes(w))
    });
    words_ok
        && chunks
            .remainder()
            .iter()
            .all(|&c| (0x20..0x7f).contains(&c))
}

/// The full check, for lines with a tab or non-ASCII text: no control character (C0 but the
/// tab, DEL, C1).
fn no_controls(b: &[u8]) -> bool {
    let mut prev = 0u8;
    for &c in b {
        if (c < 0x20 && c != b'\t') || c == 0x7f {
            return false;
        }
        // U+0080..U+009F (C1 controls) are encoded C2 80..C2 9F.
        if prev == 0xC2 && (0x80..=0x9F).contains(&c) {
            return false;
        }
        prev = c;
    }
    true
}

/// Built once: `memmem::find` builds a searcher per call, which showed in profiles of the
/// per-line passes over a big trace.
static SECTION_FINDER: std::sync::LazyLock<memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memmem::Finder::new(b"section_"));

// ---------------------------------------------------------------------------------------------
// Section markers

#[derive(Debug, Clone, PartialEq, Eq)]
struct Marker<'a> {
    start: bool,
    ts: Option<u64>,
    name: &'a [u8],
    options: &'a [u8],
    /// Byte range of the whole marker in the content.
    span: (usize, usize),
}

/// Every well-formed `section_start:<ts>:<name>[opts]` / `section_end:<ts>:<name>` in `content`.
fn markers(content: &[u8]) -> Vec<Marker<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(rel) = memmem::find(&content[from..], b"section_") {
        let at = from + rel;
        match parse_marker(content, at) {
            Some(m) => {
                from = m.span.1;
                out.push(m);
            }
            None => from = at + 8,
        }
    }
    out
}

fn parse_marker(content: &[u8], at: usize) -> Option<Marker<'_>> {
    let rest = &content[at..];
    let (start, mut i) = if rest.starts_with(b"section_start:") {
        (true, 14)
    } else if rest.starts_with(b"section_end:") {
        (false, 12)
    } else {
        return None;
    };
    let ts_start = i;
    while i < rest.len() && rest[i].is_ascii_digit() {
        i += 1;
    }
    if i == ts_start || rest.get(i) != Some(&b':') {
        return None;
    }
    let ts = std::str::from_utf8(&rest[ts_start..i])
        .ok()
        .and_then(|s| s.parse().ok());
    i += 1;
    let name_start = i;
    while i < rest.len() && is_name_byte(rest[i]) {
        i += 1;
    }
    if i == name_start {
        return None;
    }
    let name = &rest[name_start..i];
    let mut options: &[u8] = &[];
    if start
        && rest.get(i) == Some(&b'[')
        && let Some(close) = memchr::memchr(b']', &rest[i..])
    {
        options = &rest[i + 1..i + close];
        i += close + 1;
    }
    Some(Marker {
        start,
        ts,
        name,
        options,
        span: (at, at + i),
    })
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// `collapsed=true,hide_duration=true` -> (collapsed, hide_duration).
fn section_options(opts: &[u8]) -> (bool, bool) {
    let mut collapsed = false;
    let mut hide = false;
    for kv in opts.split(|&b| b == b',') {
        let mut it = kv.splitn(2, |&b| b == b'=');
        let key = it.next().unwrap_or_default().trim_ascii();
        let val = it.next().unwrap_or_default().trim_ascii();
        let on = val.eq_ignore_ascii_case(b"true");
        match key {
            b"collapsed" => collapsed = on,
            b"hide_duration" => hide = on,
            _ => {}
        }
    }
    (collapsed, hide)
}

#[derive(Default, Clone)]
struct SectionBuilder {
    sections: Vec<Section>,
    /// Indexes into `sections` of the open ones, innermost last.
    open: Vec<usize>,
}

impl SectionBuilder {
    fn marker(&mut self, m: Marker<'_>, line: usize) {
        let name = String::from_utf8_lossy(m.name);
        if m.start {
            let (collapsed, hide_duration) = section_options(m.options);
            self.open.push(self.sections.len());
            self.sections.push(Section {
                name: name.into_owned(),
                header: String::new(),
                start_line: line,
                end_line: None,
                start_ts: m.ts,
                end_ts: None,
                depth: self.open.len() - 1,
                collapsed,
                hide_duration,
            });
        } else if let Some(pos) = self
            .open
            .iter()
            .rposition(|&s| self.sections[s].name == name)
        {
            // Closing an outer section also closes any inner one left open (a runner that
            // died mid-section); those keep `end_line = None` only if never closed at all.
            for &inner in &self.open[pos..] {
                let s = &mut self.sections[inner];
                s.end_line = Some(line);
                if inner == self.open[pos] {
                    s.end_ts = m.ts;
                }
            }
            self.open.truncate(pos);
        }
        // An end marker with no open section of that name is ignored.
    }

    fn finish(mut self, index: &LogIndex) -> Vec<Section> {
        for s in &mut self.sections {
            let mut header = index.plain(s.start_line).trim().to_string();
            let next = s.start_line + 1;
            if header.is_empty()
                && next < index.line_count()
                && !markers(&index.content(next)).iter().any(|m| m.start)
            {
                header = index.plain(next).trim().to_string();
            }
            s.header = header;
        }
        self.sections
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering: a one-line terminal emulator over vte

/// Renders one logical line's content bytes.
fn render(content: &[u8], keep_style: bool) -> Screen {
    let (body, truncated) = if content.len() > MAX_RENDER_BYTES {
        (
            &content[..MAX_RENDER_BYTES],
            content.len() - MAX_RENDER_BYTES,
        )
    } else {
        (content, 0)
    };
    let mut screen = Screen {
        keep_style,
        ..Screen::default()
    };
    let mut parser = Parser::new();
    let mut from = 0;
    for m in markers(body) {
        parser.advance(&mut screen, &body[from..m.span.0]);
        from = m.span.1;
    }
    parser.advance(&mut screen, &body[from..]);
    // A trailing NUL flushes an incomplete UTF-8 sequence (printed as U+FFFD); NUL itself is
    // ignored by the screen.
    parser.advance(&mut screen, b"\0");
    if truncated > 0 {
        screen.style = AnsiStyle::default();
        screen.cursor = screen.cells.len();
        for c in format!(" [... {truncated} more bytes not shown]").chars() {
            screen.print(c);
        }
    }
    screen
}

#[derive(Default)]
struct Screen {
    keep_style: bool,
    cells: Vec<char>,
    styles: Vec<AnsiStyle>,
    cursor: usize,
    style: AnsiStyle,
}

impl Screen {
    fn plain(&self) -> String {
        self.cells.iter().collect()
    }

    fn runs(&self) -> Vec<StyledRun> {
        let mut out: Vec<StyledRun> = Vec::new();
        for (c, st) in self.cells.iter().zip(&self.styles) {
            match out.last_mut() {
                Some(run) if run.style == *st => run.text.push(*c),
                _ => out.push(StyledRun {
                    text: c.to_string(),
                    style: *st,
                }),
            }
        }
        out
    }

    fn put(&mut self, c: char, style: AnsiStyle) {
        while self.cells.len() < self.cursor {
            self.cells.push(' ');
            if self.keep_style {
                self.styles.push(AnsiStyle::default());
            }
        }
        if self.cursor < self.cells.len() {
            self.cells[self.cursor] = c;
            if self.keep_style {
                self.styles[self.cursor] = style;
            }
        } else {
            self.cells.push(c);
            if self.keep_style {
                self.styles.push(style);
            }
        }
        self.cursor += 1;
    }

    fn erase_line(&mut self, mode: u16) {
        match mode {
            0 => {
                self.cells.truncate(self.cursor);
                self.styles.truncate(self.cursor.min(self.styles.len()));
            }
            1 => {
                let upto = (self.cursor + 1).min(self.cells.len());
                for i in 0..upto {
                    self.cells[i] = ' ';
                    if self.keep_style {
                        self.styles[i] = AnsiStyle::default();
                    }
                }
            }
            2 => {
                self.cells.clear();
                self.styles.clear();
            }
            _ => {}
        }
    }

    fn sgr(&mut self, params: &Params) {
        let ps: Vec<&[u16]> = params.iter().collect();
        if ps.is_empty() {
            self.style = AnsiStyle::default();
            return;
        }
        let mut i = 0;
        while i < ps.len() {
            let p = ps[i];
            let code = p.first().copied().unwrap_or(0);
            match code {
                0 => self.style = AnsiStyle::default(),
                1 => self.style.bold = true,
                2 => self.style.dim = true,
                3 => self.style.italic = true,
                4 => self.style.underline = p.get(1).is_none_or(|&v| v != 0),
                7 => self.style.reverse = true,
                21 | 22 => {
                    self.style.bold = false;
                    self.style.dim = false;
                }
                23 => self.style.italic = false,
                24 => self.style.underline = false,
                27 => self.style.reverse = false,
                30..=37 => self.style.fg = Some(AnsiColor::Indexed((code - 30) as u8)),
                39 => self.style.fg = None,
                40..=47 => self.style.bg = Some(AnsiColor::Indexed((code - 40) as u8)),
                49 => self.style.bg = None,
                90..=97 => self.style.fg = Some(AnsiColor::Indexed((code - 90 + 8) as u8)),
                100..=107 => self.style.bg = Some(AnsiColor::Indexed((code - 100 + 8) as u8)),
                38 | 48 => {
                    let (color, used) = extended_color(&ps, i);
                    if let Some(c) = color {
                        if code == 38 {
                            self.style.fg = Some(c);
                        } else {
                            self.style.bg = Some(c);
                        }
                    }
                    i += used;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

/// Parses `38;5;n`, `38;2;r;g;b` (extra params) or `38:5:n`, `38:2:[cs:]r:g:b` (subparams)
/// starting at `ps[i]`. Returns the colour and how many *extra* params were consumed.
fn extended_color(ps: &[&[u16]], i: usize) -> (Option<AnsiColor>, usize) {
    let byte = |v: u16| u8::try_from(v).ok();
    let p = ps[i];
    if p.len() > 1 {
        // Colon form: everything is in this one param.
        let color = match p.get(1) {
            Some(5) => p.get(2).and_then(|&n| byte(n)).map(AnsiColor::Indexed),
            Some(2) => {
                let rgb = if p.len() >= 6 { &p[3..6] } else { &p[2..] };
                match rgb {
                    [r, g, b, ..] => match (byte(*r), byte(*g), byte(*b)) {
                        (Some(r), Some(g), Some(b)) => Some(AnsiColor::Rgb(r, g, b)),
                        _ => None,
                    },
                    _ => None,
                }
            }
            _ => None,
        };
        return (color, 0);
    }
    let arg = |k: usize| ps.get(i + k).and_then(|q| q.first().copied());
    match arg(1) {
        Some(5) => (arg(2).and_then(byte).map(AnsiColor::Indexed), 2),
        Some(2) => {
            let c = match (
                arg(2).and_then(byte),
                arg(3).and_then(byte),
                arg(4).and_then(byte),
            ) {
                (Some(r), Some(g), Some(b)) => Some(AnsiColor::Rgb(r, g, b)),
                _ => None,
            };
            (c, 4)
        }
        _ => (None, 1),
    }
}

impl Perform for Screen {
    fn print(&mut self, c: char) {
        self.put(c, self.style);
    }

    fn execute(&mut self, byte: u8) {
        match byte {
            b'\r' => self.cursor = 0,
            b'\t' => self.put('\t', self.style),
            0x08 => self.cursor = self.cursor.saturating_sub(1),
            // vte reports stray bytes of invalid UTF-8 in 0x80..=0x9F as C1 controls: lossy
            // decoding shows them as the replacement character.
            0x80..=0xFF => self.put('\u{FFFD}', self.style),
            _ => {}
        }
    }

    fn csi_dispatch(&mut self, params: &Params, intermediates: &[u8], ignore: bool, action: char) {
        if ignore || !intermediates.is_empty() {
            return;
        }
        match action {
            'm' => self.sgr(params),
            'K' => {
                let mode = params
                    .iter()
                    .next()
                    .and_then(|p| p.first().copied())
                    .unwrap_or(0);
                self.erase_line(mode);
            }
            // Cursor moves, screen erases, modes: dropped (a log is not a screen).
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::shared_path;

    fn idx(s: &[u8]) -> LogIndex {
        LogIndex::parse(Arc::new(s.to_vec()))
    }

    fn plains(ix: &LogIndex) -> Vec<String> {
        (0..ix.line_count()).map(|i| ix.plain(i)).collect()
    }

    #[test]
    fn splits_lines_bom_and_trailing_newline() {
        let ix = idx(b"\xEF\xBB\xBFfirst\nsecond\r\nthird");
        assert_eq!(plains(&ix), ["first", "second", "third"]);
        assert_eq!(ix.raw(0), b"\xEF\xBB\xBFfirst");
        assert_eq!(ix.raw(1), b"second\r");
        assert_eq!(idx(b"a\n").line_count(), 1);
        assert_eq!(idx(b"").line_count(), 0);
        assert_eq!(idx(b"\n\n").line_count(), 2);
        assert_eq!(ix.plain(99), "");
        assert!(ix.raw(99).is_empty());
    }

    #[test]
    fn lossy_utf8() {
        let ix = idx(b"ok \xFF\xFE bad\nend \xE2\x82");
        assert_eq!(ix.plain(0), "ok \u{FFFD}\u{FFFD} bad");
        assert_eq!(ix.plain(1), "end \u{FFFD}");
    }

    #[test]
    fn carriage_return_progress_bar_keeps_last_frame() {
        let ix = idx(b"Downloading  10%\rDownloading  50%\rDownloading 100%\n");
        assert_eq!(ix.plain(0), "Downloading 100%");
        // A shorter later frame overwrites only its own width...
        assert_eq!(idx(b"abcdef\rXY").plain(0), "XYcdef");
        // ...unless it clears to the end of the line.
        assert_eq!(idx(b"abcdef\r\x1b[0KXY").plain(0), "XY");
        assert_eq!(idx(b"abcdef\r\x1b[KXY").plain(0), "XY");
        assert_eq!(idx(b"abcdef\x1b[2KXY").plain(0), "      XY");
        assert_eq!(idx(b"abc\x08\x08Z").plain(0), "aZc");
    }

    #[test]
    fn non_sgr_escapes_are_dropped() {
        // OSC window title (BEL and ST terminated), OSC 8 hyperlink, cursor moves, DCS, screen
        // clear, private modes.
        let s = b"\x1b]0;pwned\x07a\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\\x1b[2J\x1b[10;20Hb\x1b[3A\x1b[?25lc\x1bPqdata\x1b\\d";
        assert_eq!(idx(s).plain(0), "alinkbcd");
        let styled = idx(s).styled(0);
        let text: String = styled.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(text, "alinkbcd");
    }

    #[test]
    fn sgr_styles_16_256_truecolor_and_resets() {
        let ix = idx(
            b"\x1b[1;31mred\x1b[0m plain \x1b[38;5;208mor\x1b[48;2;1;2;3mbg\x1b[39;49m \x1b[38:2::9:8:7mtc\x1b[m \x1b[2;3;4;7mfx\x1b[22;23;24;27mno \x1b[92mbr",
        );
        let runs = ix.styled(0);
        let find = |t: &str| runs.iter().find(|r| r.text == t).unwrap().style;
        let red = find("red");
        assert!(red.bold);
        assert_eq!(red.fg, Some(AnsiColor::Indexed(1)));
        assert_eq!(find(" plain "), AnsiStyle::default());
        assert_eq!(find("or").fg, Some(AnsiColor::Indexed(208)));
        let bg = find("bg");
        assert_eq!(bg.fg, Some(AnsiColor::Indexed(208)));
        assert_eq!(bg.bg, Some(AnsiColor::Rgb(1, 2, 3)));
        assert_eq!(find("tc").fg, Some(AnsiColor::Rgb(9, 8, 7)));
        let fx = find("fx");
        assert!(fx.dim && fx.italic && fx.underline && fx.reverse && !fx.bold);
        assert_eq!(find("no "), AnsiStyle::default());
        assert_eq!(find("br").fg, Some(AnsiColor::Indexed(10)));
        assert_eq!(ix.plain(0), "red plain orbg tc fxno br");
        // 38;2 with semicolons
        let r = idx(b"\x1b[38;2;255;0;10mX").styled(0);
        assert_eq!(r[0].style.fg, Some(AnsiColor::Rgb(255, 0, 10)));
    }

    #[test]
    fn styled_overwrite_keeps_per_cell_style() {
        let runs = idx(b"\x1b[31mabc\r\x1b[32mX").styled(0);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].text, "X");
        assert_eq!(runs[0].style.fg, Some(AnsiColor::Indexed(2)));
        assert_eq!(runs[1].text, "bc");
    }

    #[test]
    fn runner_timestamps_stripped_and_plus_appends() {
        let log = b"2024-03-11T14:23:44.123456Z 00O first line\n\
2024-03-11T14:23:44.223456Z 00O partial \n\
2024-03-11T14:23:45.000001Z 00O+continued\n\
2024-03-11T14:23:45.100000Z 01E \x1b[31merror\x1b[0m\n\
2026-04-23T04:08:22.8180462Z github style stays\n";
        let ix = idx(log);
        assert_eq!(
            plains(&ix),
            [
                "first line",
                "partial continued",
                "error",
                "2026-04-23T04:08:22.8180462Z github style stays"
            ]
        );
        assert!(
            ix.raw(1)
                .starts_with(b"2024-03-11T14:23:44.223456Z 00O partial")
        );
        assert!(ix.raw(1).ends_with(b"00O+continued"));
        // `+` on the very first line has nothing to append to.
        let ix = idx(b"2024-03-11T14:23:44.123456Z 00O+alone\n");
        assert_eq!(plains(&ix), ["alone"]);
    }

    #[test]
    fn sections_nested_collapsed_hide_duration_mid_line() {
        let log = b"\x1b[0Ksection_start:100:outer[collapsed=true]\r\x1b[0KOuter header\n\
inside outer\n\
text\x1b[0Ksection_start:110:inner[hide_duration=true,collapsed=true]\r\x1b[0K\x1b[36;1mInner header\x1b[0m\n\
inner body\n\
\x1b[0Ksection_end:130:inner\r\x1b[0K\n\
section_start:131:plain_one\r\x1b[0KNo options\n\
section_end:140:plain_one\r\x1b[0K\x1b[0Ksection_end:150:outer\r\x1b[0K\n\
section_start:160:never_closed\r\x1b[0Ktail\n";
        let ix = idx(log);
        let s = ix.sections();
        assert_eq!(s.len(), 4);
        assert_eq!(
            (s[0].name.as_str(), s[0].header.as_str(), s[0].depth),
            ("outer", "Outer header", 0)
        );
        assert!(s[0].collapsed && !s[0].hide_duration);
        assert_eq!((s[0].start_line, s[0].end_line), (0, Some(6)));
        assert_eq!(s[0].duration_secs(), Some(50));
        assert_eq!(
            (s[1].name.as_str(), s[1].header.as_str(), s[1].depth),
            ("inner", "Inner header", 1)
        );
        assert!(s[1].collapsed && s[1].hide_duration);
        assert_eq!((s[1].start_line, s[1].end_line), (2, Some(4)));
        assert_eq!(s[1].duration_secs(), Some(20));
        assert_eq!((s[2].name.as_str(), s[2].depth), ("plain_one", 1));
        assert!(!s[2].collapsed && !s[2].hide_duration);
        assert_eq!(s[2].duration_secs(), Some(9));
        assert_eq!((s[3].end_line, s[3].duration_secs()), (None, None));
        // Markers never show in the text; the mid-line one leaves what `\r\e[0K` left.
        assert_eq!(ix.plain(2), "Inner header");
        assert_eq!(ix.plain(4), "");
        assert_eq!(ix.plain(6), "");
        assert_eq!(ix.section_at(3).map(|s| s.name.as_str()), Some("inner"));
        assert_eq!(ix.section_at(1).map(|s| s.name.as_str()), Some("outer"));
    }

    #[test]
    fn malformed_markers_are_text() {
        let ix = idx(b"section_start:abc:x\nsection_end:12:\nsection_\n");
        assert!(ix.sections().is_empty());
        assert_eq!(ix.plain(0), "section_start:abc:x");
        assert_eq!(ix.plain(2), "section_");
        // An end without a start is ignored.
        assert!(idx(b"section_end:1:zz\n").sections().is_empty());
    }

    fn fixture(name: &str) -> LogIndex {
        let p = shared_path(&format!("fixtures/gitlab/{name}"));
        LogIndex::parse(Arc::new(std::fs::read(p).unwrap()))
    }

    fn summary(ix: &LogIndex) -> Vec<(String, Option<u64>)> {
        ix.sections()
            .iter()
            .map(|s| (s.name.clone(), s.duration_secs()))
            .collect()
    }

    fn owned(v: &[(&str, u64)]) -> Vec<(String, Option<u64>)> {
        v.iter().map(|(n, d)| (n.to_string(), Some(*d))).collect()
    }

    #[test]
    fn runner13_cr_fixture_sections() {
        let ix = fixture("job_trace_runner13_cr.log");
        // 11,976 newlines plus a final unterminated `\e[0;m`.
        assert_eq!(ix.line_count(), 11977);
        assert_eq!(
            summary(&ix),
            owned(&[
                ("resolve_secrets", 0),
                ("prepare_executor", 43),
                ("prepare_script", 3),
                ("get_sources", 1),
                ("step_script", 800),
                ("cleanup_file_variables", 0),
            ])
        );
        let s = ix.sections();
        assert_eq!(s[1].header, "Preparing the \"docker+machine\" executor");
        assert_eq!(
            s[4].header,
            "Executing \"step_script\" stage of the job script"
        );
        assert_eq!((s[4].start_line, s[4].end_line), (18, Some(11974)));
        assert!(s.iter().all(|s| s.depth == 0));
        assert_eq!(ix.plain(11975), "Job succeeded");
        assert_eq!(ix.plain(11976), "");
        assert_eq!(ix.plain(4), "Preparing the \"docker+machine\" executor");
    }

    #[test]
    fn runner13_fixture_sections() {
        let ix = fixture("job_trace_runner13.log");
        assert_eq!(
            summary(&ix),
            owned(&[
                ("resolve_secrets", 0),
                ("prepare_executor", 47),
                ("prepare_script", 27),
                ("get_sources", 54),
                ("restore_cache", 1),
                ("download_artifacts", 5),
                ("step_script", 172),
                ("archive_cache", 1),
                ("upload_artifacts_on_success", 2),
                ("cleanup_file_variables", 1),
            ])
        );
        // The marker ends its line here, so the header is read from the next one.
        assert_eq!(ix.sections()[0].header, "Resolving secrets");
        assert_eq!(ix.plain(3), "");
    }

    #[test]
    fn runner11_fixtures_sections() {
        for name in ["job_trace_runner11.log", "job_trace_runner11_small.log"] {
            let ix = fixture(name);
            let s = summary(&ix);
            let names: Vec<&str> = s.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(
                &names[..5],
                [
                    "prepare_script",
                    "get_sources",
                    "restore_cache",
                    "download_artifacts",
                    "build_script"
                ],
                "{name}"
            );
            assert!(ix.sections().iter().all(|s| s.end_line.is_some()), "{name}");
        }
        let small = summary(&fixture("job_trace_runner11_small.log"));
        assert_eq!(small[0], ("prepare_script".to_string(), Some(2)));
        assert_eq!(small[1], ("get_sources".to_string(), Some(12)));
    }

    #[test]
    fn fast_path_matches_rendering() {
        for s in ["plain ascii", "tab\there", "ünïcödé", "x section y", ""] {
            assert_eq!(render(s.as_bytes(), false).plain(), s);
            assert_eq!(idx(s.as_bytes()).plain_cow(0), s);
        }
    }

    /// Everything a viewer reads of an index, for comparing two.
    fn shape(ix: &LogIndex) -> (Vec<Vec<u8>>, Vec<String>, Vec<Section>) {
        let raws = (0..ix.line_count()).map(|i| ix.raw(i).to_vec()).collect();
        (raws, plains(ix), ix.sections().to_vec())
    }

    #[test]
    fn a_grown_log_appended_is_the_log_parsed_whole() {
        let ts = |c: char, s: &str| format!("2024-01-01T00:00:00.000000Z 00O{c}{s}\n");
        let full = format!(
            "\u{feff}start\n\x1b[0Ksection_start:1:build[collapsed=true]\r\x1b[0KBuilding\n{}{}{}\
             section_start:2:inner\r\x1b[0K\ninner text\nsection_end:3:inner\r\x1b[0K\n\
             partial li{}ne\nsection_end:4:build\r\x1b[0K\ndone\n",
            ts(' ', "step one"),
            ts('+', " continued"),
            ts('+', "section_end:2:nothing"),
            "ne"
        );
        let full = full.as_bytes();
        let whole = shape(&idx(full));
        for cut in 0..=full.len() {
            let first = idx(&full[..cut]);
            for next in [cut, (cut + 7).min(full.len()), full.len()] {
                let grown = first.extended(Arc::new(full[..next].to_vec()));
                assert_eq!(shape(&grown), shape(&idx(&full[..next])), "cut {cut}");
            }
        }
        assert_eq!(shape(&first_then(full)), whole);
        // Not a prefix (a log restarted or cut to its tail): parsed whole.
        let other = idx(b"a\nb\n").extended(Arc::new(b"x\ny\nz".to_vec()));
        assert_eq!(plains(&other), ["x", "y", "z"]);
    }

    fn first_then(full: &[u8]) -> LogIndex {
        idx(&full[..full.len() / 2]).extended(Arc::new(full.to_vec()))
    }

    proptest::proptest! {
        #[test]
        fn append_parse_equals_a_whole_parse(bytes in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::prelude::any::<u8>(),
                proptest::prelude::Just(b'\n'),
                proptest::prelude::Just(b'\r'),
            ], 0..200), cut in 0usize..200) {
            let cut = cut.min(bytes.len());
            let grown = idx(&bytes[..cut]).extended(Arc::new(bytes.clone()));
            proptest::prop_assert_eq!(shape(&grown), shape(&idx(&bytes)));
        }

        #[test]
        fn never_panics_and_plain_equals_styled(bytes in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::prelude::any::<u8>(),
                proptest::prelude::Just(0x1bu8),
                proptest::prelude::Just(b'\r'),
                proptest::prelude::Just(b'\n'),
                proptest::prelude::Just(b'['),
            ], 0..300)) {
            let ix = idx(&bytes);
            for i in 0..ix.line_count() {
                let plain = ix.plain(i);
                let styled: String = ix.styled(i).iter().map(|r| r.text.as_str()).collect();
                proptest::prop_assert_eq!(&plain, &styled);
                proptest::prop_assert!(!plain.contains('\x1b'));
                proptest::prop_assert_eq!(render(&ix.content(i), false).plain(), plain.clone());
                proptest::prop_assert_eq!(ix.plain_cow(i).into_owned(), plain);
            }
        }

        #[test]
        fn the_word_at_a_time_check_is_the_byte_check(bytes in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::prelude::any::<u8>(),
                proptest::sample::select(vec![0x00u8, b'\t', 0x1f, 0x20, b'a', 0x7e, 0x7f, 0x80, 0xc2, 0xff]),
                proptest::prelude::Just(b'a'),
            ], 0..40)) {
            let bytewise = bytes.iter().all(|c| (0x20..0x7f).contains(c));
            proptest::prop_assert_eq!(printable_ascii(&bytes), bytewise);
            if bytewise {
                proptest::prop_assert!(no_controls(&bytes));
            }
        }
    }
}

//! A ratatui backend that speaks the SGR of the terminal's colour depth. crossterm writes every
//! colour in the 256-colour form (`\e[38;5;1m` even for red), which a terminal with 8 or 16
//! colours ignores: text loses its colour. Below 256 colours this backend draws with the classic
//! codes (`\e[31m`, `\e[91m`); at 256 and above it is crossterm's backend unchanged.

use std::io::{self, Write};

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};

use super::hyperlinks::{self, LinkMap};
use super::theme::{ColorDepth, fit_style};

pub struct DepthBackend<W: Write> {
    inner: CrosstermBackend<W>,
    depth: ColorDepth,
    /// OSC 8 hyperlinks of the frame being drawn, by cell (see `hyperlinks`).
    links: LinkMap,
}

impl<W: Write> DepthBackend<W> {
    pub fn new(writer: W, depth: ColorDepth) -> Self {
        DepthBackend {
            inner: CrosstermBackend::new(writer),
            depth,
            links: LinkMap::new(),
        }
    }

    /// The links of the next frame; cells are wrapped in OSC 8 as they are drawn.
    pub fn set_links(&mut self, links: LinkMap) {
        self.links = links;
    }

    /// The cells as given, in the terminal's colour depth, without links.
    fn draw_plain<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        if self.depth >= ColorDepth::Indexed256 {
            return self.inner.draw(content);
        }
        let depth = self.depth;
        let w = &mut self.inner;
        let mut look: Option<(Color, Color, Modifier)> = None;
        let mut last: Option<Position> = None;
        for (x, y, cell) in content {
            if !matches!(last, Some(p) if x == p.x + 1 && y == p.y) {
                // CUP is 1-based.
                write!(w, "\x1b[{};{}H", y + 1, x + 1)?;
            }
            last = Some(Position { x, y });
            let now = (cell.fg, cell.bg, cell.modifier);
            if look != Some(now) {
                w.write_all(sgr(cell.fg, cell.bg, cell.modifier, depth).as_bytes())?;
                look = Some(now);
            }
            w.write_all(cell.symbol().as_bytes())?;
        }
        w.write_all(b"\x1b[0m")
    }
}

/// Raw writes (synchronized-update markers) go straight through.
impl<W: Write> Write for DepthBackend<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Write::flush(&mut self.inner)
    }
}

/// The classic SGR number of a colour (foreground; add 10 for background), after fitting.
fn color_code(c: Color, depth: ColorDepth) -> Option<u8> {
    let c = fit_style(ratatui::style::Style::new().fg(c), depth).fg?;
    Some(match c {
        Color::Black => 30,
        Color::Red => 31,
        Color::Green => 32,
        Color::Yellow => 33,
        Color::Blue => 34,
        Color::Magenta => 35,
        Color::Cyan => 36,
        Color::Gray => 37,
        Color::DarkGray => 90,
        Color::LightRed => 91,
        Color::LightGreen => 92,
        Color::LightYellow => 93,
        Color::LightBlue => 94,
        Color::LightMagenta => 95,
        Color::LightCyan => 96,
        Color::White => 97,
        _ => return None,
    })
}

/// One complete SGR sequence for a cell's look: reset, then attributes and colours.
pub fn sgr(fg: Color, bg: Color, m: Modifier, depth: ColorDepth) -> String {
    let mut codes: Vec<u8> = vec![0];
    for (flag, code) in [
        (Modifier::BOLD, 1),
        (Modifier::DIM, 2),
        (Modifier::ITALIC, 3),
        (Modifier::UNDERLINED, 4),
        (Modifier::SLOW_BLINK, 5),
        (Modifier::RAPID_BLINK, 6),
        (Modifier::REVERSED, 7),
        (Modifier::HIDDEN, 8),
        (Modifier::CROSSED_OUT, 9),
    ] {
        if m.contains(flag) {
            codes.push(code);
        }
    }
    // Fitting a colour to 8 may ask for bold (bright) or dim (grey).
    let fitted = fit_style(ratatui::style::Style::new().fg(fg), depth);
    for (flag, code) in [(Modifier::BOLD, 1), (Modifier::DIM, 2)] {
        if fitted.add_modifier.contains(flag) && !codes.contains(&code) {
            codes.push(code);
        }
    }
    if fg != Color::Reset
        && let Some(c) = color_code(fg, depth)
    {
        codes.push(c);
    }
    if bg != Color::Reset
        && let Some(c) = color_code(bg, depth)
    {
        codes.push(c + 10);
    }
    let list: Vec<String> = codes.iter().map(u8::to_string).collect();
    format!("\x1b[{}m", list.join(";"))
}

impl<W: Write> Backend for DepthBackend<W> {
    type Error = io::Error;

    /// Runs of cells with the same link (or none) are drawn one after the other, a linked run
    /// between an OSC 8 open and close: the terminal ties the link to the cells written
    /// while it is open.
    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        if self.links.is_empty() {
            return self.draw_plain(content);
        }
        let cells: Vec<(u16, u16, &Cell)> = content.collect();
        let mut start = 0;
        while start < cells.len() {
            let (x, y, _) = cells[start];
            let url = self.links.get(&(x, y)).cloned();
            let mut end = start + 1;
            while end < cells.len() {
                let (nx, ny, _) = cells[end];
                let (px, py, _) = cells[end - 1];
                let next_url = self.links.get(&(nx, ny));
                // A linked run is one stretch of a row; an unlinked one may jump.
                if next_url != url.as_ref() || url.is_some() && (ny != py || nx != px + 1) {
                    break;
                }
                end += 1;
            }
            if let Some(u) = &url {
                self.inner.write_all(hyperlinks::open(u).as_bytes())?;
            }
            self.draw_plain(cells[start..end].iter().copied())?;
            if url.is_some() {
                self.inner.write_all(hyperlinks::CLOSE.as_bytes())?;
            }
            start = end;
        }
        Ok(())
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        self.inner.size()
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Style;
    use std::sync::{Arc, Mutex};

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn classic_codes_below_256_colours() {
        let d8 = ColorDepth::Ansi8;
        assert_eq!(
            sgr(Color::Red, Color::Reset, Modifier::BOLD, d8),
            "\x1b[0;1;31m"
        );
        assert_eq!(
            sgr(Color::Black, Color::Yellow, Modifier::empty(), d8),
            "\x1b[0;30;43m"
        );
        // 8 colours: grey is dim, bright is bold and the base colour.
        assert_eq!(
            sgr(Color::DarkGray, Color::Reset, Modifier::empty(), d8),
            "\x1b[0;2m"
        );
        assert_eq!(
            sgr(Color::LightCyan, Color::Reset, Modifier::empty(), d8),
            "\x1b[0;1;36m"
        );
        // 16 colours: the bright codes.
        let d16 = ColorDepth::Ansi16;
        assert_eq!(
            sgr(Color::DarkGray, Color::Reset, Modifier::empty(), d16),
            "\x1b[0;90m"
        );
        assert_eq!(
            sgr(Color::Indexed(196), Color::Reset, Modifier::empty(), d16),
            "\x1b[0;91m"
        );
        assert_eq!(
            sgr(Color::Reset, Color::Reset, Modifier::REVERSED, d16),
            "\x1b[0;7m"
        );
    }

    /// A linked id reaches the terminal between an OSC 8 open and close, the rest without.
    #[test]
    fn linked_cells_are_wrapped_in_osc_8() {
        let mut buf = ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, 8, 1));
        buf.set_string(0, 0, "!12 ok", Style::new());
        for depth in [ColorDepth::Ansi16, ColorDepth::TrueColor] {
            let cells = buf
                .content
                .iter()
                .enumerate()
                .map(|(i, c)| (i as u16 % 8, 0u16, c));
            let w = Shared::default();
            let mut b = DepthBackend::new(w.clone(), depth);
            let url = "https://gitlab.example.com/g/p/-/merge_requests/12".to_string();
            b.set_links((0..3).map(|x| ((x, 0), url.clone())).collect());
            b.draw(cells).unwrap();
            let out = w.text();
            let open = out.find(&hyperlinks::open(&url)).expect("an open");
            let close = out.find(hyperlinks::CLOSE).expect("a close");
            let id = out.find("!12").unwrap();
            assert!(open < id && id < close, "{out:?}");
            assert!(out[close..].contains("ok"), "{out:?}");
            assert_eq!(out.matches("\x1b]8;;").count(), 2, "{out:?}");
        }
    }

    /// What reaches an 8-colour terminal: classic codes only, never the 256-colour form.
    #[test]
    fn an_8_colour_terminal_gets_no_256_colour_sequence() {
        let mut buf = ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, 6, 1));
        buf.set_string(0, 0, "ok", Style::new().fg(Color::Green));
        buf.set_string(3, 0, "x", Style::new().fg(Color::DarkGray));
        let cells = buf
            .content
            .iter()
            .enumerate()
            .map(|(i, c)| (i as u16 % 6, 0u16, c));
        let w = Shared::default();
        let mut b = DepthBackend::new(w.clone(), ColorDepth::Ansi8);
        b.draw(cells).unwrap();
        let out = w.text();
        assert!(!out.contains("38;5") && !out.contains("48;5"), "{out:?}");
        assert!(
            out.starts_with("\x1b[1;1H\x1b[0;32mok\x1b[0m \x1b[0;2mx"),
            "{out:?}"
        );
        assert!(out.ends_with("\x1b[0m"));
        // 256 colours: crossterm's own output.
        let cells = buf
            .content
            .iter()
            .enumerate()
            .map(|(i, c)| (i as u16 % 6, 0u16, c));
        let w = Shared::default();
        let mut b = DepthBackend::new(w.clone(), ColorDepth::Indexed256);
        b.draw(cells).unwrap();
        let out = w.text();
        assert!(out.contains("38;5;"), "{out:?}");
    }
}

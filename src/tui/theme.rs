//! Styles. Colours come from the terminal's 16-colour palette (they follow the user's scheme
//! and work on every terminal). With `NO_COLOR` every colour is dropped and only modifiers
//! remain; statuses always carry a symbol and a word, so nothing depends on colour alone.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;

use crate::app::activity::ActivityKind;
use crate::app::detail::Tone;
use crate::app::symbols::StatusClass;
use crate::command::Risk;
use crate::diagnose::log::{AnsiColor, AnsiStyle};

const ASCII_BORDER: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    pub ascii: bool,
}

/// `NO_COLOR` set to anything but the empty string disables colour (no-color.org).
pub fn no_color_from_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl Theme {
    pub fn new(color: bool, ascii: bool) -> Theme {
        Theme { color, ascii }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn border_set(&self) -> border::Set<'static> {
        if self.ascii {
            ASCII_BORDER
        } else {
            border::ROUNDED
        }
    }

    pub fn border(&self, focused: bool) -> Style {
        match (focused, self.color) {
            (true, true) => Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            (true, false) => Style::new().add_modifier(Modifier::BOLD),
            (false, true) => Style::new().fg(Color::DarkGray),
            (false, false) => Style::new(),
        }
    }

    pub fn title(&self, focused: bool) -> Style {
        let s = Style::new().add_modifier(Modifier::BOLD);
        if focused {
            s.patch(self.fg(Color::Cyan))
        } else {
            s
        }
    }

    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn header_row(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    pub fn bold(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn accent(&self) -> Style {
        self.fg(Color::Cyan)
    }

    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn status(&self, c: StatusClass) -> Style {
        match c {
            StatusClass::Success => self.fg(Color::Green),
            StatusClass::Failed => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            StatusClass::Warning => self.fg(Color::Yellow),
            StatusClass::Running => self.fg(Color::Blue).add_modifier(Modifier::BOLD),
            StatusClass::Pending => self.fg(Color::Yellow),
            StatusClass::Canceled | StatusClass::Skipped => self.dim(),
            StatusClass::Manual => self.fg(Color::Magenta),
            StatusClass::Unknown => Style::new(),
        }
    }

    pub fn risk(&self, r: Risk) -> Style {
        match r {
            Risk::None => self.dim(),
            Risk::Low => self.fg(Color::Green),
            Risk::Medium => self.fg(Color::Yellow),
            Risk::High => self.fg(Color::Red).add_modifier(Modifier::BOLD),
        }
    }

    pub fn activity(&self, k: ActivityKind) -> Style {
        match k {
            ActivityKind::Info => self.dim(),
            ActivityKind::Error => self.error(),
            ActivityKind::Pipeline => self.accent(),
            ActivityKind::Proposal => self.fg(Color::Magenta),
            ActivityKind::Decision => self.warn(),
            ActivityKind::Execution => self.ok(),
        }
    }

    pub fn tone(&self, t: Tone) -> Style {
        match t {
            Tone::Normal => Style::new(),
            Tone::Dim => self.dim(),
            Tone::Title => self.bold(),
            Tone::Heading => self.accent().add_modifier(Modifier::BOLD),
            Tone::Added => self.fg(Color::Green),
            Tone::Removed => self.fg(Color::Red),
            Tone::Warn => self.warn(),
            Tone::Status(c) => self.status(c),
        }
    }

    pub fn search_match(&self) -> Style {
        if self.color {
            Style::new().bg(Color::Yellow).fg(Color::Black)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::UNDERLINED)
        }
    }

    /// A job-log SGR style as a ratatui style. Colours 0-15 stay palette colours (`\e[31m`,
    /// not `\e[38;5;1m`) so 16-colour terminals render them.
    pub fn ansi(&self, a: &AnsiStyle) -> Style {
        let mut s = Style::new();
        if self.color {
            if let Some(c) = a.fg {
                s = s.fg(ansi_color(c));
            }
            if let Some(c) = a.bg {
                s = s.bg(ansi_color(c));
            }
        }
        let mut m = Modifier::empty();
        if a.bold {
            m |= Modifier::BOLD;
        }
        if a.dim {
            m |= Modifier::DIM;
        }
        if a.italic {
            m |= Modifier::ITALIC;
        }
        if a.underline {
            m |= Modifier::UNDERLINED;
        }
        if a.reverse {
            m |= Modifier::REVERSED;
        }
        s.add_modifier(m)
    }
}

pub fn ansi_color(c: AnsiColor) -> Color {
    match c {
        AnsiColor::Rgb(r, g, b) => Color::Rgb(r, g, b),
        AnsiColor::Indexed(n) => match n {
            0 => Color::Black,
            1 => Color::Red,
            2 => Color::Green,
            3 => Color::Yellow,
            4 => Color::Blue,
            5 => Color::Magenta,
            6 => Color::Cyan,
            7 => Color::Gray,
            8 => Color::DarkGray,
            9 => Color::LightRed,
            10 => Color::LightGreen,
            11 => Color::LightYellow,
            12 => Color::LightBlue,
            13 => Color::LightMagenta,
            14 => Color::LightCyan,
            15 => Color::White,
            n => Color::Indexed(n),
        },
    }
}

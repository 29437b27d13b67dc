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

/// A named colour role: what the theme, a skin file and every pane agree on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr, strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    Border,
    BorderFocused,
    Title,
    Selected,
    HeaderRow,
    Dim,
    Error,
    Warn,
    Ok,
    Accent,
    Key,
    Running,
    Manual,
    Proposal,
    SearchMatch,
    Added,
    Removed,
    Heading,
}

const ROLES: usize = <Role as strum::VariantArray>::VARIANTS.len();

/// The built-in themes (`[ui] theme`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[strum(serialize_all = "kebab-case")]
pub enum ThemeName {
    /// For dark backgrounds: the terminal's palette, greys for what matters less.
    #[default]
    Dark,
    /// For light backgrounds: no yellow or cyan text (unreadable on white).
    Light,
    /// Bright, bold, no dimmed greys.
    HighContrast,
}

/// How many colours the terminal shows, from `COLORTERM` and `TERM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ColorDepth {
    /// The 8 base colours (`TERM=xterm`, `linux`, `vt100`, `screen`): no bright or grey
    /// colours; bold stands in for bright and the dim attribute for grey.
    Ansi8,
    /// The 16 ANSI colours (`TERM=*-16color`).
    Ansi16,
    /// `TERM=*-256color`.
    Indexed256,
    /// `COLORTERM=truecolor|24bit`, `TERM=*-direct`.
    TrueColor,
}

/// The colour depth a terminal announces. Unknown or missing `TERM` is taken as 8 colours:
/// the safe side (a 256-colour grey sent to an 8-colour terminal vanishes).
pub fn detect_depth(term: Option<&str>, colorterm: Option<&str>) -> ColorDepth {
    let colorterm = colorterm.unwrap_or("").to_ascii_lowercase();
    if colorterm == "truecolor" || colorterm == "24bit" {
        return ColorDepth::TrueColor;
    }
    let term = term.unwrap_or("").to_ascii_lowercase();
    if term.ends_with("-direct") || term.contains("truecolor") {
        ColorDepth::TrueColor
    } else if term.contains("256color") {
        ColorDepth::Indexed256
    } else if term.contains("16color") {
        ColorDepth::Ansi16
    } else {
        ColorDepth::Ansi8
    }
}

/// `detect_depth` from this process's environment.
pub fn depth_from_env() -> ColorDepth {
    let term = std::env::var("TERM").ok();
    let colorterm = std::env::var("COLORTERM").ok();
    detect_depth(term.as_deref(), colorterm.as_deref())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    pub ascii: bool,
    pub depth: ColorDepth,
    pub name: ThemeName,
    /// One style per `Role`, fitted to `depth`.
    palette: [Style; ROLES],
}

/// `NO_COLOR` set to anything but the empty string disables colour (no-color.org).
pub fn no_color_from_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

const fn fg(c: Color) -> Style {
    Style::new().fg(c)
}

const fn bold(c: Color) -> Style {
    Style::new().fg(c).add_modifier(Modifier::BOLD)
}

/// The built-in palettes, in `Role` order.
fn builtin(name: ThemeName) -> [Style; ROLES] {
    use Color::*;
    let plain = Style::new();
    match name {
        ThemeName::Dark => [
            fg(DarkGray),                                                   // border
            bold(Cyan),                                                     // border_focused
            bold(Cyan),                                                     // title
            plain.add_modifier(Modifier::REVERSED),                         // selected
            plain.add_modifier(Modifier::BOLD.union(Modifier::UNDERLINED)), // header_row
            fg(DarkGray),                                                   // dim
            bold(Red),                                                      // error
            fg(Yellow),                                                     // warn
            fg(Green),                                                      // ok
            fg(Cyan),                                                       // accent
            bold(Cyan),                                                     // key
            bold(Blue),                                                     // running
            fg(Magenta),                                                    // manual
            fg(Magenta),                                                    // proposal
            Style::new().bg(Yellow).fg(Black),                              // search_match
            fg(Green),                                                      // added
            fg(Red),                                                        // removed
            bold(Cyan),                                                     // heading
        ],
        ThemeName::Light => [
            fg(DarkGray),
            bold(Blue),
            bold(Blue),
            plain.add_modifier(Modifier::REVERSED),
            plain.add_modifier(Modifier::BOLD.union(Modifier::UNDERLINED)),
            fg(DarkGray),
            bold(Red),
            bold(Magenta),
            fg(Green),
            fg(Blue),
            bold(Blue),
            bold(Blue),
            fg(Magenta),
            fg(Magenta),
            Style::new().bg(Yellow).fg(Black),
            fg(Green),
            fg(Red),
            bold(Blue),
        ],
        ThemeName::HighContrast => [
            plain,
            bold(LightYellow),
            bold(LightYellow),
            plain.add_modifier(Modifier::REVERSED.union(Modifier::BOLD)),
            plain.add_modifier(Modifier::BOLD.union(Modifier::UNDERLINED)),
            plain,
            bold(LightRed).add_modifier(Modifier::UNDERLINED),
            bold(LightYellow),
            bold(LightGreen),
            bold(LightCyan),
            bold(LightYellow),
            bold(LightBlue),
            bold(LightMagenta),
            bold(LightMagenta),
            Style::new()
                .bg(White)
                .fg(Black)
                .add_modifier(Modifier::BOLD),
            bold(LightGreen),
            bold(LightRed),
            bold(LightCyan),
        ],
    }
}

impl Theme {
    /// The dark theme at full depth (tests, and terminals that need no fitting).
    pub fn new(color: bool, ascii: bool) -> Theme {
        Theme::build(color, ascii, ThemeName::Dark, ColorDepth::TrueColor, None)
    }

    /// A built-in theme, a skin's roles over it, every colour fitted to the terminal's depth.
    pub fn build(
        color: bool,
        ascii: bool,
        name: ThemeName,
        depth: ColorDepth,
        skin: Option<&Skin>,
    ) -> Theme {
        let mut palette = builtin(name);
        if let Some(skin) = skin {
            for (role, style) in &skin.roles {
                palette[*role as usize] = *style;
            }
        }
        for s in &mut palette {
            *s = fit_style(*s, depth);
        }
        Theme {
            color,
            ascii,
            depth,
            name,
            palette,
        }
    }

    /// The theme the settings ask for: `[ui] theme`, `[ui] skin` (read and checked now; a bad
    /// one stops the start with the reason), `NO_COLOR`, the terminal's depth.
    pub fn from_settings(
        color: bool,
        ascii: bool,
        name: Option<&str>,
        skin: Option<&std::path::Path>,
        depth: ColorDepth,
    ) -> anyhow::Result<Theme> {
        let name = match name.map(str::trim).filter(|n| !n.is_empty()) {
            None => ThemeName::default(),
            Some(n) => n.parse().map_err(|_| {
                let names: Vec<&str> = <ThemeName as strum::VariantArray>::VARIANTS
                    .iter()
                    .map(|v| v.into())
                    .collect();
                anyhow::anyhow!(
                    "[ui] theme = {n:?} is not a theme; use one of: {}",
                    names.join(", ")
                )
            })?,
        };
        let skin = match skin {
            None => None,
            Some(p) => Some(Skin::load(p)?),
        };
        Ok(Theme::build(color, ascii, name, depth, skin.as_ref()))
    }

    /// A role's style; without colour only its modifiers (grey becomes the dim attribute,
    /// the search highlight reversed and underlined).
    pub fn role(&self, r: Role) -> Style {
        let s = self.palette[r as usize];
        if self.color {
            return s;
        }
        match r {
            Role::Dim => Style::new().add_modifier(Modifier::DIM),
            Role::SearchMatch => {
                Style::new().add_modifier(Modifier::REVERSED | Modifier::UNDERLINED)
            }
            Role::Border => Style::new(),
            _ => Style {
                fg: None,
                bg: None,
                ..s
            },
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
        if focused {
            self.role(Role::BorderFocused)
        } else {
            self.role(Role::Border)
        }
    }

    pub fn title(&self, focused: bool) -> Style {
        let s = Style::new().add_modifier(Modifier::BOLD);
        if focused {
            s.patch(self.role(Role::Title))
        } else {
            s
        }
    }

    pub fn selected(&self) -> Style {
        self.role(Role::Selected)
    }

    pub fn header_row(&self) -> Style {
        self.role(Role::HeaderRow)
    }

    pub fn dim(&self) -> Style {
        self.role(Role::Dim)
    }

    pub fn bold(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn error(&self) -> Style {
        self.role(Role::Error)
    }

    pub fn warn(&self) -> Style {
        self.role(Role::Warn)
    }

    pub fn ok(&self) -> Style {
        self.role(Role::Ok)
    }

    pub fn accent(&self) -> Style {
        self.role(Role::Accent)
    }

    pub fn key(&self) -> Style {
        self.role(Role::Key)
    }

    pub fn status(&self, c: StatusClass) -> Style {
        match c {
            StatusClass::Success => self.ok(),
            StatusClass::Failed => self.error(),
            StatusClass::Warning | StatusClass::Pending => self.warn(),
            StatusClass::Running => self.role(Role::Running),
            StatusClass::Canceled | StatusClass::Skipped => self.dim(),
            StatusClass::Manual => self.role(Role::Manual),
            StatusClass::Unknown => Style::new(),
        }
    }

    pub fn risk(&self, r: Risk) -> Style {
        match r {
            Risk::None => self.dim(),
            Risk::Low => self.ok(),
            Risk::Medium => self.warn(),
            Risk::High => self.error(),
        }
    }

    pub fn activity(&self, k: ActivityKind) -> Style {
        match k {
            ActivityKind::Info => self.dim(),
            ActivityKind::Error => self.error(),
            ActivityKind::Pipeline => self.accent(),
            ActivityKind::Proposal => self.role(Role::Proposal),
            ActivityKind::Decision => self.warn(),
            ActivityKind::Execution => self.ok(),
        }
    }

    pub fn tone(&self, t: Tone) -> Style {
        match t {
            Tone::Normal => Style::new(),
            Tone::Dim => self.dim(),
            Tone::Title => self.bold(),
            Tone::Heading | Tone::File => self.role(Role::Heading),
            Tone::Added => self.role(Role::Added),
            Tone::Removed => self.role(Role::Removed),
            Tone::Warn => self.warn(),
            Tone::Status(c) => self.status(c),
        }
    }

    pub fn search_match(&self) -> Style {
        self.role(Role::SearchMatch)
    }

    /// A job-log SGR style as a ratatui style. Colours 0-15 stay palette colours; 256-colour
    /// and RGB ones are fitted to the terminal's depth.
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
        fit_style(s.add_modifier(m), self.depth)
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

/// The 16 ANSI colours as xterm shows them by default (for fitting RGB and 256-colour values).
const ANSI16: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

/// The RGB value of a 256-colour index (xterm's cube and grey ramp).
fn indexed_rgb(n: u8) -> (u8, u8, u8) {
    match n {
        0..=15 => ANSI16[n as usize].1,
        16..=231 => {
            let n = n - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            (level(n / 36), level((n / 6) % 6), level(n % 6))
        }
        _ => {
            let g = 8 + (n - 232) * 10;
            (g, g, g)
        }
    }
}

fn nearest16(rgb: (u8, u8, u8)) -> Color {
    let d = |a: (u8, u8, u8)| {
        let f = |x: u8, y: u8| (i32::from(x) - i32::from(y)).pow(2);
        f(a.0, rgb.0) + f(a.1, rgb.1) + f(a.2, rgb.2)
    };
    ANSI16
        .iter()
        .min_by_key(|(_, v)| d(*v))
        .map_or(Color::Reset, |(c, _)| *c)
}

/// An RGB colour as the nearest of xterm's 6x6x6 cube.
fn nearest256(r: u8, g: u8, b: u8) -> Color {
    let q = |v: u8| ((u16::from(v) * 5 + 127) / 255) as u8;
    Color::Indexed(16 + 36 * q(r) + 6 * q(g) + q(b))
}

/// A colour as a terminal of `depth` can show it. For 8 colours a bright colour becomes its
/// base colour and asks for bold (which such terminals show bright), and dark grey, which they
/// do not have, becomes no colour and asks for dim.
fn fit_color(c: Color, depth: ColorDepth) -> (Option<Color>, Modifier) {
    let c16 = match (c, depth) {
        (_, ColorDepth::TrueColor) => return (Some(c), Modifier::empty()),
        (Color::Rgb(r, g, b), ColorDepth::Indexed256) => {
            return (Some(nearest256(r, g, b)), Modifier::empty());
        }
        (_, ColorDepth::Indexed256) => return (Some(c), Modifier::empty()),
        (Color::Rgb(r, g, b), _) => nearest16((r, g, b)),
        (Color::Indexed(n), _) => nearest16(indexed_rgb(n)),
        (c, _) => c,
    };
    if depth == ColorDepth::Ansi16 {
        return (Some(c16), Modifier::empty());
    }
    match c16 {
        Color::DarkGray => (None, Modifier::DIM),
        Color::LightRed => (Some(Color::Red), Modifier::BOLD),
        Color::LightGreen => (Some(Color::Green), Modifier::BOLD),
        Color::LightYellow => (Some(Color::Yellow), Modifier::BOLD),
        Color::LightBlue => (Some(Color::Blue), Modifier::BOLD),
        Color::LightMagenta => (Some(Color::Magenta), Modifier::BOLD),
        Color::LightCyan => (Some(Color::Cyan), Modifier::BOLD),
        Color::White => (Some(Color::Gray), Modifier::BOLD),
        c => (Some(c), Modifier::empty()),
    }
}

/// A style with every colour fitted to `depth` (a background loses the bold or dim its
/// colour would ask for: those would change the text, not the background).
pub fn fit_style(s: Style, depth: ColorDepth) -> Style {
    if depth == ColorDepth::TrueColor {
        return s;
    }
    let mut out = s;
    if let Some(c) = s.fg {
        let (c, m) = fit_color(c, depth);
        out.fg = c;
        out = out.add_modifier(m);
    }
    if let Some(c) = s.bg {
        out.bg = fit_color(c, depth).0;
    }
    out
}

/// A user skin (k9s-style): named roles restyled over the built-in theme.
///
/// ```toml
/// [roles]
/// error = "lightred bold"
/// search_match = "black on yellow"
/// border = "#5f5f5f"
/// ```
///
/// A style is a foreground colour, `on` and a background colour, and attributes (`bold`,
/// `dim`, `italic`, `underlined`, `reversed`), in any order. Colours are names (`red`,
/// `lightblue`, `darkgray`, `default`), `#rrggbb` or a 256-colour index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Skin {
    pub roles: Vec<(Role, Style)>,
}

/// Largest skin file read (a skin is a few lines).
const MAX_SKIN_BYTES: u64 = 64 * 1024;

impl Skin {
    pub fn load(path: &std::path::Path) -> anyhow::Result<Skin> {
        use std::io::Read;
        let f = std::fs::File::open(path)
            .map_err(|e| anyhow::anyhow!("skin file {}: {e}", path.display()))?;
        let mut text = String::new();
        f.take(MAX_SKIN_BYTES)
            .read_to_string(&mut text)
            .map_err(|e| anyhow::anyhow!("skin file {}: {e}", path.display()))?;
        Skin::parse(&text).map_err(|e| anyhow::anyhow!("skin file {}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Skin, String> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            // The message without the source snippet.
            e.message().to_string()
        })?;
        let mut skin = Skin::default();
        for (key, value) in &table {
            if key != "roles" {
                return Err(format!("unknown table [{key}]; a skin has only [roles]"));
            }
            let Some(roles) = value.as_table() else {
                return Err("[roles] must be a table of role = \"style\"".into());
            };
            for (name, spec) in roles {
                let role: Role = name.parse().map_err(|_| {
                    let names = <Role as strum::VariantArray>::VARIANTS
                        .iter()
                        .map(|r| <&str>::from(*r));
                    let hint = names
                        .clone()
                        .map(|n| (strsim::damerau_levenshtein(name, n), n))
                        .filter(|(d, _)| *d <= 3)
                        .min_by_key(|(d, _)| *d)
                        .map(|(_, n)| format!("; did you mean {n}?"))
                        .unwrap_or_else(|| {
                            format!("; roles: {}", names.collect::<Vec<_>>().join(", "))
                        });
                    format!("unknown role `{name}`{hint}")
                })?;
                let Some(spec) = spec.as_str() else {
                    return Err(format!(
                        "[roles] {name}: expected a string such as \"red bold\""
                    ));
                };
                let style =
                    parse_style(spec).map_err(|e| format!("[roles] {name} = {spec:?}: {e}"))?;
                skin.roles.push((role, style));
            }
        }
        Ok(skin)
    }
}

/// `"lightred on black bold"` as a style.
fn parse_style(spec: &str) -> Result<Style, String> {
    let mut style = Style::new();
    let mut words = spec.split_whitespace();
    let mut fg_set = false;
    while let Some(w) = words.next() {
        let lw = w.to_ascii_lowercase();
        let m = match lw.as_str() {
            "bold" => Some(Modifier::BOLD),
            "dim" => Some(Modifier::DIM),
            "italic" => Some(Modifier::ITALIC),
            "underlined" | "underline" => Some(Modifier::UNDERLINED),
            "reversed" | "reverse" => Some(Modifier::REVERSED),
            _ => None,
        };
        if let Some(m) = m {
            style = style.add_modifier(m);
        } else if lw == "on" {
            let Some(bg) = words.next() else {
                return Err("`on` needs a background colour after it".into());
            };
            style.bg = Some(parse_color(bg)?);
        } else if !fg_set {
            style.fg = Some(parse_color(w)?);
            fg_set = true;
        } else {
            return Err(format!(
                "`{w}`: a second colour (write `on {w}` for a background)"
            ));
        }
    }
    Ok(style)
}

fn parse_color(w: &str) -> Result<Color, String> {
    if matches!(w.to_ascii_lowercase().as_str(), "default" | "reset") {
        return Ok(Color::Reset);
    }
    w.parse::<Color>().map_err(|_| {
        format!(
            "`{w}` is not a colour (a name such as red, lightblue, darkgray, default; #rrggbb; or 0-255)"
        )
    })
}

//! Themes: colour depth detection and fitting, the built-in themes (one style-annotated render
//! snapshot each), skins and their errors, and the 8-colour terminal (`TERM=xterm`) where every
//! status keeps a colour or attribute of its own and nothing uses a colour it does not have.

use std::collections::BTreeMap;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};

use super::tests::{render, state};
use super::theme::{ColorDepth, Role, Skin, Theme, ThemeName, detect_depth, fit_style};
use crate::app::symbols::StatusClass;

const STATUSES: [StatusClass; 9] = [
    StatusClass::Success,
    StatusClass::Failed,
    StatusClass::Warning,
    StatusClass::Running,
    StatusClass::Pending,
    StatusClass::Canceled,
    StatusClass::Skipped,
    StatusClass::Manual,
    StatusClass::Unknown,
];

const THEMES: [ThemeName; 3] = [ThemeName::Dark, ThemeName::Light, ThemeName::HighContrast];

const EIGHT: [Color; 8] = [
    Color::Black,
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::Gray,
];

#[test]
fn depth_comes_from_colorterm_then_term() {
    let d = |t: Option<&str>, c: Option<&str>| detect_depth(t, c);
    assert_eq!(d(Some("xterm"), None), ColorDepth::Ansi8);
    assert_eq!(d(Some("linux"), None), ColorDepth::Ansi8);
    assert_eq!(d(None, None), ColorDepth::Ansi8);
    assert_eq!(d(Some("rxvt-16color"), None), ColorDepth::Ansi16);
    assert_eq!(d(Some("xterm-256color"), None), ColorDepth::Indexed256);
    assert_eq!(d(Some("tmux-256color"), Some("")), ColorDepth::Indexed256);
    assert_eq!(
        d(Some("xterm-256color"), Some("truecolor")),
        ColorDepth::TrueColor
    );
    assert_eq!(d(Some("xterm"), Some("24bit")), ColorDepth::TrueColor);
    assert_eq!(d(Some("xterm-direct"), None), ColorDepth::TrueColor);
}

#[test]
fn fitting_keeps_colours_a_terminal_has() {
    let s = |c| Style::new().fg(c);
    // 16 colours: RGB and 256-colour values become the nearest ANSI colour.
    assert_eq!(
        fit_style(s(Color::Rgb(200, 10, 10)), ColorDepth::Ansi16).fg,
        Some(Color::Red)
    );
    assert_eq!(
        fit_style(s(Color::Indexed(244)), ColorDepth::Ansi16).fg,
        Some(Color::DarkGray)
    );
    assert_eq!(
        fit_style(s(Color::Indexed(2)), ColorDepth::Ansi16).fg,
        Some(Color::Green)
    );
    // 8 colours: grey becomes dim, bright becomes bold.
    let grey = fit_style(s(Color::DarkGray), ColorDepth::Ansi8);
    assert_eq!(grey.fg, None);
    assert!(grey.add_modifier.contains(Modifier::DIM));
    let bright = fit_style(s(Color::LightRed), ColorDepth::Ansi8);
    assert_eq!(bright.fg, Some(Color::Red));
    assert!(bright.add_modifier.contains(Modifier::BOLD));
    assert_eq!(
        fit_style(s(Color::Indexed(244)), ColorDepth::Ansi8).fg,
        None
    );
    // 256: RGB to the cube; full depth: unchanged.
    assert_eq!(
        fit_style(s(Color::Rgb(255, 0, 0)), ColorDepth::Indexed256).fg,
        Some(Color::Indexed(196))
    );
    assert_eq!(
        fit_style(s(Color::Rgb(1, 2, 3)), ColorDepth::TrueColor).fg,
        Some(Color::Rgb(1, 2, 3))
    );
}

fn ansi8_only(style: Style) -> bool {
    [style.fg, style.bg]
        .into_iter()
        .flatten()
        .all(|c| c == Color::Reset || EIGHT.contains(&c))
}

/// Under `TERM=xterm` every status that has a look of its own at full depth keeps one, and
/// no role uses a colour an 8-colour terminal does not have.
#[test]
fn every_status_stays_distinguishable_on_an_8_colour_terminal() {
    for name in THEMES {
        let full = Theme::build(true, false, name, ColorDepth::TrueColor, None);
        let eight = Theme::build(true, false, name, ColorDepth::Ansi8, None);
        for role in <Role as strum::VariantArray>::VARIANTS {
            assert!(
                ansi8_only(eight.role(*role)),
                "{name:?} {role:?}: {:?}",
                eight.role(*role)
            );
        }
        for a in STATUSES {
            assert!(ansi8_only(eight.status(a)), "{name:?} {a:?}");
            assert_ne!(
                eight.status(a).fg,
                Some(Color::Black),
                "{name:?} {a:?} vanishes"
            );
            for b in STATUSES {
                if full.status(a) != full.status(b) {
                    assert_ne!(
                        eight.status(a),
                        eight.status(b),
                        "{name:?}: {a:?} and {b:?} look alike on 8 colours"
                    );
                }
            }
        }
    }
}

/// The whole screen rendered for an 8-colour terminal uses only its 8 colours.
#[test]
fn a_screen_for_an_8_colour_terminal_uses_only_8_colours() {
    for name in THEMES {
        let s = state(120, 40);
        let t = render(&s, Theme::build(true, false, name, ColorDepth::Ansi8, None));
        let buf = t.backend().buffer();
        for (i, cell) in buf.content.iter().enumerate() {
            for c in [cell.fg, cell.bg] {
                assert!(
                    c == Color::Reset || EIGHT.contains(&c),
                    "{name:?}: cell {i} ({:?}) uses {c:?}",
                    cell.symbol()
                );
            }
        }
    }
}

#[test]
fn no_color_drops_every_colour_whatever_the_theme_or_skin() {
    let skin = Skin::parse("[roles]\nerror = \"#ff0000 on blue underlined\"\n").unwrap();
    for name in THEMES {
        let t = Theme::build(false, false, name, ColorDepth::TrueColor, Some(&skin));
        for role in <Role as strum::VariantArray>::VARIANTS {
            let s = t.role(*role);
            assert!(s.fg.is_none() && s.bg.is_none(), "{name:?} {role:?}");
        }
        assert!(t.error().add_modifier.contains(Modifier::UNDERLINED));
        let s = state(100, 30);
        let r = render(&s, t);
        assert!(
            r.backend()
                .buffer()
                .content
                .iter()
                .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
        );
    }
}

#[test]
fn a_skin_overrides_named_roles_and_is_fitted_too() {
    let skin = Skin::parse(
        "[roles]\nerror = \"lightred bold\"\nsearch_match = \"black on yellow\"\nborder = \"#5f5f5f\"\n",
    )
    .unwrap();
    let t = Theme::build(
        true,
        false,
        ThemeName::Dark,
        ColorDepth::TrueColor,
        Some(&skin),
    );
    assert_eq!(
        t.error(),
        Style::new()
            .fg(Color::LightRed)
            .add_modifier(Modifier::BOLD)
    );
    assert_eq!(t.border(false).fg, Some(Color::Rgb(0x5f, 0x5f, 0x5f)));
    let t = Theme::build(true, false, ThemeName::Dark, ColorDepth::Ansi8, Some(&skin));
    assert_eq!(t.error().fg, Some(Color::Red));
    assert!(ansi8_only(t.border(false)));
}

#[test]
fn skin_errors_say_what_is_wrong_and_how_to_fix_it() {
    let e = |text: &str| Skin::parse(text).unwrap_err();
    assert_eq!(
        e("[roles]\nerorr = \"red\"\n"),
        "unknown role `erorr`; did you mean error?"
    );
    assert!(e("[roles]\nzzzzzzzzzzzz = \"red\"\n").contains("roles: border, border_focused"));
    assert!(e("[roles]\nerror = \"redd\"\n").contains("`redd` is not a colour"));
    assert!(e("[roles]\nerror = \"red blue\"\n").contains("write `on blue`"));
    assert!(e("[roles]\nerror = \"red on\"\n").contains("needs a background"));
    assert!(e("[roles]\nerror = 3\n").contains("expected a string"));
    assert!(e("[colors]\nerror = \"red\"\n").contains("unknown table [colors]"));
    assert!(e("[roles\n").contains("invalid") || !e("[roles\n").is_empty());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("skin.toml");
    std::fs::write(&p, "[roles]\nokk = \"green\"\n").unwrap();
    let e = Theme::from_settings(true, false, None, Some(&p), ColorDepth::TrueColor)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("skin file {}: ", p.display())) && e.contains("did you mean ok?"),
        "{e}"
    );
    let e = Theme::from_settings(
        true,
        false,
        None,
        Some(&dir.path().join("none")),
        ColorDepth::TrueColor,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("skin file") && e.contains("none"), "{e}");
    let e = Theme::from_settings(true, false, Some("solarized"), None, ColorDepth::TrueColor)
        .unwrap_err()
        .to_string();
    assert!(e.contains("dark, light, high-contrast"), "{e}");
    assert_eq!(
        Theme::from_settings(true, false, Some("light"), None, ColorDepth::Ansi16)
            .unwrap()
            .name,
        ThemeName::Light
    );
}

/// The screen as text, then the same grid with one letter per distinct cell style, then the
/// legend: what a reviewer needs to judge a theme from its snapshot.
fn styled(buf: &Buffer) -> String {
    let mut legend: BTreeMap<String, char> = BTreeMap::new();
    let letters: Vec<char> = ".abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        .chars()
        .collect();
    let (w, h) = (buf.area.width, buf.area.height);
    let mut text = String::new();
    let mut grid = String::new();
    for y in 0..h {
        for x in 0..w {
            let c = &buf[(x, y)];
            text.push_str(c.symbol());
            let key = format!("fg={:?} bg={:?} mod={:?}", c.fg, c.bg, c.modifier);
            let n = legend.len();
            let l = *legend
                .entry(key)
                .or_insert_with(|| letters.get(n).copied().unwrap_or('?'));
            grid.push(l);
        }
        text.push('\n');
        grid.push('\n');
    }
    let mut keys: Vec<(char, String)> = legend.into_iter().map(|(k, v)| (v, k)).collect();
    keys.sort();
    let legend: Vec<String> = keys.into_iter().map(|(l, k)| format!("{l} {k}")).collect();
    format!("{text}\n{grid}\n{}\n", legend.join("\n"))
}

#[test]
fn theme_dark_100x30() {
    let t = render(
        &state(100, 30),
        Theme::build(true, false, ThemeName::Dark, ColorDepth::Indexed256, None),
    );
    insta::assert_snapshot!(styled(t.backend().buffer()));
}

#[test]
fn theme_light_100x30() {
    let t = render(
        &state(100, 30),
        Theme::build(true, false, ThemeName::Light, ColorDepth::Indexed256, None),
    );
    insta::assert_snapshot!(styled(t.backend().buffer()));
}

#[test]
fn theme_high_contrast_100x30() {
    let t = render(
        &state(100, 30),
        Theme::build(
            true,
            false,
            ThemeName::HighContrast,
            ColorDepth::Indexed256,
            None,
        ),
    );
    insta::assert_snapshot!(styled(t.backend().buffer()));
}

#[test]
fn theme_dark_on_8_colours_100x30() {
    let t = render(
        &state(100, 30),
        Theme::build(true, false, ThemeName::Dark, ColorDepth::Ansi8, None),
    );
    insta::assert_snapshot!(styled(t.backend().buffer()));
}

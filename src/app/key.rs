//! The app's own key type: what a key press means independent of the terminal library, with
//! parsing and display of the key specs used in `assets/keymap.toml` and `[ui.keymap]`.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCode {
    Char(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Insert,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    F(u8),
}

/// Modifier set. Shift is only kept for keys whose code does not already carry it (`shift-up`);
/// for characters the case of the character is the shift (`G`, not `shift-g`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mods {
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
}

impl Mods {
    pub const NONE: Mods = Mods {
        ctrl: false,
        alt: false,
        shift: false,
    };
    pub const CTRL: Mods = Mods {
        ctrl: true,
        alt: false,
        shift: false,
    };

    pub fn is_empty(&self) -> bool {
        !self.ctrl && !self.alt && !self.shift
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCode,
    pub mods: Mods,
}

impl Key {
    /// Builds a key in normal form (see [`Key::normalized`]).
    pub fn new(code: KeyCode, mods: Mods) -> Key {
        Key { code, mods }.normalized()
    }

    pub fn plain(code: KeyCode) -> Key {
        Key::new(code, Mods::NONE)
    }

    pub fn char(c: char) -> Key {
        Key::plain(KeyCode::Char(c))
    }

    pub fn ctrl(c: char) -> Key {
        Key::new(KeyCode::Char(c), Mods::CTRL)
    }

    /// One spelling per key, so that a terminal's report and a config spec compare equal:
    /// shift on a character is folded into the character, `shift-tab` is `BackTab`, and a
    /// control character is lower-case (terminals cannot tell `ctrl-R` from `ctrl-r`).
    pub fn normalized(mut self) -> Key {
        match self.code {
            KeyCode::Char(c) => {
                if self.mods.shift {
                    self.mods.shift = false;
                    if c.is_ascii_lowercase() {
                        self.code = KeyCode::Char(c.to_ascii_uppercase());
                    }
                }
                if self.mods.ctrl && c.is_ascii_uppercase() {
                    self.code = KeyCode::Char(c.to_ascii_lowercase());
                }
                if c == ' ' && self.mods.is_empty() {
                    self.code = KeyCode::Char(' ');
                }
            }
            KeyCode::Tab if self.mods.shift => {
                self.code = KeyCode::BackTab;
                self.mods.shift = false;
            }
            KeyCode::BackTab => self.mods.shift = false,
            _ => {}
        }
        self
    }

    /// Parses a key spec: `q`, `G`, `?`, `ctrl-r`, `alt-x`, `shift-tab`, `enter`, `pgdn`, `f5`,
    /// `space`. Modifier names are case-insensitive; a single character is taken literally.
    pub fn parse(spec: &str) -> Result<Key, String> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err("empty key spec".into());
        }
        let mut mods = Mods::NONE;
        let mut rest = spec;
        // A lone "-" is the minus key, and "ctrl--" is ctrl with minus.
        while let Some((head, tail)) = rest.split_once('-') {
            if head.is_empty() || tail.is_empty() {
                break;
            }
            match head.to_ascii_lowercase().as_str() {
                "ctrl" | "c" | "control" => mods.ctrl = true,
                "alt" | "a" | "meta" | "m" => mods.alt = true,
                "shift" | "s" => mods.shift = true,
                _ => return Err(format!("unknown modifier {head:?} in key {spec:?}")),
            }
            rest = tail;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" | "cr" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "backspace" | "bs" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "pgup" | "pageup" => KeyCode::PageUp,
                "pgdn" | "pgdown" | "pagedown" => KeyCode::PageDown,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "space" => KeyCode::Char(' '),
                "minus" => KeyCode::Char('-'),
                "comma" => KeyCode::Char(','),
                f if f.starts_with('f') && f.len() > 1 => match f[1..].parse::<u8>() {
                    Ok(n) if (1..=24).contains(&n) => KeyCode::F(n),
                    _ => return Err(format!("unknown key {rest:?} in {spec:?}")),
                },
                _ => return Err(format!("unknown key {rest:?} in {spec:?}")),
            },
        };
        Ok(Key::new(code, mods))
    }

    /// A control chord: what tmux, screen and shells also claim, so never bound to anything
    /// destructive.
    pub fn is_ctrl_chord(&self) -> bool {
        self.mods.ctrl
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.mods.alt {
            f.write_str("alt-")?;
        }
        if self.mods.shift {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("del"),
            KeyCode::Insert => f.write_str("ins"),
            KeyCode::Up => f.write_str("up"),
            KeyCode::Down => f.write_str("down"),
            KeyCode::Left => f.write_str("left"),
            KeyCode::Right => f.write_str("right"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::F(n) => write!(f, "f{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_round_trip() {
        for spec in [
            "q",
            "G",
            "?",
            "ctrl-r",
            "alt-x",
            "shift-tab",
            "enter",
            "pgdn",
            "f5",
            "space",
            "-",
            "ctrl--",
            "shift-up",
        ] {
            let k = Key::parse(spec).unwrap();
            assert_eq!(Key::parse(&k.to_string()).unwrap(), k, "{spec}");
        }
    }

    #[test]
    fn shift_is_folded_into_characters() {
        assert_eq!(Key::parse("shift-g").unwrap(), Key::char('G'));
        assert_eq!(
            Key::new(
                KeyCode::Char('G'),
                Mods {
                    shift: true,
                    ..Mods::NONE
                }
            ),
            Key::char('G')
        );
        assert_eq!(
            Key::parse("shift-tab").unwrap(),
            Key::plain(KeyCode::BackTab)
        );
        assert_eq!(Key::parse("CTRL-R").unwrap(), Key::ctrl('r'));
    }

    #[test]
    fn modifiers_distinguish_keys() {
        assert_ne!(Key::char('r'), Key::ctrl('r'));
        assert_ne!(
            Key::char('x'),
            Key::new(
                KeyCode::Char('x'),
                Mods {
                    alt: true,
                    ..Mods::NONE
                }
            )
        );
    }

    #[test]
    fn rejects_garbage() {
        assert!(Key::parse("").is_err());
        assert!(Key::parse("hyper-x").is_err());
        assert!(Key::parse("pagedownn").is_err());
        assert!(Key::parse("f99").is_err());
    }
}

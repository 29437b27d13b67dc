//! crossterm key events -> the app's key type.

use crossterm::event::{KeyCode as CKey, KeyEvent, KeyEventKind, KeyModifiers};

use crate::app::{Key, KeyCode, Mods};

pub fn key(ev: KeyEvent) -> Option<Key> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    let code = match ev.code {
        CKey::Char(c) => KeyCode::Char(c),
        CKey::Enter => KeyCode::Enter,
        CKey::Esc => KeyCode::Esc,
        CKey::Tab => KeyCode::Tab,
        CKey::BackTab => KeyCode::BackTab,
        CKey::Backspace => KeyCode::Backspace,
        CKey::Delete => KeyCode::Delete,
        CKey::Insert => KeyCode::Insert,
        CKey::Up => KeyCode::Up,
        CKey::Down => KeyCode::Down,
        CKey::Left => KeyCode::Left,
        CKey::Right => KeyCode::Right,
        CKey::PageUp => KeyCode::PageUp,
        CKey::PageDown => KeyCode::PageDown,
        CKey::Home => KeyCode::Home,
        CKey::End => KeyCode::End,
        CKey::F(n) => KeyCode::F(n),
        _ => return None,
    };
    let m = ev.modifiers;
    Some(Key::new(
        code,
        Mods {
            ctrl: m.contains(KeyModifiers::CONTROL),
            alt: m.contains(KeyModifiers::ALT),
            shift: m.contains(KeyModifiers::SHIFT),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_modifiers_exactly() {
        let k = |c, m| key(KeyEvent::new(c, m)).unwrap();
        assert_eq!(k(CKey::Char('r'), KeyModifiers::CONTROL), Key::ctrl('r'));
        assert_eq!(k(CKey::Char('G'), KeyModifiers::SHIFT), Key::char('G'));
        assert_eq!(
            k(CKey::Tab, KeyModifiers::SHIFT),
            Key::plain(KeyCode::BackTab)
        );
        assert_ne!(k(CKey::Char('a'), KeyModifiers::ALT), Key::char('a'));
        let mut release = KeyEvent::new(CKey::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(key(release), None);
    }
}

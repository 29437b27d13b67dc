//! A one-line text input (palette, filter, log search): plain keys edit, Enter submits, Esc
//! cancels.

use super::key::{Key, KeyCode};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    pub text: String,
    /// Cursor position in characters.
    pub cursor: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputOutcome {
    Edited,
    Moved,
    Submit,
    Cancel,
    Ignored,
}

impl LineInput {
    pub fn with_text(text: &str) -> LineInput {
        LineInput {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    fn byte_at(&self, char_idx: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_idx)
            .map(|(b, _)| b)
            .unwrap_or(self.text.len())
    }

    pub fn handle(&mut self, key: Key) -> InputOutcome {
        let len = self.text.chars().count();
        match (key.code, key.mods.ctrl, key.mods.alt) {
            (KeyCode::Enter, _, _) => InputOutcome::Submit,
            (KeyCode::Esc, _, _) | (KeyCode::Char('c'), true, false) => InputOutcome::Cancel,
            (KeyCode::Backspace, _, _) | (KeyCode::Char('h'), true, false) => {
                if self.cursor == 0 {
                    return InputOutcome::Ignored;
                }
                let b = self.byte_at(self.cursor - 1);
                self.text.remove(b);
                self.cursor -= 1;
                InputOutcome::Edited
            }
            (KeyCode::Delete, _, _) => {
                if self.cursor >= len {
                    return InputOutcome::Ignored;
                }
                let b = self.byte_at(self.cursor);
                self.text.remove(b);
                InputOutcome::Edited
            }
            (KeyCode::Char('u'), true, false) => {
                self.text.clear();
                self.cursor = 0;
                InputOutcome::Edited
            }
            (KeyCode::Char('w'), true, false) => {
                let head: String = self.text.chars().take(self.cursor).collect();
                let trimmed = head.trim_end();
                let cut = trimmed.rfind(' ').map(|i| i + 1).unwrap_or(0);
                let tail: String = self.text.chars().skip(self.cursor).collect();
                self.text = format!("{}{}", &head[..cut], tail);
                self.cursor = head[..cut].chars().count();
                InputOutcome::Edited
            }
            (KeyCode::Left, _, _) if self.cursor > 0 => {
                self.cursor -= 1;
                InputOutcome::Moved
            }
            (KeyCode::Right, _, _) if self.cursor < len => {
                self.cursor += 1;
                InputOutcome::Moved
            }
            (KeyCode::Home, _, _) | (KeyCode::Char('a'), true, false) => {
                self.cursor = 0;
                InputOutcome::Moved
            }
            (KeyCode::End, _, _) | (KeyCode::Char('e'), true, false) => {
                self.cursor = len;
                InputOutcome::Moved
            }
            (KeyCode::Char(c), false, false) if !c.is_control() => {
                let b = self.byte_at(self.cursor);
                self.text.insert(b, c);
                self.cursor += 1;
                InputOutcome::Edited
            }
            _ => InputOutcome::Ignored,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(s: &str) -> LineInput {
        let mut i = LineInput::default();
        for c in s.chars() {
            i.handle(Key::char(c));
        }
        i
    }

    #[test]
    fn edits() {
        let mut i = typed("héllo wörld");
        assert_eq!(
            i.handle(Key::plain(KeyCode::Backspace)),
            InputOutcome::Edited
        );
        assert_eq!(i.text, "héllo wörl");
        i.handle(Key::ctrl('w'));
        assert_eq!(i.text, "héllo ");
        i.handle(Key::plain(KeyCode::Home));
        i.handle(Key::char('>'));
        assert_eq!(i.text, ">héllo ");
        assert_eq!(i.handle(Key::plain(KeyCode::Enter)), InputOutcome::Submit);
        assert_eq!(i.handle(Key::plain(KeyCode::Esc)), InputOutcome::Cancel);
        i.handle(Key::ctrl('u'));
        assert_eq!(i, LineInput::default());
        assert_eq!(
            i.handle(Key::plain(KeyCode::Backspace)),
            InputOutcome::Ignored
        );
    }
}

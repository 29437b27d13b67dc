//! The `?` overlay's rows, generated from the active keymap and the palette's commands (the
//! renderer styles them), and how far they scroll: `update` and the renderer agree on both.

use super::keymap::{Context, Keymap};
use super::layout::Layout;
use super::palette::COMMANDS;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpRow {
    /// A context's or section's title.
    Title(&'static str),
    /// An action and its keys, `(unbound)` when it has none.
    Binding {
        keys: String,
        action: &'static str,
    },
    /// A palette command with its argument, and what it does.
    Command {
        usage: String,
        what: &'static str,
    },
    Hint(&'static str),
    Blank,
}

pub fn rows(keymap: &Keymap) -> Vec<HelpRow> {
    let mut out = Vec::new();
    for ctx in Context::ALL {
        out.push(HelpRow::Title(ctx.title()));
        for (action, keys) in keymap.context_bindings(ctx) {
            let keys = if keys.is_empty() {
                "(unbound)".to_string()
            } else {
                keys.iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.push(HelpRow::Binding {
                keys,
                action: action.description(),
            });
        }
        out.push(HelpRow::Blank);
    }
    out.push(HelpRow::Title("Commands (:)"));
    for (name, arg, what) in COMMANDS {
        let usage = if arg.is_empty() {
            format!(":{name}")
        } else {
            format!(":{name} {arg}")
        };
        out.push(HelpRow::Command { usage, what });
    }
    out.push(HelpRow::Blank);
    out.push(HelpRow::Hint(
        "Keys can be changed in the config file under [ui.keymap] (action = \"key\").",
    ));
    out
}

/// Rows of text the help shows at once: the body less the popup's margin and its border.
pub fn visible_rows(layout: &Layout) -> usize {
    layout.body.h.saturating_sub(4) as usize
}

/// The furthest the help scrolls: its last row at the bottom of the popup.
pub fn max_scroll(keymap: &Keymap, layout: &Layout) -> usize {
    rows(keymap).len().saturating_sub(visible_rows(layout))
}

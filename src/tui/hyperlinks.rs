//! OSC 8 hyperlinks on the ids the screen shows (`!19`, `#4213`): a click opens the MR or
//! pipeline in the browser. ratatui cells cannot carry escape sequences (a cell's text is
//! measured and written as is), so the drawn frame is scanned for ids, each id's cells get
//! the URL of what it names, and the backend (`sgr::DepthBackend`) writes the OSC 8 open and
//! close around those cells as it sends them.
//!
//! The URLs come from GitLab: only http(s) of the instance's own origin is linked, with no
//! control character (an ESC or BEL inside an OSC would end it early and let the rest reach the
//! terminal as commands).

use std::collections::HashMap;

use ratatui::buffer::Buffer;
use reqwest::Url;

use crate::gitlab::ProjectSnapshot;

/// The URL of each linked cell, by (x, y).
pub type LinkMap = HashMap<(u16, u16), String>;

/// Whether the terminal named by `TERM` is known to show OSC 8 as garbage or not at all:
/// the Linux console and dumb terminals.
pub fn term_breaks_osc8(term: Option<&str>) -> bool {
    matches!(term, Some("linux" | "dumb") | None)
}

/// `url` when it may be written into an OSC 8: http(s), on `origin`'s scheme, host and port,
/// and nothing a terminal would read as a control (the serialised URL is percent-encoded;
/// the check covers what the parser might have let through).
pub fn safe_url(url: &str, origin: &Url) -> Option<String> {
    let u = Url::parse(url).ok()?;
    if !matches!(u.scheme(), "http" | "https") || u.origin() != origin.origin() {
        return None;
    }
    let s = u.to_string();
    (!s.chars().any(char::is_control)).then_some(s)
}

/// The instance's origin, from the project's own page.
pub fn origin(snap: &ProjectSnapshot) -> Option<Url> {
    snap.project
        .web_url
        .as_deref()
        .and_then(|u| Url::parse(u).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// The GitLab page of what `sigil` + `id` names in `snap`: `!` an open MR, `#` a pipeline.
fn target(snap: &ProjectSnapshot, sigil: char, id: u64) -> Option<&str> {
    match sigil {
        '!' => snap.mr(id).and_then(|m| m.web_url.as_deref()),
        '#' => snap
            .pipeline(id)
            .or_else(|| snap.downstream_pipeline(id))
            .and_then(|p| p.web_url.as_deref()),
        _ => None,
    }
}

/// Every `!N` and `#N` on screen that names something in `snap`, as cells with its URL. An id
/// is a whole token: `a!1`, `!1a` or `#1.5` are not ids.
pub fn scan(buf: &Buffer, snap: &ProjectSnapshot) -> LinkMap {
    let mut map = LinkMap::new();
    let Some(origin) = origin(snap) else {
        return map;
    };
    let area = buf.area;
    for y in area.top()..area.bottom() {
        // One ASCII char per cell; anything else (a wide char, a border) is a boundary.
        let row: Vec<Option<char>> = (area.left()..area.right())
            .map(|x| {
                let s = buf.cell((x, y)).map(|c| c.symbol()).unwrap_or(" ");
                let mut cs = s.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) if c.is_ascii() => Some(c),
                    _ => None,
                }
            })
            .collect();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let mut i = 0;
        while i < row.len() {
            let sigil = match row[i] {
                Some(c @ ('!' | '#')) if i == 0 || !word(row[i - 1]) => c,
                _ => {
                    i += 1;
                    continue;
                }
            };
            let mut end = i + 1;
            while end < row.len() && row[end].is_some_and(|c| c.is_ascii_digit()) {
                end += 1;
            }
            let digits: String = row[i + 1..end].iter().flatten().collect();
            let whole =
                end > i + 1 && (end == row.len() || !word(row[end]) && row[end] != Some('.'));
            if whole
                && let Ok(id) = digits.parse::<u64>()
                && let Some(url) = target(snap, sigil, id).and_then(|u| safe_url(u, &origin))
            {
                for x in i..end {
                    map.insert((area.left() + x as u16, y), url.clone());
                }
            }
            i = end.max(i + 1);
        }
    }
    map
}

/// The cells whose link differs between two frames: drawn again (their text may not have
/// changed, so the diff would not send them).
pub fn changed(old: &LinkMap, new: &LinkMap) -> Vec<(u16, u16)> {
    let mut v: Vec<(u16, u16)> = old
        .iter()
        .filter(|(k, u)| new.get(*k) != Some(*u))
        .map(|(k, _)| *k)
        .chain(
            new.iter()
                .filter(|(k, u)| old.get(*k) != Some(*u))
                .map(|(k, _)| *k),
        )
        .collect();
    v.sort_unstable_by_key(|&(x, y)| (y, x));
    v.dedup();
    v
}

/// OSC 8 open for `url` (already [`safe_url`]) and the close: ST-terminated.
pub fn open(url: &str) -> String {
    format!("\x1b]8;;{url}\x1b\\")
}

pub const CLOSE: &str = "\x1b]8;;\x1b\\";

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;

    fn snap() -> ProjectSnapshot {
        let mut s = crate::testkit::snapshot();
        s.project.web_url = Some("http://gitlab.test/acme/platform".into());
        s
    }

    #[test]
    fn ids_on_screen_link_to_their_pages() {
        let s = snap();
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, 2));
        buf.set_string(
            0,
            0,
            "│!1  Fix cache   #101 a!2 !2x #102.5",
            ratatui::style::Style::new(),
        );
        buf.set_string(0, 1, "!99 #7 !2", ratatui::style::Style::new());
        let m = scan(&buf, &s);
        let at = |x: u16, y: u16| m.get(&(x, y)).map(String::as_str);
        assert_eq!(
            at(1, 0),
            Some("http://gitlab.test/acme/platform/-/merge_requests/1")
        );
        assert_eq!(at(2, 0), at(1, 0));
        assert_eq!(at(3, 0), None);
        assert_eq!(
            at(17, 0),
            Some("http://gitlab.test/acme/platform/-/pipelines/101")
        );
        // `a!2`, `!2x` and `#102.5` are not ids; an unknown MR or pipeline is not linked.
        assert_eq!(m.iter().filter(|((_, y), _)| *y == 0).count(), 2 + 4);
        assert_eq!(at(0, 1), None);
        assert_eq!(at(4, 1), None);
        assert_eq!(
            at(7, 1),
            Some("http://gitlab.test/acme/platform/-/merge_requests/2")
        );
    }

    /// A URL from the server is linked only on the instance's own origin, over http(s), and
    /// never carries a control character into the terminal.
    #[test]
    fn only_safe_urls_of_the_instance_are_linked() {
        let o = Url::parse("https://gitlab.example.com/g/p").unwrap();
        assert_eq!(
            safe_url("https://gitlab.example.com/g/p/-/merge_requests/1", &o).as_deref(),
            Some("https://gitlab.example.com/g/p/-/merge_requests/1")
        );
        assert_eq!(safe_url("https://evil.example.com/x", &o), None);
        assert_eq!(
            safe_url("http://gitlab.example.com/x", &o),
            None,
            "another scheme"
        );
        assert_eq!(safe_url("javascript:alert(1)", &o), None);
        assert_eq!(safe_url("file:///etc/passwd", &o), None);
        let hostile = safe_url("https://gitlab.example.com/a\x1b]0;pwned\x07b", &o);
        assert!(hostile.is_none_or(|u| !u.chars().any(|c| c.is_control())));
        let mut s = snap();
        std::sync::Arc::make_mut(&mut s.mrs)
            .get_mut(&1)
            .map(std::sync::Arc::make_mut)
            .unwrap()
            .web_url = Some("https://evil.example.com/phish".into());
        let mut buf = Buffer::empty(Rect::new(0, 0, 10, 1));
        buf.set_string(0, 0, "!1", ratatui::style::Style::new());
        assert!(scan(&buf, &s).is_empty());
    }

    #[test]
    fn a_link_that_moves_is_redrawn_and_dumb_terminals_get_none() {
        let a: LinkMap = [((1, 0), "u".to_string()), ((2, 0), "u".to_string())].into();
        let b: LinkMap = [((2, 0), "v".to_string())].into();
        assert_eq!(changed(&a, &b), [(1, 0), (2, 0)]);
        assert!(changed(&a, &a).is_empty());
        assert!(term_breaks_osc8(Some("linux")) && term_breaks_osc8(Some("dumb")));
        assert!(term_breaks_osc8(None));
        assert!(!term_breaks_osc8(Some("xterm-256color")));
    }
}

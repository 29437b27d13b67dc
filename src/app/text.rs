//! Text helpers for untrusted strings (MR titles, descriptions, names, log lines) and for the
//! compact time formats used on screen.

use std::borrow::Cow;

use jiff::Timestamp;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

pub use crate::text::{sanitize_line, sanitize_lines};

pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Cuts `s` to at most `max` columns, ending with `…` (or `~` in ASCII mode) when cut.
pub fn truncate(s: &str, max: usize, ascii: bool) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let ell = if ascii { '~' } else { '…' };
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push(ell);
    Cow::Owned(out)
}

/// Greedy word wrap to `max` columns; words longer than a line are split.
pub fn wrap(s: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut cur_w = 0;
    for word in s.split(' ') {
        let ww = width(word);
        if cur_w > 0 && cur_w + 1 + ww > max {
            lines.push(std::mem::take(&mut cur));
            cur_w = 0;
        }
        if ww > max {
            for c in word.chars() {
                let cw = c.width().unwrap_or(0);
                if cur_w + cw > max {
                    lines.push(std::mem::take(&mut cur));
                    cur_w = 0;
                }
                cur.push(c);
                cur_w += cw;
            }
            continue;
        }
        if cur_w > 0 {
            cur.push(' ');
            cur_w += 1;
        }
        cur.push_str(word);
        cur_w += ww;
    }
    lines.push(cur);
    lines
}

/// Coarse age: `<1m`, `7m`, `5h`, `3d`. Coarse on purpose: the label changes at most once a
/// minute, so an idle screen stays unchanged and nothing is redrawn.
pub fn age(then: Option<Timestamp>, now: Timestamp) -> String {
    let Some(then) = then else {
        return "-".into();
    };
    let secs = now.as_second() - then.as_second();
    if secs < 60 {
        "<1m".into()
    } else if secs < 3600 {
        format!("{}m", secs / 60)
    } else if secs < 48 * 3600 {
        format!("{}h", secs / 3600)
    } else if secs < 1000 * 86400 {
        format!("{}d", secs / 86400)
    } else {
        // 1,000+ days read in years (gitlab.com projects hold MRs that old).
        format!("{}y", secs / (365 * 86400))
    }
}

/// A duration in seconds as `45s`, `3m05s`, `1h02m`.
pub fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "-".into();
    }
    let s = secs.round() as u64;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        long(s)
    }
}

/// An hour or more: `1h02m` up to two days, then `3d04h` (a 14-day pipeline as `342h05m` is not
/// readable), then whole days, then years.
fn long(s: u64) -> String {
    if s < 48 * 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s < 100 * 86400 {
        format!("{}d{:02}h", s / 86400, (s % 86400) / 3600)
    } else if s < 1000 * 86400 {
        format!("{}d", s / 86400)
    } else {
        format!("{}y", s / (365 * 86400))
    }
}

/// Elapsed time of something still running, to the minute: it is redrawn only when something
/// else changes or once a minute, so seconds would show a frozen, wrong number.
pub fn elapsed(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "-".into();
    }
    let s = secs as u64;
    if s < 60 {
        "<1m".into()
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else {
        long(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_ages_and_durations_stay_short() {
        let now = Timestamp::from_second(2_000_000_000).unwrap();
        let ago = |d: i64| {
            age(
                Some(Timestamp::from_second(2_000_000_000 - d).unwrap()),
                now,
            )
        };
        assert_eq!(ago(999 * 86400), "999d");
        assert_eq!(ago(1200 * 86400), "3y");
        let fourteen_days = 14.0 * 86400.0 + 5.0 * 3600.0;
        assert_eq!(duration(fourteen_days), "14d05h");
        assert_eq!(elapsed(fourteen_days), "14d05h");
        assert_eq!(duration(3720.0), "1h02m");
        assert_eq!(duration(47.0 * 3600.0), "47h00m");
    }

    #[test]
    fn truncates_by_display_width() {
        assert_eq!(truncate("hello", 5, false), "hello");
        assert_eq!(truncate("hello world", 6, false), "hello…");
        assert_eq!(truncate("hello world", 6, true), "hello~");
        assert_eq!(truncate("日本語テキスト", 5, false), "日本…");
    }

    #[test]
    fn wraps_words() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("", 3), vec![""]);
    }

    #[test]
    fn ages_and_durations_are_coarse() {
        let now: Timestamp = "2026-01-01T12:00:00Z".parse().unwrap();
        let t = |s: &str| Some(s.parse::<Timestamp>().unwrap());
        assert_eq!(age(t("2026-01-01T11:59:30Z"), now), "<1m");
        assert_eq!(age(t("2026-01-01T11:53:00Z"), now), "7m");
        assert_eq!(age(t("2026-01-01T07:00:00Z"), now), "5h");
        assert_eq!(age(t("2025-12-29T12:00:00Z"), now), "3d");
        assert_eq!(age(None, now), "-");
        assert_eq!(duration(45.4), "45s");
        assert_eq!(duration(185.0), "3m05s");
        assert_eq!(duration(3720.0), "1h02m");
        assert_eq!(duration(f64::NAN), "-");
        assert_eq!(elapsed(59.0), "<1m");
        assert_eq!(elapsed(185.0), "3m");
        assert_eq!(elapsed(3720.0), "1h02m");
    }
}

//! The terminal's side of `o` and `y`: a browser where there is a local display, and the
//! clipboard through OSC 52 — the one way that works over SSH and through tmux, since the
//! escape sequence travels with the output to the operator's own terminal.

use base64::Engine;

/// `ESC ] 52 ; c ; <base64> BEL`: "put this on the clipboard". Base64 keeps any byte of the
/// text from being read as a control sequence.
pub fn osc52(text: &str) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{b64}\x07").into_bytes()
}

/// Whether a browser started here would show up where the operator is: a local X11 or Wayland
/// display (over SSH without forwarding there is none), or macOS.
pub fn has_display(env: impl Fn(&str) -> Option<String>) -> bool {
    let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
    cfg!(target_os = "macos") || set("DISPLAY") || set("WAYLAND_DISPLAY")
}

/// The program that opens a URL: `$BROWSER` when set (its first word; arguments are not
/// interpreted by a shell), else the platform's opener.
pub fn opener(env: impl Fn(&str) -> Option<String>) -> String {
    env("BROWSER")
        .and_then(|b| b.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "open".into()
            } else {
                "xdg-open".into()
            }
        })
}

/// Carries out `o` or `y` and says what happened; `None` for any other effect.
pub fn perform(fx: &crate::app::msg::Effect, osc52_on: bool) -> Option<String> {
    use crate::app::msg::Effect;
    match fx {
        Effect::OpenUrl { what, url } => Some(open(what, url)),
        Effect::CopyUrl { what, url } => Some(copy(what, url, osc52_on)),
        _ => None,
    }
}

/// Opens `url` in the background (never waits on the browser; its output goes nowhere, so it
/// cannot draw over the screen) and says what happened, for the status line.
pub fn open(what: &str, url: &str) -> String {
    let env = |k: &str| std::env::var(k).ok();
    if !has_display(env) {
        return format!("{what}: {url} (no local display to open a browser on; y copies it)");
    }
    let program = opener(env);
    let spawned = std::process::Command::new(&program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match spawned {
        Ok(mut child) => {
            // Reaped off the UI thread, so no zombie is left behind.
            std::thread::spawn(move || child.wait());
            format!("opening {what} with {program}: {url}")
        }
        Err(e) => format!("{what}: {url} (cannot run {program}: {e})"),
    }
}

/// Writes `url` to the terminal's clipboard when allowed, and says what happened.
pub fn copy(what: &str, url: &str, osc52_on: bool) -> String {
    use std::io::Write;
    if !osc52_on {
        return format!("{what}: {url} (clipboard off: [ui] osc52 = false)");
    }
    let mut out = std::io::stdout();
    match out.write_all(&osc52(url)).and_then(|()| out.flush()) {
        Ok(()) => format!("copied {what}: {url}"),
        Err(e) => format!("{what}: {url} (cannot write to the terminal: {e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_is_base64_between_the_markers() {
        let s = osc52("https://gitlab.example.com/g/p/-/merge_requests/9");
        assert_eq!(
            String::from_utf8(s).unwrap(),
            "\x1b]52;c;aHR0cHM6Ly9naXRsYWIuZXhhbXBsZS5jb20vZy9wLy0vbWVyZ2VfcmVxdWVzdHMvOQ==\x07"
        );
        // Nothing of a hostile text survives as a control byte.
        let s = osc52("x\x07\x1b]52;c;evil\x07");
        assert!(!s[7..s.len() - 1].iter().any(|b| b.is_ascii_control()));
    }

    #[test]
    fn a_display_and_an_opener_come_from_the_environment() {
        let none = |_: &str| None;
        let x11 = |k: &str| (k == "DISPLAY").then(|| ":0".to_string());
        let empty = |k: &str| (k == "DISPLAY").then(String::new);
        assert_eq!(has_display(none), cfg!(target_os = "macos"));
        assert!(has_display(x11));
        assert_eq!(has_display(empty), cfg!(target_os = "macos"));
        let browser = |k: &str| (k == "BROWSER").then(|| "firefox --new-tab".to_string());
        assert_eq!(opener(browser), "firefox");
        assert!(["xdg-open", "open"].contains(&opener(none).as_str()));
    }
}

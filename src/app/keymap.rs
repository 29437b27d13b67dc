//! Actions and the keys bound to them. Defaults come from `assets/keymap.toml` (embedded);
//! `[ui.keymap]` in the config file overrides them per action. The help overlay and the status
//! bar are generated from this map, never written by hand.

use std::collections::{BTreeMap, HashMap};

use super::key::Key;

/// Where a binding applies. A view consults several contexts, most specific first
/// (see [`Keymap::lookup`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    Scroll,
    List,
    Mrs,
    Pipelines,
    Queue,
    Log,
    Detail,
}

impl Context {
    pub const ALL: [Context; 8] = [
        Context::Global,
        Context::Scroll,
        Context::List,
        Context::Mrs,
        Context::Pipelines,
        Context::Queue,
        Context::Log,
        Context::Detail,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Scroll => "scroll",
            Context::List => "list",
            Context::Mrs => "mrs",
            Context::Pipelines => "pipelines",
            Context::Queue => "queue",
            Context::Log => "log",
            Context::Detail => "detail",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::Scroll => "Moving",
            Context::List => "Lists",
            Context::Mrs => "Merge requests",
            Context::Pipelines => "Pipelines",
            Context::Queue => "Proposed commands",
            Context::Log => "Job log",
            Context::Detail => "MR detail",
        }
    }
}

macro_rules! actions {
    ($($variant:ident => ($name:literal, $ctx:ident, $hint:literal, $desc:literal, $guarded:literal)),+ $(,)?) => {
        /// Everything a key can do. `name` is the spelling used in the keymap files.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $($variant,)+ }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)+];

            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name,)+ }
            }

            pub fn context(self) -> Context {
                match self { $(Action::$variant => Context::$ctx,)+ }
            }

            /// One or two words for the status bar.
            pub fn hint(self) -> &'static str {
                match self { $(Action::$variant => $hint,)+ }
            }

            /// A sentence for the help overlay.
            pub fn description(self) -> &'static str {
                match self { $(Action::$variant => $desc,)+ }
            }

            /// Decisions on GitLab-changing commands: never on a ctrl chord, where a tmux or
            /// shell habit could fire them by accident.
            pub fn guarded(self) -> bool {
                match self { $(Action::$variant => $guarded,)+ }
            }

            pub fn from_name(name: &str) -> Option<Action> {
                match name { $($name => Some(Action::$variant),)+ _ => None }
            }
        }
    };
}

actions! {
    Quit => ("quit", Global, "quit", "Back; at the top, quit (asks if proposals wait)", false),
    ForceQuit => ("force_quit", Global, "quit now", "Quit at once, whatever is waiting", false),
    Help => ("help", Global, "help", "Show or hide this help", false),
    Palette => ("palette", Global, "cmd", "Command palette (:retry, :cancel, :play, :comment, :label, :reviewers, :merge, :rebase; :project, :refresh, :readonly, :sort, :quit)", false),
    Refresh => ("refresh", Global, "refresh", "Refresh from GitLab now (and an open job log)", false),
    NextPane => ("next_pane", Global, "pane", "Focus the next pane", false),
    PrevPane => ("prev_pane", Global, "prev pane", "Focus the previous pane", false),
    PaneMrs => ("pane_mrs", Global, "MRs", "Show and focus merge requests", false),
    PanePipelines => ("pane_pipelines", Global, "pipelines", "Show and focus pipelines", false),
    PaneQueue => ("pane_queue", Global, "queue", "Show and focus proposed commands", false),
    PaneActivity => ("pane_activity", Global, "activity", "Show and focus the activity feed", false),
    Back => ("back", Global, "back", "Close the view or overlay; clear the filter", false),
    Plan => ("plan", Global, "plan", "Ask the planner for proposals (they only enter the queue)", false),
    Diagnose => ("diagnose", Global, "diagnose", "Diagnose the selected failed job, pipeline or MR (or the open log)", false),
    Inbox => ("inbox", Global, "failures", "Failure inbox: current failures grouped by cause (Enter diagnoses)", false),
    Overview => ("overview", Global, "overview", "Every watched project: red default branch, running, waiting on me, ready to merge, last deploy (Enter opens one)", false),
    OpenUrl => ("open_url", Global, "browser", "Open the selected MR, pipeline or job in the browser ($BROWSER or xdg-open, with a local display; else its address is shown)", false),
    CopyUrl => ("copy_url", Global, "copy URL", "Copy the selected MR, pipeline or job address to the clipboard (OSC 52: works over SSH and in tmux with set-clipboard on; [ui] osc52 = false turns it off)", false),
    Jump => ("jump", Global, "jump", "Jump from a pipeline or job to its MR, from an MR to its pipeline", false),
    Suspend => ("suspend", Global, "suspend", "Suspend to the shell (resume with fg)", false),
    Up => ("up", Scroll, "up", "Move up", false),
    Down => ("down", Scroll, "down", "Move down", false),
    PageUp => ("page_up", Scroll, "page up", "Move up one page", false),
    PageDown => ("page_down", Scroll, "page down", "Move down one page", false),
    Top => ("top", Scroll, "top", "Go to the top", false),
    Bottom => ("bottom", Scroll, "bottom", "Go to the bottom", false),
    Open => ("open", List, "open", "Open: MR detail, expand a pipeline, a job's log", false),
    Filter => ("filter", List, "filter", "Filter the list (words, -not, @user, ~label, !iid)", false),
    SortNext => ("sort_next", Mrs, "sort", "Sort merge requests by the next column", false),
    SortReverse => ("sort_reverse", Mrs, "reverse", "Reverse the sort order", false),
    Expand => ("expand", Pipelines, "expand", "Expand a pipeline into stages and jobs", false),
    Collapse => ("collapse", Pipelines, "collapse", "Collapse the pipeline", false),
    Approve => ("approve", Queue, "approve", "Approve the selected proposed command", true),
    Reject => ("reject", Queue, "reject", "Reject the selected proposed command (optional reason)", true),
    EditCommand => ("edit", Queue, "edit", "Edit the comment body, labels or reviewers of the selected command", false),
    Mark => ("mark", Queue, "mark", "Mark or unmark the selected command for bulk approval", false),
    BulkApprove => ("bulk_approve", Queue, "bulk approve", "Approve every marked command (lists them and asks y/N first)", true),
    LogToggleSection => ("log_toggle_section", Log, "fold", "Fold or unfold the section at the cursor", false),
    LogExpandAll => ("log_expand_all", Log, "unfold all", "Unfold every section", false),
    LogCollapseAll => ("log_collapse_all", Log, "fold all", "Fold every section", false),
    LogSearch => ("log_search", Log, "search", "Search the log", false),
    LogNextMatch => ("log_next_match", Log, "next", "Next search match", false),
    LogPrevMatch => ("log_prev_match", Log, "prev", "Previous search match", false),
    LogFirstError => ("log_first_error", Log, "error", "Jump to the first error line", false),
    LogFollow => ("log_follow", Log, "follow", "Follow the end of a running job's log", false),
    LogWrap => ("log_wrap", Log, "wrap", "Wrap long lines", false),
    LogLeft => ("log_left", Log, "left", "Scroll left", false),
    LogRight => ("log_right", Log, "right", "Scroll right", false),
    LogNextSection => ("log_next_section", Log, "next section", "Go to the next section", false),
    LogPrevSection => ("log_prev_section", Log, "prev section", "Go to the previous section", false),
    DetailPipeline => ("detail_pipeline", Detail, "pipeline", "Show this MR's pipeline", false),
    DetailNextFile => ("detail_next_file", Detail, "next file", "Scroll to the next file of the diff", false),
    DetailPrevFile => ("detail_prev_file", Detail, "prev file", "Scroll to the previous file of the diff", false),
}

const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: BTreeMap<Action, Vec<Key>>,
    index: HashMap<(Context, Key), Action>,
}

impl Keymap {
    /// The embedded defaults. The asset is checked by a test, so failure here is a build defect;
    /// it still degrades to an empty map plus a warning rather than a panic.
    pub fn defaults() -> Keymap {
        match parse_keymap(DEFAULT_KEYMAP) {
            Ok(map) => map,
            Err(_) => Keymap::from_bindings(BTreeMap::new()),
        }
    }

    /// Defaults with the config file's `[ui.keymap]` applied. Returns the keymap, warnings
    /// (a default key taken over while its action keeps another key) and errors: anything
    /// that could not be applied (unknown action, bad key, guarded action on a ctrl chord) or
    /// that leaves an action with no key at all (`approve = "x"` would leave reject unbound).
    /// A session must not start with errors: the operator would not have the keys they think.
    pub fn with_overrides(
        overrides: &BTreeMap<String, String>,
    ) -> (Keymap, Vec<String>, Vec<String>) {
        let mut warnings = Vec::new();
        let mut errors = Vec::new();
        let mut taken_by: BTreeMap<Action, (Action, String)> = BTreeMap::new();
        let mut bindings = Keymap::defaults().bindings;
        for (name, spec) in overrides {
            let Some(action) = Action::from_name(name.trim()) else {
                errors.push(format!("unknown action {name:?}"));
                continue;
            };
            let mut keys = Vec::new();
            let mut ok = true;
            for part in spec.split_whitespace() {
                match Key::parse(part) {
                    Ok(k) if action.guarded() && k.is_ctrl_chord() => {
                        errors.push(format!(
                            "{name} cannot be bound to a ctrl chord ({k}): it changes GitLab"
                        ));
                        ok = false;
                    }
                    Ok(k) => keys.push(k),
                    Err(e) => {
                        errors.push(format!("{name}: {e}"));
                        ok = false;
                    }
                }
            }
            if !ok {
                continue;
            }
            // A key taken by an override is removed from whatever else used it in a context
            // that is consulted together with this one, so one key never means two things.
            for other in Action::ALL {
                if *other == action || !contexts_overlap(other.context(), action.context()) {
                    continue;
                }
                if let Some(theirs) = bindings.get_mut(other) {
                    let before = theirs.len();
                    theirs.retain(|k| !keys.contains(k));
                    if theirs.len() != before {
                        taken_by.insert(*other, (action, spec.clone()));
                        warnings.push(format!(
                            "keymap: {} now uses a key of {}",
                            action.name(),
                            other.name(),
                        ));
                    }
                }
            }
            bindings.insert(action, keys);
        }
        // Checked once all overrides are in: `reject = "X"` later in the table rebinds what
        // `approve = "x"` took.
        for (other, (by, spec)) in &taken_by {
            if bindings.get(other).is_none_or(|k| k.is_empty()) {
                errors.push(format!(
                    "{} = {spec:?} takes the only key of {}, which would be left unbound; \
                     bind {} to another key too",
                    by.name(),
                    other.name(),
                    other.name()
                ));
            }
        }
        (Keymap::from_bindings(bindings), warnings, errors)
    }

    fn from_bindings(bindings: BTreeMap<Action, Vec<Key>>) -> Keymap {
        let mut index = HashMap::new();
        for (action, keys) in &bindings {
            for k in keys {
                index.entry((action.context(), *k)).or_insert(*action);
            }
        }
        Keymap { bindings, index }
    }

    /// The action for a key, trying `contexts` in order (most specific first).
    pub fn lookup(&self, contexts: &[Context], key: Key) -> Option<Action> {
        contexts
            .iter()
            .find_map(|c| self.index.get(&(*c, key)).copied())
    }

    pub fn keys(&self, action: Action) -> &[Key] {
        self.bindings.get(&action).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The first key of an action as text, for hints ("q", "ctrl-z"); `None` when unbound.
    pub fn first_key(&self, action: Action) -> Option<String> {
        self.keys(action).first().map(|k| k.to_string())
    }

    /// Bindings of one context in a stable order, for the help overlay.
    pub fn context_bindings(&self, ctx: Context) -> Vec<(Action, &[Key])> {
        Action::ALL
            .iter()
            .filter(|a| a.context() == ctx)
            .map(|a| (*a, self.keys(*a)))
            .collect()
    }
}

/// Contexts that a single view consults together (see `AppState::contexts`).
fn contexts_overlap(a: Context, b: Context) -> bool {
    use Context::*;
    if a == b {
        return true;
    }
    let views: [&[Context]; 5] = [
        &[Mrs, List, Scroll, Global],
        &[Pipelines, List, Scroll, Global],
        &[Queue, List, Scroll, Global],
        &[Log, Scroll, Global],
        &[Detail, Scroll, Global],
    ];
    views.iter().any(|v| v.contains(&a) && v.contains(&b))
}

/// Parses the TOML keymap format of `assets/keymap.toml`.
pub fn parse_keymap(text: &str) -> Result<Keymap, String> {
    let table: toml::Table = text.parse().map_err(|e| format!("keymap: {e}"))?;
    let mut bindings = BTreeMap::new();
    for (section, entries) in &table {
        let Some(ctx) = Context::ALL.iter().find(|c| c.name() == section) else {
            return Err(format!("keymap: unknown section [{section}]"));
        };
        let Some(entries) = entries.as_table() else {
            return Err(format!("keymap: [{section}] is not a table"));
        };
        for (name, keys) in entries {
            let action = Action::from_name(name)
                .ok_or_else(|| format!("keymap: unknown action {name:?} in [{section}]"))?;
            if action.context() != *ctx {
                return Err(format!(
                    "keymap: {name} belongs in [{}], not [{section}]",
                    action.context().name()
                ));
            }
            let keys = keys
                .as_array()
                .ok_or_else(|| format!("keymap: {name} must be a list of keys"))?
                .iter()
                .map(|k| {
                    k.as_str()
                        .ok_or_else(|| format!("keymap: {name}: keys are strings"))
                        .and_then(Key::parse)
                })
                .collect::<Result<Vec<_>, _>>()?;
            bindings.insert(action, keys);
        }
    }
    Ok(Keymap::from_bindings(bindings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::key::KeyCode;

    #[test]
    fn embedded_defaults_bind_every_action_without_conflicts() {
        let map = parse_keymap(DEFAULT_KEYMAP).unwrap();
        for a in Action::ALL {
            assert!(!map.keys(*a).is_empty(), "{} has no default key", a.name());
            for k in map.keys(*a) {
                if a.guarded() {
                    assert!(!k.is_ctrl_chord(), "{} on {k}", a.name());
                }
            }
        }
        // No key means two things within contexts that are consulted together, except a
        // specific context deliberately shadowing a general one.
        for a in Action::ALL {
            for b in Action::ALL {
                if a >= b || a.context() != b.context() {
                    continue;
                }
                for k in map.keys(*a) {
                    assert!(
                        !map.keys(*b).contains(k),
                        "{k} bound to {} and {}",
                        a.name(),
                        b.name()
                    );
                }
            }
        }
    }

    #[test]
    fn lookup_respects_modifiers_and_context_order() {
        let map = Keymap::defaults();
        let ctx = [Context::Log, Context::Scroll, Context::Global];
        assert_eq!(map.lookup(&ctx, Key::char('/')), Some(Action::LogSearch));
        assert_eq!(
            map.lookup(&[Context::List, Context::Global], Key::char('/')),
            Some(Action::Filter)
        );
        assert_eq!(map.lookup(&ctx, Key::char('r')), Some(Action::Refresh));
        assert_eq!(map.lookup(&ctx, Key::ctrl('r')), None);
        assert_eq!(map.lookup(&ctx, Key::ctrl('z')), Some(Action::Suspend));
        assert_eq!(
            map.lookup(&ctx, Key::char('z')),
            Some(Action::LogToggleSection)
        );
        assert_eq!(map.lookup(&ctx, Key::char('G')), Some(Action::Bottom));
        assert_eq!(
            map.lookup(&ctx, Key::plain(KeyCode::BackTab)),
            Some(Action::PrevPane)
        );
    }

    #[test]
    fn overrides_replace_keys_and_steal_conflicting_ones() {
        let mut o = BTreeMap::new();
        o.insert("refresh".to_string(), "ctrl-r F5".to_string());
        o.insert("down".to_string(), "n".to_string());
        o.insert("log_next_match".to_string(), "F3".to_string());
        o.insert("detail_next_file".to_string(), "F4".to_string());
        let (map, warnings, errors) = Keymap::with_overrides(&o);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(
            warnings.iter().any(|w| w.contains("log_next_match")),
            "{warnings:?}"
        );
        assert_eq!(
            map.keys(Action::Refresh),
            &[Key::ctrl('r'), Key::plain(KeyCode::F(5))]
        );
        let g = [Context::Global];
        assert_eq!(map.lookup(&g, Key::char('r')), None);
        assert_eq!(map.lookup(&g, Key::ctrl('r')), Some(Action::Refresh));
        // `n` was log_next_match in the log view, which also consults scroll keys; it moved.
        assert_eq!(map.keys(Action::LogNextMatch), &[Key::plain(KeyCode::F(3))]);
    }

    #[test]
    fn guarded_actions_refuse_ctrl_chords_and_bad_specs_are_reported() {
        let mut o = BTreeMap::new();
        o.insert("approve".to_string(), "ctrl-a".to_string());
        o.insert("nonsense".to_string(), "x".to_string());
        o.insert("quit".to_string(), "hyper-q".to_string());
        let (map, _, errors) = Keymap::with_overrides(&o);
        assert_eq!(map.keys(Action::Approve), &[Key::char('a')]);
        assert_eq!(map.keys(Action::Quit), &[Key::char('q')]);
        assert_eq!(errors.len(), 3, "{errors:?}");
    }

    /// Found on a first day: `approve = "x"` silently left reject without a key.
    #[test]
    fn an_override_that_leaves_an_action_unbound_is_an_error() {
        let mut o = BTreeMap::new();
        o.insert("approve".to_string(), "x".to_string());
        let (_, _, errors) = Keymap::with_overrides(&o);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("only key of reject"), "{errors:?}");
        // Giving reject another key as well resolves it.
        o.insert("reject".to_string(), "X".to_string());
        let (map, _, errors) = Keymap::with_overrides(&o);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(map.keys(Action::Reject), &[Key::char('X')]);
    }

    #[test]
    fn malformed_keymap_files_are_errors_not_panics() {
        assert!(parse_keymap("[global]\nquit = \"q\"").is_err());
        assert!(parse_keymap("[nowhere]\nquit = [\"q\"]").is_err());
        assert!(parse_keymap("[log]\nquit = [\"q\"]").is_err());
        assert!(parse_keymap("[global]\nquit = [\"hyper-q\"]").is_err());
        assert!(parse_keymap("not toml [").is_err());
    }
}

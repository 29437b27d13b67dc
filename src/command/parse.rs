//! Strict parsing of commands and plans from untrusted JSON (model output, plan files).
//!
//! serde alone reports an internally tagged enum's errors without a usable path ("invalid type:
//! string, expected u64" for which field?), so each command is first checked against the JSON
//! schema generated from the `Command` type itself: the same single source of truth the model is
//! given. Only then is it deserialized. A bad item in a plan is rejected with its reason; the good
//! ones survive.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::model::{Command, Kind, plan_schema};

/// Longest string accepted anywhere in a command. Validation applies tighter, per-field bounds;
/// this one only stops absurd payloads before they are copied around.
pub const MAX_STRING_CHARS: usize = 64 * 1024;
/// Most commands accepted in one plan; the rest are rejected.
pub const MAX_PLAN_COMMANDS: usize = 100;

/// Why a value is not a command: where (a JSON path such as `commands[2].job_id`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub path: String,
    pub reason: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{}: {}", self.path, self.reason)
        }
    }
}

impl std::error::Error for ParseError {}

fn err(path: impl Into<String>, reason: impl Into<String>) -> ParseError {
    ParseError {
        path: path.into(),
        reason: reason.into(),
    }
}

/// One command of a plan that was rejected, with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedItem {
    pub index: usize,
    pub error: ParseError,
    /// The kind, when the item named a known one (for display and audit).
    pub kind: Option<Kind>,
    /// The item as JSON, clipped to `MAX_RAW_CHARS` (for the audit log).
    pub raw: String,
}

/// How much of a rejected item is kept for the audit log.
pub const MAX_RAW_CHARS: usize = 2_000;

fn raw_text(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= MAX_RAW_CHARS {
        s
    } else {
        format!("{}…", s.chars().take(MAX_RAW_CHARS).collect::<String>())
    }
}

/// A plan after item-by-item parsing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedPlan {
    pub summary: String,
    /// The commands that parsed, with their index in the input.
    pub commands: Vec<(usize, Command)>,
    pub rejected: Vec<RejectedItem>,
}

/// Parses one command. `path` prefixes every error path (`commands[3]`), empty for a bare command.
pub fn parse_command(v: &Value) -> Result<Command, ParseError> {
    parse_command_at(v, "")
}

fn parse_command_at(v: &Value, path: &str) -> Result<Command, ParseError> {
    let at = |field: &str| {
        if path.is_empty() {
            field.to_string()
        } else {
            format!("{path}.{field}")
        }
    };
    let obj = v.as_object().ok_or_else(|| {
        err(
            path,
            format!("expected a command object, found {}", type_name(v)),
        )
    })?;
    let kind_name = match obj.get("kind") {
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(err(
                at("kind"),
                format!("expected a string, found {}", type_name(other)),
            ));
        }
        None => return Err(err(at("kind"), format!("missing; {}", allowed_kinds()))),
    };
    let kind = Kind::parse(kind_name).ok_or_else(|| {
        err(
            at("kind"),
            format!("unknown kind \"{}\"; {}", clip(kind_name), allowed_kinds()),
        )
    })?;
    let spec = specs().get(&kind).ok_or_else(|| {
        err(
            at("kind"),
            format!("no schema for kind {kind} (internal error)"),
        )
    })?;
    for (name, value) in obj {
        let Some(field_schema) = spec.properties.get(name) else {
            let allowed: Vec<&str> = spec.properties.keys().map(String::as_str).collect();
            return Err(err(
                at(name),
                format!(
                    "unknown field \"{}\" for {kind}; allowed: {}",
                    clip(name),
                    allowed.join(", ")
                ),
            ));
        };
        check_value(value, field_schema, &at(name))?;
    }
    for name in &spec.required {
        if !obj.contains_key(name) {
            return Err(err(at(name), format!("missing (required for {kind})")));
        }
    }
    // The schema check is a subset of what serde enforces; serde has the last word.
    serde_json::from_value::<Command>(v.clone()).map_err(|e| err(path, e.to_string()))
}

/// Parses a plan: `{"summary": "...", "commands": [...]}`, or a bare array of commands (the
/// original prototype's form). Structural errors fail the whole plan; a bad command only itself.
pub fn parse_plan(v: &Value) -> Result<ParsedPlan, ParseError> {
    parse_plan_with(v, &[])
}

/// What `plan --json` adds around a plan; a plan file may carry it, `apply` ignores it.
pub const PLAN_FILE_METADATA: [&str; 3] = ["planner", "model", "rejected"];

/// Parses a plan file (`plan --json` output): a plan, plus the metadata keys it prints.
pub fn parse_plan_file(text: &str) -> Result<ParsedPlan, ParseError> {
    parse_plan_str_with(text, &PLAN_FILE_METADATA)
}

fn parse_plan_with(v: &Value, ignored: &[&str]) -> Result<ParsedPlan, ParseError> {
    let (summary, items) = match v {
        Value::Array(items) => (String::new(), items),
        Value::Object(o) => {
            for key in o.keys() {
                if key != "summary" && key != "commands" && !ignored.contains(&key.as_str()) {
                    let mut allowed = vec!["summary", "commands"];
                    allowed.extend_from_slice(ignored);
                    return Err(err(
                        clip(key),
                        format!("unknown field in plan; allowed: {}", allowed.join(", ")),
                    ));
                }
            }
            let summary = match o.get("summary") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) if s.chars().count() <= MAX_STRING_CHARS => s.clone(),
                Some(Value::String(_)) => {
                    return Err(err(
                        "summary",
                        format!("longer than {MAX_STRING_CHARS} characters"),
                    ));
                }
                Some(other) => {
                    return Err(err(
                        "summary",
                        format!("expected a string, found {}", type_name(other)),
                    ));
                }
            };
            match o.get("commands") {
                Some(Value::Array(items)) => (summary, items),
                Some(other) => {
                    return Err(err(
                        "commands",
                        format!("expected an array, found {}", type_name(other)),
                    ));
                }
                None => return Err(err("commands", "missing")),
            }
        }
        other => {
            return Err(err(
                "",
                format!(
                    "expected a plan object or an array of commands, found {}",
                    type_name(other)
                ),
            ));
        }
    };
    let prefix = if v.is_array() { "" } else { "commands" };
    let mut plan = ParsedPlan {
        summary,
        ..ParsedPlan::default()
    };
    for (index, item) in items.iter().enumerate() {
        let path = format!("{prefix}[{index}]");
        let kind = item
            .get("kind")
            .and_then(Value::as_str)
            .and_then(Kind::parse);
        if index >= MAX_PLAN_COMMANDS {
            plan.rejected.push(RejectedItem {
                index,
                error: err(
                    path,
                    format!("more than {MAX_PLAN_COMMANDS} commands in one plan"),
                ),
                kind,
                raw: raw_text(item),
            });
            continue;
        }
        match parse_command_at(item, &path) {
            Ok(c) => plan.commands.push((index, c)),
            Err(error) => plan.rejected.push(RejectedItem {
                index,
                error,
                kind,
                raw: raw_text(item),
            }),
        }
    }
    Ok(plan)
}

/// Parses plan text (a file or a model reply): invalid JSON is a plan-level error with its
/// line and column.
pub fn parse_plan_str(text: &str) -> Result<ParsedPlan, ParseError> {
    parse_plan_str_with(text, &[])
}

fn parse_plan_str_with(text: &str, ignored: &[&str]) -> Result<ParsedPlan, ParseError> {
    // Duplicate keys are refused: `{"job_id": 1, "job_id": 2}` must not mean one thing to us
    // and another to the operator reading the file.
    let v: Value = crate::strict_json::from_str(text).map_err(|e| {
        err(
            "",
            format!(
                "not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    parse_plan_with(&v, ignored)
}

fn allowed_kinds() -> String {
    let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    format!("allowed kinds: {}", names.join(", "))
}

/// Untrusted names are echoed back in messages: keep them short.
fn clip(s: &str) -> String {
    crate::text::clip(s, 40).into_owned()
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_u64() || n.is_i64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Per-kind field specs, read once from the generated schema.
struct KindSpec {
    properties: BTreeMap<String, Value>,
    required: Vec<String>,
}

fn specs() -> &'static BTreeMap<Kind, KindSpec> {
    static SPECS: OnceLock<BTreeMap<Kind, KindSpec>> = OnceLock::new();
    SPECS.get_or_init(|| build_specs(&plan_schema()))
}

fn build_specs(schema: &Value) -> BTreeMap<Kind, KindSpec> {
    let mut out = BTreeMap::new();
    let variants = schema
        .pointer("/$defs/Command/oneOf")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for variant in variants {
        let Some(props) = variant.get("properties").and_then(Value::as_object) else {
            continue;
        };
        let Some(kind) = props
            .get("kind")
            .and_then(|k| k.get("const"))
            .and_then(Value::as_str)
            .and_then(Kind::parse)
        else {
            continue;
        };
        let required = variant
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        let properties = props
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>();
        out.insert(
            kind,
            KindSpec {
                properties,
                required,
            },
        );
    }
    out
}

/// Checks a value against the subset of JSON schema that schemars emits for our types
/// (`type`, `items`, `minimum`, `const`). Anything else is left to serde.
fn check_value(v: &Value, schema: &Value, path: &str) -> Result<(), ParseError> {
    if let Value::String(s) = v
        && s.chars().count() > MAX_STRING_CHARS
    {
        return Err(err(
            path,
            format!("longer than {MAX_STRING_CHARS} characters"),
        ));
    }
    if let Some(c) = schema.get("const")
        && c != v
    {
        return Err(err(path, format!("expected {c}")));
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    let matches = |t: &str| match (t, v) {
        ("string", Value::String(_))
        | ("boolean", Value::Bool(_))
        | ("null", Value::Null)
        | ("array", Value::Array(_))
        | ("object", Value::Object(_)) => true,
        ("integer", Value::Number(n)) => n.is_u64() || n.is_i64(),
        ("number", Value::Number(n)) => n.as_f64().is_some_and(f64::is_finite),
        _ => false,
    };
    if !types.iter().any(|t| matches(t)) {
        return Err(err(
            path,
            format!("expected {}, found {}", describe(&types), type_name(v)),
        ));
    }
    if let Value::Number(n) = v
        && let Some(min) = schema.get("minimum").and_then(Value::as_f64)
        && n.as_f64().is_some_and(|x| x < min)
    {
        return Err(err(path, format!("must be at least {min}")));
    }
    if let Value::Number(n) = v
        && schema.get("format").and_then(Value::as_str) == Some("uint64")
        && !n.is_u64()
    {
        return Err(err(path, "expected a non-negative integer"));
    }
    if let (Value::Array(items), Some(item_schema)) = (v, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check_value(item, item_schema, &format!("{path}[{i}]"))?;
        }
    }
    Ok(())
}

fn describe(types: &[&str]) -> String {
    let words: Vec<&str> = types
        .iter()
        .filter(|t| **t != "null")
        .map(|t| match *t {
            "string" => "a string",
            "integer" => "an integer",
            "number" => "a number",
            "array" => "an array",
            "object" => "an object",
            "boolean" => "a boolean",
            other => other,
        })
        .collect();
    if types.contains(&"null") {
        format!("{} or null", words.join(" or "))
    } else {
        words.join(" or ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn p(v: Value) -> Result<Command, ParseError> {
        parse_command(&v)
    }

    #[test]
    fn a_plan_file_with_a_key_given_twice_is_refused() {
        let text = r#"{"summary": "s", "commands": [
            {"kind": "retry_job", "project": "g/a", "job_id": 1, "job_id": 2, "rationale": "r"}]}"#;
        let e = parse_plan_file(text).unwrap_err().to_string();
        assert!(
            e.contains("duplicate key \"job_id\"") && e.contains("line 2"),
            "{e}"
        );
    }

    #[test]
    fn every_kind_has_a_spec_from_the_schema() {
        for k in Kind::ALL {
            assert!(specs().contains_key(k), "{k} has no spec");
        }
    }

    #[test]
    fn good_commands_parse() {
        let c = p(json!({"kind": "merge_mr", "project": "g/a", "mr_iid": 42,
            "sha": "abc123", "rationale": "green", "confidence": null}))
        .unwrap();
        assert_eq!(c.kind(), Kind::MergeMr);
        let c = p(json!({"kind": "set_labels", "project": "g/a", "mr_iid": 1,
            "add": ["ci::broken"], "rationale": "r"}))
        .unwrap();
        assert_eq!(c.kind(), Kind::SetLabels);
    }

    #[test]
    fn unknown_kind_lists_the_allowed_kinds() {
        let e =
            p(json!({"kind": "delete_project", "project": "g/a", "rationale": "r"})).unwrap_err();
        assert_eq!(e.path, "kind");
        assert!(e.reason.contains("unknown kind \"delete_project\""), "{e}");
        assert!(e.reason.contains("retry_job") && e.reason.contains("merge_mr"));
    }

    #[test]
    fn unknown_field_names_the_field() {
        let e = p(json!({"kind": "retry_job", "project": "g/a", "job_id": 1,
            "rationale": "r", "risk": "low"}))
        .unwrap_err();
        assert_eq!(e.path, "risk");
        assert!(e.reason.contains("unknown field \"risk\""), "{e}");
        assert!(e.reason.contains("job_id"));
    }

    #[test]
    fn wrong_types_name_the_path() {
        let e = p(
            json!({"kind": "retry_job", "project": "g/a", "job_id": "4711",
            "rationale": "r"}),
        )
        .unwrap_err();
        assert_eq!(e.path, "job_id");
        assert_eq!(e.reason, "expected an integer, found a string");

        let e = p(json!({"kind": "retry_job", "project": "g/a", "job_id": -1,
            "rationale": "r"}))
        .unwrap_err();
        assert_eq!(e.path, "job_id");

        let e = p(json!({"kind": "retry_job", "project": "g/a", "job_id": 1.5,
            "rationale": "r"}))
        .unwrap_err();
        assert_eq!(e.path, "job_id");

        let e = p(
            json!({"kind": "note", "project": "g/a", "text": "t", "rationale": "r",
            "evidence": ["ok", 3]}),
        )
        .unwrap_err();
        assert_eq!(e.path, "evidence[1]");

        let e = p(
            json!({"kind": "note", "project": "g/a", "text": "t", "rationale": "r",
            "confidence": "high"}),
        )
        .unwrap_err();
        assert_eq!(e.path, "confidence");
        assert_eq!(e.reason, "expected a number or null, found a string");

        let e = p(json!({"kind": 7})).unwrap_err();
        assert_eq!(e.path, "kind");
        let e = p(json!([1, 2])).unwrap_err();
        assert!(e.reason.contains("expected a command object"));
    }

    #[test]
    fn missing_fields_are_reported() {
        let e = p(json!({"kind": "retry_job", "project": "g/a", "job_id": 1})).unwrap_err();
        assert_eq!(e.path, "rationale");
        let e = p(json!({"project": "g/a"})).unwrap_err();
        assert_eq!(e.path, "kind");
        assert!(e.reason.contains("allowed kinds"));
    }

    #[test]
    fn nan_and_overlong_strings_are_rejected() {
        // JSON has no NaN: a model that writes one produces a string or invalid JSON.
        let e = p(
            json!({"kind": "note", "project": "g/a", "text": "t", "rationale": "r",
            "confidence": "NaN"}),
        )
        .unwrap_err();
        assert_eq!(e.path, "confidence");
        assert!(parse_plan_str(r#"{"summary":"","commands":[{"confidence": NaN}]}"#).is_err());
        let long = "x".repeat(MAX_STRING_CHARS + 1);
        let e = p(json!({"kind": "comment_mr", "project": "g/a", "mr_iid": 1,
            "body": long, "rationale": "r"}))
        .unwrap_err();
        assert_eq!(e.path, "body");
        assert!(e.reason.contains("longer than"));
    }

    #[test]
    fn hostile_names_are_clipped_in_messages() {
        let name = "k".repeat(5000);
        let e = p(json!({"kind": name, "project": "g/a", "rationale": "r"})).unwrap_err();
        assert!(e.reason.len() < 400, "{}", e.reason.len());
    }

    #[test]
    fn plans_keep_good_items_and_reject_bad_ones() {
        let plan = parse_plan(&json!({"summary": "s", "commands": [
            {"kind": "retry_job", "project": "g/a", "job_id": 1, "rationale": "r"},
            {"kind": "drop_database", "project": "g/a", "rationale": "r"},
            {"kind": "comment_mr", "project": "g/a", "mr_iid": 2, "body": "b", "rationale": "r",
             "extra": 1},
            {"kind": "note", "project": "g/a", "text": "t", "rationale": "r"}
        ]}))
        .unwrap();
        assert_eq!(plan.summary, "s");
        assert_eq!(
            plan.commands.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            [0, 3]
        );
        assert_eq!(plan.rejected.len(), 2);
        assert_eq!(plan.rejected[0].error.path, "commands[1].kind");
        assert_eq!(plan.rejected[1].error.path, "commands[2].extra");
        assert_eq!(plan.rejected[1].kind, Some(Kind::CommentMr));
    }

    #[test]
    fn plan_structure_errors_fail_the_plan() {
        assert!(parse_plan(&json!({"commands": 3})).is_err());
        assert!(parse_plan(&json!({"summary": "s"})).is_err());
        assert!(parse_plan(&json!({"summary": "s", "commands": [], "x": 1})).is_err());
        assert!(parse_plan(&json!("hello")).is_err());
        let bare = parse_plan(&json!([{"kind": "rebase_mr", "project": "g/a", "mr_iid": 3,
            "rationale": "r"}]))
        .unwrap();
        assert_eq!(bare.commands.len(), 1);
        let e = parse_plan_str("{\"summary\": ").unwrap_err();
        assert!(e.reason.contains("not valid JSON"), "{e}");
    }

    #[test]
    fn plan_files_may_carry_plan_json_metadata() {
        let text = json!({"planner": "rules", "model": null, "rejected": [{"index": 3}],
            "summary": "s", "commands": [{"kind": "rebase_mr", "project": "g/a", "mr_iid": 3,
            "rationale": "r"}]})
        .to_string();
        assert_eq!(parse_plan_file(&text).unwrap().commands.len(), 1);
        // Model output stays strict.
        let e = parse_plan_str(&text).unwrap_err();
        assert!(e.reason.contains("unknown field in plan"), "{e}");
        assert!(parse_plan_file(r#"{"commands": [], "usage": 1}"#).is_err());
    }

    #[test]
    fn plans_are_capped() {
        let item = json!({"kind": "note", "project": "g/a", "text": "t", "rationale": "r"});
        let items: Vec<Value> = (0..MAX_PLAN_COMMANDS + 3).map(|_| item.clone()).collect();
        let plan = parse_plan(&Value::Array(items)).unwrap();
        assert_eq!(plan.commands.len(), MAX_PLAN_COMMANDS);
        assert_eq!(plan.rejected.len(), 3);
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or(Value::Null)),
            ".{0,12}".prop_map(Value::String),
            prop::sample::select(vec![
                "kind",
                "project",
                "job_id",
                "mr_iid",
                "pipeline_id",
                "rationale",
                "sha",
                "body",
                "retry_job",
                "merge_mr",
                "note",
                "set_labels",
                "add",
                "evidence",
            ])
            .prop_map(|s| Value::String(s.to_string())),
        ];
        leaf.prop_recursive(4, 48, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop::sample::select(vec![
                        "kind",
                        "project",
                        "job_id",
                        "mr_iid",
                        "pipeline_id",
                        "rationale",
                        "sha",
                        "body",
                        "text",
                        "add",
                        "remove",
                        "reviewers",
                        "confidence",
                        "evidence",
                        "commands",
                        "summary",
                        "zzz",
                    ])
                    .prop_map(String::from),
                    inner,
                    0..8
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_json_never_panics(v in arb_json()) {
            let _ = parse_command(&v);
            let _ = parse_plan(&v);
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
            let _ = parse_plan_str(&s);
        }

        #[test]
        fn a_kind_with_valid_fields_and_one_mutation_never_panics(
            kind in prop::sample::select(Kind::ALL.to_vec()),
            field in prop::sample::select(vec!["job_id", "mr_iid", "sha", "body", "zzz"]),
            value in arb_json(),
        ) {
            let mut base = json!({"kind": kind.as_str(), "project": "g/a", "rationale": "r",
                "job_id": 1, "mr_iid": 1, "pipeline_id": 1, "sha": "abc", "body": "b",
                "text": "t", "reviewers": ["alice"]});
            base[field] = value;
            let _ = parse_command(&base);
        }

        #[test]
        fn serialized_commands_parse_back(job in any::<u64>(), r in ".{0,40}") {
            let c = Command::RetryJob { project: "g/a".into(), job_id: job, rationale: r,
                confidence: Some(0.5), evidence: vec![] };
            let v = serde_json::to_value(&c).unwrap();
            prop_assert_eq!(parse_command(&v).unwrap(), c);
        }
    }
}

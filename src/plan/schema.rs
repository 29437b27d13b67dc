//! The response schema of a plan, derived from `command::plan_schema()` (schemars): `$ref`s
//! inlined, `$schema`/`default`/`format` dropped, `const` turned into a one-value `enum`,
//! nullable types made plain (optional fields are simply not required), bounds added, and
//! `propertyOrdering` naming the order fields are written in: the kind and its target first,
//! then the payload, the rationale last; `commands` before `summary`, so an answer cut off in a
//! runaway summary still holds its commands. Every free-text field has a `maxLength` sized for
//! the screen (llama.cpp's grammar enforces it, stopping a small model that loops in a string).
//! This is the canonical form; `llm::schema::to_dialect` writes it for each server family.

use serde_json::{Map, Value, json};

use crate::command::plan_schema;

/// At most this many commands per plan (prompt, schema and parser agree).
pub const MAX_COMMANDS: usize = 8;
/// At most this many evidence lines per command.
pub const MAX_EVIDENCE: usize = 5;

/// Keywords of the canonical schema: Gemini's documented set plus `maxLength` (dropped for
/// Gemini by `llm::schema`).
const ALLOWED: &[&str] = &[
    "maxLength",
    "$id",
    "$defs",
    "$ref",
    "$anchor",
    "type",
    "format",
    "title",
    "description",
    "enum",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "anyOf",
    "oneOf",
    "properties",
    "additionalProperties",
    "required",
    "propertyOrdering",
];

/// The schema of a plan as sent to providers.
pub fn provider_schema() -> Value {
    let root = plan_schema();
    let defs = root.get("$defs").cloned().unwrap_or(Value::Null);
    let mut s = simplify(&root, &defs, 0);
    if let Some(cmds) = s.pointer_mut("/properties/commands") {
        cmds["maxItems"] = json!(MAX_COMMANDS);
    }
    if let Some(summary) = s.pointer_mut("/properties/summary") {
        summary["maxLength"] = json!(MAX_SUMMARY_CHARS);
    }
    if let Some(o) = s.as_object_mut() {
        o.remove("$defs");
        o.remove("title");
        o.insert("additionalProperties".into(), json!(false));
        o.insert("propertyOrdering".into(), json!(["commands", "summary"]));
    }
    s
}

/// `maxLength` of the plan summary (one paragraph above the queue).
pub const MAX_SUMMARY_CHARS: usize = 600;

/// `maxLength` of each free-text field of a command, sized for the details view.
fn max_chars(field: &str) -> Option<usize> {
    Some(match field {
        "rationale" => 400,
        "text" => 600,
        "body" => 1_500,
        "project" | "sha" => 255,
        _ => return None,
    })
}

/// `maxLength` of the items of a list field (evidence quotes, labels, usernames).
fn max_item_chars(field: &str) -> Option<usize> {
    Some(match field {
        "evidence" => 200,
        "add" | "remove" | "reviewers" => 100,
        _ => return None,
    })
}

fn simplify(v: &Value, defs: &Value, depth: usize) -> Value {
    let Value::Object(o) = v else {
        return v.clone();
    };
    // The plan schema is acyclic; the depth guard only protects against a future cycle.
    if let Some(Value::String(r)) = o.get("$ref")
        && depth < 16
    {
        let name = r.rsplit('/').next().unwrap_or_default();
        if let Some(target) = defs.get(name) {
            return simplify(target, defs, depth + 1);
        }
    }
    let mut out = Map::new();
    for (k, val) in o {
        match k.as_str() {
            "const" => {
                out.insert("enum".into(), json!([val]));
            }
            "type" => {
                let t = match val {
                    Value::Array(ts) => ts
                        .iter()
                        .find(|t| t.as_str() != Some("null"))
                        .cloned()
                        .unwrap_or(Value::Null),
                    other => other.clone(),
                };
                out.insert("type".into(), t);
            }
            // schemars' `uint64`/`double` are not JSON Schema formats; the type says enough.
            "format" | "default" | "$schema" | "$ref" | "title" => {}
            "properties" => {
                let props: Map<String, Value> = val
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(name, p)| (name.clone(), simplify(p, defs, depth + 1)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(k.clone(), Value::Object(props));
            }
            "oneOf" | "anyOf" | "items" | "additionalProperties" => {
                let simplified = match val {
                    Value::Array(a) => {
                        Value::Array(a.iter().map(|x| simplify(x, defs, depth + 1)).collect())
                    }
                    other => simplify(other, defs, depth + 1),
                };
                out.insert(k.clone(), simplified);
            }
            k if ALLOWED.contains(&k) => {
                out.insert(k.to_string(), val.clone());
            }
            _ => {}
        }
    }
    if let Some(Value::Object(props)) = out.get_mut("properties") {
        if let Some(c) = props.get_mut("confidence") {
            c["minimum"] = json!(0);
            c["maximum"] = json!(1);
        }
        if let Some(e) = props.get_mut("evidence") {
            e["maxItems"] = json!(MAX_EVIDENCE);
        }
        for (name, p) in props.iter_mut() {
            if p.get("type") == Some(&json!("string"))
                && let Some(n) = max_chars(name)
            {
                p["maxLength"] = json!(n);
            }
            if let (Some(items), Some(n)) = (p.get_mut("items"), max_item_chars(name))
                && items.get("type") == Some(&json!("string"))
            {
                items["maxLength"] = json!(n);
            }
        }
    }
    // Gemini emits keys in this order; the deciding fields (kind, target) come first.
    if let Some(Value::Object(props)) = out.get("properties") {
        let required: Vec<String> = out
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let mut order = required.clone();
        // The rationale goes after the payload: the model decides the action, then explains it.
        let rationale = order
            .iter()
            .position(|o| o == "rationale")
            .map(|i| order.remove(i));
        for payload in ["add", "remove"] {
            if props.contains_key(payload) && !order.iter().any(|o| o == payload) {
                order.push(payload.to_string());
            }
        }
        order.extend(rationale);
        for tail in ["confidence", "evidence"] {
            if props.contains_key(tail) && !order.iter().any(|o| o == tail) {
                order.push(tail.to_string());
            }
        }
        for name in props.keys() {
            if !order.contains(name) {
                order.push(name.clone());
            }
        }
        out.insert("propertyOrdering".into(), json!(order));
    }
    Value::Object(out)
}

/// One line per command kind, from the schema: name, required fields and what it does.
pub fn kinds_summary() -> String {
    let schema = provider_schema();
    let variants = schema
        .pointer("/properties/commands/items/oneOf")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut lines = Vec::new();
    for v in variants {
        let kind = v
            .pointer("/properties/kind/enum/0")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let fields: Vec<&str> = v
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .filter(|f| !matches!(*f, "kind" | "project" | "rationale"))
                    .collect()
            })
            .unwrap_or_default();
        let optional: Vec<&str> = v
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| {
                p.keys()
                    .map(String::as_str)
                    .filter(|k| matches!(*k, "add" | "remove"))
                    .collect()
            })
            .unwrap_or_default();
        let desc = v.get("description").and_then(Value::as_str).unwrap_or("");
        let mut all = fields;
        all.extend(optional);
        lines.push(format!("- {kind} ({}): {desc}", all.join(", ")));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Kind;

    fn keys(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    // Property names are data, not keywords.
                    if k != "properties" {
                        out.push(k.clone());
                        keys(x, out);
                    } else if let Value::Object(props) = x {
                        for p in props.values() {
                            keys(p, out);
                        }
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
            _ => {}
        }
    }

    #[test]
    fn only_keywords_gemini_accepts() {
        let s = provider_schema();
        let mut all = Vec::new();
        keys(&s, &mut all);
        for k in all {
            assert!(
                ALLOWED.contains(&k.as_str()),
                "keyword {k} not accepted by Gemini"
            );
        }
        assert!(!s.to_string().contains("\"null\""));
        // Gemini receives the canonical schema minus maxLength.
        let g = crate::llm::schema::to_dialect(&s, crate::llm::schema::Dialect::Gemini).to_value();
        assert_eq!(
            crate::llm::schema::keywords_outside(&g, crate::llm::schema::GEMINI_KEYWORDS),
            Vec::<String>::new()
        );
        assert!(!s.to_string().contains("$ref"));
    }

    #[test]
    fn every_kind_is_an_enum_with_bounds() {
        let s = provider_schema();
        let variants = s.pointer("/properties/commands/items/oneOf").unwrap();
        assert_eq!(variants.as_array().unwrap().len(), Kind::ALL.len());
        assert_eq!(
            s.pointer("/properties/commands/maxItems"),
            Some(&json!(MAX_COMMANDS))
        );
        let retry = variants
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v.pointer("/properties/kind/enum/0") == Some(&json!("retry_job")))
            .unwrap();
        assert_eq!(retry["additionalProperties"], json!(false));
        assert_eq!(
            retry.pointer("/properties/confidence/maximum"),
            Some(&json!(1))
        );
        let order = retry["propertyOrdering"].as_array().unwrap();
        assert_eq!(order[0], json!("kind"));
        assert_eq!(order[2], json!("job_id"));
        assert_eq!(order[3], json!("rationale"));
    }

    #[test]
    fn every_free_text_field_is_bounded_and_commands_come_first() {
        let s = provider_schema();
        assert_eq!(s["propertyOrdering"], json!(["commands", "summary"]));
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(
            s.pointer("/properties/summary/maxLength"),
            Some(&json!(MAX_SUMMARY_CHARS))
        );
        for v in s
            .pointer("/properties/commands/items/oneOf")
            .unwrap()
            .as_array()
            .unwrap()
        {
            for (name, p) in v["properties"].as_object().unwrap() {
                if p["type"] == "string" && name != "kind" {
                    assert!(p.get("maxLength").is_some(), "{name} unbounded in {v}");
                }
                if p["type"] == "array" {
                    assert!(
                        p.pointer("/items/maxLength").is_some(),
                        "{name} items unbounded"
                    );
                }
            }
            let order = v["propertyOrdering"].as_array().unwrap();
            assert_eq!(order[0], "kind");
            assert_eq!(order[1], "project");
            let rationale = order.iter().position(|o| o == "rationale").unwrap();
            for payload in [
                "job_id",
                "mr_iid",
                "pipeline_id",
                "body",
                "text",
                "sha",
                "reviewers",
                "add",
            ] {
                if let Some(i) = order.iter().position(|o| o == payload) {
                    assert!(i < rationale, "{payload} after rationale in {order:?}");
                }
            }
        }
    }

    /// The plan schema as each server family receives it passes that family's rules.
    #[test]
    fn every_dialect_of_the_plan_schema_is_valid() {
        use crate::llm::schema::{
            Dialect, GEMINI_KEYWORDS, keywords_outside, strict_violations, to_dialect,
        };
        let s = provider_schema();
        let strict = to_dialect(&s, Dialect::OpenAiStrict).to_value();
        assert_eq!(
            strict_violations(&strict),
            Vec::<String>::new(),
            "{strict:#}"
        );
        let gemini = to_dialect(&s, Dialect::Gemini).to_value();
        assert_eq!(
            keywords_outside(&gemini, GEMINI_KEYWORDS),
            Vec::<String>::new()
        );
        let relaxed = to_dialect(&s, Dialect::OpenAiRelaxed).to_value();
        assert!(relaxed.to_string().contains("maxLength"));
        assert!(!relaxed.to_string().contains("propertyOrdering"));
        // The retry_job variant as strict mode wants it: every field listed, optional ones null.
        let retry = strict
            .pointer("/properties/commands/items/anyOf")
            .and_then(Value::as_array)
            .unwrap()
            .iter()
            .find(|v| v.pointer("/properties/kind/enum/0") == Some(&json!("retry_job")))
            .unwrap();
        assert_eq!(
            retry["required"],
            json!([
                "kind",
                "project",
                "job_id",
                "rationale",
                "confidence",
                "evidence"
            ])
        );
        assert_eq!(
            retry.pointer("/properties/confidence/type"),
            Some(&json!(["number", "null"]))
        );
    }

    #[test]
    fn kinds_summary_lists_every_kind() {
        let k = kinds_summary();
        for kind in Kind::ALL {
            assert!(k.contains(&format!("- {kind} (")), "{kind} missing in\n{k}");
        }
        assert!(k.contains("merge_mr (mr_iid, sha)"));
    }
}

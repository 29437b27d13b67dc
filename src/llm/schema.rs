//! One response schema, three dialects. Callers describe the answer once, in plain JSON Schema
//! with Gemini's `propertyOrdering` naming the order fields should be written in and `maxLength`
//! bounding free text; each provider sends the dialect its server accepts:
//!
//! - [`Dialect::Gemini`]: the keywords `responseJsonSchema` documents (llm-api.md §1.4), plus
//!   `propertyOrdering`. `maxLength` is not among them and is dropped.
//! - [`Dialect::OpenAiStrict`]: OpenAI's strict Structured Outputs (api.openai.com, Azure): every
//!   object closed with `additionalProperties: false`, every property required (optional ones
//!   typed `[T, "null"]`), `anyOf` instead of `oneOf`, and none of the keywords the API answers
//!   400 `invalid_json_schema` for (`propertyOrdering`, `maxLength`, `default`, ...).
//! - [`Dialect::OpenAiRelaxed`]: for servers that turn the schema into a grammar and do not
//!   enforce strict mode (llama.cpp, Ollama, vLLM): optional fields stay optional and `maxLength`
//!   stays, so a small model looping inside a string is stopped by the grammar.
//!
//! OpenAI-compatible servers write keys in the order the schema's `properties` lists them, and
//! `serde_json::Value` sorts keys; the result is therefore an [`OrderedJson`] that serializes
//! objects in the order they were built (`propertyOrdering` first), so a model writes `kind` and
//! the target before its prose.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value, json};

/// Which server family a schema is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Gemini,
    OpenAiStrict,
    OpenAiRelaxed,
}

/// Keywords Gemini's `responseJsonSchema` honours (llm-api.md §1.4), plus `propertyOrdering`.
pub const GEMINI_KEYWORDS: &[&str] = &[
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

/// Keywords OpenAI's strict mode accepts (its Structured Outputs guide: objects, arrays with
/// `minItems`/`maxItems`, `anyOf`, `enum`/`const`, string `pattern`/`format`, number bounds).
pub const STRICT_KEYWORDS: &[&str] = &[
    "type",
    "description",
    "title",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "$ref",
    "$defs",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
];

/// Keywords a llama.cpp / Ollama / vLLM grammar reads; anything else is left out rather than
/// risking a server that refuses an unknown keyword.
const RELAXED_KEYWORDS: &[&str] = &[
    "type",
    "description",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "pattern",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
];

/// A JSON value whose objects keep the order they were built in.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderedJson {
    /// Anything without an object inside (strings, numbers, enum lists).
    Plain(Value),
    Object(Vec<(String, OrderedJson)>),
    Array(Vec<OrderedJson>),
}

impl OrderedJson {
    /// The same value as a `serde_json::Value` (keys sorted again: for inspection and tests).
    pub fn to_value(&self) -> Value {
        match self {
            OrderedJson::Plain(v) => v.clone(),
            OrderedJson::Object(kv) => Value::Object(
                kv.iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect::<Map<String, Value>>(),
            ),
            OrderedJson::Array(a) => Value::Array(a.iter().map(OrderedJson::to_value).collect()),
        }
    }
}

impl Serialize for OrderedJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            OrderedJson::Plain(v) => v.serialize(s),
            OrderedJson::Object(kv) => {
                let mut m = s.serialize_map(Some(kv.len()))?;
                for (k, v) in kv {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            OrderedJson::Array(a) => {
                let mut q = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    q.serialize_element(v)?;
                }
                q.end()
            }
        }
    }
}

/// The schema written for `dialect`.
pub fn to_dialect(schema: &Value, dialect: Dialect) -> OrderedJson {
    convert(schema, dialect, 0)
}

/// The order an object's properties are written in: `propertyOrdering`, then `required`, then
/// the rest by name.
fn property_order(o: &Map<String, Value>) -> Vec<String> {
    let props = o.get("properties").and_then(Value::as_object);
    let mut order: Vec<String> = Vec::new();
    let lists = [o.get("propertyOrdering"), o.get("required")];
    for list in lists.into_iter().flatten().filter_map(Value::as_array) {
        for name in list.iter().filter_map(Value::as_str) {
            if props.is_some_and(|p| p.contains_key(name)) && !order.iter().any(|x| x == name) {
                order.push(name.to_string());
            }
        }
    }
    for name in props.into_iter().flat_map(|p| p.keys()) {
        if !order.contains(name) {
            order.push(name.clone());
        }
    }
    order
}

/// Schema keywords in the order a reader expects them; unknown ones after, by name.
const KEY_ORDER: &[&str] = &[
    "type",
    "description",
    "enum",
    "const",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "properties",
    "required",
    "propertyOrdering",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "anyOf",
    "oneOf",
];

fn convert(v: &Value, d: Dialect, depth: usize) -> OrderedJson {
    let Value::Object(o) = v else {
        return OrderedJson::Plain(v.clone());
    };
    // Generated schemas are shallow; the guard only keeps a hostile or cyclic input bounded.
    if depth > 32 {
        return OrderedJson::Plain(json!({}));
    }
    let allowed: &[&str] = match d {
        Dialect::Gemini => GEMINI_KEYWORDS,
        Dialect::OpenAiStrict => STRICT_KEYWORDS,
        Dialect::OpenAiRelaxed => RELAXED_KEYWORDS,
    };
    let order = property_order(o);
    let required: Vec<&str> = o
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let is_object =
        o.get("type").and_then(Value::as_str) == Some("object") || o.contains_key("properties");

    let mut keys: Vec<&String> = o.keys().collect();
    keys.sort_by_key(|k| {
        KEY_ORDER
            .iter()
            .position(|x| x == k)
            .unwrap_or(KEY_ORDER.len())
    });
    let mut out: Vec<(String, OrderedJson)> = Vec::new();
    for k in keys {
        let val = &o[k.as_str()];
        // `oneOf` over object variants is what a tagged enum is; every dialect reads `anyOf`.
        let name = if k == "oneOf" { "anyOf" } else { k.as_str() };
        if !allowed.contains(&name) {
            continue;
        }
        let converted = match name {
            "properties" => {
                let props = val.as_object();
                OrderedJson::Object(
                    order
                        .iter()
                        .filter_map(|p| props.and_then(|m| m.get(p)).map(|s| (p, s)))
                        .map(|(p, s)| {
                            let mut c = convert(s, d, depth + 1);
                            if d == Dialect::OpenAiStrict && !required.contains(&p.as_str()) {
                                c = nullable(c);
                            }
                            (p.clone(), c)
                        })
                        .collect(),
                )
            }
            // Strict mode lists every property; optional ones were made nullable above.
            "required" if d == Dialect::OpenAiStrict => continue,
            "propertyOrdering" => OrderedJson::Plain(json!(order)),
            "anyOf" | "items" | "$defs" => match val {
                Value::Array(a) => {
                    OrderedJson::Array(a.iter().map(|x| convert(x, d, depth + 1)).collect())
                }
                Value::Object(m) if name == "$defs" => OrderedJson::Object(
                    m.iter()
                        .map(|(n, s)| (n.clone(), convert(s, d, depth + 1)))
                        .collect(),
                ),
                other => convert(other, d, depth + 1),
            },
            "additionalProperties" if d == Dialect::OpenAiStrict => {
                OrderedJson::Plain(json!(false))
            }
            "additionalProperties" => match val {
                Value::Object(_) => convert(val, d, depth + 1),
                other => OrderedJson::Plain(other.clone()),
            },
            // An enum or a const of a nullable field gains its null where the type does.
            _ => OrderedJson::Plain(val.clone()),
        };
        out.push((name.to_string(), converted));
    }
    if d == Dialect::OpenAiStrict && is_object {
        if !out.iter().any(|(k, _)| k == "required") {
            let pos = out
                .iter()
                .position(|(k, _)| k == "properties")
                .map_or(out.len(), |p| p + 1);
            out.insert(pos, ("required".into(), OrderedJson::Plain(json!(order))));
        }
        if !out.iter().any(|(k, _)| k == "additionalProperties") {
            out.push((
                "additionalProperties".into(),
                OrderedJson::Plain(json!(false)),
            ));
        }
        if !out.iter().any(|(k, _)| k == "type") {
            out.insert(0, ("type".into(), OrderedJson::Plain(json!("object"))));
        }
    }
    OrderedJson::Object(out)
}

/// A strict-mode optional field: the same schema that also accepts `null`.
fn nullable(s: OrderedJson) -> OrderedJson {
    let OrderedJson::Object(mut kv) = s else {
        return s;
    };
    let has = |kv: &[(String, OrderedJson)], k: &str| kv.iter().any(|(x, _)| x == k);
    let simple_type = kv
        .iter()
        .find(|(k, _)| k == "type")
        .and_then(|(_, t)| match t {
            OrderedJson::Plain(Value::String(t)) if t != "object" => Some(t.clone()),
            _ => None,
        });
    match simple_type {
        // `["number", "null"]`: what the openai SDK makes of `Optional[float]`.
        Some(t) if !has(&kv, "enum") && !has(&kv, "const") => {
            for (k, v) in kv.iter_mut() {
                if k == "type" {
                    *v = OrderedJson::Plain(json!([t, "null"]));
                }
            }
            OrderedJson::Object(kv)
        }
        _ => {
            // Objects, enums and unions: a union with null keeps each branch intact.
            let description = kv
                .iter()
                .position(|(k, _)| k == "description")
                .map(|i| kv.remove(i));
            let mut out = vec![(
                "anyOf".to_string(),
                OrderedJson::Array(vec![
                    OrderedJson::Object(kv),
                    OrderedJson::Object(vec![("type".into(), OrderedJson::Plain(json!("null")))]),
                ]),
            )];
            if let Some(d) = description {
                out.insert(0, d);
            }
            OrderedJson::Object(out)
        }
    }
}

/// Why a schema breaks OpenAI's strict-mode rules, one line per problem with its path; empty
/// when it passes. The rules of the API and of the `openai` SDKs' strict-schema helpers: a root
/// object that is not a union, every object closed and fully required, only supported keywords,
/// a `type` on every schema that is not a union or a reference.
pub fn strict_violations(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        out.push("(): the root must be an object".into());
    }
    if schema.get("anyOf").is_some() {
        out.push("(): the root must not be anyOf".into());
    }
    strict_walk(schema, "", &mut out);
    out
}

fn strict_walk(v: &Value, path: &str, out: &mut Vec<String>) {
    let Some(o) = v.as_object() else {
        out.push(format!("({path}): a schema must be an object"));
        return;
    };
    for k in o.keys() {
        if !STRICT_KEYWORDS.contains(&k.as_str()) {
            out.push(format!("({path}): '{k}' is not permitted"));
        }
    }
    if !o.contains_key("type") && !o.contains_key("anyOf") && !o.contains_key("$ref") {
        out.push(format!("({path}): schema must have a 'type' key"));
    }
    let is_object = o.get("type").and_then(Value::as_str) == Some("object");
    if let Some(props) = o.get("properties").and_then(Value::as_object) {
        let required: Vec<&str> = o
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for name in props.keys() {
            if !required.contains(&name.as_str()) {
                out.push(format!(
                    "({path}): 'required' is required to be supplied and to be an array including every key in properties. Missing '{name}'"
                ));
            }
        }
        for (name, p) in props {
            strict_walk(p, &format!("{path}.properties.{name}"), out);
        }
    }
    if (is_object || o.contains_key("properties"))
        && o.get("additionalProperties") != Some(&Value::Bool(false))
    {
        out.push(format!(
            "({path}): 'additionalProperties' is required to be supplied and to be false"
        ));
    }
    if let Some(items) = o.get("items") {
        strict_walk(items, &format!("{path}.items"), out);
    }
    for union in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = o.get(union) {
            for (i, b) in branches.iter().enumerate() {
                strict_walk(b, &format!("{path}.{union}[{i}]"), out);
            }
        }
    }
    if let Some(Value::Object(defs)) = o.get("$defs") {
        for (n, s) in defs {
            strict_walk(s, &format!("{path}.$defs.{n}"), out);
        }
    }
}

/// Keywords outside `allowed`, with their paths (property names are data, not keywords).
pub fn keywords_outside(schema: &Value, allowed: &[&str]) -> Vec<String> {
    fn walk(v: &Value, path: &str, allowed: &[&str], out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    if k == "properties" || k == "$defs" {
                        if let Value::Object(props) = x {
                            for (name, p) in props {
                                walk(p, &format!("{path}.{k}.{name}"), allowed, out);
                            }
                        }
                    } else {
                        if !allowed.contains(&k.as_str()) {
                            out.push(format!("{path}.{k}"));
                        }
                        if matches!(
                            k.as_str(),
                            "items" | "anyOf" | "oneOf" | "additionalProperties" | "prefixItems"
                        ) {
                            walk(x, &format!("{path}.{k}"), allowed, out);
                        }
                    }
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, &format!("{path}[{i}]"), allowed, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(schema, "", allowed, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        json!({
            "type": "object",
            "propertyOrdering": ["commands", "summary"],
            "required": ["summary", "commands"],
            "properties": {
                "summary": {"type": "string", "maxLength": 600},
                "commands": {"type": "array", "maxItems": 8, "items": {"oneOf": [
                    {"type": "object", "additionalProperties": false,
                     "required": ["kind", "job_id", "rationale"],
                     "propertyOrdering": ["kind", "job_id", "rationale", "confidence", "evidence"],
                     "properties": {
                        "kind": {"type": "string", "enum": ["retry_job"], "description": "Retry."},
                        "job_id": {"type": "integer", "minimum": 0},
                        "rationale": {"type": "string", "maxLength": 300},
                        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                        "evidence": {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 5}
                    }}
                ]}}
            }
        })
    }

    #[test]
    fn strict_dialect_passes_the_strict_rules() {
        let s = to_dialect(&sample(), Dialect::OpenAiStrict).to_value();
        assert_eq!(strict_violations(&s), Vec::<String>::new(), "{s:#}");
        let v = s.pointer("/properties/commands/items/anyOf/0").unwrap();
        assert_eq!(
            v["required"],
            json!(["kind", "job_id", "rationale", "confidence", "evidence"])
        );
        assert_eq!(
            v["properties"]["confidence"]["type"],
            json!(["number", "null"])
        );
        assert_eq!(
            v["properties"]["evidence"]["type"],
            json!(["array", "null"])
        );
        assert!(!s.to_string().contains("maxLength"));
        assert!(!s.to_string().contains("propertyOrdering"));
        assert_eq!(s["additionalProperties"], json!(false));
    }

    #[test]
    fn the_strict_rules_catch_what_the_api_refuses() {
        let v = strict_violations(&sample());
        let text = v.join("\n");
        for needle in [
            "'propertyOrdering' is not permitted",
            "'maxLength' is not permitted",
            "'oneOf' is not permitted",
            "Missing 'confidence'",
            "(): 'additionalProperties' is required",
        ] {
            assert!(text.contains(needle), "{needle} not in\n{text}");
        }
        assert!(strict_violations(&json!({"type": "array"}))[0].contains("root must be an object"));
    }

    #[test]
    fn gemini_dialect_keeps_only_documented_keywords() {
        let g = to_dialect(&sample(), Dialect::Gemini).to_value();
        assert_eq!(keywords_outside(&g, GEMINI_KEYWORDS), Vec::<String>::new());
        assert_eq!(g["propertyOrdering"], json!(["commands", "summary"]));
        // Optional fields stay optional: Gemini has no strict mode.
        let v = g.pointer("/properties/commands/items/anyOf/0").unwrap();
        assert_eq!(v["required"], json!(["kind", "job_id", "rationale"]));
        assert_eq!(v["properties"]["confidence"]["type"], "number");
    }

    #[test]
    fn relaxed_dialect_keeps_bounds_and_drops_gemini_keywords() {
        let r = to_dialect(&sample(), Dialect::OpenAiRelaxed).to_value();
        assert_eq!(keywords_outside(&r, RELAXED_KEYWORDS), Vec::<String>::new());
        assert_eq!(
            r.pointer("/properties/summary/maxLength"),
            Some(&json!(600))
        );
        assert!(!r.to_string().contains("propertyOrdering"));
    }

    #[test]
    fn properties_go_out_in_the_declared_order() {
        for d in [
            Dialect::OpenAiStrict,
            Dialect::OpenAiRelaxed,
            Dialect::Gemini,
        ] {
            let text = serde_json::to_string(&to_dialect(&sample(), d)).unwrap();
            let at = |k: &str| text.find(&format!("\"{k}\":")).unwrap();
            assert!(at("commands") < at("summary"), "{d:?}: {text}");
            assert!(
                at("kind") < at("job_id") && at("job_id") < at("rationale"),
                "{text}"
            );
            assert!(at("rationale") < at("confidence") && at("confidence") < at("evidence"));
        }
    }

    #[test]
    fn nullable_unions_keep_their_branches() {
        let s = json!({"type": "object", "required": [], "properties": {
            "state": {"type": "string", "enum": ["a", "b"], "description": "d"}}});
        let v = to_dialect(&s, Dialect::OpenAiStrict).to_value();
        assert_eq!(strict_violations(&v), Vec::<String>::new());
        assert_eq!(
            v["properties"]["state"],
            json!({"description": "d", "anyOf": [{"type": "string", "enum": ["a", "b"]}, {"type": "null"}]})
        );
    }
}

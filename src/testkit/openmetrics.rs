//! A strict reader of the OpenMetrics text that `metrics::render` serves, for tests: every rule
//! of the format that our output relies on is an error when broken (names, HELP/TYPE once per
//! family and before its samples, families not interleaved, only the three label escapes,
//! suffixes allowed by the type, no duplicate series, cumulative histogram buckets ending in
//! +Inf equal to the count, `# EOF` last).

use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

#[derive(Debug, Clone, Default)]
pub struct MetricFamily {
    pub kind: String,
    pub help: String,
    pub samples: Vec<Sample>,
}

/// Families by name.
pub type Exposition = BTreeMap<String, MetricFamily>;

fn valid_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b':')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
}

fn suffixes(kind: &str) -> &'static [&'static str] {
    match kind {
        "counter" => &["_total", "_created"],
        "histogram" => &["_bucket", "_sum", "_count", "_created"],
        "gauge" => &[""],
        "info" => &["_info"],
        _ => &[""],
    }
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s.parse::<f64>().map_err(|_| format!("bad value {s:?}")),
    }
}

/// `{a="x",b="y"} 1` -> labels and the rest.
fn parse_labels(s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let Some(mut rest) = s.strip_prefix('{') else {
        return Ok((labels, s));
    };
    loop {
        if let Some(r) = rest.strip_prefix('}') {
            return Ok((labels, r));
        }
        let eq = rest.find('=').ok_or("label without =")?;
        let name = &rest[..eq];
        if !valid_name(name) || name.starts_with("__") {
            return Err(format!("bad label name {name:?}"));
        }
        rest = rest[eq + 1..]
            .strip_prefix('"')
            .ok_or("label value not quoted")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err("unterminated label value".into()),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("bad escape {other:?}")),
                },
                Some((_, '\n')) => return Err("raw newline in a label value".into()),
                Some((_, c)) => value.push(c),
            }
        };
        if labels.insert(name.to_string(), value).is_some() {
            return Err(format!("label {name} twice"));
        }
        rest = &rest[end + 1..];
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if !rest.starts_with('}') {
            return Err("labels not separated by a comma".into());
        }
    }
}

/// Parses and checks `text`; the first broken rule is the error, with its line.
pub fn parse(text: &str) -> Result<Exposition, String> {
    let mut fams: Exposition = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut closed: BTreeSet<String> = BTreeSet::new();
    let mut series: BTreeSet<String> = BTreeSet::new();
    let mut eof = false;
    if !text.ends_with('\n') {
        return Err("no final newline".into());
    }
    for (n, line) in text.lines().enumerate() {
        let err = |m: String| format!("line {}: {m}: {line:?}", n + 1);
        if eof {
            return Err(err("text after # EOF".into()));
        }
        if line == "# EOF" {
            eof = true;
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let (what, rest) = rest
                .split_once(' ')
                .ok_or_else(|| err("bad comment".into()))?;
            let (name, arg) = rest.split_once(' ').unwrap_or((rest, ""));
            if !valid_name(name) {
                return Err(err(format!("bad metric name {name:?}")));
            }
            if current.as_deref() != Some(name) {
                if let Some(c) = current.take() {
                    closed.insert(c);
                }
                if closed.contains(name) || fams.contains_key(name) {
                    return Err(err(format!("family {name} appears twice")));
                }
                current = Some(name.to_string());
                fams.insert(name.to_string(), MetricFamily::default());
            }
            let fam = fams.get_mut(name).ok_or_else(|| err("no family".into()))?;
            if !fam.samples.is_empty() {
                return Err(err("metadata after samples".into()));
            }
            match what {
                "HELP" if fam.help.is_empty() => fam.help = arg.to_string(),
                "TYPE" if fam.kind.is_empty() => {
                    if ![
                        "counter",
                        "gauge",
                        "histogram",
                        "summary",
                        "info",
                        "stateset",
                        "gaugehistogram",
                        "unknown",
                    ]
                    .contains(&arg)
                    {
                        return Err(err(format!("unknown type {arg}")));
                    }
                    fam.kind = arg.to_string();
                }
                "UNIT" => {}
                _ => return Err(err(format!("{what} twice or unknown"))),
            }
            continue;
        }
        let name_end = line
            .find(['{', ' '])
            .ok_or_else(|| err("sample without value".into()))?;
        let name = &line[..name_end];
        let (labels, rest) = parse_labels(&line[name_end..]).map_err(&err)?;
        let value_text = rest
            .strip_prefix(' ')
            .ok_or_else(|| err("no space before the value".into()))?;
        let value = parse_value(value_text.split(' ').next().unwrap_or("")).map_err(&err)?;
        let fam_name = current
            .clone()
            .ok_or_else(|| err("sample before any TYPE".into()))?;
        let fam = fams
            .get_mut(&fam_name)
            .ok_or_else(|| err("no family".into()))?;
        if fam.kind.is_empty() || fam.help.is_empty() {
            return Err(err("sample of a family without HELP and TYPE".into()));
        }
        let ok = suffixes(&fam.kind)
            .iter()
            .any(|s| name == format!("{fam_name}{s}"));
        if !ok {
            return Err(err(format!(
                "{name} does not belong to {} {fam_name}",
                fam.kind
            )));
        }
        let key = format!("{name}{labels:?}");
        if !series.insert(key) {
            return Err(err("duplicate series".into()));
        }
        fam.samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    if !eof {
        return Err("no # EOF".into());
    }
    for (name, fam) in &fams {
        if fam.kind == "histogram" {
            check_histogram(name, fam)?;
        }
    }
    Ok(fams)
}

/// Buckets cumulative, `+Inf` present and equal to `_count`, per label set.
fn check_histogram(name: &str, fam: &MetricFamily) -> Result<(), String> {
    // Label set -> (buckets as (le, cumulative count), the _count).
    type Buckets = (Vec<(f64, f64)>, Option<f64>);
    let mut by: BTreeMap<String, Buckets> = BTreeMap::new();
    for s in &fam.samples {
        let mut l = s.labels.clone();
        let le = l.remove("le");
        let e = by.entry(format!("{l:?}")).or_default();
        if s.name.ends_with("_bucket") {
            let le = le.ok_or(format!("{name}: bucket without le"))?;
            e.0.push((parse_value(&le)?, s.value));
        } else if s.name.ends_with("_count") {
            e.1 = Some(s.value);
        }
    }
    for (l, (buckets, count)) in by {
        let mut prev = (f64::NEG_INFINITY, 0.0);
        for &(le, v) in &buckets {
            if le <= prev.0 || v < prev.1 {
                return Err(format!("{name}{l}: buckets not increasing"));
            }
            prev = (le, v);
        }
        if prev.0 != f64::INFINITY || Some(prev.1) != count {
            return Err(format!("{name}{l}: +Inf bucket missing or not the count"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_good_and_names_the_broken_rule() {
        let good = "# HELP a_x An x.\n# TYPE a_x counter\na_x_total{k=\"q\\\"\\\\\\n\"} 1\n# EOF\n";
        let f = parse(good).unwrap();
        assert_eq!(f["a_x"].samples[0].labels["k"], "q\"\\\n");
        for (bad, why) in [
            ("# TYPE a gauge\na 1\n# EOF\n", "without HELP"),
            (
                "# HELP a A.\n# TYPE a gauge\na{k=\"\\t\"} 1\n# EOF\n",
                "bad escape",
            ),
            ("# HELP a A.\n# TYPE a gauge\na 1\n", "no # EOF"),
            (
                "# HELP a A.\n# TYPE a counter\na 1\n# EOF\n",
                "does not belong",
            ),
            (
                "# HELP a A.\n# TYPE a gauge\na 1\na 2\n# EOF\n",
                "duplicate",
            ),
            (
                "# HELP a A.\n# TYPE a gauge\na 1\n# HELP b B.\n# TYPE b gauge\nb 1\n# HELP a A.\n# EOF\n",
                "twice",
            ),
            (
                "# HELP h H.\n# TYPE h histogram\nh_count 2\nh_bucket{le=\"1\"} 1\n# EOF\n",
                "+Inf",
            ),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }
}

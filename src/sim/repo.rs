//! Repository content: MR diffs (generated per file on demand, so the 1000-file MR costs
//! nothing until asked for), raw files and per-path commit history.

use serde_json::{Value, json};

use super::state::{Mr, Ms, World, mix, sha_for};

/// Number of files in the MR's diff.
pub fn diff_count(mr: &Mr) -> usize {
    mr.changes_count()
}

/// The `i`-th file of the MR's diff, in GitLab's `/diffs` item shape.
pub fn diff_at(seed: u64, mr: &Mr, i: usize) -> Option<Value> {
    let (path, add, del, new_file) = if let Some(f) = mr.files.get(i) {
        (f.path.clone(), f.add, f.del, f.new_file)
    } else {
        let g = mr.generated.as_ref()?;
        let k = i - mr.files.len();
        if k >= g.count as usize {
            return None;
        }
        let names = [
            "billing", "checkout", "accounts", "ledger", "payouts", "risk",
        ];
        let name = names[k % names.len()];
        (format!("{}{name}_{:04}.pb.rs", g.prefix, k), g.add, 0, true)
    };
    let diff = unified(seed ^ mr.iid, &path, add, del, new_file);
    Some(json!({
        "old_path": path,
        "new_path": path,
        "a_mode": if new_file { "0" } else { "100644" },
        "b_mode": "100644",
        "diff": diff,
        "new_file": new_file,
        "renamed_file": false,
        "deleted_file": false,
        "generated_file": path.contains("/gen/") || path.starts_with("gen/") || path.ends_with(".lock"),
    }))
}

fn code_line(ext: &str, n: u64, old: bool) -> String {
    let v = if old { "old" } else { "new" };
    match ext {
        "rs" => format!("    let {v}_value_{n} = compute_{}(&ctx, {n})?;", n % 7),
        "ts" | "tsx" | "js" => format!(
            "  const {v}Value{n} = useMemo(() => compute{}(props), [props]);",
            n % 7
        ),
        "py" => format!("    {v}_value_{n} = compute_{}(frame, window={n})", n % 7),
        "md" => format!(
            "{} step {n}: check the dashboard before continuing.",
            if old { "Old" } else { "New" }
        ),
        "sql" => format!("ALTER TABLE accounts ADD COLUMN {v}_col_{n} uuid;"),
        "yml" | "yaml" => format!("  {v}_key_{n}: value-{}", n % 7),
        "proto" => format!("  string {v}_field_{n} = {};", n + 1),
        "json" | "lock" => format!("    \"{v}-package-{n}\": \"^{}.{}.0\",", n % 9, n % 13),
        _ => format!("{v} line {n}"),
    }
}

/// A plausible unified diff with `add` added and `del` removed lines.
fn unified(seed: u64, path: &str, add: u32, del: u32, new_file: bool) -> String {
    let ext = path.rsplit('.').next().unwrap_or("");
    let mut out = String::new();
    let h = mix(seed ^ path.len() as u64);
    if new_file {
        out.push_str(&format!("@@ -0,0 +1,{add} @@\n"));
        for n in 0..add as u64 {
            out.push('+');
            out.push_str(&code_line(ext, n + h % 50, false));
            out.push('\n');
        }
        return out;
    }
    let start = 10 + h % 200;
    out.push_str(&format!(
        "@@ -{start},{} +{start},{} @@\n",
        del + 3,
        add + 3
    ));
    out.push_str(&format!(
        " {}\n",
        code_line(ext, start, true).replace("old", "ctx")
    ));
    for n in 0..del as u64 {
        out.push('-');
        out.push_str(&code_line(ext, start + n, true));
        out.push('\n');
    }
    for n in 0..add as u64 {
        out.push('+');
        out.push_str(&code_line(ext, start + n, false));
        out.push('\n');
    }
    out.push_str(&format!(
        " {}\n",
        code_line(ext, start + 1, true).replace("old", "ctx")
    ));
    out.push_str(&format!(
        " {}\n",
        code_line(ext, start + 2, true).replace("old", "ctx")
    ));
    out
}

/// The raw content of a file on the default branch. CODEOWNERS is served where GitLab looks.
pub fn raw_file(w: &World, path: &str) -> Option<String> {
    match path {
        "CODEOWNERS" | ".gitlab/CODEOWNERS" | "docs/CODEOWNERS" => Some(w.codeowners.clone()),
        other => w.files.get(other).cloned(),
    }
}

/// Commits that touched `path` (a file or a directory prefix), newest first, optionally
/// since a time. Merged MRs contribute their files.
pub fn commits_for(w: &World, path: Option<&str>, since: Option<Ms>) -> Vec<Value> {
    let under = |p: &str| match path {
        None | Some("") => true,
        Some(q) => {
            let q = q.trim_end_matches('/');
            p == q || p.starts_with(&format!("{q}/"))
        }
    };
    let mut hits: Vec<(Ms, String, u64, String)> = w
        .commits
        .iter()
        .filter(|c| under(&c.path))
        .map(|c| (c.at, c.sha.clone(), c.author, c.title.clone()))
        .collect();
    for mr in w.mrs.values().filter(|m| m.state == "merged") {
        if mr.files.iter().any(|f| under(&f.path)) {
            let at = mr.merged_at.unwrap_or(mr.updated_at);
            hits.push((
                at,
                mr.merge_commit_sha
                    .clone()
                    .unwrap_or_else(|| sha_for(w.seed, mr.id)),
                mr.author,
                mr.title.clone(),
            ));
        }
    }
    hits.retain(|(at, ..)| since.is_none_or(|s| *at >= s));
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    hits.dedup_by(|a, b| a.1 == b.1);
    hits.into_iter()
        .map(|(at, sha, author, title)| super::json::commit(w, &sha, author, at, &title))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_diff_counts_match_the_request() {
        let d = unified(1, "src/billing/invoice.rs", 7, 3, false);
        let adds = d.lines().filter(|l| l.starts_with('+')).count();
        let dels = d.lines().filter(|l| l.starts_with('-')).count();
        assert_eq!((adds, dels), (7, 3));
        assert!(d.starts_with("@@ -"));
        let n = unified(1, "docs/a.md", 4, 0, true);
        assert!(n.starts_with("@@ -0,0 +1,4 @@"));
    }
}

use super::*;

fn handles(m: &SectionMatch) -> Vec<String> {
    m.owners.iter().map(|o| o.to_string()).collect()
}

fn owners_by_section(co: &CodeOwners, path: &str) -> Vec<(String, Vec<String>)> {
    co.owners_of(path)
        .iter()
        .filter(|m| !m.excluded)
        .map(|m| (m.section.clone(), handles(m)))
        .collect()
}

fn o(section: &str, owners: &[&str]) -> (String, Vec<String>) {
    (
        section.to_string(),
        owners.iter().map(|s| s.to_string()).collect(),
    )
}

#[test]
fn gitlab_documented_sections_example() {
    // The README example of GitLab's reference page, with its documented answers.
    let co = CodeOwners::parse(
        "* @admin\n\n[README Owners]\nREADME.md @user1 @user2\ninternal/README.md @user4\n\n[README other owners]\nREADME.md @user3\n",
    );
    assert!(co.problems.is_empty(), "{:?}", co.problems);
    assert_eq!(
        owners_by_section(&co, "README.md"),
        vec![
            o(DEFAULT_SECTION, &["@admin"]),
            o("README Owners", &["@user1", "@user2"]),
            o("README other owners", &["@user3"]),
        ]
    );
    // Both entries of [README Owners] match; the last one wins.
    assert_eq!(
        owners_by_section(&co, "internal/README.md"),
        vec![
            o(DEFAULT_SECTION, &["@admin"]),
            o("README Owners", &["@user4"]),
            o("README other owners", &["@user3"]),
        ]
    );
}

#[test]
fn headings_optional_approvals_defaults_and_duplicates() {
    let text = "\
[Documentation][2] @docs-team
docs/
README.md

^[Database] @database-team @agarcia
model/db/
config/db/database-setup.md @docs-team

[DOCUMENTATION]
*.txt @writers

^[Go]
*.go @gophers
[go][0]
";
    let co = CodeOwners::parse(text);
    let names: Vec<_> = co
        .sections
        .iter()
        .map(|s| (s.name.as_str(), s.optional, s.approvals))
        .collect();
    // Duplicate names combine (case-insensitive, first spelling kept); optional only if every
    // heading says so; `[0]` is reported and counts as 1.
    assert_eq!(
        names,
        vec![
            ("Documentation", false, 2),
            ("Database", true, 1),
            ("Go", false, 1)
        ]
    );
    assert!(
        co.problems
            .iter()
            .any(|p| p.line == 14 && p.message.contains("approvals"))
    );
    assert_eq!(
        owners_by_section(&co, "docs/api/x.md"),
        vec![o("Documentation", &["@docs-team"])]
    );
    let m = &co.owners_of("docs/api/x.md")[0];
    assert!(m.default_owners);
    assert_eq!((m.pattern.as_str(), m.line), ("docs/", 2));
    // A later heading's entry joins the section; [DOCUMENTATION] has no defaults of its own.
    assert_eq!(
        owners_by_section(&co, "notes.txt"),
        vec![o("Documentation", &["@writers"])]
    );
    // An override beats the heading's defaults.
    assert_eq!(
        owners_by_section(&co, "config/db/database-setup.md"),
        vec![o("Database", &["@docs-team"])]
    );
    assert_eq!(
        owners_by_section(&co, "app/model/db/schema.rb"),
        vec![o("Database", &["@database-team", "@agarcia"])]
    );
}

#[test]
fn glob_rules_follow_fnmatch_pathname_dotmatch() {
    let co = CodeOwners::parse(
        "\
*.rb @ruby
/docs/* @root-docs
/docs/**/*.md @md
lib/ @lib
/config/ @config
\\#hash.rb @hash
path\\ with\\ spaces/ @space
/one/** @one
src/*.{js,ts} @braces
/[ab].txt @class
.gitignore @dots
",
    );
    assert!(co.problems.is_empty(), "{:?}", co.problems);
    let who = |p: &str| {
        co.owners_of(p)
            .first()
            .map(|m| handles(m).join(" "))
            .unwrap_or_default()
    };
    assert_eq!(who("app/models/user.rb"), "@ruby");
    assert_eq!(who("user.rb"), "@ruby");
    assert_eq!(who("docs/index.html"), "@root-docs");
    assert_eq!(who("docs/api/index.html"), "", "`*` does not cross `/`");
    assert_eq!(who("docs/index.md"), "@md", "`**/` spans zero directories");
    assert_eq!(who("docs/a/b/c.md"), "@md");
    assert_eq!(who("lib/x.c"), "@lib");
    assert_eq!(
        who("vendor/lib/deep/x.c"),
        "@lib",
        "unanchored directory at any depth"
    );
    assert_eq!(who("config/app.yml"), "@config");
    assert_eq!(
        who("sub/config/app.yml"),
        "",
        "anchored directory only at the root"
    );
    assert_eq!(who("#hash.rb"), "@hash", "`\\#` is a literal #");
    assert_eq!(who("path with spaces/a"), "@space");
    assert_eq!(who("one/a"), "@one");
    assert_eq!(
        who("one/a/b"),
        "",
        "a trailing `**` is a plain `*` in Ruby's fnmatch"
    );
    assert_eq!(who("src/x.{js,ts}"), "@braces", "no brace expansion");
    assert_eq!(who("src/x.js"), "");
    assert_eq!(who("a.txt"), "@class");
    assert_eq!(who("c.txt"), "");
    assert_eq!(who("pkg/.gitignore"), "@dots");
    assert_eq!(
        who("/app/x.rb"),
        "@ruby",
        "a leading / on the path is ignored"
    );
}

#[test]
fn star_owns_everything_and_overlapping_globs_last_wins() {
    let co =
        CodeOwners::parse("* @everyone\n*.md @docs\n/docs/legal/*.md @legal\n*.md @late-docs\n");
    let who = |p: &str| handles(&co.owners_of(p)[0]).join(" ");
    assert_eq!(who(".hidden/deep/file"), "@everyone");
    // `*.md` at line 4 is later than the more specific line 3: order, not specificity, decides.
    assert_eq!(who("docs/legal/terms.md"), "@late-docs");
    assert_eq!(co.owners_of("docs/legal/terms.md")[0].line, 4);
}

#[test]
fn exclusions_apply_in_their_section_whatever_the_order() {
    let co = CodeOwners::parse(
        "\
* @default-owner
!pom.xml
!*.lock @someone

[Ruby]
*.rb @ruby-team
!/config/**/*.rb
/config/routes.rb @ops
",
    );
    assert!(
        co.problems
            .iter()
            .any(|p| p.line == 3 && p.message.contains("exclusion"))
    );
    assert_eq!(owners_by_section(&co, "pom.xml"), vec![]);
    let m = co.owners_of("pom.xml");
    assert!(m[0].excluded && m[0].line == 2);
    assert_eq!(owners_by_section(&co, "Gemfile.lock"), vec![]);
    // Excluded from [Ruby] even though a later entry names it; the default section still applies.
    assert_eq!(
        owners_by_section(&co, "config/routes.rb"),
        vec![o(DEFAULT_SECTION, &["@default-owner"])]
    );
    assert_eq!(
        owners_by_section(&co, "app/x.rb"),
        vec![
            o(DEFAULT_SECTION, &["@default-owner"]),
            o("Ruby", &["@ruby-team"])
        ]
    );
}

#[test]
fn owner_kinds_and_malformed_owners() {
    let co = CodeOwners::parse(
        "/path/* @group user_without_at_symbol @user_with_at_symbol @group/with-nested/subgroup jane@example.com @@maintainers @@guest @bad!name\n",
    );
    let m = &co.owners_of("path/file")[0];
    assert_eq!(
        m.owners,
        vec![
            Owner::Handle("group".into()),
            Owner::Handle("user_with_at_symbol".into()),
            Owner::Handle("group/with-nested/subgroup".into()),
            Owner::Email("jane@example.com".into()),
            Owner::Role(Role::Maintainer),
        ]
    );
    let bad: Vec<_> = co.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert!(bad.iter().all(|m| m.starts_with("malformed owner")));
    assert!(
        bad[0].contains("user_without_at_symbol")
            && bad[1].contains("@@guest")
            && bad[2].contains("@bad!name")
    );
    assert_eq!(co.all_owners().len(), 5);
}

#[test]
fn missing_owners_and_broken_lines_are_reported_not_fatal() {
    let text = "\
* @group

[Section name
docs/ @docs_group
/unowned/
[]
# comment @not-an-owner
/src/ @dev # trailing words are owners tokens @lead
[Tools] @tools
tools/
";
    let co = CodeOwners::parse(text);
    let lines: Vec<usize> = co.problems.iter().map(|p| p.line).collect();
    // 3: unparsable heading (becomes an entry `[Section` owned by malformed `name`),
    // 5: no owners, 6: heading without a name, 8: `#`, `trailing`, ... are malformed owners.
    assert!(
        lines.contains(&3) && lines.contains(&5) && lines.contains(&6) && lines.contains(&8),
        "{:?}",
        co.problems
    );
    assert!(!lines.contains(&7));
    // The unparsable heading stayed in the default section, so docs/ is owned there.
    assert_eq!(
        owners_by_section(&co, "docs/a.md"),
        vec![o(DEFAULT_SECTION, &["@docs_group"])]
    );
    // An entry with no owners leaves the file without owners in its section.
    let m = co.owners_of("unowned/x");
    assert_eq!((m[0].line, m[0].owners.len()), (5, 0));
    assert_eq!(
        owners_by_section(&co, "src/main.rs"),
        vec![o(DEFAULT_SECTION, &["@dev", "@lead"])]
    );
    assert_eq!(
        owners_by_section(&co, "tools/x"),
        vec![o(DEFAULT_SECTION, &["@group"]), o("Tools", &["@tools"])]
    );
    assert!(
        co.problems
            .iter()
            .all(|p| p.to_string().starts_with("CODEOWNERS line "))
    );
}

#[test]
fn empty_and_hostile_input_never_panics() {
    assert!(CodeOwners::parse("").sections.is_empty());
    assert!(
        CodeOwners::parse("\u{feff}# only a comment\n")
            .sections
            .is_empty()
    );
    for junk in [
        "[",
        "^[",
        "[a][",
        "\\",
        "!",
        "[[[[ @x",
        "**** @x",
        "a/[/b @x",
        "\u{0}\u{7} @x",
        "é/ü/* @ß",
    ] {
        let co = CodeOwners::parse(junk);
        let _ = co.owners_of("a/b/c");
    }
    let co = CodeOwners::parse("é/ @ß\n");
    assert_eq!(
        owners_by_section(&co, "x/é/y"),
        vec![o(DEFAULT_SECTION, &["@ß"])]
    );
}

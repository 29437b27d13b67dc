//! Cases from GitLab's CODEOWNERS documentation (`doc/user/project/codeowners/`) and its
//! parser's specs (`ee/spec/lib/gitlab/code_owners/file_spec.rb`, `section_parser_spec.rb`),
//! with the answers GitLab gives. Where the docs and the code disagree, the code decides (the
//! docs still say an unparsable heading becomes an entry; `file.rb` skips it).

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

/// (line, code) of every problem.
fn codes(co: &CodeOwners) -> Vec<(usize, &'static str)> {
    co.problems
        .iter()
        .map(|p| (p.line, p.code.code()))
        .collect()
}

fn keys<'a>(co: &'a CodeOwners, section: &str) -> Vec<&'a str> {
    co.section(section)
        .map(|s| s.rules.iter().map(|r| r.normalized.as_str()).collect())
        .unwrap_or_default()
}

#[test]
fn gitlab_documented_sections_example() {
    // reference.md "Sections", with its documented answers.
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

/// reference.md's first example, verbatim: its two inline "comments" are errors to GitLab
/// (every word of the owners must be a reference), and their `@handles` still count.
const REFERENCE_EXAMPLE: &str = "\
# Specify a default Code Owner for all files with a wildcard:
* @default-owner

# Specify multiple Code Owners to a specific file:
README.md @doc-team @tech-lead

# Specify a Code Owner to all files with a specific extension:
*.rb @ruby-owner

# Specify Code Owners with usernames or email addresses:
LICENSE @legal janedoe@gitlab.com

# Use group names to match groups and nested groups:
README @group @group/with-nested/subgroup

# Specify a Code Owner to a directory and all its contents:
/docs/ @all-docs
/docs/* @root-docs
/docs/**/*.md @markdown-docs  # Match specific file types in any subdirectory
/db/**/index.md @index-docs   # Match a specific file name in any subdirectory

# Use a section to group related rules:
[Documentation]
ee/docs    @docs
docs       @docs

# Assign a role as a Code Owner:
/config/ @@maintainer
";

#[test]
fn reference_page_example() {
    let co = CodeOwners::parse(REFERENCE_EXAMPLE);
    assert_eq!(
        codes(&co),
        vec![(19, "malformed_entry_owner"), (20, "malformed_entry_owner")]
    );
    let who = |p: &str| owners_by_section(&co, p);
    assert_eq!(
        who("LICENSE"),
        vec![o(DEFAULT_SECTION, &["@legal", "janedoe@gitlab.com"])]
    );
    assert_eq!(
        who("x/README"),
        vec![o(
            DEFAULT_SECTION,
            &["@group", "@group/with-nested/subgroup"]
        )]
    );
    assert_eq!(
        who("docs/api/guide.md"),
        vec![o(DEFAULT_SECTION, &["@markdown-docs"])]
    );
    assert_eq!(
        who("docs/index.html"),
        vec![o(DEFAULT_SECTION, &["@root-docs"])]
    );
    assert_eq!(
        who("db/a/b/index.md"),
        vec![o(DEFAULT_SECTION, &["@index-docs"])]
    );
    // `docs` without a slash names a file called docs, anywhere.
    assert_eq!(
        who("ee/docs"),
        vec![
            o(DEFAULT_SECTION, &["@default-owner"]),
            o("Documentation", &["@docs"])
        ]
    );
    assert_eq!(
        who("config/app.yml"),
        vec![
            o(DEFAULT_SECTION, &["@default-owner"]),
            o("Documentation", &["@@maintainer"])
        ]
    );
}

#[test]
fn advanced_page_examples() {
    // "Regular entries and sections": model/db/CHANGELOG.txt needs three approvals.
    let co = CodeOwners::parse(
        "# Required for all files\n* @general-approvers\n\n[Documentation] @docs-team\ndocs/\nREADME.md\n*.txt\n\n[Database] @database-team\nmodel/db/\nconfig/db/database-setup.md @docs-team\n",
    );
    assert!(co.problems.is_empty(), "{:?}", co.problems);
    assert_eq!(
        owners_by_section(&co, "model/db/CHANGELOG.txt"),
        vec![
            o(DEFAULT_SECTION, &["@general-approvers"]),
            o("Documentation", &["@docs-team"]),
            o("Database", &["@database-team"]),
        ]
    );
    assert_eq!(
        owners_by_section(&co, "config/db/database-setup.md"),
        vec![
            o(DEFAULT_SECTION, &["@general-approvers"]),
            o("Database", &["@docs-team"]),
        ]
    );

    // "Sections with duplicate names": combined, case of the first heading kept.
    let co = CodeOwners::parse(
        "[Documentation]\nee/docs/    @docs\ndocs/       @docs\n\n[Database]\nREADME.md  @database\nmodel/db/   @database\n\n[DOCUMENTATION]\nREADME.md  @docs\n",
    );
    let names: Vec<(&str, usize)> = co
        .sections
        .iter()
        .map(|s| (s.name.as_str(), s.rules.len()))
        .collect();
    assert_eq!(names, vec![("Documentation", 3), ("Database", 2)]);

    // "Define Code Owners for specific files": the last matching pattern wins.
    let co = CodeOwners::parse(
        "# This line would match the file terms.md\n*.md @doc-team\n\n# This line would also match the file terms.md\nterms.md @legal-team\n",
    );
    assert_eq!(
        owners_by_section(&co, "terms.md"),
        vec![o(DEFAULT_SECTION, &["@legal-team"])]
    );

    // "Require multiple approvals" and "Default Code Owners and optional sections".
    let co = CodeOwners::parse(
        "[Documentation][2] @docs-team\ndocs/\nREADME.md\n\n^[Database] @database-team\nmodel/db/\nconfig/db/database-setup.md @docs-team\n",
    );
    assert!(co.problems.is_empty(), "{:?}", co.problems);
    let m = &co.owners_of("docs/x.md")[0];
    assert_eq!(
        (m.approvals, m.optional, m.default_owners),
        (2, false, true)
    );
    let m = &co.owners_of("model/db/x.sql")[0];
    assert_eq!(
        (m.section.as_str(), m.optional, m.approvals),
        ("Database", true, 1)
    );

    // "Unparsable sections": reported and skipped (file.rb), so `docs/` stays in the section
    // before it.
    let co = CodeOwners::parse("* @group\n\n[Section name\ndocs/ @docs_group\n");
    assert_eq!(codes(&co), vec![(3, "invalid_section_format")]);
    assert_eq!(
        owners_by_section(&co, "docs/a"),
        vec![o(DEFAULT_SECTION, &["@docs_group"])]
    );
    let co = CodeOwners::parse("[Docs]\ndocs/**/* @group\n\n[Section name\ndocs/ @docs_group\n");
    assert_eq!(co.sections.len(), 1);
    // `docs/` normalizes like `docs/**/*`: it replaces that entry.
    assert_eq!(keys(&co, "Docs"), vec!["/**/docs/**/*"]);
    assert_eq!(
        owners_by_section(&co, "docs/a"),
        vec![o("Docs", &["@docs_group"])]
    );

    // "Malformed owners": ignored, the entry keeps the others.
    let co = CodeOwners::parse("/path/* @group user_without_at_symbol @user_with_at_symbol\n");
    assert_eq!(codes(&co), vec![(1, "malformed_entry_owner")]);
    assert_eq!(
        owners_by_section(&co, "path/x"),
        vec![o(DEFAULT_SECTION, &["@group", "@user_with_at_symbol"])]
    );

    // "Inaccessible or incorrect owners": the syntax is fine; access is checked elsewhere.
    let co = CodeOwners::parse(
        "* @group @grou @username @i_left @i_dont_exist example@gitlab.com invalid@gitlab.com\n",
    );
    assert!(co.problems.is_empty());
    assert_eq!(co.owners_of("a")[0].owners.len(), 7);

    // "Zero owners" and "Minimum approvals".
    let co = CodeOwners::parse("/unowned/\n[Docs][0]\n*.md @docs\n");
    assert_eq!(codes(&co), vec![(1, "missing_entry_owner")]);
    assert_eq!(co.owners_of("unowned/x")[0].owners.len(), 0);
    assert_eq!(co.owners_of("a.md")[0].approvals, 1);

    // "Entries with spaces".
    let co =
        CodeOwners::parse("path\\ with\\ spaces/*.md @owner\nfolder with spaces/*.md @group\n");
    assert_eq!(
        owners_by_section(&co, "path with spaces/a.md"),
        vec![o(DEFAULT_SECTION, &["@owner"])]
    );
    // Unescaped, the pattern is `folder` and the rest are owners: malformed words, one error.
    assert_eq!(codes(&co), vec![(2, "malformed_entry_owner")]);
    assert_eq!(co.sections[0].rules[1].pattern, "folder");
}

#[test]
fn exclusion_examples() {
    // reference.md "Exclusion patterns".
    let co = CodeOwners::parse(
        "# All files require approval from @username\n* @username\n\n# Except pom.xml which needs no approval\n!pom.xml\n\n[Ruby]\n# All ruby files require approval from @ruby-team\n*.rb @ruby-team\n\n# Except Ruby files in the config directory\n!/config/**/*.rb\n",
    );
    assert!(co.problems.is_empty(), "{:?}", co.problems);
    assert_eq!(owners_by_section(&co, "pom.xml"), vec![]);
    assert!(co.owners_of("pom.xml")[0].excluded);
    assert_eq!(
        owners_by_section(&co, "config/deep/x.rb"),
        vec![o(DEFAULT_SECTION, &["@username"])]
    );
    assert_eq!(
        owners_by_section(&co, "app/x.rb"),
        vec![
            o(DEFAULT_SECTION, &["@username"]),
            o("Ruby", &["@ruby-team"])
        ]
    );

    // "Exclusions are evaluated in order": the later entry never takes effect, and its
    // trailing comment is a malformed owner (an exclusion's is not checked).
    let co = CodeOwners::parse(
        "* @default-owner\n!*.rb                      # Excludes all Ruby files.\n/special/*.rb @ruby-owner  # This won't take effect as *.rb is already excluded.\n",
    );
    assert_eq!(codes(&co), vec![(3, "malformed_entry_owner")]);
    assert_eq!(owners_by_section(&co, "special/a.rb"), vec![]);

    // "cannot be included again in the same section".
    let co =
        CodeOwners::parse("[Ruby]\n*.rb @ruby-team\n!/config/**/*.rb\n/config/routes.rb @ops\n");
    assert_eq!(owners_by_section(&co, "config/routes.rb"), vec![]);

    // file_spec "when handling exclusion patterns": the keys of each section.
    let co = CodeOwners::parse(
        "* @group-x\n!*.rb\n\n[Ruby]\n*.rb @ruby-devs\n/config/example.yml @config-yml\n!/config/**/*.rb\n",
    );
    assert!(
        co.problems.is_empty(),
        "does not require owners for exclusions"
    );
    assert_eq!(keys(&co, DEFAULT_SECTION), vec!["/**/*", "/**/*.rb"]);
    assert_eq!(
        keys(&co, "Ruby"),
        vec!["/**/*.rb", "/config/example.yml", "/config/**/*.rb"]
    );
    // ... and `!/config/*` in file_spec's lookup cases.
    let co = CodeOwners::parse("* @group-x\n!*.rb\n\n[Ruby]\n*.rb @ruby-devs\n!/config/*\n");
    assert_eq!(
        owners_by_section(&co, "file.txt"),
        vec![o(DEFAULT_SECTION, &["@group-x"])]
    );
    assert_eq!(
        owners_by_section(&co, "app/models/user.rb"),
        vec![o("Ruby", &["@ruby-devs"])]
    );
    assert_eq!(owners_by_section(&co, "config/routes.rb"), vec![]);
    let co = CodeOwners::parse("* @group-x\n\n!/app/temp/*\n!/app/*/temp/*\n");
    assert_eq!(
        owners_by_section(&co, "app/models/user.rb"),
        vec![o(DEFAULT_SECTION, &["@group-x"])]
    );
    assert_eq!(owners_by_section(&co, "app/temp/temp.rb"), vec![]);
    assert_eq!(owners_by_section(&co, "app/models/temp/file.rb"), vec![]);
}

/// GitLab's `ee/spec/fixtures/codeowners_example`.
const GITLAB_EXAMPLE: &str = "\
# This is an example code owners file, lines starting with a `#` will
# be ignored.

# app/ @commented-rule

# We can specify a default match using wildcards:
* @default-codeowner

# Rules defined later in the file take precedence over the rules
# defined before.
# This will match all files for which the file name ends in `.rb`
*.rb @ruby-owner

# Files with a `#` can still be accessed by escaping the pound sign
\\#file_with_pound.rb @owner-file-with-pound

# Multiple codeowners can be specified, separated by whitespace
CODEOWNERS @multiple @owners\t@tab-separated

# Both usernames or email addresses can be used to match
# users. Everything else will be ignored. For example this will
# specify `@legal` and a user with email `janedoe@gitlab.com` as the
# owner for the LICENSE file
LICENSE @legal this does not match janedoe@gitlab.com

# Ending a path in a `/` will specify the code owners for every file
# nested in that directory, on any level
/docs/ @all-docs

# Ending a path in `/*` will specify code owners for every file in
# that directory, but not nested deeper. This will match
# `docs/index.md` but not `docs/projects/index.md`
/docs/* @root-docs

# This will make a `lib` directory nested anywhere in the repository
# match
lib/ @lib-owner

# This will only match a `config` directory in the root of the
# repository
/config/ @config-owner

# If the path contains spaces, these need to be escaped like this:
path\\ with\\ spaces/ @space-owner
";

#[test]
fn gitlab_example_fixture() {
    let co = CodeOwners::parse(GITLAB_EXAMPLE);
    let mut k = keys(&co, DEFAULT_SECTION);
    k.sort();
    let mut want = vec![
        "/**/*",
        "/**/#file_with_pound.rb",
        "/**/*.rb",
        "/**/CODEOWNERS",
        "/**/LICENSE",
        "/docs/**/*",
        "/docs/*",
        "/config/**/*",
        "/**/lib/**/*",
        "/**/path with spaces/**/*",
    ];
    want.sort();
    assert_eq!(k, want);
    // The LICENSE line's words are malformed owners to GitLab; nothing else is wrong.
    assert_eq!(codes(&co), vec![(24, "malformed_entry_owner")]);
    let line = |p: &str| {
        let m = &co.owners_of(p)[0];
        (m.pattern.clone(), handles(m).join(" "))
    };
    assert_eq!(
        line("app/assets/something.vue"),
        ("*".into(), "@default-codeowner".into())
    );
    assert_eq!(line("hello.rb"), ("*.rb".into(), "@ruby-owner".into()));
    assert_eq!(line("app/models/repository.rb").1, "@ruby-owner");
    assert_eq!(line("CODEOWNERS").1, "@multiple @owners @tab-separated");
    assert_eq!(line("LICENSE").1, "@legal janedoe@gitlab.com");
    assert_eq!(
        line("examples/#file_with_pound.rb").1,
        "@owner-file-with-pound"
    );
    assert_eq!(line("docs/projects/index.md").1, "@all-docs");
    assert_eq!(line("docs/index.md").1, "@root-docs");
    assert_eq!(line("lib/gitlab/git/repository.rb").1, "@lib-owner");
    assert_eq!(line("ee/lib/gitlab/git/repository.rb").1, "@lib-owner");
    assert_eq!(line("config/database.yml").1, "@config-owner");
    assert_eq!(line("other/config/database.yml").1, "@default-codeowner");
    assert_eq!(line("path with spaces/docs.md").1, "@space-owner");
    assert!(co.owners_of("no_matches").len() == 1, "`*` owns everything");
    assert!(
        CodeOwners::parse("# Simulating a CODOWNERS without entries\n")
            .owners_of("x")
            .is_empty()
    );
}

#[test]
fn gitlab_file_spec_lookups() {
    let co = CodeOwners::parse(
        "a/weird\\ path\\ with/\\ @username\\ /\\ and-email@lookalikes.com\\ / @user-1 email@gitlab.org @user-2",
    );
    let m = &co.owners_of("a/weird path with/ @username / and-email@lookalikes.com /test.rb")[0];
    assert_eq!(handles(m), ["@user-1", "@user-2", "email@gitlab.org"]);

    let co = CodeOwners::parse("/* @user-1 @user-2");
    assert_eq!(
        handles(&co.owners_of("README.md")[0]),
        ["@user-1", "@user-2"]
    );
    assert!(co.owners_of("nested/path/README.md").is_empty());
    let co = CodeOwners::parse("foo/* @user-1 @user-2");
    assert!(co.owners_of("fufoo/bar").is_empty());
    assert_eq!(co.owners_of("baz/foo/bar").len(), 1);
    assert_eq!(co.owners_of("/foo/bar").len(), 1);

    // Sections start only at the beginning of a (stripped) line.
    let co = CodeOwners::parse(
        "      [Required]\n*_spec.rb @gl-test\n\n^[Optional]\n*_spec.rb @gl-test\n\nSomething before [Partially optional]\n*.md @gl-docs\n\nAdditional content before ^[Another partially optional]\ndoc/* @gl-docs\n",
    );
    // (GitLab always lists the default section; an empty one is left out here.)
    let names: Vec<&str> = co.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Required", "Optional"]);
    assert_eq!(co.section("Optional").map(|s| s.rules.len()), Some(5));
}

#[test]
fn gitlab_file_spec_syntax_errors() {
    let co = CodeOwners::parse(
        "*.rb\n\n[]\n*_spec.rb @gl-test\n\n^[Optional][5]\n*.txt @user\n\n[Invalid section\n\n[OK section header]\n",
    );
    assert_eq!(
        codes(&co),
        vec![
            (1, "missing_entry_owner"),
            (3, "missing_section_name"),
            (6, "invalid_approval_requirement"),
            (9, "invalid_section_format"),
        ]
    );
    let co = CodeOwners::parse(
        "# Regular owner\n*.rb @valid-user\n\n# Just invalid owners\n*.js not_a_user_not_an_email\n",
    );
    assert_eq!(codes(&co), vec![(5, "malformed_entry_owner")]);
    let co = CodeOwners::parse(
        "# Regular owner\n*.rb @valid-user\n\n# Mixed valid and invalid owners\n*.js malformed @valid-user @valid-group another_malformed\n",
    );
    assert_eq!(codes(&co), vec![(5, "malformed_entry_owner")]);
    let co = CodeOwners::parse("file1 @reference\n\nREADME.md @other_reference\n");
    assert!(co.problems.is_empty());
}

#[test]
fn gitlab_file_spec_approvals_and_optional_sections() {
    let co = CodeOwners::parse(
        "[Required][2]\n*_spec.rb @gl-test\n\n[Another required]\n*_spec.rb @gl-test\n\n[Required with default owners] @config-owner\n*_spec.rb @gl-test\n\n^[Optional][2] @gl-docs @config-owner\n*_spec.rb\n\n[Required with non-numbers][q]\n*_spec.rb @gl-test\n\n^[Optional with non-numbers][.] @not-matching\n*_spec.rb @gl-test\n",
    );
    let entry = |s: &str| {
        let r = &co.section(s).expect(s).rules[0];
        (r.approvals, r.owner_line.as_str())
    };
    assert_eq!(entry("Required"), (2, "@gl-test"));
    assert_eq!(entry("Another required"), (0, "@gl-test"));
    assert_eq!(entry("Required with default owners"), (0, "@gl-test"));
    assert_eq!(entry("Optional"), (2, "@gl-docs @config-owner"));
    assert_eq!(entry("Required with non-numbers"), (0, "@gl-test"));
    assert_eq!(entry("Optional with non-numbers"), (0, "@gl-test"));
    assert_eq!(
        codes(&co),
        vec![
            (10, "invalid_approval_requirement"),
            (13, "invalid_section_format"),
            (16, "invalid_section_format"),
        ]
    );

    // optional_section?: a section is optional only when every entry of it is.
    let co = CodeOwners::parse(
        "*.rb @ruby-owner\n\n[Required]\n*_spec.rb @gl-test\n\n^[Optional]\n*_spec.rb @gl-test\n\n[Partially optional]\n*.md @gl-docs\n\n^[Partially optional]\ndoc/* @gl-docs\n",
    );
    let opt = |s: &str| co.section(s).map(|s| s.optional);
    assert_eq!(opt("Required"), Some(false));
    assert_eq!(opt("Optional"), Some(true));
    assert_eq!(opt("Partially optional"), Some(false));
    assert_eq!(opt("Does not exist"), None);

    // #sections: unique.
    let co = CodeOwners::parse(
        "*.rb @ruby-owner\n\n[Documentation]\n*.md @gl-docs\n\n[Test]\n*_spec.rb @gl-test\n\n[Documentation]\ndoc/* @gl-docs\n",
    );
    let names: Vec<&str> = co.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, [DEFAULT_SECTION, "Documentation", "Test"]);
}

#[test]
fn section_names_follow_find_section_name() {
    // Before any named section, a heading's name is used as written: `[codeowners]` joins the
    // default section, `[CodeOwners]` is a section of its own.
    let co = CodeOwners::parse("a @x\n[codeowners]\nb @y\n");
    assert_eq!(co.sections.len(), 1);
    assert_eq!(co.sections[0].rules.len(), 2);
    let co = CodeOwners::parse("a @x\n[CodeOwners]\nb @y\n");
    let names: Vec<&str> = co.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, [DEFAULT_SECTION, "CodeOwners"]);
    // Once a named section exists, names compare case-insensitively (the default one too).
    let co = CodeOwners::parse("a @x\n[Doc]\nb @y\n[DOC]\nc @z\n[CODEOWNERS]\nd @w\n");
    let rules: Vec<(&str, usize)> = co
        .sections
        .iter()
        .map(|s| (s.name.as_str(), s.rules.len()))
        .collect();
    assert_eq!(rules, [(DEFAULT_SECTION, 2), ("Doc", 2)]);
}

#[test]
fn owner_syntax_follows_the_reference_extractor() {
    // `@alice,@bob` is two owners (and an odd e-mail) and no error; an address needs no dot.
    let co = CodeOwners::parse("a @alice,@bob\nb alice@localhost\nc @@developers @@guest\n");
    assert_eq!(codes(&co), vec![(3, "malformed_entry_owner")]);
    assert_eq!(
        co.owners_of("a")[0].owners,
        vec![
            Owner::Handle("alice".into()),
            Owner::Handle("bob".into()),
            Owner::Email("alice,@bob".into())
        ]
    );
    assert_eq!(
        co.owners_of("b")[0].owners,
        vec![Owner::Email("alice@localhost".into())]
    );
    assert_eq!(
        co.owners_of("c")[0].owners,
        vec![Owner::Role(Role::Developer)]
    );
    // A non-ASCII "name" is no reference: the entry has no owners (auto-approved).
    let co = CodeOwners::parse("é/ @ß\n");
    assert_eq!(codes(&co), vec![(1, "malformed_entry_owner")]);
    assert_eq!(co.owners_of("x/é/y")[0].owners, vec![]);
}

#[test]
fn a_repeated_pattern_replaces_the_earlier_entry_in_its_place() {
    // GitLab keys entries by normalized pattern in a Ruby hash: the later `*` takes the
    // first `*`'s place, so the more specific `docs/*` (later in the hash) still wins there.
    let co = CodeOwners::parse("* @a\ndocs/* @b\n* @c\n");
    assert_eq!(keys(&co, DEFAULT_SECTION), vec!["/**/*", "/**/docs/*"]);
    let m = &co.owners_of("docs/x")[0];
    assert_eq!((handles(m).join(" "), m.line), ("@b".to_string(), 2));
    let m = &co.owners_of("src/x")[0];
    assert_eq!((handles(m).join(" "), m.line), ("@c".to_string(), 3));
    // `!x` and `x` share a key.
    let co = CodeOwners::parse("* @a\n!*.lock\n*.lock @b\n");
    assert_eq!(
        owners_by_section(&co, "Cargo.lock"),
        vec![o(DEFAULT_SECTION, &["@b"])]
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
fn problems_carry_gitlab_codes_in_json_and_text() {
    let co = CodeOwners::parse("^[Docs][2]\n*.md @docs\n");
    let p = &co.problems[0];
    assert_eq!(
        serde_json::to_value(p).unwrap()["code"],
        "invalid_approval_requirement"
    );
    let text = p.to_string();
    assert!(
        text.starts_with("CODEOWNERS line 1: invalid_approval_requirement: ")
            && text.contains("`[2]`"),
        "{text}"
    );
    // The section still applies, as GitLab applies it.
    assert_eq!(co.owners_of("a.md")[0].approvals, 2);
}

#[test]
fn empty_and_hostile_input_never_panics() {
    assert!(CodeOwners::parse("").sections.is_empty());
    assert!(CodeOwners::parse("# only a comment\n").sections.is_empty());
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
        "\u{feff}[Docs]",
        "[]]]]",
        "^",
        "@@@@",
        "a\\",
    ] {
        let co = CodeOwners::parse(junk);
        let _ = co.owners_of("a/b/c");
        for p in &co.problems {
            let _ = p.to_string();
        }
    }
    // `!` alone excludes everything from its section.
    let co = CodeOwners::parse("* @a\n!\n[S]\n* @b\n");
    assert_eq!(owners_by_section(&co, "x/y"), vec![o("S", &["@b"])]);
    let big = "a/b/c @x\n".repeat(20_000);
    assert_eq!(CodeOwners::parse(&big).sections[0].rules.len(), 1);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Any text parses without panicking; every problem points at a line of the file and
    /// every lookup answers.
    #[test]
    fn any_text_parses_and_answers(text in "([\\[\\]^!#@*/\\\\ a-z0-9.\\-_,\n]|\u{202E}|é){0,300}",
                                   path in "[a-z/.*]{0,20}") {
        let co = CodeOwners::parse(&text);
        let lines = text.split('\n').count();
        for p in &co.problems {
            proptest::prop_assert!(p.line >= 1 && p.line <= lines);
        }
        for m in co.owners_of(&path) {
            proptest::prop_assert!(m.approvals >= 1);
        }
    }
}

//! The crate boundaries ARCHITECTURE.md draws, checked: which workspace crate depends on which
//! (read from `cargo metadata`), that core depends on no HTTP, SMTP, template or command-line
//! crate, that each crate's tables are its own entities, and that the web crate reads and writes
//! the database only through the libraries (its own store of sessions and tokens, `auth.rs`,
//! aside).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Each workspace package's normal (not dev, not build) dependencies.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace())
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

#[test]
fn the_crates_depend_on_each_other_as_the_architecture_says() {
    let deps = dependencies();
    let ours = |name: &str| -> BTreeSet<&str> {
        deps[name]
            .iter()
            .filter(|d| d.starts_with("outreach-"))
            .map(String::as_str)
            .collect()
    };
    let want: &[(&str, &[&str])] = &[
        ("outreach-migration", &[]),
        ("outreach-core", &["outreach-migration"]),
        ("outreach-mailer", &["outreach-core"]),
        ("outreach-letters", &["outreach-core", "outreach-mailer"]),
        ("outreach-scheduler", &["outreach-core", "outreach-mailer"]),
        (
            "outreach-web",
            &[
                "outreach-core",
                "outreach-letters",
                "outreach-mailer",
                "outreach-scheduler",
            ],
        ),
        (
            "outreach-cli",
            &[
                "outreach-core",
                "outreach-letters",
                "outreach-mailer",
                "outreach-scheduler",
                "outreach-web",
            ],
        ),
        ("outreach-testkit", &[]),
    ];
    for (krate, expected) in want {
        assert_eq!(
            ours(krate),
            expected.iter().copied().collect::<BTreeSet<_>>(),
            "{krate}'s dependencies on the other crates"
        );
    }
    // Core knows nothing of HTTP, SMTP, templates or the command line.
    for foreign in [
        "axum",
        "tower-http",
        "hyper",
        "reqwest",
        "lettre",
        "handlebars",
        "clap",
    ] {
        assert!(
            !deps["outreach-core"].contains(foreign),
            "core depends on {foreign}"
        );
    }
    // Only the front ends speak HTTP or parse command lines.
    for krate in ["outreach-mailer", "outreach-letters", "outreach-scheduler"] {
        for foreign in ["axum", "clap"] {
            assert!(
                !deps[krate].contains(foreign),
                "{krate} depends on {foreign}"
            );
        }
    }
}

/// The `.rs` files under `dir`, recursively.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

#[test]
fn each_crate_holds_the_entities_of_its_own_tables() {
    let root = workspace().join("crates");
    let entities = |krate: &str| -> BTreeSet<String> {
        let dir = root.join(krate).join("src/entities");
        std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_stem().is_some_and(|s| s != "mod"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    let set = |names: &[&str]| {
        names
            .iter()
            .map(|n| (*n).to_owned())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        entities("mailer"),
        set(&["outbox", "undeliverable_address"])
    );
    assert_eq!(entities("scheduler"), set(&["cron_state", "job"]));
    assert_eq!(entities("web"), set(&["session", "token"]));
    let core = entities("core");
    // The domain's tables are core's, the grants' deliverables, the posts and the stances among them.
    for own in [
        "grant",
        "grant_report",
        "grant_deliverable",
        "engagement",
        "post",
        "stance_setting",
    ] {
        assert!(core.contains(own), "core lacks the {own} entity");
    }
    for foreign in [
        "outbox",
        "undeliverable_address",
        "cron_state",
        "job",
        "session",
        "token",
    ] {
        assert!(!core.contains(foreign), "core holds the {foreign} entity");
    }
}

#[test]
fn the_web_crate_reads_and_writes_the_database_only_through_the_libraries() {
    let src = workspace().join("crates/web/src");
    // Web's own store: the sessions and tokens tables (auth.rs) and their entities.
    let own =
        |p: &Path| p.ends_with("auth.rs") || p.components().any(|c| c.as_os_str() == "entities");
    let forbidden = [
        "Entity::find",
        "Entity::insert",
        "Entity::update",
        "Entity::delete",
        "ActiveModel",
        "Statement::",
        "db::begin",
        "execute_unprepared",
        "query_one",
        "query_all",
        ".begin()",
        "QueryFilter",
    ];
    let mut found = Vec::new();
    for file in sources(&src) {
        if own(&file) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for f in forbidden {
                if line.contains(f) {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "the web crate queries the database itself:\n{}",
        found.join("\n")
    );
}

#[test]
fn each_crate_reads_its_own_settings_and_core_knows_none_of_smtp_cron_or_http() {
    use outreach_core::config::{SECTIONS, Section, Settings};
    // Every table core lets through is read by the crate that owns it, and no other.
    let owned: BTreeSet<&str> = [
        outreach_mailer::MailSettings::KEY,
        outreach_scheduler::SchedulerSettings::KEY,
        outreach_letters::LetterSettings::KEY,
        outreach_web::WebSettings::KEY,
    ]
    .into_iter()
    .collect();
    assert_eq!(owned, SECTIONS.iter().copied().collect::<BTreeSet<_>>());

    // The shipped defaults load, and each owner reads its table from them.
    let settings = Settings::load_from(&workspace().join("config"), "none", false).unwrap();
    let mail: outreach_mailer::MailSettings = settings.section().unwrap();
    assert_eq!(mail.transport, "file");
    let scheduler: outreach_scheduler::SchedulerSettings = settings.section().unwrap();
    assert_eq!(scheduler.workflows_file, "config/workflows.toml");
    // A mistake inside a table is named with its table, at load.
    let wrong = settings.clone().with("mail.smtp_hots", "x").unwrap();
    let err = wrong
        .section::<outreach_mailer::MailSettings>()
        .unwrap_err()
        .to_string();
    assert!(err.contains("smtp_hots"), "{err}");
    let err = settings
        .with("web.public_url", "outreach.example.org")
        .unwrap()
        .section::<outreach_web::WebSettings>()
        .unwrap_err()
        .to_string();
    assert!(err.contains("web.public_url"), "{err}");

    // Core's code (comments aside) has no word of SMTP, cron or HTTP servers.
    let mut found = Vec::new();
    for file in sources(&workspace().join("crates/core/src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("").to_ascii_lowercase();
            for word in ["smtp", "cron", "axum", "hyper", "lettre", "statuscode"] {
                if code.contains(word) && !line.contains("#[cfg(test)]") {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "core speaks of SMTP, cron or HTTP:\n{}",
        found.join("\n")
    );
}

//! The letter commands: `outreach letter templates|draft|batch|list|show|edit|submit|approve|
//! send|export`. Their arguments and handlers live here so the letters' part of the command line
//! stays in one place; they call `outreach-letters` for everything.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use comfy_table::{ContentArrangement, Table, presets};
use outreach_letters::batch::{self, Audience};
use outreach_letters::drafts::{self, DraftRequest, LetterView, Letters};
use outreach_letters::export::{self, Format};

use crate::App;

#[derive(Debug, Subcommand)]
pub enum LetterCommand {
    /// The letter templates: what each is for, who it goes to, the fields it requires, languages.
    Templates,
    /// Draft one letter from a template for a state, in the recipient's language.
    #[command(
        after_help = "The recipient defaults to the template's audience: for joint_approach an embassy \
        contact located in the state, for the others a ministry contact there, else the Minister for \
        Foreign Affairs. The language defaults to the recipient's first of en, fr, es.\n\n\
        Examples:\n  outreach letter draft joint_approach --state NPL\n  \
        outreach letter draft joint_approach --state NPL --to ingrid@embassy-demo.example.org --lang fr\n  \
        outreach letter draft call_to_join --state AZE --lang es\n  \
        outreach letter draft thanks --state USA --signal 5e2c1a9b   (thank the United States for the step with that id: `outreach signals --state USA`)"
    )]
    Draft {
        /// joint_approach, call_to_join, call_to_speak_out, thanks, follow_up_after_meeting,
        /// observer_invitation.
        template: String,
        /// The state the letter is about: ISO3 code or name.
        #[arg(long, value_name = "STATE")]
        state: String,
        /// The recipient: a contact's email, name or id.
        #[arg(long, value_name = "CONTACT")]
        to: Option<String>,
        /// en, fr or es.
        #[arg(long, value_name = "LANG")]
        lang: Option<String>,
        /// The signal the letter answers, by its id (or the end of it) from `outreach signals`:
        /// the policy step or condemnation a thanks letter thanks for, the reported use a call
        /// to speak out responds to.
        #[arg(long, value_name = "SIGNAL")]
        signal: Option<String>,
    },
    /// Draft a letter for every member of an audience, and report what was drafted and skipped.
    #[command(
        after_help = "Audiences: states-parties-without-condemnation, states-not-party, \
        embassies-in:ISO3. A member already holding an open letter from the same template is \
        skipped. Everything is written in one transaction.\n\n\
        Examples:\n  outreach letter batch call_to_speak_out --audience states-parties-without-condemnation\n  \
        outreach letter batch joint_approach --audience embassies-in:NPL --lang fr\n  \
        outreach letter batch call_to_speak_out --audience states-parties-without-condemnation --signal 9d41c07e   (the reported use from `outreach signals --kind reported-use`)"
    )]
    Batch {
        template: String,
        #[arg(long, value_name = "AUDIENCE")]
        audience: String,
        /// en, fr or es for every letter; default: each recipient's language.
        #[arg(long, value_name = "LANG")]
        lang: Option<String>,
        /// The reported use every call to speak out responds to, by its id from `outreach
        /// signals --kind reported-use`; default: the three most recent.
        #[arg(long, value_name = "SIGNAL")]
        signal: Option<String>,
    },
    /// Letters, newest first.
    List {
        /// draft, in-review, approved, sent or exported.
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
    },
    /// One letter: where it stands, every version with its author, and the current text.
    Show { id: String },
    /// Replace the text of a letter with a new version (a letter in review or approved goes back to draft).
    #[command(
        after_help = "Examples:\n  outreach letter show 4f2a91c0 --json | jq -r .body > letter.md   (edit it, then)\n  \
        outreach letter edit 4f2a91c0 --file letter.md --note \"Shorter second paragraph\""
    )]
    Edit {
        id: String,
        /// The new body (Markdown); `-` reads standard input.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// A new subject line; default: keep the current one.
        #[arg(long)]
        subject: Option<String>,
        /// Why this version exists.
        #[arg(long)]
        note: Option<String>,
    },
    /// Submit a draft for review.
    Submit { id: String },
    /// Approve the current version of a letter in review (recorded with your handle).
    Approve { id: String },
    /// Mark an approved letter sent.
    Send { id: String },
    /// Write the current version to a file under the letterhead; an approved letter becomes exported.
    #[command(
        after_help = "Examples:\n  outreach letter export 4f2a91c0 --format docx\n  \
        outreach letter export 4f2a91c0 --format html --out letter.html\n  outreach letter export 4f2a91c0 --out -"
    )]
    Export {
        id: String,
        /// md, html or docx.
        #[arg(long, default_value = "md", value_name = "FORMAT")]
        format: String,
        /// The file to write; `-` for standard output; default: letter-<ID>.<format>.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    t
}

fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn letters(app: &App) -> Result<Letters> {
    Letters::load(&app.letters, &app.settings.treaty).context("Failed to load the letter templates")
}

fn summary(verb: &str, l: &LetterView) {
    println!(
        "{verb} {} ({} in {}, to {} about {}): {}, version {}.",
        l.short_id,
        l.template,
        l.language,
        l.recipient,
        l.state,
        l.status.replace('_', " "),
        l.version
    );
}

fn show(l: &LetterView) {
    summary("Letter", l);
    println!("Subject: {}", l.subject);
    if let (Some(by), Some(at), Some(v)) = (&l.approved_by, l.approved_at, l.approved_version) {
        println!(
            "Approved by {by} on {} (version {v}).",
            at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    let mut t = table(&["version", "author", "when", "note"]);
    for v in &l.versions {
        t.add_row(vec![
            v.version.to_string(),
            v.author.clone(),
            v.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            v.note.clone(),
        ]);
    }
    println!("{t}\n");
    print!("{}", l.body);
}

/// Progress on stderr: a bar redrawn in place on a terminal, a line per tenth otherwise.
fn progress_printer() -> impl FnMut(usize, usize) {
    let tty = std::io::stderr().is_terminal();
    let mut last_tenth = usize::MAX;
    move |done, total| {
        let mut err = std::io::stderr().lock();
        if tty {
            let width = 30;
            let filled = (done * width)
                .checked_div(total)
                .unwrap_or(width)
                .min(width);
            let _ = write!(
                err,
                "\r[{}{}] {done}/{total}",
                "#".repeat(filled),
                " ".repeat(width - filled)
            );
            if done == total {
                let _ = writeln!(err);
            }
        } else {
            let tenth = (done * 10).checked_div(total).unwrap_or(10);
            if tenth != last_tenth || done == total {
                last_tenth = tenth;
                let _ = writeln!(err, "progress: {done}/{total}");
            }
        }
    }
}

/// `outreach letter ...`
pub(crate) async fn letter(app: &App, json: bool, command: LetterCommand) -> Result<()> {
    let actor = &app.actor;
    match command {
        LetterCommand::Templates => {
            let l = letters(app)?;
            let list = l.templates.list();
            if json {
                return print_json(&list);
            }
            let mut t = table(&["template", "title", "audience", "requires", "languages"]);
            for i in &list {
                t.add_row(vec![
                    i.name.clone(),
                    format!("{}\n{}", i.title, i.description),
                    i.audience.clone(),
                    i.required.join(", "),
                    i.languages.join(", "),
                ]);
            }
            println!("Letter templates from {}:\n{t}", l.templates.origin());
            Ok(())
        }
        LetterCommand::Draft {
            template,
            state,
            to,
            lang,
            signal,
        } => {
            let l = letters(app)?;
            let db = app.db().await?;
            let view = drafts::draft(
                &db,
                actor,
                &l,
                &DraftRequest {
                    template,
                    state,
                    to,
                    lang,
                    signal,
                },
            )
            .await?;
            if json {
                return print_json(&view);
            }
            summary("Drafted letter", &view);
            println!(
                "Read it with `outreach letter show {}`; submit it for review with `outreach letter submit {}`.",
                view.short_id, view.short_id
            );
            Ok(())
        }
        LetterCommand::Batch {
            template,
            audience,
            lang,
            signal,
        } => {
            let audience = Audience::parse(&audience)?;
            let l = letters(app)?;
            let db = app.db().await?;
            let mut progress = progress_printer();
            let report = batch::batch_serving(
                &db,
                actor,
                &l,
                &template,
                &audience,
                lang.as_deref(),
                signal.as_deref(),
                &mut progress,
            )
            .await?;
            if json {
                return print_json(&report);
            }
            println!(
                "Batch {} of {} for {}: {} drafted, {} skipped.",
                outreach_core::ids::short(report.batch_id),
                report.template,
                report.audience,
                report.drafted.len(),
                report.skipped.len()
            );
            if !report.drafted.is_empty() {
                let mut t = table(&["id", "state", "recipient", "lang"]);
                for d in &report.drafted {
                    t.add_row(vec![
                        d.short_id.clone(),
                        format!("{} ({})", d.state, d.iso3),
                        d.recipient.clone(),
                        d.language.clone(),
                    ]);
                }
                println!("Drafted:\n{t}");
            }
            if !report.skipped.is_empty() {
                let mut t = table(&["state", "recipient", "why skipped"]);
                for s in &report.skipped {
                    t.add_row(vec![
                        format!("{} ({})", s.state, s.iso3),
                        s.recipient.clone().unwrap_or_else(|| "-".into()),
                        s.reason.clone(),
                    ]);
                }
                println!("Skipped:\n{t}");
            }
            Ok(())
        }
        LetterCommand::List { status } => {
            let db = app.db().await?;
            let rows = drafts::list(&db, status.as_deref()).await?;
            if json {
                return print_json(&rows);
            }
            if rows.is_empty() {
                println!(
                    "No letters. Draft one with `outreach letter draft <template> --state <ISO3>`."
                );
                return Ok(());
            }
            let mut t = table(&[
                "id",
                "status",
                "template",
                "lang",
                "state",
                "recipient",
                "v",
                "updated",
            ]);
            for r in &rows {
                t.add_row(vec![
                    r.short_id.clone(),
                    r.status.replace('_', " "),
                    r.template.clone(),
                    r.language.clone(),
                    format!("{} ({})", r.state, r.iso3),
                    r.recipient.clone(),
                    r.version.to_string(),
                    actor
                        .zone
                        .local(r.updated_at)
                        .format("%Y-%m-%d %H:%M")
                        .to_string(),
                ]);
            }
            println!("{t}");
            Ok(())
        }
        LetterCommand::Show { id } => {
            let db = app.db().await?;
            let view = drafts::show(&db, &id).await?;
            if json {
                return print_json(&view);
            }
            show(&view);
            Ok(())
        }
        LetterCommand::Edit {
            id,
            file,
            subject,
            note,
        } => {
            let body = if file.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("Failed to read the new text from standard input")?;
                s
            } else {
                std::fs::read_to_string(&file).with_context(|| {
                    format!(
                        "--file: cannot read {}; give a text file with the whole letter",
                        file.display()
                    )
                })?
            };
            let db = app.db().await?;
            let view =
                drafts::edit(&db, actor, &id, subject.as_deref(), &body, note.as_deref()).await?;
            if json {
                return print_json(&view);
            }
            summary("Edited letter", &view);
            Ok(())
        }
        LetterCommand::Submit { id } => transition(app, json, &id, Step::Submit).await,
        LetterCommand::Approve { id } => transition(app, json, &id, Step::Approve).await,
        LetterCommand::Send { id } => transition(app, json, &id, Step::Send).await,
        LetterCommand::Export { id, format, out } => {
            let format = Format::parse(&format)?;
            let l = letters(app)?;
            let db = app.db().await?;
            // Render first: a file that cannot be written leaves the letter as it was.
            let current = drafts::show(&db, &id).await?;
            let bytes = export::render(&current, &l.settings, format)?;
            let target = out.unwrap_or_else(|| {
                PathBuf::from(format!(
                    "letter-{}.{}",
                    current.short_id,
                    format.extension()
                ))
            });
            if target.as_os_str() == "-" {
                std::io::stdout()
                    .write_all(&bytes)
                    .context("Failed to write the letter to standard output")?;
            } else {
                std::fs::write(&target, &bytes)
                    .with_context(|| format!("--out: cannot write {}", target.display()))?;
            }
            let view = drafts::record_export(&db, actor, &id, format.extension()).await?;
            if json && target.as_os_str() != "-" {
                return print_json(&serde_json::json!({
                    "file": target, "format": format.extension(), "letter": view,
                }));
            }
            if target.as_os_str() != "-" {
                println!(
                    "Wrote {} ({}, version {}); letter {} is {}.",
                    target.display(),
                    format.extension(),
                    view.version,
                    view.short_id,
                    view.status.replace('_', " ")
                );
            }
            Ok(())
        }
    }
}

/// A lifecycle step.
#[derive(Debug, Clone, Copy)]
enum Step {
    Submit,
    Approve,
    Send,
}

async fn transition(app: &App, json: bool, id: &str, step: Step) -> Result<()> {
    let db = app.db().await?;
    let (verb, view) = match step {
        Step::Submit => (
            "Submitted letter",
            drafts::submit(&db, &app.actor, id).await?,
        ),
        Step::Approve => (
            "Approved letter",
            drafts::approve(&db, &app.actor, id, app.letters.four_eyes).await?,
        ),
        Step::Send => (
            "Marked sent:",
            drafts::mark_sent(&db, &app.actor, id).await?,
        ),
    };
    if json {
        return print_json(&view);
    }
    summary(verb, &view);
    Ok(())
}

/// A letter of the demo's story: drafted (with its id), or not, and why.
#[derive(Debug, serde::Serialize)]
pub struct DemoLetter {
    /// What the letter is in the story, in words.
    pub what: String,
    pub template: String,
    pub state: String,
    pub id: Option<String>,
    pub recipient: String,
    pub language: String,
    /// Why it was not drafted, when it was not.
    pub note: String,
}

/// The shipped signal of `iso3`, `kind` and `date` (from data/reference/signals.csv), if loaded.
async fn shipped_signal(
    db: &sea_orm::DatabaseConnection,
    iso3: &str,
    kind: &str,
    date: &str,
) -> Result<Option<String>> {
    let rows = outreach_core::signals::list(
        db,
        &outreach_core::signals::SignalFilter {
            state: Some(iso3.to_owned()),
            kind: Some(kind.to_owned()),
        },
    )
    .await?;
    Ok(rows
        .into_iter()
        .find(|s| s.date.to_string() == date)
        .map(|s| s.id.to_string()))
}

/// The letters that tell the demo's story, drafted after its records: a joint approach with
/// the local campaign in Nepal, a call to speak out to France responding to Russia's reported
/// use of 2022, and thanks to the United States for its policy step of June 2022. Each is drafted
/// on its own; one the records cannot support is reported, not an error.
pub(crate) async fn demo_letters(
    db: &sea_orm::DatabaseConnection,
    app: &App,
) -> Result<Vec<DemoLetter>> {
    let l = letters(app)?;
    let russia_2022 = shipped_signal(db, "RUS", "reported_use", "2022-02-24").await?;
    let us_2022 = shipped_signal(db, "USA", "policy_change", "2022-06-21").await?;
    let story = [
        (
            "joint approach with the local campaign",
            "joint_approach",
            "NPL",
            None,
        ),
        (
            "call to speak out against Russia's reported use since 2022",
            "call_to_speak_out",
            "FRA",
            russia_2022,
        ),
        (
            "thanks for the policy step of June 2022",
            "thanks",
            "USA",
            us_2022,
        ),
    ];
    let mut out = Vec::new();
    for (what, template, state, signal) in story {
        let req = DraftRequest {
            template: template.to_owned(),
            state: state.to_owned(),
            signal,
            ..DraftRequest::default()
        };
        let line = match drafts::draft(db, &app.actor, &l, &req).await {
            Ok(v) => DemoLetter {
                what: what.to_owned(),
                template: template.to_owned(),
                state: v.state,
                id: Some(v.short_id),
                recipient: v.recipient,
                language: v.language,
                note: String::new(),
            },
            Err(e) => DemoLetter {
                what: what.to_owned(),
                template: template.to_owned(),
                state: state.to_owned(),
                id: None,
                recipient: String::new(),
                language: String::new(),
                note: e.to_string(),
            },
        };
        out.push(line);
    }
    Ok(out)
}

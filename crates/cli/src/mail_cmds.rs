//! The email commands: `outreach mail test`, `outreach outbox` (list, requeue, undeliverable)
//! and `outreach templates check`. Their arguments and handlers live here so the mailer's part
//! of the command line stays in one place; they call `outreach-mailer` for everything.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use comfy_table::{ContentArrangement, Table, presets};
use outreach_core::domain::EmailAddress;
use outreach_core::ids::short;
use outreach_mailer::locale::{LANGUAGES, Lang};
use outreach_mailer::{Mailer, deliver_now, ledger, templates};

use crate::App;

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Send one test message now through the configured transport and show the server's reply.
    #[command(
        after_help = "The message goes through whatever [mail] configures: an SMTP server, or .eml \
        files in mail.file_dir (the default). It is recorded in the outbox like any other.\n\n\
        Examples:\n  outreach mail test --to me@example.org\n  outreach mail test --to me@example.org --lang fr"
    )]
    Test {
        /// The address to send to.
        #[arg(long, value_name = "ADDRESS")]
        to: String,
        /// Language of the message: en, fr or es.
        #[arg(long, default_value = "en", value_name = "LANG")]
        lang: String,
    },
}

/// `outreach outbox`: list messages, or act on one.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct OutboxArgs {
    #[command(subcommand)]
    pub command: Option<OutboxCommand>,
    /// queued, sending, sent, failed, cancelled or all.
    #[arg(long, default_value = "all", value_name = "STATUS")]
    pub status: String,
    /// At most this many messages, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: u64,
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Put a failed message back in the queue, due now (and lift the refusal of its address).
    Requeue { id: String },
    /// Addresses a mail server refused permanently; messages to them fail without being sent.
    Undeliverable,
}

#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// Check every email template against its context type and across languages, and every
    /// page template of the web app against its page's context.
    #[command(
        after_help = "Exits with status 1 and lists each problem with its template, language, part, \
        field and line. Page templates: the built-in ones, or DIR/web/ when --dir names a folder \
        that has one.\n\nExamples:\n  outreach templates check\n  outreach templates check --dir ./my-templates"
    )]
    Check {
        /// The templates folder (holding email/, and web/ for page templates); default:
        /// mail.templates_dir.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
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

fn mailer(app: &App) -> Result<Mailer> {
    let base = std::env::current_dir().context("Failed to read the working folder")?;
    Mailer::from_settings(&app.mail, &base).context("Failed to set up the mailer")
}

/// `outreach mail ...`
pub(crate) async fn mail(app: &App, json: bool, command: MailCommand) -> Result<()> {
    let MailCommand::Test { to, lang } = command;
    let address = EmailAddress::parse("--to", &to)?;
    if Lang::parse(&lang).is_none() {
        bail!("--lang: '{lang}' is not one of {}", LANGUAGES.join(", "));
    }
    let mailer = mailer(app)?;
    let db = app.db().await?;
    let id = ledger::queue_test(
        &db,
        &app.actor.handle,
        &address,
        &lang,
        &app.settings.time_zone,
    )
    .await?;
    let attempt = deliver_now(&db, &mailer, id)
        .await?
        .context("the test message was taken by another sender; see `outreach outbox`")?;
    if json {
        print_json(&serde_json::json!({
            "transport": mailer.transport().describe(),
            "attempt": attempt,
        }))?;
    }
    match attempt.status.as_str() {
        "sent" => {
            if !json {
                println!(
                    "Sent {} to {} via {}.\nServer reply: {}",
                    short(id),
                    address,
                    mailer.transport().describe(),
                    attempt.detail
                );
            }
            Ok(())
        }
        "queued" => bail!(
            "not delivered yet: {}; message {} stays queued and the daemon retries it (`outreach outbox`)",
            attempt.detail,
            short(id)
        ),
        _ => bail!(
            "not delivered: {}; message {} is failed",
            attempt.detail,
            short(id)
        ),
    }
}

/// `outreach outbox ...`
pub(crate) async fn outbox(app: &App, json: bool, args: OutboxArgs) -> Result<()> {
    let db = app.db().await?;
    match args.command {
        None => {
            let rows = ledger::list(&db, Some(&args.status), args.limit).await?;
            if json {
                return print_json(&rows);
            }
            if rows.is_empty() {
                println!("No messages ({}).", args.status);
                return Ok(());
            }
            let mut t = table(&[
                "id",
                "status",
                "to",
                "template",
                "tries",
                "when",
                "reply or reason",
            ]);
            for r in &rows {
                let when = r.sent_at.unwrap_or(r.next_attempt_at);
                let zone = app.actor.zone;
                t.add_row(vec![
                    short(r.id),
                    r.status.clone(),
                    r.recipient.clone(),
                    format!("{} ({})", r.template, r.language),
                    r.attempts.to_string(),
                    zone.local(when).format("%Y-%m-%d %H:%M").to_string(),
                    r.reason
                        .clone()
                        .or_else(|| r.reply.clone())
                        .unwrap_or_default(),
                ]);
            }
            println!("{t}");
            Ok(())
        }
        Some(OutboxCommand::Requeue { id }) => {
            let done = ledger::requeue(&db, &app.actor.handle, &id).await?;
            if json {
                return print_json(&done);
            }
            println!(
                "Requeued {} to {} ({}); it is due now.",
                short(done.entry.id),
                done.entry.recipient,
                done.entry.template
            );
            if let Some(address) = done.cleared_address {
                println!("{address} is no longer marked undeliverable.");
            }
            Ok(())
        }
        Some(OutboxCommand::Undeliverable) => {
            let rows = ledger::undeliverable(&db).await?;
            if json {
                return print_json(&rows
                    .iter()
                    .map(|r| serde_json::json!({"email": r.email, "reason": r.reason, "marked_at": r.marked_at}))
                    .collect::<Vec<_>>());
            }
            if rows.is_empty() {
                println!("No address has been refused permanently.");
                return Ok(());
            }
            let mut t = table(&["address", "refused on", "server's reply"]);
            for r in &rows {
                t.add_row(vec![
                    r.email.clone(),
                    r.marked_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                    r.reason.clone(),
                ]);
            }
            println!("{t}");
            Ok(())
        }
    }
}

/// `outreach templates check`: the email templates and the web app's page templates (the
/// built-in ones, or `<dir>/web/` when `--dir` names a folder that has one).
pub(crate) fn templates(app: &App, json: bool, command: TemplatesCommand) -> Result<()> {
    let TemplatesCommand::Check { dir } = command;
    if let Some(given) = &dir
        && templates::email_dir(given).is_none()
    {
        bail!(
            "--dir: {} has no email folder; give the folder that holds email/<template>/<lang>/",
            given.display()
        );
    }
    let pages = match &dir {
        Some(given) => outreach_web::pages::check_dir(given),
        None => Some(outreach_web::pages::check()),
    };
    let dir = dir.unwrap_or_else(|| Path::new(&app.mail.templates_dir).to_path_buf());
    let report = templates::check(&dir);
    if json {
        /// The email report as before, with the pages' beside it (null when none were checked).
        #[derive(serde::Serialize)]
        struct Checked<'a> {
            #[serde(flatten)]
            email: &'a templates::CheckReport,
            pages: Option<&'a outreach_web::pages::CheckReport>,
        }
        print_json(&Checked {
            email: &report,
            pages: pages.as_ref(),
        })?;
    } else {
        if report.problems.is_empty() {
            println!(
                "Email templates in {}: {} files of {} templates checked, no problems.",
                report.origin,
                report.files,
                report.templates.len()
            );
        }
        if let Some(pages) = pages.as_ref().filter(|p| p.problems.is_empty()) {
            println!(
                "Page templates ({}): {} pages and {} partials checked, no problems.",
                pages.origin,
                pages.pages.len(),
                pages.partials.len()
            );
        }
    }
    let mut failures = Vec::new();
    if !report.problems.is_empty() {
        let list: Vec<String> = report.problems.iter().map(|p| format!("  {p}")).collect();
        failures.push(format!(
            "{} problem(s) in the email templates in {}:\n{}",
            report.problems.len(),
            report.origin,
            list.join("\n")
        ));
    }
    if let Some(pages) = pages.as_ref().filter(|p| !p.problems.is_empty()) {
        let list: Vec<String> = pages.problems.iter().map(|p| format!("  {p}")).collect();
        failures.push(format!(
            "{} problem(s) in the page templates ({}):\n{}",
            pages.problems.len(),
            pages.origin,
            list.join("\n")
        ));
    }
    if failures.is_empty() {
        return Ok(());
    }
    bail!("{}", failures.join("\n"))
}

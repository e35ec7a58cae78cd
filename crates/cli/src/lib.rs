//! The `outreach` command line: parses arguments, builds the application from configuration
//! (the same way for users and tests), runs one command and prints tables or JSON.

mod args;
mod letter_cmds;
mod mail_cmds;
mod output;

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Parser;
use outreach_core::ErrorKind;
use outreach_core::config::Settings;
use outreach_core::directory::{self, ContactInput, GrantInput, OrganisationInput};
use outreach_core::domain::parse_date;
use outreach_core::engagements::{self, EngagementInput};
use outreach_core::followups::{self, FollowUpInput};
use outreach_core::meetings::{self, MeetingInput};
use outreach_core::refdata::{self, ReferenceData};
use outreach_core::signals::{self, SignalInput};
use outreach_core::stance::{self, StanceFilter, StanceInput, StatesSort};
use outreach_core::status::StatusFilter;
use outreach_core::{Actor, audit, db, demo, grants, posts, states, views};
use sea_orm::DatabaseConnection;

pub use args::Cli;
use args::{
    Command, ContactCommand, DeliverableCommand, FollowUpCommand, GrantCommand, GrantReportCommand,
    JobsCommand, MeetingCommand, OrgCommand, PostCommand, RulesCommand, SignalCommand,
    StanceCommand, StateCommand, UserCommand,
};
use output::Out;
use outreach_scheduler::{Workflows, jobs, ledger, planner};

/// Runs the process: parses arguments, runs the command, prints errors with their causes (as
/// JSON under `--json`), and returns the exit code ([`exit_code`]).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let (kind, field, remedy) = classify(&err);
            let remedy = remedy.map(remedy_text);
            let mut stderr = std::io::stderr().lock();
            if json {
                // The API's error shape, on stderr; stdout stays empty.
                let message = std::iter::once(err.to_string())
                    .chain(err.chain().skip(1).map(|c| format!("caused by: {c}")))
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut body = serde_json::json!({
                    "error": { "code": kind, "message": message, "field": field }
                });
                if let Some(r) = &remedy {
                    body["error"]["remedy"] = serde_json::json!(r);
                }
                let _ = writeln!(stderr, "{body}");
            } else {
                let _ = writeln!(stderr, "error: {err}");
                for cause in err.chain().skip(1) {
                    let _ = writeln!(stderr, "  caused by: {cause}");
                }
                if let Some(r) = &remedy {
                    let _ = writeln!(stderr, "  {r}");
                }
            }
            ExitCode::from(exit_code(kind))
        }
    }
}

/// The CLI's one mapping from error kind to exit code (README, "Exit codes"):
/// 2 a value given is not valid (also clap's code for unusable arguments), 3 a record named does
/// not exist, 4 not possible as the records stand (a duplicate, a record in the wrong state, a
/// name matching several records), 5 not allowed for the acting user, 6 the configuration or
/// reference data is wrong, 7 the database cannot be reached, 1 anything else.
pub fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Invalid | ErrorKind::UnknownState | ErrorKind::InvalidCsv => 2,
        ErrorKind::NotFound => 3,
        ErrorKind::Conflict | ErrorKind::Ambiguous => 4,
        ErrorKind::Forbidden => 5,
        ErrorKind::Setup => 6,
        ErrorKind::Unavailable => 7,
        ErrorKind::Internal => 1,
    }
}

/// Plans the reminders of every upcoming planned meeting that lacks them (what the daemon's sweep
/// does), in one transaction.
async fn plan_upcoming_reminders(
    db: &DatabaseConnection,
    wf: &Workflows,
    actor: &outreach_core::Actor,
) -> Result<()> {
    let upcoming = meetings::list(db, actor.zone, true, None).await?;
    let tx = outreach_core::db::begin(db).await?;
    for m in upcoming {
        let model = meetings::find(&tx, &m.id.to_string()).await?;
        planner::plan_meeting(&tx, wf, &model, chrono::Utc::now()).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A remedy as the CLI says it: the command that shows what to choose from.
fn remedy_text(r: outreach_core::Remedy) -> String {
    use outreach_core::Remedy as R;
    match r {
        R::ListStates => "`outreach states --status all` lists every state",
        R::ListStaff => "`outreach users` lists staff handles",
        R::ListOrganisations => "`outreach orgs` lists organisations",
        R::ListContacts => "`outreach contacts` lists contacts",
        R::ListFollowUps => "`outreach followups` lists follow-ups and their ids",
        R::ListMeetings => "`outreach meetings` lists meetings and their ids",
        R::ListGrants => "`outreach grants` lists grants and their ids",
    }
    .to_owned()
}

/// The kind of a failed command's error, the field at fault and what to do about it, from the
/// first library error in its chain; [`ErrorKind::Internal`] for anything else (an unreadable
/// file, a bug).
fn classify(err: &anyhow::Error) -> (ErrorKind, Option<String>, Option<outreach_core::Remedy>) {
    for cause in err.chain() {
        let (kind, core) = if let Some(e) = cause.downcast_ref::<outreach_core::Error>() {
            (e.kind(), Some(e))
        } else if let Some(e) = cause.downcast_ref::<outreach_scheduler::Error>() {
            (e.kind(), e.core())
        } else if let Some(e) = cause.downcast_ref::<outreach_letters::Error>() {
            (e.kind(), e.core())
        } else if let Some(e) = cause.downcast_ref::<outreach_mailer::Error>() {
            (e.kind(), e.core())
        } else if let Some(e) = cause.downcast_ref::<sea_orm::DbErr>() {
            (ErrorKind::of_database(e), None)
        } else {
            continue;
        };
        return (
            kind,
            core.and_then(outreach_core::Error::field),
            core.and_then(outreach_core::Error::remedy),
        );
    }
    (ErrorKind::Internal, None, None)
}

fn init_tracing() {
    outreach_scheduler::logging::init();
}

/// Prints a backup's or a restore's progress on stderr: each table, and every few thousand rows
/// of a large one.
fn show_progress(verb: &'static str) -> impl FnMut(outreach_core::backup::Progress<'_>) {
    use outreach_core::backup::Progress;
    move |p| {
        let mut err = std::io::stderr();
        let _ = match p {
            Progress::Table { name, rows } if rows > 0 => {
                let unit = if rows == 1 { "row" } else { "rows" };
                writeln!(err, "{verb} {name}: {rows} {unit}")
            }
            Progress::Table { .. } => Ok(()),
            Progress::Rows { name, done, rows } => {
                writeln!(err, "  {name}: {done} of {rows}")
            }
        };
    }
}

async fn backup(app: &App, file: &std::path::Path) -> Result<()> {
    let db = app.db().await?;
    let partial = file.with_extension(match file.extension() {
        Some(e) => format!("{}.partial", e.to_string_lossy()),
        None => "partial".to_owned(),
    });
    let handle = std::fs::File::create(&partial)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    let mut out = std::io::BufWriter::new(handle);
    let report = match outreach_core::backup::backup(
        &db,
        &mut out,
        &mut show_progress("backing up"),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => {
            drop(out);
            let _ = std::fs::remove_file(&partial);
            return Err(e.into());
        }
    };
    out.into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {}", partial.display(), e.error()))?
        .sync_all()
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, file)
        .with_context(|| format!("cannot move the backup into place at {}", file.display()))?;
    app.out.backup(file, &report)
}

async fn restore(app: &App, file: &std::path::Path, force: bool) -> Result<()> {
    let handle =
        std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let archive = outreach_core::backup::Archive::read(&mut std::io::BufReader::new(handle))
        .with_context(|| format!("{} cannot be restored", file.display()))?;
    // Not `app.db()`: that would migrate and seed the database before the archive's schema is
    // known.
    let db = db::connect_only(&app.settings.database_url).await?;
    let report =
        outreach_core::backup::restore(&db, &archive, force, &mut show_progress("restoring"))
            .await?;
    app.out.restore(file, &app.settings.database_url, &report)
}

/// What every command needs: the settings, who acts, and (opened on demand) the database.
struct App {
    settings: Settings,
    /// The other crates' tables, read and checked at start like core's keys.
    mail: outreach_mailer::MailSettings,
    scheduler: outreach_scheduler::SchedulerSettings,
    letters: outreach_letters::LetterSettings,
    actor: Actor,
    out: Out,
}

impl App {
    fn from_cli(cli: &Cli) -> Result<Self> {
        let mut settings = Settings::load()?;
        if let Some(url) = &cli.database {
            settings.database_url.clone_from(url);
        }
        if let Some(user) = &cli.as_user {
            settings.user.clone_from(user);
        }
        let actor = Actor::new(&settings.actor(), settings.zone())?;
        // The web app's table is read by `serve`; checked here so a mistake shows at once.
        settings.section::<outreach_web::WebSettings>()?;
        Ok(Self {
            mail: settings.section()?,
            scheduler: settings.section()?,
            letters: settings.section()?,
            settings,
            actor,
            out: Out::new(cli.json),
        })
    }

    async fn db(&self) -> Result<DatabaseConnection> {
        Ok(db::open(&self.settings.database_url, &self.actor.handle).await?)
    }

    fn workflows(&self) -> Result<Workflows> {
        Ok(Workflows::from_settings(
            std::path::Path::new("."),
            &self.scheduler,
        )?)
    }

    fn treaty(&self, given: Option<&str>) -> String {
        given.unwrap_or(&self.settings.treaty).to_owned()
    }

    fn date_or_today(&self, field: &str, given: Option<&str>) -> Result<NaiveDate> {
        Ok(match given {
            Some(d) => parse_date(field, d)?,
            None => self.actor.today(),
        })
    }
}

/// Runs one parsed command.
///
/// # Errors
/// Any error of the command, with context for the user.
pub async fn run(cli: Cli) -> Result<()> {
    let app = App::from_cli(&cli)?;
    match cli.command {
        Command::Init {
            data,
            allow_removals,
        } => init(&app, data.as_deref(), allow_removals).await,
        Command::Backup { file } => backup(&app, &file).await,
        Command::Restore { file, force } => restore(&app, &file, force).await,
        Command::Demo => {
            let db = app.db().await?;
            let report = demo::load(&db, &app.actor).await?;
            let mut letters = Vec::new();
            if !report.already_present {
                // The demo's meetings show their reminders at once, as any meeting scheduled
                // through the planner does (the daemon's sweep would plan them later).
                plan_upcoming_reminders(&db, &app.workflows()?, &app.actor).await?;
                letters = letter_cmds::demo_letters(&db, &app).await?;
            }
            app.out.demo(&report, &letters)
        }
        Command::States {
            treaty,
            status,
            at,
            party_to,
            stance,
            sort,
        } => {
            let db = app.db().await?;
            let filter = StatusFilter::parse(&status)?;
            let stance_filter = StanceFilter::parse("--stance", stance.as_deref().unwrap_or(""))?;
            let sort = StatesSort::parse("--sort", &sort)?;
            let at = app.date_or_today("--at", at.as_deref())?;
            let treaty = states::resolve_treaty(&db, &app.treaty(treaty.as_deref())).await?;
            let party_to: Vec<String> = party_to
                .iter()
                .map(|c| c.trim().to_ascii_uppercase())
                .filter(|c| !c.is_empty())
                .collect();
            let reader = outreach_core::access::Reader::of(&db, &app.actor.handle).await?;
            let rows = stance::listing(
                &db,
                &reader,
                &treaty.code,
                filter,
                at,
                &party_to,
                stance_filter.as_ref(),
                sort,
            )
            .await?;
            app.out.states(&rows, &treaty.code, &status, &party_to, at)
        }
        Command::State {
            command: StateCommand::Show { state, treaty, at },
        } => {
            let db = app.db().await?;
            let st = states::resolve(&db, &state).await?;
            let treaty = states::resolve_treaty(&db, &app.treaty(treaty.as_deref())).await?;
            let at = app.date_or_today("--at", at.as_deref())?;
            let reader = outreach_core::access::Reader::of(&db, &app.actor.handle).await?;
            let profile = views::profile(
                &db,
                st,
                &treaty.code,
                at,
                app.actor.zone,
                app.actor.today(),
                &reader,
            )
            .await?;
            app.out.profile(&profile)
        }
        Command::Log(a) => {
            let db = app.db().await?;
            let view = engagements::log(
                &db,
                &app.actor,
                &EngagementInput {
                    state: a.state,
                    kind: a.kind,
                    date: a.date,
                    summary: a.summary,
                    outcome: a.outcome,
                    stance: a.stance,
                    with: a.with,
                    meeting_id: None,
                    sensitivity: a.sensitivity,
                    restricted_kinds: Some(app.settings.engagements.restricted_kinds.clone()),
                    deliverable: a.deliverable,
                },
            )
            .await?;
            app.out.engagement_logged(&view)
        }
        Command::Meeting { command } => meeting(&app, command).await,
        Command::Meetings { upcoming, state } => {
            let db = app.db().await?;
            let iso3 = state_filter(&db, state.as_deref()).await?;
            let rows = meetings::list(&db, app.actor.zone, upcoming, iso3.as_deref()).await?;
            app.out.meetings(&rows)
        }
        Command::FollowUp { command } => {
            let db = app.db().await?;
            match command {
                FollowUpCommand::Add {
                    state,
                    description,
                    due,
                    owner,
                    engagement,
                    meeting,
                } => {
                    let f = followups::add(
                        &db,
                        &app.actor,
                        &FollowUpInput {
                            state,
                            description,
                            due,
                            owner,
                            engagement,
                            meeting,
                        },
                    )
                    .await?;
                    app.out.follow_up("Added follow-up", &f)
                }
                FollowUpCommand::Done { id } => {
                    let f = followups::done(&db, &app.actor, &id).await?;
                    app.out.follow_up("Done", &f)
                }
            }
        }
        Command::FollowUps {
            all,
            state,
            owner,
            mine,
        } => {
            let db = app.db().await?;
            let iso3 = state_filter(&db, state.as_deref()).await?;
            let owner = if mine {
                Some(app.actor.handle.clone())
            } else {
                owner
            };
            let reader = outreach_core::access::Reader::of(&db, &app.actor.handle).await?;
            let rows = followups::list(
                &db,
                app.actor.today(),
                all,
                iso3.as_deref(),
                owner.as_deref(),
                &reader,
            )
            .await?;
            app.out.follow_ups(&rows)
        }
        Command::Org {
            command:
                OrgCommand::Add {
                    name,
                    kind,
                    state,
                    email,
                    website,
                    icbl_member,
                    notes,
                },
        } => {
            let db = app.db().await?;
            let o = directory::add_organisation(
                &db,
                &app.actor,
                &OrganisationInput {
                    name,
                    kind,
                    state,
                    email,
                    website,
                    icbl_member: icbl_member.then(|| "yes".to_owned()),
                    notes,
                },
            )
            .await?;
            app.out.organisation_added(&o)
        }
        Command::Orgs { state } => {
            let db = app.db().await?;
            let iso3 = state_filter(&db, state.as_deref()).await?;
            app.out
                .organisations(&directory::organisations(&db, iso3.as_deref()).await?)
        }
        Command::Contact {
            command:
                ContactCommand::Add {
                    name,
                    title,
                    role,
                    organisation,
                    state,
                    email,
                    languages,
                    time_zone,
                    phone,
                    notes,
                },
        } => {
            let db = app.db().await?;
            let c = directory::add_contact(
                &db,
                &app.actor,
                &ContactInput {
                    name,
                    title,
                    role,
                    organisation,
                    state,
                    email,
                    languages,
                    time_zone,
                    phone,
                    notes,
                },
            )
            .await?;
            app.out.contact_added(&c)
        }
        Command::Contacts { state } => {
            let db = app.db().await?;
            let iso3 = state_filter(&db, state.as_deref()).await?;
            app.out
                .contacts(&directory::contacts(&db, iso3.as_deref()).await?)
        }
        Command::Post { command } => {
            let db = app.db().await?;
            match command {
                PostCommand::Add {
                    contact,
                    title,
                    organisation,
                    state,
                    from,
                    to,
                } => {
                    let p = posts::add(
                        &db,
                        &app.actor,
                        &posts::PostInput {
                            contact,
                            title,
                            organisation,
                            state,
                            from,
                            to,
                        },
                    )
                    .await?;
                    app.out.post_saved("Added", &p)
                }
                PostCommand::End { id, on } => {
                    let p = posts::end(&db, &app.actor, &id, &on).await?;
                    app.out.post_saved("Ended", &p)
                }
            }
        }
        Command::Posts {
            state,
            contact,
            organisation,
            at,
        } => {
            let db = app.db().await?;
            let at = at.as_deref().map(|d| parse_date("--at", d)).transpose()?;
            let rows = posts::posts(
                &db,
                &posts::PostFilter {
                    state,
                    contact,
                    organisation,
                    at,
                },
                app.actor.today(),
            )
            .await?;
            app.out.posts(&rows, at)
        }
        Command::Grant { command } => grant(&app, command).await,
        Command::Grants { state } => {
            let db = app.db().await?;
            let iso3 = state_filter(&db, state.as_deref()).await?;
            app.out
                .grants(&directory::grants(&db, iso3.as_deref()).await?)
        }
        Command::Signal {
            command:
                SignalCommand::Add {
                    state,
                    kind,
                    date,
                    detail,
                    value,
                    source,
                },
        } => {
            let db = app.db().await?;
            let s = signals::add(
                &db,
                &app.actor,
                &SignalInput {
                    state,
                    kind,
                    date,
                    detail,
                    value,
                    source,
                },
            )
            .await?;
            app.out.signal_added(&s)
        }
        Command::SpokenUp { treaty, at } => {
            let db = app.db().await?;
            let at = app.date_or_today("--at", at.as_deref())?;
            let treaty = states::resolve_treaty(&db, &app.treaty(treaty.as_deref())).await?;
            app.out
                .spoken_up(&signals::spoken_up(&db, &treaty.code, at).await?)
        }
        Command::Signals { kind, state } => {
            let db = app.db().await?;
            app.out.signals(
                &signals::list(&db, &outreach_core::signals::SignalFilter { state, kind }).await?,
            )
        }
        Command::Import { what, file } => {
            let db = app.db().await?;
            let report = if what == "contacts" {
                directory::import_contacts(&db, &app.actor, &file).await?
            } else {
                directory::import_organisations(&db, &app.actor, &file).await?
            };
            app.out.imported(&what, &file, &report)
        }
        Command::Attention {
            treaty,
            stance,
            sort,
        } => {
            let db = app.db().await?;
            let stance_filter = StanceFilter::parse("--stance", stance.as_deref().unwrap_or(""))?;
            let sort = views::AttentionSort::parse("--sort", &sort)?;
            let treaty = states::resolve_treaty(&db, &app.treaty(treaty.as_deref())).await?;
            let reader = outreach_core::access::Reader::of(&db, &app.actor.handle).await?;
            let mut rows = views::attention(&db, &treaty.code, app.actor.today(), &reader).await?;
            if let Some(f) = &stance_filter {
                rows.retain(|r| f.matches(r.stance.as_deref()));
            }
            sort.apply(&mut rows);
            let order = match sort {
                views::AttentionSort::Days => "least recently engaged first",
                views::AttentionSort::Stance => "the most promising stance first",
                views::AttentionSort::Name => "by name",
            };
            app.out
                .attention(&rows, &treaty.code, app.actor.today(), order)
        }
        Command::Stance {
            command: StanceCommand::Show { state, at },
        } => {
            let db = app.db().await?;
            let st = states::resolve(&db, &state).await?;
            let at = app.date_or_today("--at", at.as_deref())?;
            let reader = outreach_core::access::Reader::of(&db, &app.actor.handle).await?;
            let history = stance::of_state(&db, &reader, &st.iso3, at).await?;
            app.out.stance_history(&st.name, &history)
        }
        Command::Stance {
            command:
                StanceCommand::Set {
                    state,
                    stance: value,
                    reason,
                    on,
                },
        } => {
            let db = app.db().await?;
            let view = stance::set(
                &db,
                &app.actor,
                &StanceInput {
                    state: state.clone(),
                    stance: value,
                    reason,
                    on,
                },
            )
            .await?;
            app.out.stance_set(&state, &view)
        }
        Command::Serve {
            bind,
            port,
            without_scheduler,
        } => {
            let ip: std::net::IpAddr = bind.parse().map_err(|_| {
                anyhow::anyhow!("--bind: '{bind}' is not an IP address; use 127.0.0.1 or 0.0.0.0")
            })?;
            let db = app.db().await?;
            outreach_web::serve(
                db,
                &app.settings,
                &app.actor,
                std::net::SocketAddr::new(ip, port),
                !without_scheduler,
            )
            .await
            .context("Failed to serve")?;
            Ok(())
        }
        Command::Scheduler { once } => scheduler(&app, once).await,
        Command::Jobs {
            command,
            status,
            kind,
            limit,
        } => {
            let db = app.db().await?;
            match command {
                None => {
                    let rows = jobs::list(&db, status.as_deref(), kind.as_deref(), limit).await?;
                    app.out.jobs(&rows)
                }
                Some(JobsCommand::Retry { id }) => {
                    let j = jobs::retry(&db, &app.actor.handle, &id).await?;
                    app.out.job("Queued again", &j)
                }
                Some(JobsCommand::Cancel { id }) => {
                    let j = jobs::cancel(&db, &app.actor.handle, &id).await?;
                    app.out.job("Cancelled", &j)
                }
            }
        }
        Command::Rules { command } => {
            let wf = app.workflows()?;
            match command {
                None => app.out.rules(&wf),
                Some(RulesCommand::DryRun { rule }) => {
                    if let Some(r) = &rule
                        && !planner::rule_names(&wf).contains(r)
                    {
                        anyhow::bail!(
                            "rule: '{r}' is not a reminder rule (they are: {}); `outreach rules` lists them",
                            planner::rule_names(&wf).join(", ")
                        );
                    }
                    let db = app.db().await?;
                    let lines =
                        planner::dry_run(&db, &wf, rule.as_deref(), chrono::Utc::now()).await?;
                    app.out.dry_run(&lines)
                }
            }
        }
        Command::User { command } => user(&app, command).await,
        Command::Users => {
            let db = app.db().await?;
            app.out.users(&outreach_core::actor::users(&db).await?)
        }
        Command::Mail { command } => mail_cmds::mail(&app, cli.json, command).await,
        Command::Outbox(args) => mail_cmds::outbox(&app, cli.json, args).await,
        Command::Templates { command } => mail_cmds::templates(&app, cli.json, command),
        Command::Letter { command } => letter_cmds::letter(&app, cli.json, command).await,
        Command::Audit { limit } => {
            let db = app.db().await?;
            app.out
                .audit(&audit::recent_for(&db, &app.actor, limit).await?)
        }
    }
}

/// The ISO code of the state a listing is filtered by, if any.
async fn state_filter(db: &DatabaseConnection, given: Option<&str>) -> Result<Option<String>> {
    Ok(match given {
        Some(s) => Some(states::resolve(db, s).await?.iso3),
        None => None,
    })
}

async fn init(app: &App, data: Option<&std::path::Path>, allow_removals: bool) -> Result<()> {
    let db = db::connect(&app.settings.database_url)
        .await
        .context("Failed to open the database")?;
    let reference = match data {
        Some(dir) => ReferenceData::from_dir(dir)?,
        None => ReferenceData::embedded()?,
    };
    let report = refdata::load_with(&db, &reference, &app.actor.handle, allow_removals).await?;
    app.out
        .init(&app.settings.database_url, db::backend_name(&db), &report)
}

/// `outreach grant show|report|deliverable`: a grant's progress and what its grantee owes.
async fn grant(app: &App, command: GrantCommand) -> Result<()> {
    let db = app.db().await?;
    let today = app.actor.today();
    match command {
        GrantCommand::Add {
            organisation,
            state,
            year,
            amount,
            currency,
            purpose,
            report_due,
        } => {
            let g = directory::add_grant(
                &db,
                &app.actor,
                &GrantInput {
                    organisation,
                    state,
                    year,
                    amount,
                    currency,
                    purpose,
                    reports_due: report_due,
                },
            )
            .await?;
            app.out.grant_added(&g)
        }
        GrantCommand::Show { id } => {
            let reader = outreach_core::access::Reader::of(&db, &app.actor.handle).await?;
            let detail = grants::show(&db, &id, today, &reader).await?;
            app.out.grant_detail(&detail)
        }
        GrantCommand::Report {
            command: GrantReportCommand::Submit { id, on },
        } => {
            let r = grants::submit_report(&db, &app.actor, &id, on.as_deref()).await?;
            app.out.report_submitted(&r)
        }
        GrantCommand::Deliverable { command } => match command {
            DeliverableCommand::Add {
                grant,
                what,
                due,
                status,
            } => {
                let d = grants::add_deliverable(
                    &db,
                    &app.actor,
                    &grants::DeliverableInput {
                        grant,
                        what,
                        due,
                        status,
                    },
                )
                .await?;
                app.out.deliverable_saved("Added", &d)
            }
            DeliverableCommand::List { grant } => app
                .out
                .deliverables(&grants::deliverables(&db, &grant, today).await?),
            DeliverableCommand::Update {
                id,
                status,
                due,
                what,
            } => {
                let d = grants::update_deliverable(
                    &db,
                    &app.actor,
                    &id,
                    &grants::DeliverableChange { what, due, status },
                )
                .await?;
                app.out.deliverable_saved("Updated", &d)
            }
        },
    }
}

async fn meeting(app: &App, command: MeetingCommand) -> Result<()> {
    let db = app.db().await?;
    match command {
        MeetingCommand::Schedule {
            state,
            title,
            at,
            tz,
            duration,
            place,
            with,
        } => {
            let (m, plan) = planner::schedule_meeting(
                &db,
                &app.workflows()?,
                &app.actor,
                &MeetingInput {
                    state,
                    title,
                    at,
                    tz,
                    duration,
                    place,
                    with,
                },
            )
            .await?;
            app.out.meeting_planned("Scheduled", &m, &plan)
        }
        MeetingCommand::Reschedule { id, at, tz } => {
            let (m, plan) = planner::reschedule_meeting(
                &db,
                &app.workflows()?,
                &app.actor,
                &id,
                &at,
                tz.as_deref(),
            )
            .await?;
            app.out.meeting_planned("Rescheduled", &m, &plan)
        }
        MeetingCommand::Cancel { id } => {
            let (m, plan) =
                planner::cancel_meeting(&db, &app.workflows()?, &app.actor, &id).await?;
            app.out.meeting_planned("Cancelled", &m, &plan)
        }
        MeetingCommand::Held {
            id,
            kind,
            outcome,
            stance,
            sensitivity,
        } => {
            let (m, e) = meetings::held(
                &db,
                &app.actor,
                &id,
                &meetings::HeldInput {
                    kind,
                    outcome,
                    stance,
                    sensitivity,
                    restricted_kinds: Some(app.settings.engagements.restricted_kinds.clone()),
                },
            )
            .await?;
            app.out.meeting_held(&m, &e)
        }
        MeetingCommand::Show { id } => {
            let m = meetings::show(&db, app.actor.zone, &id).await?;
            let reminders = ledger::for_subject(&db, "meeting", &m.id.to_string()).await?;
            app.out.meeting_with_ledger(&m, &reminders)
        }
    }
}

async fn scheduler(app: &App, once: bool) -> Result<()> {
    let db = app.db().await?;
    let (daemon, mailer) =
        outreach_scheduler::service::build(db.clone(), &app.settings, std::path::Path::new("."))
            .context("Failed to start the scheduler")?;
    if once {
        let pass = outreach_scheduler::service::run_once(&db, &daemon, &mailer).await?;
        return app.out.scheduler_once(&pass);
    }
    eprintln!(
        "outreach scheduler running (Ctrl-C to stop); database {}",
        db::redact(&app.settings.database_url)
    );
    outreach_scheduler::service::run(
        db,
        daemon,
        mailer,
        outreach_scheduler::daemon::shutdown_on_signals(),
    )
    .await?;
    Ok(())
}

/// `outreach user ...`: accounts. Disabling and revoking check the acting user's role in the
/// library itself, as the web app does.
async fn user(app: &App, command: UserCommand) -> Result<()> {
    let db = app.db().await?;
    match command {
        UserCommand::Add {
            handle,
            name,
            email,
            time_zone,
            role,
            password_stdin,
            cleared,
        } => {
            let cleared = match cleared.as_deref().map(str::trim) {
                None => None,
                Some("yes" | "true") => Some(true),
                Some("no" | "false") => Some(false),
                Some(other) => anyhow::bail!(
                    "--cleared: '{other}' is not yes or no; for example --cleared yes"
                ),
            };
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("Failed to read the password from standard input")?;
                let p = line.trim_end_matches(['\r', '\n']).to_owned();
                // Everything is checked before anything is written.
                let mut known = vec![handle.as_str()];
                known.extend(name.as_deref());
                known.extend(email.as_deref());
                outreach_web::auth::check_password(&p, &known)?;
                Some(p)
            } else {
                None
            };
            let u = outreach_core::actor::upsert_user(
                &db,
                &app.actor,
                &outreach_core::actor::UserInput {
                    handle,
                    name,
                    email,
                    time_zone,
                    role,
                    cleared,
                },
            )
            .await?;
            if let Some(p) = password {
                outreach_web::set_password(&db, &app.actor, &u.handle, &p).await?;
            }
            app.out.user_saved(&u)
        }
        UserCommand::Disable { handle } => {
            let (u, ended) =
                outreach_web::auth::set_disabled(&db, &app.actor, &handle, true).await?;
            app.out.user_access("Disabled", &u, ended)
        }
        UserCommand::Enable { handle } => {
            let (u, ended) =
                outreach_web::auth::set_disabled(&db, &app.actor, &handle, false).await?;
            app.out.user_access("Enabled", &u, ended)
        }
        UserCommand::Tokens { handle } => {
            let u = outreach_core::actor::require_user(&db, "handle", &handle).await?;
            if u.handle != app.actor.handle {
                outreach_core::actor::require_role(
                    &db,
                    &app.actor,
                    outreach_core::domain::Role::Admin,
                    "list another user's tokens",
                )
                .await?;
            }
            let tokens = outreach_web::auth::all_tokens_of(&db, u.id).await?;
            app.out.tokens(&u, &tokens)
        }
        UserCommand::Revoke { handle, token } => {
            let u = outreach_core::actor::require_user(&db, "handle", &handle).await?;
            let n = match outreach_web::auth::revoke_any_tokens(
                &db,
                &app.actor,
                u.id,
                token.as_deref(),
            )
            .await
            {
                Ok(n) => n,
                Err(outreach_core::Error::NotFound { .. }) => anyhow::bail!(
                    "--token: {} has no token starting {}; `outreach user tokens {}` lists theirs",
                    u.handle,
                    token.unwrap_or_default(),
                    u.handle
                ),
                Err(e) => return Err(e.into()),
            };
            app.out.revoked(&u, n)
        }
    }
}

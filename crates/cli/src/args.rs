//! The command line, as users and scripts see it. The shapes here are a contract: extend them,
//! never change what an existing flag means.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "outreach",
    version,
    about = "Record and plan the campaign's work to bring every state into the Mine Ban Treaty",
    long_about = "Record and plan the campaign's work to bring every state into the Mine Ban Treaty.\n\n\
        Log embassy visits, capital meetings, military dialogue and statements; plan meetings in the \
        local time of the place they are held; track follow-ups; and see which states not party need \
        attention. The database is created on first use (a SQLite file, outreach.db, in this folder) \
        and filled with the reference data on states and treaty events.",
    after_help = "Examples:\n  \
        outreach demo                                   add a fictional example data set\n  \
        outreach attention                              states not party, least recently engaged first\n  \
        outreach states --status not-party --at 2022-06-20\n  \
        outreach state show NPL\n  \
        outreach log embassy-visit --state NPL --summary \"Briefing on accession\" --with asha@example.org\n  \
        outreach meeting schedule --state NPL --title \"Meeting at the ministry\" --at \"2026-12-03 10:00\"\n\n\
        Settings come from config/default.toml, config/<OUTREACH_ENV>.toml and OUTREACH_* variables \
        (for example OUTREACH_DATABASE_URL)."
)]
pub struct Cli {
    /// Database to use: a SQLite file (sqlite://outreach.db) or postgres://USER@HOST/DB.
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,

    /// Print JSON on stdout instead of tables (listings are one JSON array).
    #[arg(long, global = true)]
    pub json: bool,

    /// Act as this staff member (recorded in the audit log); default: the configured user or your login name.
    #[arg(long = "as", global = true, value_name = "HANDLE")]
    pub as_user: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database if needed and load or update the reference data (states, treaty events).
    #[command(
        after_help = "Examples:\n  outreach init\n  outreach init --data ./newer-data   (a folder with states.csv and treaty_events.csv)"
    )]
    Init {
        /// Load reference data from this folder instead of the copy built into outreach.
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Allow a load that removes more than 5 % of the stored treaty events or signals
        /// (refused otherwise, with what would be removed).
        #[arg(long)]
        allow_removals: bool,
    },

    /// Write every table to one file: a consistent snapshot, also while the app and daemons run.
    #[command(
        after_help = "The file is a versioned archive (JSON lines) that `outreach restore` loads \
        into SQLite or PostgreSQL, whichever it was written from. It is written next to FILE and \
        renamed into place when complete, so FILE is never a partial backup.\n\n\
        Examples:\n  outreach backup outreach-2026-12-03.backup\n  \
        outreach --database postgres://outreach@db/outreach backup team.backup"
    )]
    Backup {
        /// The archive to write (replaced if it exists).
        file: PathBuf,
    },

    /// Load a backup into an empty database (SQLite or PostgreSQL), migrating an older one.
    #[command(
        after_help = "The database must be empty: new, or holding only what outreach \
        fills in on first use (the reference data). --force replaces everything in it with the \
        archive. An archive from an older outreach is brought up to date after loading, like an \
        older database.\n\n\
        Examples:\n  outreach --database sqlite://restored.db restore outreach-2026-12-03.backup\n  \
        outreach --database postgres://outreach@db/outreach restore team.backup"
    )]
    Restore {
        /// The archive `outreach backup` wrote.
        file: PathBuf,
        /// Replace whatever the database holds.
        #[arg(long)]
        force: bool,
    },

    /// Add a fictional example data set (organisations, grants, contacts, engagements, meetings).
    Demo,

    /// List states with their status under a treaty on a date.
    #[command(
        after_help = "Statuses: party (States Parties, withdrawing ones included), not-party (every state \
        outside, signatories included), signatory, withdrawing, all.\n\nExamples:\n  \
        outreach states --status not-party --at 2022-06-20\n  outreach states --treaty CCM --status signatory --json\n  \
        outreach states --status not-party --stance open,supportive --sort stance"
    )]
    States {
        /// Treaty code: APMBC, CCM, CCW_P5 or CRPD.
        #[arg(long, value_name = "CODE")]
        treaty: Option<String>,
        /// party, not-party, signatory, withdrawing or all.
        #[arg(long, default_value = "all", value_name = "STATUS")]
        status: String,
        /// The date to compute status on, YYYY-MM-DD (default: today).
        #[arg(long, value_name = "DATE")]
        at: Option<String>,
        /// Only states party to at least one of these other treaties on that date, such as
        /// `--party-to CCM,CCW_P5` (repeat the flag or separate codes with commas).
        #[arg(long = "party-to", value_name = "CODES", value_delimiter = ',')]
        party_to: Vec<String>,
        /// Only states with this current stance: supportive, open, neutral, reluctant, opposed,
        /// or none (no stance on record); several separated by commas.
        #[arg(long, value_name = "STANCES")]
        stance: Option<String>,
        /// name (the default) or stance (the most promising first, no stance on record last).
        #[arg(long, default_value = "name", value_name = "ORDER")]
        sort: String,
    },

    /// One state: status history, signals, grantees, contacts, engagements, meetings, follow-ups.
    State {
        #[command(subcommand)]
        command: StateCommand,
    },

    /// Record an engagement that happened.
    #[command(
        after_help = "Kinds: embassy-visit, capital-meeting, military-dialogue, statement, letter, call, \
        observer-attendance, other.\nStances: supportive, open, neutral, reluctant, opposed.\n\nExamples:\n  \
        outreach log embassy-visit --state NPL --summary \"Briefing on accession\" --with \"Asha Demo\"\n  \
        outreach log statement --state AZE --date 2026-11-02 --outcome \"Condemned new use\" --stance open"
    )]
    Log(LogArgs),

    /// Plan, move, cancel or close meetings.
    Meeting {
        #[command(subcommand)]
        command: MeetingCommand,
    },

    /// List meetings, with times where they are held and in your zone.
    Meetings {
        /// Only planned meetings that have not started yet.
        #[arg(long)]
        upcoming: bool,
        /// Only this state's meetings.
        #[arg(long, value_name = "ISO3")]
        state: Option<String>,
    },

    /// Add follow-ups and mark them done.
    #[command(name = "followup")]
    FollowUp {
        #[command(subcommand)]
        command: FollowUpCommand,
    },

    /// List open follow-ups, earliest due first.
    #[command(name = "followups")]
    FollowUps {
        /// Include follow-ups already done.
        #[arg(long)]
        all: bool,
        #[arg(long, value_name = "ISO3")]
        state: Option<String>,
        /// Only this staff member's.
        #[arg(long, value_name = "HANDLE")]
        owner: Option<String>,
        /// Only yours.
        #[arg(long, conflicts_with = "owner")]
        mine: bool,
    },

    /// Add organisations.
    #[command(name = "org")]
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },

    /// List organisations.
    Orgs {
        #[arg(long, value_name = "ISO3")]
        state: Option<String>,
    },

    /// Add contacts.
    Contact {
        #[command(subcommand)]
        command: ContactCommand,
    },

    /// List contacts.
    Contacts {
        #[arg(long, value_name = "ISO3")]
        state: Option<String>,
    },

    /// Posts: record that a contact holds an office (ambassador, minister, joint secretary) from
    /// a date, or that their term ended. The directory keeps every term, so it knows who held
    /// an office when; letters name the holder on their date.
    Post {
        #[command(subcommand)]
        command: PostCommand,
    },

    /// List posts and who held them: by title, the newest term first; with --at, only those
    /// who held them on that date.
    #[command(after_help = "Examples:\n  \
        outreach posts --state NPL                  every post in Nepal and its holders over time\n  \
        outreach posts --state NPL --at 2024-06-01  who held which office in Nepal on that day\n  \
        outreach posts --contact ram@mofa.example.org --json")]
    Posts {
        /// Only posts in this state (code or name).
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
        /// Only this contact's posts (email, name or id).
        #[arg(long, value_name = "CONTACT")]
        contact: Option<String>,
        /// Only posts at this organisation (name or id).
        #[arg(long, value_name = "ORG")]
        organisation: Option<String>,
        /// Only the holders on this date, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        at: Option<String>,
    },

    /// Investing in Action grants: add one, show its progress, mark its reports submitted, and
    /// record its deliverables.
    Grant {
        #[command(subcommand)]
        command: GrantCommand,
    },

    /// List grants.
    Grants {
        #[arg(long, value_name = "ISO3")]
        state: Option<String>,
    },

    /// Record signals: observer attendance, UNGA votes, policy changes, reported use, condemnations.
    Signal {
        #[command(subcommand)]
        command: SignalCommand,
    },

    /// List signals, newest first: those shipped with outreach (with their sources and confidence)
    /// and those recorded here.
    #[command(
        after_help = "Kinds: observer-attendance, unga-vote, policy-change, reported-use, stockpile, condemnation.\n\n\
        Examples:\n  outreach signals\n  outreach signals --kind reported-use\n  outreach signals --state USA --json"
    )]
    Signals {
        /// Only signals of this kind.
        #[arg(long, value_name = "KIND")]
        kind: Option<String>,
        /// Only this state's signals (code or name).
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
    },

    /// Who has spoken out against new use of mines: the States Parties with a condemnation on record
    /// (a condemnation signal or a logged statement) and those without, with the counts.
    #[command(
        name = "spoken-up",
        after_help = "Examples:\n  outreach spoken-up\n  outreach spoken-up --at 2022-06-20 --json"
    )]
    SpokenUp {
        #[arg(long, value_name = "CODE")]
        treaty: Option<String>,
        /// The date to look from, YYYY-MM-DD (default: today).
        #[arg(long, value_name = "DATE")]
        at: Option<String>,
    },

    /// Import contacts or organisations from a CSV file with a header row (all rows or none).
    #[command(
        after_help = "Columns for organisations: name (required), kind, state, email, website, icbl_member, notes\n\
        Columns for contacts: name (required), title, role, organisation, state, email, languages, time_zone, phone, notes\n\n\
        Examples:\n  outreach import organisations members.csv\n  outreach import contacts contacts.csv"
    )]
    Import {
        /// contacts or organisations.
        #[arg(value_parser = ["contacts", "organisations", "organizations", "orgs"])]
        what: String,
        /// The CSV file (UTF-8, comma-separated, first row is the header).
        file: PathBuf,
    },

    /// States not party, least recently engaged first, with their next planned meeting and stance.
    #[command(
        after_help = "Examples:\n  outreach attention\n  outreach attention --stance open,supportive\n  \
        outreach attention --sort stance --json"
    )]
    Attention {
        #[arg(long, value_name = "CODE")]
        treaty: Option<String>,
        /// Only states with this current stance: supportive, open, neutral, reluctant, opposed,
        /// or none (no stance on record); several separated by commas.
        #[arg(long, value_name = "STANCES")]
        stance: Option<String>,
        /// days (the default: never or least recently engaged first), stance (the most promising
        /// first) or name.
        #[arg(long, default_value = "days", value_name = "ORDER")]
        sort: String,
    },

    /// A state's stance towards joining: the current one and its history, or set it with a reason.
    Stance {
        #[command(subcommand)]
        command: StanceCommand,
    },

    /// Serve the web app, with the scheduler and the mailer, in one process.
    #[command(after_help = "Create the first account before you sign in:\n  \
        echo 'a long passphrase' | outreach user add admin --role admin --password-stdin\n\n\
        Examples:\n  outreach serve\n  outreach serve --bind 0.0.0.0 --port 8080\n  \
        outreach serve --without-scheduler   (a team's web app; `outreach scheduler` runs apart)")]
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Serve the web app only; reminders and email then need `outreach scheduler` running
        /// on the same database (how a team runs several daemons on PostgreSQL).
        #[arg(long)]
        without_scheduler: bool,
    },

    /// Run the scheduler daemon: meeting reminders, follow-up nudges, digests.
    #[command(
        after_help = "The daemon runs until Ctrl-C or SIGTERM, then finishes the jobs it is running and \
        exits. Several daemons may share one PostgreSQL database; on SQLite run one at a time.\n\n\
        Examples:\n  outreach scheduler\n  outreach scheduler --once     (run what is due now, then exit)"
    )]
    Scheduler {
        /// Run everything due now, then exit.
        #[arg(long)]
        once: bool,
    },

    /// The scheduler's jobs: list and filter them, retry dead ones, cancel queued ones.
    #[command(
        args_conflicts_with_subcommands = true,
        after_help = "Statuses: queued, running, done, failed \
        (dead-lettered, with the last error), cancelled, superseded.\n\nExamples:\n  \
        outreach jobs --status failed\n  outreach jobs retry 4f2a91c0\n  outreach jobs cancel 4f2a91c0"
    )]
    Jobs {
        #[command(subcommand)]
        command: Option<JobsCommand>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },

    /// The reminder rules and schedules, and what they would do.
    Rules {
        #[command(subcommand)]
        command: Option<RulesCommand>,
    },

    /// Add or update staff members (their email and zone are used for reminders).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },

    /// List staff members.
    Users,

    /// Email: send a test message through the configured transport.
    Mail {
        #[command(subcommand)]
        command: crate::mail_cmds::MailCommand,
    },

    /// The outbox: queued, sent and failed emails with the server's reply; requeue a failed one.
    #[command(
        after_help = "Examples:\n  outreach outbox\n  outreach outbox --status failed\n  \
        outreach outbox requeue 4f2a91c0\n  outreach outbox undeliverable"
    )]
    Outbox(crate::mail_cmds::OutboxArgs),

    /// Email templates: check them against their contexts and across languages.
    Templates {
        #[command(subcommand)]
        command: crate::mail_cmds::TemplatesCommand,
    },

    /// Letter drafts: templates, drafting one or a batch, review, approval, export.
    #[command(
        after_help = "Examples:\n  outreach letter templates\n  outreach letter draft joint_approach --state NPL --lang fr\n  \
        outreach letter batch call_to_speak_out --audience states-parties-without-condemnation\n  \
        outreach letter list\n  outreach letter submit 4f2a91c0 && outreach letter approve 4f2a91c0 --as lead\n  \
        outreach letter export 4f2a91c0 --format docx"
    )]
    Letter {
        #[command(subcommand)]
        command: crate::letter_cmds::LetterCommand,
    },

    /// The most recent audit records: who did what, when, to which record.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Show one state by ISO code or name.
    #[command(
        after_help = "Examples:\n  outreach state show NPL\n  outreach state show \"South Korea\" --treaty CCM --json"
    )]
    Show {
        /// ISO 3166 alpha-3 or alpha-2 code, or the state's name.
        state: String,
        #[arg(long, value_name = "CODE")]
        treaty: Option<String>,
        /// Status as of this date, YYYY-MM-DD (default: today).
        #[arg(long, value_name = "DATE")]
        at: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// embassy-visit, capital-meeting, military-dialogue, statement, letter, call, observer-attendance, other.
    pub kind: String,
    /// The state engaged (ISO code or name).
    #[arg(long, value_name = "ISO3")]
    pub state: String,
    /// When it happened, YYYY-MM-DD (default: today).
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub summary: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub outcome: Option<String>,
    /// supportive, open, neutral, reluctant or opposed.
    #[arg(long, value_name = "STANCE")]
    pub stance: Option<String>,
    /// A contact who took part (email, name or id); repeat for several.
    #[arg(long = "with", value_name = "CONTACT")]
    pub with: Vec<String>,
    /// Who may read the summary and outcome: public (letters may cite it), internal (all staff)
    /// or restricted (only staff cleared for restricted notes). Default: restricted for
    /// military dialogue, internal otherwise ([engagements] restricted_kinds).
    #[arg(long, value_name = "LEVEL")]
    pub sensitivity: Option<String>,
    /// The grant deliverable this engagement fulfils (its id, or the last 8 characters `outreach
    /// grant show` lists); a deliverable of a grant in the same state.
    #[arg(long, value_name = "ID")]
    pub deliverable: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum MeetingCommand {
    /// Plan a meeting at a local time where it is held.
    #[command(
        after_help = "The time is read in --tz, or in the time zone of the state's capital. A time that \
        does not exist or happens twice there (a daylight-saving change) is refused.\n\nExamples:\n  \
        outreach meeting schedule --state NPL --title \"Ministry meeting\" --at \"2026-12-03 10:00\"\n  \
        outreach meeting schedule --state AZE --title \"Side event\" --at \"2026-12-01 13:00\" --tz Europe/Geneva --duration 90m"
    )]
    Schedule {
        #[arg(long, value_name = "ISO3")]
        state: String,
        #[arg(long, value_name = "TEXT")]
        title: String,
        /// Local start, "YYYY-MM-DD HH:MM".
        #[arg(long, value_name = "\"YYYY-MM-DD HH:MM\"")]
        at: String,
        /// IANA time zone of --at (default: the capital's zone).
        #[arg(long, value_name = "ZONE")]
        tz: Option<String>,
        /// Length, such as 45m, 1h or 1h30m (default 1h).
        #[arg(long, value_name = "LENGTH")]
        duration: Option<String>,
        #[arg(long, value_name = "TEXT")]
        place: Option<String>,
        /// A contact invited (email, name or id); repeat for several.
        #[arg(long = "with", value_name = "CONTACT")]
        with: Vec<String>,
    },
    /// Move a planned meeting to a new local time.
    #[command(
        after_help = "Example:\n  outreach meeting reschedule 4f2a91c0 --at \"2026-12-04 15:00\""
    )]
    Reschedule {
        /// The meeting's id, or its last 8 characters.
        id: String,
        #[arg(long, value_name = "\"YYYY-MM-DD HH:MM\"")]
        at: String,
        /// IANA time zone of --at (default: the meeting's zone).
        #[arg(long, value_name = "ZONE")]
        tz: Option<String>,
    },
    /// Cancel a planned meeting.
    Cancel { id: String },
    /// Mark a meeting as held and log it as an engagement with its outcome.
    Held {
        id: String,
        /// The kind of engagement it was (default capital-meeting).
        #[arg(long, default_value = "capital-meeting")]
        kind: String,
        #[arg(long, value_name = "TEXT")]
        outcome: Option<String>,
        #[arg(long, value_name = "STANCE")]
        stance: Option<String>,
        /// public, internal or restricted (as for `outreach log`).
        #[arg(long, value_name = "LEVEL")]
        sensitivity: Option<String>,
    },
    /// Show one meeting.
    Show { id: String },
}

#[derive(Debug, Subcommand)]
pub enum FollowUpCommand {
    /// Add a follow-up.
    #[command(
        after_help = "Example:\n  outreach followup add --state NPL --description \"Send the treaty text in Nepali\" --due 2026-12-01"
    )]
    Add {
        #[arg(long, value_name = "ISO3")]
        state: Option<String>,
        #[arg(long, value_name = "TEXT")]
        description: String,
        /// Due date, YYYY-MM-DD (default: a week from today).
        #[arg(long, value_name = "DATE")]
        due: Option<String>,
        /// Staff handle of the owner (default: you).
        #[arg(long, value_name = "HANDLE")]
        owner: Option<String>,
        /// The engagement it follows (id).
        #[arg(long, value_name = "ID")]
        engagement: Option<String>,
        /// The meeting it follows (id).
        #[arg(long, value_name = "ID")]
        meeting: Option<String>,
    },
    /// Mark a follow-up done.
    Done { id: String },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Add an organisation.
    #[command(
        after_help = "Kinds: icbl-member, ngo, ministry, embassy, armed-forces, international-organisation, other.\n\n\
        Example:\n  outreach org add --name \"Landmine Free Nepal\" --kind icbl-member --state NPL --email info@example.org"
    )]
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long, value_name = "ISO3")]
        state: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        website: Option<String>,
        /// Mark as an ICBL member campaign.
        #[arg(long)]
        icbl_member: bool,
        #[arg(long)]
        notes: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Add a contact.
    #[command(
        after_help = "Example:\n  outreach contact add --name \"Asha Rai\" --organisation \"Landmine Free Nepal\" \
        --email asha@example.org --languages ne,en --time-zone Asia/Kathmandu"
    )]
    Add {
        #[arg(long)]
        name: String,
        /// Form of address, such as H.E., Dr, Ms.
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        role: Option<String>,
        /// Organisation name or id.
        #[arg(long)]
        organisation: Option<String>,
        #[arg(long, value_name = "ISO3")]
        state: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Two-letter language codes, preferred first: fr,en.
        #[arg(long)]
        languages: Option<String>,
        /// IANA time zone, such as Asia/Kathmandu.
        #[arg(long)]
        time_zone: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        notes: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PostCommand {
    /// Record that a contact holds a post. When someone else still holds the same post (same
    /// title at the same organisation, or in the same state), their term ends the day before
    /// the new one starts.
    #[command(after_help = "Examples:\n  \
        outreach post add ram@mofa.example.org --title \"Minister for Foreign Affairs\" --state NPL --from 2025-03-01\n  \
        outreach post add \"Jane Roe\" --title \"Ambassador to Switzerland\" \
        --organisation \"Embassy of Nepal in Geneva\" --from 2023-09-15 --to 2026-08-31")]
    Add {
        /// The holder: the contact's email, name or id.
        contact: String,
        /// The office, as it is called: "Ambassador to Switzerland", "Minister for Foreign Affairs".
        #[arg(long)]
        title: String,
        /// The organisation the post is at (name or id).
        #[arg(long, value_name = "ORG")]
        organisation: Option<String>,
        /// The state the post is in (default: the organisation's, else the contact's).
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
        /// The first day in office, YYYY-MM-DD (leave out if not known).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// The last day in office, YYYY-MM-DD (leave out while they still hold it).
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
    },
    /// Record the last day of a term still open.
    #[command(after_help = "Example:\n  outreach post end 4f2a91c0 --on 2026-11-30")]
    End {
        /// The post's id, or its last 8 characters (`outreach posts` lists them).
        id: String,
        /// The last day in office, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        on: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum GrantCommand {
    /// Add an Investing in Action grant.
    #[command(
        after_help = "Example:\n  outreach grant add --organisation \"Landmine Free Nepal\" --year 2026 --amount 20000 \
        --currency USD --report-due 2026-06-30 --report-due 2026-12-31"
    )]
    Add {
        /// Organisation name or id.
        #[arg(long)]
        organisation: String,
        /// State the grant works in (default: the organisation's).
        #[arg(long, value_name = "ISO3")]
        state: Option<String>,
        #[arg(long)]
        year: i32,
        #[arg(long)]
        amount: String,
        #[arg(long, default_value = "USD")]
        currency: String,
        #[arg(long)]
        purpose: Option<String>,
        /// A report deadline, YYYY-MM-DD; repeat for several.
        #[arg(long = "report-due", value_name = "DATE")]
        report_due: Vec<String>,
    },
    /// Show a grant: its reports, deliverables, the engagements that fulfil them, and its
    /// progress.
    #[command(after_help = "Example:\n  outreach grant show 4f2a91c0")]
    Show {
        /// The grant's id, or its last 8 characters (`outreach grants` lists them).
        id: String,
    },
    /// Reports: mark one submitted, which stops its reminders (coordinators and admins).
    Report {
        #[command(subcommand)]
        command: GrantReportCommand,
    },
    /// Deliverables: what the grantee promised, by when, and how far it got.
    Deliverable {
        #[command(subcommand)]
        command: DeliverableCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum GrantReportCommand {
    /// Mark a report submitted (coordinators and admins): no more reminders are sent for it.
    #[command(after_help = "Example:\n  outreach grant report submit 7c01d2e4 --on 2026-06-28")]
    Submit {
        /// The report's id, or its last 8 characters (`outreach grant show` lists them).
        id: String,
        /// The day it came in, YYYY-MM-DD (default: today).
        #[arg(long, value_name = "DATE")]
        on: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeliverableCommand {
    /// Add a deliverable to a grant (coordinators and admins).
    #[command(
        after_help = "Statuses: planned, in-progress, done, dropped.\n\nExample:\n  \
        outreach grant deliverable add 4f2a91c0 --what \"Brief the defence ministry\" --due 2026-09-30"
    )]
    Add {
        /// The grant's id, or its last 8 characters.
        grant: String,
        /// What the grantee will do.
        #[arg(long, value_name = "TEXT")]
        what: String,
        /// When it is due, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        due: String,
        /// planned (default), in-progress, done or dropped.
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
    },
    /// List a grant's deliverables, earliest due first.
    #[command(after_help = "Example:\n  outreach grant deliverable list 4f2a91c0")]
    List {
        /// The grant's id, or its last 8 characters.
        grant: String,
    },
    /// Change a deliverable's status, due date or description (coordinators and admins).
    #[command(after_help = "Example:\n  outreach grant deliverable update 9b3e77a1 --status done")]
    Update {
        /// The deliverable's id, or its last 8 characters.
        id: String,
        /// planned, in-progress, done or dropped.
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
        /// A new due date, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        due: Option<String>,
        /// A new description.
        #[arg(long, value_name = "TEXT")]
        what: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SignalCommand {
    /// Record a signal about a state.
    #[command(
        after_help = "Kinds: observer-attendance, unga-vote, policy-change, reported-use, stockpile, condemnation.\n\n\
        Example:\n  outreach signal add --state NPL --kind unga-vote --date 2026-12-05 --value yes \
        --detail \"Voted for the annual resolution\" --source https://example.org/record"
    )]
    Add {
        #[arg(long, value_name = "ISO3")]
        state: String,
        #[arg(long)]
        kind: String,
        #[arg(long, value_name = "DATE")]
        date: String,
        #[arg(long)]
        detail: String,
        /// For a vote: yes, no, abstain or absent.
        #[arg(long)]
        value: Option<String>,
        /// Where it is documented (an address).
        #[arg(long)]
        source: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum StanceCommand {
    /// The current stance and each change before it, newest first, with where each came from
    /// (an engagement, or a coordinator's reason).
    #[command(
        after_help = "Examples:\n  outreach stance show NPL\n  outreach stance show Azerbaijan --at 2025-01-01 --json"
    )]
    Show {
        /// Code or name.
        state: String,
        /// The date to look from, YYYY-MM-DD (default: today).
        #[arg(long, value_name = "DATE")]
        at: Option<String>,
    },
    /// Set a state's stance from a day on, with the reason (coordinators and admins). It stays the
    /// current stance until an engagement or a coordinator records a newer one.
    #[command(
        after_help = "Stances: supportive, open, neutral, reluctant, opposed.\n\n\
        Example:\n  outreach stance set AZE reluctant --reason \"The defence ministry ruled out accession before a settlement\" --on 2026-11-20"
    )]
    Set {
        /// Code or name.
        state: String,
        /// supportive, open, neutral, reluctant or opposed.
        stance: String,
        /// Why: what you know that the engagements do not say.
        #[arg(long)]
        reason: String,
        /// The day it holds from, YYYY-MM-DD (default: today).
        #[arg(long, value_name = "DATE")]
        on: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Put a failed or cancelled job back in the queue, due now.
    Retry { id: String },
    /// Cancel a queued job.
    Cancel { id: String },
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Show who each meeting rule would remind, when, in which zone, and why (nothing is written).
    #[command(
        name = "dry-run",
        after_help = "Examples:\n  outreach rules dry-run\n  outreach rules dry-run meeting-1d"
    )]
    DryRun {
        /// Only this rule.
        rule: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a staff member, or update one with the same handle.
    #[command(
        after_help = "Example:\n  outreach user add maria --name \"Maria Lopez\" --email maria@example.org \
        --time-zone Europe/Geneva --role coordinator"
    )]
    Add {
        /// One word, such as maria.
        handle: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// IANA time zone, such as Europe/Geneva.
        #[arg(long)]
        time_zone: Option<String>,
        /// staff, coordinator or admin.
        #[arg(long)]
        role: Option<String>,
        /// Read a password (12 characters or more, hard to guess) from the first line of
        /// standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Cleared to read restricted notes (such as military dialogue): yes or no.
        #[arg(long, value_name = "yes|no")]
        cleared: Option<String>,
    },
    /// Disable an account (admins): it cannot sign in, its sessions end, its API tokens and
    /// calendar URL are revoked, and it gets no more reminders or digests.
    #[command(after_help = "Example:\n  outreach --as ada user disable sam")]
    Disable { handle: String },
    /// Enable a disabled account again (admins). Its old tokens stay revoked.
    #[command(after_help = "Example:\n  outreach --as ada user enable sam")]
    Enable { handle: String },
    /// List an account's API tokens and calendar URL (admins, or the account itself).
    #[command(after_help = "Example:\n  outreach --as ada user tokens sam")]
    Tokens { handle: String },
    /// Revoke an account's API tokens and calendar URL: all of them, or one by the first 8 hex
    /// digits `user tokens` shows (admins, or the account itself).
    #[command(
        after_help = "Examples:\n  outreach --as ada user revoke sam\n  outreach --as ada user revoke sam --token 3fa2b9c1"
    )]
    Revoke {
        handle: String,
        #[arg(long, value_name = "PREFIX")]
        token: Option<String>,
    },
}

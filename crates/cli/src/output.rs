//! How results reach the terminal: a table or a few lines for people, or one JSON document on
//! stdout for scripts (`--json`), with nothing else on stdout.

use std::path::Path;

use anyhow::Result;
use chrono::NaiveDate;
use comfy_table::{ContentArrangement, Table, presets};
use outreach_core::demo::DemoReport;

use crate::letter_cmds::DemoLetter;
use outreach_core::directory::{GrantView, ImportReport};
use outreach_core::engagements::EngagementView;
use outreach_core::entities::{audit_log, contact, organisation, user};
use outreach_core::followups::FollowUpView;
use outreach_core::grants::{DeliverableView, GrantDetail, GrantReportView};
use outreach_core::ids::short;
use outreach_core::meetings::MeetingView;
use outreach_core::posts::PostRecord;
use outreach_core::refdata::{Counts, LoadReport};
use outreach_core::signals::{SignalView, SpokenUp, SpokenUpRow};
use outreach_core::stance::{StanceHistory, StanceView};
use outreach_core::states::StateStatus;
use outreach_core::status::Status;
use outreach_core::views::{AttentionRow, StateProfile};
use outreach_scheduler::Workflows;
use outreach_scheduler::jobs::JobView;
use outreach_scheduler::ledger::LedgerLine;
use outreach_scheduler::planner::{DryRunLine, PlanReport};
use serde::Serialize;

#[derive(Debug, Clone, Copy)]
pub struct Out {
    json: bool,
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    t
}

/// "open since 2026-11-17 (capital meeting)" or "reluctant since 2026-11-20 (set by ana: ...)".
fn stance_line(v: &StanceView) -> String {
    let from = match (&v.engagement_kind, &v.set_by, &v.reason) {
        (Some(kind), _, _) => human(kind),
        (None, Some(by), Some(reason)) => format!("set by {by}: {reason}"),
        _ => v.source.clone(),
    };
    format!("{} since {} ({from})", v.stance, v.since)
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |x| x.to_string())
}

fn opt_by(by: Option<&str>) -> String {
    by.map(|b| format!(" by {b}")).unwrap_or_default()
}

fn human(kind: &str) -> String {
    kind.replace('_', " ")
}

impl Out {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    fn emit<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        println!("{}", serde_json::to_string_pretty(value)?);
        Ok(())
    }

    pub fn init(&self, url: &str, backend: &str, r: &LoadReport) -> Result<()> {
        if self.json {
            return self.emit(&serde_json::json!({
                "database": outreach_core::db::redact(url), "backend": backend, "report": r,
            }));
        }
        let line = |name: &str, c: &Counts| {
            format!(
                "  {name:<14} {:>5} added, {:>4} updated, {:>4} removed, {:>5} unchanged",
                c.inserted, c.updated, c.removed, c.unchanged
            )
        };
        println!(
            "Database ready: {} ({backend})",
            outreach_core::db::redact(url)
        );
        println!("Reference data:");
        println!("{}", line("treaties", &r.treaties));
        println!("{}", line("states", &r.states));
        println!("{}", line("treaty events", &r.treaty_events));
        println!("{}", line("signals", &r.signals));
        if r.changed() == 0 {
            println!("Nothing changed: the database already holds this reference data.");
        }
        Ok(())
    }

    pub fn backup(&self, file: &std::path::Path, r: &outreach_core::backup::Report) -> Result<()> {
        if self.json {
            return self.emit(&serde_json::json!({ "file": file, "report": r }));
        }
        println!(
            "Backed up {} rows of {} tables to {} (schema {}).",
            r.rows,
            r.tables.len(),
            file.display(),
            r.archive_schema
        );
        println!(
            "Restore it with: outreach --database URL restore {}",
            file.display()
        );
        Ok(())
    }

    pub fn restore(
        &self,
        file: &std::path::Path,
        url: &str,
        r: &outreach_core::backup::Report,
    ) -> Result<()> {
        if self.json {
            return self.emit(&serde_json::json!({
                "file": file, "database": outreach_core::db::redact(url), "report": r,
            }));
        }
        println!(
            "Restored {} rows of {} tables from {} into {}.",
            r.rows,
            r.tables.len(),
            file.display(),
            outreach_core::db::redact(url)
        );
        if !r.migrated.is_empty() {
            println!(
                "The archive was written by an older outreach; brought up to date with {} migration(s): {}.",
                r.migrated.len(),
                r.migrated.join(", ")
            );
        }
        Ok(())
    }

    pub fn demo(&self, r: &DemoReport, letters: &[DemoLetter]) -> Result<()> {
        if self.json {
            #[derive(Serialize)]
            struct Out<'a> {
                #[serde(flatten)]
                report: &'a DemoReport,
                letters: &'a [DemoLetter],
            }
            return self.emit(&Out { report: r, letters });
        }
        if r.already_present {
            println!("The demo data is already in this database; nothing was added.");
        } else {
            println!(
                "Added fictional demo data: {} organisations, {} contacts, {} grants, {} engagements, \
                 {} meetings, {} follow-ups, {} signal.",
                r.organisations,
                r.contacts,
                r.grants,
                r.engagements,
                r.meetings,
                r.follow_ups,
                r.signals
            );
        }
        for l in letters {
            match &l.id {
                Some(id) => println!(
                    "Drafted letter {id}: {} to {} ({}, in {}).",
                    l.what, l.recipient, l.state, l.language
                ),
                None => println!("Not drafted: {} ({}): {}", l.what, l.state, l.note),
            }
        }
        println!(
            "Try: outreach attention   and   outreach state show NPL   and   outreach letter list"
        );
        Ok(())
    }

    pub fn states(
        &self,
        rows: &[StateStatus],
        treaty: &str,
        status: &str,
        party_to: &[String],
        at: NaiveDate,
    ) -> Result<()> {
        if self.json {
            return self.emit(rows);
        }
        let mut t = table(&[
            "ISO3",
            "State",
            "Status",
            "In force",
            "Party since",
            "Also party to",
            "Stance",
            "Capital",
        ]);
        for r in rows {
            t.add_row(vec![
                r.iso3.clone(),
                r.name.clone(),
                r.status.label().to_owned(),
                if r.in_force { "yes" } else { "no" }.to_owned(),
                opt(r.party_since),
                r.also_party_to.join(", "),
                r.stance.clone().unwrap_or_else(|| "-".to_owned()),
                r.capital.clone(),
            ]);
        }
        println!("{t}");
        let also = if party_to.is_empty() {
            String::new()
        } else {
            format!(", party to {}", party_to.join(" or "))
        };
        println!(
            "{} states ({treaty}, status {status}{also}, on {at})",
            rows.len()
        );
        Ok(())
    }

    pub fn profile(&self, p: &StateProfile) -> Result<()> {
        if self.json {
            return self.emit(p);
        }
        println!("{} ({}) — {}", p.name, p.iso3, p.official_name);
        println!(
            "Capital: {} ({})   Region: {} / {}",
            p.capital, p.capital_tz, p.un_region, p.un_subregion
        );
        let since = match (p.status, p.status_since, p.party_since) {
            (Status::Withdrawing, Some(notice), Some(party)) => {
                format!(" since {notice} (party since {party})")
            }
            (_, Some(d), _) => format!(" since {d}"),
            _ => String::new(),
        };
        println!(
            "{} on {}: {}{}{}",
            p.treaty,
            p.at,
            p.status.label(),
            since,
            if p.in_force { ", in force" } else { "" }
        );
        let others: Vec<String> = p
            .treaties
            .iter()
            .filter(|t| t.treaty != p.treaty)
            .map(|t| format!("{} {}", t.treaty, t.status.label()))
            .collect();
        println!("Other treaties: {}", others.join(", "));
        match &p.stance {
            Some(st) => println!("Stance: {}", stance_line(st)),
            None => println!("Stance: none on record"),
        }
        match (p.last_engagement, p.days_since_last_engagement) {
            (Some(d), Some(n)) => println!("Last engagement: {d} ({n} days ago)"),
            _ => println!("Last engagement: never"),
        }
        if let Some(m) = &p.next_meeting {
            println!(
                "Next meeting: {} {} — {}",
                m.local_start, m.time_zone, m.title
            );
        }

        println!("\nStatus history ({}):", p.treaty);
        if p.status_history.is_empty() {
            println!("  no treaty action on record");
        }
        for e in &p.status_history {
            let flag = if e.confidence == "confirmed" {
                ""
            } else {
                " (unconfirmed)"
            };
            println!("  {}  {}{}  {}", e.date, human(&e.event), flag, e.source);
        }
        if !p.signals.is_empty() {
            println!("\nSignals:");
            for s in &p.signals {
                let value = s
                    .value
                    .as_deref()
                    .map(|v| format!(" [{v}]"))
                    .unwrap_or_default();
                println!("  {}  {}{}: {}", s.date, human(&s.kind), value, s.detail);
            }
        }
        if !p.grants.is_empty() {
            println!("\nGrantees (Investing in Action):");
            for g in &p.grants {
                let due: Vec<String> = g.reports_due.iter().map(ToString::to_string).collect();
                println!(
                    "  {} {} — {} {} (reports due {}; {}; `outreach grant show {}`)",
                    g.year,
                    g.organisation,
                    g.amount,
                    g.currency,
                    if due.is_empty() {
                        "-".to_owned()
                    } else {
                        due.join(", ")
                    },
                    g.progress.summary,
                    short(g.id)
                );
            }
        }
        if !p.contacts.is_empty() {
            println!("\nContacts:");
            for c in &p.contacts {
                println!(
                    "  {}{} — {}{} {}",
                    c.title
                        .as_deref()
                        .map(|t| format!("{t} "))
                        .unwrap_or_default(),
                    c.name,
                    c.role.as_deref().unwrap_or("-"),
                    c.organisation
                        .as_deref()
                        .map(|o| format!(", {o}"))
                        .unwrap_or_default(),
                    c.email
                        .as_deref()
                        .map(|e| format!("<{e}>"))
                        .unwrap_or_default()
                );
            }
        }
        if !p.posts.is_empty() {
            println!("\nPosts (held on {} first, then earlier holders):", p.at);
            for x in &p.posts {
                println!(
                    "  {}  {} — {}{}, {}",
                    x.short_id,
                    x.title,
                    x.contact,
                    x.organisation
                        .as_deref()
                        .map(|o| format!(", {o}"))
                        .unwrap_or_default(),
                    outreach_core::posts::term(x.from, x.to)
                );
            }
        }
        println!("\nEngagements:");
        if p.engagements.is_empty() {
            println!(
                "  none logged yet (outreach log embassy-visit --state {} ...)",
                p.iso3
            );
        }
        for e in &p.engagements {
            let level = if e.sensitivity == "internal" {
                String::new()
            } else {
                format!(" [{}]", e.sensitivity)
            };
            println!("  {}  {}{level}: {}", e.date, human(&e.kind), e.summary);
            if let Some(o) = &e.outcome {
                println!("              outcome: {o}");
            }
            if let Some(s) = &e.stance {
                println!("              stance: {s}");
            }
            if !e.participants.is_empty() {
                println!("              with: {}", e.participants.join(", "));
            }
        }
        if !p.upcoming_meetings.is_empty() {
            println!("\nUpcoming meetings:");
            for m in &p.upcoming_meetings {
                println!(
                    "  {}  {} {} — {}",
                    short(m.id),
                    m.local_start,
                    m.time_zone,
                    m.title
                );
            }
        }
        if !p.open_follow_ups.is_empty() {
            println!("\nOpen follow-ups:");
            for f in &p.open_follow_ups {
                let overdue = if f.overdue { " OVERDUE" } else { "" };
                println!(
                    "  {}  due {}{} ({}) {}",
                    short(f.id),
                    f.due_on,
                    overdue,
                    f.owner,
                    f.description
                );
            }
        }
        Ok(())
    }

    pub fn engagement_logged(&self, e: &EngagementView) -> Result<()> {
        if self.json {
            return self.emit(e);
        }
        println!(
            "Logged {} with {} on {} (id {}), {}.",
            human(&e.kind),
            e.iso3,
            e.date,
            e.id,
            match e.sensitivity.as_str() {
                "public" => "public: letters may cite it",
                "restricted" => "restricted: only staff cleared for restricted notes can read it",
                _ => "internal: all staff can read it",
            }
        );
        if e.participants.len() > 1 {
            println!("Participants: {}", e.participants.join(", "));
        }
        Ok(())
    }

    pub fn meeting(&self, verb: &str, m: &MeetingView) -> Result<()> {
        if self.json {
            return self.emit(m);
        }
        println!("{verb}: {} — {} ({})", m.title, m.state, m.iso3);
        println!("  id        {}", m.id);
        println!(
            "  starts    {} {} (UTC {})",
            m.local_start,
            m.time_zone,
            m.starts_at.format("%Y-%m-%d %H:%M")
        );
        if m.reader_time_zone != m.time_zone {
            println!("  your time {} {}", m.reader_start, m.reader_time_zone);
        }
        println!("  length    {} min", m.duration_minutes);
        if let Some(p) = &m.place {
            println!("  place     {p}");
        }
        println!("  status    {} (version {})", m.status, m.version);
        if !m.participants.is_empty() {
            println!("  with      {}", m.participants.join(", "));
        }
        Ok(())
    }

    pub fn meeting_held(&self, m: &MeetingView, e: &EngagementView) -> Result<()> {
        if self.json {
            return self.emit(&serde_json::json!({ "meeting": m, "engagement": e }));
        }
        println!(
            "Marked held: {} ({}); logged as {} on {} (id {}).",
            m.title,
            m.iso3,
            human(&e.kind),
            e.date,
            e.id
        );
        Ok(())
    }

    pub fn meetings(&self, rows: &[MeetingView]) -> Result<()> {
        if self.json {
            return self.emit(rows);
        }
        let mut t = table(&[
            "Id",
            "State",
            "Local start",
            "Zone",
            "Your time",
            "Status",
            "Title",
        ]);
        for m in rows {
            t.add_row(vec![
                short(m.id),
                m.iso3.clone(),
                m.local_start.clone(),
                m.time_zone.clone(),
                m.reader_start.clone(),
                m.status.clone(),
                m.title.clone(),
            ]);
        }
        println!("{t}");
        println!(
            "{} meetings; times in your zone: {}",
            rows.len(),
            rows.first().map_or("", |m| m.reader_time_zone.as_str())
        );
        Ok(())
    }

    pub fn follow_up(&self, verb: &str, f: &FollowUpView) -> Result<()> {
        if self.json {
            return self.emit(f);
        }
        println!(
            "{verb}: {} — {} (owner {}, due {}, id {})",
            f.iso3, f.description, f.owner, f.due_on, f.id
        );
        Ok(())
    }

    pub fn follow_ups(&self, rows: &[FollowUpView]) -> Result<()> {
        if self.json {
            return self.emit(rows);
        }
        let mut t = table(&["Id", "State", "Due", "Owner", "Done", "Description"]);
        for f in rows {
            let due = if f.overdue {
                format!("{} OVERDUE", f.due_on)
            } else {
                f.due_on.to_string()
            };
            t.add_row(vec![
                short(f.id),
                f.iso3.clone(),
                due,
                f.owner.clone(),
                opt(f.done_at.map(|d| d.format("%Y-%m-%d"))),
                f.description.clone(),
            ]);
        }
        println!("{t}");
        println!("{} follow-ups", rows.len());
        Ok(())
    }

    pub fn organisation_added(&self, o: &organisation::Model) -> Result<()> {
        if self.json {
            return self.emit(&org_json(o));
        }
        println!(
            "Added organisation {} ({}, {}) id {}",
            o.name,
            human(&o.kind),
            opt(o.iso3.as_deref()),
            o.id
        );
        Ok(())
    }

    pub fn organisations(&self, rows: &[organisation::Model]) -> Result<()> {
        if self.json {
            return self.emit(&rows.iter().map(org_json).collect::<Vec<_>>());
        }
        let mut t = table(&["Id", "Name", "Kind", "State", "ICBL member", "Email"]);
        for o in rows {
            t.add_row(vec![
                short(o.id),
                o.name.clone(),
                human(&o.kind),
                opt(o.iso3.as_deref()),
                if o.icbl_member { "yes" } else { "no" }.to_owned(),
                opt(o.email.as_deref()),
            ]);
        }
        println!("{t}");
        println!("{} organisations", rows.len());
        Ok(())
    }

    pub fn contact_added(&self, c: &contact::Model) -> Result<()> {
        if self.json {
            return self.emit(&contact_json(c));
        }
        println!(
            "Added contact {} ({}) id {}",
            c.name,
            opt(c.email.as_deref()),
            c.id
        );
        Ok(())
    }

    pub fn contacts(&self, rows: &[contact::Model]) -> Result<()> {
        if self.json {
            return self.emit(&rows.iter().map(contact_json).collect::<Vec<_>>());
        }
        let mut t = table(&["Id", "Name", "Role", "State", "Email", "Languages", "Zone"]);
        for c in rows {
            t.add_row(vec![
                short(c.id),
                format!(
                    "{}{}",
                    c.title
                        .as_deref()
                        .map(|t| format!("{t} "))
                        .unwrap_or_default(),
                    c.name
                ),
                opt(c.role.as_deref()),
                opt(c.iso3.as_deref()),
                opt(c.email.as_deref()),
                c.languages.clone(),
                opt(c.time_zone.as_deref()),
            ]);
        }
        println!("{t}");
        println!("{} contacts", rows.len());
        Ok(())
    }

    pub fn post_saved(&self, verb: &str, p: &PostRecord) -> Result<()> {
        if self.json {
            return self.emit(p);
        }
        println!(
            "{verb} post {}: {} as {}{}{} ({})",
            p.short_id,
            p.contact,
            p.title,
            p.organisation
                .as_deref()
                .map(|o| format!(", {o}"))
                .unwrap_or_default(),
            p.iso3
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default(),
            outreach_core::posts::term(p.from, p.to)
        );
        Ok(())
    }

    pub fn posts(&self, rows: &[PostRecord], at: Option<NaiveDate>) -> Result<()> {
        if self.json {
            return self.emit(rows);
        }
        let mut t = table(&[
            "Id",
            "Title",
            "Holder",
            "Organisation",
            "State",
            "From",
            "To",
        ]);
        for p in rows {
            t.add_row(vec![
                p.short_id.clone(),
                p.title.clone(),
                p.contact.clone(),
                opt(p.organisation.as_deref()),
                opt(p.iso3.as_deref()),
                opt(p.from),
                p.to.map_or_else(|| "still held".to_owned(), |d| d.to_string()),
            ]);
        }
        println!("{t}");
        match at {
            Some(at) => println!("{} posts held on {at}", rows.len()),
            None => println!("{} terms", rows.len()),
        }
        Ok(())
    }

    pub fn grant_added(&self, g: &GrantView) -> Result<()> {
        if self.json {
            return self.emit(g);
        }
        println!(
            "Added {} grant: {} {} to {} in {} (id {})",
            g.year, g.amount, g.currency, g.organisation, g.iso3, g.id
        );
        Ok(())
    }

    pub fn grants(&self, rows: &[GrantView]) -> Result<()> {
        if self.json {
            return self.emit(rows);
        }
        let mut t = table(&[
            "Id",
            "Year",
            "State",
            "Organisation",
            "Amount",
            "Reports due",
            "Progress",
        ]);
        for g in rows {
            t.add_row(vec![
                short(g.id),
                g.year.to_string(),
                g.iso3.clone(),
                g.organisation.clone(),
                format!("{} {}", g.amount, g.currency),
                g.reports_due
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                g.progress.summary.clone(),
            ]);
        }
        println!("{t}");
        println!("{} grants", rows.len());
        Ok(())
    }

    pub fn grant_detail(&self, d: &GrantDetail) -> Result<()> {
        if self.json {
            return self.emit(d);
        }
        let g = &d.grant;
        println!(
            "{} grant to {} in {}: {} {} (id {})",
            g.year, g.organisation, g.iso3, g.amount, g.currency, g.id
        );
        if let Some(p) = &g.purpose {
            println!("Purpose: {p}");
        }
        println!("Progress: {}", g.progress.summary);
        println!("\nReports:");
        if d.reports.is_empty() {
            println!("  none due");
        }
        for r in &d.reports {
            let state = match (&r.submitted_on, &r.submitted_by) {
                (Some(on), by) => format!("submitted {on}{}", opt_by(by.as_deref())),
                (None, _) if r.overdue => "overdue".to_owned(),
                (None, _) => "not yet submitted".to_owned(),
            };
            println!("  {}  due {}  {state}", r.short_id, r.due_on);
        }
        println!("\nDeliverables:");
        if d.deliverables.is_empty() {
            println!("  none recorded");
        }
        for x in &d.deliverables {
            println!(
                "  {}  due {}  {}{}  {}",
                x.short_id,
                x.due_on,
                human(&x.status),
                if x.overdue { " (overdue)" } else { "" },
                x.what
            );
        }
        if !d.engagements.is_empty() {
            println!("\nEngagements that fulfil them:");
            for e in &d.engagements {
                let of = d
                    .deliverables
                    .iter()
                    .find(|x| Some(x.id) == e.deliverable_id)
                    .map(|x| x.short_id.clone())
                    .unwrap_or_default();
                println!(
                    "  {}  {}  {} (deliverable {of}): {}",
                    e.date,
                    e.iso3,
                    human(&e.kind),
                    e.summary
                );
            }
        }
        Ok(())
    }

    pub fn report_submitted(&self, r: &GrantReportView) -> Result<()> {
        if self.json {
            return self.emit(r);
        }
        println!(
            "Report due {} marked submitted on {}{}; its reminders stop.",
            r.due_on,
            opt(r.submitted_on),
            opt_by(r.submitted_by.as_deref())
        );
        Ok(())
    }

    pub fn deliverable_saved(&self, verb: &str, d: &DeliverableView) -> Result<()> {
        if self.json {
            return self.emit(d);
        }
        println!(
            "{verb} deliverable {}: {} (due {}, {})",
            d.short_id,
            d.what,
            d.due_on,
            human(&d.status)
        );
        Ok(())
    }

    pub fn deliverables(&self, rows: &[DeliverableView]) -> Result<()> {
        if self.json {
            return self.emit(rows);
        }
        let mut t = table(&["Id", "Due", "Status", "What"]);
        for d in rows {
            t.add_row(vec![
                d.short_id.clone(),
                d.due_on.to_string(),
                format!(
                    "{}{}",
                    human(&d.status),
                    if d.overdue { " (overdue)" } else { "" }
                ),
                d.what.clone(),
            ]);
        }
        println!("{t}");
        println!("{} deliverables", rows.len());
        Ok(())
    }

    pub fn signals(&self, rows: &[SignalView]) -> Result<()> {
        if self.json {
            return self.emit(rows);
        }
        let mut t = table(&[
            "Id",
            "Date",
            "State",
            "Kind",
            "What",
            "Confidence",
            "Source",
        ]);
        for s in rows {
            t.add_row(vec![
                short(s.id),
                s.date.to_string(),
                s.iso3.clone(),
                human(&s.kind),
                s.value
                    .as_deref()
                    .map_or_else(|| s.detail.clone(), |v| format!("{} ({v})", s.detail)),
                s.confidence
                    .clone()
                    .unwrap_or_else(|| "recorded here".to_owned()),
                s.source.clone().unwrap_or_default(),
            ]);
        }
        println!("{t}");
        let unconfirmed = rows
            .iter()
            .filter(|s| s.confidence.as_deref() == Some("unconfirmed"))
            .count();
        println!(
            "{} signals ({unconfirmed} unconfirmed: see each note with --json)",
            rows.len()
        );
        Ok(())
    }

    pub fn spoken_up(&self, v: &SpokenUp) -> Result<()> {
        if self.json {
            return self.emit(v);
        }
        let list = |title: &str, rows: &[SpokenUpRow]| {
            let mut t = table(&["State", "Name", "Latest on record", "What"]);
            for r in rows {
                t.add_row(vec![
                    r.iso3.clone(),
                    r.name.clone(),
                    opt(r.latest),
                    r.latest_detail.clone().unwrap_or_default(),
                ]);
            }
            println!("{title}\n{t}");
        };
        list(
            "States Parties that have spoken out against new use:",
            &v.parties_with,
        );
        list(
            "States Parties with no condemnation on record:",
            &v.parties_without,
        );
        if !v.others_with.is_empty() {
            list("States not party that have spoken out:", &v.others_with);
        }
        println!(
            "{} of {} States Parties ({}) have a condemnation of new use on record on {}; {} have none.",
            v.count_with,
            v.count_with + v.count_without,
            v.treaty,
            v.at,
            v.count_without
        );
        Ok(())
    }

    pub fn signal_added(&self, s: &SignalView) -> Result<()> {
        if self.json {
            return self.emit(s);
        }
        println!(
            "Recorded {} for {} on {} (id {})",
            human(&s.kind),
            s.iso3,
            s.date,
            s.id
        );
        Ok(())
    }

    pub fn stance_history(&self, name: &str, h: &StanceHistory) -> Result<()> {
        if self.json {
            return self.emit(h);
        }
        let (iso3, at) = (&h.iso3, h.at);
        match &h.current {
            None => println!(
                "No stance on record for {name} ({iso3}) on {at}. Record one with an engagement \
                 (`outreach log ... --stance open`) or set it (`outreach stance set {iso3} open --reason ...`)."
            ),
            Some(current) => {
                println!("{name} ({iso3}) on {at}: {}", stance_line(current));
                if h.history.len() > 1 {
                    println!("Before that:");
                    for step in &h.history[1..] {
                        println!("  {}", stance_line(step));
                    }
                }
            }
        }
        Ok(())
    }

    pub fn stance_set(&self, state: &str, v: &StanceView) -> Result<()> {
        if self.json {
            return self.emit(v);
        }
        println!("Stance of {state} set: {}", stance_line(v));
        Ok(())
    }

    pub fn imported(&self, what: &str, file: &Path, r: &ImportReport) -> Result<()> {
        if self.json {
            return self.emit(r);
        }
        println!(
            "Imported {} {what} from {} ({} rows read, {} already present and left alone).",
            r.imported,
            file.display(),
            r.rows,
            r.already_present
        );
        Ok(())
    }

    pub fn attention(
        &self,
        rows: &[AttentionRow],
        treaty: &str,
        today: NaiveDate,
        order: &str,
    ) -> Result<()> {
        if self.json {
            return self.emit(rows);
        }
        let mut t = table(&[
            "ISO3",
            "State",
            "Status",
            "Last engaged",
            "Days",
            "Next meeting",
            "Grantee",
            "Follow-ups",
            "Stance",
        ]);
        for r in rows {
            let next = r.next_meeting.as_ref().map_or_else(
                || "-".to_owned(),
                |m| format!("{} {}", m.local_start, m.time_zone),
            );
            let follow = match (r.open_follow_ups, r.overdue_follow_ups) {
                (0, _) => "-".to_owned(),
                (n, 0) => n.to_string(),
                (n, o) => format!("{n} ({o} overdue)"),
            };
            t.add_row(vec![
                r.iso3.clone(),
                r.name.clone(),
                r.status.label().to_owned(),
                opt(r.last_engagement),
                r.days_since_last_engagement
                    .map_or_else(|| "never".to_owned(), |d| d.to_string()),
                next,
                if r.grantees.is_empty() {
                    "-".to_owned()
                } else {
                    r.grantees.join(", ")
                },
                follow,
                r.stance.clone().unwrap_or_else(|| "-".to_owned()),
            ]);
        }
        println!("{t}");
        println!(
            "{} states not party to {treaty} on {today}, {order}",
            rows.len()
        );
        Ok(())
    }

    pub fn audit(&self, rows: &[audit_log::Model]) -> Result<()> {
        if self.json {
            // The API's shape: a detail that is not JSON (none is written so) shows as its
            // text, not as null.
            let v: Vec<outreach_core::audit::AuditEntry> = rows
                .iter()
                .cloned()
                .map(outreach_core::audit::AuditEntry::from)
                .collect();
            return self.emit(&v);
        }
        let mut t = table(&["When (UTC)", "Who", "Action", "Record"]);
        for a in rows {
            t.add_row(vec![
                a.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                a.actor.clone(),
                a.action.clone(),
                format!("{} {}", a.entity, a.entity_id),
            ]);
        }
        println!("{t}");
        Ok(())
    }
}

fn org_json(o: &organisation::Model) -> outreach_core::directory::OrganisationRecord {
    o.into()
}

fn contact_json(c: &contact::Model) -> outreach_core::directory::ContactRecord {
    c.into()
}

impl Out {
    pub fn meeting_planned(&self, verb: &str, m: &MeetingView, plan: &PlanReport) -> Result<()> {
        if self.json {
            let mut v = serde_json::to_value(m)?;
            v["reminders"] = serde_json::to_value(plan)?;
            return self.emit(&v);
        }
        self.meeting(verb, m)?;
        let mut parts = Vec::new();
        if plan.planned > 0 {
            parts.push(format!("{} planned", plan.planned));
        }
        if plan.superseded > 0 {
            parts.push(format!("{} superseded", plan.superseded));
        }
        if plan.cancelled > 0 {
            parts.push(format!("{} cancelled", plan.cancelled));
        }
        if plan.skipped_past > 0 {
            parts.push(format!(
                "{} not planned because their time has passed",
                plan.skipped_past
            ));
        }
        if !parts.is_empty() {
            println!("  reminders {}", parts.join(", "));
        }
        Ok(())
    }

    pub fn meeting_with_ledger(&self, m: &MeetingView, ledger: &[LedgerLine]) -> Result<()> {
        if self.json {
            let mut v = serde_json::to_value(m)?;
            v["reminders"] = serde_json::to_value(ledger)?;
            return self.emit(&v);
        }
        self.meeting("Meeting", m)?;
        if ledger.is_empty() {
            println!(
                "  reminders none planned (reminders go to participants and owners with an email address)"
            );
            return Ok(());
        }
        let mut t = table(&["When (UTC)", "Rule", "To", "State", "Reason"]);
        for l in ledger {
            t.add_row(vec![
                l.run_at.format("%Y-%m-%d %H:%M").to_string(),
                opt(l.rule.as_deref()).to_owned(),
                opt(l.recipient.as_deref()),
                l.state.clone(),
                opt(l.reason.as_deref()),
            ]);
        }
        println!("{t}");
        Ok(())
    }

    pub fn jobs(&self, rows: &[JobView]) -> Result<()> {
        if self.json {
            return self.emit(rows);
        }
        let mut t = table(&[
            "Id",
            "Kind",
            "Status",
            "Run at (UTC)",
            "Attempts",
            "Subject",
            "Email",
            "Last error",
        ]);
        for j in rows {
            t.add_row(vec![
                short(j.id),
                j.kind.clone(),
                j.status.clone(),
                match j.due_at {
                    // A retry moved it: say when it was due as well.
                    Some(due) if due != j.run_at => format!(
                        "{} (due {})",
                        j.run_at.format("%Y-%m-%d %H:%M:%S"),
                        due.format("%Y-%m-%d %H:%M:%S")
                    ),
                    _ => j.run_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                },
                format!("{}/{}", j.attempts, j.max_attempts),
                match (&j.subject_kind, &j.subject_id) {
                    (Some(k), Some(id)) => format!("{k} {}", &id[id.len().saturating_sub(8)..]),
                    _ => "-".to_owned(),
                },
                if j.emails.is_empty() {
                    "-".to_owned()
                } else {
                    j.emails
                        .iter()
                        .map(outreach_scheduler::jobs::JobEmail::summary)
                        .collect::<Vec<_>>()
                        .join("; ")
                },
                opt(j.last_error.as_deref()),
            ]);
        }
        println!("{t}");
        println!("{} jobs", rows.len());
        Ok(())
    }

    pub fn job(&self, verb: &str, j: &JobView) -> Result<()> {
        if self.json {
            return self.emit(j);
        }
        println!(
            "{verb}: job {} ({}, {}, due {})",
            j.id,
            j.kind,
            j.status,
            j.run_at.format("%Y-%m-%d %H:%M UTC")
        );
        Ok(())
    }

    pub fn rules(&self, wf: &Workflows) -> Result<()> {
        if self.json {
            let v = serde_json::json!({
                "meeting_reminders": wf.meeting_reminders.iter().map(|r| serde_json::json!({
                    "name": r.name, "before_minutes": r.before.as_secs() / 60,
                    "working_days": r.working_days.map(|w| w.days),
                    "calendar": r.working_days.map(|w| w.calendar),
                    "anchor": format!("{:?}", r.anchor).to_lowercase(),
                    "to": r.to.iter().map(|a| format!("{a:?}").to_lowercase()).collect::<Vec<_>>(),
                    "effective_from": r.effective_from,
                })).collect::<Vec<_>>(),
                "schedules": wf.schedules.iter().map(|s| serde_json::json!({
                    "name": s.name, "cron": s.cron.source(), "time_zone": s.zone.name(),
                    "job": format!("{:?}", s.job), "effective_from": s.effective_from,
                })).collect::<Vec<_>>(),
            });
            return self.emit(&v);
        }
        println!("Meeting reminders:");
        for r in &wf.meeting_reminders {
            println!(
                "  {:<16} {} before the {:?}, to {:?} (in effect from {})",
                r.name,
                r.describe_before(),
                r.anchor,
                r.to,
                r.effective_from.format("%Y-%m-%d %H:%M UTC")
            );
        }
        for (label, rule) in [
            ("Outcome nudge", &wf.outcome_nudge),
            ("Follow-up reminder", &wf.follow_up_reminder),
            ("Grant report reminder", &wf.grant_report_reminder),
        ] {
            if let Some(r) = rule {
                println!(
                    "{label}: {} ({})",
                    r.name,
                    outreach_scheduler::planner::describe(r.lead)
                );
            }
        }
        println!("Schedules:");
        for s in &wf.schedules {
            println!(
                "  {:<16} \"{}\" in {} -> {:?}",
                s.name,
                s.cron.source(),
                s.zone,
                s.job
            );
        }
        Ok(())
    }

    pub fn dry_run(&self, lines: &[DryRunLine]) -> Result<()> {
        if self.json {
            return self.emit(lines);
        }
        let mut t = table(&[
            "Rule",
            "About",
            "To",
            "Fires (their time)",
            "Zone",
            "Fires?",
            "Why",
        ]);
        for l in lines {
            t.add_row(vec![
                l.rule.clone(),
                l.subject.clone(),
                format!("{} <{}>", l.recipient, l.email),
                l.local_time.clone(),
                l.time_zone.clone(),
                if l.would_fire { "yes" } else { "no" }.to_owned(),
                l.why.clone(),
            ]);
        }
        println!("{t}");
        println!("{} reminders considered; nothing was written", lines.len());
        Ok(())
    }

    pub fn user_saved(&self, u: &user::Model) -> Result<()> {
        if self.json {
            return self.emit(&user_json(u));
        }
        println!(
            "Saved {} ({}, {}, {}, {})",
            u.handle,
            u.name,
            u.email.as_deref().unwrap_or("no email: no reminders"),
            u.time_zone,
            u.role
        );
        Ok(())
    }

    pub fn users(&self, rows: &[user::Model]) -> Result<()> {
        if self.json {
            return self.emit(&rows.iter().map(user_json).collect::<Vec<_>>());
        }
        let mut t = table(&[
            "Handle",
            "Name",
            "Email",
            "Zone",
            "Role",
            "Restricted notes",
            "Account",
        ]);
        for u in rows {
            t.add_row(vec![
                u.handle.clone(),
                u.name.clone(),
                opt(u.email.as_deref()),
                u.time_zone.clone(),
                u.role.clone(),
                if u.cleared { "cleared" } else { "-" }.to_owned(),
                u.disabled_at.map_or_else(
                    || "enabled".to_owned(),
                    |d| format!("disabled {}", d.format("%Y-%m-%d")),
                ),
            ]);
        }
        println!("{t}");
        Ok(())
    }

    pub fn user_access(
        &self,
        verb: &str,
        u: &user::Model,
        ended: outreach_web::auth::Ended,
    ) -> Result<()> {
        if self.json {
            let mut v = user_json(u);
            v["sessions_ended"] = ended.sessions.into();
            v["tokens_revoked"] = ended.tokens.into();
            return self.emit(&v);
        }
        if u.disabled_at.is_some() {
            println!(
                "{verb} {}: {} session(s) ended, {} token(s) revoked; no more sign-ins, reminders or digests.",
                u.handle, ended.sessions, ended.tokens
            );
        } else {
            println!(
                "{verb} {}. They need a password to sign in again (`outreach user add {} --password-stdin`); their old tokens stay revoked.",
                u.handle, u.handle
            );
        }
        Ok(())
    }

    pub fn tokens(
        &self,
        u: &user::Model,
        rows: &[outreach_web::entities::token::Model],
    ) -> Result<()> {
        if self.json {
            return self.emit(
                &rows
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "kind": t.kind, "name": t.name,
                            "token": t.token_hash.get(..8).unwrap_or_default(),
                            "created_at": t.created_at, "last_used_at": t.last_used_at,
                        })
                    })
                    .collect::<Vec<_>>(),
            );
        }
        if rows.is_empty() {
            println!("{} has no API tokens and no calendar URL.", u.handle);
            return Ok(());
        }
        let mut t = table(&["Kind", "Name", "Token", "Created", "Last used"]);
        for r in rows {
            t.add_row(vec![
                r.kind.clone(),
                r.name.clone(),
                r.token_hash.get(..8).unwrap_or_default().to_owned(),
                r.created_at.format("%Y-%m-%d %H:%M").to_string(),
                r.last_used_at.map_or_else(
                    || "never".to_owned(),
                    |d| d.format("%Y-%m-%d %H:%M").to_string(),
                ),
            ]);
        }
        println!("{t}");
        Ok(())
    }

    pub fn revoked(&self, u: &user::Model, n: usize) -> Result<()> {
        if self.json {
            return self.emit(&serde_json::json!({ "handle": u.handle, "revoked": n }));
        }
        println!("Revoked {n} token(s) of {}.", u.handle);
        Ok(())
    }

    pub fn scheduler_once(&self, pass: &outreach_scheduler::service::OncePass) -> Result<()> {
        if self.json {
            return self.emit(pass);
        }
        println!(
            "Ran {} due jobs, {} schedules fired, {} emails handed to delivery.",
            pass.jobs_run, pass.schedules_fired, pass.emails_processed
        );
        Ok(())
    }
}

fn user_json(u: &user::Model) -> serde_json::Value {
    serde_json::json!({
        "id": u.id, "handle": u.handle, "name": u.name, "email": u.email,
        "time_zone": u.time_zone, "role": u.role,
        "cleared": u.cleared, "disabled_at": u.disabled_at,
    })
}

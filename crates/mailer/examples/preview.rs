//! Prints a template rendered from its sample context, for template authors:
//! `cargo run -p outreach-mailer --example preview -- meeting_reminder fr [text|html|ics]`.
#![allow(clippy::print_stdout)]

use std::path::Path;

use outreach_mailer::MailSettings;
use outreach_mailer::context::{
    FollowUpDue, GrantReportDue, MeetingCancelled, MeetingReminder, OutcomeMissing, TestMessage,
    WeeklyDigest,
};
use outreach_mailer::{Mailer, RenderedEmail, Templates, Transport};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map_or("meeting_reminder", String::as_str);
    let lang = args.get(1).map_or("en", String::as_str);
    let part = args.get(2).map_or("text", String::as_str);
    let settings = MailSettings::default();
    let templates = Templates::load(Path::new(&settings.templates_dir))?;
    let transport = Transport::from_settings(&settings, Path::new("."))?;
    let mailer = Mailer::new(&settings, templates, transport)?;
    let r: RenderedEmail = match name {
        "meeting_reminder" => mailer.render_context(lang, &MeetingReminder::sample())?,
        "meeting_cancelled" => mailer.render_context(lang, &MeetingCancelled::sample())?,
        "outcome_missing" => mailer.render_context(lang, &OutcomeMissing::sample())?,
        "follow_up_due" => mailer.render_context(lang, &FollowUpDue::sample())?,
        "grant_report_due" => mailer.render_context(lang, &GrantReportDue::sample())?,
        "weekly_digest" => mailer.render_context(lang, &WeeklyDigest::sample())?,
        "test_message" => mailer.render_context(lang, &TestMessage::sample())?,
        other => return Err(format!("no template named {other}").into()),
    };
    println!("Subject: {}\n", r.subject);
    match part {
        "html" => println!("{}", r.html),
        "ics" => println!("{}", r.ics.unwrap_or_default()),
        _ => println!("{}", r.text),
    }
    Ok(())
}

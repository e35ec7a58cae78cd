//! Shared test helpers: settings pointing at a local SMTP server, queuing typed contexts, draining
//! the outbox, and taking a received message apart.

use std::path::Path;
use std::time::Duration;

use outreach_core::Actor;
use outreach_core::domain::{EmailAddress, IanaZone};
use outreach_core::meetings::{self, MeetingInput, MeetingView};
use outreach_mailer::MailSettings;
use outreach_mailer::context::{MeetingInfo, Recipient};
use outreach_mailer::entities::outbox;
use outreach_mailer::outbox::{Enqueued, NewEmail, enqueue};
use outreach_mailer::{EmailContext, Mailer, Templates, Transport, deliver_once};
use sea_orm::{DatabaseConnection, EntityTrait};
use uuid::Uuid;

/// Mail settings for a plain SMTP server on 127.0.0.1:`port`, retrying at once.
pub fn smtp_settings(port: u16) -> MailSettings {
    MailSettings {
        transport: "smtp".into(),
        smtp_host: "127.0.0.1".into(),
        smtp_port: port,
        smtp_security: "none".into(),
        smtp_timeout_secs: 5,
        smtp_pool_size: 2,
        from: "Campaign Team <outreach@example.org>".into(),
        message_id_domain: "mail.outreach.test".into(),
        retry_base_secs: 0,
        retry_max_secs: 0,
        max_attempts: 5,
        ..MailSettings::default()
    }
}

pub fn mailer(settings: &MailSettings) -> Mailer {
    let transport = Transport::from_settings(settings, Path::new(".")).unwrap();
    Mailer::new(settings, Templates::embedded().unwrap(), transport).unwrap()
}

pub async fn open(url: &str) -> DatabaseConnection {
    outreach_core::db::open(url, "tester").await.unwrap()
}

pub fn actor() -> Actor {
    Actor::new("maria", IanaZone::parse("tz", "UTC").unwrap()).unwrap()
}

/// A test message to `email`, in Spanish for a reader in Bogotá.
pub fn test_message(email: &str) -> outreach_mailer::context::TestMessage {
    outreach_mailer::context::TestMessage {
        recipient: recipient(email, "America/Bogota", "es"),
        sent_at: chrono::Utc::now(),
    }
}

/// Queues a typed context for its recipient, due now.
pub async fn queue<T: EmailContext>(db: &DatabaseConnection, key: &str, ctx: &T) -> Uuid {
    let r = ctx.recipient();
    let queued = enqueue(
        db,
        NewEmail {
            idempotency_key: key.into(),
            recipient: EmailAddress::parse("to", &r.email).unwrap(),
            recipient_name: Some(r.name.clone()),
            template: T::TEMPLATE.into(),
            language: r.language.clone(),
            context: serde_json::to_value(ctx).unwrap(),
            send_at: chrono::Utc::now(),
            subject: None,
            job_id: None,
        },
    )
    .await
    .unwrap();
    match queued {
        Enqueued::Queued(id) => id,
        Enqueued::AlreadyQueued => panic!("{key} was queued before"),
    }
}

/// Runs delivery rounds until one finds nothing due; returns the rounds that did work.
pub async fn drain(db: &DatabaseConnection, mailer: &Mailer) -> usize {
    for rounds in 0..50 {
        if deliver_once(db, mailer).await.unwrap() == 0 {
            return rounds;
        }
    }
    panic!("the outbox did not drain in 50 rounds");
}

/// Runs delivery rounds until no row is queued or being sent; returns the rounds that did work.
/// Unlike [`drain`], a round that found nothing does not end it: beside another mailer, a claim
/// that lost the race for every row it looked at comes back empty while work remains.
pub async fn drain_beside_others(db: &DatabaseConnection, mailer: &Mailer) -> usize {
    use outreach_mailer::outbox::status;
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
    let mut worked = 0;
    for _ in 0..500 {
        if deliver_once(db, mailer).await.unwrap() > 0 {
            worked += 1;
            tokio::task::yield_now().await;
            continue;
        }
        let open = outbox::Entity::find()
            .filter(outbox::Column::Status.is_in([status::QUEUED, status::SENDING]))
            .count(db)
            .await
            .unwrap();
        if open == 0 {
            return worked;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the outbox did not drain in 500 rounds");
}

pub async fn row(db: &DatabaseConnection, id: Uuid) -> outbox::Model {
    outbox::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

/// A meeting planned through core, as the scheduler would describe it.
pub async fn plan_meeting(db: &DatabaseConnection, at: &str) -> MeetingView {
    let tx = outreach_core::db::begin(db).await.unwrap();
    let v = meetings::schedule_in(
        &tx,
        &actor(),
        &MeetingInput {
            state: "NPL".into(),
            title: "Accession briefing at the Ministry".into(),
            at: at.into(),
            tz: None,
            duration: Some("90m".into()),
            place: Some("Singha Durbar, Kathmandu".into()),
            with: vec![],
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    v
}

pub fn info(m: &MeetingView) -> MeetingInfo {
    MeetingInfo {
        id: m.id,
        version: m.version,
        title: m.title.clone(),
        iso3: m.iso3.clone(),
        state: m.state.clone(),
        starts_at: m.starts_at,
        time_zone: m.time_zone.clone(),
        duration_minutes: m.duration_minutes,
        place: m.place.clone(),
        status: m.status.clone(),
        owner: m.owner.clone(),
        participants: m.participants.clone(),
    }
}

pub fn recipient(email: &str, zone: &str, language: &str) -> Recipient {
    Recipient {
        name: "Amélie Durand".into(),
        email: email.into(),
        time_zone: zone.into(),
        language: language.into(),
    }
}

/// The parts of a received message.
#[derive(Debug)]
pub struct Parsed {
    pub subject: String,
    pub message_id: String,
    pub to: String,
    pub text: String,
    pub html: String,
    /// (content type with parameters, body) of the text/calendar part.
    pub calendar: Option<(String, String)>,
}

pub fn parse(data: &str) -> Parsed {
    let mail = mailparse::parse_mail(data.as_bytes()).unwrap();
    let header = |name: &str| {
        mail.headers
            .iter()
            .find(|h| h.get_key().eq_ignore_ascii_case(name))
            .map(mailparse::MailHeader::get_value)
            .unwrap_or_default()
    };
    let mut parsed = Parsed {
        subject: header("Subject"),
        message_id: header("Message-ID"),
        to: header("To"),
        text: String::new(),
        html: String::new(),
        calendar: None,
    };
    fn walk(part: &mailparse::ParsedMail<'_>, out: &mut Parsed) {
        if part.subparts.is_empty() {
            let body = part.get_body().unwrap();
            match part.ctype.mimetype.as_str() {
                "text/plain" => out.text = body,
                "text/html" => out.html = body,
                "text/calendar" => {
                    let method = part.ctype.params.get("method").cloned().unwrap_or_default();
                    out.calendar = Some((format!("text/calendar; method={method}"), body));
                }
                _ => {}
            }
        }
        for sub in &part.subparts {
            walk(sub, out);
        }
    }
    walk(&mail, &mut parsed);
    parsed
}

/// A property of the first VEVENT of an iCalendar text, parsed with the icalendar crate.
pub fn event_prop(ics: &str, name: &str) -> Option<String> {
    let unfolded = icalendar::parser::unfold(ics);
    let cal = icalendar::parser::read_calendar(&unfolded).unwrap();
    let event = cal.components.iter().find(|c| c.name == "VEVENT")?;
    event.find_prop(name).map(|p| p.val.as_str().to_owned())
}

/// A property of the VCALENDAR itself.
pub fn calendar_prop(ics: &str, name: &str) -> Option<String> {
    let unfolded = icalendar::parser::unfold(ics);
    let cal = icalendar::parser::read_calendar(&unfolded).unwrap();
    cal.properties
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.val.as_str().to_owned())
}

pub const WAIT: Duration = Duration::from_secs(5);

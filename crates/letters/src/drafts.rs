//! Drafts and their lifecycle: draft -> in_review -> approved -> sent | exported. Every edit
//! keeps a new version with its author; approval records who approved which version; only an
//! approved (or exported) letter can be marked sent. Each command is one transaction with its
//! audit record.

use crate::settings::LetterSettings;
use chrono::{DateTime, Utc};
use outreach_core::actor::{Actor, ensure_user};
use outreach_core::{audit, ids};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::context::Sender;
use crate::entities::{letter, letter_version};
use crate::error::Result;
use crate::merge::{self, Records, To};
use crate::templates::LetterTemplates;

/// Where a letter stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LetterStatus {
    Draft,
    InReview,
    Approved,
    Sent,
    Exported,
}

impl LetterStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::InReview => "in_review",
            Self::Approved => "approved",
            Self::Sent => "sent",
            Self::Exported => "exported",
        }
    }

    /// # Errors
    /// [`outreach_core::Error::Invalid`] naming `field` and the statuses.
    pub fn parse(field: &str, given: &str) -> outreach_core::Result<Self> {
        match given.trim().to_lowercase().replace('-', "_").as_str() {
            "draft" => Ok(Self::Draft),
            "in_review" | "review" => Ok(Self::InReview),
            "approved" => Ok(Self::Approved),
            "sent" => Ok(Self::Sent),
            "exported" => Ok(Self::Exported),
            _ => Err(outreach_core::Error::invalid(
                field,
                format!(
                    "'{given}' is not a letter status; use draft, in-review, approved, sent or exported"
                ),
            )),
        }
    }
}

/// What drafting needs besides the database: the checked templates, the sender and letterhead,
/// and the treaty whose status letters cite.
#[derive(Debug)]
pub struct Letters {
    pub templates: LetterTemplates,
    pub settings: LetterSettings,
    pub treaty: String,
}

impl Letters {
    /// Loads the templates from `settings.templates_dir` (or the built-in ones).
    ///
    /// # Errors
    /// [`crate::Error::Templates`] when a template is broken.
    pub fn load(settings: &LetterSettings, treaty: &str) -> Result<Self> {
        Ok(Self {
            templates: LetterTemplates::load(std::path::Path::new(&settings.templates_dir))?,
            settings: settings.clone(),
            treaty: treaty.to_owned(),
        })
    }

    /// The signatory: the configured one, else the acting user's name.
    pub(crate) async fn sender<C: ConnectionTrait>(&self, db: &C, actor: &Actor) -> Result<Sender> {
        let user = ensure_user(db, &actor.handle, actor.zone).await?;
        let s = &self.settings;
        Ok(Sender {
            name: if s.sender_name.trim().is_empty() {
                user.name
            } else {
                s.sender_name.clone()
            },
            title: s.sender_title.clone(),
            organisation: s.organisation.clone(),
            place: s.place.clone(),
            email: s.email.clone(),
        })
    }
}

/// One version of a letter.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VersionView {
    pub version: i32,
    pub author: String,
    pub note: String,
    pub created_at: DateTime<Utc>,
    pub subject: String,
    pub body: String,
}

/// A letter as people read it, with its current text and (in `show`) every version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LetterView {
    pub id: Uuid,
    pub short_id: String,
    pub template: String,
    pub language: String,
    pub iso3: String,
    pub state: String,
    pub recipient: String,
    pub recipient_organisation: Option<String>,
    pub status: String,
    pub version: i32,
    pub subject: String,
    pub body: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub approved_version: Option<i32>,
    pub sent_at: Option<DateTime<Utc>>,
    pub exported_at: Option<DateTime<Utc>>,
    pub batch_id: Option<Uuid>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Oldest first; empty in listings.
    pub versions: Vec<VersionView>,
}

/// What to draft.
#[derive(Debug, Clone, Default)]
pub struct DraftRequest {
    pub template: String,
    /// ISO3 code or name.
    pub state: String,
    /// Contact by email, name or id; the template's default recipient when absent.
    pub to: Option<String>,
    /// en, fr or es; the recipient's language when absent.
    pub lang: Option<String>,
    /// The signal the letter answers, by its id or the end of it: the policy step or
    /// condemnation a `thanks` letter thanks for, the reported use a `call_to_speak_out`
    /// responds to. Other templates take none.
    pub signal: Option<String>,
}

/// Renders and writes one draft inside the caller's transaction: the letter row, version 1 and
/// the audit record.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn draft_in<C: ConnectionTrait>(
    tx: &C,
    actor: &Actor,
    letters: &Letters,
    records: &Records,
    sender: &Sender,
    template: &str,
    iso3: &str,
    to: Option<&To>,
    lang: Option<&str>,
    batch_id: Option<Uuid>,
) -> Result<letter::Model> {
    let info = letters.templates.get(template)?;
    let lang = merge::choose_language(lang, to, &records.names.languages(iso3))?;
    let mut ctx = merge::build(records, &info.name, iso3, to, lang, sender, &info.required)?;
    let (subject, body) = letters
        .templates
        .render(&info.name, lang.code(), &mut ctx)?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    let recipient = &ctx.common().recipient;
    let model = letter::ActiveModel {
        id: Set(id),
        template: Set(info.name.clone()),
        language: Set(lang.code().to_owned()),
        iso3: Set(iso3.to_owned()),
        recipient_contact_id: Set(to.and_then(|t| t.contact_id)),
        recipient_name: Set(recipient.name.clone()),
        recipient_organisation: Set(recipient.organisation.clone()),
        status: Set(LetterStatus::Draft.as_str().to_owned()),
        current_version: Set(1),
        batch_id: Set(batch_id),
        approved_by: Set(None),
        approved_at: Set(None),
        approved_version: Set(None),
        sent_at: Set(None),
        exported_at: Set(None),
        created_by: Set(actor.handle.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(tx)
    .await?;
    letter_version::ActiveModel {
        id: Set(Uuid::now_v7()),
        letter_id: Set(id),
        version: Set(1),
        subject: Set(subject),
        body: Set(body),
        author: Set(actor.handle.clone()),
        note: Set(format!("drafted from {}", info.name)),
        created_at: Set(now),
    }
    .insert(tx)
    .await?;
    audit::record(
        tx,
        &actor.handle,
        "letter.draft",
        "letter",
        &id.to_string(),
        json!({
            "template": info.name, "language": lang.code(), "iso3": iso3,
            "recipient": model.recipient_name, "batch_id": batch_id,
        }),
    )
    .await?;
    Ok(model)
}

/// Drafts one letter.
///
/// # Errors
/// [`outreach_core::Error::UnknownState`], an unknown template, contact or language, or
/// [`crate::Error::MissingFields`] listing everything the records lack; nothing is written then.
pub async fn draft(
    db: &DatabaseConnection,
    actor: &Actor,
    letters: &Letters,
    req: &DraftRequest,
) -> Result<LetterView> {
    let info = letters.templates.get(&req.template)?;
    let tx = outreach_core::db::begin(db).await?;
    let st = outreach_core::states::resolve(&tx, &req.state).await?;
    let sender = letters.sender(&tx, actor).await?;
    let mut records = Records::load(&tx, &letters.treaty, actor.today()).await?;
    if let Some(given) = req
        .signal
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let signal = outreach_core::signals::find(&tx, given).await?;
        records = records.serving(&info.name, signal)?;
    }
    let to = match &req.to {
        Some(given) => {
            let c = outreach_core::directory::resolve_contact(&tx, given).await?;
            Some(To::contact(&records, &c))
        }
        None => merge::default_recipient(&records, &info.name, &st.iso3),
    };
    let model = draft_in(
        &tx,
        actor,
        letters,
        &records,
        &sender,
        &info.name,
        &st.iso3,
        to.as_ref(),
        req.lang.as_deref(),
        None,
    )
    .await?;
    let view = view_of(&tx, model, true).await?;
    tx.commit().await?;
    Ok(view)
}

async fn find<C: ConnectionTrait>(db: &C, given: &str) -> Result<letter::Model> {
    let found = ids::candidates::<letter::Entity, _>(db, given).await?;
    let id = ids::pick("letter", given, found)?;
    letter::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| outreach_core::Error::not_found("letter", given, "").into())
}

async fn view_of<C: ConnectionTrait>(
    db: &C,
    l: letter::Model,
    with_versions: bool,
) -> Result<LetterView> {
    let versions = letter_version::Entity::find()
        .filter(letter_version::Column::LetterId.eq(l.id))
        .order_by_asc(letter_version::Column::Version)
        .all(db)
        .await?;
    let current = versions
        .iter()
        .find(|v| v.version == l.current_version)
        .cloned();
    let state = outreach_core::entities::state::Entity::find_by_id(l.iso3.clone())
        .one(db)
        .await?
        .map_or_else(|| l.iso3.clone(), |s| s.name);
    Ok(LetterView {
        short_id: ids::short(l.id),
        id: l.id,
        template: l.template,
        language: l.language,
        iso3: l.iso3,
        state,
        recipient: l.recipient_name,
        recipient_organisation: l.recipient_organisation,
        status: l.status,
        version: l.current_version,
        subject: current
            .as_ref()
            .map(|v| v.subject.clone())
            .unwrap_or_default(),
        body: current.map(|v| v.body).unwrap_or_default(),
        approved_by: l.approved_by,
        approved_at: l.approved_at,
        approved_version: l.approved_version,
        sent_at: l.sent_at,
        exported_at: l.exported_at,
        batch_id: l.batch_id,
        created_by: l.created_by,
        created_at: l.created_at,
        updated_at: l.updated_at,
        versions: if with_versions {
            versions
                .into_iter()
                .map(|v| VersionView {
                    version: v.version,
                    author: v.author,
                    note: v.note,
                    created_at: v.created_at,
                    subject: v.subject,
                    body: v.body,
                })
                .collect()
        } else {
            Vec::new()
        },
    })
}

/// One letter with its current text and every version.
///
/// # Errors
/// [`outreach_core::Error::NotFound`] or [`outreach_core::Error::Ambiguous`] for the id.
pub async fn show<C: ConnectionTrait>(db: &C, id: &str) -> Result<LetterView> {
    let l = find(db, id).await?;
    view_of(db, l, true).await
}

/// Letters, newest first, optionally of one status.
///
/// # Errors
/// [`outreach_core::Error::Invalid`] for an unknown status; database errors.
pub async fn list<C: ConnectionTrait>(db: &C, status: Option<&str>) -> Result<Vec<LetterView>> {
    let mut q = letter::Entity::find().order_by_desc(letter::Column::Id);
    if let Some(s) = status {
        q = q.filter(letter::Column::Status.eq(LetterStatus::parse("--status", s)?.as_str()));
    }
    let mut out = Vec::new();
    for l in q.all(db).await? {
        out.push(view_of(db, l, false).await?);
    }
    Ok(out)
}

/// A new version of the text, by `actor`. A letter in review or approved goes back to draft
/// (an approval is of one version); a sent or exported letter cannot change.
///
/// # Errors
/// [`outreach_core::Error::Invalid`] for an empty body, [`outreach_core::Error::Conflict`] for a
/// sent or exported letter.
pub async fn edit(
    db: &DatabaseConnection,
    actor: &Actor,
    id: &str,
    subject: Option<&str>,
    body: &str,
    note: Option<&str>,
) -> Result<LetterView> {
    // Control characters would make a malformed .docx; tabs and line breaks are the letter's.
    outreach_core::domain::check_controls("body", body, true)?;
    if let Some(sub) = subject {
        outreach_core::domain::check_controls("subject", sub, false)?;
    }
    if let Some(n) = note {
        outreach_core::domain::check_controls("note", n, false)?;
    }
    if body.trim().is_empty() {
        return Err(outreach_core::Error::invalid(
            "body",
            "the new text is empty; give the whole letter (`outreach letter show ID` prints the current one)",
        )
        .into());
    }
    let tx = outreach_core::db::begin(db).await?;
    ensure_user(&tx, &actor.handle, actor.zone).await?;
    let l = find(&tx, id).await?;
    let status = LetterStatus::parse("status", &l.status)?;
    if matches!(status, LetterStatus::Sent | LetterStatus::Exported) {
        return Err(outreach_core::Error::Conflict(format!(
            "letter {} is {}; a letter that left the office cannot be edited: draft a new one",
            ids::short(l.id),
            status.as_str()
        ))
        .into());
    }
    let current = letter_version::Entity::find()
        .filter(letter_version::Column::LetterId.eq(l.id))
        .filter(letter_version::Column::Version.eq(l.current_version))
        .one(&tx)
        .await?;
    let subject = subject
        .map(str::to_owned)
        .or_else(|| current.map(|v| v.subject))
        .unwrap_or_default();
    let version = l.current_version + 1;
    let now = Utc::now();
    letter_version::ActiveModel {
        id: Set(Uuid::now_v7()),
        letter_id: Set(l.id),
        version: Set(version),
        subject: Set(subject),
        body: Set(body.to_owned()),
        author: Set(actor.handle.clone()),
        note: Set(note.unwrap_or("edited").to_owned()),
        created_at: Set(now),
    }
    .insert(&tx)
    .await?;
    let mut am: letter::ActiveModel = l.clone().into();
    am.current_version = Set(version);
    am.status = Set(LetterStatus::Draft.as_str().to_owned());
    am.approved_by = Set(None);
    am.approved_at = Set(None);
    am.approved_version = Set(None);
    am.updated_at = Set(now);
    let updated = am.update(&tx).await?;
    audit::record(
        &tx,
        &actor.handle,
        "letter.edit",
        "letter",
        &l.id.to_string(),
        json!({ "version": version, "previous_status": status.as_str() }),
    )
    .await?;
    let view = view_of(&tx, updated, true).await?;
    tx.commit().await?;
    Ok(view)
}

/// Moves a letter from one of `from` to `to`, guarded so that two people acting at once cannot
/// both move it, and audits the move.
async fn transition(
    db: &DatabaseConnection,
    actor: &Actor,
    id: &str,
    from: &[LetterStatus],
    to: LetterStatus,
    refusal: &str,
) -> Result<LetterView> {
    transition_checked(db, actor, id, from, to, refusal, false).await
}

/// As [`transition`]; a move to approved also checks the actor's role and, with `four_eyes`,
/// that the actor did not write the version approved.
async fn transition_checked(
    db: &DatabaseConnection,
    actor: &Actor,
    id: &str,
    from: &[LetterStatus],
    to: LetterStatus,
    refusal: &str,
    four_eyes: bool,
) -> Result<LetterView> {
    let tx = outreach_core::db::begin(db).await?;
    ensure_user(&tx, &actor.handle, actor.zone).await?;
    let l = find(&tx, id).await?;
    if to == LetterStatus::Approved {
        outreach_core::actor::require_role(
            &tx,
            actor,
            outreach_core::domain::Role::Coordinator,
            "approve letters",
        )
        .await?;
        if four_eyes {
            let author = letter_version::Entity::find()
                .filter(letter_version::Column::LetterId.eq(l.id))
                .filter(letter_version::Column::Version.eq(l.current_version))
                .one(&tx)
                .await?
                .map(|v| v.author)
                .unwrap_or_default();
            if author == actor.handle {
                return Err(outreach_core::Error::Forbidden(format!(
                    "four eyes: {} wrote version {} of letter {}, so another coordinator or admin approves it",
                    actor.handle,
                    l.current_version,
                    ids::short(l.id)
                ))
                .into());
            }
        }
    }
    let status = LetterStatus::parse("status", &l.status)?;
    if !from.contains(&status) {
        return Err(outreach_core::Error::Conflict(format!(
            "letter {} is {}; {refusal}",
            ids::short(l.id),
            status.as_str().replace('_', " ")
        ))
        .into());
    }
    let now = Utc::now();
    let mut am: letter::ActiveModel = l.clone().into();
    am.status = Set(to.as_str().to_owned());
    am.updated_at = Set(now);
    match to {
        LetterStatus::Approved => {
            am.approved_by = Set(Some(actor.handle.clone()));
            am.approved_at = Set(Some(now));
            am.approved_version = Set(Some(l.current_version));
        }
        LetterStatus::Sent => am.sent_at = Set(Some(now)),
        LetterStatus::Exported => am.exported_at = Set(Some(now)),
        LetterStatus::Draft | LetterStatus::InReview => {}
    }
    let done = letter::Entity::update_many()
        .set(am)
        .filter(letter::Column::Id.eq(l.id))
        .filter(letter::Column::Status.eq(status.as_str()))
        .exec(&tx)
        .await?;
    if done.rows_affected != 1 {
        return Err(outreach_core::Error::Conflict(format!(
            "letter {} changed while this command ran; look at it again with `outreach letter show`",
            ids::short(l.id)
        ))
        .into());
    }
    if to == LetterStatus::Sent {
        // A letter that left the office is an engagement with the state: it counts for "days
        // since the last engagement" and shows in the timeline.
        let subject = letter_version::Entity::find()
            .filter(letter_version::Column::LetterId.eq(l.id))
            .filter(letter_version::Column::Version.eq(l.current_version))
            .one(&tx)
            .await?
            .map(|v| v.subject)
            .unwrap_or_default();
        outreach_core::engagements::log_in(
            &tx,
            actor,
            &outreach_core::engagements::EngagementInput {
                state: l.iso3.clone(),
                kind: "letter".into(),
                date: None,
                summary: Some(format!(
                    "Letter sent to {}: {subject} (letter {})",
                    l.recipient_name,
                    ids::short(l.id)
                )),
                with: l
                    .recipient_contact_id
                    .map(|c| vec![c.to_string()])
                    .unwrap_or_default(),
                ..Default::default()
            },
        )
        .await?;
    }
    audit::record(
        &tx,
        &actor.handle,
        &format!("letter.{}", to.as_str()),
        "letter",
        &l.id.to_string(),
        json!({ "from": status.as_str(), "version": l.current_version }),
    )
    .await?;
    let l = find(&tx, &l.id.to_string()).await?;
    let view = view_of(&tx, l, true).await?;
    tx.commit().await?;
    Ok(view)
}

/// Submits a draft for review.
///
/// # Errors
/// [`outreach_core::Error::Conflict`] unless the letter is a draft.
pub async fn submit(db: &DatabaseConnection, actor: &Actor, id: &str) -> Result<LetterView> {
    transition(
        db,
        actor,
        id,
        &[LetterStatus::Draft],
        LetterStatus::InReview,
        "only a draft can be submitted for review",
    )
    .await
}

/// Approves the current version of a letter in review, recording who approved it. Only a
/// coordinator or an admin may; with `four_eyes` (`letters.four_eyes`, on by default) never the
/// author of the version approved.
///
/// # Errors
/// [`outreach_core::Error::Forbidden`] for staff or the version's author,
/// [`outreach_core::Error::Conflict`] unless the letter is in review.
pub async fn approve(
    db: &DatabaseConnection,
    actor: &Actor,
    id: &str,
    four_eyes: bool,
) -> Result<LetterView> {
    transition_checked(
        db,
        actor,
        id,
        &[LetterStatus::InReview],
        LetterStatus::Approved,
        "only a letter in review can be approved: run `outreach letter submit ID` first",
        four_eyes,
    )
    .await
}

/// Marks an approved (or exported) letter sent, and logs an engagement of kind `letter` with the
/// state (and the recipient, if a contact) in the same transaction.
///
/// # Errors
/// [`outreach_core::Error::Conflict`] unless the letter is approved or exported.
pub async fn mark_sent(db: &DatabaseConnection, actor: &Actor, id: &str) -> Result<LetterView> {
    transition(
        db,
        actor,
        id,
        &[LetterStatus::Approved, LetterStatus::Exported],
        LetterStatus::Sent,
        "only an approved letter can be marked sent: run `outreach letter submit ID`, then \
         `outreach letter approve ID`",
    )
    .await
}

/// Marks an approved letter exported; other statuses keep theirs (an export of a draft is a
/// preview). Audited either way, in one transaction.
///
/// # Errors
/// Database errors; the id errors of [`show`].
pub async fn record_export(
    db: &DatabaseConnection,
    actor: &Actor,
    id: &str,
    format: &str,
) -> Result<LetterView> {
    let tx = outreach_core::db::begin(db).await?;
    ensure_user(&tx, &actor.handle, actor.zone).await?;
    let l = find(&tx, id).await?;
    let approved = l.status == LetterStatus::Approved.as_str();
    let now = Utc::now();
    if approved {
        let mut am: letter::ActiveModel = l.clone().into();
        am.status = Set(LetterStatus::Exported.as_str().to_owned());
        am.exported_at = Set(Some(now));
        am.updated_at = Set(now);
        am.update(&tx).await?;
    }
    audit::record(
        &tx,
        &actor.handle,
        "letter.export",
        "letter",
        &l.id.to_string(),
        json!({ "format": format, "version": l.current_version, "status": l.status, "marked_exported": approved }),
    )
    .await?;
    let l = find(&tx, &l.id.to_string()).await?;
    let view = view_of(&tx, l, true).await?;
    tx.commit().await?;
    Ok(view)
}

//! The reminder ledger: for a meeting (or any subject), every reminder planned, superseded,
//! cancelled, sent or failed, with the reason, joining each job to the email it queued.

use crate::entities::job;
use chrono::{DateTime, Utc};
use outreach_mailer::entities::outbox;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use uuid::Uuid;

use crate::error::Result;

/// One reminder and what became of it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LedgerLine {
    pub job_id: Uuid,
    pub kind: String,
    pub rule: Option<String>,
    pub recipient: Option<String>,
    /// The recipient's IANA zone, when the job names one (reminders do).
    pub time_zone: Option<String>,
    pub run_at: DateTime<Utc>,
    /// planned, superseded, cancelled, sent, failed, queued for delivery...
    pub state: String,
    /// Why it failed, when it did.
    pub reason: Option<String>,
    pub attempts: i32,
}

/// The ledger of everything planned about one subject, in planned order.
///
/// # Errors
/// Database errors.
pub async fn for_subject<C: ConnectionTrait>(
    db: &C,
    subject_kind: &str,
    subject_id: &str,
) -> Result<Vec<LedgerLine>> {
    let jobs = job::Entity::find()
        .filter(job::Column::SubjectKind.eq(subject_kind))
        .filter(job::Column::SubjectId.eq(subject_id))
        .order_by_asc(job::Column::RunAt)
        .order_by_asc(job::Column::Id)
        .all(db)
        .await?;
    let mails = outbox::Entity::find()
        .filter(outbox::Column::SubjectKind.eq(subject_kind))
        .filter(outbox::Column::SubjectId.eq(subject_id))
        .all(db)
        .await?;
    let mut out = Vec::new();
    for j in jobs {
        let mail = mails
            .iter()
            .find(|m| m.idempotency_key == j.idempotency_key);
        let (state, reason) = match (j.status.as_str(), mail) {
            ("queued", _) => ("planned".to_owned(), j.last_error.clone()),
            ("running", _) => ("running".to_owned(), None),
            ("done", Some(m)) => match m.status.as_str() {
                "sent" => ("sent".to_owned(), None),
                "failed" => (
                    "failed".to_owned(),
                    m.last_error.clone().or_else(|| m.smtp_reply.clone()),
                ),
                other => (format!("{other} for delivery"), m.last_error.clone()),
            },
            ("done", None) => ("done".to_owned(), None),
            (other, _) => (other.to_owned(), j.last_error.clone()),
        };
        let time_zone = serde_json::from_str::<serde_json::Value>(&j.payload)
            .ok()
            .and_then(|p| p["recipient"]["time_zone"].as_str().map(str::to_owned));
        out.push(LedgerLine {
            job_id: j.id,
            kind: j.kind,
            rule: j.rule,
            recipient: j.recipient,
            time_zone,
            run_at: j.run_at,
            state,
            reason,
            attempts: j.attempts,
        });
    }
    // Messages queued directly (cancellation notices) appear too.
    for m in mails {
        if m.job_id.is_none() {
            out.push(LedgerLine {
                job_id: m.id,
                kind: m.template.clone(),
                rule: None,
                recipient: Some(m.recipient_email.clone()),
                time_zone: None,
                run_at: m.next_attempt_at,
                state: m.status.clone(),
                reason: m.last_error.clone(),
                attempts: m.attempts,
            });
        }
    }
    Ok(out)
}

//! Who may read what. An engagement's summary, outcome and stance, and the text of the
//! follow-ups made from it, are readable by a [`Reader`] according to its sensitivity: `public`
//! and `internal` by every staff member, `restricted` only by staff members an admin cleared.
//! Everyone else sees that a restricted note exists (kind, date, who) and nothing of what it says.
//! Every read of restricted text by a cleared reader is written to the audit log.
//!
//! Letters cite only `public` engagements, and no email, digest, export or calendar feed carries
//! restricted text: those channels read through [`Reader::outside`], which is never cleared.

use std::collections::HashSet;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::domain::Sensitivity;
use crate::entities::engagement;
use crate::error::Result;

/// What a withheld engagement's summary reads.
pub const WITHHELD_SUMMARY: &str =
    "Restricted note: only staff cleared for restricted notes can read it.";
/// What a withheld follow-up's description reads.
pub const WITHHELD_FOLLOW_UP: &str =
    "Restricted follow-up: only staff cleared for restricted notes can read it.";

/// The person (or channel) reading records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    /// The staff member's handle; `None` for a channel that leaves outreach (letters, email,
    /// exports, the calendar feed).
    pub handle: Option<String>,
    /// Cleared for restricted notes (by an admin, on an enabled account).
    pub cleared: bool,
}

impl Reader {
    /// The staff member `handle` as the database knows them: cleared only if an admin cleared
    /// the account and it is not disabled. An unknown handle is not cleared.
    ///
    /// # Errors
    /// Database errors.
    pub async fn of<C: ConnectionTrait>(db: &C, handle: &str) -> Result<Self> {
        let cleared = crate::actor::find_user(db, handle)
            .await?
            .is_some_and(|u| u.cleared && u.disabled_at.is_none());
        Ok(Self {
            handle: Some(handle.to_owned()),
            cleared,
        })
    }

    /// A channel that leaves outreach: never cleared.
    pub fn outside() -> Self {
        Self {
            handle: None,
            cleared: false,
        }
    }

    /// Whether this reader may read text of `sensitivity` (as stored).
    pub fn may_read(&self, sensitivity: &str) -> bool {
        sensitivity != Sensitivity::Restricted.as_str() || self.cleared
    }
}

/// Writes one audit record naming the restricted engagements (and follow-ups) `reader` was shown,
/// when there are any and the reader is a person.
///
/// # Errors
/// Database errors.
pub(crate) async fn record_reads<C: ConnectionTrait>(
    db: &C,
    reader: &Reader,
    engagements: &[Uuid],
    follow_ups: &[Uuid],
) -> Result<()> {
    let Some(handle) = reader.handle.as_deref() else {
        return Ok(());
    };
    if engagements.is_empty() && follow_ups.is_empty() {
        return Ok(());
    }
    let first = engagements.first().or(follow_ups.first());
    crate::audit::record(
        db,
        handle,
        "restricted.read",
        if engagements.is_empty() {
            "follow_up"
        } else {
            "engagement"
        },
        &first.map(Uuid::to_string).unwrap_or_default(),
        serde_json::json!({ "engagements": engagements, "follow_ups": follow_ups }),
    )
    .await
}

/// Which of the engagements `ids` are restricted.
///
/// # Errors
/// Database errors.
pub(crate) async fn restricted_among<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> Result<HashSet<Uuid>> {
    let mut out = HashSet::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<Uuid> = engagement::Entity::find()
            .select_only()
            .column(engagement::Column::Id)
            .filter(engagement::Column::Id.is_in(chunk.iter().copied()))
            .filter(engagement::Column::Sensitivity.eq(Sensitivity::Restricted.as_str()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Whether the engagement `id` (if any) is restricted: what a follow-up made from it inherits.
///
/// # Errors
/// Database errors.
pub async fn is_restricted<C: ConnectionTrait>(
    db: &C,
    engagement_id: Option<Uuid>,
) -> Result<bool> {
    let Some(id) = engagement_id else {
        return Ok(false);
    };
    Ok(!restricted_among(db, &[id]).await?.is_empty())
}

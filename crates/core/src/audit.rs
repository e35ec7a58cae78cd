//! The audit log: every write says who did what, when, to which record (DESIGN invariant 8).
//! Callers write the audit record in the same transaction as the change it describes.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::entities::audit_log;
use crate::error::Result;

/// Appends one audit record.
///
/// # Errors
/// Database errors.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: serde_json::Value,
) -> Result<()> {
    audit_log::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        at: Set(Utc::now()),
        actor: Set(actor.to_owned()),
        action: Set(action.to_owned()),
        entity: Set(entity.to_owned()),
        entity_id: Set(entity_id.to_owned()),
        detail: Set(detail.to_string()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The most recent audit records, newest first.
///
/// # Errors
/// Database errors.
pub async fn recent<C: ConnectionTrait>(db: &C, limit: u64) -> Result<Vec<audit_log::Model>> {
    Ok(audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// One page of the audit log, newest first, of one actor and/or one action when given, and the
/// number of records that match.
///
/// # Errors
/// Database errors.
pub async fn search<C: ConnectionTrait>(
    db: &C,
    actor: Option<&str>,
    action: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<(Vec<audit_log::Model>, u64)> {
    let mut q = audit_log::Entity::find();
    if let Some(a) = actor.map(str::trim).filter(|a| !a.is_empty()) {
        q = q.filter(audit_log::Column::Actor.eq(a));
    }
    if let Some(a) = action.map(str::trim).filter(|a| !a.is_empty()) {
        q = q.filter(audit_log::Column::Action.eq(a));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(audit_log::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// [`recent`] for a reader: admins only, once an admin exists.
///
/// # Errors
/// [`crate::Error::Forbidden`] for anyone else; database errors.
pub async fn recent_for<C: ConnectionTrait>(
    db: &C,
    reader: &crate::Actor,
    limit: u64,
) -> Result<Vec<audit_log::Model>> {
    crate::actor::require_admin_once_set_up(db, reader, "read the audit log").await?;
    recent(db, limit).await
}

/// [`search`] for a reader: admins only, once an admin exists.
///
/// # Errors
/// [`crate::Error::Forbidden`] for anyone else; database errors.
pub async fn search_for<C: ConnectionTrait>(
    db: &C,
    reader: &crate::Actor,
    actor: Option<&str>,
    action: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<(Vec<audit_log::Model>, u64)> {
    crate::actor::require_admin_once_set_up(db, reader, "read the audit log").await?;
    search(db, actor, action, offset, limit).await
}

/// An audit record as the API shows it: the change (`detail`) as the JSON object it was recorded
/// as (or its text, for a record written before details were JSON).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: uuid::Uuid,
    pub at: chrono::DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub detail: serde_json::Value,
}

impl From<audit_log::Model> for AuditEntry {
    fn from(r: audit_log::Model) -> Self {
        let detail = serde_json::from_str::<serde_json::Value>(&r.detail)
            .unwrap_or(serde_json::Value::String(r.detail));
        Self {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            detail,
        }
    }
}

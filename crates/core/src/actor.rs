//! Who is acting: every command runs on behalf of a staff member, whose handle goes into the
//! audit log and whose zone is used for "today" and for showing times.

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use crate::domain::{IanaZone, Role};
use crate::entities::user;
use crate::error::{Error, Result};

/// The person on whose behalf a command runs.
#[derive(Debug, Clone)]
pub struct Actor {
    pub handle: String,
    pub zone: IanaZone,
}

impl Actor {
    /// # Errors
    /// [`Error::Invalid`] when the handle is empty or has spaces.
    pub fn new(handle: &str, zone: IanaZone) -> Result<Self> {
        let handle = handle.trim();
        if handle.is_empty() || handle.chars().any(char::is_whitespace) || handle.len() > 64 {
            return Err(Error::invalid(
                "user",
                format!("'{handle}' is not a usable handle; use one word such as 'maria'"),
            ));
        }
        Ok(Self {
            handle: handle.to_owned(),
            zone,
        })
    }

    /// Today's date in the actor's zone.
    pub fn today(&self) -> NaiveDate {
        self.zone.local(Utc::now()).date_naive()
    }
}

/// The user row for `handle`, created (role staff, the given zone) on first use.
///
/// # Errors
/// Database errors.
pub async fn ensure_user<C: ConnectionTrait>(
    db: &C,
    handle: &str,
    zone: IanaZone,
) -> Result<user::Model> {
    if let Some(u) = find_user(db, handle).await? {
        return Ok(u);
    }
    let model = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        handle: Set(handle.to_owned()),
        name: Set(handle.to_owned()),
        email: Set(None),
        time_zone: Set(zone.name().to_owned()),
        role: Set(Role::Staff.as_str().to_owned()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    crate::audit::record(
        db,
        handle,
        "user.create",
        "user",
        &model.id.to_string(),
        serde_json::json!({ "handle": handle, "time_zone": zone.name(), "implicit": true }),
    )
    .await?;
    Ok(model)
}

/// The user with this handle, if any.
///
/// # Errors
/// Database errors.
pub async fn find_user<C: ConnectionTrait>(db: &C, handle: &str) -> Result<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Handle.eq(handle.trim()))
        .one(db)
        .await?)
}

/// The user with this handle, or an error that says how to find the right one.
///
/// # Errors
/// [`Error::NotFound`] when no user has the handle.
pub async fn require_user<C: ConnectionTrait>(
    db: &C,
    field: &str,
    handle: &str,
) -> Result<user::Model> {
    find_user(db, handle).await?.ok_or_else(|| {
        Error::not_found(
            "staff member",
            handle,
            format!(" (given as {field}); `outreach users` lists staff handles"),
        )
    })
}

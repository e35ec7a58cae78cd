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
        password_hash: Set(None),
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

/// A staff member as an administrator adds them.
#[derive(Debug, Clone, Default)]
pub struct UserInput {
    pub handle: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub time_zone: Option<String>,
    pub role: Option<String>,
}

/// Adds a staff member, or updates the name, email, zone and role of an existing handle.
///
/// # Errors
/// [`Error::Invalid`] for a bad field; nothing is written then.
pub async fn upsert_user(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
    input: &UserInput,
) -> Result<user::Model> {
    use sea_orm::IntoActiveModel;
    let handle = Actor::new(&input.handle, actor.zone)?.handle;
    let email = match input
        .email
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(e) => Some(
            crate::domain::EmailAddress::parse("email", e)?
                .as_str()
                .to_lowercase(),
        ),
    };
    let zone = match input.time_zone.as_deref() {
        Some(z) => Some(IanaZone::parse("time_zone", z)?),
        None => None,
    };
    let role = match input.role.as_deref() {
        Some(r) => Some(Role::parse("role", r)?),
        None => None,
    };
    let name = crate::domain::optional_text("name", input.name.as_deref(), 200)?;
    let tx = crate::db::begin(db).await?;
    let model = match find_user(&tx, &handle).await? {
        Some(existing) => {
            let mut active = existing.into_active_model();
            if let Some(n) = name {
                active.name = Set(n);
            }
            if email.is_some() {
                active.email = Set(email);
            }
            if let Some(z) = zone {
                active.time_zone = Set(z.name().to_owned());
            }
            if let Some(r) = role {
                active.role = Set(r.as_str().to_owned());
            }
            active.update(&tx).await?
        }
        None => {
            user::ActiveModel {
                id: Set(Uuid::now_v7()),
                handle: Set(handle.clone()),
                name: Set(name.unwrap_or_else(|| handle.clone())),
                email: Set(email),
                time_zone: Set(zone.unwrap_or(actor.zone).name().to_owned()),
                role: Set(role.unwrap_or(Role::Staff).as_str().to_owned()),
                password_hash: Set(None),
                created_at: Set(Utc::now()),
            }
            .insert(&tx)
            .await?
        }
    };
    crate::audit::record(
        &tx,
        &actor.handle,
        "user.save",
        "user",
        &model.id.to_string(),
        serde_json::json!({
            "handle": model.handle, "email": model.email, "time_zone": model.time_zone, "role": model.role,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(model)
}

/// All staff members by handle.
///
/// # Errors
/// Database errors.
pub async fn users<C: ConnectionTrait>(db: &C) -> Result<Vec<user::Model>> {
    use sea_orm::QueryOrder;
    Ok(user::Entity::find()
        .order_by_asc(user::Column::Handle)
        .all(db)
        .await?)
}

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
        if handle.is_empty()
            || handle.chars().any(|c| c.is_whitespace() || c.is_control())
            || handle.len() > 64
        {
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
        cleared: Set(false),
        disabled_at: Set(None),
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

/// The user with this id.
///
/// # Errors
/// Database errors.
pub async fn user_by_id<C: ConnectionTrait>(db: &C, id: uuid::Uuid) -> Result<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id).one(db).await?)
}

/// Whether any account can sign in yet (has a password).
///
/// # Errors
/// Database errors.
pub async fn any_can_sign_in<C: ConnectionTrait>(db: &C) -> Result<bool> {
    use sea_orm::PaginatorTrait;
    Ok(user::Entity::find()
        .filter(user::Column::PasswordHash.is_not_null())
        .count(db)
        .await?
        > 0)
}

/// The users with these ids, by id, read by key (a thousand ids a query).
///
/// # Errors
/// Database errors.
pub async fn users_by_id<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = uuid::Uuid>,
) -> Result<std::collections::HashMap<uuid::Uuid, user::Model>> {
    let ids: Vec<uuid::Uuid> = ids.into_iter().collect();
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(1_000) {
        out.extend(
            user::Entity::find()
                .filter(user::Column::Id.is_in(chunk.to_vec()))
                .all(db)
                .await?
                .into_iter()
                .map(|u| (u.id, u)),
        );
    }
    Ok(out)
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
        Error::not_found("staff member", handle, format!(" (given as {field})"))
            .with_remedy(crate::Remedy::ListStaff)
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
    /// Cleared to read restricted engagements; unchanged when `None` (new users are not).
    pub cleared: Option<bool>,
}

/// Adds a staff member, or updates the name, email, zone, role and clearance of an existing
/// handle. Only an admin may, once an admin exists; anyone may change their own name, email and
/// zone.
///
/// # Errors
/// [`Error::Invalid`] for a bad field, [`Error::Forbidden`] for someone not allowed; nothing is
/// written then.
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
    // Admins manage accounts. Before the first admin exists anyone may (setting up), and
    // everyone may change their own name, email and zone.
    let own_details = handle == actor.handle && role.is_none() && input.cleared.is_none();
    if !own_details {
        require_admin_once_set_up(
            &tx,
            actor,
            "add staff members or change another's account, role or clearance",
        )
        .await?;
    }
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
            if let Some(c) = input.cleared {
                active.cleared = Set(c);
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
                cleared: Set(input.cleared.unwrap_or(false)),
                disabled_at: Set(None),
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
            "cleared": model.cleared,
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

/// As [`require_role`], for an acting handle.
///
/// # Errors
/// As [`require_role`].
pub async fn require_role_of<C: ConnectionTrait>(
    db: &C,
    handle: &str,
    role: Role,
    what: &str,
) -> Result<user::Model> {
    let actor = Actor::new(handle, IanaZone::UTC)?;
    require_role(db, &actor, role, what).await
}

/// Whether any enabled account is an admin (before the first one, anyone may set up accounts).
///
/// # Errors
/// Database errors.
pub async fn has_admin<C: ConnectionTrait>(db: &C) -> Result<bool> {
    use sea_orm::PaginatorTrait;
    Ok(user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .filter(user::Column::DisabledAt.is_null())
        .count(db)
        .await?
        > 0)
}

/// Requires an admin once one exists; before that (an installation being set up, or one person
/// using the CLI alone) anyone may.
///
/// # Errors
/// As [`require_role`].
pub async fn require_admin_once_set_up<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    what: &str,
) -> Result<()> {
    if has_admin(db).await? {
        require_role(db, actor, Role::Admin, what).await?;
    }
    Ok(())
}

/// The acting user's account, when it is enabled and its role is at least `role`; the library's
/// own role check, so the CLI, the pages and the API enforce the same rules. `what` says what was
/// tried ("disable accounts").
///
/// # Errors
/// [`Error::Forbidden`] naming the role needed and the actor's own.
pub async fn require_role<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    role: Role,
    what: &str,
) -> Result<user::Model> {
    let me = find_user(db, &actor.handle).await?;
    let mine = me
        .as_ref()
        .and_then(|u| Role::parse("role", &u.role).ok())
        .unwrap_or(Role::Staff);
    match me {
        Some(u) if u.disabled_at.is_none() && mine >= role => Ok(u),
        Some(u) if u.disabled_at.is_some() => Err(Error::Forbidden(format!(
            "the account of {} is disabled; it cannot {what}",
            actor.handle
        ))),
        _ => Err(Error::Forbidden(format!(
            "only {}s can {what}; {} is {} {}",
            role.as_str(),
            actor.handle,
            if mine == Role::Admin { "an" } else { "a" },
            mine.as_str()
        ))),
    }
}

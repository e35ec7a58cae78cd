//! Accounts and sessions: argon2 password hashes, session tokens whose SHA-256 is all the
//! database keeps, CSRF tokens per session, and a limit on failed sign-ins per handle.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::http::HeaderMap;
use chrono::Utc;
use outreach_core::entities::{session, user};
use outreach_core::{Actor, Error as CoreError};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter,
};
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "outreach_session";
pub const LOGIN_COOKIE: &str = "outreach_login";
pub const SESSION_HOURS: i64 = 12;
const MAX_FAILURES: u32 = 5;
const LOCKOUT: Duration = Duration::from_secs(15 * 60);
pub const MIN_PASSWORD: usize = 10;

/// 32 random bytes, hex.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a token, hex: what the database keeps instead of the token.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Compares two tokens in time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && !a.is_empty()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// Sets (or replaces) a staff member's password.
///
/// # Errors
/// [`CoreError::Invalid`] for a password shorter than 10 characters, [`CoreError::NotFound`]
/// for an unknown handle.
pub async fn set_password(
    db: &DatabaseConnection,
    actor: &Actor,
    handle: &str,
    password: &str,
) -> Result<(), CoreError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(CoreError::invalid(
            "password",
            format!("is shorter than {MIN_PASSWORD} characters; choose a longer one"),
        ));
    }
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| CoreError::invalid("password", format!("cannot be salted: {e}")))?;
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| CoreError::invalid("password", format!("cannot be hashed: {e}")))?
        .to_string();
    let tx = outreach_core::db::begin(db).await?;
    let u = outreach_core::actor::require_user(&tx, "handle", handle).await?;
    let id = u.id;
    let mut active = u.into_active_model();
    active.password_hash = Set(Some(hash));
    active.update(&tx).await?;
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(id))
        .exec(&tx)
        .await?;
    outreach_core::audit::record(
        &tx,
        &actor.handle,
        "user.password",
        "user",
        &id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The account whose handle and password these are, if they are right.
///
/// # Errors
/// Database errors.
pub async fn verify_password(
    db: &DatabaseConnection,
    handle: &str,
    password: &str,
) -> Result<Option<user::Model>, sea_orm::DbErr> {
    let Some(u) = user::Entity::find()
        .filter(user::Column::Handle.eq(handle))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(stored) = u.password_hash.as_deref() else {
        return Ok(None);
    };
    let ok = PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    Ok(ok.then_some(u))
}

/// Checks a handle and password; on success opens a session and returns its cookie token.
///
/// # Errors
/// Database errors.
pub async fn login(
    db: &DatabaseConnection,
    handle: &str,
    password: &str,
) -> Result<Option<String>, sea_orm::DbErr> {
    let Some(u) = verify_password(db, handle, password).await? else {
        return Ok(None);
    };
    let token = random_token();
    let now = Utc::now();
    let tx = outreach_core::db::begin(db).await?;
    session::ActiveModel {
        token_hash: Set(hash_token(&token)),
        user_id: Set(u.id),
        csrf_token: Set(random_token()),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::hours(SESSION_HOURS)),
    }
    .insert(&tx)
    .await?;
    outreach_core::audit::record(
        &tx,
        &u.handle,
        "session.login",
        "user",
        &u.id.to_string(),
        serde_json::json!({}),
    )
    .await
    .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    tx.commit().await?;
    Ok(Some(token))
}

/// The live session the request's cookie names.
pub async fn session(db: &DatabaseConnection, headers: &HeaderMap) -> Option<session::Model> {
    let token = cookie(headers, SESSION_COOKIE)?;
    let s = session::Entity::find_by_id(hash_token(&token))
        .one(db)
        .await
        .ok()??;
    (s.expires_at > Utc::now()).then_some(s)
}

/// Ends the request's session.
///
/// # Errors
/// Database errors.
pub async fn logout(db: &DatabaseConnection, headers: &HeaderMap) -> Result<(), sea_orm::DbErr> {
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        session::Entity::delete_by_id(hash_token(&token))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Failed sign-ins per handle: after 5 within 15 minutes, the handle waits out the 15 minutes.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    pub fn blocked(&self, handle: &str) -> bool {
        let map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(handle)
            .is_some_and(|(n, since)| *n >= MAX_FAILURES && since.elapsed() < LOCKOUT)
    }

    pub fn failed(&self, handle: &str) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = map.entry(handle.to_owned()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= LOCKOUT {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    pub fn succeeded(&self, handle: &str) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.remove(handle);
    }
}

/// Issues a token of `kind` ("api" or "calendar") named `name` for user `user_id`, recording it
/// in the audit log; returns the secret, which is shown once and never stored.
///
/// # Errors
/// Database errors.
pub async fn issue_token(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: uuid::Uuid,
    kind: &str,
    name: &str,
) -> Result<String, CoreError> {
    let tx = outreach_core::db::begin(db).await?;
    let secret = issue_token_in(&tx, actor, user_id, kind, name).await?;
    tx.commit().await?;
    Ok(secret)
}

/// As [`issue_token`], inside the caller's transaction.
async fn issue_token_in<C: ConnectionTrait>(
    tx: &C,
    actor: &Actor,
    user_id: uuid::Uuid,
    kind: &str,
    name: &str,
) -> Result<String, CoreError> {
    let secret = random_token();
    let hash = hash_token(&secret);
    outreach_core::entities::token::ActiveModel {
        token_hash: Set(hash.clone()),
        user_id: Set(user_id),
        kind: Set(kind.to_owned()),
        name: Set(name.to_owned()),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
    }
    .insert(tx)
    .await?;
    outreach_core::audit::record(
        tx,
        &actor.handle,
        &format!("token.{kind}.create"),
        "user",
        &user_id.to_string(),
        // The first 8 characters of the hash name the token in the log; the secret never appears.
        serde_json::json!({ "name": name, "token": &hash[..8] }),
    )
    .await?;
    Ok(secret)
}

/// Replaces the user's calendar feed URL: every old one is revoked and a new secret issued, in
/// one transaction (a failure leaves the old URL working). Returns how many were revoked and the
/// new secret.
///
/// # Errors
/// Database errors.
pub async fn reset_calendar(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: uuid::Uuid,
) -> Result<(usize, String), CoreError> {
    let tx = outreach_core::db::begin(db).await?;
    let revoked = revoke_tokens_in(&tx, actor, user_id, "calendar", None).await?;
    let secret = issue_token_in(&tx, actor, user_id, "calendar", "calendar").await?;
    tx.commit().await?;
    Ok((revoked, secret))
}

/// On a database where no account can sign in yet (a fresh install), makes the acting handle an
/// admin with a random 20-character password and returns that password, to be shown once.
/// Returns `None` when some account already has a password.
///
/// # Errors
/// Database errors, or an acting handle the accounts table refuses.
pub async fn first_admin(
    db: &DatabaseConnection,
    actor: &Actor,
) -> Result<Option<String>, CoreError> {
    use sea_orm::PaginatorTrait;
    let usable = user::Entity::find()
        .filter(user::Column::PasswordHash.is_not_null())
        .count(db)
        .await?;
    if usable > 0 {
        return Ok(None);
    }
    outreach_core::actor::upsert_user(
        db,
        actor,
        &outreach_core::actor::UserInput {
            handle: actor.handle.clone(),
            role: Some("admin".into()),
            ..Default::default()
        },
    )
    .await?;
    let password: String = random_token().chars().take(20).collect();
    set_password(db, actor, &actor.handle, &password).await?;
    Ok(Some(password))
}

/// A user's tokens of `kind`, newest first.
///
/// # Errors
/// Database errors.
pub async fn tokens_of(
    db: &DatabaseConnection,
    user_id: uuid::Uuid,
    kind: &str,
) -> Result<Vec<outreach_core::entities::token::Model>, sea_orm::DbErr> {
    use outreach_core::entities::token;
    use sea_orm::QueryOrder;
    token::Entity::find()
        .filter(token::Column::UserId.eq(user_id))
        .filter(token::Column::Kind.eq(kind))
        .order_by_desc(token::Column::CreatedAt)
        .all(db)
        .await
}

/// Revokes user `user_id`'s tokens of `kind`: the one whose hash starts with `prefix` (at least
/// 8 hex digits, as the account page shows them), or all of them when `prefix` is `None`. One
/// transaction with an audit record per token; returns how many were revoked.
///
/// # Errors
/// [`CoreError::NotFound`] when `prefix` names none of the user's tokens; database errors.
pub async fn revoke_tokens(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: uuid::Uuid,
    kind: &str,
    prefix: Option<&str>,
) -> Result<usize, CoreError> {
    let tx = outreach_core::db::begin(db).await?;
    let n = revoke_tokens_in(&tx, actor, user_id, kind, prefix).await?;
    tx.commit().await?;
    Ok(n)
}

/// As [`revoke_tokens`], inside the caller's transaction.
async fn revoke_tokens_in<C: ConnectionTrait>(
    tx: &C,
    actor: &Actor,
    user_id: uuid::Uuid,
    kind: &str,
    prefix: Option<&str>,
) -> Result<usize, CoreError> {
    use outreach_core::entities::token;
    let all = token::Entity::find()
        .filter(token::Column::UserId.eq(user_id))
        .filter(token::Column::Kind.eq(kind))
        .all(tx)
        .await?;
    let chosen: Vec<token::Model> = match prefix {
        None => all,
        Some(p) => {
            let p = p.trim().to_lowercase();
            let found: Vec<token::Model> = if p.len() >= 8 {
                all.into_iter()
                    .filter(|t| t.token_hash.starts_with(&p))
                    .collect()
            } else {
                Vec::new()
            };
            if found.is_empty() {
                return Err(CoreError::not_found(
                    "token",
                    p,
                    "; the account page lists your tokens",
                ));
            }
            found
        }
    };
    for t in &chosen {
        token::Entity::delete_by_id(t.token_hash.clone())
            .exec(tx)
            .await?;
        outreach_core::audit::record(
            tx,
            &actor.handle,
            &format!("token.{kind}.revoke"),
            "user",
            &user_id.to_string(),
            serde_json::json!({ "name": t.name, "token": &t.token_hash[..8] }),
        )
        .await?;
    }
    Ok(chosen.len())
}

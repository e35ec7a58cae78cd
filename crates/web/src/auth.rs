//! Accounts and sessions: argon2 password hashes, session tokens whose SHA-256 is all the
//! database keeps, CSRF tokens per session, and a limit on failed sign-ins per handle.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::entities::{session, token};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::http::HeaderMap;
use chrono::Utc;
use outreach_core::entities::user;
use outreach_core::{Actor, Error as CoreError};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter,
};
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "outreach_session";
pub const LOGIN_COOKIE: &str = "outreach_login";
pub const SESSION_HOURS: i64 = 12;
pub const MIN_PASSWORD: usize = 12;
/// The least zxcvbn score (0 to 4) a new password must reach.
pub const MIN_STRENGTH: u8 = 3;

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

/// Refuses a password shorter than 12 characters or one a strength checker (zxcvbn) rates
/// below 3 of 4, saying why and what would be better. `known` are words the account is known
/// by (handle, name, email), which make a password easy to guess.
///
/// # Errors
/// [`CoreError::Invalid`] naming `password`.
pub fn check_password(password: &str, known: &[&str]) -> Result<(), CoreError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(CoreError::invalid(
            "password",
            format!(
                "is shorter than {MIN_PASSWORD} characters; choose a longer one, such as four unrelated words"
            ),
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "password",
            "holds a control character; use letters, digits, spaces and punctuation",
        ));
    }
    let estimate = zxcvbn::zxcvbn(password, known);
    let score = u8::from(estimate.score());
    if score >= MIN_STRENGTH {
        return Ok(());
    }
    let mut why = Vec::new();
    if let Some(f) = estimate.feedback() {
        if let Some(w) = f.warning() {
            why.push(w.to_string());
        }
        why.extend(f.suggestions().iter().map(ToString::to_string));
    }
    if why.is_empty() {
        why.push("Add another word or two. Uncommon words are better.".to_owned());
    }
    Err(CoreError::invalid(
        "password",
        format!(
            "is too easy to guess (strength {score} of 4, at least {MIN_STRENGTH} needed): {}",
            why.join(" ")
        ),
    ))
}

/// What ending an account's access removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Ended {
    pub sessions: u64,
    pub tokens: u64,
}

/// Ends every session of `user_id` and revokes all its API tokens and calendar URLs.
async fn end_access_in<C: ConnectionTrait>(
    tx: &C,
    user_id: uuid::Uuid,
) -> Result<Ended, CoreError> {
    let sessions = session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(tx)
        .await?
        .rows_affected;
    let tokens = crate::entities::token::Entity::delete_many()
        .filter(crate::entities::token::Column::UserId.eq(user_id))
        .exec(tx)
        .await?
        .rows_affected;
    Ok(Ended { sessions, tokens })
}

/// Disables (or enables again) the account `handle`: a disabled account cannot sign in, gets no
/// reminders or digests, and loses its sessions, API tokens and calendar URLs in the same
/// transaction (enabling it again restores none of them). Only an admin may, and never on their
/// own account.
///
/// # Errors
/// [`CoreError::Forbidden`] unless the actor is an enabled admin, [`CoreError::NotFound`] for an
/// unknown handle, [`CoreError::Conflict`] for the actor's own account.
pub async fn set_disabled(
    db: &DatabaseConnection,
    actor: &Actor,
    handle: &str,
    disabled: bool,
) -> Result<(user::Model, Ended), CoreError> {
    let tx = outreach_core::db::begin(db).await?;
    outreach_core::actor::require_role(
        &tx,
        actor,
        outreach_core::domain::Role::Admin,
        if disabled {
            "disable accounts"
        } else {
            "enable accounts"
        },
    )
    .await?;
    let u = outreach_core::actor::require_user(&tx, "handle", handle).await?;
    if disabled && u.handle == actor.handle {
        return Err(CoreError::Conflict(format!(
            "{} cannot disable their own account; ask another admin",
            actor.handle
        )));
    }
    let id = u.id;
    let mut active = u.into_active_model();
    active.disabled_at = Set(disabled.then(Utc::now));
    let model = active.update(&tx).await?;
    let ended = if disabled {
        end_access_in(&tx, id).await?
    } else {
        Ended::default()
    };
    outreach_core::audit::record(
        &tx,
        &actor.handle,
        if disabled {
            "user.disable"
        } else {
            "user.enable"
        },
        "user",
        &id.to_string(),
        serde_json::json!({ "handle": model.handle, "sessions_ended": ended.sessions, "tokens_revoked": ended.tokens }),
    )
    .await?;
    tx.commit().await?;
    Ok((model, ended))
}

/// Sets (or replaces) a staff member's password and ends their sessions. When someone else (an
/// admin) sets it, the account's API tokens and calendar URLs are revoked too: a reset is what
/// an admin does when an account may be in the wrong hands.
///
/// # Errors
/// [`CoreError::Invalid`] for a password shorter than 12 characters or too easy to guess,
/// [`CoreError::NotFound`] for an unknown handle.
pub async fn set_password(
    db: &DatabaseConnection,
    actor: &Actor,
    handle: &str,
    password: &str,
) -> Result<(), CoreError> {
    let target = outreach_core::actor::require_user(db, "handle", handle).await?;
    let mut known = vec![target.handle.as_str(), target.name.as_str()];
    if let Some(e) = target.email.as_deref() {
        known.push(e);
    }
    check_password(password, &known)?;
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
    let by_someone_else = u.handle != actor.handle;
    let mut active = u.into_active_model();
    active.password_hash = Set(Some(hash));
    active.update(&tx).await?;
    let ended = if by_someone_else {
        end_access_in(&tx, id).await?
    } else {
        Ended {
            sessions: session::Entity::delete_many()
                .filter(session::Column::UserId.eq(id))
                .exec(&tx)
                .await?
                .rows_affected,
            tokens: 0,
        }
    };
    outreach_core::audit::record(
        &tx,
        &actor.handle,
        "user.password",
        "user",
        &id.to_string(),
        serde_json::json!({ "sessions_ended": ended.sessions, "tokens_revoked": ended.tokens }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An argon2 hash of a random password, made once: an unknown handle, an account without a
/// password and a disabled one are checked against it, so every sign-in takes as long as a real
/// one and the time does not tell which handles exist.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let salt_bytes: [u8; 16] = rand::random();
        SaltString::encode_b64(&salt_bytes)
            .ok()
            .and_then(|salt| {
                Argon2::default()
                    .hash_password(random_token().as_bytes(), &salt)
                    .ok()
                    .map(|h| h.to_string())
            })
            .unwrap_or_default()
    })
}

fn verifies(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The account whose handle and password these are, if they are right and the account is
/// enabled. Takes as long for an unknown handle as for a real one.
///
/// # Errors
/// Database errors.
pub async fn verify_password(
    db: &DatabaseConnection,
    handle: &str,
    password: &str,
) -> Result<Option<user::Model>, sea_orm::DbErr> {
    let found = outreach_core::actor::find_user(db, handle)
        .await
        .map_err(|e| match e {
            CoreError::Database(d) => d,
            other => sea_orm::DbErr::Custom(other.to_string()),
        })?;
    let usable = found
        .as_ref()
        .filter(|u| u.disabled_at.is_none())
        .and_then(|u| u.password_hash.as_deref());
    let password = password.to_owned();
    let stored = usable.unwrap_or_else(|| decoy_hash()).to_owned();
    // argon2 takes tens of milliseconds of CPU: off the async threads.
    let ok = tokio::task::spawn_blocking(move || verifies(&stored, &password))
        .await
        .unwrap_or(false);
    let has_password = usable.is_some();
    Ok(found.filter(|_| ok && has_password))
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

/// The live session the request's cookie names, if any.
///
/// # Errors
/// Database errors: the request cannot be served, which is not the same as not being signed in.
pub async fn session(
    db: &DatabaseConnection,
    headers: &HeaderMap,
) -> Result<Option<session::Model>, sea_orm::DbErr> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let s = session::Entity::find_by_id(hash_token(&token))
        .one(db)
        .await?;
    Ok(s.filter(|s| s.expires_at > Utc::now()))
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

/// Failed sign-ins a (handle, client address) pair may make before it must wait.
const FREE_TRIES: u32 = 3;
/// The longest wait between tries of one pair, and the window of the per-client ceiling.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed sign-ins one client address may make, over all handles, within the window.
pub const CLIENT_CEILING: u32 = 20;

/// Failed sign-ins, kept in memory per process. A (handle, client) pair gets three tries, then
/// waits 1 s, 2 s, 4 s ... (at most 15 minutes) before each next one; a client that failed 20
/// times within 15 minutes, whatever the handles, waits out the rest of those 15 minutes. The
/// right password from another client is never held back by someone else's failures.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    inner: Mutex<Limits>,
}

#[derive(Debug, Default)]
struct Limits {
    /// (handle, client) -> failures in a row and the time of the last one.
    pairs: HashMap<(String, String), (u32, Instant)>,
    /// client -> failures within the window that started at the instant given.
    clients: HashMap<String, (u32, Instant)>,
}

impl Limits {
    /// Forgets what is older than the window, so memory stays bounded under a spray.
    fn prune(&mut self) {
        if self.pairs.len() + self.clients.len() > 10_000 {
            self.pairs.retain(|_, (_, at)| at.elapsed() < WINDOW);
            self.clients
                .retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
    }
}

/// The wait after `failures` failures in a row of one pair.
fn backoff(failures: u32) -> Duration {
    if failures < FREE_TRIES {
        return Duration::ZERO;
    }
    let exp = (failures - FREE_TRIES).min(20);
    Duration::from_secs(1u64 << exp).min(WINDOW)
}

impl LoginLimiter {
    fn lock(&self) -> std::sync::MutexGuard<'_, Limits> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long `client` must still wait before trying `handle` again; `None` when it may try.
    pub fn wait(&self, handle: &str, client: &str) -> Option<Duration> {
        let map = self.lock();
        let pair = map
            .pairs
            .get(&(handle.to_lowercase(), client.to_owned()))
            .and_then(|(n, at)| backoff(*n).checked_sub(at.elapsed()))
            .filter(|d| !d.is_zero());
        let ceiling = map
            .clients
            .get(client)
            .filter(|(n, _)| *n >= CLIENT_CEILING)
            .and_then(|(_, since)| WINDOW.checked_sub(since.elapsed()))
            .filter(|d| !d.is_zero());
        pair.into_iter().chain(ceiling).max()
    }

    pub fn failed(&self, handle: &str, client: &str) {
        let mut map = self.lock();
        map.prune();
        let now = Instant::now();
        let pair = map
            .pairs
            .entry((handle.to_lowercase(), client.to_owned()))
            .or_insert((0, now));
        if pair.1.elapsed() >= WINDOW {
            pair.0 = 0;
        }
        pair.0 += 1;
        pair.1 = now;
        let c = map.clients.entry(client.to_owned()).or_insert((0, now));
        if c.1.elapsed() >= WINDOW {
            *c = (0, now);
        }
        c.0 += 1;
    }

    pub fn succeeded(&self, handle: &str, client: &str) {
        self.lock()
            .pairs
            .remove(&(handle.to_lowercase(), client.to_owned()));
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
    crate::entities::token::ActiveModel {
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
    if outreach_core::actor::any_can_sign_in(db).await? {
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
) -> Result<Vec<crate::entities::token::Model>, sea_orm::DbErr> {
    use crate::entities::token;
    use sea_orm::QueryOrder;
    token::Entity::find()
        .filter(token::Column::UserId.eq(user_id))
        .filter(token::Column::Kind.eq(kind))
        .order_by_desc(token::Column::CreatedAt)
        .all(db)
        .await
}

/// Every token of a user, API tokens and calendar URLs, newest first.
///
/// # Errors
/// Database errors.
pub async fn all_tokens_of(
    db: &DatabaseConnection,
    user_id: uuid::Uuid,
) -> Result<Vec<crate::entities::token::Model>, sea_orm::DbErr> {
    use crate::entities::token;
    use sea_orm::QueryOrder;
    token::Entity::find()
        .filter(token::Column::UserId.eq(user_id))
        .order_by_desc(token::Column::CreatedAt)
        .all(db)
        .await
}

/// Revokes user `user_id`'s tokens of `kind`: the one whose hash starts with `prefix` (at least
/// 8 hex digits, as the account page shows them), or all of them when `prefix` is `None`. One
/// transaction with an audit record per token; returns how many were revoked.
///
/// Anyone may revoke their own; only an admin another user's.
///
/// # Errors
/// [`CoreError::NotFound`] when `prefix` names none of the user's tokens,
/// [`CoreError::Forbidden`] for someone else's tokens unless the actor is an admin; database
/// errors.
pub async fn revoke_tokens(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: uuid::Uuid,
    kind: &str,
    prefix: Option<&str>,
) -> Result<usize, CoreError> {
    let tx = outreach_core::db::begin(db).await?;
    let me = outreach_core::actor::find_user(&tx, &actor.handle).await?;
    if me.as_ref().is_none_or(|m| m.id != user_id) {
        outreach_core::actor::require_role(
            &tx,
            actor,
            outreach_core::domain::Role::Admin,
            "revoke another user's tokens",
        )
        .await?;
    }
    let n = revoke_tokens_in(&tx, actor, user_id, kind, prefix).await?;
    tx.commit().await?;
    Ok(n)
}

/// Revokes user `user_id`'s tokens of every kind (API tokens and calendar URLs): the one whose
/// hash starts with `prefix`, or all of them. One transaction; the same role rule as
/// [`revoke_tokens`].
///
/// # Errors
/// [`CoreError::NotFound`] when `prefix` names none of the user's tokens,
/// [`CoreError::Forbidden`] as for [`revoke_tokens`]; database errors.
pub async fn revoke_any_tokens(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: uuid::Uuid,
    prefix: Option<&str>,
) -> Result<usize, CoreError> {
    let tx = outreach_core::db::begin(db).await?;
    let me = outreach_core::actor::find_user(&tx, &actor.handle).await?;
    if me.as_ref().is_none_or(|m| m.id != user_id) {
        outreach_core::actor::require_role(
            &tx,
            actor,
            outreach_core::domain::Role::Admin,
            "revoke another user's tokens",
        )
        .await?;
    }
    let mut n = 0;
    for kind in ["api", "calendar"] {
        match revoke_tokens_in(&tx, actor, user_id, kind, prefix).await {
            Ok(k) => n += k,
            Err(CoreError::NotFound { .. }) if prefix.is_some() => {}
            Err(e) => return Err(e),
        }
    }
    if n == 0
        && let Some(p) = prefix
    {
        return Err(CoreError::not_found(
            "token",
            p,
            "; `outreach user tokens HANDLE` lists them",
        ));
    }
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
    use crate::entities::token;
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

/// The account a token of `kind` acts for, marking the token used; `None` for a token that is
/// unknown, of another kind, or whose account is gone.
///
/// # Errors
/// Database errors.
pub async fn token_account(
    db: &DatabaseConnection,
    kind: &str,
    secret: &str,
) -> Result<Option<user::Model>, CoreError> {
    let Some(t) = token::Entity::find_by_id(hash_token(secret))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if t.kind != kind {
        return Ok(None);
    }
    let Some(u) = outreach_core::actor::user_by_id(db, t.user_id).await? else {
        return Ok(None);
    };
    let mut active = t.into_active_model();
    active.last_used_at = Set(Some(Utc::now()));
    if let Err(e) = active.update(db).await {
        tracing::warn!(error = %e, "could not mark a token used");
    }
    Ok(Some(u))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_tries_then_growing_waits_for_one_pair_only() {
        let l = LoginLimiter::default();
        for _ in 0..3 {
            assert_eq!(l.wait("maria", "10.0.0.1"), None);
            l.failed("maria", "10.0.0.1");
        }
        let first = l.wait("maria", "10.0.0.1").expect("the fourth try waits");
        assert!(first <= Duration::from_secs(1), "{first:?}");
        l.failed("maria", "10.0.0.1");
        let second = l
            .wait("Maria", "10.0.0.1")
            .expect("handles are compared without case");
        assert!(second > Duration::from_secs(1) && second <= Duration::from_secs(2));
        // Another client, or another handle from this client, is not held back.
        assert_eq!(l.wait("maria", "10.0.0.2"), None);
        assert_eq!(l.wait("sam", "10.0.0.1"), None);
        l.succeeded("maria", "10.0.0.1");
        assert_eq!(l.wait("maria", "10.0.0.1"), None);
    }

    #[test]
    fn one_client_spraying_many_handles_meets_the_ceiling() {
        let l = LoginLimiter::default();
        for i in 0..CLIENT_CEILING {
            assert_eq!(l.wait(&format!("user{i}"), "10.0.0.9"), None, "try {i}");
            l.failed(&format!("user{i}"), "10.0.0.9");
        }
        let wait = l
            .wait("someone-else", "10.0.0.9")
            .expect("the ceiling holds");
        assert!(wait > Duration::from_secs(14 * 60), "{wait:?}");
        assert_eq!(l.wait("someone-else", "10.0.0.10"), None);
    }

    #[test]
    fn backoff_doubles_up_to_fifteen_minutes() {
        assert_eq!(backoff(2), Duration::ZERO);
        assert_eq!(backoff(3), Duration::from_secs(1));
        assert_eq!(backoff(6), Duration::from_secs(8));
        assert_eq!(backoff(40), WINDOW);
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason_and_strong_ones_pass() {
        let err = check_password("maria-maria-maria", &["maria"])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("password: is too easy to guess"), "{err}");
        assert!(check_password("lantern quarry velvet morning", &["maria"]).is_ok());
    }
}

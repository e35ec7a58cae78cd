//! Record ids as users type them: a full UUID, or the unique end of one (the last 8 characters
//! shown in listings). UUIDv7 ids share their leading characters when created close together, so
//! the distinguishing part is the end.

use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};
use uuid::Uuid;

use crate::error::{Error, Result};

/// The short form shown in tables: the last 8 hex digits.
pub fn short(id: Uuid) -> String {
    let s = id.simple().to_string();
    s[s.len() - 8..].to_owned()
}

/// Picks the one id among `candidates` that `given` names, as a full UUID or a suffix of at
/// least 4 hex digits.
///
/// # Errors
/// [`Error::Invalid`] for text that is no id, [`Error::NotFound`] or [`Error::Ambiguous`].
pub fn pick(
    what: &'static str,
    given: &str,
    candidates: impl IntoIterator<Item = Uuid>,
) -> Result<Uuid> {
    let wanted = given.trim().to_lowercase().replace('-', "");
    if wanted.len() < 4 || wanted.len() > 32 || !wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::invalid(
            what,
            format!(
                "'{given}' is not an id; copy the id (or its last 8 characters) from a listing"
            ),
        ));
    }
    let found: Vec<Uuid> = candidates
        .into_iter()
        .filter(|id| id.simple().to_string().ends_with(&wanted))
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::not_found(what, given, "")),
        many => Err(Error::Ambiguous {
            what,
            given: given.to_owned(),
            count: many.len(),
            candidates: many
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// The ids of `E`'s table that `given` may name, found by the database (the full id by its key,
/// a suffix by the id's hex digits), so that no lookup reads the whole table into memory. Pass
/// them to [`pick`], which says which one, or why none or several.
///
/// # Errors
/// Database errors. Text that is no id gives no candidates ([`pick`] then says so).
pub async fn candidates<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    given: &str,
) -> Result<Vec<Uuid>> {
    let wanted = given.trim().to_lowercase().replace('-', "");
    if wanted.len() < 4 || wanted.len() > 32 || !wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(Vec::new());
    }
    let table = E::default().table_name().to_owned();
    let backend = db.get_database_backend();
    let stmt = match backend {
        DbBackend::Sqlite => Statement::from_sql_and_values(
            backend,
            format!("SELECT id FROM \"{table}\" WHERE hex(id) LIKE '%' || ?"),
            [wanted.to_uppercase().into()],
        ),
        _ => Statement::from_sql_and_values(
            backend,
            format!("SELECT id FROM \"{table}\" WHERE replace(id::text, '-', '') LIKE '%' || $1"),
            [wanted.clone().into()],
        ),
    };
    let mut out = Vec::new();
    for row in db.query_all_raw(stmt).await? {
        out.push(row.try_get::<Uuid>("", "id")?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_found_by_full_form_or_suffix() {
        let id = |s: &str| Uuid::parse_str(s).unwrap();
        let a = id("0193a5c4-0000-7000-8000-00000000abcd");
        let b = id("0193a5c4-0000-7000-8000-00000000bbcd");
        let c = id("0193a5c4-0000-7000-8000-00000001abcd");
        let all = [a, b, c];
        assert_eq!(pick("meeting", &a.to_string(), all).unwrap(), a);
        assert_eq!(pick("meeting", "0000abcd", all).unwrap(), a);
        assert_eq!(pick("meeting", "BBCD", all).unwrap(), b);
        assert!(matches!(
            pick("meeting", "0bcd", all),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            pick("meeting", "abcd", all),
            Err(Error::Ambiguous { count: 2, .. })
        ));
        assert!(matches!(
            pick("meeting", "bcd", all),
            Err(Error::Invalid { .. })
        ));
        assert!(matches!(
            pick("meeting", "xyz!", all),
            Err(Error::Invalid { .. })
        ));
    }
}

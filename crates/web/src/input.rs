//! The first check on every request: text with a NUL or another control character is refused
//! before any handler, library or database sees it, with an error naming the field (the query
//! parameter, form field or JSON key). Tab and line breaks are allowed in the fields that hold
//! several lines (summaries, outcomes, notes, descriptions, letter bodies).

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::WebError;

/// The largest request body read (the same as axum's default limit).
const MAX_BODY: usize = 2 * 1024 * 1024;

/// Fields that hold several lines of text.
const MULTI_LINE: &[&str] = &[
    "summary",
    "outcome",
    "notes",
    "description",
    "body",
    "detail",
    "purpose",
    "follow_up",
    "participants",
    "agenda",
];

fn multi_line(field: &str) -> bool {
    MULTI_LINE.contains(&field)
}

/// The first field of `pairs` whose name or value holds a forbidden control character.
fn check_pairs<'a>(
    pairs: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
) -> Result<(), WebError> {
    for (k, v) in pairs {
        let field = if outreach_core::domain::forbidden_control(&k, false).is_some() {
            "_field_name"
        } else {
            k.as_ref()
        };
        if field == "_field_name" {
            return Err(WebError::invalid(
                "_field_name",
                "a field name holds a control character; send plain field names",
            ));
        }
        if let Err(e) = outreach_core::domain::check_controls(field, &v, multi_line(field)) {
            return Err(e.into());
        }
    }
    Ok(())
}

fn check_json(path: &str, v: &serde_json::Value) -> Result<(), WebError> {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            let field = path.rsplit('.').next().unwrap_or(path);
            outreach_core::domain::check_controls(path, s, multi_line(field))
                .map_err(WebError::from)
        }
        Value::Array(items) => items.iter().try_for_each(|i| check_json(path, i)),
        Value::Object(map) => map.iter().try_for_each(|(k, i)| {
            if outreach_core::domain::forbidden_control(k, false).is_some() {
                return Err(WebError::invalid(
                    "_field_name",
                    "a JSON key holds a control character; send plain field names",
                ));
            }
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            check_json(&p, i)
        }),
        _ => Ok(()),
    }
}

/// Middleware: refuses a request whose path, query, form or JSON body holds a forbidden control
/// character (400, naming the field: JSON under `/api/`, a page elsewhere).
pub async fn refuse_control_characters(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let answer = |e: WebError| if api { e.into_api() } else { e.into_response() };
    let path = req.uri().path();
    let decoded: String = form_urlencoded::parse(format!("p={path}").as_bytes())
        .map(|(_, v)| v.into_owned())
        .collect();
    if outreach_core::domain::forbidden_control(&decoded, false).is_some() {
        return answer(WebError::invalid(
            "path",
            "the address holds a control character; remove it",
        ));
    }
    if let Some(q) = req.uri().query()
        && let Err(e) = check_pairs(form_urlencoded::parse(q.as_bytes()))
    {
        return answer(e);
    }
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let form = kind.starts_with("application/x-www-form-urlencoded");
    let json = kind.starts_with("application/json");
    if !form && !json {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return answer(WebError::invalid(
                "_body",
                "the request is larger than 2 MB or was cut off; send less at a time",
            ));
        }
    };
    let checked = if form {
        check_pairs(form_urlencoded::parse(&bytes))
    } else {
        // A body that is not JSON is the handler's to refuse, with its own message.
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(v) => check_json("", &v),
            Err(_) => Ok(()),
        }
    };
    if let Err(e) = checked {
        return answer(e);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_in_a_form_field_is_named() {
        let err = check_pairs(form_urlencoded::parse(b"state=NPL&summary=a%00b")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("summary: holds a control character (U+0000)"),
            "{err}"
        );
    }

    #[test]
    fn line_breaks_pass_in_multi_line_fields_only() {
        assert!(check_pairs(form_urlencoded::parse(b"summary=one%0D%0Atwo%09three")).is_ok());
        let err = check_pairs(form_urlencoded::parse(b"name=one%0Atwo")).unwrap_err();
        assert!(err.to_string().starts_with("name: "), "{err}");
    }

    #[test]
    fn json_keys_are_named_with_their_path() {
        let v = serde_json::json!({ "with": ["Asha", "Ra\u{1}m"], "summary": "ok\nfine" });
        let err = check_json("", &v).unwrap_err();
        assert!(err.to_string().starts_with("with: "), "{err}");
    }
}

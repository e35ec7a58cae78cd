//! The OpenAPI schemas of the API's inputs, as exact as the libraries' own checks, so that what
//! the document calls valid the API accepts: the closed sets of values (kinds, stances, states,
//! treaties, time zones) come from the libraries' own lists, and text, dates, times and ids carry
//! the patterns their parsers accept. Used with `#[schema(schema_with = ...)]` and
//! `#[param(schema_with = ...)]` on the API's input types.
//!
//! Where a check cannot be a pattern (a name already taken, a meeting already cancelled, a contact
//! that does not exist) the API answers 409 or 404, which the document lists for every operation.

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, SchemaType, Type};
use utoipa::openapi::{RefOr, Schema};

/// No control character (U+0000-U+001F, U+007F-U+009F), at least one character that is not
/// blank: one line of text, as `required_text` accepts.
const LINE: &str = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";
/// One line or nothing (blank is as absent), as `optional_text` accepts.
const OPTIONAL_LINE: &str = r"^[^\x00-\x1f\x7f-\x9f]*$";
/// Paragraphs: tabs and line breaks allowed, other control characters not; not blank.
const PARAGRAPHS: &str = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$";
const OPTIONAL_PARAGRAPHS: &str = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$";
/// A date from 1900 to 2199. The pattern stops days at 28 so that it admits no date that does
/// not exist (a 31 February); every real date is accepted.
const DATE: &str = r"^(19[0-9]{2}|2[01][0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$";
/// A date up to 2025: for what has happened (an engagement), which may not be in the future.
/// Any date up to tomorrow is accepted; the pattern keeps to years that are surely past.
const PAST_DATE: &str =
    r"^(19[0-9]{2}|20[01][0-9]|202[0-5])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$";
/// "YYYY-MM-DD HH:MM" (or with a T), local time, 1900 to 2199.
const LOCAL_TIME: &str = r"^(19[0-9]{2}|2[01][0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])[ T]([01][0-9]|2[0-3]):[0-5][0-9]$";
/// A full id, or its last 8 hex digits as listings show it.
const ID: &str = r"^([0-9a-fA-F]{8}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$";
/// A duration of whole minutes from 1 minute to 24 hours, as 45m, 1h or 1h30m.
const DURATION: &str =
    r"^(([1-9]|1[0-9]|2[0-3])h([1-9]|[1-5][0-9])m|([1-9]|1[0-9]|2[0-4])h|([1-9]|[1-5][0-9])m)$";
/// An email address of the plain kind everyone uses.
const EMAIL: &str = r"^[a-z0-9]{1,20}([._-][a-z0-9]{1,20}){0,3}@[a-z0-9]{1,20}(-[a-z0-9]{1,20}){0,2}(\.[a-z0-9]{1,20}(-[a-z0-9]{1,20}){0,2}){0,3}\.[a-z]{2,6}$";

fn string(pattern: &str, max: Option<usize>, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .pattern(Some(pattern))
        .max_length(max)
        .description(Some(description))
}

fn nullable(b: ObjectBuilder) -> ObjectBuilder {
    b.schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

fn choice(values: impl IntoIterator<Item = String>, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .enum_values(Some(values.into_iter().collect::<Vec<_>>()))
        .description(Some(description))
}

fn done(b: ObjectBuilder) -> RefOr<Schema> {
    RefOr::T(Schema::Object(b.build()))
}

/// A state: its ISO3 code (names are accepted too).
pub fn state() -> RefOr<Schema> {
    done(choice(
        state_codes(),
        "The state's ISO3 code, e.g. NPL (its name, e.g. Nepal, is accepted too).",
    ))
}

pub fn optional_state() -> RefOr<Schema> {
    let mut codes = state_codes();
    codes.push(String::new());
    done(nullable(choice(
        codes,
        "The state's ISO3 code, e.g. NPL (its name is accepted too); empty or absent for none.",
    )))
}

fn state_codes() -> Vec<String> {
    outreach_core::refdata::ReferenceData::embedded()
        .map(|r| r.states.iter().map(|s| s.iso3.clone()).collect())
        .expect("the embedded reference data parses (the reference tests check it)")
}

/// A query parameter naming a treaty.
pub fn treaty() -> RefOr<Schema> {
    done(choice(
        std::iter::once(String::new()).chain(
            outreach_core::refdata::TREATIES
                .iter()
                .map(|(code, _, _)| (*code).to_owned()),
        ),
        "Treaty code; the app's default treaty (APMBC) when absent or empty.",
    ))
}

/// Treaty codes separated by commas (`CCM,CCW_P5`); empty for none.
pub fn treaty_list() -> RefOr<Schema> {
    let codes: Vec<&str> = outreach_core::refdata::TREATIES
        .iter()
        .map(|(code, _, _)| *code)
        .collect();
    let one = format!("({})", codes.join("|"));
    done(nullable(string(
        &format!("^({one}(,{one})*)?$"),
        None,
        "Treaty codes separated by commas, such as CCM,CCW_P5; empty for none.",
    )))
}

/// A query parameter holding a date.
pub fn date_param() -> RefOr<Schema> {
    done(string(DATE, None, "YYYY-MM-DD, from 1900 to 2199."))
}

/// A query parameter holding one line of text, or nothing.
pub fn line_param(max: usize) -> RefOr<Schema> {
    done(string(
        OPTIONAL_LINE,
        Some(max),
        "One line of text; empty for none.",
    ))
}

pub fn id() -> RefOr<Schema> {
    done(string(
        ID,
        None,
        "The record's id, or its last 8 characters.",
    ))
}

pub fn line(max: usize) -> RefOr<Schema> {
    done(string(LINE, Some(max), "One line of text."))
}

pub fn optional_line(max: usize) -> RefOr<Schema> {
    done(nullable(string(
        OPTIONAL_LINE,
        Some(max),
        "One line of text; blank or absent for none.",
    )))
}

pub fn paragraphs(max: usize) -> RefOr<Schema> {
    done(string(PARAGRAPHS, Some(max), "Text; line breaks allowed."))
}

pub fn optional_paragraphs(max: usize) -> RefOr<Schema> {
    done(nullable(string(
        OPTIONAL_PARAGRAPHS,
        Some(max),
        "Text; line breaks allowed; blank or absent for none.",
    )))
}

pub fn date() -> RefOr<Schema> {
    done(nullable(string(
        DATE,
        None,
        "YYYY-MM-DD, from 1900 to 2199.",
    )))
}

/// A date that must be given.
pub fn required_date() -> RefOr<Schema> {
    done(string(DATE, None, "YYYY-MM-DD, from 1900 to 2199."))
}

pub fn past_date() -> RefOr<Schema> {
    done(nullable(string(
        PAST_DATE,
        None,
        "YYYY-MM-DD; today (in your zone) when absent. Not after tomorrow: an engagement is \
         what happened.",
    )))
}

pub fn dates() -> RefOr<Schema> {
    RefOr::T(Schema::Array(
        ArrayBuilder::new()
            .items(string(DATE, None, "YYYY-MM-DD"))
            .description(Some("Dates, YYYY-MM-DD."))
            .build(),
    ))
}

pub fn local_time() -> RefOr<Schema> {
    done(string(
        LOCAL_TIME,
        None,
        "Local date and time where the meeting is held, \"YYYY-MM-DD HH:MM\" (a time the clocks \
         skip or repeat at a daylight-saving change is refused).",
    ))
}

pub fn duration() -> RefOr<Schema> {
    done(nullable(string(
        DURATION,
        None,
        "45m, 1h or 1h30m (1 minute to 24 hours); 1h when absent.",
    )))
}

pub fn email() -> RefOr<Schema> {
    done(nullable(string(EMAIL, Some(254), "An email address.")))
}

pub fn time_zone() -> RefOr<Schema> {
    let mut zones: Vec<String> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|z| z.name().to_owned())
        .collect();
    zones.sort();
    done(nullable(choice(
        zones,
        "An IANA time zone, e.g. Asia/Kathmandu.",
    )))
}

pub fn languages() -> RefOr<Schema> {
    done(nullable(string(
        r"^[a-z]{2}([, ][a-z]{2})*$",
        Some(60),
        "ISO 639-1 codes, preferred first, e.g. \"fr,en\"; en when absent.",
    )))
}

/// One of `values`, written as the libraries write them (`embassy_visit`; `embassy-visit` is
/// accepted too).
pub fn one_of(values: &[&str], description: &str, optional: bool) -> RefOr<Schema> {
    let b = choice(values.iter().map(|v| (*v).to_owned()), description);
    done(if optional { nullable(b) } else { b })
}

/// Contacts by email, name or id: one, or a list.
pub fn contacts() -> RefOr<Schema> {
    let one = || string(LINE, Some(200), "A contact's email, name or id.");
    RefOr::T(Schema::OneOf(
        OneOfBuilder::new()
            .item(one())
            .item(ArrayBuilder::new().items(one()))
            .description(Some("Contacts by email, name or id: one, or a list."))
            .build(),
    ))
}

pub fn optional_id() -> RefOr<Schema> {
    done(nullable(string(
        ID,
        None,
        "A record's id, or its last 8 characters.",
    )))
}

/// A state to filter by: its ISO3 code (names are accepted too); empty for all.
pub fn state_filter() -> RefOr<Schema> {
    let mut codes = state_codes();
    codes.push(String::new());
    done(choice(
        codes,
        "The state's ISO3 code, e.g. NPL (its name is accepted too); empty or absent for all.",
    ))
}

/// Stances to keep, separated by commas (`open,supportive`), `none` for the states with no
/// stance on record; empty or `any` for every state.
pub fn stance_filter() -> RefOr<Schema> {
    let one = format!(
        "({}|none)",
        outreach_core::domain::Stance::ALL
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("|")
    );
    done(string(
        &format!("^(any|all|{one}(,{one})*)?$"),
        None,
        "Stances separated by commas, such as open,supportive; none for the states with no stance \
         on record; empty or any for every state.",
    ))
}

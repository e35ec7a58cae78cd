//! From an outbox row to a message: the row's template name selects a typed context, its JSON is
//! parsed into that type (so a context that does not match fails here, permanently and with the
//! reason), and the template's three parts are rendered in the row's language. Meeting
//! reminders and cancellations also get their iCalendar part.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::entities::outbox;

use crate::calendar::{self, Method, Organizer};
use crate::context::{
    FollowUpDue, GrantReportDue, MeetingCancelled, MeetingInfo, MeetingReminder, OutcomeMissing,
    Recipient, TestMessage, WeeklyDigest,
};
use crate::error::{Error, Result};
use crate::templates::Templates;

/// A message ready to be put in an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedEmail {
    /// One line: line breaks from the template or the data are folded into spaces.
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The iCalendar part of a meeting invitation or cancellation.
    pub ics: Option<String>,
    /// `REQUEST` or `CANCEL` when `ics` is set: the part's `method` parameter.
    pub ics_method: Option<&'static str>,
}

/// A typed template context.
pub trait EmailContext: Serialize + DeserializeOwned {
    /// The template folder name.
    const TEMPLATE: &'static str;
    /// A value with every optional field set and every list non-empty (see `samples`).
    fn sample_value() -> Self;
    fn recipient(&self) -> &Recipient;
    /// The meeting whose invitation this message carries, and what it asks.
    fn invitation(&self) -> Option<(&MeetingInfo, Method)> {
        None
    }
}

macro_rules! email_templates {
    ($($ty:ident => $name:literal $(, invite $method:ident)?;)*) => {
        $(
            impl EmailContext for $ty {
                const TEMPLATE: &'static str = $name;
                fn sample_value() -> Self {
                    Self::sample()
                }
                fn recipient(&self) -> &Recipient {
                    &self.recipient
                }
                $(fn invitation(&self) -> Option<(&MeetingInfo, Method)> {
                    Some((&self.meeting, Method::$method))
                })?
            }
        )*

        /// Every template: its name, its context type's name, and the JSON of its sample (a
        /// sample that cannot be written as JSON, a bug, shows as the error's text rather than
        /// as `null`, so the template check reports it).
        pub fn known_templates() -> Vec<(&'static str, &'static str, serde_json::Value)> {
            vec![$((
                $name,
                stringify!($ty),
                serde_json::to_value($ty::sample())
                    .unwrap_or_else(|e| serde_json::Value::String(format!("sample not JSON: {e}"))),
            )),*]
        }

        fn dispatch_sample(r: &Renderer<'_>, name: &str, language: &str) -> Result<RenderedEmail> {
            match name {
                $($name => {
                    let mut ctx = $ty::sample();
                    ctx.recipient.language = language.to_owned();
                    r.render_context(language, &ctx)
                })*
                other => Err(Error::Render(format!(
                    "there is no email template `{other}`; templates are {}",
                    [$($name),*].join(", ")
                ))),
            }
        }

        fn dispatch(r: &Renderer<'_>, row: &outbox::Model) -> Result<RenderedEmail> {
            match row.template.as_str() {
                $($name => r.render_typed::<$ty>(row),)*
                other => Err(Error::Render(format!(
                    "unknown template `{other}`; templates are {}",
                    [$($name),*].join(", ")
                ))),
            }
        }
    };
}

email_templates! {
    MeetingReminder => "meeting_reminder", invite Request;
    MeetingCancelled => "meeting_cancelled", invite Cancel;
    OutcomeMissing => "outcome_missing";
    FollowUpDue => "follow_up_due";
    GrantReportDue => "grant_report_due";
    WeeklyDigest => "weekly_digest";
    TestMessage => "test_message";
}

/// Folds every run of whitespace (line breaks included) into one space, so nothing rendered can
/// start a new header line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What rendering needs besides the templates.
#[derive(Debug)]
pub struct Renderer<'a> {
    pub templates: &'a Templates,
    /// The domain of Message-IDs and invitation UIDs.
    pub domain: &'a str,
    pub organizer: &'a Organizer,
}

impl Renderer<'_> {
    /// Renders an outbox row.
    ///
    /// # Errors
    /// [`Error::Render`] for an unknown template, a context that does not parse as the
    /// template's type, a language the template lacks, or a field the data lacks.
    pub fn render(&self, row: &outbox::Model) -> Result<RenderedEmail> {
        dispatch(self, row)
    }

    /// Renders a typed context directly (previews, tests, the benchmark).
    ///
    /// # Errors
    /// As [`Renderer::render`].
    pub fn render_context<T: EmailContext>(
        &self,
        language: &str,
        ctx: &T,
    ) -> Result<RenderedEmail> {
        let part = |p: &str| self.templates.render_part(T::TEMPLATE, language, p, ctx);
        let subject = one_line(&part("subject")?);
        let text = part("text")?;
        let html = part("html")?;
        let (ics, ics_method) = match ctx.invitation() {
            Some((meeting, method)) => (
                Some(calendar::invitation(
                    meeting,
                    method,
                    self.domain,
                    self.organizer,
                    ctx.recipient(),
                )?),
                Some(method.as_str()),
            ),
            None => (None, None),
        };
        Ok(RenderedEmail {
            subject,
            text,
            html,
            ics,
            ics_method,
        })
    }

    /// Renders template `name` in `language` with its context type's sample value (a meeting in
    /// Kathmandu, a follow-up for Nepal...), the recipient reading that language: what the web
    /// app's template previews show.
    ///
    /// # Errors
    /// [`Error::Render`] for an unknown template or a language the template lacks.
    pub fn preview(&self, name: &str, language: &str) -> Result<RenderedEmail> {
        dispatch_sample(self, name, language)
    }

    fn render_typed<T: EmailContext>(&self, row: &outbox::Model) -> Result<RenderedEmail> {
        let ctx: T = serde_json::from_str(&row.context).map_err(|e| {
            Error::Render(format!(
                "the context of this {} message does not match its type: {e}",
                T::TEMPLATE
            ))
        })?;
        self.render_context(&row.language, &ctx)
    }
}

//! The `Mailer`: everything delivery needs, built once from `MailSettings` (templates checked,
//! transport set up, addresses validated), so a bad setting or template fails at start-up.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::entities::outbox;
use crate::settings::MailSettings;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::calendar::Organizer;
use crate::error::{Error, Result};
use crate::render::{EmailContext, RenderedEmail, Renderer, one_line};
use crate::templates::Templates;
use crate::transport::Transport;

/// At most `per_minute` sends in any sliding minute; 0 means no limit.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_minute: usize,
    sent: Mutex<VecDeque<Instant>>,
}

impl RateLimiter {
    fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute as usize,
            sent: Mutex::new(VecDeque::new()),
        }
    }

    fn window(&self) -> std::sync::MutexGuard<'_, VecDeque<Instant>> {
        let mut sent = self
            .sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        while sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            sent.pop_front();
        }
        sent
    }

    /// How many messages may start now; `usize::MAX` without a limit.
    pub(crate) fn available(&self) -> usize {
        if self.per_minute == 0 {
            return usize::MAX;
        }
        self.per_minute.saturating_sub(self.window().len())
    }

    /// Takes a slot, if one is free.
    pub(crate) fn take(&self) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let mut window = self.window();
        if window.len() < self.per_minute {
            window.push_back(Instant::now());
            true
        } else {
            false
        }
    }

    /// How long until a slot frees up; zero when one is free now.
    pub(crate) fn wait(&self) -> Duration {
        if self.per_minute == 0 {
            return Duration::ZERO;
        }
        let window = self.window();
        if window.len() < self.per_minute {
            return Duration::ZERO;
        }
        window.front().map_or(Duration::ZERO, |t| {
            Duration::from_secs(60).saturating_sub(t.elapsed())
        })
    }
}

/// Renders and delivers outbox messages.
#[derive(Debug)]
pub struct Mailer {
    pub(crate) templates: Templates,
    pub(crate) transport: Transport,
    from: Mailbox,
    organizer: Organizer,
    pub(crate) domain: String,
    pub(crate) max_attempts: i32,
    pub(crate) batch_size: u64,
    pub(crate) lease: Duration,
    pub(crate) poll: Duration,
    pub(crate) retry_base: Duration,
    pub(crate) retry_max: Duration,
    pub(crate) concurrency: usize,
    pub(crate) limiter: RateLimiter,
    /// Names this process in `lease_owner`.
    pub(crate) owner: String,
}

fn check_domain(domain: &str) -> Result<String> {
    let d = domain.trim();
    if d.is_empty()
        || d.chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '@' | '<' | '>'))
    {
        return Err(Error::Config(format!(
            "mail.message_id_domain: `{domain}` is not a domain name; use one you own, such as outreach.example.org"
        )));
    }
    Ok(d.to_owned())
}

impl Mailer {
    /// Builds the mailer production runs: templates from `mail.templates_dir` (checked), the
    /// transport `mail.transport` names. Relative folders are read from `base`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting that is wrong, [`Error::Templates`] listing template
    /// problems.
    pub fn from_settings(settings: &MailSettings, base: &Path) -> Result<Self> {
        let templates = Templates::load(&base.join(&settings.templates_dir))?;
        let transport = Transport::from_settings(settings, base)?;
        Self::new(settings, templates, transport)
    }

    /// Builds a mailer from parts (tests and the benchmark choose their own transport).
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting that is wrong.
    pub fn new(
        settings: &MailSettings,
        templates: Templates,
        transport: Transport,
    ) -> Result<Self> {
        let from: Mailbox = settings.from.parse().map_err(|e| {
            Error::Config(format!(
                "mail.from: `{}` is not an address ({e}); write `Name <address@example.org>`",
                settings.from
            ))
        })?;
        if settings.max_attempts < 1 {
            return Err(Error::Config(format!(
                "mail.max_attempts: {} must be at least 1",
                settings.max_attempts
            )));
        }
        if settings.lease_secs == 0 {
            return Err(Error::Config(
                "mail.lease_secs: must be at least 1 second".into(),
            ));
        }
        let organizer = Organizer {
            name: from.name.clone(),
            email: from.email.to_string(),
        };
        Ok(Self {
            templates,
            transport,
            organizer,
            from,
            domain: check_domain(&settings.message_id_domain)?,
            max_attempts: settings.max_attempts,
            batch_size: u64::from(settings.batch_size.max(1)),
            lease: Duration::from_secs(settings.lease_secs),
            poll: Duration::from_secs(settings.poll_secs.max(1)),
            retry_base: Duration::from_secs(settings.retry_base_secs),
            retry_max: Duration::from_secs(settings.retry_max_secs.max(settings.retry_base_secs)),
            concurrency: settings.smtp_pool_size.max(1) as usize,
            limiter: RateLimiter::new(settings.rate_per_minute),
            owner: format!(
                "{}:{}:{}",
                hostname(),
                std::process::id(),
                uuid::Uuid::now_v7().simple()
            ),
        })
    }

    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    fn renderer(&self) -> Renderer<'_> {
        Renderer {
            templates: &self.templates,
            domain: &self.domain,
            organizer: &self.organizer,
        }
    }

    /// Renders an outbox row.
    ///
    /// # Errors
    /// [`Error::Render`] with the reason; such a row can never be sent.
    pub fn render(&self, row: &outbox::Model) -> Result<RenderedEmail> {
        self.renderer().render(row)
    }

    /// Renders a typed context in a language (previews and the benchmark).
    ///
    /// # Errors
    /// As [`Mailer::render`].
    pub fn render_context<T: EmailContext>(
        &self,
        language: &str,
        ctx: &T,
    ) -> Result<RenderedEmail> {
        self.renderer().render_context(language, ctx)
    }

    /// The `Message-ID` of a row: `<{message_id}@{domain}>`, the same for every attempt.
    pub fn message_id(&self, row: &outbox::Model) -> String {
        format!("<{}@{}>", row.message_id, self.domain)
    }

    /// Puts a rendered message in its envelope: text and HTML as alternatives, and the
    /// invitation as a third alternative (`text/calendar; method=...`), which is what calendar
    /// clients look for.
    ///
    /// # Errors
    /// [`Error::Render`] for an address lettre cannot use.
    pub fn message(&self, row: &outbox::Model, rendered: &RenderedEmail) -> Result<Message> {
        let address = row.recipient_email.trim().parse().map_err(|e| {
            Error::Render(format!(
                "recipient_email: `{}` is not an address: {e}",
                row.recipient_email
            ))
        })?;
        let to = Mailbox::new(row.recipient_name.as_deref().map(one_line), address);
        let mut body = MultiPart::alternative()
            .singlepart(SinglePart::plain(rendered.text.clone()))
            .singlepart(SinglePart::html(rendered.html.clone()));
        if let (Some(ics), Some(method)) = (&rendered.ics, rendered.ics_method) {
            let content_type =
                ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
                    .map_err(|e| Error::Render(format!("calendar content type: {e}")))?;
            body = body.singlepart(SinglePart::builder().header(content_type).body(ics.clone()));
        }
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(one_line(&rendered.subject))
            .message_id(Some(self.message_id(row)))
            .multipart(body)
            .map_err(|e| Error::Render(format!("cannot build the message: {e}")))
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "outreach".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_limiter_counts_a_sliding_minute() {
        let limiter = RateLimiter::new(2);
        assert_eq!(limiter.available(), 2);
        assert!(limiter.take() && limiter.take());
        assert!(!limiter.take());
        assert_eq!(limiter.available(), 0);
        assert!(limiter.wait() > Duration::from_secs(58));
        let unlimited = RateLimiter::new(0);
        assert!((0..1000).all(|_| unlimited.take()));
        assert_eq!(unlimited.wait(), Duration::ZERO);
    }

    #[test]
    fn a_bad_message_id_domain_names_the_key() {
        let err = check_domain("bad domain").unwrap_err().to_string();
        assert!(err.contains("mail.message_id_domain"), "{err}");
        assert_eq!(check_domain(" ex.org ").unwrap_or_default(), "ex.org");
    }
}

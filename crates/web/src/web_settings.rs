//! The web app's settings: the `[web]` table (`OUTREACH_WEB__*`), read with
//! `Settings::section::<WebSettings>()`.

use outreach_core::config::Section;
use serde::Deserialize;

/// The web app's own settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    /// The address users open, such as `https://outreach.example.org`; absolute links (the
    /// calendar URL) are made from it, never from request headers, and an `https` address marks
    /// cookies `Secure`. Empty: `http://127.0.0.1:PORT` of `outreach serve`.
    pub public_url: String,
}

impl Section for WebSettings {
    const KEY: &'static str = "web";

    fn check(&self) -> Result<(), String> {
        let url = self.public_url.trim();
        let http = url.starts_with("http://") || url.starts_with("https://");
        if !url.is_empty() && (!http || url.contains(char::is_whitespace)) {
            return Err(format!(
                "public_url: '{url}' is not an http:// or https:// address such as https://outreach.example.org"
            ));
        }
        Ok(())
    }
}

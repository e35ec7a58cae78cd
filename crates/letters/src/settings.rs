//! The letters crate's settings: the `[letters]` table (`OUTREACH_LETTERS__*`), read with
//! `Settings::section::<LetterSettings>()`.

use outreach_core::config::Section;
use serde::Deserialize;

/// Who signs letters and the letterhead their exports carry.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LetterSettings {
    /// The campaign letters are written on behalf of.
    pub organisation: String,
    /// Lines under the organisation's name at the top of every exported letter.
    pub letterhead: Vec<String>,
    /// The signatory; empty for the acting user's name.
    pub sender_name: String,
    pub sender_title: String,
    /// Where letters are written from: "Geneva, 22 November 2026".
    pub place: String,
    pub email: String,
    /// Letter templates are read from <templates_dir>/letters, or the built-in ones.
    pub templates_dir: String,
    /// Four eyes: nobody approves a version they wrote.
    pub four_eyes: bool,
}

impl Default for LetterSettings {
    fn default() -> Self {
        Self {
            organisation: "International Campaign to Ban Landmines (demo)".into(),
            letterhead: vec![
                "Rue de Lausanne 00, 1202 Geneva, Switzerland (demo)".into(),
                "outreach@example.org".into(),
            ],
            sender_name: String::new(),
            sender_title: "Universalization Officer".into(),
            place: "Geneva".into(),
            email: "outreach@example.org".into(),
            templates_dir: "templates".into(),
            four_eyes: true,
        }
    }
}

impl Section for LetterSettings {
    const KEY: &'static str = "letters";
}

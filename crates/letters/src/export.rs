//! Export of a letter's current version to Markdown, HTML and `.docx`, under the campaign's
//! letterhead from configuration. Letter bodies are a small Markdown subset (paragraphs whose
//! lines are kept as written, `- ` lists, `**bold**`), so one reader serves all three formats.

use crate::settings::LetterSettings;
use docx_rs::{AlignmentType, BreakType, Docx, Paragraph, Run};

use crate::drafts::LetterView;
use crate::error::{Error, Result};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
    Docx,
}

impl Format {
    /// # Errors
    /// [`outreach_core::Error::Invalid`] naming `--format`.
    pub fn parse(given: &str) -> outreach_core::Result<Self> {
        match given.trim().to_lowercase().as_str() {
            "md" | "markdown" => Ok(Self::Markdown),
            "html" | "htm" => Ok(Self::Html),
            "docx" | "word" => Ok(Self::Docx),
            _ => Err(outreach_core::Error::invalid(
                "--format",
                format!("'{given}' is not an export format; use md, html or docx"),
            )),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Markdown => "md",
            Self::Html => "html",
            Self::Docx => "docx",
        }
    }
}

/// A block of a letter body.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Block {
    /// Lines kept as written (addresses, signatures).
    Paragraph(Vec<String>),
    List(Vec<String>),
}

fn blocks(body: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let flush = |lines: &mut Vec<&str>, out: &mut Vec<Block>| {
        if lines.is_empty() {
            return;
        }
        if lines.iter().all(|l| l.starts_with("- ")) {
            out.push(Block::List(
                lines.iter().map(|l| l[2..].trim().to_owned()).collect(),
            ));
        } else {
            out.push(Block::Paragraph(
                lines.iter().map(|l| (*l).to_owned()).collect(),
            ));
        }
        lines.clear();
    };
    for line in body.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            flush(&mut current, &mut out);
        } else {
            current.push(line);
        }
    }
    flush(&mut current, &mut out);
    out
}

/// Splits `**bold**` spans: (text, bold) pieces.
fn spans(line: &str) -> Vec<(String, bool)> {
    line.split("**")
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
        .map(|(i, s)| (s.to_owned(), i % 2 == 1))
        .collect()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_line(line: &str) -> String {
    spans(line)
        .into_iter()
        .map(|(t, bold)| {
            if bold {
                format!("<strong>{}</strong>", escape(&t))
            } else {
                escape(&t)
            }
        })
        .collect()
}

/// The letter in Markdown: the letterhead, a rule, the body.
pub fn markdown(letter: &LetterView, head: &LetterSettings) -> String {
    let mut out = format!("**{}**\n", head.organisation);
    for line in &head.letterhead {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("\n---\n\n");
    out.push_str(&letter.body);
    out
}

/// The letter as a standalone HTML page.
pub fn html(letter: &LetterView, head: &LetterSettings) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <style>body{{font-family:Georgia,serif;max-width:40em;margin:2em auto;line-height:1.5}}\
         header{{text-align:center;border-bottom:1px solid #888;margin-bottom:2em}}</style>\n</head>\n<body>\n<header>\n<strong>{}</strong>",
        escape(&letter.language),
        escape(&letter.subject),
        escape(&head.organisation)
    );
    for line in &head.letterhead {
        out.push_str("<br>");
        out.push_str(&escape(line));
    }
    out.push_str("\n</header>\n");
    for block in blocks(&letter.body) {
        match block {
            Block::Paragraph(lines) => {
                let inner: Vec<String> = lines.iter().map(|l| html_line(l)).collect();
                out.push_str(&format!("<p>{}</p>\n", inner.join("<br>\n")));
            }
            Block::List(items) => {
                out.push_str("<ul>\n");
                for item in items {
                    out.push_str(&format!("<li>{}</li>\n", html_line(&item)));
                }
                out.push_str("</ul>\n");
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn runs(mut p: Paragraph, line: &str) -> Paragraph {
    for (text, bold) in spans(line) {
        let mut run = Run::new().add_text(text);
        if bold {
            run = run.bold();
        }
        p = p.add_run(run);
    }
    p
}

/// The letter as a Word document (`.docx`): the letterhead centred at the top, then the body.
///
/// # Errors
/// [`Error::Export`] if the document cannot be packed.
pub fn docx(letter: &LetterView, head: &LetterSettings) -> Result<Vec<u8>> {
    let mut doc = Docx::new().add_paragraph(
        Paragraph::new()
            .align(AlignmentType::Center)
            .add_run(Run::new().add_text(&head.organisation).bold().size(28)),
    );
    for line in &head.letterhead {
        doc = doc.add_paragraph(
            Paragraph::new()
                .align(AlignmentType::Center)
                .add_run(Run::new().add_text(line).size(18)),
        );
    }
    doc = doc.add_paragraph(Paragraph::new());
    for block in blocks(&letter.body) {
        match block {
            Block::Paragraph(lines) => {
                let mut p = Paragraph::new();
                for (i, line) in lines.iter().enumerate() {
                    if i > 0 {
                        p = p.add_run(Run::new().add_break(BreakType::TextWrapping));
                    }
                    p = runs(p, line);
                }
                doc = doc.add_paragraph(p);
            }
            Block::List(items) => {
                for item in items {
                    doc = doc.add_paragraph(runs(
                        Paragraph::new().add_run(Run::new().add_text("• ")),
                        &item,
                    ));
                }
            }
        }
    }
    let mut buf = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut buf)
        .map_err(|e| Error::Export(format!("cannot write the .docx: {e}")))?;
    Ok(buf.into_inner())
}

/// The letter in `format`.
///
/// # Errors
/// [`Error::Export`] for a .docx that cannot be packed.
pub fn render(letter: &LetterView, head: &LetterSettings, format: Format) -> Result<Vec<u8>> {
    Ok(match format {
        Format::Markdown => markdown(letter, head).into_bytes(),
        Format::Html => html(letter, head).into_bytes(),
        Format::Docx => docx(letter, head)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_split_into_paragraphs_and_lists() {
        let b = blocks("Ms A\nEmbassy\n\n**Subject**\n\n- one\n- two\n\nText.\n");
        assert_eq!(
            b,
            vec![
                Block::Paragraph(vec!["Ms A".into(), "Embassy".into()]),
                Block::Paragraph(vec!["**Subject**".into()]),
                Block::List(vec!["one".into(), "two".into()]),
                Block::Paragraph(vec!["Text.".into()]),
            ]
        );
        assert_eq!(html_line("a **b** <c>"), "a <strong>b</strong> &lt;c&gt;");
    }
}

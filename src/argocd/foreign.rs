//! Answers that are not Argo CD's API: the page of an ingress, a proxy or a
//! web server that `--argocd-server` reaches instead of argocd-server. The
//! report names them as such, in one short line, instead of pasting the page.

use std::fmt;

/// How many characters of a foreign body the report quotes.
pub const QUOTED_CHARS: usize = 200;

/// An answer whose body is not Argo CD's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignAnswer {
    /// The server as configured (`--argocd-server`).
    pub server: String,
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header, when there was one.
    pub content_type: Option<String>,
    /// The body's start, on one line (see [`excerpt`]).
    pub excerpt: String,
}

impl ForeignAnswer {
    /// Summarises one answer; only the first [`QUOTED_CHARS`] characters of
    /// `body` are kept.
    pub fn new(server: &str, status: u16, content_type: Option<&str>, body: &str) -> Self {
        ForeignAnswer {
            server: server.to_owned(),
            status,
            content_type: content_type.map(str::to_owned),
            excerpt: excerpt(body),
        }
    }
}

impl fmt::Display for ForeignAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the server at {} answered {} with ",
            self.server, self.status
        )?;
        match (&self.content_type, self.excerpt.is_empty()) {
            (_, true) => f.write_str("an empty body")?,
            (Some(content_type), false) => write!(f, "a {content_type} body")?,
            (None, false) => f.write_str("an untyped body")?,
        }
        f.write_str(" that is not Argo CD's API")?;
        if !self.excerpt.is_empty() {
            write!(f, " (first {QUOTED_CHARS} chars: {})", self.excerpt)?;
        }
        f.write_str("; check --argocd-server (ARGOCD_SERVER)")
    }
}

/// The start of `text` on one line: every run of whitespace (newlines
/// included) becomes one space, cut after [`QUOTED_CHARS`] characters, never
/// inside one, with `…` when something was cut.
pub fn excerpt(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_is_one_line_cut_at_a_char_boundary() {
        let long = "é".repeat(QUOTED_CHARS + 1);
        let cut = format!("{}…", "é".repeat(QUOTED_CHARS));
        let exact = "x".repeat(QUOTED_CHARS);
        let cases = [
            ("", ""),
            ("  \n ", ""),
            (
                "<html>\n  <body>\r\n\tNot Found</body>\n",
                "<html> <body> Not Found</body>",
            ),
            (exact.as_str(), exact.as_str()),
            (long.as_str(), cut.as_str()),
        ];
        for (text, want) in cases {
            assert_eq!(excerpt(text), want, "{text:?}");
        }
    }

    #[test]
    fn a_foreign_answer_names_the_server_the_status_and_the_content_type() {
        let cases = [
            (
                Some("text/html"),
                "<h1>Bad Gateway</h1>",
                "the server at https://argocd.example.com answered 502 with a text/html body that is not Argo CD's API (first 200 chars: <h1>Bad Gateway</h1>); check --argocd-server (ARGOCD_SERVER)",
            ),
            (
                None,
                "nope",
                "the server at https://argocd.example.com answered 502 with an untyped body that is not Argo CD's API (first 200 chars: nope); check --argocd-server (ARGOCD_SERVER)",
            ),
            (
                Some("text/plain"),
                "",
                "the server at https://argocd.example.com answered 502 with an empty body that is not Argo CD's API; check --argocd-server (ARGOCD_SERVER)",
            ),
        ];
        for (content_type, body, want) in cases {
            let answer = ForeignAnswer::new("https://argocd.example.com", 502, content_type, body);
            assert_eq!(answer.to_string(), want);
        }
    }
}

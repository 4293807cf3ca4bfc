//! The short human summary printed on stdout at the end of a run: the
//! report as [`crate::report_view`] shows it, listing only what needs
//! attention, then where the report is.

use std::path::Path;

use crate::report::Report;
use crate::report_view::{render as view, Format, View};

/// Renders the summary; `color` for a terminal.
pub fn render(report: &Report, output_dir: &Path, color: bool) -> String {
    let json = serde_json::to_value(report).unwrap_or_default();
    let mut out = view(
        &json,
        View {
            format: Format::Text { color },
            attention_only: true,
        },
    );
    out.push_str(&format!(
        "report: {}\n",
        output_dir.join("report.json").display()
    ));
    out
}

/// Whether stdout gets colour: a terminal, and `NO_COLOR` unset or empty
/// (no-color.org).
pub fn stdout_color() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

//! The short human summary printed on stdout at the end of a run.

use std::fmt::Write as _;
use std::path::Path;

use crate::report::Report;

/// Renders the summary: one headline, the report's counters, one line per
/// component, the failures' advice.
pub fn render(report: &Report, output_dir: &Path) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} in {}{}{}: {} (exit {} {}) in {:.1}s",
        report.action,
        report.scope,
        if report.environment.is_empty() {
            "?"
        } else {
            &report.environment
        },
        if report.dry_run { " (dry run)" } else { "" },
        if report.simulated { " (simulated)" } else { "" },
        report.status,
        report.exit_code.code(),
        report.exit_code.name(),
        report.duration_seconds
    );
    if report.summary.total > 0 {
        // The report's own counters, so stdout and report.json never disagree.
        let noun = if report.summary.total == 1 {
            "component"
        } else {
            "components"
        };
        let _ = writeln!(out, "  {} {noun}: {}", report.summary.total, report.summary);
    }
    for c in &report.components {
        let state = match (&c.health, &c.sync) {
            (Some(h), Some(s)) => format!("{h}/{s}"),
            (Some(h), None) => h.clone(),
            (None, Some(s)) => s.clone(),
            (None, None) => "-".to_owned(),
        };
        let status = crate::outcome::word(c.status);
        let _ = writeln!(
            out,
            "  {:<24} {:<10} {:<22} {}",
            c.name, status, state, c.message
        );
    }
    for f in report
        .failures
        .iter()
        .filter(|f| report.components.iter().all(|c| c.name != f.component))
    {
        let _ = writeln!(out, "  {}", f.message);
    }
    for r in &report.recommendations {
        let _ = writeln!(out, "  hint: {r}");
    }
    let _ = writeln!(out, "report: {}", output_dir.join("report.json").display());
    out
}

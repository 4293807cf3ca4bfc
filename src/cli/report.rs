//! `executor report <report.json>`: a report for a person. Reads the file,
//! checks that it is an executor report, and prints it as text (colour on a
//! terminal, none when piped or with `NO_COLOR`), Markdown, or the JSON as
//! it is. A file that cannot be read or is not a report is Invalid.

use std::io::Write as _;

use serde_json::Value;

use super::args::ReportArgs;
use crate::exit::ExitCode;
use crate::report_view::{render, Format, View};

/// Prints the report; Success, or Invalid with a message naming the file and the fix.
pub fn run(args: &ReportArgs) -> ExitCode {
    let shown = args.path.display();
    let format = match args.output.as_str() {
        "text" => Some(Format::Text {
            color: crate::summary::stdout_color(),
        }),
        "markdown" => Some(Format::Markdown),
        "json" => None,
        other => {
            eprintln!("error: -o (--output) {other:?}: expected text, markdown or json");
            return ExitCode::INVALID;
        }
    };
    let text = match std::fs::read_to_string(&args.path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: {shown}: {e}; give the report.json a run wrote (its output directory, /tmp/executor by default)");
            return ExitCode::INVALID;
        }
    };
    let report: Value = match serde_json::from_str(&text) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: {shown} is not JSON ({e}); give the report.json a run wrote");
            return ExitCode::INVALID;
        }
    };
    let version = report["apiVersion"].as_str().unwrap_or("");
    if !version.starts_with("executor.report/") {
        eprintln!(
            "error: {shown} is not an executor report (apiVersion {version:?}, expected executor.report/v2)"
        );
        return ExitCode::INVALID;
    }
    let out = match format {
        None => text,
        Some(format) => render(
            &report,
            View {
                format,
                attention_only: false,
            },
        ),
    };
    // A reader that went away (a closed pipe) is not an error of ours.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    ExitCode::SUCCESS
}

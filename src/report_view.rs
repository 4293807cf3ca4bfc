//! A report.json for a person: the run's headline, its counters, a table of
//! the components, what failed and why, and what to do next, as text (with
//! colour on a terminal) or Markdown (for an incident or a pull request).
//! It reads the report's JSON, so it shows any `executor.report/v2` file
//! (`executor report`) and a run's own summary alike.

use std::fmt::Write as _;

use serde_json::Value;

use crate::outcome::{word, ComponentStatus};
use crate::vocabulary::Action;

/// How to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned text; ANSI colours when `color`.
    Text {
        /// Colour the status words.
        color: bool,
    },
    /// GitHub-flavoured Markdown.
    Markdown,
}

/// What to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// Text or Markdown.
    pub format: Format,
    /// List only the components that need attention and count the rest
    /// (a run's own summary); else list every component.
    pub attention_only: bool,
}

/// How a status word reads: fine, to look at, or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Good,
    Warn,
    Bad,
}

fn tone(status: &str) -> Tone {
    match status {
        "succeeded" | "unchanged" | "healthy" | "removed" | "absent" => Tone::Good,
        "degraded" | "skipped" | "pending" | "partial" => Tone::Warn,
        _ => Tone::Bad,
    }
}

fn paint(text: &str, status: &str, color: bool) -> String {
    if !color {
        return text.to_owned();
    }
    let code = match tone(status) {
        Tone::Good => "32",
        Tone::Warn => "33",
        Tone::Bad => "31",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or("")
}

/// `Healthy/Synced`, or what of it is known, or `-`.
fn state(component: &Value) -> String {
    match (component["health"].as_str(), component["sync"].as_str()) {
        (Some(h), Some(s)) => format!("{h}/{s}"),
        (Some(x), None) | (None, Some(x)) => x.to_owned(),
        (None, None) => "-".to_owned(),
    }
}

/// `5 succeeded, 1 failed, 2 skipped`: the non-zero counters, in the order
/// the action lists its statuses.
fn counters(report: &Value) -> String {
    let summary = &report["summary"];
    let order: Vec<String> = Action::from_name(text(report, "action"))
        .map(|a| {
            ComponentStatus::used_by(a)
                .iter()
                .map(|&s| word(s))
                .collect()
        })
        .unwrap_or_default();
    let mut words: Vec<String> = order;
    if let Some(map) = summary.as_object() {
        for key in map.keys().filter(|k| *k != "total") {
            if !words.contains(key) {
                words.push(key.clone());
            }
        }
    }
    words
        .iter()
        .filter_map(|w| {
            let n = summary[w].as_u64().filter(|&n| n > 0)?;
            Some(format!("{n} {w}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The reason of the failure entry for `name`, if any.
fn reason<'a>(report: &'a Value, name: &str) -> &'a str {
    failure_of(report, name).map_or("", |f| text(f, "reason"))
}

/// The failure entry for the component `name`, if any.
fn failure_of<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    report["failures"]
        .as_array()?
        .iter()
        .find(|f| text(f, "component") == name)
}

fn headline(report: &Value) -> String {
    let environment = match text(report, "environment") {
        "" => "?",
        e => e,
    };
    let mut notes = String::new();
    if report["dryRun"] == true {
        notes.push_str(" (dry run)");
    }
    if report["simulated"] == true {
        notes.push_str(" (simulated)");
    }
    let code = report["exitCode"].as_u64().unwrap_or(1);
    let name = crate::exit::ExitCode::from_code(code as i32).map_or("?", |c| c.name());
    format!(
        "{} {} in {environment}{notes}: {} (exit {code} {name}) in {:.1}s",
        text(report, "action"),
        text(report, "scope"),
        text(report, "status"),
        report["durationSeconds"].as_f64().unwrap_or(0.0),
    )
}

/// The components to list, and how many others there are, by status.
fn listed(report: &Value, view: View) -> (Vec<&Value>, String) {
    let all: Vec<&Value> = report["components"]
        .as_array()
        .map(|c| c.iter().collect())
        .unwrap_or_default();
    if !view.attention_only || all.len() <= 1 {
        return (all, String::new());
    }
    let (shown, rest): (Vec<&Value>, Vec<&Value>) = all
        .into_iter()
        .partition(|c| tone(text(c, "status")) != Tone::Good);
    let mut by_status: Vec<(String, usize)> = Vec::new();
    for c in &rest {
        let status = text(c, "status").to_owned();
        match by_status.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => by_status.push((status, 1)),
        }
    }
    let others = by_status
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ");
    (shown, others)
}

/// The evidence lines of the failure entry for `name`: `operation: …`,
/// `health: …`, each condition, each unhealthy resource with its message.
fn evidence(report: &Value, name: &str) -> Vec<String> {
    let Some(e) = failure_of(report, name)
        .map(|f| &f["evidence"])
        .filter(|e| e.is_object())
    else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    for key in ["operation", "health"] {
        if let Some(v) = e[key].as_str() {
            lines.push(format!("{key}: {v}"));
        }
    }
    for c in e["conditions"].as_array().into_iter().flatten() {
        lines.push(format!("condition {}", c.as_str().unwrap_or("")));
    }
    for r in e["resources"].as_array().into_iter().flatten() {
        let message = r["message"]
            .as_str()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        lines.push(format!(
            "{} {}{message}",
            text(r, "resource"),
            text(r, "health")
        ));
    }
    lines
}

/// Failure entries not shown on a component's line (an invalid run's, a
/// preflight refusal's).
fn loose_failures<'a>(report: &'a Value, shown: &[&Value]) -> Vec<&'a Value> {
    report["failures"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter(|f| {
                    shown
                        .iter()
                        .all(|c| text(c, "name") != text(f, "component"))
                        && report["components"].as_array().is_none_or(|cs| {
                            cs.iter().all(|c| text(c, "name") != text(f, "component"))
                        })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Renders `report` (report.json's JSON).
pub fn render(report: &Value, view: View) -> String {
    match view.format {
        Format::Text { color } => render_text(report, view, color),
        Format::Markdown => render_markdown(report, view),
    }
}

fn render_text(report: &Value, view: View, color: bool) -> String {
    let mut out = String::new();
    let head = headline(report);
    let _ = writeln!(out, "{}", paint(&head, text(report, "status"), color));
    let total = report["summary"]["total"].as_u64().unwrap_or(0);
    if total > 0 {
        let noun = if total == 1 {
            "component"
        } else {
            "components"
        };
        let _ = writeln!(out, "  {total} {noun}: {}", counters(report));
    }
    let (shown, others) = listed(report, view);
    for c in &shown {
        let status = text(c, "status");
        let reason = reason(report, text(c, "name"));
        let reason = if reason.is_empty() {
            String::new()
        } else {
            format!("[{reason}] ")
        };
        let _ = writeln!(
            out,
            "  {:<24} {} {:<22} {reason}{}",
            text(c, "name"),
            paint(&format!("{status:<10}"), status, color),
            state(c),
            text(c, "message")
        );
        for line in evidence(report, text(c, "name")) {
            let _ = writeln!(out, "      {line}");
        }
    }
    if !others.is_empty() && !shown.is_empty() {
        let _ = writeln!(out, "  … and {others}");
    }
    for f in loose_failures(report, &shown) {
        let _ = writeln!(out, "  [{}] {}", text(f, "reason"), text(f, "message"));
    }
    for r in report["recommendations"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "  hint: {}", r.as_str().unwrap_or(""));
    }
    out
}

/// A Markdown table cell: one line, `|` escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn render_markdown(report: &Value, view: View) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### executor {}\n", cell(&headline(report)));
    let total = report["summary"]["total"].as_u64().unwrap_or(0);
    let mut facts = vec![match total {
        0 => String::new(),
        1 => format!("1 component: {}", counters(report)),
        n => format!("{n} components: {}", counters(report)),
    }];
    for (key, label) in [("runId", "run"), ("version", "executor")] {
        if !text(report, key).is_empty() {
            facts.push(format!("{label} `{}`", text(report, key)));
        }
    }
    let facts: Vec<String> = facts.into_iter().filter(|f| !f.is_empty()).collect();
    let _ = writeln!(out, "{}\n", facts.join(" · "));
    let (shown, others) = listed(report, view);
    if !shown.is_empty() {
        let _ = writeln!(
            out,
            "| component | kind | status | health/sync | reason | message |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for c in &shown {
            let name = text(c, "name");
            let _ = writeln!(
                out,
                "| {} | {} | **{}** | {} | {} | {} |",
                cell(name),
                cell(text(c, "kind")),
                cell(text(c, "status")),
                cell(&state(c)),
                cell(reason(report, name)),
                cell(text(c, "message"))
            );
        }
        out.push('\n');
    }
    if !others.is_empty() && !shown.is_empty() {
        let _ = writeln!(out, "… and {others}.\n");
    }
    let evidenced: Vec<(&str, Vec<String>)> = shown
        .iter()
        .map(|c| (text(c, "name"), evidence(report, text(c, "name"))))
        .filter(|(_, lines)| !lines.is_empty())
        .collect();
    if !evidenced.is_empty() {
        let _ = writeln!(out, "**Evidence**\n");
        for (name, lines) in evidenced {
            let _ = writeln!(out, "- `{name}`");
            for line in lines {
                let _ = writeln!(out, "  - {}", line.replace('\n', " "));
            }
        }
        out.push('\n');
    }
    let loose = loose_failures(report, &shown);
    if !loose.is_empty() {
        let _ = writeln!(out, "**Failures**\n");
        for f in loose {
            let _ = writeln!(out, "- `{}`: {}", text(f, "reason"), text(f, "message"));
        }
        out.push('\n');
    }
    let recommendations: Vec<&str> = report["recommendations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if !recommendations.is_empty() {
        let _ = writeln!(out, "**What to do**\n");
        for r in recommendations {
            let _ = writeln!(out, "- {r}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn partial() -> Value {
        json!({
            "apiVersion": "executor.report/v2", "action": "deploy", "scope": "platform",
            "environment": "prod", "dryRun": false, "simulated": false,
            "status": "partial", "exitCode": 2, "durationSeconds": 12.34,
            "runId": "wf-pod-abc", "version": "0.1.0",
            "summary": { "total": 3, "succeeded": 1, "unchanged": 0, "failed": 1, "skipped": 1 },
            "components": [
                { "name": "metallb", "kind": "app", "status": "succeeded", "health": "Healthy", "sync": "Synced", "message": "synced" },
                { "name": "ceph", "kind": "app", "status": "failed", "health": "Degraded", "sync": "Synced", "message": "pod a|b crashing" },
                { "name": "vault", "kind": "app", "status": "skipped", "message": "not attempted" },
            ],
            "failures": [
                { "component": "ceph", "reason": "Degraded", "message": "pod a|b crashing",
                  "evidence": { "health": "Degraded", "resources": [{ "resource": "Pod rook/osd-0", "health": "Degraded", "message": "CrashLoopBackOff" }] } },
                { "component": "vault", "reason": "DependencyFailed", "message": "not attempted" },
            ],
            "recommendations": ["check ceph"],
        })
    }

    #[test]
    fn text_lists_what_needs_attention_and_counts_the_rest() {
        let view = View {
            format: Format::Text { color: false },
            attention_only: true,
        };
        let out = render(&partial(), view);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "deploy platform in prod: partial (exit 2 Partial) in 12.3s"
        );
        assert_eq!(lines[1], "  3 components: 1 succeeded, 1 failed, 1 skipped");
        assert!(
            lines[2].starts_with("  ceph ") && lines[2].contains("[Degraded] pod a|b crashing"),
            "{out}"
        );
        assert_eq!(lines[3], "      health: Degraded");
        assert_eq!(lines[4], "      Pod rook/osd-0 Degraded: CrashLoopBackOff");
        assert!(lines[5].starts_with("  vault "), "{out}");
        assert_eq!(lines[6], "  … and 1 succeeded");
        assert_eq!(lines[7], "  hint: check ceph");
        assert!(!out.contains('\x1b'));
        let all = render(
            &partial(),
            View {
                attention_only: false,
                ..view
            },
        );
        assert!(all.lines().any(|l| l.starts_with("  metallb ")), "{all}");
    }

    #[test]
    fn colour_only_when_asked() {
        let out = render(
            &partial(),
            View {
                format: Format::Text { color: true },
                attention_only: false,
            },
        );
        assert!(out.contains("\x1b[31mfailed"), "{out}");
        assert!(out.contains("\x1b[32msucceeded"), "{out}");
    }

    #[test]
    fn markdown_is_a_table_with_escaped_cells() {
        let out = render(
            &partial(),
            View {
                format: Format::Markdown,
                attention_only: false,
            },
        );
        assert!(
            out.starts_with("### executor deploy platform in prod: partial (exit 2 Partial)"),
            "{out}"
        );
        assert!(
            out.contains(
                "| ceph | app | **failed** | Degraded/Synced | Degraded | pod a\\|b crashing |"
            ),
            "{out}"
        );
        assert!(out.contains("**What to do**\n\n- check ceph"), "{out}");
        assert!(
            out.contains("**Evidence**\n\n- `ceph`\n  - health: Degraded\n  - Pod rook/osd-0 Degraded: CrashLoopBackOff\n"),
            "{out}"
        );
        assert!(out.contains("run `wf-pod-abc`"), "{out}");
    }

    #[test]
    fn an_invalid_report_shows_its_failure() {
        let report = json!({
            "action": "deploy", "scope": "app:x", "environment": "prod", "status": "invalid",
            "exitCode": 3, "durationSeconds": 0.0, "summary": { "total": 0 }, "components": [],
            "failures": [{ "component": "app:x", "reason": "Invalid", "message": "--dry-run: expected true or false" }],
        });
        let out = render(
            &report,
            View {
                format: Format::Text { color: false },
                attention_only: true,
            },
        );
        assert!(
            out.contains("  [Invalid] --dry-run: expected true or false"),
            "{out}"
        );
    }
}

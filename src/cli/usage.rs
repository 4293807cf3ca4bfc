//! What a command line says when the argument parser rejects it: enough for
//! the Invalid report of a usage error (where it goes, and what the run was),
//! read leniently from the raw arguments as clap would have read them.

use std::ffi::OsString;
use std::path::PathBuf;

/// The facts of a command line that clap rejected; each from its flag, else
/// its environment variable, as `RunArgs` reads them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RawRun {
    /// The first argument, when it is not a flag: the action as given.
    pub action: Option<String>,
    /// `--output-dir`, else `EXECUTOR_OUTPUT_DIR`.
    pub output_dir: Option<PathBuf>,
    /// `--scope`, else `TARGET_SCOPE`.
    pub scope: Option<String>,
    /// `--environment`, else `ENVIRONMENT`.
    pub environment: Option<String>,
}

impl RawRun {
    /// Reads `argv` (program name first); `env` looks up a variable.
    pub fn read(argv: &[OsString], env: impl Fn(&str) -> Option<OsString>) -> RawRun {
        let args = argv.get(1..).unwrap_or_default();
        let text = |value: OsString| value.to_string_lossy().into_owned();
        let input = |flag: &str, variable: &str| {
            flag_value(args, flag)
                .or_else(|| env(variable))
                .filter(|value| !value.is_empty())
        };
        RawRun {
            action: args
                .first()
                .map(|first| text(first.clone()))
                .filter(|first| !first.starts_with('-')),
            output_dir: input("--output-dir", "EXECUTOR_OUTPUT_DIR").map(PathBuf::from),
            scope: input("--scope", "TARGET_SCOPE").map(text),
            environment: input("--environment", "ENVIRONMENT").map(text),
        }
    }
}

/// The value of the last `--flag <value>` or `--flag=<value>` before `--`
/// (the last wins, as clap's `args_override_self` has it). A next argument
/// that is itself a flag is not a value, as clap does not take it for one.
fn flag_value(args: &[OsString], flag: &str) -> Option<OsString> {
    let mut found = None;
    let mut rest = args
        .iter()
        .map_while(|a| (a != "--").then_some(a))
        .peekable();
    while let Some(arg) = rest.next() {
        let Some(text) = arg.to_str() else { continue };
        if text == flag {
            found = rest
                .next_if(|next| !next.to_string_lossy().starts_with('-'))
                .cloned();
        } else if let Some(value) = text
            .strip_prefix(flag)
            .and_then(|tail| tail.strip_prefix('='))
        {
            found = Some(value.into());
        }
    }
    found
}

/// clap's message on one line, for the report: what was wrong, its tip, the
/// usage and where to read more, without the `error:` prefix.
pub fn message(error: &clap::Error) -> String {
    let text = error.render().to_string();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let joined = lines.join("; ");
    joined
        .strip_prefix("error: ")
        .map(str::to_owned)
        .unwrap_or(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<OsString> {
        std::iter::once("executor")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn the_output_dir_is_read_as_clap_reads_it() {
        let cases: &[(&[&str], Option<&str>)] = &[
            (&["deploy", "--output-dir", "/out", "--frob"], Some("/out")),
            (&["deploy", "--frob", "--output-dir=/out"], Some("/out")),
            (
                &["deploy", "--output-dir", "/a", "--output-dir=/b"],
                Some("/b"),
            ),
            (
                &["deploy", "--output-dir=/a", "--output-dir", "/b"],
                Some("/b"),
            ),
            (&["deploy", "--output-dir"], None),
            (&["deploy", "--output-dir", "--scope", "x"], None),
            (&["deploy", "--output-dir="], None),
            (&["deploy", "--output-directory=/x"], None),
            (&["deploy", "--", "--output-dir", "/x"], None),
            (&["deploy", "--scope", "app:x"], None),
        ];
        for (args, expected) in cases {
            let got = RawRun::read(&argv(args), |_| None).output_dir;
            assert_eq!(got, expected.map(PathBuf::from), "{args:?}");
        }
    }

    #[test]
    fn a_flag_wins_over_its_variable() {
        let env = |key: &str| match key {
            "EXECUTOR_OUTPUT_DIR" => Some(OsString::from("/from-env")),
            "TARGET_SCOPE" => Some(OsString::from("app:env")),
            _ => None,
        };
        let raw = RawRun::read(&argv(&["validate", "--scope=app:x", "--frob"]), env);
        assert_eq!(
            raw,
            RawRun {
                action: Some("validate".to_owned()),
                output_dir: Some(PathBuf::from("/from-env")),
                scope: Some("app:x".to_owned()),
                environment: None,
            }
        );
        let raw = RawRun::read(&argv(&["--frob"]), |_| None);
        assert_eq!(raw.action, None);
    }

    #[test]
    fn the_message_is_one_line_without_the_prefix() {
        use clap::Parser as _;
        let error =
            crate::cli::args::Cli::try_parse_from(["executor", "deploy", "--frob"]).unwrap_err();
        let text = message(&error);
        assert!(
            text.starts_with("unexpected argument '--frob' found; "),
            "{text}"
        );
        assert!(text.contains("try '--help'"), "{text}");
        assert!(!text.contains('\n'), "{text}");
    }
}

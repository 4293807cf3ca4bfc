//! A panic is a Failure, never Rust's exit 101: [`install_hook`] logs each
//! panic as one log line, and [`catch`] hands a panic of the run back as a
//! message, for the Failure report.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, Location};

thread_local! {
    /// The last panic on this thread, as the hook described it: the payload
    /// that `catch_unwind` returns does not say where it happened.
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the process's panic hook, once: a panic on any thread becomes
/// one log line (JSON when the logs are) instead of Rust's text on stderr.
/// With `RUST_BACKTRACE` set, Rust's own output follows, backtrace included.
pub fn install_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let text = describe(info.payload(), info.location());
            if tracing::dispatcher::has_been_set() {
                tracing::error!(phase = "panic", "{text}");
            } else {
                eprintln!("{text}");
            }
            if std::env::var_os("RUST_BACKTRACE").is_some() {
                default(info);
            }
            LAST.with(|last| *last.borrow_mut() = Some(text));
        }));
    });
}

/// Runs `body` and returns its value, or the description of its panic.
pub fn catch<T>(body: impl FnOnce() -> T) -> Result<T, String> {
    LAST.with(|last| last.borrow_mut().take());
    std::panic::catch_unwind(AssertUnwindSafe(body)).map_err(|payload| {
        LAST.with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| describe(payload.as_ref(), None))
    })
}

/// `the executor panicked at <file:line:column>: <message>`.
fn describe(payload: &(dyn Any + Send), location: Option<&Location<'_>>) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    match location {
        Some(at) => format!("the executor panicked at {at}: {message}"),
        None => format!("the executor panicked: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_described_by_its_message() {
        let cases: [(Box<dyn Any + Send>, &str); 3] = [
            (Box::new("boom"), "the executor panicked: boom"),
            (
                Box::new(String::from("boom 7")),
                "the executor panicked: boom 7",
            ),
            (
                Box::new(7_u8),
                "the executor panicked: a panic without a message",
            ),
        ];
        for (payload, expected) in cases {
            assert_eq!(describe(payload.as_ref(), None), expected);
        }
    }

    #[test]
    fn a_caught_panic_names_where_it_happened() {
        install_hook();
        assert_eq!(catch(|| 7), Ok(7));
        let text = catch(|| -> u8 { panic!("boom {}", 7) }).unwrap_err();
        assert!(
            text.starts_with("the executor panicked at src/crash.rs:"),
            "{text}"
        );
        assert!(text.ends_with(": boom 7"), "{text}");
    }
}

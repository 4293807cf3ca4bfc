//! Durations as every input writes them (`90s`, `5m`, `1h`, `1500ms`): one
//! parse with the one upper bound, the files' spelling, the form for people,
//! and the serde adapters.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// The longest duration any input may give, in days. A week is longer than
/// any sensible sync, health or wait deadline, and it keeps every deadline
/// computed from an input far from where `Instant + Duration` overflows
/// (`500000000000y` parses, and would panic there).
pub const MAX_DAYS: u64 = 7;

/// [`MAX_DAYS`] as a duration.
pub const MAX: Duration = Duration::from_secs(MAX_DAYS * 24 * 60 * 60);

/// Parses a duration such as `90s`, `5m` or `1h`, at most [`MAX`]. The error
/// is a clause: what is wrong and how to write it.
pub fn parse(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| format!("not a duration ({e}); write it like 90s, 5m or 1h"))?;
    if d > MAX {
        return Err(format!("too long; the most is {MAX_DAYS}d"));
    }
    Ok(d)
}

/// Formats a duration the way the files write it: whole hours, minutes or
/// seconds when exact, else milliseconds. [`parse`] reads it back exactly.
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 => "0s".to_owned(),
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

/// Formats a duration for people: `1h 5m`, `12m 30s`, `800ms`.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let parts: Vec<String> = [(h, "h"), (m, "m"), (s, "s")]
        .iter()
        .filter(|(v, _)| *v > 0)
        .map(|(v, unit)| format!("{v}{unit}"))
        .collect();
    if parts.is_empty() {
        format!("{}ms", d.as_millis())
    } else {
        parts.join(" ")
    }
}

/// [`parse`] for serde: the message is the whole sentence, with serde's line and column.
pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(de)?;
    parse(&text).map_err(|why| serde::de::Error::custom(format!("'{text}' is {why}")))
}

/// serde `with` module for `Option<Duration>` fields: reads like [`deserialize`],
/// writes the files' spelling.
pub mod option {
    use std::time::Duration;

    use serde::{Deserializer, Serializer};

    /// Reads `90s`, `5m`, `1h`.
    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Duration>, D::Error> {
        super::deserialize(de).map(Some)
    }

    /// Writes the shortest exact form.
    pub fn serialize<S: Serializer>(value: &Option<Duration>, ser: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => ser.serialize_str(&super::format(*d)),
            None => ser.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_seconds_minutes_and_hours() {
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse("5").is_err());
    }

    #[test]
    fn durations_are_at_most_a_week() {
        let cases: &[(&str, Result<Duration, &str>)] = &[
            ("7d", Ok(MAX)),
            ("168h", Ok(MAX)),
            ("7d 1s", Err("too long; the most is 7d")),
            ("30d", Err("too long; the most is 7d")),
            ("500000000000y", Err("too long; the most is 7d")),
        ];
        for (text, expected) in cases {
            let got = parse(text);
            assert_eq!(got, expected.map_err(str::to_owned), "{text}");
        }
    }

    #[test]
    fn formats_read_back_exactly() {
        for ms in [
            0, 1, 500, 1500, 1000, 90_000, 60_000, 300_000, 3_600_000, 5_400_000,
        ] {
            let d = Duration::from_millis(ms);
            assert_eq!(parse(&format(d)), Ok(d), "{}", format(d));
        }
    }

    #[test]
    fn human_form_is_short() {
        assert_eq!(human(Duration::from_secs(3900)), "1h 5m");
        assert_eq!(human(Duration::from_secs(750)), "12m 30s");
        assert_eq!(human(Duration::from_millis(800)), "800ms");
    }
}

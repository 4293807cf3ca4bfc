//! Durations in the DAG files, written as environment.yaml writes them
//! (`90s`, `5m`, `1500ms`), and back.

use std::time::Duration;

/// Formats a duration the way the files write it: whole hours, minutes or
/// seconds when exact, else milliseconds.
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

/// serde `with` module for `Option<Duration>` fields.
pub mod option {
    use std::time::Duration;

    use serde::{Deserializer, Serializer};

    /// Reads `90s`, `5m`, `1h`; the error says how to write it, with serde's line and column.
    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Duration>, D::Error> {
        crate::cli::environment::deserialize_duration(de).map(Some)
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
    fn formats_read_back_exactly() {
        for ms in [
            0, 1, 500, 1500, 1000, 90_000, 60_000, 300_000, 3_600_000, 5_400_000,
        ] {
            let d = Duration::from_millis(ms);
            assert_eq!(
                crate::cli::environment::parse_duration(&format(d)),
                Ok(d),
                "{}",
                format(d)
            );
        }
    }

    #[test]
    fn human_form_is_short() {
        assert_eq!(human(Duration::from_secs(3900)), "1h 5m");
        assert_eq!(human(Duration::from_secs(750)), "12m 30s");
        assert_eq!(human(Duration::from_millis(800)), "800ms");
    }
}

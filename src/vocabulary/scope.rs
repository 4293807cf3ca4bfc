//! What an action applies to: `platform`, `stack:<name>` or `app:<name>`.

use std::fmt;

use super::name;

/// What the action applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every node of the DAG.
    Platform,
    /// One stack of the DAG and its children.
    Stack(String),
    /// One Argo CD Application.
    App(String),
}

impl Scope {
    /// Parses `platform`, `stack:<name>` or `app:<name>`; the error is a
    /// clause saying what is wrong and how to write it.
    pub fn parse(text: &str) -> Result<Scope, String> {
        let scope = match text.split_once(':') {
            None if text == "platform" => return Ok(Scope::Platform),
            Some(("stack", n)) if name::valid(n) => Scope::Stack(n.to_owned()),
            Some(("app", n)) if name::valid(n) => Scope::App(n.to_owned()),
            Some((kind @ ("stack" | "app"), "")) => {
                return Err(format!(
                    "the name after '{kind}:' is empty; write it like {kind}:temporal"
                ))
            }
            Some(("stack" | "app", n)) => {
                return Err(format!("'{n}' is not a valid name; {}", name::NAME_RULE))
            }
            _ => return Err("expected platform, stack:<name> or app:<name>".to_owned()),
        };
        Ok(scope)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Platform => f.write_str("platform"),
            Scope::Stack(name) => write!(f, "stack:{name}"),
            Scope::App(name) => write!(f, "app:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_as_the_contract_spells_them() {
        assert_eq!(Scope::parse("platform"), Ok(Scope::Platform));
        assert_eq!(Scope::parse("stack:data"), Ok(Scope::Stack("data".into())));
        assert_eq!(
            Scope::parse("app:temporal"),
            Ok(Scope::App("temporal".into()))
        );
        for bad in [
            "",
            "app:",
            "app:Temporal",
            "apps:x",
            "stack",
            "platform:x",
            "app:-x",
            "app:a b",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}

//! A field comparison over an object's JSON: `status.ceph.health` equals
//! `HEALTH_OK`, `status.phase` is one of `[Ready, Connected]`. The path is
//! kubectl's JSONPath in its simple form: dot-separated keys, `[N]` for an
//! index, an optional leading `.` and optional enclosing `{}`.

use serde_json::Value;

use super::finding::Finding;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A parsed path, with the text it was written as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    text: String,
    steps: Vec<Step>,
}

impl Path {
    /// Parses `text`; the error says what is wrong, for health.yaml's message.
    pub fn parse(text: &str) -> Result<Path, String> {
        let inner = text.trim();
        let inner = inner
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(inner);
        let inner = inner.strip_prefix('.').unwrap_or(inner);
        if inner.is_empty() {
            return Err("is empty; write a path such as status.phase".to_owned());
        }
        let mut steps = Vec::new();
        for part in inner.split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(at) => part.split_at(at),
                None => (part, ""),
            };
            if key.is_empty() && rest.is_empty() {
                return Err(format!("'{text}' has an empty step"));
            }
            if !key.is_empty() {
                steps.push(Step::Key(key.to_owned()));
            }
            while !rest.is_empty() {
                let index = rest
                    .strip_prefix('[')
                    .and_then(|r| r.split_once(']'))
                    .and_then(|(n, after)| n.parse::<usize>().ok().map(|n| (n, after)));
                let Some((n, after)) = index else {
                    return Err(format!(
                        "'{text}': only keys and [N] indexes are supported (filters such as [?(@.type==\"Ready\")] are not; use `condition:` for conditions)"
                    ));
                };
                steps.push(Step::Index(n));
                rest = after;
            }
        }
        Ok(Path {
            text: text.trim().to_owned(),
            steps,
        })
    }

    /// The value at this path in `object`.
    pub fn lookup<'a>(&self, object: &'a Value) -> Option<&'a Value> {
        self.steps.iter().try_fold(object, |at, step| match step {
            Step::Key(key) => at.get(key),
            Step::Index(n) => at.get(n),
        })
    }
}

impl Path {
    /// Sets the value at this path in `object`, making the objects and
    /// arrays on the way (an array is padded with nulls up to an index).
    pub fn set(&self, object: &mut Value, value: Value) {
        let mut at = object;
        for step in &self.steps {
            at = match step {
                Step::Key(key) => {
                    if !at.is_object() {
                        *at = Value::Object(serde_json::Map::new());
                    }
                    at.as_object_mut()
                        .map(|o| o.entry(key.clone()).or_insert(Value::Null))
                        .expect("made an object above")
                }
                Step::Index(n) => {
                    if !at.is_array() {
                        *at = Value::Array(Vec::new());
                    }
                    let items = at.as_array_mut().expect("made an array above");
                    if items.len() <= *n {
                        items.resize(n + 1, Value::Null);
                    }
                    &mut items[*n]
                }
            };
        }
        *at = value;
    }
}

impl Expect {
    /// A value that meets it: the one it equals, the first it may be, or
    /// any, for a field that only has to be set.
    pub fn example(&self) -> Value {
        match self {
            Expect::Equals(v) => v.clone(),
            Expect::In(values) => values.first().cloned().unwrap_or(Value::Null),
            Expect::Exists => Value::String("set".to_owned()),
        }
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// What the field must be.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// Equal to this value.
    Equals(Value),
    /// One of these values.
    In(Vec<Value>),
    /// Set, to anything but null.
    Exists,
}

/// A field and what it must be.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRule {
    /// Where the field is.
    pub path: Path,
    /// What it must be.
    pub expect: Expect,
}

/// Scalars compare by their text too, so that `equals: "3"` matches 3 and
/// `equals: 3` matches "3": health.yaml is written by people.
fn same(a: &Value, b: &Value) -> bool {
    fn text(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    a == b || matches!((text(a), text(b)), (Some(x), Some(y)) if x == y)
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl FieldRule {
    /// Judges `object`: a field that is not set yet is Progressing (a
    /// controller may still write it), a different value is Progressing too,
    /// with what it is and what it must be.
    pub fn judge(&self, object: &Value) -> Finding {
        let path = &self.path;
        let found = self.path.lookup(object).filter(|v| !v.is_null());
        let Some(found) = found else {
            return Finding::progressing(format!("{path} is not set"));
        };
        match &self.expect {
            Expect::Exists => Finding::healthy(format!("{path} is {}", shown(found))),
            Expect::Equals(wanted) if same(found, wanted) => {
                Finding::healthy(format!("{path} is {}", shown(found)))
            }
            Expect::Equals(wanted) => Finding::progressing(format!(
                "{path} is {}, expected {}",
                shown(found),
                shown(wanted)
            )),
            Expect::In(allowed) if allowed.iter().any(|a| same(found, a)) => {
                Finding::healthy(format!("{path} is {}", shown(found)))
            }
            Expect::In(allowed) => Finding::progressing(format!(
                "{path} is {}, expected one of {}",
                shown(found),
                allowed.iter().map(shown).collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::finding::Health;
    use serde_json::json;

    /// What `set` writes, `lookup` reads back, and the rule's example meets it.
    #[test]
    fn set_makes_the_path_and_the_example_meets_the_rule() {
        let cases = [
            (
                "status.ceph.health",
                Expect::In(vec![json!("HEALTH_OK"), json!("HEALTH_WARN")]),
            ),
            ("status.readyReplicas", Expect::Equals(json!(3))),
            ("status.items[2].name", Expect::Exists),
        ];
        for (text, expect) in cases {
            let mut object = json!({"status": {"phase": "Ready"}});
            let path = Path::parse(text).unwrap();
            path.set(&mut object, expect.example());
            assert_eq!(object["status"]["phase"], "Ready", "{text}: the rest kept");
            let rule = FieldRule { path, expect };
            assert_eq!(
                rule.judge(&object).health,
                Health::Healthy,
                "{text}: {object}"
            );
        }
    }

    #[test]
    fn paths_parse_in_kubectl_simple_form_and_bad_ones_say_why() {
        let object = json!({"status": {"phase": "Ready", "items": [{"a": 1}, {"a": 2}]}});
        let found = [
            ("status.phase", Some(json!("Ready"))),
            (".status.phase", Some(json!("Ready"))),
            ("{.status.phase}", Some(json!("Ready"))),
            ("status.items[1].a", Some(json!(2))),
            ("status.items[2].a", None),
            ("status.nope", None),
        ];
        for (text, expected) in found {
            let path = Path::parse(text).unwrap();
            assert_eq!(path.lookup(&object).cloned(), expected, "{text}");
        }
        for (text, problem) in [
            ("", "is empty"),
            ("status..phase", "empty step"),
            (
                "status.conditions[?(@.type==\"Ready\")]",
                "use `condition:`",
            ),
            ("status.items[x]", "only keys and [N]"),
        ] {
            let error = Path::parse(text).unwrap_err();
            assert!(error.contains(problem), "{text}: {error}");
        }
    }

    #[test]
    fn a_field_rule_judges_set_unset_equal_and_different_values() {
        let rule = |expect| FieldRule {
            path: Path::parse("status.ceph.health").unwrap(),
            expect,
        };
        let ok = json!({"status": {"ceph": {"health": "HEALTH_OK"}}});
        let warn = json!({"status": {"ceph": {"health": "HEALTH_WARN"}}});
        let unset = json!({"status": {"ceph": {"health": null}}});
        let replicas = json!({"status": {"ceph": {"health": 3}}});
        let cases = [
            (
                rule(Expect::Equals(json!("HEALTH_OK"))),
                &ok,
                Health::Healthy,
                "status.ceph.health is HEALTH_OK",
            ),
            (
                rule(Expect::Equals(json!("HEALTH_OK"))),
                &warn,
                Health::Progressing,
                "status.ceph.health is HEALTH_WARN, expected HEALTH_OK",
            ),
            (
                rule(Expect::Equals(json!("HEALTH_OK"))),
                &unset,
                Health::Progressing,
                "status.ceph.health is not set",
            ),
            (
                rule(Expect::In(vec![json!("HEALTH_OK"), json!("HEALTH_WARN")])),
                &warn,
                Health::Healthy,
                "status.ceph.health is HEALTH_WARN",
            ),
            (
                rule(Expect::In(vec![json!("HEALTH_OK")])),
                &warn,
                Health::Progressing,
                "status.ceph.health is HEALTH_WARN, expected one of HEALTH_OK",
            ),
            (
                rule(Expect::Exists),
                &warn,
                Health::Healthy,
                "status.ceph.health is HEALTH_WARN",
            ),
            (
                rule(Expect::Exists),
                &unset,
                Health::Progressing,
                "status.ceph.health is not set",
            ),
            (
                rule(Expect::Equals(json!("3"))),
                &replicas,
                Health::Healthy,
                "status.ceph.health is 3",
            ),
        ];
        for (rule, object, health, message) in cases {
            let found = rule.judge(object);
            assert_eq!(
                (found.health, found.message.as_str()),
                (health, message),
                "{rule:?}"
            );
        }
    }
}

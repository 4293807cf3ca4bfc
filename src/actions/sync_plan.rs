//! What a deploy's sync request asks for: the sync options merged with the
//! app's own, and `prune`. Pure, so the rules are table-tested.
//!
//! Argo CD uses the request's `syncOptions` *instead of* the app's
//! `spec.syncPolicy.syncOptions`, and takes `prune` only from the request
//! (argo-cd `server/application/application.go`, `Server.Sync`: `syncOptions =
//! a.Spec.SyncPolicy.SyncOptions` unless `syncReq.SyncOptions != nil`;
//! `Prune: syncReq.GetPrune()`). Sending environment.yaml's options alone would
//! drop an app's `CreateNamespace=true`, so they are only ever sent merged.

use crate::argocd::types::{Application, SyncOptions};

/// The parts of a sync request that depend on the app and environment.yaml.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncPlan {
    /// `syncOptions` to send: `None` leaves the app's own in force.
    pub options: Option<SyncOptions>,
    /// `prune` to send.
    pub prune: bool,
    /// Decisions worth a line in the report (an option of the app's that won a conflict).
    pub notes: Vec<String>,
}

/// The key of a `Key=Value` sync option (the whole option when it has no `=`).
fn key(option: &str) -> &str {
    option.split_once('=').map_or(option, |(k, _)| k).trim()
}

/// Merges environment.yaml's `sync` settings with the app's own policy.
///
/// - options: the union by key; on a conflict the app's own value wins, and a note says so;
/// - prune: environment.yaml's `sync.prune` when set, else the app's `syncPolicy.automated.prune`.
pub fn plan(app: &Application, env_prune: Option<bool>, env_options: &[String]) -> SyncPlan {
    let policy = app.spec.sync_policy.as_ref();
    let own: &[String] = policy
        .map(|p| p.sync_options.as_slice())
        .unwrap_or_default();
    let mut notes = Vec::new();
    let options = (!env_options.is_empty()).then(|| {
        let mut items = own.to_vec();
        for option in env_options {
            match own.iter().find(|o| key(o) == key(option)) {
                Some(mine) if mine.trim() != option.trim() => notes.push(format!(
                    "sync option {option} from environment.yaml conflicts with the app's own {mine}; kept the app's"
                )),
                Some(_) => {}
                None if items.iter().any(|o| key(o) == key(option)) => {}
                None => items.push(option.clone()),
            }
        }
        SyncOptions { items }
    });
    let prune = env_prune.unwrap_or_else(|| {
        policy
            .and_then(|p| p.automated.as_ref())
            .and_then(|a| a.prune)
            .unwrap_or(false)
    });
    SyncPlan {
        options,
        prune,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argocd::types::{SyncPolicy, SyncPolicyAutomated};

    fn app(own: &[&str], automated_prune: Option<bool>) -> Application {
        let mut app = Application::default();
        app.spec.sync_policy = Some(SyncPolicy {
            automated: automated_prune.map(|p| SyncPolicyAutomated {
                prune: Some(p),
                self_heal: None,
            }),
            sync_options: own.iter().map(|s| s.to_string()).collect(),
            ..SyncPolicy::default()
        });
        app
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_are_a_union_by_key_where_the_app_wins() {
        struct Row {
            name: &'static str,
            own: &'static [&'static str],
            env: &'static [&'static str],
            sent: Option<&'static [&'static str]>,
            notes: usize,
        }
        let rows = [
            Row {
                name: "no options in environment.yaml: send none, the app's own apply",
                own: &["CreateNamespace=true"],
                env: &[],
                sent: None,
                notes: 0,
            },
            Row {
                name: "disjoint keys: the app's first, then environment.yaml's",
                own: &["CreateNamespace=true"],
                env: &["ServerSideApply=true"],
                sent: Some(&["CreateNamespace=true", "ServerSideApply=true"]),
                notes: 0,
            },
            Row {
                name: "same key, same value: once",
                own: &["CreateNamespace=true"],
                env: &["CreateNamespace=true", "PruneLast=true"],
                sent: Some(&["CreateNamespace=true", "PruneLast=true"]),
                notes: 0,
            },
            Row {
                name: "conflict: the app's value wins and a note says so",
                own: &["ServerSideApply=false"],
                env: &["ServerSideApply=true"],
                sent: Some(&["ServerSideApply=false"]),
                notes: 1,
            },
            Row {
                name: "an app without options gets environment.yaml's",
                own: &[],
                env: &["ApplyOutOfSyncOnly=true"],
                sent: Some(&["ApplyOutOfSyncOnly=true"]),
                notes: 0,
            },
            Row {
                name: "a repeated key in environment.yaml is sent once",
                own: &[],
                env: &["Validate=false", "Validate=false"],
                sent: Some(&["Validate=false"]),
                notes: 0,
            },
        ];
        for row in rows {
            let plan = plan(&app(row.own, None), None, &strings(row.env));
            assert_eq!(
                plan.options.map(|o| o.items),
                row.sent.map(strings),
                "{}",
                row.name
            );
            assert_eq!(
                plan.notes.len(),
                row.notes,
                "{}: {:?}",
                row.name,
                plan.notes
            );
            if let Some(note) = plan.notes.first() {
                assert!(note.contains("kept the app's"), "{note}");
            }
        }
    }

    #[test]
    fn prune_comes_from_environment_yaml_else_the_apps_automated_policy() {
        let rows = [
            ("unset everywhere: off", None, None, false),
            (
                "unset in environment.yaml, the app prunes: on",
                None,
                Some(true),
                true,
            ),
            (
                "environment.yaml says off: off, whatever the app says",
                Some(false),
                Some(true),
                false,
            ),
            ("environment.yaml says on", Some(true), None, true),
        ];
        for (name, env, automated, want) in rows {
            assert_eq!(plan(&app(&[], automated), env, &[]).prune, want, "{name}");
        }
    }
}

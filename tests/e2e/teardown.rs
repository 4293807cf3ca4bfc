//! teardown against the real Argo CD and API server.

use std::time::Duration;

use executor::exit::ExitCode;

use crate::expect::{self, eventually};
use crate::fixture::{self, assert_code, assert_status, App, Executor, ENVIRONMENT};

const LIMIT: Duration = Duration::from_secs(120);

/// A deployed app is deleted with its resources (foreground cascade, through
/// the real garbage collector): the Application and its ConfigMap are gone.
#[test]
fn teardown_removes_the_app_and_its_resources() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let app = App::deployed(stack, "down");
    let scope = app.scope();
    assert!(stack
        .get("configmap", app.namespace(), "settings")
        .is_some());
    let run = Executor::new(stack, "")
        .args(&["--scope", &scope, "--confirm", ENVIRONMENT])
        .run(stack, "teardown", LIMIT);
    assert_code(&run, ExitCode::SUCCESS);
    assert_status(&run, &app.name, "removed");
    expect::application_gone(&app).unwrap_or_else(|e| panic!("{e}\n{}", run.show()));
    eventually(
        "the ConfigMap to be deleted",
        Duration::from_secs(30),
        || match stack.get("configmap", app.namespace(), "settings") {
            None => Ok(()),
            Some(_) => Err("still there".to_owned()),
        },
    );
}

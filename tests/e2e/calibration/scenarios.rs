//! The calibration scenarios, one `#[test]` each.

use std::time::Duration;

use executor::sim::AppScenario;
use serde_json::json;

use crate::fixture;

use super::drive::*;
use super::shape::*;

/// Plays a new app's sync [`RUNS`] times on the real stack and once in the
/// simulator, checks the rules both share and compares the traces.
fn calibrate_new_app(title: &str, play: Play, known: &[Known]) {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let rt = runtime();
    let reals = runs(stack, || real_sync(stack, &rt, play));
    let sim = sim_sync(&rt, play);
    let sides = reals
        .iter()
        .enumerate()
        .map(|(i, real)| (format!("real #{}", i + 1), Side::Real, real.as_slice()));
    for (label, side, trace) in sides.chain([("simulator".to_owned(), Side::Sim, sim.as_slice())]) {
        holds(&label, operation_pending_before_running(trace));
        holds(&label, operation_cleared_with_the_final_phase(trace));
        holds(
            &label,
            operation_ends_with_the_pre_sync_comparison(trace, play.phase(), side),
        );
        holds(&label, play.last_rule(trace));
    }
    assert!(
        stale_tie(&sim).is_some(),
        "simulator: no stale same-second update after the end:{}",
        show(&sim)
    );
    compare(title, &sim, &reals, known);
}

/// Calibrates a new app's sync to Healthy: a pending `operation`, Running
/// with the last comparison's health (Missing), the end (Succeeded,
/// `operation` cleared) with the pre-sync OutOfSync/Missing and `reconciledAt`
/// before `finishedAt`, the same-second stale update (required of the
/// simulator, a race on the real side), then Synced/Healthy assessed at or
/// after the finish. The real side often adds Synced/Healthy with
/// `reconciledAt` still before `finishedAt`: a refresh caused by a managed
/// resource's update compares at `CompareWithRecent`, which does not stamp
/// `reconciledAt` (`processAppRefreshQueueItem` in
/// `controller/appcontroller.go`); a stamped update always follows it.
#[test]
fn calibrate_a_new_app_synced_to_healthy() {
    calibrate_new_app("new app → sync → Healthy", Play::Healthy, &[]);
}

/// Calibrates a new app's sync to Degraded (the Widget flipped once applied;
/// `SimOutcome::Degraded` in the simulator): the same operation steps, then
/// Synced/Degraded assessed at or after the finish. The real side shows
/// Progressing first (the Widget before the flip), also with `reconciledAt`
/// before `finishedAt`; the simulator goes straight to Degraded, which the
/// subsequence check allows.
#[test]
fn calibrate_a_new_app_synced_to_degraded() {
    calibrate_new_app("new app → sync → Degraded", Play::Degraded, &[]);
}

/// Calibrates a failed operation (an apply the API server rejects, no retry;
/// `SimOutcome::OperationFailed`): pending, Running, then phase Failed with
/// `operation` cleared and the pre-sync OutOfSync/Missing, `reconciledAt`
/// before `finishedAt`; later updates stay OutOfSync. Known difference: the
/// simulator then assesses Degraded (`outcome_health` in `src/sim/model.rs`,
/// applied by `Store::reconcile` in `src/sim/operations.rs`), while nothing of
/// a rejected apply exists, so the real app stays Missing.
#[test]
fn calibrate_a_failed_operation() {
    calibrate_new_app(
        "failed operation",
        Play::Failed,
        &[Known {
            what:
                "after a rejected apply the simulator assesses Degraded; the real app stays Missing",
            step: |s| s.ended() && s.health == "Degraded",
        }],
    );
}

/// Calibrates the teardown of a Healthy app (synced first, the same way on
/// both sides): the DELETE's finalizer patch, `deletionTimestamp`, then
/// DELETED as the last event. Known difference: as its resources are deleted,
/// the real controller compares the app again (Synced/Progressing or
/// OutOfSync/Missing, `reconciledAt` unchanged) before it goes, so it is never
/// DELETED Healthy; the simulator removes it as it was (`fire`'s
/// `Step::Remove` in `src/sim/controller.rs`).
#[test]
fn calibrate_the_teardown_of_a_healthy_app() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let rt = runtime();
    // A stalled sync is deleted all the same, so the real app never stays behind.
    let teardown = |target: &Target, name: &str, quiet: Duration| {
        let played = play_sync(&rt, target, name, Play::Healthy, quiet, || {});
        let from = played.as_ref().map_or(0, |(rec, _)| rec.last());
        rt.block_on(target.delete(name))
            .unwrap_or_else(|e| panic!("{e}"));
        let (rec, _) = played?;
        rec.wait("DELETED", from, |s| s.event == Event::Deleted);
        Ok(collapse(rec.shapes(from)))
    };
    let reals = runs(stack, || {
        let app = real_app(stack, "cal-down", Play::Healthy);
        teardown(&Target::executor(stack), &app.name, REAL_QUIET)
    });
    let sim = {
        let sim = simulator(&rt, AppScenario::named(SIM_APP));
        teardown(&Target::sim(&sim), SIM_APP, SIM_QUIET)
            .unwrap_or_else(|e| panic!("simulator: {e}"))
    };
    for (i, real) in reals.iter().enumerate() {
        holds(&format!("real #{}", i + 1), marked_then_deleted(real));
    }
    holds("simulator", marked_then_deleted(&sim));
    compare(
        "teardown of a Healthy app",
        &sim,
        &reals,
        &[Known {
            what: "the real app is compared again as its resources go; the simulator deletes it Synced/Healthy",
            step: |s| s.event == Event::Deleted && s.health == "Healthy",
        }],
    );
}

/// Calibrates someone else's operation: on the real side `admin` syncs a new
/// app while the stream is watched; in the simulator, `foreign_operation` has
/// alice's sync Running from the start (so no pending step there). Both end
/// with `operation` cleared and Synced/Healthy assessed at or after the finish.
/// While the foreign operation runs, both keep the last comparison's health
/// (Missing for a new app): the simulator once showed Progressing there.
#[test]
fn calibrate_someone_elses_operation() {
    let stack = require_stack!();
    let _shared = fixture::shared();
    let rt = runtime();
    let password = std::fs::read_to_string(stack.var("ARGOCD_ADMIN_PASSWORD_FILE"))
        .expect("the admin password");
    let session = rt
        .block_on(Target::executor(stack).call(
            reqwest::Method::POST,
            "/api/v1/session",
            Some(json!({"username": "admin", "password": password.trim()})),
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let admin_token = session["token"].as_str().expect("a session token");
    let reals = runs(stack, || {
        let app = real_app(stack, "cal-foreign", Play::Healthy);
        let admin = Target::real(stack, admin_token.to_owned());
        let trace = play_sync(&rt, &admin, &app.name, Play::Healthy, REAL_QUIET, || {})
            .map(|(rec, from)| collapse(rec.shapes(from)));
        clean_up(&rt, &admin, &app.name);
        trace
    });
    let sim = {
        let sim = simulator(
            &rt,
            AppScenario {
                foreign_operation: Some(Duration::from_millis(300)),
                ..Play::Healthy.sim_app()
            },
        );
        let rec = rt
            .block_on(Target::sim(&sim).watch(SIM_APP))
            .unwrap_or_else(|e| panic!("{e}"));
        rec.settle(
            "Healthy after alice's sync",
            0,
            |s| Play::Healthy.done(s),
            SIM_QUIET,
        );
        collapse(rec.shapes(0))
    };
    for (i, real) in reals.iter().enumerate() {
        let side = format!("real #{}", i + 1);
        holds(&side, operation_pending_before_running(real));
        holds(
            &side,
            operation_ends_with_the_pre_sync_comparison(real, "Succeeded", Side::Real),
        );
    }
    for (i, trace) in reals.iter().chain([&sim]).enumerate() {
        let side = format!("trace #{}", i + 1);
        holds(&side, operation_cleared_with_the_final_phase(trace));
        holds(&side, Play::Healthy.last_rule(trace));
    }
    compare("someone else's operation", &sim, &reals, &[]);
}

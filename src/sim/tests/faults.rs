//! Injected faults: unavailability, rate limiting, dropped streams, slow answers.

use std::time::{Duration, Instant};

use super::support::{fast, get, Next, Watch, TOKEN};
use crate::sim::{Faults, Scenario, Simulator};

async fn start_with(faults: Faults, names: &[&str]) -> Simulator {
    let scenario = Scenario {
        apps: names.iter().map(|n| fast(n)).collect(),
        faults,
        ..Scenario::with_apps(TOKEN, &[])
    };
    Simulator::start(scenario).await.unwrap()
}

/// The first requests get 503 code 14, the next 429 with Retry-After, then service resumes.
#[tokio::test]
async fn unavailable_then_rate_limited_then_served() {
    let faults = Faults {
        unavailable_first: 2,
        rate_limited_first: 1,
        retry_after_secs: 7,
        ..Faults::default()
    };
    let sim = start_with(faults, &["web"]).await;
    let path = "/api/v1/applications/web";

    let answer = get(&sim, path).await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.body["code"], 14);
    assert_eq!(get(&sim, path).await.status, 503);
    let answer = get(&sim, path).await;
    assert_eq!(answer.status, 429);
    assert_eq!(answer.headers.get("retry-after").unwrap(), "7");
    assert_eq!(answer.body["message"], "too many requests");
    assert_eq!(get(&sim, path).await.status, 200);

    let statuses: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 429, 200]);
}

/// The first stream connection is closed after K events; the next one is not.
#[tokio::test]
async fn drop_stream_after_closes_the_first_connection() {
    let faults = Faults {
        drop_stream_after: Some(2),
        ..Faults::default()
    };
    let sim = start_with(faults, &["a", "b", "c"]).await;

    let (_, _, mut first) = Watch::open(&sim, "").await;
    first.event().await;
    first.event().await;
    assert!(matches!(
        first.next(Duration::from_secs(1)).await,
        Next::End
    ));

    let (_, _, mut second) = Watch::open(&sim, "").await;
    for _ in 0..3 {
        second.event().await;
    }
    assert!(matches!(
        second.next(Duration::from_millis(100)).await,
        Next::Silent
    ));
}

/// With `drop_stream_abort` the dropped body fails instead of ending.
#[tokio::test]
async fn drop_stream_abort_fails_the_body() {
    let faults = Faults {
        drop_stream_after: Some(1),
        drop_stream_times: 2,
        drop_stream_abort: true,
        ..Faults::default()
    };
    let sim = start_with(faults, &["a", "b"]).await;
    for _ in 0..2 {
        let (_, _, mut watch) = Watch::open(&sim, "").await;
        watch.event().await;
        assert!(matches!(
            watch.next(Duration::from_secs(1)).await,
            Next::Error
        ));
    }
    let (_, _, mut third) = Watch::open(&sim, "").await;
    third.event().await;
    third.event().await;
}

/// `response_delay` slows every non-stream answer.
#[tokio::test]
async fn response_delay_slows_answers() {
    let faults = Faults {
        response_delay: Duration::from_millis(60),
        ..Faults::default()
    };
    let sim = start_with(faults, &["web"]).await;
    let started = Instant::now();
    assert_eq!(get(&sim, "/api/v1/applications/web").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(60));
}

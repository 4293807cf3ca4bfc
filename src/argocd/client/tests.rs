//! Unit tests of the queries the client builds for apps in and outside Argo
//! CD's namespace; the requests themselves are checked against the simulator
//! in `tests/it/deploy.rs`.

use super::*;

/// A client for `https://argocd.example.com` whose `web` lives in `team-a`
/// and whose `root` is written with Argo CD's own namespace.
fn client(project: Option<&str>) -> Client {
    Client::new(ClientOptions {
        base: Url::parse("https://argocd.example.com").unwrap(),
        token: "t".into(),
        ca_pem: None,
        project: project.map(str::to_owned),
        argocd_namespace: "argocd".into(),
        app_namespaces: [("web", "team-a"), ("root", "argocd")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        max_attempts: 1,
        backoff: Duration::ZERO,
        traceparent: None,
    })
    .unwrap()
}

#[test]
fn per_app_queries_carry_the_project_and_the_app_namespace() {
    let c = client(Some("platform"));
    assert_eq!(
        c.app_query("web"),
        [("project", "platform"), ("appNamespace", "team-a")]
    );
    assert_eq!(
        c.app_query("root"),
        [("project", "platform"), ("appNamespace", "argocd")]
    );
    assert_eq!(c.app_query("api"), [("project", "platform")]);
    assert!(client(None).app_query("api").is_empty());
    assert_eq!(
        client(None).filter(Some("web")),
        [("name", "web"), ("appNamespace", "team-a")]
    );
    assert_eq!(client(None).filter(Some("api")), [("name", "api")]);
    assert_eq!(c.filter(None), [("projects", "platform")]);
}

#[test]
fn each_app_has_one_namespace() {
    let c = client(None);
    assert_eq!(c.app_namespace("web"), Some("team-a"));
    assert_eq!(c.app_namespace("api"), None);
    assert_eq!(c.namespace_of("web"), "team-a");
    assert_eq!(c.namespace_of("api"), "argocd");
}

/// Argo CD's RBAC object names the namespace only outside its own
/// (`util/security/rbac.go`, `RBACName`).
#[test]
fn rbac_objects_name_the_namespace_only_outside_argocd() {
    let c = client(Some("platform"));
    assert_eq!(c.rbac_name("platform", "web"), "platform/team-a/web");
    assert_eq!(c.rbac_name("platform", "root"), "platform/root");
    assert_eq!(c.rbac_name("*", "api"), "*/api");
}

#[test]
fn endpoints_name_no_application() {
    let cases = [
        (
            Method::GET,
            "/api/v1/applications",
            "GET /api/v1/applications",
        ),
        (
            Method::GET,
            "/api/v1/applications/temporal",
            "GET /api/v1/applications/{name}",
        ),
        (
            Method::POST,
            "/api/v1/applications/temporal/sync",
            "POST /api/v1/applications/{name}/sync",
        ),
        (
            Method::DELETE,
            "/api/v1/applications/temporal/operation",
            "DELETE /api/v1/applications/{name}/operation",
        ),
        (
            Method::GET,
            "/api/v1/account/can-i/applications/get/platform/temporal",
            "GET /api/v1/account/can-i/{resource}/{action}/{object}",
        ),
        (
            Method::GET,
            "/api/v1/stream/applications",
            "GET /api/v1/stream/applications",
        ),
        (
            Method::GET,
            "/api/v1/session/userinfo",
            "GET /api/v1/session/userinfo",
        ),
    ];
    for (method, path, want) in cases {
        assert_eq!(endpoint(&method, path), want, "{path}");
    }
}

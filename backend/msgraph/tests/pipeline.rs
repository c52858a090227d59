//! Retries, paging, batching, concurrency lanes, timeouts and error mapping
//! against a local HTTP server.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns; test code only

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use edu_msgraph::{
    BatchRequest, DeltaItem, DeltaStart, GraphAuth, GraphClient, GraphError, GraphRequest, GraphSettings, PageOptions,
    RemovedReason, RequestBody,
};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::json;
use support::{RecordingSleeper, Resp, TestServer, serve};

fn auth() -> GraphAuth {
    GraphAuth::delegated("tenant-a", SecretString::from("user-token-A"))
}

fn client(server: &TestServer, settings: GraphSettings) -> (GraphClient, Arc<RecordingSleeper>) {
    let _ = server;
    let sleeper = Arc::new(RecordingSleeper::default());
    let c = GraphClient::with_sleeper(settings, None, sleeper.clone()).unwrap();
    (c, sleeper)
}

/// Server answering `first` for the first `n` calls, then 200 `{"id":"u1"}`.
async fn flaky(n: usize, first: Resp) -> TestServer {
    let calls = Arc::new(AtomicUsize::new(0));
    serve(move |_req| {
        let calls = calls.clone();
        let first = first.clone();
        async move {
            if calls.fetch_add(1, Ordering::SeqCst) < n {
                first
            } else {
                Resp::json(200, json!({"id": "u1", "displayName": "Adele"}))
            }
        }
    })
    .await
}

fn throttled_body() -> serde_json::Value {
    json!({"error": {"code": "TooManyRequests", "message": "Please retry again later.",
        "innerError": {"code": "429", "date": "2020-08-18T12:51:51", "message": "Please retry after",
        "request-id": "94fb3b52-452a-4535-a601-69e0a90e3aa2", "status": "429"}}})
}

#[tokio::test]
async fn retry_after_integer_seconds_is_honoured() {
    let server = flaky(1, Resp::json(429, throttled_body()).header("Retry-After", "1")).await;
    let (c, sleeper) = client(&server, server.settings());
    let user: edu_msgraph::models::User = c.get(&auth(), "/users/u1?$select=id").await.unwrap();
    assert_eq!(user.id, "u1");
    assert_eq!(sleeper.delays(), vec![Duration::from_secs(1)]);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].header("Retry-Attempt"), None);
    assert_eq!(reqs[1].header("Retry-Attempt"), Some("1"));
    assert_eq!(reqs[0].header("client-request-id"), reqs[1].header("client-request-id"));
    assert_eq!(reqs[0].header("authorization"), Some("Bearer user-token-A"));
    assert_eq!(reqs[0].target, "/graph/v1.0/users/u1?$select=id");
}

#[tokio::test]
async fn retry_after_decimal_seconds_is_honoured() {
    let server = flaky(1, Resp::json(429, throttled_body()).header("Retry-After", "0.5")).await;
    let (c, sleeper) = client(&server, server.settings());
    c.get::<serde_json::Value>(&auth(), "/me?$select=id").await.unwrap();
    assert_eq!(sleeper.delays(), vec![Duration::from_millis(500)]);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    let when = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
    let server = flaky(1, Resp::json(429, throttled_body()).header("Retry-After", &when)).await;
    let (c, sleeper) = client(&server, server.settings());
    c.get::<serde_json::Value>(&auth(), "/me?$select=id").await.unwrap();
    let delays = sleeper.delays();
    assert_eq!(delays.len(), 1);
    assert!(delays[0] > Duration::from_secs(27) && delays[0] <= Duration::from_secs(30), "{delays:?}");
}

#[tokio::test]
async fn service_unavailable_without_retry_after_backs_off_exponentially() {
    let server = flaky(3, Resp::empty(503)).await;
    let (c, sleeper) = client(&server, server.settings());
    c.get::<serde_json::Value>(&auth(), "/me?$select=id").await.unwrap();
    let delays = sleeper.delays();
    assert_eq!(delays.len(), 3);
    for (n, d) in delays.iter().enumerate() {
        let ceiling = Duration::from_secs(3 * (1 << n));
        assert!(*d >= ceiling / 2 && *d <= ceiling, "retry {n}: {d:?} not in [{:?}, {ceiling:?}]", ceiling / 2);
    }
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn gateway_timeout_is_retried() {
    let server = flaky(1, Resp::empty(504)).await;
    let (c, sleeper) = client(&server, server.settings());
    c.get::<serde_json::Value>(&auth(), "/me?$select=id").await.unwrap();
    assert_eq!(sleeper.delays().len(), 1);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn retries_are_bounded_and_end_in_throttled() {
    let server =
        flaky(usize::MAX, Resp::json(429, throttled_body()).header("Retry-After", "2").header("request-id", "hdr-id"))
            .await;
    let mut s = server.settings();
    s.max_retries = 2;
    let (c, sleeper) = client(&server, s);
    let err = c.get::<serde_json::Value>(&auth(), "/me?$select=id").await.unwrap_err();
    assert_eq!(server.requests().len(), 3);
    assert_eq!(sleeper.delays(), vec![Duration::from_secs(2); 2]);
    match &err {
        GraphError::Throttled { retry_after, .. } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(2)))
        }
        other => panic!("expected Throttled, got {other:?}"),
    }
    assert_eq!(err.code(), Some("TooManyRequests"));
    // innerError request-id wins over the header.
    assert_eq!(err.request_id(), Some("94fb3b52-452a-4535-a601-69e0a90e3aa2"));
    assert_eq!(err.status(), Some(429));
}

#[tokio::test]
async fn max_retries_is_clamped_to_ten() {
    let server = flaky(usize::MAX, Resp::empty(503)).await;
    let mut s = server.settings();
    s.max_retries = 50;
    s.retry_budget = Duration::from_secs(100_000);
    let (c, _sleeper) = client(&server, s);
    let err = c.get::<serde_json::Value>(&auth(), "/me?$select=id").await.unwrap_err();
    assert!(matches!(err, GraphError::Server(_)), "{err:?}");
    assert_eq!(server.requests().len(), 11);
}

#[tokio::test]
async fn retry_after_above_the_cap_is_returned_not_waited() {
    let server = flaky(usize::MAX, Resp::json(429, throttled_body()).header("Retry-After", "600")).await;
    let (c, sleeper) = client(&server, server.settings());
    let err = c.get::<serde_json::Value>(&auth(), "/me?$select=id").await.unwrap_err();
    assert!(sleeper.delays().is_empty());
    assert_eq!(server.requests().len(), 1);
    assert!(matches!(
        err,
        GraphError::Throttled { retry_after: Some(d), .. } if d == Duration::from_secs(600)
    ));
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    for (status, code) in [
        (400, "Request_BadRequest"),
        (401, "InvalidAuthenticationToken"),
        (403, "Authorization_RequestDenied"),
        (404, "Request_ResourceNotFound"),
        (409, "Conflict"),
    ] {
        let body = json!({"error": {"code": code, "message": "m",
            "innerError": {"request-id": format!("rid-{status}"), "date": "2021-05-18T19:03:10"}}});
        let server = flaky(usize::MAX, Resp::json(status, body)).await;
        let (c, sleeper) = client(&server, server.settings());
        let err = c.get::<serde_json::Value>(&auth(), "/me?$select=id").await.unwrap_err();
        assert_eq!(server.requests().len(), 1, "status {status}");
        assert!(sleeper.delays().is_empty());
        let ok = match status {
            400 => matches!(err, GraphError::BadRequest(_)),
            401 => matches!(err, GraphError::Unauthorized(_)),
            403 => matches!(err, GraphError::Forbidden(_)),
            404 => matches!(err, GraphError::NotFound(_)),
            _ => matches!(err, GraphError::Conflict(_)),
        };
        assert!(ok, "status {status} -> {err:?}");
        assert_eq!(err.code(), Some(code));
        assert_eq!(err.message(), Some("m"));
        assert_eq!(err.request_id(), Some(format!("rid-{status}").as_str()));
    }
}

#[tokio::test]
async fn non_rewindable_bodies_are_not_retried() {
    let server = flaky(usize::MAX, Resp::empty(503)).await;
    let (c, sleeper) = client(&server, server.settings());
    let mut req = GraphRequest::new(Method::PUT, "/drives/d/items/i:/f.txt:/content");
    req.body = RequestBody::Stream {
        content_type: "text/plain".to_owned(),
        body: reqwest::Body::wrap_stream(futures_util::stream::iter(vec![Ok::<_, std::io::Error>(b"hello".to_vec())])),
    };
    let err = c.send(&auth(), req).await.unwrap_err();
    assert!(matches!(err, GraphError::Server(_)), "{err:?}");
    assert_eq!(server.requests().len(), 1);
    assert_eq!(server.requests()[0].body, b"hello");
    assert!(sleeper.delays().is_empty());
}

#[tokio::test]
async fn rewindable_post_bodies_are_resent_on_retry() {
    let server = flaky(1, Resp::empty(503)).await;
    let (c, _sleeper) = client(&server, server.settings());
    let _: serde_json::Value = c.post(&auth(), "/users", &json!({"displayName": "x"})).await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].body, reqs[1].body);
    assert_eq!(reqs[1].json()["displayName"], "x");
}

#[tokio::test]
async fn timeouts_map_to_timeout_and_idempotent_gets_are_retried() {
    let server = serve(|_req| async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        Resp::json(200, json!({}))
    })
    .await;
    let mut s = server.settings();
    s.timeout = Duration::from_millis(150);
    s.max_retries = 1;
    let (c, sleeper) = client(&server, s);
    let started = Instant::now();
    let err = c.get::<serde_json::Value>(&auth(), "/me?$select=id").await.unwrap_err();
    assert!(matches!(err, GraphError::Timeout(_)), "{err:?}");
    // Without the timeout the first attempt alone would succeed after 800 ms.
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(sleeper.delays().len(), 1);
    assert_eq!(server.requests().len(), 2);

    // A POST that timed out is not retried (it may have been processed).
    let before = server.requests().len();
    let err = c.post::<_, serde_json::Value>(&auth(), "/users", &json!({})).await.unwrap_err();
    assert!(matches!(err, GraphError::Timeout(_)));
    assert_eq!(server.requests().len(), before + 1);
}

#[tokio::test]
async fn paging_follows_next_link_and_resends_consistency_level() {
    let server = serve(|req| async move {
        let base = format!("http://{}/graph/v1.0", req.header("host").unwrap());
        let page = if req.target.contains("$skiptoken=p2") {
            json!({"value": [{"id": "3"}, {"id": "4"}], "@odata.nextLink": format!("{base}/users?$skiptoken=p3")})
        } else if req.target.contains("$skiptoken=p3") {
            json!({"value": []})
        } else {
            json!({"@odata.count": 4, "value": [{"id": "1"}, {"id": "2"}],
                   "@odata.nextLink": format!("{base}/users?$skiptoken=p2")})
        };
        Resp::json(200, page)
    })
    .await;
    let (c, _) = client(&server, server.settings());
    let (users, count) = c
        .list_users(
            &auth(),
            &edu_msgraph::ListUsersOptions {
                filter: Some("startswith(displayName,'a')".into()),
                count: true,
                top: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4"]);
    assert_eq!(count, Some(4));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert!(reqs.iter().all(|r| r.header("ConsistencyLevel") == Some("eventual")));
    assert!(reqs[0].target.starts_with("/graph/v1.0/users?$select=id,displayName"));
    // (the url crate percent-encodes `'` in queries; servers decode it)
    assert!(
        reqs[0].target.contains("&$filter=startswith(displayName,%27a%27)&$top=2&$count=true"),
        "{}",
        reqs[0].target
    );
    assert_eq!(reqs[1].target, "/graph/v1.0/users?$skiptoken=p2");
}

#[tokio::test]
async fn paging_is_bounded_and_stream_stops_at_the_bound() {
    let server = serve(|req| async move {
        let base = format!("http://{}/graph/v1.0", req.header("host").unwrap());
        Resp::json(200, json!({"value": [{"id": "x"}], "@odata.nextLink": format!("{base}/groups?$skiptoken=again")}))
    })
    .await;
    let (c, _) = client(&server, server.settings());
    let opts = PageOptions { max_pages: Some(3), ..Default::default() };
    let err = c.get_all_pages::<serde_json::Value>(&auth(), "/groups?$select=id", &opts).await.unwrap_err();
    assert!(matches!(err, GraphError::PageLimitExceeded { max_pages: 3 }));
    assert_eq!(server.requests().len(), 3);

    use futures_util::StreamExt;
    let pages: Vec<_> = c.pages::<serde_json::Value>(auth(), "/groups?$select=id", opts).collect().await;
    assert_eq!(pages.len(), 4);
    assert!(pages[..3].iter().all(Result::is_ok));
    assert!(matches!(pages[3], Err(GraphError::PageLimitExceeded { .. })));
    assert_eq!(server.requests().len(), 6);
}

#[tokio::test]
async fn foreign_next_links_are_refused() {
    let server = serve(|_req| async move {
        Resp::json(200, json!({"value": [], "@odata.nextLink": "https://evil.example/v1.0/users?$skiptoken=x"}))
    })
    .await;
    let (c, _) = client(&server, server.settings());
    let err =
        c.get_all_pages::<serde_json::Value>(&auth(), "/users?$select=id", &PageOptions::default()).await.unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest(_)), "{err:?}");
    assert_eq!(server.requests().len(), 1);
    assert!(c.resolve("../../auth/x").is_err());
    assert!(c.resolve("http://127.0.0.1:1/graph/v1.0/users").is_err());
}

#[tokio::test]
async fn batch_chunks_retries_inner_429_and_reports_per_item() {
    let throttled_once = Arc::new(AtomicUsize::new(0));
    let server = serve(move |req| {
        let throttled_once = throttled_once.clone();
        async move {
            assert_eq!(req.method, "POST");
            assert_eq!(req.path(), "/graph/v1.0/$batch");
            let body = req.json();
            let mut responses: Vec<serde_json::Value> = body["requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let id = r["id"].as_str().unwrap().to_owned();
                    if id == "7" && throttled_once.fetch_add(1, Ordering::SeqCst) == 0 {
                        json!({"id": id, "status": 429, "headers": {"Retry-After": "0.2"},
                               "body": {"error": {"code": "TooManyRequests", "message": "slow down"}}})
                    } else if id == "13" {
                        json!({"id": id, "status": 404, "headers": {"Content-Type": "application/json"},
                               "body": {"error": {"code": "Request_ResourceNotFound", "message": "Resource '13' does not exist",
                                        "innerError": {"request-id": "rid-13", "date": "2021-05-18T19:03:10"}}}})
                    } else {
                        json!({"id": id, "status": 200, "headers": {"Content-Type": "application/json"},
                               "body": {"id": format!("user-{id}")}})
                    }
                })
                .collect();
            responses.reverse(); // order is not guaranteed
            Resp::json(200, json!({"responses": responses}))
        }
    })
    .await;
    let (c, sleeper) = client(&server, server.settings());
    let requests: Vec<BatchRequest> =
        (0..25).map(|i| BatchRequest::get(i.to_string(), format!("/users/{i}?$select=id"))).collect();
    let results = c.batch(&auth(), requests).await.unwrap();

    let sizes: Vec<usize> = server.requests().iter().map(|r| r.json()["requests"].as_array().unwrap().len()).collect();
    assert_eq!(sizes, vec![20, 1, 5]);
    assert_eq!(sleeper.delays(), vec![Duration::from_millis(200)]);

    assert_eq!(results.items.len(), 25);
    let ids: Vec<&str> = results.items.iter().map(|i| i.id.as_str()).collect();
    let expected: Vec<String> = (0..25).map(|i| i.to_string()).collect();
    assert_eq!(ids, expected);
    let seven = results.get("7").unwrap().as_ref().unwrap();
    assert_eq!(seven.json::<serde_json::Value>().unwrap()["id"], "user-7");
    match results.get("13").unwrap() {
        Err(e @ GraphError::NotFound(_)) => {
            assert_eq!(e.code(), Some("Request_ResourceNotFound"));
            assert_eq!(e.request_id(), Some("rid-13"));
        }
        other => panic!("expected NotFound for 13, got {other:?}"),
    }
    let ok = results.items.iter().filter(|i| i.result.is_ok()).count();
    assert_eq!(ok, 24);
}

#[tokio::test]
async fn batch_inner_429_exhausted_is_throttled_and_depends_on_is_sent() {
    let server = serve(|req| async move {
        let body = req.json();
        let responses: Vec<serde_json::Value> = body["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let id = r["id"].as_str().unwrap();
                if id == "1" {
                    json!({"id": id, "status": 429, "headers": {"retry-after": "1"}, "body": {"error": {"code": "TooManyRequests", "message": "x"}}})
                } else {
                    // "2" depends on "1": fails with 424.
                    json!({"id": id, "status": 424, "body": {"error": {"code": "FailedDependency", "message": "dep"}}})
                }
            })
            .collect();
        Resp::json(200, json!({"responses": responses}))
    })
    .await;
    let mut s = server.settings();
    s.max_retries = 2;
    let (c, sleeper) = client(&server, s);
    let reqs = vec![
        BatchRequest::new("1", Method::PATCH, "/users/a").with_json_body(json!({"jobTitle": "x"})),
        BatchRequest::get("2", "/users/a?$select=jobTitle").depends_on("1"),
    ];
    let results = c.batch(&auth(), reqs).await.unwrap();
    let first = server.requests()[0].json();
    assert_eq!(first["requests"][1]["dependsOn"], json!(["1"]));
    assert_eq!(first["requests"][0]["headers"]["Content-Type"], "application/json");
    // 1 + 2 retries, both items resent each time.
    assert_eq!(server.requests().len(), 3);
    assert_eq!(sleeper.delays(), vec![Duration::from_secs(1); 2]);
    assert!(matches!(
        results.get("1"),
        Some(Err(GraphError::Throttled { retry_after: Some(d), .. })) if *d == Duration::from_secs(1)
    ));
    assert!(matches!(results.get("2"), Some(Err(GraphError::BadRequest(_)))));
}

#[tokio::test]
async fn per_tenant_concurrency_is_capped_while_other_tenants_proceed() {
    let current = Arc::new(AtomicUsize::new(0));
    let max_seen = Arc::new(AtomicUsize::new(0));
    let (cur, max) = (current.clone(), max_seen.clone());
    let server = serve(move |req| {
        let (cur, max) = (cur.clone(), max.clone());
        async move {
            if req.header("authorization") == Some("Bearer tok-A") {
                let now = cur.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(150)).await;
                cur.fetch_sub(1, Ordering::SeqCst);
            }
            Resp::json(200, json!({"id": "x"}))
        }
    })
    .await;
    let mut s = server.settings();
    s.per_tenant_concurrency = 2;
    s.max_per_tenant_concurrency = 2;
    let (c, _) = client(&server, s);
    let a = GraphAuth::delegated("tenant-A", SecretString::from("tok-A"));
    let b = GraphAuth::delegated("tenant-B", SecretString::from("tok-B"));
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..6 {
        let (c, a) = (c.clone(), a.clone());
        handles.push(tokio::spawn(async move {
            c.get::<serde_json::Value>(&a, "/me?$select=id").await.unwrap();
            started.elapsed()
        }));
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    c.get::<serde_json::Value>(&b, "/me?$select=id").await.unwrap();
    let b_done = started.elapsed();
    let mut a_done = Vec::new();
    for h in handles {
        a_done.push(h.await.unwrap());
    }
    assert_eq!(max_seen.load(Ordering::SeqCst), 2);
    let last_a = a_done.iter().max().unwrap();
    // 6 requests, 2 at a time, 150 ms each: at least 3 waves.
    assert!(*last_a >= Duration::from_millis(440), "{last_a:?}");
    // Tenant B did not queue behind tenant A (A needs >= 3 waves of 150 ms).
    assert!(b_done + Duration::from_millis(200) < *last_a, "{b_done:?} vs {last_a:?}");
}

#[tokio::test]
async fn graph_error_mapping_keeps_code_message_and_request_id() {
    let fixture_404 = r#"{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist or one of its queried reference-property objects are not present.","innerError":{"date":"2022-02-14T12:00:00","request-id":"9a1cc4a0-2ae8-4ab3-9a11-ebe5dc6a7c8d","client-request-id":"9a1cc4a0-2ae8-4ab3-9a11-ebe5dc6a7c8d"}}}"#;
    let server = serve(move |req| async move {
        match req.path() {
            "/graph/v1.0/users/x" => Resp::raw_json(404, fixture_404),
            "/graph/v1.0/me/sendMail" => Resp::json(
                400,
                json!({"error": {"code": "ErrorMimeContentInvalidBase64String", "message": "Invalid base64 string for MIME content."}}),
            )
            .header("request-id", "hdr-rid")
            .header("client-request-id", "hdr-crid"),
            "/graph/v1.0/users/delta" => Resp::json(
                410,
                json!({"error": {"code": "resyncRequired", "message": "Resync required."}}),
            )
            .header("Location", "https://graph.microsoft.com/v1.0/users/delta?$deltatoken="),
            "/graph/v1.0/education/users/delta" => Resp::json(
                400,
                json!({"error": {"code": "syncStateNotFound", "message": "The delta token is expired"}}),
            ),
            _ => Resp::raw_json(500, "not json"),
        }
    })
    .await;
    let (c, _) = client(&server, server.settings());
    let err = c.get_user(&auth(), "x", &[]).await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.code(), Some("Request_ResourceNotFound"));
    assert!(err.message().unwrap().starts_with("Resource 'x' does not exist"));
    assert_eq!(err.request_id(), Some("9a1cc4a0-2ae8-4ab3-9a11-ebe5dc6a7c8d"));
    // Display carries status/code/request-id but not the message.
    let shown = err.to_string();
    assert!(shown.contains("404") && shown.contains("Request_ResourceNotFound"));
    assert!(!shown.contains("does not exist"));

    let mail = edu_msgraph::models::SendMailRequest::default();
    let err = c.send_mail(&auth(), None, &mail).await.unwrap_err();
    assert!(matches!(err, GraphError::BadRequest(_)));
    assert_eq!(err.code(), Some("ErrorMimeContentInvalidBase64String"));
    assert_eq!(err.request_id(), Some("hdr-rid"));
    assert_eq!(err.detail().unwrap().client_request_id.as_deref(), Some("hdr-crid"));

    let err = c.users_delta(&auth(), DeltaStart::Initial { select: &[] }).await.unwrap_err();
    match &err {
        GraphError::ResyncRequired { location, .. } => {
            assert_eq!(location.as_deref(), Some("https://graph.microsoft.com/v1.0/users/delta?$deltatoken="))
        }
        other => panic!("{other:?}"),
    }
    let err = c.education_users_delta(&auth(), DeltaStart::Initial { select: &[] }).await.unwrap_err();
    assert!(err.is_resync_required(), "{err:?}");
    assert_eq!(err.code(), Some("syncStateNotFound"));

    let err = c.get::<serde_json::Value>(&auth(), "/other").await.unwrap_err();
    assert!(matches!(err, GraphError::Server(_)));
    assert_eq!(err.status(), Some(500));
    assert_eq!(err.code(), None);
}

#[tokio::test]
async fn delta_pages_report_removed_items_and_links() {
    let server = serve(|req| async move {
        let base = format!("http://{}/graph/v1.0", req.header("host").unwrap());
        if req.target.contains("$skiptoken") {
            Resp::json(
                200,
                json!({"@odata.deltaLink": format!("{base}/users/delta?$deltatoken=d1"),
                "value": [{"id": "u3", "displayName": "C"}]}),
            )
        } else {
            Resp::json(
                200,
                json!({"@odata.nextLink": format!("{base}/users/delta?$skiptoken=s1"),
                "value": [{"id": "u1", "displayName": "A"},
                          {"id": "u2", "@removed": {"reason": "deleted"}},
                          {"id": "u4", "@removed": {"reason": "changed"}}]}),
            )
        }
    })
    .await;
    let (c, _) = client(&server, server.settings());
    let p1 = c.users_delta(&auth(), DeltaStart::Initial { select: &["id", "displayName"] }).await.unwrap();
    assert_eq!(p1.items.len(), 3);
    assert!(matches!(&p1.items[0], DeltaItem::Upsert(u) if u.id == "u1"));
    assert_eq!(p1.items[1], DeltaItem::Removed { id: "u2".into(), reason: RemovedReason::Deleted });
    assert_eq!(p1.items[2], DeltaItem::Removed { id: "u4".into(), reason: RemovedReason::Changed });
    assert!(p1.delta_link.is_none());
    let next = p1.next_link.unwrap();
    let p2 = c.users_delta(&auth(), DeltaStart::Link(&next)).await.unwrap();
    assert!(p2.is_last());
    assert!(p2.delta_link.unwrap().ends_with("$deltatoken=d1"));
    let reqs = server.requests();
    assert_eq!(reqs[0].target, "/graph/v1.0/users/delta?$select=id,displayName");
    assert_eq!(reqs[1].target, "/graph/v1.0/users/delta?$skiptoken=s1");
}

#[tokio::test]
async fn photo_404_is_none_and_bytes_are_returned() {
    let server = serve(|req| async move {
        if req.path() == "/graph/v1.0/users/has/photo/$value" {
            Resp {
                status: 200,
                headers: vec![("Content-Type".into(), "image/jpeg".into())],
                body: vec![0xff, 0xd8, 0xff],
            }
        } else {
            Resp::json(404, json!({"error": {"code": "ImageNotFound", "message": "no photo"}}))
        }
    })
    .await;
    let (c, _) = client(&server, server.settings());
    assert_eq!(c.photo(&auth(), Some("none")).await.unwrap(), None);
    let p = c.photo(&auth(), Some("has")).await.unwrap().unwrap();
    assert_eq!(p.bytes, vec![0xff, 0xd8, 0xff]);
    assert_eq!(p.content_type.as_deref(), Some("image/jpeg"));
    let reqs = server.requests();
    assert!(reqs.iter().all(|r| r.header("accept") == Some("image/*")));
    assert_eq!(reqs.iter().filter(|r| r.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("accept"))).count(), 2);
}

#[tokio::test]
async fn typed_helpers_send_select_refs_and_encoded_ids() {
    let server = serve(|req| async move {
        match (req.method.as_str(), req.path()) {
            ("POST", p) if p.ends_with("/$ref") => Resp::empty(204),
            ("POST", p) if p.ends_with("/sendMail") => Resp::empty(202),
            ("PATCH", _) => Resp::empty(204),
            ("DELETE", _) => Resp::empty(204),
            ("POST", p) if p.ends_with("/publish") => Resp::json(200, json!({"id": "a1", "status": "published"})),
            ("POST", p) if p.ends_with("/reassign") => Resp::json(200, json!({"id": "s1", "status": "reassigned"})),
            _ => Resp::json(200, json!({"id": "x", "value": []})),
        }
    })
    .await;
    let (c, _) = client(&server, server.settings());
    let a = auth();
    c.add_group_member(&a, "g1", "u1").await.unwrap();
    c.add_class_member(&a, "c1", "u2").await.unwrap();
    c.remove_group_member(&a, "g1", "u1").await.unwrap();
    c.update_user(&a, "guest#EXT#@x.com", &json!({"jobTitle": "t"})).await.unwrap();
    c.get_user(&a, "jane@contoso.com", &["id"]).await.unwrap();
    let asg = c.publish_assignment(&a, "c1", "a1").await.unwrap();
    assert_eq!(asg.status, edu_msgraph::models::AssignmentStatus::Published);
    let sub = c.reassign_submission(&a, "c1", "a1", "s1").await.unwrap();
    assert_eq!(sub.status, edu_msgraph::models::SubmissionStatus::Reassigned);
    c.delete_service_principal(&a, "sp1").await.unwrap();
    c.send_mail(&a, Some("u1"), &Default::default()).await.unwrap();
    c.schools(&a).await.unwrap();

    let reqs = server.requests();
    let base = server.graph_base();
    assert_eq!(reqs[0].target, "/graph/v1.0/groups/g1/members/$ref");
    assert_eq!(reqs[0].json(), json!({"@odata.id": format!("{base}/v1.0/directoryObjects/u1")}));
    assert_eq!(reqs[1].target, "/graph/v1.0/education/classes/c1/members/$ref");
    assert_eq!(reqs[1].json(), json!({"@odata.id": format!("{base}/v1.0/education/users/u2")}));
    assert_eq!(reqs[2].method, "DELETE");
    assert_eq!(reqs[2].target, "/graph/v1.0/groups/g1/members/u1/$ref");
    assert_eq!(reqs[3].target, "/graph/v1.0/users/guest%23EXT%23@x.com");
    assert_eq!(reqs[4].target, "/graph/v1.0/users/jane@contoso.com?$select=id");
    assert_eq!(reqs[5].target, "/graph/v1.0/education/classes/c1/assignments/a1/publish");
    assert_eq!(reqs[6].header("Prefer"), Some("include-unknown-enum-members"));
    assert_eq!(reqs[7].method, "DELETE");
    assert_eq!(reqs[8].target, "/graph/v1.0/users/u1/sendMail");
    assert!(reqs[9].target.starts_with("/graph/v1.0/education/schools?$select=id,"));
    // Every GET carried $select.
    for r in reqs.iter().filter(|r| r.method == "GET") {
        assert!(r.target.contains("$select="), "{}", r.target);
    }
}

/// Issue 18 §5: a 429 with a short `Retry-After` pauses only the call Microsoft throttled
/// (it waits and retries); other calls of the tenant go on at once.
#[tokio::test]
async fn a_429_pauses_only_the_throttled_call() {
    let first = Arc::new(AtomicUsize::new(0));
    let server = serve(move |req| {
        let first = first.clone();
        async move {
            if req.header("authorization") == Some("Bearer tok-A") && first.fetch_add(1, Ordering::SeqCst) == 0 {
                Resp::json(429, throttled_body()).header("Retry-After", "1")
            } else {
                Resp::json(200, json!({"id": "x"}))
            }
        }
    })
    .await;
    let (c, sleeper) = client(&server, server.settings());
    let a = GraphAuth::delegated("tenant-A", SecretString::from("tok-A"));
    let b = GraphAuth::delegated("tenant-B", SecretString::from("tok-B"));
    c.get::<serde_json::Value>(&a, "/me?$select=id").await.unwrap();
    assert_eq!(sleeper.delays(), vec![Duration::from_secs(1)], "the throttled call waited its Retry-After");
    c.get::<serde_json::Value>(&b, "/me?$select=id").await.unwrap();
    // The next tenant-A call is not held back by the other call's Retry-After.
    c.get::<serde_json::Value>(&a, "/me?$select=id").await.unwrap();
    assert_eq!(sleeper.delays().len(), 1, "{:?}", sleeper.delays());
}

/// Issue 18 §5: a tenant's concurrency adapts: it grows while calls succeed (up to
/// `max_per_tenant_concurrency`) and shrinks on a 429, instead of a fixed 4.
#[tokio::test]
async fn a_tenants_concurrency_grows_on_success_and_shrinks_on_429() {
    let throttle = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let current = Arc::new(AtomicUsize::new(0));
    let max_seen = Arc::new(AtomicUsize::new(0));
    let (t, cur, max) = (throttle.clone(), current.clone(), max_seen.clone());
    let server = serve(move |_req| {
        let (t, cur, max) = (t.clone(), cur.clone(), max.clone());
        async move {
            if t.load(Ordering::SeqCst) {
                return Resp::json(429, throttled_body()).header("Retry-After", "0");
            }
            let now = cur.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            cur.fetch_sub(1, Ordering::SeqCst);
            Resp::json(200, json!({"id": "x"}))
        }
    })
    .await;
    let mut s = server.settings();
    s.per_tenant_concurrency = 4;
    s.max_per_tenant_concurrency = 12;
    s.max_retries = 0;
    let (c, _) = client(&server, s);
    let a = GraphAuth::delegated("tenant-A", SecretString::from("tok-A"));
    assert_eq!(c.tenant_concurrency("tenant-A"), 4);
    for _ in 0..10 {
        let mut handles = Vec::new();
        for _ in 0..16 {
            let (c, a) = (c.clone(), a.clone());
            handles.push(tokio::spawn(async move { c.get::<serde_json::Value>(&a, "/me?$select=id").await.unwrap() }));
        }
        for h in handles {
            h.await.unwrap();
        }
    }
    assert_eq!(c.tenant_concurrency("tenant-A"), 12, "grew to the maximum while calls succeeded");
    assert!(max_seen.load(Ordering::SeqCst) > 4, "more than the initial 4 calls ran at once");
    assert!(max_seen.load(Ordering::SeqCst) <= 12);

    throttle.store(true, Ordering::SeqCst);
    c.get::<serde_json::Value>(&a, "/me?$select=id").await.unwrap_err();
    assert_eq!(c.tenant_concurrency("tenant-A"), 9, "×3/4 on a 429");
    c.get::<serde_json::Value>(&a, "/me?$select=id").await.unwrap_err();
    assert_eq!(c.tenant_concurrency("tenant-A"), 9, "one decrease per second of 429s");
    assert_eq!(c.tenant_concurrency("tenant-B"), 4, "other tenants are not affected");
}

#[tokio::test]
async fn count_bulk_members_and_organization_helpers() {
    let server = serve(|req| async move {
        match (req.method.as_str(), req.path()) {
            ("GET", "/graph/v1.0/users/$count") => Resp {
                status: 200,
                headers: vec![("Content-Type".into(), "text/plain".into())],
                body: b"893".to_vec(),
            },
            ("GET", "/graph/v1.0/organization") => Resp::json(
                200,
                json!({"value": [{"id": "tid-1", "displayName": "Contoso", "verifiedDomains": [{"name": "contoso.com", "isDefault": true}]}]}),
            ),
            ("PATCH", _) => Resp::empty(204),
            _ => Resp::empty(404),
        }
    })
    .await;
    let (c, _) = client(&server, server.settings());
    assert_eq!(c.count_users(&auth(), Some("accountEnabled eq true")).await.unwrap(), 893);
    let org = c.organization(&auth()).await.unwrap().unwrap();
    assert_eq!(org.id, "tid-1");
    assert_eq!(org.verified_domains[0].is_default, Some(true));
    let ids: Vec<String> = (0..25).map(|i| format!("u{i}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    c.add_group_members_bulk(&auth(), "g1", &refs).await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs[0].header("ConsistencyLevel"), Some("eventual"));
    assert_eq!(reqs[0].header("Accept"), Some("text/plain"));
    assert_eq!(reqs[1].header("Accept"), Some("application/json"));
    let patches: Vec<_> = reqs.iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(patches.len(), 2);
    assert_eq!(patches[0].target, "/graph/v1.0/groups/g1");
    let binds = patches[0].json()["members@odata.bind"].as_array().unwrap().len();
    assert_eq!(binds, 20);
    assert_eq!(
        patches[1].json()["members@odata.bind"][4],
        format!("{}/v1.0/directoryObjects/u24", server.graph_base())
    );
}

#[tokio::test]
async fn retry_budget_bounds_total_waiting() {
    let server = flaky(usize::MAX, Resp::json(429, throttled_body()).header("Retry-After", "2")).await;
    let mut s = server.settings();
    s.max_retries = 10;
    s.retry_budget = Duration::from_secs(5);
    let (c, sleeper) = client(&server, s);
    let err = c.get::<serde_json::Value>(&auth(), "/me?$select=id").await.unwrap_err();
    assert!(matches!(err, GraphError::Throttled { .. }));
    assert_eq!(sleeper.delays(), vec![Duration::from_secs(2); 2]);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn global_concurrency_cap_applies_across_tenants() {
    let current = Arc::new(AtomicUsize::new(0));
    let max_seen = Arc::new(AtomicUsize::new(0));
    let (cur, max) = (current.clone(), max_seen.clone());
    let server = serve(move |_req| {
        let (cur, max) = (cur.clone(), max.clone());
        async move {
            let now = cur.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(40)).await;
            cur.fetch_sub(1, Ordering::SeqCst);
            Resp::json(200, json!({}))
        }
    })
    .await;
    let mut s = server.settings();
    s.max_concurrency = 2;
    s.per_tenant_concurrency = 4;
    let (c, _) = client(&server, s);
    let mut handles = Vec::new();
    for i in 0..6 {
        let c = c.clone();
        let a = GraphAuth::delegated(format!("tenant-{i}"), SecretString::from("t"));
        handles.push(tokio::spawn(async move { c.get::<serde_json::Value>(&a, "/me?$select=id").await.unwrap() }));
    }
    for h in handles {
        h.await.unwrap();
    }
    assert_eq!(max_seen.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_long_tenant_pause_fails_fast_instead_of_parking_callers() {
    let server = flaky(1, Resp::json(429, throttled_body()).header("Retry-After", "600")).await;
    let (c, sleeper) = client(&server, server.settings());
    let err = c.get::<serde_json::Value>(&auth(), "/me?$select=id").await.unwrap_err();
    assert!(matches!(err, GraphError::Throttled { .. }));
    // The next call for the same tenant is refused locally (no request sent).
    let err = c.get::<serde_json::Value>(&auth(), "/me?$select=id").await.unwrap_err();
    match err {
        GraphError::Throttled { retry_after: Some(d), .. } => assert!(d > Duration::from_secs(590)),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
    assert!(sleeper.delays().is_empty());
    // Other tenants are unaffected.
    let b = GraphAuth::delegated("tenant-b", SecretString::from("t"));
    c.get::<serde_json::Value>(&b, "/me?$select=id").await.unwrap();
}

fn breaker_settings(server: &TestServer, threshold: u32, cooldown_ms: u64) -> GraphSettings {
    let mut s = server.settings();
    s.max_retries = 0;
    s.breaker_threshold = threshold;
    s.breaker_cooldown = Duration::from_millis(cooldown_ms);
    s
}

fn server_error() -> Resp {
    Resp::json(500, json!({"error": {"code": "generalException", "message": "The operation has timed out."}}))
}

/// R-C9: after repeated outages a tenant's calls fail at once (Graph is not called), other
/// tenants are not affected, and after the cool-down one probe that is answered closes it.
#[tokio::test]
async fn the_circuit_opens_after_repeated_outages_and_an_answered_probe_closes_it() {
    let server = flaky(4, server_error()).await;
    let (c, _) = client(&server, breaker_settings(&server, 3, 300));
    for _ in 0..3 {
        let e = c.get::<serde_json::Value>(&auth(), "/me").await.unwrap_err();
        assert!(matches!(e, GraphError::Server(_)), "{e:?}");
    }
    assert_eq!(server.requests().len(), 3);
    let started = Instant::now();
    let e = c.get::<serde_json::Value>(&auth(), "/me").await.unwrap_err();
    assert!(matches!(&e, GraphError::CircuitOpen { failures: 3, .. }), "{e:?}");
    assert!(e.to_string().contains(": circuit open: Microsoft Graph failed 3 calls in a row"), "{e}");
    assert!(started.elapsed() < Duration::from_millis(100), "fails at once");
    assert_eq!(server.requests().len(), 3, "Graph was not called while the circuit is open");
    // Another tenant has its own breaker.
    let other = GraphAuth::delegated("tenant-b", SecretString::from("user-token-B"));
    let e = c.get::<serde_json::Value>(&other, "/me").await.unwrap_err();
    assert!(matches!(e, GraphError::Server(_)), "{e:?}");
    assert_eq!(server.requests().len(), 4);
    // After the cool-down the probe is answered: closed again.
    tokio::time::sleep(Duration::from_millis(350)).await;
    c.get::<serde_json::Value>(&auth(), "/me").await.unwrap();
    c.get::<serde_json::Value>(&auth(), "/me").await.unwrap();
    assert_eq!(server.requests().len(), 6);
}

/// A probe that fails opens the circuit again at once; answers of any 4xx are not outages.
#[tokio::test]
async fn a_failed_probe_reopens_the_circuit_and_client_errors_do_not_count() {
    let server = serve(|_req| async { server_error() }).await;
    let (c, _) = client(&server, breaker_settings(&server, 2, 150));
    for _ in 0..2 {
        c.get::<serde_json::Value>(&auth(), "/me").await.unwrap_err();
    }
    c.get::<serde_json::Value>(&auth(), "/me").await.unwrap_err();
    assert_eq!(server.requests().len(), 2);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let e = c.get::<serde_json::Value>(&auth(), "/me").await.unwrap_err();
    assert!(matches!(e, GraphError::Server(_)), "the probe reached Graph: {e:?}");
    assert_eq!(server.requests().len(), 3);
    let e = c.get::<serde_json::Value>(&auth(), "/me").await.unwrap_err();
    assert!(matches!(&e, GraphError::CircuitOpen { failures: 3, .. }), "{e:?}");
    assert!(e.to_string().contains(": circuit open: Microsoft Graph failed 3 calls in a row"), "{e}");
    assert_eq!(server.requests().len(), 3);

    let not_found = serve(|_req| async {
        Resp::json(404, json!({"error": {"code": "Request_ResourceNotFound", "message": "Resource does not exist."}}))
    })
    .await;
    let (c, _) = client(&not_found, breaker_settings(&not_found, 2, 60_000));
    for _ in 0..5 {
        let e = c.get::<serde_json::Value>(&auth(), "/users/x").await.unwrap_err();
        assert!(matches!(e, GraphError::NotFound(_)), "{e:?}");
    }
    assert_eq!(not_found.requests().len(), 5, "4xx answers never open the circuit");
}

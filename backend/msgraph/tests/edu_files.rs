//! Assignment edits, publish, file uploads (simple and upload session) and school people
//! against a local server answering with Microsoft's real payloads from
//! `shared/reference/microsoft/fixtures/` where one exists.
#![allow(clippy::unwrap_used)] // test code only

mod support;

use std::path::PathBuf;
use std::sync::Arc;

use edu_msgraph::models::{AssignmentStatus, UploadError};
use edu_msgraph::{GraphAuth, GraphClient, GraphError};
use secrecy::SecretString;
use serde_json::json;
use support::{RecordingSleeper, Resp, serve};

fn fixture(name: &str) -> String {
    let dir = std::env::var("EDU_MS_FIXTURES").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/microsoft/fixtures"),
        PathBuf::from,
    );
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn auth() -> GraphAuth {
    GraphAuth::delegated("tenant-a", SecretString::from("teacher-token"))
}

fn body(data: &[u8], piece: usize) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Unpin + '_ {
    futures_util::stream::iter(data.chunks(piece).map(|c| Ok(c.to_vec())))
}

#[tokio::test]
async fn update_and_publish_read_the_documented_answers() {
    let get = fixture("graph_education_assignment_get_response.json");
    let publish = fixture("graph_education_assignment_publish_response.json");
    let server = serve(move |req| {
        let (get, publish) = (get.clone(), publish.clone());
        async move {
            match (req.method.as_str(), req.path()) {
                ("PATCH", "/graph/v1.0/education/classes/c1/assignments/a1") => Resp::raw_json(200, &get),
                ("POST", "/graph/v1.0/education/classes/c1/assignments/a1/publish") => Resp::raw_json(200, &publish),
                _ => Resp::empty(404),
            }
        }
    })
    .await;
    let c = GraphClient::with_sleeper(server.settings(), None, Arc::new(RecordingSleeper::default())).unwrap();
    let patch = json!({"displayName": "Unit 2", "dueDateTime": "2026-12-05T14:30:00Z"});
    let a = c.update_assignment(&auth(), "c1", "a1", &patch).await.unwrap().unwrap();
    assert_eq!(a.id, "c0f133b9-615c-4119-876c-c1848fd0a99a");
    let sent = &server.requests()[0];
    assert_eq!(sent.json(), patch, "only the changed properties are sent");
    assert_eq!(sent.header("content-type"), Some("application/json"));
    // Publishing answers "published"; "assigned" comes later (poll with GET).
    let p = c.publish_assignment(&auth(), "c1", "a1").await.unwrap();
    assert_eq!(p.status, AssignmentStatus::Published);
    assert_eq!(p.assigned_date_time, None);
}

#[tokio::test]
async fn a_small_file_is_put_into_the_resources_folder_in_one_request() {
    let server = serve(|req| async move {
        if req.method == "PUT" && req.path().ends_with(":/Reading%20list.txt:/content") {
            Resp::json(201, json!({"id": "01NEW", "name": "Reading list.txt", "size": req.body.len(), "file": {}}))
        } else {
            Resp::empty(404)
        }
    })
    .await;
    let c = GraphClient::with_sleeper(server.settings(), None, Arc::new(RecordingSleeper::default())).unwrap();
    let folder = format!("{}/v1.0/drives/b!abc/items/01FOLDER", server.graph_base());
    let item = c
        .upload_file(&auth(), &folder, "Reading list.txt", "application/octet-stream", 11, body(b"hello world", 4))
        .await
        .unwrap();
    assert_eq!((item.id.as_str(), item.size), ("01NEW", Some(11)));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path(), "/graph/v1.0/drives/b!abc/items/01FOLDER:/Reading%20list.txt:/content");
    assert_eq!(reqs[0].header("authorization"), Some("Bearer teacher-token"));
    assert_eq!(reqs[0].body, b"hello world");
}

#[tokio::test]
async fn a_large_file_goes_through_an_upload_session_in_ranges_without_the_token() {
    let total = 6 * 1024 * 1024 + 5;
    let server = serve(move |req| async move {
        let path = req.path().to_owned();
        if req.method == "POST" && path.ends_with(":/big.pdf:/createUploadSession") {
            let host = req.header("host").unwrap().to_owned();
            return Resp::json(
                200,
                json!({"uploadUrl": format!("http://{host}/up/s1"), "expirationDateTime": "2030-01-01T00:00:00Z", "nextExpectedRanges": ["0-"]}),
            );
        }
        if req.method == "PUT" && path == "/up/s1" {
            let range = req.header("content-range").unwrap().to_owned();
            let end: usize = range.split(['-', '/']).nth(1).unwrap().parse().unwrap();
            return if end + 1 < total {
                Resp::json(202, json!({"expirationDateTime": "2030-01-01T00:00:00Z", "nextExpectedRanges": [format!("{}-", end + 1)]}))
            } else {
                Resp::json(201, json!({"id": "01BIG", "name": "big.pdf", "size": total, "file": {}}))
            };
        }
        Resp::empty(404)
    })
    .await;
    let c = GraphClient::with_sleeper(server.settings(), None, Arc::new(RecordingSleeper::default())).unwrap();
    let folder = format!("{}/v1.0/drives/b!abc/items/01FOLDER", server.graph_base());
    let data: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
    let item = c
        .upload_file(&auth(), &folder, "big.pdf", "application/octet-stream", total as u64, body(&data, 65_536))
        .await
        .unwrap();
    assert_eq!(item.id, "01BIG");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3, "session + two ranges");
    assert_eq!(reqs[0].header("authorization"), Some("Bearer teacher-token"));
    assert_eq!(reqs[0].json()["item"]["@microsoft.graph.conflictBehavior"], "replace");
    let five = 5 * 1024 * 1024;
    assert_eq!(reqs[1].header("content-range"), Some(format!("bytes 0-{}/{total}", five - 1).as_str()));
    assert_eq!(reqs[2].header("content-range"), Some(format!("bytes {five}-{}/{total}", total - 1).as_str()));
    assert_eq!(five % (320 * 1024), 0, "ranges are multiples of 320 KiB");
    for r in &reqs[1..] {
        assert_eq!(r.header("authorization"), None, "the pre-authenticated upload URL never gets the token");
    }
    assert!(reqs[1].body == data[..five] && reqs[2].body == data[five..]);
}

#[tokio::test]
async fn an_upload_url_elsewhere_over_plain_http_is_refused_and_a_short_body_cancels() {
    let server = serve(|req| async move {
        match (req.method.as_str(), req.path()) {
            ("POST", p) if p.ends_with(":/evil.bin:/createUploadSession") => {
                Resp::json(200, json!({"uploadUrl": "http://attacker.example/up", "nextExpectedRanges": ["0-"]}))
            }
            ("POST", p) if p.ends_with(":/short.bin:/createUploadSession") => {
                let host = req.header("host").unwrap().to_owned();
                Resp::json(200, json!({"uploadUrl": format!("http://{host}/up/s2"), "nextExpectedRanges": ["0-"]}))
            }
            ("PUT", "/up/s2") => Resp::json(202, json!({"nextExpectedRanges": [format!("{}-", 5 * 1024 * 1024)]})),
            ("DELETE", "/up/s2") => Resp::empty(204),
            _ => Resp::empty(404),
        }
    })
    .await;
    let c = GraphClient::with_sleeper(server.settings(), None, Arc::new(RecordingSleeper::default())).unwrap();
    let folder = format!("{}/v1.0/drives/b!abc/items/01FOLDER", server.graph_base());
    let total = 5 * 1024 * 1024;
    let data = vec![1u8; total];
    let err = c.upload_file(&auth(), &folder, "evil.bin", "x", total as u64, body(&data, 1 << 20)).await.unwrap_err();
    assert!(matches!(err, UploadError::Graph(GraphError::InvalidRequest(_))), "{err:?} {:?}", server.requests());
    // The body ends early: the session is cancelled, nothing half-written stays behind.
    let err =
        c.upload_file(&auth(), &folder, "short.bin", "x", total as u64 + 1, body(&data, 1 << 20)).await.unwrap_err();
    assert!(matches!(err, UploadError::Incomplete { .. }), "{err:?}");
    assert_eq!(
        server.requests().last().map(|r| (r.method.clone(), r.path().to_owned())),
        Some(("DELETE".into(), "/up/s2".into()))
    );
}

#[tokio::test]
async fn school_people_pages_select_and_follow_the_next_link() {
    let users = fixture("graph_education_school_users_list_response.json");
    let server = serve(move |req| {
        let users = users.clone();
        async move {
            if req.path() == "/graph/v1.0/education/schools/s%201/users" && req.target.contains("$skiptoken") {
                return Resp::json(200, json!({"value": []}));
            }
            if req.path() == "/graph/v1.0/education/schools/s%201/users" {
                let mut v: serde_json::Value = serde_json::from_str(&users).unwrap();
                let host = req.header("host").unwrap().to_owned();
                v["@odata.nextLink"] =
                    json!(format!("http://{host}/graph/v1.0/education/schools/s%201/users?$skiptoken=X"));
                return Resp::json(200, v);
            }
            Resp::empty(404)
        }
    })
    .await;
    let c = GraphClient::with_sleeper(server.settings(), None, Arc::new(RecordingSleeper::default())).unwrap();
    let app = GraphAuth::delegated("tenant-a", SecretString::from("app-token"));
    let page = c.school_users_page(&app, "s 1", 25, None).await.unwrap();
    assert_eq!(page.value[0].display_name.as_deref(), Some("Dion Matheson"));
    assert_eq!(page.value[0].primary_role, edu_msgraph::models::PrimaryRole::Student);
    let t = &server.requests()[0].target;
    assert!(t.contains("$select=id,displayName,primaryRole") && !t.contains("$filter"), "{t}");
    assert!(t.contains("$top=25"), "{t}");
    let next = page.next_link.unwrap();
    let page2 = c.school_users_page(&app, "s 1", 25, Some(&next)).await.unwrap();
    assert!(page2.value.is_empty() && page2.next_link.is_none());
}

#[tokio::test]
async fn one_assignment_comes_with_its_resources_in_one_call() {
    let mut a: serde_json::Value =
        serde_json::from_str(&fixture("graph_education_assignment_get_response.json")).unwrap();
    let link: serde_json::Value =
        serde_json::from_str(&fixture("graph_education_assignment_resource_create_link_response.json")).unwrap();
    a["resources"] = json!([link]);
    let server = serve(move |req| {
        let a = a.clone();
        async move {
            if req.path() == "/graph/v1.0/education/classes/c1/assignments/a1"
                && req.target.contains("$expand=resources")
            {
                Resp::json(200, a)
            } else {
                Resp::empty(404)
            }
        }
    })
    .await;
    let c = GraphClient::with_sleeper(server.settings(), None, Arc::new(RecordingSleeper::default())).unwrap();
    let got = c.assignment_with_resources(&auth(), "c1", "a1").await.unwrap();
    let resources = got.resources.unwrap();
    assert_eq!(resources.len(), 1);
    assert_eq!(resources[0].resource.odata_type.as_deref(), Some("#microsoft.graph.educationLinkResource"));
    assert!(resources[0].resource.link.as_deref().is_some_and(|l| l.starts_with("https://")));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_failed_range_is_resumed_from_what_the_session_expects() {
    let five = 5 * 1024 * 1024;
    let total = 2 * five + 10;
    // What the "server" holds, and how many times each range start was tried.
    let state = Arc::new(std::sync::Mutex::new((0usize, std::collections::HashMap::<usize, u32>::new())));
    let st = state.clone();
    let server = serve(move |req| {
        let st = st.clone();
        async move {
            let path = req.path().to_owned();
            if req.method == "POST" && path.ends_with(":/r.bin:/createUploadSession") {
                let host = req.header("host").unwrap().to_owned();
                return Resp::json(
                    200,
                    json!({"uploadUrl": format!("http://{host}/up/r"), "nextExpectedRanges": ["0-"]}),
                );
            }
            let mut g = st.lock().unwrap();
            if req.method == "GET" && path == "/up/r" {
                return Resp::json(200, json!({"nextExpectedRanges": [format!("{}-", g.0)]}));
            }
            if req.method == "PUT" && path == "/up/r" {
                let range = req.header("content-range").unwrap().to_owned();
                let start: usize = range.trim_start_matches("bytes ").split('-').next().unwrap().parse().unwrap();
                let tries = {
                    let n = g.1.entry(start).or_insert(0);
                    *n += 1;
                    *n
                };
                if start != g.0 {
                    return Resp::json(416, json!({"error": {"code": "invalidRange", "message": "overlap"}}));
                }
                if start == 0 && tries == 1 {
                    // Lost on the way: nothing stored.
                    return Resp::json(503, json!({"error": {"code": "serviceNotAvailable", "message": "x"}}));
                }
                g.0 += req.body.len();
                if start == five && tries == 1 {
                    // Stored, but the answer is lost.
                    return Resp::json(503, json!({"error": {"code": "serviceNotAvailable", "message": "x"}}));
                }
                return if g.0 < total {
                    Resp::json(202, json!({"nextExpectedRanges": [format!("{}-", g.0)]}))
                } else {
                    Resp::json(201, json!({"id": "01R", "name": "r.bin", "size": total}))
                };
            }
            Resp::empty(404)
        }
    })
    .await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let c = GraphClient::with_sleeper(server.settings(), None, sleeper.clone()).unwrap();
    let folder = format!("{}/v1.0/drives/b!abc/items/01FOLDER", server.graph_base());
    let data = vec![3u8; total];
    let item = c.upload_file(&auth(), &folder, "r.bin", "x", total as u64, body(&data, 1 << 20)).await.unwrap();
    assert_eq!(item.id, "01R");
    let g = state.lock().unwrap();
    assert_eq!(g.0, total, "every byte stored once");
    assert_eq!(g.1.get(&0), Some(&2), "the lost first range was sent again");
    assert_eq!(g.1.get(&five), Some(&1), "the stored second range was not sent twice");
    assert_eq!(sleeper.delays().len(), 2, "a backoff before each status check");
}

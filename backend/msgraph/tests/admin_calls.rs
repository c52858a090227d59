//! The tenant admin console's Graph calls against Microsoft's real payloads:
//! a local server answers with the fixtures of `shared/reference/microsoft/fixtures/`, and
//! the test checks both what we send (query options, `ConsistencyLevel`, `$ref` bodies) and
//! what we read back (typed models, `@odata.count`, nextLinks, Graph's error details).
#![allow(clippy::unwrap_used)] // test code only

mod support;

use std::path::PathBuf;
use std::sync::Arc;

use edu_msgraph::models::{AssignLicenseRequest, AssignedLicense, NewUser, PasswordProfile};
use edu_msgraph::{GraphAuth, GraphClient, GraphError, ListUsersOptions};
use secrecy::SecretString;
use support::{RecordingSleeper, Resp, serve};

fn fixture(name: &str) -> String {
    let dir = std::env::var("EDU_MS_FIXTURES").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/microsoft/fixtures"),
        PathBuf::from,
    );
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn auth() -> GraphAuth {
    GraphAuth::delegated("tenant-a", SecretString::from("admin-token"))
}

#[tokio::test]
async fn directory_pages_send_advanced_query_options_and_read_real_payloads() {
    let users = fixture("graph_users_list_filter_count_consistencylevel_response.json");
    let groups = fixture("graph_groups_list_filter_startswith_count_response.json");
    let members = fixture("graph_group_members_list_response.json");
    let search_error = fixture("graph_error_400_search_without_consistencylevel_response.json");
    let server = serve(move |req| {
        let (users, groups, members, search_error) =
            (users.clone(), groups.clone(), members.clone(), search_error.clone());
        async move {
            let eventual = req.header("ConsistencyLevel") == Some("eventual");
            match req.path() {
                "/graph/v1.0/users" if req.target.contains("$search") && !eventual => {
                    Resp::raw_json(400, &search_error).header("request-id", "9b600954-ba11-4899-8ce9-6abad341f299")
                }
                "/graph/v1.0/users" => Resp::raw_json(200, &users),
                "/graph/v1.0/groups" => Resp::raw_json(200, &groups),
                "/graph/v1.0/groups/g%201/members" => Resp::raw_json(200, &members),
                _ => Resp::empty(404),
            }
        }
    })
    .await;
    let c = GraphClient::with_sleeper(server.settings(), None, Arc::new(RecordingSleeper::default())).unwrap();
    let a = auth();

    let opts = ListUsersOptions {
        select: &["id", "displayName", "mail"],
        filter: Some("department eq 'Faculty' and accountEnabled eq true".into()),
        search: Some("\"displayName:wa\"".into()),
        top: Some(25),
        count: true,
        ..ListUsersOptions::default()
    };
    let page = c.users_page(&a, &opts).await.unwrap();
    assert_eq!(page.count, Some(1));
    assert_eq!(page.value[0].mail.as_deref(), Some("a@contoso.com"));

    let groups = c
        .groups_page(&a, &ListUsersOptions { search: Some("\"displayName:a\"".into()), ..ListUsersOptions::default() })
        .await
        .unwrap();
    assert!(groups.count.is_some());
    assert!(!groups.value.is_empty());

    let members = c.group_members_page(&a, "g 1", &ListUsersOptions::default()).await.unwrap();
    assert_eq!(members.value[0].id, "11111111-2222-3333-4444-555555555555");

    let reqs = server.requests();
    // Users: every option, and the header advanced queries need.
    let t = &reqs[0].target;
    assert!(t.starts_with("/graph/v1.0/users?$select=id,displayName,mail"), "{t}");
    assert!(t.contains("$filter=department%20eq%20%27Faculty%27%20and%20accountEnabled%20eq%20true"), "{t}");
    assert!(t.contains("$search=%22displayName:wa%22"), "{t}");
    assert!(t.contains("$top=25") && t.contains("$count=true"), "{t}");
    assert_eq!(reqs[0].header("ConsistencyLevel"), Some("eventual"));
    // Groups: $search alone still needs the header; the default $select is sent.
    assert_eq!(reqs[1].header("ConsistencyLevel"), Some("eventual"));
    assert!(reqs[1].target.contains("$select=id,"), "{}", reqs[1].target);
    // Members: a plain list does not ask for eventual consistency; ids are path-encoded.
    assert_eq!(reqs[2].header("ConsistencyLevel"), None);

    // What Graph says when the header is missing keeps its code, message and request id.
    let err = c.next_directory_page::<serde_json::Value>(&a, "/users?$search=%22displayName:wa%22", false).await;
    let err = err.unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.code(), Some("Request_UnsupportedQuery"));
    assert!(err.message().unwrap().contains("ConsistencyLevel: eventual"));
    assert_eq!(err.request_id(), Some("9b600954-ba11-4899-8ce9-6abad341f299"));
}

#[tokio::test]
async fn user_creation_licences_and_membership_use_the_documented_shapes() {
    let created = fixture("graph_user_create_response.json");
    let assigned = fixture("graph_user_assignlicense_response.json");
    let skus = fixture("graph_subscribedskus_list_response.json");
    let server = serve(move |req| {
        let (created, assigned, skus) = (created.clone(), assigned.clone(), skus.clone());
        async move {
            match (req.method.as_str(), req.path()) {
                ("POST", "/graph/v1.0/users") => Resp::raw_json(201, &created),
                ("POST", "/graph/v1.0/users/u1/assignLicense") => Resp::raw_json(200, &assigned),
                ("GET", "/graph/v1.0/subscribedSkus") => Resp::raw_json(200, &skus),
                ("GET", "/graph/v1.0/groups/g1") => {
                    Resp::json(200, serde_json::json!({"id": "g1", "displayName": "Staff", "groupTypes": []}))
                }
                ("POST", "/graph/v1.0/groups/g1/members/$ref") => Resp::json(
                    400,
                    serde_json::json!({"error": {"code": "Request_BadRequest",
                    "message": "One or more added object references already exist for the following modified properties: 'members'.",
                    "innerError": {"request-id": "r-dup", "date": "2026-11-22T08:00:00"}}}),
                ),
                _ => Resp::empty(404),
            }
        }
    })
    .await;
    let c = GraphClient::with_sleeper(server.settings(), None, Arc::new(RecordingSleeper::default())).unwrap();
    let a = auth();

    let new_user = NewUser {
        account_enabled: true,
        display_name: "Adele Vance".into(),
        mail_nickname: "AdeleV".into(),
        user_principal_name: "AdeleV@contoso.onmicrosoft.com".into(),
        password_profile: PasswordProfile {
            force_change_password_next_sign_in: Some(true),
            force_change_password_next_sign_in_with_mfa: None,
            password: Some(SecretString::from("xWwvJ]6NMw+bWH-d")),
        },
        given_name: None,
        surname: None,
        usage_location: None,
        department: None,
        job_title: None,
    };
    let u = c.create_user(&a, &new_user).await.unwrap();
    assert!(!u.id.is_empty());
    let u = c
        .assign_license(
            &a,
            "u1",
            &AssignLicenseRequest {
                add_licenses: vec![AssignedLicense {
                    disabled_plans: vec![],
                    sku_id: "45715bb8-13f9-4bf6-927f-ef96c102d394".into(),
                }],
                remove_licenses: vec![],
            },
        )
        .await
        .unwrap();
    assert_eq!(u.assigned_licenses.len(), 1);
    let skus = c.subscribed_skus(&a).await.unwrap();
    // The documented sample has a SKU with more units consumed than enabled (0 of 14 left):
    // counts are read as they are (the API clamps "available" at 0).
    assert_eq!(skus.len(), 2);
    assert_eq!((skus[0].consumed_units, skus[0].prepaid_units.as_ref().unwrap().enabled), (14, 25));
    assert_eq!((skus[1].consumed_units, skus[1].prepaid_units.as_ref().unwrap().enabled), (14, 0));
    let g = c.get_group(&a, "g1", &[]).await.unwrap();
    assert_eq!(g.display_name.as_deref(), Some("Staff"));
    let dup = c.add_group_member(&a, "g1", "u1").await.unwrap_err();
    assert!(matches!(dup, GraphError::BadRequest(_)), "{dup:?}");
    assert_eq!((dup.status(), dup.request_id()), (Some(400), Some("r-dup")));
    assert!(dup.message().unwrap().contains("already exist"));

    let reqs = server.requests();
    // The create body is the documented request, with the password only in the body.
    let body = reqs[0].json();
    let doc: serde_json::Value = serde_json::from_str(&fixture("graph_user_create_request.json")).unwrap();
    for k in ["accountEnabled", "displayName", "mailNickname", "userPrincipalName"] {
        assert_eq!(body[k], doc[k], "{k}");
    }
    assert_eq!(body["passwordProfile"]["forceChangePasswordNextSignIn"], true);
    assert_eq!(body["passwordProfile"]["password"], doc["passwordProfile"]["password"]);
    // assignLicense always carries both lists, as documented.
    let lic = reqs[1].json();
    assert!(lic["addLicenses"].is_array() && lic["removeLicenses"].is_array(), "{lic}");
    assert!(reqs[2].target.starts_with("/graph/v1.0/subscribedSkus?$select="));
}

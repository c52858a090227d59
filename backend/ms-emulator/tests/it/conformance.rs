//! Conformance: emulator responses have the structure (keys, JSON types, `@odata` annotations) of
//! Microsoft's example payloads (kept in tests/fixtures).

use super::*;
use reqwest::Method;
use serde_json::json;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap();
    // Doc bug: single entities wrapped in "value": {...}.
    match v.get("value") {
        Some(inner @ Value::Object(_)) if v.as_object().map(|o| o.len()) == Some(1) => inner.clone(),
        _ => v,
    }
}

fn placeholder(v: &Value) -> bool {
    matches!(v, Value::String(s) if s.starts_with("String") || s == "Boolean" || s == "Int32" || s == "...")
}

fn norm_ctx(s: &str) -> String {
    let frag = s.split("$metadata#").nth(1).unwrap_or(s);
    let mut out = String::new();
    let mut chars = frag.chars().peekable();
    let mut buf = String::new();
    for c in chars.by_ref() {
        if c.is_ascii_hexdigit() || c == '-' {
            buf.push(c);
        } else {
            out.push_str(if buf.len() >= 32 { "X" } else { &buf });
            buf.clear();
            out.push(c);
        }
    }
    out.push_str(if buf.len() >= 32 { "X" } else { &buf });
    out
}

fn check(fx: &Value, ac: &Value, path: &str, ignore: &[&str], errs: &mut Vec<String>) {
    match (fx, ac) {
        (_, _) if placeholder(fx) => {}
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(f), Value::Object(a)) => {
            if f.len() == 1 && f.get("@odata.type").and_then(Value::as_str).is_some_and(|t| !t.starts_with('#')) {
                return; // placeholder object ("@odata.type": "microsoft.graph.identitySet")
            }
            for (k, fv) in f {
                if ignore.contains(&k.as_str()) {
                    continue;
                }
                match a.get(k) {
                    None => errs.push(format!("{path}/{k}: missing")),
                    Some(av) if k == "@odata.context" => {
                        if let (Some(x), Some(y)) = (fv.as_str(), av.as_str())
                            && norm_ctx(x) != norm_ctx(y)
                        {
                            errs.push(format!("{path}/{k}: {} vs {}", norm_ctx(x), norm_ctx(y)));
                        }
                    }
                    Some(av) => check(fv, av, &format!("{path}/{k}"), ignore, errs),
                }
            }
        }
        (Value::Array(f), Value::Array(a)) => {
            if let (Some(f0), Some(a0)) = (f.first(), a.first()) {
                check(f0, a0, &format!("{path}[0]"), ignore, errs);
            }
        }
        (Value::String(_), Value::String(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::Bool(_), Value::Bool(_)) => {}
        _ => errs.push(format!("{path}: type {fx} vs {ac}")),
    }
}

fn conforms(name: &str, actual: &Value, ignore: &[&str]) -> Vec<String> {
    let mut errs = vec![];
    check(&fixture(name), actual, name, ignore, &mut errs);
    errs
}

#[tokio::test]
async fn identity_platform_conformance() {
    let e = emu().await;
    let t = contoso(&e);
    let base = e.base_url();
    let mut errs = vec![];
    for (f, seg) in [
        ("oidc_discovery_common_v2.json", "common".to_string()),
        ("oidc_discovery_organizations_v2.json", "organizations".into()),
        ("oidc_discovery_tenant_v2.json", t.id.clone()),
    ] {
        let v: Value = http()
            .get(format!("{base}/{seg}/v2.0/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        errs.extend(conforms(f, &v, &[]));
        let fx = fixture(f);
        let mut fk: Vec<&String> = fx.as_object().unwrap().keys().collect();
        let ak: Vec<&String> = v.as_object().unwrap().keys().collect();
        fk.sort();
        assert_eq!(fk, ak, "exactly Microsoft's key set for {f}");
    }
    let k: Value = http().get(format!("{base}/common/discovery/v2.0/keys")).send().await.unwrap().json().await.unwrap();
    errs.extend(conforms("oidc_jwks_common.json", &k, &[]));
    let r = http()
        .post(format!("{base}/{}/oauth2/v2.0/token", t.id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", edu_ms_emulator::DEMO_APP_CLIENT_ID),
            ("client_secret", edu_ms_emulator::DEMO_APP_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    let cc: Value = r.json().await.unwrap();
    errs.extend(conforms("oidc_token_client_credentials_response.json", &cc, &[]));
    errs.extend(conforms("oidc_token_client_credentials_recorded_response.json", &cc, &[]));
    let s = &t.students[0];
    let loc = sign_in(&browser(), &base, &t.id, &s.upn, &s.password, &[("nonce", "n1")]).await;
    let (_, ac) = redeem(&base, &t.id, &param(&loc, "code").unwrap(), None).await;
    errs.extend(conforms("oidc_token_authcode_response.json", &ac, &[]));
    let idc = decode_claims(ac["id_token"].as_str().unwrap());
    errs.extend(conforms(
        "oidc_id_token_v2_decoded_claims.json",
        &json!({"header": {"typ": "JWT", "alg": "RS256", "kid": "k"}, "payload": idc}),
        &[],
    ));
    let r = http()
        .post(format!("{base}/{}/oauth2/v2.0/token", t.id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", edu_ms_emulator::DEMO_APP_CLIENT_ID),
            ("client_secret", edu_ms_emulator::DEMO_APP_SECRET),
            ("scope", "https://foo.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    let err: Value = r.json().await.unwrap();
    errs.extend(conforms("oidc_token_client_credentials_error_response.json", &err, &[]));
    errs.extend(conforms("oidc_token_error_invalid_client_recorded_response.json", &err, &[]));
    assert!(errs.is_empty(), "{errs:#?}");
    e.stop().await;
}

#[tokio::test]
async fn directory_conformance() {
    let e = emu().await;
    let t = contoso(&e);
    let app = app_token(&e, &t.id).await;
    let teacher = &t.teachers[0];
    let ttok = user_token(&e, &t.id, &teacher.upn, &teacher.password).await;
    let mut errs = vec![];
    let mut c = |name: &str, v: &Value, ignore: &[&str]| errs.extend(conforms(name, v, ignore));
    c("graph_users_list_response.json", &get(&e, &app, "/users").await.1, &[]);
    c("graph_me_get_response.json", &get(&e, &ttok, "/me").await.1, &[]);
    c(
        "graph_user_get_select_response.json",
        &get(&e, &app, &format!("/users/{}?$select=displayName,givenName,postalCode,identities", teacher.id)).await.1,
        &[],
    );
    let r: Value = http()
        .get(format!(
            "{}/v1.0/users?$filter=startswith(displayName,'a')&$orderby=displayName&$count=true&$top=1",
            e.graph_url()
        ))
        .bearer_auth(&app)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    c("graph_users_list_filter_count_consistencylevel_response.json", &r, &["mailNickname"]);
    c("graph_users_list_filter_assignedlicenses_response.json", &get(&e, &app, "/users?$select=id,mail,assignedLicenses&$filter=assignedLicenses/any(u:u/skuId eq 94763226-9b3c-4e75-a931-5c89701abe66)").await.1, &[]);
    c("graph_user_manager_get_response.json", &get(&e, &app, &format!("/users/{}/manager", teacher.id)).await.1, &[]);
    c("graph_subscribedskus_list_response.json", &get(&e, &app, "/subscribedSkus").await.1, &[]);
    c("graph_groups_list_response.json", &get(&e, &app, "/groups").await.1, &[]);
    let gid = t.classes[0].id.clone();
    c("graph_group_members_list_response.json", &get(&e, &app, &format!("/groups/{gid}/members")).await.1, &[]);
    let create = fixture("graph_user_create_request.json");
    let mut body = create.clone();
    body["userPrincipalName"] = json!(format!("adelev@{}", t.domain));
    let (s, created) = send(&e, &app, Method::POST, "/users", Some(body)).await;
    assert_eq!(s, 201);
    c("graph_user_create_response.json", &created, &[]);
    let mut lic = fixture("graph_user_assignlicense_request.json");
    lic["addLicenses"] = json!([{"disabledPlans": [], "skuId": "314c4481-f395-4525-be8b-2ec4bb1e9d91"}]);
    lic["removeLicenses"] = json!([]);
    let (s, l) = send(&e, &app, Method::POST, &format!("/users/{}/assignLicense", teacher.id), Some(lic)).await;
    assert_eq!(s, 200, "{l}");
    c("graph_user_assignlicense_response.json", &l, &[]);
    let with = t.students.iter().find(|u| u.has_photo).unwrap();
    c(
        "graph_me_photo_metadata_response.json",
        &get(&e, &app, &format!("/users/{}/photo", with.id)).await.1,
        &["@odata.context"],
    );
    let without = t.students.iter().find(|u| !u.has_photo).unwrap();
    let (s, meta) = get(&e, &app, &format!("/users/{}/photo", without.id)).await;
    assert_eq!((s, meta["id"].as_str()), (200, Some("1x1")));
    c("graph_me_photo_metadata_no_photo_response.json", &meta, &["@odata.context"]);
    c(
        "graph_group_transitivemembers_list_response.json",
        &get(&e, &app, &format!("/groups/{gid}/transitiveMembers")).await.1,
        &[],
    );
    // Nested group + OData cast on a transitive list.
    let (_, g) = get(&e, &app, "/groups?$filter=displayName eq 'All Teachers'").await;
    let teachers_group = g["value"][0]["id"].as_str().unwrap().to_string();
    let body = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{teachers_group}")});
    assert_eq!(send(&e, &app, Method::POST, &format!("/groups/{gid}/members/$ref"), Some(body)).await.0, 204);
    let r: Value = http()
        .get(format!("{}/v1.0/groups/{gid}/transitiveMembers/microsoft.graph.group?$count=true", e.graph_url()))
        .bearer_auth(&app)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["@odata.count"], 1, "{r}");
    c("graph_group_transitivemembers_cast_group_count_response.json", &r, &["@odata.id", "organizationId"]);
    let (_, all) = get(&e, &app, &format!("/groups/{gid}/transitiveMembers?$top=999")).await;
    let (_, direct) = get(&e, &app, &format!("/groups/{gid}/members?$top=999")).await;
    assert!(
        all["value"].as_array().unwrap().len() > direct["value"].as_array().unwrap().len(),
        "teachers of the nested group are transitive members"
    );
    // Manager chain: teacher0 → admin → teacher1 → teacher2 → a student.
    for (who, mgr) in [
        (&t.admin.id, &t.teachers[1].id),
        (&t.teachers[1].id, &t.teachers[2].id),
        (&t.teachers[2].id, &t.students[9].id),
    ] {
        let body = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{mgr}")});
        assert_eq!(send(&e, &app, Method::PUT, &format!("/users/{who}/manager/$ref"), Some(body)).await.0, 204);
    }
    let r: Value = http()
        .get(format!(
            "{}/v1.0/users/{}?$expand=manager($levels=max;$select=id,displayName)&$select=id,displayName&$count=true",
            e.graph_url(),
            teacher.id
        ))
        .bearer_auth(&app)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["manager"]["id"], t.admin.id, "{r}");
    assert!(r["manager"].get("mail").is_none());
    c("graph_me_expand_manager_levels_max_response.json", &r, &[]);
    // Users delta pages.
    let d1: Value = http()
        .get(format!("{}/v1.0/users/delta?$select=displayName,givenName,surname", e.graph_url()))
        .bearer_auth(&app)
        .header("Prefer", "odata.maxpagesize=100")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    c("graph_users_delta_initial_response.json", &d1, &[]);
    let d2: Value = http()
        .get(d1["@odata.nextLink"].as_str().unwrap())
        .bearer_auth(&app)
        .header("Prefer", "odata.maxpagesize=100")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    c("graph_users_delta_nextlink_page_response.json", &d2, &[]);
    // Errors.
    c(
        "graph_error_404_resource_not_found_response.json",
        &get(&e, &app, "/users/c527a470-a882-481c-981c-ee6efaba85c7").await.1,
        &[],
    );
    c("graph_error_400_count_without_consistencylevel_response.json", &get(&e, &app, "/users/$count").await.1, &[]);
    c(
        "graph_error_400_unsupported_filter_property_response.json",
        &get(&e, &app, "/groups?$filter=createdDateTime ge 2021-01-01").await.1,
        &[],
    );
    c(
        "graph_error_400_endswith_without_advanced_params_response.json",
        &get(&e, &app, "/users?$filter=endswith(mail,'x')").await.1,
        &[],
    );
    let stok = user_token(&e, &t.id, &t.students[0].upn, &t.students[0].password).await;
    c(
        "graph_error_403_authorization_requestdenied_response.json",
        &send(&e, &stok, Method::PATCH, &format!("/users/{}", teacher.id), Some(json!({"jobTitle": "x"}))).await.1,
        &[],
    );
    assert!(errs.is_empty(), "{errs:#?}");
    e.stop().await;
}

#[tokio::test]
async fn education_conformance() {
    let e = emu().await;
    let t = contoso(&e);
    let app = app_token(&e, &t.id).await;
    let class = t.classes[0].clone();
    let teacher = t.teachers.iter().find(|u| u.id == class.teacher_ids[0]).unwrap().clone();
    let student = t.students.iter().find(|u| class.student_ids.contains(&u.id)).unwrap().clone();
    let ttok = user_token(&e, &t.id, &teacher.upn, &teacher.password).await;
    let stok = user_token(&e, &t.id, &student.upn, &student.password).await;
    let school = &t.schools[0].id;
    let mut errs = vec![];
    let mut c = |name: &str, v: &Value, ignore: &[&str]| errs.extend(conforms(name, v, ignore));
    c("graph_education_schools_list_response.json", &get(&e, &app, "/education/schools").await.1, &[]);
    c("graph_education_school_get_response.json", &get(&e, &app, &format!("/education/schools/{school}")).await.1, &[]);
    c(
        "graph_education_school_users_list_response.json",
        &get(&e, &app, &format!("/education/schools/{school}/users")).await.1,
        &[],
    );
    c("graph_education_me_schools_list_response.json", &get(&e, &stok, "/education/me/schools").await.1, &["status"]);
    c("graph_education_classes_list_response.json", &get(&e, &app, "/education/classes").await.1, &[]);
    c(
        "graph_education_class_get_response.json",
        &get(&e, &ttok, &format!("/education/classes/{}", class.id)).await.1,
        &[],
    );
    c("graph_education_users_list_response.json", &get(&e, &app, "/education/users").await.1, &[]);
    c("graph_education_me_get_response.json", &get(&e, &app, &format!("/education/users/{}", student.id)).await.1, &[]);
    let cd: Value = http()
        .get(format!("{}/v1.0/education/classes/delta", e.graph_url()))
        .bearer_auth(&app)
        .header("Prefer", "odata.maxpagesize=10")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    c("graph_education_classes_delta_response.json", &cd, &[]);
    c("graph_education_users_delta_response.json", &get(&e, &app, "/education/users/delta").await.1, &[]);
    c(
        "graph_education_class_assignments_list_response.json",
        &get(&e, &ttok, &format!("/education/classes/{}/assignments", class.id)).await.1,
        &[],
    );
    c(
        "graph_education_class_assignments_list_filter_status_response.json",
        &get(&e, &ttok, &format!("/education/classes/{}/assignments?$filter=status eq 'assigned'", class.id)).await.1,
        &[],
    );
    let (s, a) = send(
        &e,
        &ttok,
        Method::POST,
        &format!("/education/classes/{}/assignments", class.id),
        Some(fixture("graph_education_class_assignment_create_request.json")),
    )
    .await;
    assert_eq!(s, 201, "{a}");
    c("graph_education_class_assignment_create_response.json", &a, &[]);
    let apath = format!("/education/classes/{}/assignments/{}", class.id, a["id"].as_str().unwrap());
    let (s, r) = send(
        &e,
        &ttok,
        Method::POST,
        &format!("{apath}/resources"),
        Some(fixture("graph_education_assignment_resource_create_link_request.json")),
    )
    .await;
    assert_eq!(s, 201);
    c("graph_education_assignment_resource_create_link_response.json", &r, &[]);
    let (_, p) = send(&e, &ttok, Method::POST, &format!("{apath}/publish"), None).await;
    c("graph_education_assignment_publish_response.json", &p, &[]);
    c("graph_education_assignment_get_response.json", &get(&e, &ttok, &apath).await.1, &[]);
    c(
        "graph_education_assignment_submissions_list_expand_outcomes_response.json",
        &get(&e, &ttok, &format!("{apath}/submissions?$expand=outcomes")).await.1,
        &[],
    );
    let (_, subs) = get(&e, &stok, &format!("{apath}/submissions")).await;
    let spath = format!("{apath}/submissions/{}", subs["value"][0]["id"].as_str().unwrap());
    c(
        "graph_education_submission_submit_response.json",
        &send(&e, &stok, Method::POST, &format!("{spath}/submit"), None).await.1,
        &[],
    );
    c(
        "graph_education_submission_unsubmit_response.json",
        &send(&e, &stok, Method::POST, &format!("{spath}/unsubmit"), None).await.1,
        &[],
    );
    send(&e, &stok, Method::POST, &format!("{spath}/submit"), None).await;
    c(
        "graph_education_submission_return_response.json",
        &send(&e, &ttok, Method::POST, &format!("{spath}/return"), None).await.1,
        &[],
    );
    c(
        "graph_education_submission_reassign_response_no_prefer.json",
        &send(&e, &ttok, Method::POST, &format!("{spath}/reassign"), None).await.1,
        &[],
    );
    assert!(errs.is_empty(), "{errs:#?}");
    e.stop().await;
}

#[tokio::test]
async fn request_fixtures_are_accepted() {
    let e = emu().await;
    let t = contoso(&e);
    let app = app_token(&e, &t.id).await;
    let mut errs = vec![];
    let v: Value = http()
        .get(format!("{}/common/discovery/instance?api-version=1.1&authorization_endpoint=x", e.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    errs.extend(conforms("oidc_instance_discovery_response.json", &v, &[]));
    let r: Value = http()
        .get(format!(
            "{}/v1.0/groups?$filter=startswith(displayName,'a')&$count=true&$select=displayName,mailNickname",
            e.graph_url()
        ))
        .bearer_auth(&app)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    errs.extend(conforms("graph_groups_list_filter_startswith_count_response.json", &r, &["@odata.context"]));
    assert!(r["@odata.count"].as_u64().unwrap() >= 1);
    assert!(errs.is_empty(), "{errs:#?}");
    // sendMail bodies from the docs (external recipients land in address-keyed mailboxes).
    let teacher = &t.teachers[0];
    let ttok = user_token(&e, &t.id, &teacher.upn, &teacher.password).await;
    for f in ["graph_me_sendmail_request.json", "graph_me_sendmail_with_attachment_request.json"] {
        let (s, b) = send(&e, &ttok, Method::POST, "/me/sendMail", Some(fixture(f))).await;
        assert_eq!(s, 202, "{f}: {b}");
    }
    assert_eq!(e.mailbox("frannis@contoso.com").len(), 1);
    assert_eq!(e.mailbox("meganb@contoso.com")[0]["hasAttachments"], true);
    assert_eq!(e.mailbox(&teacher.upn).len(), 1, "saveToSentItems \"false\" honoured for the first message only");
    // Class member $ref and group members@odata.bind bodies.
    let class = &t.classes[1];
    let newbie = t.students.iter().find(|s| !class.student_ids.contains(&s.id)).unwrap();
    let body: Value = serde_json::from_str(
        &fixture("graph_education_class_members_add_ref_request.json").to_string().replace("13015", &newbie.id),
    )
    .unwrap();
    let (s, b) =
        send(&e, &app, Method::POST, &format!("/education/classes/{}/members/$ref", class.id), Some(body)).await;
    assert_eq!(s, 204, "{b}");
    let (_, g) = get(&e, &app, "/groups?$filter=displayName eq 'All Teachers'").await;
    let gid = g["value"][0]["id"].as_str().unwrap();
    let mut text = fixture("graph_group_members_add_bind_patch_request.json").to_string();
    for s in &t.students[10..13] {
        text = text.replacen("{id}", &s.id, 1);
    }
    let (s, b) =
        send(&e, &app, Method::PATCH, &format!("/groups/{gid}"), Some(serde_json::from_str(&text).unwrap())).await;
    assert_eq!(s, 204, "{b}");
    let (_, m) = get(&e, &app, &format!("/groups/{gid}/members")).await;
    assert_eq!(m["value"].as_array().unwrap().len(), 13);
    e.stop().await;
}

#[tokio::test]
async fn more_error_and_token_shapes() {
    let e = emu().await;
    let t = contoso(&e);
    let base = e.base_url();
    let app = app_token(&e, &t.id).await;
    let mut errs = vec![];
    // Access token claims (delegated).
    let s = &t.students[0];
    let tok = user_token(&e, &t.id, &s.upn, &s.password).await;
    errs.extend(conforms(
        "oidc_access_token_v2_decoded_claims.json",
        &json!({"header": {"typ": "JWT", "alg": "RS256", "kid": "k"}, "payload": decode_claims(&tok)}),
        &[],
    ));
    // invalid_scope on a code redemption with a foreign resource.
    let loc = sign_in(&browser(), &base, &t.id, &s.upn, &s.password, &[]).await;
    let r = http()
        .post(format!("{base}/{}/oauth2/v2.0/token", t.id))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", edu_ms_emulator::DEMO_APP_CLIENT_ID),
            ("client_secret", edu_ms_emulator::DEMO_APP_SECRET),
            ("code", &param(&loc, "code").unwrap()),
            ("redirect_uri", REDIRECT),
            ("scope", "api://someone-else/read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    errs.extend(conforms("oidc_token_error_invalid_scope_response.json", &v, &[]));
    errs.extend(conforms("oidc_token_error_with_error_uri_response.json", &v, &[]));
    // $search without ConsistencyLevel.
    errs.extend(conforms(
        "graph_error_400_search_without_consistencylevel_response.json",
        &get(&e, &app, "/users?$search=\"displayName:ava\"").await.1,
        &[],
    ));
    // Bad MIME.
    let ttok = user_token(&e, &t.id, &t.teachers[0].upn, &t.teachers[0].password).await;
    let r = http()
        .post(format!("{}/v1.0/me/sendMail", e.graph_url()))
        .bearer_auth(&ttok)
        .header("Content-Type", "text/plain")
        .body("%%%")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    errs.extend(conforms("graph_sendmail_error_invalid_mime_response.json", &r.json::<Value>().await.unwrap(), &[]));
    // Delta: final page and a no-change round.
    let mut link = format!("{}/v1.0/users/delta", e.graph_url());
    let last = loop {
        let r: Value = http().get(&link).bearer_auth(&app).send().await.unwrap().json().await.unwrap();
        match r["@odata.nextLink"].as_str() {
            Some(n) => link = n.to_string(),
            None => break r,
        }
    };
    errs.extend(conforms("graph_users_delta_final_page_with_deltalink_response.json", &last, &[]));
    let none: Value = http()
        .get(last["@odata.deltaLink"].as_str().unwrap())
        .bearer_auth(&app)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    errs.extend(conforms("graph_users_delta_deltalink_no_changes_response.json", &none, &[]));
    assert_eq!(none["value"].as_array().unwrap().len(), 0);
    assert!(errs.is_empty(), "{errs:#?}");
    e.stop().await;
}

/// The admin console's error cases: duplicate member, missing member, UPN outside
/// the verified domains, no licences left, `$search` without `ConsistencyLevel` on groups.
#[tokio::test]
async fn admin_console_error_conformance() {
    let e = emu().await;
    let t = contoso(&e);
    let tok = user_token(&e, &t.id, &t.admin.upn, &t.admin.password).await;
    let g = format!("{}/v1.0", e.graph_url());

    // Groups: $search needs ConsistencyLevel (same error as /users; fixture text).
    let (s, b) = get(&e, &tok, "/groups?$search=%22displayName:all%22").await;
    assert_eq!(s, 400);
    assert_graph_error(&b, "Request_UnsupportedQuery");
    let fx = fixture("graph_error_400_search_without_consistencylevel_response.json");
    assert_eq!(b["error"]["message"], fx["error"]["message"]);
    let r = http()
        .get(format!("{g}/groups?$search=%22displayName:teach%22&$select=id,displayName"))
        .bearer_auth(&tok)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let names: Vec<&str> = v["value"].as_array().unwrap().iter().filter_map(|x| x["displayName"].as_str()).collect();
    assert!(names.contains(&"All Teachers"), "{names:?}");
    assert!(names.iter().all(|n| n.to_lowercase().split(' ').any(|w| w.starts_with("teach"))), "{names:?}");

    // Membership: adding twice → 400 with Graph's documented text; removing a non-member → 404.
    let (gid, _) = e.groups(&t.id).into_iter().find(|(_, n)| n == "All Teachers").unwrap();
    let student = &t.students[0];
    let body = json!({"@odata.id": format!("{g}/directoryObjects/{}", student.id)});
    let (s, _) = send(&e, &tok, Method::POST, &format!("/groups/{gid}/members/$ref"), Some(body.clone())).await;
    assert_eq!(s, 204);
    let (s, b) = send(&e, &tok, Method::POST, &format!("/groups/{gid}/members/$ref"), Some(body)).await;
    assert_eq!(s, 400);
    assert_graph_error(&b, "Request_BadRequest");
    assert_eq!(
        b["error"]["message"],
        "One or more added object references already exist for the following modified properties: 'members'."
    );
    let missing = json!({"@odata.id": format!("{g}/directoryObjects/00000000-0000-0000-0000-00000000abcd")});
    let (s, b) = send(&e, &tok, Method::POST, &format!("/groups/{gid}/members/$ref"), Some(missing)).await;
    assert_eq!(s, 404);
    assert_graph_error(&b, "Request_ResourceNotFound");
    let (s, _) = send(&e, &tok, Method::DELETE, &format!("/groups/{gid}/members/{}/$ref", student.id), None).await;
    assert_eq!(s, 204);
    let (s, b) = send(&e, &tok, Method::DELETE, &format!("/groups/{gid}/members/{}/$ref", student.id), None).await;
    assert_eq!(s, 404);
    assert_graph_error(&b, "Request_ResourceNotFound");

    // Users: a UPN outside the tenant's verified domains is refused.
    let new_user = |upn: &str| {
        json!({"accountEnabled": true, "displayName": "New Person", "mailNickname": "newperson",
               "userPrincipalName": upn, "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "Xy9!long-enough"}})
    };
    let (s, b) = send(&e, &tok, Method::POST, "/users", Some(new_user("new.person@not-verified.example"))).await;
    assert_eq!(s, 400);
    assert_graph_error(&b, "Request_BadRequest");
    assert_eq!(b["error"]["message"], "Property userPrincipalName is invalid.");
    let (s, b) = send(&e, &tok, Method::POST, "/users", Some(new_user(&format!("new.person@{}", t.domain)))).await;
    assert_eq!(s, 201, "{b}");
    let new_id = b["id"].as_str().unwrap().to_owned();

    // Licences: when every unit of a SKU is consumed, assignments are refused and nothing changes.
    let (_, skus) = get(&e, &tok, "/subscribedSkus").await;
    let faculty = skus["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["skuPartNumber"] == "STANDARDWOFFPACK_FACULTY")
        .unwrap()
        .clone();
    let sku = faculty["skuId"].as_str().unwrap();
    let consumed = faculty["consumedUnits"].as_i64().unwrap();
    assert!(e.set_sku_units(&t.id, sku, consumed));
    let (s, _) = send(&e, &tok, Method::PATCH, &format!("/users/{new_id}"), Some(json!({"usageLocation": "US"}))).await;
    assert_eq!(s, 204);
    let assign = json!({"addLicenses": [{"disabledPlans": [], "skuId": sku}], "removeLicenses": []});
    let (s, b) = send(&e, &tok, Method::POST, &format!("/users/{new_id}/assignLicense"), Some(assign.clone())).await;
    assert_eq!(s, 400);
    assert_graph_error(&b, "Request_BadRequest");
    assert_eq!(b["error"]["message"], format!("Subscription with SKU {sku} does not have any available licenses."));
    assert_eq!(e.user(&t.id, &new_id).unwrap()["assignedLicenses"], json!([]));
    // A holder re-assigning keeps working; a freed seat can be taken again.
    let (s, _) =
        send(&e, &tok, Method::POST, &format!("/users/{}/assignLicense", t.teachers[0].id), Some(assign.clone())).await;
    assert_eq!(s, 200);
    let free = json!({"addLicenses": [], "removeLicenses": [sku]});
    let (s, _) = send(&e, &tok, Method::POST, &format!("/users/{}/assignLicense", t.teachers[0].id), Some(free)).await;
    assert_eq!(s, 200);
    let (s, b) = send(&e, &tok, Method::POST, &format!("/users/{new_id}/assignLicense"), Some(assign)).await;
    assert_eq!(s, 200, "{b}");
    let (_, skus) = get(&e, &tok, "/subscribedSkus").await;
    let f = skus["value"].as_array().unwrap().iter().find(|s| s["skuId"] == sku).unwrap().clone();
    assert_eq!(f["consumedUnits"].as_i64(), f["prepaidUnits"]["enabled"].as_i64());
}

async fn send_prefer(e: &edu_ms_emulator::RunningEmulator, token: &str, path: &str) -> (u16, Value) {
    let r = http()
        .post(format!("{}/v1.0{path}", e.graph_url()))
        .bearer_auth(token)
        .header("Prefer", "include-unknown-enum-members")
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Issue 15: outcomes (points, feedback, rubric; published on return), rubrics, excuse with
/// and without the Prefer header, `/education/me/assignments` with its documented nulls,
/// `invalidGrading`, assignment settings with grading categories — each answer has the
/// structure of Microsoft's example.
#[tokio::test]
async fn grading_conformance() {
    let e = emu().await;
    let t = contoso(&e);
    let class = t.classes[0].clone();
    let teacher = t.teachers.iter().find(|u| u.id == class.teacher_ids[0]).unwrap().clone();
    let ttok = user_token(&e, &t.id, &teacher.upn, &teacher.password).await;
    let students: Vec<_> = t.students.iter().filter(|u| class.student_ids.contains(&u.id)).take(2).cloned().collect();
    let stok = user_token(&e, &t.id, &students[0].upn, &students[0].password).await;
    let mut errs = vec![];
    let mut c = |name: &str, v: &Value, ignore: &[&str]| errs.extend(conforms(name, v, ignore));

    // Rubrics: points and credit.
    let (s, rubric) = send(
        &e,
        &ttok,
        Method::POST,
        "/education/me/rubrics",
        Some(fixture("graph_education_rubric_create_request_points.json")),
    )
    .await;
    assert_eq!(s, 201, "{rubric}");
    c("graph_education_rubric_create_response_points.json", &rubric, &[]);
    let (s, credit) = send(
        &e,
        &ttok,
        Method::POST,
        "/education/me/rubrics",
        Some(fixture("graph_education_rubric_create_request_credit.json")),
    )
    .await;
    assert_eq!(s, 201, "{credit}");
    c("graph_education_rubric_create_response_credit.json", &credit, &[]);
    assert!(credit.get("grading").is_none(), "a credit rubric has no grading");
    let rid = rubric["id"].as_str().unwrap();
    c(
        "graph_education_rubric_get_response.json",
        &get(&e, &ttok, &format!("/education/me/rubrics/{rid}")).await.1,
        &[],
    );
    let (s, _) = send(&e, &stok, Method::POST, "/education/me/rubrics", Some(json!({"displayName": "x"}))).await;
    assert_eq!(s, 400, "an incomplete rubric is refused");

    // A points assignment with the rubric attached.
    let mut body = fixture("graph_education_class_assignment_create_request.json");
    body["grading"] = json!({"@odata.type": "#microsoft.graph.educationAssignmentPointsGradeType", "maxPoints": 100});
    let (s, a) =
        send(&e, &ttok, Method::POST, &format!("/education/classes/{}/assignments", class.id), Some(body)).await;
    assert_eq!(s, 201, "{a}");
    let apath = format!("/education/classes/{}/assignments/{}", class.id, a["id"].as_str().unwrap());
    let mut r = fixture("graph_education_assignment_rubric_put_ref_request.json");
    r["@odata.id"] = json!(format!("{}/v1.0/education/me/rubrics/{rid}", e.graph_url()));
    assert_eq!(send(&e, &ttok, Method::PUT, &format!("{apath}/rubric/$ref"), Some(r)).await.0, 204);
    assert_eq!(get(&e, &ttok, &format!("{apath}/rubric")).await.1["id"], rubric["id"]);
    send(&e, &ttok, Method::POST, &format!("{apath}/publish"), None).await;

    let (_, subs) = get(&e, &ttok, &format!("{apath}/submissions?$expand=outcomes")).await;
    c("graph_education_assignment_submissions_list_expand_outcomes_response.json", &subs, &[]);
    let mine =
        subs["value"].as_array().unwrap().iter().find(|s| s["recipient"]["userId"] == students[0].id.as_str()).unwrap();
    let other =
        subs["value"].as_array().unwrap().iter().find(|s| s["recipient"]["userId"] == students[1].id.as_str()).unwrap();
    let spath = format!("{apath}/submissions/{}", mine["id"].as_str().unwrap());
    let outcome = |kind: &str| {
        let o = mine["outcomes"].as_array().unwrap().iter().find(|o| o["@odata.type"].as_str().unwrap().contains(kind));
        format!("{spath}/outcomes/{}", o.unwrap()["id"].as_str().unwrap())
    };
    let (s, fb) = send(
        &e,
        &ttok,
        Method::PATCH,
        &outcome("Feedback"),
        Some(fixture("graph_education_outcome_update_feedback_request.json")),
    )
    .await;
    assert_eq!(s, 200, "{fb}");
    c("graph_education_outcome_update_feedback_response.json", &fb, &[]);
    let (s, pts) = send(
        &e,
        &ttok,
        Method::PATCH,
        &outcome("Points"),
        Some(fixture("graph_education_outcome_update_points_request.json")),
    )
    .await;
    assert_eq!((s, pts["points"]["points"].as_f64()), (200, Some(85.0)), "{pts}");
    // The rubric request with this rubric's quality and level ids.
    let mut rb = fixture("graph_education_outcome_update_rubric_request.json");
    for i in 0..2 {
        let q = rubric["qualities"][i]["qualityId"].clone();
        rb["rubricQualityFeedback"][i]["qualityId"] = q.clone();
        rb["rubricQualitySelectedLevels"][i]["qualityId"] = q;
        rb["rubricQualitySelectedLevels"][i]["columnId"] = rubric["levels"][i]["levelId"].clone();
    }
    let (s, ro) = send(&e, &ttok, Method::PATCH, &outcome("Rubric"), Some(rb)).await;
    assert_eq!(s, 200, "{ro}");
    c("graph_education_outcome_update_rubric_response.json", &ro, &[]);
    for bad in [json!(-1), json!(10_000_000), json!("85")] {
        let body = json!({"@odata.type": "#microsoft.graph.educationPointsOutcome", "points": {"@odata.type": "#microsoft.graph.educationAssignmentPointsGrade", "points": bad}});
        let (s, err) = send(&e, &ttok, Method::PATCH, &outcome("Points"), Some(body)).await;
        assert_eq!((s, err["error"]["innerError"]["code"].as_str()), (400, Some("invalidGrading")), "{bad}");
        c("graph_education_outcome_update_error_400_invalidgrading_response.json", &err, &[]);
    }
    let (s, err) = send(&e, &ttok, Method::PATCH, &format!("{spath}/outcomes/{}", uuid_like()), Some(json!({}))).await;
    assert_eq!(s, 404);
    c("graph_education_outcome_update_error_404_response.json", &err, &[]);
    let published = json!({"@odata.type": "#microsoft.graph.educationPointsOutcome", "publishedPoints": {"points": 1}});
    assert_eq!(
        send(&e, &ttok, Method::PATCH, &outcome("Points"), Some(published)).await.0,
        400,
        "published* is the service's"
    );
    assert_eq!(
        send(
            &e,
            &stok,
            Method::PATCH,
            &outcome("Points"),
            Some(fixture("graph_education_outcome_update_points_request.json"))
        )
        .await
        .0,
        403
    );
    // Drafts until returned, then published.
    let (_, before) = get(&e, &ttok, &format!("{spath}/outcomes")).await;
    assert!(
        before["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["publishedPoints"].is_null() && o["publishedFeedback"].is_null())
    );
    send(&e, &ttok, Method::POST, &format!("{spath}/return"), None).await;
    let (_, after) = get(&e, &stok, &format!("{spath}/outcomes")).await;
    let v = after["value"].as_array().unwrap();
    assert_eq!(v[1]["publishedPoints"]["points"].as_f64(), Some(85.0), "{after}");
    assert_eq!(v[0]["publishedFeedback"]["text"]["content"], "This is feedback for the assignment as a whole.");
    assert_eq!(v[2]["publishedRubricQualitySelectedLevels"][0]["columnId"], rubric["levels"][0]["levelId"]);

    // The student's to-do list: their submission expanded; the documented nulls.
    let (_, todo) = get(&e, &stok, "/education/me/assignments?$expand=submissions").await;
    c("graph_education_user_assignments_list_expand_submissions_response.json", &todo, &[]);
    c("graph_education_user_assignments_list_response.json", &get(&e, &stok, "/education/me/assignments").await.1, &[]);
    let item = todo["value"].as_array().unwrap().iter().find(|x| x["id"] == a["id"]).unwrap();
    assert!(item["instructions"].is_null() && item["webUrl"].is_null());
    assert_eq!(item["submissions"].as_array().unwrap().len(), 1);
    let (_, tt) = get(&e, &ttok, "/education/me/assignments?$expand=submissions").await;
    assert!(tt["value"].as_array().unwrap().iter().all(|x| x["submissions"].is_null()), "null for teachers");

    // Excuse, with and without the Prefer header; feedback is deleted.
    let (s, ex) = send_prefer(&e, &ttok, &format!("{spath}/excuse")).await;
    assert_eq!((s, ex["status"].as_str()), (200, Some("excused")), "{ex}");
    c("graph_education_submission_excuse_response_prefer.json", &ex, &[]);
    let (_, o) = get(&e, &ttok, &format!("{spath}/outcomes")).await;
    assert!(o["value"][0]["feedback"].is_null() && o["value"][0]["publishedFeedback"].is_null());
    let opath = format!("{apath}/submissions/{}", other["id"].as_str().unwrap());
    let (s, ex) = send(&e, &ttok, Method::POST, &format!("{opath}/excuse"), None).await;
    assert_eq!((s, ex["status"].as_str()), (200, Some("returned")), "{ex}");
    assert_eq!(ex["returnedDateTime"], ex["excusedDateTime"]);
    c("graph_education_submission_excuse_response_no_prefer.json", &ex, &[]);
    assert_eq!(send(&e, &stok, Method::POST, &format!("{opath}/excuse"), None).await.0, 403);

    // Grading categories on the class's assignment settings, then on the assignment.
    let spath = format!("/education/classes/{}/assignmentSettings", class.id);
    let (s, set) = send(
        &e,
        &ttok,
        Method::PATCH,
        &spath,
        Some(fixture("graph_education_class_assignmentsettings_update_gradingcategories_request.json")),
    )
    .await;
    assert_eq!(s, 200, "{set}");
    c("graph_education_class_assignmentsettings_update_gradingcategories_response.json", &set, &[]);
    let cats = set["gradingCategories"].as_array().unwrap().clone();
    let mut delta = fixture("graph_education_class_assignmentsettings_update_gradingcategories_delta_request.json");
    delta["gradingCategories@delta"][0]["id"] = cats[0]["id"].clone();
    delta["gradingCategories@delta"][1]["id"] = cats[1]["id"].clone();
    delta["gradingCategories@delta"][2]["percentageWeight"] =
        json!(100 - cats[0]["percentageWeight"].as_i64().unwrap() - cats[2]["percentageWeight"].as_i64().unwrap());
    let (s, set) = send(&e, &ttok, Method::PATCH, &spath, Some(delta)).await;
    assert_eq!(s, 200, "{set}");
    c("graph_education_class_assignmentsettings_update_gradingcategories_delta_response.json", &set, &[]);
    assert_eq!(set["gradingCategories"].as_array().unwrap().len(), 3);
    let mut r = fixture("graph_education_assignment_gradingcategory_put_ref_request.json");
    r["@odata.id"] =
        json!(format!("{}/v1.0{spath}/gradingCategories/{}", e.graph_url(), cats[0]["id"].as_str().unwrap()));
    assert_eq!(send(&e, &ttok, Method::PUT, &format!("{apath}/gradingCategory/$ref"), Some(r)).await.0, 204);
    assert_eq!(
        send(
            &e,
            &ttok,
            Method::PATCH,
            &spath,
            Some(json!({"gradingCategories": [{"displayName": "A", "percentageWeight": 30}]}))
        )
        .await
        .0,
        400
    );
    assert!(errs.is_empty(), "{errs:#?}");
    e.stop().await;
}

fn uuid_like() -> &'static str {
    "9c0f2850-ff8f-4fd6-b3ac-e23077b59141"
}

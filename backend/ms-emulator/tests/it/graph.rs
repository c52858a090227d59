//! Graph v1.0 behaviour: permissions, paging, queries, writes, education, delta, batch, faults.

use super::*;
use edu_ms_emulator::{AssertionAlg, ClientCertificate, Fault, FaultKind};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn tokens_are_checked() {
    let e = emu().await;
    let t = contoso(&e);
    let (s, b) = get(&e, "", "/me").await;
    assert_eq!(s, 401);
    assert_graph_error(&b, "InvalidAuthenticationToken");
    // Foreign token (signed by a key the emulator never published).
    let cert = ClientCertificate::generate("foreign").unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let forged = cert.sign_assertion(&json!({"aud": "https://graph.microsoft.com", "iss": format!("{}/{}/v2.0", e.base_url(), t.id), "tid": t.id, "oid": t.admin.id, "idtyp": "user", "scp": "User.Read", "exp": now + 600, "iat": now}), AssertionAlg::Rs256).unwrap();
    assert_eq!(get(&e, &forged, "/me").await.0, 401);
    // Expired token.
    e.set_token_lifetime(Duration::from_secs(1));
    let tok = app_token(&e, &t.id).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (s, b) = get(&e, &tok, "/users").await;
    assert_eq!(s, 401);
    assert!(b["error"]["message"].as_str().unwrap().contains("expired"));
    // /me with an app-only token.
    e.set_token_lifetime(Duration::from_secs(3600));
    let tok = app_token(&e, &t.id).await;
    assert_eq!(get(&e, &tok, "/me").await.0, 400);
    // App without a permission → 403 Authorization_RequestDenied.
    e.set_app_permissions(edu_ms_emulator::DEMO_APP_CLIENT_ID, &["Mail.Send"]);
    let tok = app_token(&e, &t.id).await;
    let (s, b) = get(&e, &tok, "/users").await;
    assert_eq!(s, 403);
    assert_graph_error(&b, "Authorization_RequestDenied");
    e.stop().await;
}

#[tokio::test]
async fn users_paging_select_filter_count() {
    let e = emu().await;
    let t = contoso(&e);
    let tok = app_token(&e, &t.id).await;
    let (s, page1) = get(&e, &tok, "/users?$top=100&$select=id,displayName").await;
    assert_eq!(s, 200);
    assert_eq!(page1["value"].as_array().unwrap().len(), 100);
    assert!(page1["@odata.context"].as_str().unwrap().ends_with("$metadata#users(id,displayName)"));
    assert!(page1["value"][0].get("mail").is_none());
    let mut next = page1["@odata.nextLink"].as_str().map(str::to_string);
    let mut total = 100;
    while let Some(n) = next {
        let r: Value = http().get(&n).bearer_auth(&tok).send().await.unwrap().json().await.unwrap();
        total += r["value"].as_array().unwrap().len();
        next = r["@odata.nextLink"].as_str().map(str::to_string);
    }
    assert_eq!(total, 311, "admin + 10 teachers + 300 students");
    // $count needs ConsistencyLevel: eventual.
    let (s, b) = get(&e, &tok, "/users/$count").await;
    assert_eq!(s, 400);
    assert_eq!(b["error"]["message"], "$count is not currently supported.");
    let r = http()
        .get(format!("{}/v1.0/users/$count", e.graph_url()))
        .bearer_auth(&tok)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert_eq!(r.text().await.unwrap(), "311");
    let r: Value = http()
        .get(format!("{}/v1.0/users?$filter=startswith(displayName,'Ava')&$count=true&$top=1", e.graph_url()))
        .bearer_auth(&tok)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["@odata.count"].as_u64().unwrap() >= 1);
    let (_, r) = get(&e, &tok, "/users?$filter=startswith(displayName,'Ava')&$count=true").await;
    assert!(r.get("@odata.count").is_none(), "silently ignored without ConsistencyLevel");
    let (_, r) = get(&e, &tok, &format!("/users?$filter=userPrincipalName eq '{}'", t.teachers[0].upn)).await;
    assert_eq!(r["value"][0]["id"], t.teachers[0].id);
    let (_, r) = get(
        &e,
        &tok,
        "/users?$filter=assignedLicenses/any(x:x/skuId eq 94763226-9b3c-4e75-a931-5c89701abe66)&$select=id",
    )
    .await;
    assert_eq!(r["value"].as_array().unwrap().len(), 11);
    let (s, b) = get(&e, &tok, "/users?$filter=endswith(mail,'contosoedu.onmicrosoft.com')").await;
    assert_eq!(s, 400);
    assert_graph_error(&b, "Request_UnsupportedQuery");
    let (s, _) = get(&e, &tok, "/users?$filter=favouriteColour eq 'blue'").await;
    assert_eq!(s, 400);
    let (s, b) = get(&e, &tok, "/users?$select=id,skills").await;
    assert_eq!(s, 501);
    assert_graph_error(&b, "NotImplemented");
    let (s, _) = get(&e, &tok, "/users?$top=1000").await;
    assert_eq!(s, 400);
    assert_eq!(e.request_count("GET", "/users"), 12);
    e.stop().await;
}

#[tokio::test]
async fn user_writes_manager_photo_licenses() {
    let e = emu().await;
    let t = contoso(&e);
    let app = app_token(&e, &t.id).await;
    let s0 = &t.students[0];
    let (s, _) =
        send(&e, &app, Method::PATCH, &format!("/users/{}", s0.id), Some(json!({"jobTitle": "Class rep"}))).await;
    assert_eq!(s, 204);
    let (_, u) = get(&e, &app, &format!("/users/{}?$select=jobTitle,displayName", s0.id)).await;
    assert_eq!(u["jobTitle"], "Class rep");
    assert!(u["@odata.context"].as_str().unwrap().ends_with("users(jobTitle,displayName)/$entity"));
    let (s, b) = send(&e, &app, Method::PATCH, &format!("/users/{}", s0.id), Some(json!({"skills": ["rust"]}))).await;
    assert_eq!(s, 403, "app-only can't change skills: {b}");
    let (s, _) = send(&e, &app, Method::PATCH, &format!("/users/{}", s0.id), Some(json!({"displayName": ""}))).await;
    assert_eq!(s, 400);
    // A student can't change someone else.
    let stok = user_token(&e, &t.id, &s0.upn, &s0.password).await;
    let (s, _) =
        send(&e, &stok, Method::PATCH, &format!("/users/{}", t.students[1].id), Some(json!({"jobTitle": "x"}))).await;
    assert_eq!(s, 403);
    // POST /users.
    let body = json!({"accountEnabled": true, "displayName": "New Kid", "mailNickname": "newkid", "userPrincipalName": format!("newkid@{}", t.domain), "usageLocation": "US", "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "P@ss-1234"}});
    let (s, u) = send(&e, &app, Method::POST, "/users", Some(body.clone())).await;
    assert_eq!(s, 201);
    assert!(u["@odata.context"].as_str().unwrap().ends_with("#users/$entity"));
    assert_eq!(send(&e, &app, Method::POST, "/users", Some(body)).await.0, 400);
    // Manager.
    let (s, m) = get(&e, &app, &format!("/users/{}/manager", t.teachers[0].id)).await;
    assert_eq!(s, 200);
    assert_eq!(m["id"], t.admin.id);
    assert_eq!(get(&e, &app, &format!("/users/{}/manager", s0.id)).await.0, 404);
    // Photo.
    let with = t.students.iter().find(|u| u.has_photo).unwrap();
    let without = t.students.iter().find(|u| !u.has_photo).unwrap();
    let r = http()
        .get(format!("{}/v1.0/users/{}/photo/$value", e.graph_url(), with.id))
        .bearer_auth(&app)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("image/"));
    assert_eq!(get(&e, &app, &format!("/users/{}/photo/$value", without.id)).await.0, 404);
    // Licences.
    let (s, u) = send(&e, &app, Method::POST, &format!("/users/{}/assignLicense", u["id"].as_str().unwrap()), Some(json!({"addLicenses": [{"disabledPlans": [], "skuId": "314c4481-f395-4525-be8b-2ec4bb1e9d91"}], "removeLicenses": []}))).await;
    assert_eq!(s, 200, "{u}");
    let (s, _) = send(
        &e,
        &app,
        Method::POST,
        &format!("/users/{}/assignLicense", s0.id),
        Some(json!({"addLicenses": [{"skuId": "00000000-0000-0000-0000-000000000000"}], "removeLicenses": []})),
    )
    .await;
    assert_eq!(s, 400);
    let (_, skus) = get(&e, &app, "/subscribedSkus").await;
    assert_eq!(skus["value"][1]["consumedUnits"], 301);
    e.stop().await;
}

#[tokio::test]
async fn groups_members_roles_mail() {
    let e = emu().await;
    let t = contoso(&e);
    let app = app_token(&e, &t.id).await;
    let (_, g) = get(&e, &app, "/groups?$filter=displayName eq 'All Teachers'").await;
    let gid = g["value"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/groups/{gid}/members/$ref");
    let member = |id: &str| json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")});
    assert_eq!(send(&e, &app, Method::POST, &path, Some(member(&t.students[0].id))).await.0, 204);
    let (s, b) = send(&e, &app, Method::POST, &path, Some(member(&t.students[0].id))).await;
    assert_eq!(s, 400);
    assert_graph_error(&b, "Request_BadRequest");
    let (s, b) = send(&e, &app, Method::POST, &path, Some(member("00000000-0000-0000-0000-00000000dead"))).await;
    assert_eq!(s, 404);
    assert_graph_error(&b, "Request_ResourceNotFound");
    let (_, m) = get(&e, &app, &format!("/groups/{gid}/members")).await;
    assert_eq!(m["value"].as_array().unwrap().len(), 11);
    assert_eq!(m["value"][0]["@odata.type"], "#microsoft.graph.user");
    // Roles: the admin's memberOf includes the Global Administrator role template.
    let atok = user_token(&e, &t.id, &t.admin.upn, &t.admin.password).await;
    let (_, mo) = get(&e, &atok, "/me/memberOf").await;
    assert!(
        mo["value"].as_array().unwrap().iter().any(|o| o["roleTemplateId"] == "62e90394-69f5-4237-9190-012177145e10")
    );
    let (_, roles) = get(&e, &atok, "/directoryRoles?$expand=members").await;
    assert_eq!(roles["value"][0]["members"][0]["id"], t.admin.id);
    let id_claims = decode_claims(&atok);
    assert!(id_claims["wids"].as_array().unwrap().iter().any(|w| w == "62e90394-69f5-4237-9190-012177145e10"));
    // sendMail → 202, mailbox readable by test and by the user.
    let teacher = &t.teachers[0];
    let ttok = user_token(&e, &t.id, &teacher.upn, &teacher.password).await;
    let mail = json!({"message": {"subject": "Homework", "body": {"contentType": "Text", "content": "Due Friday"}, "toRecipients": [{"emailAddress": {"address": t.students[0].upn}}]}});
    let (s, b) = send(&e, &ttok, Method::POST, "/me/sendMail", Some(mail)).await;
    assert_eq!(s, 202, "{b}");
    let inbox = e.mailbox(&t.students[0].upn);
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0]["subject"], "Homework");
    assert_eq!(e.mailbox(&teacher.id).len(), 1, "saved to Sent Items");
    let stok = user_token(&e, &t.id, &t.students[0].upn, &t.students[0].password).await;
    let (_, msgs) = get(&e, &stok, "/me/messages").await;
    assert_eq!(msgs["value"][0]["from"]["emailAddress"]["address"], teacher.upn);
    let r = http()
        .post(format!("{}/v1.0/me/sendMail", e.graph_url()))
        .bearer_auth(&ttok)
        .header("Content-Type", "text/plain")
        .body("%%%not base64")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    e.stop().await;
}

#[tokio::test]
async fn education_views_and_assignment_lifecycle() {
    let e = emu().await;
    let t = contoso(&e);
    let class = t.classes[0].clone();
    let teacher = t.teachers.iter().find(|u| u.id == class.teacher_ids[0]).unwrap().clone();
    let student =
        t.students.iter().find(|u| class.student_ids.contains(&u.id)).cloned().expect("a listed student in class 0");
    let ttok = user_token(&e, &t.id, &teacher.upn, &teacher.password).await;
    let stok = user_token(&e, &t.id, &student.upn, &student.password).await;
    // A student sees only their classes; limited educationUser properties.
    let (_, me) = get(&e, &stok, "/education/me").await;
    assert_eq!(me["primaryRole"], "student");
    assert!(me.get("mail").is_none(), "delegated: limited property set");
    let (_, classes) = get(&e, &stok, "/education/me/classes").await;
    assert!(classes["value"].as_array().unwrap().iter().any(|c| c["id"] == class.id));
    let (_, all) = get(&e, &stok, "/education/classes").await;
    assert!(all["value"].as_array().unwrap().len() < 30);
    let other = t.classes.iter().find(|c| !c.student_ids.contains(&student.id)).unwrap();
    assert_eq!(get(&e, &stok, &format!("/education/classes/{}/members", other.id)).await.0, 403);
    assert_eq!(get(&e, &stok, "/education/users").await.0, 403, "delegated /education/users is not supported");
    let (_, schools) = get(&e, &stok, "/education/me/schools").await;
    assert_eq!(schools["value"].as_array().unwrap().len(), 1);
    let (_, teachers) = get(&e, &stok, &format!("/education/classes/{}/teachers", class.id)).await;
    assert_eq!(teachers["value"][0]["id"], teacher.id);
    // Student can't create assignments; teacher can.
    let body = json!({"displayName": "Essay", "dueDateTime": "2030-01-01T00:00:00Z", "instructions": {"content": "Write", "contentType": "text"}, "grading": {"@odata.type": "#microsoft.graph.educationAssignmentPointsGradeType", "maxPoints": 10}, "assignTo": {"@odata.type": "#microsoft.graph.educationAssignmentClassRecipient"}, "status": "draft"});
    assert_eq!(
        send(&e, &stok, Method::POST, &format!("/education/classes/{}/assignments", class.id), Some(body.clone()))
            .await
            .0,
        403
    );
    let (s, a) =
        send(&e, &ttok, Method::POST, &format!("/education/classes/{}/assignments", class.id), Some(body)).await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["status"], "draft");
    let aid = a["id"].as_str().unwrap().to_string();
    let apath = format!("/education/classes/{}/assignments/{aid}", class.id);
    // Drafts are invisible to students.
    assert_eq!(get(&e, &stok, &apath).await.0, 404);
    let (s, _) = send(&e, &ttok, Method::PATCH, &apath, Some(json!({"displayName": "Essay v2"}))).await;
    assert_eq!(s, 200);
    assert_eq!(send(&e, &ttok, Method::PATCH, &apath, Some(json!({"status": "assigned"}))).await.0, 400);
    // Resources: link works; a file resource needs setUpResourcesFolder first.
    let link = json!({"distributeForStudentWork": false, "resource": {"displayName": "Wonderopolis", "link": "https://wonderopolis.org/", "@odata.type": "#microsoft.graph.educationLinkResource"}});
    assert_eq!(send(&e, &ttok, Method::POST, &format!("{apath}/resources"), Some(link)).await.0, 201);
    let file = json!({"resource": {"displayName": "sheet.xlsx", "@odata.type": "#microsoft.graph.educationExcelResource", "file": {"odataid": "x"}}});
    assert_eq!(send(&e, &ttok, Method::POST, &format!("{apath}/resources"), Some(file)).await.0, 400);
    let (s, a2) = send(&e, &ttok, Method::POST, &format!("{apath}/setUpResourcesFolder"), None).await;
    assert_eq!(s, 200);
    let folder = a2["resourcesFolderUrl"].as_str().unwrap().to_string();
    let upload = format!("{}:/notes.txt:/content", folder.trim_start_matches(&format!("{}/v1.0", e.graph_url())));
    let r =
        http().put(format!("{}/v1.0{upload}", e.graph_url())).bearer_auth(&ttok).body("hello").send().await.unwrap();
    assert_eq!(r.status(), 201, "upload into the resources folder");
    let item: Value = r.json().await.unwrap();
    let drive = folder.rsplit_once("/items/").unwrap().0;
    let file_url = format!("{drive}/items/{}", item["id"].as_str().unwrap());
    let outside = json!({"resource": {"displayName": "x.txt", "@odata.type": "#microsoft.graph.educationFileResource", "fileUrl": format!("{drive}/items/01NOTTHERE")}});
    let (s, err) = send(&e, &ttok, Method::POST, &format!("{apath}/resources"), Some(outside)).await;
    assert_eq!(s, 400, "a file outside the resources folder is refused: {err}");
    let file = json!({"resource": {"displayName": "notes.txt", "@odata.type": "#microsoft.graph.educationFileResource", "fileUrl": file_url}});
    assert_eq!(send(&e, &ttok, Method::POST, &format!("{apath}/resources"), Some(file)).await.0, 201);
    // Publish → "published" now, "assigned" when polled.
    let (s, p) = send(&e, &ttok, Method::POST, &format!("{apath}/publish"), None).await;
    assert_eq!(s, 200);
    assert_eq!(p["status"], "published");
    let (_, a3) = get(&e, &ttok, &apath).await;
    assert_eq!(a3["status"], "assigned");
    assert_eq!(send(&e, &ttok, Method::POST, &format!("{apath}/publish"), None).await.0, 400);
    // The student sees only their own submission.
    let (_, subs) = get(&e, &stok, &format!("{apath}/submissions")).await;
    assert_eq!(subs["value"].as_array().unwrap().len(), 1);
    let sid = subs["value"][0]["id"].as_str().unwrap().to_string();
    let (_, all_subs) = get(&e, &ttok, &format!("{apath}/submissions")).await;
    assert_eq!(all_subs["value"].as_array().unwrap().len(), class.student_ids.len());
    let spath = format!("{apath}/submissions/{sid}");
    assert_eq!(
        send(&e, &ttok, Method::POST, &format!("{spath}/submit"), None).await.0,
        403,
        "only the student submits"
    );
    let (s, sub) = send(&e, &stok, Method::POST, &format!("{spath}/submit"), None).await;
    assert_eq!((s, sub["status"].as_str()), (200, Some("submitted")));
    assert_eq!(send(&e, &stok, Method::POST, &format!("{spath}/submit"), None).await.0, 400);
    let (_, sub) = send(&e, &stok, Method::POST, &format!("{spath}/unsubmit"), None).await;
    assert_eq!(sub["status"], "working");
    send(&e, &stok, Method::POST, &format!("{spath}/submit"), None).await;
    assert_eq!(send(&e, &stok, Method::POST, &format!("{spath}/return"), None).await.0, 403);
    let (_, sub) = send(&e, &ttok, Method::POST, &format!("{spath}/return"), None).await;
    assert_eq!(sub["status"], "returned");
    let (_, sub) = send(&e, &ttok, Method::POST, &format!("{spath}/reassign"), None).await;
    assert_eq!(sub["status"], "returned", "reassigned is reported as returned without Prefer");
    let r: Value = http()
        .get(format!("{}/v1.0{spath}", e.graph_url()))
        .bearer_auth(&ttok)
        .header("Prefer", "include-unknown-enum-members")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "reassigned");
    // Group drive and conversations.
    let (_, kids) = get(&e, &ttok, &format!("/groups/{}/drive/root/children", class.id)).await;
    assert!(!kids["value"].as_array().unwrap().is_empty());
    let (_, conv) = get(&e, &ttok, &format!("/groups/{}/conversations", class.id)).await;
    assert!(conv["value"][0]["topic"].is_string());
    assert_eq!(send(&e, &ttok, Method::DELETE, &apath, None).await.0, 204);
    e.stop().await;
}

#[tokio::test]
async fn delta_rounds_changes_and_expiry() {
    let e = emu().await;
    let t = contoso(&e);
    let app = app_token(&e, &t.id).await;
    let (s, p1) = get(&e, &app, "/users/delta?$select=displayName,givenName").await;
    assert_eq!(s, 200);
    assert!(p1["@odata.context"].as_str().unwrap().ends_with("#users(displayName,givenName)"));
    let mut link = p1["@odata.nextLink"].as_str().unwrap().to_string();
    assert!(link.contains("$skiptoken="));
    let mut n = p1["value"].as_array().unwrap().len();
    let delta_link = loop {
        let r: Value = http().get(&link).bearer_auth(&app).send().await.unwrap().json().await.unwrap();
        assert!(r["@odata.context"].as_str().unwrap().ends_with("#users"));
        n += r["value"].as_array().unwrap().len();
        if let Some(d) = r["@odata.deltaLink"].as_str() {
            break d.to_string();
        }
        link = r["@odata.nextLink"].as_str().unwrap().to_string();
    };
    assert_eq!(n, 311);
    // No changes.
    let r: Value = http().get(&delta_link).bearer_auth(&app).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["value"].as_array().unwrap().len(), 0);
    let delta_link = r["@odata.deltaLink"].as_str().unwrap().to_string();
    // Changes: a PATCH, a soft delete (Graph), a hard delete (admin API).
    send(&e, &app, Method::PATCH, &format!("/users/{}", t.students[0].id), Some(json!({"givenName": "Eva"}))).await;
    send(&e, &app, Method::DELETE, &format!("/users/{}", t.students[1].id), None).await;
    let r = http()
        .delete(format!("{}/tenants/{}/users/{}?permanent=true", e.admin_url(), t.id, t.students[2].id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r: Value = http().get(&delta_link).bearer_auth(&app).send().await.unwrap().json().await.unwrap();
    let v = r["value"].as_array().unwrap();
    assert_eq!(v.len(), 3, "{r}");
    assert!(v.iter().any(|x| x["id"] == t.students[0].id && x["givenName"] == "Eva"));
    assert!(v.iter().any(|x| x["id"] == t.students[1].id && x["@removed"]["reason"] == "changed"));
    assert!(v.iter().any(|x| x["id"] == t.students[2].id && x["@removed"]["reason"] == "deleted"));
    let next = r["@odata.deltaLink"].as_str().unwrap().to_string();
    // Expiry → 410 with Location to restart.
    e.expire_delta_tokens();
    let r = http().get(&next).bearer_auth(&app).send().await.unwrap();
    assert_eq!(r.status(), 410);
    assert!(r.headers()["location"].to_str().unwrap().contains("/users/delta"));
    let b: Value = r.json().await.unwrap();
    assert_graph_error(&b, "resyncRequired");
    // Education deltas.
    let (s, c) = get(&e, &app, "/education/classes/delta").await;
    assert_eq!(s, 200);
    assert!(c["@odata.context"].as_str().unwrap().ends_with("#Collection(educationClass)"));
    assert_eq!(c["value"][0]["@odata.type"], "#microsoft.graph.educationClass");
    let (s, u) = get(&e, &app, "/education/users/delta").await;
    assert_eq!(s, 200);
    assert!(u["@odata.nextLink"].is_string());
    e.stop().await;
}

#[tokio::test]
async fn batch_depends_on_and_limits() {
    let e = emu().await;
    let t = contoso(&e);
    let app = app_token(&e, &t.id).await;
    let url = format!("{}/v1.0/$batch", e.graph_url());
    let body = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/users?$top=1"},
        {"id": "2", "method": "GET", "url": "users/00000000-0000-0000-0000-00000000dead"},
        {"id": "3", "dependsOn": ["2"], "method": "GET", "url": "/users?$top=1"},
        {"id": "4", "method": "PATCH", "url": format!("/users/{}", t.students[0].id), "body": {"jobTitle": "x"}, "headers": {"Content-Type": "application/json"}},
        {"id": "5", "method": "GET", "url": "/users/$count", "headers": {"ConsistencyLevel": "eventual"}}
    ]});
    let r: Value = http().post(&url).bearer_auth(&app).json(&body).send().await.unwrap().json().await.unwrap();
    let resp = r["responses"].as_array().unwrap();
    assert_eq!(resp.len(), 5);
    let by = |id: &str| resp.iter().find(|x| x["id"] == id).unwrap().clone();
    assert_eq!(by("1")["status"], 200);
    assert_eq!(by("2")["status"], 404);
    assert_eq!(by("3")["status"], 424);
    assert_eq!(by("4")["status"], 204);
    assert!(by("4")["body"].is_null());
    assert_eq!(by("5")["body"], "311");
    assert_ne!(resp[0]["id"], "1", "responses are not in request order");
    let too_many: Vec<Value> = (0..21).map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/me"})).collect();
    let r = http().post(&url).bearer_auth(&app).json(&json!({"requests": too_many})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(e.request_count("POST", "/$batch"), 2);
    assert_eq!(e.request_count("GET", "/users"), 1, "inner requests are logged per route (3 never ran)");
    e.stop().await;
}

#[tokio::test]
async fn faults_and_request_log() {
    let e = emu().await;
    let t = contoso(&e);
    let app = app_token(&e, &t.id).await;
    e.reset_request_log();
    e.set_fault(Fault {
        method: Some("GET".into()),
        route: "/users".into(),
        kind: FaultKind::Throttle { retry_after: "2.128".into() },
        times: Some(1),
    });
    let r = http().get(format!("{}/v1.0/users", e.graph_url())).bearer_auth(&app).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2.128");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "TooManyRequests");
    assert_eq!(get(&e, &app, "/users").await.0, 200, "fault used up");
    e.set_fault(Fault {
        method: None,
        route: "/education/classes".into(),
        kind: FaultKind::ServiceUnavailable { retry_after: Some("3".into()) },
        times: None,
    });
    let (s, b) = get(&e, &app, "/education/classes").await;
    assert_eq!(s, 503);
    assert_graph_error(&b, "generalException");
    e.clear_faults();
    e.set_fault(Fault { method: None, route: "/me".into(), kind: FaultKind::DropConnection, times: Some(1) });
    let r = http().get(format!("{}/v1.0/me", e.graph_url())).bearer_auth(&app).send().await;
    let dropped = match r {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(dropped, "connection must be dropped");
    e.set_fault(Fault {
        method: None,
        route: "/subscribedSkus".into(),
        kind: FaultKind::Latency(Duration::from_millis(300)),
        times: Some(1),
    });
    let t0 = std::time::Instant::now();
    assert_eq!(get(&e, &app, "/subscribedSkus").await.0, 200);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    // Token endpoint faults.
    e.set_fault(Fault {
        method: Some("POST".into()),
        route: "/{tenant}/oauth2/v2.0/token".into(),
        kind: FaultKind::GatewayTimeout,
        times: Some(1),
    });
    let r = http()
        .post(format!("{}/{}/oauth2/v2.0/token", e.base_url(), t.id))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 504);
    assert_eq!(e.request_count("GET", "/users"), 2);
    assert_eq!(e.request_count("GET", "/me"), 1);
    // Admin API view of the log and faults over HTTP.
    let log: Value = http().get(format!("{}/requests", e.admin_url())).send().await.unwrap().json().await.unwrap();
    assert!(log["total"].as_u64().unwrap() >= 6);
    let r = http()
        .post(format!("{}/faults", e.admin_url()))
        .json(&json!({"route": "/users", "kind": "throttle", "retry_after": 5, "times": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = http().get(format!("{}/v1.0/users", e.graph_url())).bearer_auth(&app).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["retry-after"].to_str().unwrap()), (429, "5"));
    e.stop().await;
}

#[tokio::test]
async fn admin_api_changes_show_in_delta_and_sign_in() {
    let e = emu().await;
    let t = contoso(&e);
    let app = app_token(&e, &t.id).await;
    let admin = e.admin_url();
    // Baseline delta links.
    let mut classes_link = None;
    let mut link = format!("{}/v1.0/education/classes/delta", e.graph_url());
    while classes_link.is_none() {
        let r: Value = http().get(&link).bearer_auth(&app).send().await.unwrap().json().await.unwrap();
        match r["@odata.deltaLink"].as_str() {
            Some(d) => classes_link = Some(d.to_string()),
            None => link = r["@odata.nextLink"].as_str().unwrap().to_string(),
        }
    }
    let (_, u) = get(&e, &app, "/users/delta?$deltatoken=latest").await;
    let users_link = u["@odata.deltaLink"].as_str().unwrap().to_string();
    assert_eq!(u["value"].as_array().unwrap().len(), 0);
    // Create a user and a class through the control API.
    let r = http().post(format!("{admin}/tenants/{}/users", t.id)).json(&json!({"mailNickname": "zoe.new", "displayName": "Zoe New", "password": "Pw#12345", "role": "student", "schoolIds": [t.schools[0].id]})).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let uid = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let r = http().post(format!("{admin}/tenants/{}/classes", t.id)).json(&json!({"displayName": "Robotics", "mailNickname": "robotics", "schoolIds": [t.schools[0].id], "teacherIds": [t.teachers[0].id], "studentIds": [uid]})).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let cid = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let r: Value = http().get(&users_link).bearer_auth(&app).send().await.unwrap().json().await.unwrap();
    assert!(r["value"].as_array().unwrap().iter().any(|x| x["id"] == uid), "{r}");
    let r: Value = http().get(classes_link.unwrap()).bearer_auth(&app).send().await.unwrap().json().await.unwrap();
    assert!(r["value"].as_array().unwrap().iter().any(|x| x["id"] == cid), "{r}");
    // The new student can sign in and sees the class.
    let tok = user_token(&e, &t.id, &format!("zoe.new@{}", t.domain), "Pw#12345").await;
    let (_, mine) = get(&e, &tok, "/education/me/classes").await;
    assert_eq!(mine["value"][0]["id"], cid);
    // prompt=consent shows the consent page even though the tenant consented.
    let b = browser();
    let loc = sign_in(&b, &e.base_url(), &t.id, &t.students[5].upn, &t.students[5].password, &[]).await;
    assert!(param(&loc, "code").is_some());
    let page = b
        .get(authorize_url(&e.base_url(), &t.id, &[("prompt", "consent")]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Permissions requested"));
    e.stop().await;
}

#[tokio::test]
async fn seed_is_deterministic_and_large_generator_works() {
    let a = emu().await;
    let b =
        edu_ms_emulator::start(EmulatorConfig { seed: Seed::Large { users: 3000 }, workers: 1, ..Default::default() })
            .await
            .unwrap();
    let (da, db) = (serde_json::to_value(a.demo()).unwrap(), serde_json::to_value(b.demo()).unwrap());
    assert_eq!(da["tenants"][0], db["tenants"][0], "same ids every run");
    assert_eq!(da["tenants"][1], db["tenants"][1]);
    let big = b.demo().tenants[2].clone();
    assert_eq!(big.display_name, "Northwind School District");
    assert!(big.consented);
    let tok = app_token(&b, &big.id).await;
    let r = http()
        .get(format!("{}/v1.0/users/$count", b.graph_url()))
        .bearer_auth(&tok)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "3000");
    let (_, classes) = get(&b, &tok, "/education/classes?$top=999").await;
    assert!(classes["value"].as_array().unwrap().len() > 100);
    let s = &big.students[0];
    let stok = user_token(&b, &big.id, &s.upn, &s.password).await;
    let (st, mine) = get(&b, &stok, "/education/me/classes").await;
    assert_eq!(st, 200);
    assert!(!mine["value"].as_array().unwrap().is_empty());
    a.stop().await;
    b.stop().await;
}

/// The demo app's service principal id in a tenant (`GET /servicePrincipals?$filter=appId eq …`).
async fn demo_sp(e: &RunningEmulator, token: &str) -> String {
    let (s, b) = get(
        e,
        token,
        &format!("/servicePrincipals?$filter=appId%20eq%20'{}'&$select=id,appId", edu_ms_emulator::DEMO_APP_CLIENT_ID),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    b["value"][0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn app_role_assigned_to_lists_pages_and_assigns() {
    let e = emu().await;
    let t = contoso(&e);
    let admin = user_token(&e, &t.id, &t.admin.upn, &t.admin.password).await;
    let sp = demo_sp(&e, &admin).await;
    let path = format!("/servicePrincipals/{sp}/appRoleAssignedTo");

    // Seed: every 4th student (75 of 300) already has the default access role.
    let (s, page1) = get(&e, &admin, &format!("{path}?$top=50")).await;
    assert_eq!(s, 200, "{page1}");
    assert!(
        page1["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with(&format!("$metadata#servicePrincipals('{sp}')/appRoleAssignedTo"))
    );
    let first = &page1["value"][0];
    for k in [
        "id",
        "appRoleId",
        "createdDateTime",
        "principalDisplayName",
        "principalId",
        "principalType",
        "resourceDisplayName",
        "resourceId",
    ] {
        assert!(first[k].is_string(), "{k} in {first}");
    }
    assert_eq!(first["appRoleId"], "00000000-0000-0000-0000-000000000000");
    assert_eq!(first["principalType"], "User");
    assert_eq!(first["resourceId"], sp.as_str());
    assert_eq!(first["resourceDisplayName"], "EduGraph (demo)");
    assert_eq!(first["principalId"], t.students[0].id.as_str());
    let mut all: Vec<Value> = page1["value"].as_array().unwrap().clone();
    let mut next = page1["@odata.nextLink"].as_str().map(str::to_string);
    while let Some(n) = next {
        let r: Value = http().get(&n).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        all.extend(r["value"].as_array().unwrap().iter().cloned());
        next = r["@odata.nextLink"].as_str().map(str::to_string);
    }
    assert_eq!(all.len(), 75);

    // Assign a teacher: 201 with the object; then a duplicate → 400.
    let body =
        json!({"principalId": t.teachers[0].id, "resourceId": sp, "appRoleId": "00000000-0000-0000-0000-000000000000"});
    let (s, b) = send(&e, &admin, Method::POST, &path, Some(body.clone())).await;
    assert_eq!(s, 201, "{b}");
    assert!(b["@odata.context"].as_str().unwrap().ends_with("/appRoleAssignedTo/$entity"));
    assert_eq!(b["principalId"], t.teachers[0].id.as_str());
    assert_eq!(b["principalDisplayName"], t.teachers[0].display_name.as_str());
    assert_eq!(b["principalType"], "User");
    assert!(b["id"].is_string() && b["createdDateTime"].is_string());
    let (s, b) = send(&e, &admin, Method::POST, &path, Some(body)).await;
    assert_eq!(s, 400);
    assert_graph_error(&b, "Request_BadRequest");
    assert_eq!(b["error"]["message"], "Permission being assigned already exists on the object.");
    assert_eq!(get(&e, &admin, &format!("{path}?$top=999")).await.1["value"].as_array().unwrap().len(), 76);

    // Unknown principal, mismatched resource, unknown role → 400; unknown service principal → 404.
    let zero = "00000000-0000-0000-0000-000000000000";
    for bad in [
        json!({"principalId": "00000000-0000-0000-0000-00000000dead", "resourceId": sp, "appRoleId": zero}),
        json!({"principalId": t.teachers[1].id, "resourceId": "00000000-0000-0000-0000-00000000beef", "appRoleId": zero}),
        json!({"principalId": t.teachers[1].id, "resourceId": sp, "appRoleId": "11111111-1111-1111-1111-111111111111"}),
    ] {
        let (s, b) = send(&e, &admin, Method::POST, &path, Some(bad)).await;
        assert_eq!(s, 400, "{b}");
        assert_graph_error(&b, "Request_BadRequest");
    }
    let (s, _) = get(&e, &admin, "/servicePrincipals/00000000-0000-0000-0000-00000000beef/appRoleAssignedTo").await;
    assert_eq!(s, 404);

    // Inside $batch too (the product's way), counted under the route template.
    let batch = json!({"requests": [
        {"id": "1", "method": "POST", "url": path, "headers": {"Content-Type": "application/json"},
         "body": {"principalId": t.teachers[1].id, "resourceId": sp, "appRoleId": zero}},
        {"id": "2", "method": "POST", "url": path, "headers": {"Content-Type": "application/json"},
         "body": {"principalId": t.students[0].id, "resourceId": sp, "appRoleId": zero}},
    ]});
    let r: Value = http()
        .post(format!("{}/v1.0/$batch", e.graph_url()))
        .bearer_auth(&admin)
        .json(&batch)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let by = |id: &str| r["responses"].as_array().unwrap().iter().find(|x| x["id"] == id).unwrap().clone();
    assert_eq!(by("1")["status"], 201, "{r}");
    assert_eq!(by("2")["status"], 400);
    assert_eq!(by("2")["body"]["error"]["message"], "Permission being assigned already exists on the object.");
    assert_eq!(e.request_count("POST", "/servicePrincipals/{id}/appRoleAssignedTo"), 7);
    e.stop().await;
}

#[tokio::test]
async fn app_role_assignment_needs_permission() {
    let e = emu().await;
    let t = contoso(&e);
    let admin = user_token(&e, &t.id, &t.admin.upn, &t.admin.password).await;
    let sp = demo_sp(&e, &admin).await;
    let path = format!("/servicePrincipals/{sp}/appRoleAssignedTo");
    let body =
        json!({"principalId": t.students[1].id, "resourceId": sp, "appRoleId": "00000000-0000-0000-0000-000000000000"});
    // A teacher's delegated token (the scope is granted, but the user is no admin).
    let teacher = user_token(&e, &t.id, &t.teachers[0].upn, &t.teachers[0].password).await;
    let (s, b) = send(&e, &teacher, Method::POST, &path, Some(body.clone())).await;
    assert_eq!(s, 403);
    assert_graph_error(&b, "Authorization_RequestDenied");
    // App-only without AppRoleAssignment.ReadWrite.All.
    let app = app_token(&e, &t.id).await;
    let (s, b) = send(&e, &app, Method::POST, &path, Some(body.clone())).await;
    assert_eq!(s, 403);
    assert_graph_error(&b, "Authorization_RequestDenied");
    // App-only with it.
    e.set_app_permissions(edu_ms_emulator::DEMO_APP_CLIENT_ID, &["AppRoleAssignment.ReadWrite.All"]);
    let app = app_token(&e, &t.id).await;
    let (s, b) = send(&e, &app, Method::POST, &path, Some(body)).await;
    assert_eq!(s, 201, "{b}");
    // Withdrawing consent removes the service principal and its assignments.
    let (s, _) = send(&e, &admin, Method::DELETE, &format!("/servicePrincipals/{sp}"), None).await;
    assert_eq!(s, 204);
    assert_eq!(get(&e, &admin, &path).await.0, 404);
    e.stop().await;
}

/// Later delta pages (and deltaLink rounds) keep the `$select` of the first request, which
/// the token carries; non-default properties such as `department` must not turn null there.
#[tokio::test]
async fn delta_pages_after_the_first_keep_the_selected_properties() {
    let e = emu().await;
    let t = contoso(&e);
    let app = app_token(&e, &t.id).await;
    let (s, p1) = get(&e, &app, "/users/delta?$select=displayName,department,accountEnabled").await;
    assert_eq!(s, 200);
    let mut link = p1["@odata.nextLink"].as_str().unwrap().to_string();
    let mut later = Vec::new();
    loop {
        let r: Value = http().get(&link).bearer_auth(&app).send().await.unwrap().json().await.unwrap();
        later.extend(r["value"].as_array().unwrap().iter().cloned());
        match r["@odata.nextLink"].as_str() {
            Some(n) => link = n.to_string(),
            None => break,
        }
    }
    assert!(!later.is_empty());
    assert!(
        later.iter().all(|u| u["department"].is_string()),
        "{:?}",
        later.iter().find(|u| !u["department"].is_string())
    );
    assert!(later.iter().all(|u| u["accountEnabled"].is_boolean()));
}

#[tokio::test]
async fn assignment_patch_follows_the_update_rules_per_status() {
    let e = emu().await;
    let t = contoso(&e);
    let class = t.classes[0].clone();
    let teacher = t.teachers.iter().find(|u| u.id == class.teacher_ids[0]).unwrap().clone();
    let ttok = user_token(&e, &t.id, &teacher.upn, &teacher.password).await;
    let body = json!({"displayName": "Lab", "dueDateTime": "2030-01-02T00:00:00Z"});
    let (_, a) =
        send(&e, &ttok, Method::POST, &format!("/education/classes/{}/assignments", class.id), Some(body)).await;
    let apath = format!("/education/classes/{}/assignments/{}", class.id, a["id"].as_str().unwrap());
    // Read-only properties and status are refused; updatable ones change.
    let (s, err) =
        send(&e, &ttok, Method::PATCH, &apath, Some(json!({"createdDateTime": "2020-01-01T00:00:00Z"}))).await;
    assert_eq!(s, 400);
    assert_graph_error(&err, "BadRequest");
    assert_eq!(send(&e, &ttok, Method::PATCH, &apath, Some(json!({"displayName": " "}))).await.0, 400);
    assert_eq!(
        send(&e, &ttok, Method::PATCH, &apath, Some(json!({"closeDateTime": "2030-01-01T00:00:00Z"}))).await.0,
        400,
        "closeDateTime before the stored dueDateTime"
    );
    let chan = json!({"notificationChannelUrl": "https://graph.microsoft.com/v1.0/teams/x/channels/y"});
    assert_eq!(send(&e, &ttok, Method::PATCH, &apath, Some(chan.clone())).await.0, 200, "allowed on a draft");
    send(&e, &ttok, Method::POST, &format!("{apath}/publish"), None).await;
    // Published: the notification channel and recipients are fixed; name and due date are not.
    assert_eq!(send(&e, &ttok, Method::PATCH, &apath, Some(chan)).await.0, 400);
    let (s, a) = send(
        &e,
        &ttok,
        Method::PATCH,
        &apath,
        Some(json!({"displayName": "Lab 2", "dueDateTime": "2030-02-01T00:00:00Z"})),
    )
    .await;
    assert_eq!((s, a["displayName"].as_str()), (200, Some("Lab 2")), "{a}");
    assert_eq!(a["status"], "assigned");
    e.stop().await;
}

#[tokio::test]
async fn upload_sessions_take_ordered_ranges_without_a_bearer_token() {
    let e = emu().await;
    let t = contoso(&e);
    let class = t.classes[0].clone();
    let teacher = t.teachers.iter().find(|u| u.id == class.teacher_ids[0]).unwrap().clone();
    let ttok = user_token(&e, &t.id, &teacher.upn, &teacher.password).await;
    let (_, a) = send(
        &e,
        &ttok,
        Method::POST,
        &format!("/education/classes/{}/assignments", class.id),
        Some(json!({"displayName": "Big file"})),
    )
    .await;
    let apath = format!("/education/classes/{}/assignments/{}", class.id, a["id"].as_str().unwrap());
    let (_, a) = send(&e, &ttok, Method::POST, &format!("{apath}/setUpResourcesFolder"), None).await;
    let folder = a["resourcesFolderUrl"].as_str().unwrap().to_string();
    let (s, session) = {
        let r = http()
            .post(format!("{folder}:/big.bin:/createUploadSession"))
            .bearer_auth(&ttok)
            .json(&json!({"item": {"@microsoft.graph.conflictBehavior": "replace"}}))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(s, 200, "{session}");
    assert_eq!(session["nextExpectedRanges"], json!(["0-"]));
    let url = session["uploadUrl"].as_str().unwrap().to_string();
    let unit = 320 * 1024;
    let total = 2 * unit + 10;
    let data: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
    let put = |from: usize, to: usize, bearer: bool| {
        let mut rb = http()
            .put(&url)
            .header("Content-Range", format!("bytes {from}-{}/{total}", to - 1))
            .body(data[from..to].to_vec());
        if bearer {
            rb = rb.bearer_auth(&ttok);
        }
        rb.send()
    };
    assert_eq!(put(0, unit, true).await.unwrap().status(), 401, "the upload URL is pre-authenticated");
    assert_eq!(put(0, 1000, false).await.unwrap().status(), 400, "not a multiple of 320 KiB");
    let r = put(0, unit, false).await.unwrap();
    assert_eq!(r.status(), 202);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["nextExpectedRanges"], json!([format!("{unit}-")]));
    assert_eq!(put(0, unit, false).await.unwrap().status(), 416, "a range already received");
    assert_eq!(put(unit, 2 * unit, false).await.unwrap().status(), 202);
    let r = put(2 * unit, total, false).await.unwrap();
    assert_eq!(r.status(), 201, "the last range creates the file");
    let item: Value = r.json().await.unwrap();
    assert_eq!(item["size"], total);
    assert_eq!(e.drive_files(&t.id, &class.id, "big.bin"), vec![data.clone()]);
    assert_eq!(put(0, unit, false).await.unwrap().status(), 404, "the session is over");
    e.stop().await;
}

#[tokio::test]
async fn submission_resources_need_a_file_in_the_submission_folder_and_the_right_people() {
    let e = emu().await;
    let t = contoso(&e);
    let class = t.classes[0].clone();
    let find = |id: &str| t.teachers.iter().chain(t.students.iter()).find(|u| u.id == id).unwrap().clone();
    let teacher = find(&class.teacher_ids[0]);
    let (student, classmate) = (find(&class.student_ids[0]), find(&class.student_ids[1]));
    let ttok = user_token(&e, &t.id, &teacher.upn, &teacher.password).await;
    let stok = user_token(&e, &t.id, &student.upn, &student.password).await;
    let ctok = user_token(&e, &t.id, &classmate.upn, &classmate.password).await;
    let body = json!({"displayName": "Essay", "allowStudentsToAddResourcesToSubmission": true});
    let (_, a) =
        send(&e, &ttok, Method::POST, &format!("/education/classes/{}/assignments", class.id), Some(body)).await;
    let apath = format!("/education/classes/{}/assignments/{}", class.id, a["id"].as_str().unwrap());
    send(&e, &ttok, Method::POST, &format!("{apath}/publish"), None).await;
    let (_, subs) = get(&e, &stok, &format!("{apath}/submissions")).await;
    let spath = format!("{apath}/submissions/{}", subs["value"][0]["id"].as_str().unwrap());
    assert_eq!(send(&e, &ctok, Method::POST, &format!("{spath}/setUpResourcesFolder"), None).await.0, 403);
    let (s, sub) = send(&e, &stok, Method::POST, &format!("{spath}/setUpResourcesFolder"), None).await;
    assert_eq!(s, 200, "{sub}");
    let folder = sub["resourcesFolderUrl"].as_str().unwrap().to_string();
    let r = http().put(format!("{folder}:/essay.txt:/content")).bearer_auth(&stok).body("draft").send().await.unwrap();
    assert_eq!(r.status(), 201);
    let item: Value = r.json().await.unwrap();
    let drive = folder.rsplit_once("/items/").unwrap().0;
    let res = |url: String| json!({"resource": {"@odata.type": "#microsoft.graph.educationFileResource", "displayName": "essay.txt", "fileUrl": url}});
    let good = res(format!("{drive}/items/{}", item["id"].as_str().unwrap()));
    let (s, _) =
        send(&e, &stok, Method::POST, &format!("{spath}/resources"), Some(res(format!("{drive}/items/01NOPE")))).await;
    assert_eq!(s, 400, "not in the submission's folder");
    assert_eq!(send(&e, &ctok, Method::POST, &format!("{spath}/resources"), Some(good.clone())).await.0, 403);
    assert_eq!(send(&e, &stok, Method::POST, &format!("{spath}/resources"), Some(good.clone())).await.0, 201);
    assert_eq!(
        send(&e, &ttok, Method::POST, &format!("{spath}/resources"), Some(good.clone())).await.0,
        201,
        "teachers may too"
    );
    // Not allowed on this assignment: refused.
    send(&e, &ttok, Method::PATCH, &apath, Some(json!({"allowStudentsToAddResourcesToSubmission": false}))).await;
    assert_eq!(send(&e, &stok, Method::POST, &format!("{spath}/resources"), Some(good)).await.0, 403);
    // Read back: the list, and the submissions list with `$select` and `$expand=resources`
    // (the expanded navigation property comes back although `$select` does not name it).
    let (s, list) = get(&e, &ttok, &format!("{spath}/resources")).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["value"].as_array().unwrap().len(), 2, "{list}");
    let (s, list) = get(&e, &ctok, &format!("{spath}/resources")).await;
    assert_eq!(s, 403, "a classmate cannot read them: {list}");
    let (s, subs) = get(&e, &ttok, &format!("{apath}/submissions?$select=id,status&$expand=resources")).await;
    assert_eq!(s, 200, "{subs}");
    let mine = subs["value"].as_array().unwrap().iter().find(|v| spath.ends_with(v["id"].as_str().unwrap())).unwrap();
    assert_eq!(mine["resources"][0]["resource"]["displayName"], "essay.txt", "{mine}");
    assert!(mine.get("webUrl").is_none(), "only the selected properties and the expanded one: {mine}");
    let (_, subs) = get(&e, &ttok, &format!("{apath}/submissions?$select=id,status")).await;
    assert!(subs["value"][0].get("resources").is_none(), "not expanded, not there: {subs}");
    e.stop().await;
}

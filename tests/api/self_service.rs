//! Self-service profile edits (seed 000) and class mail (seed 004).

use edu_tests::{Backend, Body, Client, MicrosoftTestApp, both_backends};
use reqwest::Method;
use serde_json::json;

both_backends!(
    people_edit_only_the_fields_their_admin_opened_and_only_their_own_profile,
    a_teacher_mails_their_class_and_recipients_must_belong_to_it,
);

async fn people_edit_only_the_fields_their_admin_opened_and_only_their_own_profile(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let admin = app.sign_in(&t.admin).await;
    let student = app.sign_in(&t.students[0]).await;

    // Nothing is editable until the admin opens fields.
    assert_eq!(
        student.post("/api/me/profile", json!({"changes": {"mobilePhone": "+1 555 0100"}})).await.code(),
        "field_not_editable"
    );
    let put = |c: &Client, fields: serde_json::Value| {
        let c = c.clone();
        async move { c.send(Method::PUT, "/api/admin/profile-fields", Body::Json(json!({ "editable": fields })), &[]).await }
    };
    assert_eq!(put(&student, json!(["mobilePhone"])).await.code(), "role_required");
    assert_eq!(put(&admin, json!(["password"])).await.code(), "unknown_profile_field");
    let r = put(&admin, json!(["mobilePhone", "city"])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["editable"], json!(["mobilePhone", "city"]));

    let r = student
        .post("/api/me/profile", json!({"changes": {"mobilePhone": "+1 (555) 010-0199", "city": "Testville"}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["values"]["mobilePhone"], "+1 (555) 010-0199");
    assert_eq!(r.body["values"]["city"], "Testville");
    // Read back from Microsoft (the emulator), not from us.
    assert_eq!(student.get("/api/me/profile").await.body["values"]["city"], "Testville");
    assert_eq!(
        student.post("/api/me/profile", json!({"changes": {"jobTitle": "Principal"}})).await.code(),
        "field_not_editable"
    );
    for bad in [json!({"mobilePhone": "call me <script>"}), json!({"city": "x".repeat(65)}), json!({"city": 42})] {
        let r = student.post("/api/me/profile", json!({ "changes": bad })).await;
        assert_eq!((r.status, r.code()), (422, "invalid_profile_value"), "{bad}");
    }
    // Only the signed-in person's own object changed: another student's city is untouched.
    let other = app.sign_in(&t.students[1]).await;
    assert_ne!(other.get("/api/me/profile").await.body["values"]["city"], "Testville");
    let log = edu_db::audit::for_actor(
        &app.state.db,
        edu_domain::UserId::parse(student.get("/api/me").await.body["user"]["id"].as_str().unwrap()).unwrap(),
        10,
    )
    .await
    .unwrap();
    let entry = log.iter().find(|e| e.action == "profile.update").expect("audited");
    assert_eq!(entry.detail.as_deref(), Some("city,mobilePhone"));
    assert!(!entry.detail.as_deref().unwrap_or_default().contains("555"), "no values in the audit trail");
}

async fn a_teacher_mails_their_class_and_recipients_must_belong_to_it(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let class = t.classes[0].clone();
    let find = |id: &str| t.teachers.iter().chain(t.students.iter()).find(|p| p.id == id).unwrap().clone();
    let teacher = find(&class.teacher_ids[0]);
    let tc = app.sign_in(&teacher).await;
    let url = format!("/api/classes/{}/mail", class.id);
    let mail = |audience: &str, ids: Vec<String>| json!({"audience": audience, "student_ids": ids, "subject": "Field trip", "body": "Bring a lunch."});

    let r = tc.post(&url, mail("students", vec![])).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["recipients"], class.student_ids.len());
    let s0 = find(&class.student_ids[0]);
    let inbox = app.emulator.mailbox(&s0.upn);
    assert!(inbox.iter().any(|m| m.to_string().contains("Field trip")), "{inbox:?}");

    let r = tc.post(&url, mail("selected", vec![class.student_ids[1].clone()])).await;
    assert_eq!(r.body["recipients"], 1);
    let outsider = t.students.iter().find(|s| !class.student_ids.contains(&s.id)).unwrap().id.clone();
    assert_eq!(tc.post(&url, mail("selected", vec![outsider])).await.code(), "not_a_student_of_this_class");
    assert_eq!(tc.post(&url, mail("everyone-in-school", vec![])).await.code(), "invalid_audience");
    assert_eq!(tc.post(&url, json!({"audience": "class", "subject": "", "body": "x"})).await.code(), "invalid_mail");

    let sc = app.sign_in(&s0).await;
    assert_eq!(sc.post(&url, mail("class", vec![])).await.code(), "role_required");
}

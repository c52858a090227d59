//! Photos (cached proxy), About me, co-teachers.

use edu_tests::{Backend, Body, MicrosoftTestApp, both_backends};
use reqwest::Method;
use serde_json::json;

both_backends!(
    photos_are_proxied_cached_and_default_to_an_avatar,
    about_me_shows_profile_roles_and_classes,
    a_teacher_of_the_class_adds_a_co_teacher_and_nobody_else_can,
);

async fn photos_are_proxied_cached_and_default_to_an_avatar(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let teacher = app.sign_in_as(&t.teachers[0].id).await;
    let with = t.students.iter().find(|s| s.has_photo).unwrap().id.clone();
    let without = t.students.iter().find(|s| !s.has_photo).unwrap().id.clone();

    app.emulator.reset_request_log();
    let r = teacher.get(&format!("/api/people/{with}/photo")).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("image/"), "{:?}", r.header("content-type"));
    assert_ne!(r.header("content-type").as_deref(), Some("image/svg+xml"));
    assert_eq!(r.header("cache-control").as_deref(), Some("private, max-age=3600"));
    let etag = r.header("etag").unwrap();
    let again =
        teacher.send(Method::GET, &format!("/api/people/{with}/photo"), Body::None, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert_eq!(app.emulator.request_count("GET", "/users/{id}/photo/$value"), 1, "second view served from our cache");

    let r = teacher.get(&format!("/api/people/{without}/photo")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").as_deref(), Some("image/svg+xml"));
    assert!(r.text.starts_with("<svg"));
    teacher.get(&format!("/api/people/{without}/photo")).await;
    assert_eq!(app.emulator.request_count("GET", "/users/{id}/photo/$value"), 2, "a missing photo is cached too");

    assert_eq!(teacher.get("/api/people/..%2Fme/photo").await.status, 404);
    assert_eq!(app.client().get(&format!("/api/people/{with}/photo")).await.status, 401);
}

async fn about_me_shows_profile_roles_and_classes(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let r = teacher.get("/api/me/about").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["roles"], json!(["teacher"]));
    assert!(r.body["classes"].as_array().unwrap().iter().any(|c| c["id"] == class.id.as_str()));
    assert!(r.body["display_name"].is_string());
    let local = app.registered("ann@school.edu", "correct horse battery").await;
    assert_eq!(local.get("/api/me/about").await.code(), "school_account_required");
}

async fn a_teacher_of_the_class_adds_a_co_teacher_and_nobody_else_can(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let class = t.classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let other = t.teachers.iter().find(|p| !class.teacher_ids.contains(&p.id)).unwrap().id.clone();
    let url = format!("/api/classes/{}/teachers", class.id);

    let student = app.student_of(&class, 0).await;
    assert_eq!(student.post(&url, json!({"teacher_id": other})).await.code(), "role_required");
    let outsider = app.sign_in_as(&other).await;
    assert_eq!(outsider.post(&url, json!({"teacher_id": other})).await.status, 404);
    assert_eq!(teacher.post(&url, json!({"teacher_id": class.student_ids[1]})).await.code(), "not_a_teacher");
    assert_eq!(teacher.post(&url, json!({"teacher_id": class.teacher_ids[0]})).await.code(), "already_a_teacher");

    let r = teacher.post(&url, json!({"teacher_id": other})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let page = teacher.get(&format!("/api/classes/{}", class.id)).await;
    assert!(page.body["class"]["teachers"].as_array().unwrap().iter().any(|p| p["id"] == other.as_str()));
    // The new co-teacher now sees the class as its teacher.
    assert_eq!(outsider.get(&format!("/api/classes/{}", class.id)).await.body["my_role"], "teacher");
}

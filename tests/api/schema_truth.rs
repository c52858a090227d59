//! Issue 17.12: a request that matches the OpenAPI document is not refused. The bounded
//! schemathesis run (`infra/scripts/schemathesis`, `positive_data_acceptance`) checks every
//! operation; these pin the two server-side rules it relies on.

use edu_tests::{Backend, Body, MicrosoftTestApp, both_backends};
use reqwest::Method;
use serde_json::json;

both_backends!(an_empty_query_parameter_is_the_same_as_an_absent_one, integers_may_arrive_as_whole_json_numbers,);

/// `?q=&cursor=` is what a blank form sends; the cursor must not be read as a tampered one.
async fn an_empty_query_parameter_is_the_same_as_an_absent_one(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let plain = teacher.get("/api/classes").await;
    assert_eq!(plain.status, 200, "{}", plain.text);
    let blank = teacher.get("/api/classes?q=&cursor=&scope=").await;
    assert_eq!(blank.status, 200, "{}", blank.text);
    assert!(!plain.body["items"].as_array().unwrap().is_empty(), "{}", plain.text);
    assert_eq!(blank.body["items"], plain.body["items"]);
    let people = teacher.get(&format!("/api/schools/{}/people?role=&cursor=", class.school_id)).await;
    assert_eq!(people.status, 200, "{}", people.text);
    // A value is still checked.
    let bad = teacher.get("/api/classes?cursor=made-up").await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_cursor"));
}

/// JSON Schema's `integer` includes `3.0`; a fraction is still refused.
async fn integers_may_arrive_as_whole_json_numbers(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let url = format!("/api/classes/{}/seating", class.id);
    let student = class.student_ids[0].clone();
    let seats = json!({"seats": [{"student_id": student, "row": 2.0, "col": 3}]});
    let r = teacher.send(Method::PUT, &url, Body::Json(seats), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["seats"], json!([{"student_id": student, "row": 2, "col": 3}]));
    let half = json!({"seats": [{"student_id": student, "row": 2.5, "col": 3}]});
    let r = teacher.send(Method::PUT, &url, Body::Json(half), &[]).await;
    assert_eq!((r.status, r.code()), (400, "invalid_json"));
}

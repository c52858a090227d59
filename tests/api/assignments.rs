//! Assignments and submissions through the emulator.

use edu_tests::{Backend, Body, MicrosoftTestApp, both_backends};
use reqwest::Method;
use serde_json::json;

both_backends!(an_assignment_goes_from_draft_to_returned_with_each_step_checked_on_the_server);

async fn an_assignment_goes_from_draft_to_returned_with_each_step_checked_on_the_server(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let student = app.student_of(&class, 0).await;
    let other_student = app.student_of(&class, 1).await;
    let base = format!("/api/classes/{}/assignments", class.id);

    // Create: teachers only; the due time is converted from the person's offset to UTC.
    let new =
        json!({"display_name": "Essay: volcanoes", "instructions": "500 words.", "due": "2026-12-01T17:00:00+01:00"});
    assert_eq!(student.post(&base, new.clone()).await.code(), "role_required");
    assert_eq!(
        teacher.post(&base, json!({"display_name": "x", "due": "next tuesday"})).await.code(),
        "invalid_due_date"
    );
    assert_eq!(teacher.post(&base, json!({"display_name": "  "})).await.code(), "invalid_assignment");
    let r = teacher.post(&base, new).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "draft");
    assert_eq!(r.body["due_date_time"], "2026-12-01T16:00:00Z");
    let aid = r.body["id"].as_str().unwrap().to_owned();

    // Link, then publish.
    let links = format!("{base}/{aid}/links");
    assert_eq!(
        teacher.post(&links, json!({"display_name": "Notes", "link": "http://insecure.example"})).await.code(),
        "invalid_link"
    );
    assert_eq!(
        student.post(&links, json!({"display_name": "Notes", "link": "https://learn.example/volcanoes"})).await.code(),
        "role_required"
    );
    assert_eq!(
        teacher.post(&links, json!({"display_name": "Notes", "link": "https://learn.example/volcanoes"})).await.status,
        201
    );
    assert_eq!(student.post(&format!("{base}/{aid}/publish"), json!({})).await.code(), "role_required");
    let r = teacher.post(&format!("{base}/{aid}/publish"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(["published", "assigned"].contains(&r.body["status"].as_str().unwrap()), "{}", r.text);

    // The student sees it and their own submission only.
    let listed = student.get(&base).await;
    assert!(listed.body.as_array().unwrap().iter().any(|a| a["id"] == aid.as_str()), "{}", listed.text);
    let subs = teacher.get(&format!("{base}/{aid}/submissions")).await;
    assert_eq!(subs.status, 200, "{}", subs.text);
    let all = subs.body.as_array().unwrap().clone();
    assert!(all.len() >= 2);
    assert!(all.iter().all(|s| s["student_name"].is_string()), "names from the roster: {}", subs.text);
    let mine = student.get(&format!("{base}/{aid}/submissions")).await.body.as_array().unwrap().clone();
    assert_eq!(mine.len(), 1);
    let sid = mine[0]["id"].as_str().unwrap().to_owned();
    let sub = |action: &str| format!("{base}/{aid}/submissions/{sid}/{action}");

    // Only its student submits it; only teachers return and reassign.
    assert_eq!(other_student.post(&sub("submit"), json!({})).await.status, 404);
    assert_eq!(teacher.post(&sub("submit"), json!({})).await.code(), "role_required");
    let r = student.post(&sub("submit"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "submitted");
    assert_eq!(student.post(&sub("return"), json!({})).await.code(), "role_required");
    let r = teacher.post(&sub("return"), json!({})).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("returned")), "{}", r.text);
    let r = teacher.post(&sub("reassign"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(teacher.post(&sub("explode"), json!({})).await.status, 404);

    // Delete: teachers only.
    assert_eq!(student.send(Method::DELETE, &format!("{base}/{aid}"), Body::None, &[]).await.code(), "role_required");
    assert_eq!(teacher.send(Method::DELETE, &format!("{base}/{aid}"), Body::None, &[]).await.status, 204);
    assert!(!teacher.get(&base).await.text.contains(&aid));
}

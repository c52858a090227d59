//! Grading and feedback, the gradebook and the to-do list through the emulator (issue 15).
//! R-A13 (authorization on the server): only the class's teachers grade, excuse, return and
//! export; a student reads only what was returned to them (never a draft grade). R-A21: the
//! return-all job runs in the teacher's tenant, its items read back only within it. R-C1: a
//! throttled (429) return inside the job's `$batch` is retried.

use std::time::Duration;

use edu_tests::{Backend, Body, MicrosoftTestApp, both_backends};
use reqwest::Method;
use serde_json::{Value, json};

both_backends!(
    a_teacher_grades_returns_all_and_the_student_sees_only_what_was_returned,
    bad_grades_are_refused_with_stable_codes,
    an_assignment_goes_into_a_grading_category_the_class_defines
);

async fn wait_for_job(teacher: &edu_tests::Client, class: &str, job: &str) -> Value {
    for _ in 0..200 {
        let r = teacher.get(&format!("/api/classes/{class}/jobs/{job}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        if ["succeeded", "failed"].contains(&r.body["status"].as_str().unwrap_or_default()) {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the job did not finish");
}

async fn a_teacher_grades_returns_all_and_the_student_sees_only_what_was_returned(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let student = app.student_of(&class, 0).await;
    let other = app.student_of(&class, 1).await;
    let base = format!("/api/classes/{}/assignments", class.id);

    // A points assignment (decimals allowed), due in the past so a hand-in is late.
    let r = teacher
        .post(&base, json!({"display_name": "Lab report", "due": "2020-01-01T17:00:00+01:00", "max_points": 20.5}))
        .await;
    assert_eq!((r.status, r.body["max_points"].as_f64()), (201, Some(20.5)), "{}", r.text);
    let aid = r.body["id"].as_str().unwrap().to_owned();
    // A rubric, created in the teacher's rubrics and attached.
    let rubric = json!({"display_name": "Lab", "levels": [{"name": "Good", "points": 2}, {"name": "Poor", "points": 1}],
        "qualities": [{"name": "Method", "criteria": ["Clear", "Unclear"], "weight": 100}]});
    assert_eq!(student.post(&format!("{base}/{aid}/rubric"), rubric.clone()).await.code(), "role_required");
    let r = teacher.post(&format!("{base}/{aid}/rubric"), rubric).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (quality, good) = (r.body["qualities"][0]["id"].clone(), r.body["levels"][0]["id"].clone());
    // A draft is not the student's to see; once published, its rubric is.
    assert_eq!(student.get(&format!("{base}/{aid}/rubric")).await.status, 404);
    assert_eq!(teacher.post(&format!("{base}/{aid}/publish"), json!({})).await.status, 200);
    let r = student.get(&format!("{base}/{aid}/rubric")).await;
    assert_eq!(r.body["qualities"][0]["name"], "Method", "{}", r.text);

    let mine = student.get(&format!("{base}/{aid}/submissions")).await.body[0].clone();
    let sid = mine["id"].as_str().unwrap().to_owned();
    assert_eq!(student.post(&format!("{base}/{aid}/submissions/{sid}/submit"), json!({})).await.status, 200);
    let outcome = format!("{base}/{aid}/submissions/{sid}/outcome");

    // Grade: only teachers; saved as the teacher's latest values.
    let grade = json!({"points": 18.5, "feedback": "Well argued.", "rubric": {"qualities": [{"quality_id": quality, "level_id": good, "feedback": "Clear method"}]}});
    let r = student.send(Method::PATCH, &outcome, Body::Json(grade.clone()), &[]).await;
    assert_eq!(r.code(), "role_required");
    let r = teacher.send(Method::PATCH, &outcome, Body::Json(grade), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["draft"]["points"], 18.5);
    assert_eq!(r.body["draft"]["feedback"], "Well argued.");
    assert_eq!(r.body["draft"]["rubric"][0]["level_id"], good);
    assert!(r.body["returned"]["points"].is_null(), "nothing given back yet: {}", r.text);

    // Before the return the student sees no grade at all (never a draft).
    let r = student.get(&format!("{base}/{aid}/submissions")).await;
    assert!(r.body[0]["draft_grade"].is_null() && r.body[0]["returned_grade"].is_null(), "{}", r.text);
    let r = teacher.get(&format!("{base}/{aid}/submissions")).await;
    let row = r.body.as_array().unwrap().iter().find(|s| s["id"] == sid.as_str()).unwrap().clone();
    assert_eq!(row["draft_grade"]["points"], 18.5, "{}", r.text);

    // The teacher's to-do: work waiting to be graded or returned.
    let r = teacher.get("/api/me/assignments").await;
    assert_eq!((r.status, r.body["role"].as_str()), (200, Some("teacher")), "{}", r.text);
    let item = r.body["items"].as_array().unwrap().iter().find(|i| i["assignment_id"] == aid.as_str()).unwrap().clone();
    assert_eq!((item["state"].as_str(), item["graded_not_returned"].as_i64()), (Some("to_grade"), Some(1)), "{item}");

    // Return all graded: a background job with a result per student; Microsoft throttles the
    // first return inside the `$batch` (429), the Graph client retries that part.
    let return_route = "/education/classes/{id}/assignments/{id}/submissions/{id}/return";
    app.emulator.set_fault(edu_ms_emulator::Fault {
        method: Some("POST".into()),
        route: return_route.into(),
        kind: edu_ms_emulator::FaultKind::Throttle { retry_after: "0.1".into() },
        times: Some(1),
    });
    app.emulator.reset_request_log();
    assert_eq!(student.post(&format!("{base}/{aid}/return-graded"), json!({})).await.code(), "role_required");
    let r = teacher.post(&format!("{base}/{aid}/return-graded"), json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let job = r.body["id"].as_str().unwrap().to_owned();
    let done = wait_for_job(&teacher, &class.id, &job).await;
    assert_eq!(
        (done["status"].as_str(), done["total"].as_i64(), done["done"].as_i64()),
        (Some("succeeded"), Some(1), Some(1)),
        "{done}"
    );
    assert_eq!(done["items"][0]["result"], "done");
    assert_eq!(app.emulator.request_count("POST", return_route), 2, "the throttled return was retried once");
    assert!(done["items"][0]["student_name"].is_string(), "{done}");
    assert_eq!(student.get(&format!("/api/classes/{}/jobs/{job}", class.id)).await.code(), "role_required");

    // Now the student sees the grade, feedback and rubric level given back…
    let r = student.get(&format!("{base}/{aid}/submissions")).await;
    let back = &r.body[0]["returned_grade"];
    assert_eq!((back["points"].as_f64(), back["feedback"].as_str()), (Some(18.5), Some("Well argued.")), "{}", r.text);
    assert_eq!(back["rubric"][0]["feedback"], "Clear method");
    // … and in their to-do list.
    let r = student.get("/api/me/assignments").await;
    assert_eq!(r.body["role"], "student", "{}", r.text);
    let item = r.body["items"].as_array().unwrap().iter().find(|i| i["assignment_id"] == aid.as_str()).unwrap().clone();
    assert_eq!(item["state"], "returned");
    assert_eq!(item["grade"]["points"], 18.5);
    assert_eq!(item["class_name"].as_str(), Some(class.display_name.as_str()));
    assert!(r.body["graph_round_trips"].as_u64().unwrap() <= 2, "{}", r.text);

    // A later draft stays invisible to the student until returned again.
    let r = teacher.send(Method::PATCH, &outcome, Body::Json(json!({"points": 10})), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = student.get(&format!("{base}/{aid}/submissions")).await;
    assert_eq!(r.body[0]["returned_grade"]["points"], 18.5, "{}", r.text);

    // Excuse the other student (the answer names the status: Prefer header sent).
    let theirs = other.get(&format!("{base}/{aid}/submissions")).await.body[0]["id"].as_str().unwrap().to_owned();
    let excuse = format!("{base}/{aid}/submissions/{theirs}/excuse");
    assert_eq!(other.post(&excuse, json!({})).await.code(), "role_required");
    let r = teacher.post(&excuse, json!({})).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("excused")), "{}", r.text);
    // Excusing again is a conflict with the submission's state, not a Microsoft failure (no 5xx).
    let again = teacher.post(&excuse, json!({})).await;
    assert_eq!((again.status, again.code()), (409, "submission_state_conflict"), "{}", again.text);

    // The gradebook: JSON, CSV (BOM, formula-safe), OneRoster zip; not for students.
    let book = format!("/api/classes/{}/gradebook", class.id);
    assert_eq!(student.get(&book).await.code(), "role_required");
    assert_eq!(teacher.get(&format!("{book}?format=xml")).await.code(), "invalid_query");
    let r = teacher.get(&book).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let col = r.body["assignments"].as_array().unwrap().iter().position(|a| a["id"] == aid.as_str()).unwrap();
    let rows = r.body["students"].as_array().unwrap();
    let cell = |sid: &str| rows.iter().map(|s| &s["cells"][col]).find(|c| c["submission_id"] == sid).unwrap().clone();
    let c = cell(&sid);
    assert_eq!(
        (c["points"].as_f64(), c["returned_points"].as_f64(), c["late"].as_bool()),
        (Some(10.0), Some(18.5), Some(true)),
        "{c}"
    );
    assert_eq!(cell(&theirs)["status"], "excused");
    assert!(r.body["graph_round_trips"].as_u64().unwrap() <= 2, "{}", r.text);
    let r = teacher.get(&format!("{book}?format=csv")).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert!(r.text.starts_with('\u{feff}') && r.text.contains("Lab report (/20.5)"), "{}", r.text);
    let r = teacher.get(&format!("{book}?format=oneroster")).await;
    assert_eq!((r.status, r.header("content-type").as_deref()), (200, Some("application/zip")));
    assert!(r.text.starts_with("PK"));
    app.stop().await;
}

async fn bad_grades_are_refused_with_stable_codes(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let student = app.student_of(&class, 0).await;
    let base = format!("/api/classes/{}/assignments", class.id);
    for bad in [json!(0), json!(-3), json!("ten")] {
        let r = teacher.post(&base, json!({"display_name": "x", "max_points": bad})).await;
        assert!(r.code() == "invalid_points" || r.status == 400, "{bad}: {}", r.text);
    }
    let graded = teacher.post(&base, json!({"display_name": "Quiz", "max_points": 10})).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ungraded =
        teacher.post(&base, json!({"display_name": "Reading"})).await.body["id"].as_str().unwrap().to_owned();
    for a in [&graded, &ungraded] {
        assert_eq!(teacher.post(&format!("{base}/{a}/publish"), json!({})).await.status, 200);
    }
    let sid = |a: &str| {
        let (student, url) = (student.clone(), format!("{base}/{a}/submissions"));
        async move { student.get(&url).await.body[0]["id"].as_str().unwrap().to_owned() }
    };
    let outcome = format!("{base}/{graded}/submissions/{}/outcome", sid(&graded).await);
    let patch = |body: Value| teacher.send(Method::PATCH, &outcome, Body::Json(body), &[]);
    for (body, code) in [
        (json!({"points": -1}), "invalid_points"),
        (json!({"points": 10.5}), "invalid_points"),
        (json!({"points": "8"}), "invalid_points"),
        (json!({"points": true}), "invalid_points"),
        (json!({"feedback": "x".repeat(5001)}), "feedback_too_long"),
        (json!({}), "nothing_to_change"),
        (json!({"rubric": {"qualities": [{"quality_id": "q", "level_id": "l"}]}}), "invalid_rubric"),
    ] {
        let r = patch(body.clone()).await;
        assert_eq!((r.status, r.code()), (422, code), "{body}: {}", r.text);
    }
    assert_eq!(patch(json!({"points": 10, "feedback": "Full marks"})).await.status, 200);
    assert_eq!(patch(json!({"points": null})).await.body["draft"]["points"], Value::Null);
    // Points on an assignment without points: 409.
    let other = format!("{base}/{ungraded}/submissions/{}/outcome", sid(&ungraded).await);
    let r = teacher.send(Method::PATCH, &other, Body::Json(json!({"points": 5})), &[]).await;
    assert_eq!((r.status, r.code()), (409, "assignment_not_graded"), "{}", r.text);
    // Feedback alone is fine there.
    let r = teacher.send(Method::PATCH, &other, Body::Json(json!({"feedback": "Nice"})), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // An invalid rubric definition.
    let r = teacher
        .post(&format!("{base}/{graded}/rubric"), json!({"display_name": "R", "levels": [], "qualities": []}))
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_rubric"));
    // Max points editable, and removable (no grade).
    let r =
        teacher.send(Method::PATCH, &format!("{base}/{ungraded}"), Body::Json(json!({"max_points": 50})), &[]).await;
    assert_eq!((r.status, r.body["max_points"].as_f64()), (200, Some(50.0)), "{}", r.text);
    let r =
        teacher.send(Method::PATCH, &format!("{base}/{ungraded}"), Body::Json(json!({"max_points": null})), &[]).await;
    assert_eq!((r.status, r.body["max_points"].as_f64()), (200, None), "{}", r.text);
    app.stop().await;
}

async fn an_assignment_goes_into_a_grading_category_the_class_defines(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let tenant = app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let student = app.student_of(&class, 0).await;
    let categories = format!("/api/classes/{}/grading-categories", class.id);
    assert_eq!(teacher.get(&categories).await.body, json!([]), "none until the class defines them");
    assert_eq!(student.get(&categories).await.code(), "role_required");
    // The class defines categories in Microsoft 365 (Teams' settings): done here at the emulator.
    let token = edu_api::microsoft::tokens::access_token(&app.state, tenant, &app.tenant(0).id, &class.teacher_ids[0])
        .await
        .unwrap();
    let r = reqwest::Client::new()
        .patch(format!("{}/v1.0/education/classes/{}/assignmentSettings", app.emulator.graph_url(), class.id))
        .bearer_auth(secrecy::ExposeSecret::expose_secret(&token))
        .json(&json!({"gradingCategories": [{"displayName": "Homework", "percentageWeight": 60}, {"displayName": "Tests", "percentageWeight": 40}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let listed = teacher.get(&categories).await.body;
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    let homework = listed[0]["id"].as_str().unwrap().to_owned();
    let base = format!("/api/classes/{}/assignments", class.id);
    let r = teacher
        .post(&base, json!({"display_name": "Worksheet", "max_points": 10, "grading_category_id": "not-a-category"}))
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_assignment"), "{}", r.text);
    let before = teacher.get(&base).await.body.as_array().unwrap().len();
    let r = teacher
        .post(&base, json!({"display_name": "Worksheet", "max_points": 10, "grading_category_id": homework}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(teacher.get(&base).await.body.as_array().unwrap().len(), before + 1, "only the valid one was created");
    app.stop().await;
}

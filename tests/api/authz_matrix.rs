//! Authorization matrix (R-A13, R-A20): every education endpoint × (anonymous,
//! local-only, student of the class, teacher of another class, teacher of this class,
//! tenant admin, teacher of another tenant) → the expected status, and nothing changes on
//! a refusal.

use edu_tests::{Backend, Body, Client, MicrosoftTestApp, both_backends};
use reqwest::Method;
use serde_json::json;

both_backends!(every_education_endpoint_answers_each_kind_of_caller_as_expected);

async fn every_education_endpoint_answers_each_kind_of_caller_as_expected(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    app.onboard(1).await;
    app.emulator.grant_admin_consent(&app.tenant(1).id, &app.emulator.demo().app_client_id);
    let t = app.tenant(0);
    let f = app.tenant(1);
    let class = t.classes[0].clone();
    let find = |id: &str| t.teachers.iter().chain(t.students.iter()).find(|p| p.id == id).unwrap().clone();
    let this_teacher = find(&class.teacher_ids[0]);
    let other_teacher = t.teachers.iter().find(|p| !class.teacher_ids.contains(&p.id)).unwrap().clone();
    let student = find(&class.student_ids[0]);

    let anonymous = app.client();
    anonymous.fetch_csrf().await;
    let actors: Vec<(&str, Client)> = vec![
        ("anonymous", anonymous),
        ("local-only", app.registered("ann@school.edu", "correct horse battery").await),
        ("student", app.sign_in(&student).await),
        ("other-teacher", app.sign_in(&other_teacher).await),
        ("teacher", app.sign_in(&this_teacher).await),
        ("admin", app.sign_in(&t.admin).await),
        ("other-tenant", app.sign_in(&f.teachers[0]).await),
    ];

    let c = &class.id;
    let seat = json!({"seats": [{"student_id": class.student_ids[1], "row": 5, "col": 5}]});
    let mail =
        json!({"audience": "selected", "student_ids": [class.student_ids[0]], "subject": "matrix", "body": "test"});
    let co = json!({"teacher_id": other_teacher.id});
    // A published assignment of this class, and the student's submission of it.
    let teacher = &actors[4].1;
    let assignments = format!("/api/classes/{}/assignments", class.id);
    let aid = teacher.post(&assignments, json!({"display_name": "Matrix", "max_points": 10})).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(teacher.post(&format!("{assignments}/{aid}/publish"), json!({})).await.status, 200);
    let sid =
        actors[2].1.get(&format!("{assignments}/{aid}/submissions")).await.body[0]["id"].as_str().unwrap().to_owned();
    let a = format!("{assignments}/{aid}");
    let file = Some(json!({"$file": "matrix.txt"}));
    // (method, path, body, expected per actor in the order above); `{"$file": …}` is sent
    // as a raw application/octet-stream body.
    let cases: Vec<(Method, String, Option<serde_json::Value>, [u16; 7])> = vec![
        (Method::GET, "/api/schools".into(), None, [401, 403, 200, 200, 200, 200, 200]),
        // The other teacher teaches at another school: not theirs to list.
        (Method::GET, format!("/api/schools/{}/people", class.school_id), None, [401, 403, 403, 404, 200, 200, 404]),
        (Method::GET, a.clone(), None, [401, 403, 200, 404, 200, 404, 404]),
        (Method::PATCH, a.clone(), Some(json!({"instructions": "matrix"})), [401, 403, 403, 404, 200, 403, 404]),
        (Method::POST, format!("{a}/files?name=matrix.txt"), file.clone(), [401, 403, 403, 404, 201, 403, 404]),
        (
            Method::POST,
            format!("{a}/submissions/{sid}/files?name=matrix.txt"),
            file.clone(),
            [401, 403, 201, 404, 403, 403, 404],
        ),
        // The student reads their own submission's files, teachers of the class any.
        (Method::GET, format!("{a}/submissions/{sid}/resources"), None, [401, 403, 200, 404, 200, 404, 404]),
        (Method::GET, "/api/classes".into(), None, [401, 403, 200, 200, 200, 200, 200]),
        (Method::GET, "/api/me/about".into(), None, [401, 403, 200, 200, 200, 200, 200]),
        (Method::GET, format!("/api/classes/{c}"), None, [401, 403, 200, 404, 200, 200, 404]),
        // Issue 18 §2: the class page's tabs read their part when opened.
        (Method::GET, format!("/api/classes/{c}/documents"), None, [401, 403, 200, 404, 200, 200, 404]),
        (Method::GET, format!("/api/classes/{c}/conversations"), None, [401, 403, 200, 404, 200, 200, 404]),
        (Method::GET, format!("/api/classes/{c}/seating"), None, [401, 403, 200, 404, 200, 200, 404]),
        (Method::PUT, format!("/api/classes/{c}/seating"), Some(seat.clone()), [401, 403, 403, 404, 200, 403, 404]),
        (Method::POST, format!("/api/classes/{c}/mail"), Some(mail), [401, 403, 403, 404, 202, 403, 404]),
        // Issue 15: grading, the gradebook, the to-do list. Only the class's teachers grade,
        // excuse, return and export; the tenant admin reads the gradebook.
        (
            Method::PATCH,
            format!("{a}/submissions/{sid}/outcome"),
            Some(json!({"points": 5, "feedback": "matrix"})),
            [401, 403, 403, 404, 200, 403, 404],
        ),
        (Method::GET, format!("/api/classes/{c}/gradebook"), None, [401, 403, 403, 404, 200, 200, 404]),
        (Method::GET, format!("/api/classes/{c}/gradebook?format=csv"), None, [401, 403, 403, 404, 200, 200, 404]),
        (
            Method::GET,
            format!("/api/classes/{c}/gradebook?format=oneroster"),
            None,
            [401, 403, 403, 404, 200, 200, 404],
        ),
        (Method::GET, "/api/me/assignments".into(), None, [401, 403, 200, 200, 200, 200, 200]),
        (Method::GET, format!("/api/classes/{c}/grading-categories"), None, [401, 403, 403, 404, 200, 403, 404]),
        (Method::POST, format!("{a}/return-graded"), Some(json!({})), [401, 403, 403, 404, 202, 403, 404]),
        (Method::POST, format!("{a}/submissions/{sid}/excuse"), Some(json!({})), [401, 403, 403, 404, 200, 403, 404]),
        // Last: it changes the roster (the other teacher then teaches this class).
        (Method::POST, format!("/api/classes/{c}/teachers"), Some(co), [401, 403, 403, 404, 204, 403, 404]),
    ];
    for (method, path, body, expected) in &cases {
        for ((who, client), want) in actors.iter().zip(expected) {
            let b = match body {
                Some(v) if v.get("$file").is_some() => Body::Raw("application/octet-stream", b"matrix".to_vec()),
                Some(v) => Body::Json(v.clone()),
                None => Body::None,
            };
            let r = client.send(method.clone(), path, b, &[]).await;
            assert_eq!(r.status, *want, "{who} {method} {path}: {}", r.text);
            if r.status >= 400 {
                assert!(r.code().len() > 3, "{who} {method} {path}: error envelope expected, got {}", r.text);
            }
        }
    }
    // Refusals changed nothing: one seat (the teacher's PUT), one mail batch, one co-teacher
    // added, one file on the assignment and one on the student's submission.
    assert_eq!(app.emulator.drive_files(&t.id, &class.id, "matrix.txt").len(), 2);
    let seats = teacher.get(&format!("/api/classes/{c}/seating")).await.body;
    assert_eq!(seats["seats"], json!([{"student_id": class.student_ids[1], "row": 5, "col": 5}]));
    let matrix_mails = app.emulator.mailbox(&student.upn).iter().filter(|m| m.to_string().contains("matrix")).count();
    assert_eq!(matrix_mails, 1, "only the class teacher's mail went out");
}

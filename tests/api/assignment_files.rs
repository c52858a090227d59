//! Assignment edits, the asynchronous publish, files on assignments and submissions,
//! through the emulator. R-A13: every check is on the server.

use edu_tests::{Backend, Body, Client, MicrosoftTestApp, both_backends};
use reqwest::Method;
use serde_json::json;

both_backends!(
    a_teacher_edits_an_assignment_and_the_status_is_read_back_after_publishing,
    files_reach_the_resources_folder_directly_or_through_an_upload_session,
    a_student_adds_files_only_to_their_own_submission_while_it_is_not_turned_in,
    submission_files_are_listed_to_their_student_and_to_the_class_teachers_only,
    an_upload_over_the_limit_or_of_the_wrong_type_is_refused_before_it_is_read,
    a_slow_publish_is_reported_as_publishing_until_microsoft_has_finished,
    publishing_waits_until_the_files_being_attached_are_attached,
);

fn octets(data: Vec<u8>) -> Body {
    Body::Raw("application/octet-stream", data)
}

async fn a_teacher_edits_an_assignment_and_the_status_is_read_back_after_publishing(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let class = t.classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let student = app.student_of(&class, 0).await;
    let other_id = t.teachers.iter().find(|p| !class.teacher_ids.contains(&p.id)).unwrap().id.clone();
    let other_teacher = app.sign_in_as(&other_id).await;
    let base = format!("/api/classes/{}/assignments", class.id);
    let r = teacher.post(&base, json!({"display_name": "Map work", "due": "2026-12-01T17:00:00+01:00"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let aid = r.body["id"].as_str().unwrap().to_owned();
    let one = format!("{base}/{aid}");
    let patch = |c: &Client, v: serde_json::Value| {
        let one = one.clone();
        let c = c.clone();
        async move { c.send(Method::PATCH, &one, Body::Json(v), &[]).await }
    };

    // Only this class's teachers edit; nothing changes on a refusal.
    assert_eq!(patch(&student, json!({"display_name": "Hacked"})).await.code(), "role_required");
    assert_eq!(patch(&other_teacher, json!({"display_name": "Hacked"})).await.status, 404);
    assert_eq!(patch(&teacher, json!({})).await.code(), "nothing_to_change");
    assert_eq!(patch(&teacher, json!({"due": "Friday 5pm"})).await.code(), "invalid_due_date");
    assert_eq!(patch(&teacher, json!({"display_name": ""})).await.code(), "invalid_assignment");
    assert_eq!(patch(&teacher, json!({"status": "assigned"})).await.status, 400, "status is not ours to patch");
    assert_eq!(teacher.get(&one).await.body["display_name"], "Map work");

    // The due time arrives with the person's offset and is stored in UTC.
    let r = patch(&teacher, json!({"display_name": "Map work (v2)", "due": "2026-12-05T09:30:00-05:00"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["display_name"], "Map work (v2)");
    assert_eq!(r.body["due_date_time"], "2026-12-05T14:30:00Z");
    let got = teacher.get(&one).await;
    assert_eq!(
        (got.body["status"].as_str(), got.body["due_date_time"].as_str()),
        (Some("draft"), Some("2026-12-05T14:30:00Z"))
    );
    assert_eq!(got.body["publishing"], false);
    assert_eq!(student.get(&one).await.status, 404, "a draft is not shown to students");

    // Publish answers while Microsoft is still publishing; reading it again shows where it is.
    let r = teacher.post(&format!("{one}/publish"), json!({})).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("published")), "{}", r.text);
    assert_eq!(r.body["publishing"], true);
    let got = teacher.get(&one).await;
    assert_eq!((got.body["status"].as_str(), got.body["publishing"].as_bool()), (Some("assigned"), Some(false)));
    assert_eq!(student.get(&one).await.body["status"], "assigned");

    // Published: instructions and due date may still change.
    let r = patch(&teacher, json!({"instructions": "Label the rivers too."})).await;
    assert_eq!((r.status, r.body["instructions"].as_str()), (200, Some("Label the rivers too.")), "{}", r.text);
}

async fn files_reach_the_resources_folder_directly_or_through_an_upload_session(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let class = t.classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let student = app.student_of(&class, 0).await;
    let base = format!("/api/classes/{}/assignments", class.id);
    let aid = teacher.post(&base, json!({"display_name": "Reading"})).await.body["id"].as_str().unwrap().to_owned();
    let files = format!("{base}/{aid}/files");

    // Small: one PUT of the content.
    let small = b"Chapter 1 notes".to_vec();
    assert_eq!(
        student.send(Method::POST, &format!("{files}?name=notes.txt"), octets(small.clone()), &[]).await.code(),
        "role_required"
    );
    assert_eq!(
        teacher.send(Method::POST, &format!("{files}?name=a%2Fb.txt"), octets(small.clone()), &[]).await.code(),
        "invalid_file_name"
    );
    assert_eq!(
        teacher.send(Method::POST, &format!("{files}?name=empty.txt"), octets(vec![]), &[]).await.code(),
        "empty_file"
    );
    app.emulator.reset_request_log();
    let r = teacher.send(Method::POST, &format!("{files}?name=notes.txt"), octets(small.clone()), &[]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!((r.body["kind"].as_str(), r.body["display_name"].as_str()), (Some("file"), Some("notes.txt")));
    assert_eq!(app.emulator.drive_files(&t.id, &class.id, "notes.txt"), vec![small]);
    assert_eq!(app.emulator.request_count("PUT", "/drives/{id}/items/{id}/{id}/content"), 1);
    assert_eq!(app.emulator.request_count("POST", "/drives/{id}/items/{id}/{id}/createUploadSession"), 0);

    // Over 4 MiB: an upload session, fed in ranges (5 MiB + the rest), the content intact.
    let big: Vec<u8> = (0..(6 * 1024 * 1024 + 123)).map(|i: u32| (i % 253) as u8).collect();
    let r = teacher.send(Method::POST, &format!("{files}?name=Atlas%20scan.pdf"), octets(big.clone()), &[]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(app.emulator.request_count("POST", "/drives/{id}/items/{id}/{id}/createUploadSession"), 1);
    let stored = app.emulator.drive_files(&t.id, &class.id, "Atlas scan.pdf");
    assert_eq!(stored.len(), 1);
    assert!(stored[0] == big, "the uploaded bytes arrive unchanged");

    // Both are attached (with the link kind kept apart), then the assignment is published.
    teacher
        .post(&format!("{base}/{aid}/links"), json!({"display_name": "Atlas", "link": "https://atlas.example/"}))
        .await;
    let got = teacher.get(&format!("{base}/{aid}")).await;
    let kinds: Vec<(String, String)> = got.body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["kind"].as_str().unwrap().to_owned(), r["display_name"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("file".to_owned(), "notes.txt".to_owned()),
            ("file".to_owned(), "Atlas scan.pdf".to_owned()),
            ("link".to_owned(), "Atlas".to_owned())
        ]
    );
    assert_eq!(teacher.post(&format!("{base}/{aid}/publish"), json!({})).await.status, 200);
}

async fn a_student_adds_files_only_to_their_own_submission_while_it_is_not_turned_in(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let class = t.classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let student = app.student_of(&class, 0).await;
    let classmate = app.student_of(&class, 1).await;
    let base = format!("/api/classes/{}/assignments", class.id);
    let aid = teacher.post(&base, json!({"display_name": "Poem"})).await.body["id"].as_str().unwrap().to_owned();
    teacher.post(&format!("{base}/{aid}/publish"), json!({})).await;
    let subs = format!("{base}/{aid}/submissions");
    let mine = student.get(&subs).await.body[0]["id"].as_str().unwrap().to_owned();
    let theirs = classmate.get(&subs).await.body[0]["id"].as_str().unwrap().to_owned();
    let upload = |c: &Client, sid: &str, data: &[u8]| {
        let (c, path, data) = (c.clone(), format!("{subs}/{sid}/files?name=poem.txt"), data.to_vec());
        async move { c.send(Method::POST, &path, octets(data), &[]).await }
    };

    assert_eq!(upload(&classmate, &mine, b"not mine").await.status, 404, "only their own submission");
    assert_eq!(upload(&teacher, &mine, b"teacher").await.code(), "role_required");
    let r = upload(&student, &mine, b"Roses are red").await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(app.emulator.drive_files(&t.id, &class.id, "poem.txt"), vec![b"Roses are red".to_vec()]);
    // Turned in: no more files until it is taken back.
    assert_eq!(student.post(&format!("{subs}/{mine}/submit"), json!({})).await.status, 200);
    assert_eq!(upload(&student, &mine, b"v2").await.code(), "submission_turned_in");
    assert_eq!(student.post(&format!("{subs}/{mine}/unsubmit"), json!({})).await.status, 200);
    assert_eq!(upload(&student, &mine, b"v2").await.status, 201);
    assert_eq!(upload(&classmate, &theirs, b"Violets").await.status, 201);
}

/// Files on submissions are read back later: the student sees their own (and
/// only theirs), the teacher sees everyone's in the submissions list — one Graph call with
/// `$expand=resources`, not one per submission — and per submission. R-A13.
async fn submission_files_are_listed_to_their_student_and_to_the_class_teachers_only(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let class = t.classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let student = app.student_of(&class, 0).await;
    let classmate = app.student_of(&class, 1).await;
    let base = format!("/api/classes/{}/assignments", class.id);
    let aid = teacher.post(&base, json!({"display_name": "Essay"})).await.body["id"].as_str().unwrap().to_owned();
    teacher.post(&format!("{base}/{aid}/publish"), json!({})).await;
    let subs = format!("{base}/{aid}/submissions");
    let mine = student.get(&subs).await.body[0]["id"].as_str().unwrap().to_owned();
    let theirs = classmate.get(&subs).await.body[0]["id"].as_str().unwrap().to_owned();
    // Nothing added yet: empty lists, not errors.
    let r = student.get(&format!("{subs}/{mine}/resources")).await;
    assert_eq!((r.status, r.body.clone()), (200, json!([])), "{}", r.text);
    assert_eq!(student.get(&subs).await.body[0]["resources"], json!([]));

    let path = format!("{subs}/{mine}/files?name=essay.txt");
    assert_eq!(student.send(Method::POST, &path, octets(b"My essay".to_vec()), &[]).await.status, 201);
    let path = format!("{subs}/{theirs}/files?name=other.txt");
    assert_eq!(classmate.send(Method::POST, &path, octets(b"Theirs".to_vec()), &[]).await.status, 201);

    // The student, in a new visit: their file, with who added it and when.
    let r = student.get(&format!("{subs}/{mine}/resources")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let files = r.body.as_array().unwrap();
    assert_eq!(files.len(), 1, "{}", r.text);
    assert_eq!(files[0]["display_name"], "essay.txt");
    assert_eq!(files[0]["kind"], "file");
    assert_eq!(files[0]["added_by_id"], class.student_ids[0].as_str());
    assert!(files[0]["added_date_time"].as_str().is_some_and(|d| d.len() >= 20), "{}", r.text);
    // Its driveItem's web address and size, read through `$batch`.
    assert_eq!(files[0]["size"], 8, "{}", r.text);
    assert!(files[0]["web_url"].as_str().is_some_and(|u| u.ends_with("essay.txt")), "{}", r.text);
    let own = student.get(&subs).await.body;
    assert_eq!(own.as_array().unwrap().len(), 1);
    assert_eq!(own[0]["resources"][0]["display_name"], "essay.txt");
    // Not the classmate's, not even by id.
    let r = student.get(&format!("{subs}/{theirs}/resources")).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    let r = student.get(&format!("{subs}/not-an-id!/resources")).await;
    assert!(r.status == 404 || r.status == 400 || r.status == 422, "{}", r.text);
    assert_ne!(r.status, 500);

    // The teacher: everyone's files in the list, each under its student, and per submission.
    app.emulator.reset_request_log();
    let list = teacher.get(&subs).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let tpl = "/education/classes/{id}/assignments/{id}/submissions";
    assert_eq!(app.emulator.request_count("GET", tpl), 1, "one Graph call for the submissions and their files");
    assert_eq!(app.emulator.request_count("GET", &format!("{tpl}/{{id}}/resources")), 0);
    let by_student = |id: &str| list.body.as_array().unwrap().iter().find(|s| s["student_id"] == id).unwrap().clone();
    assert_eq!(by_student(&class.student_ids[0])["resources"][0]["display_name"], "essay.txt");
    assert_eq!(by_student(&class.student_ids[1])["resources"][0]["display_name"], "other.txt");
    assert_eq!(by_student(&class.student_ids[1])["resources"][0]["size"], 6);
    assert_eq!(app.emulator.request_count("GET", "/drives/{id}/items/{id}"), 2, "each file's details once, batched");
    let name = t.students.iter().find(|p| p.id == class.student_ids[1]).unwrap().display_name.clone();
    assert_eq!(by_student(&class.student_ids[1])["resources"][0]["added_by_name"], name.as_str());
    let r = teacher.get(&format!("{subs}/{theirs}/resources")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body[0]["display_name"], "other.txt");
}

async fn an_upload_over_the_limit_or_of_the_wrong_type_is_refused_before_it_is_read(backend: Backend) {
    let app = MicrosoftTestApp::spawn_with(backend, |v| {
        v.insert("EDUGRAPH_MAX_UPLOAD_BYTES".into(), "65536".into());
    })
    .await;
    app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let base = format!("/api/classes/{}/assignments", class.id);
    let aid = teacher.post(&base, json!({"display_name": "Limits"})).await.body["id"].as_str().unwrap().to_owned();
    let files = format!("{base}/{aid}/files?name=x.bin");
    app.emulator.reset_request_log();
    let r = teacher.send(Method::POST, &files, octets(vec![7; 65_537]), &[]).await;
    assert_eq!((r.status, r.code()), (413, "file_too_large"), "{}", r.text);
    let r = teacher.send(Method::POST, &files, Body::Raw("text/plain", vec![7; 10]), &[]).await;
    assert_eq!((r.status, r.code()), (415, "unsupported_media_type"));
    let r = teacher.send(Method::POST, &files, Body::Raw("multipart/form-data; boundary=x", vec![7; 10]), &[]).await;
    assert_eq!(r.status, 415, "a cross-site form's types are refused");
    // R-A15: a file upload needs the CSRF token and a same-site request like any write.
    let cross = teacher.send(Method::POST, &files, octets(vec![7; 10]), &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!((cross.status, cross.code()), (403, "csrf_failed"));
    let no_token = reqwest::Client::new()
        .post(format!("{}{files}", app.address))
        .header("cookie", format!("__Host-sid={}", teacher.session_cookie().unwrap()))
        .header("content-type", "application/octet-stream")
        .body(vec![7u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 403, "no X-CSRF-Token");
    assert!(app.emulator.request_log().is_empty(), "refused before any Graph call: {:?}", app.emulator.request_log());
    assert_eq!(teacher.send(Method::POST, &files, octets(vec![7; 65_536]), &[]).await.status, 201);
}

async fn a_slow_publish_is_reported_as_publishing_until_microsoft_has_finished(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    app.emulator.set_publish_delay(std::time::Duration::from_millis(700));
    let class = app.tenant(0).classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let base = format!("/api/classes/{}/assignments", class.id);
    let aid = teacher.post(&base, json!({"display_name": "Slow"})).await.body["id"].as_str().unwrap().to_owned();
    let one = format!("{base}/{aid}");
    let r = teacher.post(&format!("{one}/publish"), json!({})).await;
    assert_eq!((r.body["status"].as_str(), r.body["publishing"].as_bool()), (Some("published"), Some(true)));
    // Every read asks Microsoft again: still publishing right after, assigned once it is done.
    app.emulator.reset_request_log();
    let got = teacher.get(&one).await;
    assert_eq!(app.emulator.request_count("GET", "/education/classes/{id}/assignments/{id}"), 1);
    assert_eq!(app.emulator.request_count("GET", "/education/classes/{id}/assignments/{id}/resources"), 0);
    assert_eq!((got.body["status"].as_str(), got.body["publishing"].as_bool()), (Some("published"), Some(true)));
    let listed = teacher.get(&base).await;
    let row = listed.body.as_array().unwrap().iter().find(|a| a["id"] == aid.as_str()).unwrap().clone();
    assert_eq!(row["publishing"], true);
    let started = std::time::Instant::now();
    let done = loop {
        let got = teacher.get(&one).await;
        if got.body["publishing"] == false {
            break got;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "still publishing: {}", got.text);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(done.body["status"], "assigned");
    assert!(started.elapsed() >= std::time::Duration::from_millis(300), "not before Microsoft finished");
}

async fn publishing_waits_until_the_files_being_attached_are_attached(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let class = t.classes[0].clone();
    let teacher = app.teacher_of(&class).await;
    let base = format!("/api/classes/{}/assignments", class.id);
    let aid = teacher.post(&base, json!({"display_name": "Wait"})).await.body["id"].as_str().unwrap().to_owned();
    let one = format!("{base}/{aid}");

    // A slow upload (Microsoft takes 1.5 s to store the file) is in flight: publish refuses.
    app.emulator.set_fault(edu_ms_emulator::Fault {
        method: Some("PUT".into()),
        route: "/drives/{id}/items/{id}/{id}/content".into(),
        kind: edu_ms_emulator::FaultKind::Latency(std::time::Duration::from_millis(1500)),
        times: Some(1),
    });
    let uploading = {
        let (c, path) = (teacher.clone(), format!("{one}/files?name=worksheet.txt"));
        tokio::spawn(async move { c.send(Method::POST, &path, octets(b"Q1. Why?".to_vec()), &[]).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let r = teacher.post(&format!("{one}/publish"), json!({})).await;
    assert_eq!((r.status, r.code()), (409, "uploads_in_progress"), "{}", r.text);
    assert_eq!(teacher.get(&one).await.body["status"], "draft", "nothing was published");
    let done = uploading.await.unwrap();
    assert_eq!(done.status, 201, "{}", done.text);
    let r = teacher.post(&format!("{one}/publish"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // An upload whose request died stops counting when its row expires.
    let aid2 = teacher.post(&base, json!({"display_name": "Crashed"})).await.body["id"].as_str().unwrap().to_owned();
    let now = edu_api::clock::Clock::now_ms(&app.clock);
    edu_db::uploads::start(
        &app.state.db,
        &edu_db::uploads::Upload {
            tenant: edu_db::tenants::find_by_ms_id(&app.state.db, &t.id).await.unwrap().unwrap().id,
            upload_id: "00000000-0000-0000-0000-000000000001",
            class_id: &class.id,
            assignment_id: &aid2,
            by: edu_domain::UserId::new(),
            now,
            expires_at: now + 1000,
        },
    )
    .await
    .unwrap();
    assert_eq!(teacher.post(&format!("{base}/{aid2}/publish"), json!({})).await.code(), "uploads_in_progress");
    app.clock.advance(std::time::Duration::from_secs(2));
    assert_eq!(teacher.post(&format!("{base}/{aid2}/publish"), json!({})).await.status, 200);
}

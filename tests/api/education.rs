//! Schools, classes, class details, seating: server-side role and class checks.

use edu_tests::{Backend, Client, MicrosoftTestApp, both_backends};
use serde_json::json;

both_backends!(
    a_teacher_sees_their_schools_first_and_their_classes_with_teachers_and_terms,
    the_class_page_costs_one_graph_round_trip,
    only_the_classes_teachers_arrange_seats_and_students_see_only_their_own,
    seats_are_validated_against_the_grid_and_the_roster,
    people_outside_a_class_or_tenant_get_404_and_change_nothing,
    a_tampered_see_more_cursor_is_refused,
    a_tenant_with_more_schools_than_one_graph_page_lists_every_school,
);

/// Issue 18 §4 (R-C9's "nothing silently cut off"): `GET /api/schools` asks Graph for pages of
/// 999 schools; a tenant with more gets them all (the nextLink is followed), not the first 999.
async fn a_tenant_with_more_schools_than_one_graph_page_lists_every_school(backend: Backend) {
    let cast = Cast::new(backend).await;
    let tenant_id = cast.app.tenant(0).id.clone();
    let extra = cast.app.emulator.add_schools(&tenant_id, "Annex", 1200);
    let t = cast.teacher().await;
    let schools = t.get("/api/schools").await;
    assert_eq!(schools.status, 200, "{}", schools.text);
    let ids: std::collections::HashSet<String> = ["mine", "others"]
        .iter()
        .flat_map(|k| schools.body[k].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(ids.len(), 3 + 1200, "every school, beyond the first Graph page too");
    assert!(ids.contains(extra.last().unwrap()), "the last school (second Graph page) is listed");
}

struct Cast {
    app: MicrosoftTestApp,
    class: edu_ms_emulator::DemoClass,
}

impl Cast {
    async fn new(backend: Backend) -> Self {
        let app = MicrosoftTestApp::spawn(backend).await;
        app.onboard(0).await;
        let class = app.tenant(0).classes[0].clone();
        Self { app, class }
    }

    async fn teacher(&self) -> Client {
        self.app.teacher_of(&self.class).await
    }

    async fn student(&self, i: usize) -> Client {
        self.app.student_of(&self.class, i).await
    }

    /// A teacher who does not teach this class.
    async fn other_teacher(&self) -> Client {
        self.app.sign_in(&self.app.other_teacher_of(&self.class)).await
    }
}

async fn a_teacher_sees_their_schools_first_and_their_classes_with_teachers_and_terms(backend: Backend) {
    let cast = Cast::new(backend).await;
    let t = cast.teacher().await;
    let schools = t.get("/api/schools").await;
    assert_eq!(schools.status, 200, "{}", schools.text);
    let mine: Vec<String> =
        schools.body["mine"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect();
    assert!(mine.contains(&cast.class.school_id), "{}", schools.text);
    assert!(
        schools.body["others"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| !mine.contains(&s["id"].as_str().unwrap().to_owned()))
    );
    assert_eq!(mine.len() + schools.body["others"].as_array().unwrap().len(), 3, "Contoso has 3 schools");

    let classes = t.get("/api/classes").await;
    assert_eq!(classes.status, 200, "{}", classes.text);
    let ours = classes.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == cast.class.id.as_str())
        .expect("my class")
        .clone();
    assert_eq!(ours["display_name"], cast.class.display_name.as_str());
    assert!(ours["teachers"].as_array().unwrap().iter().any(|p| p["id"] == cast.class.teacher_ids[0].as_str()));
    assert!(ours["term"]["display_name"].is_string(), "{ours}");

    let all = t.get(&format!("/api/classes?scope=all&school_id={}", cast.class.school_id)).await;
    assert_eq!(all.status, 200, "{}", all.text);
    assert!(all.body["items"].as_array().unwrap().len() >= 2);
    let search = t
        .get(&format!("/api/classes?scope=all&school_id={}&q={}", cast.class.school_id, &cast.class.display_name[..6]))
        .await;
    assert!(
        search.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["display_name"].as_str().unwrap().contains(&cast.class.display_name[..6]))
    );
    assert_eq!(t.get("/api/classes?scope=all").await.code(), "invalid_query");
    assert_eq!(t.get("/api/classes?scope=everything").await.code(), "invalid_query");
}

async fn the_class_page_costs_one_graph_round_trip(backend: Backend) {
    let cast = Cast::new(backend).await;
    let t = cast.teacher().await;
    cast.app.emulator.reset_request_log();
    let page = t.get(&format!("/api/classes/{}", cast.class.id)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.body["my_role"], "teacher");
    let students = page.body["members"].as_array().unwrap().iter().filter(|m| m["role"] == "student").count();
    assert_eq!(students, cast.class.student_ids.len());
    // Issue 18 §2: the first tab is the class and its people; the other tabs read their part
    // when opened (GET …/assignments, …/documents, …/conversations).
    for part in ["assignments", "documents", "conversations"] {
        assert!(page.body.get(part).is_none(), "{part}: {}", page.text);
    }
    // The original made 9 sequential calls; we make one $batch.
    assert_eq!(cast.app.emulator.request_count("POST", "/$batch"), 1, "{:?}", cast.app.emulator.request_log());
    // The emulator counts each $batch item under its own route too: exactly the class, its
    // teachers and its members, and nothing else reached Graph.
    let log = cast.app.emulator.request_log();
    let items: u64 =
        log.iter().filter(|((_, r), _)| r.starts_with("/education") || r.starts_with("/groups")).map(|(_, n)| n).sum();
    let total: u64 = log.iter().map(|(_, n)| n).sum();
    assert_eq!(items, 3, "{log:?}");
    assert_eq!(total, 4, "one $batch carrying three requests: {log:?}");
    for part in ["assignments", "documents", "conversations"] {
        let r = t.get(&format!("/api/classes/{}/{part}", cast.class.id)).await;
        assert!(r.body.is_array(), "{part}: {}", r.text);
    }
}

async fn only_the_classes_teachers_arrange_seats_and_students_see_only_their_own(backend: Backend) {
    let cast = Cast::new(backend).await;
    let t = cast.teacher().await;
    let (s0, s1) = (cast.class.student_ids[0].clone(), cast.class.student_ids[1].clone());
    let url = format!("/api/classes/{}/seating", cast.class.id);
    let seats = json!({"seats": [{"student_id": s0, "row": 0, "col": 0}, {"student_id": s1, "row": 2, "col": 5}]});
    let r = t.send(reqwest::Method::PUT, &url, edu_tests::Body::Json(seats.clone()), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(t.get(&url).await.body["seats"].as_array().unwrap().len(), 2);

    let student = cast.student(0).await;
    let mine = student.get(&url).await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.body["seats"], json!([{"student_id": s0, "row": 0, "col": 0}]), "only their own seat");
    let page = student.get(&format!("/api/classes/{}", cast.class.id)).await;
    assert_eq!(page.body["my_role"], "student");
    let seen_seats = page.body["members"].as_array().unwrap().iter().filter(|m| !m["seat"].is_null()).count();
    assert_eq!(seen_seats, 1);
    let r = student.send(reqwest::Method::PUT, &url, edu_tests::Body::Json(json!({"seats": []})), &[]).await;
    assert_eq!((r.status, r.code()), (403, "role_required"));
    assert_eq!(t.get(&url).await.body["seats"].as_array().unwrap().len(), 2, "unchanged");
}

async fn seats_are_validated_against_the_grid_and_the_roster(backend: Backend) {
    let cast = Cast::new(backend).await;
    let t = cast.teacher().await;
    let (s0, s1) = (cast.class.student_ids[0].clone(), cast.class.student_ids[1].clone());
    let url = format!("/api/classes/{}/seating", cast.class.id);
    let outsider =
        cast.app.tenant(0).students.iter().find(|s| !cast.class.student_ids.contains(&s.id)).unwrap().id.clone();
    let cases = [
        (json!([{"student_id": s0, "row": 6, "col": 0}]), "seat_out_of_grid"),
        (json!([{"student_id": s0, "row": 0, "col": -1}]), "seat_out_of_grid"),
        (json!([{"student_id": outsider, "row": 0, "col": 0}]), "not_a_student_of_this_class"),
        (json!([{"student_id": cast.class.teacher_ids[0], "row": 0, "col": 0}]), "not_a_student_of_this_class"),
        (json!([{"student_id": s0, "row": 1, "col": 1}, {"student_id": s1, "row": 1, "col": 1}]), "seat_taken"),
        (
            json!([{"student_id": s0, "row": 1, "col": 1}, {"student_id": s0, "row": 1, "col": 2}]),
            "student_seated_twice",
        ),
    ];
    for (seats, code) in cases {
        let r = t.send(reqwest::Method::PUT, &url, edu_tests::Body::Json(json!({ "seats": seats })), &[]).await;
        assert_eq!((r.status, r.code()), (422, code), "{seats}");
    }
    let r = t.send(reqwest::Method::PUT, &url, edu_tests::Body::Json(json!({"seats": "all"})), &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(t.get(&url).await.body["seats"], json!([]), "nothing stored");
}

async fn people_outside_a_class_or_tenant_get_404_and_change_nothing(backend: Backend) {
    let cast = Cast::new(backend).await;
    let t = cast.teacher().await;
    let url = format!("/api/classes/{}/seating", cast.class.id);
    let s0 = cast.class.student_ids[0].clone();
    t.send(
        reqwest::Method::PUT,
        &url,
        edu_tests::Body::Json(json!({"seats": [{"student_id": s0, "row": 3, "col": 3}]})),
        &[],
    )
    .await;

    let other_teacher = cast.other_teacher().await;
    assert_eq!(other_teacher.get(&format!("/api/classes/{}", cast.class.id)).await.status, 404);
    let r = other_teacher.send(reqwest::Method::PUT, &url, edu_tests::Body::Json(json!({"seats": []})), &[]).await;
    assert_eq!(r.status, 404);
    let outsider_student = {
        let id =
            cast.app.tenant(0).students.iter().find(|s| !cast.class.student_ids.contains(&s.id)).unwrap().id.clone();
        cast.app.sign_in_as(&id).await
    };
    assert_eq!(outsider_student.get(&url).await.status, 404);

    // Another tenant's teacher (Fabrikam, onboarded here) cannot reach Contoso's class.
    cast.app.onboard(1).await;
    let f = cast.app.tenant(1);
    cast.app.emulator.grant_admin_consent(&f.id, &cast.app.emulator.demo().app_client_id);
    let fab = cast.app.sign_in(&f.teachers[0]).await;
    assert_eq!(fab.get(&format!("/api/classes/{}", cast.class.id)).await.status, 404);
    assert_eq!(
        fab.send(reqwest::Method::PUT, &url, edu_tests::Body::Json(json!({"seats": []})), &[]).await.status,
        404
    );

    // Local-only and anonymous people.
    let local = cast.app.registered("ann@school.edu", "correct horse battery").await;
    assert_eq!(local.get(&url).await.code(), "school_account_required");
    assert_eq!(cast.app.client().get(&url).await.status, 401);
    assert_eq!(t.get(&url).await.body["seats"].as_array().unwrap().len(), 1, "unchanged");
    assert_eq!(t.get("/api/classes/..%2F..%2Fusers").await.status, 404);
}

async fn a_tampered_see_more_cursor_is_refused(backend: Backend) {
    let cast = Cast::new(backend).await;
    let t = cast.teacher().await;
    let forged = "L3VzZXJzPyR0b3A9OTk5.AAAA";
    let r = t.get(&format!("/api/classes?cursor={forged}")).await;
    assert_eq!((r.status, r.code()), (400, "invalid_cursor"));
    assert_eq!(t.get("/api/classes?cursor=garbage").await.code(), "invalid_cursor");
}

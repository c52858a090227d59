//! A school's people: teachers of the school and the tenant's admins, paged with
//! our own cursor; students refused (R-A13); another tenant's school is not found (R-A20).

use std::collections::HashSet;

use edu_tests::{Backend, Client, MicrosoftTestApp, both_backends};

both_backends!(school_people_are_paged_with_our_cursor_and_shown_only_to_teachers_and_admins);

async fn all_pages(c: &Client, path: &str) -> (Vec<serde_json::Value>, usize) {
    let mut items = vec![];
    let mut pages = 0;
    let mut next: Option<String> = None;
    loop {
        let url = match &next {
            Some(cur) => format!("{path}&cursor={cur}"),
            None => path.to_owned(),
        };
        let r = c.get(&url).await;
        assert_eq!(r.status, 200, "{url}: {}", r.text);
        pages += 1;
        items.extend(r.body["items"].as_array().unwrap().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(cur) => {
                assert!(!cur.contains("http") && !cur.contains("graph"), "never a Graph URL: {cur}");
                next = Some(cur.to_owned());
            }
            None => return (items, pages),
        }
    }
}

async fn school_people_are_paged_with_our_cursor_and_shown_only_to_teachers_and_admins(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    app.onboard(1).await;
    app.emulator.grant_admin_consent(&app.tenant(1).id, &app.emulator.demo().app_client_id);
    let t = app.tenant(0);
    let class = t.classes[0].clone();
    let teacher_user = t.teachers.iter().find(|p| p.id == class.teacher_ids[0]).unwrap().clone();
    let student_user = t.students.iter().find(|p| p.id == class.student_ids[0]).unwrap().clone();
    let teacher = app.sign_in(&teacher_user).await;
    let student = app.sign_in(&student_user).await;
    let admin = app.sign_in(&t.admin).await;
    let foreign = app.sign_in(&app.tenant(1).teachers[0]).await;
    let base = format!("/api/schools/{}/people", class.school_id);

    // All, in pages of 3, equals one big page; the tabs split it by role.
    let (all, pages) = all_pages(&teacher, &format!("{base}?role=all&limit=3")).await;
    assert!(pages > 1, "small pages need a cursor");
    let (one, _) = all_pages(&teacher, &format!("{base}?role=all")).await;
    let ids = |v: &[serde_json::Value]| v.iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect::<HashSet<_>>();
    assert_eq!(ids(&all), ids(&one));
    assert_eq!(all.len(), one.len(), "no one twice");
    assert!(ids(&all).contains(&teacher_user.id) && ids(&all).contains(&student_user.id));
    let (teachers, _) = all_pages(&teacher, &format!("{base}?role=teachers&limit=3")).await;
    let (students, _) = all_pages(&admin, &format!("{base}?role=students&limit=3")).await;
    assert!(teachers.iter().all(|p| p["role"] == "teacher") && !teachers.is_empty());
    assert!(students.iter().all(|p| p["role"] == "student") && !students.is_empty());
    assert!(ids(&teachers).contains(&teacher_user.id) && ids(&students).contains(&student_user.id));

    // The cursor is ours: bound to the person and the tab, not editable.
    let first = teacher.get(&format!("{base}?role=students&limit=2")).await;
    let cur = first.body["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(teacher.get(&format!("{base}?role=teachers&limit=2&cursor={cur}")).await.code(), "invalid_cursor");
    assert_eq!(admin.get(&format!("{base}?role=students&limit=2&cursor={cur}")).await.code(), "invalid_cursor");
    let mut forged = cur.clone();
    forged.replace_range(0..2, if cur.starts_with("aH") { "bH" } else { "aH" });
    assert_eq!(teacher.get(&format!("{base}?role=students&cursor={forged}")).await.code(), "invalid_cursor");
    assert_eq!(teacher.get(&format!("{base}?role=everyone")).await.code(), "invalid_query");
    assert_eq!(teacher.get(&format!("{base}?limit=0")).await.code(), "invalid_query");

    // Students: refused. Another tenant: not found. A school the teacher is not in: not found.
    let r = student.get(&base).await;
    assert_eq!((r.status, r.code()), (403, "role_required"));
    assert_eq!(foreign.get(&base).await.status, 404);
    let others = teacher.get("/api/schools").await.body["others"].as_array().unwrap().clone();
    if let Some(other) = others.first() {
        let path = format!("/api/schools/{}/people", other["id"].as_str().unwrap());
        assert_eq!(teacher.get(&path).await.status, 404);
        assert_eq!(admin.get(&path).await.status, 200, "admins see every school of their tenant");
    }
}

/// R-A20: ids from a request never steer a Graph call elsewhere: a
/// dot-segment or a character outside Microsoft's id alphabet in any id is refused with a 4xx
/// before a Graph URL is built; Graph sees no call from it.
async fn dot_segments_and_foreign_characters_never_reach_graph(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let admin = app.sign_in(&t.admin).await;
    let teacher = app.sign_in(&t.teachers[0]).await;
    app.emulator.reset_request_log();
    let hostile = ["%2E%2E", "%2E", "..", ".", "%2e%2e", ".%2E", "%252E%252E", "%C3%A9", "a%3Bb", "a%5Cb"];
    for id in hostile {
        for (c, path) in [
            (&admin, format!("/api/schools/{id}/people")),
            (&teacher, format!("/api/schools/{id}/people?role=all")),
            (&teacher, format!("/api/classes/{id}")),
        ] {
            let status = c.get_path_as_is(&path).await;
            assert!((400..500).contains(&status), "{path}: {status}");
        }
    }
    let graph_calls: Vec<_> =
        app.emulator.request_log().into_iter().filter(|((_, route), _)| !route.contains("oauth2")).collect();
    assert!(graph_calls.is_empty(), "no Graph call was built from a refused id: {graph_calls:?}");
}

mod dot_segments {
    use super::*;
    both_backends!(dot_segments_and_foreign_characters_never_reach_graph);
}

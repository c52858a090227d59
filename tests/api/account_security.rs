//! Issue 17: a local password is not a key to Microsoft 365, access ends when it should,
//! limits hold under concurrency, `return_to` stays on the site, linking asks which account.
//! Requirement ids: `shared/reference/security-and-reliability.md`.

use std::time::{Duration, Instant};

use edu_tests::{Backend, Body, Client, MicrosoftBrowser, MicrosoftTestApp, Resp, both_backends};
use reqwest::Method;
use serde_json::json;

both_backends!(
    a_local_password_reaches_microsoft_data_only_after_microsoft_confirms_the_person,
    admin_console_writes_need_a_microsoft_sign_in_from_the_last_hour,
    disabling_a_user_ends_their_sessions_and_tokens_at_once,
    twenty_simultaneous_sign_ins_run_at_most_five_password_verifications,
    twenty_simultaneous_wrong_current_passwords_run_at_most_five_verifications,
    twenty_simultaneous_link_existing_attempts_run_at_most_five_verifications,
    linking_asks_microsoft_which_account,
    a_hostile_return_to_lands_on_our_home_page,
    microsofts_key_rotation_never_locks_people_out,
    class_mail_puts_students_in_bcc_and_its_hourly_limit_holds_under_concurrency,
    a_password_change_deletes_the_cached_microsoft_tokens_and_other_sessions,
);

fn idle_long(v: &mut std::collections::HashMap<String, String>) {
    v.insert("EDUGRAPH_SESSION_IDLE_SECS".into(), "86400".into());
}

/// Follows the app's redirects through Microsoft (with `emu`'s Microsoft session) until the
/// app answers with something that is not a redirect to Microsoft; returns that answer and
/// the Microsoft URLs visited.
async fn follow(
    app: &MicrosoftTestApp,
    c: &Client,
    emu: &MicrosoftBrowser,
    start: &str,
    upn: &str,
    pw: &str,
) -> (Resp, Vec<String>) {
    let mut r = c.get(start).await;
    let mut visited = Vec::new();
    for _ in 0..4 {
        let Some(to) = r.header("location").filter(|l| l.starts_with(&app.emulator.base_url())) else { break };
        visited.push(to.clone());
        let back = emu.sign_in(&to, upn, pw).await;
        let path = back.strip_prefix("http://edugraph.test").expect("back to the app").to_owned();
        r = c.get(&path).await;
    }
    if r.set_cookies().iter().any(|c| c.starts_with("__Host-sid=") && !c.starts_with("__Host-sid=;")) {
        c.get("/api/me").await;
    }
    (r, visited)
}

/// Issue 17.1 (the original's flaw S4), R-B2, R-A27: a session that began with the local
/// password gets `401 microsoft_signin_required` with a URL to continue; Microsoft confirms
/// the person silently (`prompt=none` + `login_hint`) when it has a session, with its sign-in
/// page otherwise.
async fn a_local_password_reaches_microsoft_data_only_after_microsoft_confirms_the_person(backend: Backend) {
    let app = MicrosoftTestApp::spawn_with(backend, idle_long).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let teacher = &t.teachers[0];
    let ann = app.registered("ann@school.edu", "correct horse battery").await;
    let emu = MicrosoftBrowser::new();
    app.browser_sign_in_with(&ann, &emu, "/auth/microsoft/login?intent=link", &teacher.upn, &teacher.password).await;
    assert_eq!(ann.get("/api/me/microsoft").await.status, 200, "the Microsoft-backed session works");

    // The same browser, signed in with the password only: Microsoft tokens are cached, but not for this.
    let local = app.client();
    local.login("ann@school.edu", "correct horse battery").await;
    assert_eq!(local.get("/api/me").await.status, 200, "sign in with either account still works");
    for path in ["/api/me/microsoft", "/api/classes"] {
        let r = local.get(path).await;
        assert_eq!((r.status, r.code()), (401, "microsoft_signin_required"), "{path}: {}", r.text);
        assert_eq!(r.body["error"]["continue_url"], "/auth/microsoft/login?intent=confirm", "{path}");
    }
    // Microsoft still has a session in this browser: confirmed silently, back where we were.
    let (r, visited) =
        follow(&app, &local, &emu, "/auth/microsoft/login?intent=confirm&return_to=/classes", "", "").await;
    assert_eq!(r.header("location").as_deref(), Some("/classes"), "{}", r.text);
    assert_eq!(visited.len(), 1);
    assert!(visited[0].contains("prompt=none") && visited[0].contains("login_hint="), "{}", visited[0]);
    assert_eq!(local.get("/api/me/microsoft").await.status, 200);

    // Another browser, no Microsoft session: the silent request fails, Microsoft's sign-in page follows.
    let other = app.client();
    other.login("ann@school.edu", "correct horse battery").await;
    let fresh = MicrosoftBrowser::new();
    let (r, visited) =
        follow(&app, &other, &fresh, "/auth/microsoft/login?intent=confirm", &teacher.upn, &teacher.password).await;
    assert_eq!(r.header("location").as_deref(), Some("/"), "{}", r.text);
    assert_eq!(visited.len(), 2, "{visited:?}");
    assert!(visited[0].contains("prompt=none"));
    assert!(!visited[1].contains("prompt=none") && visited[1].contains("login_hint="), "{}", visited[1]);
    assert_eq!(other.get("/api/me/microsoft").await.status, 200);
}

/// Issue 17.1: admin-console writes need a Microsoft sign-in no older than an hour; reads do not.
async fn admin_console_writes_need_a_microsoft_sign_in_from_the_last_hour(backend: Backend) {
    let app = MicrosoftTestApp::spawn_with(backend, idle_long).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let emu = MicrosoftBrowser::new();
    let admin = app.client();
    app.browser_sign_in_with(&admin, &emu, "/auth/microsoft/login", &t.admin.upn, &t.admin.password).await;
    let student = &t.students[0];
    let disable = format!("/api/admin/users/{}/disable", student.id);
    let enable = format!("/api/admin/users/{}/enable", student.id);
    assert_eq!(admin.send(Method::POST, &disable, Body::Json(json!({})), &[]).await.status, 204);

    app.clock.advance(Duration::from_secs(61 * 60));
    assert_eq!(admin.get("/api/admin/users").await.status, 200, "reads are not affected");
    let r = admin.send(Method::POST, &enable, Body::Json(json!({})), &[]).await;
    assert_eq!((r.status, r.code()), (401, "microsoft_signin_required"), "{}", r.text);
    assert_eq!(app.emulator.user(&t.id, &student.id).unwrap()["accountEnabled"], false, "nothing was written");

    let (r, _) = follow(&app, &admin, &emu, "/auth/microsoft/login?intent=confirm", "", "").await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert_eq!(admin.send(Method::POST, &enable, Body::Json(json!({})), &[]).await.status, 204);
}

/// Issue 17.2, R-A27: disabling a user in the admin console ends their EduGraph sessions and
/// deletes their cached tokens at once: their very next request is refused.
async fn disabling_a_user_ends_their_sessions_and_tokens_at_once(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let tenant = app.onboard(0).await;
    let t = app.tenant(0);
    let admin = app.admin(0).await;
    let student = &t.students[0];
    let s = app.sign_in(student).await;
    assert_eq!(s.get("/api/classes").await.status, 200);
    let key = edu_db::token_cache::TokenKey {
        tenant,
        subject: &student.id,
        resource: "https://graph.microsoft.com",
        kind: "refresh",
    };
    assert!(edu_db::token_cache::get(&app.state.db, &key).await.unwrap().is_some());

    let r =
        admin.send(Method::POST, &format!("/api/admin/users/{}/disable", student.id), Body::Json(json!({})), &[]).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let disabled_at = Instant::now();
    let r = s.get("/api/classes").await;
    let refused_after = disabled_at.elapsed();
    assert_eq!((r.status, r.code()), (401, "unauthenticated"), "the next request is refused: {}", r.text);
    assert!(edu_db::token_cache::get(&app.state.db, &key).await.unwrap().is_none(), "cached tokens are gone");
    println!("FIGURE disable-to-refusal: the next request, {:.3} s", refused_after.as_secs_f64());
}

/// Fires `n` requests at once; returns their statuses.
async fn at_once(reqs: Vec<(Client, &'static str, serde_json::Value)>) -> Vec<u16> {
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(reqs.len()));
    let tasks: Vec<_> = reqs
        .into_iter()
        .map(|(c, path, body)| {
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                c.post(path, body).await.status
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Every answer that is not 429 ran a password verification (the reservation comes first).
fn verifications(statuses: &[u16]) -> usize {
    statuses.iter().filter(|s| **s != 429).count()
}

/// Issue 17.3, R-A18: the attempt is reserved atomically before the hash, so 20 simultaneous
/// sign-ins (19 wrong, 1 right) run at most 5 verifications.
async fn twenty_simultaneous_sign_ins_run_at_most_five_password_verifications(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.registered("ann@school.edu", "correct horse battery").await;
    let mut reqs = Vec::new();
    for i in 0..20 {
        let c = app.client();
        c.fetch_csrf().await;
        let pw = if i == 10 { "correct horse battery" } else { "wrong wrong wrong" };
        reqs.push((c, "/api/auth/local/login", json!({"email": "ann@school.edu", "password": pw})));
    }
    let statuses = at_once(reqs).await;
    let v = verifications(&statuses);
    println!("FIGURE lockout: {v} verifications for 20 simultaneous sign-ins: {statuses:?}");
    assert!(v <= 5, "{v} verifications: {statuses:?}");
    assert!(statuses.iter().all(|s| [200, 401, 429].contains(s)), "{statuses:?}");
}

/// Issue 17.3, R-A18: the same for change-password's current password.
async fn twenty_simultaneous_wrong_current_passwords_run_at_most_five_verifications(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let ann = app.registered("ann@school.edu", "correct horse battery").await;
    let reqs = (0..20)
        .map(|_| {
            (
                ann.clone(),
                "/api/me/password",
                json!({"current_password": "wrong wrong wrong", "new_password": "another long passphrase"}),
            )
        })
        .collect();
    let statuses = at_once(reqs).await;
    assert!(verifications(&statuses) <= 5, "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
}

/// Issue 17.3, R-A18, R-B2: the same for linking an existing local account.
async fn twenty_simultaneous_link_existing_attempts_run_at_most_five_verifications(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    app.registered("ann@school.edu", "correct horse battery").await;
    let teacher = app.sign_in(&app.tenant(0).teachers[0]).await;
    let reqs = (0..20)
        .map(|_| {
            (
                teacher.clone(),
                "/api/me/link/local/existing",
                json!({"email": "ann@school.edu", "password": "wrong wrong wrong"}),
            )
        })
        .collect();
    let statuses = at_once(reqs).await;
    assert!(verifications(&statuses) <= 5, "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
}

/// Issue 17.8, R-B2: `intent=link` asks Microsoft which account (`prompt=select_account`),
/// never silently taking the one the browser is signed in with.
async fn linking_asks_microsoft_which_account(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let ann = app.registered("ann@school.edu", "correct horse battery").await;
    for start in ["/auth/microsoft/login?intent=link", "/auth/microsoft/login?intent=link&login_hint=x%40y.z"] {
        let r = ann.get(start).await;
        let to = r.header("location").unwrap();
        assert!(to.contains("prompt=select_account"), "{to}");
        assert!(!to.contains("login_hint"), "{to}");
    }
}

/// Issue 17.4, R-A2: a `return_to` that a browser would resolve off-site is dropped; the
/// person lands on our home page.
async fn a_hostile_return_to_lands_on_our_home_page(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let teacher = app.tenant(0).teachers[0].clone();
    for (hostile, lands) in [
        ("%2F%2509%2Fevil.example%2Fx", "/"),
        ("%2F%5Cevil.example", "/"),
        ("%2F%0D%0A%2Fevil.example", "/"),
        ("%2Fclasses%2Fx", "/classes/x"),
    ] {
        let c = app.client();
        let r = app
            .browser_sign_in(&c, &format!("/auth/microsoft/login?return_to={hostile}"), &teacher.upn, &teacher.password)
            .await;
        assert_eq!(r.header("location").as_deref(), Some(lands), "{hostile}");
    }
}

/// Issue 17.7, R-A7: after Microsoft rotates its signing key, the next sign-in refetches the
/// JWKS on the unknown `kid` (at most once per 5 s) instead of failing with `id_token_unknown_key`.
async fn microsofts_key_rotation_never_locks_people_out(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    app.sign_in(&t.teachers[0]).await;
    let jwks_before = app.emulator.request_count("GET", "/{tenant}/discovery/v2.0/keys");
    app.emulator.rotate_signing_key().unwrap();
    let started = Instant::now();
    app.sign_in(&t.teachers[1]).await;
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    // A burst of sign-ins right after: one refetch served them all.
    app.sign_in(&t.students[0]).await;
    let fetched = app.emulator.request_count("GET", "/{tenant}/discovery/v2.0/keys") - jwks_before;
    assert_eq!(fetched, 1, "one JWKS refetch on the unknown kid");
}

/// Issue 16.8 (privacy for minors) and 17.3 (R-A18-style limits hold under concurrency): a
/// class mail lists the teacher in To and the students in Bcc only; 30 simultaneous sends get
/// exactly 20 through.
async fn class_mail_puts_students_in_bcc_and_its_hourly_limit_holds_under_concurrency(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let class = t.classes[0].clone();
    let find = |id: &str| t.teachers.iter().chain(t.students.iter()).find(|p| p.id == id).unwrap().clone();
    let teacher = find(&class.teacher_ids[0]);
    let tc = app.sign_in(&teacher).await;
    let url: &'static str = Box::leak(format!("/api/classes/{}/mail", class.id).into_boxed_str());
    let mail = |n: usize| json!({"audience": "class", "subject": format!("Trip {n}"), "body": "Bring a lunch."});
    let r = tc.post(url, mail(0)).await;
    assert_eq!(r.status, 202, "{}", r.text);

    let s0 = find(&class.student_ids[0]);
    let s1 = find(&class.student_ids[1]);
    let got = app.emulator.mailbox(&s0.upn).into_iter().find(|m| m["subject"] == "Trip 0").expect("delivered");
    let visible = format!("{} {}", got["toRecipients"], got["ccRecipients"]).to_lowercase();
    assert!(visible.contains(&teacher.upn.to_lowercase()), "the teacher is in To: {visible}");
    assert!(!visible.contains(&s1.upn.to_lowercase()), "no other student's address is visible: {got}");
    assert!(got.get("bccRecipients").is_none(), "{got}");
    assert!(app.emulator.mailbox(&s1.upn).iter().any(|m| m["subject"] == "Trip 0"), "Bcc is delivered");

    let reqs = (1..=30).map(|n| (tc.clone(), url, mail(n))).collect();
    let statuses = at_once(reqs).await;
    let sent = statuses.iter().filter(|s| **s == 202).count();
    assert_eq!(sent, 19, "20 an hour in all (one was sent before): {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 11, "{statuses:?}");
}

/// Issue 17.2, R-B4: a password change ends the other sessions and deletes the cached
/// Microsoft tokens; Microsoft has to confirm the person again.
async fn a_password_change_deletes_the_cached_microsoft_tokens_and_other_sessions(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let tenant = app.onboard(0).await;
    let teacher = app.tenant(0).teachers[0].clone();
    let ann = app.registered("ann@school.edu", "correct horse battery").await;
    app.browser_sign_in(&ann, "/auth/microsoft/login?intent=link", &teacher.upn, &teacher.password).await;
    let other = app.client();
    other.login("ann@school.edu", "correct horse battery").await;
    let key = edu_db::token_cache::TokenKey {
        tenant,
        subject: &teacher.id,
        resource: "https://graph.microsoft.com",
        kind: "refresh",
    };
    assert!(edu_db::token_cache::get(&app.state.db, &key).await.unwrap().is_some());
    let r = ann
        .post(
            "/api/me/password",
            json!({"current_password": "correct horse battery", "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(edu_db::token_cache::get(&app.state.db, &key).await.unwrap().is_none(), "the cached tokens are gone");
    assert_eq!(other.get("/api/me").await.status, 401, "the other session ended");
    let r = ann.get("/api/me/microsoft").await;
    assert_eq!((r.status, r.code()), (401, "microsoft_signin_required"), "{}", r.text);
}

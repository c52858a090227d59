//! Issue 17.5, email that proves and recovers: "forgot password" links (R-B4) and email
//! verification before a local account can do anything or be linked (R-B3). Requirement ids:
//! `shared/reference/security-and-reliability.md`.

use std::time::Duration;

use edu_tests::{Backend, Client, MicrosoftTestApp, Resp, SmtpSink, TestApp, both_backends, token_after};
use serde_json::json;

both_backends!(
    forgot_password_answers_the_same_for_known_unknown_unverified_and_disabled_addresses,
    twenty_simultaneous_forgot_requests_send_at_most_five_mails_an_hour,
    a_reset_link_works_once_even_when_used_twenty_times_at_once,
    a_reset_link_expires_after_fifteen_minutes,
    a_refused_password_does_not_use_the_link_up,
    a_reset_ends_every_session_deletes_cached_tokens_and_shows_the_linked_identities,
    an_unverified_account_cannot_sign_in_nor_be_linked,
    confirming_an_email_needs_the_accounts_password_and_works_once,
    a_student_recovers_her_school_address_from_a_squatter,
    the_reset_mail_goes_through_a_real_smtp_server_and_its_link_works,
    an_unproven_address_on_a_microsoft_linked_account_gets_no_reset_link,
);

const ANN_PW: &str = "correct horse battery";

/// Marks a local account disabled (no admin endpoint disables a local-only account).
async fn disable(app: &TestApp, email: &str) {
    let mut tx = app.state.db.begin().await.unwrap();
    sqlx::query("UPDATE users SET disabled = 1 WHERE email = ?").bind(email).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
}

/// Everything of an answer that could tell accounts apart: status, body, cookies' names.
fn shape(r: &Resp) -> (u16, serde_json::Value, Vec<String>) {
    let mut cookies: Vec<String> =
        r.set_cookies().iter().map(|c| c.split('=').next().unwrap_or_default().to_owned()).collect();
    cookies.sort();
    (r.status, r.body.clone(), cookies)
}

async fn at_once<F, Fut>(n: usize, f: F) -> Vec<Resp>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Resp> + Send + 'static,
{
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let start = start.clone();
            let fut = f(i);
            tokio::spawn(async move {
                start.wait().await;
                fut.await
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Lets mail that is still being sent arrive before counting it.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// R-B4, R-A18: "forgot password" tells nobody whether an address has an account.
async fn forgot_password_answers_the_same_for_known_unknown_unverified_and_disabled_addresses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.registered("ann@school.edu", ANN_PW).await;
    assert_eq!(app.client().register("bob@school.edu", "bob's long password").await.status, 202);
    app.registered("cat@school.edu", "cat's long password").await;
    disable(&app, "cat@school.edu").await;

    let mut shapes = Vec::new();
    for email in ["ann@school.edu", "bob@school.edu", "cat@school.edu", "nobody@school.edu"] {
        let r = app.client().forgot_password(email).await;
        assert_eq!(r.status, 202, "{email}: {}", r.text);
        assert_eq!(r.body, json!({"status": "link_sent_if_account_exists"}));
        shapes.push(shape(&r));
    }
    assert!(shapes.windows(2).all(|w| w[0] == w[1]), "identical answers: {shapes:?}");

    // A link went to the verified and to the unverified account (the owner may be recovering a
    // squatted address), none to the disabled account nor the unknown address.
    app.wait_for_links("ann@school.edu", "reset-password", 1).await;
    app.wait_for_links("bob@school.edu", "reset-password", 1).await;
    settle().await;
    assert!(app.links_to("cat@school.edu", "reset-password").is_empty(), "no link for a disabled account");
    assert!(app.links_to("nobody@school.edu", "reset-password").is_empty());
    // And in about the same time: the lookup, the link and the mail run off the request path.
    let mut took = [Vec::new(), Vec::new()];
    for round in 0..8 {
        for (i, email) in ["ann@school.edu", "nobody@school.edu"].into_iter().enumerate() {
            let c = app.client();
            c.fetch_csrf().await;
            let t = std::time::Instant::now();
            let r = c.post("/api/auth/password/forgot", json!({"email": email})).await;
            took[i].push(t.elapsed());
            assert_eq!(r.status, 202, "round {round}");
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (known, unknown) = (median(&mut took[0]), median(&mut took[1]));
    println!("FIGURE forgot-password median answer: known address {known:?}, unknown address {unknown:?}");
    assert!(known.abs_diff(unknown) < Duration::from_millis(50), "known {known:?} vs unknown {unknown:?}");
    // Syntactically invalid input is refused the same way for everyone (no existence involved).
    assert_eq!(app.client().forgot_password("not-an-email").await.code(), "invalid_email");
}

/// R-B4 / issue 17.3: the per-address mail limit holds under concurrency.
async fn twenty_simultaneous_forgot_requests_send_at_most_five_mails_an_hour(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.registered("ann@school.edu", ANN_PW).await;
    let clients: Vec<Client> = (0..20).map(|_| app.client()).collect();
    for c in &clients {
        c.fetch_csrf().await;
    }
    let answers = at_once(20, |i| {
        let c = clients[i].clone();
        async move { c.post("/api/auth/password/forgot", json!({"email": "ann@school.edu"})).await }
    })
    .await;
    assert!(answers.iter().all(|r| r.status == 202), "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    app.wait_for_links("ann@school.edu", "reset-password", 5).await;
    settle().await;
    let sent = app.links_to("ann@school.edu", "reset-password").len();
    println!("FIGURE forgot-password: 20 simultaneous requests, {sent} mails sent (limit 5 per hour)");
    assert_eq!(sent, 5, "at most 5 mails per address and hour");

    // An hour later the address gets mail again.
    app.clock.advance(Duration::from_secs(61 * 60));
    assert_eq!(app.client().forgot_password("ann@school.edu").await.status, 202);
    app.wait_for_links("ann@school.edu", "reset-password", 6).await;
}

async fn reset_link(app: &TestApp, email: &str) -> String {
    let before = app.links_to(email, "reset-password").len();
    assert_eq!(app.client().forgot_password(email).await.status, 202);
    app.wait_for_links(email, "reset-password", before + 1).await.pop().unwrap()
}

/// R-B4: one link, one reset, however many tabs use it at once.
async fn a_reset_link_works_once_even_when_used_twenty_times_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.registered("ann@school.edu", ANN_PW).await;
    let token = reset_link(&app, "ann@school.edu").await;
    let clients: Vec<Client> = (0..20).map(|_| app.client()).collect();
    for c in &clients {
        c.fetch_csrf().await;
    }
    let answers = at_once(20, |i| {
        let (c, token) = (clients[i].clone(), token.clone());
        async move {
            c.post(
                "/api/auth/password/reset",
                json!({"token": token, "new_password": format!("new passphrase {i:02}")}),
            )
            .await
        }
    })
    .await;
    let won: Vec<usize> = (0..20).filter(|i| answers[*i].status == 200).collect();
    assert_eq!(won.len(), 1, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(
        answers.iter().filter(|r| r.status != 200).all(|r| r.status == 400 && r.code() == "reset_link_invalid"),
        "the others are told the link is used"
    );
    let winner = format!("new passphrase {:02}", won[0]);
    assert_eq!(app.client().login("ann@school.edu", &winner).await.status, 200);
    assert_eq!(app.client().login("ann@school.edu", ANN_PW).await.status, 401);
    // Used: a further use is refused.
    let again = app.client().reset_password(&token, "yet another passphrase").await;
    assert_eq!((again.status, again.code()), (400, "reset_link_invalid"));
}

async fn a_reset_link_expires_after_fifteen_minutes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.registered("ann@school.edu", ANN_PW).await;
    let token = reset_link(&app, "ann@school.edu").await;
    app.clock.advance(Duration::from_secs(15 * 60 + 1));
    let r = app.client().reset_password(&token, "a brand new passphrase").await;
    assert_eq!((r.status, r.code()), (400, "reset_link_invalid"), "{}", r.text);
    assert!(r.body["error"]["message"].as_str().is_some_and(|m| m.contains("Request a new one")));
    assert_eq!(app.client().login("ann@school.edu", ANN_PW).await.status, 200, "the password is unchanged");
    // Garbage tokens get the same answer.
    for bad in ["", "x", &"A".repeat(500)] {
        assert_eq!(app.client().reset_password(bad, "a brand new passphrase").await.code(), "reset_link_invalid");
    }
}

async fn a_refused_password_does_not_use_the_link_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.registered("ann@school.edu", ANN_PW).await;
    let token = reset_link(&app, "ann@school.edu").await;
    for (pw, code) in [("short", "password_too_short"), ("Password2026", "password_too_common")] {
        let r = app.client().reset_password(&token, pw).await;
        assert_eq!((r.status, r.code()), (422, code), "{}", r.text);
    }
    let r = app.client().reset_password(&token, "a brand new passphrase").await;
    assert_eq!(r.status, 200, "the link still works after refused passwords: {}", r.text);
    assert_eq!(app.client().login("ann@school.edu", "a brand new passphrase").await.status, 200);
}

/// R-B4: a reset revokes every session and the cached Microsoft tokens, cancels the other
/// links, and shows what the account is linked to.
async fn a_reset_ends_every_session_deletes_cached_tokens_and_shows_the_linked_identities(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let tenant = app.onboard(0).await;
    let teacher = app.tenant(0).teachers[0].clone();
    let ann = app.registered("ann@school.edu", ANN_PW).await;
    app.browser_sign_in(&ann, "/auth/microsoft/login?intent=link", &teacher.upn, &teacher.password).await;
    let phone = app.client();
    assert_eq!(phone.login("ann@school.edu", ANN_PW).await.status, 200);
    let microsoft = app.sign_in(&teacher).await;
    assert_eq!(microsoft.get("/api/me").await.status, 200);
    let key = edu_db::token_cache::TokenKey {
        tenant,
        subject: &teacher.id,
        resource: "https://graph.microsoft.com",
        kind: "refresh",
    };
    assert!(edu_db::token_cache::get(&app.state.db, &key).await.unwrap().is_some());

    let older = reset_link(&app, "ann@school.edu").await;
    let token = reset_link(&app, "ann@school.edu").await;
    let r = app.client().reset_password(&token, "a brand new passphrase").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["email"], "ann@school.edu");
    let ids = r.body["linked_identities"].as_array().unwrap();
    assert_eq!(ids.len(), 1, "{}", r.body);
    assert_eq!(ids[0]["provider"], "microsoft");
    assert_eq!(ids[0]["upn"], teacher.upn.as_str());
    assert_eq!(ids[0]["ms_tenant_id"], app.tenant(0).id.as_str());
    assert!(r.set_cookies().iter().all(|c| !c.starts_with("__Host-sid=")), "a reset does not sign in");

    for (who, c) in [("laptop", &ann), ("phone", &phone), ("microsoft", &microsoft)] {
        assert_eq!(c.get("/api/me").await.status, 401, "the {who} session ended");
    }
    assert!(edu_db::token_cache::get(&app.state.db, &key).await.unwrap().is_none(), "cached tokens are gone");
    let r = app.client().reset_password(&older, "another new passphrase").await;
    assert_eq!(r.code(), "reset_link_invalid", "the other outstanding link was cancelled");
    assert_eq!(app.client().login("ann@school.edu", ANN_PW).await.status, 401);
    assert_eq!(app.client().login("ann@school.edu", "a brand new passphrase").await.status, 200);

    // An account linked to nothing shows an empty list.
    app.registered("bob@school.edu", "bob's long password").await;
    let token = reset_link(&app, "bob@school.edu").await;
    let r = app.client().reset_password(&token, "bob's new passphrase").await;
    assert_eq!(r.body, json!({"email": "bob@school.edu", "linked_identities": []}));
}

/// R-B3: an account whose email is not confirmed cannot sign in, and is never a link candidate.
async fn an_unverified_account_cannot_sign_in_nor_be_linked(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let student = app.tenant(0).students[0].clone();
    let reg = app.client();
    assert_eq!(reg.register("liam@home.example", ANN_PW).await.status, 202);
    assert_eq!(reg.get("/api/me").await.status, 401, "registration does not sign in");
    app.wait_for_links("liam@home.example", "verify-email", 1).await;

    let c = app.client();
    let r = c.login("liam@home.example", ANN_PW).await;
    assert_eq!((r.status, r.code()), (403, "email_unverified"), "{}", r.text);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("liam@home.example"));
    assert_eq!(c.get("/api/me").await.status, 401);
    app.wait_for_links("liam@home.example", "verify-email", 2).await;
    // A wrong password tells nothing about the state of the account.
    let wrong = app.client().login("liam@home.example", "not the password").await;
    assert_eq!((wrong.status, wrong.code()), (401, "invalid_credentials"));

    let ms = app.sign_in(&student).await;
    let r = ms.post("/api/me/link/local/existing", json!({"email": "liam@home.example", "password": ANN_PW})).await;
    assert_eq!((r.status, r.code()), (403, "email_unverified"), "{}", r.text);
    let r = ms.post("/api/me/link/local/existing", json!({"email": "liam@home.example", "password": "not it"})).await;
    assert_eq!((r.status, r.code()), (401, "invalid_credentials"));
    assert_eq!(ms.get("/api/me").await.body["link"]["local"], false, "nothing was linked");

    // Re-sending is limited per account: at most 5 confirmation mails an hour.
    for _ in 0..6 {
        app.client().login("liam@home.example", ANN_PW).await;
    }
    settle().await;
    assert_eq!(app.links_to("liam@home.example", "verify-email").len(), 5);

    // Once confirmed, linking works.
    let token = app.links_to("liam@home.example", "verify-email").pop().unwrap();
    assert_eq!(app.client().verify_email(&token, ANN_PW).await.status, 200);
    let r = ms.post("/api/me/link/local/existing", json!({"email": "liam@home.example", "password": ANN_PW})).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// R-B3: the link alone does not confirm: the person types the password they chose, so the
/// real owner clicking a mail they did not ask for cannot confirm a squatter's account.
async fn confirming_an_email_needs_the_accounts_password_and_works_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.client();
    assert_eq!(c.register("ann@school.edu", ANN_PW).await.status, 202);
    let token = app.wait_for_links("ann@school.edu", "verify-email", 1).await.pop().unwrap();
    let r = c.verify_email(&token, "some other password").await;
    assert_eq!((r.status, r.code()), (401, "invalid_credentials"));
    assert_eq!(c.get("/api/me").await.status, 401);
    let r = c.verify_email(&token, ANN_PW).await;
    assert_eq!(r.status, 200, "the link survives a wrong password: {}", r.text);
    assert_eq!(r.body["user"]["email"], "ann@school.edu");
    assert_eq!(c.get("/api/me").await.status, 200, "signed in");
    let r = app.client().verify_email(&token, ANN_PW).await;
    assert_eq!((r.status, r.code()), (400, "verification_link_invalid"), "single use");
    assert_eq!(app.client().login("ann@school.edu", ANN_PW).await.status, 200);

    // Wrong passwords on the link count against the account's sign-in lock (R-A18).
    let b = app.client();
    assert_eq!(b.register("bob@school.edu", ANN_PW).await.status, 202);
    let token = app.wait_for_links("bob@school.edu", "verify-email", 1).await.pop().unwrap();
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..6 {
            v.push(b.verify_email(&token, "guess guess guess").await.status);
        }
        v
    };
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");

    // A link expires after 24 hours.
    let e = app.client();
    assert_eq!(e.register("eve@school.edu", ANN_PW).await.status, 202);
    let token = app.wait_for_links("eve@school.edu", "verify-email", 1).await.pop().unwrap();
    app.clock.advance(Duration::from_secs(24 * 3600 + 1));
    let r = e.verify_email(&token, ANN_PW).await;
    assert_eq!((r.status, r.code()), (400, "verification_link_invalid"));
}

/// R-B3 squatter case: someone registered a student's school address (they cannot confirm
/// it); she takes the address back with "forgot password", which confirms it with HER password.
async fn a_student_recovers_her_school_address_from_a_squatter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let squatter = app.client();
    assert_eq!(squatter.register("mia@school.edu", "the squatter's password").await.status, 202);
    let squatters_link = app.wait_for_links("mia@school.edu", "verify-email", 1).await.pop().unwrap();

    // Mia cannot register her own address.
    let r = app.client().register("mia@school.edu", "mia's own passphrase").await;
    assert_eq!((r.status, r.code()), (409, "email_taken"));
    // She asks for a reset link; it reaches her mailbox (the squatter never sees it).
    let token = reset_link(&app, "mia@school.edu").await;
    let r = app.client().reset_password(&token, "mia's own passphrase").await;
    assert_eq!(r.status, 200, "{}", r.text);

    let mia = app.client();
    let r = mia.login("mia@school.edu", "mia's own passphrase").await;
    assert_eq!(r.status, 200, "the reset proved the mailbox, so the account is confirmed: {}", r.text);
    assert_eq!(app.client().login("mia@school.edu", "the squatter's password").await.status, 401);
    // The squatter's confirmation link is dead, whatever password is typed.
    for pw in ["the squatter's password", "mia's own passphrase"] {
        let r = squatter.verify_email(&squatters_link, pw).await;
        assert_eq!((r.status, r.code()), (400, "verification_link_invalid"), "{pw}");
    }
    assert_eq!(mia.get("/api/me").await.status, 200);
}

fn link_in(mail: &str, page: &str) -> String {
    token_after(mail, &format!("{}/{page}#token=", edu_tests::PUBLIC_ORIGIN)).expect("a link in the mail")
}

/// R-B4 / issue 17.5: account mail through a real SMTP server (aiosmtpd) with `lettre`; the
/// link in the delivered message works.
async fn the_reset_mail_goes_through_a_real_smtp_server_and_its_link_works(backend: Backend) {
    let Some(sink) = SmtpSink::start() else { return };
    let app = TestApp::spawn_with(backend, |v| {
        v.insert("EDUGRAPH_SMTP_URL".into(), sink.url());
        v.insert("EDUGRAPH_MAIL_FROM".into(), "EduGraph <no-reply@edugraph.test>".into());
    })
    .await;
    let c = app.client();
    assert_eq!(c.register("ann@school.edu", ANN_PW).await.status, 202);
    let mail = sink.wait_for(1).await.remove(0);
    assert!(mail.contains("To: ann@school.edu"), "{mail}");
    assert!(mail.contains("From: EduGraph <no-reply@edugraph.test>"), "{mail}");
    let v = c.verify_email(&link_in(&mail, "verify-email"), ANN_PW).await;
    assert_eq!(v.status, 200, "{mail}\n{}", v.text);
    assert!(app.state.mailer.outbox_messages().is_empty(), "nothing stayed in the outbox");

    assert_eq!(app.client().forgot_password("ann@school.edu").await.status, 202);
    let mail = sink.wait_for(2).await.remove(1);
    assert!(mail.contains("Subject: Reset your EduGraph password"), "{mail}");
    let token = link_in(&mail, "reset-password");
    assert_eq!(token.len(), 43, "32 random bytes, base64url");
    let r = app.client().reset_password(&token, "a brand new passphrase").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(c.get("/api/me").await.status, 401, "the session ended");
    assert_eq!(app.client().login("ann@school.edu", "a brand new passphrase").await.status, 200);
}

/// R-B3/R-B4 (the reverse pre-hijack): a Microsoft user adds local credentials with an address
/// they do not own. Until that address is confirmed, its mailbox owner cannot take over the
/// Microsoft-linked account with "forgot password": no link is mailed (the answer is the same).
async fn an_unproven_address_on_a_microsoft_linked_account_gets_no_reset_link(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let teacher = app.tenant(0).teachers[0].clone();
    let microsoft = app.sign_in(&teacher).await;
    let r = microsoft
        .post("/api/me/link/local/create", json!({"email": "someone.else@school.edu", "password": ANN_PW}))
        .await;
    assert!(r.status < 300, "{} {}", r.status, r.text);
    // The confirmation mail goes to the address; nobody confirms it.
    app.wait_for_links("someone.else@school.edu", "verify-email", 1).await;
    let r = app.client().forgot_password("someone.else@school.edu").await;
    assert_eq!(r.status, 202, "the same answer as for any address");
    settle().await;
    assert!(
        app.links_to("someone.else@school.edu", "reset-password").is_empty(),
        "no reset link for an unproven address"
    );
    // A confirmed address on a linked account still recovers (covered above); the Microsoft
    // sign-in is unaffected.
    assert_eq!(microsoft.get("/api/me").await.status, 200);
}

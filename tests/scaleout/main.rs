//! Scale-out: two real `edugraph serve` processes on different ports against ONE
//! MySQL database, as several stateless API replicas run behind a load balancer.
//!
//! Needs `EDUGRAPH_TEST_MYSQL_URL` (the tests are reported as skipped without it) and the `edugraph`
//! binary of the same profile (`cargo build -p edugraph`; `infra/scripts/test` builds the
//! whole workspace first).
#![expect(clippy::unwrap_used, reason = "a test should fail loudly on an unexpected value")]

mod instance;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use edu_tests::{Backend, Client, TestDatabase, mysql_only};
use instance::{Instance, edugraph_binary};
use serde_json::json;

mysql_only!(
    two_replicas_starting_together_on_an_unmigrated_database_both_become_ready,
    a_session_and_its_csrf_token_work_on_every_instance_and_sign_out_ends_it_everywhere,
    a_password_change_on_one_instance_ends_the_sessions_held_on_the_other,
    killing_one_instance_mid_load_leaves_the_other_serving,
    sigterm_finishes_in_flight_requests_then_exits_zero_within_the_bound,
    sigterm_turns_readiness_to_503_while_still_serving_during_the_shutdown_delay,
);

/// How long a debug binary may take to connect, migrate and answer `/readyz`.
const READY_LIMIT: Duration = Duration::from_secs(60);
/// The drain bound of `edugraph serve` (actix `shutdown_timeout(30)` in `edu_api::startup`),
/// plus a margin for process exit. Kubernetes' `terminationGracePeriodSeconds` is above it.
const SHUTDOWN_BOUND: Duration = Duration::from_secs(35);

/// Two instances against one fresh database, deployed as in production: `edugraph migrate`
/// first (the Kubernetes Job / compose `migrate` service), then both replicas at once.
struct Pair {
    a: Instance,
    b: Instance,
    url: String,
    _db: TestDatabase,
}

/// Registers on `client`'s instance (202, R-B3), confirms the email in the database (the mail
/// outbox of a separate process cannot be read here) and signs in.
async fn register_and_sign_in(client: &Client, url: &str, email: &str, password: &str) {
    let r = client.register(email, password).await;
    assert_eq!(r.status, 202, "{}", r.body);
    edu_tests::confirm_email_in_db(url, email).await;
    let r = client.login(email, password).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn pair() -> Pair {
    let bin = edugraph_binary();
    let (db, url) = TestDatabase::create(Backend::MySql).await;
    instance::migrate(&bin, &url);
    let workers = [("EDUGRAPH_WORKERS", "2"), ("EDUGRAPH_HASH_CONCURRENCY", "1")];
    let mut a = Instance::start(&bin, &url, &workers);
    let mut b = Instance::start(&bin, &url, &workers);
    a.wait_ready(READY_LIMIT).await;
    b.wait_ready(READY_LIMIT).await;
    Pair { a, b, url, _db: db }
}

/// Replicas that start together on a database with pending migrations. sqlx's own migration
/// lock is `GET_LOCK(name, -1)`, which MariaDB refuses (NULL, warning 1411) — both replicas
/// then applied migration 1 and one died with `Duplicate entry '20261122000001'`.
/// `edu_db::Db::migrate` now takes a lock of its own; this test guards that.
async fn two_replicas_starting_together_on_an_unmigrated_database_both_become_ready() {
    let bin = edugraph_binary();
    let (_db, url) = TestDatabase::create(Backend::MySql).await;
    let mut a = Instance::start(&bin, &url, &[]);
    let mut b = Instance::start(&bin, &url, &[]);
    a.wait_ready(READY_LIMIT).await;
    b.wait_ready(READY_LIMIT).await;
}

/// A client for `base` that shares `other`'s cookie jar and CSRF token: the same browser,
/// routed to another replica.
fn same_browser(other: &Client, base: &str) -> Client {
    let mut c = Client::new(base);
    c.cookies = other.cookies.clone();
    c.csrf = other.csrf.clone();
    c
}

async fn a_session_and_its_csrf_token_work_on_every_instance_and_sign_out_ends_it_everywhere() {
    let p = pair().await;
    let on_a = Client::new(&p.a.address);
    let on_b = same_browser(&on_a, &p.b.address);

    // The anonymous CSRF token comes from A; registration posts it to B.
    on_a.fetch_csrf().await;
    let r = on_b
        .post(
            "/api/auth/local/register",
            json!({"email": "ann@school.edu", "password": "correct horse battery", "favorite_color": "green"}),
        )
        .await;
    assert_eq!(r.status, 202, "a CSRF token issued by A is accepted by B: {}", r.body);
    edu_tests::confirm_email_in_db(&p.url, "ann@school.edu").await;
    let r = on_b.login("ann@school.edu", "correct horse battery").await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The session created on B is known to A.
    let me_a = on_a.get("/api/me").await;
    assert_eq!(me_a.status, 200, "{}", me_a.body);
    assert_eq!(me_a.body["user"]["email"], "ann@school.edu");
    let me_b = on_b.get("/api/me").await;
    assert_eq!(me_b.status, 200);
    assert_eq!(me_b.body["user"]["id"], me_a.body["user"]["id"]);

    // The signed-in CSRF token (from A's /api/me, now in the shared jar) signs B's sign-out.
    let signed_out_id = on_a.session_cookie().unwrap();
    let out = on_b.post("/api/auth/logout", json!({})).await;
    assert_eq!(out.status, 204, "{}", out.text);

    // Ended on both: replay the old cookie against each instance.
    let stale = Client::new(&p.a.address);
    stale.cookies.lock().unwrap().insert("__Host-sid".into(), signed_out_id);
    assert_eq!(on_a.get("/api/me").await.status, 401);
    let r = stale.get("/api/me").await;
    assert_eq!(r.status, 401, "the signed-out session id is dead on A");
    assert_eq!(r.code(), "unauthenticated");
    let stale_b = same_browser(&stale, &p.b.address);
    assert_eq!(stale_b.get("/api/me").await.status, 401, "and on B");
}

async fn a_password_change_on_one_instance_ends_the_sessions_held_on_the_other() {
    let p = pair().await;
    // Ann signs up on A (laptop) and signs in on B (phone).
    let laptop = Client::new(&p.a.address);
    register_and_sign_in(&laptop, &p.url, "ann@school.edu", "correct horse battery").await;
    let phone = Client::new(&p.b.address);
    assert_eq!(phone.login("ann@school.edu", "correct horse battery").await.status, 200);
    assert_eq!(phone.get("/api/me").await.status, 200);

    // She changes her password on A.
    laptop.get("/api/me").await; // the signed-in CSRF token
    let r = laptop
        .post(
            "/api/me/password",
            json!({"current_password": "correct horse battery", "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // B no longer accepts the phone's session; the laptop's rotated session works on B too.
    let r = phone.get("/api/me").await;
    assert_eq!(r.status, 401, "the session held on B ended: {}", r.body);
    let laptop_on_b = same_browser(&laptop, &p.b.address);
    assert_eq!(laptop_on_b.get("/api/me").await.status, 200);
    // And B checks the new password, not a cached one.
    let again = Client::new(&p.b.address);
    assert_eq!(again.login("ann@school.edu", "correct horse battery").await.status, 401);
    assert_eq!(again.login("ann@school.edu", "a brand new passphrase").await.status, 200);
}

async fn killing_one_instance_mid_load_leaves_the_other_serving() {
    let mut p = pair().await;
    let on_a = Client::new(&p.a.address);
    register_and_sign_in(&on_a, &p.url, "ann@school.edu", "correct horse battery").await;
    let on_b = same_browser(&on_a, &p.b.address);

    // 8 loops of GET /api/me, half on each instance, for 3 s; A is killed after 1 s.
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut loops = Vec::new();
    for i in 0..8 {
        let (base, cookie) = if i % 2 == 0 { (&p.a.address, &on_a) } else { (&p.b.address, &on_b) };
        let sid = cookie.session_cookie().unwrap();
        let url = format!("{base}/api/me");
        let on_b = i % 2 == 1;
        let stop = stop.clone();
        loops.push(tokio::spawn(async move {
            // A fresh connection pool per loop, like separate browsers behind a load balancer.
            let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
            let mut results = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let sent = started.elapsed();
                let r = http.get(&url).header("cookie", format!("__Host-sid={sid}")).send().await;
                results.push((on_b, sent, r.map(|r| r.status().as_u16()).map_err(|e| e.to_string())));
            }
            results
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let killed_at = started.elapsed();
    p.a.kill();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);

    let mut b_before = 0;
    let mut b_after = 0;
    let mut a_ok_before = 0;
    for l in loops {
        for (is_b, sent, result) in l.await.unwrap() {
            if is_b {
                assert_eq!(result, Ok(200), "B failed a request sent at {sent:?} (A killed at {killed_at:?})");
                if sent < killed_at { b_before += 1 } else { b_after += 1 }
            } else if sent < killed_at && result == Ok(200) {
                a_ok_before += 1;
            }
        }
    }
    assert!(a_ok_before > 0, "A served before it was killed");
    assert!(b_before > 0 && b_after > 0, "B served before ({b_before}) and after ({b_after}) A was killed");

    // B still signs people in and out on its own.
    let fresh = Client::new(&p.b.address);
    register_and_sign_in(&fresh, &p.url, "bob@school.edu", "correct horse battery").await;
    assert_eq!(fresh.get("/api/me").await.status, 200);
}

async fn sigterm_finishes_in_flight_requests_then_exits_zero_within_the_bound() {
    let mut p = pair().await;
    let setup = Client::new(&p.b.address);
    register_and_sign_in(&setup, &p.url, "ann@school.edu", "correct horse battery").await;

    // Sign-ins are the slow requests (Argon2id, one hashing slot): 5 sent at once queue up.
    // Five, the per-account threshold: each sign-in reserves a verification before hashing
    // (R-A18), so a sixth concurrent one for the same account may rightly get 429.
    let mut in_flight = Vec::new();
    let (answered, mut first_answer) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..5 {
        let c = Client::new(&p.b.address);
        c.fetch_csrf().await;
        let cookie = c.cookies.lock().unwrap().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let token = c.csrf.lock().unwrap().clone().unwrap();
        let url = format!("{}/api/auth/local/login", p.b.address);
        let answered = answered.clone();
        in_flight.push(tokio::spawn(async move {
            // Its own connection: reqwest errors tell "never accepted" from "cut off".
            let r = reqwest::Client::new()
                .post(url)
                .header("cookie", cookie)
                .header("x-csrf-token", token)
                .json(&json!({"email": "ann@school.edu", "password": "correct horse battery"}))
                .send()
                .await;
            let at = Instant::now();
            let _ = answered.send(());
            let outcome = r.map(|r| r.status().as_u16()).map_err(|e| (e.is_connect(), e.to_string()));
            (outcome, at)
        }));
    }
    // The first answer shows B is working through the queue; the others, sent at the same
    // time, were accepted and wait for the hashing slot.
    tokio::time::timeout(Duration::from_secs(30), first_answer.recv()).await.unwrap();
    let signalled = Instant::now();
    p.b.terminate();

    // It stops accepting: a new connection is refused well before the drain ends.
    let probe = reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(2)).build().unwrap();
    let mut refused = false;
    while signalled.elapsed() < Duration::from_secs(5) {
        if probe.get(format!("{}/healthz", p.b.address)).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "B still accepted new connections 5 s after SIGTERM");

    // Every request it had accepted completes normally, some of them after the signal.
    let mut drained = 0;
    for task in in_flight {
        let (outcome, at) = task.await.unwrap();
        match outcome {
            Ok(status) => {
                assert_eq!(status, 200, "an in-flight sign-in failed during the drain");
                if at > signalled {
                    drained += 1;
                }
            }
            Err((true, _)) => {} // sent after the listener closed: never in flight
            Err((false, e)) => panic!("an accepted sign-in was cut off by SIGTERM: {e}"),
        }
    }
    assert!(drained > 0, "no sign-in was still in flight at SIGTERM; the test proved nothing");
    let status = p.b.wait_exit(SHUTDOWN_BOUND).await;
    let status = status.unwrap_or_else(|| panic!("B still running {SHUTDOWN_BOUND:?} after SIGTERM"));
    assert!(status.success(), "B exited with {status} after SIGTERM");
    println!("SIGTERM to exit: {:?} ({drained} sign-ins finished during the drain)", signalled.elapsed());

    // The other replica is untouched.
    assert_eq!(Client::new(&p.a.address).get("/healthz").await.status, 200);
}

/// With `EDUGRAPH_SHUTDOWN_DELAY_SECS`, SIGTERM first turns readiness to 503 `shutting_down` while
/// the instance still serves requests (a load balancer that polls `/readyz` stops routing to it),
/// and only then closes the listener and exits 0.
async fn sigterm_turns_readiness_to_503_while_still_serving_during_the_shutdown_delay() {
    let bin = edugraph_binary();
    let (_db, url) = TestDatabase::create(Backend::MySql).await;
    instance::migrate(&bin, &url);
    let mut b = Instance::start(&bin, &url, &[("EDUGRAPH_SHUTDOWN_DELAY_SECS", "5")]);
    b.wait_ready(READY_LIMIT).await;
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(2)).build().unwrap();
    assert_eq!(http.get(format!("{}/readyz", b.address)).send().await.unwrap().status(), 200);

    let signalled = Instant::now();
    b.terminate();
    // Not ready within a moment of the signal...
    let mut code = String::new();
    while signalled.elapsed() < Duration::from_secs(2) {
        let r = http.get(format!("{}/readyz", b.address)).send().await.unwrap();
        if r.status() == 503 {
            let body: serde_json::Value = r.json().await.unwrap();
            code = body["error"]["code"].as_str().unwrap_or_default().to_owned();
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(code, "shutting_down", "readiness did not turn 503 within 2 s of SIGTERM");
    // ...while still serving real requests during the delay.
    let served = Client::new(&b.address);
    assert_eq!(served.register("ann@school.edu", "correct horse battery").await.status, 202);
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "the registration was not inside the delay; test proved nothing"
    );
    // Then the listener closes and the process exits 0, after the delay and within the bound.
    let status = b.wait_exit(SHUTDOWN_BOUND).await.unwrap_or_else(|| panic!("still running after SIGTERM"));
    assert!(status.success(), "exited with {status}");
    assert!(signalled.elapsed() >= Duration::from_secs(5), "exited before the shutdown delay ended");
}

// Two sync-job processes on one database at once (one syncs, the other reports busy and
// exits 0; no double work) is tested with the real binary and the emulator in
// `jobs/sync/tests/binary.rs` (`two_processes_at_once`, SQLite and MariaDB).

//! Grading benchmark (issue 15 figures): with the emulator adding 100 ms to every Graph call
//! (a `$batch` is one call), for a class of 25 students and 10 assignments:
//! the gradebook's Graph round trips and the requests inside them, and its wall time;
//! the wall time to return 25 graded submissions ("Return all graded", a background job of
//! `$batch`es of 20); the to-do list's round trips for a student and a teacher.
//! Run: `infra/scripts/bench gradebook`.
#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly")]

use std::time::{Duration, Instant};

use edu_ms_emulator::{Fault, FaultKind};
use edu_tests::{Backend, Body, Client, MicrosoftTestApp};
use reqwest::Method;
use serde_json::json;

/// (round trips, requests inside `$batch`es, all requests) seen by the emulator since the last
/// reset, Graph only (sign-in and token endpoints excluded).
fn graph_calls(app: &MicrosoftTestApp) -> (u64, u64, u64) {
    let log = app.emulator.request_log();
    let graph: Vec<_> = log
        .iter()
        .filter(|((_, t), _)| t.starts_with("/education") || t.starts_with("/$batch") || t.starts_with("/groups"))
        .collect();
    let batches: u64 = graph.iter().filter(|((m, t), _)| m == "POST" && t == "/$batch").map(|(_, n)| *n).sum();
    let all: u64 = graph.iter().map(|(_, n)| *n).sum();
    // Every request other than the `$batch` envelopes is either inside one or a call of its own;
    // the API's calls of their own here are the assignment list and reads (inside a `$batch`
    // the API reads submissions, outcomes and rosters, never these two).
    let direct: u64 = graph
        .iter()
        .filter(|((m, t), _)| {
            m == "GET"
                && (t == "/education/classes/{id}/assignments" || t == "/education/classes/{id}/assignments/{id}")
        })
        .map(|(_, n)| *n)
        .sum();
    (batches + direct, all - batches - direct, all)
}

async fn timed(c: &Client, path: &str) -> (Duration, serde_json::Value) {
    let t = Instant::now();
    let r = c.get(path).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text);
    (t.elapsed(), r.body)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let app = MicrosoftTestApp::spawn(Backend::Sqlite).await;
    app.onboard(0).await;
    let class = app.tenant(0).classes[0].clone();
    assert_eq!(class.student_ids.len(), 25, "the demo classes have 25 students");
    let teacher = app.teacher_of(&class).await;
    let student = app.student_of(&class, 0).await;
    let base = format!("/api/classes/{}/assignments", class.id);

    // 10 assignments: the demo's two, plus eight published ones worth 20 points.
    let mut graded = String::new();
    for i in 0..8 {
        let r = teacher.post(&base, json!({"display_name": format!("Bench {i}"), "max_points": 20})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let aid = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(teacher.post(&format!("{base}/{aid}/publish"), json!({})).await.status, 200);
        graded = aid;
    }
    let n_assignments = teacher.get(&base).await.body.as_array().unwrap().len();
    // Grade all 25 submissions of one assignment (not returned yet).
    let subs = teacher.get(&format!("{base}/{graded}/submissions")).await.body.as_array().unwrap().clone();
    assert_eq!(subs.len(), 25);
    for (i, s) in subs.iter().enumerate() {
        let path = format!("{base}/{graded}/submissions/{}/outcome", s["id"].as_str().unwrap());
        let body = json!({"points": 10 + (i % 10), "feedback": format!("Feedback {i}")});
        assert_eq!(teacher.send(Method::PATCH, &path, Body::Json(body), &[]).await.status, 200);
    }

    app.emulator.set_fault(Fault {
        method: None,
        route: "*".into(),
        kind: FaultKind::Latency(Duration::from_millis(100)),
        times: None,
    });

    // The gradebook.
    let book = format!("/api/classes/{}/gradebook", class.id);
    timed(&teacher, &book).await; // warm (token cache)
    let mut times = vec![];
    let mut last = (0, 0, 0);
    for _ in 0..5 {
        app.emulator.reset_request_log();
        let (d, body) = timed(&teacher, &book).await;
        times.push(d);
        last = graph_calls(&app);
        assert_eq!(body["students"].as_array().unwrap().len(), 25);
        assert_eq!(body["assignments"].as_array().unwrap().len(), n_assignments);
    }
    times.sort();
    println!(
        "gradebook of {n_assignments} assignments x 25 students: {} Graph round trips ({} requests inside $batches, {} requests in all), p50 {:.0} ms with +100 ms per Graph call",
        last.0,
        last.1,
        last.2,
        times[times.len() / 2].as_secs_f64() * 1000.0
    );
    app.emulator.reset_request_log();
    let (d, _) = timed(&teacher, &format!("{book}?format=oneroster")).await;
    println!("  OneRoster zip: {:.0} ms, same round trips ({})", d.as_secs_f64() * 1000.0, graph_calls(&app).0);

    // Return all graded: 25 graded submissions.
    app.emulator.reset_request_log();
    let t = Instant::now();
    let r = teacher.post(&format!("{base}/{graded}/return-graded"), json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let job = r.body["id"].as_str().unwrap().to_owned();
    let accepted = t.elapsed();
    let done = loop {
        let r = teacher.get(&format!("/api/classes/{}/jobs/{job}", class.id)).await;
        if ["succeeded", "failed"].contains(&r.body["status"].as_str().unwrap_or_default()) {
            break r.body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let total = t.elapsed();
    assert_eq!((done["status"].as_str(), done["done"].as_i64()), (Some("succeeded"), Some(25)), "{done}");
    let returns =
        app.emulator.request_count("POST", "/education/classes/{id}/assignments/{id}/submissions/{id}/return");
    println!(
        "return all graded (25 submissions) with +100 ms per Graph call: {:.0} ms until done (202 after {:.0} ms); {} $batch calls, {returns} returns inside them",
        total.as_secs_f64() * 1000.0,
        accepted.as_secs_f64() * 1000.0,
        app.emulator.request_count("POST", "/$batch"),
    );

    // The to-do lists.
    for (who, c) in [("student", &student), ("teacher", &teacher)] {
        timed(c, "/api/me/assignments").await;
        app.emulator.reset_request_log();
        let (d, body) = timed(c, "/api/me/assignments").await;
        let (rt, inner, _) = graph_calls(&app);
        println!(
            "to-do list ({who}): {} Graph round trips as the API counts them ({rt} seen by the emulator, {inner} requests inside $batches), {} entries, {:.0} ms with +100 ms per Graph call",
            body["graph_round_trips"],
            body["items"].as_array().unwrap().len(),
            d.as_secs_f64() * 1000.0
        );
    }
    app.emulator.clear_faults();
}

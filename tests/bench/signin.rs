//! Sign-in benchmark: Microsoft sign-in through the emulator, in process,
//! SQLite. Prints the p50/p95 of the whole browser round trip and of our callback alone
//! (code exchange, ID-token validation, one Graph call, database writes, session), and the
//! Graph calls one sign-in costs. Run: `infra/scripts/bench signin`.
#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly")]

use std::time::{Duration, Instant};

use edu_tests::{Backend, MicrosoftBrowser, MicrosoftTestApp};

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss, reason = "small")]
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("BENCH_SIGNINS").ok().and_then(|s| s.parse().ok()).unwrap_or(50);
    let app = MicrosoftTestApp::spawn(Backend::Sqlite).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let people: Vec<_> = t.teachers.iter().chain(t.students.iter()).take(n).cloned().collect();
    let (mut whole, mut callback) = (Vec::new(), Vec::new());
    // One warm-up (JWKS fetch, connection pools).
    let warm = app.client();
    app.browser_sign_in(&warm, "/auth/microsoft/login", &people[0].upn, &people[0].password).await;
    app.emulator.reset_request_log();
    for p in &people {
        let c = app.client();
        let started = Instant::now();
        let r = c.get("/auth/microsoft/login").await;
        let back = MicrosoftBrowser::new().sign_in(&r.header("location").unwrap(), &p.upn, &p.password).await;
        let cb = Instant::now();
        let landed = c.get(back.strip_prefix("http://edugraph.test").unwrap()).await;
        callback.push(cb.elapsed());
        whole.push(started.elapsed());
        assert_eq!(landed.header("location").as_deref(), Some("/"), "{}", landed.text);
    }
    let graph: u64 = app
        .emulator
        .request_log()
        .into_iter()
        .filter(|((_, route), _)| {
            !route.starts_with("/{tenant}") && !route.starts_with("/common") && !route.starts_with("/organizations")
        })
        .map(|(_, n)| n)
        .sum();
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let per = graph as f64 / people.len() as f64;
    println!("Microsoft sign-ins through the emulator: {}", people.len());
    println!("  whole browser round trip: p50 {} p95 {}", ms(pct(&mut whole, 0.5)), ms(pct(&mut whole, 0.95)));
    println!(
        "  our callback (exchange + validate + Graph + DB + session): p50 {} p95 {}",
        ms(pct(&mut callback, 0.5)),
        ms(pct(&mut callback, 0.95))
    );
    println!("  Graph calls per sign-in: {per:.1} (the original sample made 5)");
}

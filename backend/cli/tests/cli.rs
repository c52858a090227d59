//! The `edugraph` binary as an operator runs it: configuration errors, migrations,
//! structured logs without secrets or personal data, graceful shutdown (R-A23).
#![expect(clippy::unwrap_used, reason = "a test should fail loudly on an unexpected value")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_edugraph");
const TOKEN_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const CLIENT_SECRET: &str = "client-secret-that-must-never-be-logged";

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).env_clear().envs(env.iter().copied()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn serve_with_an_empty_environment_exits_2_naming_the_first_missing_variable() {
    let (code, _, err) = run(&["serve"], &[]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("EDUGRAPH_DATABASE_URL"), "{err}");
}

#[test]
fn serve_names_a_malformed_variable_and_never_prints_secret_values() {
    let (code, _, err) = run(
        &["serve"],
        &[
            ("EDUGRAPH_DATABASE_URL", "sqlite://x.db"),
            ("EDUGRAPH_TOKEN_KEY", "dG9vLXNob3J0"),
            ("EDUGRAPH_CLIENT_ID", "cid"),
            ("EDUGRAPH_CLIENT_SECRET", CLIENT_SECRET),
        ],
    );
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("EDUGRAPH_TOKEN_KEY") && err.contains("32 bytes"), "{err}");
    assert!(!err.contains("dG9vLXNob3J0") && !err.contains(CLIENT_SECRET));
}

#[test]
fn migrate_applies_migrations_to_a_new_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/m.db", dir.path().display());
    let (code, out, err) = run(&["migrate"], &[("EDUGRAPH_DATABASE_URL", &url)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("migrations applied"));
    // Idempotent.
    assert_eq!(run(&["migrate"], &[("EDUGRAPH_DATABASE_URL", &url)]).0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_json_with_request_ids_and_no_secrets_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let metrics_port = free_port();
    let mut child = Command::new(BIN)
        .arg("serve")
        .env_clear()
        .env("EDUGRAPH_DATABASE_URL", format!("sqlite://{}/s.db", dir.path().display()))
        .env("EDUGRAPH_BIND", format!("127.0.0.1:{port}"))
        .env("EDUGRAPH_METRICS_BIND", format!("127.0.0.1:{metrics_port}"))
        .env("EDUGRAPH_TOKEN_KEY", TOKEN_KEY)
        .env("EDUGRAPH_CLIENT_ID", "cid")
        .env("EDUGRAPH_CLIENT_SECRET", CLIENT_SECRET)
        .env("EDUGRAPH_WORKERS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out_lines =
        std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>());
    let err_lines =
        std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<_>>());

    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{base}/readyz")).send().await.map(|r| r.status().as_u16()).ok() != Some(200) {
        assert!(started.elapsed() < Duration::from_secs(20), "server did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Register, fail a sign-in, sign in: the traffic whose secrets must not reach the logs.
    let csrf = http.get(format!("{base}/api/auth/csrf")).send().await.unwrap();
    let pre = csrf.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let token = csrf.json::<serde_json::Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_owned();
    let email = "secret.person@school.edu";
    let password = "a very private passphrase";
    let r = http
        .post(format!("{base}/api/auth/local/register"))
        .header("cookie", &pre)
        .header("x-csrf-token", &token)
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    // R-B3: registered, not signed in; the confirmation link goes out by mail.
    assert_eq!(r.status(), 202);
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{base}{path}")).header("cookie", &pre).header("x-csrf-token", &token).json(&body).send()
    };
    let r = http
        .post(format!("{base}/api/auth/local/login?email={email}"))
        .header("cookie", &pre)
        .header("x-csrf-token", &token)
        .json(&serde_json::json!({"email": email, "password": "wrong guess here"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The right password of the unconfirmed account: 403, and a new link is mailed.
    let r = post("/api/auth/local/login", serde_json::json!({"email": email, "password": password})).await.unwrap();
    assert_eq!(r.status(), 403);
    // Issue 17.5: a reset link is mailed off the request path; neither address nor token is logged.
    let r = post("/api/auth/password/forgot", serde_json::json!({"email": email})).await.unwrap();
    assert_eq!(r.status(), 202);
    let r = post(
        "/api/auth/password/reset",
        serde_json::json!({"token": "not-a-real-token-but-secret", "new_password": "another private passphrase"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(http.get(format!("{base}/api/me")).header("cookie", &pre).send().await.unwrap().status(), 401);
    // R-D8: /metrics answers on EDUGRAPH_METRICS_BIND only, not on the public port.
    assert_eq!(http.get(format!("{base}/metrics")).send().await.unwrap().status(), 404);
    let m = http.get(format!("http://127.0.0.1:{metrics_port}/metrics")).send().await.unwrap();
    assert_eq!(m.status(), 200);
    assert!(m.text().await.unwrap().contains("edugraph_http_requests_total"));
    assert_eq!(http.get(format!("http://127.0.0.1:{metrics_port}/api/me")).send().await.unwrap().status(), 404);

    // SIGTERM: graceful stop, exit 0.
    // The `kill` command, since unsafe code (libc::kill) is forbidden in the workspace.
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(35);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");

    let out = out_lines.join().unwrap();
    let err = err_lines.join().unwrap();
    let all = out.iter().chain(err.iter()).cloned().collect::<Vec<_>>().join("\n");
    for secret in [
        email,
        "secret.person",
        password,
        "wrong guess here",
        "not-a-real-token-but-secret",
        "another private passphrase",
        &token,
        CLIENT_SECRET,
        TOKEN_KEY,
    ] {
        assert!(!all.contains(secret), "log output contains {secret:?}:\n{all}");
    }
    // Every line on stdout is JSON; request lines carry a request id.
    let mut request_lines = 0;
    for line in &out {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        if v["fields"]["message"] == "request finished" {
            request_lines += 1;
            assert!(v["span"]["request_id"].as_str().is_some_and(|id| id.len() == 36), "{line}");
        }
    }
    assert!(request_lines >= 5, "{all}");
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The demo's token key (it encrypts cached Microsoft tokens) is readable by
/// its owner only (0600), also when an older demo left it with the default mode (R-A22: the
/// key is kept apart from the data and protected).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_writes_its_token_key_0600() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for round in 0..2 {
        let (port, emulator_port) = (free_port(), free_port());
        let mut child = Command::new(BIN)
            .args(["demo", "--port", &port.to_string(), "--emulator-port", &emulator_port.to_string(), "--data-dir"])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let http = reqwest::Client::new();
        let started = Instant::now();
        while http.get(format!("http://127.0.0.1:{port}/readyz")).send().await.map(|r| r.status().as_u16()).ok()
            != Some(200)
        {
            assert!(started.elapsed() < Duration::from_secs(60), "demo did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The demo keeps account mail in a browser-readable outbox (issue 17.5).
        let outbox = http.get(format!("http://127.0.0.1:{port}/api/demo/outbox")).send().await.unwrap();
        assert_eq!(outbox.status().as_u16(), 200);
        assert!(outbox.text().await.unwrap().contains("Demo outbox"));
        assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
        let _ = child.wait();
        let key = data.join("token.key");
        assert_eq!(mode(&key), 0o600, "round {round}");
        // An older demo's key, world-readable: tightened on the next start.
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
}

/// A busy port's error names the flag that changes it.
#[test]
fn a_busy_demo_port_names_the_flag_that_changes_it() {
    let dir = tempfile::tempdir().unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    let (code, _, err) =
        run(&["demo", "--port", &port, "--emulator-port", &free_port().to_string(), "--data-dir", data], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--port") && err.contains(&port), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let (code, _, err) =
        run(&["demo", "--port", &free_port().to_string(), "--emulator-port", &port, "--data-dir", data], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--emulator-port") && err.contains(&port), "{err}");
}

/// `edugraph demo` on free ports, started in `cwd` with `env`; answers once `/healthz` does.
#[cfg(feature = "demo")]
async fn start_demo(cwd: &std::path::Path, env: &[(&str, &str)]) -> (std::process::Child, String) {
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (port, emulator_port) = (free(), free());
    let child = Command::new(BIN)
        .args(["demo", "--port", &port.to_string(), "--emulator-port", &emulator_port.to_string()])
        .args(["--data-dir", &cwd.join("data").display().to_string()])
        .current_dir(cwd)
        .env_clear()
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while reqwest::get(format!("{base}/healthz")).await.map(|r| r.status().as_u16()).ok() != Some(200) {
        assert!(started.elapsed() < Duration::from_secs(60), "demo did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (child, base)
}

/// The app is inside the binary. The demo started from a directory that has no
/// `frontend/dist` serves the embedded `index.html` and its precompressed assets; a binary
/// built without the app (no frontend/dist at build time) answers `/` with 503
/// `frontend_not_built` instead.
#[cfg(feature = "demo")]
#[tokio::test]
async fn demo_started_from_an_unrelated_directory_serves_the_embedded_app() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = start_demo(dir.path(), &[]).await;
    let http = reqwest::Client::builder().no_gzip().build().unwrap();
    let r = http.get(format!("{base}/")).send().await.unwrap();
    let status = r.status().as_u16();
    let body = r.bytes().await.unwrap();
    let index = edu_webapp::FILES.iter().find(|(p, _)| *p == "index.html").map(|(_, b)| *b);
    match index {
        Some(index) => {
            assert_eq!(status, 200);
            assert_eq!(&body[..], index, "the embedded index.html");
            let (js, _) = edu_webapp::FILES
                .iter()
                .find(|(p, _)| p.starts_with("assets/index-") && p.ends_with(".js"))
                .expect("the build's entry script");
            let r =
                http.get(format!("{base}/{js}")).header("accept-encoding", "gzip, deflate, br").send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["vary"], "Accept-Encoding");
            assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
            let br = edu_webapp::FILES.iter().find(|(p, _)| *p == format!("{js}.br")).map(|(_, b)| *b);
            if let Some(br) = br {
                assert_eq!(r.headers()["content-encoding"], "br");
                assert_eq!(&r.bytes().await.unwrap()[..], br);
            }
        }
        None => {
            assert_eq!(status, 503);
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["error"]["code"], "frontend_not_built");
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `EDUGRAPH_STATIC_DIR` overrides the embedded app in demo mode too.
#[cfg(feature = "demo")]
#[tokio::test]
async fn demo_honours_edugraph_static_dir() {
    let dir = tempfile::tempdir().unwrap();
    let build = dir.path().join("build");
    std::fs::create_dir_all(&build).unwrap();
    std::fs::write(build.join("index.html"), "<!doctype html><title>override</title>").unwrap();
    let (mut child, base) = start_demo(dir.path(), &[("EDUGRAPH_STATIC_DIR", build.to_str().unwrap())]).await;
    let r = reqwest::get(format!("{base}/classes")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "<!doctype html><title>override</title>");
    child.kill().unwrap();
    child.wait().unwrap();
}

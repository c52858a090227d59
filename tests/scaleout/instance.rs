//! A real `edugraph serve` process, shared by the scale-out test and `bench-scaleout`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The same key on every instance: sessions are server-side, but the CSRF key and the token
/// encryption key are derived from it, so instances must share it.
pub const TOKEN_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// The `edugraph` binary next to this executable (`target/<profile>/edugraph`; test
/// binaries live one level down in `target/<profile>/deps`).
///
/// # Panics
/// When it is not there, with the command that builds it.
pub fn edugraph_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the running executable");
    let mut dir = exe.parent().expect("executable directory").to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    let bin = dir.join("edugraph");
    assert!(
        bin.is_file(),
        "{} is missing: these tests run the real binary. Build it first with \
         `cargo build -p edugraph` (same profile and CARGO_TARGET_DIR as the tests; \
         infra/scripts/test builds the whole workspace before testing).",
        bin.display()
    );
    bin
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("local address").port()
}

/// Runs `edugraph migrate` against `database_url`, as the deployment's migration Job does.
///
/// # Panics
/// When it cannot run or fails.
pub fn migrate(bin: &Path, database_url: &str) {
    let out = Command::new(bin)
        .arg("migrate")
        .env_clear()
        .env("EDUGRAPH_DATABASE_URL", database_url)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    assert!(out.status.success(), "edugraph migrate failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// One running `edugraph serve`; killed (SIGKILL) when dropped if still running.
pub struct Instance {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    child: Child,
}

impl Instance {
    /// Starts `edugraph serve` on a free port against `database_url`. Does not wait.
    ///
    /// # Panics
    /// When the process cannot be started.
    pub fn start(bin: &Path, database_url: &str, extra: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("EDUGRAPH_DATABASE_URL", database_url)
            .env("EDUGRAPH_BIND", format!("127.0.0.1:{port}"))
            .env("EDUGRAPH_METRICS_BIND", "127.0.0.1:0")
            .env("EDUGRAPH_PUBLIC_URL", "http://edugraph.test")
            .env("EDUGRAPH_TOKEN_KEY", TOKEN_KEY)
            .env("EDUGRAPH_CLIENT_ID", "scaleout")
            .env("EDUGRAPH_CLIENT_SECRET", "scaleout")
            .env("EDUGRAPH_LOGIN_IP_BURST", "1000000")
            .env("EDUGRAPH_LOGIN_IP_PER_MINUTE", "1000000")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        Self { address: format!("http://127.0.0.1:{port}"), child }
    }

    /// Waits until `/readyz` answers 200 (migrations applied, database reachable).
    ///
    /// # Panics
    /// When the process exits or is not ready within `limit`.
    pub async fn wait_ready(&mut self, limit: Duration) {
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("edugraph at {} exited before it was ready: {status}", self.address);
            }
            let ready = http.get(format!("{}/readyz", self.address)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(started.elapsed() < limit, "edugraph at {} not ready within {limit:?}", self.address);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM (graceful stop).
    ///
    /// # Panics
    /// When `kill` cannot be run.
    pub fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().expect("run kill");
        assert!(status.success(), "kill -TERM {} failed", self.pid());
    }

    /// Sends SIGKILL and reaps the process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit, up to `limit`; `None` if it is still running then.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        None
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}

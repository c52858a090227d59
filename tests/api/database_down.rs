//! The database goes away and comes back (issue 18 §5, R-C9): `/readyz` answers 503 within
//! 1 s (a Kubernetes probe with a 2 s timeout sees a 503, not a timeout), API requests fail
//! within 2 s with 503 `database_unavailable` instead of waiting the pool's old 10 s, and
//! everything recovers by itself. MariaDB only: the app reaches it through a TCP proxy of this
//! test that can refuse connections, as a restarting server does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use edu_tests::{TestApp, mysql_only};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

mysql_only!(while_the_database_is_down_requests_fail_fast_with_503_and_recover_by_themselves);

/// A TCP proxy in front of MariaDB: `down()` closes every connection and refuses new ones;
/// `hang()` closes every connection and accepts new ones that never answer (a server that is
/// unreachable rather than refusing).
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    hang: Arc<AtomicBool>,
    held: Arc<Mutex<Vec<TcpStream>>>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let hang = Arc::new(AtomicBool::new(false));
        let held: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (up2, hang2, held2, conns2) = (up.clone(), hang.clone(), held.clone(), conns.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { return };
                if hang2.load(Ordering::SeqCst) {
                    held2.lock().unwrap().push(inbound); // open, silent
                    continue;
                }
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound); // refused: the client sees the connection closed at once
                    continue;
                }
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                conns2.lock().unwrap().push(task);
            }
        });
        Self { port, up, hang, held, conns, accept }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn hang(&self) {
        self.hang.store(true, Ordering::SeqCst);
        self.down();
    }

    fn up(&self) {
        self.hang.store(false, Ordering::SeqCst);
        self.held.lock().unwrap().clear();
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.down();
        self.accept.abort();
    }
}

/// `mysql://user@host:port/db?…` with the host and port replaced by `127.0.0.1:{port}`;
/// returns the new URL and the old `host:port`.
fn through(url: &str, port: u16) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h.to_owned()),
        None => (String::new(), authority.to_owned()),
    };
    let hostport = if hostport.contains(':') { hostport } else { format!("{hostport}:3306") };
    (format!("{scheme}://{userinfo}127.0.0.1:{port}/{path}"), hostport)
}

async fn while_the_database_is_down_requests_fail_fast_with_503_and_recover_by_themselves() {
    let (db, url) = edu_tests::TestDatabase::create(edu_tests::Backend::MySql).await;
    let (_, target) = through(&url, 0);
    let proxy = Proxy::start(target).await;
    let (proxied, _) = through(&url, proxy.port);
    let app = TestApp::spawn_on(db, &proxied, |_| {}).await;
    let c = app.registered("ann@school.edu", "correct horse battery").await;
    assert_eq!(c.get("/api/me").await.status, 200);

    for (how, stop) in [("refusing", Proxy::down as fn(&Proxy)), ("silent", Proxy::hang)] {
        stop(&proxy);
        for _ in 0..3 {
            let started = Instant::now();
            let r = c.get("/readyz").await;
            let readyz = started.elapsed();
            assert_eq!((r.status, r.code()), (503, "database_unavailable"), "{how}: {}", r.text);
            assert!(readyz < Duration::from_secs(1), "{how}: /readyz answered after {readyz:?}");

            let started = Instant::now();
            let r = c.get("/api/me").await;
            let api = started.elapsed();
            assert_eq!((r.status, r.code()), (503, "database_unavailable"), "{how}: {}", r.text);
            assert!(api < Duration::from_secs(2), "{how}: an API request waited {api:?}");
            println!("database down ({how}): /readyz answered in {readyz:?}, an API request in {api:?}");
        }
        proxy.up();
        wait_until_recovered(&c).await;
    }
}

async fn wait_until_recovered(c: &edu_tests::Client) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = c.get("/api/me").await;
        if r.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "not recovered: {} {}", r.status, r.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(c.get("/readyz").await.status, 200);
}

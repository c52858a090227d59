//! Test support: a tiny HTTP/1.1 server on 127.0.0.1 (one request per
//! connection, `Connection: close`) and a sleeper that records delays.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // test-only helper code

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use edu_msgraph::{GraphSettings, Sleeper};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
    pub fn form(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_bytes(&self.body).expect("form body")
    }
    pub fn form_value(&self, key: &str) -> Option<String> {
        self.form().into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(status: u16, value: serde_json::Value) -> Self {
        Resp {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: serde_json::to_vec(&value).unwrap(),
        }
    }
    pub fn raw_json(status: u16, body: &str) -> Self {
        Resp {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }
    pub fn empty(status: u16) -> Self {
        Resp { status, headers: vec![], body: vec![] }
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }
}

pub type Handler = Arc<dyn Fn(Req) -> Pin<Box<dyn Future<Output = Resp> + Send>> + Send + Sync + 'static>;

pub struct TestServer {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<Req>>>,
}

impl TestServer {
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn graph_base(&self) -> String {
        format!("http://{}/graph", self.addr)
    }
    pub fn requests(&self) -> Vec<Req> {
        self.requests.lock().unwrap().clone()
    }
    pub fn count(&self, path_prefix: &str) -> usize {
        self.requests().iter().filter(|r| r.path().starts_with(path_prefix)).count()
    }
    /// Settings pointing at this server, realistic backoff values (the
    /// recording sleeper makes them instant).
    pub fn settings(&self) -> GraphSettings {
        let mut s = GraphSettings::new(self.graph_base(), format!("{}/auth", self.base()), "app-id");
        s.timeout = Duration::from_secs(5);
        s.connect_timeout = Duration::from_secs(2);
        s
    }
}

pub async fn serve<F, Fut>(handler: F) -> TestServer
where
    F: Fn(Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Resp> + Send + 'static,
{
    let handler: Handler = Arc::new(move |r| Box::pin(handler(r)));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let reqs = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let reqs = reqs.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                let Some(req) = read_request(&mut reader).await else {
                    return;
                };
                reqs.lock().unwrap().push(req.clone());
                let resp = handler(req).await;
                let mut out = format!("HTTP/1.1 {} X\r\n", resp.status);
                for (k, v) in &resp.headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", resp.body.len()));
                let mut bytes = out.into_bytes();
                bytes.extend_from_slice(&resp.body);
                let _ = write.write_all(&bytes).await;
                let _ = write.shutdown().await;
            });
        }
    });
    TestServer { addr, requests }
}

async fn read_request<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> Option<Req> {
    let mut line = String::new();
    reader.read_line(&mut line).await.ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).await.ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let get =
        |n: &str| headers.iter().find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if let Some(len) = get("content-length") {
        let len: usize = len.parse().ok()?;
        body.resize(len, 0);
        reader.read_exact(&mut body).await.ok()?;
    } else if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).await.ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Some(Req { method, target, headers, body })
}

/// Records every requested delay and sleeps only 1 ms.
#[derive(Default)]
pub struct RecordingSleeper {
    pub delays: Mutex<Vec<Duration>>,
}

impl RecordingSleeper {
    pub fn delays(&self) -> Vec<Duration> {
        self.delays.lock().unwrap().clone()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        self.delays.lock().unwrap().push(duration);
        Box::pin(tokio::time::sleep(Duration::from_millis(1)))
    }
}

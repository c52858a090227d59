//! `ms-emulator`: run the Microsoft identity platform + Graph emulator standalone.

use clap::Parser;
use edu_ms_emulator::{EmulatorConfig, Seed};
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(name = "ms-emulator", about = "Local emulator of login.microsoftonline.com (v2.0) and Microsoft Graph v1.0")]
struct Args {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:8400")]
    bind: std::net::SocketAddr,
    /// demo | empty
    #[arg(long, default_value = "demo")]
    seed: String,
    /// Add a large tenant with about N users (implies the demo seed).
    #[arg(long)]
    users: Option<usize>,
    /// Access-token lifetime in seconds (default: random 60-90 minutes).
    #[arg(long)]
    token_lifetime: Option<u64>,
    /// Run the benchmark (seed time for --users, default 100000; Graph GETs/s on one worker) and exit.
    #[arg(long)]
    bench: bool,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.bench {
        return bench(args.users.unwrap_or(100_000)).await;
    }
    let seed = match (args.seed.as_str(), args.users) {
        (_, Some(n)) => Seed::Large { users: n },
        ("empty", None) => Seed::Empty,
        ("demo", None) => Seed::Demo,
        (other, None) => anyhow::bail!("unknown seed '{other}' (demo|empty)"),
    };
    let emu = edu_ms_emulator::start(EmulatorConfig {
        bind: args.bind,
        seed,
        token_lifetime: args.token_lifetime.map(Duration::from_secs),
        ..Default::default()
    })
    .await?;
    let demo = emu.demo();
    println!("ms-emulator listening on {}", emu.base_url());
    println!("  authority (EDUGRAPH_MS_AUTHORITY): {}", emu.base_url());
    println!("  graph     (EDUGRAPH_GRAPH_URL):    {}", emu.graph_url());
    println!("  admin API:                         {}", emu.admin_url());
    if !demo.app_client_id.is_empty() {
        println!("  demo app: client_id={} client_secret={}", demo.app_client_id, demo.app_client_secret);
        for t in &demo.tenants {
            println!(
                "  tenant {} ({}) consented={} admin={} / {}",
                t.display_name, t.id, t.consented, t.admin.upn, t.admin.password
            );
            if let (Some(te), Some(s)) = (t.teachers.first(), t.students.first()) {
                println!("    teacher {} / {}   student {} / {}", te.upn, te.password, s.upn, s.password);
            }
        }
    }
    // Stop on Ctrl+C or SIGTERM (the signal a container runtime sends).
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    emu.stop().await;
    Ok(())
}

async fn bench(users: usize) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let emu = edu_ms_emulator::start(EmulatorConfig { seed: Seed::Large { users }, workers: 1, ..Default::default() })
        .await?;
    let seed_time = t0.elapsed();
    println!("seeded demo district + a {users}-user tenant in {:.2} s", seed_time.as_secs_f64());
    let demo = emu.demo();
    let big = demo.tenants.last().ok_or_else(|| anyhow::anyhow!("no tenant"))?;
    let client = reqwest_free::Client::new(&emu.base_url());
    let token = client.app_token(&big.id, &demo.app_client_id, &demo.app_client_secret).await?;
    let user = big.students.first().map(|u| u.id.clone()).unwrap_or_default();
    let path = format!("/graph/v1.0/users/{user}");
    let n = 20_000usize;
    let conc = 16usize;
    let t1 = Instant::now();
    let mut tasks = vec![];
    for _ in 0..conc {
        let c = client.clone();
        let (p, tok) = (path.clone(), token.clone());
        tasks.push(tokio::spawn(async move { c.get_loop(&p, &tok, n / conc).await }));
    }
    let mut ok = 0usize;
    for t in tasks {
        ok += t.await??;
    }
    let secs = t1.elapsed().as_secs_f64();
    println!(
        "{ok} GET /v1.0/users/{{id}} on 1 server worker, {conc} concurrent keep-alive connections: {:.0} req/s",
        ok as f64 / secs
    );
    let t2 = Instant::now();
    let mut pages = 0usize;
    let mut next = Some("/graph/v1.0/users?$top=999&$select=id,displayName".to_string());
    while let Some(p) = next.take() {
        let body = client.get_json(&p, &token).await?;
        pages += 1;
        next = body
            .get("@odata.nextLink")
            .and_then(|v| v.as_str())
            .map(|s| s.trim_start_matches(&emu.base_url()).to_string());
    }
    println!(
        "listed all users of the large tenant with $top=999: {pages} pages in {:.2} s",
        t2.elapsed().as_secs_f64()
    );
    let t3 = Instant::now();
    let (mut pages, mut items) = (0usize, 0usize);
    let mut next = Some("/graph/v1.0/users/delta?$select=displayName,userPrincipalName".to_string());
    while let Some(p) = next.take() {
        let body = client.get_json(&p, &token).await?;
        pages += 1;
        items += body.get("value").and_then(|v| v.as_array()).map(Vec::len).unwrap_or(0);
        next = body
            .get("@odata.nextLink")
            .and_then(|v| v.as_str())
            .map(|s| s.trim_start_matches(&emu.base_url()).to_string());
    }
    println!(
        "initial /users/delta sync of the large tenant: {items} users, {pages} pages in {:.2} s",
        t3.elapsed().as_secs_f64()
    );
    emu.stop().await;
    Ok(())
}

/// Minimal HTTP/1.1 client over tokio (keeps the binary free of an HTTP-client dependency).
mod reqwest_free {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpStream;

    #[derive(Clone)]
    pub struct Client {
        host: String,
    }

    impl Client {
        pub fn new(base: &str) -> Client {
            Client { host: base.trim_start_matches("http://").to_string() }
        }

        async fn request(
            &self,
            stream: &mut BufReader<TcpStream>,
            method: &str,
            path: &str,
            headers: &str,
            body: &[u8],
        ) -> anyhow::Result<(u16, Vec<u8>)> {
            let req = format!(
                "{method} {path} HTTP/1.1\r\nHost: {}\r\n{headers}Content-Length: {}\r\n\r\n",
                self.host,
                body.len()
            );
            stream.get_mut().write_all(req.as_bytes()).await?;
            stream.get_mut().write_all(body).await?;
            let mut line = String::new();
            stream.read_line(&mut line).await?;
            let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
            let mut len = 0usize;
            loop {
                line.clear();
                stream.read_line(&mut line).await?;
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':')
                    && k.eq_ignore_ascii_case("content-length")
                {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut buf = vec![0u8; len];
            stream.read_exact(&mut buf).await?;
            Ok((status, buf))
        }

        async fn connect(&self) -> anyhow::Result<BufReader<TcpStream>> {
            Ok(BufReader::new(TcpStream::connect(&self.host).await?))
        }

        pub async fn app_token(&self, tenant: &str, client_id: &str, secret: &str) -> anyhow::Result<String> {
            let mut s = self.connect().await?;
            let body = format!(
                "grant_type=client_credentials&client_id={client_id}&client_secret={secret}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
            );
            let (st, b) = self
                .request(
                    &mut s,
                    "POST",
                    &format!("/{tenant}/oauth2/v2.0/token"),
                    "Content-Type: application/x-www-form-urlencoded\r\n",
                    body.as_bytes(),
                )
                .await?;
            let v: serde_json::Value = serde_json::from_slice(&b)?;
            v.get("access_token")
                .and_then(|t| t.as_str())
                .map(str::to_string)
                .ok_or_else(|| anyhow::anyhow!("token request failed ({st}): {v}"))
        }

        pub async fn get_loop(&self, path: &str, token: &str, n: usize) -> anyhow::Result<usize> {
            let mut s = self.connect().await?;
            let h = format!("Authorization: Bearer {token}\r\n");
            let mut ok = 0;
            for _ in 0..n {
                let (st, _) = self.request(&mut s, "GET", path, &h, b"").await?;
                if st == 200 {
                    ok += 1;
                }
            }
            Ok(ok)
        }

        pub async fn get_json(&self, path: &str, token: &str) -> anyhow::Result<serde_json::Value> {
            let mut s = self.connect().await?;
            let (_, b) = self
                .request(&mut s, "GET", &path.replace(' ', "%20"), &format!("Authorization: Bearer {token}\r\n"), b"")
                .await?;
            Ok(serde_json::from_slice(&b)?)
        }
    }
}

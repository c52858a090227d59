//! Serving the built single-page app: `index.html` for client-side routes with a
//! strict CSP and `no-cache`, immutable hashed assets, the JSON 404 kept for the API, no path
//! traversal, and a clear 503 at `/` when the frontend is not built.

use std::io::{Read as _, Write as _};
use std::path::Path;

use edu_tests::{Backend, TestApp, both_backends};

both_backends!(
    index_html_answers_root_and_client_routes_with_a_strict_csp,
    index_html_revalidates_with_its_etag,
    hashed_assets_are_immutable_and_typed,
    a_missing_asset_is_a_json_404_not_the_page,
    api_auth_and_operations_paths_are_not_the_spa,
    path_traversal_cannot_leave_the_static_dir,
    a_missing_build_answers_a_clear_503,
    precompressed_variants_are_served_with_content_encoding_and_vary,
);

const INDEX: &str = "<!doctype html><html><head><script type=\"module\" src=\"/assets/index-Ab12Cd34.js\"></script>\
                     </head><body><div id=\"root\"></div></body></html>";
const JS: &str = "console.log('edugraph')";
const SECRET: &str = "TOP-SECRET-OUTSIDE-THE-BUILD";
const EXPECTED_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                            connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
                            form-action 'self'";

/// `<tmp>/secret.txt` and the build in `<tmp>/dist` (`index.html`, `favicon.svg`, `assets/…`,
/// and a symbolic link in `assets/` that points at the secret).
fn fake_build() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dist = tmp.path().join("dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(tmp.path().join("secret.txt"), SECRET).unwrap();
    std::fs::write(dist.join("index.html"), INDEX).unwrap();
    std::fs::write(dist.join("favicon.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
    std::fs::write(dist.join("assets/index-Ab12Cd34.js"), JS).unwrap();
    std::fs::write(dist.join("assets/index-Ef56Gh78.css"), "body{margin:0}").unwrap();
    std::os::unix::fs::symlink(tmp.path().join("secret.txt"), dist.join("assets/link.txt")).unwrap();
    tmp
}

async fn spawn_serving(backend: Backend, dir: &Path) -> TestApp {
    let dir = dir.display().to_string();
    TestApp::spawn_with(backend, |v| {
        v.insert("EDUGRAPH_STATIC_DIR".into(), dir);
    })
    .await
}

async fn index_html_answers_root_and_client_routes_with_a_strict_csp(backend: Backend) {
    let build = fake_build();
    let app = spawn_serving(backend, &build.path().join("dist")).await;
    let c = app.client();
    for path in ["/", "/register", "/me/password", "/some/deep/route", "/signin?next=%2F"] {
        let r = c.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.text, INDEX, "{path}");
        assert_eq!(r.header("content-type").as_deref(), Some("text/html; charset=utf-8"), "{path}");
        assert_eq!(r.header("cache-control").as_deref(), Some("no-cache"), "{path}");
        assert_eq!(r.header("content-security-policy").as_deref(), Some(EXPECTED_CSP), "{path}");
        let csp = r.header("content-security-policy").unwrap();
        assert!(!csp.contains("unsafe"), "{csp}");
        // The usual headers are still there.
        assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
    }
    let head = c.send(reqwest::Method::HEAD, "/register", edu_tests::Body::None, &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.text.is_empty());
}

async fn index_html_revalidates_with_its_etag(backend: Backend) {
    let build = fake_build();
    let app = spawn_serving(backend, &build.path().join("dist")).await;
    let c = app.client();
    let first = c.get("/").await;
    let etag = first.header("etag").unwrap();
    let again = c.send(reqwest::Method::GET, "/", edu_tests::Body::None, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert!(again.text.is_empty());
    // A new build changes the tag.
    std::fs::write(build.path().join("dist/index.html"), format!("{INDEX}<!-- new -->")).unwrap();
    let changed = c.send(reqwest::Method::GET, "/", edu_tests::Body::None, &[("if-none-match", &etag)]).await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("etag").unwrap(), etag);
}

async fn hashed_assets_are_immutable_and_typed(backend: Backend) {
    let build = fake_build();
    let app = spawn_serving(backend, &build.path().join("dist")).await;
    let c = app.client();
    let js = c.get("/assets/index-Ab12Cd34.js").await;
    assert_eq!(js.status, 200);
    assert_eq!(js.text, JS);
    assert_eq!(js.header("content-type").as_deref(), Some("text/javascript; charset=utf-8"));
    assert_eq!(js.header("cache-control").as_deref(), Some("public, max-age=31536000, immutable"));
    let css = c.get("/assets/index-Ef56Gh78.css").await;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type").as_deref(), Some("text/css; charset=utf-8"));
    assert_eq!(css.header("cache-control").as_deref(), Some("public, max-age=31536000, immutable"));
    // Unhashed files at the top of the build are revalidated.
    let icon = c.get("/favicon.svg").await;
    assert_eq!(icon.status, 200);
    assert_eq!(icon.header("content-type").as_deref(), Some("image/svg+xml"));
    assert_eq!(icon.header("cache-control").as_deref(), Some("no-cache"));
}

async fn a_missing_asset_is_a_json_404_not_the_page(backend: Backend) {
    let build = fake_build();
    let app = spawn_serving(backend, &build.path().join("dist")).await;
    let c = app.client();
    for path in ["/assets/index-OLDHASH.js", "/assets/", "/assets/nested/none.css"] {
        let r = c.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.code(), "not_found", "{path}");
        assert!(!r.text.contains("<html"), "{path}");
    }
}

async fn api_auth_and_operations_paths_are_not_the_spa(backend: Backend) {
    let build = fake_build();
    let app = spawn_serving(backend, &build.path().join("dist")).await;
    let c = app.client();
    // `/api/demo/outbox` (account mail kept in memory) exists only under `edugraph demo`:
    // a server without SMTP never shows its mail to whoever asks (issue 17.5).
    for path in ["/api/nope", "/api", "/api/", "/auth/nope", "/auth", "/api/demo/outbox"] {
        let r = c.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.code(), "not_found", "{path}");
        let csp = r.header("content-security-policy").unwrap();
        assert!(csp.starts_with("default-src 'none'"), "{path}: the API's CSP, got {csp}");
    }
    assert_eq!(c.get("/healthz").await.body["status"], "ok");
    assert_eq!(c.get("/api/me").await.code(), "unauthenticated");
    assert!(c.get("/api/openapi.json").await.body["openapi"].is_string());
    assert_eq!(c.get("/api/auth/csrf").await.status, 200);
    // State-changing methods on SPA paths are not the page either.
    let post = c.post("/register", serde_json::json!({})).await;
    assert_ne!(post.status, 200);
    assert!(!post.text.contains("<html"));
}

/// Sends a request line byte for byte (HTTP clients normalise `..` away).
fn raw_get(port: u16, target: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

async fn path_traversal_cannot_leave_the_static_dir(backend: Backend) {
    let build = fake_build();
    let app = spawn_serving(backend, &build.path().join("dist")).await;
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let targets = [
        "/assets/../secret.txt",
        "/assets/../../secret.txt",
        "/assets/%2e%2e/secret.txt",
        "/assets/%2E%2E%2F..%2Fsecret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/assets/..\\..\\secret.txt",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/assets//etc/passwd",
        "/assets/link.txt",
        "//etc/passwd",
        "/secret.txt",
    ];
    for target in targets {
        let raw = tokio::task::spawn_blocking({
            let target = target.to_owned();
            move || raw_get(port, &target)
        })
        .await
        .unwrap();
        let status_line = raw.lines().next().unwrap_or_default().to_owned();
        assert!(!raw.contains(SECRET), "{target} leaked the file outside the build: {status_line}");
        assert!(!raw.contains("root:"), "{target} leaked /etc/passwd");
        // Either refused, or the app's own page for a client-side route.
        assert!(
            status_line.contains(" 404 ") || status_line.contains(" 400 ") || raw.contains(INDEX),
            "{target}: {status_line}"
        );
        if target.starts_with("/assets/") {
            assert!(!status_line.contains(" 200 "), "{target}: {status_line}");
        }
    }
}

async fn a_missing_build_answers_a_clear_503(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    // No directory at all, and a directory without index.html.
    for dir in [tmp.path().join("not-there"), tmp.path().to_owned()] {
        let app = spawn_serving(backend, &dir).await;
        let c = app.client();
        // `/` explains; client-side routes keep the JSON 404 they had before the SPA, with the hint.
        for (path, status, code) in [("/", 503, "frontend_not_built"), ("/register", 404, "not_found")] {
            let r = c.get(path).await;
            assert_eq!(r.status, status, "{path}");
            assert_eq!(r.code(), code, "{path}");
            let message = r.body["error"]["message"].as_str().unwrap();
            assert!(message.contains("npm run build") && message.contains("EDUGRAPH_STATIC_DIR"), "{message}");
        }
        assert_eq!(c.get("/assets/index-Ab12Cd34.js").await.status, 404);
        assert_eq!(c.get("/healthz").await.status, 200, "the API runs without a frontend");
        assert_eq!(c.get("/api/me").await.code(), "unauthenticated");
        app.stop().await;
    }
}

/// Issue 18: the build's `.br` / `.gz` variants go to clients that accept them, with
/// `Content-Encoding`, `Vary: Accept-Encoding`, the original media type and the immutable
/// cache policy; others get the file as is; `q=0` refuses an encoding.
async fn precompressed_variants_are_served_with_content_encoding_and_vary(backend: Backend) {
    let build = fake_build();
    let dist = build.path().join("dist");
    std::fs::write(dist.join("assets/index-Ab12Cd34.js.br"), "BROTLI-BYTES").unwrap();
    std::fs::write(dist.join("assets/index-Ab12Cd34.js.gz"), "GZIP-BYTES").unwrap();
    std::fs::write(dist.join("assets/index-Ef56Gh78.css.gz"), "GZIP-CSS").unwrap();
    let app = spawn_serving(backend, &dist).await;
    let c = app.client();
    let cases = [
        ("/assets/index-Ab12Cd34.js", "gzip, deflate, br, zstd", Some("br"), "BROTLI-BYTES"),
        ("/assets/index-Ab12Cd34.js", "gzip, deflate", Some("gzip"), "GZIP-BYTES"),
        ("/assets/index-Ab12Cd34.js", "br;q=0.5, gzip", Some("gzip"), "GZIP-BYTES"),
        ("/assets/index-Ab12Cd34.js", "br;q=0, gzip;q=0", None, JS),
        ("/assets/index-Ab12Cd34.js", "identity", None, JS),
        // Only a .gz variant: a brotli-only client gets the file as is.
        ("/assets/index-Ef56Gh78.css", "br", None, "body{margin:0}"),
        ("/assets/index-Ef56Gh78.css", "br, gzip", Some("gzip"), "GZIP-CSS"),
    ];
    for (path, accept, encoding, body) in cases {
        let r = c.send(reqwest::Method::GET, path, edu_tests::Body::None, &[("accept-encoding", accept)]).await;
        assert_eq!(r.status, 200, "{path} {accept}");
        assert_eq!(r.header("content-encoding").as_deref(), encoding, "{path} {accept}");
        assert_eq!(r.text, body, "{path} {accept}");
        assert_eq!(r.header("vary").as_deref(), Some("Accept-Encoding"), "{path} {accept}");
        assert_eq!(r.header("cache-control").as_deref(), Some("public, max-age=31536000, immutable"));
        let media = if path.ends_with(".js") { "text/javascript; charset=utf-8" } else { "text/css; charset=utf-8" };
        assert_eq!(r.header("content-type").as_deref(), Some(media), "{path} {accept}");
    }
}

//! Serving the built single-page app from `EDUGRAPH_STATIC_DIR` (default
//! `frontend/dist`, relative to the working directory).
//!
//! - `/assets/…`: Vite's content-hashed files, `Cache-Control: public, max-age=31536000, immutable`.
//!   A missing asset is a JSON 404, never `index.html` (a stale tab must not run HTML as a script).
//! - Files at the top of the build (`/favicon.svg`): `Cache-Control: no-cache`.
//! - Every other GET/HEAD outside `/api`, `/auth` and the operations endpoints (client-side
//!   routes such as `/register`): `index.html`, `Cache-Control: no-cache`, an `ETag`, and the
//!   SPA's strict CSP ([`SPA_CSP`]; the app has no inline script or style, so it needs no
//!   nonce). Setting the CSP here makes `security_headers` keep it instead of the API's.
//! - No build: `/` answers a JSON 503 `frontend_not_built` saying how to build it; other paths
//!   keep the JSON 404 `not_found` (with the same hint), as before the SPA existed.
//!
//! Paths are checked segment by segment against a small alphabet before touching the file
//! system (no `..`, no percent-escapes, no hidden files), and the resolved file must still be
//! inside the directory, so nothing outside it can be read.

use std::path::{Path, PathBuf};

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError as _, guard, web};
use sha2::{Digest as _, Sha256};

use crate::error::{ApiError, ErrorBody, ErrorCode, ErrorDetail};
use crate::state::AppState;

/// The SPA's Content-Security-Policy (R-A19): only our own files, no inline code.
pub const SPA_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                           connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
                           form-action 'self'";
/// Hashed assets never change under their name.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `index.html` and other unhashed files: revalidate every time.
const NO_CACHE: &str = "no-cache";

/// Registers the SPA catch-all. Register it last: it matches every path its guard accepts.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/{spa_path:.*}")
            .name("spa")
            .guard(guard::fn_guard(|ctx| {
                matches!(ctx.head().method, Method::GET | Method::HEAD) && is_spa_path(ctx.head().uri.path())
            }))
            .to(serve),
    );
}

/// Whether a path belongs to the SPA (and not to the API, the sign-in redirects or operations).
#[must_use]
pub fn is_spa_path(path: &str) -> bool {
    const RESERVED: [&str; 5] = ["/api", "/auth", "/healthz", "/readyz", "/metrics"];
    !RESERVED.iter().any(|r| path == *r || path.strip_prefix(r).is_some_and(|rest| rest.starts_with('/')))
}

/// The relative file path a request path names, if it is safe to look up: non-empty segments
/// of `[A-Za-z0-9._-]` that do not start with a dot. Anything else (`..`, `%2e`, `\`, `//`,
/// hidden files) is refused.
#[must_use]
pub fn safe_relative_path(path: &str) -> Option<PathBuf> {
    let rest = path.strip_prefix('/')?;
    if rest.is_empty() {
        return None;
    }
    let mut out = PathBuf::new();
    for seg in rest.split('/') {
        let ok = !seg.is_empty()
            && !seg.starts_with('.')
            && seg.len() <= 255
            && seg.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !ok {
            return None;
        }
        out.push(seg);
    }
    Some(out)
}

async fn serve(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let root = state.config.static_dir.clone();
    let path = req.path().to_owned();
    if path.starts_with("/assets/") {
        return match read_inside(&root, &path).await {
            Some((bytes, file)) => file_response(bytes, &file, IMMUTABLE),
            None => not_found(),
        };
    }
    // A file at the top of the build (favicon, robots.txt); client-side routes have no dot.
    if path.len() > 1
        && !path[1..].contains('/')
        && path.contains('.')
        && let Some((bytes, file)) = read_inside(&root, &path).await
        && file.file_name().is_some_and(|n| n != "index.html")
    {
        return file_response(bytes, &file, NO_CACHE);
    }
    index(&req, &root).await
}

async fn index(req: &HttpRequest, root: &Path) -> HttpResponse {
    let index = root.join("index.html");
    let Some(bytes) = read_file(index).await else {
        return not_built(root, req.path() == "/");
    };
    let digest = Sha256::digest(&bytes);
    let etag = format!("\"{}\"", digest.iter().take(12).map(|b| format!("{b:02x}")).collect::<String>());
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::CACHE_CONTROL, NO_CACHE))
        .insert_header((header::CONTENT_SECURITY_POLICY, SPA_CSP))
        .insert_header((header::ETAG, etag));
    if fresh {
        return res.finish();
    }
    res.content_type("text/html; charset=utf-8").body(bytes)
}

/// Reads `root` + the request path when the path is safe and the file is a regular file
/// inside `root` (symbolic links pointing outside are refused too).
async fn read_inside(root: &Path, request_path: &str) -> Option<(Vec<u8>, PathBuf)> {
    let rel = safe_relative_path(request_path)?;
    let root = root.to_owned();
    web::block(move || {
        let root = root.canonicalize().ok()?;
        let file = root.join(rel).canonicalize().ok()?;
        if !file.starts_with(&root) || !file.is_file() {
            return None;
        }
        let bytes = std::fs::read(&file).ok()?;
        Some((bytes, file))
    })
    .await
    .ok()
    .flatten()
}

async fn read_file(path: PathBuf) -> Option<Vec<u8>> {
    web::block(move || std::fs::read(path).ok()).await.ok().flatten()
}

fn file_response(bytes: Vec<u8>, file: &Path, cache: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::CONTENT_TYPE, content_type(file)))
        .body(bytes)
}

/// The media type of a built file (`nosniff` is on, so it must be right).
#[must_use]
pub fn content_type(file: &Path) -> &'static str {
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn not_found() -> HttpResponse {
    ApiError::not_found(ErrorCode::NotFound, "There is nothing at this address.").error_response()
}

/// No build: `/` answers 503 `frontend_not_built`; other paths keep the usual JSON 404
/// (`not_found`), both saying how to build the app.
fn not_built(root: &Path, is_root: bool) -> HttpResponse {
    let how = format!(
        "The web app is not built: {} has no index.html. Build it with `cd frontend && npm ci && npm run build` \
         (or run infra/scripts/demo, which does), or point EDUGRAPH_STATIC_DIR at a build. The API under /api works.",
        root.display()
    );
    let (status, code, message) = if is_root {
        tracing::warn!(static_dir = %root.display(), "the frontend is not built; / answers 503");
        (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::FrontendNotBuilt, how)
    } else {
        (StatusCode::NOT_FOUND, ErrorCode::NotFound, format!("There is nothing at this address. {how}"))
    };
    let body = ErrorBody { error: ErrorDetail { code, message, graph: None, continue_url: None } };
    HttpResponse::build(status).insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store"))).json(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_auth_and_operations_paths_are_not_the_spas() {
        for p in ["/api", "/api/", "/api/nope", "/auth", "/auth/microsoft/login", "/healthz", "/metrics", "/readyz/x"] {
            assert!(!is_spa_path(p), "{p}");
        }
        for p in ["/", "/register", "/apis", "/authors", "/assets/app.js", "/me/password"] {
            assert!(is_spa_path(p), "{p}");
        }
    }

    #[test]
    fn only_plain_segments_make_a_file_path() {
        assert_eq!(safe_relative_path("/assets/index-AbC_1.js"), Some(PathBuf::from("assets/index-AbC_1.js")));
        for bad in [
            "/",
            "",
            "/assets/../Cargo.toml",
            "/assets/%2e%2e/x",
            "/assets//x",
            "/assets/.env",
            "/assets/a\\b",
            "/assets/..",
            "/assets/x/",
            "/assets/a b",
        ] {
            assert_eq!(safe_relative_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn built_files_get_their_media_type() {
        assert_eq!(content_type(Path::new("a/x.JS")), "text/javascript; charset=utf-8");
        assert_eq!(content_type(Path::new("x.css")), "text/css; charset=utf-8");
        assert_eq!(content_type(Path::new("x")), "application/octet-stream");
    }
}

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
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, ResponseError as _, guard, web};
use sha2::{Digest as _, Sha256};

use crate::config::{Config, EmbeddedApp};
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

/// Where the built app comes from: `EDUGRAPH_STATIC_DIR`, else the copy embedded in the
/// binary, else `frontend/dist` relative to the working directory (a binary built without the
/// app, run from a checkout).
#[derive(Clone)]
enum Source {
    Dir(PathBuf),
    Embedded(EmbeddedApp),
}

impl Source {
    fn of(config: &Config) -> Self {
        match &config.static_dir {
            Some(dir) => Self::Dir(dir.clone()),
            None if config.embedded_app.is_built() => Self::Embedded(config.embedded_app),
            None => Self::Dir(PathBuf::from("frontend/dist")),
        }
    }

    /// The bytes of a request path (already checked by [`safe_relative_path`]).
    async fn read(&self, rel: &Path) -> Option<Bytes> {
        match self {
            Self::Embedded(app) => app.get(rel.to_str()?).map(Bytes::from_static),
            Self::Dir(root) => read_inside(root, rel).await.map(Bytes::from),
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Dir(root) => root.display().to_string(),
            Self::Embedded(_) => "the embedded app".to_owned(),
        }
    }
}

async fn serve(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let source = Source::of(&state.config);
    let path = req.path().to_owned();
    if path.starts_with("/assets/") {
        return match file(&req, &source, &path).await {
            Some(res) => res(IMMUTABLE),
            None => not_found(),
        };
    }
    // A file at the top of the build (favicon, robots.txt); client-side routes have no dot.
    if path.len() > 1
        && !path[1..].contains('/')
        && path.contains('.')
        && path != "/index.html"
        && let Some(res) = file(&req, &source, &path).await
    {
        return res(NO_CACHE);
    }
    index(&req, &source).await
}

/// The encodings the client accepts, best first, among the precompressed variants the build
/// carries (`.br`, `.gz`): `Accept-Encoding` with q-values, `q=0` refusing.
#[must_use]
pub fn accepted_encodings(accept_encoding: Option<&str>) -> Vec<(&'static str, &'static str)> {
    let Some(header) = accept_encoding else { return Vec::new() };
    let mut found: Vec<(&'static str, &'static str, u16)> = Vec::new();
    for item in header.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q=").map(str::trim))
            .map_or(1000, |v| v.parse::<f32>().map_or(0, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16));
        let variant = match name.as_str() {
            "br" => ("br", ".br"),
            "gzip" | "x-gzip" => ("gzip", ".gz"),
            _ => continue,
        };
        if q > 0 && !found.iter().any(|f| f.0 == variant.0) {
            found.push((variant.0, variant.1, q));
        }
    }
    // Higher weight first; at equal weight brotli (smaller) before gzip.
    found.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (a.0 != "br").cmp(&(b.0 != "br"))));
    found.into_iter().map(|(enc, ext, _)| (enc, ext)).collect()
}

/// A built file, as the best precompressed variant the client accepts (`Content-Encoding`) or
/// as is; text files always carry `Vary: Accept-Encoding`. The caller picks `Cache-Control`.
async fn file(req: &HttpRequest, source: &Source, path: &str) -> Option<impl FnOnce(&'static str) -> HttpResponse> {
    let rel = safe_relative_path(path)?;
    let plain = source.read(&rel).await?;
    let accept = req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok());
    let mut chosen = None;
    for (encoding, ext) in accepted_encodings(accept) {
        let mut name = rel.clone().into_os_string();
        name.push(ext);
        if let Some(bytes) = source.read(Path::new(&name)).await {
            chosen = Some((encoding, bytes));
            break;
        }
    }
    let media = content_type(&rel);
    let compressible = media.starts_with("text/") || media.starts_with("application/") || media == "image/svg+xml";
    Some(move |cache: &'static str| {
        let mut res = HttpResponse::Ok();
        res.insert_header((header::CACHE_CONTROL, cache)).insert_header((header::CONTENT_TYPE, media));
        if compressible {
            res.insert_header((header::VARY, "Accept-Encoding"));
        }
        match chosen {
            Some((encoding, bytes)) => {
                res.insert_header((header::CONTENT_ENCODING, encoding));
                res.body(bytes)
            }
            None => res.body(plain),
        }
    })
}

async fn index(req: &HttpRequest, source: &Source) -> HttpResponse {
    let Some(bytes) = source.read(Path::new("index.html")).await else {
        return not_built(&source.describe(), req.path() == "/");
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

/// Reads `root` + `rel` when the file is a regular file inside `root` (symbolic links
/// pointing outside are refused too).
async fn read_inside(root: &Path, rel: &Path) -> Option<Vec<u8>> {
    let root = root.to_owned();
    let rel = rel.to_owned();
    web::block(move || {
        let root = root.canonicalize().ok()?;
        let file = root.join(rel).canonicalize().ok()?;
        if !file.starts_with(&root) || !file.is_file() {
            return None;
        }
        std::fs::read(&file).ok()
    })
    .await
    .ok()
    .flatten()
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
fn not_built(root: &str, is_root: bool) -> HttpResponse {
    let how = format!(
        "The web app is not built: {root} has no index.html. Build it with `cd frontend && npm ci && npm run build` \
         (or run infra/scripts/demo, which does), or point EDUGRAPH_STATIC_DIR at a build. The API under /api works."
    );
    let (status, code, message) = if is_root {
        tracing::warn!(static_dir = %root, "the frontend is not built; / answers 503");
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
    fn accept_encoding_picks_the_best_precompressed_variant() {
        assert_eq!(accepted_encodings(Some("gzip, deflate, br, zstd")), vec![("br", ".br"), ("gzip", ".gz")]);
        assert_eq!(accepted_encodings(Some("gzip;q=1, br;q=0.5")), vec![("gzip", ".gz"), ("br", ".br")]);
        assert_eq!(accepted_encodings(Some("br;q=0, gzip")), vec![("gzip", ".gz")]);
        assert_eq!(accepted_encodings(Some("identity")), vec![]);
        assert_eq!(accepted_encodings(None), vec![]);
        assert_eq!(accepted_encodings(Some("BR ; q=0.9")), vec![("br", ".br")]);
    }

    #[test]
    fn built_files_get_their_media_type() {
        assert_eq!(content_type(Path::new("a/x.JS")), "text/javascript; charset=utf-8");
        assert_eq!(content_type(Path::new("x.css")), "text/css; charset=utf-8");
        assert_eq!(content_type(Path::new("x")), "application/octet-stream");
    }
}

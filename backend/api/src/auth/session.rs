//! Opaque server-side sessions (R-A11, R-A17).
//!
//! The cookie `__Host-sid` carries 256 random bits; the database stores only their SHA-256,
//! so a database leak yields no usable session. Sessions are shared by every API instance
//! through the database, rotated at sign-in, and end on idle or absolute timeout or sign-out.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use base64::Engine as _;
use edu_domain::{TenantId, UserId};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// The session cookie. `__Host-` forces Secure, Path=/ and no Domain (R-A12).
pub const SESSION_COOKIE: &str = "__Host-sid";
/// The pre-session cookie that binds the CSRF token of anonymous requests (sign-in, register).
pub const PRE_SESSION_COOKIE: &str = "__Host-pre";

/// Activity is written back at most this often (ms), not on every request.
const TOUCH_EVERY_MS: i64 = 60_000;

/// 256 random bits, base64url.
#[must_use]
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database stores for a secret: hex SHA-256.
#[must_use]
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A cookie with the flags every EduGraph cookie has: Secure, HttpOnly, SameSite=Lax, Path=/.
#[must_use]
pub fn cookie(name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value).path("/").secure(true).http_only(true).same_site(SameSite::Lax).finish()
}

/// A cookie that deletes `name` in the browser.
#[must_use]
pub fn removal(name: &'static str) -> Cookie<'static> {
    let mut c = cookie(name, String::new());
    c.make_removal();
    c
}

/// The CSRF token bound to a cookie value: HMAC-SHA256(server key, purpose ‖ value), base64url.
/// Only someone who holds the HttpOnly cookie (the browser, never another site) gets it.
#[must_use]
pub fn csrf_token(key: &[u8; 32], purpose: &str, cookie_value: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(cookie_value.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// A signed-in person, established from a valid session. Handlers that take it can only
/// be called with one; anyone else gets 401 `unauthenticated`.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The person.
    pub user_id: UserId,
    /// Their tenant, if they have one.
    pub tenant_id: Option<TenantId>,
    /// `local` or `microsoft`.
    pub auth_method: String,
    /// The cookie value (to derive the CSRF token).
    pub secret: String,
    /// The stored hash of the cookie value.
    pub session_hash: String,
    /// Absolute expiry, unix ms.
    pub expires_at: i64,
    /// When Microsoft last confirmed the person in this browser (unix ms); `None` for a session
    /// that began with the local password (issue 17.1).
    pub ms_auth_at: Option<i64>,
}

impl Authenticated {
    /// The CSRF token for this session.
    #[must_use]
    pub fn csrf_token(&self, state: &AppState) -> String {
        csrf_token(state.csrf_key(), "sid", &self.secret)
    }
}

/// The session, or `None` when there is no valid one. Never fails on a missing session.
#[derive(Debug, Clone)]
pub struct MaybeAuthenticated(pub Option<Authenticated>);

async fn load(req: HttpRequest) -> Result<Option<Authenticated>, ApiError> {
    if let Some(cached) = req.extensions().get::<Option<Authenticated>>() {
        return Ok(cached.clone());
    }
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::internal(anyhow::anyhow!("no state")))?;
    let Some(secret) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    // A well-formed secret is 43 base64url characters; anything else is not worth a query.
    if secret.len() != 43 {
        return Ok(None);
    }
    let hash = hash_secret(&secret);
    let found = edu_db::sessions::get(&state.db, &hash).await?;
    let now = state.clock.now_ms();
    let session = match found {
        None => None,
        Some(s) => {
            let idle_ms = i64::try_from(state.config.session.idle_timeout.as_millis()).unwrap_or(i64::MAX);
            if now >= s.expires_at || now - s.last_seen_at >= idle_ms {
                edu_db::sessions::delete(&state.db, &hash).await?;
                None
            } else {
                if now - s.last_seen_at >= TOUCH_EVERY_MS {
                    edu_db::sessions::touch(&state.db, &hash, now).await?;
                }
                Some(Authenticated {
                    user_id: s.user_id,
                    tenant_id: s.tenant_id,
                    auth_method: s.auth_method,
                    secret,
                    session_hash: hash,
                    expires_at: s.expires_at,
                    ms_auth_at: s.ms_auth_at,
                })
            }
        }
    };
    req.extensions_mut().insert(session.clone());
    Ok(session)
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { load(req).await?.ok_or(ApiError::Unauthenticated) })
    }
}

impl FromRequest for MaybeAuthenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(Self(load(req).await?)) })
    }
}

/// Starts a new session for a person and returns its cookie value. Any session the request
/// arrived with is deleted first, so a planted id never survives sign-in (session fixation).
///
/// # Errors
/// Database errors.
pub async fn start(
    state: &AppState,
    previous: Option<&str>,
    user_id: UserId,
    tenant_id: Option<TenantId>,
    auth_method: &str,
    ms_auth_at: Option<i64>,
) -> Result<String, ApiError> {
    if let Some(prev) = previous {
        edu_db::sessions::delete(&state.db, &hash_secret(prev)).await?;
    }
    let secret = new_secret();
    let now = state.clock.now_ms();
    let absolute_ms = i64::try_from(state.config.session.absolute_timeout.as_millis()).unwrap_or(i64::MAX);
    edu_db::sessions::create(
        &state.db,
        &edu_db::sessions::NewSession {
            id_hash: &hash_secret(&secret),
            user_id,
            tenant_id,
            auth_method,
            now,
            expires_at: now.saturating_add(absolute_ms),
            ms_auth_at,
        },
    )
    .await?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_carry_256_bits_and_are_stored_hashed() {
        let s = new_secret();
        assert_eq!(s.len(), 43);
        assert_ne!(s, new_secret());
        let h = hash_secret(&s);
        assert_eq!(h.len(), 64);
        assert!(!h.contains(&s));
    }

    #[test]
    fn csrf_tokens_are_bound_to_the_cookie_and_the_purpose() {
        let key = [7u8; 32];
        let t = csrf_token(&key, "sid", "abc");
        assert_eq!(t, csrf_token(&key, "sid", "abc"));
        assert_ne!(t, csrf_token(&key, "sid", "abd"));
        assert_ne!(t, csrf_token(&key, "pre", "abc"));
        assert_ne!(t, csrf_token(&[8u8; 32], "sid", "abc"));
    }

    #[test]
    fn cookies_have_the_host_prefix_flags() {
        let c = cookie(SESSION_COOKIE, "v".into()).to_string();
        for part in ["__Host-sid=v", "Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!c.contains("Domain"));
    }
}

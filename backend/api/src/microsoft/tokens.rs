//! The delegated token cache (R-A22, R-A24..R-A27): a person's Graph access and refresh tokens,
//! sealed at rest, refreshed ahead of expiry with one refresh at a time per person (also under
//! concurrent requests), the new refresh token stored with the new access token.
//!
//! Anything that makes the cached tokens unusable — none cached, a row that fails to open,
//! `invalid_grant`, `interaction_required`, consent revoked — answers 401
//! `microsoft_signin_required`, never a 500.

use edu_db::token_cache::TokenKey;
use edu_domain::TenantId;
use edu_msgraph::TokenResponse;
use secrecy::SecretString;

use crate::error::ApiError;
use crate::state::AppState;

/// The resource whose tokens we cache.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
/// Scopes asked for at sign-in and refresh: Graph (the app's consented permissions) + OIDC.
pub const SIGN_IN_SCOPES: &[&str] = &["openid", "profile", "offline_access", "https://graph.microsoft.com/.default"];
/// Refresh when an access token has less than this left (ms) — at most: a token is refreshed
/// when a fifth of its lifetime is left (`edu_msgraph::settings::refresh_margin`), so that
/// short-lived tokens (≤ 5 minutes) are not refreshed at every request.
const REFRESH_MARGIN_CAP_MS: u64 = 5 * 60 * 1000;

fn key<'a>(tenant: TenantId, oid: &'a str, kind: &'a str) -> TokenKey<'a> {
    TokenKey { tenant, subject: oid, resource: GRAPH_RESOURCE, kind }
}

fn signin_required() -> ApiError {
    ApiError::MicrosoftSignInRequired
}

/// Stores the tokens of a token response (sign-in or refresh). The refresh token is
/// replaced only when a new one came back.
///
/// # Errors
/// Database or encryption failures.
pub async fn store(state: &AppState, tenant: TenantId, oid: &str, t: &TokenResponse) -> Result<(), ApiError> {
    let now = state.clock.now_ms();
    let expires_in_ms = i64::try_from(t.expires_in).unwrap_or(3600).saturating_mul(1000);
    let access = key(tenant, oid, "access");
    let sealed = state.token_cipher.seal(&access, &t.access_token, now + expires_in_ms).map_err(ApiError::internal)?;
    edu_db::token_cache::put(&state.db, &access, &sealed, now).await?;
    if let Some(rt) = &t.refresh_token {
        let refresh = key(tenant, oid, "refresh");
        // Refresh tokens live up to 90 days; expiry is enforced by Microsoft, not by us.
        let sealed = state.token_cipher.seal(&refresh, rt, now + 90 * 86_400_000).map_err(ApiError::internal)?;
        edu_db::token_cache::put(&state.db, &refresh, &sealed, now).await?;
    }
    Ok(())
}

/// The refresh margin (ms) of a token stored at `stored_at` that expires at `expires_at`.
fn margin_ms(stored_at: i64, expires_at: i64) -> i64 {
    let lifetime = std::time::Duration::from_millis(u64::try_from(expires_at - stored_at).unwrap_or(0));
    let cap = std::time::Duration::from_millis(REFRESH_MARGIN_CAP_MS);
    i64::try_from(edu_msgraph::settings::refresh_margin(cap, lifetime).as_millis()).unwrap_or(i64::MAX)
}

/// The cached token when it is valid until after `min_valid_until` (+ its refresh margin when
/// `with_margin`).
async fn cached(
    state: &AppState,
    k: &TokenKey<'_>,
    min_valid_until: i64,
    with_margin: bool,
) -> Result<Option<SecretString>, ApiError> {
    let Some(stamped) = edu_db::token_cache::get_stamped(&state.db, k).await? else { return Ok(None) };
    let row = stamped.sealed;
    let margin = if with_margin { margin_ms(stamped.updated_at, row.expires_at) } else { 0 };
    if row.expires_at <= min_valid_until.saturating_add(margin) {
        return Ok(None);
    }
    match state.token_cipher.open(k, &row) {
        Ok(t) => Ok(Some(t)),
        Err(e) => {
            tracing::warn!(error = %e, token.kind = k.kind, "cached token could not be opened; treating it as missing");
            Ok(None)
        }
    }
}

/// A valid Graph access token for a person, refreshing it when it is about to expire.
///
/// # Errors
/// 401 `microsoft_signin_required` when no usable token can be had; 503 when Microsoft is
/// unreachable.
pub async fn access_token(
    state: &AppState,
    tenant: TenantId,
    ms_tenant_id: &str,
    oid: &str,
) -> Result<SecretString, ApiError> {
    let now = state.clock.now_ms();
    let access = key(tenant, oid, "access");
    if let Some(t) = cached(state, &access, now, true).await? {
        return Ok(t);
    }
    let lock = state.refresh_locks.lock_for(tenant, oid);
    let _guard = lock.lock().await;
    // Someone may have refreshed while we waited for the lock.
    if let Some(t) = cached(state, &access, state.clock.now_ms(), true).await? {
        return Ok(t);
    }
    let refresh = key(tenant, oid, "refresh");
    let Some(rt) = cached(state, &refresh, now, false).await? else {
        return Err(signin_required());
    };
    let response = match state.graph.tokens().refresh(ms_tenant_id, &rt, SIGN_IN_SCOPES).await {
        Ok(r) => r,
        Err(edu_msgraph::TokenError::OAuth(e)) => {
            tracing::info!(oauth.error = %e.error, "token refresh refused; the person must sign in again");
            if e.is_invalid_grant() {
                // Microsoft no longer vouches for the person: their Microsoft-backed sessions
                // end with the tokens (issue 17.2, R-A27).
                let ended = edu_db::sessions::end_microsoft_sessions(&state.db, tenant, ms_tenant_id, oid).await?;
                tracing::info!(sessions.ended = ended, "refresh refused with invalid_grant: sessions ended");
            } else {
                edu_db::token_cache::delete_subject(&state.db, tenant, oid).await?;
            }
            return Err(signin_required());
        }
        Err(e) => {
            tracing::warn!(error = %e, "token refresh failed: Microsoft unreachable");
            return Err(ApiError::Unavailable);
        }
    };
    state.metrics.observe_token_refresh();
    store(state, tenant, oid, &response).await?;
    Ok(response.access_token)
}

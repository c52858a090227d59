//! ID-token validation for a multi-tenant app (OIDC Core 3.1.3.7; R-A6):
//! RS256 signature with a key from the published JWKS (fetched once more on an unknown
//! `kid`), `aud` = our client id, `iss` = the issuer template with the token's own `tid`
//! substituted (and the key's own `issuer` honoured), `tid` a GUID, `exp`/`nbf` with 5 min
//! of skew, and the `nonce` of the transaction.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::RwLock;

/// Allowed clock skew.
const LEEWAY_SECS: u64 = 300;
/// Keys are re-fetched at least this often (Microsoft: "every 24 hours").
const JWKS_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// An unknown `kid` triggers a re-fetch at most this often (no fetch storms from forged
/// tokens); a token whose `kid` arrives sooner waits for that moment rather than failing, so a
/// key rotation never locks people out (issue 17.7, R-A7).
const JWKS_MIN_REFRESH: Duration = Duration::from_secs(5);

/// Why an ID token was refused. Each maps to a sign-in error page; none is a 500.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    /// Not a JWT, or a claim of the wrong type.
    #[error("the ID token is malformed")]
    Malformed,
    /// No published key has this `kid` (after one re-fetch).
    #[error("the ID token is signed with an unknown key")]
    UnknownKey,
    /// The signature does not verify, or the algorithm is not RS256.
    #[error("the ID token signature is invalid")]
    BadSignature,
    /// `aud` is not our client id.
    #[error("the ID token is for another application")]
    WrongAudience,
    /// `iss` does not match `…/{tid}/v2.0` for the token's own `tid`, or the key's issuer.
    #[error("the ID token issuer does not match its tenant")]
    WrongIssuer,
    /// `tid` is missing or not a GUID.
    #[error("the ID token has no valid tenant id")]
    BadTenant,
    /// Past `exp` (+ skew).
    #[error("the ID token has expired")]
    Expired,
    /// Before `nbf` (− skew).
    #[error("the ID token is not valid yet")]
    NotYetValid,
    /// The `nonce` is not the one this sign-in sent.
    #[error("the ID token nonce does not match this sign-in")]
    NonceMismatch,
    /// A required claim (`oid`, `sub`) is missing.
    #[error("the ID token lacks a required claim")]
    MissingClaim,
    /// The keys or metadata could not be fetched.
    #[error("Microsoft's signing keys could not be fetched")]
    KeysUnavailable,
}

impl IdTokenError {
    /// A stable code for logs and the sign-in error page.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "id_token_malformed",
            Self::UnknownKey => "id_token_unknown_key",
            Self::BadSignature => "id_token_bad_signature",
            Self::WrongAudience => "id_token_wrong_audience",
            Self::WrongIssuer => "id_token_wrong_issuer",
            Self::BadTenant => "id_token_bad_tenant",
            Self::Expired => "id_token_expired",
            Self::NotYetValid => "id_token_not_yet_valid",
            Self::NonceMismatch => "id_token_nonce_mismatch",
            Self::MissingClaim => "id_token_missing_claim",
            Self::KeysUnavailable => "microsoft_unavailable",
        }
    }
}

/// The claims we use from a validated ID token.
#[derive(Debug, Clone, Deserialize)]
pub struct IdClaims {
    /// Tenant id.
    pub tid: String,
    /// Object id: with `tid`, the identity key.
    pub oid: String,
    /// Pairwise subject.
    pub sub: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// UPN-like sign-in name (display only; never a key).
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// Directory role template ids.
    #[serde(default)]
    pub wids: Vec<String>,
    #[serde(default)]
    nonce: Option<String>,
    iss: String,
}

#[derive(Debug, Deserialize)]
struct Jwk {
    kid: Option<String>,
    kty: String,
    n: Option<String>,
    e: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
}

#[derive(Debug, Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

struct Keys {
    by_kid: HashMap<String, (DecodingKey, Option<String>)>,
    issuer_template: String,
    fetched_at: Instant,
}

/// Validates ID tokens against the authority's published keys (cached).
pub struct IdTokenValidator {
    http: reqwest::Client,
    discovery_url: String,
    client_id: String,
    keys: RwLock<Option<Keys>>,
    min_refresh: Duration,
}

impl std::fmt::Debug for IdTokenValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdTokenValidator").field("discovery_url", &self.discovery_url).finish_non_exhaustive()
    }
}

fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

/// `iss` expected for a token of tenant `tid`: the template with `{tenantid}` replaced
/// (case-insensitively, as Microsoft's own validator does).
fn expected_issuer(template: &str, tid: &str) -> String {
    let lower = template.to_ascii_lowercase();
    match lower.find("{tenantid}") {
        Some(i) => format!("{}{}{}", &template[..i], tid, &template[i + "{tenantid}".len()..]),
        None => template.to_owned(),
    }
}

impl IdTokenValidator {
    /// A validator for tokens issued by `authority` (e.g. `https://login.microsoftonline.com`)
    /// to `client_id`, using the `organizations` metadata (work and school accounts).
    #[must_use]
    pub fn new(http: reqwest::Client, authority: &str, client_id: &str) -> Self {
        Self {
            http,
            discovery_url: format!(
                "{}/organizations/v2.0/.well-known/openid-configuration",
                authority.trim_end_matches('/')
            ),
            client_id: client_id.to_owned(),
            keys: RwLock::new(None),
            min_refresh: JWKS_MIN_REFRESH,
        }
    }

    /// Changes how soon after a fetch an unknown `kid` may trigger another (tests).
    #[must_use]
    pub fn with_min_refresh(mut self, d: Duration) -> Self {
        self.min_refresh = d;
        self
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, IdTokenError> {
        let response = self.http.get(url).send().await.and_then(reqwest::Response::error_for_status);
        let parsed = match response {
            Ok(r) => r.json::<T>().await,
            Err(e) => Err(e),
        };
        parsed.map_err(|e| {
            tracing::warn!(error = %e, "fetching Microsoft OpenID metadata failed");
            IdTokenError::KeysUnavailable
        })
    }

    async fn fetch(&self) -> Result<Keys, IdTokenError> {
        let doc: Discovery = self.get_json(&self.discovery_url).await?;
        let set: JwkSet = self.get_json(&doc.jwks_uri).await?;
        let mut by_kid = HashMap::new();
        for k in set.keys {
            if let (Some(kid), "RSA", Some(n), Some(e)) = (k.kid, k.kty.as_str(), k.n, k.e)
                && let Ok(key) = DecodingKey::from_rsa_components(&n, &e)
            {
                by_kid.insert(kid, (key, k.issuer));
            }
        }
        tracing::info!(keys = by_kid.len(), "Microsoft signing keys fetched");
        Ok(Keys { by_kid, issuer_template: doc.issuer, fetched_at: Instant::now() })
    }

    /// The key for `kid` and the issuer template; re-fetches when stale or on an unknown kid
    /// (at most once per `min_refresh`: an unknown kid seen sooner waits for the next fetch).
    async fn key_for(&self, kid: &str) -> Result<(DecodingKey, Option<String>, String), IdTokenError> {
        let mut wait = None;
        {
            let guard = self.keys.read().await;
            if let Some(keys) = guard.as_ref()
                && keys.fetched_at.elapsed() < JWKS_MAX_AGE
            {
                if let Some((k, iss)) = keys.by_kid.get(kid) {
                    return Ok((k.clone(), iss.clone(), keys.issuer_template.clone()));
                }
                wait = self.min_refresh.checked_sub(keys.fetched_at.elapsed());
            }
        }
        if let Some(w) = wait {
            // Not under the lock: other sign-ins with known keys go on meanwhile.
            tokio::time::sleep(w).await;
        }
        let mut guard = self.keys.write().await;
        // Another request may have refreshed while we waited.
        let fresh = guard.as_ref().is_some_and(|k| k.fetched_at.elapsed() < self.min_refresh);
        if !fresh {
            *guard = Some(self.fetch().await?);
        }
        let keys = guard.as_ref().ok_or(IdTokenError::KeysUnavailable)?;
        let (k, iss) = keys.by_kid.get(kid).ok_or(IdTokenError::UnknownKey)?;
        Ok((k.clone(), iss.clone(), keys.issuer_template.clone()))
    }

    /// Validates a raw ID token for the sign-in that sent `expected_nonce`.
    ///
    /// # Errors
    /// The first rule the token breaks.
    pub async fn validate(&self, raw: &str, expected_nonce: &str) -> Result<IdClaims, IdTokenError> {
        let header = jsonwebtoken::decode_header(raw).map_err(|_| IdTokenError::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(IdTokenError::BadSignature);
        }
        let kid = header.kid.ok_or(IdTokenError::UnknownKey)?;
        let (key, key_issuer, template) = self.key_for(&kid).await?;

        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&[&self.client_id]);
        v.leeway = LEEWAY_SECS;
        v.validate_nbf = true;
        v.set_required_spec_claims(&["exp", "aud", "iss"]);
        let claims = jsonwebtoken::decode::<IdClaims>(raw, &key, &v)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                match e.kind() {
                    K::InvalidSignature | K::InvalidAlgorithm | K::InvalidRsaKey(_) => IdTokenError::BadSignature,
                    K::InvalidAudience => IdTokenError::WrongAudience,
                    K::ExpiredSignature => IdTokenError::Expired,
                    K::ImmatureSignature => IdTokenError::NotYetValid,
                    K::MissingRequiredClaim(_) => IdTokenError::MissingClaim,
                    _ => IdTokenError::Malformed,
                }
            })?
            .claims;

        if !is_guid(&claims.tid) {
            return Err(IdTokenError::BadTenant);
        }
        let expected = expected_issuer(&template, &claims.tid);
        if claims.iss != expected {
            return Err(IdTokenError::WrongIssuer);
        }
        // A key published with a concrete issuer may only sign that issuer's tokens.
        if let Some(ki) = key_issuer
            && expected_issuer(&ki, &claims.tid) != claims.iss
        {
            return Err(IdTokenError::WrongIssuer);
        }
        if claims.oid.is_empty() || claims.sub.is_empty() {
            return Err(IdTokenError::MissingClaim);
        }
        let nonce_ok = claims
            .nonce
            .as_deref()
            .is_some_and(|n| bool::from(subtle::ConstantTimeEq::ct_eq(n.as_bytes(), expected_nonce.as_bytes())));
        if !nonce_ok {
            return Err(IdTokenError::NonceMismatch);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_template_takes_the_tokens_own_tenant() {
        let t = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert_eq!(
            expected_issuer(t, "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
        );
        assert_eq!(expected_issuer("https://x/{TenantId}/v2.0", "abc"), "https://x/abc/v2.0");
        assert_eq!(expected_issuer("https://x/fixed/v2.0", "abc"), "https://x/fixed/v2.0");
        assert!(is_guid("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        assert!(!is_guid("contoso.onmicrosoft.com"));
    }
}

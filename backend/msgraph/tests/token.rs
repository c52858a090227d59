//! Token client: app-only cache, certificate client assertions, delegated
//! code exchange/refresh, OAuth error typing, redaction.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns; test code only

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use edu_msgraph::{
    AssertionAlg, AssertionClaims, ClientCredential, GraphAuth, GraphClient, GraphSettings, TokenClient, TokenError,
    build_client_assertion, generate_self_signed_certificate,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha1::Digest as _;
use support::{Resp, serve};

fn verify(token: &str, public_key_pem: &str, alg: Algorithm, aud: &str) -> (jsonwebtoken::Header, AssertionClaims) {
    let header = jsonwebtoken::decode_header(token).unwrap();
    let mut v = Validation::new(alg);
    v.set_audience(&[aud]);
    v.set_required_spec_claims(&["exp", "nbf", "aud"]);
    v.validate_nbf = true;
    let key = DecodingKey::from_rsa_pem(public_key_pem.as_bytes()).unwrap();
    let data = jsonwebtoken::decode::<AssertionClaims>(token, &key, &v).unwrap();
    (header, data.claims)
}

#[test]
fn ps256_client_assertion_verifies_and_matches_the_certificate() {
    let cert = generate_self_signed_certificate("edugraph-sync", 365).unwrap();
    // The signing key's public half is the one inside the certificate.
    let spki = pem::parse(&cert.public_key_pem).unwrap().into_contents();
    assert!(cert.cert_der.windows(spki.len()).any(|w| w == spki.as_slice()));

    let aud = "https://login.microsoftonline.com/contoso-tid/oauth2/v2.0/token";
    let mut jtis = HashSet::new();
    for _ in 0..3 {
        let jwt = build_client_assertion(
            "client-123",
            aud,
            &cert.cert_der,
            &cert.private_key_pem,
            AssertionAlg::Ps256,
            SystemTime::now(),
        )
        .unwrap();
        let (header, claims) = verify(&jwt, &cert.public_key_pem, Algorithm::PS256, aud);
        assert_eq!(header.alg, Algorithm::PS256);
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let expected = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&cert.cert_der));
        assert_eq!(header.x5t_s256.as_deref(), Some(expected.as_str()));
        assert_eq!(header.x5t, None);
        assert_eq!(claims.aud, aud);
        assert_eq!(claims.iss, "client-123");
        assert_eq!(claims.sub, "client-123");
        assert!(claims.exp > claims.nbf && claims.exp - claims.nbf <= 600);
        assert!(claims.iat <= claims.nbf + 1);
        assert!(uuid::Uuid::parse_str(&claims.jti).is_ok());
        assert!(jtis.insert(claims.jti), "jti reused");
    }
    // A PS256 assertion does not verify as RS256 (really PSS-signed).
    let jwt =
        build_client_assertion("c", aud, &cert.cert_der, &cert.private_key_pem, AssertionAlg::Ps256, SystemTime::now())
            .unwrap();
    let key = DecodingKey::from_rsa_pem(cert.public_key_pem.as_bytes()).unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[aud]);
    assert!(jsonwebtoken::decode::<AssertionClaims>(&jwt, &key, &v).is_err());
    // Thumbprints reported for Entra registration.
    assert_eq!(cert.x5t_s256, URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&cert.cert_der)));
    assert_eq!(cert.thumbprint_sha1_hex.len(), 40);
    assert_eq!(cert.thumbprint_sha256_hex.len(), 64);
    assert!(cert.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(!format!("{cert:?}").contains("PRIVATE KEY"));
}

#[test]
fn rs256_client_assertion_uses_sha1_x5t() {
    let cert = generate_self_signed_certificate("edugraph-sync", 30).unwrap();
    let aud = "http://127.0.0.1/tid/oauth2/v2.0/token";
    let jwt = build_client_assertion(
        "client-123",
        aud,
        &cert.cert_der,
        &cert.private_key_pem,
        AssertionAlg::Rs256,
        SystemTime::now(),
    )
    .unwrap();
    let (header, _) = verify(&jwt, &cert.public_key_pem, Algorithm::RS256, aud);
    let expected = URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&cert.cert_der));
    assert_eq!(header.x5t.as_deref(), Some(expected.as_str()));
    assert_eq!(cert.x5t, expected);
    assert_eq!(header.x5t_s256, None);
}

#[tokio::test]
async fn certificate_credential_posts_an_assertion_for_the_tenant_endpoint() {
    let cert = generate_self_signed_certificate("edugraph-sync", 30).unwrap();
    let server = serve(|_req| async move {
        Resp::json(
            200,
            json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "app-tok"}),
        )
    })
    .await;
    let settings = server.settings();
    let cred =
        ClientCredential::certificate_from_pem(&cert.cert_pem, cert.private_key_pem.clone(), AssertionAlg::Ps256)
            .unwrap();
    let tokens = TokenClient::with_credential(&settings, Some(cred)).unwrap();
    let tok = tokens.app_token("contoso-tid").await.unwrap();
    assert_eq!(tok.expose_secret(), "app-tok");
    let req = &server.requests()[0];
    assert_eq!(req.path(), "/auth/contoso-tid/oauth2/v2.0/token");
    assert_eq!(req.form_value("grant_type").as_deref(), Some("client_credentials"));
    assert_eq!(req.form_value("scope").as_deref(), Some("https://graph.microsoft.com/.default"));
    assert_eq!(req.form_value("client_id").as_deref(), Some("app-id"));
    assert_eq!(req.form_value("client_secret"), None);
    assert_eq!(
        req.form_value("client_assertion_type").as_deref(),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    let aud = format!("{}/auth/contoso-tid/oauth2/v2.0/token", server.base());
    let (header, claims) =
        verify(&req.form_value("client_assertion").unwrap(), &cert.public_key_pem, Algorithm::PS256, &aud);
    assert_eq!(header.x5t_s256.as_deref(), Some(cert.x5t_s256.as_str()));
    assert_eq!(claims.iss, "app-id");
}

#[tokio::test]
async fn app_only_token_is_fetched_once_for_concurrent_calls() {
    let token_calls = Arc::new(AtomicUsize::new(0));
    let tc = token_calls.clone();
    let server = serve(move |req| {
        let tc = tc.clone();
        async move {
            if req.path().starts_with("/auth/") {
                tc.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                Resp::json(200, json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "app-tok-1"}))
            } else {
                assert_eq!(req.header("authorization"), Some("Bearer app-tok-1"));
                Resp::json(200, json!({"id": "x"}))
            }
        }
    })
    .await;
    let mut settings = server.settings();
    settings.client_secret = Some(SecretString::from("s3cr3t-value"));
    let c = GraphClient::new(settings).unwrap();
    let auth = GraphAuth::app_only("contoso-tid");
    let mut handles = Vec::new();
    for _ in 0..10 {
        let (c, auth) = (c.clone(), auth.clone());
        handles
            .push(tokio::spawn(async move { c.get::<serde_json::Value>(&auth, "/users/x?$select=id").await.unwrap() }));
    }
    for h in handles {
        h.await.unwrap();
    }
    assert_eq!(token_calls.load(Ordering::SeqCst), 1);
    assert_eq!(server.count("/graph/"), 10);
    let token_req = server.requests().into_iter().find(|r| r.path().starts_with("/auth/")).unwrap();
    assert_eq!(token_req.form_value("client_secret").as_deref(), Some("s3cr3t-value"));

    // Another tenant gets its own token.
    c.get::<serde_json::Value>(&GraphAuth::app_only("other-tid"), "/users/x?$select=id").await.unwrap();
    assert_eq!(token_calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn app_only_token_is_refreshed_ahead_of_expiry_and_after_401() {
    let token_calls = Arc::new(AtomicUsize::new(0));
    let graph_calls = Arc::new(AtomicUsize::new(0));
    let (tc, gc) = (token_calls.clone(), graph_calls.clone());
    let server = serve(move |req| {
        let (tc, gc) = (tc.clone(), gc.clone());
        async move {
            if req.path().starts_with("/auth/") {
                let n = tc.fetch_add(1, Ordering::SeqCst);
                // 1 s: refreshed once less than a fifth of it (200 ms) is left.
                Resp::json(200, json!({"access_token": format!("tok-{n}"), "expires_in": "1"}))
            } else if gc.fetch_add(1, Ordering::SeqCst) == 1 {
                Resp::json(401, json!({"error": {"code": "InvalidAuthenticationToken", "message": "expired"}}))
            } else {
                Resp::json(200, json!({"id": "x"}))
            }
        }
    })
    .await;
    let mut settings = server.settings();
    settings.client_secret = Some(SecretString::from("s"));
    let c = GraphClient::new(settings).unwrap();
    let auth = GraphAuth::app_only("contoso-tid");
    c.get::<serde_json::Value>(&auth, "/me?$select=id").await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(850)).await;
    // Second call: refetch (expiring) then a 401 -> invalidate, refetch, retry.
    c.get::<serde_json::Value>(&auth, "/me?$select=id").await.unwrap();
    assert_eq!(token_calls.load(Ordering::SeqCst), 3);
    assert_eq!(graph_calls.load(Ordering::SeqCst), 3);
}

/// Issue 18 §5: the refresh margin is relative to the token's lifetime: a 2-minute token is
/// reused (a fixed 5-minute margin fetched a new one for every call).
#[tokio::test]
async fn a_short_lived_app_token_is_reused_not_fetched_per_call() {
    let token_calls = Arc::new(AtomicUsize::new(0));
    let tc = token_calls.clone();
    let server = serve(move |req| {
        let tc = tc.clone();
        async move {
            if req.path().starts_with("/auth/") {
                let n = tc.fetch_add(1, Ordering::SeqCst);
                Resp::json(200, json!({"access_token": format!("tok-{n}"), "expires_in": 120}))
            } else {
                Resp::json(200, json!({"id": "x"}))
            }
        }
    })
    .await;
    let mut settings = server.settings();
    settings.client_secret = Some(SecretString::from("s"));
    let c = GraphClient::new(settings).unwrap();
    let auth = GraphAuth::app_only("contoso-tid");
    let mut calls = Vec::new();
    for _ in 0..50 {
        let (c, auth) = (c.clone(), auth.clone());
        calls.push(tokio::spawn(async move { c.get::<serde_json::Value>(&auth, "/me?$select=id").await.unwrap() }));
    }
    for call in calls {
        call.await.unwrap();
    }
    assert_eq!(token_calls.load(Ordering::SeqCst), 1, "one token request for 50 concurrent calls");
}

#[tokio::test]
async fn app_only_without_credential_is_a_config_error() {
    let server = serve(|_req| async { Resp::empty(500) }).await;
    let c = GraphClient::new(server.settings()).unwrap();
    let err = c.get::<serde_json::Value>(&GraphAuth::app_only("t1"), "/me?$select=id").await.unwrap_err();
    assert!(matches!(err, edu_msgraph::GraphError::Token(TokenError::Config(_))), "{err:?}");
    assert!(server.requests().is_empty());
    let err = c.get::<serde_json::Value>(&GraphAuth::app_only("../evil"), "/me").await.unwrap_err();
    assert!(matches!(err, edu_msgraph::GraphError::InvalidRequest(_)), "{err:?}");
}

#[tokio::test]
async fn code_exchange_and_refresh_send_the_right_form_and_parse_tokens() {
    let server = serve(|req| async move {
        match req.form_value("grant_type").as_deref() {
            Some("authorization_code") => Resp::json(200, json!({
                "access_token": "at-1", "token_type": "Bearer", "expires_in": 3599,
                "scope": "openid profile https://graph.microsoft.com/User.Read",
                "refresh_token": "rt-1", "id_token": "h.p.s"})),
            _ => Resp::json(400, json!({
                "error": "invalid_grant",
                "error_description": "AADSTS65001: The user or administrator has not consented to use the application with ID 'x'.\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2024-01-01 00:00:00Z",
                "error_codes": [65001], "timestamp": "2024-01-01 00:00:00Z",
                "trace_id": "trace-1", "correlation_id": "corr-1", "suberror": "consent_required"})),
        }
    })
    .await;
    let mut settings = server.settings();
    settings.client_secret = Some(SecretString::from("web-secret"));
    let tokens = TokenClient::new(&settings).unwrap();
    let resp = tokens
        .exchange_code(
            "organizations",
            "the-code",
            "https://app/cb",
            "verifier-xyz",
            &["openid", "profile", "offline_access", "User.Read"],
        )
        .await
        .unwrap();
    assert_eq!(resp.access_token.expose_secret(), "at-1");
    assert_eq!(resp.refresh_token.as_ref().unwrap().expose_secret(), "rt-1");
    assert_eq!(resp.id_token.as_deref(), Some("h.p.s"));
    assert_eq!(resp.expires_in, 3599);
    let dbg = format!("{resp:?}");
    assert!(!dbg.contains("at-1") && !dbg.contains("rt-1") && !dbg.contains("h.p.s"), "{dbg}");
    let req = &server.requests()[0];
    assert_eq!(req.path(), "/auth/organizations/oauth2/v2.0/token");
    assert_eq!(req.form_value("code").as_deref(), Some("the-code"));
    assert_eq!(req.form_value("code_verifier").as_deref(), Some("verifier-xyz"));
    assert_eq!(req.form_value("redirect_uri").as_deref(), Some("https://app/cb"));
    assert_eq!(req.form_value("scope").as_deref(), Some("openid profile offline_access User.Read"));
    assert_eq!(req.form_value("client_secret").as_deref(), Some("web-secret"));

    let err = tokens.refresh("contoso-tid", &SecretString::from("rt-1"), &["User.Read"]).await.unwrap_err();
    let oauth = err.oauth().expect("OAuth error");
    assert_eq!(oauth.status, 400);
    assert!(oauth.is_invalid_grant());
    assert!(oauth.is_consent_required());
    assert!(!oauth.is_interaction_required());
    assert_eq!(oauth.trace_id.as_deref(), Some("trace-1"));
    assert_eq!(oauth.correlation_id.as_deref(), Some("corr-1"));
    let shown = err.to_string();
    assert!(shown.contains("AADSTS65001") && !shown.contains("has not consented"), "{shown}");
    assert_eq!(server.requests()[1].form_value("refresh_token").as_deref(), Some("rt-1"));
}

#[test]
fn secrets_are_redacted_from_debug() {
    let s = GraphSettings { client_secret: Some(SecretString::from("super-secret-value")), ..Default::default() };
    assert!(!format!("{s:?}").contains("super-secret-value"));
    let a = GraphAuth::delegated("t", SecretString::from("bearer-value"));
    assert!(!format!("{a:?}").contains("bearer-value"));
    let c = ClientCredential::Secret(SecretString::from("super-secret-value"));
    assert!(!format!("{c:?}").contains("super-secret-value"));
    let tokens = TokenClient::new(&s).unwrap();
    assert!(!format!("{tokens:?}").contains("super-secret-value"));
    let client = GraphClient::new(s).unwrap();
    assert!(!format!("{client:?}").contains("super-secret-value"));
    let p =
        edu_msgraph::models::PasswordProfile { password: Some(SecretString::from("P@ssw0rd!")), ..Default::default() };
    assert!(!format!("{p:?}").contains("P@ssw0rd!"));
    // ...but the password is serialized for Graph.
    assert_eq!(serde_json::to_value(&p).unwrap()["password"], "P@ssw0rd!");
}

#[tokio::test]
async fn token_endpoint_throttling_is_retried_with_a_fresh_assertion() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    let server = serve(move |_req| {
        let calls = c2.clone();
        async move {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Resp::json(429, json!({"error": "temporarily_unavailable", "error_codes": [], "trace_id": "t"}))
                    .header("Retry-After", "1"),
                1 => Resp::empty(503),
                _ => Resp::json(200, json!({"access_token": "ok", "expires_in": 3599})),
            }
        }
    })
    .await;
    let cert = generate_self_signed_certificate("sync", 1).unwrap();
    let cred = ClientCredential::certificate(cert.cert_der.clone(), cert.private_key_pem.clone(), AssertionAlg::Ps256)
        .unwrap();
    let sleeper = Arc::new(support::RecordingSleeper::default());
    let c = GraphClient::with_sleeper(server.settings(), Some(cred), sleeper.clone()).unwrap();
    let tok = c.tokens().app_token("tid").await.unwrap();
    assert_eq!(tok.expose_secret(), "ok");
    let delays = sleeper.delays();
    assert_eq!(delays.len(), 2);
    assert_eq!(delays[0], Duration::from_secs(1));
    // second retry (n = 1): 3 s · 2^1 with equal jitter -> [3 s, 6 s]
    assert!(delays[1] >= Duration::from_secs(3) && delays[1] <= Duration::from_secs(6));
    let jtis: HashSet<String> = server
        .requests()
        .iter()
        .map(|r| {
            let (_, claims) = verify(
                &r.form_value("client_assertion").unwrap(),
                &cert.public_key_pem,
                Algorithm::PS256,
                &format!("{}/auth/tid/oauth2/v2.0/token", server.base()),
            );
            claims.jti
        })
        .collect();
    assert_eq!(jtis.len(), 3);

    // OAuth errors other than throttling are not retried.
    let server = serve(|_req| async {
        Resp::json(
            401,
            json!({"error": "invalid_client", "error_codes": [7000215], "trace_id": "t", "correlation_id": "c"}),
        )
    })
    .await;
    let mut s = server.settings();
    s.client_secret = Some(SecretString::from("wrong"));
    let tokens = TokenClient::new(&s).unwrap();
    let err = tokens.app_token("tid").await.unwrap_err();
    assert_eq!(err.oauth().unwrap().error, "invalid_client");
    assert_eq!(err.oauth().unwrap().status, 401);
    assert_eq!(server.requests().len(), 1);
}

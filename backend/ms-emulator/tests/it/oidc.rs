//! Identity platform: discovery, JWKS, authorize, token, admin consent.

use super::*;
use edu_ms_emulator::{AppRegistration, AssertionAlg, ClientCertificate, DEMO_APP_CLIENT_ID, DEMO_APP_SECRET};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    RedirectUrl, Scope, TokenResponse,
};

fn oidc_http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn discovery_documents_have_microsoft_shape() {
    let e = emu().await;
    let t = contoso(&e);
    let base = e.base_url();
    for seg in ["common", "organizations"] {
        let v: Value = http()
            .get(format!("{base}/{seg}/v2.0/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["issuer"], format!("{base}/{{tenantid}}/v2.0"));
        assert_eq!(v["token_endpoint"], format!("{base}/{seg}/oauth2/v2.0/token"));
        assert_eq!(v["jwks_uri"], format!("{base}/{seg}/discovery/v2.0/keys"));
        assert!(v["tenant_region_scope"].is_null());
    }
    let r = http().get(format!("{base}/{}/v2.0/.well-known/openid-configuration", t.domain)).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "max-age=86400, private");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["issuer"], format!("{base}/{}/v2.0", t.id), "a domain resolves to the tenant GUID");
    assert_eq!(v["tenant_region_scope"], "WW");
    let r = http()
        .get(format!("{base}/nosuchtenant.onmicrosoft.com/v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error_codes"][0], 90002);
    // JWKS: kid == x5t, issuer template on common.
    let k: Value = http().get(format!("{base}/common/discovery/v2.0/keys")).send().await.unwrap().json().await.unwrap();
    let key = &k["keys"][0];
    assert_eq!(key["kid"], key["x5t"]);
    assert_eq!(key["e"], "AQAB");
    assert_eq!(key["issuer"], format!("{base}/{{tenantid}}/v2.0"));
    assert!(key["x5c"][0].is_string() && key["n"].is_string());
    e.stop().await;
}

#[tokio::test]
async fn openidconnect_client_auth_code_pkce_with_tenant_discovery() {
    let e = emu().await;
    let t = contoso(&e);
    let h = oidc_http();
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(format!("{}/{}/v2.0", e.base_url(), t.id)).unwrap(), &h)
            .await
            .expect("discover_async");
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(DEMO_APP_CLIENT_ID.into()),
        Some(ClientSecret::new(DEMO_APP_SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("offline_access".into()))
        .add_scope(Scope::new("https://graph.microsoft.com/EduRoster.ReadBasic".into()))
        .set_pkce_challenge(challenge)
        .url();
    let b = browser();
    let page = b.get(url.as_str()).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("name=\"login\"") && page.contains("name=\"passwd\""));
    let teacher = &t.teachers[0];
    let r = submit_login(&b, &e.base_url(), &t.id, &page, &teacher.upn, &teacher.password).await;
    assert_eq!(r.status(), 302);
    let loc = location(&r);
    assert!(loc.starts_with(REDIRECT), "{loc}");
    assert_eq!(param(&loc, "state").as_deref(), Some(csrf.secret().as_str()));
    let code = param(&loc, "code").unwrap();
    let tok = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&h)
        .await
        .expect("token");
    let idt = tok.id_token().expect("id_token");
    let claims = idt.claims(&client.id_token_verifier(), &nonce).expect("verified id token");
    assert_eq!(claims.subject().as_str().len(), 43);
    assert_eq!(claims.issuer().as_str(), format!("{}/{}/v2.0", e.base_url(), t.id));
    let raw = decode_claims(&idt.to_string());
    assert_eq!(raw["tid"], t.id);
    assert_eq!(raw["oid"], teacher.id);
    assert_eq!(raw["preferred_username"], teacher.upn);
    assert_eq!(raw["ver"], "2.0");
    assert!(tok.refresh_token().is_some());
    let at = decode_claims(tok.access_token().secret());
    assert!(at["scp"].as_str().unwrap().contains("EduRoster.ReadBasic"));
    let life = at["exp"].as_u64().unwrap() - at["iat"].as_u64().unwrap();
    assert!((3600..=5400).contains(&life), "lifetime {life}");
    // The code is single use.
    let (s, body) = redeem(&e.base_url(), &t.id, &code, None).await;
    assert_eq!(s, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"][0], 54005);
    e.stop().await;
}

#[tokio::test]
async fn openidconnect_with_common_metadata_and_issuer_template() {
    let e = emu().await;
    let t = contoso(&e);
    let h = oidc_http();
    let doc: Value = http()
        .get(format!("{}/common/v2.0/.well-known/openid-configuration", e.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let meta: CoreProviderMetadata = serde_json::from_value(doc).expect("CoreProviderMetadata");
    let jwks = CoreJsonWebKeySet::fetch_async(meta.jwks_uri(), &h).await.expect("jwks");
    let meta = meta.set_jwks(jwks);
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(DEMO_APP_CLIENT_ID.into()),
        Some(ClientSecret::new(DEMO_APP_SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (url, _csrf, nonce) =
        client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random).url();
    let b = browser();
    let page = b.get(url.as_str()).send().await.unwrap().text().await.unwrap();
    let st = &t.students[0];
    let loc = location(&submit_login(&b, &e.base_url(), "common", &page, &st.upn, &st.password).await);
    let tok = client
        .exchange_code(AuthorizationCode::new(param(&loc, "code").unwrap()))
        .unwrap()
        .request_async(&h)
        .await
        .expect("token");
    let idt = tok.id_token().unwrap();
    let verifier = client.id_token_verifier().require_issuer_match(false);
    let claims = idt.claims(&verifier, &nonce).expect("signature + nonce");
    // Multi-tenant issuer validation as Microsoft documents: substitute {tenantid} with tid.
    let raw = decode_claims(&idt.to_string());
    let tid = raw["tid"].as_str().unwrap();
    assert_eq!(claims.issuer().as_str(), format!("{}/{{tenantid}}/v2.0", e.base_url()).replace("{tenantid}", tid));
    e.stop().await;
}

#[tokio::test]
async fn sign_in_cookie_prompt_and_hints() {
    let e = emu().await;
    let t = contoso(&e);
    let base = e.base_url();
    let b = browser();
    let s = &t.students[1];
    // Wrong password → the page again with AADSTS50126.
    let page = b.get(authorize_url(&base, &t.id, &[])).send().await.unwrap().text().await.unwrap();
    let r = submit_login(&b, &base, &t.id, &page, &s.upn, "wrong").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("AADSTS50126"));
    // prompt=none without a session → login_required.
    let r = b.get(authorize_url(&base, &t.id, &[("prompt", "none")])).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let loc = location(&r);
    assert_eq!(param(&loc, "error").as_deref(), Some("login_required"));
    assert!(param(&loc, "error_description").unwrap().starts_with("AADSTS50058: "));
    assert_eq!(param(&loc, "state").as_deref(), Some("st-123"));
    // Sign in once.
    let loc = sign_in(&b, &base, &t.id, &s.upn, &s.password, &[]).await;
    assert!(param(&loc, "code").is_some());
    // Second visit skips the password (cookie).
    let r = b.get(authorize_url(&base, &t.id, &[])).send().await.unwrap();
    assert_eq!(r.status(), 302, "SSO with the sign-in cookie");
    assert!(param(&location(&r), "code").is_some());
    // prompt=none works silently now.
    let r = b.get(authorize_url(&base, &t.id, &[("prompt", "none")])).send().await.unwrap();
    assert!(param(&location(&r), "code").is_some());
    // prompt=login forces the password form, pre-filled by login_hint.
    let r = b.get(authorize_url(&base, &t.id, &[("prompt", "login"), ("login_hint", &s.upn)])).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains(&format!("value=\"{}\"", s.upn)));
    // prompt=select_account shows the picker; picking the account completes.
    let r = b.get(authorize_url(&base, &t.id, &[("prompt", "select_account")])).send().await.unwrap();
    let page = r.text().await.unwrap();
    assert!(page.contains("Pick an account"));
    let ctx = hidden(&page, "ctx").unwrap();
    let r = b
        .post(format!("{base}/{}/login", t.id))
        .form(&[("ctx", ctx.as_str()), ("action", "pick"), ("account", s.id.as_str())])
        .send()
        .await
        .unwrap();
    assert!(param(&location(&r), "code").is_some());
    // login_hint for another account → sign-in page, not SSO.
    let r = b.get(authorize_url(&base, &t.id, &[("login_hint", &t.teachers[0].upn)])).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // A user of another tenant cannot sign in at a tenant-specific authority.
    let f = fabrikam(&e);
    let page = browser().get(authorize_url(&base, &t.id, &[])).send().await.unwrap().text().await.unwrap();
    let r = submit_login(&browser(), &base, &t.id, &page, &f.students[0].upn, &f.students[0].password).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("AADSTS50020"));
    e.stop().await;
}

#[tokio::test]
async fn form_post_fragment_and_hybrid() {
    let e = emu().await;
    let t = contoso(&e);
    let base = e.base_url();
    let b = browser();
    let s = &t.students[2];
    let url = authorize_url(
        &base,
        &t.id,
        &[("response_type", "code id_token"), ("response_mode", "form_post"), ("nonce", "n-42")],
    );
    let page = b.get(url).send().await.unwrap().text().await.unwrap();
    let r = submit_login(&b, &base, &t.id, &page, &s.upn, &s.password).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("action=\"{REDIRECT}\"")));
    let idt = hidden(&html, "id_token").expect("id_token posted");
    let code = hidden(&html, "code").expect("code posted");
    assert_eq!(hidden(&html, "state").as_deref(), Some("st-123"));
    let c = decode_claims(&idt);
    assert_eq!(c["nonce"], "n-42");
    assert!(c["c_hash"].is_string());
    let (st, _) = redeem(&base, &t.id, &code, None).await;
    assert_eq!(st, 200);
    // fragment is the default for id_token; query is refused.
    let r = b.get(authorize_url(&base, &t.id, &[("response_type", "id_token"), ("nonce", "x")])).send().await.unwrap();
    let loc = location(&r);
    assert!(loc.contains('#') && param(&loc, "id_token").is_some(), "{loc}");
    let r = b
        .get(authorize_url(&base, &t.id, &[("response_type", "id_token"), ("response_mode", "query"), ("nonce", "x")]))
        .send()
        .await
        .unwrap();
    assert_eq!(param(&location(&r), "error").as_deref(), Some("invalid_request"));
    // id_token without nonce.
    let r = b.get(authorize_url(&base, &t.id, &[("response_type", "id_token")])).send().await.unwrap();
    assert!(param(&location(&r), "error_description").unwrap().starts_with("AADSTS90014"));
    e.stop().await;
}

#[tokio::test]
async fn authorize_errors_page_vs_redirect() {
    let e = emu().await;
    let t = contoso(&e);
    let base = e.base_url();
    let r = http()
        .get(authorize_url(&base, &t.id, &[("client_id", "00000000-0000-0000-0000-000000000001")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    assert!(r.text().await.unwrap().contains("AADSTS700016"));
    let r =
        http().get(authorize_url(&base, &t.id, &[("redirect_uri", "https://evil.example/cb")])).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("AADSTS50011"));
    let r = http().get(authorize_url(&base, &t.id, &[("response_type", "token")])).send().await.unwrap();
    assert_eq!(param(&location(&r), "error").as_deref(), Some("unsupported_response_type"));
    let r = http().get(authorize_url(&base, &t.id, &[("prompt", "bogus")])).send().await.unwrap();
    assert_eq!(param(&location(&r), "error").as_deref(), Some("invalid_request"));
    let r = http()
        .get(authorize_url(&base, &t.id, &[("code_challenge", "abc"), ("code_challenge_method", "S512")]))
        .send()
        .await
        .unwrap();
    assert_eq!(param(&location(&r), "error").as_deref(), Some("invalid_request"));
    e.stop().await;
}

#[tokio::test]
async fn pkce_is_checked() {
    let e = emu().await;
    let t = contoso(&e);
    let base = e.base_url();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let s = &t.students[3];
    let loc = sign_in(
        &browser(),
        &base,
        &t.id,
        &s.upn,
        &s.password,
        &[("code_challenge", challenge), ("code_challenge_method", "S256")],
    )
    .await;
    let code = param(&loc, "code").unwrap();
    let (st, body) = redeem(&base, &t.id, &code, Some("wrong-verifier-wrong-verifier-wrong-verifier")).await;
    assert_eq!(st, 400);
    assert_eq!(body["error_codes"][0], 501481);
    let loc = sign_in(
        &browser(),
        &base,
        &t.id,
        &s.upn,
        &s.password,
        &[("code_challenge", challenge), ("code_challenge_method", "S256")],
    )
    .await;
    let (st, body) = redeem(&base, &t.id, &param(&loc, "code").unwrap(), Some(verifier)).await;
    assert_eq!(st, 200, "{body}");
    e.stop().await;
}

#[tokio::test]
async fn refresh_token_rotates_and_errors_have_microsoft_shape() {
    let e = emu().await;
    let t = contoso(&e);
    let base = e.base_url();
    let s = &t.students[4];
    let loc = sign_in(&browser(), &base, &t.id, &s.upn, &s.password, &[]).await;
    let (_, body) = redeem(&base, &t.id, &param(&loc, "code").unwrap(), None).await;
    let rt = body["refresh_token"].as_str().unwrap().to_string();
    assert!(body["ext_expires_in"].is_number() && body["id_token"].is_string());
    assert!(body["scope"].as_str().unwrap().contains("https://graph.microsoft.com/User.Read"));
    let r = http()
        .post(format!("{base}/{}/oauth2/v2.0/token", t.id))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", DEMO_APP_CLIENT_ID),
            ("client_secret", DEMO_APP_SECRET),
            ("refresh_token", &rt),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store, no-cache");
    let v: Value = r.json().await.unwrap();
    let rt2 = v["refresh_token"].as_str().unwrap();
    assert_ne!(rt2, rt, "a new refresh token is returned");
    // Error shape.
    let r = http()
        .post(format!("{base}/{}/oauth2/v2.0/token", t.id))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", DEMO_APP_CLIENT_ID),
            ("client_secret", DEMO_APP_SECRET),
            ("refresh_token", "nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_grant");
    assert!(v["error_description"].as_str().unwrap().contains("\r\nTrace ID: "));
    assert!(v["error_codes"][0].is_u64());
    let ts = v["timestamp"].as_str().unwrap();
    assert!(ts.ends_with('Z') && ts.contains(' '));
    for k in ["trace_id", "correlation_id"] {
        assert!(v[k].is_string());
    }
    // Wrong secret → 401 invalid_client.
    let r = http()
        .post(format!("{base}/{}/oauth2/v2.0/token", t.id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DEMO_APP_CLIENT_ID),
            ("client_secret", "x"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error_codes"][0], 7000215);
    // client_credentials on /common.
    let r = http()
        .post(format!("{base}/common/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DEMO_APP_CLIENT_ID),
            ("client_secret", DEMO_APP_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error_codes"][0], 9001023);
    // Scope without /.default.
    let r = http()
        .post(format!("{base}/{}/oauth2/v2.0/token", t.id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DEMO_APP_CLIENT_ID),
            ("client_secret", DEMO_APP_SECRET),
            ("scope", "https://graph.microsoft.com/User.Read.All"),
        ])
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_scope");
    // HTTP Basic client authentication.
    let r = http()
        .post(format!("{base}/{}/oauth2/v2.0/token", t.id))
        .basic_auth(DEMO_APP_CLIENT_ID, Some(DEMO_APP_SECRET))
        .form(&[("grant_type", "client_credentials"), ("scope", "https://graph.microsoft.com/.default")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert!(v.get("refresh_token").is_none() && v.get("scope").is_none());
    let c = decode_claims(v["access_token"].as_str().unwrap());
    assert!(c["roles"].as_array().unwrap().iter().any(|r| r == "EduRoster.ReadWrite.All"));
    assert_eq!(c["idtyp"], "app");
    e.stop().await;
}

#[tokio::test]
async fn certificate_client_assertions() {
    let e = emu().await;
    let t = contoso(&e);
    let base = e.base_url();
    let cert = ClientCertificate::generate("edugraph-sync").unwrap();
    let client_id = "11111111-2222-3333-4444-555555555555";
    e.register_app(AppRegistration {
        client_id: client_id.into(),
        client_secret: None,
        redirect_uris: vec![],
        certificate_der: Some(cert.der.clone()),
        display_name: "sync".into(),
    });
    e.grant_admin_consent(&t.id, client_id);
    let endpoint = format!("{base}/{}/oauth2/v2.0/token", t.id);
    let post = |assertion: String| {
        let endpoint = endpoint.clone();
        async move {
            let r = http()
                .post(endpoint)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("scope", "https://graph.microsoft.com/.default"),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", &assertion),
                ])
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap())
        }
    };
    for alg in [AssertionAlg::Ps256, AssertionAlg::Rs256] {
        let (s, v) = post(cert.client_assertion(client_id, &endpoint, alg).unwrap()).await;
        assert_eq!(s, 200, "{alg:?}: {v}");
        assert_eq!(decode_claims(v["access_token"].as_str().unwrap())["azpacr"], "2");
    }
    // Replay of the same jti.
    let a = cert.client_assertion(client_id, &endpoint, AssertionAlg::Ps256).unwrap();
    assert_eq!(post(a.clone()).await.0, 200);
    let (s, v) = post(a).await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
    // Expired.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let claims = serde_json::json!({"aud": endpoint, "iss": client_id, "sub": client_id, "jti": "j-exp", "nbf": now - 7200, "exp": now - 3600});
    let (s, v) = post(cert.sign_assertion(&claims, AssertionAlg::Ps256).unwrap()).await;
    assert_eq!((s, v["error_codes"][0].as_u64()), (401, Some(700024)));
    // Wrong audience.
    let claims = serde_json::json!({"aud": "https://example.com/token", "iss": client_id, "sub": client_id, "jti": "j-aud", "nbf": now, "exp": now + 600});
    let (s, _) = post(cert.sign_assertion(&claims, AssertionAlg::Rs256).unwrap()).await;
    assert_eq!(s, 401);
    // A certificate that is not registered.
    let other = ClientCertificate::generate("intruder").unwrap();
    let (s, v) = post(other.client_assertion(client_id, &endpoint, AssertionAlg::Ps256).unwrap()).await;
    assert_eq!((s, v["error_codes"][0].as_u64()), (401, Some(700027)));
    // No credential at all.
    let r = http()
        .post(&endpoint)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    e.stop().await;
}

#[tokio::test]
async fn consent_required_then_admin_consent_then_revocation() {
    let e = emu().await;
    let f = fabrikam(&e);
    let base = e.base_url();
    assert!(!f.consented);
    // A student of the unconsented tenant, silently → consent_required (AADSTS65001).
    let b = browser();
    let s = &f.students[0];
    let page = b.get(authorize_url(&base, "organizations", &[])).send().await.unwrap().text().await.unwrap();
    let r = submit_login(&b, &base, "organizations", &page, &s.upn, &s.password).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("Need admin approval"));
    let ctx = hidden(&page, "ctx").unwrap();
    let r = b
        .post(format!("{base}/organizations/login"))
        .form(&[("ctx", ctx.as_str()), ("action", "return")])
        .send()
        .await
        .unwrap();
    let loc = location(&r);
    assert_eq!(param(&loc, "error").as_deref(), Some("consent_required"));
    assert!(param(&loc, "error_description").unwrap().starts_with("AADSTS65001: "));
    let r = b.get(authorize_url(&base, "organizations", &[("prompt", "none")])).send().await.unwrap();
    assert_eq!(param(&location(&r), "error").as_deref(), Some("consent_required"));
    // client credentials fail before consent.
    let r = http()
        .post(format!("{base}/{}/oauth2/v2.0/token", f.id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DEMO_APP_CLIENT_ID),
            ("client_secret", DEMO_APP_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Admin consent (v2 endpoint).
    let ac = format!(
        "{base}/{}/v2.0/adminconsent?{}",
        f.id,
        serde_urlencoded::to_string([
            ("client_id", DEMO_APP_CLIENT_ID),
            ("scope", "https://graph.microsoft.com/.default"),
            ("redirect_uri", REDIRECT),
            ("state", "ac1")
        ])
        .unwrap()
    );
    let a = browser();
    let page = a.get(&ac).send().await.unwrap().text().await.unwrap();
    // A non-admin cannot consent.
    let r = submit_login(&a, &base, &f.id, &page, &f.teachers[0].upn, &f.teachers[0].password).await;
    let loc = location(&r);
    assert_eq!(param(&loc, "admin_consent").as_deref(), Some("True"));
    assert_eq!(param(&loc, "error").as_deref(), Some("consent_required"));
    let a = browser();
    let page = a.get(&ac).send().await.unwrap().text().await.unwrap();
    let r = submit_login(&a, &base, &f.id, &page, &f.admin.upn, &f.admin.password).await;
    let page = r.text().await.unwrap();
    assert!(page.contains("Permissions requested"));
    // Cancel → AADSTS65004 redirect with admin_consent=True.
    let ctx = hidden(&page, "ctx").unwrap();
    let r = a
        .post(format!("{base}/{}/login", f.id))
        .form(&[("ctx", ctx.as_str()), ("action", "cancel")])
        .send()
        .await
        .unwrap();
    let loc = location(&r);
    assert!(param(&loc, "error_description").unwrap().starts_with("AADSTS65004"));
    // Accept (the admin is still signed in: SSO straight to the consent page).
    let page = a.get(&ac).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Permissions requested"));
    let ctx = hidden(&page, "ctx").unwrap();
    let r = a
        .post(format!("{base}/{}/login", f.id))
        .form(&[("ctx", ctx.as_str()), ("action", "accept")])
        .send()
        .await
        .unwrap();
    let loc = location(&r);
    assert!(loc.starts_with(REDIRECT));
    assert_eq!(param(&loc, "admin_consent").as_deref(), Some("True"));
    assert_eq!(param(&loc, "tenant").as_deref(), Some(f.id.as_str()));
    assert_eq!(param(&loc, "state").as_deref(), Some("ac1"));
    assert!(e.demo().tenants[1].consented);
    // Now the student signs in.
    let tok = user_token(&e, "organizations", &s.upn, &s.password).await;
    let (st, me) = get(&e, &tok, "/me").await;
    assert_eq!(st, 200);
    assert_eq!(me["id"], s.id);
    // Revocation by deleting the service principal (Graph, as the admin).
    let admin_tok = user_token(&e, &f.id, &f.admin.upn, &f.admin.password).await;
    let (_, sps) = get(&e, &admin_tok, &format!("/servicePrincipals?$filter=appId eq '{DEMO_APP_CLIENT_ID}'")).await;
    let sp = sps["value"][0]["id"].as_str().unwrap().to_string();
    let (st, _) = send(&e, &admin_tok, reqwest::Method::DELETE, &format!("/servicePrincipals/{sp}"), None).await;
    assert_eq!(st, 204);
    let b2 = browser();
    let page = b2.get(authorize_url(&base, &f.id, &[])).send().await.unwrap().text().await.unwrap();
    let r = submit_login(&b2, &base, &f.id, &page, &s.upn, &s.password).await;
    assert!(
        r.text().await.unwrap().contains("Need admin approval"),
        "consent is gone after the service principal was deleted"
    );
    let r = b2.get(authorize_url(&base, &f.id, &[("prompt", "none")])).send().await.unwrap();
    assert_eq!(param(&location(&r), "error").as_deref(), Some("consent_required"));
    e.stop().await;
}

#[tokio::test]
async fn key_rollover_keeps_old_key_published() {
    let e = emu().await;
    let t = contoso(&e);
    let old_tok = app_token(&e, &t.id).await;
    let kid = e.rotate_signing_key().unwrap();
    let k: Value = http()
        .get(format!("{}/{}/discovery/v2.0/keys", e.base_url(), t.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = k["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[0], kid);
    let new_tok = app_token(&e, &t.id).await;
    let header: Value = {
        use base64::Engine as _;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(new_tok.split('.').next().unwrap()).unwrap(),
        )
        .unwrap()
    };
    assert_eq!(header["kid"], kid);
    assert_eq!(get(&e, &old_tok, "/users?$top=1").await.0, 200);
    assert_eq!(get(&e, &new_tok, "/users?$top=1").await.0, 200);
    e.stop().await;
}

#[tokio::test]
async fn public_client_and_legacy_admin_consent() {
    let e = emu().await;
    let t = contoso(&e);
    let f = fabrikam(&e);
    let base = e.base_url();
    let client_id = "22222222-3333-4444-5555-666666666666";
    e.register_app(AppRegistration {
        client_id: client_id.into(),
        client_secret: None,
        redirect_uris: vec!["http://localhost/native".into()],
        certificate_der: None,
        display_name: "native".into(),
    });
    e.grant_admin_consent(&t.id, client_id);
    // Loopback redirect URIs match on any port.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let url = authorize_url(
        &base,
        &t.id,
        &[
            ("client_id", client_id),
            ("redirect_uri", "http://localhost:61234/native"),
            ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
            ("code_challenge_method", "S256"),
        ],
    );
    let b = browser();
    let page = b.get(url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Demo accounts"), "the sign-in page lists demo accounts");
    let s = &t.students[7];
    let loc = location(&submit_login(&b, &base, &t.id, &page, &s.upn, &s.password).await);
    assert!(loc.starts_with("http://localhost:61234/native?"), "{loc}");
    let code = param(&loc, "code").unwrap();
    let token = |extra: Vec<(&'static str, String)>| {
        let base = base.clone();
        let tid = t.id.clone();
        let code = code.clone();
        async move {
            let mut form = vec![
                ("grant_type", "authorization_code".to_string()),
                ("client_id", client_id.to_string()),
                ("code", code),
                ("redirect_uri", "http://localhost:61234/native".to_string()),
                ("code_verifier", verifier.to_string()),
            ];
            form.extend(extra);
            let r = http().post(format!("{base}/{tid}/oauth2/v2.0/token")).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (st, v) = token(vec![("client_secret", "nope".into())]).await;
    assert_eq!((st, v["error_codes"][0].as_u64()), (401, Some(700025)), "public clients must not send secrets");
    let (st, v) = token(vec![]).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(decode_claims(v["access_token"].as_str().unwrap())["azpacr"], "0");
    // Legacy /{tenant}/adminconsent (no scope).
    let url = format!(
        "{base}/{}/adminconsent?{}",
        f.id,
        serde_urlencoded::to_string([
            ("client_id", DEMO_APP_CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("state", "12345")
        ])
        .unwrap()
    );
    let a = browser();
    let page = a.get(&url).send().await.unwrap().text().await.unwrap();
    let page = submit_login(&a, &base, &f.id, &page, &f.admin.upn, &f.admin.password).await.text().await.unwrap();
    let ctx = hidden(&page, "ctx").unwrap();
    let r = a
        .post(format!("{base}/{}/login", f.id))
        .form(&[("ctx", ctx.as_str()), ("action", "accept")])
        .send()
        .await
        .unwrap();
    let loc = location(&r);
    assert_eq!(param(&loc, "admin_consent").as_deref(), Some("True"), "{loc}");
    assert_eq!(param(&loc, "tenant").as_deref(), Some(f.id.as_str()));
    assert_eq!(param(&loc, "state").as_deref(), Some("12345"));
    assert!(e.demo().tenants[1].consented);
    e.stop().await;
}

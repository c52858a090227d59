//! One negative test per ID-token rule (R-A6): tokens signed with our own test keys, served
//! from a local discovery document and JWKS shaped like Microsoft's.
//! The keys below are generated per run and are test-only.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine as _;
use edu_api::microsoft::id_token::{IdTokenError, IdTokenValidator};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

const CLIENT: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
const TID: &str = "9c9ae2bd-2a9c-4c2b-8d7a-1d4a5c3f2e10";
const OTHER_TID: &str = "11111111-2222-3333-4444-555555555555";

struct Key {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

fn key(kid: &str) -> Key {
    let private = rsa::RsaPrivateKey::new(&mut rand_core_compat(), 2048).expect("test key");
    let pem = private.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF).expect("pem");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let jwk = json!({
        "kty": "RSA", "use": "sig", "kid": kid, "x5t": kid,
        "n": b64.encode(private.n().to_bytes_be()), "e": b64.encode(private.e().to_bytes_be()),
        "issuer": "{base}/{tenantid}/v2.0"
    });
    Key { kid: kid.to_owned(), encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).expect("key"), jwk }
}

fn rand_core_compat() -> rsa::rand_core::OsRng {
    rsa::rand_core::OsRng
}

struct Idp {
    base: String,
    published: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
}

async fn idp() -> Idp {
    let published: Arc<Mutex<Vec<Value>>> = Arc::default();
    let fetches: Arc<AtomicUsize> = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (p, f, b) = (published.clone(), fetches.clone(), base.clone());
    let server = HttpServer::new(move || {
        let (p, f, b) = (p.clone(), f.clone(), b.clone());
        let b2 = b.clone();
        App::new()
            .route(
                "/organizations/v2.0/.well-known/openid-configuration",
                web::get().to(move || {
                    let b = b.clone();
                    async move {
                        HttpResponse::Ok().json(json!({
                            "issuer": format!("{b}/{{tenantid}}/v2.0"),
                            "jwks_uri": format!("{b}/organizations/discovery/v2.0/keys"),
                            "authorization_endpoint": format!("{b}/organizations/oauth2/v2.0/authorize"),
                            "token_endpoint": format!("{b}/organizations/oauth2/v2.0/token"),
                        }))
                    }
                }),
            )
            .route(
                "/organizations/discovery/v2.0/keys",
                web::get().to(move || {
                    let (p, f, b) = (p.clone(), f.clone(), b2.clone());
                    async move {
                        f.fetch_add(1, Ordering::SeqCst);
                        let keys: Vec<Value> = p
                            .lock()
                            .unwrap()
                            .iter()
                            .map(|k| {
                                let mut k = k.clone();
                                k["issuer"] = json!(format!("{b}/{{tenantid}}/v2.0"));
                                k
                            })
                            .collect();
                        HttpResponse::Ok().json(json!({ "keys": keys }))
                    }
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    Idp { base, published, fetches }
}

fn now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

fn claims(idp: &Idp) -> Value {
    json!({
        "aud": CLIENT, "iss": format!("{}/{TID}/v2.0", idp.base), "tid": TID,
        "oid": "00000000-0000-0000-66f3-3332eca7ea81", "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        "name": "Test Teacher", "preferred_username": "teacher@contoso.test", "nonce": "n-0S6_WzA2Mj",
        "iat": now(), "nbf": now(), "exp": now() + 3600, "ver": "2.0", "wids": []
    })
}

fn sign(k: &Key, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some(k.kid.clone());
    jsonwebtoken::encode(&h, claims, &k.encoding).unwrap()
}

async fn setup() -> (Idp, Key, IdTokenValidator) {
    let idp = idp().await;
    let k = key("key-1");
    idp.published.lock().unwrap().push(k.jwk.clone());
    let v = IdTokenValidator::new(reqwest::Client::new(), &idp.base, CLIENT).with_min_refresh(Duration::ZERO);
    (idp, k, v)
}

#[tokio::test]
async fn a_valid_id_token_is_accepted() {
    let (idp, k, v) = setup().await;
    let c = v.validate(&sign(&k, &claims(&idp)), "n-0S6_WzA2Mj").await.unwrap();
    assert_eq!((c.tid.as_str(), c.oid.as_str()), (TID, "00000000-0000-0000-66f3-3332eca7ea81"));
}

#[tokio::test]
async fn a_bad_signature_is_refused() {
    let (idp, _, v) = setup().await;
    let forger = key("key-1"); // same kid, different key
    assert_eq!(
        v.validate(&sign(&forger, &claims(&idp)), "n-0S6_WzA2Mj").await.unwrap_err(),
        IdTokenError::BadSignature
    );
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let (idp, k, v) = setup().await;
    let mut c = claims(&idp);
    c["aud"] = json!("another-app");
    assert_eq!(v.validate(&sign(&k, &c), "n-0S6_WzA2Mj").await.unwrap_err(), IdTokenError::WrongAudience);
}

#[tokio::test]
async fn another_tenants_issuer_is_refused() {
    let (idp, k, v) = setup().await;
    let mut c = claims(&idp);
    c["iss"] = json!(format!("{}/{OTHER_TID}/v2.0", idp.base));
    assert_eq!(v.validate(&sign(&k, &c), "n-0S6_WzA2Mj").await.unwrap_err(), IdTokenError::WrongIssuer);
}

#[tokio::test]
async fn a_tid_that_does_not_match_the_issuer_is_refused() {
    let (idp, k, v) = setup().await;
    let mut c = claims(&idp);
    c["tid"] = json!(OTHER_TID);
    assert_eq!(v.validate(&sign(&k, &c), "n-0S6_WzA2Mj").await.unwrap_err(), IdTokenError::WrongIssuer);
    let mut c = claims(&idp);
    c["tid"] = json!("contoso.onmicrosoft.com");
    assert_eq!(v.validate(&sign(&k, &c), "n-0S6_WzA2Mj").await.unwrap_err(), IdTokenError::BadTenant);
}

#[tokio::test]
async fn an_expired_token_is_refused_beyond_five_minutes_of_skew() {
    let (idp, k, v) = setup().await;
    let mut c = claims(&idp);
    c["exp"] = json!(now() - 200);
    assert!(v.validate(&sign(&k, &c), "n-0S6_WzA2Mj").await.is_ok(), "within the 5 min skew");
    c["exp"] = json!(now() - 400);
    assert_eq!(v.validate(&sign(&k, &c), "n-0S6_WzA2Mj").await.unwrap_err(), IdTokenError::Expired);
    let mut c = claims(&idp);
    c["nbf"] = json!(now() + 400);
    assert_eq!(v.validate(&sign(&k, &c), "n-0S6_WzA2Mj").await.unwrap_err(), IdTokenError::NotYetValid);
}

#[tokio::test]
async fn a_nonce_mismatch_is_refused() {
    let (idp, k, v) = setup().await;
    assert_eq!(v.validate(&sign(&k, &claims(&idp)), "another-nonce").await.unwrap_err(), IdTokenError::NonceMismatch);
    let mut c = claims(&idp);
    c.as_object_mut().unwrap().remove("nonce");
    assert_eq!(v.validate(&sign(&k, &c), "n-0S6_WzA2Mj").await.unwrap_err(), IdTokenError::NonceMismatch);
}

#[tokio::test]
async fn an_unknown_kid_refreshes_the_keys_once_then_is_refused() {
    let (idp, k, v) = setup().await;
    v.validate(&sign(&k, &claims(&idp)), "n-0S6_WzA2Mj").await.unwrap();
    assert_eq!(idp.fetches.load(Ordering::SeqCst), 1);
    let stranger = key("key-unknown");
    assert_eq!(
        v.validate(&sign(&stranger, &claims(&idp)), "n-0S6_WzA2Mj").await.unwrap_err(),
        IdTokenError::UnknownKey
    );
    assert_eq!(idp.fetches.load(Ordering::SeqCst), 2, "one re-fetch for the unknown kid");
}

#[tokio::test]
async fn a_rolled_over_key_is_picked_up_by_the_refresh() {
    let (idp, k, v) = setup().await;
    v.validate(&sign(&k, &claims(&idp)), "n-0S6_WzA2Mj").await.unwrap();
    let next = key("key-2");
    idp.published.lock().unwrap().push(next.jwk.clone());
    assert!(v.validate(&sign(&next, &claims(&idp)), "n-0S6_WzA2Mj").await.is_ok());
}

#[tokio::test]
async fn other_algorithms_and_garbage_are_refused() {
    let (idp, _, v) = setup().await;
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some("key-1".into());
    let hs = jsonwebtoken::encode(&h, &claims(&idp), &EncodingKey::from_secret(b"guessable")).unwrap();
    assert_eq!(v.validate(&hs, "n-0S6_WzA2Mj").await.unwrap_err(), IdTokenError::BadSignature);
    assert_eq!(v.validate("not.a.jwt", "x").await.unwrap_err(), IdTokenError::Malformed);
    let unsigned = format!(
        "{}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"key-1"}"#),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims(&idp).to_string())
    );
    assert!(v.validate(&unsigned, "n-0S6_WzA2Mj").await.is_err());
}

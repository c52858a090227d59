//! Cached OAuth tokens are encrypted at rest and bound to their row (R-A22).

use edu_api::token_cache::OpenError;
use edu_db::token_cache::TokenKey;
use edu_tests::{Backend, TestApp, both_backends};
use secrecy::{ExposeSecret, SecretString};

both_backends!(
    tokens_round_trip_encrypted_and_a_swapped_row_fails_to_open,
    deleting_a_subject_or_tenant_removes_its_tokens
);

async fn tokens_round_trip_encrypted_and_a_swapped_row_fails_to_open(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.state.db;
    let cipher = &app.state.token_cipher;
    let tenant =
        edu_db::tenants::upsert_by_ms_id(db, "11111111-1111-1111-1111-111111111111", "Contoso", 0).await.unwrap();
    let ann = TokenKey { tenant, subject: "oid-ann", resource: "https://graph.microsoft.com", kind: "refresh" };
    let bob = TokenKey { subject: "oid-bob", ..ann };
    let secret = SecretString::from("0.ARoA-very-secret-refresh-token".to_owned());

    edu_db::token_cache::put(db, &ann, &cipher.seal(&ann, &secret, 99).unwrap(), 1).await.unwrap();
    edu_db::token_cache::put(db, &bob, &cipher.seal(&bob, &SecretString::from("bob".to_owned()), 99).unwrap(), 1)
        .await
        .unwrap();

    let stored = edu_db::token_cache::get(db, &ann).await.unwrap().unwrap();
    assert!(!String::from_utf8_lossy(&stored.ciphertext).contains("very-secret"), "no plaintext in the database");
    assert_eq!(cipher.open(&ann, &stored).unwrap().expose_secret(), secret.expose_secret());

    // An attacker with database access copies Ann's row onto Bob's: it does not open as Bob's.
    edu_db::token_cache::put(db, &bob, &stored, 2).await.unwrap();
    let swapped = edu_db::token_cache::get(db, &bob).await.unwrap().unwrap();
    assert_eq!(cipher.open(&bob, &swapped).unwrap_err(), OpenError::Tampered);

    // Replacing a token keeps one row per key.
    let newer = SecretString::from("rotated refresh token".to_owned());
    edu_db::token_cache::put(db, &ann, &cipher.seal(&ann, &newer, 199).unwrap(), 3).await.unwrap();
    let row = edu_db::token_cache::get(db, &ann).await.unwrap().unwrap();
    assert_eq!(row.expires_at, 199);
    assert_eq!(cipher.open(&ann, &row).unwrap().expose_secret(), "rotated refresh token");
}

async fn deleting_a_subject_or_tenant_removes_its_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = &app.state.db;
    let cipher = &app.state.token_cipher;
    let a = edu_db::tenants::upsert_by_ms_id(db, "11111111-1111-1111-1111-111111111111", "A", 0).await.unwrap();
    let b = edu_db::tenants::upsert_by_ms_id(db, "22222222-2222-2222-2222-222222222222", "B", 0).await.unwrap();
    let s = SecretString::from("t".to_owned());
    for (tenant, subject, kind) in [(a, "x", "access"), (a, "x", "refresh"), (a, "y", "refresh"), (b, "x", "refresh")] {
        let k = TokenKey { tenant, subject, resource: "g", kind };
        edu_db::token_cache::put(db, &k, &cipher.seal(&k, &s, 1).unwrap(), 1).await.unwrap();
    }
    assert_eq!(edu_db::token_cache::delete_subject(db, a, "x").await.unwrap(), 2);
    let bx = TokenKey { tenant: b, subject: "x", resource: "g", kind: "refresh" };
    assert!(edu_db::token_cache::get(db, &bx).await.unwrap().is_some(), "the other tenant's x is untouched");
    assert_eq!(edu_db::token_cache::delete_tenant(db, a).await.unwrap(), 1);
    assert!(edu_db::token_cache::get(db, &bx).await.unwrap().is_some());
}

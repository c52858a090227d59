//! The row structs decode what each backend returns: flags stored as integers, times as
//! unix-millisecond integers, nullable columns, BLOB bytes (links, ciphertext), ids parsed.

use edu_db::{jobs, oidc, seating, sessions, token_cache, users};
use edu_domain::{Email, Role, UserId};

use crate::support::{Backend, TestDb, consented_tenant};

crate::both_backends!(
    people_and_identities_decode,
    jobs_and_their_items_decode,
    tokens_sessions_seats_and_oidc_transactions_decode,
    stream_statuses_decode,
);

async fn people_and_identities_decode(backend: Backend) {
    // Arrange
    let t = TestDb::migrated(backend).await;
    let tenant = consented_tenant(&t.db, "ms-a").await;
    let email = Email::parse("ann@school.example").unwrap();
    let ann = UserId::new();
    let new = users::NewLocalUser {
        id: ann,
        email: &email,
        password_hash: "$argon2id$x",
        display_name: "ann",
        favorite_color: Some("#aabbcc"),
        now: 100,
    };

    // Act
    users::create_local(&t.db, &new).await.unwrap();
    let bob = edu_db::identities::create_person(
        &t.db,
        tenant,
        &edu_db::identities::MsProfile {
            ms_tenant_id: "ms-a",
            ms_object_id: "oid-b",
            upn: Some("bob@school.example"),
            display_name: None,
        },
        200,
    )
    .await
    .unwrap();
    users::set_roles(&t.db, tenant, bob, &[Role::Teacher], 201).await.unwrap();

    // Assert
    let a = users::get(&t.db, ann).await.unwrap().unwrap();
    assert_eq!((a.id, a.tenant_id, a.email.as_deref()), (ann, None, Some("ann@school.example")));
    assert!(a.has_password && !a.must_change_password && !a.disabled);
    assert_eq!((a.favorite_color.as_deref(), a.created_at), (Some("#aabbcc"), 100));
    let c = users::find_credentials(&t.db, &email).await.unwrap().unwrap();
    assert_eq!((c.user_id, c.password_hash.as_str(), c.disabled), (ann, "$argon2id$x", false));
    assert_eq!(users::password_hash(&t.db, bob).await.unwrap(), None);

    let b = users::get(&t.db, bob).await.unwrap().unwrap();
    assert_eq!((b.tenant_id, b.has_password, b.display_name.as_str()), (Some(tenant), false, "bob@school.example"));
    let i = edu_db::identities::find(&t.db, "ms-a", "oid-b").await.unwrap().unwrap();
    assert_eq!((i.tenant_id, i.user_id, i.user_has_password), (tenant, bob, false));
    assert_eq!(
        (i.upn.as_deref(), i.display_name.as_deref(), i.local_email.as_deref(), i.last_sign_in_at),
        (Some("bob@school.example"), None, None, Some(200))
    );
    assert_eq!(edu_db::identities::of_user(&t.db, bob).await.unwrap(), Some(i.clone()));
    assert_eq!(edu_db::identities::get_in_tenant(&t.db, tenant, &i.id).await.unwrap(), Some(i));
    assert_eq!(users::roles(&t.db, tenant, bob).await.unwrap(), [Role::Teacher]);
    let linked = users::linked_identity(&t.db, bob).await.unwrap().unwrap();
    assert_eq!((linked.ms_object_id.as_str(), linked.display_name), ("oid-b", None));
    let tr = edu_db::tenants::find_by_ms_id(&t.db, "ms-a").await.unwrap().unwrap();
    assert_eq!((tr.id, tr.consent_state.as_str()), (tenant, "consented"));
}

async fn jobs_and_their_items_decode(backend: Backend) {
    // Arrange
    let t = TestDb::migrated(backend).await;
    let tenant = consented_tenant(&t.db, "ms-a").await;

    // Act
    let job = jobs::create(&t.db, tenant, "enable_user_access", None, 100, 0).await.unwrap();
    let again = jobs::create(&t.db, tenant, "enable_user_access", None, 101, 0).await;
    let items = [
        jobs::ItemResult { seq: 0, item_id: "o-1".into(), result: "done".into(), error: None },
        jobs::ItemResult { seq: 1, item_id: "o-2".into(), result: "failed".into(), error: Some("Forbidden".into()) },
    ];
    jobs::record_items(&t.db, tenant, &job.id, &items).await.unwrap();
    let p = jobs::Progress { total: 2, done: 1, failed: 1, already: 0, last_error: Some("Forbidden".into()) };
    jobs::finish(&t.db, tenant, &job.id, jobs::status::SUCCEEDED, &p, 150).await.unwrap();

    // Assert
    assert_eq!(
        (job.status.as_str(), job.finished_at, job.last_error.as_deref(), job.started_by),
        ("queued", None, None, None)
    );
    assert!(matches!(again, Err(edu_db::DbError::Conflict("active_job"))), "one active job per kind");
    let done = jobs::latest_for_tenant(&t.db, tenant, "enable_user_access").await.unwrap().unwrap();
    assert_eq!((done.id.as_str(), done.status.as_str(), done.finished_at), (job.id.as_str(), "succeeded", Some(150)));
    assert_eq!(
        (done.total, done.done, done.failed, done.already, done.last_error.as_deref()),
        (2, 1, 1, 0, Some("Forbidden"))
    );
    assert_eq!(jobs::items(&t.db, tenant, &job.id, -1, 10).await.unwrap(), items);
    assert_eq!(jobs::recent_for_tenant(&t.db, tenant, "enable_user_access", 5).await.unwrap().len(), 1);
}

async fn tokens_sessions_seats_and_oidc_transactions_decode(backend: Backend) {
    // Arrange
    let t = TestDb::migrated(backend).await;
    let tenant = consented_tenant(&t.db, "ms-a").await;
    let key = token_cache::TokenKey { tenant, subject: "oid-b", resource: "https://graph", kind: "access" };
    // Not UTF-8: the BLOB columns must come back as bytes on both backends.
    let sealed = token_cache::SealedRow {
        key_id: "k1".into(),
        nonce: vec![0xff, 0, 1],
        ciphertext: vec![0xfe; 40],
        expires_at: 9_000,
    };
    let user = UserId::new();
    let email = Email::parse("cy@school.example").unwrap();
    let new = users::NewLocalUser {
        id: user,
        email: &email,
        password_hash: "h",
        display_name: "cy",
        favorite_color: None,
        now: 1,
    };
    users::create_local(&t.db, &new).await.unwrap();

    // Act
    token_cache::put(&t.db, &key, &sealed, 1).await.unwrap();
    sessions::create(
        &t.db,
        &sessions::NewSession {
            id_hash: "h1",
            user_id: user,
            tenant_id: None,
            auth_method: "local",
            now: 5,
            expires_at: 50,
            ms_auth_at: None,
        },
    )
    .await
    .unwrap();
    let seats = [
        seating::Seat { student_object_id: "s-1".into(), row: 0, col: 1 },
        seating::Seat { student_object_id: "s-2".into(), row: 2, col: 0 },
    ];
    seating::replace(&t.db, tenant, "class-1", &seats, user, 7).await.unwrap();
    let tx = oidc::OidcTransaction {
        purpose: "signin".into(),
        nonce: "n".into(),
        pkce_verifier: "v".into(),
        link_user_id: None,
        tenant_hint: Some("ms-a".into()),
        return_to: None,
        expires_at: 99,
    };
    oidc::create(&t.db, "state-1", &tx, 1).await.unwrap();

    // Assert
    assert_eq!(token_cache::get(&t.db, &key).await.unwrap(), Some(sealed));
    let s = sessions::get(&t.db, "h1").await.unwrap().unwrap();
    assert_eq!((s.user_id, s.tenant_id, s.auth_method.as_str()), (user, None, "local"));
    assert_eq!((s.created_at, s.last_seen_at, s.expires_at), (5, 5, 50));
    assert_eq!(seating::for_class(&t.db, tenant, "class-1").await.unwrap(), seats);
    assert_eq!(oidc::take(&t.db, "state-1").await.unwrap(), Some(tx));
    assert_eq!(oidc::take(&t.db, "state-1").await.unwrap(), None, "single use");
}

async fn stream_statuses_decode(backend: Backend) {
    // Arrange
    let t = TestDb::migrated(backend).await;
    let tenant = consented_tenant(&t.db, "ms-a").await;
    let (lease, _) = crate::sweep::users_round(&t.db, tenant).await;
    edu_db::sync::record_error(&t.db, &lease, "graph: throttled", 12).await.unwrap();

    // Act
    let all = edu_db::sync::stream_statuses(&t.db, None).await.unwrap();
    let mine = edu_db::sync::stream_statuses(&t.db, Some(tenant)).await.unwrap();

    // Assert
    assert_eq!(all, mine);
    let s = &mine[0];
    assert_eq!(
        (s.tenant_id, s.ms_tenant_id.as_str(), s.stream.as_str(), s.status.as_str()),
        (tenant, "ms-a", "users", "full")
    );
    assert_eq!((s.updated_at, s.last_error.as_deref()), (11, Some("graph: throttled")));
    assert_eq!(edu_db::sync::consented_tenants(&t.db).await.unwrap()[0].id, tenant);
    edu_db::sync::release_lease(&t.db, lease, 13).await.unwrap();
}

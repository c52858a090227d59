//! "Forgot password" links in storage (issue 17.5, R-B4): single use, 15-minute expiry decided
//! by the caller's `expires_at`, and of simultaneous uses of one link exactly one wins.

use edu_db::{password_resets, users};
use edu_domain::{Email, UserId};

use crate::support::{Backend, TestDb};

crate::both_backends!(
    a_reset_link_works_once_and_not_after_it_expires,
    twenty_simultaneous_uses_of_one_link_let_exactly_one_through,
);

async fn local_person(t: &TestDb) -> UserId {
    let email = Email::parse("ann@school.example").unwrap();
    let id = UserId::new();
    let new = users::NewLocalUser {
        id,
        email: &email,
        password_hash: "$argon2id$x",
        display_name: "ann",
        favorite_color: None,
        now: 1,
    };
    users::create_local(&t.db, &new).await.unwrap();
    id
}

async fn a_reset_link_works_once_and_not_after_it_expires(backend: Backend) {
    let t = TestDb::migrated(backend).await;
    let ann = local_person(&t).await;
    let h = "a".repeat(64);
    password_resets::create(&t.db, &h, ann, 1_000, 1_000 + 900_000).await.unwrap();
    assert_eq!(password_resets::consume(&t.db, &"b".repeat(64), 2_000).await.unwrap(), None, "unknown link");
    assert_eq!(password_resets::consume(&t.db, &h, 2_000).await.unwrap(), Some(ann));
    assert_eq!(password_resets::consume(&t.db, &h, 2_001).await.unwrap(), None, "used once already");

    let late = "c".repeat(64);
    password_resets::create(&t.db, &late, ann, 1_000, 1_000 + 900_000).await.unwrap();
    assert_eq!(password_resets::consume(&t.db, &late, 1_000 + 900_000).await.unwrap(), None, "expired at 15 min");
}

async fn twenty_simultaneous_uses_of_one_link_let_exactly_one_through(backend: Backend) {
    let t = TestDb::migrated(backend).await;
    let ann = local_person(&t).await;
    let h = "d".repeat(64);
    password_resets::create(&t.db, &h, ann, 1_000, 901_000).await.unwrap();
    let db = std::sync::Arc::new(t.db.clone());
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (db, start, h) = (db.clone(), start.clone(), h.clone());
            tokio::spawn(async move {
                start.wait().await;
                password_resets::consume(&*db, &h, 2_000).await.unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        if let Some(who) = task.await.unwrap() {
            assert_eq!(who, ann);
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "a link is used exactly once, however requests interleave");
}

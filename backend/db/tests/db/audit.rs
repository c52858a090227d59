//! `audit::record` joins the caller's transaction; so do the functions that open their own.

use edu_db::audit::{self, AuditEvent, TenantQuery};

use crate::support::{Backend, TestDb, consented_tenant};

crate::both_backends!(
    an_event_recorded_in_a_rolled_back_transaction_leaves_nothing,
    an_event_recorded_in_a_committed_transaction_leaves_one_row,
    a_function_with_its_own_transaction_nests_in_the_callers,
    the_sync_jobs_events_say_success,
);

fn event(tenant: edu_domain::TenantId, action: &str) -> AuditEvent<'_> {
    AuditEvent {
        tenant_id: Some(tenant),
        actor: None,
        action,
        target_type: Some("user"),
        target_id: Some("t-1".into()),
        result: audit::SUCCESS,
        detail: Some("d"),
        at: 10,
    }
}

async fn trail(db: &edu_db::Db, tenant: edu_domain::TenantId) -> Vec<audit::AuditRecord> {
    audit::for_tenant(db, tenant, &TenantQuery { limit: 100, ..Default::default() }).await.unwrap()
}

async fn an_event_recorded_in_a_rolled_back_transaction_leaves_nothing(backend: Backend) {
    // Arrange
    let t = TestDb::migrated(backend).await;
    let tenant = consented_tenant(&t.db, "ms-a").await;

    // Act
    let mut tx = t.db.begin().await.unwrap();
    edu_db::tenants::set_editable_profile_fields(&mut tx, tenant, &["mobilePhone"], 5).await.unwrap();
    audit::record(&mut tx, &event(tenant, "admin.profile_fields.set")).await.unwrap();
    // Inside the transaction both are visible.
    assert_eq!(trail_in(&mut tx, tenant).await, 1);
    tx.rollback().await.unwrap();

    // Assert
    assert!(trail(&t.db, tenant).await.is_empty());
    assert!(edu_db::tenants::editable_profile_fields(&t.db, tenant).await.unwrap().is_empty());
}

async fn trail_in(tx: &mut sqlx::Transaction<'_, sqlx::Any>, tenant: edu_domain::TenantId) -> usize {
    audit::for_tenant(&mut *tx, tenant, &TenantQuery { limit: 100, ..Default::default() }).await.unwrap().len()
}

async fn an_event_recorded_in_a_committed_transaction_leaves_one_row(backend: Backend) {
    // Arrange
    let t = TestDb::migrated(backend).await;
    let tenant = consented_tenant(&t.db, "ms-a").await;

    // Act
    let mut tx = t.db.begin().await.unwrap();
    edu_db::tenants::set_editable_profile_fields(&mut tx, tenant, &["mobilePhone"], 5).await.unwrap();
    audit::record(&mut tx, &event(tenant, "admin.profile_fields.set")).await.unwrap();
    tx.commit().await.unwrap();

    // Assert
    let rows = trail(&t.db, tenant).await;
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(
        (r.action.as_str(), r.result.as_str(), r.target_type.as_deref(), r.target_id.as_deref(), r.created_at),
        ("admin.profile_fields.set", "success", Some("user"), Some("t-1"), 10)
    );
    assert_eq!(r.detail.as_deref(), Some("d"));
    assert_eq!(r.actor_user_id, None);
    assert_eq!(edu_db::tenants::editable_profile_fields(&t.db, tenant).await.unwrap(), ["mobilePhone"]);
}

async fn a_function_with_its_own_transaction_nests_in_the_callers(backend: Backend) {
    // Arrange
    let t = TestDb::migrated(backend).await;
    let tenant = consented_tenant(&t.db, "ms-a").await;

    // Act: `set_group` commits its change and its audit event in a transaction of its own;
    // inside the caller's it is a savepoint, undone with the caller's rollback.
    let mut tx = t.db.begin().await.unwrap();
    assert!(edu_db::directory::set_group(&mut tx, tenant, Some("g-1"), None, 5).await.unwrap());
    assert_eq!(edu_db::directory::group(&mut tx, tenant).await.unwrap().as_deref(), Some("g-1"));
    tx.rollback().await.unwrap();

    // Assert
    assert_eq!(edu_db::directory::group(&t.db, tenant).await.unwrap(), None);
    assert!(trail(&t.db, tenant).await.is_empty());

    // And on the pool it commits on its own, audited with the readers' `success`.
    assert!(edu_db::directory::set_group(&t.db, tenant, Some("g-2"), None, 6).await.unwrap());
    let rows = trail(&t.db, tenant).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].action.as_str(), rows[0].result.as_str()), ("admin.directory_sync.set", "success"));
}

async fn the_sync_jobs_events_say_success(backend: Backend) {
    // Arrange: a profile the sync saw, then disabled in Entra.
    let t = TestDb::migrated(backend).await;
    let tenant = consented_tenant(&t.db, "ms-a").await;
    let (lease, cp) = crate::sweep::users_round(&t.db, tenant).await;
    let p = edu_db::sync::ProfileData { ms_object_id: "u-1".into(), account_enabled: true, ..Default::default() };
    let changes = [edu_db::sync::ProfileChange::Upsert(edu_db::sync::ProfilePatch::full(&p))];
    let next = edu_db::sync::PageEnd::Next("https://graph/next".into());
    let (_, cp) = edu_db::sync::commit_page(&t.db, &lease, "ms-a", &cp, &changes, &next, 60_000, 20).await.unwrap();

    // Act
    let changes = [edu_db::sync::ProfileChange::Disable("u-1".into())];
    edu_db::sync::commit_page(&t.db, &lease, "ms-a", &cp, &changes, &next, 60_000, 21).await.unwrap();

    // Assert
    let rows = trail(&t.db, tenant).await;
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!((r.action.as_str(), r.result.as_str()), ("sync.profile_disabled", "success"));
    assert_eq!((r.target_type.as_deref(), r.target_id.as_deref()), (Some("ms_user"), Some("u-1")));
    edu_db::sync::release_lease(&t.db, lease, 30).await.unwrap();
}

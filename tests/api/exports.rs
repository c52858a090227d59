//! CSV exports for tenant admins (seed 001): streamed downloads, RFC 4180 quoting,
//! spreadsheet formula neutralisation (OWASP CSV injection), tenant isolation (R-A20),
//! role checks, audit (R-A23).

use edu_db::sync::{PageEnd, ProfileChange, ProfileData, ProfilePatch};
use edu_domain::TenantId;
use edu_tests::{Backend, MicrosoftTestApp, both_backends};

both_backends!(
    an_admin_downloads_the_tenants_users_as_csv_and_only_theirs,
    an_admin_downloads_the_tenants_groups_from_graph_as_csv,
    teachers_students_and_anonymous_cannot_download_exports,
);

/// Writes profiles the way the sync job does (lease, full round, one committed page).
async fn seed_profiles(app: &MicrosoftTestApp, tenant: TenantId, ms_tenant: &str, people: &[ProfileData]) {
    let db = &app.state.db;
    let lease = edu_db::sync::acquire_lease(db, tenant, "users", "test", 60_000, 1).await.unwrap().unwrap();
    let cp = edu_db::sync::begin_full_round(db, &lease, 60_000, 1).await.unwrap();
    let changes: Vec<ProfileChange> = people.iter().map(|p| ProfileChange::Upsert(ProfilePatch::full(p))).collect();
    edu_db::sync::commit_page(db, &lease, ms_tenant, &cp, &changes, &PageEnd::Done("delta".into()), 60_000, 2)
        .await
        .unwrap();
    edu_db::sync::release_lease(db, lease, 3).await.unwrap();
}

fn person(id: &str, name: &str) -> ProfileData {
    ProfileData {
        ms_object_id: id.into(),
        display_name: Some(name.into()),
        user_principal_name: Some(format!("{id}@school.test")),
        account_enabled: true,
        ..Default::default()
    }
}

/// A strict RFC 4180 reader (CRLF records, quoted fields with doubled quotes).
fn parse_csv(s: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut f) = (vec![], vec![], String::new());
    let mut chars = s.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    f.push('"');
                }
                '"' => quoted = false,
                c => f.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut f)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF outside quotes");
                row.push(std::mem::take(&mut f));
                rows.push(std::mem::take(&mut row));
            }
            '\n' => panic!("bare LF outside quotes"),
            c => f.push(c),
        }
    }
    assert!(f.is_empty() && row.is_empty(), "the last record is not terminated");
    rows
}

async fn audit_of(app: &MicrosoftTestApp, c: &edu_tests::Client) -> Vec<edu_db::audit::AuditRecord> {
    let me = c.get("/api/me").await.body;
    let uid = edu_domain::UserId::parse(me["user"]["id"].as_str().unwrap()).unwrap();
    edu_db::audit::for_actor(&app.state.db, uid, 50).await.unwrap()
}

async fn an_admin_downloads_the_tenants_users_as_csv_and_only_theirs(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    let contoso = app.onboard(0).await;
    let fabrikam = app.onboard(1).await;
    let t = app.tenant(0);
    // 2,345 people: more than two database pages of the stream.
    let mut people: Vec<ProfileData> = (0..2345).map(|i| person(&format!("p{i:05}"), &format!("Person {i}"))).collect();
    people[0].display_name = Some("Smith, \"Ann\"\r\nSecond line".into());
    people[1].job_title = Some("=HYPERLINK(\"http://evil.test\",\"click\")".into());
    people[2].mobile_phone = Some("+1 555 0100".into());
    people[3].department = Some("@SUM(A1:A9)".into());
    people[4].office_location = Some("-2+3".into());
    seed_profiles(&app, contoso, &t.id, &people).await;
    seed_profiles(&app, fabrikam, &app.tenant(1).id, &[person("fabrikam-only", "Other School Person")]).await;

    let admin = app.sign_in(&t.admin).await;
    let r = admin.get("/api/admin/exports/users.csv").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    assert_eq!(r.header("content-disposition").as_deref(), Some("attachment; filename=\"users.csv\""));
    assert!(r.header("cache-control").unwrap().contains("no-store"));
    assert!(r.header("content-length").is_none(), "streamed (chunked), not buffered");
    let rows = parse_csv(&r.text);
    assert_eq!(rows[0], edu_domain::csv::USER_COLUMNS);
    assert_eq!(rows.len(), 1 + people.len(), "every person once, no other tenant's");
    assert!(!r.text.contains("fabrikam-only") && !r.text.contains("Other School Person"), "tenant isolation");
    let by_id = |id: &str| rows.iter().find(|row| row[0] == id).unwrap().clone();
    // RFC 4180: the quote, comma and CRLF survive a round trip.
    assert_eq!(by_id("p00000")[1], "Smith, \"Ann\"\r\nSecond line");
    // Formula triggers are neutralised with a leading apostrophe.
    assert_eq!(by_id("p00001")[4], "'=HYPERLINK(\"http://evil.test\",\"click\")");
    assert_eq!(by_id("p00002")[6], "'+1 555 0100");
    assert_eq!(by_id("p00003")[5], "'@SUM(A1:A9)");
    assert_eq!(by_id("p00004")[7], "'-2+3");
    assert_eq!(by_id("p02344")[1], "Person 2344");
    assert_eq!(by_id("p02344")[8], "true");
    assert_eq!(by_id("p02344")[9], "active");
    // Ordered and unique across page boundaries.
    let ids: Vec<&String> = rows[1..].iter().map(|r| &r[0]).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));

    // Who exported what is in the audit trail (no personal data in it).
    let trail = audit_of(&app, &admin).await;
    let e = trail.iter().find(|e| e.action == "export.csv").expect("export audited");
    assert_eq!((e.target_type.as_deref(), e.target_id.as_deref()), (Some("export"), Some("users")));
    assert!(!e.detail.clone().unwrap_or_default().contains("Person"));
}

async fn an_admin_downloads_the_tenants_groups_from_graph_as_csv(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    let admin = app.sign_in(&t.admin).await;
    app.emulator.reset_request_log();
    let r = admin.get("/api/admin/exports/groups.csv").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-disposition").as_deref(), Some("attachment; filename=\"groups.csv\""));
    assert!(r.header("cache-control").unwrap().contains("no-store"));
    let rows = parse_csv(&r.text);
    assert_eq!(rows[0], edu_domain::csv::GROUP_COLUMNS);
    let teachers = rows.iter().find(|r| r[1] == "All Teachers").expect("the All Teachers group");
    assert_eq!((teachers[6].as_str(), teachers[7].as_str()), ("true", "false"));
    // Every class of Contoso is a group; none of Fabrikam's.
    for class in &t.classes {
        assert!(rows.iter().any(|r| r[0] == class.id), "class group {}", class.display_name);
    }
    for class in &app.tenant(1).classes {
        assert!(!rows.iter().any(|r| r[0] == class.id), "Fabrikam's class {} leaked", class.display_name);
    }
    assert!(app.emulator.request_count("GET", "/groups") >= 1, "read from Graph");
    let trail = audit_of(&app, &admin).await;
    assert!(trail.iter().any(|e| e.action == "export.csv" && e.target_id.as_deref() == Some("groups")));
}

async fn teachers_students_and_anonymous_cannot_download_exports(backend: Backend) {
    let app = MicrosoftTestApp::spawn(backend).await;
    app.onboard(0).await;
    let t = app.tenant(0);
    for path in ["/api/admin/exports/users.csv", "/api/admin/exports/groups.csv"] {
        let r = app.client().get(path).await;
        assert_eq!((r.status, r.code()), (401, "unauthenticated"), "anonymous {path}");
    }
    let local = app.registered("ann@school.edu", "correct horse battery").await;
    assert_eq!(local.get("/api/admin/exports/users.csv").await.status, 403);
    for p in [&t.teachers[0], &t.students[0]] {
        let c = app.sign_in(p).await;
        for path in ["/api/admin/exports/users.csv", "/api/admin/exports/groups.csv"] {
            let r = c.get(path).await;
            assert_eq!((r.status, r.code()), (403, "role_required"), "{} {path}", p.upn);
            assert!(!r.text.contains("display_name"), "no CSV for {}", p.upn);
        }
    }
    assert_eq!(app.emulator.request_count("GET", "/groups"), 0, "refused before any Graph read");

    // Graph refusing the app (no group permission in its app-only token): the error
    // envelope with Graph's code, not a broken download.
    app.emulator.set_app_permissions(&app.emulator.demo().app_client_id, &["User.Read.All"]);
    let admin = app.sign_in(&t.admin).await;
    let r = admin.get("/api/admin/exports/groups.csv").await;
    assert_eq!((r.status, r.code()), (403, "microsoft_forbidden"), "{}", r.text);
    assert!(r.header("content-disposition").is_none());
}

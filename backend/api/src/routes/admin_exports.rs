//! CSV downloads for tenant admins (seed 001): the tenant's users (from the profiles the sync
//! job keeps, keyset-paged out of the database) and groups (from Graph, app-only, page by
//! page). Both are streamed: the server holds one page at a time, whatever the tenant's
//! size. The CSV writer is `edu_domain::csv`, the same as `edugraph-sync export`'s (RFC 4180
//! quoting, spreadsheet formula neutralisation).
//!
//! The first page is read before the response starts, so a database or Graph failure at
//! the start answers with the usual error envelope; a failure later can only cut the
//! download short (the status line is already sent), and is logged.

use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};
use edu_domain::TenantId;
use edu_domain::csv::{self, ExportKind};
use futures_util::StreamExt as _;

use crate::auth::roles::TenantAdmin;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Rows per database page of the users export.
const USER_PAGE: u32 = edu_db::exports::PAGE;
/// Graph's maximum page size for groups.
const GROUP_PAGE: u32 = 999;

async fn audit(state: &AppState, admin: &TenantAdmin, kind: ExportKind) -> Result<(), ApiError> {
    edu_db::audit::record(
        &state.db,
        &edu_db::audit::AuditEvent {
            tenant_id: Some(admin.0.tenant_id),
            actor: Some(admin.0.auth.user_id),
            action: "export.csv",
            target_type: Some("export"),
            target_id: Some(kind.as_str().to_owned()),
            result: "success",
            detail: Some("via admin API download"),
            at: state.clock.now_ms(),
        },
    )
    .await?;
    Ok(())
}

fn download(
    kind: ExportKind,
    body: impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> + 'static,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{}.csv\"", kind.as_str())))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(body)
}

fn stream_error(kind: ExportKind, e: impl std::fmt::Display) -> actix_web::Error {
    tracing::error!(export = kind.as_str(), error = %e, "CSV export failed mid-stream: download cut short");
    actix_web::error::ErrorInternalServerError("export failed")
}

/// The tenant's users as CSV (`id, display_name, user_principal_name, mail, job_title,
/// department, mobile_phone, office_location, account_enabled, state, synced_at`), from the
/// profiles the sync job keeps. Audited as `export.csv` / `users`.
#[utoipa::path(operation_id = "export_users_csv", tag = "admin", responses(
    (status = 200, description = "CSV (RFC 4180, CRLF; formula-like cells prefixed with `'`), streamed as an attachment", content_type = "text/csv", body = String),
    (status = 403, description = "`role_required`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/exports/users.csv")]
pub async fn export_users_csv(state: web::Data<AppState>, admin: TenantAdmin) -> Result<HttpResponse, ApiError> {
    let tenant = admin.0.tenant_id;
    let first = edu_db::exports::users_page(&state.db, tenant, None, USER_PAGE).await?;
    audit(&state, &admin, ExportKind::Users).await?;
    let mut head = String::new();
    csv::push_user_header(&mut head);
    // (pending page, cursor for the next read, done)
    let db = state.db.clone();
    let body = futures_util::stream::unfold((Some((head, first)), None::<String>, false), move |st| {
        let db = db.clone();
        async move { users_chunk(&db, tenant, st).await }
    });
    Ok(download(ExportKind::Users, body))
}

type UsersState = (Option<(String, Vec<csv::UserRow>)>, Option<String>, bool);

async fn users_chunk(
    db: &edu_db::Db,
    tenant: TenantId,
    (pending, cursor, done): UsersState,
) -> Option<(Result<Bytes, actix_web::Error>, UsersState)> {
    let (mut buf, page) = match pending {
        Some(p) => p,
        None if done => return None,
        None => match edu_db::exports::users_page(db, tenant, cursor.as_deref(), USER_PAGE).await {
            Ok(page) => (String::new(), page),
            Err(e) => return Some((Err(stream_error(ExportKind::Users, e)), (None, None, true))),
        },
    };
    if page.is_empty() && buf.is_empty() {
        return None;
    }
    for u in &page {
        csv::push_user(&mut buf, u);
    }
    let last = (page.len() == USER_PAGE as usize).then(|| page.last().map(|u| u.id.clone())).flatten();
    let done = last.is_none();
    Some((Ok(Bytes::from(buf)), (None, last, done)))
}

/// The tenant's groups as CSV (`id, display_name, description, mail, mail_nickname,
/// group_types, security_enabled, mail_enabled`), read from Microsoft Graph page by page with
/// the app's own (app-only) access to the tenant. Audited as `export.csv` / `groups`.
#[utoipa::path(operation_id = "export_groups_csv", tag = "admin", responses(
    (status = 200, description = "CSV (RFC 4180, CRLF; formula-like cells prefixed with `'`), streamed as an attachment", content_type = "text/csv", body = String),
    (status = 403, description = "`role_required`, `microsoft_forbidden`", body = crate::error::ErrorBody),
    (status = 503, description = "`microsoft_unavailable`", body = crate::error::ErrorBody),
), security(("session" = [])))]
#[get("/api/admin/exports/groups.csv")]
pub async fn export_groups_csv(state: web::Data<AppState>, admin: TenantAdmin) -> Result<HttpResponse, ApiError> {
    let t = edu_db::tenants::get(&state.db, admin.0.tenant_id)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, "No such tenant."))?;
    let auth = edu_msgraph::GraphAuth::app_only(t.ms_tenant_id);
    let target = edu_msgraph::Query::new().select(csv::GROUP_SELECT).top(GROUP_PAGE).apply("/groups");
    let opts = edu_msgraph::PageOptions { max_pages: Some(100_000), ..Default::default() };
    let mut pages = Box::pin(state.graph.pages::<edu_msgraph::models::Group>(auth, &target, opts));
    let first = match pages.next().await {
        Some(p) => p?,
        None => edu_msgraph::Page { value: vec![], next_link: None, delta_link: None, count: None, context: None },
    };
    audit(&state, &admin, ExportKind::Groups).await?;
    let mut head = String::new();
    csv::push_group_header(&mut head);
    let first_chunk = futures_util::stream::once(async move { Ok(group_chunk(head, first)) });
    let rest = pages.map(|p| match p {
        Ok(page) => Ok(group_chunk(String::new(), page)),
        Err(e) => Err(stream_error(ExportKind::Groups, e)),
    });
    Ok(download(ExportKind::Groups, first_chunk.chain(rest)))
}

fn group_chunk(mut buf: String, page: edu_msgraph::Page<edu_msgraph::models::Group>) -> Bytes {
    for g in page.value {
        csv::push_group(
            &mut buf,
            &csv::GroupRow {
                id: g.id,
                display_name: g.display_name,
                description: g.description,
                mail: g.mail,
                mail_nickname: g.mail_nickname,
                group_types: g.group_types,
                security_enabled: g.security_enabled,
                mail_enabled: g.mail_enabled,
            },
        );
    }
    Bytes::from(buf)
}

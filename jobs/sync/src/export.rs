//! `edugraph-sync export users|groups`: the tenant's users (from the locally synced
//! profiles) or groups (from Graph, page by page) as CSV, written with the shared writer in
//! `edu_domain::csv` (the admin API's downloads use the same one). Memory holds one page.

use std::io::Write;

use edu_db::Db;
use edu_domain::TenantId;
use edu_domain::csv::{self, ExportKind, GroupRow};
use edu_msgraph::{GraphAuth, GraphClient, PageOptions, Query};
use futures_util::StreamExt as _;

use crate::SyncError;

/// The Graph `$top` of the groups export (Graph's maximum for groups).
pub const GROUP_PAGE: u32 = 999;

/// Maps a Graph group to its export row.
#[must_use]
pub fn group_row(g: edu_msgraph::models::Group) -> GroupRow {
    GroupRow {
        id: g.id,
        display_name: g.display_name,
        description: g.description,
        mail: g.mail,
        mail_nickname: g.mail_nickname,
        group_types: g.group_types,
        security_enabled: g.security_enabled,
        mail_enabled: g.mail_enabled,
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the data.
    #[error("{0}")]
    Sync(#[from] SyncError),
    /// Writing the output.
    #[error("write: {0}")]
    Io(#[from] std::io::Error),
}

impl From<edu_db::DbError> for ExportError {
    fn from(e: edu_db::DbError) -> Self {
        Self::Sync(SyncError::Db(e))
    }
}

impl From<edu_msgraph::GraphError> for ExportError {
    fn from(e: edu_msgraph::GraphError) -> Self {
        Self::Sync(SyncError::Graph(e))
    }
}

/// Writes the users export of `tenant` to `out`; returns the number of data rows.
///
/// # Errors
/// Database or write errors (the output is then incomplete).
pub async fn export_users(db: &Db, tenant: TenantId, out: &mut dyn Write) -> Result<u64, ExportError> {
    let mut buf = String::new();
    csv::push_user_header(&mut buf);
    let mut after: Option<String> = None;
    let mut rows = 0u64;
    loop {
        let page = edu_db::exports::users_page(db, tenant, after.as_deref(), edu_db::exports::PAGE).await?;
        for u in &page {
            csv::push_user(&mut buf, u);
        }
        rows += page.len() as u64;
        out.write_all(buf.as_bytes())?;
        buf.clear();
        match page.last() {
            Some(last) if page.len() == edu_db::exports::PAGE as usize => after = Some(last.id.clone()),
            _ => return Ok(rows),
        }
    }
}

/// The first request of the groups export.
#[must_use]
pub fn groups_query() -> String {
    Query::new().select(csv::GROUP_SELECT).top(GROUP_PAGE).apply("/groups")
}

/// Writes the groups export of a tenant (app-only Graph reads, `@odata.nextLink` paging)
/// to `out`; returns the number of data rows.
///
/// # Errors
/// Graph errors (after the client's retries) or write errors.
pub async fn export_groups(graph: &GraphClient, ms_tenant_id: &str, out: &mut dyn Write) -> Result<u64, ExportError> {
    let mut buf = String::new();
    csv::push_group_header(&mut buf);
    let auth = GraphAuth::app_only(ms_tenant_id.to_owned());
    let mut pages = std::pin::pin!(graph.pages::<edu_msgraph::models::Group>(
        auth,
        &groups_query(),
        PageOptions { max_pages: Some(100_000), ..PageOptions::default() }
    ));
    let mut rows = 0u64;
    while let Some(page) = pages.next().await {
        for g in page?.value {
            csv::push_group(&mut buf, &group_row(g));
            rows += 1;
        }
        out.write_all(buf.as_bytes())?;
        buf.clear();
    }
    out.write_all(buf.as_bytes())?;
    Ok(rows)
}

/// Records who exported what (the CLI has no signed-in person: the actor is empty and the
/// detail says `cli`).
///
/// # Errors
/// Database errors.
pub async fn audit_export(db: &Db, tenant: TenantId, kind: ExportKind, rows: u64, now: i64) -> Result<(), ExportError> {
    let detail = format!("via edugraph-sync export; rows={rows}");
    edu_db::audit::record(
        db,
        &edu_db::audit::AuditEvent {
            tenant_id: Some(tenant),
            actor: None,
            action: "export.csv",
            target_type: Some("export"),
            target_id: Some(kind.as_str().to_owned()),
            result: edu_db::audit::SUCCESS,
            detail: Some(&detail),
            at: now,
        },
    )
    .await?;
    Ok(())
}

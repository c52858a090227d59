//! The education roster streams: `/education/classes/delta` into `roster_classes` and
//! `/education/users/delta` into `roster_users`, each under its own lease and
//! checkpoint (`edu_classes`, `edu_users`), with the users delta's guarantees: page and
//! checkpoint in one transaction (R-C3), resume from the last committed page, an expired
//! delta token (410 `resyncRequired`) starts a full round that archives only what it did not
//! see (R-C4).
//!
//! Microsoft's class deltas "do not include deleted classes" (educationclass-delta): a
//! deleted class is found only by a full round — the first sync, a resync, or the periodic
//! reconciliation (`--full`, R-C5) — and is then archived, not deleted.

use std::time::{Duration, Instant};

use edu_db::roster::{self as store, RosterChange, RosterCounts, RosterKind, RosterPatch};
use edu_db::sync::{Checkpoint, Lease, PageEnd, SyncTenant};
use edu_db::{Db, DbError};
use edu_msgraph::{GraphAuth, GraphError, GraphRequest};
use serde_json::{Map, Value};

use crate::stream::{self, Fetched, Stream};
use crate::{Outcome, SyncDeps, SyncError};

/// The Graph path of a roster stream's initial query.
#[must_use]
pub fn path(kind: RosterKind) -> &'static str {
    match kind {
        RosterKind::Users => "/education/users/delta",
        RosterKind::Classes => "/education/classes/delta",
    }
}

/// One roster stream's run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterReport {
    /// Which stream.
    pub kind: RosterKind,
    /// How it ended.
    pub outcome: Outcome,
    /// What changed.
    pub counts: RosterCounts,
    /// Pages committed in this run.
    pub pages: u64,
    /// Whether this run was (or continued) a full round.
    pub full: bool,
    /// Whether an expired delta token started a full resync.
    pub resynced: bool,
    /// Wall time.
    pub duration: Duration,
}

impl RosterReport {
    pub(crate) fn new(kind: RosterKind) -> Self {
        Self {
            kind,
            outcome: Outcome::Completed,
            counts: RosterCounts::default(),
            pages: 0,
            full: false,
            resynced: false,
            duration: Duration::ZERO,
        }
    }

    /// The part of the tenant's summary line for this stream.
    #[must_use]
    pub fn summary(&self) -> String {
        let status = match self.outcome {
            Outcome::Completed => "ok",
            Outcome::Busy => "busy",
            Outcome::Stopped => "stopped",
        };
        let c = &self.counts;
        format!(
            "{s}={status} {s}_added={} {s}_changed={} {s}_removed={} {s}_archived={} {s}_pages={}",
            c.added,
            c.changed,
            c.removed,
            c.archived,
            self.pages,
            s = self.kind.stream()
        )
    }
}

struct Page {
    changes: Vec<RosterChange>,
    next_link: Option<String>,
    delta_link: Option<String>,
}

/// `None`: the item does not carry the property; `Some(None)`: null or not text.
#[allow(clippy::option_option, reason = "absent vs null")]
fn text(o: &Map<String, Value>, key: &str) -> Option<Option<String>> {
    o.get(key).map(|v| v.as_str().map(str::to_owned))
}

/// A property of a nested object (`term.displayName`): absent when the object is absent,
/// null when the object is null.
#[allow(clippy::option_option, reason = "absent vs null")]
fn nested(o: &Map<String, Value>, outer: &str, key: &str) -> Option<Option<String>> {
    match o.get(outer)? {
        Value::Object(inner) => Some(inner.get(key).and_then(Value::as_str).map(str::to_owned)),
        _ => Some(None),
    }
}

#[allow(clippy::option_option, reason = "absent vs null")]
fn user_values(o: &Map<String, Value>) -> Vec<Option<Option<String>>> {
    let role = text(o, "primaryRole");
    // The SIS id lives on the role's own object (`student.externalId`, `teacher.externalId`).
    let role_object = match role.as_ref().and_then(Option::as_deref) {
        Some("teacher") => "teacher",
        _ => "student",
    };
    let external_id = nested(o, role_object, "externalId");
    let grade = if role_object == "student" { nested(o, "student", "grade") } else { Some(None) };
    vec![text(o, "displayName"), role, text(o, "userPrincipalName"), text(o, "mail"), external_id, grade]
}

#[allow(clippy::option_option, reason = "absent vs null")]
fn class_values(o: &Map<String, Value>) -> Vec<Option<Option<String>>> {
    vec![
        text(o, "displayName"),
        text(o, "classCode"),
        text(o, "mailNickname"),
        text(o, "externalId"),
        text(o, "grade"),
        nested(o, "term", "displayName"),
        nested(o, "term", "startDate"),
        nested(o, "term", "endDate"),
    ]
}

fn parse_page(kind: RosterKind, body: &[u8]) -> Result<Page, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let link = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let items = v.get("value").and_then(Value::as_array).ok_or("no `value` array")?;
    let mut changes = Vec::with_capacity(items.len());
    for item in items {
        let Some(o) = item.as_object() else { continue };
        let Some(id) = o.get("id").and_then(Value::as_str).filter(|id| !id.is_empty()) else { continue };
        let id = id.to_ascii_lowercase();
        if let Some(removed) = o.get("@removed") {
            changes.push(match removed.get("reason").and_then(Value::as_str) {
                Some("deleted") => RosterChange::Deleted(id),
                // `changed` and unknown reasons: the restorable choice.
                _ => RosterChange::Removed(id),
            });
            continue;
        }
        let values = match kind {
            RosterKind::Users => user_values(o),
            RosterKind::Classes => class_values(o),
        };
        changes.push(RosterChange::Upsert(RosterPatch { id, values }));
    }
    Ok(Page { changes, next_link: link("@odata.nextLink"), delta_link: link("@odata.deltaLink") })
}

async fn fetch_page(deps: &SyncDeps, kind: RosterKind, auth: &GraphAuth, cp: &Checkpoint) -> Result<Page, GraphError> {
    let target = cp.next_link.clone().unwrap_or_else(|| path(kind).to_owned());
    let mut req = GraphRequest::get(target);
    if let Some(n) = deps.page_size {
        req = req.header("Prefer", format!("odata.maxpagesize={n}"));
    }
    let resp = deps.graph.send(auth, req).await?;
    parse_page(kind, &resp.body).map_err(|message| GraphError::Decode {
        message,
        detail: Box::new(edu_msgraph::ErrorDetail::from_response(resp.status, Some(&resp.headers), &[])),
    })
}

/// One roster stream (classes or education users).
struct RosterStream(RosterKind);

impl Stream for RosterStream {
    type Items = Vec<RosterChange>;
    type Counts = RosterCounts;
    const DELTA: bool = true;

    fn name(&self) -> &'static str {
        self.0.stream()
    }

    async fn begin_round(&self, db: &Db, lease: &Lease, ttl: i64, now: i64) -> Result<Checkpoint, DbError> {
        store::begin_full_round(db, self.0, lease, ttl, now).await
    }

    async fn fetch(
        &self,
        deps: &SyncDeps,
        auth: &GraphAuth,
        cp: &Checkpoint,
    ) -> Result<Fetched<Self::Items>, GraphError> {
        let Page { changes, next_link, delta_link } = fetch_page(deps, self.0, auth, cp).await?;
        Ok(Fetched { len: changes.len(), items: changes, next_link, delta_link })
    }

    async fn commit(
        &self,
        db: &Db,
        lease: &Lease,
        cp: &Checkpoint,
        items: &Self::Items,
        end: &PageEnd,
        ttl: i64,
        now: i64,
    ) -> Result<(Self::Counts, Checkpoint), DbError> {
        store::commit_page(db, self.0, lease, cp, items, end, ttl, now).await
    }
}

/// Runs one roster stream of a tenant under `lease` (held by the caller).
///
/// # Errors
/// Graph errors after the client's retries, database errors, a lost lease; the checkpoint
/// keeps the last committed page.
pub async fn sync_roster(
    deps: &SyncDeps,
    tenant: &SyncTenant,
    kind: RosterKind,
    lease: &Lease,
    report: &mut RosterReport,
) -> Result<(), SyncError> {
    let started = Instant::now();
    let result = stream::run(deps, tenant, lease, &RosterStream(kind), |c| report.counts.add(c)).await;
    report.duration = started.elapsed();
    let run = result?;
    report.pages += run.pages;
    report.full = run.full;
    report.resynced = run.resynced;
    if run.stopped {
        report.outcome = Outcome::Stopped;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let dir = std::env::var("EDU_MS_FIXTURES")
            .unwrap_or_else(|_| format!("{}/../../../shared/reference/microsoft/fixtures", env!("CARGO_MANIFEST_DIR")));
        let path = format!("{dir}/{name}");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Microsoft's published first page of `/education/classes/delta` (placeholder values).
    #[test]
    fn parses_microsofts_classes_delta_page() {
        let page = parse_page(RosterKind::Classes, &fixture("graph_education_classes_delta_response.json")).unwrap();
        assert!(page.next_link.as_deref().is_some_and(|l| l.contains("/education/classes/delta?$skiptoken=")));
        assert_eq!(page.delta_link, None);
        let [RosterChange::Upsert(p)] = page.changes.as_slice() else { panic!("{:?}", page.changes) };
        assert_eq!(p.id, "string (identifier)");
        assert_eq!(p.values.len(), store::CLASS_COLUMNS.len());
        assert_eq!(p.values[0], Some(Some("String".into())), "displayName");
        assert_eq!(p.values[1], Some(Some("String".into())), "classCode");
        // `term` is an object without the properties in the sample: present, so cleared.
        assert_eq!(p.values[5], Some(None));
    }

    /// Microsoft's published first page of `/education/users/delta` (placeholder values).
    #[test]
    fn parses_microsofts_users_delta_page() {
        let page = parse_page(RosterKind::Users, &fixture("graph_education_users_delta_response.json")).unwrap();
        assert!(page.next_link.as_deref().is_some_and(|l| l.contains("/education/users/delta?$skiptoken=")));
        let [RosterChange::Upsert(p)] = page.changes.as_slice() else { panic!("{:?}", page.changes) };
        assert_eq!(p.values.len(), store::USER_COLUMNS.len());
        assert_eq!(p.values[0], Some(Some("String".into())), "displayName");
        assert_eq!(p.values[1], Some(Some("String".into())), "primaryRole");
        assert_eq!(p.values[2], Some(Some("String".into())), "userPrincipalName");
    }

    #[test]
    fn removals_absent_and_null_properties() {
        let body = br#"{"@odata.deltaLink":"https://graph/d","value":[
            {"id":"C-1","displayName":"Maths 7","term":{"displayName":"Fall","startDate":"2026-09-01","endDate":null}},
            {"id":"c-2","classCode":null},
            {"id":"u-3","@removed":{"reason":"changed"}},
            {"id":"u-4","@removed":{"reason":"deleted"}},
            {"displayName":"no id"}]}"#;
        let page = parse_page(RosterKind::Classes, body).unwrap();
        assert_eq!(page.delta_link.as_deref(), Some("https://graph/d"));
        assert_eq!(page.changes.len(), 4);
        let RosterChange::Upsert(p) = &page.changes[0] else { panic!() };
        assert_eq!(p.id, "c-1");
        assert_eq!(p.values[5], Some(Some("Fall".into())));
        assert_eq!(p.values[6], Some(Some("2026-09-01".into())));
        assert_eq!(p.values[7], Some(None));
        assert_eq!(p.values[1], None, "absent classCode is kept");
        let RosterChange::Upsert(p) = &page.changes[1] else { panic!() };
        assert_eq!(p.values[1], Some(None), "null classCode is cleared");
        assert_eq!(p.values[5], None, "absent term is kept");
        assert_eq!(page.changes[2], RosterChange::Removed("u-3".into()));
        assert_eq!(page.changes[3], RosterChange::Deleted("u-4".into()));
    }

    #[test]
    fn a_teachers_external_id_comes_from_the_teacher_object() {
        let body = br#"{"@odata.deltaLink":"d","value":[
            {"id":"t","primaryRole":"teacher","teacher":{"externalId":"T-9","teacherNumber":"9"},"student":{"externalId":null,"grade":null}},
            {"id":"s","primaryRole":"student","student":{"externalId":"S-1","grade":"7"}}]}"#;
        let page = parse_page(RosterKind::Users, body).unwrap();
        let RosterChange::Upsert(t) = &page.changes[0] else { panic!() };
        assert_eq!((t.values[4].clone(), t.values[5].clone()), (Some(Some("T-9".into())), Some(None)));
        let RosterChange::Upsert(s) = &page.changes[1] else { panic!() };
        assert_eq!((s.values[4].clone(), s.values[5].clone()), (Some(Some("S-1".into())), Some(Some("7".into()))));
    }
}

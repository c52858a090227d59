//! The class memberships stream (`edu_members`, issue 18 §3): who teaches and who is in each
//! synced class, into `roster_class_members` (storage: `edu_db::roster_members`), so the API
//! can show a class's people and a person's classes when Microsoft Graph is not answering.
//!
//! Microsoft's class delta carries no memberships (educationclass-delta), and a group delta
//! with `members@delta` would cover every group of the tenant, not the classes. So each round
//! visits every active class of `roster_classes` (after the classes delta has run) in id
//! order, [`CLASSES_PER_PAGE`] classes per page: one `$batch` with each class's
//! `/teachers` and `/members` (2 inner requests per class, 20 per batch), a further request
//! only for a list longer than one page. A page replaces those classes' rows and moves the
//! checkpoint (the last class visited) in one transaction; a crash resumes after the last
//! committed page. A class Microsoft no longer knows (404) is skipped: the classes delta's
//! next full round archives it, and then its memberships are set to `left`.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use edu_db::roster_members::{self as store, ClassMembers, MemberCounts, MemberRole};
use edu_db::sync::{Checkpoint, Lease, PageEnd};
use edu_db::{Db, DbError};
use edu_msgraph::{BatchRequest, GraphAuth, GraphError, GraphRequest, seg};
use serde_json::Value;

use crate::stream::{self, Fetched, Stream};
use crate::{Outcome, SyncDeps, SyncError, SyncTenant};

/// Classes per page (two inner requests each: one full `$batch` of 20).
pub const CLASSES_PER_PAGE: usize = 10;

/// What a memberships round did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembersReport {
    /// How it ended.
    pub outcome: Outcome,
    /// Counts.
    pub counts: MemberCounts,
    /// Pages committed.
    pub pages: u64,
    /// Wall time.
    pub duration: std::time::Duration,
    /// No round was due (the last one is younger than `members_every`): nothing was read.
    pub not_due: bool,
}

impl MembersReport {
    pub(crate) fn new() -> Self {
        Self {
            outcome: Outcome::Completed,
            counts: MemberCounts::default(),
            pages: 0,
            duration: std::time::Duration::ZERO,
            not_due: false,
        }
    }

    /// The part of the tenant's summary line about memberships.
    #[must_use]
    pub fn summary(&self) -> String {
        let status = match self.outcome {
            Outcome::Completed if self.not_due => "not_due",
            Outcome::Completed => "ok",
            Outcome::Busy => "busy",
            Outcome::Stopped => "stopped",
        };
        let c = &self.counts;
        format!(
            "{s}={status} {s}_classes={} {s}_memberships={} {s}_left={} {s}_pages={}",
            c.classes,
            c.memberships,
            c.left,
            self.pages,
            s = store::STREAM
        )
    }
}

/// The ids of a list page (lower case) and its next link.
fn parse_ids(body: &Value) -> Result<(Vec<String>, Option<String>), String> {
    let items = body.get("value").and_then(Value::as_array).ok_or("no `value` array")?;
    let ids = items
        .iter()
        .filter_map(|i| i.get("id").and_then(Value::as_str))
        .filter(|id| !id.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let next = body.get("@odata.nextLink").and_then(Value::as_str).map(str::to_owned);
    Ok((ids, next))
}

fn decode(message: String) -> GraphError {
    GraphError::Decode { message, detail: Box::new(edu_msgraph::ErrorDetail::from_response(200, None, &[])) }
}

/// The rest of a list beyond its first page.
async fn rest(
    deps: &SyncDeps,
    auth: &GraphAuth,
    mut next: Option<String>,
    ids: &mut Vec<String>,
) -> Result<(), GraphError> {
    while let Some(link) = next {
        let resp = deps.graph.send(auth, GraphRequest::get(link)).await?;
        let body: Value = serde_json::from_slice(&resp.body).map_err(|e| decode(e.to_string()))?;
        let (more, n) = parse_ids(&body).map_err(decode)?;
        ids.extend(more);
        next = n;
    }
    Ok(())
}

/// A class's people from its two lists: teachers, then members who are not teachers.
fn people(teachers: Vec<String>, members: Vec<String>) -> Vec<(String, MemberRole)> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(teachers.len() + members.len());
    for (ids, role) in [(teachers, MemberRole::Teacher), (members, MemberRole::Student)] {
        for id in ids {
            if seen.insert(id.clone()) {
                out.push((id, role));
            }
        }
    }
    out
}

/// The people of `classes`: one `$batch` of their teacher and member lists.
async fn fetch_classes(deps: &SyncDeps, auth: &GraphAuth, classes: &[String]) -> Result<Vec<ClassMembers>, GraphError> {
    let mut requests = Vec::with_capacity(classes.len() * 2);
    for (i, c) in classes.iter().enumerate() {
        requests.push(BatchRequest::get(format!("t{i}"), format!("/education/classes/{}/teachers?$select=id", seg(c))));
        requests.push(BatchRequest::get(
            format!("m{i}"),
            format!("/education/classes/{}/members?$select=id&$top=999", seg(c)),
        ));
    }
    let mut answers: HashMap<String, Result<edu_msgraph::BatchResponse, GraphError>> =
        deps.graph.batch(auth, requests).await?.into_map();
    let mut out = Vec::with_capacity(classes.len());
    for (i, c) in classes.iter().enumerate() {
        let teachers = list(deps, auth, c, answers.remove(&format!("t{i}"))).await?;
        let members = list(deps, auth, c, answers.remove(&format!("m{i}"))).await?;
        if let (Some(teachers), Some(members)) = (teachers, members) {
            out.push(ClassMembers { class_id: c.clone(), people: people(teachers, members) });
        }
    }
    Ok(out)
}

/// One of a class's lists from its `$batch` answer, whole; `None` when the class is gone (404:
/// deleted since the classes delta ran; its rows stay until that delta's next full round
/// archives the class).
async fn list(
    deps: &SyncDeps,
    auth: &GraphAuth,
    class: &str,
    answer: Option<Result<edu_msgraph::BatchResponse, GraphError>>,
) -> Result<Option<Vec<String>>, GraphError> {
    match answer {
        Some(Ok(resp)) => {
            let body: Value = resp.json()?;
            let (mut ids, next) = parse_ids(&body).map_err(decode)?;
            rest(deps, auth, next, &mut ids).await?;
            Ok(Some(ids))
        }
        Some(Err(e)) if e.is_not_found() => Ok(None),
        Some(Err(e)) => Err(e),
        None => Err(GraphError::InvalidRequest(format!("no batch answer for class {class}"))),
    }
}

/// The round's classes: every active synced class, in id order (read once per run).
struct MembersStream {
    classes: Vec<String>,
}

impl Stream for MembersStream {
    type Items = Vec<ClassMembers>;
    type Counts = MemberCounts;
    const DELTA: bool = false;

    fn name(&self) -> &'static str {
        store::STREAM
    }

    async fn begin_round(&self, db: &Db, lease: &Lease, ttl: i64, now: i64) -> Result<Checkpoint, DbError> {
        store::begin_round(db, lease, ttl, now).await
    }

    async fn fetch(
        &self,
        deps: &SyncDeps,
        auth: &GraphAuth,
        cp: &Checkpoint,
    ) -> Result<Fetched<Self::Items>, GraphError> {
        // The checkpoint's "next link" is the last class of the last committed page.
        let start = cp.next_link.as_deref().map_or(0, |last| self.classes.partition_point(|c| c.as_str() <= last));
        let page = &self.classes[start..(start + CLASSES_PER_PAGE).min(self.classes.len())];
        let next_link = (page.len() == CLASSES_PER_PAGE).then(|| page[page.len() - 1].clone());
        let items = if page.is_empty() { Vec::new() } else { fetch_classes(deps, auth, page).await? };
        Ok(Fetched { len: items.len(), items, next_link, delta_link: None })
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
        store::commit_page(db, lease, cp, items, end, ttl, now).await
    }
}

/// One memberships round of a tenant under `lease` (held by the caller).
///
/// # Errors
/// Graph errors after the client's retries, database errors, a lost lease; the checkpoint
/// keeps the last committed page.
pub(crate) async fn sync_members(
    deps: &SyncDeps,
    tenant: &SyncTenant,
    lease: &Lease,
    report: &mut MembersReport,
) -> Result<(), SyncError> {
    let started = Instant::now();
    let mut classes = store::active_classes(&deps.db, tenant.id).await?;
    classes.sort_unstable();
    let result = stream::run(deps, tenant, lease, &MembersStream { classes }, |c| {
        report.counts.classes += c.classes;
        report.counts.memberships += c.memberships;
        report.counts.left += c.left;
    })
    .await;
    report.duration = started.elapsed();
    let run = result?;
    report.pages += run.pages;
    if run.stopped {
        report.outcome = Outcome::Stopped;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teachers_first_each_person_once_ids_lower_cased() {
        let body = serde_json::json!({"@odata.nextLink": "https://graph/next", "value": [{"id": "AB"}, {"id": ""}, {"name": "x"}]});
        let (ids, next) = parse_ids(&body).unwrap();
        assert_eq!((ids, next.as_deref()), (vec!["ab".to_owned()], Some("https://graph/next")));
        assert!(parse_ids(&serde_json::json!({})).is_err());
        let p = people(vec!["t".into()], vec!["s".into(), "t".into(), "s".into()]);
        assert_eq!(p, vec![("t".to_owned(), MemberRole::Teacher), ("s".to_owned(), MemberRole::Student)]);
    }
}

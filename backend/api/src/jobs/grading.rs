//! "Return all graded" (issue 15): a teacher returns every graded submission of an assignment
//! that the student has not been given back yet, as a background job: `$batch`es of 20
//! `return` actions (with `Prefer: include-unknown-enum-members`), throttled parts retried by
//! the Graph client, a result per student and progress after every batch, in the same
//! `background_jobs` tables as the admin's bulk jobs.

use actix_web::web;
use edu_db::jobs::{self, ItemResult, Progress};
use edu_domain::{TenantId, UserId};
use edu_msgraph::Batch;
use sha2::{Digest, Sha256};

use crate::ids::GraphId;
use crate::services::graph;
use crate::state::AppState;

/// The job kind of one class (`rg:` + a digest of the class id + one of the assignment id): one
/// such job at a time per assignment, and the class is known from the kind when it is read.
#[must_use]
pub fn kind(class: &str, assignment: &str) -> String {
    format!("{}{}", class_prefix(class), &hex(assignment.as_bytes())[..12])
}

/// The part of [`kind`] that names the class.
#[must_use]
pub fn class_prefix(class: &str) -> String {
    format!("rg:{}", &hex(class.as_bytes())[..16])
}

fn hex(b: &[u8]) -> String {
    Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

/// One run, as the teacher who started it.
pub(crate) struct ReturnRun {
    /// The tenant.
    pub tenant: TenantId,
    /// The teacher.
    pub teacher: UserId,
    /// The tenant's Microsoft id.
    pub ms_tenant_id: String,
    /// The teacher's Microsoft object id (whose delegated token the job uses).
    pub teacher_oid: String,
    /// The job.
    pub job_id: String,
    /// The class.
    pub class_id: GraphId,
    /// The assignment.
    pub assignment_id: GraphId,
    /// (submission id, student id) to return, in order.
    pub items: Vec<(String, String)>,
}

/// Runs the job to its end: per-student results, progress, the outcome and its audit event.
pub(crate) async fn run_return(state: web::Data<AppState>, run: ReturnRun) {
    let started = std::time::Instant::now();
    let mut p = Progress { total: i64::try_from(run.items.len()).unwrap_or(i64::MAX), ..Progress::default() };
    let status = match work(&state, &run, &mut p).await {
        Ok(()) => jobs::status::SUCCEEDED,
        Err(code) => {
            tracing::warn!(job.id = %run.job_id, error.code = %code, "return-graded job failed");
            p.last_error = Some(code);
            jobs::status::FAILED
        }
    };
    if let Err(e) = jobs::finish(&state.db, run.tenant, &run.job_id, status, &p, state.clock.now_ms()).await {
        tracing::error!(job.id = %run.job_id, error = %e, "could not record the end of a background job");
    }
    let detail = format!("{status}: total={} done={} failed={}", p.total, p.done, p.failed);
    let event = edu_db::audit::AuditEvent {
        tenant_id: Some(run.tenant),
        actor: Some(run.teacher),
        action: "submission.return_graded",
        target_type: Some("assignment"),
        target_id: Some(run.assignment_id.as_str().to_owned()),
        result: if status == jobs::status::SUCCEEDED { "success" } else { "failure" },
        detail: Some(&detail),
        at: state.clock.now_ms(),
    };
    if let Err(e) = edu_db::audit::record(&state.db, &event).await {
        tracing::error!(job.id = %run.job_id, error = %e, "could not audit the end of a background job");
    }
    tracing::info!(
        job.id = %run.job_id,
        job.done = p.done,
        job.failed = p.failed,
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "return-graded job finished"
    );
}

async fn work(state: &AppState, run: &ReturnRun, p: &mut Progress) -> Result<(), String> {
    let progress = |p: Progress| async move {
        jobs::update_progress(&state.db, run.tenant, &run.job_id, &p, state.clock.now_ms()).await.map_err(|e| {
            tracing::error!(job.id = %run.job_id, error = %e, "could not record job progress");
            "database_error".to_owned()
        })
    };
    progress(p.clone()).await?;
    for (n, chunk) in run.items.chunks(edu_msgraph::MAX_BATCH_SIZE).enumerate() {
        let base = n * edu_msgraph::MAX_BATCH_SIZE;
        // The teacher's token, refreshed between batches when it is about to expire.
        let auth = super::admin_auth(state, run.tenant, &run.ms_tenant_id, &run.teacher_oid)
            .await
            .map_err(|e| e.code().as_str().to_owned())?;
        let mut batch = Batch::new();
        let parts: Vec<_> = chunk
            .iter()
            .map(|(sid, _)| batch.add(graph::submission_action(&run.class_id, &run.assignment_id, sid, "return")))
            .collect();
        let mut answers = state
            .graph
            .send_batch(&auth, batch)
            .await
            .map_err(|e| crate::error::graph_error(e).code().as_str().to_owned())?;
        let mut rows = vec![];
        for (i, ((_, student), part)) in chunk.iter().zip(parts).enumerate() {
            let (result, error) = match answers.take(part) {
                Ok(_) => {
                    p.done += 1;
                    ("done", None)
                }
                Err(e) => {
                    p.failed += 1;
                    let code = e.code().unwrap_or("error").to_owned();
                    p.last_error = Some(code.clone());
                    ("failed", Some(e.message().map_or(code.clone(), |m| format!("{code}: {m}"))))
                }
            };
            rows.push(ItemResult {
                seq: i64::try_from(base + i).unwrap_or(i64::MAX),
                item_id: student.clone(),
                result: result.to_owned(),
                error,
            });
        }
        jobs::record_items(&state.db, run.tenant, &run.job_id, &rows).await.map_err(|e| {
            tracing::error!(job.id = %run.job_id, error = %e, "could not record item results");
            "database_error".to_owned()
        })?;
        progress(p.clone()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{class_prefix, kind};

    #[test]
    fn the_kind_fits_the_column_and_names_the_class() {
        let k = kind("72a7baec-c3e9-4213-a850-f62de0adad5f", "efcdf80b-a5de-42ac-8579-e40b0223d48b");
        assert_eq!(k.len(), 31, "background_jobs.kind is VARCHAR(32)");
        assert!(k.starts_with(&class_prefix("72a7baec-c3e9-4213-a850-f62de0adad5f")));
        assert_ne!(k, kind("72a7baec-c3e9-4213-a850-f62de0adad5f", "other"));
    }
}

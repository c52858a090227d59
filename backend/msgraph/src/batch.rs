//! JSON batching (`POST /v1.0/$batch`): chunking into ≤20 requests (keeping
//! `dependsOn` chains together), per-item results, per-item retry of inner
//! 429/503/504 honouring the inner `Retry-After`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, SystemTime};

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::client::{GraphAuth, GraphClient, GraphRequest};
use crate::error::{ErrorDetail, GraphError};
use crate::retry::{Attempt, RetryPolicy, RetryState, Step};
use crate::settings::parse_retry_after;

/// Graph's limit of requests per batch.
pub const MAX_BATCH_SIZE: usize = 20;

/// One request inside a batch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BatchRequest {
    pub id: String,
    pub method: String,
    /// Relative to the version root, e.g. `/users/{id}?$select=id`.
    pub url: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

impl BatchRequest {
    pub fn new(id: impl Into<String>, method: Method, url: impl Into<String>) -> Self {
        BatchRequest {
            id: id.into(),
            method: method.as_str().to_owned(),
            url: url.into(),
            headers: BTreeMap::new(),
            body: None,
            depends_on: Vec::new(),
        }
    }

    pub fn get(id: impl Into<String>, url: impl Into<String>) -> Self {
        Self::new(id, Method::GET, url)
    }

    /// Sets a JSON body (and the `Content-Type` header Graph requires).
    pub fn with_json_body(mut self, body: serde_json::Value) -> Self {
        self.headers.insert("Content-Type".to_owned(), "application/json".to_owned());
        self.body = Some(body);
        self
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    pub fn depends_on(mut self, id: impl Into<String>) -> Self {
        self.depends_on.push(id.into());
        self
    }
}

/// Request body of `$batch`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BatchRequestBody {
    pub requests: Vec<BatchRequest>,
}

/// One inner response.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct BatchResponse {
    pub id: String,
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<serde_json::Value>,
}

impl BatchResponse {
    /// Case-insensitive header lookup.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Decodes the inner JSON body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, GraphError> {
        let v = self.body.clone().unwrap_or(serde_json::Value::Null);
        serde_json::from_value(v).map_err(|e| GraphError::Decode {
            message: e.to_string(),
            detail: Box::new(ErrorDetail {
                status: Some(self.status),
                request_id: self.header("request-id").map(str::to_owned),
                ..ErrorDetail::default()
            }),
        })
    }

    fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after").and_then(|v| parse_retry_after(v, SystemTime::now()))
    }

    /// Typed error for a failed inner response.
    pub fn to_error(&self) -> GraphError {
        let detail =
            ErrorDetail::from_json_value(self.status, |n| self.header(n).map(str::to_owned), self.body.as_ref());
        match GraphError::from_status(self.status, detail, self.header("location").map(str::to_owned)) {
            GraphError::Throttled { detail, .. } => GraphError::Throttled { retry_after: self.retry_after(), detail },
            other => other,
        }
    }
}

/// Response body of `$batch`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct BatchResponseBody {
    #[serde(default)]
    pub responses: Vec<BatchResponse>,
}

/// Result of one batched request.
#[derive(Debug)]
pub struct BatchItemResult {
    pub id: String,
    /// `Ok` for 2xx inner responses, the typed error otherwise (an inner 424
    /// means a `dependsOn` request failed).
    pub result: Result<BatchResponse, GraphError>,
}

/// Results in the order of the submitted requests.
#[derive(Debug, Default)]
pub struct BatchResults {
    pub items: Vec<BatchItemResult>,
}

impl BatchResults {
    pub fn get(&self, id: &str) -> Option<&Result<BatchResponse, GraphError>> {
        self.items.iter().find(|i| i.id == id).map(|i| &i.result)
    }

    pub fn into_map(self) -> HashMap<String, Result<BatchResponse, GraphError>> {
        self.items.into_iter().map(|i| (i.id, i.result)).collect()
    }
}

/// Splits requests into chunks of at most `max` so that every `dependsOn`
/// chain stays within one chunk. Errors on duplicate ids, unknown
/// dependencies or a chain longer than `max`.
pub fn plan_chunks(requests: &[BatchRequest], max: usize) -> Result<Vec<Vec<usize>>, GraphError> {
    let mut index = HashMap::new();
    for (i, r) in requests.iter().enumerate() {
        if r.id.is_empty() {
            return Err(GraphError::InvalidRequest("batch request id is empty".to_owned()));
        }
        if index.insert(r.id.as_str(), i).is_some() {
            return Err(GraphError::InvalidRequest(format!("duplicate batch request id {}", r.id)));
        }
    }
    // Union-find over dependsOn edges.
    let mut parent: Vec<usize> = (0..requests.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for (i, r) in requests.iter().enumerate() {
        for dep in &r.depends_on {
            let j = *index.get(dep.as_str()).ok_or_else(|| {
                GraphError::InvalidRequest(format!("batch request {} depends on unknown {dep}", r.id))
            })?;
            let (a, b) = (find(&mut parent, i), find(&mut parent, j));
            if a != b {
                parent[a] = b;
            }
        }
    }
    // Components in order of first appearance.
    let mut order: Vec<usize> = Vec::new();
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..requests.len() {
        let root = find(&mut parent, i);
        let entry = members.entry(root).or_default();
        if entry.is_empty() {
            order.push(root);
        }
        entry.push(i);
    }
    let mut chunks: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for root in order {
        let comp = members.remove(&root).unwrap_or_default();
        if comp.len() > max {
            return Err(GraphError::InvalidRequest(format!(
                "a dependsOn chain has {} requests (max {max} per batch)",
                comp.len()
            )));
        }
        if current.len() + comp.len() > max {
            chunks.push(std::mem::take(&mut current));
        }
        current.extend(comp);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    Ok(chunks)
}

impl GraphClient {
    /// Sends any number of requests through `$batch`: chunked into ≤20,
    /// inner 429/503/504 retried per item (up to `max_retries` rounds, waiting
    /// for the longest inner `Retry-After` or the exponential backoff).
    /// Requests that failed with 424 because a retried dependency failed are
    /// retried with it. Returns one result per request, in input order.
    pub async fn batch(&self, auth: &GraphAuth, requests: Vec<BatchRequest>) -> Result<BatchResults, GraphError> {
        let chunks = plan_chunks(&requests, MAX_BATCH_SIZE)?;
        let mut results: HashMap<String, Result<BatchResponse, GraphError>> = HashMap::new();
        for chunk in chunks {
            let chunk_reqs: Vec<BatchRequest> = chunk.iter().map(|&i| requests[i].clone()).collect();
            self.batch_chunk(auth, chunk_reqs, &mut results).await?;
        }
        let items = requests
            .iter()
            .map(|r| BatchItemResult {
                id: r.id.clone(),
                result: results.remove(&r.id).unwrap_or_else(|| {
                    Err(GraphError::Decode {
                        message: format!("no response for batch request {}", r.id),
                        detail: Box::default(),
                    })
                }),
            })
            .collect();
        Ok(BatchResults { items })
    }

    /// One chunk: the throttled items are resent under [`RetryPolicy::batch_items`].
    async fn batch_chunk(
        &self,
        auth: &GraphAuth,
        chunk: Vec<BatchRequest>,
        results: &mut HashMap<String, Result<BatchResponse, GraphError>>,
    ) -> Result<(), GraphError> {
        let mut round = BatchRound { client: self, auth, pending: chunk, results, throttled: Vec::new() };
        RetryPolicy::batch_items(self.settings()).run(self.sleeper().as_ref(), &mut round).await?;
        // Items still throttled when the policy gave up keep their last answer.
        round.results.extend(round.throttled);
        Ok(())
    }
}

/// One `$batch` round of a chunk under the [`RetryPolicy`]: sends the pending requests,
/// keeps the final answers and leaves the throttled ones pending.
struct BatchRound<'a> {
    client: &'a GraphClient,
    auth: &'a GraphAuth,
    /// Requests of the next round.
    pending: Vec<BatchRequest>,
    results: &'a mut HashMap<String, Result<BatchResponse, GraphError>>,
    /// The answers of the pending requests in the last round (their result when no further
    /// round is made).
    throttled: Vec<(String, Result<BatchResponse, GraphError>)>,
}

impl Attempt for BatchRound<'_> {
    type Output = Result<(), GraphError>;

    /// Inner 429/503/504 answers are retried, waiting for the longest inner `Retry-After`
    /// (or the backoff). Requests that failed with 424 because a retried dependency failed
    /// go along with it.
    async fn attempt(&mut self, _state: &mut RetryState, _previous: Option<Self::Output>) -> Step<Self::Output> {
        self.throttled.clear();
        let body = BatchRequestBody { requests: self.pending.clone() };
        let req = match GraphRequest::json(Method::POST, "$batch", &body) {
            Ok(req) => req,
            Err(e) => return Step::Done(Err(e)),
        };
        let resp = match self.client.send_raw(self.auth, req).await {
            Ok(resp) => resp,
            Err(e) => return Step::Done(Err(e)),
        };
        // The outer status is 200 when the batch parses; throttling docs
        // also mention 424 for a batch holding a throttled request, so any
        // status whose body carries `responses` is accepted.
        let parsed: Option<BatchResponseBody> = serde_json::from_slice(&resp.body).ok();
        let parsed = match parsed {
            Some(p) if resp.is_success() || !p.responses.is_empty() => p,
            _ => return Step::Done(Err(resp.into_error())),
        };
        let mut by_id: HashMap<String, BatchResponse> =
            parsed.responses.into_iter().map(|r| (r.id.clone(), r)).collect();
        let mut retry_ids: HashSet<String> = HashSet::new();
        let mut longest_wait = None;
        for r in &self.pending {
            if let Some(inner) = by_id.get(&r.id)
                && matches!(inner.status, 429 | 503 | 504)
            {
                retry_ids.insert(r.id.clone());
                if let Some(ra) = inner.retry_after() {
                    longest_wait = Some(longest_wait.map_or(ra, |w: Duration| w.max(ra)));
                }
            }
        }
        // Dependents that failed (424) because a retried request failed
        // go along with it.
        if !retry_ids.is_empty() {
            let mut changed = true;
            while changed {
                changed = false;
                for r in &self.pending {
                    if retry_ids.contains(&r.id) {
                        continue;
                    }
                    let failed_dep = by_id.get(&r.id).is_none_or(|x| x.status == 424);
                    if failed_dep && r.depends_on.iter().any(|d| retry_ids.contains(d)) {
                        retry_ids.insert(r.id.clone());
                        changed = true;
                    }
                }
            }
        }
        let mut next = Vec::new();
        for r in std::mem::take(&mut self.pending) {
            let result = match by_id.remove(&r.id) {
                Some(inner) if inner.is_success() => Ok(inner),
                Some(inner) => Err(inner.to_error()),
                None => Err(GraphError::Decode {
                    message: format!("batch response lacks id {}", r.id),
                    detail: Box::new(ErrorDetail::from_response(resp.status, Some(&resp.headers), &[])),
                }),
            };
            if retry_ids.contains(&r.id) {
                self.throttled.push((r.id.clone(), result));
                next.push(r);
            } else {
                self.results.insert(r.id, result);
            }
        }
        if next.is_empty() {
            return Step::Done(Ok(()));
        }
        // Drop dependencies on requests that already completed.
        let still: HashSet<String> = next.iter().map(|r| r.id.clone()).collect();
        for r in &mut next {
            r.depends_on.retain(|d| still.contains(d));
        }
        self.pending = next;
        Step::Retry { last: Ok(()), retry_after: longest_wait }
    }

    fn retrying(&self, state: &RetryState, delay: Duration, _last: &Self::Output) {
        tracing::info!(
            graph.batch_retry_items = self.pending.len(),
            retry = state.attempt + 1,
            delay_ms = delay.as_millis() as u64,
            "graph batch: retrying throttled inner requests"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(id: &str, deps: &[&str]) -> BatchRequest {
        let mut r = BatchRequest::get(id, "/me");
        r.depends_on = deps.iter().map(|d| (*d).to_owned()).collect();
        r
    }

    #[test]
    fn chunks_keep_dependency_chains_together() {
        let mut reqs: Vec<BatchRequest> = (0..19).map(|i| req(&format!("a{i}"), &[])).collect();
        reqs.push(req("c1", &[]));
        reqs.push(req("c2", &["c1"]));
        let chunks = plan_chunks(&reqs, 20).unwrap();
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].len(), 19);
        assert_eq!(chunks[1], vec![19, 20]);

        let reqs: Vec<BatchRequest> = (0..45).map(|i| req(&format!("{i}"), &[])).collect();
        let sizes: Vec<usize> = plan_chunks(&reqs, 20).unwrap().iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![20, 20, 5]);
    }

    #[test]
    fn invalid_batches_are_rejected() {
        assert!(plan_chunks(&[req("1", &[]), req("1", &[])], 20).is_err());
        assert!(plan_chunks(&[req("1", &["9"])], 20).is_err());
        let chain: Vec<BatchRequest> = (0..21)
            .map(|i| if i == 0 { req("0", &[]) } else { req(&i.to_string(), &[&(i - 1).to_string()]) })
            .collect();
        assert!(plan_chunks(&chain, 20).is_err());
    }
}

//! Typed Graph requests that can be sent alone or batched.
//!
//! A [`GraphReq<T>`] knows its method, path, query (`$select`, `$top`, …), optional JSON
//! body and headers, and the type `T` its answer decodes into. The same value is sent alone
//! with [`GraphClient::fetch`] or put into a [`Batch`], whose [`BatchAnswers`] hand back one
//! typed result per part: a failing part is that part's error, the others still decode.
//!
//! ```no_run
//! # use edu_msgraph::{Batch, GraphAuth, GraphClient, GraphError, GraphReq, Page};
//! # use edu_msgraph::models::{EducationClass, EducationUser};
//! # async fn demo(graph: &GraphClient, auth: &GraphAuth) -> Result<(), GraphError> {
//! let class: GraphReq<EducationClass> = GraphReq::get("/education/classes/abc").select(&["id", "displayName"]);
//! let one = graph.fetch(auth, class.clone()).await?;
//! let mut batch = Batch::new();
//! let c = batch.add(class);
//! let t = batch.add(GraphReq::<Page<EducationUser>>::get("/education/classes/abc/teachers").select(&["id"]));
//! let mut answers = graph.send_batch(auth, batch).await?;
//! let (class, teachers) = (answers.take(c)?, answers.take(t));
//! # let _ = (one, class, teachers);
//! # Ok(())
//! # }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::marker::PhantomData;

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::batch::{BatchRequest, BatchResponse};
use crate::client::{GraphAuth, GraphClient, GraphRequest};
use crate::error::{ErrorDetail, GraphError};
use crate::query::Query;

/// One Graph request whose answer decodes into `T` (`()` for answers without a body).
pub struct GraphReq<T> {
    method: Method,
    path: String,
    query: Query,
    headers: BTreeMap<String, String>,
    body: Option<serde_json::Value>,
    response: PhantomData<fn() -> T>,
}

impl<T> Clone for GraphReq<T> {
    fn clone(&self) -> Self {
        Self {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            headers: self.headers.clone(),
            body: self.body.clone(),
            response: PhantomData,
        }
    }
}

impl<T> fmt::Debug for GraphReq<T> {
    // The body may carry personal data: only its presence is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphReq")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("body", &self.body.is_some())
            .finish_non_exhaustive()
    }
}

impl<T> GraphReq<T> {
    /// A request without query, body or headers. `path` is relative to the version root
    /// (e.g. `/education/classes/{id}`); encode ids with [`crate::seg`].
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Query::new(),
            headers: BTreeMap::new(),
            body: None,
            response: PhantomData,
        }
    }

    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    /// `POST path` with a JSON body.
    ///
    /// # Errors
    /// The body does not serialize.
    pub fn post<B: Serialize + ?Sized>(path: impl Into<String>, body: &B) -> Result<Self, GraphError> {
        Self::new(Method::POST, path).json(body)
    }

    /// `$select=a,b,c`.
    #[must_use]
    pub fn select(mut self, fields: &[&str]) -> Self {
        self.query = self.query.select(fields);
        self
    }

    /// `$top=n`.
    #[must_use]
    pub fn top(mut self, top: u32) -> Self {
        self.query = self.query.top(top);
        self
    }

    /// `$expand=…`.
    #[must_use]
    pub fn expand(mut self, expand: impl Into<String>) -> Self {
        self.query = self.query.expand(expand);
        self
    }

    /// Any other query parameter.
    #[must_use]
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query = self.query.param(name, value);
        self
    }

    /// A request header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// A JSON body (with the `Content-Type` Graph requires inside a batch).
    ///
    /// # Errors
    /// The body does not serialize.
    pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Result<Self, GraphError> {
        let value = serde_json::to_value(body)
            .map_err(|e| GraphError::InvalidRequest(format!("cannot serialize body: {e}")))?;
        self.headers.insert("Content-Type".to_owned(), "application/json".to_owned());
        self.body = Some(value);
        Ok(self)
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// Path and query string, relative to the version root.
    pub fn url(&self) -> String {
        self.query.apply(&self.path)
    }

    /// This request as part `id` of a `$batch`.
    pub fn to_batch_request(&self, id: impl Into<String>) -> BatchRequest {
        let mut r = BatchRequest::new(id, self.method.clone(), self.url());
        r.headers.clone_from(&self.headers);
        r.body.clone_from(&self.body);
        r
    }

    fn to_graph_request(&self) -> Result<GraphRequest, GraphError> {
        let mut r = match &self.body {
            Some(body) => GraphRequest::json(self.method.clone(), self.url(), body)?,
            None => GraphRequest::new(self.method.clone(), self.url()),
        };
        for (name, value) in &self.headers {
            // `GraphRequest::json` sets the content type itself.
            if !name.eq_ignore_ascii_case("content-type") {
                r = r.header(name.clone(), value.clone());
            }
        }
        Ok(r)
    }
}

/// Decodes an answer body; an empty body decodes as JSON `null` (so `()` and `Option<_>`
/// accept `204 No Content`).
fn decode<T: DeserializeOwned>(body: &[u8], detail: impl FnOnce() -> ErrorDetail) -> Result<T, GraphError> {
    let result = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::from_value(serde_json::Value::Null)
    } else {
        serde_json::from_slice(body)
    };
    result.map_err(|e| GraphError::Decode { message: e.to_string(), detail: Box::new(detail()) })
}

impl GraphClient {
    /// Sends one typed request and decodes its answer (non-2xx answers are the typed
    /// [`GraphError`]; retries and the tenant's lane as for every call).
    ///
    /// # Errors
    /// Graph's refusal, a transport failure, or an answer that does not decode into `T`.
    pub async fn fetch<T: DeserializeOwned>(&self, auth: &GraphAuth, req: GraphReq<T>) -> Result<T, GraphError> {
        let resp = self.send(auth, req.to_graph_request()?).await?;
        decode(&resp.body, || ErrorDetail::from_response(resp.status, Some(&resp.headers), &[]))
    }

    /// Sends a [`Batch`] (one `$batch` round trip per 20 parts; throttled parts retried as
    /// for [`GraphClient::batch`]).
    ///
    /// # Errors
    /// Only a failure of the whole `$batch` call; a failing part is that part's answer.
    pub async fn send_batch(&self, auth: &GraphAuth, batch: Batch) -> Result<BatchAnswers, GraphError> {
        if batch.requests.is_empty() {
            return Ok(BatchAnswers::default());
        }
        let results = self.batch(auth, batch.requests).await?;
        Ok(BatchAnswers { results: results.into_map() })
    }
}

/// Requests to send in one `$batch`.
#[derive(Debug, Default)]
pub struct Batch {
    requests: Vec<BatchRequest>,
}

/// The handle of one part of a [`Batch`]: takes that part's typed answer out of the
/// [`BatchAnswers`].
#[derive(Debug)]
pub struct Part<T> {
    id: String,
    response: PhantomData<fn() -> T>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a request; its answer is taken with the returned [`Part`].
    pub fn add<T>(&mut self, req: GraphReq<T>) -> Part<T> {
        let id = self.requests.len().to_string();
        self.requests.push(req.to_batch_request(id.clone()));
        Part { id, response: PhantomData }
    }

    /// How many requests it holds.
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }
}

/// The answers of a sent [`Batch`], one per part.
#[derive(Debug, Default)]
pub struct BatchAnswers {
    results: HashMap<String, Result<BatchResponse, GraphError>>,
}

impl BatchAnswers {
    /// The typed answer of `part` (or its error). Each part can be taken once.
    ///
    /// # Errors
    /// The part failed at Graph, its answer does not decode, or it was taken already.
    pub fn take<T: DeserializeOwned>(&mut self, part: Part<T>) -> Result<T, GraphError> {
        match self.results.remove(&part.id) {
            Some(Ok(r)) => {
                let body = r.body.clone().unwrap_or(serde_json::Value::Null);
                serde_json::from_value(body).map_err(|e| GraphError::Decode {
                    message: e.to_string(),
                    detail: Box::new(ErrorDetail {
                        status: Some(r.status),
                        request_id: r.header("request-id").map(str::to_owned),
                        ..ErrorDetail::default()
                    }),
                })
            }
            Some(Err(e)) => Err(e),
            None => Err(GraphError::InvalidRequest(format!("no batch answer for part {}", part.id))),
        }
    }
}

/// Body of `PATCH /users/{id}` (and `/me`): only the fields that are set are sent; a field set
/// to `None` is sent as `null`, which clears it at Microsoft.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surname: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_title: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub office_location: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_phones: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_location: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_address: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_enabled: Option<bool>,
}

impl UserUpdate {
    /// Sets the text property Graph calls `name` (`None` clears it; for `businessPhones`, the
    /// one number or none). `false` for a property this body does not carry.
    pub fn set(&mut self, name: &str, value: Option<String>) -> bool {
        let slot = match name {
            "displayName" => &mut self.display_name,
            "givenName" => &mut self.given_name,
            "surname" => &mut self.surname,
            "jobTitle" => &mut self.job_title,
            "department" => &mut self.department,
            "officeLocation" => &mut self.office_location,
            "mobilePhone" => &mut self.mobile_phone,
            "usageLocation" => &mut self.usage_location,
            "streetAddress" => &mut self.street_address,
            "city" => &mut self.city,
            "state" => &mut self.state,
            "postalCode" => &mut self.postal_code,
            "country" => &mut self.country,
            "businessPhones" => {
                self.business_phones = Some(value.into_iter().collect());
                return true;
            }
            _ => return false,
        };
        *slot = Some(value);
        true
    }
}

/// Body of `PATCH /education/classes/{id}/assignments/{id}`: only the fields that are set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<crate::models::ItemBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date_time: Option<String>,
    /// `null` for no grade, else e.g. an `educationAssignmentPointsGradeType` with `maxPoints`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grading: Option<serde_json::Value>,
}

impl AssignmentUpdate {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{EducationClass, Page};

    #[test]
    fn a_request_knows_its_url_and_becomes_a_batch_part() {
        let req: GraphReq<Page<EducationClass>> =
            GraphReq::get("/education/me/classes").select(&["id", "displayName"]).top(20);
        assert_eq!(req.url(), "/education/me/classes?$select=id,displayName&$top=20");
        let part = req.to_batch_request("7");
        assert_eq!((part.id.as_str(), part.method.as_str()), ("7", "GET"));
        assert_eq!(part.url, "/education/me/classes?$select=id,displayName&$top=20");
        let post = GraphReq::<()>::post("/x", &serde_json::json!({"a": 1})).unwrap().to_batch_request("0");
        assert_eq!(post.headers.get("Content-Type").map(String::as_str), Some("application/json"));
    }

    #[test]
    fn updates_send_only_what_is_set_and_null_to_clear() {
        let mut u = UserUpdate::default();
        assert!(u.set("jobTitle", Some("Teacher".into())) && u.set("city", None) && u.set("businessPhones", None));
        assert!(!u.set("password", None));
        assert_eq!(
            serde_json::to_value(&u).unwrap(),
            serde_json::json!({"jobTitle": "Teacher", "city": null, "businessPhones": []})
        );
        let a = AssignmentUpdate { due_date_time: Some("2026-12-01T16:00:00Z".into()), ..AssignmentUpdate::default() };
        assert_eq!(serde_json::to_value(&a).unwrap(), serde_json::json!({"dueDateTime": "2026-12-01T16:00:00Z"}));
        assert!(AssignmentUpdate::default().is_empty() && !a.is_empty());
    }

    #[test]
    fn each_part_decodes_on_its_own() {
        let mut batch = Batch::new();
        let ok = batch.add(GraphReq::<EducationClass>::get("/a"));
        let bad = batch.add(GraphReq::<EducationClass>::get("/b"));
        let none = batch.add(GraphReq::<()>::get("/c"));
        let response = |id: &str, status: u16, body: Option<serde_json::Value>| BatchResponse {
            id: id.to_owned(),
            status,
            headers: BTreeMap::new(),
            body,
        };
        let mut answers = BatchAnswers {
            results: HashMap::from([
                ("0".to_owned(), Ok(response("0", 200, Some(serde_json::json!({"id": "c1", "displayName": "Art"}))))),
                ("1".to_owned(), Err(response("1", 403, None).to_error())),
                ("2".to_owned(), Ok(response("2", 204, None))),
            ]),
        };
        assert_eq!(answers.take(ok).unwrap().display_name.as_deref(), Some("Art"));
        assert!(matches!(answers.take(bad), Err(GraphError::Forbidden(_))));
        answers.take(none).unwrap();
        assert_eq!(decode::<()>(b"", ErrorDetail::default).ok(), Some(()));
    }
}

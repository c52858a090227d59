//! Microsoft Graph v1.0 surface. The core is synchronous (`dispatch`) so `$batch` can reuse it.

pub mod dir;
pub mod edu;
pub mod filter;

use crate::Shared;
use crate::model::*;
use crate::util::*;
use actix_web::body::{BodySize, MessageBody};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};
use std::pin::Pin;
use std::task::{Context, Poll};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/graph/{tail:.*}", web::route().to(graph_handler));
    // Upload-session URLs: pre-authenticated, outside the Graph version root (Microsoft's are
    // on another host altogether).
    cfg.route("/upload/{token}", web::route().to(upload_handler));
}

/// A response body that errors immediately: the connection is dropped mid-response.
pub struct DropBody;

impl MessageBody for DropBody {
    type Error = std::io::Error;
    fn size(&self) -> BodySize {
        BodySize::Stream
    }
    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "emulated dropped connection",
        ))))
    }
}

// ---------------------------------------------------------------- request / response

pub struct GReq {
    pub method: String,
    /// Path below the version root, e.g. `/users/abc`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl GReq {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name) || k.eq_ignore_ascii_case(name.trim_start_matches('$')))
            .map(|(_, v)| v.as_str())
    }
    pub fn json_body(&self) -> Result<Value, GErr> {
        if self.body.is_empty() {
            return Err(GErr::bad("BadRequest", "Empty Payload. JSON content expected."));
        }
        serde_json::from_slice(&self.body).map_err(|_| GErr::bad("BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."))
    }
}

pub enum GBody {
    Json(Value),
    Bytes(String, Vec<u8>),
    Text(String),
    Empty,
}

pub struct GResp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: GBody,
}

impl GResp {
    pub fn new(status: u16, body: GBody, crid: Option<&str>) -> GResp {
        let rid = new_id();
        let crid = crid.map(str::to_string).unwrap_or_else(|| rid.clone());
        GResp { status, headers: vec![("request-id".into(), rid), ("client-request-id".into(), crid)], body }
    }
    pub fn request_id(&self) -> &str {
        self.headers.iter().find(|(k, _)| k == "request-id").map(|(_, v)| v.as_str()).unwrap_or_default()
    }
    fn client_request_id(&self) -> &str {
        self.headers.iter().find(|(k, _)| k == "client-request-id").map(|(_, v)| v.as_str()).unwrap_or_default()
    }
    pub fn error(status: u16, code: &str, message: &str, crid: Option<&str>) -> GResp {
        let mut r = GResp::new(status, GBody::Empty, crid);
        r.body = GBody::Json(json!({"error": {"code": code, "message": message, "innerError": {
            "date": inner_error_date(), "request-id": r.request_id(), "client-request-id": r.client_request_id()}}}));
        r
    }
    pub fn into_http(self) -> HttpResponse {
        let mut b = HttpResponse::build(StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
        for (k, v) in &self.headers {
            b.insert_header((k.as_str(), v.as_str()));
        }
        match self.body {
            GBody::Json(v) => b.content_type("application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8").body(v.to_string()),
            GBody::Bytes(ct, bytes) => b.content_type(ct).body(bytes),
            GBody::Text(t) => b.content_type("text/plain").body(t),
            GBody::Empty => b.finish(),
        }
    }
}

pub fn throttle_body(rid: &str) -> Value {
    json!({"error": {"code": "TooManyRequests", "innerError": {"code": "429", "date": inner_error_date(), "message": "Please retry after", "request-id": rid, "status": "429"}, "message": "Please retry again later."}})
}

/// Handler error converted to a Graph error response.
#[derive(Debug)]
pub struct GErr {
    pub status: u16,
    pub code: String,
    pub msg: String,
    pub headers: Vec<(String, String)>,
}

impl GErr {
    pub fn new(status: u16, code: &str, msg: impl Into<String>) -> GErr {
        GErr { status, code: code.into(), msg: msg.into(), headers: vec![] }
    }
    pub fn bad(code: &str, msg: impl Into<String>) -> GErr {
        GErr::new(400, code, msg)
    }
    pub fn not_found(id: &str) -> GErr {
        GErr::new(
            404,
            "Request_ResourceNotFound",
            format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
        )
    }
    pub fn denied() -> GErr {
        GErr::new(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    }
}

pub type GResult = Result<GResp, GErr>;

// ---------------------------------------------------------------- actix entry

async fn graph_handler(shared: web::Data<Shared>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let full = req.path().strip_prefix("/graph").unwrap_or("");
    let greq = GReq {
        method: req.method().as_str().to_string(),
        path: full.to_string(),
        query: serde_urlencoded::from_str(req.query_string()).unwrap_or_default(),
        headers: req
            .headers()
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string())))
            .collect(),
        body: body.to_vec(),
    };
    if greq.path == "/oidc/userinfo" {
        return dir::userinfo(&shared, &greq).into_http();
    }
    let Some(rest) = greq.path.strip_prefix("/v1.0").map(str::to_string) else {
        let crid = greq.header("client-request-id").map(str::to_string);
        return GResp::error(
            400,
            "BadRequest",
            &format!("Invalid version: {}", greq.path.split('/').nth(1).unwrap_or("")),
            crid.as_deref(),
        )
        .into_http();
    };
    let greq = GReq { path: rest, ..greq };
    dispatch(&shared, &greq, true).into_http()
}

async fn upload_handler(shared: web::Data<Shared>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let greq = GReq {
        method: req.method().as_str().to_string(),
        path: req.path().to_string(),
        query: vec![],
        headers: req
            .headers()
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string())))
            .collect(),
        body: body.to_vec(),
    };
    let token = req.match_info().get("token").unwrap_or_default().to_string();
    let crid = greq.header("client-request-id").map(str::to_string);
    match dir::upload_range(&shared, &greq, &token) {
        Ok(r) => r.into_http(),
        Err(e) => GResp::error(e.status, &e.code, &e.msg, crid.as_deref()).into_http(),
    }
}

// ---------------------------------------------------------------- routing

const LITERALS: &[&str] = &[
    "me",
    "users",
    "groups",
    "education",
    "schools",
    "classes",
    "members",
    "teachers",
    "assignments",
    "submissions",
    "resources",
    "submittedResources",
    "submit",
    "unsubmit",
    "return",
    "reassign",
    "publish",
    "setUpResourcesFolder",
    "setUpFeedbackResourcesFolder",
    "delta",
    "photo",
    "$value",
    "manager",
    "assignLicense",
    "subscribedSkus",
    "memberOf",
    "transitiveMemberOf",
    "directoryRoles",
    "servicePrincipals",
    "appRoleAssignedTo",
    "sendMail",
    "drive",
    "drives",
    "root",
    "children",
    "conversations",
    "$ref",
    "$count",
    "$batch",
    "owners",
    "taughtClasses",
    "user",
    "organization",
    "items",
    "content",
    "messages",
    "GetResourcesFolderUrl",
    "createUploadSession",
    "outcomes",
    "threads",
    "posts",
    "directoryObjects",
    "mailFolders",
    "inbox",
    "sentitems",
    "applications",
    "transitiveMembers",
    "rubric",
    "categories",
    "excuse",
    "rubrics",
    "assignmentSettings",
    "gradingCategory",
    "gradingCategories",
    "assignmentCategories",
];

/// Normalises `users('x')` and `items/{id}:/{name}:/content` into plain segments.
pub fn segments(path: &str) -> Vec<String> {
    let p = path.replace(":/", "/");
    let p = p.trim_end_matches(':');
    let mut out = vec![];
    for s in p.split('/').filter(|s| !s.is_empty()) {
        let s = percent_decode(s);
        if let Some(open) = s.find("('")
            && s.ends_with("')")
        {
            out.push(s[..open].to_string());
            out.push(s[open + 2..s.len() - 2].to_string());
            continue;
        }
        out.push(s.trim_end_matches(':').to_string());
    }
    out
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

/// Route template (`/users/{id}/manager`) + the variable segments.
pub fn template(segs: &[String]) -> (String, Vec<String>) {
    let mut t = String::new();
    let mut params = vec![];
    for (i, s) in segs.iter().enumerate() {
        t.push('/');
        // `education/users`, `education/classes` etc. are literals; so is `users` after `education`.
        let literal = LITERALS.contains(&s.as_str()) && !(i > 0 && segs[i - 1] == "items");
        if literal {
            t.push_str(s);
        } else {
            t.push_str("{id}");
            params.push(s.clone());
        }
    }
    if t.is_empty() {
        t.push('/');
    }
    (t, params)
}

/// Template used by the request log, from a path below `/graph`.
pub fn route_template(_method: &str, path_below_graph: &str) -> String {
    match path_below_graph.strip_prefix("/v1.0") {
        Some(rest) => template(&segments(rest)).0,
        None => path_below_graph.to_string(),
    }
}

// ---------------------------------------------------------------- auth

#[derive(Clone, Debug)]
pub struct Ctx {
    pub tid: String,
    pub user: Option<String>,
    pub perms: Vec<String>,
    pub client_id: String,
    pub wids: Vec<String>,
}

impl Ctx {
    pub fn app_only(&self) -> bool {
        self.user.is_none()
    }
    pub fn has_any(&self, perms: &[&str]) -> bool {
        self.perms.iter().any(|p| perms.iter().any(|q| q.eq_ignore_ascii_case(p)))
    }
    /// Delegated needs one of `delegated`, app-only needs one of `app`.
    pub fn need(&self, delegated: &[&str], app: &[&str]) -> Result<(), GErr> {
        let ok = if self.app_only() { self.has_any(app) } else { self.has_any(delegated) };
        if ok { Ok(()) } else { Err(GErr::denied()) }
    }
    pub fn me(&self) -> Result<&str, GErr> {
        self.user
            .as_deref()
            .ok_or_else(|| GErr::bad("BadRequest", "/me request is only valid with delegated authentication flow."))
    }
    pub fn is_admin(&self) -> bool {
        self.wids.iter().any(|w| w == GLOBAL_ADMIN_ROLE || w == USER_ADMIN_ROLE)
    }
}

fn unauth(msg: &str) -> GErr {
    let mut e = GErr::new(401, "InvalidAuthenticationToken", msg);
    e.headers.push(("WWW-Authenticate".into(), format!("Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"{GRAPH_APP_ID}\"")));
    e
}

/// Signature, audience and lifetime checks (result cached per token string).
fn verify_token(sh: &Shared, token: &str) -> Result<Value, GErr> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| unauth("IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format."))?;
    let key = {
        let st = sh.read();
        st.keys.iter().find(|k| Some(&k.kid) == header.kid.as_ref()).cloned()
    };
    let key = key.ok_or_else(|| unauth("Access token validation failure. Invalid audience or signature key."))?;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[crate::oauth::GRAPH_RESOURCE, GRAPH_APP_ID]);
    v.leeway = 0;
    v.set_required_spec_claims(&["exp", "aud"]);
    let data = jsonwebtoken::decode::<Value>(token, &key.decoding, &v).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
            unauth("Lifetime validation failed, the token is expired.")
        }
        jsonwebtoken::errors::ErrorKind::InvalidAudience => {
            unauth("Access token validation failure. Invalid audience.")
        }
        _ => unauth("Access token validation failure."),
    })?;
    Ok(data.claims)
}

pub fn authenticate(sh: &Shared, req: &GReq) -> Result<Ctx, GErr> {
    let h = req.header("authorization").unwrap_or_default();
    let token = h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")).unwrap_or_default().trim();
    if token.is_empty() {
        return Err(unauth("Access token is empty."));
    }
    let cached = sh.token_cache.lock().unwrap_or_else(|p| p.into_inner()).get(token).cloned();
    let c: std::sync::Arc<Value> = match cached {
        Some(c) => {
            if c.get("exp").and_then(Value::as_u64).unwrap_or(0) <= now_secs() {
                return Err(unauth("Lifetime validation failed, the token is expired."));
            }
            c
        }
        None => {
            let c = std::sync::Arc::new(verify_token(sh, token)?);
            let mut cache = sh.token_cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() > 50_000 {
                cache.clear();
            }
            cache.insert(token.to_string(), c.clone());
            c
        }
    };

    let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let tid = s("tid");
    if s("iss") != format!("{}/{tid}/v2.0", sh.base_url) {
        return Err(unauth("Access token validation failure. Invalid issuer."));
    }
    let st = sh.read();
    let t = st.tenant(&tid).ok_or_else(|| unauth("Access token validation failure. Unknown tenant."))?;
    let idtyp = s("idtyp");
    let (user, perms) = if idtyp == "app" {
        let roles = c
            .get("roles")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        (None, roles)
    } else {
        let oid = s("oid");
        if !t.users.contains_key(&oid) {
            return Err(unauth("Access token validation failure. The user does not exist in the tenant."));
        }
        (Some(oid), s("scp").split(' ').filter(|x| !x.is_empty()).map(str::to_string).collect())
    };
    let wids = match &user {
        Some(u) => t.users.get(u).map(|u| u.wids.clone()).unwrap_or_default(),
        None => vec![],
    };
    Ok(Ctx { tid, user, perms, client_id: s("azp"), wids })
}

// ---------------------------------------------------------------- query options

#[derive(Clone, Debug, Default)]
pub struct Q {
    pub select: Option<Vec<String>>,
    pub filter: Option<String>,
    pub top: Option<usize>,
    pub skiptoken: Option<String>,
    pub count: bool,
    pub eventual: bool,
    pub expand: Vec<String>,
    pub orderby: Option<String>,
    pub search: Option<String>,
    pub raw: Vec<(String, String)>,
}

pub fn parse_q(req: &GReq) -> Result<Q, GErr> {
    let mut q = Q {
        raw: req.query.clone(),
        eventual: req.header("ConsistencyLevel").is_some_and(|v| v.eq_ignore_ascii_case("eventual")),
        ..Default::default()
    };
    for (k, v) in &req.query {
        match k.trim_start_matches('$').to_ascii_lowercase().as_str() {
            "select" => q.select = Some(v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()),
            "filter" => q.filter = Some(v.clone()),
            "top" => {
                q.top = Some(v.parse().map_err(|_| {
                    GErr::bad("Request_BadRequest", format!("Invalid value '{v}' for query parameter $top."))
                })?)
            }
            "skiptoken" if !v.is_empty() => q.skiptoken = Some(v.clone()),
            "count" => q.count = v == "true",
            "expand" => q.expand = v.split(',').map(|s| s.trim().split('(').next().unwrap_or("").to_string()).collect(),
            "orderby" => q.orderby = Some(v.clone()),
            "search" => q.search = Some(v.clone()),
            _ => {}
        }
    }
    Ok(q)
}

impl Q {
    pub fn advanced(&self) -> bool {
        self.eventual && self.count
    }
}

/// Applies `$filter` (resource name for error messages, allowed props; empty = any).
pub fn apply_filter(
    items: Vec<Value>,
    q: &Q,
    resource: &str,
    allowed: &[&str],
    directory: bool,
) -> Result<Vec<Value>, GErr> {
    let Some(f) = &q.filter else { return Ok(items) };
    let parsed =
        filter::parse(f).map_err(|e| GErr::bad("Request_UnsupportedQuery", format!("Invalid filter clause: {e}")))?;
    if directory
        && !q.advanced()
        && let Some(op) = parsed.advanced.first()
    {
        return Err(GErr::bad(
            "Request_UnsupportedQuery",
            format!(
                "Operator '{op}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"
            ),
        ));
    }
    if !allowed.is_empty() {
        for p in &parsed.props {
            let root = p.split('/').next().unwrap_or_default();
            if !allowed.contains(&root) && !root.starts_with("extension_") {
                return Err(GErr::bad(
                    "Request_UnsupportedQuery",
                    format!(
                        "Unsupported or invalid query filter clause specified for property '{root}' of resource '{resource}'."
                    ),
                ));
            }
        }
    }
    Ok(items.into_iter().filter(|v| filter::eval(&parsed.expr, v)).collect())
}

pub fn apply_orderby(items: &mut [Value], q: &Q) {
    let Some(o) = &q.orderby else { return };
    let mut parts = o.split_whitespace();
    let prop = parts.next().unwrap_or("displayName").to_string();
    let desc = parts.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
    items.sort_by(|a, b| {
        let x = a.get(&prop).map(|v| v.to_string().to_lowercase()).unwrap_or_default();
        let y = b.get(&prop).map(|v| v.to_string().to_lowercase()).unwrap_or_default();
        if desc { y.cmp(&x) } else { x.cmp(&y) }
    });
}

pub fn project(v: &Value, select: &Option<Vec<String>>) -> Value {
    match (select, v) {
        (Some(sel), Value::Object(m)) => {
            let mut o = Map::new();
            for (k, val) in m {
                if k.starts_with("@odata.type") || sel.iter().any(|s| s.eq_ignore_ascii_case(k)) {
                    o.insert(k.clone(), val.clone());
                }
            }
            // Selected properties that have no value come back as null (unless it's a removed item).
            if !m.contains_key("@removed") {
                for s in sel {
                    if !s.contains('/') && !s.is_empty() && !o.keys().any(|k| k.eq_ignore_ascii_case(s)) {
                        o.insert(s.clone(), Value::Null);
                    }
                }
            }
            Value::Object(o)
        }
        _ => v.clone(),
    }
}

pub fn context(sh: &Shared, set: &str, select: &Option<Vec<String>>, entity: bool) -> String {
    let sel = select.as_ref().map(|s| format!("({})", s.join(","))).unwrap_or_default();
    format!("{}/v1.0/$metadata#{set}{sel}{}", sh.graph_base(), if entity { "/$entity" } else { "" })
}

/// Serves a collection with `$top`/`$skiptoken` paging, `$count`, `$select`.
/// `$top` / `$skiptoken` → (top, offset).
pub fn page_params(q: &Q, default_top: usize, max_top: usize) -> Result<(usize, usize), GErr> {
    let top = q.top.unwrap_or(default_top);
    if top == 0 || top > max_top {
        return Err(GErr::bad(
            "Request_BadRequest",
            format!("Invalid page size specified: '{top}'. Must be between 1 and {max_top} inclusive."),
        ));
    }
    let offset = match &q.skiptoken {
        None => 0,
        Some(t) => decode_skip(t).ok_or_else(|| GErr::bad("Request_BadRequest", "Invalid skip token."))?,
    };
    Ok((top, offset))
}

pub fn collection(
    sh: &Shared,
    req: &GReq,
    q: &Q,
    ctx_set: &str,
    items: Vec<Value>,
    default_top: usize,
    max_top: usize,
) -> GResult {
    let (top, offset) = page_params(q, default_top, max_top)?;
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(top).collect();
    collection_page(sh, req, q, ctx_set, page, offset, total)
}

/// Serves one already-sliced page (`page` starts at `offset` of `total` items).
pub fn collection_page(
    sh: &Shared,
    req: &GReq,
    q: &Q,
    ctx_set: &str,
    page: Vec<Value>,
    offset: usize,
    total: usize,
) -> GResult {
    // `$select` limits the entity's own properties; navigation properties named in `$expand`
    // still come back (OData: "$select and $expand can be combined").
    let page: Vec<Value> = page
        .iter()
        .map(|v| {
            let mut out = project(v, &q.select);
            if let (Some(o), Some(src)) = (out.as_object_mut(), v.as_object()) {
                for e in &q.expand {
                    let name = e.split('(').next().unwrap_or_default();
                    if let Some(val) = src.get(name) {
                        o.insert(name.to_owned(), val.clone());
                    }
                }
            }
            out
        })
        .collect();
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(context(sh, ctx_set, &q.select, false)));
    if q.count && q.eventual && q.skiptoken.is_none() {
        body.insert("@odata.count".into(), json!(total));
    }
    if offset + page.len() < total {
        let mut params: Vec<(String, String)> =
            q.raw.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("$skiptoken")).cloned().collect();
        params.push(("$skiptoken".into(), encode_skip(offset + page.len())));
        let qs = serde_urlencoded::to_string(&params).unwrap_or_default().replace("%24", "$");
        body.insert("@odata.nextLink".into(), json!(format!("{}/v1.0{}?{qs}", sh.graph_base(), req.path)));
    }
    body.insert("value".into(), Value::Array(page));
    Ok(ok_json(req, 200, Value::Object(body)))
}

pub fn encode_skip(n: usize) -> String {
    format!("RFNwdAIAAQAAA{}", b64url(format!("emu:{n}").as_bytes()))
}

fn decode_skip(t: &str) -> Option<usize> {
    let raw = b64url_decode(t.strip_prefix("RFNwdAIAAQAAA")?)?;
    String::from_utf8(raw).ok()?.strip_prefix("emu:")?.parse().ok()
}

pub fn ok_json(req: &GReq, status: u16, v: Value) -> GResp {
    GResp::new(status, GBody::Json(v), req.header("client-request-id"))
}

pub fn no_content(req: &GReq, status: u16) -> GResp {
    GResp::new(status, GBody::Empty, req.header("client-request-id"))
}

pub fn entity(sh: &Shared, req: &GReq, set: &str, q: &Q, v: Value) -> GResp {
    let mut out = Map::new();
    out.insert("@odata.context".into(), json!(context(sh, set, &q.select, true)));
    if let Value::Object(m) = project(&v, &q.select) {
        out.extend(m);
    }
    ok_json(req, 200, Value::Object(out))
}

// ---------------------------------------------------------------- dispatch

pub fn dispatch(sh: &Shared, req: &GReq, allow_batch: bool) -> GResp {
    let crid = req.header("client-request-id").map(str::to_string);
    let segs = segments(&req.path);
    let (tpl, params) = template(&segs);
    let result = if tpl == "/$batch" && req.method == "POST" {
        if allow_batch {
            batch(sh, req)
        } else {
            Err(GErr::bad("BadRequest", "Nested batch requests are not supported."))
        }
    } else {
        match authenticate(sh, req) {
            Err(e) => Err(e),
            Ok(ctx) => match parse_q(req) {
                Err(e) => Err(e),
                Ok(q) => route(sh, req, &ctx, &q, &tpl, &params),
            },
        }
    };
    match result {
        Ok(r) => r,
        Err(e) => {
            let mut r = GResp::error(e.status, &e.code, &e.msg, crid.as_deref());
            r.headers.extend(e.headers);
            r
        }
    }
}

fn route(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, tpl: &str, p: &[String]) -> GResult {
    let m = req.method.as_str();
    if tpl.starts_with("/education") {
        return edu::route(sh, req, ctx, q, m, tpl, p);
    }
    dir::route(sh, req, ctx, q, m, tpl, p)
}

pub fn not_routed(req: &GReq, tpl: &str) -> GErr {
    if LITERALS.iter().any(|l| tpl.contains(l)) {
        GErr::new(
            405,
            "Request_BadRequest",
            format!("The HTTP method '{}' is not supported for '{}'.", req.method, req.path),
        )
    } else {
        GErr::new(
            400,
            "BadRequest",
            format!(
                "Resource not found for the segment '{}'.",
                req.path.trim_start_matches('/').split('/').next().unwrap_or("")
            ),
        )
    }
}

// ---------------------------------------------------------------- $batch

fn batch(sh: &Shared, req: &GReq) -> GResult {
    let body: Value =
        serde_json::from_slice(&req.body).map_err(|_| GErr::bad("BadRequest", "Invalid batch payload format."))?;
    let reqs = body
        .get("requests")
        .and_then(Value::as_array)
        .ok_or_else(|| GErr::bad("BadRequest", "Invalid batch payload format."))?;
    if reqs.len() > 20 {
        return Err(GErr::bad("BadRequest", "The number of requests in a batch cannot exceed 20."));
    }
    let mut ids: Vec<String> = vec![];
    for r in reqs {
        let id = r
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| GErr::bad("BadRequest", "Each batch request must have an 'id' string."))?;
        if ids.iter().any(|x| x == id) {
            return Err(GErr::bad("BadRequest", format!("Batch request contains duplicate id '{id}'.")));
        }
        ids.push(id.to_string());
        if r.get("method").and_then(Value::as_str).is_none() || r.get("url").and_then(Value::as_str).is_none() {
            return Err(GErr::bad("BadRequest", format!("Batch request '{id}' is missing 'method' or 'url'.")));
        }
        if r.get("body").is_some_and(|b| !b.is_null())
            && !r
                .get("headers")
                .and_then(Value::as_object)
                .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("content-type")))
        {
            return Err(GErr::bad(
                "BadRequest",
                format!("Batch request '{id}' has a body but no Content-Type header."),
            ));
        }
    }
    for r in reqs {
        for d in r.get("dependsOn").and_then(Value::as_array).into_iter().flatten() {
            if !d.as_str().is_some_and(|d| ids.iter().any(|x| x == d)) {
                return Err(GErr::bad("BadRequest", format!("dependsOn refers to an unknown request id {d}.")));
            }
        }
    }
    // Execute in dependency order.
    let mut done: Vec<(String, u16, Value)> = vec![];
    let mut remaining: Vec<&Value> = reqs.iter().collect();
    while !remaining.is_empty() {
        let pos = remaining.iter().position(|r| {
            r.get("dependsOn")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .all(|d| done.iter().any(|(id, _, _)| Some(id.as_str()) == d.as_str()))
        });
        let Some(pos) = pos else {
            return Err(GErr::bad("BadRequest", "Circular dependsOn in batch request."));
        };
        let r = remaining.remove(pos);
        let id = r.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        let failed_dep = r
            .get("dependsOn")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|d| done.iter().any(|(i, s, _)| Some(i.as_str()) == d.as_str() && *s >= 400));
        if failed_dep {
            let e = GResp::error(
                424,
                "FailedDependency",
                "The request failed because it depended on a request that failed.",
                None,
            );
            done.push((id.clone(), 424, inner_json(&id, e)));
            continue;
        }
        let resp = run_inner(sh, req, r);
        let status = resp.status;
        done.push((id.clone(), status, inner_json(&id, resp)));
    }
    // Microsoft doesn't guarantee order; the emulator returns them in reverse to keep clients honest.
    let responses: Vec<Value> = done.into_iter().rev().map(|(_, _, v)| v).collect();
    Ok(ok_json(req, 200, json!({"responses": responses})))
}

fn run_inner(sh: &Shared, outer: &GReq, r: &Value) -> GResp {
    let method = r.get("method").and_then(Value::as_str).unwrap_or("GET").to_uppercase();
    let mut url = r.get("url").and_then(Value::as_str).unwrap_or_default().to_string();
    for prefix in ["https://graph.microsoft.com/v1.0", &format!("{}/v1.0", sh.graph_base())] {
        if let Some(rest) = url.strip_prefix(prefix) {
            url = rest.to_string();
        }
    }
    if !url.starts_with('/') {
        url.insert(0, '/');
    }
    let (path, qs) =
        url.split_once('?').map(|(a, b)| (a.to_string(), b.to_string())).unwrap_or((url.clone(), String::new()));
    let mut headers: Vec<(String, String)> =
        outer.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("authorization")).cloned().collect();
    if let Some(h) = r.get("headers").and_then(Value::as_object) {
        for (k, v) in h {
            headers.push((k.clone(), v.as_str().unwrap_or_default().to_string()));
        }
    }
    let body = match r.get("body") {
        None | Some(Value::Null) => vec![],
        Some(Value::String(s)) => b64std_decode(s).unwrap_or_else(|| s.as_bytes().to_vec()),
        Some(v) => v.to_string().into_bytes(),
    };
    let inner = GReq {
        method: method.clone(),
        path: path.clone(),
        query: serde_urlencoded::from_str(&qs).unwrap_or_default(),
        headers,
        body,
    };
    let tpl = template(&segments(&path)).0;
    sh.count(&method, &tpl);
    sh.count_graph(false, true);
    if let Some(kind) = sh.take_fault(&method, &tpl) {
        match kind {
            crate::FaultKind::Throttle { retry_after } => {
                let mut g = GResp::error(429, "TooManyRequests", "Please retry again later.", None);
                g.body = GBody::Json(throttle_body(g.request_id()));
                g.headers.push(("Retry-After".into(), retry_after));
                return g;
            }
            crate::FaultKind::ServiceUnavailable { retry_after } => {
                let mut g = GResp::error(503, "generalException", "An unspecified error has occurred.", None);
                if let Some(r) = retry_after {
                    g.headers.push(("Retry-After".into(), r));
                }
                return g;
            }
            crate::FaultKind::GatewayTimeout => {
                return GResp::error(504, "generalException", "An unspecified error has occurred.", None);
            }
            crate::FaultKind::Error { status, code, message } => {
                return GResp::error(status, &code, &message, None);
            }
            _ => {}
        }
    }
    dispatch(sh, &inner, false)
}

fn inner_json(id: &str, r: GResp) -> Value {
    let mut headers = Map::new();
    for (k, v) in &r.headers {
        if k == "Retry-After" || k.eq_ignore_ascii_case("location") {
            headers.insert(k.clone(), json!(v));
        }
    }
    let body = match r.body {
        GBody::Json(v) => {
            headers.insert("Content-Type".into(), json!("application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"));
            v
        }
        GBody::Bytes(ct, b) => {
            headers.insert("Content-Type".into(), json!(ct));
            json!(b64std(&b))
        }
        GBody::Text(t) => {
            headers.insert("Content-Type".into(), json!("text/plain"));
            json!(t)
        }
        GBody::Empty => Value::Null,
    };
    json!({"id": id, "status": r.status, "headers": headers, "body": body})
}

// ---------------------------------------------------------------- delta

#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct DeltaState {
    pub k: String,
    pub t: String,
    pub e: u64,
    /// Changes after this seq (None = initial sync).
    pub s: Option<u64>,
    /// Up to this seq.
    pub u: u64,
    pub o: usize,
    pub sel: Option<Vec<String>>,
    pub ts: u64,
}

pub fn encode_delta(s: &DeltaState) -> String {
    b64url(serde_json::to_string(s).unwrap_or_default().as_bytes())
}

pub fn decode_delta(t: &str) -> Option<DeltaState> {
    serde_json::from_slice(&b64url_decode(t)?).ok()
}

pub const DELTA_TTL: u64 = 7 * 86_400;

/// Generic delta driver. `render` renders a current entity (None if it no longer exists / not visible).
#[allow(clippy::too_many_arguments)]
pub fn delta(
    sh: &Shared,
    req: &GReq,
    q: &Q,
    tenant: &Tenant,
    kind_name: &str,
    kind: Kind,
    link_path: &str,
    ctx_first: &str,
    ctx_next: &str,
    all_ids: &dyn Fn(usize, usize) -> (Vec<String>, usize),
    // Renders one object; the flag says whether the delta query has a `$select` (from the
    // token on later pages, not from the request URL, which no longer carries it).
    render: &dyn Fn(&str, bool) -> Option<Value>,
    include_removed: bool,
) -> GResult {
    let page_size = req
        .header("Prefer")
        .and_then(|p| {
            p.split(',').find_map(|x| x.trim().strip_prefix("odata.maxpagesize=").and_then(|n| n.parse::<usize>().ok()))
        })
        .unwrap_or(200)
        .clamp(1, 1000);
    let gone = || {
        let mut e = GErr::new(
            410,
            "resyncRequired",
            "Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd. Upload any local changes that the server doesn't know about.",
        );
        e.headers.push(("Location".into(), format!("{}/v1.0{link_path}?$deltatoken=", sh.graph_base())));
        e
    };
    let token = req.q("$skiptoken").map(|t| (t, true)).or_else(|| req.q("$deltatoken").map(|t| (t, false)));
    let state = match token {
        None | Some(("", _)) => DeltaState {
            k: kind_name.into(),
            t: tenant.id.clone(),
            e: tenant.delta_epoch,
            s: None,
            u: tenant.change_seq,
            o: 0,
            sel: q.select.clone(),
            ts: now_secs(),
        },
        Some(("latest", false)) => {
            let st = DeltaState {
                k: kind_name.into(),
                t: tenant.id.clone(),
                e: tenant.delta_epoch,
                s: Some(tenant.change_seq),
                u: tenant.change_seq,
                o: 0,
                sel: q.select.clone(),
                ts: now_secs(),
            };
            return Ok(ok_json(
                req,
                200,
                json!({"@odata.context": ctx_next, "@odata.deltaLink": format!("{}/v1.0{link_path}?$deltatoken={}", sh.graph_base(), encode_delta(&st)), "value": []}),
            ));
        }
        Some((t, is_skip)) => {
            let mut s =
                decode_delta(t).ok_or_else(|| GErr::bad("Request_BadRequest", "Invalid delta or skip token."))?;
            if s.k != kind_name || s.t != tenant.id {
                return Err(GErr::bad("Request_BadRequest", "The delta or skip token is not valid for this resource."));
            }
            if s.e != tenant.delta_epoch || s.ts + DELTA_TTL < now_secs() {
                return Err(gone());
            }
            if !is_skip {
                // A deltaLink: changes after s.u up to now.
                s = DeltaState { s: Some(s.u), u: tenant.change_seq, o: 0, ts: now_secs(), ..s };
            }
            s
        }
    };
    // (id, removed reason) in delivery order; rendering happens for the requested page only.
    let initial = state.s.is_none();
    let (entries, total, skip): (Vec<(String, Option<&'static str>)>, usize, usize) = match state.s {
        None => {
            // Initial round: only the requested window of ids.
            let (ids, total) = all_ids(state.o, page_size);
            (ids.into_iter().map(|id| (id, None)).collect(), total, 0)
        }
        Some(since) => {
            let start = tenant.changes.partition_point(|c| c.seq <= since);
            let mut pos: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
            let mut last: Vec<Option<(String, Option<&'static str>)>> = vec![];
            for c in tenant.changes[start..].iter().filter(|c| c.kind == kind && c.seq <= state.u) {
                if let Some(&i) = pos.get(c.id.as_str()) {
                    last[i] = None;
                }
                pos.insert(c.id.as_str(), last.len());
                last.push(Some((c.id.clone(), c.removed)));
            }
            let v: Vec<(String, Option<&'static str>)> = last.into_iter().flatten().collect();
            let total = v.len();
            (v, total, state.o)
        }
    };
    let page: Vec<Value> = entries
        .into_iter()
        .skip(skip)
        .take(page_size)
        .filter_map(|(id, removed)| match (removed, render(&id, state.sel.is_some())) {
            (None, Some(v)) => Some(v),
            (Some(r), _) if include_removed => Some(json!({"id": id, "@removed": {"reason": r}})),
            (None, None) if include_removed && !initial => Some(json!({"id": id, "@removed": {"reason": "deleted"}})),
            _ => None,
        })
        .map(|v| {
            if v.get("@removed").is_some() {
                return v;
            }
            match &state.sel {
                Some(sel) => {
                    let mut s = sel.clone();
                    s.push("id".into());
                    project(&v, &Some(s))
                }
                None => v,
            }
        })
        .collect();
    let first = state.o == 0 && token.is_none_or(|(_, skip)| !skip);
    let mut body = Map::new();
    let ctx = if first {
        match &state.sel {
            Some(sel) if ctx_first.ends_with("#users") => format!("{ctx_first}({})", sel.join(",")),
            _ => ctx_first.to_string(),
        }
    } else {
        ctx_next.to_string()
    };
    body.insert("@odata.context".into(), json!(ctx));
    let next_o = (state.o + page_size).min(total);
    if next_o < total {
        let ns = DeltaState { o: next_o, ..state };
        body.insert(
            "@odata.nextLink".into(),
            json!(format!("{}/v1.0{link_path}?$skiptoken={}", sh.graph_base(), encode_delta(&ns))),
        );
    } else {
        let ns = DeltaState { s: Some(state.u), o: 0, ts: now_secs(), ..state };
        body.insert(
            "@odata.deltaLink".into(),
            json!(format!("{}/v1.0{link_path}?$deltatoken={}", sh.graph_base(), encode_delta(&ns))),
        );
    }
    body.insert("value".into(), Value::Array(page));
    Ok(ok_json(req, 200, Value::Object(body)))
}

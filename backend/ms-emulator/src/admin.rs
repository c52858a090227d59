//! The emulator's own control API under `/_emulator` (not a Microsoft surface).

use crate::model::*;
use crate::util::*;
use crate::{AppRegistration, Fault, FaultKind, Shared};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/_emulator")
            .route("/demo", web::get().to(demo))
            .route("/apps", web::post().to(post_app))
            .route("/apps/{client}/redirect_uris", web::post().to(post_redirect))
            .route("/tenants/{tid}/consent/{client}", web::post().to(consent_on))
            .route("/tenants/{tid}/consent/{client}", web::delete().to(consent_off))
            .route("/tenants/{tid}/users", web::post().to(create_user))
            .route("/tenants/{tid}/users/{uid}", web::patch().to(patch_user))
            .route("/tenants/{tid}/users/{uid}", web::delete().to(delete_user))
            .route("/tenants/{tid}/classes", web::post().to(create_class))
            .route("/tenants/{tid}/classes/{cid}", web::patch().to(patch_class))
            .route("/tenants/{tid}/classes/{cid}", web::delete().to(delete_class))
            .route("/tenants/{tid}/classes/{cid}/members", web::post().to(add_class_member))
            .route("/tenants/{tid}/classes/{cid}/members/{uid}", web::delete().to(remove_class_member))
            .route("/delta/expire", web::post().to(expire_delta))
            .route("/faults", web::get().to(get_faults))
            .route("/faults", web::post().to(post_fault))
            .route("/faults", web::delete().to(clear_faults))
            .route("/mailbox/{user}", web::get().to(get_mailbox))
            .route("/requests", web::get().to(get_requests))
            .route("/requests", web::delete().to(reset_requests))
            .route("/keys/rotate", web::post().to(rotate))
            .route("/token-lifetime", web::post().to(token_lifetime)),
    );
}

fn bad(msg: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": msg}))
}

fn not_found(what: &str) -> HttpResponse {
    HttpResponse::NotFound().json(json!({"error": format!("{what} not found")}))
}

pub fn register_app(sh: &Shared, app: AppRegistration) {
    let mut st = sh.write();
    match st.apps.get_mut(&app.client_id) {
        Some(a) => {
            for r in app.redirect_uris {
                if !a.redirect_uris.contains(&r) {
                    a.redirect_uris.push(r);
                }
            }
            if app.client_secret.is_some() {
                a.secret = app.client_secret;
            }
            if app.certificate_der.is_some() {
                a.certificate_der = app.certificate_der;
            }
            if !app.display_name.is_empty() {
                a.display_name = app.display_name;
            }
        }
        None => {
            let a = App {
                client_id: app.client_id.clone(),
                display_name: if app.display_name.is_empty() { app.client_id.clone() } else { app.display_name },
                secret: app.client_secret,
                redirect_uris: app.redirect_uris,
                certificate_der: app.certificate_der,
                any_loopback: false,
                app_permissions: crate::DEFAULT_APP_PERMISSIONS.iter().map(|s| s.to_string()).collect(),
            };
            st.apps.insert(app.client_id, a);
        }
    }
}

pub fn set_consent(sh: &Shared, tid: &str, client: &str, on: bool) -> bool {
    let mut st = sh.write();
    let Some(t) = st.tenant_mut(tid) else {
        return false;
    };
    if on {
        let sp = det_id(&format!("sp/{}/{client}", t.id));
        t.service_principals.insert(client.to_string(), sp);
    } else {
        t.remove_service_principal(client);
    }
    let tid = t.id.clone();
    let is_demo_app = client == st.demo.app_client_id;
    if let Some(d) = st.demo.tenants.iter_mut().find(|d| d.id == tid)
        && is_demo_app
    {
        d.consented = on;
    }
    true
}

pub fn mailbox(sh: &Shared, key: &str) -> Vec<Value> {
    let st = sh.read();
    let id = st.find_user_any(key).map(|(_, u)| u.id.clone()).unwrap_or_else(|| key.to_lowercase());
    st.mailboxes.get(&id).cloned().unwrap_or_default()
}

pub fn rotate_key(sh: &Shared) -> anyhow::Result<String> {
    let k = crate::keys::SigningKey::generate("EduGraph MS emulator signing key (rolled over, TEST ONLY)")?;
    let kid = k.kid.clone();
    sh.write().keys.push(Arc::new(k));
    Ok(kid)
}

/// Builds a class group from an admin/Graph body.
pub fn class_group(id: &str, body: &Value, schools: Vec<String>) -> Group {
    let s = |k: &str| body.get(k).cloned().unwrap_or(Value::Null);
    let nick = body.get("mailNickname").and_then(Value::as_str).unwrap_or(id).to_string();
    let props = json!({"id": id, "displayName": s("displayName"), "description": s("description"), "mailNickname": nick, "groupTypes": ["Unified"],
        "mailEnabled": true, "securityEnabled": false, "visibility": "HiddenMembership", "createdDateTime": iso(now_secs()), "deletedDateTime": null,
        "creationOptions": ["classAssignments"], "resourceProvisioningOptions": ["Team"], "mail": null});
    let class = json!({"classCode": s("classCode"), "externalName": s("externalName"), "externalId": s("externalId"), "externalSource": body.get("externalSource").cloned().unwrap_or(json!("manual")),
        "externalSourceDetail": s("externalSourceDetail"), "grade": s("grade"), "term": s("term"),
        "createdBy": identity_set(None)});
    Group {
        id: id.to_string(),
        props: props.as_object().cloned().unwrap_or_default(),
        members: vec![],
        owners: vec![],
        class: Some(ClassInfo { schools, props: class.as_object().cloned().unwrap_or_default() }),
    }
}

async fn demo(sh: web::Data<Shared>) -> HttpResponse {
    HttpResponse::Ok().json(&sh.read().demo)
}

async fn post_app(sh: web::Data<Shared>, body: web::Json<Value>) -> HttpResponse {
    let b = body.into_inner();
    let Some(client_id) = b.get("client_id").and_then(Value::as_str) else {
        return bad("client_id is required");
    };
    let cert = match b.get("certificate_der_base64").and_then(Value::as_str) {
        Some(c) => match b64std_decode(c) {
            Some(d) => Some(d),
            None => return bad("certificate_der_base64 is not base64"),
        },
        None => None,
    };
    register_app(
        &sh,
        AppRegistration {
            client_id: client_id.to_string(),
            client_secret: b.get("client_secret").and_then(Value::as_str).map(str::to_string),
            redirect_uris: b
                .get("redirect_uris")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            certificate_der: cert,
            display_name: b.get("display_name").and_then(Value::as_str).unwrap_or_default().to_string(),
        },
    );
    if let Some(perms) = b.get("app_permissions").and_then(Value::as_array)
        && let Some(a) = sh.write().apps.get_mut(client_id)
    {
        a.app_permissions = perms.iter().filter_map(|x| x.as_str().map(str::to_string)).collect();
    }
    HttpResponse::Created().json(json!({"client_id": client_id}))
}

async fn post_redirect(sh: web::Data<Shared>, path: web::Path<String>, body: web::Json<Value>) -> HttpResponse {
    let client = path.into_inner();
    let Some(uri) = body.get("uri").and_then(Value::as_str) else {
        return bad("uri is required");
    };
    let mut st = sh.write();
    let Some(a) = st.apps.get_mut(&client) else {
        return not_found("app");
    };
    if !a.redirect_uris.iter().any(|r| r == uri) {
        a.redirect_uris.push(uri.to_string());
    }
    HttpResponse::NoContent().finish()
}

async fn consent_on(sh: web::Data<Shared>, path: web::Path<(String, String)>) -> HttpResponse {
    let (t, c) = path.into_inner();
    if set_consent(&sh, &t, &c, true) { HttpResponse::NoContent().finish() } else { not_found("tenant") }
}

async fn consent_off(sh: web::Data<Shared>, path: web::Path<(String, String)>) -> HttpResponse {
    let (t, c) = path.into_inner();
    if set_consent(&sh, &t, &c, false) { HttpResponse::NoContent().finish() } else { not_found("tenant") }
}

async fn create_user(sh: web::Data<Shared>, path: web::Path<String>, body: web::Json<Value>) -> HttpResponse {
    let b = body.into_inner();
    let mut st = sh.write();
    let Some(t) = st.tenant_mut(&path) else {
        return not_found("tenant");
    };
    let nick = b.get("mailNickname").and_then(Value::as_str).map(str::to_string);
    let upn = match (b.get("userPrincipalName").and_then(Value::as_str), &nick) {
        (Some(u), _) => u.to_string(),
        (None, Some(n)) => format!("{n}@{}", t.domain),
        _ => return bad("userPrincipalName or mailNickname is required"),
    };
    if t.upn_index.contains_key(&upn.to_lowercase()) {
        return HttpResponse::Conflict().json(json!({"error": "userPrincipalName already exists"}));
    }
    let id = b.get("id").and_then(Value::as_str).map(str::to_string).unwrap_or_else(new_id);
    let display = b.get("displayName").and_then(Value::as_str).unwrap_or(&upn).to_string();
    let mut props = Map::new();
    for (k, v) in [
        ("businessPhones", json!([])),
        ("displayName", json!(display)),
        ("givenName", b.get("givenName").cloned().unwrap_or(Value::Null)),
        ("jobTitle", b.get("jobTitle").cloned().unwrap_or(Value::Null)),
        ("mail", json!(upn)),
        ("mobilePhone", Value::Null),
        ("officeLocation", Value::Null),
        ("preferredLanguage", json!("en-US")),
        ("surname", b.get("surname").cloned().unwrap_or(Value::Null)),
        ("userPrincipalName", json!(upn)),
        ("accountEnabled", json!(true)),
        ("mailNickname", json!(upn.split('@').next().unwrap_or_default())),
        ("userType", json!("Member")),
        ("usageLocation", json!("US")),
        ("assignedLicenses", json!([])),
        ("createdDateTime", json!(iso(now_secs()))),
        ("department", Value::Null),
    ] {
        props.insert(k.into(), v);
    }
    props.insert("id".into(), json!(id));
    let role = b.get("role").and_then(Value::as_str).unwrap_or("student").to_string();
    let schools: Vec<String> = b
        .get("schoolIds")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let short: String = id.chars().filter(|c| c.is_ascii_alphanumeric()).take(8).collect();
    let edu = (role == "student" || role == "teacher").then(|| EduInfo {
        role: role.clone(),
        external_id: format!("X{}", &short),
        number: short.clone(),
        grade: b.get("grade").and_then(Value::as_str).map(str::to_string),
        schools,
    });
    let wids = if role == "admin" { vec![GLOBAL_ADMIN_ROLE.to_string()] } else { vec![DEFAULT_USER_ROLE.to_string()] };
    let u = User {
        id,
        props,
        password: b.get("password").and_then(Value::as_str).unwrap_or(crate::STUDENT_PASSWORD).to_string(),
        photo: None,
        manager: None,
        wids,
        edu,
    };
    let out = crate::graph::dir::user_full(&u);
    t.add_user(u);
    HttpResponse::Created().json(out)
}

async fn patch_user(sh: web::Data<Shared>, path: web::Path<(String, String)>, body: web::Json<Value>) -> HttpResponse {
    let (tid, uid) = path.into_inner();
    let Some(obj) = body.as_object().cloned() else {
        return bad("object expected");
    };
    let mut st = sh.write();
    let Some(t) = st.tenant_mut(&tid) else {
        return not_found("tenant");
    };
    let Some(id) = t.user_id(&uid) else {
        return not_found("user");
    };
    let Some(u) = t.users.get_mut(&id) else {
        return not_found("user");
    };
    let old = u.upn().to_lowercase();
    for (k, v) in obj {
        match k.as_str() {
            "password" => u.password = v.as_str().unwrap_or_default().to_string(),
            "photo" => u.photo = v.as_str().and_then(b64std_decode),
            "id" => {}
            _ => {
                u.props.insert(k, v);
            }
        }
    }
    let new = u.upn().to_lowercase();
    let out = crate::graph::dir::user_full(u);
    if new != old {
        t.upn_index.remove(&old);
        t.upn_index.insert(new, id.clone());
    }
    t.record(Kind::User, &id, None);
    HttpResponse::Ok().json(out)
}

async fn delete_user(sh: web::Data<Shared>, path: web::Path<(String, String)>, req: HttpRequest) -> HttpResponse {
    let (tid, uid) = path.into_inner();
    let permanent = req.query_string().contains("permanent=true");
    let mut st = sh.write();
    let Some(t) = st.tenant_mut(&tid) else {
        return not_found("tenant");
    };
    let Some(id) = t.user_id(&uid) else {
        return not_found("user");
    };
    t.remove_user(&id, if permanent { "deleted" } else { "changed" });
    HttpResponse::NoContent().finish()
}

fn ids(b: &Value, k: &str) -> Vec<String> {
    b.get(k)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

async fn create_class(sh: web::Data<Shared>, path: web::Path<String>, body: web::Json<Value>) -> HttpResponse {
    let b = body.into_inner();
    if b.get("displayName").and_then(Value::as_str).is_none() {
        return bad("displayName is required");
    }
    let mut st = sh.write();
    let Some(t) = st.tenant_mut(&path) else {
        return not_found("tenant");
    };
    let id = b.get("id").and_then(Value::as_str).map(str::to_string).unwrap_or_else(new_id);
    let mut g = class_group(&id, &b, ids(&b, "schoolIds"));
    g.owners = ids(&b, "teacherIds");
    g.members = g.owners.clone();
    g.members.extend(ids(&b, "studentIds"));
    let out = crate::graph::edu::class_obj(&g);
    t.add_group(g);
    HttpResponse::Created().json(out)
}

async fn patch_class(sh: web::Data<Shared>, path: web::Path<(String, String)>, body: web::Json<Value>) -> HttpResponse {
    let (tid, cid) = path.into_inner();
    let Some(obj) = body.as_object().cloned() else {
        return bad("object expected");
    };
    let mut st = sh.write();
    let Some(t) = st.tenant_mut(&tid) else {
        return not_found("tenant");
    };
    let Some(g) = t.groups.get_mut(&cid).filter(|g| g.class.is_some()) else {
        return not_found("class");
    };
    for (k, v) in obj {
        match k.as_str() {
            "displayName" | "description" | "mailNickname" => {
                g.props.insert(k, v);
            }
            "id" => {}
            _ => {
                if let Some(c) = g.class.as_mut() {
                    c.props.insert(k, v);
                }
            }
        }
    }
    let out = crate::graph::edu::class_obj(g);
    t.record(Kind::Class, &cid, None);
    HttpResponse::Ok().json(out)
}

async fn delete_class(sh: web::Data<Shared>, path: web::Path<(String, String)>) -> HttpResponse {
    let (tid, cid) = path.into_inner();
    let mut st = sh.write();
    let Some(t) = st.tenant_mut(&tid) else {
        return not_found("tenant");
    };
    if t.groups.remove(&cid).is_none() {
        return not_found("class");
    }
    t.group_order.retain(|g| *g != cid);
    t.record(Kind::Class, &cid, Some("deleted"));
    HttpResponse::NoContent().finish()
}

async fn add_class_member(
    sh: web::Data<Shared>,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
) -> HttpResponse {
    let (tid, cid) = path.into_inner();
    let Some(uid) = body.get("userId").and_then(Value::as_str) else {
        return bad("userId is required");
    };
    let teacher = body.get("teacher").and_then(Value::as_bool).unwrap_or(false);
    let mut st = sh.write();
    let Some(t) = st.tenant_mut(&tid) else {
        return not_found("tenant");
    };
    let Some(uid) = t.user_id(uid) else {
        return not_found("user");
    };
    let Some(g) = t.groups.get_mut(&cid).filter(|g| g.class.is_some()) else {
        return not_found("class");
    };
    if !g.members.contains(&uid) {
        g.members.push(uid.clone());
    }
    if teacher && !g.owners.contains(&uid) {
        g.owners.push(uid);
    }
    t.record(Kind::Class, &cid, None);
    HttpResponse::NoContent().finish()
}

async fn remove_class_member(sh: web::Data<Shared>, path: web::Path<(String, String, String)>) -> HttpResponse {
    let (tid, cid, uid) = path.into_inner();
    let mut st = sh.write();
    let Some(t) = st.tenant_mut(&tid) else {
        return not_found("tenant");
    };
    let uid = t.user_id(&uid).unwrap_or(uid);
    let Some(g) = t.groups.get_mut(&cid).filter(|g| g.class.is_some()) else {
        return not_found("class");
    };
    g.members.retain(|m| *m != uid);
    g.owners.retain(|m| *m != uid);
    t.record(Kind::Class, &cid, None);
    HttpResponse::NoContent().finish()
}

async fn expire_delta(sh: web::Data<Shared>) -> HttpResponse {
    let mut st = sh.write();
    for t in st.tenants.iter_mut() {
        t.delta_epoch += 1;
    }
    HttpResponse::NoContent().finish()
}

/// `{"route": "/users", "method": "GET", "kind": "throttle", "retry_after": "2.5", "latency_ms": 0, "times": 1}`;
/// kind ∈ latency | throttle | unavailable | timeout | drop.
pub fn parse_fault(b: &Value) -> Result<Fault, String> {
    let route = b.get("route").and_then(Value::as_str).unwrap_or("*").to_string();
    let kind = match b.get("kind").and_then(Value::as_str).unwrap_or_default() {
        "latency" => {
            FaultKind::Latency(Duration::from_millis(b.get("latency_ms").and_then(Value::as_u64).unwrap_or(100)))
        }
        "throttle" => FaultKind::Throttle {
            retry_after: b
                .get("retry_after")
                .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
                .unwrap_or_else(|| "1".into()),
        },
        "unavailable" => FaultKind::ServiceUnavailable {
            retry_after: b.get("retry_after").map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())),
        },
        "timeout" => FaultKind::GatewayTimeout,
        "drop" => FaultKind::DropConnection,
        "error" => FaultKind::Error {
            status: b.get("status").and_then(Value::as_u64).and_then(|s| u16::try_from(s).ok()).unwrap_or(500),
            code: b.get("code").and_then(Value::as_str).unwrap_or("generalException").to_string(),
            message: b.get("message").and_then(Value::as_str).unwrap_or("The operation has timed out.").to_string(),
        },
        other => {
            return Err(format!("unknown fault kind '{other}' (latency|throttle|unavailable|timeout|drop)"));
        }
    };
    Ok(Fault {
        method: b.get("method").and_then(Value::as_str).map(str::to_string),
        route,
        kind,
        times: b.get("times").and_then(Value::as_u64).map(|n| n as u32),
    })
}

async fn post_fault(sh: web::Data<Shared>, body: web::Json<Value>) -> HttpResponse {
    match parse_fault(&body) {
        Ok(f) => {
            sh.faults.lock().unwrap_or_else(|p| p.into_inner()).push(f);
            HttpResponse::NoContent().finish()
        }
        Err(e) => bad(&e),
    }
}

async fn get_faults(sh: web::Data<Shared>) -> HttpResponse {
    let f = sh.faults.lock().unwrap_or_else(|p| p.into_inner());
    let list: Vec<Value> = f
        .iter()
        .map(|f| json!({"method": f.method, "route": f.route, "kind": format!("{:?}", f.kind), "times": f.times}))
        .collect();
    HttpResponse::Ok().json(list)
}

async fn clear_faults(sh: web::Data<Shared>) -> HttpResponse {
    sh.faults.lock().unwrap_or_else(|p| p.into_inner()).clear();
    HttpResponse::NoContent().finish()
}

async fn get_mailbox(sh: web::Data<Shared>, path: web::Path<String>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"value": mailbox(&sh, &path)}))
}

async fn get_requests(sh: web::Data<Shared>) -> HttpResponse {
    let log = sh.log.lock().unwrap_or_else(|p| p.into_inner());
    let mut v: Vec<(&(String, String), &u64)> = log.iter().collect();
    v.sort();
    let total: u64 = v.iter().map(|(_, c)| **c).sum();
    let counts: Vec<Value> = v.into_iter().map(|((m, r), c)| json!({"method": m, "route": r, "count": c})).collect();
    HttpResponse::Ok().json(json!({"total": total, "counts": counts}))
}

async fn reset_requests(sh: web::Data<Shared>) -> HttpResponse {
    sh.log.lock().unwrap_or_else(|p| p.into_inner()).clear();
    HttpResponse::NoContent().finish()
}

async fn rotate(sh: web::Data<Shared>) -> HttpResponse {
    match rotate_key(&sh) {
        Ok(kid) => HttpResponse::Ok().json(json!({"kid": kid})),
        Err(e) => HttpResponse::InternalServerError().json(json!({"error": e.to_string()})),
    }
}

async fn token_lifetime(sh: web::Data<Shared>, body: web::Json<Value>) -> HttpResponse {
    let Some(s) = body.get("seconds").and_then(Value::as_u64) else {
        return bad("seconds is required");
    };
    sh.write().token_lifetime = Some(Duration::from_secs(s));
    HttpResponse::NoContent().finish()
}

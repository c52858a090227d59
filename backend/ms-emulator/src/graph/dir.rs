//! Directory endpoints: users, groups, roles, licences, service principals, mail, photo, drive, conversations.

use super::*;

pub const USER_DEFAULT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];
const USER_FILTERABLE: &[&str] = &[
    "id",
    "displayName",
    "givenName",
    "surname",
    "userPrincipalName",
    "mail",
    "mailNickname",
    "jobTitle",
    "department",
    "accountEnabled",
    "userType",
    "city",
    "country",
    "state",
    "usageLocation",
    "assignedLicenses",
    "employeeId",
    "onPremisesImmutableId",
    "onPremisesSyncEnabled",
    "officeLocation",
    "preferredLanguage",
    "companyName",
    "createdDateTime",
    "proxyAddresses",
    "otherMails",
    "identities",
    "mobilePhone",
    "businessPhones",
];
const GROUP_FILTERABLE: &[&str] = &[
    "id",
    "displayName",
    "mail",
    "mailNickname",
    "groupTypes",
    "securityEnabled",
    "mailEnabled",
    "resourceProvisioningOptions",
    "onPremisesSyncEnabled",
    "classification",
    "proxyAddresses",
    "isAssignableToRole",
    "visibility",
];
const APP_ONLY_FORBIDDEN: &[&str] = &[
    "aboutMe",
    "birthday",
    "hireDate",
    "interests",
    "mySite",
    "pastProjects",
    "preferredName",
    "responsibilities",
    "schools",
    "skills",
];
const SELF_EDITABLE: &[&str] = &[
    "aboutMe",
    "birthday",
    "interests",
    "mySite",
    "pastProjects",
    "preferredName",
    "responsibilities",
    "schools",
    "skills",
    "mobilePhone",
    "businessPhones",
    "preferredLanguage",
    "officeLocation",
];
const READ_ONLY: &[&str] = &[
    "id",
    "createdDateTime",
    "deletedDateTime",
    "assignedLicenses",
    "assignedPlans",
    "provisionedPlans",
    "onPremisesSyncEnabled",
];

pub const USERS_READ_D: &[&str] = &[
    "User.ReadBasic.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Directory.AccessAsUser.All",
];
pub const USERS_READ_A: &[&str] =
    &["User.Read.All", "User.ReadWrite.All", "User.ReadBasic.All", "Directory.Read.All", "Directory.ReadWrite.All"];
const USERS_WRITE: &[&str] = &["User.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"];
const ME_READ: &[&str] = &[
    "User.Read",
    "User.ReadWrite",
    "User.ReadBasic.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Directory.AccessAsUser.All",
];
const GROUP_READ: &[&str] = &[
    "Group.ReadBasic.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "GroupMember.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Directory.AccessAsUser.All",
];
const MEMBER_WRITE: &[&str] =
    &["GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"];
const FILES: &[&str] = &["Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All"];
const FILES_W: &[&str] = &["Files.ReadWrite.All", "Sites.ReadWrite.All"];

pub fn user_full(u: &User) -> Value {
    let mut m = u.props.clone();
    for (k, v) in [
        ("assignedPlans", json!([])),
        ("city", Value::Null),
        ("companyName", Value::Null),
        ("country", Value::Null),
        ("otherMails", json!([])),
        ("proxyAddresses", json!([])),
    ] {
        m.entry(k).or_insert(v);
    }
    m.insert("id".into(), json!(u.id));
    Value::Object(m)
}

pub fn user_default(u: &User) -> Value {
    let mut m = Map::new();
    for k in USER_DEFAULT {
        m.insert(
            (*k).to_string(),
            u.props.get(*k).cloned().unwrap_or(if *k == "businessPhones" { json!([]) } else { Value::Null }),
        );
    }
    m.insert("id".into(), json!(u.id));
    Value::Object(m)
}

fn user_view(u: &User, q: &Q) -> Value {
    if q.select.is_some() { user_full(u) } else { user_default(u) }
}

fn dir_user(u: &User) -> Value {
    let mut v = user_default(u);
    if let Value::Object(m) = &mut v {
        let mut o = Map::new();
        o.insert("@odata.type".into(), json!("#microsoft.graph.user"));
        o.extend(std::mem::take(m));
        *m = o;
    }
    v
}

pub fn group_full(g: &Group) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(g.id));
    for (k, v) in &g.props {
        if k != "id" {
            m.insert(k.clone(), v.clone());
        }
    }
    Value::Object(m)
}

fn typed(t: &str, v: Value) -> Value {
    let mut o = Map::new();
    o.insert("@odata.type".into(), json!(t));
    if let Value::Object(m) = v {
        o.extend(m);
    }
    Value::Object(o)
}

fn tenant<'a>(st: &'a Store, ctx: &Ctx) -> Result<&'a Tenant, GErr> {
    st.tenant(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))
}

fn tenant_mut<'a>(st: &'a mut Store, ctx: &Ctx) -> Result<&'a mut Tenant, GErr> {
    st.tenant_mut(&ctx.tid).ok_or_else(|| GErr::not_found(&ctx.tid))
}

/// `me` or a user id/UPN.
fn target(ctx: &Ctx, tpl: &str, p: &[String]) -> Result<(String, bool), GErr> {
    if tpl.starts_with("/me") {
        Ok((ctx.me()?.to_string(), true))
    } else {
        Ok((p.first().cloned().unwrap_or_default(), false))
    }
}

fn ref_id(body: &Value) -> Result<String, GErr> {
    let s = body
        .get("@odata.id")
        .and_then(Value::as_str)
        .ok_or_else(|| GErr::bad("Request_BadRequest", "The request body must contain '@odata.id'."))?;
    let s = s.trim_end_matches('/');
    let last = s.rsplit('/').next().unwrap_or_default();
    let last = last
        .strip_prefix("directoryObjects('")
        .or_else(|| last.strip_prefix("users('"))
        .map(|x| x.trim_end_matches("')"))
        .unwrap_or(last);
    Ok(last.to_string())
}

pub fn route(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, m: &str, tpl: &str, p: &[String]) -> GResult {
    match (m, tpl) {
        ("GET", "/me") | ("GET", "/users/{id}") => get_user(sh, req, ctx, q, tpl, p),
        ("PATCH", "/me") | ("PATCH", "/users/{id}") => patch_user(sh, req, ctx, tpl, p),
        ("DELETE", "/users/{id}") => delete_user(sh, req, ctx, p),
        ("GET", "/users") => list_users(sh, req, ctx, q),
        ("GET", "/users/$count") => count_users(sh, req, ctx, q),
        ("POST", "/users") => create_user(sh, req, ctx),
        ("GET", "/users/delta") => users_delta(sh, req, ctx, q),
        ("GET", "/me/manager") | ("GET", "/users/{id}/manager") => manager(sh, req, ctx, tpl, p),
        ("PUT", "/users/{id}/manager/$ref") => set_manager(sh, req, ctx, p),
        ("GET", "/me/photo/$value") | ("GET", "/users/{id}/photo/$value") => photo(sh, req, ctx, tpl, p, true),
        ("GET", "/me/photo") | ("GET", "/users/{id}/photo") => photo(sh, req, ctx, tpl, p, false),
        ("PUT", "/me/photo/$value") | ("PUT", "/users/{id}/photo/$value") => put_photo(sh, req, ctx, tpl, p),
        ("POST", "/me/assignLicense") | ("POST", "/users/{id}/assignLicense") => assign_license(sh, req, ctx, tpl, p),
        ("GET", "/subscribedSkus") => subscribed_skus(sh, req, ctx, q),
        ("GET", "/organization") | ("GET", "/organization/{id}") => organization(sh, req, ctx, tpl),
        ("GET", "/me/memberOf")
        | ("GET", "/users/{id}/memberOf")
        | ("GET", "/me/transitiveMemberOf")
        | ("GET", "/users/{id}/transitiveMemberOf") => member_of(sh, req, ctx, q, tpl, p),
        ("GET", "/directoryRoles") => directory_roles(sh, req, ctx, q),
        ("GET", "/directoryRoles/{id}/members") => role_members(sh, req, ctx, q, p),
        ("GET", "/groups") => list_groups(sh, req, ctx, q),
        ("GET", "/groups/{id}") => get_group(sh, req, ctx, q, p),
        ("PATCH", "/groups/{id}") => patch_group(sh, req, ctx, p),
        ("GET", "/groups/{id}/members")
        | ("GET", "/groups/{id}/owners")
        | ("GET", "/groups/{id}/transitiveMembers")
        | ("GET", "/groups/{id}/members/{id}")
        | ("GET", "/groups/{id}/transitiveMembers/{id}") => group_members(sh, req, ctx, q, tpl, p),
        ("POST", "/groups/{id}/members/$ref") | ("POST", "/groups/{id}/owners/$ref") => {
            add_member(sh, req, ctx, tpl, p)
        }
        ("DELETE", "/groups/{id}/members/{id}/$ref") | ("DELETE", "/groups/{id}/owners/{id}/$ref") => {
            remove_member(sh, req, ctx, tpl, p)
        }
        ("GET", "/servicePrincipals") => service_principals(sh, req, ctx, q),
        ("DELETE", "/servicePrincipals/{id}") => delete_sp(sh, req, ctx, p),
        ("GET", "/servicePrincipals/{id}/appRoleAssignedTo") => app_role_assigned_to(sh, req, ctx, q, p),
        ("POST", "/servicePrincipals/{id}/appRoleAssignedTo") => assign_app_role(sh, req, ctx, p),
        ("POST", "/me/sendMail") | ("POST", "/users/{id}/sendMail") => send_mail(sh, req, ctx, tpl, p),
        ("GET", "/me/messages")
        | ("GET", "/users/{id}/messages")
        | ("GET", "/me/mailFolders/{id}/messages")
        | ("GET", "/users/{id}/mailFolders/{id}/messages") => messages(sh, req, ctx, q, tpl, p),
        ("GET", "/groups/{id}/drive")
        | ("GET", "/groups/{id}/drive/root")
        | ("GET", "/groups/{id}/drive/root/children")
        | ("GET", "/groups/{id}/drive/items/{id}")
        | ("GET", "/groups/{id}/drive/items/{id}/children")
        | ("GET", "/drives/{id}")
        | ("GET", "/drives/{id}/root")
        | ("GET", "/drives/{id}/root/children")
        | ("GET", "/drives/{id}/items/{id}")
        | ("GET", "/drives/{id}/items/{id}/children")
        | ("GET", "/drives/{id}/items/{id}/content")
        | ("GET", "/groups/{id}/drive/items/{id}/content") => drive_get(sh, req, ctx, q, tpl, p),
        ("PUT", "/groups/{id}/drive/root/{id}/content")
        | ("PUT", "/groups/{id}/drive/items/{id}/{id}/content")
        | ("PUT", "/drives/{id}/items/{id}/{id}/content")
        | ("PUT", "/drives/{id}/root/{id}/content")
        | ("PUT", "/drives/{id}/items/{id}/content")
        | ("PUT", "/groups/{id}/drive/items/{id}/content") => drive_put(sh, req, ctx, tpl, p),
        ("POST", "/drives/{id}/items/{id}/{id}/createUploadSession")
        | ("POST", "/groups/{id}/drive/items/{id}/{id}/createUploadSession")
        | ("POST", "/drives/{id}/root/{id}/createUploadSession")
        | ("POST", "/groups/{id}/drive/root/{id}/createUploadSession") => create_upload_session(sh, req, ctx, tpl, p),
        ("POST", "/groups/{id}/drive/root/children")
        | ("POST", "/groups/{id}/drive/items/{id}/children")
        | ("POST", "/drives/{id}/root/children")
        | ("POST", "/drives/{id}/items/{id}/children") => drive_mkdir(sh, req, ctx, tpl, p),
        ("GET", "/groups/{id}/conversations") => conversations(sh, req, ctx, q, p),
        ("POST", "/groups/{id}/conversations") => post_conversation(sh, req, ctx, p),
        _ => Err(not_routed(req, tpl)),
    }
}

fn get_user(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, tpl: &str, p: &[String]) -> GResult {
    let (key, me) = target(ctx, tpl, p)?;
    if me {
        ctx.need(ME_READ, &[])?;
    } else {
        let self_read = ctx.user.as_deref() == Some(key.as_str()) && ctx.has_any(&["User.Read", "User.ReadWrite"]);
        if !self_read {
            ctx.need(USERS_READ_D, USERS_READ_A)?;
        }
    }
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let u = t.find_user(&key).ok_or_else(|| GErr::not_found(&key))?;
    let v = user_view(u, q);
    let mut resp = entity(sh, req, "users", q, v);
    if q.expand.iter().any(|e| e == "manager")
        && let GBody::Json(Value::Object(o)) = &mut resp.body
        && let Some(chain) = manager_chain(t, u, &expand_options(req, "manager"))
    {
        o.insert("manager".into(), chain);
    }
    Ok(resp)
}

/// Nested options of one `$expand` item, e.g. `manager($levels=max;$select=id,displayName)`.
fn expand_options(req: &GReq, item: &str) -> Vec<(String, String)> {
    let raw = req.q("$expand").unwrap_or_default();
    let Some(start) = raw.find(&format!("{item}(")) else {
        return vec![];
    };
    let inner = &raw[start + item.len() + 1..];
    let inner = inner.rsplit_once(')').map(|x| x.0).unwrap_or(inner);
    inner
        .split(';')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().trim_start_matches('$').to_ascii_lowercase(), v.trim().to_string()))
        .collect()
}

/// `manager` expansion; `$levels=max|N` follows the chain (cycle-safe), `$select` projects each level.
fn manager_chain(t: &Tenant, u: &User, opts: &[(String, String)]) -> Option<Value> {
    let levels = match opts.iter().find(|(k, _)| k == "levels").map(|(_, v)| v.as_str()) {
        Some("max") => 1000,
        Some(n) => n.parse::<usize>().unwrap_or(1).clamp(1, 1000),
        None => 1,
    };
    let select: Option<Vec<String>> =
        opts.iter().find(|(k, _)| k == "select").map(|(_, v)| v.split(',').map(|s| s.trim().to_string()).collect());
    let mut chain = vec![];
    let mut cur = u;
    let mut seen = vec![u.id.clone()];
    while chain.len() < levels {
        let Some(m) = cur.manager.as_ref().and_then(|m| t.users.get(m)) else {
            break;
        };
        if seen.contains(&m.id) {
            break;
        }
        seen.push(m.id.clone());
        chain.push(m);
        cur = m;
    }
    let mut out: Option<Value> = None;
    for m in chain.into_iter().rev() {
        let mut v = match &select {
            Some(sel) => project(&user_full(m), &Some(sel.clone())),
            None => dir_user(m),
        };
        if let (Some(inner), Value::Object(o)) = (out.take(), &mut v) {
            o.insert("manager".into(), inner);
        }
        out = Some(v);
    }
    out
}

fn list_users(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q) -> GResult {
    ctx.need(USERS_READ_D, USERS_READ_A)?;
    // Properties only returned for a single user (user-list.md / query-parameters.md).
    if let Some(sel) = &q.select
        && sel.iter().any(|p| APP_ONLY_FORBIDDEN.contains(&p.as_str()) || p == "mailboxSettings")
    {
        return Err(GErr::new(501, "NotImplemented", "This operation target is not yet supported."));
    }
    if q.search.is_some() && !q.eventual {
        return Err(GErr::bad(
            "Request_UnsupportedQuery",
            "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
        ));
    }
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    if q.filter.is_none() && q.search.is_none() && q.orderby.is_none() {
        // Fast path (large tenants): render only the requested page.
        let (top, offset) = page_params(q, 100, 999)?;
        let page: Vec<Value> = t
            .user_order
            .iter()
            .skip(offset)
            .take(top)
            .filter_map(|id| t.users.get(id))
            .map(|u| user_view(u, q))
            .collect();
        return collection_page(sh, req, q, "users", page, offset, t.user_order.len());
    }
    let all: Vec<Value> = t.user_order.iter().filter_map(|id| t.users.get(id)).map(user_full).collect();
    if q.filter.is_some() && q.orderby.is_some() && !q.advanced() {
        return Err(GErr::bad("Request_UnsupportedQuery", "Sorting not supported for current query."));
    }
    let mut items = apply_filter(all, q, "User", USER_FILTERABLE, true)?;
    if let Some(s) = &q.search {
        let expr = parse_search(s, USER_SEARCHABLE)?;
        items.retain(|v| expr.matches(v));
    }
    apply_orderby(&mut items, q);
    if q.select.is_none() {
        items = items.iter().map(|v| project(v, &Some(USER_DEFAULT.iter().map(|s| s.to_string()).collect()))).collect();
    }
    collection(sh, req, q, "users", items, 100, 999)
}

fn count_users(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q) -> GResult {
    ctx.need(USERS_READ_D, USERS_READ_A)?;
    if !q.eventual {
        return Err(GErr::bad("Request_BadRequest", "$count is not currently supported."));
    }
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let all: Vec<Value> = t.user_order.iter().filter_map(|id| t.users.get(id)).map(user_full).collect();
    let q2 = Q { count: true, ..q.clone() };
    let n = apply_filter(all, &q2, "User", USER_FILTERABLE, true)?.len();
    Ok(GResp::new(200, GBody::Text(n.to_string()), req.header("client-request-id")))
}

fn patch_user(sh: &Shared, req: &GReq, ctx: &Ctx, tpl: &str, p: &[String]) -> GResult {
    let (key, _) = target(ctx, tpl, p)?;
    let body = req.json_body()?;
    let obj = body.as_object().ok_or_else(|| GErr::bad("Request_BadRequest", "Invalid request body."))?;
    let mut st = sh.write();
    let t = tenant_mut(&mut st, ctx)?;
    let uid = t.user_id(&key).ok_or_else(|| GErr::not_found(&key))?;
    let is_self = ctx.user.as_deref() == Some(uid.as_str());
    if ctx.app_only() {
        ctx.need(&[], USERS_WRITE)?;
        if obj.keys().any(|k| APP_ONLY_FORBIDDEN.contains(&k.as_str())) {
            return Err(GErr::denied());
        }
        if obj.contains_key("passwordProfile")
            && !ctx.has_any(&["User-PasswordProfile.ReadWrite.All", "Directory.ReadWrite.All"])
        {
            return Err(GErr::denied());
        }
    } else if is_self && !ctx.is_admin() {
        ctx.need(&["User.ReadWrite", "User.ReadWrite.All", "Directory.AccessAsUser.All"], &[])?;
        if obj.keys().any(|k| !SELF_EDITABLE.contains(&k.as_str())) {
            return Err(GErr::denied());
        }
    } else {
        ctx.need(&["User.ReadWrite.All", "Directory.AccessAsUser.All", "User.ReadWrite"], &[])?;
        if !ctx.is_admin() || (!is_self && !ctx.has_any(USERS_WRITE)) {
            return Err(GErr::denied());
        }
    }
    for k in obj.keys() {
        if READ_ONLY.contains(&k.as_str()) {
            return Err(GErr::bad("Request_BadRequest", format!("Property '{k}' is read-only and cannot be set.")));
        }
    }
    if obj.get("displayName").is_some_and(|v| v.as_str().is_none_or(str::is_empty)) {
        return Err(GErr::bad(
            "Request_BadRequest",
            "Invalid value specified for property 'displayName' of resource 'User'.",
        ));
    }
    if let Some(Value::Array(ph)) = obj.get("businessPhones")
        && ph.len() > 1
    {
        return Err(GErr::bad("Request_BadRequest", "Only one business phone number can be set."));
    }
    if let Some(upn) = obj.get("userPrincipalName").and_then(Value::as_str)
        && t.upn_index.get(&upn.to_lowercase()).is_some_and(|x| *x != uid)
    {
        return Err(GErr::bad(
            "Request_BadRequest",
            "Another object with the same value for property userPrincipalName already exists.",
        ));
    }
    let Some(u) = t.users.get_mut(&uid) else {
        return Err(GErr::not_found(&key));
    };
    let old_upn = u.upn().to_lowercase();
    for (k, v) in obj {
        if k == "passwordProfile" {
            if let Some(pw) = v.get("password").and_then(Value::as_str) {
                u.password = pw.to_string();
            }
            continue;
        }
        u.props.insert(k.clone(), v.clone());
    }
    let new_upn = u.upn().to_lowercase();
    if new_upn != old_upn {
        t.upn_index.remove(&old_upn);
        t.upn_index.insert(new_upn, uid.clone());
    }
    t.record(Kind::User, &uid, None);
    Ok(no_content(req, 204))
}

fn delete_user(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(USERS_WRITE, USERS_WRITE)?;
    if !ctx.app_only() && !ctx.is_admin() {
        return Err(GErr::denied());
    }
    let key = p.first().cloned().unwrap_or_default();
    let mut st = sh.write();
    let t = tenant_mut(&mut st, ctx)?;
    let uid = t.user_id(&key).ok_or_else(|| GErr::not_found(&key))?;
    t.remove_user(&uid, "changed");
    Ok(no_content(req, 204))
}

fn create_user(sh: &Shared, req: &GReq, ctx: &Ctx) -> GResult {
    ctx.need(USERS_WRITE, USERS_WRITE)?;
    if !ctx.app_only() && !ctx.is_admin() {
        return Err(GErr::denied());
    }
    let body = req.json_body()?;
    let obj = body.as_object().ok_or_else(|| GErr::bad("Request_BadRequest", "Invalid request body."))?;
    for f in ["accountEnabled", "displayName", "mailNickname", "passwordProfile", "userPrincipalName"] {
        if obj.get(f).is_none_or(Value::is_null) {
            return Err(GErr::bad(
                "Request_BadRequest",
                format!("Invalid value specified for property '{f}' of resource 'User'."),
            ));
        }
    }
    let upn = obj.get("userPrincipalName").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut st = sh.write();
    let t = tenant_mut(&mut st, ctx)?;
    let valid_chars = upn
        .split('@')
        .next()
        .is_some_and(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || "'.-_!#^~".contains(c)));
    if !valid_chars || !upn.to_lowercase().ends_with(&format!("@{}", t.domain.to_lowercase())) {
        return Err(GErr::bad("Request_BadRequest", "Property userPrincipalName is invalid."));
    }
    if t.upn_index.contains_key(&upn.to_lowercase()) {
        return Err(GErr::bad(
            "Request_BadRequest",
            "Another object with the same value for property userPrincipalName already exists.",
        ));
    }
    let id = new_id();
    let mut props = Map::new();
    for k in USER_DEFAULT {
        props.insert((*k).to_string(), if *k == "businessPhones" { json!([]) } else { Value::Null });
    }
    props.insert("assignedLicenses".into(), json!([]));
    props.insert("userType".into(), json!("Member"));
    props.insert("createdDateTime".into(), json!(iso(now_secs())));
    let mut password = String::new();
    for (k, v) in obj {
        if k == "passwordProfile" {
            password = v.get("password").and_then(Value::as_str).unwrap_or_default().to_string();
            continue;
        }
        props.insert(k.clone(), v.clone());
    }
    props.insert("id".into(), json!(id));
    let u = User { id, props, password, photo: None, manager: None, wids: vec![DEFAULT_USER_ROLE.into()], edu: None };
    let mut out = Map::new();
    out.insert("@odata.context".into(), json!(context(sh, "users", &None, true)));
    if let Value::Object(m) = user_default(&u) {
        out.extend(m);
    }
    t.add_user(u);
    Ok(ok_json(req, 201, Value::Object(out)))
}

fn users_delta(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q) -> GResult {
    ctx.need(
        &["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"],
        &["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"],
    )?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let ids = |o: usize, n: usize| (t.user_order.iter().skip(o).take(n).cloned().collect(), t.user_order.len());
    let render =
        |id: &str, selected: bool| t.users.get(id).map(|u| if selected { user_full(u) } else { user_default(u) });
    let ctx_first = context(sh, "users", &None, false);
    super::delta(sh, req, q, t, "users", Kind::User, "/users/delta", &ctx_first, &ctx_first, &ids, &render, true)
}

fn manager(sh: &Shared, req: &GReq, ctx: &Ctx, tpl: &str, p: &[String]) -> GResult {
    let (key, me) = target(ctx, tpl, p)?;
    if me {
        ctx.need(
            &["User.Read", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All"],
            &[],
        )?;
    } else {
        ctx.need(USERS_READ_D, USERS_READ_A)?;
    }
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let u = t.find_user(&key).ok_or_else(|| GErr::not_found(&key))?;
    let m = u.manager.as_ref().and_then(|m| t.users.get(m)).ok_or_else(|| GErr::not_found("manager"))?;
    let mut out = Map::new();
    out.insert("@odata.context".into(), json!(context(sh, "directoryObjects", &None, true)));
    if let Value::Object(o) = dir_user(m) {
        out.extend(o);
    }
    Ok(ok_json(req, 200, Value::Object(out)))
}

fn set_manager(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(USERS_WRITE, USERS_WRITE)?;
    let body = req.json_body()?;
    let mid = ref_id(&body)?;
    let key = p.first().cloned().unwrap_or_default();
    let mut st = sh.write();
    let t = tenant_mut(&mut st, ctx)?;
    let mid = t.user_id(&mid).ok_or_else(|| GErr::not_found(&mid))?;
    let uid = t.user_id(&key).ok_or_else(|| GErr::not_found(&key))?;
    if let Some(u) = t.users.get_mut(&uid) {
        u.manager = Some(mid);
    }
    t.record(Kind::User, &uid, None);
    Ok(no_content(req, 204))
}

fn photo(sh: &Shared, req: &GReq, ctx: &Ctx, tpl: &str, p: &[String], value: bool) -> GResult {
    let (key, me) = target(ctx, tpl, p)?;
    let is_self = me || ctx.user.as_deref() == Some(key.as_str());
    if is_self && !ctx.app_only() {
        ctx.need(ME_READ, &[])?;
    } else {
        ctx.need(
            USERS_READ_D,
            &[
                "User.Read.All",
                "User.ReadWrite.All",
                "ProfilePhoto.Read.All",
                "ProfilePhoto.ReadWrite.All",
                "Directory.Read.All",
            ],
        )?;
    }
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let u = t.find_user(&key).ok_or_else(|| GErr::not_found(&key))?;
    match (&u.photo, value) {
        (Some(bytes), true) => {
            let mut r =
                GResp::new(200, GBody::Bytes(photo_type(bytes).into(), bytes.clone()), req.header("client-request-id"));
            r.headers.push(("ETag".into(), format!("\"{:08X}\"", bytes.len())));
            Ok(r)
        }
        (Some(bytes), false) => Ok(ok_json(
            req,
            200,
            json!({
            "@odata.context": format!("{}/v1.0/$metadata#users('{}')/photo/$entity", sh.graph_base(), u.id),
            "@odata.id": format!("{}/v1.0/users('{}@{}')/photo", sh.graph_base(), u.id, t.id),
            "@odata.mediaContentType": photo_type(bytes), "@odata.mediaEtag": format!("\"{:08X}\"", bytes.len()),
            "id": "240x240", "width": 240, "height": 240}),
        )),
        // Metadata of a user without a photo: Microsoft's 1x1 placeholder.
        (None, false) => Ok(ok_json(
            req,
            200,
            json!({
            "@odata.context": format!("{}/v1.0/$metadata#users('{}')/photo/$entity", sh.graph_base(), u.id),
            "@odata.id": format!("{}/v1.0/users('{}@{}')/photo", sh.graph_base(), u.id, t.id),
            "@odata.mediaContentType": "image/gif", "@odata.mediaEtag": "",
            "id": "1x1", "width": 1, "height": 1}),
        )),
        (None, true) => Err(GErr::new(
            404,
            "ImageNotFound",
            "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown.",
        )),
    }
}

fn photo_type(b: &[u8]) -> &'static str {
    if b.starts_with(b"GIF8") {
        "image/gif"
    } else if b.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        "image/jpeg"
    }
}

fn put_photo(sh: &Shared, req: &GReq, ctx: &Ctx, tpl: &str, p: &[String]) -> GResult {
    let (key, me) = target(ctx, tpl, p)?;
    if me {
        ctx.need(&["User.ReadWrite", "User.ReadWrite.All"], &[])?;
    } else {
        ctx.need(USERS_WRITE, &["User.ReadWrite.All", "ProfilePhoto.ReadWrite.All"])?;
    }
    if req.body.is_empty() {
        return Err(GErr::bad("ErrorInvalidRequest", "The request body is empty."));
    }
    let mut st = sh.write();
    let t = tenant_mut(&mut st, ctx)?;
    let uid = t.user_id(&key).ok_or_else(|| GErr::not_found(&key))?;
    if let Some(u) = t.users.get_mut(&uid) {
        u.photo = Some(req.body.clone());
    }
    Ok(no_content(req, 200))
}

fn assign_license(sh: &Shared, req: &GReq, ctx: &Ctx, tpl: &str, p: &[String]) -> GResult {
    ctx.need(
        &["LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"],
        &["LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"],
    )?;
    if !ctx.app_only() && !ctx.is_admin() {
        return Err(GErr::denied());
    }
    let (key, _) = target(ctx, tpl, p)?;
    let body = req.json_body()?;
    let (Some(add), Some(remove)) =
        (body.get("addLicenses").and_then(Value::as_array), body.get("removeLicenses").and_then(Value::as_array))
    else {
        return Err(GErr::bad(
            "Request_BadRequest",
            "Invalid value specified for property 'addLicenses' or 'removeLicenses': both are required.",
        ));
    };
    let mut st = sh.write();
    let t = tenant_mut(&mut st, ctx)?;
    let uid = t.user_id(&key).ok_or_else(|| GErr::not_found(&key))?;
    for a in add {
        let sku = a.get("skuId").and_then(Value::as_str).unwrap_or_default().to_lowercase();
        if !t.skus.iter().any(|s| s.sku_id == sku) {
            return Err(GErr::bad(
                "Request_BadRequest",
                format!("License {sku} does not correspond to a valid company License."),
            ));
        }
    }
    // Seats: a SKU whose enabled units are all consumed refuses new assignments (a user who
    // already holds it keeps it; removals first free seats).
    let removing: Vec<String> = remove.iter().filter_map(|r| r.as_str().map(str::to_lowercase)).collect();
    let holds = |u: &User, sku: &str| {
        u.props
            .get("assignedLicenses")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|l| l.get("skuId").and_then(Value::as_str) == Some(sku)))
    };
    for a in add {
        let sku = a.get("skuId").and_then(Value::as_str).unwrap_or_default().to_lowercase();
        let Some(target) = t.users.get(&uid) else {
            return Err(GErr::not_found(&key));
        };
        if holds(target, &sku) || removing.contains(&sku) {
            continue;
        }
        let consumed = t.users.values().filter(|u| holds(u, &sku)).count();
        let enabled = t.skus.iter().find(|s| s.sku_id == sku).map_or(0, |s| s.enabled);
        if i64::try_from(consumed).unwrap_or(i64::MAX) >= enabled {
            return Err(GErr::bad(
                "Request_BadRequest",
                format!("Subscription with SKU {sku} does not have any available licenses."),
            ));
        }
    }
    let Some(u) = t.users.get_mut(&uid) else {
        return Err(GErr::not_found(&key));
    };
    if u.props.get("usageLocation").is_none_or(Value::is_null) && !add.is_empty() {
        return Err(GErr::bad(
            "Request_BadRequest",
            "License assignment cannot be done for user with invalid usage location.",
        ));
    }
    let mut lic: Vec<Value> = u.props.get("assignedLicenses").and_then(Value::as_array).cloned().unwrap_or_default();
    let removes: Vec<String> = remove.iter().filter_map(|r| r.as_str().map(str::to_lowercase)).collect();
    lic.retain(|l| !l.get("skuId").and_then(Value::as_str).is_some_and(|s| removes.contains(&s.to_lowercase())));
    for a in add {
        let sku = a.get("skuId").and_then(Value::as_str).unwrap_or_default().to_lowercase();
        lic.retain(|l| l.get("skuId").and_then(Value::as_str) != Some(sku.as_str()));
        lic.push(json!({"disabledPlans": a.get("disabledPlans").cloned().unwrap_or(json!([])), "skuId": sku}));
    }
    u.props.insert("assignedLicenses".into(), Value::Array(lic));
    let v = user_full(u);
    t.record(Kind::User, &uid, None);
    let q = Q::default();
    Ok(entity(sh, req, "users", &q, v))
}

fn subscribed_skus(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q) -> GResult {
    ctx.need(
        &[
            "LicenseAssignment.Read.All",
            "LicenseAssignment.ReadWrite.All",
            "Organization.Read.All",
            "Directory.Read.All",
            "User.Read.All",
            "User.ReadWrite.All",
        ],
        &[
            "LicenseAssignment.Read.All",
            "LicenseAssignment.ReadWrite.All",
            "Organization.Read.All",
            "Directory.Read.All",
            "User.ReadWrite.All",
        ],
    )?;
    if q.filter.is_some() {
        return Err(GErr::bad(
            "Request_UnsupportedQuery",
            "The $filter query parameter is not supported on subscribedSkus.",
        ));
    }
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let items: Vec<Value> = t.skus.iter().map(|s| {
        let consumed = t.users.values().filter(|u| u.props.get("assignedLicenses").and_then(Value::as_array).is_some_and(|a| a.iter().any(|l| l.get("skuId").and_then(Value::as_str) == Some(s.sku_id.as_str())))).count();
        json!({
            "accountName": t.name, "accountId": t.id, "appliesTo": "User", "capabilityStatus": "Enabled", "consumedUnits": consumed,
            "id": format!("{}_{}", t.id, s.sku_id),
            "prepaidUnits": {"enabled": s.enabled, "lockedOut": 0, "suspended": 0, "warning": 0},
            "servicePlans": [
                {"servicePlanId": det_id(&format!("plan/{}/exchange", s.sku_id)), "servicePlanName": "EXCHANGE_S_STANDARD", "provisioningStatus": "Success", "appliesTo": "User"},
                {"servicePlanId": det_id(&format!("plan/{}/teams", s.sku_id)), "servicePlanName": "TEAMS1", "provisioningStatus": "Success", "appliesTo": "User"}
            ],
            "skuId": s.sku_id, "skuPartNumber": s.part, "subscriptionIds": [det_id(&format!("sub/{}/{}", t.id, s.sku_id))],
        })
    }).collect();
    collection(sh, req, q, "subscribedSkus", items, 999, 999)
}

fn organization(sh: &Shared, req: &GReq, ctx: &Ctx, tpl: &str) -> GResult {
    ctx.need(
        &["User.Read", "Organization.Read.All", "Directory.Read.All", "User.Read.All"],
        &["Organization.Read.All", "Directory.Read.All", "User.Read.All"],
    )?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let org = json!({
        "id": t.id, "deletedDateTime": null, "businessPhones": [], "city": "Redmond", "country": null, "countryLetterCode": "US",
        "createdDateTime": "2025-08-01T00:00:00Z", "displayName": t.name, "postalCode": "98052", "preferredLanguage": "en",
        "state": "WA", "street": "1 Education Way", "tenantType": "AAD", "technicalNotificationMails": [format!("admin@{}", t.domain)],
        "verifiedDomains": [{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true, "isInitial": true, "name": t.domain, "type": "Managed"}],
    });
    if tpl == "/organization" {
        collection(sh, req, &Q::default(), "organization", vec![org], 100, 999)
    } else {
        Ok(entity(sh, req, "organization", &Q::default(), org))
    }
}

pub fn role_name(template: &str) -> &'static str {
    match template {
        GLOBAL_ADMIN_ROLE => "Global Administrator",
        USER_ADMIN_ROLE => "User Administrator",
        DEFAULT_USER_ROLE => "Directory Readers",
        _ => "Directory role",
    }
}

fn role_obj(tid: &str, template: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.directoryRole", "id": det_id(&format!("role/{tid}/{template}")), "deletedDateTime": null,
        "description": format!("{} role", role_name(template)), "displayName": role_name(template), "roleTemplateId": template})
}

fn member_of(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, tpl: &str, p: &[String]) -> GResult {
    let (key, me) = target(ctx, tpl, p)?;
    if me {
        ctx.need(&["User.Read", "GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "User.Read.All"], &[])?;
    } else {
        ctx.need(
            &["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "User.Read.All"],
            &["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "User.Read.All"],
        )?;
    }
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let u = t.find_user(&key).ok_or_else(|| GErr::not_found(&key))?;
    let mut items: Vec<Value> = t
        .group_order
        .iter()
        .filter_map(|g| t.groups.get(g))
        .filter(|g| g.members.contains(&u.id))
        .map(|g| typed("#microsoft.graph.group", group_full(g)))
        .collect();
    items.extend(u.wids.iter().filter(|w| *w != DEFAULT_USER_ROLE).map(|w| role_obj(&t.id, w)));
    let items = apply_filter(items, q, "DirectoryObject", &[], false)?;
    collection(sh, req, q, "directoryObjects", items, 100, 999)
}

fn directory_roles(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q) -> GResult {
    let perms = &[
        "RoleManagement.Read.Directory",
        "RoleManagement.ReadWrite.Directory",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Directory.AccessAsUser.All",
    ];
    ctx.need(perms, perms)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let items: Vec<Value> = [GLOBAL_ADMIN_ROLE, USER_ADMIN_ROLE]
        .iter()
        .map(|r| {
            let mut v = role_obj(&t.id, r);
            if let Some(o) = v.as_object_mut() {
                o.remove("@odata.type");
                if q.expand.iter().any(|e| e == "members") {
                    let members: Vec<Value> = t
                        .user_order
                        .iter()
                        .filter_map(|id| t.users.get(id))
                        .filter(|u| u.wids.iter().any(|w| w == r))
                        .map(dir_user)
                        .collect();
                    o.insert("members".into(), Value::Array(members));
                }
            }
            v
        })
        .collect();
    let items = apply_filter(items, q, "DirectoryRole", &[], false)?;
    collection(sh, req, q, "directoryRoles", items, 100, 999)
}

fn role_members(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, p: &[String]) -> GResult {
    let perms = &[
        "RoleManagement.Read.Directory",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Directory.AccessAsUser.All",
    ];
    ctx.need(perms, perms)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let rid = p.first().cloned().unwrap_or_default();
    let template = [GLOBAL_ADMIN_ROLE, USER_ADMIN_ROLE]
        .into_iter()
        .find(|r| det_id(&format!("role/{}/{r}", t.id)) == rid || *r == rid)
        .ok_or_else(|| GErr::not_found(&rid))?;
    let items: Vec<Value> = t
        .user_order
        .iter()
        .filter_map(|id| t.users.get(id))
        .filter(|u| u.wids.iter().any(|w| w == template))
        .map(dir_user)
        .collect();
    collection(sh, req, q, "directoryObjects", items, 100, 999)
}

/// Properties of a user that `$search` tokenizes.
const USER_SEARCHABLE: &[&str] = &["displayName", "mail", "userPrincipalName", "givenName", "surname", "mailNickname"];

/// A `$search` expression: `"prop:value"` clauses joined by `OR` / `AND` (AND binds tighter),
/// as directory objects accept it (`$search="mail:a" OR "displayName:b"`). Matching is by word
/// prefix, case-insensitive, as Microsoft's tokenized search.
struct SearchExpr {
    /// OR of ANDs of (property, lower-case value).
    any_of: Vec<Vec<(String, String)>>,
}

impl SearchExpr {
    fn matches(&self, v: &Value) -> bool {
        self.any_of.iter().any(|all| {
            all.iter().all(|(prop, val)| {
                v.get(prop.as_str()).and_then(Value::as_str).is_some_and(|x| {
                    x.to_lowercase().split(|c: char| !c.is_alphanumeric()).any(|w| w.starts_with(val.as_str()))
                        || x.to_lowercase().starts_with(val.as_str())
                })
            })
        })
    }
}

fn parse_search(s: &str, searchable: &[&str]) -> Result<SearchExpr, GErr> {
    let invalid = || GErr::bad("Request_UnsupportedQuery", format!("Syntax error: invalid $search expression '{s}'."));
    // Tokens: quoted clauses and the operators between them (quotes may hold spaces and "OR").
    let mut any_of = vec![vec![]];
    let mut rest = s.trim();
    let mut expect_clause = true;
    while !rest.is_empty() {
        if expect_clause {
            let body = rest.strip_prefix('"').ok_or_else(invalid)?;
            let close = body.find('"').ok_or_else(invalid)?;
            let inner = &body[..close];
            let (prop, val) = inner.split_once(':').unwrap_or(("displayName", inner));
            if !searchable.contains(&prop) {
                return Err(GErr::bad(
                    "Request_UnsupportedQuery",
                    format!("Unsupported or invalid query: the property '{prop}' does not support $search."),
                ));
            }
            any_of.last_mut().ok_or_else(invalid)?.push((prop.to_owned(), val.trim().to_lowercase()));
            rest = body[close + 1..].trim_start();
        } else if let Some(r) = rest.strip_prefix("OR ") {
            any_of.push(vec![]);
            rest = r.trim_start();
        } else if let Some(r) = rest.strip_prefix("AND ") {
            rest = r.trim_start();
        } else {
            return Err(invalid());
        }
        expect_clause = !expect_clause;
    }
    if expect_clause {
        return Err(invalid());
    }
    Ok(SearchExpr { any_of })
}

fn list_groups(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q) -> GResult {
    ctx.need(GROUP_READ, GROUP_READ)?;
    if q.search.is_some() && !q.eventual {
        return Err(GErr::bad(
            "Request_UnsupportedQuery",
            "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
        ));
    }
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let all: Vec<Value> = t.group_order.iter().filter_map(|g| t.groups.get(g)).map(group_full).collect();
    let mut items = apply_filter(all, q, "Group", GROUP_FILTERABLE, true)?;
    if let Some(s) = &q.search {
        // Tokenized (word-prefix) matching on displayName and description only.
        let expr = parse_search(s, &["displayName", "description"])?;
        items.retain(|v| expr.matches(v));
    }
    apply_orderby(&mut items, q);
    collection(sh, req, q, "groups", items, 100, 999)
}

fn get_group(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, p: &[String]) -> GResult {
    ctx.need(GROUP_READ, GROUP_READ)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let id = p.first().cloned().unwrap_or_default();
    let g = t.groups.get(&id).ok_or_else(|| GErr::not_found(&id))?;
    Ok(entity(sh, req, "groups", q, group_full(g)))
}

fn can_manage_group(ctx: &Ctx, g: &Group) -> bool {
    ctx.app_only() || ctx.is_admin() || ctx.user.as_ref().is_some_and(|u| g.owners.contains(u))
}

fn patch_group(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(
        &["Group.ReadWrite.All", "Directory.ReadWrite.All", "GroupMember.ReadWrite.All", "Directory.AccessAsUser.All"],
        &["Group.ReadWrite.All", "Directory.ReadWrite.All", "GroupMember.ReadWrite.All"],
    )?;
    let body = req.json_body()?;
    let obj = body.as_object().ok_or_else(|| GErr::bad("Request_BadRequest", "Invalid request body."))?;
    let id = p.first().cloned().unwrap_or_default();
    let mut st = sh.write();
    let t = tenant_mut(&mut st, ctx)?;
    let g = t.groups.get(&id).ok_or_else(|| GErr::not_found(&id))?;
    if !can_manage_group(ctx, g) {
        return Err(GErr::denied());
    }
    let mut add = vec![];
    if let Some(binds) = obj.get("members@odata.bind") {
        let arr =
            binds.as_array().ok_or_else(|| GErr::bad("Request_BadRequest", "Invalid value for members@odata.bind."))?;
        if arr.len() > 20 {
            return Err(GErr::bad(
                "Request_BadRequest",
                "Unable to update the specified properties for objects that have originated within an external service. A maximum of 20 members can be added in a single request.",
            ));
        }
        for b in arr {
            let mid = ref_id(&json!({"@odata.id": b}))?;
            let uid = t
                .user_id(&mid)
                .or_else(|| t.groups.contains_key(&mid).then(|| mid.clone()))
                .ok_or_else(|| GErr::not_found(&mid))?;
            add.push(uid);
        }
    }
    let Some(g) = t.groups.get_mut(&id) else {
        return Err(GErr::not_found(&id));
    };
    for a in &add {
        if g.members.contains(a) {
            return Err(GErr::bad(
                "Request_BadRequest",
                "One or more added object references already exist for the following modified properties: 'members'.",
            ));
        }
    }
    g.members.extend(add);
    for (k, v) in obj {
        if !k.contains('@') && k != "id" {
            g.props.insert(k.clone(), v.clone());
        }
    }
    let is_class = g.class.is_some();
    if is_class {
        t.record(Kind::Class, &id, None);
    }
    Ok(no_content(req, 204))
}

fn group_members(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, tpl: &str, p: &[String]) -> GResult {
    ctx.need(GROUP_READ, GROUP_READ)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let id = p.first().cloned().unwrap_or_default();
    let g = t.groups.get(&id).ok_or_else(|| GErr::not_found(&id))?;
    // Optional OData cast segment: /members/microsoft.graph.user, /transitiveMembers/microsoft.graph.group.
    let cast = p.get(1).map(|c| c.trim_start_matches('#').to_string());
    let transitive = tpl.contains("/transitiveMembers");
    if let Some(c) = &cast {
        if c != "microsoft.graph.user" && c != "microsoft.graph.group" {
            return Err(GErr::bad("Request_BadRequest", format!("Unsupported cast '{c}'.")));
        }
        if transitive && q.count && !q.eventual {
            return Err(GErr::bad("Request_BadRequest", "$count is not currently supported."));
        }
    }
    let mut ids: Vec<String> = if tpl.contains("/owners") { g.owners.clone() } else { g.members.clone() };
    if transitive {
        // Breadth-first over nested groups, without duplicates.
        let mut i = 0;
        while i < ids.len() {
            if let Some(inner) = t.groups.get(&ids[i]) {
                for m in &inner.members {
                    if !ids.contains(m) && *m != id {
                        ids.push(m.clone());
                    }
                }
            }
            i += 1;
        }
    }
    let items: Vec<Value> = ids
        .iter()
        .filter_map(|m| {
            t.users
                .get(m)
                .map(dir_user)
                .or_else(|| t.groups.get(m).map(|g| typed("#microsoft.graph.group", group_full(g))))
        })
        .filter(|v| match cast.as_deref() {
            Some(c) => v.get("@odata.type").and_then(Value::as_str) == Some(&format!("#{c}")),
            None => true,
        })
        .collect();
    let items = apply_filter(items, q, "DirectoryObject", &[], false)?;
    let set = match cast.as_deref() {
        Some("microsoft.graph.group") => "groups",
        Some(_) => "users",
        None => "directoryObjects",
    };
    collection(sh, req, q, set, items, 100, 999)
}

fn add_member(sh: &Shared, req: &GReq, ctx: &Ctx, tpl: &str, p: &[String]) -> GResult {
    ctx.need(MEMBER_WRITE, MEMBER_WRITE)?;
    let body = req.json_body()?;
    let mid = ref_id(&body)?;
    let id = p.first().cloned().unwrap_or_default();
    let mut st = sh.write();
    let t = tenant_mut(&mut st, ctx)?;
    let g = t.groups.get(&id).ok_or_else(|| GErr::not_found(&id))?;
    if !can_manage_group(ctx, g) {
        return Err(GErr::denied());
    }
    let uid = t
        .user_id(&mid)
        .or_else(|| t.groups.contains_key(&mid).then(|| mid.clone()))
        .ok_or_else(|| GErr::not_found(&mid))?;
    let owners = tpl.contains("/owners/");
    let Some(g) = t.groups.get_mut(&id) else {
        return Err(GErr::not_found(&id));
    };
    let list = if owners { &mut g.owners } else { &mut g.members };
    if list.contains(&uid) {
        let prop = if owners { "owners" } else { "members" };
        return Err(GErr::bad(
            "Request_BadRequest",
            format!(
                "One or more added object references already exist for the following modified properties: '{prop}'."
            ),
        ));
    }
    list.push(uid);
    if g.class.is_some() {
        t.record(Kind::Class, &id, None);
    }
    Ok(no_content(req, 204))
}

fn remove_member(sh: &Shared, req: &GReq, ctx: &Ctx, tpl: &str, p: &[String]) -> GResult {
    ctx.need(MEMBER_WRITE, MEMBER_WRITE)?;
    let id = p.first().cloned().unwrap_or_default();
    let mid = p.get(1).cloned().unwrap_or_default();
    let mut st = sh.write();
    let t = tenant_mut(&mut st, ctx)?;
    let g = t.groups.get(&id).ok_or_else(|| GErr::not_found(&id))?;
    if !can_manage_group(ctx, g) {
        return Err(GErr::denied());
    }
    let uid = t.user_id(&mid).unwrap_or(mid.clone());
    let owners = tpl.contains("/owners/");
    let Some(g) = t.groups.get_mut(&id) else {
        return Err(GErr::not_found(&id));
    };
    let list = if owners { &mut g.owners } else { &mut g.members };
    let before = list.len();
    list.retain(|m| *m != uid);
    if list.len() == before {
        return Err(GErr::not_found(&mid));
    }
    if g.class.is_some() {
        t.record(Kind::Class, &id, None);
    }
    Ok(no_content(req, 204))
}

fn service_principals(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q) -> GResult {
    let perms = &[
        "Application.Read.All",
        "Application.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Directory.AccessAsUser.All",
    ];
    ctx.need(perms, perms)?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let mut items = vec![
        json!({"id": det_id(&format!("sp/{}/graph", t.id)), "appId": GRAPH_APP_ID, "displayName": "Microsoft Graph", "accountEnabled": true, "servicePrincipalType": "Application", "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a", "appRoles": [], "tags": []}),
    ];
    let mut sps: Vec<(&String, &String)> = t.service_principals.iter().collect();
    sps.sort();
    for (client, sp) in sps {
        let name = st.apps.get(client).map(|a| a.display_name.clone()).unwrap_or_default();
        items.push(json!({"id": sp, "appId": client, "displayName": name, "accountEnabled": true, "servicePrincipalType": "Application", "appOwnerOrganizationId": null, "appRoles": [], "tags": ["WindowsAzureActiveDirectoryIntegratedApp"]}));
    }
    let items = apply_filter(
        items,
        q,
        "ServicePrincipal",
        &["appId", "displayName", "id", "servicePrincipalType", "tags", "accountEnabled"],
        true,
    )?;
    collection(sh, req, q, "servicePrincipals", items, 100, 999)
}

fn delete_sp(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(&["Application.ReadWrite.All", "Directory.AccessAsUser.All"], &["Application.ReadWrite.All"])?;
    if !ctx.app_only() && !ctx.is_admin() {
        return Err(GErr::denied());
    }
    let id = p.first().cloned().unwrap_or_default();
    let mut st = sh.write();
    let t = tenant_mut(&mut st, ctx)?;
    let client = t
        .service_principals
        .iter()
        .find(|(_, sp)| **sp == id)
        .map(|(c, _)| c.clone())
        .ok_or_else(|| GErr::not_found(&id))?;
    t.remove_service_principal(&client);
    Ok(no_content(req, 204))
}

// ------------------------------------------------------- app role assignments

/// The resource service principal `id` of the tenant: (display name) or 404.
fn resource_sp(st: &Store, t: &Tenant, id: &str) -> Result<String, GErr> {
    if id == det_id(&format!("sp/{}/graph", t.id)) {
        return Ok("Microsoft Graph".into());
    }
    let client = t.service_principals.iter().find(|(_, sp)| *sp == id).map(|(c, _)| c.clone());
    let client = client.ok_or_else(|| GErr::not_found(id))?;
    Ok(st.apps.get(&client).map(|a| a.display_name.clone()).unwrap_or_default())
}

fn principal_name(t: &Tenant, a: &AppRoleAssignment) -> Value {
    let name = match a.principal_type.as_str() {
        "User" => t.users.get(&a.principal_id).map(|u| u.display_name().to_string()),
        _ => t
            .groups
            .get(&a.principal_id)
            .and_then(|g| g.props.get("displayName"))
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    json!(name)
}

fn assignment_json(t: &Tenant, a: &AppRoleAssignment, resource_name: &str) -> Value {
    json!({
        "id": a.id,
        "deletedDateTime": null,
        "appRoleId": a.app_role_id,
        "createdDateTime": a.created,
        "principalDisplayName": principal_name(t, a),
        "principalId": a.principal_id,
        "principalType": a.principal_type,
        "resourceDisplayName": resource_name,
        "resourceId": a.resource_id,
    })
}

/// `GET /servicePrincipals/{id}/appRoleAssignedTo`: who was granted an app role on this resource.
fn app_role_assigned_to(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, p: &[String]) -> GResult {
    let perms = &[
        "Application.Read.All",
        "Application.ReadWrite.All",
        "AppRoleAssignment.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Directory.AccessAsUser.All",
    ];
    ctx.need(perms, perms)?;
    let id = p.first().cloned().unwrap_or_default();
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let resource_name = resource_sp(&st, t, &id)?;
    let items: Vec<Value> = t
        .app_role_assignments
        .iter()
        .filter(|a| a.resource_id == id)
        .map(|a| assignment_json(t, a, &resource_name))
        .collect();
    let items = apply_filter(
        items,
        q,
        "AppRoleAssignment",
        &["principalId", "principalType", "appRoleId", "resourceId"],
        false,
    )?;
    collection(sh, req, q, &format!("servicePrincipals('{id}')/appRoleAssignedTo"), items, 100, 999)
}

/// `POST /servicePrincipals/{id}/appRoleAssignedTo`: grants `appRoleId` on this resource to a user or group.
fn assign_app_role(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(&["AppRoleAssignment.ReadWrite.All", "Directory.AccessAsUser.All"], &["AppRoleAssignment.ReadWrite.All"])?;
    if !ctx.app_only() && !ctx.is_admin() {
        return Err(GErr::denied());
    }
    let id = p.first().cloned().unwrap_or_default();
    let body = req.json_body()?;
    let field = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let invalid = |prop: &str| {
        GErr::bad(
            "Request_BadRequest",
            format!("Invalid value specified for property '{prop}' of resource 'AppRoleAssignment'."),
        )
    };
    let principal = field("principalId").ok_or_else(|| invalid("principalId"))?;
    let resource = field("resourceId").ok_or_else(|| invalid("resourceId"))?;
    let role = field("appRoleId").ok_or_else(|| invalid("appRoleId"))?;
    let mut st = sh.write();
    let resource_name = {
        let t = tenant(&st, ctx)?;
        resource_sp(&st, t, &id)?
    };
    let t = tenant_mut(&mut st, ctx)?;
    if !resource.eq_ignore_ascii_case(&id) {
        return Err(invalid("resourceId"));
    }
    // The emulated service principals define no app roles: only the default access role exists.
    if role != DEFAULT_ACCESS_ROLE {
        return Err(GErr::bad(
            "Request_BadRequest",
            format!("Permission being assigned was not found on application '{id}'."),
        ));
    }
    let principal_type = if t.users.contains_key(&principal) {
        "User"
    } else if t.groups.contains_key(&principal) {
        "Group"
    } else {
        return Err(invalid("principalId"));
    };
    if t.has_app_role(&id, &principal, &role) {
        return Err(GErr::bad("Request_BadRequest", "Permission being assigned already exists on the object."));
    }
    let a = AppRoleAssignment {
        id: random_token(32),
        resource_id: id.clone(),
        principal_id: principal,
        principal_type: principal_type.into(),
        app_role_id: role,
        created: iso_now(),
    };
    t.add_app_role_assignment(a.clone());
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(format!("{}/v1.0/$metadata#servicePrincipals('{id}')/appRoleAssignedTo/$entity", sh.graph_base())),
    );
    if let Value::Object(m) = assignment_json(t, &a, &resource_name) {
        out.extend(m);
    }
    Ok(ok_json(req, 201, Value::Object(out)))
}

// ---------------------------------------------------------------- mail

fn addresses(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            r.get("emailAddress").and_then(|e| e.get("address")).and_then(Value::as_str).map(str::to_string)
        })
        .collect()
}

fn send_mail(sh: &Shared, req: &GReq, ctx: &Ctx, tpl: &str, p: &[String]) -> GResult {
    let (key, me) = target(ctx, tpl, p)?;
    ctx.need(&["Mail.Send"], &["Mail.Send"])?;
    let ct = req.header("content-type").unwrap_or("application/json").to_ascii_lowercase();
    let message = if ct.starts_with("text/plain") {
        let raw = b64std_decode(std::str::from_utf8(&req.body).unwrap_or_default()).ok_or_else(|| {
            GErr::bad("ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")
        })?;
        let text = String::from_utf8_lossy(&raw).to_string();
        let (head, body) = text.split_once("\r\n\r\n").or_else(|| text.split_once("\n\n")).unwrap_or((&text, ""));
        let h = |n: &str| {
            head.lines().find_map(|l| {
                l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case(n)).map(|(_, v)| v.trim().to_string())
            })
        };
        let to: Vec<Value> = h("To")
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|a| json!({"emailAddress": {"address": a.trim()}}))
            .collect();
        json!({"subject": h("Subject").unwrap_or_default(), "body": {"contentType": "text", "content": body}, "toRecipients": to})
    } else {
        let b = req.json_body()?;
        b.get("message")
            .cloned()
            .ok_or_else(|| GErr::bad("ErrorInvalidRequest", "The 'message' parameter is required."))?
    };
    let save = !req
        .json_body()
        .ok()
        .and_then(|b| b.get("saveToSentItems").cloned())
        .is_some_and(|v| v == json!(false) || v == json!("false"));
    let mut st = sh.write();
    let t = tenant(&st, ctx)?;
    let sender = t
        .find_user(&key)
        .ok_or_else(|| GErr::new(404, "ErrorInvalidUser", format!("The requested user '{key}' is invalid.")))?;
    if !ctx.app_only() && !me && ctx.user.as_deref() != Some(sender.id.as_str()) {
        return Err(GErr::new(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."));
    }
    let from_addr = sender.props.get("mail").and_then(Value::as_str).unwrap_or(sender.upn()).to_string();
    let from_name = sender.display_name().to_string();
    let sender_id = sender.id.clone();
    let mut rcpts = addresses(message.get("toRecipients"));
    rcpts.extend(addresses(message.get("ccRecipients")));
    rcpts.extend(addresses(message.get("bccRecipients")));
    if rcpts.is_empty() {
        return Err(GErr::bad(
            "ErrorInvalidRecipients",
            "At least one recipient isn't valid., A message can't be sent because it contains no recipients.",
        ));
    }
    let now = iso(now_secs());
    let mut msg = message.as_object().cloned().unwrap_or_default();
    msg.insert("from".into(), json!({"emailAddress": {"name": from_name, "address": from_addr}}));
    msg.insert("sender".into(), json!({"emailAddress": {"name": from_name, "address": from_addr}}));
    msg.insert("sentDateTime".into(), json!(now));
    msg.insert("receivedDateTime".into(), json!(now));
    msg.insert(
        "hasAttachments".into(),
        json!(msg.get("attachments").and_then(Value::as_array).is_some_and(|a| !a.is_empty())),
    );
    msg.insert("internetMessageId".into(), json!(format!("<{}@emulator.local>", new_id())));
    msg.insert("isRead".into(), json!(false));
    for r in rcpts {
        let mut m = msg.clone();
        // As Exchange: the recipients' copies do not say who else got it in Bcc.
        m.remove("bccRecipients");
        m.insert("id".into(), json!(random_token(24)));
        m.insert("parentFolderId".into(), json!("inbox"));
        let key = st.find_upn(&r).map(|(_, u)| u.id.clone()).unwrap_or_else(|| r.to_lowercase());
        st.mailboxes.entry(key).or_default().push(Value::Object(m));
    }
    if save {
        let mut m = msg.clone();
        m.insert("id".into(), json!(random_token(24)));
        m.insert("parentFolderId".into(), json!("sentitems"));
        m.insert("isRead".into(), json!(true));
        st.mailboxes.entry(sender_id).or_default().push(Value::Object(m));
    }
    Ok(no_content(req, 202))
}

fn messages(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, tpl: &str, p: &[String]) -> GResult {
    let (key, me) = target(ctx, tpl, p)?;
    ctx.need(
        &["Mail.Read", "Mail.ReadWrite", "Mail.ReadBasic"],
        &["Mail.Read", "Mail.ReadWrite", "Mail.ReadBasic.All"],
    )?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let u = t
        .find_user(&key)
        .ok_or_else(|| GErr::new(404, "ErrorInvalidUser", format!("The requested user '{key}' is invalid.")))?;
    if !ctx.app_only() && !me && ctx.user.as_deref() != Some(u.id.as_str()) {
        return Err(GErr::new(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."));
    }
    let folder = if tpl.contains("mailFolders") { p.last().map(|f| f.to_lowercase()) } else { None };
    let mut items: Vec<Value> = st.mailboxes.get(&u.id).cloned().unwrap_or_default();
    if let Some(f) = folder {
        items.retain(|m| m.get("parentFolderId").and_then(Value::as_str) == Some(f.as_str()));
    }
    items.reverse();
    let items = apply_filter(items, q, "Message", &[], false)?;
    collection(sh, req, q, &format!("users('{}')/messages", u.id), items, 10, 1000)
}

// ---------------------------------------------------------------- drive

pub fn drive_id(group_id: &str) -> String {
    format!("b!{}", group_id.replace('-', ""))
}

fn group_of_drive(t: &Tenant, drive: &str) -> Option<String> {
    t.groups.keys().find(|g| drive_id(g) == drive).cloned()
}

fn strip_internal(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.retain(|k, _| !k.starts_with('_'));
    }
    v
}

fn root_item(sh: &Shared, t: &Tenant, gid: &str) -> Value {
    let children = t
        .drive_items
        .get(gid)
        .map(|v| v.iter().filter(|i| i.get("_parent").and_then(Value::as_str) == Some("root")).count())
        .unwrap_or(0);
    json!({"id": format!("root-{}", &gid[..8.min(gid.len())]), "name": "root", "root": {}, "folder": {"childCount": children}, "size": 0,
        "webUrl": format!("{}/sites/{}/Shared%20Documents", sh.base_url, gid), "createdDateTime": "2025-08-01T00:00:00Z", "lastModifiedDateTime": "2025-08-01T00:00:00Z",
        "parentReference": {"driveId": drive_id(gid), "driveType": "documentLibrary"}})
}

/// Resolves (group id, item path parts) for drive routes.
fn drive_target(t: &Tenant, tpl: &str, p: &[String]) -> Result<String, GErr> {
    let first = p.first().cloned().unwrap_or_default();
    if tpl.starts_with("/drives/") {
        group_of_drive(t, &first).ok_or_else(|| GErr::new(404, "itemNotFound", "The requested drive was not found."))
    } else if t.groups.contains_key(&first) {
        Ok(first)
    } else {
        Err(GErr::not_found(&first))
    }
}

fn drive_access(ctx: &Ctx, t: &Tenant, gid: &str, write: bool) -> Result<(), GErr> {
    ctx.need(if write { FILES_W } else { FILES }, if write { FILES_W } else { FILES })?;
    if !ctx.app_only() {
        let g = t.groups.get(gid).ok_or_else(|| GErr::not_found(gid))?;
        let u = ctx.user.clone().unwrap_or_default();
        if !g.members.contains(&u) && !g.owners.contains(&u) && !ctx.is_admin() {
            return Err(GErr::new(403, "accessDenied", "Access denied"));
        }
    }
    Ok(())
}

fn drive_get(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, tpl: &str, p: &[String]) -> GResult {
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let gid = drive_target(t, tpl, p)?;
    drive_access(ctx, t, &gid, false)?;
    let items = t.drive_items.get(&gid).cloned().unwrap_or_default();
    let item_id = p.get(1).cloned();
    if tpl.ends_with("/drive") || tpl == "/drives/{id}" {
        let g = t.groups.get(&gid).ok_or_else(|| GErr::not_found(&gid))?;
        return Ok(entity(
            sh,
            req,
            "drives",
            q,
            json!({"id": drive_id(&gid), "driveType": "documentLibrary", "name": "Documents", "description": "",
            "createdDateTime": "2025-08-01T00:00:00Z", "lastModifiedDateTime": "2025-08-01T00:00:00Z", "webUrl": format!("{}/sites/{}/Shared%20Documents", sh.base_url, gid),
            "owner": {"group": {"id": gid, "displayName": g.props.get("displayName").cloned().unwrap_or(Value::Null)}}, "quota": {"total": 1_099_511_627_776u64, "used": 0}}),
        ));
    }
    if tpl.ends_with("/root") {
        return Ok(entity(sh, req, "drives('x')/root", q, root_item(sh, t, &gid)));
    }
    let parent = if tpl.contains("/root/children") {
        Some("root".to_string())
    } else if tpl.ends_with("/children") {
        item_id.clone()
    } else {
        None
    };
    if let Some(parent) = parent {
        if parent != "root" && !items.iter().any(|i| i.get("id").and_then(Value::as_str) == Some(parent.as_str())) {
            return Err(GErr::new(404, "itemNotFound", "The resource could not be found."));
        }
        let list: Vec<Value> = items
            .iter()
            .filter(|i| i.get("_parent").and_then(Value::as_str) == Some(parent.as_str()))
            .map(strip_internal)
            .collect();
        return collection(sh, req, q, "drives('x')/items", list, 200, 1000);
    }
    let id = item_id.unwrap_or_default();
    let item = items
        .iter()
        .find(|i| i.get("id").and_then(Value::as_str) == Some(id.as_str()))
        .ok_or_else(|| GErr::new(404, "itemNotFound", "The resource could not be found."))?;
    if tpl.ends_with("/content") {
        let bytes = item.get("_content").and_then(Value::as_str).and_then(b64std_decode).unwrap_or_default();
        return Ok(GResp::new(
            200,
            GBody::Bytes("application/octet-stream".into(), bytes),
            req.header("client-request-id"),
        ));
    }
    Ok(entity(sh, req, "drives('x')/items", q, strip_internal(item)))
}

pub fn new_drive_item(
    sh: &Shared,
    gid: &str,
    parent: &str,
    name: &str,
    folder: bool,
    content: Option<&[u8]>,
    by: Option<(&str, &str)>,
) -> Value {
    let id = format!("01{}", random_token(24).to_uppercase().replace(['-', '_'], "X"));
    let now = iso(now_secs());
    let by = by
        .map(|(i, n)| json!({"user": {"id": i, "displayName": n}}))
        .unwrap_or(json!({"application": {"displayName": "EduGraph"}}));
    let mut v = json!({"id": id, "name": name, "createdDateTime": now, "lastModifiedDateTime": now, "size": content.map(|c| c.len()).unwrap_or(0),
        "webUrl": format!("{}/sites/{}/Shared%20Documents/{}", sh.base_url, gid, name), "createdBy": by, "lastModifiedBy": by,
        "parentReference": {"driveId": drive_id(gid), "driveType": "documentLibrary", "id": parent}, "_parent": parent});
    if let Some(o) = v.as_object_mut() {
        if folder {
            o.insert("folder".into(), json!({"childCount": 0}));
        } else {
            o.insert("file".into(), json!({"mimeType": "application/octet-stream"}));
            o.insert("_content".into(), json!(b64std(content.unwrap_or_default())));
        }
    }
    v
}

fn by_user(t: &Tenant, ctx: &Ctx) -> Option<(String, String)> {
    ctx.user.as_ref().and_then(|u| t.users.get(u)).map(|u| (u.id.clone(), u.display_name().to_string()))
}

fn drive_put(sh: &Shared, req: &GReq, ctx: &Ctx, tpl: &str, p: &[String]) -> GResult {
    let mut st = sh.write();
    let t = tenant_mut(&mut st, ctx)?;
    let gid = drive_target(t, tpl, p)?;
    drive_access(ctx, t, &gid, true)?;
    let by = by_user(t, ctx);
    let items = t.drive_items.entry(gid.clone()).or_default();
    // Forms: root/{name}/content, items/{parent}/{name}/content, items/{id}/content (replace).
    let (parent, name) = if tpl.contains("/root/{id}/content") {
        ("root".to_string(), p.get(1).cloned().unwrap_or_default())
    } else if tpl.ends_with("/{id}/{id}/content") {
        (p.get(1).cloned().unwrap_or_default(), p.get(2).cloned().unwrap_or_default())
    } else {
        let id = p.get(1).cloned().unwrap_or_default();
        let Some(item) = items.iter_mut().find(|i| i.get("id").and_then(Value::as_str) == Some(id.as_str())) else {
            return Err(GErr::new(404, "itemNotFound", "The resource could not be found."));
        };
        if let Some(o) = item.as_object_mut() {
            o.insert("_content".into(), json!(b64std(&req.body)));
            o.insert("size".into(), json!(req.body.len()));
            o.insert("lastModifiedDateTime".into(), json!(iso(now_secs())));
        }
        let v = strip_internal(item);
        return Ok(ok_json(req, 200, v));
    };
    if parent != "root"
        && !items
            .iter()
            .any(|i| i.get("id").and_then(Value::as_str) == Some(parent.as_str()) && i.get("folder").is_some())
    {
        return Err(GErr::new(404, "itemNotFound", "The resource could not be found."));
    }
    if let Some(existing) = items.iter_mut().find(|i| {
        i.get("_parent").and_then(Value::as_str) == Some(parent.as_str())
            && i.get("name").and_then(Value::as_str) == Some(name.as_str())
    }) {
        if let Some(o) = existing.as_object_mut() {
            o.insert("_content".into(), json!(b64std(&req.body)));
            o.insert("size".into(), json!(req.body.len()));
        }
        let v = strip_internal(existing);
        return Ok(ok_json(req, 200, v));
    }
    let item = new_drive_item(
        sh,
        &gid,
        &parent,
        &name,
        false,
        Some(&req.body),
        by.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
    );
    let out = strip_internal(&item);
    items.push(item);
    Ok(ok_json(req, 201, out))
}

/// Microsoft's limits for upload sessions (driveitem-createuploadsession.md): each range but
/// the last is a multiple of 320 KiB, and one request carries less than 60 MiB.
const FRAGMENT_UNIT: usize = 320 * 1024;
const FRAGMENT_MAX: usize = 60 * 1024 * 1024;
const UPLOAD_SESSION_SECS: u64 = 15 * 60;

/// `POST …/items/{parent}:/{name}:/createUploadSession` → 200 `uploadSession` with a
/// pre-authenticated `uploadUrl` and `nextExpectedRanges: ["0-"]`.
fn create_upload_session(sh: &Shared, req: &GReq, ctx: &Ctx, tpl: &str, p: &[String]) -> GResult {
    let body = if req.body.is_empty() { json!({}) } else { req.json_body()? };
    let conflict = body
        .pointer("/item/@microsoft.graph.conflictBehavior")
        .and_then(Value::as_str)
        .unwrap_or("replace")
        .to_string();
    let mut st = sh.write();
    let tid = ctx.tid.clone();
    let t = tenant_mut(&mut st, ctx)?;
    let gid = drive_target(t, tpl, p)?;
    drive_access(ctx, t, &gid, true)?;
    let by = by_user(t, ctx);
    let (parent, name) = if tpl.contains("/root/") {
        ("root".to_string(), p.get(1).cloned().unwrap_or_default())
    } else {
        (p.get(1).cloned().unwrap_or_default(), p.get(2).cloned().unwrap_or_default())
    };
    let items = t.drive_items.get(&gid).cloned().unwrap_or_default();
    if parent != "root"
        && !items
            .iter()
            .any(|i| i.get("id").and_then(Value::as_str) == Some(parent.as_str()) && i.get("folder").is_some())
    {
        return Err(GErr::new(404, "itemNotFound", "The resource could not be found."));
    }
    if conflict == "fail"
        && items.iter().any(|i| {
            i.get("_parent").and_then(Value::as_str) == Some(parent.as_str())
                && i.get("name").and_then(Value::as_str) == Some(name.as_str())
        })
    {
        return Err(GErr::new(409, "nameAlreadyExists", "The specified item name already exists."));
    }
    let token = random_token(32);
    let expires = now_secs() + UPLOAD_SESSION_SECS;
    st.upload_sessions.insert(
        token.clone(),
        UploadSession { tenant: tid, group: gid, parent, name, by, data: vec![], total: None, expires },
    );
    Ok(ok_json(
        req,
        200,
        json!({
            "@odata.context": format!("{}/v1.0/$metadata#microsoft.graph.uploadSession", sh.graph_base()),
            "uploadUrl": format!("{}/upload/{token}", sh.base_url),
            "expirationDateTime": iso(expires),
            "nextExpectedRanges": ["0-"],
        }),
    ))
}

fn parse_content_range(v: &str) -> Option<(usize, usize, usize)> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b, total) = (a.parse().ok()?, b.parse().ok()?, total.parse().ok()?);
    (a <= b && b < total).then_some((a, b, total))
}

/// `PUT|GET|DELETE {uploadUrl}`: a byte range (202 + `nextExpectedRanges`, or 201/200 + the
/// driveItem after the last byte), the session's state, or its cancellation (204). The URL
/// is pre-authenticated: a request carrying an `Authorization` header is refused with 401,
/// as Microsoft may do.
pub(crate) fn upload_range(sh: &Shared, req: &GReq, token: &str) -> GResult {
    let mut st = sh.write();
    let now = now_secs();
    st.upload_sessions.retain(|_, s| s.expires > now);
    let gone = || GErr::new(404, "itemNotFound", "The upload session was not found or has expired.");
    if req.header("Authorization").is_some() {
        return Err(GErr::new(
            401,
            "unauthenticated",
            "Upload URLs are pre-authenticated: do not send an Authorization header.",
        ));
    }
    match req.method.as_str() {
        "DELETE" => {
            st.upload_sessions.remove(token).ok_or_else(gone)?;
            return Ok(no_content(req, 204));
        }
        "GET" => {
            let s = st.upload_sessions.get(token).ok_or_else(gone)?;
            return Ok(ok_json(
                req,
                200,
                json!({"expirationDateTime": iso(s.expires), "nextExpectedRanges": [format!("{}-", s.data.len())]}),
            ));
        }
        "PUT" => {}
        _ => return Err(GErr::new(405, "invalidRequest", "Method not allowed.")),
    }
    let s = st.upload_sessions.get_mut(token).ok_or_else(gone)?;
    let (a, b, total) = req
        .header("Content-Range")
        .and_then(parse_content_range)
        .ok_or_else(|| GErr::bad("invalidRequest", "A valid Content-Range header is required."))?;
    let len = b - a + 1;
    if req.body.len() != len {
        return Err(GErr::bad("invalidRequest", "The Content-Range does not match the length of the body."));
    }
    if len >= FRAGMENT_MAX {
        return Err(GErr::new(413, "invalidRequest", "A fragment must be smaller than 60 MiB."));
    }
    if s.total.is_some_and(|t| t != total) {
        return Err(GErr::bad("invalidRequest", "The total size differs from the previous fragments."));
    }
    if a != s.data.len() {
        return Err(GErr::new(
            416,
            "invalidRange",
            format!("The uploaded fragment overlaps or skips data. Next expected range: {}-", s.data.len()),
        ));
    }
    if b + 1 < total && len % FRAGMENT_UNIT != 0 {
        return Err(GErr::bad("invalidRange", "Fragments other than the last must be a multiple of 320 KiB."));
    }
    s.total = Some(total);
    s.data.extend_from_slice(&req.body);
    s.expires = now + UPLOAD_SESSION_SECS;
    if s.data.len() < total {
        return Ok(GResp::new(
            202,
            GBody::Json(
                json!({"expirationDateTime": iso(s.expires), "nextExpectedRanges": [format!("{}-", s.data.len())]}),
            ),
            req.header("client-request-id"),
        ));
    }
    let done = st.upload_sessions.remove(token).ok_or_else(gone)?;
    let t = st.tenant_mut(&done.tenant).ok_or_else(gone)?;
    let items = t.drive_items.entry(done.group.clone()).or_default();
    if let Some(existing) = items.iter_mut().find(|i| {
        i.get("_parent").and_then(Value::as_str) == Some(done.parent.as_str())
            && i.get("name").and_then(Value::as_str) == Some(done.name.as_str())
    }) {
        if let Some(o) = existing.as_object_mut() {
            o.insert("_content".into(), json!(b64std(&done.data)));
            o.insert("size".into(), json!(done.data.len()));
            o.insert("lastModifiedDateTime".into(), json!(iso(now)));
        }
        return Ok(ok_json(req, 200, strip_internal(existing)));
    }
    let item = new_drive_item(
        sh,
        &done.group,
        &done.parent,
        &done.name,
        false,
        Some(&done.data),
        done.by.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
    );
    let out = strip_internal(&item);
    items.push(item);
    Ok(ok_json(req, 201, out))
}

fn drive_mkdir(sh: &Shared, req: &GReq, ctx: &Ctx, tpl: &str, p: &[String]) -> GResult {
    let body = req.json_body()?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| GErr::bad("invalidRequest", "Property 'name' is required."))?
        .to_string();
    let mut st = sh.write();
    let t = tenant_mut(&mut st, ctx)?;
    let gid = drive_target(t, tpl, p)?;
    drive_access(ctx, t, &gid, true)?;
    let by = by_user(t, ctx);
    let parent = if tpl.contains("/root/") { "root".to_string() } else { p.get(1).cloned().unwrap_or_default() };
    let items = t.drive_items.entry(gid.clone()).or_default();
    if items.iter().any(|i| {
        i.get("_parent").and_then(Value::as_str) == Some(parent.as_str())
            && i.get("name").and_then(Value::as_str) == Some(name.as_str())
    }) && body.get("@microsoft.graph.conflictBehavior").and_then(Value::as_str) == Some("fail")
    {
        return Err(GErr::new(409, "nameAlreadyExists", "The specified item name already exists."));
    }
    let item = new_drive_item(
        sh,
        &gid,
        &parent,
        &name,
        body.get("folder").is_some(),
        None,
        by.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
    );
    let out = strip_internal(&item);
    items.push(item);
    Ok(ok_json(req, 201, out))
}

// ---------------------------------------------------------------- conversations

fn default_conversation(t: &Tenant, g: &Group) -> Value {
    let name = g.props.get("displayName").and_then(Value::as_str).unwrap_or("the class");
    let teacher =
        g.owners.first().and_then(|o| t.users.get(o)).map(|u| u.display_name().to_string()).unwrap_or_default();
    json!({"id": det_id(&format!("conv/{}", g.id)), "topic": format!("Welcome to {name}"), "hasAttachments": false,
        "lastDeliveredDateTime": "2025-09-01T08:00:00Z", "uniqueSenders": [teacher], "preview": format!("Welcome to {name}! Please check the assignments tab.")})
}

fn conversations(sh: &Shared, req: &GReq, ctx: &Ctx, q: &Q, p: &[String]) -> GResult {
    ctx.need(
        &["Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All"],
        &["Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All"],
    )?;
    let st = sh.read();
    let t = tenant(&st, ctx)?;
    let id = p.first().cloned().unwrap_or_default();
    let g = t.groups.get(&id).ok_or_else(|| GErr::not_found(&id))?;
    let mut items = vec![default_conversation(t, g)];
    items.extend(t.conversations.get(&id).cloned().unwrap_or_default());
    items.reverse();
    collection(sh, req, q, &format!("groups('{id}')/conversations"), items, 100, 999)
}

fn post_conversation(sh: &Shared, req: &GReq, ctx: &Ctx, p: &[String]) -> GResult {
    ctx.need(&["Group.ReadWrite.All"], &["Group.ReadWrite.All"])?;
    let body = req.json_body()?;
    let topic = body
        .get("topic")
        .and_then(Value::as_str)
        .ok_or_else(|| GErr::bad("ErrorInvalidRequest", "The 'topic' property is required."))?
        .to_string();
    let mut st = sh.write();
    let t = tenant_mut(&mut st, ctx)?;
    let id = p.first().cloned().unwrap_or_default();
    if !t.groups.contains_key(&id) {
        return Err(GErr::not_found(&id));
    }
    let sender = by_user(t, ctx).map(|(_, n)| n).unwrap_or_else(|| "EduGraph".into());
    let preview = body
        .pointer("/threads/0/posts/0/body/content")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .chars()
        .take(255)
        .collect::<String>();
    let c = json!({"id": random_token(30), "topic": topic, "hasAttachments": false, "lastDeliveredDateTime": iso(now_secs()), "uniqueSenders": [sender], "preview": preview});
    t.conversations.entry(id.clone()).or_default().push(c.clone());
    let mut out = c;
    if let Some(o) = out.as_object_mut() {
        o.insert(
            "@odata.context".into(),
            json!(format!("{}/v1.0/$metadata#groups('{id}')/conversations/$entity", sh.graph_base())),
        );
    }
    Ok(ok_json(req, 201, out))
}

// ---------------------------------------------------------------- userinfo

pub fn userinfo(sh: &Shared, req: &GReq) -> GResp {
    let crid = req.header("client-request-id").map(str::to_string);
    match authenticate(sh, req) {
        Ok(ctx) => {
            let st = sh.read();
            match ctx.user.as_ref().and_then(|u| st.tenant(&ctx.tid).and_then(|t| t.users.get(u))) {
                Some(u) => ok_json(
                    req,
                    200,
                    json!({"sub": crate::oauth::sub_for(&ctx.client_id, &u.id), "name": u.display_name(),
                    "family_name": u.props.get("surname"), "given_name": u.props.get("givenName"), "picture": format!("{}/v1.0/me/photo/$value", sh.graph_base()),
                    "email": u.props.get("mail")}),
                ),
                None => {
                    GResp::error(401, "InvalidAuthenticationToken", "The token is not a user token.", crid.as_deref())
                }
            }
        }
        Err(e) => {
            let mut r = GResp::error(e.status, &e.code, &e.msg, crid.as_deref());
            r.headers.extend(e.headers);
            r
        }
    }
}

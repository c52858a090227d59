//! In-memory directory state.

use crate::keys::SigningKey;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
pub const GLOBAL_ADMIN_ROLE: &str = "62e90394-69f5-4237-9190-012177145e10";
pub const USER_ADMIN_ROLE: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
pub const DEFAULT_USER_ROLE: &str = "b79fbf4d-3ef9-4689-8143-76b194e85509";

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub props: Map<String, Value>,
    pub password: String,
    pub photo: Option<Vec<u8>>,
    pub manager: Option<String>,
    pub wids: Vec<String>,
    pub edu: Option<EduInfo>,
}

#[derive(Clone, Debug)]
pub struct EduInfo {
    pub role: String,
    pub external_id: String,
    pub number: String,
    pub grade: Option<String>,
    pub schools: Vec<String>,
}

impl User {
    pub fn upn(&self) -> &str {
        self.props.get("userPrincipalName").and_then(Value::as_str).unwrap_or_default()
    }
    pub fn display_name(&self) -> &str {
        self.props.get("displayName").and_then(Value::as_str).unwrap_or_default()
    }
    pub fn is_global_admin(&self) -> bool {
        self.wids.iter().any(|w| w == GLOBAL_ADMIN_ROLE)
    }
    pub fn enabled(&self) -> bool {
        self.props.get("accountEnabled").and_then(Value::as_bool).unwrap_or(true)
    }
}

#[derive(Clone, Debug)]
pub struct Group {
    pub id: String,
    pub props: Map<String, Value>,
    pub members: Vec<String>,
    pub owners: Vec<String>,
    pub class: Option<ClassInfo>,
}

#[derive(Clone, Debug)]
pub struct ClassInfo {
    pub schools: Vec<String>,
    pub props: Map<String, Value>,
}

#[derive(Clone, Debug)]
pub struct School {
    pub id: String,
    pub props: Map<String, Value>,
}

#[derive(Clone, Debug)]
pub struct Assignment {
    pub id: String,
    pub class_id: String,
    pub props: Map<String, Value>,
    pub resources: Vec<Value>,
    pub submissions: Vec<Submission>,
}

#[derive(Clone, Debug)]
pub struct Submission {
    pub id: String,
    pub user_id: String,
    pub props: Map<String, Value>,
    pub resources: Vec<Value>,
    pub submitted_resources: Vec<Value>,
    /// Grading state (issue 15): `feedback`, `points`, `rubricQualityFeedback`,
    /// `rubricQualitySelectedLevels`, their `published*` twins (copied on return) and
    /// `<kind>Modified` (when, by whom) per outcome.
    pub grades: Map<String, Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    User,
    Class,
}

#[derive(Clone, Debug)]
pub struct Change {
    pub seq: u64,
    pub kind: Kind,
    pub id: String,
    pub removed: Option<&'static str>,
}

/// An app role granted to a user or group on a resource service principal.
#[derive(Clone, Debug)]
pub struct AppRoleAssignment {
    pub id: String,
    /// The resource service principal's object id.
    pub resource_id: String,
    pub principal_id: String,
    /// `User` or `Group`.
    pub principal_type: String,
    pub app_role_id: String,
    pub created: String,
}

/// The default access role (`appRoleId` of an assignment to an app that defines no roles).
pub const DEFAULT_ACCESS_ROLE: &str = "00000000-0000-0000-0000-000000000000";

#[derive(Clone, Debug)]
pub struct Sku {
    pub sku_id: String,
    pub part: String,
    pub enabled: i64,
}

#[derive(Debug, Default)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub users: HashMap<String, User>,
    pub user_order: Vec<String>,
    pub upn_index: HashMap<String, String>,
    pub groups: HashMap<String, Group>,
    pub group_order: Vec<String>,
    pub schools: Vec<School>,
    pub assignments: HashMap<String, Assignment>,
    pub class_assignments: HashMap<String, Vec<String>>,
    /// client_id -> service principal object id (admin consent).
    pub service_principals: HashMap<String, String>,
    pub user_consents: HashSet<(String, String)>,
    /// App role assignments granted to principals of this tenant (`appRoleAssignedTo`), in creation order.
    pub app_role_assignments: Vec<AppRoleAssignment>,
    /// (resource id, principal id, app role id) of every assignment, for duplicate checks.
    pub app_role_index: HashSet<(String, String, String)>,
    pub skus: Vec<Sku>,
    pub changes: Vec<Change>,
    pub change_seq: u64,
    pub delta_epoch: u64,
    pub drive_items: HashMap<String, Vec<Value>>,
    pub conversations: HashMap<String, Vec<Value>>,
    /// Rubrics (`/education/me/rubrics`), by id; `_owner` is the creating user.
    pub rubrics: HashMap<String, Value>,
    /// Assignment id -> the id of its rubric (`PUT …/rubric/$ref`).
    pub assignment_rubrics: HashMap<String, String>,
    /// Class id -> its `assignmentSettings` (grading categories).
    pub class_settings: HashMap<String, Value>,
    /// Assignment id -> the id of its grading category (`PUT …/gradingCategory/$ref`).
    pub assignment_categories: HashMap<String, String>,
}

impl Tenant {
    pub fn new(id: &str, name: &str, domain: &str) -> Tenant {
        Tenant { id: id.into(), name: name.into(), domain: domain.into(), ..Default::default() }
    }

    pub fn record(&mut self, kind: Kind, id: &str, removed: Option<&'static str>) {
        self.change_seq += 1;
        self.changes.push(Change { seq: self.change_seq, kind, id: id.to_string(), removed });
    }

    pub fn add_user(&mut self, u: User) {
        self.upn_index.insert(u.upn().to_lowercase(), u.id.clone());
        self.user_order.push(u.id.clone());
        let id = u.id.clone();
        self.users.insert(id.clone(), u);
        self.record(Kind::User, &id, None);
    }

    pub fn remove_user(&mut self, id: &str, reason: &'static str) -> bool {
        let Some(u) = self.users.remove(id) else {
            return false;
        };
        self.upn_index.remove(&u.upn().to_lowercase());
        self.user_order.retain(|x| x != id);
        for g in self.groups.values_mut() {
            g.members.retain(|m| m != id);
            g.owners.retain(|m| m != id);
        }
        self.record(Kind::User, id, Some(reason));
        true
    }

    pub fn add_group(&mut self, g: Group) {
        let id = g.id.clone();
        let is_class = g.class.is_some();
        self.group_order.push(id.clone());
        self.groups.insert(id.clone(), g);
        if is_class {
            self.record(Kind::Class, &id, None);
        }
    }

    /// Finds a user by id or UPN (case-insensitive).
    pub fn find_user(&self, key: &str) -> Option<&User> {
        if let Some(u) = self.users.get(key) {
            return Some(u);
        }
        let k = key.trim_matches('\'').to_lowercase();
        self.upn_index.get(&k).and_then(|id| self.users.get(id))
    }

    pub fn user_id(&self, key: &str) -> Option<String> {
        self.find_user(key).map(|u| u.id.clone())
    }

    pub fn classes_of(&self, user_id: &str) -> Vec<&Group> {
        self.group_order
            .iter()
            .filter_map(|g| self.groups.get(g))
            .filter(|g| g.class.is_some())
            .filter(|g| g.members.iter().any(|m| m == user_id) || g.owners.iter().any(|m| m == user_id))
            .collect()
    }

    /// Whether `principal` already holds `app_role` on `resource`.
    pub fn has_app_role(&self, resource: &str, principal: &str, app_role: &str) -> bool {
        self.app_role_index.contains(&(resource.to_string(), principal.to_string(), app_role.to_string()))
    }

    /// Records an assignment; `false` (nothing recorded) when it already exists.
    pub fn add_app_role_assignment(&mut self, a: AppRoleAssignment) -> bool {
        let key = (a.resource_id.clone(), a.principal_id.clone(), a.app_role_id.clone());
        if !self.app_role_index.insert(key) {
            return false;
        }
        self.app_role_assignments.push(a);
        true
    }

    /// Removes a service principal (consent withdrawn) and the assignments on it.
    pub fn remove_service_principal(&mut self, client_id: &str) {
        if let Some(sp) = self.service_principals.remove(client_id) {
            self.app_role_assignments.retain(|a| a.resource_id != sp);
            self.app_role_index.retain(|(r, _, _)| *r != sp);
        }
        self.user_consents.retain(|(_, c)| c != client_id);
    }

    pub fn consented(&self, client_id: &str, user_id: Option<&str>) -> bool {
        self.service_principals.contains_key(client_id)
            || user_id.is_some_and(|u| self.user_consents.contains(&(u.to_string(), client_id.to_string())))
    }
}

#[derive(Clone, Debug)]
pub struct App {
    pub client_id: String,
    pub display_name: String,
    pub secret: Option<String>,
    pub redirect_uris: Vec<String>,
    pub certificate_der: Option<Vec<u8>>,
    pub any_loopback: bool,
    /// Application permissions (app roles on Graph) granted with admin consent.
    pub app_permissions: Vec<String>,
}

impl App {
    pub fn confidential(&self) -> bool {
        self.secret.is_some() || self.certificate_der.is_some()
    }

    pub fn redirect_ok(&self, uri: &str) -> bool {
        if self.redirect_uris.iter().any(|r| r == uri) {
            return true;
        }
        let Ok(u) = url::Url::parse(uri) else {
            return false;
        };
        let loopback = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        if !loopback {
            return false;
        }
        if self.any_loopback && matches!(u.scheme(), "http" | "https") {
            return true;
        }
        // Microsoft ignores the port of loopback redirect URIs.
        self.redirect_uris.iter().any(|r| {
            url::Url::parse(r).is_ok_and(|ru| {
                ru.scheme() == u.scheme()
                    && ru.host_str() == u.host_str()
                    && ru.path() == u.path()
                    && ru.query() == u.query()
            })
        })
    }
}

#[derive(Clone, Debug)]
pub struct AuthParams {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_type: String,
    pub response_mode: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub prompt: Option<String>,
    pub login_hint: Option<String>,
    pub domain_hint: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub admin_consent: bool,
    /// Came from an admin consent endpoint (`/v2.0/adminconsent` or legacy `/adminconsent`).
    pub v2_adminconsent: bool,
    /// The legacy `/{tenant}/adminconsent` endpoint.
    pub legacy_adminconsent: bool,
}

#[derive(Clone, Debug)]
pub struct Pending {
    pub tenant_segment: String,
    pub params: AuthParams,
    pub created: u64,
    /// Set once the user is authenticated and only consent is pending.
    pub user: Option<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub tenant_id: String,
    pub user_id: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub created: u64,
    pub used: bool,
}

#[derive(Clone, Debug)]
pub struct RefreshGrant {
    pub client_id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub scope: String,
    pub created: u64,
}

pub struct Store {
    pub tenants: Vec<Tenant>,
    pub apps: HashMap<String, App>,
    pub codes: HashMap<String, AuthCode>,
    pub refresh: HashMap<String, RefreshGrant>,
    /// sign-in cookie value -> signed-in accounts (tenant id, user id)
    pub sessions: HashMap<String, Vec<(String, String)>>,
    pub pending: HashMap<String, Pending>,
    pub used_jti: HashSet<String>,
    pub keys: Vec<Arc<SigningKey>>,
    pub token_lifetime: Option<std::time::Duration>,
    pub mailboxes: HashMap<String, Vec<Value>>,
    pub demo: crate::DemoDirectory,
    /// driveItem upload sessions by the token in their `uploadUrl`.
    pub upload_sessions: HashMap<String, UploadSession>,
    /// How long a publish stays in `published` before the assignment reads as `assigned`
    /// (Microsoft publishes asynchronously); zero: at once.
    pub publish_delay: std::time::Duration,
}

/// A driveItem `createUploadSession` in progress.
#[derive(Debug, Clone)]
pub struct UploadSession {
    pub tenant: String,
    pub group: String,
    pub parent: String,
    pub name: String,
    pub by: Option<(String, String)>,
    /// Bytes received so far (ranges must arrive in order).
    pub data: Vec<u8>,
    /// Declared by the first range's `Content-Range: bytes a-b/total`.
    pub total: Option<usize>,
    pub expires: u64,
}

impl Store {
    pub fn tenant_idx(&self, key: &str) -> Option<usize> {
        let k = key.to_lowercase();
        self.tenants.iter().position(|t| t.id == k || t.domain.to_lowercase() == k)
    }
    pub fn tenant(&self, key: &str) -> Option<&Tenant> {
        self.tenant_idx(key).map(|i| &self.tenants[i])
    }
    pub fn tenant_mut(&mut self, key: &str) -> Option<&mut Tenant> {
        self.tenant_idx(key).map(move |i| &mut self.tenants[i])
    }
    /// Finds a user by UPN across tenants.
    pub fn find_upn(&self, upn: &str) -> Option<(&Tenant, &User)> {
        let k = upn.trim().to_lowercase();
        self.tenants.iter().find_map(|t| t.upn_index.get(&k).and_then(|id| t.users.get(id)).map(|u| (t, u)))
    }
    pub fn find_user_any(&self, key: &str) -> Option<(&Tenant, &User)> {
        self.tenants.iter().find_map(|t| t.find_user(key).map(|u| (t, u)))
    }
    pub fn active_key(&self) -> Option<Arc<SigningKey>> {
        self.keys.last().cloned()
    }
}

pub fn identity_set(user: Option<(&str, Option<&str>)>) -> Value {
    match user {
        Some((id, name)) => {
            json!({"application": null, "device": null, "user": {"id": id, "displayName": name}})
        }
        None => {
            json!({"application": null, "device": null, "user": {"id": null, "displayName": null}})
        }
    }
}

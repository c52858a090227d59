//! Typed helpers for the Graph calls the product makes. Every read sends
//! `$select` (callers may pass their own list; an empty list uses the
//! model's default `*_SELECT`).

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::{GraphAuth, GraphClient, GraphRequest, PageOptions};
use crate::error::GraphError;
use crate::models::*;
use crate::query::{Query, odata_string, seg};
use crate::retry::{Attempt, RetryPolicy, RetryState, Step};

fn sel<'a>(select: &'a [&'a str], default: &'a [&'a str]) -> &'a [&'a str] {
    if select.is_empty() { default } else { select }
}

/// Options of `GET /users` (and other directory lists).
#[derive(Debug, Clone, Default)]
pub struct ListUsersOptions<'a> {
    pub select: &'a [&'a str],
    pub filter: Option<String>,
    pub search: Option<String>,
    pub orderby: Option<String>,
    pub top: Option<u32>,
    /// `$count=true` + `ConsistencyLevel: eventual` (advanced query).
    pub count: bool,
}

impl ListUsersOptions<'_> {
    /// Whether Graph needs `ConsistencyLevel: eventual` for these options (advanced query:
    /// `$count=true` or `$search`).
    #[must_use]
    pub fn needs_eventual(&self) -> bool {
        self.count || self.search.is_some()
    }
}

/// Where a delta round starts: the initial query or a saved link.
#[derive(Debug, Clone, Copy)]
pub enum DeltaStart<'a> {
    /// First page of a new round, selecting these properties.
    Initial { select: &'a [&'a str] },
    /// A saved `@odata.nextLink` or `@odata.deltaLink`.
    Link(&'a str),
}

/// `@odata.id` reference body for `$ref` calls.
#[derive(Debug, Serialize)]
struct OdataRef {
    #[serde(rename = "@odata.id")]
    odata_id: String,
}

impl GraphClient {
    fn odata_id(&self, path: &str) -> Result<String, GraphError> {
        Ok(self.resolve(path)?.to_string())
    }

    async fn delta_page<T: DeserializeOwned>(
        &self,
        auth: &GraphAuth,
        initial_path: &str,
        default_select: &[&str],
        start: DeltaStart<'_>,
    ) -> Result<DeltaPage<T>, GraphError> {
        let target = match start {
            DeltaStart::Initial { select } => Query::new().select(sel(select, default_select)).apply(initial_path),
            DeltaStart::Link(link) => link.to_owned(),
        };
        let resp = self.send(auth, GraphRequest::get(target)).await?;
        DeltaPage::from_json(&resp.body).map_err(|e| GraphError::Decode {
            message: e.to_string(),
            detail: Box::new(crate::error::ErrorDetail::from_response(resp.status, Some(&resp.headers), &[])),
        })
    }

    // ------------------------------------------------------------------ users

    /// `GET /me` (delegated only).
    pub async fn me(&self, auth: &GraphAuth, select: &[&str]) -> Result<User, GraphError> {
        self.get(auth, &Query::new().select(sel(select, USER_SELECT)).apply("/me")).await
    }

    /// `GET /users` following nextLinks. `count` adds `ConsistencyLevel:
    /// eventual` to every page. Returns the items and `@odata.count`.
    pub async fn list_users(
        &self,
        auth: &GraphAuth,
        opts: &ListUsersOptions<'_>,
    ) -> Result<(Vec<User>, Option<i64>), GraphError> {
        let mut q = Query::new().select(sel(opts.select, USER_SELECT));
        if let Some(f) = &opts.filter {
            q = q.filter(f.clone());
        }
        if let Some(s) = &opts.search {
            q = q.search(s.clone());
        }
        if let Some(o) = &opts.orderby {
            q = q.orderby(o.clone());
        }
        if let Some(t) = opts.top {
            q = q.top(t);
        }
        if opts.count {
            q = q.count();
        }
        let eventual = opts.count || opts.search.is_some();
        let page_opts = PageOptions { eventual, ..PageOptions::default() };
        let max_pages = self.settings().max_pages;
        let mut target = q.apply("/users");
        let mut items = Vec::new();
        let mut count = None;
        for _ in 0..max_pages {
            let page: Page<User> = self.get_page(auth, &target, &page_opts).await?;
            if count.is_none() {
                count = page.count;
            }
            items.extend(page.value);
            match page.next_link {
                Some(n) => target = n,
                None => return Ok((items, count)),
            }
        }
        Err(GraphError::PageLimitExceeded { max_pages })
    }

    /// `GET /users/{id|upn}`.
    pub async fn get_user(&self, auth: &GraphAuth, id_or_upn: &str, select: &[&str]) -> Result<User, GraphError> {
        let path = format!("/users/{}", seg(id_or_upn));
        self.get(auth, &Query::new().select(sel(select, USER_SELECT)).apply(&path)).await
    }

    /// `GET /users?$filter=userPrincipalName eq '...'`: `Ok(None)` if absent.
    pub async fn find_user_by_upn(
        &self,
        auth: &GraphAuth,
        upn: &str,
        select: &[&str],
    ) -> Result<Option<User>, GraphError> {
        let q =
            Query::new().select(sel(select, USER_SELECT)).filter(format!("userPrincipalName eq {}", odata_string(upn)));
        let page: Page<User> = self.get_page(auth, &q.apply("/users"), &PageOptions::default()).await?;
        Ok(page.value.into_iter().next())
    }

    /// `PATCH /users/{id}` (204).
    pub async fn update_user<B: Serialize + ?Sized>(
        &self,
        auth: &GraphAuth,
        id: &str,
        patch: &B,
    ) -> Result<(), GraphError> {
        self.patch(auth, &format!("/users/{}", seg(id)), patch).await.map(|_| ())
    }

    /// `PATCH /me` (204).
    pub async fn update_me<B: Serialize + ?Sized>(&self, auth: &GraphAuth, patch: &B) -> Result<(), GraphError> {
        self.patch(auth, "/me", patch).await.map(|_| ())
    }

    /// `POST /users` (201 + user). Like every call with a buffered body it is
    /// retried on 429/503/504 (the request was not processed), never after a
    /// timeout (it may have been).
    pub async fn create_user(&self, auth: &GraphAuth, user: &NewUser) -> Result<User, GraphError> {
        self.post(auth, "/users", user).await
    }

    /// `GET /users/{id}/manager` (`None` on 404: no manager).
    pub async fn manager(
        &self,
        auth: &GraphAuth,
        user_id: &str,
        select: &[&str],
    ) -> Result<Option<DirectoryObject>, GraphError> {
        let path = format!("/users/{}/manager", seg(user_id));
        let q = Query::new().select(sel(select, &["id", "displayName", "mail", "userPrincipalName", "jobTitle"]));
        match self.get(auth, &q.apply(&path)).await {
            Ok(m) => Ok(Some(m)),
            Err(GraphError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /me?$expand=manager($levels=max;$select=id,displayName)`.
    pub async fn my_manager_chain(&self, auth: &GraphAuth) -> Result<ManagerChain, GraphError> {
        let q =
            Query::new().select(&["id", "displayName"]).expand("manager($levels=max;$select=id,displayName)").count();
        let resp = self.send(auth, GraphRequest::get(q.apply("/me")).eventual()).await?;
        resp.json()
    }

    /// `GET /users/{id}/photo/$value` (or `/me/photo/$value` when `user_id`
    /// is `None`). 404 (no photo) → `Ok(None)`.
    pub async fn photo(&self, auth: &GraphAuth, user_id: Option<&str>) -> Result<Option<Photo>, GraphError> {
        let path = match user_id {
            Some(id) => format!("/users/{}/photo/$value", seg(id)),
            None => "/me/photo/$value".to_owned(),
        };
        let resp = self.send_raw(auth, GraphRequest::get(path).header("Accept", "image/*")).await?;
        if resp.status == 404 {
            return Ok(None);
        }
        let resp = resp.error_for_status()?;
        Ok(Some(Photo { content_type: resp.header("content-type").map(str::to_owned), bytes: resp.body }))
    }

    /// `POST /users/{id}/assignLicense` (200 + user).
    pub async fn assign_license(
        &self,
        auth: &GraphAuth,
        user_id: &str,
        request: &AssignLicenseRequest,
    ) -> Result<User, GraphError> {
        self.post(auth, &format!("/users/{}/assignLicense", seg(user_id)), request).await
    }

    /// `GET /subscribedSkus`.
    pub async fn subscribed_skus(&self, auth: &GraphAuth) -> Result<Vec<SubscribedSku>, GraphError> {
        let q = Query::new().select(&[
            "id",
            "skuId",
            "skuPartNumber",
            "appliesTo",
            "capabilityStatus",
            "consumedUnits",
            "prepaidUnits",
            "servicePlans",
        ]);
        self.get_all_pages(auth, &q.apply("/subscribedSkus"), &PageOptions::default()).await
    }

    /// `GET /users/{id}/memberOf` (groups and directory roles).
    pub async fn member_of(&self, auth: &GraphAuth, user_id: Option<&str>) -> Result<Vec<DirectoryObject>, GraphError> {
        let path = match user_id {
            Some(id) => format!("/users/{}/memberOf", seg(id)),
            None => "/me/memberOf".to_owned(),
        };
        let q = Query::new().select(&["id", "displayName", "roleTemplateId"]);
        self.get_all_pages(auth, &q.apply(&path), &PageOptions::default()).await
    }

    /// `GET /me/memberOf/microsoft.graph.directoryRole` (admin detection).
    pub async fn my_directory_roles(&self, auth: &GraphAuth) -> Result<Vec<DirectoryObject>, GraphError> {
        let q = Query::new().select(&["id", "displayName", "roleTemplateId"]);
        self.get_all_pages(auth, &q.apply("/me/memberOf/microsoft.graph.directoryRole"), &PageOptions::default()).await
    }

    /// `POST /users/{id}/sendMail` (202). `user_id = None` → `/me/sendMail`.
    pub async fn send_mail(
        &self,
        auth: &GraphAuth,
        user_id: Option<&str>,
        mail: &SendMailRequest,
    ) -> Result<(), GraphError> {
        let path = match user_id {
            Some(id) => format!("/users/{}/sendMail", seg(id)),
            None => "/me/sendMail".to_owned(),
        };
        self.post_no_content(auth, &path, Some(mail)).await
    }

    /// `GET /users/delta` page (initial query or saved link).
    pub async fn users_delta(&self, auth: &GraphAuth, start: DeltaStart<'_>) -> Result<DeltaPage<User>, GraphError> {
        self.delta_page(auth, "/users/delta", USER_SELECT, start).await
    }

    /// `GET /users/$count` (text/plain integer; needs `ConsistencyLevel:
    /// eventual`, which is sent).
    pub async fn count_users(&self, auth: &GraphAuth, filter: Option<&str>) -> Result<u64, GraphError> {
        let mut q = Query::new();
        if let Some(f) = filter {
            q = q.filter(f);
        }
        let resp = self
            .send(auth, GraphRequest::get(q.apply("/users/$count")).eventual().header("Accept", "text/plain"))
            .await?;
        std::str::from_utf8(&resp.body)
            .ok()
            .and_then(|s| s.trim().trim_start_matches('\u{feff}').parse().ok())
            .ok_or_else(|| GraphError::Decode {
                message: "users/$count did not return an integer".to_owned(),
                detail: Box::new(crate::error::ErrorDetail::from_response(resp.status, Some(&resp.headers), &[])),
            })
    }

    /// `GET /organization` (the signed-in / token tenant).
    pub async fn organization(&self, auth: &GraphAuth) -> Result<Option<Organization>, GraphError> {
        let page: Page<Organization> = self
            .get_page(
                auth,
                &Query::new().select(&["id", "displayName", "verifiedDomains"]).apply("/organization"),
                &PageOptions::default(),
            )
            .await?;
        Ok(page.value.into_iter().next())
    }

    /// One page of a directory collection (`/users`, `/groups`, `/groups/{id}/members`…) with
    /// `$select`, `$filter`, `$search`, `$orderby`, `$top` and `$count`. `ConsistencyLevel:
    /// eventual` is sent when Graph requires it (`$count=true`, `$search`); pass the same
    /// `eventual` to [`GraphClient::next_directory_page`] for the following pages (Graph does
    /// not carry the header over to nextLinks).
    pub async fn directory_page<T: DeserializeOwned>(
        &self,
        auth: &GraphAuth,
        path: &str,
        default_select: &[&str],
        opts: &ListUsersOptions<'_>,
    ) -> Result<Page<T>, GraphError> {
        let mut q = Query::new().select(sel(opts.select, default_select));
        if let Some(f) = &opts.filter {
            q = q.filter(f.clone());
        }
        if let Some(s) = &opts.search {
            q = q.search(s.clone());
        }
        if let Some(o) = &opts.orderby {
            q = q.orderby(o.clone());
        }
        if let Some(t) = opts.top {
            q = q.top(t);
        }
        if opts.count {
            q = q.count();
        }
        let page_opts = PageOptions { eventual: opts.needs_eventual(), ..PageOptions::default() };
        self.get_page(auth, &q.apply(path), &page_opts).await
    }

    /// The page at a saved `@odata.nextLink` (only links to the configured Graph host are followed).
    pub async fn next_directory_page<T: DeserializeOwned>(
        &self,
        auth: &GraphAuth,
        next_link: &str,
        eventual: bool,
    ) -> Result<Page<T>, GraphError> {
        self.get_page(auth, next_link, &PageOptions { eventual, ..PageOptions::default() }).await
    }

    /// One page of `GET /users` (see [`GraphClient::directory_page`]).
    pub async fn users_page(&self, auth: &GraphAuth, opts: &ListUsersOptions<'_>) -> Result<Page<User>, GraphError> {
        self.directory_page(auth, "/users", USER_SELECT, opts).await
    }

    /// One page of `GET /groups` (see [`GraphClient::directory_page`]).
    pub async fn groups_page(&self, auth: &GraphAuth, opts: &ListUsersOptions<'_>) -> Result<Page<Group>, GraphError> {
        self.directory_page(auth, "/groups", GROUP_SELECT, opts).await
    }

    /// One page of `GET /groups/{id}/members` (direct members; see [`GraphClient::directory_page`]).
    pub async fn group_members_page(
        &self,
        auth: &GraphAuth,
        group_id: &str,
        opts: &ListUsersOptions<'_>,
    ) -> Result<Page<DirectoryObject>, GraphError> {
        let path = format!("/groups/{}/members", seg(group_id));
        self.directory_page(auth, &path, &["id", "displayName", "mail", "userPrincipalName", "jobTitle"], opts).await
    }

    /// `GET /groups/{id}`.
    pub async fn get_group(&self, auth: &GraphAuth, id: &str, select: &[&str]) -> Result<Group, GraphError> {
        let path = format!("/groups/{}", seg(id));
        self.get(auth, &Query::new().select(sel(select, GROUP_SELECT)).apply(&path)).await
    }

    // ----------------------------------------------------------------- groups

    /// `GET /groups` with an optional `$filter` (all pages).
    pub async fn list_groups(
        &self,
        auth: &GraphAuth,
        filter: Option<&str>,
        select: &[&str],
    ) -> Result<Vec<Group>, GraphError> {
        let mut q = Query::new().select(sel(select, GROUP_SELECT));
        if let Some(f) = filter {
            q = q.filter(f);
        }
        self.get_all_pages(auth, &q.apply("/groups"), &PageOptions::default()).await
    }

    /// `GET /groups/{id}/members` (direct members, all pages).
    pub async fn group_members(
        &self,
        auth: &GraphAuth,
        group_id: &str,
        select: &[&str],
    ) -> Result<Vec<DirectoryObject>, GraphError> {
        let q = Query::new().select(sel(select, &["id", "displayName", "mail", "userPrincipalName"]));
        self.get_all_pages(auth, &q.apply(&format!("/groups/{}/members", seg(group_id))), &PageOptions::default()).await
    }

    /// `POST /groups/{id}/members/$ref` (204; 400 if already a member).
    pub async fn add_group_member(
        &self,
        auth: &GraphAuth,
        group_id: &str,
        directory_object_id: &str,
    ) -> Result<(), GraphError> {
        let body = OdataRef { odata_id: self.odata_id(&format!("/directoryObjects/{}", seg(directory_object_id)))? };
        self.post_no_content(auth, &format!("/groups/{}/members/$ref", seg(group_id)), Some(&body)).await
    }

    /// Adds many members with `PATCH /groups/{id}` and
    /// `members@odata.bind`, 20 per request (204 each).
    pub async fn add_group_members_bulk(
        &self,
        auth: &GraphAuth,
        group_id: &str,
        directory_object_ids: &[&str],
    ) -> Result<(), GraphError> {
        for chunk in directory_object_ids.chunks(20) {
            let binds = chunk
                .iter()
                .map(|id| self.odata_id(&format!("/directoryObjects/{}", seg(id))))
                .collect::<Result<Vec<_>, _>>()?;
            let body = serde_json::json!({ "members@odata.bind": binds });
            self.patch(auth, &format!("/groups/{}", seg(group_id)), &body).await?;
        }
        Ok(())
    }

    /// `POST /groups/{id}/owners/$ref` (204).
    pub async fn add_group_owner(&self, auth: &GraphAuth, group_id: &str, user_id: &str) -> Result<(), GraphError> {
        let body = OdataRef { odata_id: self.odata_id(&format!("/users/{}", seg(user_id)))? };
        self.post_no_content(auth, &format!("/groups/{}/owners/$ref", seg(group_id)), Some(&body)).await
    }

    /// `DELETE /groups/{id}/members/{memberId}/$ref` (204).
    pub async fn remove_group_member(
        &self,
        auth: &GraphAuth,
        group_id: &str,
        member_id: &str,
    ) -> Result<(), GraphError> {
        self.delete(auth, &format!("/groups/{}/members/{}/$ref", seg(group_id), seg(member_id))).await
    }

    /// `GET /groups/{id}/drive/root/children` (first page).
    pub async fn group_drive_root_children(
        &self,
        auth: &GraphAuth,
        group_id: &str,
        top: Option<u32>,
    ) -> Result<Page<DriveItem>, GraphError> {
        let mut q = Query::new().select(DRIVE_ITEM_SELECT);
        if let Some(t) = top {
            q = q.top(t);
        }
        self.get_page(
            auth,
            &q.apply(&format!("/groups/{}/drive/root/children", seg(group_id))),
            &PageOptions::default(),
        )
        .await
    }

    /// `GET /groups/{id}/conversations` (first page).
    pub async fn group_conversations(
        &self,
        auth: &GraphAuth,
        group_id: &str,
        top: Option<u32>,
    ) -> Result<Page<Conversation>, GraphError> {
        let mut q = Query::new().select(CONVERSATION_SELECT);
        if let Some(t) = top {
            q = q.top(t);
        }
        self.get_page(auth, &q.apply(&format!("/groups/{}/conversations", seg(group_id))), &PageOptions::default())
            .await
    }

    // ------------------------------------------------------- servicePrincipals

    /// `GET /servicePrincipals?$filter=appId eq '...'`.
    pub async fn service_principal_by_app_id(
        &self,
        auth: &GraphAuth,
        app_id: &str,
    ) -> Result<Option<ServicePrincipal>, GraphError> {
        let q = Query::new()
            .select(&["id", "appId", "displayName", "servicePrincipalType", "appRoleAssignmentRequired"])
            .filter(format!("appId eq {}", odata_string(app_id)));
        let page: Page<ServicePrincipal> =
            self.get_page(auth, &q.apply("/servicePrincipals"), &PageOptions::default()).await?;
        Ok(page.value.into_iter().next())
    }

    /// `DELETE /servicePrincipals/{id}` (204).
    pub async fn delete_service_principal(&self, auth: &GraphAuth, id: &str) -> Result<(), GraphError> {
        self.delete(auth, &format!("/servicePrincipals/{}", seg(id))).await
    }

    // -------------------------------------------------------------- education

    /// `GET /education/me`.
    pub async fn education_me(&self, auth: &GraphAuth, select: &[&str]) -> Result<EducationUser, GraphError> {
        self.get(auth, &Query::new().select(sel(select, EDUCATION_USER_SELECT)).apply("/education/me")).await
    }

    /// `GET /education/users/{id}`.
    pub async fn education_user(
        &self,
        auth: &GraphAuth,
        user_id: &str,
        select: &[&str],
    ) -> Result<EducationUser, GraphError> {
        self.get(
            auth,
            &Query::new()
                .select(sel(select, EDUCATION_USER_SELECT))
                .apply(&format!("/education/users/{}", seg(user_id))),
        )
        .await
    }

    /// `GET /education/me/schools` (all pages).
    pub async fn my_schools(&self, auth: &GraphAuth) -> Result<Vec<EducationSchool>, GraphError> {
        self.get_all_pages(
            auth,
            &Query::new().select(EDUCATION_SCHOOL_SELECT).apply("/education/me/schools"),
            &PageOptions::default(),
        )
        .await
    }

    /// `GET /education/me/classes` (all pages).
    pub async fn my_classes(&self, auth: &GraphAuth) -> Result<Vec<EducationClass>, GraphError> {
        self.get_all_pages(
            auth,
            &Query::new().select(EDUCATION_CLASS_SELECT).apply("/education/me/classes"),
            &PageOptions::default(),
        )
        .await
    }

    /// `GET /education/schools` (all pages).
    pub async fn schools(&self, auth: &GraphAuth) -> Result<Vec<EducationSchool>, GraphError> {
        self.get_all_pages(
            auth,
            &Query::new().select(EDUCATION_SCHOOL_SELECT).apply("/education/schools"),
            &PageOptions::default(),
        )
        .await
    }

    /// `GET /education/schools/{id}`.
    pub async fn school(&self, auth: &GraphAuth, school_id: &str) -> Result<EducationSchool, GraphError> {
        self.get(
            auth,
            &Query::new().select(EDUCATION_SCHOOL_SELECT).apply(&format!("/education/schools/{}", seg(school_id))),
        )
        .await
    }

    /// `GET /education/schools/{id}/classes` (all pages).
    pub async fn school_classes(&self, auth: &GraphAuth, school_id: &str) -> Result<Vec<EducationClass>, GraphError> {
        self.get_all_pages(
            auth,
            &Query::new()
                .select(EDUCATION_CLASS_SELECT)
                .apply(&format!("/education/schools/{}/classes", seg(school_id))),
            &PageOptions::default(),
        )
        .await
    }

    /// `GET /education/schools/{id}/users` (app-only; all pages).
    pub async fn school_users(&self, auth: &GraphAuth, school_id: &str) -> Result<Vec<EducationUser>, GraphError> {
        self.get_all_pages(
            auth,
            &Query::new().select(EDUCATION_USER_SELECT).apply(&format!("/education/schools/{}/users", seg(school_id))),
            &PageOptions::default(),
        )
        .await
    }

    /// One page of `GET /education/schools/{id}/users` (application permission only:
    /// delegated is "not supported"). The documented options are `$select`/`$top`; no
    /// `$filter` is relied on (callers filter `primaryRole` themselves). `link` continues
    /// from a previous page's `@odata.nextLink`.
    pub async fn school_users_page(
        &self,
        auth: &GraphAuth,
        school_id: &str,
        top: u32,
        link: Option<&str>,
    ) -> Result<Page<EducationUser>, GraphError> {
        let target = match link {
            Some(l) => l.to_owned(),
            None => Query::new()
                .select(&["id", "displayName", "primaryRole", "mail", "userPrincipalName"])
                .top(top)
                .apply(&format!("/education/schools/{}/users", seg(school_id))),
        };
        self.get_page(auth, &target, &PageOptions::default()).await
    }

    /// `GET /education/classes` (all pages).
    pub async fn classes(&self, auth: &GraphAuth) -> Result<Vec<EducationClass>, GraphError> {
        self.get_all_pages(
            auth,
            &Query::new().select(EDUCATION_CLASS_SELECT).apply("/education/classes"),
            &PageOptions::default(),
        )
        .await
    }

    /// `GET /education/classes/{id}`.
    pub async fn class(&self, auth: &GraphAuth, class_id: &str) -> Result<EducationClass, GraphError> {
        self.get(
            auth,
            &Query::new().select(EDUCATION_CLASS_SELECT).apply(&format!("/education/classes/{}", seg(class_id))),
        )
        .await
    }

    /// `GET /education/classes/{id}/members` (students; all pages).
    pub async fn class_members(&self, auth: &GraphAuth, class_id: &str) -> Result<Vec<EducationUser>, GraphError> {
        self.get_all_pages(
            auth,
            &Query::new().select(EDUCATION_USER_SELECT).apply(&format!("/education/classes/{}/members", seg(class_id))),
            &PageOptions::default(),
        )
        .await
    }

    /// `GET /education/classes/{id}/teachers` (all pages).
    pub async fn class_teachers(&self, auth: &GraphAuth, class_id: &str) -> Result<Vec<EducationUser>, GraphError> {
        self.get_all_pages(
            auth,
            &Query::new()
                .select(EDUCATION_USER_SELECT)
                .apply(&format!("/education/classes/{}/teachers", seg(class_id))),
            &PageOptions::default(),
        )
        .await
    }

    /// `POST /education/classes/{id}/members/$ref` (204).
    pub async fn add_class_member(&self, auth: &GraphAuth, class_id: &str, user_id: &str) -> Result<(), GraphError> {
        let body = OdataRef { odata_id: self.odata_id(&format!("/education/users/{}", seg(user_id)))? };
        self.post_no_content(auth, &format!("/education/classes/{}/members/$ref", seg(class_id)), Some(&body)).await
    }

    /// `DELETE /education/classes/{id}/members/{userId}/$ref` (204).
    pub async fn remove_class_member(&self, auth: &GraphAuth, class_id: &str, user_id: &str) -> Result<(), GraphError> {
        self.delete(auth, &format!("/education/classes/{}/members/{}/$ref", seg(class_id), seg(user_id))).await
    }

    /// `POST /education/classes/{id}/teachers/$ref` (204).
    pub async fn add_class_teacher(&self, auth: &GraphAuth, class_id: &str, user_id: &str) -> Result<(), GraphError> {
        let body = OdataRef { odata_id: self.odata_id(&format!("/education/users/{}", seg(user_id)))? };
        self.post_no_content(auth, &format!("/education/classes/{}/teachers/$ref", seg(class_id)), Some(&body)).await
    }

    /// `GET /education/classes/delta` page. Deleted classes are NOT reported
    /// by Graph: reconcile periodically.
    pub async fn education_classes_delta(
        &self,
        auth: &GraphAuth,
        start: DeltaStart<'_>,
    ) -> Result<DeltaPage<EducationClass>, GraphError> {
        self.delta_page(auth, "/education/classes/delta", EDUCATION_CLASS_SELECT, start).await
    }

    /// `GET /education/users/delta` page.
    pub async fn education_users_delta(
        &self,
        auth: &GraphAuth,
        start: DeltaStart<'_>,
    ) -> Result<DeltaPage<EducationUser>, GraphError> {
        self.delta_page(auth, "/education/users/delta", EDUCATION_USER_SELECT, start).await
    }

    fn assignment_path(class_id: &str, assignment_id: &str) -> String {
        format!("/education/classes/{}/assignments/{}", seg(class_id), seg(assignment_id))
    }

    fn submission_path(class_id: &str, assignment_id: &str, submission_id: &str) -> String {
        format!("{}/submissions/{}", Self::assignment_path(class_id, assignment_id), seg(submission_id))
    }

    /// `GET /education/classes/{id}/assignments` (optional `$filter`, all pages).
    pub async fn class_assignments(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        filter: Option<&str>,
    ) -> Result<Vec<EducationAssignment>, GraphError> {
        let mut q = Query::new().select(EDUCATION_ASSIGNMENT_SELECT);
        if let Some(f) = filter {
            q = q.filter(f);
        }
        self.get_all_pages(
            auth,
            &q.apply(&format!("/education/classes/{}/assignments", seg(class_id))),
            &PageOptions::default(),
        )
        .await
    }

    /// `POST /education/classes/{id}/assignments` (201, draft).
    pub async fn create_assignment(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment: &NewAssignment,
    ) -> Result<EducationAssignment, GraphError> {
        self.post(auth, &format!("/education/classes/{}/assignments", seg(class_id)), assignment).await
    }

    /// `GET .../assignments/{id}`.
    pub async fn assignment(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
    ) -> Result<EducationAssignment, GraphError> {
        self.get(
            auth,
            &Query::new().select(EDUCATION_ASSIGNMENT_SELECT).apply(&Self::assignment_path(class_id, assignment_id)),
        )
        .await
    }

    /// `GET .../assignments/{id}?$expand=resources`: the assignment and its resources in one
    /// call (expanded navigation properties come with the entity's default properties).
    pub async fn assignment_with_resources(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
    ) -> Result<EducationAssignment, GraphError> {
        self.get(auth, &Query::new().expand("resources").apply(&Self::assignment_path(class_id, assignment_id))).await
    }

    /// `PATCH .../assignments/{id}` (200 + assignment; `status` is not patchable).
    pub async fn update_assignment<B: Serialize + ?Sized>(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
        patch: &B,
    ) -> Result<Option<EducationAssignment>, GraphError> {
        let v = self.patch(auth, &Self::assignment_path(class_id, assignment_id), patch).await?;
        v.map(|v| {
            serde_json::from_value(v).map_err(|e| GraphError::Decode { message: e.to_string(), detail: Box::default() })
        })
        .transpose()
    }

    /// `POST .../assignments/{id}/publish` (200 + assignment; asynchronous:
    /// poll `assignment` until `assigned`).
    pub async fn publish_assignment(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
    ) -> Result<EducationAssignment, GraphError> {
        self.send(
            auth,
            GraphRequest::new(Method::POST, format!("{}/publish", Self::assignment_path(class_id, assignment_id))),
        )
        .await?
        .json()
    }

    /// `DELETE .../assignments/{id}` (204).
    pub async fn delete_assignment(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
    ) -> Result<(), GraphError> {
        self.delete(auth, &Self::assignment_path(class_id, assignment_id)).await
    }

    /// `POST .../assignments/{id}/setUpResourcesFolder` (assignment with
    /// `resourcesFolderUrl`).
    pub async fn set_up_assignment_resources_folder(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
    ) -> Result<EducationAssignment, GraphError> {
        self.send(
            auth,
            GraphRequest::json(
                Method::POST,
                format!("{}/setUpResourcesFolder", Self::assignment_path(class_id, assignment_id)),
                &serde_json::json!({}),
            )?,
        )
        .await?
        .json()
    }

    /// `GET .../assignments/{id}/resources` (all pages).
    pub async fn assignment_resources(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
    ) -> Result<Vec<EducationAssignmentResource>, GraphError> {
        self.get_all_pages(
            auth,
            &Query::new()
                .select(&["id", "distributeForStudentWork", "resource"])
                .apply(&format!("{}/resources", Self::assignment_path(class_id, assignment_id))),
            &PageOptions::default(),
        )
        .await
    }

    /// `POST .../assignments/{id}/resources` (201).
    pub async fn add_assignment_resource(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
        resource: &EducationAssignmentResource,
    ) -> Result<EducationAssignmentResource, GraphError> {
        self.post(auth, &format!("{}/resources", Self::assignment_path(class_id, assignment_id)), resource).await
    }

    /// `GET .../assignments/{id}/submissions` (optional `$filter`/`$expand`,
    /// all pages).
    pub async fn submissions(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
        filter: Option<&str>,
        expand: Option<&str>,
    ) -> Result<Vec<EducationSubmission>, GraphError> {
        let mut q = Query::new().select(&[
            "id",
            "status",
            "recipient",
            "submittedDateTime",
            "submittedBy",
            "returnedDateTime",
            "returnedBy",
            "unsubmittedDateTime",
            "reassignedDateTime",
            "resourcesFolderUrl",
            "webUrl",
        ]);
        if let Some(f) = filter {
            q = q.filter(f);
        }
        if let Some(e) = expand {
            q = q.expand(e);
        }
        self.get_all_pages(
            auth,
            &q.apply(&format!("{}/submissions", Self::assignment_path(class_id, assignment_id))),
            &PageOptions::default(),
        )
        .await
    }

    /// `GET .../submissions/{id}/resources` (all pages).
    pub async fn submission_resources(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
        submission_id: &str,
    ) -> Result<Vec<EducationSubmissionResource>, GraphError> {
        self.get_all_pages(
            auth,
            &Query::new()
                .select(&["id", "assignmentResourceUrl", "resource"])
                .apply(&format!("{}/resources", Self::submission_path(class_id, assignment_id, submission_id))),
            &PageOptions::default(),
        )
        .await
    }

    async fn submission_action(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
        submission_id: &str,
        action: &str,
    ) -> Result<EducationSubmission, GraphError> {
        let path = format!("{}/{action}", Self::submission_path(class_id, assignment_id, submission_id));
        self.send(auth, GraphRequest::new(Method::POST, path).header("Prefer", "include-unknown-enum-members"))
            .await?
            .json()
    }

    /// `POST .../submissions/{id}/submit` (student).
    pub async fn submit_submission(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
        submission_id: &str,
    ) -> Result<EducationSubmission, GraphError> {
        self.submission_action(auth, class_id, assignment_id, submission_id, "submit").await
    }

    /// `POST .../submissions/{id}/unsubmit`.
    pub async fn unsubmit_submission(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
        submission_id: &str,
    ) -> Result<EducationSubmission, GraphError> {
        self.submission_action(auth, class_id, assignment_id, submission_id, "unsubmit").await
    }

    /// `POST .../submissions/{id}/return` (teacher).
    pub async fn return_submission(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
        submission_id: &str,
    ) -> Result<EducationSubmission, GraphError> {
        self.submission_action(auth, class_id, assignment_id, submission_id, "return").await
    }

    /// `POST .../submissions/{id}/reassign` (teacher; sent with
    /// `Prefer: include-unknown-enum-members` so `reassigned` is reported).
    pub async fn reassign_submission(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
        submission_id: &str,
    ) -> Result<EducationSubmission, GraphError> {
        self.submission_action(auth, class_id, assignment_id, submission_id, "reassign").await
    }

    /// `POST .../submissions/{id}/resources` (201; the student owner).
    pub async fn add_submission_resource(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
        submission_id: &str,
        resource: &EducationAssignmentResource,
    ) -> Result<EducationAssignmentResource, GraphError> {
        self.post(
            auth,
            &format!("{}/resources", Self::submission_path(class_id, assignment_id, submission_id)),
            resource,
        )
        .await
    }

    /// Simple upload into a drive folder addressed by its Graph URL (an education
    /// `resourcesFolderUrl`): `PUT {folder}:/{name}:/content` (201 new, 200 replaced). Only
    /// for files up to [`SIMPLE_UPLOAD_MAX`]; larger ones use [`GraphClient::create_upload_session`].
    pub async fn upload_small(
        &self,
        auth: &GraphAuth,
        folder_url: &str,
        name: &str,
        content_type: &str,
        data: Vec<u8>,
    ) -> Result<DriveItem, GraphError> {
        let mut req =
            GraphRequest::new(Method::PUT, format!("{}:/{}:/content", folder_url.trim_end_matches('/'), seg(name)));
        req.body = crate::client::RequestBody::Bytes { content_type: content_type.to_owned(), data };
        self.send(auth, req).await?.json()
    }

    /// `POST {folder}:/{name}:/createUploadSession` (200 + `uploadSession`); the ranges then go
    /// to [`GraphClient::upload_range`]. A same-named file is replaced.
    pub async fn create_upload_session(
        &self,
        auth: &GraphAuth,
        folder_url: &str,
        name: &str,
    ) -> Result<UploadSession, GraphError> {
        let body = serde_json::json!({"item": {"@microsoft.graph.conflictBehavior": "replace", "name": name}});
        self.post(auth, &format!("{}:/{}:/createUploadSession", folder_url.trim_end_matches('/'), seg(name)), &body)
            .await
    }

    /// Uploads a whole file of `total` bytes, read from `body`, into a folder: a simple `PUT`
    /// up to [`SIMPLE_UPLOAD_MAX`], else an upload session fed with 5 MiB ranges (16 × 320
    /// KiB), so at most one range is held in memory. A failed or short body cancels the
    /// session.
    pub async fn upload_file<S, B, E>(
        &self,
        auth: &GraphAuth,
        folder_url: &str,
        name: &str,
        content_type: &str,
        total: u64,
        mut body: S,
    ) -> Result<DriveItem, UploadError<E>>
    where
        S: futures_util::Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
    {
        const CHUNK: u64 = UPLOAD_FRAGMENT_UNIT * 16;
        let mut buf: Vec<u8> = Vec::new();
        let mut received = 0u64;
        let mut take = async |want: u64, buf: &mut Vec<u8>| -> Result<Vec<u8>, UploadError<E>> {
            let want = usize::try_from(want).map_err(|_| UploadError::Incomplete { received })?;
            while buf.len() < want {
                match futures_util::StreamExt::next(&mut body).await {
                    Some(Ok(b)) => buf.extend_from_slice(b.as_ref()),
                    Some(Err(e)) => return Err(UploadError::Body(e)),
                    None => return Err(UploadError::Incomplete { received: received + buf.len() as u64 }),
                }
            }
            let rest = buf.split_off(want);
            received += want as u64;
            Ok(std::mem::replace(buf, rest))
        };
        if total <= SIMPLE_UPLOAD_MAX {
            let data = take(total, &mut buf).await?;
            return self.upload_small(auth, folder_url, name, content_type, data).await.map_err(UploadError::Graph);
        }
        let session = self.create_upload_session(auth, folder_url, name).await.map_err(UploadError::Graph)?;
        let url = session
            .upload_url
            .ok_or_else(|| UploadError::Graph(GraphError::InvalidRequest("upload session without uploadUrl".into())))?;
        let mut offset = 0u64;
        loop {
            let data = match take(CHUNK.min(total - offset), &mut buf).await {
                Ok(d) => d,
                Err(e) => {
                    // Best effort: tell Microsoft to drop the partial upload.
                    let _ = self.cancel_upload_session(&url).await;
                    return Err(e);
                }
            };
            let len = data.len() as u64;
            match self.upload_range_resuming(&url, offset, &data, total).await {
                Ok(UploadProgress::Done(item)) => return Ok(*item),
                Ok(UploadProgress::More { next_expected_ranges }) => {
                    offset += len;
                    let expected = next_expected_ranges
                        .first()
                        .and_then(|r| r.split('-').next())
                        .and_then(|n| n.parse::<u64>().ok());
                    if expected != Some(offset) || offset >= total {
                        let _ = self.cancel_upload_session(&url).await;
                        return Err(UploadError::Graph(GraphError::InvalidRequest(format!(
                            "upload session expects {next_expected_ranges:?} after {offset} of {total} bytes"
                        ))));
                    }
                }
                Err(e) => {
                    let _ = self.cancel_upload_session(&url).await;
                    return Err(UploadError::Graph(e));
                }
            }
        }
    }

    /// One range, retried under [`RetryPolicy::upload_range`] after a transient failure.
    async fn upload_range_resuming(
        &self,
        url: &str,
        offset: u64,
        data: &[u8],
        total: u64,
    ) -> Result<UploadProgress, GraphError> {
        let mut range = RangeUpload { client: self, url, offset, data, total };
        RetryPolicy::upload_range(self.settings()).run(self.sleeper().as_ref(), &mut range).await
    }

    /// `POST .../submissions/{id}/setUpResourcesFolder`.
    pub async fn set_up_submission_resources_folder(
        &self,
        auth: &GraphAuth,
        class_id: &str,
        assignment_id: &str,
        submission_id: &str,
    ) -> Result<EducationSubmission, GraphError> {
        self.submission_action(auth, class_id, assignment_id, submission_id, "setUpResourcesFolder").await
    }
}

/// One range of an upload session under the [`RetryPolicy`].
struct RangeUpload<'a> {
    client: &'a GraphClient,
    url: &'a str,
    offset: u64,
    data: &'a [u8],
    total: u64,
}

impl Attempt for RangeUpload<'_> {
    type Output = Result<UploadProgress, GraphError>;

    /// Sends the range; a transient failure (5xx, 429, timeout, dropped connection) is
    /// retried the way Microsoft describes resuming: ask the session which bytes it still
    /// expects; resend the range if it was lost, go on if it arrived and only the answer was
    /// lost.
    async fn attempt(&mut self, _state: &mut RetryState, previous: Option<Self::Output>) -> Step<Self::Output> {
        if let Some(previous) = previous {
            let status = match self.client.upload_session_status(self.url).await {
                Ok(status) => status,
                Err(e) => return Step::Done(Err(e)),
            };
            let expected = status
                .next_expected_ranges
                .first()
                .and_then(|r| r.split('-').next())
                .and_then(|n| n.parse::<u64>().ok());
            match expected {
                Some(n) if n == self.offset => {} // lost: send it again
                Some(n) if n == self.offset + self.data.len() as u64 => {
                    return Step::Done(Ok(UploadProgress::More { next_expected_ranges: status.next_expected_ranges }));
                }
                _ => return Step::Done(previous),
            }
        }
        match self.client.upload_range(self.url, self.offset, self.data, self.total).await {
            Ok(progress) => Step::Done(Ok(progress)),
            Err(
                e @ (GraphError::Server(_)
                | GraphError::Throttled { .. }
                | GraphError::Timeout(_)
                | GraphError::Transport { .. }),
            ) => Step::Retry { last: Err(e), retry_after: None },
            Err(e) => Step::Done(Err(e)),
        }
    }
}

//! Access extractors on top of [`TenantMember`], each building on the one before (like
//! vaultwarden's `OrgHeaders` → `AdminHeaders` → `ManagerHeaders`):
//!
//! * [`DelegatedGraph`]: the member with a usable delegated Microsoft token (`401
//!   microsoft_signin_required` otherwise) — the one place for the identity → token →
//!   `GraphAuth` prelude;
//! * [`ClassAccess`]: the class of the path (`{class_id}` or `{id}`) validated into a
//!   [`GraphId`], the caller's [`ClassRole`] in it and the roster it was decided from (`404`
//!   for a class that is unknown or not the caller's);
//! * [`TeacherOfClass`] / [`StudentOfClass`]: that role, or `403 role_required` with the
//!   message of the action's [`Refusal`];
//! * [`ClassPage`]: [`ClassAccess`] for reads, whose roster may come from our copy (issue 18).

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use edu_domain::Role;
use edu_msgraph::GraphAuth;

use crate::auth::roles::TenantMember;
use crate::error::{ApiError, ErrorCode};
use crate::ids::GraphId;
use crate::microsoft::tokens;
use crate::services::classes::{self, ClassRole, Freshness, Roster, Viewer};
use crate::state::AppState;

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>().cloned().ok_or_else(|| ApiError::internal(anyhow::anyhow!("no state")))
}

/// A tenant member with a usable delegated Microsoft Graph token.
#[derive(Debug, Clone)]
pub struct DelegatedGraph {
    /// The member.
    pub member: TenantMember,
    /// Graph access as the member.
    pub auth: GraphAuth,
    /// The member's Microsoft object id.
    pub oid: String,
}

impl DelegatedGraph {
    /// The member's delegated Graph access, refreshing the token when it is about to expire.
    /// For handlers that need it only on some paths (e.g. a photo not in the cache).
    ///
    /// # Errors
    /// `401 microsoft_signin_required` without a linked Microsoft identity or usable token.
    pub async fn for_member(state: &AppState, member: &TenantMember) -> Result<Self, ApiError> {
        // A local password is not a key to Microsoft 365 (issue 17.1, the original's flaw S4):
        // a session that began with it reaches Microsoft data only once Microsoft has
        // confirmed the person in this browser (`/auth/microsoft/login?intent=confirm`).
        if member.auth.ms_auth_at.is_none() {
            return Err(ApiError::MicrosoftSignInRequired);
        }
        let identity = edu_db::identities::of_user(&state.db, member.auth.user_id)
            .await?
            .ok_or(ApiError::MicrosoftSignInRequired)?;
        let token =
            tokens::access_token(state, member.tenant_id, &identity.ms_tenant_id, &identity.ms_object_id).await?;
        Ok(Self {
            member: member.clone(),
            auth: GraphAuth::delegated(identity.ms_tenant_id, token),
            oid: identity.ms_object_id,
        })
    }

    /// The caller as the class service sees them.
    #[must_use]
    pub fn viewer(&self) -> Viewer<'_> {
        Viewer {
            auth: &self.auth,
            oid: &self.oid,
            is_admin: self.member.has(Role::Admin),
            tenant: self.member.tenant_id,
            user: self.member.auth.user_id,
        }
    }

    async fn extract_from(req: HttpRequest) -> Result<Self, ApiError> {
        if let Some(d) = req.extensions().get::<Self>() {
            return Ok(d.clone());
        }
        let member = TenantMember::extract(&req).await?;
        let state = app_state(&req)?;
        let d = Self::for_member(&state, &member).await?;
        req.extensions_mut().insert(d.clone());
        Ok(d)
    }
}

impl FromRequest for DelegatedGraph {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        Box::pin(Self::extract_from(req.clone()))
    }
}

/// The class named by the path, the caller's role in it and the roster it was decided from.
#[derive(Debug, Clone)]
pub struct ClassAccess {
    /// The caller's Graph access.
    pub graph: DelegatedGraph,
    /// The class.
    pub class_id: GraphId,
    /// The caller's role in it.
    pub role: ClassRole,
    /// The class and its people.
    pub roster: Roster,
}

/// The class id segment of the path: `{class_id}`, or `{id}` on `/api/classes/{id}/…`.
fn class_id_of(req: &HttpRequest) -> Result<GraphId, ApiError> {
    let m = req.match_info();
    GraphId::parse(m.get("class_id").or_else(|| m.get("id")).unwrap_or_default())
}

impl ClassAccess {
    async fn load(req: &HttpRequest, freshness: Freshness) -> Result<(Self, Option<i64>), ApiError> {
        let graph = DelegatedGraph::extract_from(req.clone()).await?;
        let class_id = class_id_of(req)?;
        let state = app_state(req)?;
        let view = classes::load(&state, graph.viewer(), &class_id, freshness).await?;
        Ok((Self { graph, class_id, role: view.role, roster: view.roster }, view.stale_as_of))
    }

    /// The caller's Microsoft object id.
    #[must_use]
    pub fn oid(&self) -> &str {
        &self.graph.oid
    }

    /// The caller's Graph access.
    #[must_use]
    pub fn auth(&self) -> &GraphAuth {
        &self.graph.auth
    }

    /// The member (session, tenant, roles).
    #[must_use]
    pub fn member(&self) -> &TenantMember {
        &self.graph.member
    }

    /// `Ok` for a teacher of this class, else `403 role_required` with `R`'s message.
    ///
    /// # Errors
    /// The caller is a student of the class or only the tenant's admin.
    pub fn check_teacher<R: Refusal>(&self) -> Result<(), ApiError> {
        if self.role == ClassRole::Teacher {
            Ok(())
        } else {
            Err(ApiError::forbidden(ErrorCode::RoleRequired, R::MESSAGE))
        }
    }

    /// `Ok` for a student of this class, else `403 role_required` with `R`'s message.
    ///
    /// # Errors
    /// The caller teaches the class or is only the tenant's admin.
    pub fn check_student<R: Refusal>(&self) -> Result<(), ApiError> {
        if self.role == ClassRole::Student {
            Ok(())
        } else {
            Err(ApiError::forbidden(ErrorCode::RoleRequired, R::MESSAGE))
        }
    }

    /// The caller as a teacher of this class (see [`ClassAccess::check_teacher`]).
    ///
    /// # Errors
    /// As [`ClassAccess::check_teacher`].
    pub fn into_teacher<R: Refusal>(self) -> Result<TeacherOfClass<R>, ApiError> {
        self.check_teacher::<R>()?;
        Ok(TeacherOfClass(self, PhantomData))
    }

    /// The caller as a student of this class (see [`ClassAccess::check_student`]).
    ///
    /// # Errors
    /// As [`ClassAccess::check_student`].
    pub fn into_student<R: Refusal>(self) -> Result<StudentOfClass<R>, ApiError> {
        self.check_student::<R>()?;
        Ok(StudentOfClass(self, PhantomData))
    }
}

impl FromRequest for ClassAccess {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(Self::load(&req, Freshness::Live).await?.0) })
    }
}

/// [`ClassAccess`] for the class page's reads (the class with its people, and each tab's
/// part): the roster may come from our copy when at most 5 minutes old (`?refresh=1` or
/// `Cache-Control: no-cache` reads Microsoft again), or — when Microsoft does not answer — a
/// stored copy of any age, with `stale_as_of` (R-C9). Never for a write: those use
/// [`ClassAccess`], which reads the roster live.
#[derive(Debug)]
pub struct ClassPage {
    /// The access.
    pub access: ClassAccess,
    /// When the roster is a stored copy served because Microsoft did not answer: when it was
    /// read from Microsoft (unix ms).
    pub stale_as_of: Option<i64>,
}

impl FromRequest for ClassPage {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (access, stale_as_of) = ClassAccess::load(&req, Freshness::of_request(&req)).await?;
            Ok(Self { access, stale_as_of })
        })
    }
}

/// What a refused caller is told: the message of `403 role_required` for one kind of action.
pub trait Refusal {
    /// The message.
    const MESSAGE: &'static str;
}

macro_rules! refusal {
    ($(#[$meta:meta])* $name:ident, $message:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl Refusal for $name {
            const MESSAGE: &'static str = $message;
        }
    };
}

refusal!(
    /// Any teacher action on a class (assignments, submissions).
    TeacherAction,
    "Only this class's teachers can do this."
);
refusal!(
    /// Any student action on a class (turning in, adding files).
    StudentAction,
    "Only students of this class can do this."
);
refusal!(
    /// Arranging the seating chart.
    ArrangeSeats,
    "Only this class's teachers can arrange its seats."
);
refusal!(
    /// Adding a co-teacher.
    AddCoTeacher,
    "Only this class's teachers can add a co-teacher."
);
refusal!(
    /// Mailing the class.
    MailClass,
    "Only this class's teachers can mail it."
);

/// A teacher of the class of the path; anyone else in it is refused with `R`'s message.
#[derive(Debug, Clone)]
pub struct TeacherOfClass<R = TeacherAction>(pub ClassAccess, PhantomData<R>);

/// A student of the class of the path; anyone else in it is refused with `R`'s message.
#[derive(Debug, Clone)]
pub struct StudentOfClass<R = StudentAction>(pub ClassAccess, PhantomData<R>);

impl<R: Refusal + 'static> FromRequest for TeacherOfClass<R> {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { ClassAccess::load(&req, Freshness::Live).await?.0.into_teacher() })
    }
}

impl<R: Refusal + 'static> FromRequest for StudentOfClass<R> {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { ClassAccess::load(&req, Freshness::Live).await?.0.into_student() })
    }
}

impl<R> std::ops::Deref for TeacherOfClass<R> {
    type Target = ClassAccess;

    fn deref(&self) -> &ClassAccess {
        &self.0
    }
}

impl<R> std::ops::Deref for StudentOfClass<R> {
    type Target = ClassAccess;

    fn deref(&self) -> &ClassAccess {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::{AddCoTeacher, ArrangeSeats, MailClass, Refusal, StudentAction, TeacherAction, class_id_of};

    #[test]
    fn the_class_id_comes_from_class_id_or_id_and_is_validated() {
        let by_class_id = TestRequest::default().param("class_id", "c-1").param("id", "a-2").to_http_request();
        assert_eq!(class_id_of(&by_class_id).unwrap().as_str(), "c-1");
        let by_id = TestRequest::default().param("id", "c_3").to_http_request();
        assert_eq!(class_id_of(&by_id).unwrap().as_str(), "c_3");
        for bad in
            [TestRequest::default().to_http_request(), TestRequest::default().param("id", "a/b").to_http_request()]
        {
            assert_eq!(class_id_of(&bad).unwrap_err().code().as_str(), "not_found");
        }
    }

    #[test]
    fn each_refusal_keeps_its_wording() {
        assert_eq!(TeacherAction::MESSAGE, "Only this class's teachers can do this.");
        assert_eq!(StudentAction::MESSAGE, "Only students of this class can do this.");
        assert_eq!(ArrangeSeats::MESSAGE, "Only this class's teachers can arrange its seats.");
        assert_eq!(AddCoTeacher::MESSAGE, "Only this class's teachers can add a co-teacher.");
        assert_eq!(MailClass::MESSAGE, "Only this class's teachers can mail it.");
    }
}

//! Who am I.

use actix_web::{get, web};

use crate::auth::session::Authenticated;
use crate::error::ApiError;
use crate::services::me::{MeResponse, me_view};
use crate::state::AppState;

/// Who am I: the person, their tenant and roles, link state, and the CSRF token.
#[utoipa::path(operation_id = "get_me", tag = "account", responses(
    (status = 200, body = MeResponse),
    (status = 401, description = "Not signed in", body = crate::error::ErrorBody),
))]
#[get("/api/me")]
pub async fn get_me(state: web::Data<AppState>, auth: Authenticated) -> Result<web::Json<MeResponse>, ApiError> {
    Ok(web::Json(me_view(&state, &auth).await?))
}

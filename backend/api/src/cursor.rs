//! Opaque paging cursors: a Graph `@odata.nextLink`, signed for one person and one list, so
//! a client can neither forge nor alter it and we never follow a URL a client made up.

use base64::Engine as _;
use edu_domain::UserId;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{ApiError, ErrorCode};
use crate::keys::derive_key;
use crate::state::AppState;

/// Which lists a cursor belongs to: each has its own key and its own wording of the refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorScope {
    /// Class and school lists ("see more").
    Education,
    /// The tenant admin console ("next page").
    Admin,
}

impl CursorScope {
    fn key_label(self) -> &'static [u8] {
        match self {
            Self::Education => b"edugraph cursor v1",
            Self::Admin => b"edugraph admin cursor v1",
        }
    }

    fn invalid(self) -> ApiError {
        let message = match self {
            Self::Education => "This \"see more\" link is not valid any more. Reload the list.",
            Self::Admin => "This \"next page\" link is not valid any more. Reload the list.",
        };
        ApiError::bad_request(ErrorCode::InvalidCursor, message)
    }
}

fn mac(state: &AppState, scope: CursorScope, user: UserId, purpose: &str, link: &str) -> Vec<u8> {
    let key = derive_key(state.config.token_key.expose(), scope.key_label());
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else { return Vec::new() };
    mac.update(user.to_string().as_bytes());
    mac.update(b"\0");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(link.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Seals `link` for `user` and `purpose`.
#[must_use]
pub fn seal(state: &AppState, scope: CursorScope, user: UserId, purpose: &str, link: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("{}.{}", b64.encode(link), b64.encode(mac(state, scope, user, purpose, link)))
}

/// The link inside a cursor made by [`seal`] for the same scope, person and purpose.
///
/// # Errors
/// `400 invalid_cursor` for anything else.
pub fn open(
    state: &AppState,
    scope: CursorScope,
    user: UserId,
    purpose: &str,
    cursor: &str,
) -> Result<String, ApiError> {
    let bad = || scope.invalid();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (link, sig) = cursor.split_once('.').ok_or_else(bad)?;
    let link = String::from_utf8(b64.decode(link).map_err(|_| bad())?).map_err(|_| bad())?;
    let sig = b64.decode(sig).map_err(|_| bad())?;
    if bool::from(mac(state, scope, user, purpose, &link).ct_eq(&sig)) { Ok(link) } else { Err(bad()) }
}

//! Account mail (issue 17.5): "forgot password" links (R-B4) and email verification links
//! (R-B3). A link carries 32 random bytes (base64url) in its fragment (`#token=…`), so the
//! token never reaches a server log or a `Referer`; only its SHA-256 is stored. Mail is sent
//! off the request path: the answer and its timing do not depend on whether an account
//! exists, and a failed delivery is logged without the address or the token.

use std::time::Duration;

use edu_domain::{Email, UserId};

use crate::auth::session::{hash_secret, new_secret};
use crate::auth::throttle::account_key;
use crate::mail::{Mailer, OutgoingMail};
use crate::state::AppState;

/// A reset link works for 15 minutes.
pub const RESET_TTL: Duration = Duration::from_secs(15 * 60);
/// A verification link works for 24 hours.
pub const VERIFY_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// At most this many mails of one kind per address and window.
pub const MAILS_PER_WINDOW: i64 = 5;
/// The window of [`MAILS_PER_WINDOW`].
pub const MAIL_WINDOW: Duration = Duration::from_secs(60 * 60);

/// The kinds of account mail, each with its own per-address limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// "Forgot password".
    Reset,
    /// "Confirm your email".
    Verify,
}

impl MailKind {
    fn scope(self) -> &'static str {
        match self {
            Self::Reset => "mail.reset",
            Self::Verify => "mail.verify",
        }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Counts one mail of `kind` to `email` against the per-address limit, atomically (a
/// conditional UPDATE: however many requests arrive at once, at most [`MAILS_PER_WINDOW`] are
/// granted per window). `false` = over the limit, send nothing. Unknown addresses count too.
///
/// # Errors
/// Database errors.
pub async fn reserve_mail(state: &AppState, kind: MailKind, email: &Email) -> Result<bool, edu_db::DbError> {
    let policy = edu_db::throttle::Policy {
        window_ms: ms(MAIL_WINDOW),
        threshold: MAILS_PER_WINDOW,
        base_lock_ms: ms(MAIL_WINDOW),
        max_lock_ms: ms(MAIL_WINDOW),
    };
    let key = account_key(kind.scope(), email.as_str());
    let r = edu_db::throttle::reserve(&state.db, &key, state.clock.now_ms(), policy).await?;
    Ok(r == edu_db::throttle::Reservation::Granted)
}

/// A new link token and the hash to store.
fn new_token() -> (String, String) {
    let token = new_secret();
    let hash = hash_secret(&token);
    (token, hash)
}

/// The hash under which a token presented by a browser is stored (empty/oversized tokens map
/// to a hash no link has).
#[must_use]
pub fn token_hash(token: &str) -> String {
    if token.is_empty() || token.len() > 128 { "-".repeat(64) } else { hash_secret(token) }
}

fn link(state: &AppState, page: &str, token: &str) -> String {
    format!("{}/{page}#token={token}", state.config.public_url.as_str().trim_end_matches('/'))
}

fn deliver(mailer: Mailer, mail: OutgoingMail, what: &'static str) {
    tokio::spawn(async move {
        if let Err(e) = mailer.send(mail).await {
            // Never the address or the body (it holds the token).
            let kind = match e {
                crate::mail::MailError::Config(_) => "configuration",
                crate::mail::MailError::Address(_) => "address",
                crate::mail::MailError::Build(_) => "build",
                crate::mail::MailError::Smtp(_) => "smtp",
            };
            tracing::error!(mail.kind = what, error.kind = kind, "account mail could not be sent");
        }
    });
}

/// "Forgot password" for `email`, entirely off the request path: when a local account with a
/// password uses the address and is not disabled, a 15-minute single-use link is stored
/// (hashed) and mailed. Nothing observable by the caller depends on the outcome.
pub fn spawn_password_reset(state: &AppState, email: Email) {
    let db = state.db.clone();
    let mailer = state.mailer.clone();
    let now = state.clock.now_ms();
    let (token, hash) = new_token();
    let url = link(state, "reset-password", &token);
    tokio::spawn(async move {
        let creds = match edu_db::users::find_credentials(&db, &email).await {
            Ok(Some(c)) if !c.disabled => c,
            Ok(_) => return,
            Err(e) => {
                tracing::error!(error = %e, "password reset: account lookup failed");
                return;
            }
        };
        // An address nobody proved, on an account linked to a Microsoft identity, was typed in by
        // that Microsoft user (local credentials pending verification): the owner of the mailbox
        // must not be able to take over someone else's Microsoft-linked account with a reset.
        if !creds.email_verified {
            match edu_db::identities::of_user(&db, creds.user_id).await {
                Ok(None) => {}
                Ok(Some(_)) => {
                    tracing::info!(user.id = %creds.user_id, "password reset refused: unproven address on a linked account");
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "password reset: identity lookup failed");
                    return;
                }
            }
        }
        if let Err(e) = edu_db::password_resets::create(&db, &hash, creds.user_id, now, now + ms(RESET_TTL)).await {
            tracing::error!(error = %e, user.id = %creds.user_id, "password reset: the link could not be stored");
            return;
        }
        tracing::info!(user.id = %creds.user_id, "password reset link sent");
        let body = format!(
            "Someone (hopefully you) asked to reset the EduGraph password of this address.\n\n\
             Choose a new password here (the link works once, for 15 minutes): {url}\n\n\
             Using it signs you out everywhere. If you did not ask for this, ignore this mail: \
             your password stays as it is."
        );
        deliver(
            mailer,
            OutgoingMail { to: email.as_str().to_owned(), subject: "Reset your EduGraph password".into(), body },
            "reset",
        );
    });
}

/// Stores a 24-hour verification link for `user` at `email` and mails it (off the request
/// path), unless the address already had [`MAILS_PER_WINDOW`] verification mails this hour.
/// Returns whether a mail was sent.
///
/// # Errors
/// Database errors.
pub async fn send_verification(state: &AppState, user: UserId, email: &Email) -> Result<bool, edu_db::DbError> {
    if !reserve_mail(state, MailKind::Verify, email).await? {
        tracing::warn!(user.id = %user, "verification mail limit reached; no mail sent");
        return Ok(false);
    }
    let now = state.clock.now_ms();
    let (token, hash) = new_token();
    edu_db::email_verifications::create(&state.db, &hash, user, email.as_str(), now, now + ms(VERIFY_TTL)).await?;
    let url = link(state, "verify-email", &token);
    let body = format!(
        "Confirm that this is your address to start using your EduGraph account.\n\n\
         Open this link and enter the password you chose (it works once, for 24 hours): {url}\n\n\
         If you did not create an EduGraph account, ignore this mail. If someone else registered \
         your address, choose \"Forgot password?\" on the sign-in page to take it over."
    );
    deliver(
        state.mailer.clone(),
        OutgoingMail { to: email.as_str().to_owned(), subject: "Confirm your email for EduGraph".into(), body },
        "verify",
    );
    tracing::info!(user.id = %user, "verification mail sent");
    Ok(true)
}

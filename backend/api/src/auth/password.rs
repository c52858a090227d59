//! Argon2id password hashing (R-A8, R-A14), off the async workers and bounded.
//!
//! Hashes run on tokio's blocking pool, at most `hash_concurrency` at once, so a burst of
//! sign-ins queues instead of taking every core from the request workers.

use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// OWASP's minimum for Argon2id: 19 MiB, 2 iterations, 1 lane.
pub const M_COST_KIB: u32 = 19_456;
/// Iterations.
pub const T_COST: u32 = 2;
/// Lanes.
pub const P_COST: u32 = 1;

/// The PHC prefix of a hash made with the current parameters; older hashes are upgraded at sign-in.
pub const CURRENT_PARAMS_PREFIX: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

fn argon2() -> Result<Argon2<'static>, anyhow::Error> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Computes and checks password hashes without blocking async workers.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against for unknown accounts so that
    /// "no such account" costs the same time as "wrong password" (R-A18).
    dummy_hash: Arc<String>,
}

impl PasswordHasher {
    /// A hasher allowing `concurrency` hashes at once.
    ///
    /// # Errors
    /// Argon2 failing to hash the dummy password (never expected).
    pub fn new(concurrency: usize) -> Result<Self, anyhow::Error> {
        let random: [u8; 24] = rand::random();
        let dummy = hash_blocking(&random)?;
        Ok(Self { permits: Arc::new(Semaphore::new(concurrency.max(1))), dummy_hash: Arc::new(dummy) })
    }

    /// Hashes a password into a PHC string.
    ///
    /// # Errors
    /// The blocking task failed (never expected).
    pub async fn hash(&self, password: String) -> Result<String, anyhow::Error> {
        let _permit = self.permits.acquire().await?;
        tokio::task::spawn_blocking(move || hash_blocking(password.as_bytes())).await?
    }

    /// Checks a password against a PHC string; `None` checks against the dummy hash
    /// (and is always false) so that the timing matches a real check.
    ///
    /// # Errors
    /// The blocking task failed (never expected).
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, anyhow::Error> {
        let _permit = self.permits.acquire().await?;
        let real = phc.is_some();
        let phc = phc.unwrap_or_else(|| (*self.dummy_hash).clone());
        let ok = tokio::task::spawn_blocking(move || verify_blocking(password.as_bytes(), &phc)).await?;
        Ok(ok && real)
    }

    /// Hashes currently waiting for a permit or running.
    #[must_use]
    pub fn available_permits(&self) -> usize {
        self.permits.available_permits()
    }
}

/// Whether a stored hash uses weaker or older parameters than the current policy.
#[must_use]
pub fn needs_rehash(phc: &str) -> bool {
    !phc.starts_with(CURRENT_PARAMS_PREFIX)
}

/// Hashes on the current thread (blocking).
///
/// # Errors
/// Argon2 errors (never expected with valid parameters).
pub fn hash_blocking(password: &[u8]) -> Result<String, anyhow::Error> {
    let hash = argon2()?.hash_password(password).map_err(|e| anyhow::anyhow!("argon2 hash: {e}"))?;
    Ok(hash.to_string())
}

/// Verifies on the current thread (blocking). A malformed stored hash verifies as false.
#[must_use]
pub fn verify_blocking(password: &[u8], phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    // Parameters come from the stored hash, not from the instance.
    Argon2::default().verify_password(password, &parsed).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-A14: PHC string with the OWASP parameters and a unique salt.
    #[test]
    fn hashes_are_argon2id_phc_with_owasp_parameters_and_unique_salts() {
        let a = hash_blocking(b"correct horse").unwrap();
        let b = hash_blocking(b"correct horse").unwrap();
        assert!(a.starts_with(CURRENT_PARAMS_PREFIX), "{a}");
        assert_ne!(a, b, "salts must differ");
        assert!(verify_blocking(b"correct horse", &a));
        assert!(!verify_blocking(b"correct horsE", &a));
        assert!(!verify_blocking(b"correct horse", "not a hash"));
        assert!(!needs_rehash(&a));
        assert!(needs_rehash("$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA"));
    }

    #[tokio::test]
    async fn unknown_accounts_verify_false_against_the_dummy_hash() {
        let h = PasswordHasher::new(1).unwrap();
        assert!(!h.verify("anything".into(), None).await.unwrap());
        let phc = h.hash("secret pass".into()).await.unwrap();
        assert!(h.verify("secret pass".into(), Some(phc)).await.unwrap());
    }
}

//! Tokens at rest (R-A22): AES-256-GCM with a random 96-bit nonce per write, associated data
//! binding the row's tenant, subject, resource and kind (a row copied elsewhere fails to
//! open), and a key id per row so the key can be rotated: new writes use the current key,
//! rows sealed with a previous key stay readable while that key is configured.
//!
//! A row that fails to open (tampered, moved, or its key gone) is a cache miss: the caller
//! asks the person to sign in again; it is never a 500.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use edu_db::token_cache::{SealedRow, TokenKey};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::config::TokenKey as MasterKey;
use crate::keys::derive_key;

/// Why a stored token could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Sealed with a key that is no longer configured.
    #[error("the token was sealed with a key that is not configured")]
    UnknownKey,
    /// Authentication failed: tampered, or moved to another row.
    #[error("the token failed authentication")]
    Tampered,
}

/// Seals and opens tokens.
pub struct TokenCipher {
    keys: Vec<(String, Aes256Gcm)>,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCipher").field("key_ids", &self.keys.iter().map(|(id, _)| id).collect::<Vec<_>>()).finish()
    }
}

/// The id under which a master key's rows are stored (not secret: a truncated HMAC).
#[must_use]
pub fn key_id(master: &MasterKey) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(master.expose()) else {
        return String::new();
    };
    mac.update(b"edugraph token key id v1");
    mac.finalize().into_bytes().iter().take(6).map(|b| format!("{b:02x}")).collect()
}

fn aad(key: &TokenKey<'_>) -> Vec<u8> {
    format!("edugraph-token-v1\0{}\0{}\0{}\0{}", key.tenant, key.subject, key.resource, key.kind).into_bytes()
}

impl TokenCipher {
    /// The current key first, then previous keys still accepted for reading.
    #[must_use]
    pub fn new(current: &MasterKey, previous: &[MasterKey]) -> Self {
        let keys = std::iter::once(current)
            .chain(previous)
            .map(|m| {
                // A sub-key: the master key itself is never used directly for encryption.
                let k = derive_key(m.expose(), b"edugraph token encryption v1");
                (key_id(m), Aes256Gcm::new(&Key::<Aes256Gcm>::from(k)))
            })
            .collect();
        Self { keys }
    }

    /// Encrypts a token for the row `key`.
    ///
    /// # Errors
    /// Never in practice (AES-GCM encryption of a short message).
    pub fn seal(&self, key: &TokenKey<'_>, token: &SecretString, expires_at: i64) -> Result<SealedRow, anyhow::Error> {
        let (key_id, cipher) = self.keys.first().ok_or_else(|| anyhow::anyhow!("no token key"))?;
        let nonce_bytes: [u8; 12] = rand::random();
        let aad = aad(key);
        let ciphertext = cipher
            .encrypt(&Nonce::from(nonce_bytes), Payload { msg: token.expose_secret().as_bytes(), aad: &aad })
            .map_err(|_| anyhow::anyhow!("token encryption failed"))?;
        Ok(SealedRow { key_id: key_id.clone(), nonce: nonce_bytes.to_vec(), ciphertext, expires_at })
    }

    /// Decrypts a row read for `key`.
    ///
    /// # Errors
    /// [`OpenError`] when the row cannot be trusted or its key is gone.
    pub fn open(&self, key: &TokenKey<'_>, row: &SealedRow) -> Result<SecretString, OpenError> {
        let (_, cipher) = self.keys.iter().find(|(id, _)| *id == row.key_id).ok_or(OpenError::UnknownKey)?;
        let nonce: [u8; 12] = row.nonce.as_slice().try_into().map_err(|_| OpenError::Tampered)?;
        let plain = cipher
            .decrypt(&Nonce::from(nonce), Payload { msg: &row.ciphertext, aad: &aad(key) })
            .map_err(|_| OpenError::Tampered)?;
        String::from_utf8(plain).map(SecretString::from).map_err(|_| OpenError::Tampered)
    }
}

#[cfg(test)]
mod tests {
    use edu_domain::TenantId;

    use super::*;

    fn master(b: u8) -> MasterKey {
        MasterKey::from_bytes([b; 32])
    }

    fn k<'a>(tenant: TenantId, subject: &'a str, kind: &'a str) -> TokenKey<'a> {
        TokenKey { tenant, subject, resource: "https://graph.microsoft.com", kind }
    }

    #[test]
    fn sealed_tokens_open_only_for_their_own_row() {
        let c = TokenCipher::new(&master(1), &[]);
        let t = TenantId::new();
        let token = SecretString::from("eyJ0eXAiOiJKV1Qi.refresh-token-value".to_owned());
        let row = c.seal(&k(t, "oid-1", "refresh"), &token, 5).unwrap();
        assert!(!String::from_utf8_lossy(&row.ciphertext).contains("refresh-token-value"));
        assert_eq!(c.open(&k(t, "oid-1", "refresh"), &row).unwrap().expose_secret(), token.expose_secret());
        // Moved to another person, kind or tenant: fails.
        assert_eq!(c.open(&k(t, "oid-2", "refresh"), &row).unwrap_err(), OpenError::Tampered);
        assert_eq!(c.open(&k(t, "oid-1", "access"), &row).unwrap_err(), OpenError::Tampered);
        assert_eq!(c.open(&k(TenantId::new(), "oid-1", "refresh"), &row).unwrap_err(), OpenError::Tampered);
        // Flipped bit: fails.
        let mut bad = row;
        bad.ciphertext[0] ^= 1;
        assert_eq!(c.open(&k(t, "oid-1", "refresh"), &bad).unwrap_err(), OpenError::Tampered);
    }

    #[test]
    fn nonces_are_fresh_for_every_write() {
        let c = TokenCipher::new(&master(1), &[]);
        let key = k(TenantId::new(), "oid", "access");
        let token = SecretString::from("same".to_owned());
        let a = c.seal(&key, &token, 0).unwrap();
        let b = c.seal(&key, &token, 0).unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn rotation_reads_old_rows_and_writes_with_the_new_key() {
        let key = k(TenantId::new(), "oid", "refresh");
        let token = SecretString::from("t".to_owned());
        let old = TokenCipher::new(&master(1), &[]).seal(&key, &token, 0).unwrap();
        let rotated = TokenCipher::new(&master(2), &[master(1)]);
        assert_eq!(rotated.open(&key, &old).unwrap().expose_secret(), "t");
        let new = rotated.seal(&key, &token, 0).unwrap();
        assert_eq!(new.key_id, key_id(&master(2)));
        assert_ne!(new.key_id, old.key_id);
        // Once the old key is dropped, its rows are a miss (sign in again), not a crash.
        assert_eq!(TokenCipher::new(&master(2), &[]).open(&key, &old).unwrap_err(), OpenError::UnknownKey);
    }
}

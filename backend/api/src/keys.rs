//! Sub-keys derived from the configured token key, one per purpose (CSRF tokens, cached-token
//! encryption, paging cursors), so no extra secret has to be configured and no purpose uses
//! the master key itself.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256(master, label): a sub-key for one purpose.
#[must_use]
pub fn derive_key(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(master) else {
        return [0; 32];
    };
    mac.update(label);
    mac.finalize().into_bytes().into()
}

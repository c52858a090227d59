//! One token refresh at a time per person: concurrent requests of the same person wait for
//! the refresh in flight instead of starting their own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use edu_domain::TenantId;

type LockMap = HashMap<(TenantId, String), Arc<tokio::sync::Mutex<()>>>;

/// One lock per (tenant, person), so concurrent requests cause one refresh.
#[derive(Debug, Default)]
pub struct RefreshLocks(Mutex<LockMap>);

impl RefreshLocks {
    pub(crate) fn lock_for(&self, tenant: TenantId, oid: &str) -> Arc<tokio::sync::Mutex<()>> {
        let Ok(mut map) = self.0.lock() else {
            return Arc::new(tokio::sync::Mutex::new(()));
        };
        if map.len() > 10_000 {
            // Forget locks nobody holds, so the map stays small.
            map.retain(|_, l| Arc::strong_count(l) > 1);
        }
        Arc::clone(map.entry((tenant, oid.to_owned())).or_default())
    }
}

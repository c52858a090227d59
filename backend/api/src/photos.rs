//! A small server-side cache of profile photos (per tenant and person, 1 hour), so a class
//! page of thirty students does not cost thirty Graph calls on every view.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use edu_domain::TenantId;

/// How long a photo (or its absence) is kept.
pub const TTL: Duration = Duration::from_secs(3600);
/// Most photos kept; the oldest go first.
const MAX_ENTRIES: usize = 5000;

/// A cached photo: bytes, content type and ETag; `None` when the person has none.
#[derive(Debug, Clone)]
pub struct CachedPhoto {
    /// `image/jpeg`, `image/png` or `image/gif`.
    pub content_type: String,
    /// The image.
    pub bytes: Arc<Vec<u8>>,
    /// Strong ETag of the bytes.
    pub etag: String,
}

type Entry = (Instant, Option<CachedPhoto>);

/// The cache.
#[derive(Debug, Default)]
pub struct PhotoCache(Mutex<HashMap<(TenantId, String), Entry>>);

impl PhotoCache {
    /// A fresh entry, if any: `Some(None)` means "known to have no photo".
    #[must_use]
    pub fn get(&self, tenant: TenantId, person: &str) -> Option<Option<CachedPhoto>> {
        let map = self.0.lock().ok()?;
        map.get(&(tenant, person.to_owned())).filter(|(at, _)| at.elapsed() < TTL).map(|(_, p)| p.clone())
    }

    /// Stores a photo or its absence.
    pub fn put(&self, tenant: TenantId, person: &str, photo: Option<CachedPhoto>) {
        let Ok(mut map) = self.0.lock() else { return };
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, (at, _)| at.elapsed() < TTL);
            if map.len() >= MAX_ENTRIES
                && let Some(oldest) = map.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert((tenant, person.to_owned()), (Instant::now(), photo));
    }
}

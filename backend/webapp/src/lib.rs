//! The built web app, embedded at compile time from `frontend/dist` (see `build.rs`):
//! build the app first (`cd frontend && npm ci && npm run build`), then the binary.
//! [`FILES`] is empty when the app was not built; the server then answers `/` with
//! `frontend_not_built` (or serves `EDUGRAPH_STATIC_DIR` when it is set).

include!(concat!(env!("OUT_DIR"), "/files.rs"));

/// Whether the binary carries a build of the app (it has an `index.html`).
#[must_use]
pub fn is_built() -> bool {
    FILES.binary_search_by(|(p, _)| (*p).cmp("index.html")).is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn files_are_sorted_for_binary_search() {
        assert!(super::FILES.windows(2).all(|w| w[0].0 < w[1].0));
    }
}

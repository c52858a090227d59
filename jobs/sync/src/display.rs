//! The progress line `edugraph-sync run` draws on a terminal (stderr is a TTY): a bar of
//! tenants done out of the pass's tenants, and what is moving now — the stream, its pages and
//! items. Delta rounds have no known length, so only the tenant count is a true bar; the
//! rest are counters. Redrawn at most every 100 ms, cleared when the pass ends; never drawn
//! when stderr is not a terminal (logs and CI output stay clean).

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{Progress, ProgressFn};

/// What the line shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Tenants in this pass.
    pub total: usize,
    /// Tenants finished.
    pub done: usize,
    /// Tenants failed (of `done`).
    pub failed: usize,
    /// The latest page: tenant, stream, pages, items.
    pub current: Option<(String, String, u64, u64)>,
}

/// Renders the line for a terminal `width` columns wide (never longer than `width`).
#[must_use]
pub fn render(s: &State, width: usize) -> String {
    const BAR: usize = 20;
    let filled = (s.done * BAR).checked_div(s.total).unwrap_or(0).min(BAR);
    let mut line = format!("[{}{}] {}/{} tenants", "#".repeat(filled), "-".repeat(BAR - filled), s.done, s.total);
    if s.failed > 0 {
        line.push_str(&format!(" ({} failed)", s.failed));
    }
    if let Some((tenant, stream, pages, items)) = &s.current {
        let short: String = tenant.chars().take(8).collect();
        line.push_str(&format!(" · {short}… {stream}: page {pages}, {items} items"));
    }
    line.chars().take(width.max(1)).collect()
}

/// A progress display on stderr.
pub struct Terminal {
    state: Mutex<(State, Option<Instant>)>,
    width: usize,
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal").finish_non_exhaustive()
    }
}

impl Terminal {
    /// A display for a pass over `total` tenants; `COLUMNS` sets the width (default 100).
    #[must_use]
    pub fn new(total: usize) -> Arc<Self> {
        let width = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(100);
        Arc::new(Self { state: Mutex::new((State { total, ..State::default() }, None)), width })
    }

    /// The callback for [`crate::SyncDeps::progress`].
    #[must_use]
    pub fn callback(self: &Arc<Self>) -> ProgressFn {
        let me = Arc::clone(self);
        Arc::new(move |p| me.update(p))
    }

    fn update(&self, p: Progress<'_>) {
        let Ok(mut guard) = self.state.lock() else { return };
        let (state, last) = &mut *guard;
        let force = match p {
            Progress::Page { tenant, stream, pages, items } => {
                state.current = Some((tenant.to_owned(), stream.to_owned(), pages, items));
                false
            }
            Progress::TenantDone { failed, .. } => {
                state.done += 1;
                state.failed += usize::from(failed);
                true
            }
        };
        if force || last.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)) {
            *last = Some(Instant::now());
            let line = render(state, self.width);
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
        }
    }

    /// Clears the line (before the summary lines are printed).
    pub fn finish(&self) {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_tenants_and_the_moving_stream_within_the_width() {
        let mut s = State { total: 4, ..State::default() };
        assert_eq!(render(&s, 100), "[--------------------] 0/4 tenants");
        s.done = 2;
        s.failed = 1;
        s.current = Some(("0f3c9a2e-1111-2222-3333-444455556666".into(), "users".into(), 12, 2400));
        assert_eq!(
            render(&s, 100),
            "[##########----------] 2/4 tenants (1 failed) · 0f3c9a2e… users: page 12, 2400 items"
        );
        assert_eq!(render(&s, 30).chars().count(), 30);
        s.done = 4;
        assert!(render(&s, 100).starts_with("[####################] 4/4"));
        assert!(render(&State::default(), 100).starts_with("[--------------------] 0/0"));
    }

    #[test]
    fn updates_count_finished_tenants() {
        let t = Terminal::new(2);
        let cb = t.callback();
        cb(Progress::Page { tenant: "t1", stream: "users", pages: 1, items: 10 });
        cb(Progress::TenantDone { tenant: "t1", failed: false });
        cb(Progress::TenantDone { tenant: "t2", failed: true });
        t.finish();
        let s = t.state.lock().unwrap().0.clone();
        assert_eq!((s.done, s.failed, s.current.map(|c| c.3)), (2, 1, Some(10)));
    }
}

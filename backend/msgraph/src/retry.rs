//! The one retry policy of this crate, used by Graph calls ([`crate::GraphClient::send_raw`]),
//! token requests ([`crate::TokenClient`]), throttled `$batch` items
//! ([`crate::GraphClient::batch`]) and the ranges of an upload session
//! ([`crate::GraphClient::upload_file`]).
//!
//! A retried operation implements [`Attempt`]: one attempt either ends the call
//! ([`Step::Done`]) or asks for another one ([`Step::Retry`], with the answer's `Retry-After`
//! if it sent one). [`RetryPolicy::run`] is the only retry loop: it decides whether and how
//! long to wait, sleeps through the client's [`Sleeper`] and counts the attempts.
//!
//! The policy ([`RetryPolicy::next_delay`]):
//! * at most [`GraphSettings::max_retries`] retries (clamped to
//!   [`crate::settings::MAX_RETRIES_LIMIT`]), except inside a user request's time budget
//!   ([`with_deadline`], the API's requests): there, retries go on while they can start
//!   before the deadline;
//! * the wait before retry `n` (0-based) is the answer's `Retry-After`, else the exponential
//!   backoff with equal jitter ([`GraphSettings::backoff_delay`]);
//! * a `Retry-After` above [`GraphSettings::max_backoff`] is not waited for: the last answer
//!   is returned so that the caller can reschedule. `$batch` items instead wait
//!   `max_backoff` and go again ([`LongRetryAfter::Clamp`]);
//! * all waiting of one Graph call or token request (retries and tenant pauses) stays within
//!   [`GraphSettings::retry_budget`]. `$batch` rounds have no budget of their own (each
//!   round is one Graph call with its own), nor have upload ranges.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::settings::{GraphSettings, Sleeper};

tokio::task_local! {
    /// The deadline of the user request being served ([`with_deadline`]).
    static DEADLINE: Instant;
}

/// Runs `fut` (one user request) with a time budget for all of its Graph calls' retries
/// (issue 18 §5): a call waiting for a retry is retried as long as the retry can start
/// before `now + budget`, however many retries that takes; `max_retries` does not bound the
/// calls made within it. Outside such a scope, each call has its own
/// [`GraphSettings::retry_budget`] and `max_retries`.
pub async fn with_deadline<F: Future>(budget: Duration, fut: F) -> F::Output {
    DEADLINE.scope(Instant::now() + budget, fut).await
}

/// The deadline of the current user request, if any.
fn deadline() -> Option<Instant> {
    DEADLINE.try_with(|d| *d).ok()
}

/// What one attempt asks for.
#[derive(Debug)]
pub(crate) enum Step<T> {
    /// The call ends with this value.
    Done(T),
    /// A transient failure: try again after `retry_after` (when the answer sent one) or the
    /// backoff. `last` is the call's value when the policy refuses another attempt.
    Retry { last: T, retry_after: Option<Duration> },
}

/// Why [`RetryPolicy::next_delay`] refused another attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GiveUp {
    /// `max_retries` retries were made.
    Exhausted,
    /// The answer's `Retry-After` is above `max_backoff` ([`LongRetryAfter::GiveUp`]).
    TooLong,
    /// The wait would exceed the retry budget.
    OverBudget,
}

/// Retries of one call within a user request's deadline ([`with_deadline`]): high enough that
/// the deadline is what ends them (Retry-After 1 s: 60 retries in a minute).
const MAX_RETRIES_IN_DEADLINE: u32 = 64;

/// What to do with a `Retry-After` above `max_backoff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LongRetryAfter {
    /// Do not wait: the caller gets the throttled answer and reschedules.
    GiveUp,
    /// Wait `max_backoff`, then try again.
    Clamp,
}

/// Where a retried call stands.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RetryState {
    /// 0 for the first attempt, then the number of the retry.
    pub attempt: u32,
    /// Time waited so far (retries and tenant pauses).
    pub waited: Duration,
}

/// One attempt of a retried operation.
pub(crate) trait Attempt {
    type Output: Send;

    /// Makes one attempt. May wait by itself (a tenant pause), adding to `state.waited`.
    /// `previous` is the last attempt's value when this one is a retry.
    fn attempt(
        &mut self,
        state: &mut RetryState,
        previous: Option<Self::Output>,
    ) -> impl Future<Output = Step<Self::Output>> + Send;

    /// Called before waiting `delay` for the next attempt (for logs).
    fn retrying(&self, _state: &RetryState, _delay: Duration, _last: &Self::Output) {}

    /// Called when the policy refuses another attempt and `last` is returned (for logs).
    fn giving_up(&self, _state: &RetryState, _why: GiveUp, _last: &Self::Output) {}
}

/// The retry policy (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy<'a> {
    settings: &'a GraphSettings,
    budgeted: bool,
    long_retry_after: LongRetryAfter,
}

impl<'a> RetryPolicy<'a> {
    /// For one Graph call or one token request.
    pub(crate) fn call(settings: &'a GraphSettings) -> Self {
        RetryPolicy { settings, budgeted: true, long_retry_after: LongRetryAfter::GiveUp }
    }

    /// For the rounds that resend a `$batch`'s throttled items.
    pub(crate) fn batch_items(settings: &'a GraphSettings) -> Self {
        RetryPolicy { settings, budgeted: false, long_retry_after: LongRetryAfter::Clamp }
    }

    /// For one range of an upload session, resumed after a transient failure (its failures
    /// carry no `Retry-After` to honour: the backoff is used).
    pub(crate) fn upload_range(settings: &'a GraphSettings) -> Self {
        RetryPolicy { settings, budgeted: false, long_retry_after: LongRetryAfter::Clamp }
    }

    /// Whether waiting `delay` more keeps the call within its budget (and the user request
    /// within its deadline, for every kind of retry).
    fn fits_budget(&self, state: &RetryState, delay: Duration) -> bool {
        if let Some(deadline) = deadline()
            && Instant::now() + delay > deadline
        {
            return false;
        }
        !self.budgeted || state.waited + delay <= self.settings.retry_budget
    }

    /// Whether a call may wait `delay` (e.g. for a tenant pause) instead of failing fast:
    /// not above `max_backoff` and within the budget.
    pub(crate) fn may_wait(&self, state: &RetryState, delay: Duration) -> bool {
        delay <= self.settings.max_backoff && self.fits_budget(state, delay)
    }

    /// The wait before the next attempt, or why there is none.
    pub(crate) fn next_delay(&self, state: &RetryState, retry_after: Option<Duration>) -> Result<Duration, GiveUp> {
        // Within a user request's deadline the time bounds the retries, not their count
        // (a safety bound stays: no endless loop on zero waits).
        let max_retries =
            if deadline().is_some() { MAX_RETRIES_IN_DEADLINE } else { self.settings.effective_max_retries() };
        if state.attempt >= max_retries {
            return Err(GiveUp::Exhausted);
        }
        let delay = match retry_after {
            Some(ra) if ra > self.settings.max_backoff => match self.long_retry_after {
                LongRetryAfter::GiveUp => return Err(GiveUp::TooLong),
                LongRetryAfter::Clamp => self.settings.max_backoff,
            },
            Some(ra) => ra,
            None => self.settings.backoff_delay(state.attempt),
        };
        if !self.fits_budget(state, delay) {
            return Err(GiveUp::OverBudget);
        }
        Ok(delay)
    }

    /// Runs `op` until an attempt is [`Step::Done`] or the policy refuses another one.
    pub(crate) async fn run<A: Attempt>(&self, sleeper: &dyn Sleeper, op: &mut A) -> A::Output {
        let mut state = RetryState::default();
        let mut previous = None;
        loop {
            let (last, retry_after) = match op.attempt(&mut state, previous.take()).await {
                Step::Done(value) => return value,
                Step::Retry { last, retry_after } => (last, retry_after),
            };
            match self.next_delay(&state, retry_after) {
                Ok(delay) => {
                    op.retrying(&state, delay, &last);
                    state.waited += delay;
                    sleeper.sleep(delay).await;
                    state.attempt += 1;
                    previous = Some(last);
                }
                Err(why) => {
                    op.giving_up(&state, why, &last);
                    return last;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Duration>>);

    impl Sleeper for Recorder {
        fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
            self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(duration);
            Box::pin(std::future::ready(()))
        }
    }

    /// Fails with the given `Retry-After`s, then succeeds.
    struct Flaky {
        retry_afters: Vec<Option<Duration>>,
        calls: u32,
    }

    impl Attempt for Flaky {
        type Output = Result<u32, u32>;

        async fn attempt(&mut self, state: &mut RetryState, previous: Option<Self::Output>) -> Step<Self::Output> {
            assert_eq!(state.attempt, self.calls);
            assert_eq!(previous, state.attempt.checked_sub(1).map(|_| Err(self.calls)), "the last answer is handed on");
            self.calls += 1;
            match self.retry_afters.get(state.attempt as usize) {
                Some(ra) => Step::Retry { last: Err(self.calls), retry_after: *ra },
                None => Step::Done(Ok(self.calls)),
            }
        }
    }

    fn settings() -> GraphSettings {
        GraphSettings {
            max_retries: 3,
            base_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(10),
            retry_budget: Duration::from_secs(15),
            ..GraphSettings::default()
        }
    }

    async fn run(policy: RetryPolicy<'_>, retry_afters: Vec<Option<Duration>>) -> (Result<u32, u32>, Vec<Duration>) {
        let sleeper = Recorder::default();
        let mut op = Flaky { retry_afters, calls: 0 };
        let out = policy.run(&sleeper, &mut op).await;
        let delays = sleeper.0.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        (out, delays)
    }

    #[tokio::test]
    async fn retry_after_is_honoured_else_the_backoff_is_used() {
        let s = settings();
        let (out, delays) = run(RetryPolicy::call(&s), vec![Some(Duration::from_secs(1)), None]).await;
        assert_eq!(out, Ok(3));
        assert_eq!(delays[0], Duration::from_secs(1));
        assert!(delays[1] >= Duration::from_secs(2) && delays[1] <= Duration::from_secs(4), "{delays:?}");
    }

    #[tokio::test]
    async fn retries_are_bounded_and_return_the_last_answer() {
        let s = settings();
        let (out, delays) = run(RetryPolicy::call(&s), vec![Some(Duration::from_secs(1)); 10]).await;
        assert_eq!(out, Err(4), "first attempt + 3 retries");
        assert_eq!(delays, vec![Duration::from_secs(1); 3]);
    }

    #[tokio::test]
    async fn a_long_retry_after_ends_a_call_but_is_clamped_for_batch_items() {
        let s = settings();
        let long = Some(Duration::from_secs(60));
        let (out, delays) = run(RetryPolicy::call(&s), vec![long]).await;
        assert_eq!(out, Err(1));
        assert!(delays.is_empty());

        let (out, delays) = run(RetryPolicy::batch_items(&s), vec![long, long]).await;
        assert_eq!(out, Ok(3));
        assert_eq!(delays, vec![Duration::from_secs(10); 2]);
    }

    /// Issue 18 §5: within a user request's deadline, retries are bounded by time, not count.
    #[tokio::test]
    async fn within_a_deadline_time_not_count_bounds_the_retries() {
        let s = settings();
        let one = Some(Duration::from_secs(1));
        let (out, delays) = with_deadline(Duration::from_secs(20), run(RetryPolicy::call(&s), vec![one; 8])).await;
        assert_eq!(out, Ok(9), "8 retries: more than max_retries (3) fit in the deadline");
        assert_eq!(delays.len(), 8);

        // The recorder does not really sleep: a deadline already near refuses the wait.
        let (out, delays) = with_deadline(Duration::from_millis(500), run(RetryPolicy::call(&s), vec![one; 2])).await;
        assert_eq!(out, Err(1), "a 1 s wait does not fit in 500 ms");
        assert!(delays.is_empty());
    }

    #[tokio::test]
    async fn the_budget_bounds_total_waiting_of_a_call_only() {
        let s = settings();
        let eight = Some(Duration::from_secs(8));
        let (out, delays) = run(RetryPolicy::call(&s), vec![eight; 3]).await;
        assert_eq!(out, Err(2), "a second wait of 8 s would exceed the 15 s budget");
        assert_eq!(delays, vec![Duration::from_secs(8)]);

        let (out, delays) = run(RetryPolicy::batch_items(&s), vec![eight; 3]).await;
        assert_eq!(out, Ok(4));
        assert_eq!(delays.len(), 3);

        let policy = RetryPolicy::call(&s);
        let state = RetryState { attempt: 0, waited: Duration::from_secs(10) };
        assert!(policy.may_wait(&state, Duration::from_secs(5)));
        assert!(!policy.may_wait(&state, Duration::from_secs(6)), "over budget");
        assert!(!policy.may_wait(&RetryState::default(), Duration::from_secs(11)), "over max_backoff");
    }
}

//! When a failed attempt is tried again, and after how long: pure functions of the step's
//! retry policy, the attempt and a random source, so they are tested without waiting.

use std::time::Duration;

use crate::host::StepError;
use crate::workflow::step::Retry;
use crate::workflow::validate::MAX_BACKOFF;

/// How many attempts a step has in all (1 without a retry policy).
pub fn attempts(policy: Option<&Retry>) -> u32 {
    policy.map_or(1, |r| r.attempts.max(1))
}

/// Whether attempt `attempt` (1-based), which failed with `error`, is tried again: attempts
/// are left, and the error is retryable or its code is one the policy lists.
pub fn again(policy: Option<&Retry>, attempt: u32, error: &StepError) -> bool {
    let listed = policy.is_some_and(|r| r.codes.contains(&error.code));
    attempt < attempts(policy) && (error.retryable || listed)
}

/// How long to wait after attempt `attempt` (1-based) failed: exponential backoff from
/// `backoff` with jitter drawn from `rng` (see [`retry_delay`]).
pub fn delay(backoff: Duration, attempt: u32, rng: &mut fastrand::Rng) -> Duration {
    retry_delay(backoff, attempt, rng.f64())
}

/// How long to wait before the attempt after `attempt` (1-based): exponential backoff
/// from `backoff`, doubling per attempt up to 2¹⁰ times and capped at the longest backoff,
/// with jitter (`jitter` in [0, 1) picks a point in the upper half). Never panics.
pub fn retry_delay(backoff: Duration, attempt: u32, jitter: f64) -> Duration {
    let ceiling = backoff
        .min(MAX_BACKOFF)
        .saturating_mul(1 << attempt.saturating_sub(1).min(10))
        .min(MAX_BACKOFF);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    ceiling.mul_f64(0.5 + jitter * 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn policy(attempts: u32, codes: &[&str]) -> Retry {
        Retry {
            attempts,
            backoff: 100 * MS,
            codes: codes.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn exponential_values_are_exact_at_the_ends_of_the_jitter() {
        // The ceiling doubles per attempt; jitter 1 gives it, jitter 0 half of it.
        for (attempt, ceiling) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1600)] {
            assert_eq!(retry_delay(100 * MS, attempt, 1.0), ceiling * MS);
            assert_eq!(retry_delay(100 * MS, attempt, 0.0), ceiling / 2 * MS);
        }
        assert_eq!(retry_delay(100 * MS, 2, 0.5), 150 * MS);
        // Attempt 0 (never passed by the engine) waits as attempt 1.
        assert_eq!(retry_delay(100 * MS, 0, 1.0), 100 * MS);
        // A zero backoff retries at once.
        assert_eq!(retry_delay(Duration::ZERO, 7, 0.9), Duration::ZERO);
    }

    #[test]
    fn jitter_stays_in_the_upper_half_of_the_ceiling() {
        let mut rng = fastrand::Rng::with_seed(7);
        for attempt in 1..=12 {
            let ceiling = (100 * MS) * (1 << (attempt - 1).min(10));
            for _ in 0..200 {
                let d = delay(100 * MS, attempt, &mut rng);
                assert!(d >= ceiling / 2 && d <= ceiling, "{attempt}: {d:?}");
            }
        }
        // The same seed gives the same delays.
        let mut a = fastrand::Rng::with_seed(3);
        let mut b = fastrand::Rng::with_seed(3);
        let draws = |r: &mut fastrand::Rng| (1..6).map(|n| delay(MS, n, r)).collect::<Vec<_>>();
        assert_eq!(draws(&mut a), draws(&mut b));
        // Out-of-range jitter is clamped; NaN and infinities count as 0.
        assert_eq!(retry_delay(100 * MS, 1, 7.0), 100 * MS);
        assert_eq!(retry_delay(100 * MS, 1, -1.0), 50 * MS);
        for j in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(retry_delay(100 * MS, 1, j), 50 * MS);
        }
    }

    #[test]
    fn delays_are_capped_at_the_longest_backoff() {
        // Doubling stops after 2^10.
        assert_eq!(retry_delay(MS, 11, 1.0), 1024 * MS);
        assert_eq!(retry_delay(MS, 50, 1.0), 1024 * MS);
        // Never more than the longest backoff, however large the first one.
        assert_eq!(retry_delay(MAX_BACKOFF, 3, 1.0), MAX_BACKOFF);
        assert_eq!(retry_delay(Duration::MAX, 1, 1.0), MAX_BACKOFF);
        assert_eq!(retry_delay(10 * 60 * 1000 * MS, 4, 1.0), MAX_BACKOFF);
    }

    #[test]
    fn huge_attempts_do_not_overflow() {
        let mut rng = fastrand::Rng::with_seed(1);
        for attempt in [u32::MAX - 1, u32::MAX, 1 << 31, 64, 33] {
            for backoff in [Duration::ZERO, MS, MAX_BACKOFF, Duration::MAX] {
                let d = delay(backoff, attempt, &mut rng);
                assert!(d <= MAX_BACKOFF, "{attempt} {backoff:?}: {d:?}");
            }
        }
        assert_eq!(retry_delay(Duration::MAX, u32::MAX, 1.0), MAX_BACKOFF);
    }

    #[test]
    fn errors_are_retried_while_attempts_last_when_retryable_or_listed() {
        let error = |code: &str, retryable: bool| StepError {
            code: code.into(),
            message: "m".into(),
            retryable,
            details: None,
            origin: crate::host::ErrorSource::Plugin,
        };
        let temporary = error("API_RATE_LIMIT", true);
        let listed = error("USER_LOCKED", false);
        let other = error("USER_NOT_FOUND", false);
        let p = policy(3, &["USER_LOCKED"]);
        assert!(again(Some(&p), 1, &temporary) && again(Some(&p), 2, &temporary));
        assert!(
            !again(Some(&p), 3, &temporary),
            "the third attempt is the last"
        );
        assert!(again(Some(&p), 1, &listed));
        assert!(!again(Some(&p), 1, &other));
        // Without a policy, one attempt; zero attempts count as one.
        assert!(!again(None, 1, &temporary));
        assert_eq!(attempts(None), 1);
        assert_eq!(attempts(Some(&policy(0, &[]))), 1);
        assert_eq!(attempts(Some(&p)), 3);
    }
}

//! Injected faults (`--faults 429=0.1,latency=5ms`): how a client's retries, backoff and
//! `Retry-After` handling are exercised without a flaky network.

use std::time::Duration;

/// Injected faults: a share of requests answered with an error status before they reach
/// the directory (so a faulted request changed nothing), and added latency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// `(status, probability)`, e.g. `(429, 0.1)`.
    pub statuses: Vec<(u16, f64)>,
    pub latency: Duration,
    /// The `Retry-After` seconds sent with a 429.
    pub retry_after: u64,
    /// Seeds the fault dice, so a run's sequence of faults can be reproduced.
    pub seed: Option<u64>,
}

impl Faults {
    /// Parses `429=0.1,503=0.1,latency=5ms,retry-after=1,seed=7`.
    pub fn parse(spec: &str) -> Result<Faults, String> {
        let mut f = Faults {
            retry_after: 1,
            ..Default::default()
        };
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: expected KEY=VALUE"))?;
            match k {
                "latency" => {
                    f.latency =
                        humantime::parse_duration(v).map_err(|e| format!("latency `{v}`: {e}"))?
                }
                "seed" => {
                    f.seed = Some(
                        v.parse()
                            .map_err(|_| format!("seed `{v}`: expected a whole number"))?,
                    )
                }
                "retry-after" => {
                    f.retry_after = v
                        .parse()
                        .map_err(|_| format!("retry-after `{v}`: expected whole seconds"))?
                }
                status => {
                    let code: u16 = status
                        .parse()
                        .ok()
                        .filter(|c| matches!(c, 429 | 500 | 502 | 503 | 504))
                        .ok_or_else(|| {
                            format!("`{status}`: expected 429, 500, 502, 503, 504, latency, retry-after or seed")
                        })?;
                    let p: f64 = v
                        .parse()
                        .ok()
                        .filter(|p: &f64| (0.0..=1.0).contains(p))
                        .ok_or_else(|| format!("`{part}`: a rate between 0 and 1"))?;
                    f.statuses.push((code, p));
                }
            }
        }
        let total: f64 = f.statuses.iter().map(|(_, p)| p).sum();
        if total > 1.0 {
            return Err(format!("fault rates add up to {total}, more than 1"));
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs_parse_or_explain() {
        let f = Faults::parse("429=0.1, 503=0.1,latency=5ms,retry-after=0").unwrap();
        assert_eq!(f.statuses, vec![(429, 0.1), (503, 0.1)]);
        assert_eq!(f.latency, Duration::from_millis(5));
        assert_eq!(f.retry_after, 0);
        assert!(
            Faults::parse("404=0.1")
                .unwrap_err()
                .contains("expected 429")
        );
        assert!(
            Faults::parse("429=2")
                .unwrap_err()
                .contains("between 0 and 1")
        );
        assert!(
            Faults::parse("429=0.6,503=0.6")
                .unwrap_err()
                .contains("more than 1")
        );
        assert!(Faults::parse("latency").is_err());
        assert_eq!(Faults::parse("seed=7").unwrap().seed, Some(7));
        assert!(
            Faults::parse("seed=x")
                .unwrap_err()
                .contains("whole number")
        );
    }
}

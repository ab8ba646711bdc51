//! Latencies for `aiomas bench`: an [HdrHistogram](hdrhistogram) (two significant digits, so
//! every value within 1%), with the exact fastest, slowest and mean call kept beside it, and the
//! text the report prints.

use std::fmt::Write;
use std::time::Duration;

/// Significant decimal digits the histogram keeps: values within 1% (HdrHistogram's usual 3
/// would cost 8 times the memory, and a bench keeps one histogram per call in flight).
const SIGFIG: u8 = 2;

/// Counts of latencies in nanoseconds.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    hist: hdrhistogram::Histogram<u64>,
    /// The exact extremes and sum: HdrHistogram gives them to its resolution only.
    min: u64,
    max: u64,
    sum: u128,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            // Auto-resizing, from a lowest value of 1: it grows to the slowest call seen.
            hist: hdrhistogram::Histogram::new(SIGFIG).expect("2 significant digits are valid"),
            min: u64::MAX,
            max: 0,
            sum: 0,
        }
    }
}

impl Histogram {
    /// Counts one latency.
    pub(crate) fn record(&mut self, latency: Duration) {
        let v = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        if self.hist.record(v).is_err() {
            // Past what the histogram can grow to (about 146 years): counted at its top.
            self.hist.saturating_record(v);
        }
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += u128::from(v);
    }

    /// Adds the counts of `other`.
    pub(crate) fn merge(&mut self, other: &Histogram) {
        self.hist
            .add(&other.hist)
            .expect("an auto-resizing histogram takes any other's counts");
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }

    /// How many latencies were counted.
    pub(crate) fn len(&self) -> u64 {
        self.hist.len()
    }

    /// The latency that `q` (0..=1) of the calls did not exceed (within 1%, and never outside
    /// the fastest and slowest call).
    pub(crate) fn quantile(&self, q: f64) -> Duration {
        if self.len() == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.hist.value_at_quantile(q).clamp(self.min, self.max))
    }

    /// The fastest, mean and slowest latency.
    pub(crate) fn min_mean_max(&self) -> (Duration, Duration, Duration) {
        if self.len() == 0 {
            return (Duration::ZERO, Duration::ZERO, Duration::ZERO);
        }
        let mean = (self.sum / u128::from(self.len())) as u64;
        (
            Duration::from_nanos(self.min),
            Duration::from_nanos(mean),
            Duration::from_nanos(self.max),
        )
    }

    /// A text histogram: one row per power of two from the fastest to the slowest call,
    /// with the count, share and a bar.
    pub(crate) fn render(&self, width: usize) -> String {
        let mut out = String::new();
        let total = self.len();
        if total == 0 {
            return out;
        }
        let lo = 63 - self.min.max(1).leading_zeros();
        let hi = 63 - self.max.max(1).leading_zeros();
        let rows: Vec<(u64, u64)> = (lo..=hi)
            .map(|e| {
                let top = if e >= 63 {
                    u64::MAX
                } else {
                    (1u64 << (e + 1)) - 1
                };
                let bottom = if e == lo { 0 } else { 1u64 << e };
                // Powers of two start buckets of the histogram: the rows split it exactly.
                (top, self.hist.count_between(bottom, top))
            })
            .collect();
        let most = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
        for (top, count) in rows {
            let bar = (count as f64 / most as f64 * width as f64).round() as usize;
            let _ = writeln!(
                out,
                "    <= {:>9}  {:>10}  {:>5.1}%  {}",
                human(Duration::from_nanos(top)),
                count,
                count as f64 * 100.0 / total as f64,
                "#".repeat(bar)
            );
        }
        out
    }
}

/// A duration as a person reads it: `850ns`, `52.1us`, `1.20ms`, `2.50s`.
pub(crate) fn human(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1e3 {
        format!("{ns:.0}ns")
    } else if ns < 1e6 {
        format!("{:.1}us", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2}ms", ns / 1e6)
    } else {
        format!("{:.2}s", ns / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_one_percent_and_inside_the_fastest_and_slowest_call() {
        let mut h = Histogram::default();
        for v in (1..=5000u64).chain([1 << 20, 123_456_789, 1 << 40]) {
            h.record(Duration::from_nanos(v));
        }
        let n = h.len();
        assert_eq!(n, 5003);
        let mut sorted: Vec<u64> = (1..=5000u64)
            .chain([1 << 20, 123_456_789, 1 << 40])
            .collect();
        sorted.sort_unstable();
        for q in [0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9995, 1.0] {
            let exact = sorted[((q * n as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
            let got = h.quantile(q).as_nanos() as u64;
            assert!(got >= exact, "q {q}: {got} < {exact}");
            assert!(
                (got - exact) as f64 <= exact as f64 / 100.0,
                "q {q}: {got} vs {exact}"
            );
        }
        assert_eq!(h.quantile(1.0), Duration::from_nanos(1 << 40));
        assert_eq!(h.quantile(0.0), Duration::from_nanos(1));
    }

    #[test]
    fn quantiles_of_known_latencies() {
        let mut h = Histogram::default();
        for us in 1..=100u64 {
            h.record(Duration::from_micros(us));
        }
        assert_eq!(h.len(), 100);
        let p50 = h.quantile(0.5).as_micros() as f64;
        assert!((50.0..=50.5).contains(&p50), "{p50}");
        let p99 = h.quantile(0.99).as_micros() as f64;
        assert!((99.0..=100.0).contains(&p99), "{p99}");
        assert_eq!(h.quantile(1.0), Duration::from_micros(100));
        let (min, mean, max) = h.min_mean_max();
        assert_eq!(
            (min, mean, max),
            (
                Duration::from_micros(1),
                Duration::from_nanos(50_500),
                Duration::from_micros(100)
            )
        );
        let rows = h.render(20);
        // One row per power of two from 1us (2^9 ns) to 100us (2^16 ns), the counts adding up.
        assert_eq!(rows.lines().count(), 8, "{rows}");
        let counted: u64 = rows
            .lines()
            .map(|l| l.split_whitespace().nth(2).unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(counted, 100, "{rows}");
    }

    #[test]
    fn merged_histograms_count_both() {
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        a.record(Duration::from_micros(5));
        b.record(Duration::from_secs(3));
        a.merge(&b);
        assert_eq!(a.len(), 2);
        assert_eq!(
            a.min_mean_max(),
            (
                Duration::from_micros(5),
                Duration::from_nanos(1_500_002_500),
                Duration::from_secs(3)
            )
        );
        assert_eq!(a.quantile(1.0), Duration::from_secs(3));
    }

    #[test]
    fn an_empty_histogram_says_nothing() {
        let h = Histogram::default();
        assert_eq!(h.quantile(0.5), Duration::ZERO);
        assert_eq!(h.render(10), "");
    }
}

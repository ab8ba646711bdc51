//! A latency histogram with about 3% resolution over the whole range of `u64` nanoseconds, in
//! a fixed 15 KiB: 32 linear buckets per power of two (the idea of HdrHistogram, made small).

use std::fmt::Write;
use std::time::Duration;

const SUB_BITS: u32 = 5;
const SUB: usize = 1 << SUB_BITS;
const BUCKETS: usize = (64 - SUB_BITS as usize + 1) * SUB;

/// Counts of latencies, by bucket.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    counts: Vec<u64>,
    total: u64,
    min: u64,
    max: u64,
    sum: u128,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            min: u64::MAX,
            max: 0,
            sum: 0,
        }
    }
}

fn index(v: u64) -> usize {
    if v < SUB as u64 {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // >= SUB_BITS
    let sub = (v >> (e - SUB_BITS)) as usize & (SUB - 1);
    (e - SUB_BITS + 1) as usize * SUB + sub
}

/// The largest value that falls in bucket `i`.
fn upper(i: usize) -> u64 {
    if i < SUB {
        return i as u64;
    }
    let e = (i / SUB) as u32 + SUB_BITS - 1;
    let lower = ((SUB + i % SUB) as u64) << (e - SUB_BITS);
    lower + ((1u64 << (e - SUB_BITS)) - 1)
}

impl Histogram {
    /// Counts one latency.
    pub(crate) fn record(&mut self, latency: Duration) {
        let v = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.counts[index(v)] += 1;
        self.total += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += u128::from(v);
    }

    /// Adds the counts of `other`.
    pub(crate) fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }

    /// How many latencies were counted.
    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        self.total
    }

    /// The latency that `q` (0..=1) of the calls did not exceed (within the resolution).
    pub(crate) fn quantile(&self, q: f64) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Duration::from_nanos(upper(i).clamp(self.min, self.max));
            }
        }
        Duration::from_nanos(self.max)
    }

    /// The fastest, mean and slowest latency.
    pub(crate) fn min_mean_max(&self) -> (Duration, Duration, Duration) {
        if self.total == 0 {
            return (Duration::ZERO, Duration::ZERO, Duration::ZERO);
        }
        let mean = (self.sum / u128::from(self.total)) as u64;
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
        if self.total == 0 {
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
                let count = self
                    .counts
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| (bottom..=top).contains(&upper(*i)))
                    .map(|(_, c)| c)
                    .sum();
                (top, count)
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
                count as f64 * 100.0 / self.total as f64,
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
    fn every_value_falls_in_a_bucket_whose_upper_bound_is_within_3_percent() {
        for v in (0..5000u64).chain([1 << 20, 123_456_789, u64::MAX / 3, u64::MAX]) {
            let i = index(v);
            assert!(i < BUCKETS, "{v}");
            let up = upper(i);
            assert!(up >= v, "{v}: upper {up}");
            assert!((up - v) as f64 <= v as f64 / 32.0 + 1.0, "{v}: upper {up}");
        }
    }

    #[test]
    fn quantiles_of_known_latencies() {
        let mut h = Histogram::default();
        for us in 1..=100u64 {
            h.record(Duration::from_micros(us));
        }
        assert_eq!(h.len(), 100);
        let p50 = h.quantile(0.5).as_micros() as f64;
        assert!((50.0..=51.6).contains(&p50), "{p50}");
        let p99 = h.quantile(0.99).as_micros() as f64;
        assert!((99.0..=102.1).contains(&p99), "{p99}");
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
    fn an_empty_histogram_says_nothing() {
        let h = Histogram::default();
        assert_eq!(h.quantile(0.5), Duration::ZERO);
        assert_eq!(h.render(10), "");
    }
}

//! The open loop's schedule: when each request is due, independently of the server.

use std::time::Duration;

/// Request `i` is due `i / rate` seconds after the start; the schedule ends before the
/// duration does, or after `max` requests.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    rate: f64,
    duration: Duration,
    max: Option<u64>,
}

impl Schedule {
    /// `rate` must be positive and finite (the argument parser sees to it).
    pub fn new(rate: f64, duration: Duration, max: Option<u64>) -> Schedule {
        Schedule { rate, duration, max }
    }

    /// When request `i` is due, as an offset from the start; `None` past the end.
    pub fn offset(&self, i: u64) -> Option<Duration> {
        if self.max.is_some_and(|max| i >= max) {
            return None;
        }
        let nanos = (i as f64 * 1e9 / self.rate).round();
        if nanos.is_nan() || nanos >= self.duration.as_nanos() as f64 {
            return None;
        }
        let due = Duration::from_nanos(nanos as u64);
        (due < self.duration).then_some(due)
    }

    /// How many requests the schedule holds.
    pub fn len(&self) -> u64 {
        // ceil(duration * rate) requests are due before the duration ends (due times
        // 0, 1/rate, ...), checked against `offset` around the estimate for rounding.
        let estimate = (self.duration.as_secs_f64() * self.rate).ceil() as u64;
        let mut n = estimate.saturating_sub(1);
        while self.offset(n).is_some() {
            n += 1;
        }
        while n > 0 && self.offset(n - 1).is_none() {
            n -= 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_times_are_evenly_spaced_from_zero() {
        let s = Schedule::new(1000.0, Duration::from_secs(1), None);
        assert_eq!(s.offset(0), Some(Duration::ZERO));
        assert_eq!(s.offset(1), Some(Duration::from_millis(1)));
        assert_eq!(s.offset(250), Some(Duration::from_millis(250)));
        assert_eq!(s.offset(999), Some(Duration::from_millis(999)));
        assert_eq!(s.offset(1000), None, "due exactly at the end is past it");
        assert_eq!(s.len(), 1000);
    }

    #[test]
    fn fractional_rates_and_durations() {
        let s = Schedule::new(3.0, Duration::from_millis(2500), None);
        let offsets: Vec<_> = (0..10).map_while(|i| s.offset(i)).collect();
        assert_eq!(offsets.len(), 8, "0, 1/3, ..., 7/3 s are before 2.5 s");
        assert_eq!(s.len(), 8);
        for pair in offsets.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(gap.abs_diff(Duration::from_secs_f64(1.0 / 3.0)) < Duration::from_micros(1), "{gap:?}");
        }
        let s = Schedule::new(0.5, Duration::from_secs(1), None);
        assert_eq!((s.offset(0), s.offset(1), s.len()), (Some(Duration::ZERO), None, 1));
    }

    #[test]
    fn max_requests_cuts_the_schedule() {
        let s = Schedule::new(10_000.0, Duration::from_secs(60), Some(5));
        assert_eq!(s.len(), 5);
        assert_eq!(s.offset(4), Some(Duration::from_micros(400)));
        assert_eq!(s.offset(5), None);
    }

    #[test]
    fn high_rates_keep_their_spacing() {
        let s = Schedule::new(100_000.0, Duration::from_secs(30), None);
        assert_eq!(s.len(), 3_000_000);
        assert_eq!(s.offset(2_999_999), Some(Duration::from_micros(29_999_990)));
        assert_eq!(s.offset(3_000_000), None);
    }
}

//! The machine's own stalls, measured beside the load: a thread of its own sleeps 5 ms
//! over and over and records how late it woke (jHiccup's method).
//!
//! A late wake-up is time no thread on that core ran: the kernel's scheduler, or a
//! hypervisor that paused the virtual CPU. Every latency the load tester reports
//! includes such pauses whatever the servers do, so the report puts their size next to
//! the tail they explain. The meter costs 200 wake-ups a second per process (at 1 ms,
//! runs with the meter showed a click p50 a few microseconds above runs without; at 5 ms
//! no difference showed, and a pause of a few milliseconds is still caught most times).

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::stats::Recorder;

/// How long the meter sleeps between two readings.
const PERIOD: Duration = Duration::from_millis(5);

/// Starts the meter; it records into `recorder` until the recorder is dropped.
pub(crate) fn watch(recorder: &Arc<Recorder>) {
    let recorder = Arc::downgrade(recorder);
    let started = std::thread::Builder::new()
        .name("stall-meter".to_owned())
        .spawn(move || meter(&recorder));
    if let Err(error) = started {
        eprintln!(
            "cinder-loadtest: no stall meter ({error}): the machine's stalls are not reported"
        );
    }
}

fn meter(recorder: &Weak<Recorder>) {
    // Woken within 1 µs of its time rather than the kernel's default 50 µs, so that
    // what it records is the machine's lateness, not the slack's.
    let _ = nix::sys::prctl::set_timerslack(1_000);
    loop {
        let before = Instant::now();
        std::thread::sleep(PERIOD);
        let late = before.elapsed().saturating_sub(PERIOD);
        let Some(recorder) = recorder.upgrade() else {
            return;
        };
        recorder.stalled(late);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meter_records_until_its_recorder_is_gone() {
        let recorder = Arc::new(Recorder::default());
        watch(&recorder);
        // Polled, not timed: a loaded machine may run the meter late.
        let mut readings = 0;
        for _ in 0..400 {
            readings += recorder.take(1, Duration::ZERO).stalls.count();
            if readings >= 2 {
                break;
            }
            std::thread::sleep(PERIOD);
        }
        assert!(readings >= 2, "{readings} readings");
        let weak = Arc::downgrade(&recorder);
        drop(recorder);
        // The meter holds the recorder only for a reading, then lets it go.
        let gone = (0..400).any(|_| {
            std::thread::sleep(PERIOD);
            weak.upgrade().is_none()
        });
        assert!(gone, "the meter kept its recorder alive");
    }
}

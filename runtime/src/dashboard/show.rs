//! How the dashboard writes its figures: sizes, rates, durations, and sparklines as the
//! `points` of an SVG polyline.

use std::fmt::Write as _;

use super::cluster::HISTORY;

/// The sparkline's box, `viewBox="0 0 59 28"`: one unit per sample of a minute.
pub(crate) const SPARK_WIDTH: usize = HISTORY - 1;
pub(crate) const SPARK_HEIGHT: f64 = 28.0;

/// `values` (oldest first, at most [`HISTORY`]) as polyline points in the sparkline's
/// box: the newest at the right edge, 0 at the bottom and the largest value at the top;
/// empty below two values. Whole coordinates keep the points short: a tick resends them.
pub(crate) fn spark(values: impl ExactSizeIterator<Item = f64> + Clone) -> String {
    let len = values.len();
    let n = len.min(HISTORY);
    if n < 2 {
        return String::new();
    }
    let top = values.clone().fold(0.0_f64, f64::max);
    let scale = if top > 0.0 {
        (SPARK_HEIGHT - 2.0) / top
    } else {
        0.0
    };
    let mut points = String::with_capacity(n * 6);
    for (i, value) in values.skip(len - n).enumerate() {
        let x = SPARK_WIDTH + 1 - n + i;
        let y = (SPARK_HEIGHT - 1.0 - value.max(0.0) * scale).round();
        let _ = write!(points, "{x},{y} ");
    }
    points.pop();
    points
}

/// A byte count: `512 B`, `1.5 KiB`, `24.0 MiB`.
pub(crate) fn bytes(n: f64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024.0 {
        return format!("{n:.0} B");
    }
    let mut value = n / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

/// A rate per second: `0`, `12.5`, `1,204`.
pub(crate) fn rate(n: f64) -> String {
    if n < 100.0 && n.fract() != 0.0 {
        return format!("{n:.1}");
    }
    grouped(n.round() as u64)
}

/// A whole number with thousands separated: `12,000`.
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A latency in seconds: `84 µs`, `1.2 ms`, `2.5 s`; `–` when unknown.
pub(crate) fn latency(seconds: Option<f64>) -> String {
    match seconds {
        None => "–".to_owned(),
        Some(s) if s < 0.001 => format!("{:.0} µs", s * 1e6),
        Some(s) if s < 1.0 => format!("{:.1} ms", s * 1e3),
        Some(s) => format!("{s:.1} s"),
    }
}

/// How long a process has run: `42s`, `5m 12s`, `3h 4m`, `2d 1h`.
pub(crate) fn uptime(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {}m", s / 3600, s / 60 % 60),
        _ => format!("{}d {}h", s / 86_400, s / 3600 % 24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_well() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(1536.0), "1.5 KiB");
        assert_eq!(bytes(24.0 * 1024.0 * 1024.0), "24.0 MiB");
        assert_eq!(rate(12.5), "12.5");
        assert_eq!(rate(1204.4), "1,204");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(latency(Some(0.000_084)), "84 µs");
        assert_eq!(latency(Some(0.0012)), "1.2 ms");
        assert_eq!(latency(None), "–");
        assert_eq!(uptime(312_000), "5m 12s");
        assert_eq!(uptime(2 * 86_400_000 + 3_600_000), "2d 1h");
    }

    #[test]
    fn sparklines_fill_their_box() {
        assert_eq!(spark([1.0].into_iter()), "");
        assert_eq!(spark([0.0, 2.0].into_iter()), "58,27 59,1");
        assert_eq!(spark([0.0, 0.0].into_iter()), "58,27 59,27");
        let minute = spark((0..HISTORY).map(|i| i as f64));
        assert!(
            minute.starts_with("0,27 ") && minute.ends_with(" 59,1"),
            "{minute}"
        );
    }
}

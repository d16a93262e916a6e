//! The HTML report: one file, no scripts or fonts to fetch, charts drawn as inline SVG
//! on the run's clock: sessions, latency percentiles, deliveries, rates, errors, and
//! each watched server's memory and CPU.

use std::fmt::Write as _;

use crate::report::Run;

/// One line of a chart.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
}

const COLORS: [&str; 6] = [
    "#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2",
];

/// The report page.
#[expect(clippy::cast_precision_loss, reason = "chart values")]
pub(crate) fn page(run: &Run) -> String {
    let at = |f: &dyn Fn(&crate::stats::Interval) -> f64| -> Vec<(f64, f64)> {
        run.intervals.iter().map(|i| (i.at, f(i))).collect()
    };
    let sessions = vec![
        series("live", at(&|i| i.live as f64)),
        series("target", at(&|i| i.target as f64)),
        series("down (joining again)", at(&|i| i.down as f64)),
    ];
    let delivered = run.intervals.iter().any(|i| i.deliveries > 0);
    let delivery = if delivered {
        vec![
            series("p50", at(&|i| i.delivery.ms(0.5))),
            series("p99", at(&|i| i.delivery.ms(0.99))),
            series("last", at(&|i| i.delivery.max_ms())),
        ]
    } else {
        Vec::new()
    };
    let latency = vec![
        series("p50", at(&|i| i.latency.ms(0.5))),
        series("p99", at(&|i| i.latency.ms(0.99))),
        series("p99.9", at(&|i| i.latency.ms(0.999))),
    ];
    let mut previous = 0.0;
    let widths: Vec<f64> = run
        .intervals
        .iter()
        .map(|i| {
            let width = (i.at - previous).max(1e-3);
            previous = i.at;
            width
        })
        .collect();
    let rate = |f: &dyn Fn(&crate::stats::Interval) -> u64| -> Vec<(f64, f64)> {
        run.intervals
            .iter()
            .zip(&widths)
            .map(|(i, w)| (i.at, f(i) as f64 / w))
            .collect()
    };
    let rates = vec![
        series("events/s", rate(&|i| i.events)),
        series("replies/s", rate(&|i| i.replies)),
        series("joins/s", rate(&|i| i.joined)),
        series("deliveries/s", rate(&|i| i.deliveries)),
        series("rejoins/s", rate(&|i| i.rejoined)),
    ];
    let errors = vec![series("errors/s", rate(&|i| i.error_count()))];
    let mut names: Vec<&str> = run.servers.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut memory: Vec<Series> = names
        .iter()
        .map(|name| {
            let points = run
                .servers
                .iter()
                .filter(|s| s.name == *name)
                .map(|s| (s.at, s.rss as f64 / 1_048_576.0))
                .collect();
            series(name, points)
        })
        .collect();
    memory.push(series(
        "load tester",
        at(&|i| i.client_rss as f64 / 1_048_576.0),
    ));
    let cpu: Vec<Series> = names
        .iter()
        .map(|name| {
            let samples: Vec<_> = run.servers.iter().filter(|s| s.name == *name).collect();
            let points = samples
                .windows(2)
                .map(|w| {
                    let busy = (w[1].cpu - w[0].cpu) / (w[1].at - w[0].at).max(1e-3);
                    (w[1].at, busy * 100.0)
                })
                .collect();
            series(name, points)
        })
        .collect();

    let mut out = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>cinder-loadtest report</title><style>\
         body{font:14px system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#111;padding:0 1rem}\
         h1{font-size:1.4rem}h2{font-size:1.05rem;margin-top:2rem}\
         table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:right}\
         th:first-child,td:first-child{text-align:left}code{background:#f3f4f6;padding:.1rem .3rem}\
         svg{width:100%;height:auto;background:#fafafa;border:1px solid #eee}\
         </style></head><body><h1>cinder-loadtest report</h1>",
    );
    let _ = write!(out, "<p><code>{}</code></p>", escape(&run.command));
    out.push_str("<h2>Steps</h2><table><tr><th>step</th><th>live / target</th><th>joins/s</th><th>events/s</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>errors</th><th>bytes per session</th></tr>");
    for step in run.steps() {
        let bytes: Vec<String> = step
            .bytes_per_session
            .iter()
            .map(|(name, b)| format!("{} {b:.0}", escape(name)))
            .collect();
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{} / {}</td><td>{:.0}</td><td>{:.0}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td><td>{}</td></tr>",
            step.step + 1,
            step.live,
            step.target,
            step.joins_per_second,
            step.events_per_second,
            step.p50_ms,
            step.p99_ms,
            step.p999_ms,
            step.max_ms,
            step.errors,
            bytes.join(", ")
        );
    }
    out.push_str("</table>");
    let errors_by_kind = run.errors();
    if !errors_by_kind.is_empty() {
        out.push_str("<h2>Errors by kind</h2><table>");
        for (kind, count) in &errors_by_kind {
            let _ = write!(out, "<tr><td>{}</td><td>{count}</td></tr>", escape(kind));
        }
        out.push_str("</table>");
    }
    for (title, unit, lines) in [
        ("Sessions", "sessions", &sessions),
        ("Event latency (from the scheduled send)", "ms", &latency),
        ("Delivery (one-way, from the stamp)", "ms", &delivery),
        ("Rates", "per second", &rates),
        ("Errors", "per second", &errors),
        ("Resident memory", "MiB", &memory),
        ("CPU", "% of one core", &cpu),
    ] {
        if lines.iter().all(|s| s.points.is_empty()) {
            continue;
        }
        let _ = write!(out, "<h2>{title}</h2>");
        out.push_str(&chart(unit, lines));
    }
    out.push_str("</body></html>\n");
    out
}

fn series(name: &str, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.to_owned(),
        points,
    }
}

/// A line chart of `lines` over the run's seconds, with its axes' extremes labelled.
#[expect(clippy::cast_precision_loss, reason = "chart positions")]
fn chart(unit: &str, lines: &[Series]) -> String {
    let (w, h, pad) = (800.0, 260.0, 48.0);
    let points = lines.iter().flat_map(|s| s.points.iter());
    let x_max = points.clone().map(|p| p.0).fold(1e-9, f64::max);
    let y_max = points.map(|p| p.1).fold(1e-9, f64::max) * 1.05;
    let x = |v: f64| pad + v / x_max * (w - 2.0 * pad);
    let y = |v: f64| h - pad + -(v / y_max) * (h - 2.0 * pad);
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\"><line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>\
         <line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{}\" stroke=\"#999\"/>\
         <text x=\"{pad}\" y=\"{}\" font-size=\"11\">0 s</text><text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{x_max:.0} s</text>\
         <text x=\"4\" y=\"{}\" font-size=\"11\">{}</text><text x=\"4\" y=\"{}\" font-size=\"11\">0</text>",
        h - pad,
        w - pad,
        h - pad,
        h - pad,
        h - pad + 16.0,
        w - pad,
        h - pad + 16.0,
        pad - 4.0,
        escape(&format!("{y_max:.3} {unit}")),
        h - pad,
    );
    for (i, line) in lines.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let path: Vec<String> = line
            .points
            .iter()
            .map(|&(px, py)| format!("{:.1},{:.1}", x(px), y(py)))
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{color}\">{}</text>",
            path.join(" "),
            w - pad + 4.0 - 120.0,
            pad + 14.0 * (i as f64),
            escape(&line.name),
        );
    }
    svg.push_str("</svg>");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Interval;

    #[test]
    fn the_page_is_self_contained_and_escaped() {
        let run = Run {
            command: "click --url <x>".into(),
            intervals: vec![
                Interval {
                    index: 1,
                    at: 1.0,
                    live: 5,
                    procs: 1,
                    ..Interval::default()
                },
                Interval {
                    index: 2,
                    at: 2.0,
                    live: 9,
                    procs: 1,
                    ..Interval::default()
                },
            ],
            ..Run::default()
        };
        let html = page(&run);
        assert!(html.contains("&lt;x&gt;"));
        assert!(html.contains("<polyline"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("http://") && !html.contains("https://"));
    }
}

//! Reading a Prometheus text page: the samples of the process's own `/metrics`, summed
//! by name or grouped by a label. What a beat ([`crate::beat`]) reports is read here, so
//! the dashboard shows the same figures Prometheus scrapes.

use std::collections::BTreeMap;

/// One sample line: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    /// The metric's name, with its `_bucket`/`_count`/`_sum` suffix if any.
    pub name: &'a str,
    /// The label pairs, unescaped.
    pub labels: Vec<(&'a str, String)>,
    /// The value.
    pub value: f64,
}

impl Sample<'_> {
    /// The value of label `key`, if the sample has it.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The samples of a page. Comments and lines that do not parse are skipped.
#[derive(Debug, Clone, Default)]
pub struct Scrape<'a> {
    samples: Vec<Sample<'a>>,
}

impl<'a> Scrape<'a> {
    /// Parses `page`.
    pub fn parse(page: &'a str) -> Self {
        Scrape {
            samples: page.lines().filter_map(sample).collect(),
        }
    }

    /// The samples named `name`.
    pub fn named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Sample<'a>> + 's {
        self.samples.iter().filter(move |s| s.name == name)
    }

    /// The sum of every series of `name` (0 when absent).
    pub fn sum(&self, name: &str) -> f64 {
        self.named(name).map(|s| s.value).sum()
    }

    /// The value of `name` if any series has it.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.named(name).next().map(|s| s.value)
    }

    /// The series of `name` summed per value of `label`.
    pub fn by_label(&self, name: &str, label: &str) -> BTreeMap<String, f64> {
        let mut sums = BTreeMap::new();
        for sample in self.named(name) {
            if let Some(value) = sample.label(label) {
                *sums.entry(value.to_owned()).or_insert(0.0) += sample.value;
            }
        }
        sums
    }

    /// The cumulative counts of histogram `name` (all series summed) at each of
    /// `bounds`, in order: the count at or below each bound.
    pub fn buckets(&self, name: &str, bounds: &[f64]) -> Vec<u64> {
        let bucket = format!("{name}_bucket");
        let mut counts = vec![0.0; bounds.len()];
        for sample in self.named(&bucket) {
            let Some(le) = sample.label("le").and_then(|le| le.parse::<f64>().ok()) else {
                continue;
            };
            if let Some(i) = bounds.iter().position(|b| (b - le).abs() <= b * 1e-9) {
                counts[i] += sample.value;
            }
        }
        counts.into_iter().map(whole).collect()
    }
}

/// A count rendered as a float, as a whole number (negative and NaN are 0).
pub fn whole(value: f64) -> u64 {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "counts are whole and far below 2^53; the cast saturates"
    )]
    let count = value.max(0.0) as u64;
    count
}

fn sample(line: &str) -> Option<Sample<'_>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (name, rest) = match line.find(['{', ' ']) {
        Some(i) => line.split_at(i),
        None => return None,
    };
    let (labels, rest) = match rest.strip_prefix('{') {
        Some(inner) => labels(inner)?,
        None => (Vec::new(), rest),
    };
    let value = rest.split_whitespace().next()?.parse().ok()?;
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// `key="value",…}` and what follows the closing brace.
fn labels(mut rest: &str) -> Option<(Vec<(&str, String)>, &str)> {
    let mut pairs = Vec::new();
    loop {
        rest = rest.trim_start_matches([',', ' ']);
        if let Some(after) = rest.strip_prefix('}') {
            return Some((pairs, after));
        }
        let (key, after) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                (_, c) => value.push(c),
            }
        };
        pairs.push((key.trim(), value));
        rest = &after[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"# TYPE cinder_sessions gauge
cinder_sessions{view="Counter"} 3
cinder_sessions{view="Chat"} 2
cinder_sessions{view="Counter"} 1
cinder_diff_bytes_total 1200
cinder_event_duration_seconds_bucket{view="Counter",kind="event",le="0.00005"} 4
cinder_event_duration_seconds_bucket{view="Counter",kind="event",le="0.0001"} 9
cinder_event_duration_seconds_bucket{view="Chat",kind="info",le="0.0001"} 1
cinder_event_duration_seconds_bucket{view="Chat",kind="info",le="+Inf"} 2
odd{a="x\"y\\z"} 5
not a sample
"#;

    #[test]
    fn sums_groups_and_buckets() {
        let scrape = Scrape::parse(PAGE);
        assert!((scrape.sum("cinder_sessions") - 6.0).abs() < f64::EPSILON);
        let by_view = scrape.by_label("cinder_sessions", "view");
        assert_eq!(by_view.get("Counter"), Some(&4.0));
        assert_eq!(by_view.get("Chat"), Some(&2.0));
        assert_eq!(scrape.get("cinder_diff_bytes_total"), Some(1200.0));
        assert_eq!(scrape.get("missing"), None);
        assert_eq!(
            scrape.buckets("cinder_event_duration_seconds", &[0.000_05, 0.000_1, 1.0]),
            vec![4, 10, 0]
        );
        let odd = scrape.named("odd").next().unwrap();
        assert_eq!(odd.label("a"), Some("x\"y\\z"));
    }
}

//! The pure rules of an evaluation: which labels name a target, how a target's series make
//! one value, whether it breaches, whether a blocking condition silences it, and how a number
//! is shown. No I/O; the engine calls them.

use std::collections::BTreeMap;

use chrono::Timelike;
use ocp_api::alarm::{Aggregation, Comparator};
use ocp_api::Timestamp;
use ocp_store::SilencerRecord;

/// The labels that name a target, by scope (OCP's `ob_cluster=C:svr_ip=IP` form).
pub(super) fn target_keys(scope: &str) -> &'static [&'static str] {
    match scope {
        "ObCluster" => &["ob_cluster"],
        "ObServer" | "ObTenant" => &["ob_cluster", "svr_ip", "process"],
        _ => &["svr_ip", "process", "mount", "device", "interface"],
    }
}

pub(super) fn aggregate(aggregation: Aggregation, values: &[f64]) -> f64 {
    match aggregation {
        Aggregation::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
        Aggregation::Sum => values.iter().sum(),
        Aggregation::Avg => values.iter().sum::<f64>() / values.len().max(1) as f64,
        Aggregation::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    }
}

/// Of the values held in the window, the one least in breach: the condition held all the
/// time exactly when this one breaches.
pub(super) fn worst_of(comparator: Comparator, values: &[f64]) -> Option<f64> {
    let min = values.iter().copied().reduce(f64::min);
    let max = values.iter().copied().reduce(f64::max);
    match comparator {
        Comparator::Greater | Comparator::GreaterOrEqual => min,
        Comparator::Less | Comparator::LessOrEqual => max,
        Comparator::Equal | Comparator::NotEqual => values.last().copied(),
    }
}

pub fn compare(comparator: Comparator, value: f64, threshold: f64) -> bool {
    match comparator {
        Comparator::Greater => value > threshold,
        Comparator::GreaterOrEqual => value >= threshold,
        Comparator::Less => value < threshold,
        Comparator::LessOrEqual => value <= threshold,
        Comparator::Equal => value == threshold,
        Comparator::NotEqual => value != threshold,
    }
}

/// A number as alerts show it: at most two decimals, no trailing zeros.
pub fn show_number(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Whether a blocking condition silences an alert of `alarm_type` with these labels now.
pub fn silences(
    s: &SilencerRecord,
    app_type: &str,
    alarm_type: &str,
    labels: &BTreeMap<String, String>,
    now: i64,
) -> bool {
    if now < s.starts_at || now >= s.ends_at {
        return false;
    }
    if s.app_type.as_deref().is_some_and(|a| a != app_type) {
        return false;
    }
    let types: Vec<String> = serde_json::from_str(&s.alarm_types).unwrap_or_default();
    if !types.is_empty() && !types.iter().any(|t| t == alarm_type) {
        return false;
    }
    let matchers: BTreeMap<String, String> = serde_json::from_str(&s.matchers).unwrap_or_default();
    if !matchers.iter().all(|(k, v)| labels.get(k) == Some(v)) {
        return false;
    }
    match (s.daily_start, s.daily_end) {
        (Some(from), Some(to)) => {
            let local = Timestamp::from_millis(now).0.with_timezone(&chrono::Local);
            let minute = i64::from(local.hour() * 60 + local.minute());
            if from <= to {
                (from..to).contains(&minute)
            } else {
                minute >= from || minute < to
            }
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn comparators_compare_as_written() {
        use Comparator::*;
        let cases = [
            (Greater, [false, false, true]),
            (GreaterOrEqual, [false, true, true]),
            (Less, [true, false, false]),
            (LessOrEqual, [true, true, false]),
            (Equal, [false, true, false]),
            (NotEqual, [true, false, true]),
        ];
        for (comparator, expected) in cases {
            let got = [1.0, 2.0, 3.0].map(|v| compare(comparator, v, 2.0));
            assert_eq!(got, expected, "{comparator}");
        }
    }

    #[test]
    fn aggregations_make_one_value_of_a_targets_series() {
        let values = [3.0, 1.0, 8.0];
        assert_eq!(aggregate(Aggregation::Max, &values), 8.0);
        assert_eq!(aggregate(Aggregation::Min, &values), 1.0);
        assert_eq!(aggregate(Aggregation::Sum, &values), 12.0);
        assert_eq!(aggregate(Aggregation::Avg, &values), 4.0);
        assert_eq!(aggregate(Aggregation::Avg, &[]), 0.0);
    }

    #[test]
    fn the_value_least_in_breach_decides_whether_a_condition_held() {
        // Above a threshold all the time exactly when the lowest value is above it.
        let held = [95.0, 91.0, 99.0];
        assert_eq!(worst_of(Comparator::Greater, &held), Some(91.0));
        assert_eq!(worst_of(Comparator::LessOrEqual, &held), Some(99.0));
        assert_eq!(worst_of(Comparator::Equal, &held), Some(99.0));
        assert_eq!(worst_of(Comparator::Greater, &[]), None);
    }

    #[test]
    fn numbers_show_with_at_most_two_decimals() {
        assert_eq!(show_number(91.0), "91");
        assert_eq!(show_number(91.456), "91.46");
        assert_eq!(show_number(0.5), "0.5");
    }

    #[test]
    fn targets_are_named_by_the_labels_of_their_scope() {
        assert_eq!(target_keys("ObCluster"), ["ob_cluster"]);
        assert_eq!(target_keys("ObServer"), ["ob_cluster", "svr_ip", "process"]);
        assert!(target_keys("Host").contains(&"mount"));
    }

    fn silencer(matchers: &str, daily: Option<(i64, i64)>) -> SilencerRecord {
        SilencerRecord {
            id: 1,
            app_type: Some("OB".into()),
            alarm_types: r#"["ob_cannot_connected"]"#.into(),
            matchers: matchers.into(),
            starts_at: 1_000,
            ends_at: i64::MAX,
            daily_start: daily.map(|d| d.0),
            daily_end: daily.map(|d| d.1),
            comment: String::new(),
            creator: "admin".into(),
            create_time: 0,
        }
    }

    #[test]
    fn a_blocking_condition_silences_only_what_it_names_while_it_lasts() {
        let labels = BTreeMap::from([("svr_ip".to_string(), "10.0.0.1".to_string())]);
        let s = silencer(r#"{"svr_ip":"10.0.0.1"}"#, None);
        assert!(silences(&s, "OB", "ob_cannot_connected", &labels, 2_000));
        assert!(
            !silences(&s, "OB", "ob_cannot_connected", &labels, 999),
            "not yet"
        );
        assert!(!silences(&s, "OCP", "ob_cannot_connected", &labels, 2_000));
        assert!(!silences(&s, "OB", "host_cpu_high", &labels, 2_000));
        let elsewhere = BTreeMap::from([("svr_ip".to_string(), "10.0.0.2".to_string())]);
        assert!(!silences(
            &s,
            "OB",
            "ob_cannot_connected",
            &elsewhere,
            2_000
        ));
        let ended = SilencerRecord {
            ends_at: 1_500,
            ..s.clone()
        };
        assert!(!silences(
            &ended,
            "OB",
            "ob_cannot_connected",
            &labels,
            2_000
        ));
    }

    #[test]
    fn a_daily_window_may_wrap_past_midnight() {
        let at = |hour, minute| {
            chrono::Local
                .with_ymd_and_hms(2026, 6, 1, hour, minute, 0)
                .single()
                .unwrap()
                .timestamp_millis()
        };
        let none = BTreeMap::new();
        let office = silencer("{}", Some((9 * 60, 18 * 60)));
        assert!(silences(
            &office,
            "OB",
            "ob_cannot_connected",
            &none,
            at(10, 30)
        ));
        assert!(!silences(
            &office,
            "OB",
            "ob_cannot_connected",
            &none,
            at(18, 0)
        ));
        let night = silencer("{}", Some((22 * 60, 6 * 60)));
        assert!(silences(
            &night,
            "OB",
            "ob_cannot_connected",
            &none,
            at(23, 15)
        ));
        assert!(silences(
            &night,
            "OB",
            "ob_cannot_connected",
            &none,
            at(5, 59)
        ));
        assert!(!silences(
            &night,
            "OB",
            "ob_cannot_connected",
            &none,
            at(12, 0)
        ));
    }
}

//! seekdb's parameters as seekdb 1.4 reports them (`seekdb_parameters.tsv`, written by
//! `scripts/seekdb-parameters.py` from a running server): each name, its type and the range
//! its description states. A deploy checks its startup parameters against them, so a value
//! seekdb would refuse at start is refused before anything is installed.
//!
//! The check never refuses what seekdb takes: a bare number of a capacity or a time (whose
//! unit seekdb picks per parameter) is checked as a number only, and strings, modes and
//! moments only for being there.

const CATALOG: &str = include_str!("seekdb_parameters.tsv");

/// Why `value` cannot be `name`'s value: unknown name (`Err(None)`), or the rule it breaks.
pub fn check(name: &str, value: &str) -> Result<(), Option<String>> {
    let Some((kind, range)) = CATALOG.lines().find_map(|line| {
        let mut fields = line.split('\t');
        let found = fields.next()? == name;
        found.then(|| (fields.next().unwrap_or(""), fields.next().unwrap_or("")))
    }) else {
        return Err(None);
    };
    let Some(kind) = Kind::of(kind) else {
        return Ok(());
    };
    let Some(number) = kind.parse(value) else {
        return Err(Some(format!("{value:?} is not {}", kind.described())));
    };
    let Some(number) = number else {
        return Ok(());
    };
    match within(kind, range, number) {
        Some(false) => Err(Some(format!(
            "{value} is outside the range seekdb allows, {}",
            range.replace('|', " or ")
        ))),
        _ => Ok(()),
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Double,
    Capacity,
    Time,
}

impl Kind {
    fn of(name: &str) -> Option<Kind> {
        Some(match name {
            "BOOL" => Kind::Bool,
            "INT" => Kind::Int,
            "DOUBLE" => Kind::Double,
            "CAPACITY" => Kind::Capacity,
            "TIME" => Kind::Time,
            _ => return None,
        })
    }

    fn described(self) -> &'static str {
        match self {
            Kind::Bool => "a boolean (true or false)",
            Kind::Int => "a whole number",
            Kind::Double => "a number",
            Kind::Capacity => {
                "a capacity: a whole number and a unit, B, K, M, G, T or P (such as 2G)"
            }
            Kind::Time => "a time: a whole number and a unit, us, ms, s, m, h or d (such as 100ms)",
        }
    }

    /// `None` when `text` is not of this kind; `Some(None)` when it is but has no value to
    /// compare (a boolean, a bare capacity or time); else its value in bytes, microseconds
    /// or itself.
    fn parse(self, text: &str) -> Option<Option<f64>> {
        let text = text.trim();
        match self {
            Kind::Bool => matches!(
                text.to_ascii_lowercase().as_str(),
                "true" | "false" | "on" | "off" | "yes" | "no" | "1" | "0" | "t" | "f"
            )
            .then_some(None),
            Kind::Int => text.parse::<i64>().ok().map(|v| Some(v as f64)),
            Kind::Double => text.parse::<f64>().ok().filter(|v| v.is_finite()).map(Some),
            Kind::Capacity => with_unit(
                text,
                &[
                    ("pb", 1u64 << 50),
                    ("tb", 1 << 40),
                    ("gb", 1 << 30),
                    ("mb", 1 << 20),
                    ("kb", 1 << 10),
                    ("p", 1 << 50),
                    ("t", 1 << 40),
                    ("g", 1 << 30),
                    ("m", 1 << 20),
                    ("k", 1 << 10),
                    ("b", 1),
                ],
            ),
            Kind::Time => with_unit(
                text,
                &[
                    ("us", 1),
                    ("ms", 1_000),
                    ("s", 1_000_000),
                    ("m", 60_000_000),
                    ("h", 3_600_000_000),
                    ("d", 86_400_000_000),
                ],
            ),
        }
    }
}

/// A whole number with one of `units` (matched without case), in the unit's multiples; a
/// bare number is taken (seekdb picks its unit) but not valued, except 0.
fn with_unit(text: &str, units: &[(&str, u64)]) -> Option<Option<f64>> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().ok()?;
    if unit.is_empty() {
        return Some((number == 0).then_some(0.0));
    }
    let unit = unit.to_ascii_lowercase();
    let (_, scale) = units.iter().find(|(u, _)| *u == unit)?;
    Some(Some(number as f64 * *scale as f64))
}

/// Whether `value` is in `range` (`0|[1G,)`: exact values, then an interval whose empty
/// bound is open-ended); `None` when the range says nothing this can read.
fn within(kind: Kind, range: &str, value: f64) -> Option<bool> {
    let (exact, interval) = match range.rsplit_once('|') {
        Some((exact, interval)) => (exact, interval),
        None => ("", range),
    };
    let bound = |text: &str| -> Option<Option<f64>> {
        match text.trim() {
            "" => Some(None),
            t => kind.parse(t).map(|v| v.or((t == "0").then_some(0.0))),
        }
    };
    for v in exact.split('|').filter(|v| !v.is_empty()) {
        if bound(v)?? == value {
            return Some(true);
        }
    }
    let inner = interval.get(1..interval.len().checked_sub(1)?)?;
    let (low, high) = inner.split_once(',')?;
    let (low, high) = (bound(low)?, bound(high)?);
    let above = match low {
        None => true,
        Some(low) if interval.starts_with('[') => value >= low,
        Some(low) => value > low,
    };
    let below = match high {
        None => true,
        Some(high) if interval.ends_with(']') => value <= high,
        Some(high) => value < high,
    };
    Some(above && below)
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn values_are_checked_against_seekdbs_types_and_ranges() {
        assert_eq!(check("no_such_parameter", "1"), Err(None));
        for ok in [
            ("memory_budget", "1G"),
            ("memory_budget", "2048M"),
            ("memory_budget", "0"),
            ("memory_budget", "1gb"),
            ("log_disk_size", "2G"),
            ("datafile_size", "64M"),
            ("syslog_level", "WARN"),
            ("enable_record_trace_log", "True"),
            ("trace_log_slow_query_watermark", "100ms"),
            ("trace_log_slow_query_watermark", "100"),
            ("mysql_port", "2881"),
            ("cpu_count", "2"),
        ] {
            assert_eq!(check(ok.0, ok.1), Ok(()), "{ok:?}");
        }
        for (name, value, rule) in [
            ("memory_budget", "lots", "is not a capacity"),
            ("memory_budget", "1.5G", "is not a capacity"),
            (
                "memory_budget",
                "512M",
                "outside the range seekdb allows, 0 or [1G,)",
            ),
            ("enable_record_trace_log", "maybe", "is not a boolean"),
            ("cpu_count", "two", "is not a whole number"),
            ("trace_log_slow_query_watermark", "0ms", "outside the range"),
            (
                "mysql_port",
                "80",
                "outside the range seekdb allows, (1024,65536)",
            ),
        ] {
            let refused = check(name, value).unwrap_err().unwrap();
            assert!(refused.contains(rule), "{name}={value}: {refused}");
        }
    }
}

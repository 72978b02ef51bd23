//! The numbers a run prints, kept as JSON too, and their comparison with the last accepted
//! ones (`bench/baseline.json`), so that a change that costs speed is seen.
//!
//! A figure is a name, a value, its unit and which way is better. A run writes every figure
//! it measured to the file `--json` names; `ocp-bench compare BASELINE RUN` prints the
//! figures of both that moved by more than 20 %, and `--accept` writes the run's figures
//! into the baseline (keeping the baseline's others, for a run of one group).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use serde_json::{json, Value};

/// How far a figure may move before a comparison names it.
const TOLERANCE: f64 = 0.20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

impl Better {
    fn as_str(self) -> &'static str {
        match self {
            Better::Higher => "higher",
            Better::Lower => "lower",
        }
    }
}

static FIGURES: Mutex<BTreeMap<String, Value>> = Mutex::new(BTreeMap::new());

/// Records a figure of this run.
pub fn record(name: &str, value: f64, unit: &str, better: Better) {
    // Four significant digits are more than a benchmark's noise allows.
    let digits = 3 - value.abs().max(1e-9).log10().floor() as i32;
    let scale = 10f64.powi(digits.max(0));
    let value = (value * scale).round() / scale;
    FIGURES.lock().expect("figures").insert(
        name.to_string(),
        json!({"value": value, "unit": unit, "better": better.as_str()}),
    );
}

/// Writes this run's figures, with when and where it ran.
pub fn write(path: &Path) -> anyhow::Result<()> {
    let figures = FIGURES.lock().expect("figures").clone();
    let commit = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty", "--abbrev=7"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let document = json!({
        "time": chrono::Utc::now().to_rfc3339(),
        "commit": commit,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "figures": figures,
    });
    write_json(path, &document)
}

/// Writes a document, making its directory if need be.
fn write_json(path: &Path, document: &Value) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(document)? + "\n")?;
    Ok(())
}

fn figures_of(path: &Path) -> anyhow::Result<(Value, BTreeMap<String, Value>)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let document: Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not a benchmark's JSON: {e}", path.display()))?;
    let figures = document
        .get("figures")
        .and_then(Value::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    Ok((document, figures))
}

/// One figure's move from the baseline to the run: the relative change, and whether it is
/// for the worse.
fn moved(base: &Value, run: &Value) -> Option<(f64, bool)> {
    let (b, r) = (base.get("value")?.as_f64()?, run.get("value")?.as_f64()?);
    if b == 0.0 {
        return None;
    }
    let change = (r - b) / b;
    let worse = match run.get("better").and_then(Value::as_str) {
        Some("lower") => change > 0.0,
        _ => change < 0.0,
    };
    Some((change, worse))
}

/// Prints what moved by more than the tolerance; answers how many figures got worse by more.
/// With `accept`, the run's figures replace the baseline's.
#[allow(clippy::print_stdout)]
pub fn compare(baseline: &Path, run: &Path, accept: bool) -> anyhow::Result<usize> {
    let (_, base) = if baseline.exists() {
        figures_of(baseline)?
    } else {
        (Value::Null, BTreeMap::new())
    };
    let (document, ran) = figures_of(run)?;
    let mut worse = 0;
    let mut shown = 0;
    for (name, figure) in &ran {
        let unit = figure.get("unit").and_then(Value::as_str).unwrap_or("");
        let Some(before) = base.get(name) else {
            println!("new      {name}: {} {unit}", figure["value"]);
            continue;
        };
        let Some((change, is_worse)) = moved(before, figure) else {
            continue;
        };
        if change.abs() <= TOLERANCE {
            continue;
        }
        shown += 1;
        worse += usize::from(is_worse);
        println!(
            "{} {name}: {} -> {} {unit} ({:+.0} %)",
            if is_worse { "WORSE   " } else { "better  " },
            before["value"],
            figure["value"],
            change * 100.0
        );
    }
    let missing = base.keys().filter(|k| !ran.contains_key(*k)).count();
    println!(
        "{} figures compared, {shown} moved by more than {:.0} % ({worse} for the worse); \
         {missing} of the baseline's not measured in this run",
        ran.keys().filter(|k| base.contains_key(*k)).count(),
        TOLERANCE * 100.0
    );
    if accept {
        let mut merged = base;
        merged.extend(ran);
        let mut out = document;
        out["figures"] = json!(merged);
        write_json(baseline, &out)?;
        println!("accepted into {}", baseline.display());
    }
    Ok(worse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_is_worse_against_the_figures_direction() {
        let fig = |v: f64, better: &str| json!({"value": v, "unit": "x", "better": better});
        assert_eq!(
            moved(&fig(100.0, "higher"), &fig(70.0, "higher")),
            Some((-0.3, true))
        );
        assert_eq!(
            moved(&fig(10.0, "lower"), &fig(5.0, "lower")),
            Some((-0.5, false))
        );
        assert_eq!(moved(&fig(0.0, "lower"), &fig(5.0, "lower")), None);
    }
}

//! `ocpctl metric`: the metric catalog, and metrics over a time range as a table of each
//! group's minimum, mean, maximum and last value beside a small text chart.

use std::collections::BTreeMap;

use ocp_api::monitor::MetricClass;

use super::*;

#[derive(Subcommand)]
pub enum MetricCmd {
    /// Lists the metrics that can be queried, by scope and group.
    Groups {
        /// HOST (the hosts' metrics) or CLUSTER (the database servers'); both by default.
        #[arg(long)]
        scope: Option<String>,
    },
    /// Shows metrics over a time range, for example `ocpctl metric query host_cpu_percent
    /// --last 1h --group-by svr_ip`.
    Query {
        /// The metrics, comma-separated (see `metric groups`).
        metrics: String,
        /// How far back from now: 90s, 30m, 6h, 7d.
        #[arg(long, default_value = "1h", conflicts_with = "from")]
        last: String,
        /// The start instead, as ISO-8601 with its offset (2026-12-03T10:00:00+08:00) or
        /// Unix seconds.
        #[arg(long, requires = "to")]
        from: Option<String>,
        /// The end, with --from.
        #[arg(long, requires = "from")]
        to: Option<String>,
        /// Only series with this label, NAME=VALUE (repeatable), such as svr_ip=10.0.0.5.
        #[arg(long = "label")]
        labels: Vec<String>,
        /// One row per value of these labels, comma-separated, such as svr_ip,mount.
        #[arg(long)]
        group_by: Option<String>,
        /// Seconds per point (raised so that a range has at most about 1440).
        #[arg(long)]
        interval: Option<u32>,
    },
}

pub async fn metric(ctx: &mut Ctx, cmd: MetricCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    match cmd {
        MetricCmd::Groups { scope } => {
            let mut path = "/api/v2/monitor/metricGroups?page=1&size=100".to_string();
            if let Some(scope) = &scope {
                path.push_str(&format!("&scope={}", encoded(scope)));
            }
            let classes: PageData<MetricClass> = client.get(&path).await?;
            let rows: Vec<Value> = classes
                .contents
                .iter()
                .flat_map(|class| {
                    class.metric_groups.iter().flat_map(move |group| {
                        group.metrics.iter().map(move |m| {
                            serde_json::json!({"scope": class.scope, "group": group.name,
                                "metric": m.key, "unit": m.unit, "description": m.name})
                        })
                    })
                })
                .collect();
            output::list(
                format,
                &rows,
                &["scope", "group", "metric", "unit", "description"],
            )
        }
        MetricCmd::Query {
            metrics,
            last,
            from,
            to,
            labels,
            group_by,
            interval,
        } => {
            let (start, end) = time_range(&last, &from, &to)?;
            let labels: Vec<String> = labels
                .iter()
                .map(|l| {
                    l.split_once('=')
                        .map(|(k, v)| format!("{k}:{v}"))
                        .ok_or_else(|| CliError::usage(format!("--label {l}: give NAME=VALUE")))
                })
                .collect::<Result<_>>()?;
            let mut path = format!(
                "/api/v2/monitor/metricsWithLabel?startTime={}&endTime={}&metrics={}",
                encoded(&start),
                encoded(&end),
                encoded(&metrics)
            );
            if let Some(g) = &group_by {
                path.push_str(&format!("&groupBy={}", encoded(g)));
            }
            if !labels.is_empty() {
                path.push_str(&format!("&labels={}", encoded(&labels.join(","))));
            }
            if let Some(i) = interval {
                path.push_str(&format!("&interval={i}"));
            }
            let groups: PageData<Value> = client.get(&path).await?;
            if output::structured(format, &groups.contents)? {
                return Ok(());
            }
            let group_by: Vec<String> = group_by
                .iter()
                .flat_map(|g| g.split(','))
                .map(|g| g.trim().to_string())
                .filter(|g| !g.is_empty())
                .collect();
            print_summary(&groups.contents, &group_by, &metrics);
            Ok(())
        }
    }
}

/// One row per group and metric: its labels, min, mean, max, last and a chart.
fn print_summary(groups: &[Value], group_by: &[String], metrics: &str) {
    let mut headers: Vec<&str> = group_by.iter().map(String::as_str).collect();
    headers.extend(["metric", "min", "mean", "max", "last", "chart"]);
    let mut rows = Vec::new();
    for group in groups {
        let points = group["data"].as_array().cloned().unwrap_or_default();
        for metric in metrics.split(',').map(str::trim).filter(|m| !m.is_empty()) {
            let series: BTreeMap<i64, f64> = points
                .iter()
                .filter_map(|p| Some((p["timestamp"].as_i64()?, p[metric].as_f64()?)))
                .collect();
            let values: Vec<f64> = series.values().copied().collect();
            let mut row: Vec<String> = group_by
                .iter()
                .map(|label| group[label].as_str().unwrap_or("").to_string())
                .collect();
            row.push(metric.to_string());
            if values.is_empty() {
                row.extend(["-", "-", "-", "-", "(no points)"].map(String::from));
            } else {
                let min = values.iter().copied().fold(f64::INFINITY, f64::min);
                let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let mean = values.iter().sum::<f64>() / values.len() as f64;
                row.extend([min, mean, max, values[values.len() - 1]].map(shown));
                row.push(chart(&values, 40));
            }
            rows.push(row);
        }
    }
    output::table(&headers, &rows);
}

fn shown(value: f64) -> String {
    if value.abs() >= 1e6 {
        format!("{value:.3e}")
    } else {
        format!("{:.2}", value)
    }
}

/// The values as `width` block characters, each the mean of its share of the values.
fn chart(values: &[f64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let width = width.min(values.len()).max(1);
    let means: Vec<f64> = (0..width)
        .map(|i| {
            let from = i * values.len() / width;
            let to = ((i + 1) * values.len() / width).max(from + 1);
            values[from..to].iter().sum::<f64>() / (to - from) as f64
        })
        .collect();
    let min = means.iter().copied().fold(f64::INFINITY, f64::min);
    let max = means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    means
        .iter()
        .map(|v| match max > min {
            true => BARS[(((v - min) / (max - min)) * 7.0).round() as usize],
            false => BARS[0],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranges_and_charts_read_as_a_person_writes_them() {
        assert_eq!(super::duration_seconds("30m").unwrap(), 1800);
        assert_eq!(super::duration_seconds("7d").unwrap(), 604_800);
        assert!(super::duration_seconds("1 hour").is_err());
        assert_eq!(super::chart(&[0.0, 1.0, 2.0, 3.0], 4), "▁▃▆█");
        assert_eq!(super::chart(&[5.0; 3], 40), "▁▁▁");
    }
}

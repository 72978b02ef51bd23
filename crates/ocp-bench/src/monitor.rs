//! Monitoring storage: points ingested per second into SQLite and PostgreSQL and packed
//! into chunks and tiers, the metadb's bytes per point, and the latency of range queries of
//! 100 series (a day at 60 s, a week at 300 s) through the HTTP API of a real server.

use std::time::{Duration, Instant};

use ocp_store::{NewSample, Store, StoreConfig};
use ocp_testkit::{ServerOptions, ServerProcess};

use crate::{percentile, report};

const HOSTS: usize = 20;
const METRICS: usize = 5;
/// Points an agent sends at most in one batch (a page of its ring).
const BATCH: usize = 8000;

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("metadb"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Host metrics as an agent reports them, one generator a series: a CPU percentage and a
/// load average (two decimals, wandering), memory in use (bytes, in pages), network bytes a
/// second (integers, noisy) and a disk's fill (two decimals, creeping up).
pub struct HostSeries {
    kind: usize,
    state: f64,
    seed: u64,
}

impl HostSeries {
    pub fn new(kind: usize, series: usize) -> Self {
        let state = [30.0, 8.0e9, 1.5, 0.0, 40.0][kind % 5] + series as f64;
        Self {
            kind: kind % 5,
            state,
            seed: 0x9E37_79B9_7F4A_7C15 ^ (series as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9),
        }
    }

    fn unit(&mut self) -> f64 {
        self.seed = self
            .seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.seed >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn next_value(&mut self) -> f64 {
        let r = self.unit() - 0.5;
        let round2 = |v: f64| (v * 100.0).round() / 100.0;
        match self.kind {
            0 => {
                self.state = (self.state + r * 6.0).clamp(0.0, 100.0);
                round2(self.state)
            }
            1 => {
                self.state = (self.state + (r * 512.0).round() * 4096.0).max(0.0);
                self.state
            }
            2 => {
                self.state = (self.state + r * 0.2).max(0.0);
                round2(self.state)
            }
            3 => (self.unit() * 2.0e6).round(),
            _ => {
                self.state = (self.state + (r + 0.5) * 0.002).min(100.0);
                round2(self.state)
            }
        }
    }
}

/// `steps` points at 10 s of `HOSTS * METRICS` series ending now, in the store as the
/// ingest route writes them; answers (points, seconds taken).
async fn load(store: &Store, start: i64, steps: i64) -> anyhow::Result<(usize, f64)> {
    let labels: Vec<String> = (0..HOSTS)
        .map(|h| format!(r#"{{"host_id":"h{h}","svr_ip":"10.0.0.{h}"}}"#))
        .collect();
    let mut series: Vec<HostSeries> = (0..HOSTS * METRICS)
        .map(|i| HostSeries::new(i % METRICS, i))
        .collect();
    let mut batch = Vec::with_capacity(BATCH);
    let mut total = 0usize;
    let started = Instant::now();
    for step in 0..steps {
        for (h, label) in labels.iter().enumerate() {
            for m in 0..METRICS {
                batch.push(NewSample {
                    metric: format!("bench_metric_{m}"),
                    labels: label.clone(),
                    ts: start + step * 10,
                    value: series[h * METRICS + m].next_value(),
                });
            }
        }
        if batch.len() >= BATCH {
            total += batch.len();
            store.ingest_samples(&batch).await?;
            batch.clear();
        }
    }
    total += batch.len();
    store.ingest_samples(&batch).await?;
    Ok((total, started.elapsed().as_secs_f64()))
}

fn iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%%2B00:00")
        .to_string()
}

/// The p50 of five `metricsWithLabel` queries of every series over `start..end`.
async fn query_p50(
    admin: &ocp_testkit::Api,
    start: i64,
    end: i64,
    interval: i64,
) -> anyhow::Result<Duration> {
    let metrics: Vec<String> = (0..METRICS).map(|m| format!("bench_metric_{m}")).collect();
    let path = format!(
        "/api/v2/monitor/metricsWithLabel?startTime={}&endTime={}&metrics={}&groupBy=host_id&interval={interval}",
        iso(start),
        iso(end),
        metrics.join(",")
    );
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let reply = admin.get(&path).await.ok();
        times.push(t.elapsed());
        let groups = reply.data()["contents"].as_array().map_or(0, Vec::len);
        anyhow::ensure!(groups == HOSTS, "{groups} groups answered");
    }
    times.sort();
    Ok(percentile(&times, 0.5))
}

pub async fn storage(quick: bool) -> anyhow::Result<()> {
    let days: i64 = if quick { 1 } else { 7 };
    let steps = days * 8640;
    for backend in ["sqlite", "postgres"] {
        let temp = ocp_testkit::temp_dir()?;
        let data = temp.path().join("data");
        std::fs::create_dir_all(&data)?;
        let mut options = ServerOptions::default();
        options.extra_args.extend(["--log".into(), "warn".into()]);
        let pg;
        let config = if backend == "sqlite" {
            StoreConfig::sqlite_file(&data.join("metadb.sqlite"))
        } else {
            pg = ocp_testkit::Postgres::start()?;
            options.metadb = Some(pg.url());
            StoreConfig::postgres(&pg.url())
        };
        // The server makes the schema; the points then go straight to the store, as the
        // ingest route writes them, and are packed as its job packs them.
        let server = ServerProcess::start_in(&data, options)?;
        let store = Store::open(&config).await?;
        let end = chrono::Utc::now().timestamp();
        let start = end - steps * 10;
        let (total, ingest_secs) = load(&store, start, steps).await?;
        let horizon = ocp_store::pack_horizon(end, 60);
        let packing = Instant::now();
        store.pack_metrics(horizon).await?;
        let pack_secs = packing.elapsed().as_secs_f64();
        let per_second = total as f64 / ingest_secs;
        let (packed, head) = store.metric_storage_bytes().await?;
        let in_head = store.metric_head_points().await? as usize;
        // Packed: the chunks, tiers and series over the points they hold; the head (the last
        // unfinished hour, some 40 bytes a point) apart.
        let bytes = packed as f64 / (total - in_head).max(1) as f64;
        crate::record(
            &format!("monitor.ingest.{backend}"),
            per_second,
            "points/s",
            crate::Better::Higher,
        );
        crate::record(
            &format!("monitor.ingest_and_pack.{backend}"),
            total as f64 / (ingest_secs + pack_secs),
            "points/s",
            crate::Better::Higher,
        );
        crate::record(
            &format!("monitor.bytes_per_point.{backend}"),
            bytes,
            "B",
            crate::Better::Lower,
        );
        report(format!(
            "metrics into {backend}: {total} points ({} series x {steps} at 10 s) at {per_second:.0} points/s, \
             packed in {pack_secs:.1} s ({:.0} points/s in all), {bytes:.2} bytes per packed point in the metadb \
             (the head: {in_head} points in {:.1} MB){}",
            HOSTS * METRICS,
            total as f64 / (ingest_secs + pack_secs),
            head as f64 / 1e6,
            if backend == "sqlite" {
                format!(" ({} MB of files)", dir_bytes(&data) / 1_000_000)
            } else {
                String::new()
            }
        ));

        let admin = server.admin();
        let mut ranges = vec![("day", end - 86_400, 60)];
        if !quick {
            // A week at 300 s is more than 1440 points: the API answers it at 600 s.
            ranges.push(("week", start, 600));
        }
        let mut measured = Vec::new();
        let names: Vec<String> = (0..METRICS).map(|m| format!("bench_metric_{m}")).collect();
        let ids: Vec<i64> = store
            .metric_series(&names)
            .await?
            .iter()
            .map(|s| s.id)
            .collect();
        for (name, from, interval) in ranges {
            let mut reads = Vec::new();
            for _ in 0..5 {
                let t = Instant::now();
                let means = store.metric_means(&ids, from, end, interval).await?;
                reads.push(t.elapsed());
                anyhow::ensure!(!means.is_empty());
            }
            reads.sort();
            let p50 = query_p50(&admin, from, end, interval).await?;
            report(format!(
                "  of which the store's read of the means: p50 {:.1} ms",
                percentile(&reads, 0.5).as_secs_f64() * 1e3
            ));
            measured.push((name, from, interval, p50));
            crate::record(
                &format!("monitor.query_{name}_100_series.{backend}.p50"),
                p50.as_secs_f64() * 1e3,
                "ms",
                crate::Better::Lower,
            );
            report(format!(
                "metrics query on {backend}: {} series over a {name} at {interval} s, grouped by host: p50 {:.1} ms",
                HOSTS * METRICS,
                p50.as_secs_f64() * 1e3,
            ));
        }
        drop(server);
        tokio::time::sleep(Duration::from_millis(100)).await;
        if backend == "sqlite" {
            side_by_side(start, end, steps, &measured, bytes).await?;
        }
    }
    Ok(())
}

/// The same points as `load` in OpenMetrics text, a family after another, for promtool.
fn openmetrics(path: &std::path::Path, start: i64, steps: i64) -> anyhow::Result<usize> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut total = 0;
    for m in 0..METRICS {
        writeln!(out, "# TYPE bench_metric_{m} gauge")?;
        for h in 0..HOSTS {
            let mut series = HostSeries::new(m, h * METRICS + m);
            for step in 0..steps {
                writeln!(
                    out,
                    "bench_metric_{m}{{host_id=\"h{h}\",svr_ip=\"10.0.0.{h}\"}} {} {}",
                    series.next_value(),
                    start + step * 10
                )?;
                total += 1;
            }
        }
    }
    writeln!(out, "# EOF")?;
    out.flush()?;
    Ok(total)
}

fn tree_bytes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        match entry.metadata() {
            Ok(m) if m.is_dir() => total += tree_bytes(&entry.path()),
            Ok(m) => total += m.len(),
            Err(_) => {}
        }
    }
    total
}

/// The p50 of five rounds of the queries `metricsWithLabel` makes, sent to Prometheus
/// itself: per metric, the mean per host and interval, all at once.
async fn prometheus_p50(
    url: &str,
    start: i64,
    end: i64,
    interval: i64,
) -> anyhow::Result<Duration> {
    let http = reqwest::Client::new();
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let asks = (0..METRICS).map(|m| {
            let query = format!("avg by (host_id) (avg_over_time(bench_metric_{m}[{interval}s]))");
            let http = http.clone();
            async move {
                let reply: serde_json::Value = http
                    .post(format!("{url}/api/v1/query_range"))
                    .form(&[
                        ("query", query),
                        ("start", start.to_string()),
                        ("end", end.to_string()),
                        ("step", interval.to_string()),
                    ])
                    .send()
                    .await?
                    .json()
                    .await?;
                anyhow::Ok(reply["data"]["result"].as_array().map_or(0, Vec::len))
            }
        });
        let answered = futures::future::try_join_all(asks).await?;
        times.push(t.elapsed());
        anyhow::ensure!(
            answered.iter().all(|n| *n == HOSTS),
            "Prometheus answered {answered:?} hosts"
        );
    }
    times.sort();
    Ok(percentile(&times, 0.5))
}

/// Side by side: the same points in Prometheus (blocks made by promtool), the same range
/// queries sent to it directly and through our API with `--metrics-backend prometheus`;
/// the ratios to the embedded store's figures of this run.
async fn side_by_side(
    start: i64,
    end: i64,
    steps: i64,
    embedded: &[(&'static str, i64, i64, Duration)],
    embedded_bytes: f64,
) -> anyhow::Result<()> {
    let promtool = ocp_testkit::prometheus_binary("promtool")?;
    let temp = ocp_testkit::temp_dir()?;
    let text = temp.path().join("points.om");
    let total = openmetrics(&text, start, steps)?;
    let blocks = temp.path().join("tsdb");
    let made = std::process::Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
        .arg(&text)
        .arg(&blocks)
        .output()?;
    anyhow::ensure!(
        made.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    std::fs::remove_file(&text)?;
    let bytes = tree_bytes(&blocks) as f64 / total as f64;
    let prom = ocp_testkit::PrometheusServer::start_with_data(Some(&blocks))?;
    let mut options = ServerOptions::default();
    options.extra_args.extend([
        "--log".into(),
        "warn".into(),
        "--metrics-backend".into(),
        "prometheus".into(),
        "--prometheus-url".into(),
        prom.url(),
    ]);
    let server = ServerProcess::start(options)?;
    let admin = server.admin();
    crate::record(
        "monitor.prometheus.bytes_per_point",
        bytes,
        "B",
        crate::Better::Lower,
    );
    report(format!(
        "prometheus: the same {total} points in promtool's blocks: {bytes:.2} bytes per point \
         (embedded on SQLite {embedded_bytes:.2}: {:.2}x)",
        embedded_bytes / bytes
    ));
    for &(name, from, interval, ours) in embedded {
        let alone = prometheus_p50(&prom.url(), from, end, interval).await?;
        let through = query_p50(&admin, from, end, interval).await?;
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        crate::record(
            &format!("monitor.prometheus.query_{name}.p50"),
            ms(alone),
            "ms",
            crate::Better::Lower,
        );
        crate::record(
            &format!("monitor.prometheus_backend.query_{name}.p50"),
            ms(through),
            "ms",
            crate::Better::Lower,
        );
        report(format!(
            "query of a {name} at {interval} s: Prometheus alone {:.1} ms, our API over it {:.1} ms \
             ({:.2}x), embedded on SQLite {:.1} ms ({:.2}x Prometheus)",
            ms(alone),
            ms(through),
            ms(through) / ms(alone),
            ms(ours),
            ms(ours) / ms(alone),
        ));
    }
    Ok(())
}

/// SQL statistics: `statements` distinct statements sampled every 15 s for `hours`, stored
/// as the ingest route stores them (sums per minute and per hour in SQLite), then the read
/// behind a TopSQL answer over the whole range: the sums per statement and their texts.
pub async fn top_sql(hours: i64, statements: usize) -> anyhow::Result<()> {
    use ocp_api::sql::{SqlCounters, SqlStatDelta};
    use ocp_store::{SqlStatFilter, SqlStatGroup};
    let temp = ocp_testkit::temp_dir()?;
    let store = Store::open(&StoreConfig::sqlite_file(
        &temp.path().join("metadb.sqlite"),
    ))
    .await?;
    let end = chrono::Utc::now().timestamp();
    let start = end - hours * 3600;
    let mut stored = 0usize;
    let started = Instant::now();
    for hour in 0..hours {
        let mut deltas = Vec::with_capacity(240 * statements);
        for sample in 0..240 {
            let ts = start + hour * 3600 + sample * 15;
            for s in 0..statements {
                deltas.push(SqlStatDelta {
                    ob_server_id: 1,
                    timestamp: ts,
                    sql_id: format!("{s:032X}"),
                    plan_id: s as i64 + 1,
                    plan_hash: (s as u64 * 7919).to_string(),
                    db_name: "shop".into(),
                    user_name: "app".into(),
                    inner: false,
                    plan_type: 1,
                    table_scan: s % 10 == 0,
                    sql_text: (sample == 0).then(|| format!("SELECT c{s} FROM t WHERE id = ?")),
                    counters: SqlCounters {
                        executions: 1 + (s % 20) as i64,
                        elapsed_us: 100 + s as i64,
                        cpu_us: 80,
                        rows_processed: 1,
                        ..Default::default()
                    },
                    max_elapsed_us: None,
                });
            }
        }
        let rows: Vec<(i64, &SqlStatDelta)> = deltas.iter().map(|d| (1, d)).collect();
        store.ingest_sql_stats(&rows).await?;
        stored += deltas.len();
    }
    let took = started.elapsed();
    report(format!(
        "sql statistics: {stored} statement deltas ({statements} statements every 15 s for \
         {hours} h) stored in {:.1} s ({:.0}/s)",
        took.as_secs_f64(),
        stored as f64 / took.as_secs_f64()
    ));
    let filter = SqlStatFilter {
        cluster_id: 1,
        start,
        end,
        minutes_from: end - 25 * 3600,
        server_id: None,
        sql_id: None,
        plan: None,
        db_name: None,
        include_inner: false,
    };
    let mut times = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let sums = store
            .sql_stat_sums(&filter, SqlStatGroup::Statement)
            .await?;
        let texts = store.sql_texts(1, None).await?;
        anyhow::ensure!(sums.len() == statements && texts.len() == statements);
        times.push(t.elapsed());
    }
    times.sort();
    crate::record(
        "sql.top_sql_24h_1000_statements.p50",
        percentile(&times, 0.5).as_secs_f64() * 1000.0,
        "ms",
        crate::Better::Lower,
    );
    report(format!(
        "top sql over {hours} h of {statements} statements: p50 {:.1} ms, max {:.1} ms; \
         metadb {:.0} MB",
        percentile(&times, 0.5).as_secs_f64() * 1000.0,
        times.last().unwrap().as_secs_f64() * 1000.0,
        dir_bytes(temp.path()) as f64 / 1e6
    ));
    Ok(())
}

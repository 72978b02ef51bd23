//! Monitoring storage: points ingested per second into SQLite and PostgreSQL, the metadb's
//! bytes per point (SQLite), and the latency of a one-day query of 100 series stored at 10 s
//! resolution through the HTTP API of a real server.

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

pub async fn storage(quick: bool) -> anyhow::Result<()> {
    let steps: i64 = if quick { 1440 } else { 8640 };
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
        // ingest route writes them.
        let server = ServerProcess::start_in(&data, options)?;
        let store = Store::open(&config).await?;
        let end = chrono::Utc::now().timestamp();
        let start = end - steps * 10;
        let labels: Vec<String> = (0..HOSTS)
            .map(|h| format!(r#"{{"host_id":"h{h}","svr_ip":"10.0.0.{h}"}}"#))
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
                        value: (step as f64 / 7.0 + h as f64 + m as f64).sin(),
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
        let per_second = total as f64 / started.elapsed().as_secs_f64();
        let size = if backend == "sqlite" {
            format!(
                ", {:.1} bytes per point on disk",
                dir_bytes(&data) as f64 / total as f64
            )
        } else {
            String::new()
        };
        crate::record(
            &format!("monitor.ingest.{backend}"),
            per_second,
            "points/s",
            crate::Better::Higher,
        );
        report(format!(
            "metrics into {backend}: {total} points ({} series x {steps} at 10 s) at {per_second:.0} points/s{size}",
            HOSTS * METRICS
        ));

        let admin = server.admin();
        let iso = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0)
                .unwrap_or_default()
                .format("%Y-%m-%dT%H:%M:%S%%2B00:00")
                .to_string()
        };
        let metrics: Vec<String> = (0..METRICS).map(|m| format!("bench_metric_{m}")).collect();
        let path = format!(
            "/api/v2/monitor/metricsWithLabel?startTime={}&endTime={}&metrics={}&groupBy=host_id&interval=10",
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
        crate::record(
            &format!("monitor.query_day_100_series.{backend}.p50"),
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            "ms",
            crate::Better::Lower,
        );
        report(format!(
            "metrics query on {backend}: {} series over {} h, grouped by host: p50 {:.0} ms, max {:.0} ms",
            HOSTS * METRICS,
            steps * 10 / 3600,
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3,
        ));
        drop(server);
        tokio::time::sleep(Duration::from_millis(100)).await;
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

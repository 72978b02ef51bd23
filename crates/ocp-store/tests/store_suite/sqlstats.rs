//! SQL statistics: a sample's deltas added once to the minute and hour sums, read back
//! across both, and expired.

use ocp_api::sql::{SqlCounters, SqlStatDelta};
use ocp_store::{SqlStatFilter, SqlStatGroup, Store};

suite!(sql_statistics_add_up_once_per_sample,);

fn delta(ts: i64, sql_id: &str, plan_id: i64, executions: i64, elapsed_us: i64) -> SqlStatDelta {
    SqlStatDelta {
        ob_server_id: 7,
        timestamp: ts,
        sql_id: sql_id.into(),
        plan_id,
        plan_hash: "12344705374688757106".into(),
        db_name: "shop".into(),
        user_name: "app".into(),
        inner: false,
        plan_type: 1,
        table_scan: plan_id == 2,
        sql_text: (ts % 60 == 0).then(|| format!("select {sql_id}")),
        counters: SqlCounters {
            executions,
            elapsed_us,
            ..Default::default()
        },
        max_elapsed_us: Some(elapsed_us / executions.max(1) + 10),
    }
}

async fn sql_statistics_add_up_once_per_sample(store: Store) {
    // 10:00:00 .. 12:00:45 every 15 s; statement A twice an interval, B once.
    let t0 = 36_000;
    let mut deltas = Vec::new();
    for i in 0..((2 * 3600) / 15 + 4) {
        let ts = t0 + 15 * i;
        deltas.push(delta(ts, "AA", 1, 2, 200));
        deltas.push(delta(ts, "BB", 2, 1, 5_000));
    }
    let rows: Vec<(i64, &SqlStatDelta)> = deltas.iter().map(|d| (1, d)).collect();
    assert_eq!(
        store.ingest_sql_stats(&rows).await.unwrap(),
        deltas.len() as u64
    );
    // A resent batch adds nothing.
    assert_eq!(store.ingest_sql_stats(&rows[..40]).await.unwrap(), 0);
    let filter = SqlStatFilter {
        cluster_id: 1,
        start: t0,
        end: t0 + 2 * 3600 + 59,
        minutes_from: 0,
        server_id: Some(7),
        sql_id: None,
        plan: None,
        db_name: None,
        include_inner: false,
    };
    let samples = (2 * 3600) / 15 + 4;
    let sums = store
        .sql_stat_sums(&filter, SqlStatGroup::Statement)
        .await
        .unwrap();
    let a = sums.iter().find(|s| s.sql_id == "AA").unwrap();
    assert_eq!(a.counters.executions, 2 * samples);
    assert_eq!(a.counters.elapsed_us, 200 * samples);
    assert_eq!(a.max_elapsed_us, Some(110));
    assert_eq!(a.by_plan_type, [2 * samples, 0, 0]);
    let b = sums.iter().find(|s| s.sql_id == "BB").unwrap();
    assert_eq!(b.table_scan_executions, samples);
    // The same from hours alone, when minutes are gone.
    let old = SqlStatFilter {
        minutes_from: t0 + 10 * 3600,
        ..filter.clone()
    };
    let from_hours = store
        .sql_stat_sums(&old, SqlStatGroup::Statement)
        .await
        .unwrap();
    assert_eq!(
        from_hours
            .iter()
            .find(|s| s.sql_id == "AA")
            .unwrap()
            .counters
            .executions,
        2 * samples
    );
    // 10:27 to 11:43:59, read from minutes, ten minutes and minutes again: 77 minutes.
    let edges = store
        .sql_stat_sums(
            &SqlStatFilter {
                start: t0 + 27 * 60,
                end: t0 + 3600 + 43 * 60 + 59,
                ..filter.clone()
            },
            SqlStatGroup::Statement,
        )
        .await
        .unwrap();
    let a = edges.iter().find(|s| s.sql_id == "AA").unwrap();
    assert_eq!(a.counters.executions, 2 * 4 * 77);
    // A trend of 10-minute points over the first hour: 40 executions of A each.
    let trend = store
        .sql_stat_sums(
            &SqlStatFilter {
                sql_id: Some("AA".into()),
                end: t0 + 3599,
                ..filter.clone()
            },
            SqlStatGroup::Bucket(600),
        )
        .await
        .unwrap();
    assert_eq!(trend.len(), 6);
    assert!(
        trend.iter().all(|p| p.counters.executions == 80),
        "{trend:?}"
    );
    assert_eq!(trend[1].bucket - trend[0].bucket, 600);
    // Per plan: B's plan.
    let plans = store
        .sql_stat_sums(
            &SqlStatFilter {
                sql_id: Some("BB".into()),
                ..filter.clone()
            },
            SqlStatGroup::Plan,
        )
        .await
        .unwrap();
    assert_eq!(plans.len(), 1);
    assert_eq!((plans[0].plan_id, plans[0].table_scan), (2, true));
    let texts = store.sql_texts(1, None).await.unwrap();
    assert_eq!(texts["AA"], "select AA");
    // Expiry: minutes and samples before 11:00, everything before 10:30.
    let removed = store.expire_sql_stats(t0 + 3600, t0 + 1800).await.unwrap();
    assert!(removed > 0);
    let left = store
        .sql_stat_sums(&filter, SqlStatGroup::Statement)
        .await
        .unwrap();
    let a = left.iter().find(|s| s.sql_id == "AA").unwrap();
    assert!(a.counters.executions < 2 * samples, "{a:?}");
}

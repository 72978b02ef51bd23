//! Metric points: stored once in the head, packed into chunks and tiers, read back from
//! whichever serves a step, expired past the raw window and retention.

use ocp_store::{NewSample, Store};

suite!(
    metrics_are_stored_once_packed_and_expired,
    a_head_larger_than_a_transaction_is_packed_in_several,
);

/// Means of `series` per `step` over `start..=end`, as (bucket, mean).
async fn means(store: &Store, series: i64, start: i64, end: i64, step: i64) -> Vec<(i64, f64)> {
    store
        .metric_means(&[series], start, end, step)
        .await
        .unwrap()
        .iter()
        .map(|m| (m.1, m.2))
        .collect()
}

/// A point resent is stored once, in the head or once packed; a step that a tier serves
/// reads the same means before and after packing; raw points give way to minute means past
/// the raw window, and everything goes at retention.
async fn metrics_are_stored_once_packed_and_expired(store: Store) {
    let t0 = 200 * 21_600; // a multiple of the minute tier's block
    let point = |ts: i64, value: f64| NewSample {
        metric: "host_load1".into(),
        labels: r#"{"host_id":"1"}"#.into(),
        ts,
        value,
    };
    let mut raw: Vec<NewSample> = (0..60).map(|i| point(t0 + 10 * i, i as f64)).collect();
    raw.push(point(t0 - 10_000, 99.0));
    raw.push(point(t0 + 3_700, 7.0));
    assert_eq!(store.ingest_samples(&raw).await.unwrap(), 62);
    assert_eq!(store.ingest_samples(&raw[..5]).await.unwrap(), 0);
    let series = store
        .metric_series(&["host_load1".to_string()])
        .await
        .unwrap();
    assert_eq!(series.len(), 1);
    let id = series[0].id;
    let five_minutes = vec![(t0, 14.5), (t0 + 300, 44.5)];
    assert_eq!(means(&store, id, t0, t0 + 610, 300).await, five_minutes);

    // The hour from t0 and the old point are packed; the next hour stays in the head.
    assert_eq!(store.pack_metrics(t0 + 3_600).await.unwrap(), 61);
    assert_eq!(store.pack_metrics(t0 + 3_600).await.unwrap(), 0);
    assert_eq!(means(&store, id, t0, t0 + 610, 300).await, five_minutes);
    assert_eq!(
        means(&store, id, t0, t0 + 119, 60).await,
        vec![(t0, 2.5), (t0 + 60, 8.5)]
    );
    assert_eq!(
        means(&store, id, t0, t0 + 20, 1).await,
        vec![(t0, 0.0), (t0 + 10, 1.0), (t0 + 20, 2.0)]
    );
    assert_eq!(
        means(&store, id, t0 - 10_800, t0 + 3_700, 3_600).await,
        vec![(t0 - 10_800, 99.0), (t0, 29.5), (t0 + 3_600, 7.0)]
    );

    // Resent after packing: new to the head, dropped by the pack, counted once.
    assert_eq!(store.ingest_samples(&raw[..5]).await.unwrap(), 5);
    assert_eq!(store.pack_metrics(t0 + 3_600).await.unwrap(), 0);
    assert_eq!(means(&store, id, t0, t0 + 610, 300).await, five_minutes);
    // A late point of a new second joins its packed chunk and buckets.
    store.ingest_samples(&[point(t0 + 5, 100.0)]).await.unwrap();
    assert_eq!(store.pack_metrics(t0 + 3_600).await.unwrap(), 1);
    let minute = (0.0 + 1.0 + 2.0 + 3.0 + 4.0 + 5.0 + 100.0) / 7.0;
    assert_eq!(means(&store, id, t0, t0 + 59, 60).await, vec![(t0, minute)]);
    assert_eq!(
        means(&store, id, t0, t0 + 5, 1).await,
        vec![(t0, 0.0), (t0 + 5, 100.0)]
    );

    // Past the raw window the chunks go; a one-second step then reads minute means.
    assert_eq!(
        store.expire_metrics(t0 + 3_600, t0 - 20_000).await.unwrap(),
        (2, 0)
    );
    assert_eq!(means(&store, id, t0, t0 + 20, 1).await, vec![(t0, minute)]);
    assert_eq!(means(&store, id, t0, t0 + 610, 300).await.len(), 2);
    assert_eq!(
        means(&store, id, t0 + 3_600, t0 + 3_700, 1).await,
        vec![(t0 + 3_700, 7.0)]
    );
    // At retention the tiers and the head go too.
    let month = t0 + 40 * 86_400;
    let (_, tiers) = store.expire_metrics(month, month).await.unwrap();
    assert!(tiers >= 3, "{tiers} tier rows expired");
    assert!(means(&store, id, 0, month, 60).await.is_empty());
    assert!(means(&store, id, 0, month, 1).await.is_empty());
}

/// A head of more points than a transaction takes (a layout upgrade, a long pause) is packed
/// a slice at a time, each point once, with the same means as packed at once.
async fn a_head_larger_than_a_transaction_is_packed_in_several(store: Store) {
    let t0 = 300 * 21_600;
    let points: Vec<NewSample> = (0..3)
        .flat_map(|s| {
            (0..720).map(move |i| NewSample {
                metric: "host_load5".into(),
                labels: format!(r#"{{"host_id":"{s}"}}"#),
                ts: t0 + 10 * i,
                value: (i % 7) as f64 + s as f64,
            })
        })
        .collect();
    assert_eq!(store.ingest_samples(&points).await.unwrap(), 2160);
    let series = store
        .metric_series(&["host_load5".to_string()])
        .await
        .unwrap();
    let ids: Vec<i64> = series.iter().map(|s| s.id).collect();
    let before = store.metric_means(&ids, t0, t0 + 7_199, 300).await.unwrap();
    // 2160 points, 250 a transaction: slices split series and hours alike.
    assert_eq!(store.pack_metrics_by(t0 + 7_200, 250).await.unwrap(), 2160);
    assert_eq!(store.metric_head_points().await.unwrap(), 0);
    assert_eq!(
        store.metric_means(&ids, t0, t0 + 7_199, 300).await.unwrap(),
        before
    );
    let raw = store.metric_means(&ids, t0, t0 + 7_199, 10).await.unwrap();
    assert_eq!(raw.len(), 2160);
}

//! Metric samples: stored once, rolled up, dropped past retention.

use ocp_store::Store;

suite!(metrics_are_stored_once_and_rolled_up,);

/// A point resent is stored once; old samples become one mean per step, once; samples past
/// retention go.
async fn metrics_are_stored_once_and_rolled_up(store: Store) {
    use ocp_store::NewSample;
    let t0 = 999_900; // a multiple of the 300 s step
    let point = |ts: i64, value: f64| NewSample {
        metric: "host_load1".into(),
        labels: r#"{"host_id":"1"}"#.into(),
        ts,
        value,
    };
    let mut raw: Vec<NewSample> = (0..60).map(|i| point(t0 + 10 * i, i as f64)).collect();
    raw.push(point(t0 - 10_000, 99.0));
    raw.push(point(t0 + 610, 7.0));
    assert_eq!(store.ingest_samples(&raw).await.unwrap(), 62);
    assert_eq!(store.ingest_samples(&raw[..5]).await.unwrap(), 0);
    let series = store
        .metric_series(&["host_load1".to_string()])
        .await
        .unwrap();
    assert_eq!(series.len(), 1);

    // Means per 5 minutes, as the database averages them for long steps.
    let means: Vec<(i64, f64)> = store
        .metric_means(&[series[0].id], t0, t0 + 610, 300)
        .await
        .unwrap()
        .iter()
        .map(|m| (m.1, m.2))
        .collect();
    assert_eq!(means, vec![(t0, 14.5), (t0 + 300, 44.5), (t0 + 600, 7.0)]);

    let (rolled, dropped) = store
        .roll_up_metrics(t0 + 600, 300, t0 - 5_000)
        .await
        .unwrap();
    assert_eq!((rolled, dropped), (60, 1));
    // Means over one-second steps are the samples themselves.
    let samples = store
        .metric_means(&[series[0].id], 0, i64::MAX, 1)
        .await
        .unwrap();
    let values: Vec<(i64, f64)> = samples.iter().map(|s| (s.1, s.2)).collect();
    assert_eq!(values, vec![(t0, 14.5), (t0 + 300, 44.5), (t0 + 610, 7.0)]);
    assert_eq!(
        store
            .roll_up_metrics(t0 + 600, 300, t0 - 5_000)
            .await
            .unwrap(),
        (0, 0)
    );
}

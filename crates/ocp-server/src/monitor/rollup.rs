//! The roll-up job: raw samples past their window become 5-minute means, samples past
//! retention go. `metric_rollup.rolled_until` records how far it got, so a restart averages
//! nothing twice.

/// The step of rolled-up samples, seconds.
const ROLLUP_STEP: i64 = 300;

/// Every ten minutes: samples older than `raw` become 5-minute means, those older than
/// `retention` go.
pub async fn roll_up(
    store: ocp_store::Store,
    raw: std::time::Duration,
    retention: std::time::Duration,
) {
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        ticker.tick().await;
        let now = chrono::Utc::now().timestamp();
        let raw_until = now - raw.as_secs() as i64;
        let drop_before = now - retention.as_secs() as i64;
        match store
            .roll_up_metrics(raw_until, ROLLUP_STEP, drop_before)
            .await
        {
            Ok((rolled, dropped)) if rolled + dropped > 0 => {
                tracing::info!(rolled, dropped, "metric samples rolled up and expired");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("metric rollup: {e}"),
        }
    }
}

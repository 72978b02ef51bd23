//! The roll-up job: raw samples past their window become 5-minute means, samples past
//! retention go. `metric_rollup.rolled_until` records how far it got, so a restart averages
//! nothing twice. SQL statistics are summed per minute and per hour as they arrive; this job
//! removes minutes and hours past their retention.

use std::time::Duration;

/// The step of rolled-up samples, seconds.
const ROLLUP_STEP: i64 = 300;

/// How long each kind of monitoring data is kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Samples as collected; older ones become 5-minute means.
    pub metrics_raw: Duration,
    pub metrics: Duration,
    /// SQL statistics per minute; older ones are read per hour.
    pub sql_minutes: Duration,
    pub sql: Duration,
}

fn before(now: i64, kept: Duration) -> i64 {
    now - kept.as_secs() as i64
}

/// Every ten minutes: rolls up and expires what `retention` says.
pub async fn roll_up(store: ocp_store::Store, retention: Retention) {
    let mut ticker = tokio::time::interval(Duration::from_secs(600));
    loop {
        ticker.tick().await;
        let now = chrono::Utc::now().timestamp();
        match store
            .roll_up_metrics(
                before(now, retention.metrics_raw),
                ROLLUP_STEP,
                before(now, retention.metrics),
            )
            .await
        {
            Ok((rolled, dropped)) if rolled + dropped > 0 => {
                tracing::info!(rolled, dropped, "metric samples rolled up and expired");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("metric rollup: {e}"),
        }
        match store
            .expire_sql_stats(
                before(now, retention.sql_minutes),
                before(now, retention.sql),
            )
            .await
        {
            Ok(removed) if removed > 0 => tracing::info!(removed, "SQL statistics expired"),
            Ok(_) => {}
            Err(e) => tracing::warn!("SQL statistics retention: {e}"),
        }
    }
}

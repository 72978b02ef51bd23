//! The pack and retention job. Every minute the head's finished hours (a minute's grace
//! for batches on their way) are packed into chunks and tiers; every ten minutes raw
//! chunks past the raw window and tier blocks past retention go. SQL statistics are summed
//! per minute and per hour as they arrive; this job removes minutes and hours past their
//! retention.

use std::time::Duration;

/// How long after its hour a point may still arrive and be packed with it at first.
const PACK_LAG: i64 = 60;

/// How long each kind of monitoring data is kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Points as collected; older ones are read from the tiers (minute means at least).
    pub metrics_raw: Duration,
    pub metrics: Duration,
    /// SQL statistics per minute; older ones are read per hour.
    pub sql_minutes: Duration,
    pub sql: Duration,
}

fn before(now: i64, kept: Duration) -> i64 {
    now - kept.as_secs() as i64
}

/// Packs every minute and expires every ten what `retention` says.
pub async fn roll_up(store: ocp_store::Store, retention: Retention) {
    let mut ticker = tokio::time::interval(Duration::from_secs(60));
    for round in 0u64.. {
        ticker.tick().await;
        let now = chrono::Utc::now().timestamp();
        match store
            .pack_metrics(ocp_store::pack_horizon(now, PACK_LAG))
            .await
        {
            Ok(packed) if packed > 0 => tracing::debug!(packed, "metric points packed"),
            Ok(_) => {}
            Err(e) => tracing::warn!("metric packing: {e}"),
        }
        if round % 10 != 0 {
            continue;
        }
        match store
            .expire_metrics(
                before(now, retention.metrics_raw),
                before(now, retention.metrics),
            )
            .await
        {
            Ok((chunks, tiers)) if chunks + tiers > 0 => {
                tracing::info!(chunks, tiers, "metric chunks and tier blocks expired");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("metric retention: {e}"),
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

//! Backup strategies: what one may say (checked before it is kept), when its sets are due,
//! and the job that starts due sets and deletes expired ones.
//!
//! A due time fires once: the set and its task are written in the transaction that moves the
//! strategy's last due time forward (`Store::fire_scheduled_backup`), so several servers on
//! one metadb cannot both start it. Only the latest due time counts, so due times missed
//! while no server ran (or while the cluster could not be backed up) fire once, when the
//! job next finds the cluster able.

use std::time::Duration;

use chrono::{DateTime, Datelike, FixedOffset, NaiveTime, TimeZone, Utc};
use ocp_api::backup::{BackupStrategy, BackupTaskStatus, StartDataBackup};
use ocp_api::task::TaskType;
use ocp_api::ErrorCode;
use ocp_store::BackupStrategyRecord;

use crate::cluster::access::ObAccess;
use crate::cluster::backup::{
    check_backupable, check_storage, plan_backup, set_storage, storage_dir, storage_url,
    strategy_s3, NO_INCREMENTAL, NO_LOG_ARCHIVE,
};
use crate::cluster::steps;
use crate::error::Failure;

/// The time of day and its offset of `02:00:00.000+08:00` (seconds and milliseconds may be
/// left out; `Z` is +00:00).
pub fn parse_time_of_day(text: &str) -> Option<(NaiveTime, FixedOffset)> {
    let text = text.trim();
    let (time, offset) = match text.strip_suffix('Z') {
        Some(time) => (time, FixedOffset::east_opt(0)?),
        None => {
            let at = text.rfind(['+', '-'])?;
            let (time, offset) = text.split_at(at);
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let (h, m) = offset[1..].split_once(':')?;
            let seconds = h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60;
            (time, FixedOffset::east_opt(sign * seconds)?)
        }
    };
    ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(time, f).ok())
        .map(|t| (t, offset))
}

/// Checks a strategy and the cluster it is for, and keeps it: a new one (`create`) or a
/// change of the one there.
/// An S3 key's secret given with the strategy is sealed; one left out of a change is kept
/// from the strategy there, for the same endpoint and key id.
pub async fn keep_strategy(
    store: &ocp_store::Store,
    vault: &crate::vault::Vault,
    cluster_id: i64,
    strategy: &BackupStrategy,
    creator: (i64, &str),
    create: bool,
) -> Result<(), Failure> {
    check_strategy(strategy)?;
    check_backupable(&store.cluster(cluster_id).await?, strategy.backup_mode)?;
    let kept = match create {
        true => None,
        false => store
            .backup_strategies(Some(cluster_id))
            .await?
            .first()
            .and_then(strategy_s3),
    };
    let storage = check_storage(
        &strategy
            .ob_backup_service_storage_config
            .ob_backup_storage_base_info,
        "obBackupServiceStorageConfig.obBackupStorageBaseInfo",
        vault,
        kept.as_ref(),
    )?;
    let sealed = storage.s3.as_ref().map(|s3| s3.secret_sealed.as_str());
    let mut kept_plain = strategy.clone();
    if let Some(key) = &mut kept_plain
        .ob_backup_service_storage_config
        .ob_backup_storage_base_info
        .s3_access_key
    {
        // The strategy's body is answered as it is kept: never with the secret.
        key.access_key_secret.clear();
    }
    store
        .put_backup_strategy(cluster_id, &kept_plain, sealed, creator, create)
        .await?;
    Ok(())
}

/// Checks a strategy as a request states it.
pub fn check_strategy(strategy: &BackupStrategy) -> Result<(), Failure> {
    let schedule = &strategy.ob_backup_schedule_config;
    let field = |name: &str| format!("obBackupScheduleConfig.{name}");
    if strategy.secondary_backup_enabled {
        return Err(Failure::new(
            ErrorCode::UnsupportedByServerKind,
            "secondary backup (a second copy of each set) is not available",
        )
        .with_field("secondaryBackupEnabled"));
    }
    if schedule.start_log_backup {
        return Err(
            Failure::new(ErrorCode::UnsupportedByServerKind, NO_LOG_ARCHIVE)
                .with_field(&field("startLogBackup")),
        );
    }
    let days = match schedule.backup_schedule_mode.as_str() {
        "WEEK" => 1..=7,
        "MONTH" => 1..=31,
        other => {
            return Err(Failure::field(
                &field("backupScheduleMode"),
                format!("must be WEEK or MONTH, not {other:?}"),
            ))
        }
    };
    if schedule.day_and_data_backup_model_map.is_empty() {
        return Err(Failure::field(
            &field("dayAndDataBackupModelMap"),
            "name at least one day",
        ));
    }
    for (day, kind) in &schedule.day_and_data_backup_model_map {
        if !day.parse::<u32>().is_ok_and(|d| days.contains(&d)) {
            return Err(Failure::field(
                &field("dayAndDataBackupModelMap"),
                format!(
                    "{day:?} is not a day of a {}: {} to {}",
                    schedule.backup_schedule_mode.to_lowercase(),
                    days.start(),
                    days.end()
                ),
            ));
        }
        if kind != "FULL_BACKUP" {
            return Err(
                Failure::new(ErrorCode::UnsupportedByServerKind, NO_INCREMENTAL)
                    .with_field(&field("dayAndDataBackupModelMap")),
            );
        }
    }
    if parse_time_of_day(&schedule.backup_schedule_time).is_none() {
        return Err(Failure::field(
            &field("backupScheduleTime"),
            "must be a time of day with its offset, such as 02:00:00.000+08:00",
        ));
    }
    if schedule.clean_enabled && schedule.backup_data_retention_days.is_none_or(|d| d < 1) {
        return Err(Failure::field(
            &field("backupDataRetentionDays"),
            "must be 1 or more when cleanEnabled is true",
        ));
    }
    let threshold = &strategy.ob_backup_threshold_config;
    if threshold.data_backup_timeout_minutes < 1 {
        return Err(Failure::field(
            "obBackupThresholdConfig.dataBackupTimeoutMinutes",
            "must be 1 or more",
        ));
    }
    let storage = &strategy.ob_backup_service_storage_config;
    storage_url(
        &storage.ob_backup_storage_base_info,
        "obBackupServiceStorageConfig.obBackupStorageBaseInfo",
    )?;
    Ok(())
}

/// The latest time at or before `now` a set of the strategy was due, in ms; none in the last
/// 31 days, or none at all when the schedule is off.
pub fn latest_due(strategy: &BackupStrategy, now: DateTime<Utc>) -> Option<i64> {
    let schedule = &strategy.ob_backup_schedule_config;
    if !schedule.backup_schedule_enabled {
        return None;
    }
    let (time, offset) = parse_time_of_day(&schedule.backup_schedule_time)?;
    let today = now.with_timezone(&offset).date_naive();
    let monthly = schedule.backup_schedule_mode == "MONTH";
    (0..=31).find_map(|back| {
        let day = today - chrono::Days::new(back);
        let number = if monthly {
            day.day()
        } else {
            day.weekday().number_from_monday()
        };
        if !schedule
            .day_and_data_backup_model_map
            .contains_key(&number.to_string())
        {
            return None;
        }
        let at = offset
            .from_local_datetime(&day.and_time(time))
            .single()?
            .with_timezone(&Utc);
        (at <= now).then(|| at.timestamp_millis())
    })
}

/// Looks at every strategy each `interval`: starts the set due, if it was not started, and
/// deletes sets past their retention (`day` is a day, shorter in tests).
pub async fn run(access: ObAccess, address: String, interval: Duration, day: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let strategies = match access.store.backup_strategies(None).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("reading the backup strategies: {e}");
                continue;
            }
        };
        for record in strategies {
            fire(&access, &address, &record).await;
            if let Err(e) = expire(&access, &record, day).await {
                tracing::warn!(
                    cluster = record.cluster_id,
                    "backup retention: {}",
                    e.message
                );
            }
            if let Err(e) = measure(&access, &record).await {
                tracing::debug!(
                    cluster = record.cluster_id,
                    "backup storage space: {}",
                    e.message
                );
            }
        }
    }
}

/// Records the space of the strategy's storage, as the agent of the cluster's host sees it,
/// for the backup_storage_capacity_over_threshold alert item. An S3 bucket has no capacity
/// to measure.
async fn measure(access: &ObAccess, record: &BackupStrategyRecord) -> Result<(), Failure> {
    let storage = &record
        .strategy
        .ob_backup_service_storage_config
        .ob_backup_storage_base_info;
    if storage.s3_access_key.is_some() {
        return Ok(());
    }
    let request = ocp_api::backup::BackupStorageDir {
        storage_dir: storage_dir(storage, "obBackupStorageBaseInfo")?,
    };
    let Some(server) = access
        .store
        .servers(record.cluster_id)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    let space: ocp_api::backup::StorageSpace = access
        .agents
        .call(
            server.host_id,
            reqwest::Method::POST,
            &ocp_api::agent_path::manager::backup_space(),
            Some(&request),
        )
        .await?;
    let bytes = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    access
        .store
        .set_backup_storage_usage(
            record.cluster_id,
            ocp_store::StorageUsage {
                total_bytes: bytes(space.total_bytes),
                used_bytes: bytes(space.used_bytes),
                checked_at: ocp_api::time::now_millis(),
            },
        )
        .await?;
    Ok(())
}

/// Starts the strategy's latest due set unless it was started.
async fn fire(access: &ObAccess, address: &str, record: &BackupStrategyRecord) {
    let s = &record.strategy;
    let Some(due) = latest_due(s, Utc::now()) else {
        return;
    };
    if due <= record.last_due {
        return;
    }
    let request = StartDataBackup {
        backup_mode: s.backup_mode,
        data_backup_task_type: Some("FULL_BACKUP".into()),
        ob_backup_storage_base_info: s
            .ob_backup_service_storage_config
            .ob_backup_storage_base_info
            .clone(),
    };
    let kept = strategy_s3(record);
    let planned = plan_backup(
        &access.store,
        &access.vault,
        record.cluster_id,
        &request,
        kept.as_ref(),
    )
    .await;
    let set = match planned {
        Ok(planned) => planned,
        Err(e) => {
            // Not now (the cluster is stopped, say): the due time stays, and fires once the
            // cluster can be backed up.
            tracing::debug!(
                cluster = record.cluster_id,
                "scheduled backup waits: {}",
                e.message
            );
            return;
        }
    };
    let task = |set_id| {
        steps::back_up_now(record.cluster_id, set.server_id, set_id, set.mode)
            .task_type(TaskType::Scheduled)
            .value("cluster_name", set.cluster_name.clone())
            .build(record.creator_id, &record.creator_name, address)
            .expect("the backup template builds (see its tests)")
    };
    match access.store.fire_scheduled_backup(due, &set, task).await {
        Ok(Some((set_id, task_id))) => tracing::info!(
            cluster = record.cluster_id,
            set = set_id,
            task = task_id,
            "scheduled backup started"
        ),
        Ok(None) => {}
        Err(ocp_store::StoreError::AlreadyExists { .. }) => {}
        Err(e) => tracing::warn!(cluster = record.cluster_id, "scheduled backup: {e}"),
    }
}

/// Deletes the cluster's finished sets older than the retention, never the newest one.
async fn expire(
    access: &ObAccess,
    record: &BackupStrategyRecord,
    day: Duration,
) -> Result<(), Failure> {
    let schedule = &record.strategy.ob_backup_schedule_config;
    let Some(days) = schedule
        .backup_data_retention_days
        .filter(|_| schedule.clean_enabled)
    else {
        return Ok(());
    };
    let cutoff = ocp_api::time::now_millis() - days * day.as_millis() as i64;
    let sets = access.store.backup_sets(record.cluster_id).await?;
    let expired = sets
        .iter()
        .filter(|set| set.status == BackupTaskStatus::Done)
        .skip(1)
        .filter(|set| set.finish_time.is_some_and(|t| t < cutoff));
    for set in expired {
        let server = access.store.server(set.server_id).await?;
        let location = ocp_api::backup::BackupSetLocation {
            storage: set_storage(&access.agents, &access.vault, server.host_id, set).await?,
            set_name: set.name.clone(),
        };
        let _: bool = access
            .agents
            .call(
                server.host_id,
                reqwest::Method::POST,
                &ocp_api::agent_path::manager::backup_delete(),
                Some(&location),
            )
            .await?;
        access.store.delete_backup_set(set.id).await?;
        tracing::info!(
            cluster = record.cluster_id,
            set = set.id,
            "expired backup set deleted"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strategy(mode: &str, days: &[&str], time: &str) -> BackupStrategy {
        serde_json::from_value(serde_json::json!({
            "backupMode": "PHYSICAL_BACKUP",
            "obBackupScheduleConfig": {
                "backupScheduleMode": mode, "backupScheduleTime": time,
                "dayAndDataBackupModelMap":
                    days.iter().map(|d| (d.to_string(), "FULL_BACKUP")).collect::<std::collections::BTreeMap<_, _>>()
            },
            "obBackupServiceStorageConfig": {"configName": "nfs",
                "obBackupStorageBaseInfo": {"backupStorageType": "BACKUP_STORAGE_FILE",
                                            "storageUrl": "/backup"}}
        }))
        .unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn times_of_day_are_read_with_their_offset() {
        let (t, o) = parse_time_of_day("02:00:00.000+08:00").unwrap();
        assert_eq!(
            (t.to_string(), o.local_minus_utc()),
            ("02:00:00".into(), 8 * 3600)
        );
        assert_eq!(parse_time_of_day("23:30Z").unwrap().1.local_minus_utc(), 0);
        assert_eq!(
            parse_time_of_day("01:15:00-05:30")
                .unwrap()
                .1
                .local_minus_utc(),
            -(5 * 3600 + 1800)
        );
        assert!(parse_time_of_day("2am").is_none());
        assert!(parse_time_of_day("25:00+08:00").is_none());
    }

    #[test]
    fn the_latest_due_time_is_found_in_the_schedule_s_own_offset() {
        // Tuesday (2) at 02:00 +08:00 is Monday 18:00 UTC.
        let weekly = strategy("WEEK", &["2"], "02:00:00.000+08:00");
        let due = latest_due(&weekly, at("2026-12-02T10:00:00Z")).unwrap();
        assert_eq!(due, at("2026-11-30T18:00:00Z").timestamp_millis());
        // Just before the next one, still that one; just after, the next.
        let before = latest_due(&weekly, at("2026-12-07T17:59:59Z")).unwrap();
        assert_eq!(before, due);
        let after = latest_due(&weekly, at("2026-12-07T18:00:00Z")).unwrap();
        assert_eq!(after, at("2026-12-07T18:00:00Z").timestamp_millis());
        // Monthly on the 1st and the 15th.
        let monthly = strategy("MONTH", &["1", "15"], "03:00Z");
        let due = latest_due(&monthly, at("2026-12-14T00:00:00Z")).unwrap();
        assert_eq!(due, at("2026-12-01T03:00:00Z").timestamp_millis());
        let mut off = weekly.clone();
        off.ob_backup_schedule_config.backup_schedule_enabled = false;
        assert_eq!(latest_due(&off, at("2026-12-02T10:00:00Z")), None);
    }

    #[test]
    fn strategies_seekdb_cannot_run_are_refused_with_the_field() {
        assert!(check_strategy(&strategy("WEEK", &["1", "7"], "02:00+08:00")).is_ok());
        let field = |s: &BackupStrategy| {
            let f = check_strategy(s).unwrap_err();
            (f.code, f.sub_errors[0].field.clone())
        };
        let bad_day = strategy("WEEK", &["8"], "02:00+08:00");
        assert_eq!(field(&bad_day).0, ErrorCode::IllegalArgument);
        let bad_time = strategy("MONTH", &["31"], "2am");
        assert!(field(&bad_time).1.ends_with("backupScheduleTime"));
        let mut incremental = strategy("WEEK", &["1"], "02:00+08:00");
        incremental
            .ob_backup_schedule_config
            .day_and_data_backup_model_map
            .insert("2".into(), "INCREMENTAL_BACKUP".into());
        assert_eq!(field(&incremental).0, ErrorCode::UnsupportedByServerKind);
        let mut logs = strategy("WEEK", &["1"], "02:00+08:00");
        logs.ob_backup_schedule_config.start_log_backup = true;
        assert_eq!(field(&logs).0, ErrorCode::UnsupportedByServerKind);
        let mut no_days = strategy("WEEK", &["1"], "02:00+08:00");
        no_days.ob_backup_schedule_config.clean_enabled = true;
        assert!(field(&no_days).1.ends_with("backupDataRetentionDays"));
    }
}

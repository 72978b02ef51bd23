//! `/api/v2/ob/clusters/{id}/backup/...`: what a cluster's backups can be, "back up now",
//! the data backup, log backup and restore tasks, and restore into a new cluster.
//!
//! The strategy (`backup/config/backupStrategy`) schedules sets and their retention.
//!
//! Reads need CLUSTER read; a backup or a strategy needs CLUSTER update. A restore needs
//! CLUSTER create as well, since one into a new cluster makes a cluster.

use axum::extract::State;
use ocp_api::backup::{
    BackupAbility, BackupCommonResponse, BackupInfoQuery, BackupMode, BackupOverview,
    BackupStrategy, BackupStrategyView, BackupTaskStatus, ClusterBackupInfo,
    DataBackupRecoverableInfo, DataBackupSupportAbility, DataBackupTask, RecoverableAggregation,
    RecoverableSectionItem, RecoverableSections, RestoreCluster, RestoreStatus, RestoreTask,
    StartDataBackup,
};
use ocp_api::{ErrorCode, PageData, PageQuery, Timestamp};
use ocp_store::{BackupSetRecord, ClusterRecord, RestoreRecord};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz, Permission};
use crate::cluster::backup::{self, NO_INCREMENTAL, NO_LOG_ARCHIVE};
use crate::cluster::backup_schedule as schedule;
use crate::cluster::{deploy, steps};
use crate::http::{page_of, ApiJson, ApiPath, ApiQuery, ApiResult, Data, Failure, Paging};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ability))
        .routes(routes!(overview))
        .routes(routes!(info))
        .routes(routes!(data_backup_tasks, back_up_now))
        .routes(routes!(log_backup_tasks))
        .routes(routes!(restore_tasks))
        .routes(routes!(restore))
        .routes(routes!(
            get_strategy,
            create_strategy,
            modify_strategy,
            delete_strategy
        ))
}

const STRATEGY: &str = "/api/v2/ob/clusters/{id}/backup/config/backupStrategy";

/// The cluster's backup strategy.
#[utoipa::path(get, path = STRATEGY, tag = "backup", params(("id" = i64, Path)),
    responses((status = 200, body = BackupStrategyView)))]
async fn get_strategy(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<BackupStrategyView> {
    state.store.cluster(id).await?;
    let record = state
        .store
        .backup_strategies(Some(id))
        .await?
        .pop()
        .ok_or_else(|| Failure::not_found("backup strategy of cluster", id))?;
    Ok(Data(BackupStrategyView {
        cluster_id: id,
        strategy: record.strategy,
        creator: record.creator_name,
        create_time: Timestamp::from_millis(record.create_time),
        update_time: Timestamp::from_millis(record.update_time),
        last_scheduled_time: (record.last_due > record.update_time)
            .then(|| Timestamp::from_millis(record.last_due)),
    }))
}

/// Create the cluster's backup strategy: full sets on the days and at the time it names,
/// and sets past its retention deleted (never the newest finished one).
#[utoipa::path(post, path = STRATEGY, tag = "backup", params(("id" = i64, Path)),
    request_body = BackupStrategy, responses((status = 200, body = BackupCommonResponse)))]
async fn create_strategy(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(strategy): ApiJson<BackupStrategy>,
) -> ApiResult<BackupCommonResponse> {
    let creator = (caller.user_id, caller.username.as_str());
    schedule::keep_strategy(&state.store, &state.vault, id, &strategy, creator, true).await?;
    Ok(Data(BackupCommonResponse::none(
        "CREATE_BACKUP_STRATEGY",
        id,
    )))
}

/// Change the cluster's backup strategy; it fires next at its first due time from now.
#[utoipa::path(patch, path = STRATEGY, tag = "backup", params(("id" = i64, Path)),
    request_body = BackupStrategy, responses((status = 200, body = BackupCommonResponse)))]
async fn modify_strategy(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(strategy): ApiJson<BackupStrategy>,
) -> ApiResult<BackupCommonResponse> {
    let creator = (caller.user_id, caller.username.as_str());
    schedule::keep_strategy(&state.store, &state.vault, id, &strategy, creator, false).await?;
    Ok(Data(BackupCommonResponse::none(
        "UPDATE_BACKUP_STRATEGY",
        id,
    )))
}

/// Delete the cluster's backup strategy; its sets stay.
#[utoipa::path(delete, path = STRATEGY, tag = "backup", params(("id" = i64, Path)),
    responses((status = 200, body = BackupCommonResponse)))]
async fn delete_strategy(
    _: Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<BackupCommonResponse> {
    state.store.cluster(id).await?;
    state.store.delete_backup_strategy(id).await?;
    Ok(Data(BackupCommonResponse::none(
        "DELETE_BACKUP_STRATEGY",
        id,
    )))
}

/// What the cluster's backups can be: full sets, physical (of a seekdb the platform deployed
/// from a package) and logical; no incremental sets and no log archiving, each with the
/// reason.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/backup/ability", tag = "backup",
    params(("id" = i64, Path)), responses((status = 200, body = BackupAbility)))]
async fn ability(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<BackupAbility> {
    let cluster = state.store.cluster(id).await?;
    Ok(Data(ability_of(&cluster)))
}

fn ability_of(cluster: &ClusterRecord) -> BackupAbility {
    let physical = backup::check_backupable(cluster, BackupMode::PhysicalBackup).is_ok();
    let (ability, mode, how) = if physical {
        (
            "LOGICAL_AND_PHYSICAL",
            BackupMode::PhysicalBackup,
            "A physical set stops the server for the copy (seconds for a small server); a \
             logical set is a dump of the user databases, users and grants, taken while it \
             serves (it needs Debian's mariadb-client on the server's host).",
        )
    } else {
        (
            "LOGICAL_BACKUP",
            BackupMode::LogicalBackup,
            "A logical set is a dump of the user databases, users and grants, taken while the \
             server serves (it needs Debian's mariadb-client on the server's host); a \
             physical set needs a cluster the platform deployed from a package.",
        )
    };
    BackupAbility {
        backup_ability: ability.into(),
        backup_mode: mode,
        ob_data_backup_support_ability: DataBackupSupportAbility {
            full_backup_enabled: true,
            increment_backup_enabled: false,
            can_do_incremental_backup: false,
            hint: format!("{how} {NO_INCREMENTAL}."),
        },
        log_backup_enabled: false,
        log_backup_hint: NO_LOG_ARCHIVE.into(),
    }
}

/// The cluster's backups at a glance: its strategy's state, its last set, their size.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/backup/overview", tag = "backup",
    params(("id" = i64, Path)), responses((status = 200, body = BackupOverview)))]
async fn overview(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<BackupOverview> {
    let cluster = state.store.cluster(id).await?;
    let sets = state.store.backup_sets(id).await?;
    let strategy = state
        .store
        .backup_strategies(Some(id))
        .await?
        .pop()
        .map(|r| r.strategy);
    let done: Vec<&BackupSetRecord> = sets
        .iter()
        .filter(|s| s.status == BackupTaskStatus::Done)
        .collect();
    let schedule_status = match (&strategy, sets.first()) {
        (None, _) => "NONE",
        (Some(_), Some(last)) if last.status == BackupTaskStatus::Failed => "ABNORMAL",
        (Some(s), _) if !s.ob_backup_schedule_config.backup_schedule_enabled => "PAUSED",
        (Some(_), _) => "NORMAL",
    };
    let compaction_status = match state.ob.connect(id).await {
        Ok(mut client) => {
            let row = client.compaction().await.ok();
            client.close().await;
            row.map(|r| r.status)
        }
        Err(_) => None,
    };
    Ok(Data(BackupOverview {
        cluster_id: id,
        ob_cluster_id: id,
        cluster_name: cluster.name.clone(),
        ob_cluster_type: cluster.cluster_type.as_str().into(),
        ob_cluster_status: cluster.status.as_str().into(),
        compaction_status,
        primary_and_standby_mode: false,
        ob_version: cluster.ob_version.clone(),
        ob_cluster_backup_status: if strategy.is_some() {
            "HAS_BACKUP_STRATEGY"
        } else {
            "NO_BACKUP_STRATEGY"
        }
        .into(),
        ob_backup_ability: ability_of(&cluster),
        backup_dimension: "CLUSTER".into(),
        backup_schedule_status: schedule_status.into(),
        last_data_backup_time: done.first().map(|s| Timestamp::from_millis(s.start_time)),
        latest_log_backup_checkpoint: None,
        log_backup_delay_seconds: None,
        backup_size: done.iter().filter_map(|s| s.size).sum::<i64>() as f64,
        ob_storage_volume_unit: "B".into(),
    }))
}

/// An ISO-8601 time with its offset, as `+08:00` or OCP's `+0800`; in ms.
fn millis_of(field: &str, text: &str) -> Result<i64, Failure> {
    chrono::DateTime::parse_from_rfc3339(text)
        .or_else(|_| chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            Failure::field(
                field,
                format!("{text:?} is not an ISO-8601 time with offset"),
            )
        })
}

/// What of the cluster can be restored: each finished set in the window (by default the
/// last seven days) as a FULL_DATA_BACKUP point; seekdb has no log backup, so no intervals.
/// With `storageUrl`, the sets the agent of the cluster's host finds in that storage instead,
/// whoever wrote them (every one unless a window is given): a directory, or
/// `s3://bucket/prefix` read with the S3 key of the cluster's strategy.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/backup/info", tag = "backup",
    params(("id" = i64, Path), BackupInfoQuery),
    responses((status = 200, body = ClusterBackupInfo)))]
async fn info(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<BackupInfoQuery>,
) -> ApiResult<ClusterBackupInfo> {
    let cluster = state.store.cluster(id).await?;
    let now = ocp_api::time::now_millis();
    let end = match &query.end_time {
        Some(t) => millis_of("endTime", t)?,
        None => now,
    };
    let start = match &query.start_time {
        Some(t) => millis_of("startTime", t)?,
        None => end - 7 * 86_400_000,
    };
    if end < start {
        return Err(Failure::field("endTime", "is before startTime"));
    }
    let items = match &query.storage_url {
        Some(url) => {
            let window = query.start_time.is_some() || query.end_time.is_some();
            backup::sets_in_storage(&state.store, &state.vault, &state.agents, id, url)
                .await?
                .into_iter()
                .filter(|m| !window || (start..=end).contains(&m.start_time_ms))
                .map(|m| RecoverableSectionItem {
                    ob_recoverable_section_item_type: "FULL_DATA_BACKUP".into(),
                    backup_mode: m.mode,
                    data_backup_recoverable_info: DataBackupRecoverableInfo {
                        full_backup_set_id: m.backup_set_id,
                        freeze_time: Timestamp::from_millis(m.start_time_ms),
                        recoverable_time: Timestamp::from_millis(m.start_time_ms),
                    },
                    backup_cluster_name: Some(m.cluster_name),
                    ob_version: Some(m.ob_version),
                })
                .collect()
        }
        None => recorded_sets(&state, id, start..=end).await?,
    };
    Ok(Data(ClusterBackupInfo {
        cluster_id: id,
        ob_cluster_id: id,
        cluster_name: cluster.name,
        online: cluster.status == ocp_api::ob::ClusterStatus::Running,
        ob_recoverable_info_aggregation: RecoverableAggregation {
            ob_query_time_scope_type: "LATEST_SEVEN_DAYS".into(),
            latest_seven_days_aggregation: RecoverableSections {
                ob_recoverable_section_items: items,
            },
        },
    }))
}

/// The cluster's finished sets that began in `window`, as the metadb records them.
async fn recorded_sets(
    state: &AppState,
    id: i64,
    window: std::ops::RangeInclusive<i64>,
) -> Result<Vec<RecoverableSectionItem>, Failure> {
    let items = state
        .store
        .backup_sets(id)
        .await?
        .into_iter()
        .filter(|s| s.status == BackupTaskStatus::Done)
        .filter(|s| window.contains(&s.start_time))
        .map(|s| RecoverableSectionItem {
            ob_recoverable_section_item_type: "FULL_DATA_BACKUP".into(),
            backup_mode: s.mode,
            data_backup_recoverable_info: DataBackupRecoverableInfo {
                full_backup_set_id: s.id,
                freeze_time: Timestamp::from_millis(s.start_time),
                recoverable_time: Timestamp::from_millis(s.start_time),
            },
            backup_cluster_name: None,
            ob_version: None,
        })
        .collect();
    Ok(items)
}

/// Where a failed backup's or restore's reason is: its task's log.
fn error_message(status: BackupTaskStatus, task_id: i64) -> String {
    if status == BackupTaskStatus::Failed {
        format!("task {task_id} failed; its log says why")
    } else {
        String::new()
    }
}

fn data_backup_view(s: BackupSetRecord) -> DataBackupTask {
    DataBackupTask {
        task_id: s.task_id,
        backup_set_id: s.id,
        cluster_id: s.cluster_id,
        cluster_name: s.cluster_name,
        ob_cluster_id: s.cluster_id,
        cluster_type: "PRIMARY".into(),
        tenant_id: 0,
        backup_mode: s.mode,
        data_backup_task_type: "FULL_BACKUP".into(),
        backup_uri: backup::storage_uri(s.storage_type, &s.storage_url),
        status: s.status,
        start_time: Timestamp::from_millis(s.start_time),
        finish_time: s.finish_time.map(Timestamp::from_millis),
        size: s.size,
        ob_version: s.ob_version,
        error_msg: error_message(s.status, s.task_id),
    }
}

/// The cluster's data backups and the sets they made, newest first; also those of a deleted
/// cluster, which can still be restored.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/backup/task/dataBackupTasks",
    tag = "backup", params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = PageData<DataBackupTask>)))]
async fn data_backup_tasks(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<PageData<DataBackupTask>> {
    let paging = Paging::parse(&page, &[])?;
    let sets = state.store.backup_sets(id).await?;
    if sets.is_empty() {
        // No set: the cluster must exist. Sets of a deleted cluster stay listed (and
        // restorable).
        state.store.cluster(id).await?;
    }
    let all = sets.into_iter().map(data_backup_view).collect();
    Ok(Data(page_of(all, &paging)))
}

/// Back up now: a full set of the cluster, as a task that stops its server for the copy and
/// starts it again.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/backup/task/dataBackupTasks",
    tag = "backup", params(("id" = i64, Path)), request_body = StartDataBackup,
    responses((status = 200, body = BackupCommonResponse)))]
async fn back_up_now(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<StartDataBackup>,
) -> ApiResult<BackupCommonResponse> {
    let kept = state
        .store
        .backup_strategies(Some(id))
        .await?
        .first()
        .and_then(backup::strategy_s3);
    let set = backup::plan_backup(&state.store, &state.vault, id, &request, kept.as_ref()).await?;
    let task = |set_id| {
        let template = steps::back_up_now(id, set.server_id, set_id, set.mode)
            .value("cluster_name", set.cluster_name.clone());
        state.task_of(template, &caller)
    };
    let (_, task_id) = state.store.create_backup_set(&set, task).await?;
    state.submitted(task_id).await?;
    Ok(Data(BackupCommonResponse::one(
        "START_DATA_BACKUP",
        id,
        task_id,
    )))
}

/// Log backup tasks: always none, since seekdb archives no log (see `backup/ability`).
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/backup/task/logBackupTasks",
    tag = "backup", params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = PageData<DataBackupTask>)))]
async fn log_backup_tasks(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<PageData<DataBackupTask>> {
    let paging = Paging::parse(&page, &[])?;
    state.store.cluster(id).await?;
    Ok(Data(page_of(Vec::new(), &paging)))
}

fn restore_view(r: RestoreRecord) -> RestoreTask {
    let (status, desc) = match r.status {
        BackupTaskStatus::Doing => (RestoreStatus::Restoring, "Restoring"),
        BackupTaskStatus::Done => (RestoreStatus::RestoreSuccess, "Successful"),
        BackupTaskStatus::Failed => (RestoreStatus::RestoreFail, "Failed"),
    };
    RestoreTask {
        id: r.id,
        task_id: r.task_id,
        backup_mode: r.mode,
        backup_set_id: r.backup_set_id,
        backup_cluster_id: r.backup_cluster_id,
        backup_cluster_name: r.backup_cluster_name,
        restore_cluster_id: r.restore_cluster_id,
        restore_cluster_name: r.restore_cluster_name,
        restore_uri: r.restore_uri,
        status,
        status_desc: desc.into(),
        finished: r.status != BackupTaskStatus::Doing,
        successful: r.status == BackupTaskStatus::Done,
        create_time: Timestamp::from_millis(r.create_time),
        finish_time: r.finish_time.map(Timestamp::from_millis),
        error_msg: error_message(r.status, r.task_id),
    }
}

/// Restores from the cluster's sets or into the cluster, newest first.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/backup/task/restoreTasks",
    tag = "backup", params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = PageData<RestoreTask>)))]
async fn restore_tasks(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<PageData<RestoreTask>> {
    let paging = Paging::parse(&page, &[])?;
    let restores = state.store.restores(id).await?;
    let all = restores.into_iter().map(restore_view).collect();
    Ok(Data(page_of(all, &paging)))
}

/// Restore a set of this cluster into a new cluster on a host, as a deploy places one, or in
/// place (`restoreClusterId`: this cluster's data is replaced by the set's, and put back if
/// the restore fails). The agent checks every file of the set against its manifest before it
/// unpacks it.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/backup/restore", tag = "backup",
    params(("id" = i64, Path)), request_body = RestoreCluster,
    responses((status = 200, body = BackupCommonResponse)))]
async fn restore(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<RestoreCluster>,
) -> ApiResult<BackupCommonResponse> {
    if !caller.may(perm::ClusterCreate::REQUIRED) {
        return Err(Failure::new(
            ErrorCode::AccessDenied,
            format!(
                "user {} lacks permission {}: a restore makes a cluster",
                caller.username,
                perm::ClusterCreate::REQUIRED
            ),
        ));
    }
    let known = match &request.ob_backup_storage_base_info {
        Some(storage) => {
            let found = backup::found_set(
                &state.store,
                &state.vault,
                &state.agents,
                id,
                &request,
                storage,
            );
            Some(found.await?)
        }
        None => None,
    };
    let set = match known {
        Some(set) => set,
        None => match state.store.backup_set(request.backup_set_id).await {
            Ok(set) if set.cluster_id == id && !set.found => set,
            Ok(_) | Err(ocp_store::StoreError::NotFound { .. }) => {
                return Err(Failure::field(
                    "backupSetId",
                    format!("cluster {id} has no backup set {}", request.backup_set_id),
                ))
            }
            Err(e) => return Err(e.into()),
        },
    };
    let logical = set.mode == BackupMode::LogicalBackup;
    if request.restore_cluster_id.is_some() {
        let (restore, server, cluster) = if logical {
            backup::plan_logical_into(&state.store, &set, &request).await?
        } else {
            backup::plan_in_place(&state.store, &set, &request).await?
        };
        let task = |restore_id| {
            let template = if logical {
                steps::restore_logical(cluster.id, server.id, restore_id, set.id)
            } else {
                steps::restore_in_place(cluster.id, server.id, restore_id, set.id)
            };
            let template = template.value("cluster_name", cluster.name.clone());
            state.task_of(template, &caller)
        };
        let task_id = state
            .store
            .create_restore(&restore, cluster.id, &cluster.name, task)
            .await?;
        state.submitted(task_id).await?;
        return Ok(Data(BackupCommonResponse::one(
            "RESTORE", cluster.id, task_id,
        )));
    }
    let (cluster, restore) =
        backup::plan_restore(&state.store, &state.vault, &set, &request, &caller.username).await?;
    let task = |cluster_id, servers: &[i64], restore_id| {
        let template = if logical {
            steps::restore_logical_cluster(cluster_id, servers, restore_id)
        } else {
            steps::restore_cluster(cluster_id, servers, restore_id)
        };
        let template = template
            .value("cluster_name", cluster.name.clone())
            .value("backup_set_id", set.id.to_string());
        state.task_of(template, &caller)
    };
    let (cluster_id, task_id) = state
        .store
        .create_restored_cluster(&cluster, &restore, task)
        .await
        .map_err(|e| deploy::registration_failure(e, &cluster.name))
        .map_err(|f| match f.sub_errors.first().map(|s| s.field.as_str()) {
            Some("name") => Failure::new(f.code, f.message).with_field("restoreClusterName"),
            _ => f,
        })?;
    state.submitted(task_id).await?;
    Ok(Data(BackupCommonResponse::one(
        "RESTORE", cluster_id, task_id,
    )))
}

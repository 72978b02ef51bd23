//! Joining and heartbeats below the HTTP layer: one-time join tokens (only their hash is
//! kept), what a heartbeat changes in the metadb, and the watch that marks hosts whose agent
//! fell silent OFFLINE.

use std::time::Duration;

use ocp_api::agent::{AgentReport, HostFacts};
use ocp_api::host::{CreateJoinToken, JoinToken};
use ocp_api::Timestamp;
use ocp_store::{Catalog, HeartbeatUpdate, Store, StoreError};
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::error::Failure;

const MAX_TTL_SECONDS: i64 = 7 * 24 * 3600;

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The columns a facts report fills: hostname, kernel, release, architecture, JSON.
pub fn facts_columns(facts: &HostFacts) -> (String, String, String, String, String) {
    (
        facts.hostname.clone(),
        facts.kernel.clone(),
        facts.os_release.clone(),
        facts.architecture.clone(),
        serde_json::to_string(facts).unwrap_or_default(),
    )
}

/// What an agent's report (and facts, if any) change in the metadb.
pub fn heartbeat_update(
    report: &AgentReport,
    facts: Option<&HostFacts>,
) -> Result<HeartbeatUpdate, serde_json::Error> {
    let processes = report
        .processes
        .iter()
        .map(|p| Ok((p.alias.clone(), serde_json::to_string(p)?)))
        .collect::<Result<_, serde_json::Error>>()?;
    Ok(HeartbeatUpdate {
        version: report.version.clone(),
        manager_running: report.manager_running(),
        processes,
        facts: facts.map(facts_columns),
    })
}

/// The IDC and host type of hosts placed without being named: the first of each, created
/// as `default` on a fresh platform.
async fn default_placement(store: &Store) -> Result<(i64, i64), StoreError> {
    let idc = match first_entry(store, Catalog::Idc).await? {
        Some(id) => id,
        None => {
            let region = first_or_default(store, Catalog::Region, None).await?;
            first_or_default(store, Catalog::Idc, Some(region)).await?
        }
    };
    let host_type = first_or_default(store, Catalog::HostType, None).await?;
    Ok((idc, host_type))
}

async fn first_entry(store: &Store, catalog: Catalog) -> Result<Option<i64>, StoreError> {
    let (records, _) = store.catalog_entries(catalog, 0, 1, "id", false).await?;
    Ok(records.first().map(|r| r.id))
}

/// The first entry of `catalog`, or a new one named `default`. Tokens issued at once may
/// both find none: the one whose `default` came second takes the first's.
async fn first_or_default(
    store: &Store,
    catalog: Catalog,
    parent: Option<i64>,
) -> Result<i64, StoreError> {
    if let Some(id) = first_entry(store, catalog).await? {
        return Ok(id);
    }
    match store
        .create_catalog_entry(catalog, "default", None, parent)
        .await
    {
        Ok(created) => Ok(created.id),
        Err(StoreError::AlreadyExists { .. }) => first_entry(store, catalog)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("{catalog:?} default vanished"))),
        Err(e) => Err(e),
    }
}

/// Issues a one-time join token. Only its hash is kept.
pub async fn issue_token(
    store: &Store,
    request: &CreateJoinToken,
    creator: &str,
) -> Result<JoinToken, Failure> {
    let ttl = request.ttl_seconds.unwrap_or(3600);
    if !(60..=MAX_TTL_SECONDS).contains(&ttl) {
        return Err(Failure::field(
            "ttlSeconds",
            format!("must be between 60 and {MAX_TTL_SECONDS}"),
        ));
    }
    let (default_idc, default_type) = match (request.idc_id, request.type_id) {
        (Some(i), Some(t)) => (i, t),
        _ => default_placement(store).await?,
    };
    let idc_id = request.idc_id.unwrap_or(default_idc);
    let type_id = request.type_id.unwrap_or(default_type);
    if store.catalog_entry(Catalog::Idc, idc_id).await.is_err() {
        return Err(Failure::field(
            "idcId",
            format!("IDC {idc_id} does not exist"),
        ));
    }
    if store
        .catalog_entry(Catalog::HostType, type_id)
        .await
        .is_err()
    {
        return Err(Failure::field(
            "typeId",
            format!("host type {type_id} does not exist"),
        ));
    }
    let token = format!(
        "ocpjoin-{}",
        hex::encode(rand::thread_rng().gen::<[u8; 24]>())
    );
    let expire = chrono::Utc::now().timestamp_millis() + ttl * 1000;
    let id = store
        .create_join_token(&token_hash(&token), idc_id, type_id, expire, creator)
        .await?;
    Ok(JoinToken {
        id,
        token,
        idc_id,
        type_id,
        expire_time: Timestamp::from_millis(expire),
    })
}

/// Marks agents that missed their heartbeats OFFLINE, every third of `timeout`.
pub async fn watch_heartbeats(store: Store, timeout: Duration) {
    let mut ticker = tokio::time::interval(timeout / 3);
    loop {
        ticker.tick().await;
        let cutoff = chrono::Utc::now().timestamp_millis() - timeout.as_millis() as i64;
        match store.mark_silent_agents_offline(cutoff).await {
            Ok(hosts) if !hosts.is_empty() => {
                tracing::warn!(?hosts, "agents missed their heartbeats; hosts OFFLINE");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("heartbeat watch: {e}"),
        }
    }
}

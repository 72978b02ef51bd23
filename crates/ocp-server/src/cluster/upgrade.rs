//! What an upgrade must be: a package uploaded to the platform, of the same server kind, and
//! of a newer version than the one the cluster runs; and what it takes first: a physical
//! backup set, into the storage of the cluster's backup strategy or, without one, into a
//! directory beside the server's base directory on its host (`steps/upgrade.rs` runs it).

use std::cmp::Ordering;

use ocp_api::backup::{BackupMode, BackupStorageType};
use ocp_api::ErrorCode;
use ocp_store::{ClusterRecord, NewBackupSet, PackageRecord, ServerRecord, Store};

use crate::cluster::backup;
use crate::error::Failure;
use crate::vault::Vault;

/// A package version as seekdb's wheels are numbered: release numbers, then an optional
/// `.postN` (`1.3.0` < `1.3.0.post5` < `1.4.0` < `1.4.0.post1`). Other forms are not ordered.
fn version_key(version: &str) -> Option<(Vec<u64>, u64)> {
    let (release, post) = match version.split_once(".post") {
        Some((release, post)) => (release, post.parse().ok()?),
        None => (version, 0),
    };
    let mut numbers: Vec<u64> = release
        .split('.')
        .map(|n| n.parse().ok())
        .collect::<Option<_>>()?;
    // 1.4 is 1.4.0.
    while numbers.len() > 1 && numbers.last() == Some(&0) {
        numbers.pop();
    }
    Some((numbers, post))
}

/// How `new` compares with `old`, if both are versions as seekdb numbers them.
pub fn compare_versions(new: &str, old: &str) -> Option<Ordering> {
    Some(version_key(new)?.cmp(&version_key(old)?))
}

/// The package `rpm_file_name` names, checked as an upgrade of `cluster`: uploaded, of the
/// same kind of server, newer than the package the cluster runs.
pub async fn check(
    store: &Store,
    cluster: &ClusterRecord,
    rpm_file_name: &str,
) -> Result<PackageRecord, Failure> {
    let field = "rpmFileName";
    let name = rpm_file_name.trim();
    if name.is_empty() {
        return Err(Failure::field(field, "is required"));
    }
    let package = store.package_by_file_name(name).await?.ok_or_else(|| {
        Failure::field(field, format!("no software package {name:?} is uploaded"))
    })?;
    let Some(running_id) = cluster.package_id else {
        return Err(Failure::new(
            ErrorCode::IllegalArgument,
            format!(
                "cluster {} was taken over without naming its package, so the version it runs \
                 cannot be compared; an upgrade needs a cluster deployed from a package",
                cluster.name
            ),
        )
        .with_field(field));
    };
    let running = store.package(running_id).await?;
    if package.name != running.name {
        return Err(Failure::field(
            field,
            format!(
                "{name} is a {} package; cluster {} runs {}",
                package.name, cluster.name, running.name
            ),
        ));
    }
    match compare_versions(&package.version, &running.version) {
        Some(Ordering::Greater) => Ok(package),
        Some(_) => Err(Failure::field(
            field,
            format!(
                "{} is not newer than {}, which cluster {} runs: a downgrade or a reinstall \
                 of the same version is not an upgrade",
                package.version, running.version, cluster.name
            ),
        )),
        None => Err(Failure::field(
            field,
            format!(
                "versions {} and {} cannot be ordered (expected numbers such as 1.4.0 or \
                 1.4.0.post1)",
                package.version, running.version
            ),
        )),
    }
}

/// A checked upgrade: the package to run, the one run now, the cluster's one server, and the
/// backup set to take before anything stops.
pub struct UpgradePlan {
    pub package: PackageRecord,
    pub running: PackageRecord,
    pub server: ServerRecord,
    pub set: NewBackupSet,
}

/// The directory the set before an upgrade goes to when the cluster has no backup strategy:
/// beside the server's base directory, on its host.
pub fn local_backup_dir(server: &ServerRecord) -> String {
    format!("{}-backups", server.home_path.trim_end_matches('/'))
}

/// Checks an upgrade of `cluster` to the package `rpm_file_name`: the package (see
/// [`check`]), a RUNNING cluster of one server the platform deployed (a physical set stops
/// and starts it), and where the set before it goes.
pub async fn plan(
    store: &Store,
    vault: &Vault,
    cluster: &ClusterRecord,
    rpm_file_name: &str,
) -> Result<UpgradePlan, Failure> {
    let package = check(store, cluster, rpm_file_name).await?;
    standby_first(store, cluster, &package).await?;
    backup::check_backupable(cluster, BackupMode::PhysicalBackup)?;
    let server = backup::only_server(store, cluster).await?;
    backup::require_running(cluster, &server, "an upgrade starts from a RUNNING cluster")?;
    let running = store
        .package(cluster.package_id.unwrap_or_default())
        .await?;
    let strategy = store.backup_strategies(Some(cluster.id)).await?;
    let storage = match strategy.first() {
        Some(record) => {
            let kept = backup::strategy_s3(record);
            let base = &record
                .strategy
                .ob_backup_service_storage_config
                .ob_backup_storage_base_info;
            backup::check_storage(base, "backupStrategy", vault, kept.as_ref())?
        }
        None => backup::CheckedStorage {
            kind: BackupStorageType::BackupStorageFile,
            url: local_backup_dir(&server),
            s3: None,
        },
    };
    let set = NewBackupSet {
        cluster_id: cluster.id,
        cluster_name: cluster.name.clone(),
        server_id: server.id,
        mode: BackupMode::PhysicalBackup,
        storage_type: storage.kind,
        storage_url: storage.url,
        s3: storage.s3,
        ob_version: cluster.ob_version.clone(),
        root_password_sealed: cluster.root_password_sealed.clone(),
    };
    Ok(UpgradePlan {
        package,
        running,
        server,
        set,
    })
}

/// A primary is upgraded after its standby: a standby on an older version than its primary
/// may not read the newer one's log. So the standby goes first, then a switchover, then the
/// old primary (now the standby).
async fn standby_first(
    store: &Store,
    cluster: &ClusterRecord,
    package: &PackageRecord,
) -> Result<(), Failure> {
    for standby in crate::cluster::standby::standbys_of(store, cluster.id).await? {
        let Some(running) = standby.package_id else {
            continue;
        };
        let running = store.package(running).await?;
        if compare_versions(&running.version, &package.version) == Some(Ordering::Less) {
            return Err(Failure::new(
                ErrorCode::StateConflict,
                format!(
                    "cluster {} has standby {} on {}: upgrade the standby to {} first, switch \
                     over, then upgrade this cluster (its standby by then)",
                    cluster.name, standby.name, running.version, package.version
                ),
            )
            .with_field("rpmFileName"));
        }
    }
    Ok(())
}

/// Whether the server's `@@version_comment` is of `version` (a package version such as
/// `1.4.0.post1`): seekdb names its release there (`seekdb (r1.4.0.0)`), not a post release.
pub fn comment_is_of(comment: &str, version: &str) -> bool {
    let release = version.split_once(".post").map_or(version, |(r, _)| r);
    let Some(at) = comment.find("(r") else {
        return false;
    };
    let named = comment[at + 2..].split(')').next().unwrap_or("");
    compare_versions(named, release) == Some(Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seekdb_versions_are_ordered_with_their_post_releases() {
        use Ordering::*;
        for (new, old, order) in [
            ("1.4.0", "1.3.0", Greater),
            ("1.3.0.post5", "1.3.0", Greater),
            ("1.4.0", "1.3.0.post5", Greater),
            ("1.4.0.post1", "1.4.0", Greater),
            ("1.4.0", "1.4.0", Equal),
            ("1.4", "1.4.0", Equal),
            ("1.2.0", "1.4.0.post1", Less),
            ("1.10.0", "1.9.0", Greater),
        ] {
            assert_eq!(compare_versions(new, old), Some(order), "{new} vs {old}");
        }
        assert_eq!(compare_versions("1.4.0rc1", "1.4.0"), None);
    }

    #[test]
    fn a_version_comment_names_the_release_of_its_package() {
        let comment = "OceanBase 4.3.5.3 seekdb (r1.4.0.0) (Built 1-d0cbdf0e Sep  8 2026)";
        assert!(comment_is_of(comment, "1.4.0.post1"));
        assert!(comment_is_of(comment, "1.4.0"));
        assert!(!comment_is_of(comment, "1.3.0.post5"));
        assert!(!comment_is_of("OceanBase 4.3.5.3", "1.4.0"));
        assert_eq!(compare_versions("", "1.4.0"), None);
    }
}

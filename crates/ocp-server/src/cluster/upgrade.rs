//! What an upgrade must be: a package uploaded to the platform, of the same server kind, and
//! of a newer version than the one the cluster runs. The upgrade itself is not built yet, so a
//! request that passes these checks answers 10011.

use std::cmp::Ordering;

use ocp_api::ErrorCode;
use ocp_store::{ClusterRecord, PackageRecord, Store};

use crate::error::Failure;

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
        assert_eq!(compare_versions("", "1.4.0"), None);
    }
}

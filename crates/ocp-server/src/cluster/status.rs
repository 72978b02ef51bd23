//! The one rule for the status of a zone or a cluster, from the statuses of its servers.

use ocp_api::ob::{ClusterStatus, ServerStatus};

/// What a set of settled servers makes of their zone (a server status) and their cluster:
/// RUNNING when all run, STOPPED when all are stopped, UNAVAILABLE when any is, and RUNNING
/// otherwise (some run, some were stopped on purpose). No servers count as running.
pub fn derived(servers: impl IntoIterator<Item = ServerStatus>) -> (ServerStatus, ClusterStatus) {
    let (mut all_running, mut all_stopped, mut any_unavailable) = (true, true, false);
    for status in servers {
        all_running &= status == ServerStatus::Running;
        all_stopped &= status == ServerStatus::Stopped;
        any_unavailable |= status == ServerStatus::Unavailable;
    }
    if all_running {
        (ServerStatus::Running, ClusterStatus::Running)
    } else if all_stopped {
        (ServerStatus::Stopped, ClusterStatus::Stopped)
    } else if any_unavailable {
        (ServerStatus::Unavailable, ClusterStatus::Unavailable)
    } else {
        (ServerStatus::Running, ClusterStatus::Running)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ServerStatus::*;

    #[test]
    fn all_alike_servers_give_their_status() {
        assert_eq!(
            derived([Running, Running]),
            (Running, ClusterStatus::Running)
        );
        assert_eq!(derived([Stopped]), (Stopped, ClusterStatus::Stopped));
        assert_eq!(derived([]), (Running, ClusterStatus::Running));
    }

    #[test]
    fn one_unavailable_server_makes_the_cluster_unavailable() {
        assert_eq!(
            derived([Running, Unavailable, Stopped]),
            (Unavailable, ClusterStatus::Unavailable)
        );
        assert_eq!(
            derived([Unavailable, Unavailable]),
            (Unavailable, ClusterStatus::Unavailable)
        );
    }

    #[test]
    fn a_server_stopped_on_purpose_beside_running_ones_leaves_it_running() {
        assert_eq!(
            derived([Running, Stopped]),
            (Running, ClusterStatus::Running)
        );
    }
}

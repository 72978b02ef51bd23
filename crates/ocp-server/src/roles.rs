//! Permissions: the built-in roles (OCP's default roles), how a pattern such as
//! `HOST:*:READ` or `**` grants what a route requires, and the caller that holds them.

use std::sync::Arc;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: i64,
    pub username: String,
    pub permissions: Arc<Vec<String>>,
    /// The roles the permissions come from.
    pub role_ids: Vec<i64>,
    /// The user's own throttle `(limit, window_seconds)`, if any.
    pub rate_limit: Option<(u32, u32)>,
}

impl Caller {
    pub fn may(&self, required: &str) -> bool {
        self.permissions.iter().any(|p| pattern_grants(p, required))
    }
}

/// The built-in roles and their permission patterns (OCP's default roles).
pub const BUILTIN_ROLES: &[(&str, &str, &[&str])] = &[
    (
        "ADMIN",
        "the system administrator: every permission",
        &["**"],
    ),
    (
        "ALARM_MANAGER",
        "manages alerts and subscriptions",
        &[
            "ALARM:*:*",
            "CLUSTER:*:READ",
            "CLUSTER:*:TENANT:*:READ",
            "HOST:*:READ",
            "USER:*:READ",
        ],
    ),
    (
        "ALARM_VIEWER",
        "reads alerts and subscriptions",
        &[
            "ALARM:*:READ",
            "CLUSTER:*:READ",
            "CLUSTER:*:TENANT:*:READ",
            "HOST:*:READ",
            "USER:*:READ",
        ],
    ),
    ("AUDIT_VIEWER", "reads the audit history", &["AUDIT:*:READ"]),
    (
        "BACKUP_MANAGER",
        "manages backup and restore",
        &[
            "CLUSTER:*:BACKUP:*:*",
            "CLUSTER:*:READ",
            "CLUSTER:*:TENANT:*:READ",
            "HOST:*:READ",
            "ALARM:*:READ",
            "TASK:*:*",
            "PACKAGE:*:*",
        ],
    ),
    (
        "CLUSTER_MANAGER",
        "manages OceanBase clusters and what they use",
        &[
            "CLUSTER:*:*",
            "CLUSTER:*:TENANT:*:*",
            "HOST:*:*",
            "TASK:*:*",
            "ALARM:*:*",
            "USER:*:READ",
            "PACKAGE:*:*",
            "OBPROXY:*:*",
        ],
    ),
    (
        "CLUSTER_VIEWER",
        "reads OceanBase clusters and what they use",
        &[
            "CLUSTER:*:READ",
            "CLUSTER:*:TENANT:*:READ",
            "HOST:*:READ",
            "TASK:*:READ",
            "ALARM:*:READ",
            "PACKAGE:*:READ",
            "OBPROXY:*:READ",
        ],
    ),
    (
        "HOST_MANAGER",
        "manages hosts and software packages",
        &["HOST:*:*", "PACKAGE:*:*"],
    ),
    (
        "HOST_VIEWER",
        "reads hosts and software packages",
        &["HOST:*:READ", "PACKAGE:*:READ"],
    ),
    (
        "INSPECTION_MANAGER",
        "manages inspection rules",
        &["INSPECTION:*:*"],
    ),
    (
        "OBPROXY_MANAGER",
        "manages OBProxy clusters",
        &[
            "OBPROXY:*:*",
            "PACKAGE:*:*",
            "CLUSTER:*:READ",
            "HOST:*:READ",
        ],
    ),
    (
        "OBPROXY_VIEWER",
        "reads OBProxy clusters",
        &[
            "OBPROXY:*:READ",
            "PACKAGE:*:READ",
            "CLUSTER:*:READ",
            "HOST:*:READ",
        ],
    ),
    (
        "PACKAGE_MANAGER",
        "manages software packages",
        &["PACKAGE:*:*"],
    ),
    (
        "PACKAGE_VIEWER",
        "reads software packages",
        &["PACKAGE:*:READ"],
    ),
    ("PROFILE", "a user's own profile", &["PROFILE:*:*"]),
    (
        "PROPERTY_MANAGER",
        "manages system parameters",
        &["PROPERTY:*:*"],
    ),
    ("ROLE_MANAGER", "manages roles", &["ROLE:*:*"]),
    ("TASK_MANAGER", "manages tasks", &["TASK:*:*"]),
    (
        "TENANT_MANAGER",
        "manages tenants",
        &[
            "CLUSTER:*:TENANT:*:*",
            "CLUSTER:*:READ",
            "HOST:*:READ",
            "TASK:*:READ",
            "ALARM:*:READ",
            "OBPROXY:*:READ",
        ],
    ),
    (
        "TENANT_VIEWER",
        "reads tenants",
        &[
            "CLUSTER:*:TENANT:*:READ",
            "CLUSTER:*:READ",
            "HOST:*:READ",
            "TASK:*:READ",
            "ALARM:*:READ",
            "OBPROXY:*:READ",
        ],
    ),
    (
        "USER_MANAGER",
        "manages users",
        &["USER:*:*", "ROLE:*:READ"],
    ),
];

/// Whether a permission pattern grants `required` (both `RESOURCE:instance:...:action`;
/// `*` in the pattern matches one part, `**` everything).
pub fn pattern_grants(pattern: &str, required: &str) -> bool {
    if pattern == "**" {
        return true;
    }
    let have: Vec<&str> = pattern.split(':').collect();
    let want: Vec<&str> = required.split(':').collect();
    have.len() == want.len()
        && have
            .iter()
            .zip(&want)
            .all(|(h, w)| *h == "*" || h.eq_ignore_ascii_case(w))
}

/// Checks a permission pattern's syntax, for role create and update.
pub fn valid_pattern(pattern: &str) -> bool {
    pattern == "**"
        || (pattern.split(':').count() >= 3
            && pattern.split(':').all(|p| {
                p == "*"
                    || (!p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(pattern_grants("**", "TASK:*:READ"));
        assert!(pattern_grants("TASK:*:*", "TASK:*:UPDATE"));
        assert!(pattern_grants("TASK:*:READ", "TASK:*:READ"));
        assert!(!pattern_grants("TASK:*:READ", "TASK:*:UPDATE"));
        assert!(!pattern_grants("HOST:*:*", "TASK:*:READ"));
        assert!(!pattern_grants("CLUSTER:*:*", "CLUSTER:*:TENANT:*:READ"));
        assert!(valid_pattern("CLUSTER:*:TENANT:*:READ"));
        assert!(!valid_pattern("TASK"));
        assert!(!valid_pattern("TASK:*:RE AD"));
    }
}

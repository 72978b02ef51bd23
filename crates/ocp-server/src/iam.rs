//! Who may hand out what: the rules that keep a user or role manager from making anyone,
//! itself included, more powerful than it is.
//!
//! A caller may give a user only roles whose every permission it holds itself, may change a
//! user (password, roles, lock, throttle, profile) only if it holds every permission that
//! user holds, so that only an admin manages an admin, and may not edit a role it holds or
//! give a role a permission it lacks. "Holds" is pattern subsumption ([`pattern_covers`]):
//! `HOST:*:*` holds `HOST:*:READ`, only `**` holds `**`.

use ocp_api::ErrorCode;
use ocp_store::{RoleRecord, Store};

use crate::error::Failure;
use crate::roles::Caller;

/// Whether permission pattern `have` grants everything pattern `want` grants.
pub fn pattern_covers(have: &str, want: &str) -> bool {
    if have == "**" {
        return true;
    }
    if want == "**" {
        return false;
    }
    let have: Vec<&str> = have.split(':').collect();
    let want: Vec<&str> = want.split(':').collect();
    have.len() == want.len()
        && have
            .iter()
            .zip(&want)
            .all(|(h, w)| *h == "*" || (*w != "*" && h.eq_ignore_ascii_case(w)))
}

/// The first pattern of `want` that no pattern of `have` covers.
pub fn uncovered<'a>(have: &[String], want: &'a [String]) -> Option<&'a str> {
    want.iter()
        .find(|w| !have.iter().any(|h| pattern_covers(h, w)))
        .map(String::as_str)
}

fn denied(message: String) -> Failure {
    Failure::new(ErrorCode::AccessDenied, message)
}

/// The permissions a user holds through its roles (a role deleted meanwhile grants nothing).
pub async fn user_permissions(store: &Store, role_ids: &[i64]) -> Result<Vec<String>, Failure> {
    let mut permissions = Vec::new();
    for id in role_ids {
        match store.role(*id).await {
            Ok(role) => permissions.extend(role.permissions),
            Err(ocp_store::StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(permissions)
}

/// Refuses roles that grant what the caller lacks (`field` names them in the answer).
pub async fn ensure_may_grant(
    store: &Store,
    caller: &Caller,
    role_ids: &[i64],
    field: &str,
) -> Result<(), Failure> {
    for id in role_ids {
        let role = store
            .role(*id)
            .await
            .map_err(|_| Failure::field(field, format!("role {id} does not exist")))?;
        if let Some(missing) = uncovered(&caller.permissions, &role.permissions) {
            return Err(denied(format!(
                "user {} cannot give role {}: it grants {missing}, which {} does not hold",
                caller.username, role.name, caller.username
            ))
            .with_field(field));
        }
    }
    Ok(())
}

/// Refuses a change to user `target_id` unless the caller holds every permission it holds.
pub async fn ensure_may_manage(
    store: &Store,
    caller: &Caller,
    target_id: i64,
) -> Result<ocp_store::UserRecord, Failure> {
    let target = store.user(target_id).await?;
    if target.id == caller.user_id {
        return Ok(target);
    }
    let held = user_permissions(store, &target.role_ids).await?;
    if let Some(missing) = uncovered(&caller.permissions, &held) {
        return Err(denied(format!(
            "user {} cannot change user {}: {} holds {missing}, which {} does not",
            caller.username, target.username, target.username, caller.username
        )));
    }
    Ok(target)
}

/// Refuses role permissions the caller lacks.
pub fn ensure_may_give(caller: &Caller, permissions: &[String]) -> Result<(), Failure> {
    match uncovered(&caller.permissions, permissions) {
        None => Ok(()),
        Some(missing) => Err(denied(format!(
            "user {} cannot give a role {missing}, which it does not hold",
            caller.username
        ))
        .with_field("permissions")),
    }
}

/// Refuses an edit of a role the caller holds, or of one that grants more than the caller.
pub fn ensure_may_edit(caller: &Caller, role: &RoleRecord) -> Result<(), Failure> {
    if caller.role_ids.contains(&role.id) {
        return Err(denied(format!(
            "user {} holds role {} and so cannot change it; another manager must",
            caller.username, role.name
        )));
    }
    if let Some(missing) = uncovered(&caller.permissions, &role.permissions) {
        return Err(denied(format!(
            "user {} cannot change role {}: it grants {missing}, which {} does not hold",
            caller.username, role.name, caller.username
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::roles::pattern_grants;

    /// Every text of two or three parts over `parts`.
    fn texts(parts: &[&str]) -> Vec<String> {
        let mut all = Vec::new();
        for a in parts {
            for b in parts {
                all.push(format!("{a}:{b}"));
                for c in parts {
                    all.push(format!("{a}:{b}:{c}"));
                }
            }
        }
        all
    }

    /// Every pattern of two or three parts over {A, B, *}, and `**`.
    fn patterns() -> Vec<String> {
        let mut all = texts(&["A", "B", "*"]);
        all.push("**".into());
        all
    }

    /// Every required permission of two or three parts over {A, B, *, Z}: Z stands for any
    /// name no pattern spells, so "grants all of these" means "grants all there are".
    fn requirements() -> Vec<String> {
        texts(&["A", "B", "*", "Z"])
    }

    fn grants_all(have: &[String], want: &[String], universe: &[String]) -> bool {
        universe.iter().all(|r| {
            !want.iter().any(|w| pattern_grants(w, r)) || have.iter().any(|h| pattern_grants(h, r))
        })
    }

    #[test]
    fn covering_is_exactly_granting_everything_the_other_grants() {
        let (patterns, universe) = (patterns(), requirements());
        for have in &patterns {
            for want in &patterns {
                let h = std::slice::from_ref(have);
                let w = std::slice::from_ref(want);
                assert_eq!(
                    pattern_covers(have, want),
                    grants_all(h, w, &universe),
                    "{have} covers {want}"
                );
            }
        }
    }

    #[test]
    fn sets_of_patterns_cover_as_their_grants() {
        let (patterns, universe) = (patterns(), requirements());
        let mut rng = rand::rngs::StdRng::seed_from_u64(13);
        for _ in 0..5000 {
            let pick = |rng: &mut rand::rngs::StdRng| -> Vec<String> {
                let n = rng.gen_range(0..4);
                patterns.choose_multiple(rng, n).cloned().collect()
            };
            let (have, want) = (pick(&mut rng), pick(&mut rng));
            assert_eq!(
                uncovered(&have, &want).is_none(),
                grants_all(&have, &want, &universe),
                "{have:?} covers {want:?}"
            );
        }
    }
}

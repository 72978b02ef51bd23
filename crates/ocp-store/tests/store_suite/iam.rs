//! Users and roles, and the one-time signatures of signed calls.

use ocp_store::{NewUser, Store, StoreError};

suite!(users_and_roles, signatures_are_taken_once_until_they_expire,);

async fn users_and_roles(store: Store) {
    let role = store
        .create_role("OPS", Some("ops"), &["HOST:*:READ".into()])
        .await
        .unwrap();
    assert!(matches!(
        store.create_role("OPS", None, &[]).await,
        Err(StoreError::AlreadyExists { .. })
    ));
    let user = store
        .create_user(&NewUser {
            username: "alice".into(),
            password_hash: "$argon2id$x".into(),
            email: Some("a@example.com".into()),
            description: None,
            role_ids: vec![role.id],
            rate_limit: Some((10, 60)),
        })
        .await
        .unwrap();
    assert_eq!(user.role_ids, vec![role.id]);
    assert_eq!(user.rate_limit, Some((10, 60)));
    assert!(store.role_in_use(role.id).await.unwrap());
    store.set_user_locked(user.id, true).await.unwrap();
    assert!(store.user_by_name("alice").await.unwrap().unwrap().locked);
    let (page, total) = store.users(0, 10, "username", false).await.unwrap();
    assert_eq!((page.len(), total), (1, 1));
    let key = store
        .create_access_key(user.id, "AK1", "sealed")
        .await
        .unwrap();
    assert_eq!(store.access_key("AK1").await.unwrap().unwrap().id, key.id);
    store.delete_user(user.id).await.unwrap();
    assert!(
        store.access_key("AK1").await.unwrap().is_none(),
        "keys go with their user"
    );
    assert!(matches!(
        store.user(user.id).await,
        Err(StoreError::NotFound { .. })
    ));
}

/// A signed request is remembered once, by whichever server sees it first, until it expires.
async fn signatures_are_taken_once_until_they_expire(store: Store) {
    let now = ocp_store::now_millis();
    assert!(store.remember_signature("a", now + 60_000).await.unwrap());
    assert!(!store.remember_signature("a", now + 60_000).await.unwrap());
    assert!(store.remember_signature("old", now - 1).await.unwrap());
    assert_eq!(store.forget_expired_signatures().await.unwrap(), 1);
    assert!(!store.remember_signature("a", now + 60_000).await.unwrap());
    assert!(store.remember_signature("old", now + 60_000).await.unwrap());
    // Many in one transaction, as the server's batch writer sends them: a digest given
    // twice is new once, a known one not at all.
    let later = now + 60_000;
    let calls = [("b", later), ("a", later), ("b", later), ("c", later)]
        .map(|(digest, at)| (digest.to_string(), at));
    assert_eq!(
        store.remember_signatures(&calls).await.unwrap(),
        vec![true, false, false, true]
    );
}

//! Alerts: events, channels, notifications and their attempts.

use ocp_api::alarm::{AlarmStatus, ChannelType, NotificationStatus};
use ocp_store::Store;

suite!(alarms_open_once_resolve_once_and_notifications_are_claimed_once,);

/// One open event per rule and target; a resolve or a notified mark takes effect once;
/// a notification is claimed by one sender, its attempts are kept, and a sender's claim
/// that runs out frees it again.
async fn alarms_open_once_resolve_once_and_notifications_are_claimed_once(store: Store) {
    use ocp_store::{
        AlarmListFilter, AttemptOutcome, ChannelRecord, NewEvent, NewNotification,
        NotificationListFilter, RuleRecord,
    };
    let rule = RuleRecord {
        id: 0,
        name: "host_load_high".into(),
        display_name: "load is high".into(),
        app_type: "OCP".into(),
        scope: "Host".into(),
        level: 2,
        description: String::new(),
        expression: Some("{}".into()),
        duration_secs: 0,
        interval_secs: 10,
        clear_secs: 300,
        summary_template: "${alarm_target}".into(),
        description_template: String::new(),
        builtin: true,
        enabled: true,
        create_time: 0,
        update_time: 0,
    };
    let rule_id = store.insert_alarm_rule(&rule).await.unwrap().unwrap();
    assert_eq!(
        store.insert_alarm_rule(&rule).await.unwrap(),
        None,
        "seeded once"
    );
    let event = |target: &str| NewEvent {
        rule_id,
        alarm_type: rule.name.clone(),
        app_type: "OCP".into(),
        scope: "Host".into(),
        level: 2,
        target: target.into(),
        status: AlarmStatus::Active,
        summary: format!("{target} is busy"),
        description: String::new(),
        labels: r#"{"svr_ip":"10.0.0.1"}"#.into(),
        value: Some(3.5),
    };
    let id = store
        .open_alarm(&event("svr_ip=10.0.0.1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.open_alarm(&event("svr_ip=10.0.0.1")).await.unwrap(),
        None
    );
    let other = store.open_alarm(&event("svr_ip=10.0.0.2")).await.unwrap();
    assert!(other.is_some());
    assert_eq!(store.open_alarms(rule_id).await.unwrap().len(), 2);

    assert!(store.mark_alarm_notified(id, None).await.unwrap());
    assert!(
        !store.mark_alarm_notified(id, None).await.unwrap(),
        "moved once"
    );
    assert!(!store
        .refresh_alarm(id, AlarmStatus::Active, Some(4.0), "s", "d")
        .await
        .unwrap());
    assert!(store
        .refresh_alarm(id, AlarmStatus::Silenced, Some(4.0), "s", "d")
        .await
        .unwrap());

    let channel = store
        .insert_alarm_channel(&ChannelRecord {
            id: 0,
            name: "hook".into(),
            channel_type: ChannelType::Http,
            config: "{}".into(),
            message_template: String::new(),
            resolved_message_template: String::new(),
            rate_limit_per_minute: 0,
            max_attempts: 3,
            create_time: 0,
            update_time: 0,
        })
        .await
        .unwrap();
    store
        .queue_notifications(&[NewNotification {
            alarm_id: id,
            channel_id: channel,
            subscription_id: None,
            recipient_uid: "1".into(),
            kind: "ALERT".into(),
            message: "busy".into(),
        }])
        .await
        .unwrap();
    let claimed = store.claim_notifications(60_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(store
        .claim_notifications(60_000, 10)
        .await
        .unwrap()
        .is_empty());
    store
        .record_attempt(
            &claimed[0],
            &AttemptOutcome {
                successful: false,
                response: "refused".into(),
                status: NotificationStatus::Pending,
                next_attempt_at: 0,
            },
        )
        .await
        .unwrap();
    // Due again at once (next_attempt_at 0); this time the claim runs out unrecorded.
    let again = store.claim_notifications(-1, 10).await.unwrap();
    assert_eq!(again[0].attempts, 1);
    let reclaimed = store.claim_notifications(60_000, 10).await.unwrap();
    assert_eq!(reclaimed.len(), 1, "an expired claim is taken over");
    store
        .record_attempt(
            &reclaimed[0],
            &AttemptOutcome {
                successful: true,
                response: "HTTP 200".into(),
                status: NotificationStatus::Success,
                next_attempt_at: 0,
            },
        )
        .await
        .unwrap();
    let attempts = store.notification_attempts(&[claimed[0].id]).await.unwrap();
    let results: Vec<(i64, bool)> = attempts.iter().map(|a| (a.attempt, a.successful)).collect();
    assert_eq!(results, vec![(1, false), (2, true)]);
    assert_eq!(store.notifications_sent_since(channel, 0).await.unwrap(), 1);

    let active = AlarmListFilter {
        status: Some(AlarmStatus::Active),
        labels: vec![("svr_ip".into(), "10.0.0.1".into())],
        keyword: Some("10.0.0".into()),
        ..Default::default()
    };
    let (rows, total) = store.alarms(&active, 0, 10).await.unwrap();
    assert_eq!((rows.len(), total), (1, 1));
    let elsewhere = AlarmListFilter {
        labels: vec![("svr_ip".into(), "10.0.0.2".into())],
        ..Default::default()
    };
    assert_eq!(store.alarms(&elsewhere, 0, 10).await.unwrap().1, 0);
    let joined = NotificationListFilter {
        event: AlarmListFilter {
            level: Some(2),
            ..Default::default()
        },
        status: Some(NotificationStatus::Success),
        ..Default::default()
    };
    let (rows, total) = store.notifications(&joined, 0, 10).await.unwrap();
    assert_eq!((rows.len(), total), (1, 1));
    let (notified, its_event) = &rows[0];
    assert_eq!((notified.alarm_id, its_event.id), (id, id));
    assert_eq!(its_event.alarm_type, "host_load_high");

    assert!(store.resolve_alarm(id).await.unwrap());
    assert!(!store.resolve_alarm(id).await.unwrap(), "resolved once");
    let reopened = store.open_alarm(&event("svr_ip=10.0.0.1")).await.unwrap();
    assert!(
        reopened.is_some_and(|r| r != id),
        "a new event after the resolve"
    );
    store.delete_alarm_rule(rule_id).await.unwrap();
    assert!(store.alarm(id).await.is_err(), "events go with their rule");
}

//! `/api/v2/alarm/rules`: alert items, built-in and one's own.

use axum::extract::State;
use ocp_api::alarm::{AlarmRule, AlarmRuleRequest, AlarmScope, AppType, RuleExpression};
use ocp_api::{ErrorCode, PageData, PageQuery, Timestamp};
use ocp_store::RuleRecord;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::*;
use crate::auth::{perm, Authz};
use crate::http::{ApiJson, ApiPath, ApiQuery, ApiResult, Data, Failure, NoData};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(get_rule, update_rule, delete_rule))
}

fn rule_view(r: RuleRecord) -> AlarmRule {
    AlarmRule {
        id: r.id,
        name: r.name,
        alarm_name: r.display_name,
        app_type: r.app_type,
        scope: r.scope,
        level: r.level as i32,
        description: r.description,
        expression: r.expression.and_then(|e| serde_json::from_str(&e).ok()),
        duration_seconds: r.duration_secs,
        evaluation_interval_seconds: r.interval_secs,
        clear_seconds: r.clear_secs,
        summary_template: r.summary_template,
        description_template: r.description_template,
        builtin: r.builtin,
        enabled: r.enabled,
        create_time: Timestamp::from_millis(r.create_time),
        update_time: Timestamp::from_millis(r.update_time),
    }
}

/// Lists alert items, built-in and user-defined.
#[utoipa::path(get, path = "/api/v2/alarm/rules", tag = "alarm", params(PageQuery),
    responses((status = 200, body = PageData<AlarmRule>)))]
async fn list_rules(
    _: Authz<perm::AlarmRead>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<PageData<AlarmRule>> {
    let paging = paging(&query)?;
    let rules = state.store.alarm_rules().await?;
    Ok(Data(page(rules, &paging, rule_view)))
}

/// One alert item.
#[utoipa::path(get, path = "/api/v2/alarm/rules/{id}", tag = "alarm", params(("id" = i64, Path)),
    responses((status = 200, body = AlarmRule)))]
async fn get_rule(
    _: Authz<perm::AlarmRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<AlarmRule> {
    Ok(Data(rule_view(state.store.alarm_rule(id).await?)))
}

fn check_expression(e: &RuleExpression) -> Result<(), Failure> {
    if e.metric.is_empty()
        || !e
            .metric
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(Failure::field(
            "expression.metric",
            "must be a metric name (letters, digits, _)",
        ));
    }
    if !e.threshold.is_finite() {
        return Err(Failure::field("expression.threshold", "must be a number"));
    }
    if e.divisor.is_some_and(|d| d == 0.0 || !d.is_finite()) {
        return Err(Failure::field(
            "expression.divisor",
            "must be a non-zero number",
        ));
    }
    Ok(())
}

/// Applies a request to a rule and checks the result.
fn apply_rule(r: &mut RuleRecord, q: AlarmRuleRequest) -> Result<(), Failure> {
    if let Some(v) = q.alarm_name {
        r.display_name = v;
    }
    if let Some(v) = q.app_type {
        r.app_type = v;
    }
    if let Some(v) = q.scope {
        r.scope = v;
    }
    if let Some(v) = q.level {
        r.level = i64::from(v);
    }
    if let Some(v) = q.description {
        r.description = v;
    }
    if let Some(e) = q.expression {
        check_expression(&e)?;
        r.expression = Some(serde_json::to_string(&e).map_err(Failure::internal)?);
    }
    if let Some(t) = q.threshold {
        let mut e: RuleExpression = r
            .expression
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok())
            .ok_or_else(|| Failure::field("threshold", "the item has no expression"))?;
        e.threshold = t;
        check_expression(&e)?;
        r.expression = Some(serde_json::to_string(&e).map_err(Failure::internal)?);
    }
    if let Some(v) = q.duration_seconds {
        r.duration_secs = v;
    }
    if let Some(v) = q.evaluation_interval_seconds {
        r.interval_secs = v;
    }
    if let Some(v) = q.clear_seconds {
        r.clear_secs = v;
    }
    if let Some(v) = q.summary_template {
        r.summary_template = v;
    }
    if let Some(v) = q.description_template {
        r.description_template = v;
    }
    if let Some(v) = q.enabled {
        r.enabled = v;
    }
    if r.display_name.trim().is_empty() {
        return Err(Failure::field("alarmName", "is required"));
    }
    if AppType::parse(&r.app_type).is_none() {
        return Err(Failure::field("appType", "must be OB or OCP"));
    }
    if AlarmScope::parse(&r.scope).is_none() {
        let all = names(AlarmScope::ALL, AlarmScope::as_str).join(", ");
        return Err(Failure::field("scope", format!("must be one of {all}")));
    }
    if !(1..=5).contains(&r.level) {
        return Err(Failure::field("level", "must be 1 to 5"));
    }
    if !(0..=86_400).contains(&r.duration_secs) {
        return Err(Failure::field("durationSeconds", "must be 0 to 86400"));
    }
    if !(1..=86_400).contains(&r.interval_secs) {
        return Err(Failure::field(
            "evaluationIntervalSeconds",
            "must be 1 to 86400",
        ));
    }
    if r.clear_secs < r.interval_secs || r.clear_secs > 7 * 86_400 {
        return Err(Failure::field(
            "clearSeconds",
            "must be from the evaluation interval up to 604800",
        ));
    }
    if r.summary_template.trim().is_empty() {
        return Err(Failure::field("summaryTemplate", "is required"));
    }
    Ok(())
}

/// Creates a user-defined alert item.
#[utoipa::path(post, path = "/api/v2/alarm/rules", tag = "alarm", request_body = AlarmRuleRequest,
    responses((status = 200, body = AlarmRule)))]
async fn create_rule(
    _: Authz<perm::AlarmCreate>,
    State(state): State<AppState>,
    ApiJson(q): ApiJson<AlarmRuleRequest>,
) -> ApiResult<AlarmRule> {
    let name = q.name.clone().unwrap_or_default();
    if name.is_empty()
        || name.len() > 128
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(Failure::field(
            "name",
            "must be 1 to 128 letters, digits and underscores",
        ));
    }
    if q.expression.is_none() {
        return Err(Failure::field("expression", "is required"));
    }
    let mut rule = RuleRecord {
        id: 0,
        name: name.clone(),
        display_name: String::new(),
        app_type: "OB".into(),
        scope: "ObServer".into(),
        level: 3,
        description: String::new(),
        expression: None,
        duration_secs: 0,
        interval_secs: 60,
        clear_secs: 300,
        summary_template: "${alarm_target} ${alarm_name}".into(),
        description_template:
            "${alarm_target} ${alarm_name}: ${value}, threshold ${alarm_threshold}".into(),
        builtin: false,
        enabled: true,
        create_time: 0,
        update_time: 0,
    };
    apply_rule(&mut rule, q)?;
    let id = state.store.insert_alarm_rule(&rule).await?.ok_or_else(|| {
        Failure::new(
            ErrorCode::AlreadyExists,
            format!("alert item {name} exists"),
        )
    })?;
    Ok(Data(rule_view(state.store.alarm_rule(id).await?)))
}

/// Changes an alert item (built-in ones too: threshold, cycles, level, templates, enabled).
#[utoipa::path(put, path = "/api/v2/alarm/rules/{id}", tag = "alarm", params(("id" = i64, Path)),
    request_body = AlarmRuleRequest, responses((status = 200, body = AlarmRule)))]
async fn update_rule(
    _: Authz<perm::AlarmUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(q): ApiJson<AlarmRuleRequest>,
) -> ApiResult<AlarmRule> {
    let mut rule = state.store.alarm_rule(id).await?;
    if q.name.as_ref().is_some_and(|n| *n != rule.name) {
        return Err(Failure::field("name", "an item's name cannot change"));
    }
    apply_rule(&mut rule, q)?;
    state.store.update_alarm_rule(&rule).await?;
    Ok(Data(rule_view(state.store.alarm_rule(id).await?)))
}

/// Deletes a user-defined alert item with its events; built-in items can only be disabled.
#[utoipa::path(delete, path = "/api/v2/alarm/rules/{id}", tag = "alarm", params(("id" = i64, Path)),
    responses((status = 200)))]
async fn delete_rule(
    _: Authz<perm::AlarmDelete>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<NoData, Failure> {
    let rule = state.store.alarm_rule(id).await?;
    if rule.builtin {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!(
                "built-in alert item {} can be disabled, not deleted",
                rule.name
            ),
        ));
    }
    state.store.delete_alarm_rule(id).await?;
    Ok(NoData)
}

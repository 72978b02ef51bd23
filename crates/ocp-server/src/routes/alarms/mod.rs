//! `/api/v2/alarm/...`: alert events and notifications as OCP documents them, and the
//! items (`rules`), channels, subscriptions and blocking conditions (`silencers`) that
//! make and route them: one file per resource, and here the helpers they share.

mod channels;
mod events;
mod notifications;
mod rules;
mod silencers;
mod subscriptions;

use ocp_api::{PageData, PageQuery};
use utoipa_axum::router::OpenApiRouter;

use crate::http::{Failure, Paging};
use crate::state::AppState;

/// The documented page limit of the alarm lists.
pub(super) const MAX_ALARM_PAGE: i64 = 200;

pub(super) fn paging(query: &PageQuery) -> Result<Paging, Failure> {
    let paging = Paging::parse(query, &[("id", "id")])?;
    if paging.size > MAX_ALARM_PAGE {
        return Err(Failure::field(
            "size",
            format!("must be at most {MAX_ALARM_PAGE}"),
        ));
    }
    Ok(paging)
}

pub(super) fn millis(field: &str, text: &Option<String>) -> Result<Option<i64>, Failure> {
    crate::http::time_millis(field, text)
}

pub(super) fn level(field: &str, text: &Option<String>) -> Result<Option<i64>, Failure> {
    text.as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| match t.parse::<i64>() {
            Ok(n) if (1..=5).contains(&n) => Ok(n),
            _ => Err(Failure::field(field, "must be 1 to 5")),
        })
        .transpose()
}

pub(super) fn one_of<T>(
    field: &str,
    text: &Option<String>,
    parse: fn(&str) -> Option<T>,
    all: &[&str],
) -> Result<Option<T>, Failure> {
    text.as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| {
            parse(t)
                .ok_or_else(|| Failure::field(field, format!("must be one of {}", all.join(", "))))
        })
        .transpose()
}

pub(super) fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| name(*v)).collect()
}

pub(super) fn page<R, T>(rows: Vec<R>, paging: &Paging, view: fn(R) -> T) -> PageData<T> {
    let total = rows.len() as i64;
    let contents = rows
        .into_iter()
        .skip(paging.offset() as usize)
        .take(paging.size as usize)
        .map(view)
        .collect();
    PageData::new(contents, total, paging.page, paging.size)
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(events::router())
        .merge(notifications::router())
        .merge(rules::router())
        .merge(channels::router())
        .merge(subscriptions::router())
        .merge(silencers::router())
}

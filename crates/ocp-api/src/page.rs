//! Paging: the `page`/`size`/`sort` query and the `contents`/`page` list shape.

use serde::{Deserialize, Serialize};

pub const DEFAULT_PAGE_SIZE: i64 = 10;
pub const MAX_PAGE_SIZE: i64 = 2000;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Page {
    pub total_elements: i64,
    pub total_pages: i64,
    /// 1-based number of this page.
    pub number: i64,
    pub size: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PageData<T> {
    pub contents: Vec<T>,
    pub page: Page,
}

impl<T> PageData<T> {
    pub fn new(contents: Vec<T>, total: i64, number: i64, size: i64) -> Self {
        let total_pages = if size == 0 {
            0
        } else {
            (total + size - 1) / size
        };
        Self {
            contents,
            page: Page {
                total_elements: total,
                total_pages,
                number,
                size,
            },
        }
    }
}

/// The paging part of a list query. Strings are kept so the server can name the bad field.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PageQuery {
    /// Page number, from 1.
    pub page: Option<String>,
    /// Entries per page, 1 to 2000 (default 10).
    pub size: Option<String>,
    /// `field,asc` or `field,desc`.
    pub sort: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

//! Decoding of typed columns: a value the code does not know is a corrupt row, never a default.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{Result, StoreError};

/// An enum stored as its wire text.
pub(crate) fn enum_field<T>(row: &AnyRow, column: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or_else(|| StoreError::Corrupt(format!("{column} = {text}")))
}

/// An enum stored as its wire text, or NULL.
pub(crate) fn optional_enum_field<T>(
    row: &AnyRow,
    column: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| parse(&text).ok_or_else(|| StoreError::Corrupt(format!("{column} = {text}"))))
        .transpose()
}

//! The compute catalog: regions, IDCs (each in a region) and host types. The three share one
//! shape (a unique name, a description, times), so one set of statements serves them.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{now_millis, Result, Store, StoreError};

/// Which catalog a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalog {
    Region,
    Idc,
    HostType,
}

impl Catalog {
    fn table(self) -> &'static str {
        match self {
            Catalog::Region => "compute_region",
            Catalog::Idc => "compute_idc",
            Catalog::HostType => "compute_host_type",
        }
    }

    pub fn entity(self) -> &'static str {
        match self {
            Catalog::Region => "region",
            Catalog::Idc => "IDC",
            Catalog::HostType => "host type",
        }
    }
}

#[derive(Debug, Clone)]
pub struct CatalogRecord {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    /// The region of an IDC, and its name.
    pub region_id: Option<i64>,
    pub region_name: Option<String>,
    pub create_time: i64,
    pub update_time: i64,
}

fn record_from_row(row: &AnyRow) -> Result<CatalogRecord> {
    Ok(CatalogRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        region_id: row.try_get("region_id")?,
        region_name: row.try_get("region_name")?,
        create_time: row.try_get("create_time")?,
        update_time: row.try_get("update_time")?,
    })
}

impl Catalog {
    /// The entries with their region's name, read in the same statement.
    fn select(self) -> String {
        format!(
            "SELECT t.*, (SELECT r.name FROM compute_region r WHERE r.id = t.region_id) \
             AS region_name FROM {} t",
            self.table()
        )
    }
}

impl Store {
    pub async fn create_catalog_entry(
        &self,
        catalog: Catalog,
        name: &str,
        description: Option<&str>,
        region_id: Option<i64>,
    ) -> Result<CatalogRecord> {
        let _w = self.writer().await;
        let now = now_millis();
        let text = format!(
            "INSERT INTO {} (name, description, region_id, create_time, update_time) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
            catalog.table()
        );
        let id: i64 = sqlx::query_scalar(&self.sql(&text))
            .bind(name)
            .bind(description)
            .bind(region_id)
            .bind(now)
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .and_then(crate::first_row)
            .map_err(|e| StoreError::from_unique(e, catalog.entity(), name))?;
        self.catalog_entry(catalog, id).await
    }

    pub async fn catalog_entry(&self, catalog: Catalog, id: i64) -> Result<CatalogRecord> {
        let text = format!("{} WHERE t.id = ?", catalog.select());
        let row = sqlx::query(&self.sql(&text))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: catalog.entity(),
                key: id.to_string(),
            })?;
        record_from_row(&row)
    }

    /// A page of a catalog by id (descending when asked), and the total.
    pub async fn catalog_entries(
        &self,
        catalog: Catalog,
        offset: i64,
        limit: i64,
        sort_column: &str,
        descending: bool,
    ) -> Result<(Vec<CatalogRecord>, i64)> {
        let column = match sort_column {
            "name" | "create_time" | "update_time" => sort_column,
            _ => "id",
        };
        let dir = if descending { "DESC" } else { "ASC" };
        let text = format!(
            "{} ORDER BY t.{column} {dir} LIMIT ? OFFSET ?",
            catalog.select()
        );
        let rows = sqlx::query(&self.sql(&text))
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let count = format!("SELECT COUNT(*) FROM {}", catalog.table());
        let total: i64 = sqlx::query_scalar(&count).fetch_one(&self.pool).await?;
        let records = rows.iter().map(record_from_row).collect::<Result<_>>()?;
        Ok((records, total))
    }

    /// How many IDCs stand in the region.
    pub async fn idcs_in_region(&self, region_id: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar(&self.sql("SELECT COUNT(*) FROM compute_idc WHERE region_id = ?"))
                .bind(region_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub async fn delete_catalog_entry(&self, catalog: Catalog, id: i64) -> Result<()> {
        self.delete_row(catalog.table(), catalog.entity(), id).await
    }
}

//! The objects of the users' databases: tables, views, indexes, procedures and functions, as
//! `information_schema` lists them.

use crate::logical::SYSTEM_DATABASES;
use crate::{optional, text, ObClient, Result};

/// One object of a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRow {
    /// `TABLE`, `VIEW`, `INDEX`, `STORED_PROCEDURE` or `FUNCTION`.
    pub kind: String,
    pub schema: String,
    pub name: String,
    /// The table an index is on.
    pub table: Option<String>,
}

impl ObClient {
    /// Every object of every database but the server's own, by database, kind and name.
    pub async fn objects(&mut self) -> Result<Vec<ObjectRow>> {
        let system = SYSTEM_DATABASES
            .iter()
            .map(|d| format!("'{d}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let statement = format!(
            "SELECT TABLE_SCHEMA, CASE WHEN TABLE_TYPE = 'BASE TABLE' THEN 'TABLE' ELSE 'VIEW' END, \
               TABLE_NAME, NULL FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ({system}) \
             UNION ALL \
             SELECT DISTINCT TABLE_SCHEMA, 'INDEX', INDEX_NAME, TABLE_NAME \
               FROM information_schema.STATISTICS \
               WHERE TABLE_SCHEMA NOT IN ({system}) AND INDEX_NAME <> 'PRIMARY' \
             UNION ALL \
             SELECT ROUTINE_SCHEMA, \
               CASE WHEN ROUTINE_TYPE = 'PROCEDURE' THEN 'STORED_PROCEDURE' ELSE 'FUNCTION' END, \
               ROUTINE_NAME, NULL FROM information_schema.ROUTINES \
               WHERE ROUTINE_SCHEMA NOT IN ({system}) \
             ORDER BY 1, 2, 3, 4"
        );
        let rows = self.rows(&statement).await?;
        rows.iter()
            .map(|row| {
                Ok(ObjectRow {
                    schema: text(row, 0)?,
                    kind: text(row, 1)?,
                    name: text(row, 2)?,
                    table: optional(row, 3)?,
                })
            })
            .collect()
    }
}

/// A name as an identifier in a statement: in backquotes, a backquote in it doubled.
fn identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

impl ObClient {
    /// The rows of each table of the users' databases, as `database.table`, in name order:
    /// every table is read to its end, so what answers has data that reads back. At most
    /// `limit` tables are counted; the rest are listed with `None`.
    pub async fn table_rows(&mut self, limit: usize) -> Result<Vec<(String, Option<i64>)>> {
        let tables: Vec<(String, String)> = self
            .objects()
            .await?
            .into_iter()
            .filter(|o| o.kind == "TABLE")
            .map(|o| (o.schema, o.name))
            .collect();
        let mut out = Vec::with_capacity(tables.len());
        for (i, (schema, name)) in tables.into_iter().enumerate() {
            let rows = match i < limit {
                true => Some(
                    self.fetch_i64(&format!(
                        "SELECT COUNT(*) FROM {}.{}",
                        identifier(&schema),
                        identifier(&name)
                    ))
                    .await?,
                ),
                false => None,
            };
            out.push((format!("{schema}.{name}"), rows));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_identifier_keeps_its_backquotes_inside_its_own() {
        assert_eq!(super::identifier("t"), "`t`");
        assert_eq!(super::identifier("a`b"), "`a``b`");
    }
}

//! What the server knows of its tenant: its system variables (read with their metadata, set
//! with `SET GLOBAL`), its character set and whitelist, and the resources it has
//! (`V$OB_SERVER_STAT`).

use crate::{check_parameter_name, optional, quote, text, ObClient, ObError, Result};

/// A system variable of the tenant, as `SHOW GLOBAL VARIABLES` shows it, with what
/// `DBA_OB_SYS_VARIABLES` and `__all_sys_variable` say of it.
#[derive(Debug, Clone)]
pub struct VariableRow {
    pub name: String,
    /// As shown (`ON`, `STRICT_ALL_TABLES,...`).
    pub value: String,
    /// As stored (`1`, a bit set as a number).
    pub stored: String,
    /// As stored.
    pub default_value: Option<String>,
    pub min_value: Option<String>,
    pub max_value: Option<String>,
    pub info: String,
    pub readonly: bool,
    /// A variable of Oracle-mode tenants only.
    pub oracle_only: bool,
}

/// The server's resources, which are its only tenant's.
#[derive(Debug, Clone, Default)]
pub struct ServerStat {
    pub cpu_capacity: f64,
    pub memory_limit: i64,
    pub log_disk_capacity: i64,
    pub log_disk_in_use: i64,
    pub data_disk_capacity: i64,
    pub data_disk_in_use: i64,
}

/// The tenant's own settings.
#[derive(Debug, Clone, Default)]
pub struct TenantSettings {
    pub charset: String,
    pub collation: String,
    /// `ob_tcp_invited_nodes`.
    pub whitelist: String,
    pub read_only: bool,
}

// The flags of `__all_sys_variable`.
const READONLY: i64 = 4;
const INVISIBLE: i64 = 16;
const ORACLE_ONLY: i64 = 512;

impl ObClient {
    /// Every visible global system variable, by name.
    pub async fn variables(&mut self) -> Result<Vec<VariableRow>> {
        let rows = self
            .rows(
                "SELECT v.NAME, g.VARIABLE_VALUE, v.VALUE, v.DEFAULT_VALUE, v.MIN_VALUE, \
                 v.MAX_VALUE, v.INFO, CAST(s.flags AS CHAR) \
                 FROM oceanbase.DBA_OB_SYS_VARIABLES v \
                 JOIN information_schema.GLOBAL_VARIABLES g ON g.VARIABLE_NAME = v.NAME \
                 JOIN oceanbase.__all_sys_variable s ON s.name = v.NAME \
                 ORDER BY v.NAME",
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let flags: i64 = text(row, 7)?
                .parse()
                .map_err(|e| ObError::Protocol(format!("variable flags: {e}")))?;
            if flags & INVISIBLE != 0 {
                continue;
            }
            out.push(VariableRow {
                name: text(row, 0)?,
                value: text(row, 1)?,
                stored: text(row, 2)?,
                default_value: optional(row, 3)?,
                min_value: optional(row, 4)?,
                max_value: optional(row, 5)?,
                info: text(row, 6)?,
                readonly: flags & READONLY != 0,
                oracle_only: flags & ORACLE_ONLY != 0,
            });
        }
        Ok(out)
    }

    /// `SET GLOBAL name = value`: a number goes as a number, anything else as a string; the
    /// server checks the value and keeps it.
    pub async fn set_variable(&mut self, name: &str, value: &str) -> Result<()> {
        check_parameter_name("name", name)?;
        // Setting the same value twice is harmless: a statement stuck behind a busy server
        // is sent once more on a fresh connection.
        self.execute_idempotent(&format!("SET GLOBAL {name} = {}", literal(value)))
            .await
    }

    pub async fn tenant_settings(&mut self) -> Result<TenantSettings> {
        let rows = self
            .rows(
                "SELECT @@character_set_server, @@collation_server, @@ob_tcp_invited_nodes, \
                 CAST(@@read_only AS CHAR)",
            )
            .await?;
        let row = rows
            .first()
            .ok_or_else(|| ObError::Protocol("no row of settings".into()))?;
        Ok(TenantSettings {
            charset: text(row, 0)?,
            collation: text(row, 1)?,
            whitelist: text(row, 2)?,
            read_only: matches!(text(row, 3)?.as_str(), "1" | "ON"),
        })
    }

    /// The address this connection comes from, as the server sees it.
    pub async fn client_ip(&mut self) -> Result<String> {
        self.fetch_text(
            "SELECT USER_CLIENT_IP FROM oceanbase.V$OB_PROCESSLIST WHERE ID = CONNECTION_ID()",
        )
        .await
    }

    pub async fn server_stat(&mut self) -> Result<ServerStat> {
        let rows = self
            .rows(
                "SELECT CAST(CPU_CAPACITY AS CHAR), CAST(MEMORY_LIMIT AS CHAR), \
                 CAST(LOG_DISK_CAPACITY AS CHAR), CAST(LOG_DISK_IN_USE AS CHAR), \
                 CAST(DATA_DISK_CAPACITY AS CHAR), CAST(DATA_DISK_IN_USE AS CHAR) \
                 FROM oceanbase.V$OB_SERVER_STAT",
            )
            .await?;
        let row = rows
            .first()
            .ok_or_else(|| ObError::Protocol("V$OB_SERVER_STAT has no row".into()))?;
        let number = |index| -> Result<i64> {
            text(row, index)?
                .parse()
                .map_err(|e| ObError::Protocol(format!("server stat column {index}: {e}")))
        };
        Ok(ServerStat {
            cpu_capacity: text(row, 0)?.parse().unwrap_or(0.0),
            memory_limit: number(1)?,
            log_disk_capacity: number(2)?,
            log_disk_in_use: number(3)?,
            data_disk_capacity: number(4)?,
            data_disk_in_use: number(5)?,
        })
    }
}

/// A value for `SET GLOBAL`: a number as written, anything else quoted.
fn literal(value: &str) -> String {
    let number = !value.is_empty()
        && value.len() <= 40
        && value
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '.')
        && (value.parse::<u64>().is_ok()
            || value.parse::<i64>().is_ok()
            || value.parse::<f64>().is_ok());
    if number {
        value.to_string()
    } else {
        quote(value)
    }
}

/// A whitelist as `ob_tcp_invited_nodes` takes it: addresses, CIDR blocks or patterns with
/// `%` and `_`, separated by commas.
pub fn check_whitelist(field: &str, whitelist: &str) -> Result<()> {
    let entries: Vec<&str> = whitelist.split(',').map(str::trim).collect();
    if whitelist.len() > 4096 {
        return Err(ObError::invalid(field, "is longer than 4096 characters"));
    }
    for entry in entries {
        let valid = !entry.is_empty()
            && entry
                .chars()
                .all(|c| c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '/' | '%' | '_'));
        if !valid {
            return Err(ObError::invalid(
                field,
                format!(
                    "{entry:?} is not an address, a CIDR block or a pattern with % and _ \
                     (separate entries with commas)"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_go_bare_and_text_quoted() {
        assert_eq!(literal("20000000"), "20000000");
        assert_eq!(literal("-1"), "-1");
        assert_eq!(literal("0.5"), "0.5");
        assert_eq!(literal("ON"), "'ON'");
        assert_eq!(literal("1e3"), "'1e3'");
        assert_eq!(literal("a'b"), "'a\\'b'");
        assert_eq!(literal(""), "''");
    }

    #[test]
    fn whitelists_are_addresses_blocks_and_patterns() {
        for good in [
            "%",
            "10.0.0.1",
            "10.0.0.0/8,127.0.0.1",
            "192.168.1.%",
            "::1",
        ] {
            assert!(check_whitelist("whitelist", good).is_ok(), "{good}");
        }
        for bad in ["", "10.0.0.1,", "x.example", "1.2.3.4; DROP", "a b"] {
            assert!(check_whitelist("whitelist", bad).is_err(), "{bad}");
        }
    }
}

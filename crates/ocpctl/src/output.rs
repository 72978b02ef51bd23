//! What commands print: human tables by default, or the envelope's data as JSON or YAML.

use std::io::Write as _;

use clap::ValueEnum;
use serde::Serialize;
use serde_json::Value;

use crate::client::{CliError, Exit, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Yaml,
}

/// One line to standard output.
pub fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

/// A value in a table cell.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(","),
        Value::Object(map) => match (map.get("dbName"), map.get("privileges")) {
            (Some(db), Some(privileges)) => format!("{}:{}", cell(db), cell(privileges)),
            _ => map
                .get("name")
                .or_else(|| map.get("dbName"))
                .map(cell)
                .unwrap_or_else(|| value.to_string()),
        },
        other => other.to_string(),
    }
}

/// Prints `data` as JSON or YAML; answers false in table format, for the caller to draw.
pub fn structured<T: Serialize>(format: Format, data: &T) -> Result<bool> {
    let text = match format {
        Format::Table => return Ok(false),
        Format::Json => serde_json::to_string_pretty(data),
        Format::Yaml => {
            return serde_yaml::to_string(data)
                .map(|t| {
                    say(t.trim_end());
                    true
                })
                .map_err(|e| CliError::new(Exit::Refused, e.to_string()))
        }
    }
    .map_err(|e| CliError::new(Exit::Refused, e.to_string()))?;
    say(&text);
    Ok(true)
}

/// Prints items as a table of the named camelCase fields (a path like `creator.name` goes
/// deeper; `label=path` names its column), or as JSON/YAML whole.
pub fn list<T: Serialize>(format: Format, items: &[T], columns: &[&str]) -> Result<()> {
    if structured(format, &items)? {
        return Ok(());
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            let value = serde_json::to_value(item).unwrap_or(Value::Null);
            columns
                .iter()
                .map(|c| {
                    let v = field(&value, c.split_once('=').map_or(*c, |(_, p)| p));
                    if v.is_array() {
                        clip(cell(&v))
                    } else {
                        cell(&v)
                    }
                })
                .collect()
        })
        .collect();
    table(columns, &rows);
    Ok(())
}

/// Prints one object: its scalar fields a line each (lists by count), or JSON/YAML whole.
pub fn one<T: Serialize>(format: Format, item: &T) -> Result<()> {
    if structured(format, item)? {
        return Ok(());
    }
    let value = serde_json::to_value(item).unwrap_or(Value::Null);
    let Value::Object(map) = &value else {
        say(&cell(&value));
        return Ok(());
    };
    let width = map.keys().map(String::len).max().unwrap_or(0);
    for (key, v) in map {
        let shown = match v {
            Value::Array(items) if items.iter().any(Value::is_object) => {
                format!("({} items; -o yaml shows them)", items.len())
            }
            Value::Object(_) => serde_json::to_string(v).unwrap_or_default(),
            other => cell(other),
        };
        say(&format!("{key:width$}  {shown}"));
    }
    Ok(())
}

/// List cells (privileges, say) longer than this end in `...`; `-o json` shows them whole.
const CELL_WIDTH: usize = 60;

fn clip(text: String) -> String {
    if text.chars().count() <= CELL_WIDTH {
        return text;
    }
    let mut short: String = text.chars().take(CELL_WIDTH - 3).collect();
    short.push_str("...");
    short
}

fn field(value: &Value, path: &str) -> Value {
    path.split('.')
        .try_fold(value, |v, key| v.get(key))
        .cloned()
        .unwrap_or(Value::Null)
}

/// Left-aligned columns, headers in upper case.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    let titles: Vec<String> = headers
        .iter()
        .map(|h| h.split('=').next().unwrap_or(h).to_uppercase())
        .collect();
    let mut widths: Vec<usize> = titles.iter().map(String::len).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    say(&line(&titles));
    for row in rows {
        say(&line(row));
    }
}

//! Timestamps as OCP writes them: ISO-8601 with milliseconds and the server's offset,
//! for example `2021-09-03T14:17:06.328+08:00`.

use chrono::{DateTime, FixedOffset, Local, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3f%:z";

/// Milliseconds since the Unix epoch: the one clock of the platform (the metadb stores
/// times so, agents sign with it).
pub fn now_millis() -> i64 {
    Utc::now().timestamp_millis()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<FixedOffset>);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_millis(Utc::now().timestamp_millis())
    }

    /// Milliseconds since the Unix epoch, shown in the server's local offset.
    pub fn from_millis(millis: i64) -> Self {
        let utc = Utc
            .timestamp_millis_opt(millis)
            .single()
            .unwrap_or_else(Utc::now);
        Self(utc.with_timezone(&Local).fixed_offset())
    }

    pub fn millis(&self) -> i64 {
        self.0.timestamp_millis()
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format(FORMAT))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(Timestamp)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::DateTime,
            )))
            .examples([serde_json::json!("2021-09-03T14:17:06.328+08:00")])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_millis_and_offset() {
        let ts = Timestamp(DateTime::parse_from_rfc3339("2021-09-03T14:17:06.328+08:00").unwrap());
        assert_eq!(ts.to_string(), "2021-09-03T14:17:06.328+08:00");
        let json = serde_json::to_string(&ts).unwrap();
        let back: Timestamp = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ts);
        assert_eq!(Timestamp::from_millis(ts.millis()).millis(), ts.millis());
    }
}

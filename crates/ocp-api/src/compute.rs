//! The compute catalog of `/api/v2/compute`: regions, IDCs and host types.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub create_time: Timestamp,
    pub update_time: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Idc {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    /// `description` again, spelled as the reference's samples of this list spell it, for
    /// clients written against them.
    pub descripiton: Option<String>,
    pub region_id: i64,
    pub region_name: String,
    pub create_time: Timestamp,
    pub update_time: Timestamp,
}

/// A host type (OCP calls it a model), e.g. `tiny`, "2core 16gb".
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct HostType {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    /// `description` again, spelled as the reference's samples of this list spell it, for
    /// clients written against them.
    pub descripiton: Option<String>,
    pub create_time: Timestamp,
    pub update_time: Timestamp,
}

/// The body that creates a region or a host type.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateNamed {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateIdc {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub region_id: i64,
}

//! What lives inside a tenant: databases, users and their privileges
//! (`/api/v2/ob/clusters/{id}/tenants/{tenantId}/...`), and software packages.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// The id under which a seekdb server's only tenant (sys) appears.
pub const SYS_TENANT_ID: i64 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConnectionUrl {
    #[serde(rename = "type")]
    pub connection_string_type: String,
    pub connection_string: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Database {
    pub id: i64,
    pub db_name: String,
    pub charset: String,
    pub collation: String,
    pub primary_zone: Option<String>,
    pub readonly: bool,
    pub create_time: Option<Timestamp>,
    pub connection_urls: Vec<ConnectionUrl>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateDatabase {
    pub db_name: String,
    #[serde(default)]
    pub collation: Option<String>,
    #[serde(default)]
    pub primary_zone: Option<String>,
    #[serde(default)]
    pub readonly: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ModifyDatabase {
    #[serde(default)]
    pub collation: Option<String>,
    #[serde(default)]
    pub primary_zone: Option<String>,
    #[serde(default)]
    pub readonly: bool,
}

/// Privileges that can be granted on a database, as OCP names them.
pub const DB_PRIVILEGES: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "INDEX",
    "ALTER",
    "CREATE_VIEW",
    "SHOW_VIEW",
    "EXECUTE",
    "ALTER_ROUTINE",
    "CREATE_ROUTINE",
    "REFERENCES",
    "TRIGGER",
    "LOCK_TABLES",
];

/// Privileges that can be granted on `*.*`.
pub const GLOBAL_PRIVILEGES: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "INDEX",
    "ALTER",
    "CREATE_VIEW",
    "SHOW_VIEW",
    "EXECUTE",
    "ALTER_ROUTINE",
    "CREATE_ROUTINE",
    "REFERENCES",
    "TRIGGER",
    "LOCK_TABLES",
    "CREATE_USER",
    "PROCESS",
    "SHOW_DB",
    "SUPER",
    "GRANT_OPTION",
    "FILE",
    "ALTER_SYSTEM",
    "REPLICATION_SLAVE",
    "REPLICATION_CLIENT",
    "CREATE_TABLESPACE",
    "SHUTDOWN",
    "RELOAD",
    "CREATE_ROLE",
    "DROP_ROLE",
];

/// The OpenAPI names of the privilege lists above, so that clients (the console's privilege
/// editor) are generated with exactly these values.
#[cfg(feature = "openapi")]
mod privilege_schemas {
    use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
    use utoipa::openapi::RefOr;

    macro_rules! names_schema {
        ($name:ident, $description:literal, $values:expr) => {
            #[doc = $description]
            pub struct $name;
            impl utoipa::PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    ObjectBuilder::new()
                        .schema_type(SchemaType::Type(Type::String))
                        .description(Some($description))
                        .enum_values(Some($values.iter().copied()))
                        .into()
                }
            }
            impl utoipa::ToSchema for $name {}
        };
    }

    names_schema!(
        DbPrivilegeName,
        "A privilege that can be granted on a database.",
        super::DB_PRIVILEGES
    );
    names_schema!(
        GlobalPrivilegeName,
        "A privilege that can be granted on *.*.",
        super::GLOBAL_PRIVILEGES
    );
}
#[cfg(feature = "openapi")]
pub use privilege_schemas::{DbPrivilegeName, GlobalPrivilegeName};

/// Privileges on one database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DbPrivilege {
    pub db_name: String,
    pub privileges: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DbUser {
    pub username: String,
    pub global_privileges: Vec<String>,
    pub db_privileges: Vec<DbPrivilege>,
    pub object_privileges: Vec<serde_json::Value>,
    pub granted_roles: Vec<String>,
    pub is_locked: bool,
    pub create_time: Option<Timestamp>,
    pub update_time: Option<Timestamp>,
    pub connection_strings: Vec<ConnectionUrl>,
    pub accessible_databases: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateDbUser {
    pub username: String,
    pub password: String,
    /// Accepted for compatibility; the platform keeps no copy of database passwords.
    #[serde(default)]
    pub save_to_credential: Option<bool>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<GlobalPrivilegeName>))]
    #[serde(default)]
    pub global_privileges: Vec<String>,
    #[serde(default)]
    pub db_privileges: Vec<DbPrivilege>,
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChangeDbPassword {
    pub new_password: String,
    #[serde(default)]
    pub save_to_credential: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DbPrivileges {
    #[serde(default)]
    pub db_privileges: Vec<DbPrivilege>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GlobalPrivileges {
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<GlobalPrivilegeName>))]
    #[serde(default)]
    pub global_privileges: Vec<String>,
}

/// A table, view or stored procedure of an Oracle-mode schema.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DbObject {
    /// TABLE, VIEW or STORED_PROCEDURE.
    pub object_type: String,
    pub object_name: String,
    pub schema_name: String,
}

/// `GET .../tenants/{tenantId}/objects`: an object of one of the tenant's databases (its
/// schemas, in MySQL mode).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TenantObject {
    /// `TABLE`, `VIEW`, `INDEX`, `STORED_PROCEDURE` or `FUNCTION`.
    pub object_type: String,
    pub object_name: String,
    pub schema_name: String,
    /// `schema.name`, or `schema.table.index` for an index.
    pub full_name: String,
    /// The table an index is on; null for the other kinds.
    pub table_name: Option<String>,
}

/// `GET .../tenants/{tenantId}/objects`: filters, every one optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct ObjectFilter {
    /// Kinds, comma-separated: `TABLE`, `VIEW`, `INDEX`, `STORED_PROCEDURE`, `FUNCTION`.
    pub object_type: Option<String>,
    /// Databases, comma-separated (`dbName` is taken too).
    #[serde(alias = "dbName")]
    pub schema_name: Option<String>,
    /// Part of the object's name, in any case.
    pub object_name: Option<String>,
}

/// Privileges on one object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ObjectPrivilege {
    pub db_object: DbObject,
    pub privileges: Vec<String>,
}

/// `grant|revoke|modifyObjectPrivilege` of a user or role (Oracle-mode tenants).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ObjectPrivileges {
    pub object_privileges: Vec<ObjectPrivilege>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Roles {
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateDbRole {
    pub role_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<GlobalPrivilegeName>))]
    #[serde(default)]
    pub global_privileges: Vec<String>,
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DbRole {
    pub name: String,
    pub global_privileges: Vec<String>,
    pub granted_roles: Vec<String>,
    pub object_privileges: Vec<serde_json::Value>,
    pub user_grantees: Vec<String>,
    pub role_grantees: Vec<String>,
    pub create_time: Option<Timestamp>,
    pub update_time: Option<Timestamp>,
}

wire_enum!(
    /// What a software package holds.
    PackageType {
        ObServerInstallPackage = "OB_SERVER_INSTALL_PACKAGE",
        OcpAgentInstallPackage = "OCP_AGENT_INSTALL_PACKAGE",
        ObproxyInstallPackage = "OBPROXY_INSTALL_PACKAGE",
        ObBackupAgentInstallPackage = "OB_BACKUP_AGENT_INSTALL_PACKAGE",
    }
);

/// `SoftwarePackageMeta`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SoftwarePackage {
    pub id: i64,
    pub name: String,
    pub file_name: String,
    pub extension: String,
    pub size: i64,
    pub sha1: String,
    pub sha256: String,
    pub download_url: String,
    #[serde(rename = "type")]
    pub package_type: PackageType,
    pub version: String,
    pub build_number: String,
    pub operating_system: String,
    pub architecture: String,
    pub deletable: bool,
    pub create_time: Timestamp,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PackageFilter {
    /// Part of the name.
    pub keyword: Option<String>,
    /// Comma-separated types.
    #[serde(rename = "type")]
    pub package_type: Option<String>,
    /// Comma-separated versions.
    pub version: Option<String>,
    /// Comma-separated operating systems.
    pub operating_system: Option<String>,
    /// Comma-separated architectures.
    pub architecture: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct UploadQuery {
    /// The file name, when the body is the file itself rather than a multipart form.
    pub file: Option<String>,
}

/// What an agent is asked to install: a stored package, checked against its SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallPackage {
    pub id: i64,
    pub file_name: String,
    pub sha256: String,
    pub size: i64,
}

/// Where an agent installed a package.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstalledPackage {
    pub home: String,
    pub downloaded: bool,
}

/// A directory an agent made for the platform (and may therefore remove).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirRequest {
    /// Absolute, or relative to the agent's data directory.
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirAnswer {
    pub path: String,
    pub existed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortAnswer {
    pub port: u16,
    pub in_use: bool,
}

/// `TenantSession`: one session of a tenant, as OCP's session pages list it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TenantSession {
    pub id: i64,
    pub db_user: String,
    /// The client's address (without its port).
    pub client_ip: String,
    /// The client's address and port.
    pub host: String,
    pub db_name: Option<String>,
    /// `Sleep`, `Query`, ...
    pub command: String,
    /// Seconds in its current state.
    pub time: i64,
    /// `ACTIVE` (running a statement) or `SLEEP`.
    pub status: String,
    /// The statement it runs.
    pub info: Option<String>,
    /// Always null: the platform runs no OBProxy, clients connect directly.
    pub proxy_ip: Option<String>,
    pub sql_id: Option<String>,
    /// Finds the statement's lines in the server's log.
    pub trace_id: Option<String>,
    pub trans_state: Option<String>,
}

/// `GET .../sessions`: filters (every one optional; `activeOnly` defaults to false).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct SessionQuery {
    pub db_user: Option<String>,
    pub db_name: Option<String>,
    pub client_ip: Option<String>,
    /// `true` for the sessions running a statement only.
    pub active_only: Option<String>,
}

/// Sessions counted by one value (a user, a database or a client address).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SessionCount {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    pub total_count: i64,
    pub active_count: i64,
}

/// `SessionStats`: the tenant's sessions in numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SessionStats {
    pub total_count: i64,
    pub active_count: i64,
    /// Seconds the longest-running active session has been running its statement.
    pub max_active_time: i64,
    pub db_stats: Vec<SessionCount>,
    pub user_stats: Vec<SessionCount>,
    pub client_stats: Vec<SessionCount>,
}

/// `CloseSessionParam`: the sessions to end, or whose statements to stop.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CloseSessions {
    pub session_ids: Vec<i64>,
}

//! The OpenAPI document says what travels: every JSON answer in OCP's envelope, the
//! handler's type under `data`, and every error answer with its `error`.

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{AllOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Schema};

/// Wraps each operation's responses in the envelope (`Envelope` and `ApiError` components).
pub struct Enveloped;

const JSON: &str = "application/json";

fn envelope() -> Schema {
    let field = |kind: Type| ObjectBuilder::new().schema_type(kind);
    ObjectBuilder::new()
        .description(Some(
            "OCP's envelope around every JSON answer: `data` when it succeeded, `error` when not",
        ))
        .property("successful", field(Type::Boolean))
        .property(
            "timestamp",
            field(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        )
        .property(
            "duration",
            field(Type::Integer).description(Some("milliseconds the server took")),
        )
        .property(
            "status",
            field(Type::Integer).description(Some("the HTTP status")),
        )
        .property("traceId", field(Type::String))
        .property("server", field(Type::String))
        .required("successful")
        .required("timestamp")
        .required("duration")
        .required("status")
        .required("traceId")
        .required("server")
        .into()
}

/// The envelope with `name` set to `inner`.
fn enveloping(name: &str, inner: RefOr<Schema>) -> RefOr<Schema> {
    AllOfBuilder::new()
        .item(Ref::from_schema_name("Envelope"))
        .item(ObjectBuilder::new().property(name, inner).required(name))
        .into()
}

fn wrap(operation: &mut Operation) {
    for (code, response) in operation.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let success = code.starts_with('2');
        let error = || enveloping("error", Ref::from_schema_name("ApiError").into());
        let bare = response.content.is_empty();
        match response.content.get_mut(JSON) {
            Some(content) => {
                let schema = match content.schema.take() {
                    Some(inner) if success => enveloping("data", inner),
                    Some(_) | None if !success => error(),
                    Some(_) | None => Ref::from_schema_name("Envelope").into(),
                };
                content.schema = Some(schema);
            }
            // No body of its own: NoData, or an error. Raw answers (text, a file, an event
            // stream) name their own media type and stay as they are.
            None if bare => {
                let schema = if success {
                    Ref::from_schema_name("Envelope").into()
                } else {
                    error()
                };
                response.content.insert(
                    JSON.to_string(),
                    ContentBuilder::new().schema(Some(schema)).build(),
                );
            }
            None => {}
        }
    }
}

/// The agent operations the reference documents without `/api/v2` (`/compute/hosts/...`):
/// served at both paths (see `app::alias_compute_paths`), and so documented at both, the
/// short form's operation ids ending in `_compute`.
pub fn document_compute_aliases(openapi: &mut utoipa::openapi::OpenApi) {
    let aliases: Vec<(String, utoipa::openapi::PathItem)> = openapi
        .paths
        .paths
        .iter()
        .filter(|(path, item)| {
            path.starts_with("/api/v2/compute/hosts/")
                && operations(item).all(|o| o.tags.iter().flatten().any(|t| t == "agent"))
        })
        .map(|(path, item)| {
            let mut item = item.clone();
            for operation in operations_mut(&mut item) {
                if let Some(id) = &mut operation.operation_id {
                    id.push_str("_compute");
                }
            }
            (path.trim_start_matches("/api/v2").to_string(), item)
        })
        .collect();
    openapi.paths.paths.extend(aliases);
}

fn operations(item: &utoipa::openapi::PathItem) -> impl Iterator<Item = &Operation> {
    [&item.get, &item.put, &item.post, &item.delete, &item.patch]
        .into_iter()
        .flatten()
}

fn operations_mut(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

impl utoipa::Modify for Enveloped {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            operations_mut(item).for_each(wrap);
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .schemas
            .insert("Envelope".to_string(), envelope().into());
        let mut errors = vec![(
            "ApiError".to_string(),
            <ocp_api::ApiError as utoipa::PartialSchema>::schema(),
        )];
        <ocp_api::ApiError as utoipa::ToSchema>::schemas(&mut errors);
        components.schemas.extend(errors);
        // What `dbPrivileges[].privileges` may grant (the field itself also lists what a
        // user holds, which can be more), for clients that offer the choice.
        components.schemas.insert(
            "DbPrivilegeName".to_string(),
            <ocp_api::obdb::DbPrivilegeName as utoipa::PartialSchema>::schema(),
        );
    }
}

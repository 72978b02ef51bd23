//! Why an operation was refused, in OCP's terms: an error code, a message and the offending
//! fields. Domain modules answer it; the HTTP layer (`http`) turns it into the envelope and the
//! status its code maps to.

use ocp_api::{ErrorCode, SubError};

/// A failed request: an OCP error code, a message and the offending fields.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: ErrorCode,
    pub message: String,
    pub sub_errors: Vec<SubError>,
}

impl Failure {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            sub_errors: Vec::new(),
        }
    }

    /// A bad value of one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            code: ErrorCode::IllegalArgument,
            message: format!("invalid {field}: {message}"),
            sub_errors: vec![SubError {
                field: field.to_string(),
                message,
            }],
        }
    }

    /// Names the offending field of a failure that has its own code.
    pub fn with_field(mut self, field: &str) -> Self {
        self.sub_errors.push(SubError {
            field: field.to_string(),
            message: self.message.clone(),
        });
        self
    }

    pub fn not_found(what: &str, key: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} {key} does not exist"))
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(
            ErrorCode::Internal,
            "internal server error; see the server log for this traceId",
        )
    }
}

impl From<ocp_store::StoreError> for Failure {
    fn from(err: ocp_store::StoreError) -> Self {
        use ocp_store::StoreError;
        match err {
            StoreError::NotFound { entity, key } => Failure::not_found(entity, key),
            StoreError::AlreadyExists { entity, key } => Failure::new(
                ErrorCode::AlreadyExists,
                format!("{entity} {key} already exists"),
            ),
            StoreError::Database(sqlx_error) if is_foreign_key_violation(&sqlx_error) => {
                Failure::new(
                    ErrorCode::StateConflict,
                    "it is still in use (a host, a join token or another record names it); remove those first",
                )
            }
            other if other.is_out_of_storage() => {
                tracing::error!(error = %other, "the metadb cannot write");
                Failure::new(
                    ErrorCode::InsufficientStorage,
                    "the metadb cannot write (its disk is full or failing); nothing was changed; free space and try again",
                )
            }
            other => Failure::internal(other),
        }
    }
}

fn is_foreign_key_violation(err: &ocp_store::SqlxError) -> bool {
    matches!(err, ocp_store::SqlxError::Database(db) if db.is_foreign_key_violation())
}

impl From<crate::vault::VaultError> for Failure {
    fn from(err: crate::vault::VaultError) -> Self {
        Failure::internal(err)
    }
}

impl From<ocp_store::TransitionError> for Failure {
    fn from(err: ocp_store::TransitionError) -> Self {
        use ocp_store::TransitionError as T;
        match err {
            T::TaskNotFound(id) => Failure::new(
                ErrorCode::TaskNotExists,
                format!("task {id} does not exist"),
            ),
            T::SubtaskNotFound { .. } => Failure::new(ErrorCode::NotFound, err.to_string()),
            T::InvalidState(message) => Failure::new(ErrorCode::TaskStateInvalid, message),
            T::ProhibitRollback(message) => Failure::new(ErrorCode::TaskProhibitRollback, message),
            T::Store(store) => store.into(),
        }
    }
}

//! The one error type every service returns, and its single mapping to `tonic::Status`.
//!
//! Each variant's doc names the gRPC code it becomes. Internal details (SQL, I/O) are
//! logged with an error id and never sent to the client; only `Unavailable` tells a
//! client to retry (AIP-194).

use std::collections::HashMap;
use std::fmt;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `google.rpc.ErrorInfo.domain` of every error Fabrique sends.
pub const ERROR_DOMAIN: &str = "fabrique.alliance";

/// One invalid field of a request: `field` is the path in the request message
/// (e.g. `member.siren`), `description` says what is wrong in words a caller can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field in the request message.
    pub field: String,
    /// What is wrong with it.
    pub description: String,
}

impl FieldViolation {
    /// The violation of `field`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// Collects the violations of one request so all of them are reported at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// None yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` is invalid, and why.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Records the error of a parse, keeping the value when it succeeded.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, parsed: Result<T, E>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error.to_string());
                None
            }
        }
    }

    /// Whether the request was valid so far.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was recorded, else the `InvalidArgument` error.
    pub fn into_result(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidArgument(self.0))
        }
    }
}

/// What went wrong, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// INVALID_ARGUMENT with a `BadRequest` listing every field violation.
    #[error("invalid argument: {}", describe_violations(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// NOT_FOUND: `resource` is the resource name asked for, e.g. `members/0190…`.
    #[error("{resource} not found")]
    NotFound {
        /// The resource name asked for.
        resource: String,
    },
    /// A typed refusal ([`crate::refusal`]): FAILED_PRECONDITION (the state does not
    /// allow the call), ABORTED (a concurrent change: re-read, then retry) or
    /// ALREADY_EXISTS, as the refusal says; `reason`, its stable UPPER_SNAKE code, goes
    /// in `google.rpc.ErrorInfo`. Built only from a [`Refusal`](crate::refusal::Refusal),
    /// so every code is one a service lists in its proto.
    #[error("{message}")]
    #[non_exhaustive]
    Refused {
        /// The code the refusal maps to.
        status: Code,
        /// The refusal's stable code, for programs.
        reason: &'static str,
        /// What happened, for people.
        message: String,
        /// The refusal's facts, for programs (`ErrorInfo.metadata`).
        metadata: Vec<(&'static str, String)>,
    },
    /// PERMISSION_DENIED: authenticated, but not allowed to do this.
    #[error("{message}")]
    PermissionDenied {
        /// Who may do it instead.
        message: String,
    },
    /// UNAUTHENTICATED: no valid credentials.
    #[error("{message}")]
    Unauthenticated {
        /// What is wrong with the credentials, or how to send them.
        message: String,
    },
    /// UNAVAILABLE: a dependency (database, bus) is down or the service is starting;
    /// the only error a client should retry as is.
    #[error("{message}")]
    Unavailable {
        /// What is down, in words safe to send.
        message: String,
    },
    /// RESOURCE_EXHAUSTED: too much at once.
    #[error("{message}")]
    ResourceExhausted {
        /// Which limit was reached.
        message: String,
    },
    /// INTERNAL: a bug or an unexpected failure. The detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn describe_violations(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// INVALID_ARGUMENT for one field; use [`Violations`] to report several at once.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Error::InvalidArgument(vec![FieldViolation::new(field, description)])
    }

    /// NOT_FOUND for a resource name.
    pub fn not_found(resource: impl Into<String>) -> Self {
        Error::NotFound {
            resource: resource.into(),
        }
    }

    /// The error of a typed refusal.
    pub fn refused(refusal: &dyn crate::refusal::Refusal) -> Self {
        Error::Refused {
            status: refusal.status(),
            reason: refusal.code(),
            message: refusal.message(),
            metadata: refusal.metadata(),
        }
    }

    /// PERMISSION_DENIED: `message` says who may do it.
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Error::PermissionDenied {
            message: message.into(),
        }
    }

    /// UNAUTHENTICATED.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Error::Unauthenticated {
            message: message.into(),
        }
    }

    /// UNAVAILABLE: the one error a client retries as is.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Error::Unavailable {
            message: message.into(),
        }
    }

    /// INTERNAL: when sent, `error` is logged with an id, and only the id reaches the
    /// caller.
    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Internal(error.into())
    }

    /// A stale or wrong `etag`.
    pub fn stale_etag(resource: &str) -> Self {
        crate::refusal::Shared::EtagMismatch {
            resource: resource.to_string(),
        }
        .into()
    }

    /// The gRPC code this error is sent with.
    pub fn code(&self) -> Code {
        match self {
            Error::InvalidArgument(_) => Code::InvalidArgument,
            Error::NotFound { .. } => Code::NotFound,
            Error::Refused { status, .. } => *status,
            Error::PermissionDenied { .. } => Code::PermissionDenied,
            Error::Unauthenticated { .. } => Code::Unauthenticated,
            Error::Unavailable { .. } => Code::Unavailable,
            Error::ResourceExhausted { .. } => Code::ResourceExhausted,
            Error::Internal(_) => Code::Internal,
        }
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        let code = error.code();
        match error {
            Error::InvalidArgument(violations) => {
                let message = format!("invalid argument: {}", describe_violations(&violations));
                let mut details = ErrorDetails::new();
                details.set_bad_request(
                    violations
                        .into_iter()
                        .map(|v| tonic_types::FieldViolation::new(v.field, v.description))
                        .collect::<Vec<_>>(),
                );
                details.set_error_info("INVALID_ARGUMENT", ERROR_DOMAIN, HashMap::new());
                Status::with_error_details(code, message, details)
            }
            Error::NotFound { resource } => {
                let message = format!("{resource} not found");
                let details = ErrorDetails::with_error_info(
                    "NOT_FOUND",
                    ERROR_DOMAIN,
                    HashMap::from([("resource".to_string(), resource)]),
                );
                Status::with_error_details(code, message, details)
            }
            Error::Refused {
                reason,
                message,
                metadata,
                ..
            } => Status::with_error_details(
                code,
                message,
                ErrorDetails::with_error_info(
                    reason,
                    ERROR_DOMAIN,
                    metadata
                        .into_iter()
                        .map(|(key, value)| (key.to_string(), value))
                        .collect::<HashMap<_, _>>(),
                ),
            ),
            Error::PermissionDenied { message }
            | Error::Unauthenticated { message }
            | Error::Unavailable { message }
            | Error::ResourceExhausted { message } => Status::new(code, message),
            Error::Internal(source) => {
                let error_id = uuid::Uuid::now_v7();
                tracing::error!(%error_id, error = %source, "internal error");
                Status::with_error_details(
                    code,
                    format!("internal error (id {error_id}); it has been logged"),
                    ErrorDetails::with_error_info(
                        "INTERNAL",
                        ERROR_DOMAIN,
                        HashMap::from([("error_id".to_string(), error_id.to_string())]),
                    ),
                )
            }
        }
    }
}

impl<R: crate::refusal::Refusal> From<R> for Error {
    fn from(refusal: R) -> Self {
        Error::refused(&refusal)
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(error: sea_orm::DbErr) -> Self {
        if crate::db::is_unavailable(&error) {
            tracing::warn!(%error, "database unavailable");
            Error::unavailable("the database is unavailable; retry later")
        } else if crate::db::is_concurrency_conflict(&error) {
            tracing::info!(%error, "transaction aborted by a concurrent one");
            crate::refusal::Shared::ConcurrentChange { resource: None }.into()
        } else {
            Error::internal(error)
        }
    }
}

impl<E> From<sea_orm::TransactionError<E>> for Error
where
    E: Into<Error> + std::error::Error,
{
    fn from(error: sea_orm::TransactionError<E>) -> Self {
        match error {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(inner) => inner.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_carries_every_field_violation() {
        let mut violations = Violations::new();
        violations.add("member.siren", "checksum fails");
        violations.add("member.display_name", "must not be empty");
        let status: Status = violations.into_result().unwrap_err().into();
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let fields: Vec<_> = details
            .bad_request()
            .expect("bad request details")
            .field_violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["member.siren", "member.display_name"]);
        assert!(status.message().contains("member.siren"));
    }

    #[test]
    fn internal_errors_hide_their_source() {
        let status: Status = Error::internal("SELECT secret FROM members failed").into();
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("SELECT"));
        assert!(status.message().contains("error id") || status.message().contains("id "));
    }
}

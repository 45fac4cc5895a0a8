//! One error type for the HTTP edge, mapped to `{ "code", "message" }` for the API and to a
//! friendly page for browsers.
//!
//! Domain errors convert into [`HttpError`] in one place, so a rule such as "a duplicate
//! e-mail is 409" holds for the API, the pages and every future caller alike.

use cairn_core::accounts::AccountError;
use cairn_core::organisations::OrganisationError;
use cairn_core::StoreError;
use poem::http::StatusCode;
use serde::Serialize;

use crate::redis_link::RedisUnavailable;

/// An error answer: HTTP status, a stable machine-readable code and a message for people.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct HttpError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds a client should wait, for 429 answers.
    pub retry_after: Option<u64>,
}

/// The JSON shape of every API error.
#[derive(Debug, Serialize, poem_openapi::Object)]
pub struct ErrorBody {
    /// Stable, machine-readable error code such as `not_found` or `invalid_input`.
    pub code: String,
    /// What went wrong and what to do about it, in plain words.
    pub message: String,
}

impl HttpError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> HttpError {
        HttpError { status, code, message: message.into(), retry_after: None }
    }

    pub fn bad_request(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn invalid(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
    }

    pub fn unauthorized() -> HttpError {
        HttpError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in first, or send an API token as 'Authorization: Bearer <token>'",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn too_many_requests(retry_after: u64) -> HttpError {
        HttpError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "rate_limited",
            message: format!("too many attempts; try again in {}", human_wait(retry_after)),
            retry_after: Some(retry_after),
        }
    }

    /// A failure inside Cairn. The cause is logged here; the caller sees only a reference.
    pub fn internal(cause: &dyn std::error::Error) -> HttpError {
        tracing::error!(error = %ErrorChain(cause), "internal error");
        HttpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side; it has been logged. Try again, and if it persists, tell your administrator the request id",
        )
    }

    pub fn unavailable(cause: &dyn std::error::Error) -> HttpError {
        tracing::error!(error = %ErrorChain(cause), "dependency unavailable");
        HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "a service Cairn depends on is unavailable right now; try again in a minute",
        )
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody { code: self.code.to_string(), message: self.message.clone() }
    }

    /// Turns any error poem raised (routing, parsing, size limits) into our shape.
    pub fn from_poem(err: &poem::Error) -> HttpError {
        if let Some(own) = err.downcast_ref::<HttpError>() {
            return own.clone();
        }
        let status = err.status();
        let code = match status {
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::LENGTH_REQUIRED => "length_required",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid_input",
            StatusCode::TOO_MANY_REQUESTS => "rate_limited",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            s if s.is_server_error() => "internal",
            _ => "error",
        };
        let message = match status {
            StatusCode::NOT_FOUND => "there is nothing at this address".to_string(),
            StatusCode::UNAUTHORIZED => HttpError::unauthorized().message,
            s if s.is_server_error() => {
                tracing::error!(error = %err, "internal error");
                "something went wrong on our side; it has been logged".to_string()
            }
            _ => err.to_string(),
        };
        HttpError::new(status, code, message)
    }
}

impl poem::error::ResponseError for HttpError {
    fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<AccountError> for HttpError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid(i) => HttpError::invalid(i.to_string()),
            AccountError::EmailTaken(_) => HttpError::conflict(e.to_string()),
            AccountError::NotFound => HttpError::not_found(e.to_string()),
            AccountError::BadCredentials => HttpError::new(StatusCode::UNAUTHORIZED, "bad_credentials", e.to_string()),
            AccountError::Store(s) => s.into(),
            AccountError::Corrupt(_) => HttpError::internal(&e),
        }
    }
}

impl From<OrganisationError> for HttpError {
    fn from(e: OrganisationError) -> Self {
        match e {
            OrganisationError::Invalid(i) => HttpError::invalid(i.to_string()),
            OrganisationError::SlugTaken(_) => HttpError::conflict(e.to_string()),
            OrganisationError::NotFound(_) | OrganisationError::UserNotFound => HttpError::not_found(e.to_string()),
            OrganisationError::Store(s) => s.into(),
        }
    }
}

impl From<cairn_core::catalog::CatalogError> for HttpError {
    fn from(e: cairn_core::catalog::CatalogError) -> Self {
        use cairn_core::catalog::CatalogError;
        match e {
            CatalogError::Invalid(i) => HttpError::invalid(i.to_string()),
            CatalogError::NotFound(_) => HttpError::not_found(e.to_string()),
            CatalogError::Store(s) => s.into(),
        }
    }
}

impl From<cairn_core::packages::PackageError> for HttpError {
    fn from(e: cairn_core::packages::PackageError) -> Self {
        use cairn_core::packages::PackageError;
        match e {
            PackageError::Catalog(c) => c.into(),
            PackageError::Store(s) => s.into(),
            PackageError::Io(_) | PackageError::Corrupt(_) => HttpError::internal(&e),
        }
    }
}

impl From<cairn_core::tracking::TrackingError> for HttpError {
    fn from(e: cairn_core::tracking::TrackingError) -> Self {
        use cairn_core::tracking::TrackingError;
        match e {
            TrackingError::NotFound => HttpError::not_found("no such attempt"),
            // Not stored, and safe to send again: the player retries 5xx answers.
            TrackingError::Batch(_) => HttpError::unavailable(&e),
            TrackingError::Store(s) => s.into(),
        }
    }
}

impl From<cairn_core::outline::OutlineError> for HttpError {
    fn from(e: cairn_core::outline::OutlineError) -> Self {
        use cairn_core::outline::OutlineError;
        match e {
            OutlineError::Invalid(i) => HttpError::invalid(i.to_string()),
            OutlineError::NotFound => HttpError::not_found(e.to_string()),
            OutlineError::Store(s) => s.into(),
        }
    }
}

impl From<cairn_core::enrolments::EnrolmentError> for HttpError {
    fn from(e: cairn_core::enrolments::EnrolmentError) -> Self {
        use cairn_core::enrolments::EnrolmentError;
        match e {
            EnrolmentError::Invalid(i) => HttpError::invalid(i.to_string()),
            EnrolmentError::Closed | EnrolmentError::NotPublished => {
                HttpError::new(StatusCode::FORBIDDEN, "enrolment_closed", e.to_string())
            }
            EnrolmentError::WrongKey => HttpError::new(StatusCode::FORBIDDEN, "wrong_enrolment_key", e.to_string()),
            EnrolmentError::NotFound => HttpError::not_found(e.to_string()),
            EnrolmentError::Catalog(c) => c.into(),
            EnrolmentError::Progress(p) => (*p).into(),
            EnrolmentError::Store(s) => s.into(),
        }
    }
}

impl From<cairn_core::cohorts::CohortError> for HttpError {
    fn from(e: cairn_core::cohorts::CohortError) -> Self {
        use cairn_core::cohorts::CohortError;
        match e {
            CohortError::Invalid(i) => HttpError::invalid(i.to_string()),
            CohortError::Taken(_) => HttpError::conflict(e.to_string()),
            CohortError::NotFound => HttpError::not_found(e.to_string()),
            CohortError::Enrolment(inner) => inner.into(),
            CohortError::Store(s) => s.into(),
        }
    }
}

impl From<cairn_core::progress::ProgressError> for HttpError {
    fn from(e: cairn_core::progress::ProgressError) -> Self {
        use cairn_core::progress::ProgressError;
        match e {
            ProgressError::Outline(o) => o.into(),
            ProgressError::Tracking(t) => t.into(),
            ProgressError::Package(p) => p.into(),
            ProgressError::Store(s) => s.into(),
        }
    }
}

impl From<cairn_core::reports::ReportError> for HttpError {
    fn from(e: cairn_core::reports::ReportError) -> Self {
        use cairn_core::reports::ReportError;
        match e {
            ReportError::Store(s) => s.into(),
            ReportError::Progress(p) => (*p).into(),
            ReportError::Csv(_) => HttpError::internal(&e),
        }
    }
}

impl From<StoreError> for HttpError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            HttpError::unavailable(&e)
        } else {
            HttpError::internal(&e)
        }
    }
}

impl From<RedisUnavailable> for HttpError {
    fn from(e: RedisUnavailable) -> Self {
        HttpError::unavailable(&e)
    }
}

/// Displays an error with its whole `source()` chain, for logs.
pub struct ErrorChain<'a>(pub &'a dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

fn human_wait(secs: u64) -> String {
    match secs {
        0..=1 => "a second".into(),
        2..=59 => format!("{secs} seconds"),
        60..=119 => "a minute".into(),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_naturally() {
        let cases = [(0, "a second"), (30, "30 seconds"), (60, "a minute"), (290, "5 minutes")];
        for (secs, text) in cases {
            assert_eq!(human_wait(secs), text);
        }
    }

    #[test]
    fn domain_errors_map_to_statuses() {
        let cases: Vec<(HttpError, StatusCode, &str)> = vec![
            (AccountError::EmailTaken("a@b.org".into()).into(), StatusCode::CONFLICT, "conflict"),
            (AccountError::NotFound.into(), StatusCode::NOT_FOUND, "not_found"),
            (
                AccountError::Invalid(cairn_core::validate::InvalidInput::new("email", "bad")).into(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
            ),
            (OrganisationError::SlugTaken("x".into()).into(), StatusCode::CONFLICT, "conflict"),
            (OrganisationError::NotFound("x".into()).into(), StatusCode::NOT_FOUND, "not_found"),
        ];
        for (err, status, code) in cases {
            assert_eq!((err.status, err.code), (status, code), "{}", err.message);
        }
    }
}

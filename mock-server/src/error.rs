//! One error type for every door: [`ApiError`] becomes the contract's JSON error body.
//!
//! Handlers and extractors return `ApiError`; its `IntoResponse` writes
//! `{"code", "message", "details", "request_id"}` with the status that belongs to the code.
//! The request id comes from the task-local set by the request middleware, so an error built
//! anywhere inside a request carries the same id as the `x-request-id` header.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::request_id;

/// Declares [`ErrorCode`] and its [`ErrorCode::ALL`] from one list, so a new variant cannot be
/// left out of what [`ErrorCode::parse`] reads.
macro_rules! error_codes {
    ($($(#[doc = $doc:expr])* $name:ident,)*) => {
        /// Every error code the fake answers with, one per failure the contract names.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $name,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order: what [`ErrorCode::parse`] reads.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$name),*];
        }
    };
}

error_codes! {
    /// No route for this path.
    NotFound,
    /// A known path with a method it does not serve.
    MethodNotAllowed,
    /// Missing or wrong credentials.
    Unauthorized,
    /// A `Content-Type` the door does not read.
    UnsupportedMediaType,
    /// A `Content-Encoding` other than gzip or identity.
    UnsupportedEncoding,
    /// The decoded body is over the door's limit.
    PayloadTooLarge,
    /// The body is not JSON.
    InvalidJson,
    /// The body is JSON but not an object (or an unreadable gzip stream).
    InvalidBody,
    /// `source_id` missing, null or blank.
    SourceIdRequired,
    /// `source_id` of a type that cannot become text.
    InvalidSourceId,
    /// `metadata` neither an object nor null.
    InvalidMetadata,
    /// `referral_code` too long, with white space, or of the wrong type.
    InvalidReferralCode,
    /// `event_name` missing, null or blank.
    EventNameRequired,
    /// `event_name` that is not a string.
    InvalidEventName,
    /// The code sent belongs to another customer.
    ReferralCodeTaken,
    /// A conversion event without a usable `metadata.referral_code`.
    ReferralCodeRequired,
    /// A conversion event whose code nobody owns.
    ReferralCodeUnknown,
    /// A conversion event with the caller's own code.
    SelfReferral,
    /// No customer with that source_id or id.
    CustomerNotFound,
    /// No customer owns that code.
    ReferralCodeNotFound,
    /// `?app=` names no application.
    AppNotFound,
    /// A configuration document that cannot be applied.
    InvalidConfig,
    /// A state document that cannot be imported.
    InvalidState,
    /// A query parameter that cannot be read.
    InvalidQuery,
    /// A mapping document that cannot be used.
    InvalidMappings,
    /// A request that could not be understood at the HTTP level.
    BadRequest,
    /// A request body that did not arrive in time.
    RequestTimeout,
    /// A fault of the fake itself; never the answer to bad input.
    Internal,
    /// Front door: neither an `Authorization` header nor a `writeKey` in the body.
    WriteKeyRequired,
    /// Front door: one message is over 32 KiB as compact JSON.
    MessageTooLarge,
    /// Front door: the decoded request body is over 500 KiB (512,000 bytes).
    RequestTooLarge,
    /// Front door: a batch of more than 2,500 messages.
    TooManyMessages,
    /// Front door: a `500` the fault setting asked for (`POST /__admin/faults`).
    InjectedFault,
}

impl ErrorCode {
    /// The code an error body or the drop log names (exactly as [`ErrorCode::as_str`]
    /// spells it), if there is one.
    ///
    /// ```
    /// use rehook_mock::ErrorCode;
    ///
    /// assert_eq!(ErrorCode::parse("SELF_REFERRAL"), Some(ErrorCode::SelfReferral));
    /// assert_eq!(ErrorCode::parse("self_referral"), None);
    /// ```
    pub fn parse(text: &str) -> Option<ErrorCode> {
        Self::ALL.iter().copied().find(|code| code.as_str() == text)
    }

    /// The HTTP status this code is answered with.
    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            NotFound | CustomerNotFound | ReferralCodeNotFound | AppNotFound => {
                StatusCode::NOT_FOUND
            }
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Unauthorized => StatusCode::UNAUTHORIZED,
            UnsupportedMediaType | UnsupportedEncoding => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ReferralCodeTaken => StatusCode::CONFLICT,
            ReferralCodeRequired | ReferralCodeUnknown | SelfReferral => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Internal | InjectedFault => StatusCode::INTERNAL_SERVER_ERROR,
            WriteKeyRequired | MessageTooLarge | RequestTooLarge | TooManyMessages => {
                StatusCode::BAD_REQUEST
            }
            InvalidJson | InvalidBody | SourceIdRequired | InvalidSourceId | InvalidMetadata
            | InvalidReferralCode | EventNameRequired | InvalidEventName | InvalidConfig
            | InvalidState | InvalidQuery | InvalidMappings | BadRequest => StatusCode::BAD_REQUEST,
        }
    }

    /// The `UPPER_SNAKE` name written in error bodies and the drop log.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            NotFound => "NOT_FOUND",
            MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Unauthorized => "UNAUTHORIZED",
            UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            UnsupportedEncoding => "UNSUPPORTED_ENCODING",
            PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            InvalidJson => "INVALID_JSON",
            InvalidBody => "INVALID_BODY",
            SourceIdRequired => "SOURCE_ID_REQUIRED",
            InvalidSourceId => "INVALID_SOURCE_ID",
            InvalidMetadata => "INVALID_METADATA",
            InvalidReferralCode => "INVALID_REFERRAL_CODE",
            EventNameRequired => "EVENT_NAME_REQUIRED",
            InvalidEventName => "INVALID_EVENT_NAME",
            ReferralCodeTaken => "REFERRAL_CODE_TAKEN",
            ReferralCodeRequired => "REFERRAL_CODE_REQUIRED",
            ReferralCodeUnknown => "REFERRAL_CODE_UNKNOWN",
            SelfReferral => "SELF_REFERRAL",
            CustomerNotFound => "CUSTOMER_NOT_FOUND",
            ReferralCodeNotFound => "REFERRAL_CODE_NOT_FOUND",
            AppNotFound => "APP_NOT_FOUND",
            InvalidConfig => "INVALID_CONFIG",
            InvalidState => "INVALID_STATE",
            InvalidQuery => "INVALID_QUERY",
            InvalidMappings => "INVALID_MAPPINGS",
            BadRequest => "BAD_REQUEST",
            RequestTimeout => "REQUEST_TIMEOUT",
            Internal => "INTERNAL",
            WriteKeyRequired => "WRITE_KEY_REQUIRED",
            MessageTooLarge => "MESSAGE_TOO_LARGE",
            RequestTooLarge => "REQUEST_TOO_LARGE",
            TooManyMessages => "TOO_MANY_MESSAGES",
            InjectedFault => "INJECTED_FAULT",
        }
    }

    /// Business-rule refusals: the calls the drop log records and drop mode `accept` answers 200.
    pub fn is_business_drop(self) -> bool {
        matches!(
            self,
            ErrorCode::ReferralCodeTaken
                | ErrorCode::ReferralCodeRequired
                | ErrorCode::ReferralCodeUnknown
                | ErrorCode::SelfReferral
        )
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused request: a code, a sentence for humans and optional structured details.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// What went wrong, as a stable code.
    pub code: ErrorCode,
    /// A sentence naming the field or limit at fault.
    pub message: String,
    /// Machine-readable particulars (the field, the limit, the allowed methods ...).
    pub details: Option<Value>,
    /// Extra headers the answer needs (`Allow`, `WWW-Authenticate`).
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl ApiError {
    /// An error with a code and a message and no details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
            headers: Vec::new(),
        }
    }

    /// Attach structured details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Attach a response header.
    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// `401` with the `WWW-Authenticate` challenge of the Rehook API.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message).with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"rehook\""),
        )
    }

    /// `404 NOT_FOUND` for a path no route serves.
    pub fn no_route(path: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("no route for path {path}"))
            .with_details(json!({ "path": path }))
    }

    /// `404 CUSTOMER_NOT_FOUND` for a key (source_id, or `cust_` id where the route takes one).
    pub fn customer_not_found(key: &str) -> Self {
        Self::new(
            ErrorCode::CustomerNotFound,
            format!("no customer has the source_id or id {key:?}"),
        )
        .with_details(json!({ "source_id": key }))
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The JSON body of this error, for the given request id.
    pub fn body(&self, request_id: &str) -> Value {
        json!({
            "code": self.code.as_str(),
            "message": self.message,
            "details": self.details,
            "request_id": request_id,
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let id = request_id::current();
        let mut response = (self.status(), axum::Json(self.body(&id))).into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_and_parses_back_from_its_name() {
        for (place, code) in ErrorCode::ALL.iter().copied().enumerate() {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            assert_eq!(
                ErrorCode::ALL[..place].iter().position(|c| *c == code),
                None
            );
        }
        let names: std::collections::HashSet<&str> =
            ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        assert_eq!(ErrorCode::parse("NOPE"), None);
    }
}

//! The business rules of the Rehook API (contract section 2), as plain functions over the
//! store. No HTTP here: the API handlers call [`apply`], and so does the Segment front door
//! for each mapped message.

pub mod customers;
pub mod events;
pub mod fault;
pub mod input;

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::config::DropMode;
use crate::error::{ApiError, ErrorCode};
use crate::store::{App, DropEntry};
use fault::fault;
pub use input::is_valid_code;

/// The two writing calls of the Rehook API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `POST /customers`.
    UpsertCustomer,
    /// `POST /events/invoke`.
    InvokeEvent,
}

/// A successful (or accepted-as-dropped) answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// `200` or `201`.
    pub status: StatusCode,
    /// The JSON body.
    pub body: Value,
}

/// Where a call came from, for the drop log.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// The request's id.
    pub request_id: String,
    /// `"METHOD /path"` as called.
    pub endpoint: String,
    /// The time the call takes effect.
    pub now: String,
}

/// Validate and run one call. A business-rule refusal is written to the drop log and then
/// answered as the application's drop mode says; validation errors are returned as they are.
pub fn apply(
    app: &App,
    call: Call,
    body: &Map<String, Value>,
    ctx: &CallContext,
) -> Result<Answer, ApiError> {
    let result = match call {
        _ if fault!(app.config, NumericSourceIdRejected)
            && body.get("source_id").is_some_and(Value::is_number) =>
        {
            Err(
                ApiError::new(ErrorCode::InvalidSourceId, "source_id must be a string")
                    .with_details(json!({ "field": "source_id" })),
            )
        }
        Call::UpsertCustomer => input::CustomerInput::parse(body).and_then(|input| {
            Ok(match customers::upsert(app, input, &ctx.now)? {
                customers::Upserted::Created(c) => Answer {
                    status: if fault!(app.config, CreateAnswersOk) {
                        StatusCode::OK
                    } else {
                        StatusCode::CREATED
                    },
                    body: json!(c),
                },
                customers::Upserted::Updated(c) => Answer {
                    status: StatusCode::OK,
                    body: json!(c),
                },
            })
        }),
        Call::InvokeEvent => input::EventInput::parse(body).and_then(|input| {
            let done = events::invoke(app, input, &ctx.now)?;
            Ok(Answer {
                status: StatusCode::OK,
                body: json!({"status": "ok", "event": done.event, "referral": done.referral}),
            })
        }),
    };
    match result {
        Err(refusal) if refusal.code.is_business_drop() => {
            if !(fault!(app.config, UnprocessableNotLogged)
                && refusal.status() == StatusCode::UNPROCESSABLE_ENTITY)
            {
                app.log_drop(DropEntry {
                    request_id: ctx.request_id.clone(),
                    at: ctx.now.clone(),
                    layer: "rehook".to_owned(),
                    endpoint: ctx.endpoint.clone(),
                    reason: refusal.code.as_str().to_owned(),
                    status: refusal.status().as_u16(),
                    body: Value::Object(body.clone()),
                });
            }
            match app.config.drop_mode {
                DropMode::Reject => Err(refusal),
                DropMode::Accept => {
                    if call == Call::InvokeEvent
                        && fault!(app.config, AcceptedDropStored)
                        && let Ok(input) = input::EventInput::parse(body)
                    {
                        // Stored as a plain event, which never fails.
                        let _ = events::record(app, input, &ctx.now, false);
                    }
                    Ok(Answer {
                        status: StatusCode::OK,
                        body: json!({"status": "dropped", "reason": refusal.code.as_str()}),
                    })
                }
            }
        }
        other => other,
    }
}

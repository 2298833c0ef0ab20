//! What the front door does with each message once the request is accepted: Segment's
//! ingestion, the destination's mapping, and the mapped call through the Rehook API's own rule
//! functions, ending in one delivery-log entry.
//!
//! The mapping is called from exactly one place, [`map_message`], so that an application's own
//! mapping set can take the place of the default, published mappings there and nowhere else.

use serde_json::{Map, Value};

use super::ingest::Accepted;
use super::{Action, Mapped, RehookCall, id_text, ingest};
use crate::rehook::fault::fault;
use crate::rehook::{self, Call, CallContext};
use crate::store::ids::now;
use crate::store::{App, DeliveryEntry, DeliveryOutcome};

/// The destination mappings for one accepted message of `app`: the one call site of the
/// mapping in the front door. The application's mapping set (the defaults unless custom ones
/// are loaded) gives one outcome per fired mapping, in file order, or one `Filtered`.
pub(crate) fn map_message(app: &App, accepted: &Accepted<'_>) -> Vec<Mapped> {
    app.config()
        .mapping_set()
        .map(accepted)
        .into_iter()
        .map(|(_, mapped)| mapped)
        .collect()
}

/// Runs one message through ingestion, the mapping and the Rehook rules for `app`, and
/// writes its delivery-log entries: one per fired mapping (in the mapping set's order), else
/// one. `request_id` is the front-door request's id, which a refused Rehook call carries into
/// the drop log. Answers with the last entry written.
///
/// The `messageId` is checked and marked in one step ([`App::mark_message_seen`]) and only
/// for a message that passed every other ingestion rule.
pub(crate) fn deliver(app: &App, message: &Value, request_id: &str) -> DeliveryEntry {
    let now = now();
    let base = DeliveryEntry {
        message_id: id_text(message.get("messageId")),
        message_type: message
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_owned),
        action: None,
        outcome: DeliveryOutcome::Dropped,
        status: None,
        reason: None,
        at: now.clone(),
    };
    let mut seen =
        |id: &str| app.mark_message_seen(id) || fault!(app.config, DuplicateMessageIdDelivered);
    let outcomes = match ingest(message, &mut seen) {
        Err(drop) => {
            let mut entry = base;
            entry.reason = Some(drop.reason().to_owned());
            app.log_delivery(entry.clone());
            return entry;
        }
        Ok(accepted) => map_message(app, &accepted),
    };
    let mut last = base.clone();
    for mapped in outcomes {
        let mut entry = base.clone();
        match mapped {
            Mapped::Filtered => entry.outcome = DeliveryOutcome::Filtered,
            Mapped::Disabled => {
                entry.outcome = DeliveryOutcome::Filtered;
                entry.reason = Some(super::INTEGRATIONS_DISABLED.to_owned());
            }
            Mapped::Dropped { action, reason } => {
                entry.action = Some(action.as_str().to_owned());
                entry.reason = Some(reason.reason().to_owned());
            }
            Mapped::Call(call) => {
                entry.action = Some(call.action.as_str().to_owned());
                run_call(app, &call, request_id, now.clone(), &mut entry);
            }
        }
        app.log_delivery(entry.clone());
        last = entry;
    }
    last
}

/// Runs the mapped call through the same rule function as the Rehook API (drop mode and drop
/// log included) and reads its answer into `entry`.
fn run_call(
    app: &App,
    call: &RehookCall,
    request_id: &str,
    now: String,
    entry: &mut DeliveryEntry,
) {
    let rule = match call.action {
        Action::IdentifyUser => Call::UpsertCustomer,
        Action::TrackEvent => Call::InvokeEvent,
    };
    let body: Map<String, Value> = call.body.as_object().cloned().unwrap_or_default();
    let ctx = CallContext {
        request_id: request_id.to_owned(),
        endpoint: format!("{} {}", call.method(), call.path()),
        now,
    };
    match rehook::apply(app, rule, &body, &ctx) {
        Ok(answer) => {
            entry.status = Some(answer.status.as_u16());
            // Drop mode `accept` answers a refused call with `200 {"status": "dropped"}`.
            if answer.body.get("status").and_then(Value::as_str) == Some("dropped") {
                entry.reason = answer
                    .body
                    .get("reason")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            } else {
                entry.outcome = DeliveryOutcome::Delivered;
            }
        }
        Err(refusal) => {
            entry.status = Some(refusal.status().as_u16());
            entry.reason = Some(refusal.code.as_str().to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::{AppConfig, DropMode};

    fn app() -> App {
        App::new(AppConfig::default_app(), Some(1))
    }

    fn shape(e: &DeliveryEntry) -> (Option<&str>, DeliveryOutcome, Option<u16>, Option<&str>) {
        (
            e.action.as_deref(),
            e.outcome,
            e.status,
            e.reason.as_deref(),
        )
    }

    #[test]
    fn each_outcome_is_logged_with_its_action_status_and_reason() {
        let app = app();
        let cases = [
            (
                json!({"type": "identify", "userId": "a", "traits": {"referral_code": "ADA"}, "messageId": "m1"}),
                (
                    Some("identify_user"),
                    DeliveryOutcome::Delivered,
                    Some(201),
                    None,
                ),
            ),
            (
                json!({"type": "identify", "userId": "b", "traits": {"referral_code": "ADA"}}),
                (
                    Some("identify_user"),
                    DeliveryOutcome::Dropped,
                    Some(409),
                    Some("REFERRAL_CODE_TAKEN"),
                ),
            ),
            (
                json!({"type": "track", "anonymousId": "x", "event": "signup"}),
                (
                    Some("track_event"),
                    DeliveryOutcome::Dropped,
                    None,
                    Some("anonymous_only"),
                ),
            ),
            (
                json!({"type": "page", "userId": "a"}),
                (None, DeliveryOutcome::Filtered, None, None),
            ),
            (
                json!({"type": "identify", "userId": "a", "messageId": "m1"}),
                (
                    None,
                    DeliveryOutcome::Dropped,
                    None,
                    Some("duplicate_message_id"),
                ),
            ),
            (
                json!({"type": "identify", "userId": "c", "traits": {"referral_code": "A B"}}),
                (
                    Some("identify_user"),
                    DeliveryOutcome::Dropped,
                    Some(400),
                    Some("INVALID_REFERRAL_CODE"),
                ),
            ),
        ];
        for (message, expected) in &cases {
            let entry = deliver(&app, message, "req_x");
            assert_eq!(shape(&entry), *expected, "{message}");
        }
        assert_eq!(app.deliveries().len(), cases.len());
        let drops = app.drops();
        assert_eq!(drops.len(), 1, "only the business-rule refusal is a drop");
        assert_eq!(
            (drops[0].endpoint.as_str(), drops[0].request_id.as_str()),
            ("POST /customers", "req_x")
        );
    }

    #[test]
    fn an_ingestion_drop_does_not_mark_the_message_id() {
        let app = app();
        let no_event = json!({"type": "track", "userId": "a", "messageId": "m"});
        assert_eq!(
            deliver(&app, &no_event, "req_x").reason.as_deref(),
            Some("missing_event_name")
        );
        let fixed = json!({"type": "track", "userId": "a", "event": "x", "messageId": "m"});
        assert_eq!(
            deliver(&app, &fixed, "req_x").outcome,
            DeliveryOutcome::Delivered
        );
    }

    #[test]
    fn drop_mode_accept_is_still_a_drop_with_the_answered_status() {
        let mut config = AppConfig::default_app();
        config.drop_mode = DropMode::Accept;
        let app = App::new(config, Some(1));
        let refused = json!({"type": "track", "userId": "f", "event": "signup"});
        let entry = deliver(&app, &refused, "req_x");
        assert_eq!(
            shape(&entry),
            (
                Some("track_event"),
                DeliveryOutcome::Dropped,
                Some(200),
                Some("REFERRAL_CODE_REQUIRED")
            )
        );
        assert_eq!(app.drops().len(), 1);
    }
}

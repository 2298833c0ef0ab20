//! The model's own rules, one behaviour per test.

use serde_json::{Value, json};

use super::app::fresh_code;
use super::*;

fn customer(reply: Reply) -> Customer {
    match reply {
        Reply::Customer { customer, .. } => customer,
        other => panic!("expected a customer, got {other:?}"),
    }
}

fn error(reply: &Reply) -> (u16, &'static str) {
    match reply {
        Reply::Error { status, code } => (*status, code),
        other => panic!("expected an error, got {other:?}"),
    }
}

fn app() -> App {
    App::new(Settings::default())
}

#[test]
fn a_create_without_a_code_gets_a_fresh_one_and_an_update_merges_metadata_shallowly() {
    let mut app = app();
    let created = app.upsert(&json!({"source_id": "u", "metadata": {"a": 1, "b": {"x": 1}}}));
    assert_eq!(created.status(), 201);
    assert_eq!(customer(created).referral_code, fresh_code(0));
    let updated =
        customer(app.upsert(&json!({"source_id": "u", "metadata": {"b": {"y": 2}, "c": null}})));
    assert_eq!(
        updated.metadata,
        json!({"a": 1, "b": {"y": 2}, "c": null})
            .as_object()
            .cloned()
            .unwrap()
    );
    assert_eq!(updated.referral_code, fresh_code(0));
    assert_eq!(app.generated, 1);
}

#[test]
fn a_new_code_replaces_the_old_one_which_is_freed_for_others() {
    let mut app = app();
    app.upsert(&json!({"source_id": "a", "referral_code": "OLD"}));
    let moved = customer(app.upsert(&json!({"source_id": "a", "referral_code": "NEW"})));
    assert_eq!(moved.referral_code, "NEW");
    assert_eq!(
        error(&app.validate("OLD")),
        (404, "REFERRAL_CODE_NOT_FOUND")
    );
    let b = app.upsert(&json!({"source_id": "b", "referral_code": "OLD"}));
    assert_eq!(b.status(), 201);
    assert_eq!(customer(app.validate("OLD")).source_id, "b");
    // Sending one's own code is no change and no conflict.
    assert_eq!(
        app.upsert(&json!({"source_id": "b", "referral_code": "OLD"}))
            .status(),
        200
    );
}

#[test]
fn a_taken_code_drops_the_whole_call_and_logs_it() {
    let mut app = app();
    app.upsert(&json!({"source_id": "a", "referral_code": "ADA"}));
    app.upsert(&json!({"source_id": "b", "metadata": {"k": 1}}));
    let before = app.customers.clone();
    let body = json!({"source_id": "b", "referral_code": "ADA", "metadata": {"k": 2}});
    assert_eq!(error(&app.upsert(&body)), (409, "REFERRAL_CODE_TAKEN"));
    let fresh = json!({"source_id": "c", "referral_code": "ADA"});
    assert_eq!(error(&app.upsert(&fresh)), (409, "REFERRAL_CODE_TAKEN"));
    assert_eq!(app.customers, before);
    assert_eq!(app.drops.len(), 2);
    assert_eq!(app.drops[0].body, body);
    assert_eq!(
        (app.drops[0].status, app.drops[0].reason),
        (409, "REFERRAL_CODE_TAKEN")
    );
}

#[test]
fn validation_errors_come_in_the_contracts_field_order_and_are_not_drops() {
    let mut app = app();
    let cases: [(Value, &str); 6] = [
        (
            json!({"metadata": 1, "referral_code": {}}),
            "SOURCE_ID_REQUIRED",
        ),
        (
            json!({"source_id": true, "metadata": 1}),
            "INVALID_SOURCE_ID",
        ),
        (
            json!({"source_id": "u", "metadata": [], "referral_code": "A B"}),
            "INVALID_METADATA",
        ),
        (
            json!({"source_id": "u", "referral_code": "A B"}),
            "INVALID_REFERRAL_CODE",
        ),
        (
            json!({"source_id": " ", "event_name": 1}),
            "SOURCE_ID_REQUIRED",
        ),
        (json!({"source_id": 5, "metadata": "x"}), "INVALID_METADATA"),
    ];
    for (body, code) in cases {
        assert_eq!(error(&app.upsert(&body)), (400, code), "{body}");
    }
    let events: [(Value, &str); 4] = [
        (json!({"event_name": 1}), "SOURCE_ID_REQUIRED"),
        (
            json!({"source_id": "u", "event_name": " ", "metadata": 1}),
            "EVENT_NAME_REQUIRED",
        ),
        (
            json!({"source_id": "u", "event_name": 7, "metadata": 1}),
            "INVALID_EVENT_NAME",
        ),
        (
            json!({"source_id": "u", "event_name": "x", "metadata": 1}),
            "INVALID_METADATA",
        ),
    ];
    for (body, code) in events {
        assert_eq!(error(&app.invoke(&body)), (400, code), "{body}");
    }
    assert_eq!(error(&app.upsert(&json!([]))), (400, "INVALID_BODY"));
    assert!(app.customers.is_empty() && app.drops.is_empty() && app.events.is_empty());
}

#[test]
fn a_conversion_attributes_once_and_then_reports_the_existing_advocate() {
    let mut app = app();
    app.upsert(&json!({"source_id": "a", "referral_code": "ADA"}));
    app.upsert(&json!({"source_id": "b", "referral_code": "BOB"}));
    let first = app.invoke(
        &json!({"source_id": "f", "event_name": "signup", "metadata": {"referral_code": "ADA"}}),
    );
    let Reply::Event { referral, event } = first else {
        panic!("{first:?}")
    };
    assert_eq!(
        referral,
        Some(Referral {
            advocate: "a".into(),
            attributed: true
        })
    );
    assert_eq!(event.metadata["referral_code"], "ADA");
    let again = app.invoke(
        &json!({"source_id": "f", "event_name": "signup", "metadata": {"referral_code": "BOB"}}),
    );
    let Reply::Event { referral, .. } = again else {
        panic!("{again:?}")
    };
    assert_eq!(
        referral,
        Some(Referral {
            advocate: "a".into(),
            attributed: false
        })
    );
    assert_eq!(app.customer("a").unwrap().referral_count(), 1);
    assert_eq!(app.customer("b").unwrap().referral_count(), 0);
    assert_eq!(app.customer("f").unwrap().referred_by.as_deref(), Some("a"));
    // The friend was created on the spot with a generated code and no metadata.
    assert_eq!(app.customer("f").unwrap().referral_code, fresh_code(0));
    app.invoke(
        &json!({"source_id": "g", "event_name": "signup", "metadata": {"referral_code": "ADA"}}),
    );
    let Reply::Referrals(list) = app.referral_list("a") else {
        panic!()
    };
    let order: Vec<_> = list.iter().map(|c| c.source_id.as_str()).collect();
    assert_eq!(order, ["f", "g"]);
    assert_eq!(app.events.len(), 3);
}

#[test]
fn each_conversion_drop_stores_nothing_and_is_logged() {
    let mut app = app();
    app.upsert(&json!({"source_id": "a", "referral_code": "ADA"}));
    let cases = [
        (
            json!({"source_id": "n", "event_name": "signup"}),
            "REFERRAL_CODE_REQUIRED",
        ),
        (
            json!({"source_id": "n", "event_name": "signup", "metadata": {"referral_code": true}}),
            "REFERRAL_CODE_REQUIRED",
        ),
        (
            json!({"source_id": "n", "event_name": "signup", "metadata": {"referral_code": "NOPE"}}),
            "REFERRAL_CODE_UNKNOWN",
        ),
        (
            json!({"source_id": "a", "event_name": "signup", "metadata": {"referral_code": "ADA"}}),
            "SELF_REFERRAL",
        ),
    ];
    for (body, code) in &cases {
        assert_eq!(error(&app.invoke(body)), (422, *code), "{body}");
    }
    assert!(app.customer("n").is_none());
    assert!(app.events.is_empty());
    let reasons: Vec<_> = app.drops.iter().map(|d| (d.endpoint, d.reason)).collect();
    assert_eq!(
        reasons,
        cases
            .iter()
            .map(|(_, c)| (Endpoint::EventsInvoke, *c))
            .collect::<Vec<_>>()
    );
}

#[test]
fn other_events_never_attribute_and_create_unknown_senders() {
    let mut app = app();
    app.upsert(&json!({"source_id": "a", "referral_code": "ADA"}));
    let reply = app.invoke(
        &json!({"source_id": 42, "event_name": "page_view", "metadata": {"referral_code": "ADA"}}),
    );
    assert_eq!(
        reply,
        Reply::Event {
            event: Event {
                event_name: "page_view".into(),
                source_id: "42".into(),
                metadata: json!({"referral_code": "ADA"})
                    .as_object()
                    .cloned()
                    .unwrap()
            },
            referral: None,
        }
    );
    assert!(app.customer("42").unwrap().referred_by.is_none());
}

#[test]
fn drop_mode_accept_answers_200_dropped_and_still_logs() {
    let mut app = App::new(Settings {
        drop_mode: DropMode::Accept,
        ..Settings::default()
    });
    app.upsert(&json!({"source_id": "a", "referral_code": "ADA"}));
    let reply = app.upsert(&json!({"source_id": "b", "referral_code": "ADA"}));
    assert_eq!(
        reply,
        Reply::Dropped {
            reason: "REFERRAL_CODE_TAKEN"
        }
    );
    assert_eq!(reply.status(), 200);
    assert!(app.customer("b").is_none());
    assert_eq!(app.drops.len(), 1);
}

#[test]
fn learning_a_generated_code_renames_it_everywhere() {
    let mut app = app();
    app.upsert(&json!({"source_id": "a"}));
    app.learn_code(0, "QWERTY");
    assert_eq!(customer(app.validate("QWERTY")).source_id, "a");
    assert_eq!(
        error(&app.validate(&fresh_code(0))),
        (404, "REFERRAL_CODE_NOT_FOUND")
    );
}

#[test]
fn segment_ingestion_drops_in_the_contracts_order() {
    let mut source = Source::default();
    let dropped = |reason| Play::Dropped {
        action: None,
        reason,
    };
    assert_eq!(
        source.play(&json!({"type": "nope", "userId": "u"})),
        dropped("invalid_type")
    );
    assert_eq!(
        source.play(&json!({"userId": "u"})),
        dropped("invalid_type")
    );
    assert_eq!(
        source.play(&json!({"type": "track", "userId": "", "anonymousId": null, "messageId": "m"})),
        dropped("missing_identity")
    );
    assert_eq!(
        source.play(&json!({"type": "track", "userId": "u", "event": "", "messageId": "m"})),
        dropped("missing_event_name")
    );
    // Ingestion drops did not mark "m" as seen.
    assert_eq!(
        source.play(&json!({"type": "page", "anonymousId": "x", "messageId": "m"})),
        Play::Filtered
    );
    assert_eq!(
        source.play(&json!({"type": "identify", "userId": "u", "messageId": "m"})),
        dropped("duplicate_message_id")
    );
}

#[test]
fn segment_maps_identify_and_track_and_drops_anonymous_ones() {
    let mut source = Source::default();
    let identify = source.play(&json!({"type": "identify", "userId": 7, "traits": {"referral_code": "ADA", "x": false}, "context": {"ip": "1"}}));
    assert_eq!(
        identify,
        Play::Call {
            endpoint: Endpoint::Customers,
            body: json!({"source_id": "7", "metadata": {"referral_code": "ADA", "x": false}, "referral_code": "ADA"}),
        }
    );
    let track =
        source.play(&json!({"type": "track", "userId": "u", "event": 12, "properties": null}));
    assert_eq!(
        track,
        Play::Call {
            endpoint: Endpoint::EventsInvoke,
            body: json!({"event_name": "12", "source_id": "u"})
        }
    );
    let anonymous = source.play(&json!({"type": "track", "anonymousId": "a", "event": "signup"}));
    assert_eq!(
        anonymous,
        Play::Dropped {
            action: Some(Endpoint::EventsInvoke),
            reason: "anonymous_only"
        }
    );
    for kind in ["page", "screen", "group", "alias"] {
        assert_eq!(
            source.play(&json!({"type": kind, "userId": "u"})),
            Play::Filtered
        );
    }
}

#[test]
fn segment_sends_a_numeric_traits_referral_code_as_text() {
    let mut source = Source::default();
    let numeric = source
        .play(&json!({"type": "identify", "userId": "u", "traits": {"referral_code": 4021.0}}));
    let expected =
        json!({"source_id": "u", "metadata": {"referral_code": 4021.0}, "referral_code": "4021"});
    assert_eq!(
        numeric,
        Play::Call {
            endpoint: Endpoint::Customers,
            body: expected
        }
    );
}

//! Custom mappings: the default file gives exactly what the built-in default mapping gives,
//! the example files do what the README says, and mappings load through every door.

use std::collections::HashSet;

use proptest::prelude::*;
use rehook_mock::segment::{Accepted, Mapped, MappingSet, ingest, map_default};
use serde_json::{Value, json};

/// What the default mapping set makes of a message, as the one outcome the built-in mapping
/// gives: the defaults never fire twice for one message.
fn engine_outcome(accepted: &Accepted<'_>) -> Mapped {
    let mut outcomes = MappingSet::defaults().map(accepted);
    assert_eq!(outcomes.len(), 1, "the defaults fire at most once");
    outcomes.remove(0).1
}

fn same_as_map_default(message: &Value) -> Result<(), TestCaseError> {
    let mut seen = HashSet::<String>::new();
    if let Ok(accepted) = ingest(message, &mut seen) {
        prop_assert_eq!(
            engine_outcome(&accepted),
            map_default(&accepted),
            "{}",
            message
        );
    }
    Ok(())
}

/// Values a message field may hold, the awkward ones included.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!("")),
        Just(json!(" ")),
        Just(json!("u-1")),
        Just(json!("ADA")),
        Just(json!("signup")),
        Just(json!(4021)),
        Just(json!(4021.5)),
        Just(json!(1e21)),
        Just(json!(true)),
        Just(json!(false)),
        Just(json!({"id": 1})),
        Just(json!(["u"])),
    ]
}

/// An object with some of these keys (`referral_code` among them), or a non-object.
fn bag() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => proptest::collection::btree_map(
            prop_oneof![Just("referral_code"), Just("plan"), Just("email"), Just("total")],
            scalar(),
            0..4,
        )
        .prop_map(|m| json!(m)),
        1 => scalar(),
    ]
}

/// Sets `key` to the value, or leaves it out.
fn maybe(
    key: &'static str,
    value: impl Strategy<Value = Value>,
) -> impl Strategy<Value = Option<(&'static str, Value)>> {
    proptest::option::of(value.prop_map(move |v| (key, v)))
}

fn message() -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        Just(json!("identify")),
        Just(json!("track")),
        Just(json!("page")),
        Just(json!("screen")),
        Just(json!("group")),
        Just(json!("alias")),
        Just(json!("Track")),
        Just(json!(7)),
    ];
    (
        maybe("type", kind),
        maybe("userId", scalar()),
        maybe("anonymousId", scalar()),
        maybe("event", scalar()),
        maybe("traits", bag()),
        maybe("properties", bag()),
        maybe(
            "context",
            Just(
                json!({"personas": {"computation_key": "k", "computation_class": "audience"},
                         "traits": {"email": "e@example.test"}}),
            ),
        ),
    )
        .prop_map(|(a, b, c, d, e, f, g)| {
            let fields = [a, b, c, d, e, f, g].into_iter().flatten();
            Value::Object(fields.map(|(k, v)| (k.to_owned(), v)).collect())
        })
}

proptest! {
    #[test]
    fn the_default_file_maps_every_message_as_the_built_in_mapping_does(msg in message()) {
        same_as_map_default(&msg)?;
    }
}

/// Every message of a Segment file: NDJSON lines, each a message or a batch envelope.
fn corpus_messages() -> Vec<Value> {
    let text = include_str!("../../../harness/tests/fixtures/node-sdk-referrals.ndjson");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .flat_map(|line| {
            let value: Value = serde_json::from_str(line).expect("corpus lines are JSON");
            match value.get("batch").and_then(Value::as_array) {
                Some(batch) => batch.clone(),
                None => vec![value],
            }
        })
        .collect()
}

#[test]
fn the_default_file_maps_the_node_sdk_corpus_as_the_built_in_mapping_does() {
    let messages = corpus_messages();
    assert!(messages.len() > 20, "{} messages", messages.len());
    let mut outcomes = Vec::new();
    for message in &messages {
        same_as_map_default(message).expect("same outcome");
        if let Ok(accepted) = ingest(message, &mut HashSet::<String>::new()) {
            outcomes.push(engine_outcome(&accepted));
        }
    }
    // The corpus exercises calls, filtered types and anonymous-only drops alike.
    assert!(outcomes.iter().any(|o| matches!(o, Mapped::Call(_))));
    assert!(outcomes.iter().any(|o| *o == Mapped::Filtered));
    assert!(outcomes.iter().any(|o| matches!(o, Mapped::Dropped { .. })));
}

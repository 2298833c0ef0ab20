//! Custom mappings: the default file maps as the contract's default mapping rules say, the
//! example files do what the README says, and mappings load through every door.

use std::collections::HashSet;

use proptest::prelude::*;
use rehook_mock::segment::{
    Accepted, Action, Mapped, MappingDrop, MappingSet, MessageType, RehookCall, ingest,
};
use serde_json::{Map, Value, json};

/// What the default mapping set makes of a message: the defaults fire at most once.
fn engine_outcome(accepted: &Accepted<'_>) -> Mapped {
    let mut outcomes = MappingSet::defaults().map(accepted);
    assert_eq!(outcomes.len(), 1, "the defaults fire at most once");
    outcomes.remove(0).1
}

/// The contract's default mapping rules, written out on their own: ingestion's reading of the
/// identity and the event is taken as given, every mapping rule is restated here.
fn expected_outcome(accepted: &Accepted<'_>) -> Mapped {
    let message = accepted.message();
    if let Some(Value::Object(integrations)) = message.get("integrations") {
        let on = match integrations.get("Rehook") {
            Some(Value::Bool(on)) => *on,
            Some(Value::Object(_)) => true,
            _ => integrations.get("All") != Some(&json!(false)),
        };
        if !on {
            return Mapped::Disabled;
        }
    }
    let action = match accepted.message_type() {
        MessageType::Identify => Action::IdentifyUser,
        MessageType::Track => Action::TrackEvent,
        _ => return Mapped::Filtered,
    };
    let Some(user_id) = accepted.user_id() else {
        let reason = match accepted.anonymous_id() {
            Some(_) => MappingDrop::AnonymousOnly,
            None => MappingDrop::MissingUserId,
        };
        return Mapped::Dropped { action, reason };
    };
    let present = |v: Option<&Value>| v.filter(|v| !v.is_null()).cloned();
    let mut body = Map::new();
    body.insert("source_id".into(), json!(user_id));
    if action == Action::IdentifyUser {
        let traits = present(message.get("traits"));
        if let Some(code) = present(traits.as_ref().and_then(|t| t.get("referral_code"))) {
            body.insert("referral_code".into(), as_text(code));
        }
        if let Some(traits) = traits {
            body.insert("metadata".into(), traits);
        }
    } else {
        let name = accepted.event().unwrap_or("track");
        body.insert("event_name".into(), json!(name));
        if let Some(properties) = present(message.get("properties")) {
            body.insert("metadata".into(), properties);
        }
    }
    Mapped::Call(RehookCall {
        action,
        body: Value::Object(body),
    })
}

/// A text field's value: numbers as JavaScript writes them (for the numbers generated here
/// and found in the corpus), booleans as `true`/`false`, anything else unchanged.
fn as_text(value: Value) -> Value {
    match value {
        Value::Bool(b) => json!(b.to_string()),
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().expect("a float");
            let text = if f.abs() >= 1e21 {
                format!("{f:e}").replace('e', "e+")
            } else {
                f.to_string()
            };
            json!(text)
        }
        Value::Number(n) => json!(n.to_string()),
        other => other,
    }
}

/// The default file's outcome for `message`, checked against the rules; `None` when
/// ingestion refuses it.
fn check_default_mapping(message: &Value) -> Result<Option<Mapped>, TestCaseError> {
    let mut seen = HashSet::<String>::new();
    let Ok(accepted) = ingest(message, &mut seen) else {
        return Ok(None);
    };
    let outcome = engine_outcome(&accepted);
    prop_assert_eq!(&outcome, &expected_outcome(&accepted), "{}", message);
    Ok(Some(outcome))
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
            "integrations",
            prop_oneof![
                Just(json!({"Rehook": false})),
                Just(json!({"All": false})),
                Just(json!({"All": false, "Rehook": true})),
                Just(json!({"All": false, "Rehook": {"opt": 1}})),
                Just(json!({"rehook": false})),
                Just(json!("off")),
            ],
        ),
        maybe(
            "context",
            Just(
                json!({"personas": {"computation_key": "k", "computation_class": "audience"},
                         "traits": {"email": "e@example.test"}}),
            ),
        ),
    )
        .prop_map(|(a, b, c, d, e, f, g, h)| {
            let fields = [a, b, c, d, e, f, g, h].into_iter().flatten();
            Value::Object(fields.map(|(k, v)| (k.to_owned(), v)).collect())
        })
}

proptest! {
    #[test]
    fn the_default_file_maps_every_message_by_the_default_mapping_rules(msg in message()) {
        check_default_mapping(&msg)?;
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
fn the_default_file_maps_the_node_sdk_corpus_by_the_default_mapping_rules() {
    let messages = corpus_messages();
    assert!(messages.len() > 20, "{} messages", messages.len());
    let mut outcomes = Vec::new();
    for message in &messages {
        outcomes.extend(check_default_mapping(message).expect("the rules' outcome"));
    }
    // The corpus exercises calls, filtered types and anonymous-only drops alike.
    assert!(outcomes.iter().any(|o| matches!(o, Mapped::Call(_))));
    assert!(outcomes.contains(&Mapped::Filtered));
    assert!(outcomes.iter().any(|o| matches!(o, Mapped::Dropped { .. })));
}

mod doors {
    //! Loading mappings: the admin API, the builder, the command line, config and state.

    use rehook_mock::config::Cli;
    use rehook_mock::segment::MappingSet;
    use rehook_mock::{AppConfig, MockRehook};
    use reqwest::Method;
    use serde_json::{Value, json};

    use crate::support::{Fake, send};

    fn page_views() -> Value {
        serde_json::from_str(include_str!("../../../examples/mappings/page-views.json"))
            .expect("the example is JSON")
    }

    fn defaults() -> Value {
        serde_json::from_str(include_str!("../../../mappings/default.json")).expect("JSON")
    }

    /// The document as the admin API shows it back (`enabled` written out).
    fn shown(doc: &Value) -> Value {
        MappingSet::from_json(doc).expect("valid").to_json()
    }

    async fn put(fake: &Fake, path: &str, body: &Value) -> crate::support::Reply {
        send(fake.request(Method::PUT, path).json(body)).await
    }

    #[tokio::test]
    async fn get_shows_the_defaults_until_a_put_replaces_them() {
        let fake = Fake::start().await;
        assert_eq!(
            fake.admin_get("/__admin/mappings").await,
            shown(&defaults())
        );
        let reply = put(&fake, "/__admin/mappings", &page_views()).await;
        assert_eq!(reply.ok(200), &shown(&page_views()));
        assert_eq!(
            fake.admin_get("/__admin/mappings").await,
            shown(&page_views())
        );
        let doc = fake
            .mock
            .store()
            .mappings_doc(None)
            .expect("the default app");
        let names: Vec<&str> = doc["mappings"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|m| m["name"].as_str().expect("a name"))
            .collect();
        assert_eq!(names, ["Identify User", "Track Event", "Page views"]);
    }

    #[tokio::test]
    async fn a_refused_mapping_document_changes_nothing_and_names_the_mapping() {
        let fake = Fake::start().await;
        put(&fake, "/__admin/mappings", &page_views()).await.ok(200);
        let before = fake.state().await;
        let mut bad = page_views();
        bad["mappings"][2]["subscribe"] = json!("type = \"page\" and");
        let reply = put(&fake, "/__admin/mappings", &bad).await;
        let body = reply.error(400, "INVALID_MAPPINGS");
        assert_eq!(
            body["message"],
            "mapping 2 (\"Page views\"): the trigger does not parse at position 18: expected a field path, `not` or `(`, found the end of the trigger"
        );
        assert_eq!(
            body["details"],
            json!({"index": 2, "name": "Page views", "field": "subscribe", "position": 18})
        );
        let many: Vec<Value> = (0..51)
            .map(|i| {
                let mut m = page_views()["mappings"][2].clone();
                m["name"] = json!(format!("m{i}"));
                m
            })
            .collect();
        let reply = put(&fake, "/__admin/mappings", &json!({"mappings": many})).await;
        assert_eq!(
            reply.error(400, "INVALID_MAPPINGS")["details"],
            json!({"limit": 50, "count": 51})
        );
        put(&fake, "/__admin/mappings", &json!([1]))
            .await
            .error(400, "INVALID_BODY");
        assert_eq!(fake.state().await, before);
    }

    #[tokio::test]
    async fn the_mappings_route_follows_the_admin_rules() {
        let fake = Fake::with(MockRehook::builder().admin_token("t")).await;
        fake.admin(Method::GET, "/__admin/mappings")
            .await
            .error(401, "UNAUTHORIZED");
        let authed = |method: Method, path: &str| {
            fake.request(method, path)
                .header("authorization", "Bearer t")
        };
        send(authed(Method::GET, "/__admin/mappings?ap=x"))
            .await
            .error(400, "INVALID_QUERY");
        let reply = send(authed(Method::DELETE, "/__admin/mappings")).await;
        reply.error(405, "METHOD_NOT_ALLOWED");
        assert_eq!(reply.header("allow"), Some("GET, HEAD, PUT"));
        send(authed(Method::PUT, "/__admin/mappings").body("{"))
            .await
            .error(400, "INVALID_JSON");
        assert_eq!(
            send(authed(Method::GET, "/__admin/mappings")).await.ok(200),
            &shown(&defaults())
        );
    }

    #[tokio::test]
    async fn mappings_belong_to_the_application_named_by_app() {
        let fake = Fake::with(
            MockRehook::builder()
                .app(AppConfig::default_app())
                .app(AppConfig::new("rk_other", "s")),
        )
        .await;
        put(&fake, "/__admin/mappings?app=rk_other", &page_views())
            .await
            .ok(200);
        assert_eq!(
            fake.admin_get("/__admin/mappings?app=rk_other").await,
            shown(&page_views())
        );
        assert_eq!(
            fake.admin_get("/__admin/mappings").await,
            shown(&defaults())
        );
        put(&fake, "/__admin/mappings?app=nope", &page_views())
            .await
            .error(404, "APP_NOT_FOUND");
    }

    #[tokio::test]
    async fn the_state_export_carries_custom_mappings_and_an_import_without_them_restores_the_defaults()
     {
        let fake = Fake::start().await;
        let plain = fake.state().await;
        assert!(plain["config"]["applications"][0].get("mappings").is_none());
        put(&fake, "/__admin/mappings", &page_views()).await.ok(200);
        let custom = fake.state().await;
        assert_eq!(
            custom["config"]["applications"][0]["mappings"],
            shown(&page_views())["mappings"]
        );
        put(&fake, "/__admin/state", &plain).await.ok(200);
        assert_eq!(
            fake.admin_get("/__admin/mappings").await,
            shown(&defaults())
        );
        put(&fake, "/__admin/state", &custom).await.ok(200);
        assert_eq!(
            fake.admin_get("/__admin/mappings").await,
            shown(&page_views())
        );
        assert_eq!(fake.state().await, custom);
    }

    #[tokio::test]
    async fn the_config_document_sets_keeps_and_clears_mappings() {
        let fake = Fake::start().await;
        let app = |extra: Value| {
            let mut doc = json!({"api_key": "rk_test_key"});
            doc.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            json!({"applications": [doc]})
        };
        let list = page_views()["mappings"].clone();
        put(&fake, "/__admin/config", &app(json!({"mappings": list})))
            .await
            .ok(200);
        assert_eq!(
            fake.admin_get("/__admin/mappings").await,
            shown(&page_views())
        );
        put(&fake, "/__admin/config", &app(json!({}))).await.ok(200);
        assert_eq!(
            fake.admin_get("/__admin/mappings").await,
            shown(&page_views()),
            "kept"
        );
        let reply = put(
            &fake,
            "/__admin/config",
            &app(json!({"mappings": [{"name": "x"}]})),
        )
        .await;
        assert_eq!(
            reply.error(400, "INVALID_MAPPINGS")["details"],
            json!({"app": "rk_test_key", "index": 0, "name": "x", "field": "subscribe"})
        );
        put(&fake, "/__admin/config", &app(json!({"mappings": null})))
            .await
            .ok(200);
        assert_eq!(
            fake.admin_get("/__admin/mappings").await,
            shown(&defaults())
        );
    }

    #[tokio::test]
    async fn the_builder_loads_mappings_for_the_default_application() {
        let set = MappingSet::from_json(&page_views()).expect("valid");
        let mock = MockRehook::builder().mappings(set.clone()).start().await;
        assert_eq!(mock.store().mappings_doc(None).expect("app"), set.to_json());
    }

    fn settings(args: &[&str]) -> Result<rehook_mock::config::Settings, String> {
        Cli::try_parse_args(std::iter::once("rehook-mock").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?
            .into_settings()
    }

    fn example(name: &str) -> String {
        format!("{}/../examples/mappings/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    fn temp(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("rehook-mappings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn the_mappings_flag_and_the_config_file_key_load_a_file() {
        let page_views = MappingSet::from_json(&page_views()).expect("valid");
        let s = settings(&["--mappings", &example("page-views.json")]).expect("loads");
        assert_eq!(s.config.apps[0].mapping_set(), &page_views);
        let by_key = temp(
            "by-key.json",
            &json!({"applications": {"k2": {"mappings": []}}}).to_string(),
        );
        let s = settings(&[
            "--app",
            "k1:s",
            "--app",
            "k2:s",
            "--mappings",
            by_key.to_str().unwrap(),
        ])
        .expect("loads");
        assert!(s.config.apps[0].mapping_set().is_default());
        assert!(s.config.apps[1].mapping_set().mappings().is_empty());
        let err = settings(&["--mappings", by_key.to_str().unwrap()]).unwrap_err();
        assert!(
            err.contains("names the application \"k2\", which is not configured"),
            "{err}"
        );
        // A relative path in a config file is read from the config file's folder.
        temp(
            "pv.json",
            &serde_json::to_string(&super::doors::page_views()).unwrap(),
        );
        let config = temp("config.toml", "mappings = \"pv.json\"\n");
        let s = settings(&["--config", config.to_str().unwrap()]).expect("loads");
        assert_eq!(s.config.apps[0].mapping_set(), &page_views);
        let bad = temp(
            "bad.json",
            r#"{"mappings": [{"name": "x", "subscribe": "type ="}]}"#,
        );
        let err = settings(&["--mappings", bad.to_str().unwrap()]).unwrap_err();
        assert!(
            err.contains("mapping 0 (\"x\"): the trigger does not parse at position 7"),
            "{err}"
        );
    }

    #[test]
    fn the_binary_refuses_a_bad_mapping_file_at_start() {
        let bad = temp("bin-bad.json", r#"{"mappings": 3}"#);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rehook-mock"))
            .args(["--bind", "127.0.0.1:0", "--mappings", bad.to_str().unwrap()])
            .env_remove("REHOOK_MAPPINGS")
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("`mappings` must be an array of mappings"),
            "{stderr}"
        );
    }
}

mod through_the_front_door {
    //! Custom mappings at work behind `/v1/batch`: the README's examples, several mappings
    //! firing for one message, and a required field that resolves to nothing.

    use rehook_mock::MockRehook;
    use rehook_mock::segment::MappingSet;
    use reqwest::Method;
    use serde_json::{Value, json};

    use crate::support::{Fake, basic, send};

    async fn fake_with(file: &str) -> Fake {
        let set = MappingSet::from_json_str(file).expect("the example loads");
        Fake::with(MockRehook::builder().seed(3).mappings(set)).await
    }

    async fn batch(fake: &Fake, messages: Value) {
        let reply = send(
            fake.request(Method::POST, "/v1/batch")
                .header("authorization", basic("wk_test", ""))
                .json(&json!({ "batch": messages })),
        )
        .await;
        assert_eq!(reply.ok(200), &json!({"success": true}));
    }

    /// `(type, action, outcome, status, reason)` of each delivery-log entry.
    async fn outcomes(fake: &Fake) -> Vec<Value> {
        let log = fake.admin_get("/__admin/deliveries").await;
        log.as_array()
            .expect("an array")
            .iter()
            .map(|e| {
                json!([
                    e["type"],
                    e["action"],
                    e["outcome"],
                    e["status"],
                    e["reason"]
                ])
            })
            .collect()
    }

    /// `(event_name, source_id, metadata)` of each stored event.
    async fn events(fake: &Fake) -> Vec<Value> {
        let list = fake.admin_get("/__admin/events").await;
        list.as_array()
            .expect("an array")
            .iter()
            .map(|e| json!([e["event_name"], e["source_id"], e["metadata"]]))
            .collect()
    }

    #[tokio::test]
    async fn page_views_become_track_events_named_by_their_type() {
        let fake = fake_with(include_str!("../../../examples/mappings/page-views.json")).await;
        batch(
            &fake,
            json!([
                {"type": "identify", "userId": "u-1", "traits": {"plan": "pro"}},
                {"type": "page", "userId": "u-1", "name": "Pricing",
                 "properties": {"url": "https://example.test/pricing", "title": "Pricing"},
                 "context": {"page": {"path": "/pricing"}}},
                {"type": "page", "anonymousId": "a-1", "name": "Home"},
                {"type": "track", "userId": "u-1", "event": "Order Completed"},
                {"type": "screen", "userId": "u-1", "name": "Home"},
            ]),
        )
        .await;
        assert_eq!(
            events(&fake).await,
            [
                json!(["page", "u-1", {"name": "Pricing", "url": "https://example.test/pricing"}]),
                json!(["Order Completed", "u-1", {}]),
            ]
        );
        assert_eq!(
            outcomes(&fake).await,
            [
                json!(["identify", "identify_user", "delivered", 201, null]),
                json!(["page", "track_event", "delivered", 200, null]),
                json!(["page", "track_event", "dropped", null, "anonymous_only"]),
                json!(["track", "track_event", "delivered", 200, null]),
                json!(["screen", null, "filtered", null, null]),
            ]
        );
    }

    #[tokio::test]
    async fn source_ids_come_from_the_email_and_context_stays_out_of_metadata() {
        let fake = fake_with(include_str!(
            "../../../examples/mappings/email-source-id.json"
        ))
        .await;
        batch(
            &fake,
            json!([
                {"type": "identify", "userId": "u-1",
                 "traits": {"email": "ada@example.test", "referral_code": "ADA"},
                 "context": {"traits": {"email": "other@example.test"}, "ip": "1.2.3.4"}},
                {"type": "track", "userId": "u-2", "event": "signup",
                 "properties": {"referral_code": "ADA"},
                 "context": {"traits": {"email": "ben@example.test"}}},
                {"type": "track", "userId": "u-3", "event": "signup"},
            ]),
        )
        .await;
        let customers = fake.admin_get("/__admin/customers").await;
        let shown: Vec<Value> = customers
            .as_array()
            .expect("an array")
            .iter()
            .map(|c| json!([c["source_id"], c["metadata"], c["referred_by"]]))
            .collect();
        assert_eq!(
            shown,
            [
                json!(["ada@example.test", {"email": "ada@example.test", "referral_code": "ADA"}, null]),
                json!(["ben@example.test", {}, "ada@example.test"]),
            ]
        );
        assert_eq!(
            outcomes(&fake).await,
            [
                json!(["identify", "identify_user", "delivered", 201, null]),
                json!(["track", "track_event", "delivered", 200, null]),
                json!([
                    "track",
                    "track_event",
                    "dropped",
                    null,
                    "missing_required_field:source_id"
                ]),
            ]
        );
    }

    #[tokio::test]
    async fn a_required_field_a_template_renders_empty_or_blank_drops_naming_the_field() {
        let set = json!({"mappings": [
            {"name": "By template", "subscribe": "type = \"track\"", "action": "track_event",
             "mapping": {"event_name": {"@path": "$.event"},
                         "source_id": {"@template": "{{userId}}"}}},
            {"name": "Blank event", "subscribe": "type = \"track\"", "action": "track_event",
             "mapping": {"event_name": {"@template": " {{properties.plan}} "},
                         "source_id": {"@path": "$.anonymousId"}}},
        ]});
        let fake = fake_with(&set.to_string()).await;
        batch(
            &fake,
            json!([{"type": "track", "anonymousId": "a1", "event": "E", "messageId": "t1"}]),
        )
        .await;
        assert_eq!(
            outcomes(&fake).await,
            [
                json!([
                    "track",
                    "track_event",
                    "dropped",
                    null,
                    "missing_required_field:source_id"
                ]),
                json!([
                    "track",
                    "track_event",
                    "dropped",
                    null,
                    "missing_required_field:event_name"
                ]),
            ]
        );
        assert_eq!(events(&fake).await, Vec::<Value>::new());
        assert_eq!(
            fake.admin_get("/__admin/drops").await,
            json!([]),
            "nothing reached the Rehook API"
        );
    }

    #[tokio::test]
    async fn a_message_two_mappings_match_runs_both_and_logs_one_entry_each() {
        let set = json!({"mappings": [
            {"name": "Every track", "subscribe": "type = \"track\"", "action": "track_event",
             "mapping": {"event_name": {"@path": "$.event"}, "source_id": {"@path": "$.userId"}}},
            {"name": "Orders by plan", "subscribe": "type = \"track\" and event = \"Order Completed\"",
             "action": "track_event",
             "mapping": {"event_name": {"@template": "order-{{properties.plan}}"},
                         "source_id": {"@path": "$.userId"},
                         "metadata": {"total": {"@path": "$.properties.total"}}}},
        ]});
        let fake = fake_with(&set.to_string()).await;
        batch(
            &fake,
            json!([
                {"type": "track", "userId": "u-1", "event": "Order Completed", "messageId": "m-1",
                 "properties": {"plan": "pro", "total": 42.5}},
                {"type": "track", "userId": "u-1", "event": "Viewed", "messageId": "m-2"},
                {"type": "identify", "userId": "u-1", "messageId": "m-3"},
            ]),
        )
        .await;
        assert_eq!(
            events(&fake).await,
            [
                json!(["Order Completed", "u-1", {}]),
                json!(["order-pro", "u-1", {"total": 42.5}]),
                json!(["Viewed", "u-1", {}]),
            ]
        );
        let log = fake.admin_get("/__admin/deliveries").await;
        let ids: Vec<&Value> = log
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["message_id"])
            .collect();
        assert_eq!(ids, ["m-1", "m-1", "m-2", "m-3"]);
        assert_eq!(
            outcomes(&fake).await[3],
            json!(["identify", null, "filtered", null, null])
        );
    }

    #[tokio::test]
    async fn mappings_put_through_the_admin_api_take_effect_on_the_next_message() {
        let fake = Fake::start().await;
        let doc: Value =
            serde_json::from_str(include_str!("../../../examples/mappings/page-views.json"))
                .expect("JSON");
        batch(
            &fake,
            json!([{"type": "page", "userId": "u-1", "name": "A"}]),
        )
        .await;
        send(fake.request(Method::PUT, "/__admin/mappings").json(&doc))
            .await
            .ok(200);
        batch(
            &fake,
            json!([{"type": "page", "userId": "u-1", "name": "B"}]),
        )
        .await;
        assert_eq!(
            outcomes(&fake).await,
            [
                json!(["page", null, "filtered", null, null]),
                json!(["page", "track_event", "delivered", 200, null]),
            ]
        );
        assert_eq!(events(&fake).await, [json!(["page", "u-1", {"name": "B"}])]);
    }
}

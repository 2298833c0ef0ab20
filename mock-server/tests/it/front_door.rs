//! Contract 3: the Segment front door (`/v1/...`): every path, write keys, limits at their
//! exact boundaries, CORS, `text/plain` and gzip bodies, messageId de-duplication (also under
//! concurrent retries), the delivery log, the fault setting, and the wire corpus posted
//! through `/v1/batch` reaching the pinned final state.

use std::path::Path;
use std::sync::Arc;

use rehook_mock::{DropMode, MockRehook};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::support::{Fake, Reply, basic, bytes, client, gzip, is_utc_timestamp, send};

/// `Authorization` for a write key, as the SDKs send it: `Basic base64(writeKey:)`.
fn write_key(key: &str) -> String {
    basic(key, "")
}

/// POST `body` to a front-door path with the write key in the header.
async fn post_v1(fake: &Fake, path: &str, key: &str, body: &Value) -> Reply {
    send(
        fake.request(Method::POST, path)
            .header("authorization", write_key(key))
            .json(body),
    )
    .await
}

/// POST a `{"batch": [...]}` envelope to `/v1/batch` with the default write key.
async fn batch(fake: &Fake, messages: Value) -> Reply {
    post_v1(fake, "/v1/batch", "wk_test", &json!({ "batch": messages })).await
}

/// Assert the front door's success answer.
#[track_caller]
fn accepted(reply: &Reply) {
    assert_eq!(reply.ok(200), &json!({"success": true}), "{reply:?}");
}

/// The delivery log without its clocks (each asserted to be an RFC 3339 UTC time).
async fn deliveries(fake: &Fake) -> Vec<Value> {
    let log = fake.admin_get("/__admin/deliveries").await;
    log.as_array()
        .expect("an array")
        .iter()
        .map(|entry| {
            let mut entry = entry.clone();
            let at = entry
                .as_object_mut()
                .expect("an object")
                .remove("at")
                .expect("every entry has `at`");
            assert!(is_utc_timestamp(at.as_str().unwrap_or("")), "{at}");
            entry
        })
        .collect()
}

/// One delivery-log entry without its clock.
fn entry(
    message_id: Option<&str>,
    message_type: Option<&str>,
    action: Option<&str>,
    outcome: &str,
    status: Option<u16>,
    reason: Option<&str>,
) -> Value {
    json!({"message_id": message_id, "type": message_type, "action": action,
           "outcome": outcome, "status": status, "reason": reason})
}

async fn source_ids(fake: &Fake) -> Vec<String> {
    fake.admin_get("/__admin/customers")
        .await
        .as_array()
        .expect("an array")
        .iter()
        .map(|c| c["source_id"].as_str().expect("text").to_owned())
        .collect()
}

#[tokio::test]
async fn every_path_accepts_its_message_and_sets_its_type() {
    let fake = Fake::start().await;
    let singles = [
        (
            "/v1/identify",
            "identify",
            "identify_user",
            "delivered",
            Some(201),
        ),
        ("/v1/i", "identify", "identify_user", "delivered", Some(201)),
        ("/v1/track", "track", "track_event", "delivered", Some(200)),
        ("/v1/t", "track", "track_event", "delivered", Some(200)),
        ("/v1/page", "page", "", "filtered", None),
        ("/v1/p", "page", "", "filtered", None),
        ("/v1/screen", "screen", "", "filtered", None),
        ("/v1/s", "screen", "", "filtered", None),
        ("/v1/group", "group", "", "filtered", None),
        ("/v1/g", "group", "", "filtered", None),
        ("/v1/alias", "alias", "", "filtered", None),
        ("/v1/a", "alias", "", "filtered", None),
    ];
    let mut expected = Vec::new();
    for (i, (path, message_type, action, outcome, status)) in singles.iter().enumerate() {
        // The path sets the type, whatever the body says.
        let message = json!({"userId": format!("u-{i}"), "event": "opened", "type": "bogus",
                             "messageId": format!("m-{i}")});
        accepted(&post_v1(&fake, path, "wk_test", &message).await);
        let action = (!action.is_empty()).then_some(*action);
        expected.push(entry(
            Some(&format!("m-{i}")),
            Some(message_type),
            action,
            outcome,
            *status,
            None,
        ));
    }
    for (i, path) in ["/v1/batch", "/v1/b", "/v1/import"].iter().enumerate() {
        let messages = json!([{"type": "identify", "userId": format!("b-{i}"), "messageId": format!("b-{i}")}]);
        accepted(&post_v1(&fake, path, "wk_test", &json!({"batch": messages})).await);
        expected.push(entry(
            Some(&format!("b-{i}")),
            Some("identify"),
            Some("identify_user"),
            "delivered",
            Some(201),
            None,
        ));
    }
    assert_eq!(deliveries(&fake).await, expected);
    assert_eq!(
        source_ids(&fake).await,
        ["b-0", "b-1", "b-2", "u-0", "u-1", "u-2", "u-3"]
    );
    let events = fake.admin_get("/__admin/events").await;
    assert_eq!(events.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn other_methods_and_near_paths_are_405_and_404() {
    let fake = Fake::start().await;
    let get = send(fake.request(Method::GET, "/v1/batch")).await;
    get.error(405, "METHOD_NOT_ALLOWED");
    let allow = get.header("allow").unwrap_or("").to_owned();
    assert!(
        allow.contains("POST") && allow.contains("OPTIONS"),
        "{allow}"
    );
    for path in ["/v1/batch/", "/v1/x", "/v1", "/api/v1/batch", "/v2/batch"] {
        post_v1(&fake, path, "wk_test", &json!({"batch": []}))
            .await
            .error(404, "NOT_FOUND");
    }
}

#[tokio::test]
async fn the_write_key_comes_from_the_header_or_the_body_and_the_header_wins() {
    let fake = Fake::with(
        MockRehook::builder()
            .app({
                let mut app = rehook_mock::AppConfig::default_app();
                app.write_keys.push("wk_second".into());
                app
            })
            .app({
                let mut other = rehook_mock::AppConfig::new("rk_other", "s");
                other.write_keys = vec!["wk_other".into()];
                other
            }),
    )
    .await;
    let message = |id: &str| json!({"type": "identify", "userId": id});
    // Body only.
    let body_only = json!({"batch": [message("body-only")], "writeKey": "wk_test"});
    accepted(&send(fake.request(Method::POST, "/v1/batch").json(&body_only)).await);
    // Header only, a second key of the same application.
    accepted(
        &post_v1(
            &fake,
            "/v1/batch",
            "wk_second",
            &json!({"batch": [message("header-only")]}),
        )
        .await,
    );
    // Both: the header wins (the body names another application).
    let both = json!({"batch": [message("both")], "writeKey": "wk_other"});
    accepted(&post_v1(&fake, "/v1/batch", "wk_test", &both).await);
    assert_eq!(
        source_ids(&fake).await,
        ["body-only", "both", "header-only"]
    );
    let other = fake.admin_get("/__admin/customers?app=rk_other").await;
    assert_eq!(other, json!([]));

    // Both, header unknown: nothing stored anywhere, even though the body's key is known.
    let unknown_header = json!({"batch": [message("lost")], "writeKey": "wk_test"});
    accepted(&post_v1(&fake, "/v1/batch", "wk_nobody", &unknown_header).await);
    assert_eq!(
        source_ids(&fake).await,
        ["body-only", "both", "header-only"]
    );

    // Neither; an empty or non-text writeKey and an unreadable header count as none.
    let before = fake.state().await;
    for (header, body) in [
        (None, json!({"batch": [message("x")]})),
        (None, json!({"batch": [message("x")], "writeKey": ""})),
        (None, json!({"batch": [message("x")], "writeKey": 7})),
        (Some(basic("", "")), json!({"batch": [message("x")]})),
        (
            Some("Bearer wk_test".to_owned()),
            json!({"batch": [message("x")]}),
        ),
        (
            Some("Basic !!!".to_owned()),
            json!({"batch": [message("x")]}),
        ),
    ] {
        let mut request = fake.request(Method::POST, "/v1/batch").json(&body);
        if let Some(header) = &header {
            request = request.header("authorization", header);
        }
        let reply = send(request).await;
        reply.error(400, "WRITE_KEY_REQUIRED");
        assert!(
            reply.body["message"].as_str().unwrap().contains("writeKey"),
            "{reply:?}"
        );
    }
    assert_eq!(fake.state().await, before);
}

#[tokio::test]
async fn an_unknown_write_key_answers_success_stores_nothing_and_logs_the_messages() {
    let fake = Fake::start().await;
    let before = fake.state().await;
    let messages = json!([
        {"type": "identify", "userId": "u-1", "messageId": "m-1"},
        {"type": "track", "userId": "u-1", "event": "signup", "messageId": "m-2"},
    ]);
    let reply = post_v1(
        &fake,
        "/v1/batch",
        "wk_unknown",
        &json!({"batch": messages}),
    )
    .await;
    accepted(&reply);
    assert_eq!(fake.state().await, before);
    let logged = fake.admin_get("/__admin/unknown-sources").await;
    let logged = logged.as_array().expect("an array");
    assert_eq!(logged.len(), 2);
    for (entry, message) in logged.iter().zip(messages.as_array().unwrap()) {
        assert_eq!(entry["write_key"], "wk_unknown");
        assert_eq!(entry["request_id"], reply.request_id());
        assert_eq!(&entry["message"], message);
        assert!(is_utc_timestamp(entry["at"].as_str().unwrap()));
    }
    // The id was not marked: the same message with the right key is delivered.
    accepted(&batch(&fake, json!([messages[0]])).await);
    assert_eq!(source_ids(&fake).await, ["u-1"]);
    // A reset of all applications empties the server-wide log.
    fake.admin(Method::POST, "/__admin/reset?all=true")
        .await
        .ok(200);
    assert_eq!(fake.admin_get("/__admin/unknown-sources").await, json!([]));
}

/// A batch of one message whose compact JSON is exactly `size` bytes.
fn message_of_size(size: usize) -> Value {
    let base = json!({"type": "track", "userId": "u-1", "event": "big", "properties": {"pad": ""}});
    let overhead = bytes(&base).len();
    let mut message = base;
    message["properties"]["pad"] = json!("x".repeat(size - overhead));
    assert_eq!(bytes(&message).len(), size);
    message
}

#[tokio::test]
async fn a_message_of_exactly_32_kib_passes_and_one_byte_more_refuses_the_request() {
    let fake = Fake::start().await;
    accepted(&batch(&fake, json!([message_of_size(32_768)])).await);
    assert_eq!(
        fake.admin_get("/__admin/events")
            .await
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    let before = fake.state().await;
    let small = json!({"type": "identify", "userId": "first"});
    let reply = batch(&fake, json!([small, message_of_size(32_769)])).await;
    let body = reply.error(400, "MESSAGE_TOO_LARGE");
    assert_eq!(body["details"]["limit_bytes"], 32_768);
    assert_eq!(body["details"]["message_bytes"], 32_769);
    assert_eq!(body["details"]["index"], 1);
    assert!(body["message"].as_str().unwrap().contains("32768"));
    // All or nothing: the small message before it is not stored either.
    assert_eq!(fake.state().await, before);

    // A single-message path measures its body (as sent) the same way.
    accepted(&post_v1(&fake, "/v1/track", "wk_test", &message_of_size(32_768)).await);
    let before = fake.state().await;
    post_v1(&fake, "/v1/track", "wk_test", &message_of_size(32_769))
        .await
        .error(400, "MESSAGE_TOO_LARGE");
    assert_eq!(fake.state().await, before);
}

/// `{"batch":[...]}` padded with trailing white space to exactly `size` bytes.
fn padded_body(size: usize) -> Vec<u8> {
    let mut body = bytes(&json!({"batch": [{"type": "identify", "userId": "u-pad"}]}));
    assert!(body.len() < size);
    body.resize(size, b' ');
    body
}

#[tokio::test]
async fn a_request_of_exactly_512000_bytes_passes_and_one_byte_more_is_refused() {
    let fake = Fake::start().await;
    let post = |body: Vec<u8>, gzipped: bool| {
        let mut request = fake
            .request(Method::POST, "/v1/batch")
            .header("authorization", write_key("wk_test"))
            .header("content-type", "application/json");
        request = if gzipped {
            request.header("content-encoding", "gzip").body(gzip(&body))
        } else {
            request.body(body)
        };
        send(request)
    };
    accepted(&post(padded_body(512_000), false).await);
    assert_eq!(source_ids(&fake).await, ["u-pad"]);
    fake.admin(Method::POST, "/__admin/reset").await.ok(200);

    let before = fake.state().await;
    let reply = post(padded_body(512_001), false).await;
    let body = reply.error(400, "REQUEST_TOO_LARGE");
    assert_eq!(body["details"]["limit_bytes"], 512_000);
    assert!(body["message"].as_str().unwrap().contains("512000"));
    // The limit is on the decoded body: a small gzip stream that decodes past it is refused.
    post(padded_body(512_001), true)
        .await
        .error(400, "REQUEST_TOO_LARGE");
    accepted(&post(padded_body(512_000), true).await);
    fake.admin(Method::POST, "/__admin/reset").await.ok(200);
    assert_eq!(fake.state().await, before);
}

#[tokio::test]
async fn a_batch_of_2500_messages_passes_and_2501_are_refused() {
    let fake = Fake::start().await;
    let page = json!({"type": "page", "userId": "u"});
    let many = |n: usize| Value::Array(vec![page.clone(); n]);
    accepted(&batch(&fake, many(2_500)).await);
    assert_eq!(deliveries(&fake).await.len(), 2_500);

    let before = fake.state().await;
    let body = batch(&fake, many(2_501))
        .await
        .error(400, "TOO_MANY_MESSAGES")
        .clone();
    assert_eq!(body["details"]["limit_messages"], 2_500);
    assert_eq!(body["details"]["received_messages"], 2_501);
    assert!(body["message"].as_str().unwrap().contains("2500"));
    assert_eq!(fake.state().await, before);
}

#[tokio::test]
async fn bad_bodies_are_refused_whole_and_change_nothing() {
    let fake = Fake::start().await;
    accepted(
        &batch(
            &fake,
            json!([{"type": "identify", "userId": "keep", "messageId": "k"}]),
        )
        .await,
    );
    let before = fake.state().await;
    let good = json!({"type": "identify", "userId": "new", "messageId": "n"});
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "an item that is not an object",
            json!({"batch": [good.clone(), 1]}),
            "INVALID_BODY",
        ),
        (
            "a null item",
            json!({"batch": [good.clone(), null]}),
            "INVALID_BODY",
        ),
        (
            "no batch",
            json!({"messages": [good.clone()]}),
            "INVALID_BODY",
        ),
        (
            "a batch that is not an array",
            json!({"batch": good.clone()}),
            "INVALID_BODY",
        ),
    ];
    for (what, body, code) in cases {
        let reply = post_v1(&fake, "/v1/batch", "wk_test", &body).await;
        assert_eq!(reply.body["code"], code, "{what}: {reply:?}");
        reply.error(400, code);
    }
    for (raw, code) in [
        (&b"[]"[..], "INVALID_BODY"),
        (b"null", "INVALID_BODY"),
        (b"", "INVALID_BODY"),
        (b"{\"batch\": [", "INVALID_JSON"),
        (b"{\"batch\": [], \"x\": NaN}", "INVALID_JSON"),
    ] {
        let reply = send(
            fake.request(Method::POST, "/v1/batch")
                .header("authorization", write_key("wk_test"))
                .body(raw.to_vec()),
        )
        .await;
        reply.error(400, code);
    }
    let html = send(
        fake.request(Method::POST, "/v1/batch")
            .header("authorization", write_key("wk_test"))
            .header("content-type", "text/html")
            .body(bytes(&json!({"batch": [good.clone()]}))),
    )
    .await;
    html.error(415, "UNSUPPORTED_MEDIA_TYPE");
    let brotli = send(
        fake.request(Method::POST, "/v1/batch")
            .header("authorization", write_key("wk_test"))
            .header("content-encoding", "br")
            .body(bytes(&json!({"batch": [good.clone()]}))),
    )
    .await;
    brotli.error(415, "UNSUPPORTED_ENCODING");
    let corrupt = send(
        fake.request(Method::POST, "/v1/batch")
            .header("authorization", write_key("wk_test"))
            .header("content-encoding", "gzip")
            .body(&b"not gzip at all"[..]),
    )
    .await;
    corrupt.error(400, "INVALID_BODY");
    assert_eq!(fake.state().await, before);
    // The refused requests did not mark `n` as seen.
    accepted(&batch(&fake, json!([good])).await);
    assert_eq!(source_ids(&fake).await, ["keep", "new"]);
}

#[tokio::test]
async fn text_plain_and_gzip_bodies_are_read_like_json() {
    let fake = Fake::start().await;
    let browser = json!({"writeKey": "wk_test", "type": "identify", "userId": "browser"});
    let reply = send(
        fake.request(Method::POST, "/v1/i")
            .header("content-type", "text/plain;charset=UTF-8")
            .body(bytes(&browser)),
    )
    .await;
    accepted(&reply);
    let zipped = bytes(&json!({"batch": [{"type": "identify", "userId": "zipped"}]}));
    let reply = send(
        fake.request(Method::POST, "/v1/batch")
            .header("authorization", write_key("wk_test"))
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(gzip(&zipped)),
    )
    .await;
    accepted(&reply);
    assert_eq!(source_ids(&fake).await, ["browser", "zipped"]);
}

#[tokio::test]
async fn cors_preflights_are_answered_for_any_origin_and_answers_carry_cors_headers() {
    let fake = Fake::start().await;
    for path in ["/v1/batch", "/v1/t", "/v1/identify"] {
        let preflight = send(
            fake.request(Method::OPTIONS, path)
                .header("origin", "https://shop.example")
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "content-type, authorization",
                ),
        )
        .await;
        assert_eq!(preflight.status, 204, "{path}: {preflight:?}");
        preflight.request_id();
        assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
        assert_eq!(
            preflight.header("access-control-allow-headers"),
            Some("content-type, authorization")
        );
        assert_eq!(
            preflight.header("access-control-allow-methods"),
            Some("POST, OPTIONS")
        );
    }
    let answer = send(
        fake.request(Method::POST, "/v1/batch")
            .header("origin", "https://shop.example")
            .header("authorization", write_key("wk_test"))
            .json(&json!({"batch": []})),
    )
    .await;
    accepted(&answer);
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    let refused = post_v1(&fake, "/v1/batch", "wk_test", &json!({})).await;
    refused.error(400, "INVALID_BODY");
    assert_eq!(refused.header("access-control-allow-origin"), Some("*"));
    // Preflights are not front-door requests: they store nothing and log no delivery.
    assert_eq!(deliveries(&fake).await, Vec::<Value>::new());
}

#[tokio::test]
async fn the_delivery_log_has_one_exact_entry_per_message_in_array_order() {
    let fake = Fake::start().await;
    let messages = json!([
        {"type": "identify", "userId": "adv", "traits": {"referral_code": "ADV"}, "messageId": "m1"},
        {"type": "identify", "userId": "thief", "traits": {"referral_code": "ADV"}, "messageId": "m2"},
        {"type": "track", "userId": "friend", "event": "signup", "properties": {"referral_code": "ADV"}, "messageId": "m3"},
        {"type": "track", "userId": "friend", "event": "signup", "messageId": "m4"},
        {"type": "identify", "anonymousId": "anon", "traits": {"plan": "x"}, "messageId": "m5"},
        {"type": "page", "userId": "adv", "messageId": "m6"},
        {"userId": "adv", "messageId": "m7"},
        {"type": "track", "userId": "adv", "messageId": "m8"},
        {"type": "identify", "messageId": "m9"},
        {"type": "identify", "userId": "adv", "messageId": "m1"},
        {"type": "identify", "userId": "bad", "traits": {"referral_code": "has space"}},
        {"type": "Identify", "userId": "adv"},
    ]);
    accepted(&batch(&fake, messages).await);
    let id = Some("identify_user");
    let te = Some("track_event");
    assert_eq!(
        deliveries(&fake).await,
        [
            entry(
                Some("m1"),
                Some("identify"),
                id,
                "delivered",
                Some(201),
                None
            ),
            entry(
                Some("m2"),
                Some("identify"),
                id,
                "dropped",
                Some(409),
                Some("REFERRAL_CODE_TAKEN")
            ),
            entry(Some("m3"), Some("track"), te, "delivered", Some(200), None),
            entry(
                Some("m4"),
                Some("track"),
                te,
                "dropped",
                Some(422),
                Some("REFERRAL_CODE_REQUIRED")
            ),
            entry(
                Some("m5"),
                Some("identify"),
                id,
                "dropped",
                None,
                Some("anonymous_only")
            ),
            entry(Some("m6"), Some("page"), None, "filtered", None, None),
            entry(
                Some("m7"),
                None,
                None,
                "dropped",
                None,
                Some("invalid_type")
            ),
            entry(
                Some("m8"),
                Some("track"),
                None,
                "dropped",
                None,
                Some("missing_event_name")
            ),
            entry(
                Some("m9"),
                Some("identify"),
                None,
                "dropped",
                None,
                Some("missing_identity")
            ),
            entry(
                Some("m1"),
                Some("identify"),
                None,
                "dropped",
                None,
                Some("duplicate_message_id")
            ),
            entry(
                None,
                Some("identify"),
                id,
                "dropped",
                Some(400),
                Some("INVALID_REFERRAL_CODE")
            ),
            entry(
                None,
                Some("Identify"),
                None,
                "dropped",
                None,
                Some("invalid_type")
            ),
        ]
    );
    // The two business-rule refusals are also in the drop log, with the mapped bodies.
    let drops = fake.admin_get("/__admin/drops").await;
    let drops: Vec<(&str, &str, u64, &Value)> = drops
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["reason"].as_str().unwrap(),
                d["endpoint"].as_str().unwrap(),
                d["status"].as_u64().unwrap(),
                &d["body"],
            )
        })
        .collect();
    assert_eq!(
        drops,
        [
            (
                "REFERRAL_CODE_TAKEN",
                "POST /customers",
                409,
                &json!({"source_id": "thief", "metadata": {"referral_code": "ADV"}, "referral_code": "ADV"})
            ),
            (
                "REFERRAL_CODE_REQUIRED",
                "POST /events/invoke",
                422,
                &json!({"event_name": "signup", "source_id": "friend"})
            ),
        ]
    );
    let friend = fake.admin_get("/__admin/customers/friend").await;
    assert_eq!(friend["referred_by"], "adv");
    assert_eq!(source_ids(&fake).await, ["adv", "friend"]);
}

#[tokio::test]
async fn in_drop_mode_accept_a_refused_call_is_dropped_with_the_answered_status() {
    let fake = Fake::with(MockRehook::builder().drop_mode(DropMode::Accept)).await;
    let messages = json!([{"type": "track", "userId": "f", "event": "signup", "messageId": "m"}]);
    accepted(&batch(&fake, messages).await);
    assert_eq!(
        deliveries(&fake).await,
        [entry(
            Some("m"),
            Some("track"),
            Some("track_event"),
            "dropped",
            Some(200),
            Some("REFERRAL_CODE_REQUIRED")
        )]
    );
    let drops = fake.admin_get("/__admin/drops").await;
    assert_eq!(drops[0]["reason"], "REFERRAL_CODE_REQUIRED");
    assert_eq!(drops[0]["status"], 422);
}

#[tokio::test]
async fn both_sdk_dialects_map_to_the_same_customers_and_context_stays_out() {
    let fake = Fake::start().await;
    // Node: `Z` timestamps with milliseconds, no explicit nulls.
    let node = json!({"type": "identify", "userId": "n-1", "timestamp": "2026-12-03T18:11:35.043Z",
                      "traits": {"vip": false, "plan": "pro"},
                      "context": {"library": {"name": "@segment/analytics-node"}, "personas": {"k": 1}},
                      "messageId": "node-1"});
    // Python: `+00:00` offsets, microsecond sentAt, explicit `"userId": null`, numeric ids.
    let python = json!([
        {"type": "identify", "userId": 4021, "anonymousId": null, "traits": {"vip": false},
         "timestamp": "2026-12-03T18:11:35.043210+00:00", "context": {"library": {"name": "analytics-python"}},
         "messageId": "py-1"},
        {"type": "track", "userId": null, "anonymousId": "anon-9", "event": "viewed",
         "timestamp": "2026-12-03T18:11:35.043210+00:00", "messageId": "py-2"},
        {"type": "track", "userId": 4021.0, "event": "purchase", "properties": {"total": 3},
         "context": {"ip": "1.2.3.4"}, "messageId": "py-3"},
    ]);
    accepted(&post_v1(&fake, "/v1/identify", "wk_test", &node).await);
    let envelope = json!({"batch": python, "sentAt": "2026-12-03T18:11:35.043999+00:00"});
    accepted(&post_v1(&fake, "/v1/batch", "wk_test", &envelope).await);
    assert_eq!(source_ids(&fake).await, ["4021", "n-1"]);
    let n1 = fake.admin_get("/__admin/customers/n-1").await;
    assert_eq!(n1["metadata"], json!({"vip": false, "plan": "pro"}));
    let numeric = fake.admin_get("/__admin/customers/4021").await;
    assert_eq!(numeric["metadata"], json!({"vip": false}));
    let events = fake.admin_get("/__admin/events").await;
    assert_eq!(events.as_array().map(Vec::len), Some(1));
    assert_eq!(events[0]["source_id"], "4021");
    assert_eq!(events[0]["metadata"], json!({"total": 3}));
    let outcomes: Vec<Value> = deliveries(&fake)
        .await
        .iter()
        .map(|d| d["reason"].clone())
        .collect();
    assert_eq!(
        outcomes,
        [
            Value::Null,
            Value::Null,
            json!("anonymous_only"),
            Value::Null
        ]
    );
}

#[tokio::test]
async fn a_retried_batch_creates_nothing_twice() {
    let fake = Fake::start().await;
    let messages = json!([
        {"type": "identify", "userId": "adv", "traits": {"referral_code": "ADV"}, "messageId": "r1"},
        {"type": "track", "userId": "friend", "event": "signup", "properties": {"referral_code": "ADV"}, "messageId": "r2"},
    ]);
    accepted(&batch(&fake, messages.clone()).await);
    let once = fake.stored().await;
    accepted(&batch(&fake, messages).await);
    let log = deliveries(&fake).await;
    assert_eq!(log.len(), 4);
    assert!(
        log[2..]
            .iter()
            .all(|d| d["reason"] == "duplicate_message_id")
    );
    let mut twice = fake.stored().await;
    // Only the delivery log grew.
    twice["data"]["rk_test_key"]["deliveries"] = once["data"]["rk_test_key"]["deliveries"].clone();
    assert_eq!(twice, once);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_of_one_batch_create_everything_exactly_once() {
    let fake = Fake::start().await;
    let messages: Vec<Value> = (0..20)
        .map(|i| json!({"type": "track", "userId": format!("u-{i}"), "event": "opened", "messageId": format!("c-{i}")}))
        .collect();
    let body = json!({"batch": messages});
    const SENDS: usize = 8;
    let barrier = Arc::new(Barrier::new(SENDS));
    let tasks: Vec<_> = (0..SENDS)
        .map(|_| {
            let (barrier, http, url, body) = (
                barrier.clone(),
                client(),
                fake.url("/v1/batch"),
                body.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                send(
                    http.post(url)
                        .header("authorization", write_key("wk_test"))
                        .json(&body),
                )
                .await
            })
        })
        .collect();
    for task in tasks {
        accepted(&task.await.expect("the task finishes"));
    }
    let events = fake.admin_get("/__admin/events").await;
    assert_eq!(events.as_array().map(Vec::len), Some(20));
    assert_eq!(source_ids(&fake).await.len(), 20);
    let log = deliveries(&fake).await;
    assert_eq!(log.len(), 20 * SENDS);
    for i in 0..20 {
        let id = format!("c-{i}");
        let of_id: Vec<&Value> = log
            .iter()
            .filter(|d| d["message_id"] == id.as_str())
            .collect();
        let delivered = of_id.iter().filter(|d| d["outcome"] == "delivered").count();
        let duplicates = of_id
            .iter()
            .filter(|d| d["reason"] == "duplicate_message_id")
            .count();
        assert_eq!(
            (of_id.len(), delivered, duplicates),
            (SENDS, 1, SENDS - 1),
            "{id}"
        );
    }
}

#[tokio::test]
async fn seen_message_ids_survive_export_and_import_and_a_reset_forgets_them() {
    let fake = Fake::start().await;
    let message = json!([{"type": "identify", "userId": "u-1", "messageId": "keep-me"}]);
    accepted(&batch(&fake, message.clone()).await);
    let state = fake.state().await;
    assert_eq!(
        state["data"]["rk_test_key"]["seen_message_ids"],
        json!(["keep-me"])
    );
    assert_eq!(
        state["data"]["rk_test_key"]["deliveries"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    fake.admin(Method::POST, "/__admin/reset").await.ok(200);
    send(fake.request(Method::PUT, "/__admin/state").json(&state))
        .await
        .ok(200);
    assert_eq!(
        fake.state().await,
        state,
        "the delivery log and seen ids import as exported"
    );
    accepted(&batch(&fake, message.clone()).await);
    assert_eq!(
        deliveries(&fake).await.last().unwrap()["reason"],
        "duplicate_message_id"
    );
    fake.admin(Method::POST, "/__admin/reset").await.ok(200);
    accepted(&batch(&fake, message).await);
    assert_eq!(deliveries(&fake).await[0]["outcome"], "delivered");
}

#[tokio::test]
async fn state_imports_refuse_delivery_entries_the_front_door_could_not_have_written() {
    let fake = Fake::start().await;
    accepted(
        &batch(
            &fake,
            json!([{"type": "identify", "userId": "u-1", "messageId": "m"}]),
        )
        .await,
    );
    let good = fake.state().await;
    let with = |field: &str, value: Value| {
        let mut doc = good.clone();
        doc["data"]["rk_test_key"]["deliveries"][0][field] = value;
        doc
    };
    for (what, doc) in [
        ("an unknown outcome", with("outcome", json!("lost"))),
        ("delivered without a status", with("status", Value::Null)),
        ("delivered with a 4xx", with("status", json!(409))),
        ("delivered without an action", with("action", Value::Null)),
        (
            "a time that is not RFC 3339",
            with("at", json!("yesterday")),
        ),
        ("an unknown field", with("user", json!("u-1"))),
        ("filtered with a status", with("outcome", json!("filtered"))),
        (
            "dropped without a reason",
            with("outcome", json!("dropped")),
        ),
        ("a delivered messageId that is not seen", {
            let mut doc = good.clone();
            doc["data"]["rk_test_key"]["seen_message_ids"] = json!([]);
            doc
        }),
    ] {
        let reply = send(fake.request(Method::PUT, "/__admin/state").json(&doc)).await;
        assert_eq!(reply.body["code"], "INVALID_STATE", "{what}: {reply:?}");
    }
    assert_eq!(fake.state().await, good);
}

#[tokio::test]
async fn the_fault_setting_answers_500_stores_nothing_and_the_retry_goes_through() {
    let fake = Fake::with(MockRehook::builder().fail_front_door_requests(1)).await;
    assert_eq!(
        fake.admin_get("/__admin/faults").await,
        json!({"fail_front_door_requests": 1})
    );
    let before = fake.state().await;
    let messages = json!([{"type": "identify", "userId": "u-1", "messageId": "f1"}]);
    let failed = batch(&fake, messages.clone()).await;
    let body = failed.error(500, "INJECTED_FAULT");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("/__admin/faults")
    );
    assert_eq!(
        fake.state().await,
        before,
        "nothing stored, f1 not marked as seen"
    );
    assert_eq!(
        fake.admin_get("/__admin/faults").await["fail_front_door_requests"],
        0
    );
    accepted(&batch(&fake, messages).await);
    assert_eq!(source_ids(&fake).await, ["u-1"]);

    // Through the admin API: two failures, then success; 0 turns it off.
    let set = |n: Value| {
        send(
            fake.request(Method::POST, "/__admin/faults")
                .json(&json!({"fail_front_door_requests": n})),
        )
    };
    assert_eq!(
        set(json!(2)).await.ok(200),
        &json!({"fail_front_door_requests": 2})
    );
    for _ in 0..2 {
        batch(&fake, json!([])).await.error(500, "INJECTED_FAULT");
    }
    accepted(&batch(&fake, json!([])).await);
    set(json!(5)).await.ok(200);
    set(json!(0)).await.ok(200);
    accepted(&batch(&fake, json!([])).await);
    // The Rehook API is never affected.
    set(json!(1)).await.ok(200);
    fake.get("/customers/u-1").await.ok(200);
    fake.admin(Method::POST, "/__admin/reset?all=true")
        .await
        .ok(200);
    assert_eq!(
        fake.admin_get("/__admin/faults").await["fail_front_door_requests"],
        0
    );

    for bad in [json!(-1), json!(1.5), json!("1"), Value::Null] {
        set(bad).await.error(400, "INVALID_BODY");
    }
    send(
        fake.request(Method::POST, "/__admin/faults")
            .json(&json!({"fail": 1})),
    )
    .await
    .error(400, "INVALID_BODY");
    send(
        fake.request(Method::POST, "/__admin/faults")
            .json(&json!({})),
    )
    .await
    .error(400, "INVALID_BODY");
}

/// The wire corpus the harness pins: five `/v1/batch` bodies from `@segment/analytics-node`.
fn corpus_lines() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../harness/tests/fixtures/node-sdk-referrals.ndjson");
    std::fs::read_to_string(path)
        .expect("the corpus reads")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

#[tokio::test]
async fn the_corpus_posted_line_by_line_reaches_the_pinned_final_state() {
    let fake = Fake::with(MockRehook::builder().seed(7)).await;
    let lines = corpus_lines();
    assert_eq!(lines.len(), 5);
    for line in &lines {
        // The envelope carries `writeKey: wk_test`; post it as the SDK did, header and all.
        accepted(&post_v1(&fake, "/v1/batch", "wk_test", line).await);
    }
    let customers = fake.admin_get("/__admin/customers").await;
    let summary: Vec<(&str, u64, &Value)> = customers
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["source_id"].as_str().unwrap(),
                c["referral_count"].as_u64().unwrap(),
                &c["referred_by"],
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("u-001", 1, &Value::Null),
            ("u-002", 0, &Value::Null),
            ("u-003", 2, &Value::Null),
            ("u-101", 0, &json!("u-001")),
            ("u-102", 0, &json!("u-003")),
            ("u-106", 0, &Value::Null),
            ("u-107", 0, &json!("u-003")),
        ]
    );
    let code = |id: &str| {
        customers
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["source_id"] == id)
            .map(|c| c["referral_code"].clone())
            .unwrap()
    };
    assert_eq!(
        (code("u-001"), code("u-003"), code("u-106")),
        (json!("ADAPARK"), json!("CYTRAN2"), json!("CYTRAN"))
    );
    let u002 = fake.admin_get("/__admin/customers/u-002").await;
    assert_eq!(
        u002["metadata"],
        json!({"name": "Ben Ortiz", "email": "ben.ortiz@example.test", "plan": "free",
               "order_completed_last_30days": false})
    );
    let events = fake.admin_get("/__admin/events").await;
    let events: Vec<(&str, &str)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event_name"].as_str().unwrap(),
                e["source_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("signup", "u-101"),
            ("signup", "u-102"),
            ("signup", "u-101"),
            ("Order Completed", "u-101"),
            ("signup", "u-107"),
        ]
    );
    let drops = fake.admin_get("/__admin/drops").await;
    let reasons: Vec<&str> = drops
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "REFERRAL_CODE_TAKEN",
            "REFERRAL_CODE_REQUIRED",
            "REFERRAL_CODE_UNKNOWN",
            "SELF_REFERRAL",
            "REFERRAL_CODE_UNKNOWN"
        ]
    );
    let log = deliveries(&fake).await;
    let outcomes: Vec<(&str, Option<u64>, Option<&str>)> = log
        .iter()
        .map(|d| {
            (
                d["outcome"].as_str().unwrap(),
                d["status"].as_u64(),
                d["reason"].as_str(),
            )
        })
        .collect();
    let dup = ("dropped", None, Some("duplicate_message_id"));
    let expected = [
        ("delivered", Some(201), None),
        ("delivered", Some(201), None),
        ("delivered", Some(201), None),
        ("dropped", Some(409), Some("REFERRAL_CODE_TAKEN")),
        ("delivered", Some(200), None),
        ("delivered", Some(200), None),
        ("dropped", Some(422), Some("REFERRAL_CODE_REQUIRED")),
        ("dropped", Some(422), Some("REFERRAL_CODE_UNKNOWN")),
        ("dropped", Some(422), Some("SELF_REFERRAL")),
        ("delivered", Some(200), None),
        ("delivered", Some(200), None),
        ("delivered", Some(200), None),
        ("dropped", None, Some("anonymous_only")),
        ("dropped", None, Some("anonymous_only")),
        ("filtered", None, None),
        ("filtered", None, None),
        ("filtered", None, None),
        ("filtered", None, None),
        dup,
        dup,
        dup,
        dup,
        dup,
        dup,
        dup,
        ("delivered", Some(200), None),
        ("delivered", Some(200), None),
        ("delivered", Some(200), None),
        ("dropped", Some(422), Some("REFERRAL_CODE_UNKNOWN")),
        ("delivered", Some(201), None),
        ("delivered", Some(200), None),
    ];
    assert_eq!(outcomes, expected);
}

/// The `message_id`s of a delivery-log answer.
fn message_ids(log: &Value) -> Vec<&str> {
    log.as_array()
        .expect("an array")
        .iter()
        .map(|e| e["message_id"].as_str().expect("text"))
        .collect()
}

#[tokio::test]
async fn the_delivery_log_cursor_after_n_answers_only_the_entries_after_the_first_n() {
    let fake = Fake::start().await;
    let ids = ["c1", "c2", "c3"];
    let messages: Vec<Value> = ids
        .iter()
        .map(|id| json!({"type": "page", "userId": "u", "messageId": id}))
        .collect();
    accepted(&batch(&fake, json!(messages)).await);
    let all = fake.admin_get("/__admin/deliveries").await;
    assert_eq!(message_ids(&all), ids);
    assert_eq!(fake.admin_get("/__admin/deliveries?after=0").await, all);
    let after_one = fake.admin_get("/__admin/deliveries?after=1").await;
    assert_eq!(
        after_one.as_array().unwrap()[..],
        all.as_array().unwrap()[1..]
    );
    assert_eq!(
        fake.admin_get("/__admin/deliveries?after=3").await,
        json!([])
    );
    accepted(
        &batch(
            &fake,
            json!([{"type": "page", "userId": "u", "messageId": "c4"}]),
        )
        .await,
    );
    assert_eq!(
        message_ids(&fake.admin_get("/__admin/deliveries?after=3").await),
        ["c4"]
    );
    // `limit` caps the answer; the length header is the cursor for what comes next.
    let reply = fake
        .admin(Method::GET, "/__admin/deliveries?after=1&limit=2")
        .await;
    assert_eq!(message_ids(reply.ok(200)), ["c2", "c3"]);
    assert_eq!(reply.headers["x-delivery-log-length"], "4");
    let reply = fake.admin(Method::GET, "/__admin/deliveries?limit=0").await;
    assert_eq!(reply.ok(200), &json!([]));
    assert_eq!(reply.headers["x-delivery-log-length"], "4");
    fake.admin(Method::GET, "/__admin/deliveries?limit=-1")
        .await
        .error(400, "INVALID_QUERY");
    // A cursor past the end: the log was reset since it was taken.
    let past = fake.admin(Method::GET, "/__admin/deliveries?after=5").await;
    let error = past.error(400, "INVALID_QUERY");
    assert_eq!(
        error["details"],
        json!({"parameter": "after", "after": 5, "entries": 4})
    );
    for bad in [
        "-1",
        "x",
        "1.0",
        "+1",
        "",
        "%201",
        "99999999999999999999999",
    ] {
        let reply = fake
            .admin(Method::GET, &format!("/__admin/deliveries?after={bad}"))
            .await;
        let error = reply.error(400, "INVALID_QUERY");
        assert_eq!(error["details"]["parameter"], "after", "{bad}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("after"), "{message}");
    }
    fake.admin(Method::GET, "/__admin/deliveries?after=1&after=2")
        .await
        .error(400, "INVALID_QUERY");
}

#[tokio::test]
async fn the_fault_count_accepts_whole_valued_numbers() {
    let fake = Fake::start().await;
    for (sent, kept) in [(json!(2.0), 2), (json!(3e0), 3), (json!(-0.0), 0)] {
        let reply = send(
            fake.request(Method::POST, "/__admin/faults")
                .json(&json!({"fail_front_door_requests": sent})),
        )
        .await;
        assert_eq!(
            reply.ok(200),
            &json!({"fail_front_door_requests": kept}),
            "{sent}"
        );
    }
    for bad in [json!(2.5), json!(-1.0), json!(1e300)] {
        send(
            fake.request(Method::POST, "/__admin/faults")
                .json(&json!({"fail_front_door_requests": bad})),
        )
        .await
        .error(400, "INVALID_BODY");
    }
}

#[tokio::test]
async fn a_message_whose_integrations_turn_rehook_off_is_filtered_and_stores_nothing() {
    let fake = Fake::start().await;
    let off = |id: &str, integrations: Value| json!({"type": "identify", "userId": id, "messageId": id, "integrations": integrations});
    accepted(
        &batch(
            &fake,
            json!([
                off("i1", json!({"Rehook": false})),
                off("i2", json!({"All": false})),
                off("i3", json!({"All": false, "Rehook": false})),
                off("i4", json!({"All": false, "Rehook": true})),
                off("i5", json!({"All": true, "Rehook": false})),
                off("i6", json!({"All": false, "Rehook": {"some": "option"}})),
                off("i7", json!({"Segment.io": false, "Other": false})),
                off("i8", json!({"rehook": false})),
            ]),
        )
        .await,
    );
    let disabled = |id: &str| {
        entry(
            Some(id),
            Some("identify"),
            None,
            "filtered",
            None,
            Some("integrations_disabled"),
        )
    };
    let delivered = |id: &str| {
        entry(
            Some(id),
            Some("identify"),
            Some("identify_user"),
            "delivered",
            Some(201),
            None,
        )
    };
    assert_eq!(
        deliveries(&fake).await,
        [
            disabled("i1"),
            disabled("i2"),
            disabled("i3"),
            delivered("i4"),
            disabled("i5"),
            delivered("i6"),
            delivered("i7"),
            delivered("i8"),
        ]
    );
    assert_eq!(source_ids(&fake).await, ["i4", "i6", "i7", "i8"]);
    // Segment de-duplicates before any destination: a filtered message's id is seen.
    accepted(&batch(&fake, json!([off("i1", json!({}))])).await);
    assert_eq!(
        deliveries(&fake).await.last().unwrap()["reason"],
        "duplicate_message_id"
    );
}

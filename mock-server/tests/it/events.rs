//! Contract 2.7 and 2.9: events, conversions and attribution, the drop log, drop mode
//! `accept`, and custom conversion events.

use rehook_mock::{DropMode, MockRehook};
use serde_json::{Value, json};

use crate::support::{Fake, is_id, is_utc_timestamp, sorted_keys, without_drops};

fn signup(source_id: &str, metadata: Value) -> Value {
    json!({"event_name": "signup", "source_id": source_id, "metadata": metadata})
}

#[tokio::test]
async fn a_plain_event_is_stored_and_creates_its_caller() {
    let fake = Fake::start().await;
    let reply = fake
        .invoke(json!({"event_name": "page_view", "source_id": "u-9", "metadata": {"path": "/", "n": 1}}))
        .await;
    let body = reply.ok(200).clone();
    let keys = sorted_keys(&body);
    assert_eq!(keys, ["event", "referral", "status"]);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["referral"], Value::Null);
    let event = &body["event"];
    let keys = sorted_keys(event);
    assert_eq!(
        keys,
        ["event_name", "id", "metadata", "received_at", "source_id"]
    );
    assert!(is_id(event["id"].as_str().unwrap(), "evt_"));
    assert_eq!(event["event_name"], "page_view");
    assert_eq!(event["source_id"], "u-9");
    assert_eq!(event["metadata"], json!({"path": "/", "n": 1}));
    assert!(is_utc_timestamp(event["received_at"].as_str().unwrap()));

    let customer = fake.get("/customers/u-9").await.ok(200).clone();
    assert_eq!(customer["metadata"], json!({}), "created with no metadata");
    assert!(crate::support::is_generated_code(
        customer["referral_code"].as_str().unwrap()
    ));
    assert_eq!(customer["referred_by"], Value::Null);
    assert_eq!(fake.admin_get("/__admin/events").await, json!([event]));
    let stored = fake.mock.store().events(None).unwrap();
    assert_eq!(json!(stored), json!([event]));

    let again = fake
        .invoke(json!({"event_name": "page_view", "source_id": "u-9"}))
        .await;
    again.ok(200);
    assert_eq!(
        fake.get("/customers/u-9").await.ok(200),
        &customer,
        "an event never updates its caller"
    );
}

#[tokio::test]
async fn event_metadata_not_sent_is_stored_as_an_empty_object() {
    let fake = Fake::start().await;
    for body in [
        json!({"event_name": "e", "source_id": "u-1"}),
        json!({"event_name": "e", "source_id": "u-1", "metadata": null}),
        json!({"event_name": "e", "source_id": "u-1", "metadata": {}}),
    ] {
        assert_eq!(
            fake.invoke(body).await.ok(200)["event"]["metadata"],
            json!({})
        );
    }
    let numeric = fake
        .invoke(json!({"event_name": "e", "source_id": 77}))
        .await;
    assert_eq!(numeric.ok(200)["event"]["source_id"], "77");
    fake.get("/customers/77").await.ok(200);
}

#[tokio::test]
async fn bad_event_fields_are_400_with_their_own_code_and_change_nothing() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "u-1", "referral_code": "CODE"}))
        .await;
    let before = fake.state().await;
    let cases = [
        (json!({"event_name": "e"}), "SOURCE_ID_REQUIRED"),
        (
            json!({"event_name": "e", "source_id": null}),
            "SOURCE_ID_REQUIRED",
        ),
        (
            json!({"event_name": "e", "source_id": " "}),
            "SOURCE_ID_REQUIRED",
        ),
        (
            json!({"event_name": "e", "source_id": false}),
            "INVALID_SOURCE_ID",
        ),
        (
            json!({"event_name": "e", "source_id": ["u-1"]}),
            "INVALID_SOURCE_ID",
        ),
        (json!({"source_id": "u-2"}), "EVENT_NAME_REQUIRED"),
        (
            json!({"source_id": "u-2", "event_name": null}),
            "EVENT_NAME_REQUIRED",
        ),
        (
            json!({"source_id": "u-2", "event_name": ""}),
            "EVENT_NAME_REQUIRED",
        ),
        (
            json!({"source_id": "u-2", "event_name": 5}),
            "INVALID_EVENT_NAME",
        ),
        (
            json!({"source_id": "u-2", "event_name": true}),
            "INVALID_EVENT_NAME",
        ),
        (
            json!({"source_id": "u-2", "event_name": {"name": "e"}}),
            "INVALID_EVENT_NAME",
        ),
        (
            json!({"source_id": "u-2", "event_name": ["signup"]}),
            "INVALID_EVENT_NAME",
        ),
        (
            json!({"source_id": "u-2", "event_name": "e", "metadata": 1}),
            "INVALID_METADATA",
        ),
        (
            json!({"source_id": "u-2", "event_name": "e", "metadata": []}),
            "INVALID_METADATA",
        ),
        (
            json!({"source_id": "u-2", "event_name": "signup", "metadata": "CODE"}),
            "INVALID_METADATA",
        ),
    ];
    for (body, code) in cases {
        let reply = fake.invoke(body.clone()).await;
        assert_eq!(reply.body["code"], code, "{body}: {reply:?}");
        reply.error(400, code);
    }
    assert_eq!(
        fake.state().await,
        before,
        "400s change nothing, not even the drop log"
    );
}

#[tokio::test]
async fn a_conversion_without_a_usable_code_is_422_referral_code_required() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "adv", "referral_code": "ADV"}))
        .await;
    let before = fake.state().await;
    let bodies = [
        json!({"event_name": "signup", "source_id": "friend"}),
        json!({"event_name": "signup", "source_id": "friend", "metadata": null}),
        signup("friend", json!({})),
        signup("friend", json!({"code": "ADV"})),
        signup("friend", json!({"referral_code": null})),
        signup("friend", json!({"referral_code": true})),
        signup("friend", json!({"referral_code": false})),
        signup("friend", json!({"referral_code": {"code": "ADV"}})),
        signup("friend", json!({"referral_code": ""})),
        signup("friend", json!({"referral_code": "   "})),
        signup("friend", json!({"referral_code": "\u{3000}\t"})),
        signup("adv", json!({})),
    ];
    for body in &bodies {
        let reply = fake.invoke(body.clone()).await;
        assert_eq!(
            reply.body["code"], "REFERRAL_CODE_REQUIRED",
            "{body}: {reply:?}"
        );
        reply.error(422, "REFERRAL_CODE_REQUIRED");
    }
    assert_eq!(fake.stored().await, without_drops(before));
    let drops = fake.mock.store().drops(None).unwrap();
    assert_eq!(drops.len(), bodies.len());
    for (drop, body) in drops.iter().zip(&bodies) {
        assert_eq!(
            (
                drop.reason.as_str(),
                drop.status,
                drop.endpoint.as_str(),
                drop.layer.as_str()
            ),
            (
                "REFERRAL_CODE_REQUIRED",
                422,
                "POST /events/invoke",
                "rehook"
            )
        );
        assert_eq!(&drop.body, body);
    }
}

#[tokio::test]
async fn a_conversion_with_a_code_nobody_owns_is_422_and_creates_nothing() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "adv", "referral_code": "ADV"}))
        .await;
    let before = fake.state().await;
    for code in [
        json!("NOPE"),
        json!("adv"),
        json!("ADV "),
        json!(" ADV"),
        json!(4021),
    ] {
        let reply = fake
            .invoke(signup("friend", json!({"referral_code": code})))
            .await;
        assert_eq!(
            reply.body["code"], "REFERRAL_CODE_UNKNOWN",
            "{code}: {reply:?}"
        );
        reply.error(422, "REFERRAL_CODE_UNKNOWN");
    }
    assert_eq!(fake.stored().await, without_drops(before));
    fake.get("/customers/friend")
        .await
        .error(404, "CUSTOMER_NOT_FOUND");
}

#[tokio::test]
async fn a_conversion_with_the_callers_own_code_is_422_self_referral() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "adv", "referral_code": "ADV"}))
        .await;
    fake.customer(json!({"source_id": "other", "referral_code": "OTHER"}))
        .await;
    fake.convert("adv", "OTHER").await;
    let before = fake.state().await;
    let reply = fake
        .invoke(signup("adv", json!({"referral_code": "ADV"})))
        .await;
    reply.error(422, "SELF_REFERRAL");
    assert_eq!(fake.stored().await, without_drops(before));
    let drops = fake.mock.store().drops(None).unwrap();
    assert_eq!(drops.len(), 1);
    assert_eq!(
        (drops[0].reason.as_str(), drops[0].status),
        ("SELF_REFERRAL", 422)
    );
    assert_eq!(drops[0].request_id, reply.request_id());
}

#[tokio::test]
async fn a_first_conversion_attributes_and_a_later_one_is_already_referred() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "adv", "referral_code": "ADV"}))
        .await;
    fake.customer(json!({"source_id": "adv-2", "referral_code": "ADV2"}))
        .await;

    let first = fake
        .invoke(signup(
            "friend",
            json!({"referral_code": "ADV", "plan": "pro"}),
        ))
        .await;
    let first = first.ok(200).clone();
    assert_eq!(first["status"], "ok");
    assert_eq!(
        first["referral"],
        json!({"advocate": "adv", "status": "attributed"})
    );
    assert_eq!(
        first["event"]["metadata"],
        json!({"referral_code": "ADV", "plan": "pro"})
    );
    let friend = fake.get("/customers/friend").await.ok(200).clone();
    assert_eq!(friend["referred_by"], "adv");
    assert_eq!(
        friend["metadata"],
        json!({}),
        "event metadata is not customer metadata"
    );
    assert_eq!(
        fake.get("/customers/adv").await.ok(200)["referral_count"],
        1
    );

    let second = fake
        .invoke(signup("friend", json!({"referral_code": "ADV2"})))
        .await;
    let second = second.ok(200);
    assert_eq!(
        second["referral"],
        json!({"advocate": "adv", "status": "already_referred"})
    );
    let third = fake
        .invoke(signup("friend", json!({"referral_code": "ADV"})))
        .await;
    assert_eq!(third.ok(200)["referral"]["status"], "already_referred");
    assert_eq!(fake.get("/customers/friend").await.ok(200), &friend);
    assert_eq!(
        fake.get("/customers/adv").await.ok(200)["referral_count"],
        1
    );
    assert_eq!(
        fake.get("/customers/adv-2").await.ok(200)["referral_count"],
        0
    );
    assert_eq!(
        fake.get("/customers/referrals/adv-2").await.ok(200),
        &json!([])
    );
    let events = fake.admin_get("/__admin/events?source_id=friend").await;
    assert_eq!(
        events.as_array().unwrap().len(),
        3,
        "every conversion is stored"
    );
}

#[tokio::test]
async fn an_existing_customer_converts_and_keeps_its_data() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "adv", "referral_code": "ADV"}))
        .await;
    let before = fake
        .customer(json!({"source_id": "friend", "metadata": {"k": 1}, "referral_code": "FRIEND"}))
        .await;
    fake.convert("friend", "ADV").await;
    let after = fake.get("/customers/friend").await.ok(200).clone();
    assert_eq!(after["referred_by"], "adv");
    for kept in ["id", "metadata", "referral_code", "created_at"] {
        assert_eq!(after[kept], before[kept], "{kept}");
    }
}

#[tokio::test]
async fn numeric_conversion_codes_are_read_as_text() {
    let fake = Fake::start().await;
    let adv = fake
        .customer(json!({"source_id": "adv", "referral_code": 4021}))
        .await;
    assert_eq!(adv["referral_code"], "4021");
    let reply = fake
        .invoke(signup("f-1", json!({"referral_code": 4021})))
        .await;
    assert_eq!(reply.ok(200)["referral"]["status"], "attributed");
    let reply = fake
        .invoke(signup("f-2", json!({"referral_code": 4021.0})))
        .await;
    assert_eq!(reply.ok(200)["referral"]["status"], "attributed");
    assert_eq!(
        fake.get("/customers/adv").await.ok(200)["referral_count"],
        2
    );
}

#[tokio::test]
async fn non_conversion_events_never_attribute() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "adv", "referral_code": "ADV"}))
        .await;
    for name in ["purchase", "Signup", "SIGNUP", "signup ", "sign_up"] {
        let reply = fake
            .invoke(json!({"event_name": name, "source_id": "friend", "metadata": {"referral_code": "ADV"}}))
            .await;
        assert_eq!(reply.ok(200)["referral"], Value::Null, "{name}");
    }
    let reply = fake
        .invoke(json!({"event_name": "purchase", "source_id": "friend", "metadata": {"referral_code": "NOBODY"}}))
        .await;
    assert_eq!(reply.ok(200)["referral"], Value::Null);
    assert_eq!(
        fake.get("/customers/friend").await.ok(200)["referred_by"],
        Value::Null
    );
    assert_eq!(
        fake.get("/customers/adv").await.ok(200)["referral_count"],
        0
    );
    assert!(fake.mock.store().drops(None).unwrap().is_empty());
}

#[tokio::test]
async fn configured_conversion_events_replace_the_default() {
    let fake = Fake::with(
        MockRehook::builder()
            .conversion_event("trial_started")
            .conversion_event("purchase"),
    )
    .await;
    fake.customer(json!({"source_id": "adv", "referral_code": "ADV"}))
        .await;
    let reply = fake
        .invoke(signup("f-0", json!({"referral_code": "ADV"})))
        .await;
    assert_eq!(
        reply.ok(200)["referral"],
        Value::Null,
        "signup is no longer a conversion"
    );
    let reply = fake.invoke(signup("f-0", json!({}))).await;
    reply.ok(200);
    for (friend, name) in [("f-1", "trial_started"), ("f-2", "purchase")] {
        let reply = fake
            .invoke(json!({"event_name": name, "source_id": friend, "metadata": {"referral_code": "ADV"}}))
            .await;
        assert_eq!(reply.ok(200)["referral"]["status"], "attributed", "{name}");
    }
    fake.invoke(json!({"event_name": "purchase", "source_id": "f-3"}))
        .await
        .error(422, "REFERRAL_CODE_REQUIRED");
    assert_eq!(
        fake.get("/customers/adv").await.ok(200)["referral_count"],
        2
    );
}

#[tokio::test]
async fn drop_mode_accept_answers_200_dropped_and_stores_nothing() {
    let fake = Fake::with(MockRehook::builder().drop_mode(DropMode::Accept)).await;
    fake.customer(json!({"source_id": "adv", "referral_code": "ADV"}))
        .await;
    let before = fake.state().await;
    let cases = [
        (
            "/customers",
            json!({"source_id": "x", "referral_code": "ADV", "metadata": {"a": 1}}),
            "REFERRAL_CODE_TAKEN",
            409,
        ),
        (
            "/events/invoke",
            signup("friend", json!({})),
            "REFERRAL_CODE_REQUIRED",
            422,
        ),
        (
            "/events/invoke",
            signup("friend", json!({"referral_code": "NOPE"})),
            "REFERRAL_CODE_UNKNOWN",
            422,
        ),
        (
            "/events/invoke",
            signup("adv", json!({"referral_code": "ADV"})),
            "SELF_REFERRAL",
            422,
        ),
    ];
    let mut expected_drops = Vec::new();
    for (path, body, reason, status) in &cases {
        let reply = fake.post(path, body).await;
        assert_eq!(
            reply.ok(200),
            &json!({"status": "dropped", "reason": reason}),
            "{path} {body}"
        );
        expected_drops.push((
            reply.request_id().to_owned(),
            *reason,
            *status,
            body.clone(),
            *path,
        ));
    }
    assert_eq!(
        fake.stored().await["data"],
        without_drops(before)["data"],
        "nothing stored"
    );
    let drops = fake.mock.store().drops(None).unwrap();
    assert_eq!(drops.len(), expected_drops.len());
    for (drop, (request_id, reason, status, body, path)) in drops.iter().zip(&expected_drops) {
        assert_eq!(&drop.request_id, request_id);
        assert_eq!(drop.reason, *reason);
        assert_eq!(
            drop.status, *status,
            "the rule's status, whichever mode answered"
        );
        assert_eq!(&drop.body, body);
        assert_eq!(drop.endpoint, format!("POST {path}"));
    }
    // Validation errors and auth failures are never accepted.
    fake.upsert(json!({"source_id": true}))
        .await
        .error(400, "INVALID_SOURCE_ID");
    fake.invoke(json!({"source_id": "x"}))
        .await
        .error(400, "EVENT_NAME_REQUIRED");
    crate::support::send(
        fake.request(reqwest::Method::POST, "/customers")
            .json(&json!({"source_id": "x"})),
    )
    .await
    .error(401, "UNAUTHORIZED");
    assert_eq!(
        fake.mock.store().drops(None).unwrap().len(),
        expected_drops.len()
    );
}

#[tokio::test]
async fn the_drop_log_keeps_business_refusals_only_in_arrival_order() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "adv", "referral_code": "ADV"}))
        .await;
    fake.upsert(json!({"source_id": "x", "referral_code": "ADV"}))
        .await
        .error(409, "REFERRAL_CODE_TAKEN");
    fake.upsert(json!({"source_id": []}))
        .await
        .error(400, "INVALID_SOURCE_ID");
    fake.invoke(signup("adv", json!({"referral_code": "ADV"})))
        .await
        .error(422, "SELF_REFERRAL");
    crate::support::send(
        fake.request(reqwest::Method::POST, "/events/invoke")
            .json(&signup("z", json!({}))),
    )
    .await
    .error(401, "UNAUTHORIZED");
    fake.post(
        "/api/events/invoke",
        &signup("z", json!({"referral_code": "Q"})),
    )
    .await
    .error(422, "REFERRAL_CODE_UNKNOWN");
    let drops = fake.admin_get("/__admin/drops").await;
    let reasons: Vec<(&str, &str, u64)> = drops
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let keys = sorted_keys(d);
            assert_eq!(
                keys,
                [
                    "at",
                    "body",
                    "endpoint",
                    "layer",
                    "reason",
                    "request_id",
                    "status"
                ]
            );
            (
                d["reason"].as_str().unwrap(),
                d["endpoint"].as_str().unwrap(),
                d["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("REFERRAL_CODE_TAKEN", "POST /customers", 409),
            ("SELF_REFERRAL", "POST /events/invoke", 422),
            ("REFERRAL_CODE_UNKNOWN", "POST /api/events/invoke", 422),
        ]
    );
}

/// POST `body` to `path` as the application `key`/`secret`.
async fn post_as(fake: &Fake, key: &str, path: &str, body: &Value) -> crate::support::Reply {
    crate::support::send(
        fake.request(reqwest::Method::POST, path)
            .header(
                "authorization",
                crate::support::basic(key, &format!("secret_{key}")),
            )
            .json(body),
    )
    .await
}

#[tokio::test]
async fn drop_mode_conversion_events_and_link_base_are_settings_of_each_application() {
    // Set on the applications themselves: the builder's `drop_mode`/`conversion_event` would
    // apply to every application.
    let mut a = rehook_mock::AppConfig::new("a", "secret_a");
    a.drop_mode = DropMode::Accept;
    a.conversion_events = vec!["purchase".to_owned()];
    a.referral_link_base = "https://a.test/ref".to_owned();
    let b = rehook_mock::AppConfig::new("b", "secret_b");
    let fake = Fake::with(MockRehook::builder().app(a).app(b)).await;

    let event = |name: &str, friend: &str, code: &str| json!({"event_name": name, "source_id": friend, "metadata": {"referral_code": code}});
    let calls = [
        (
            "/customers",
            json!({"source_id": "adv", "referral_code": "ADV"}),
        ),
        ("/events/invoke", event("signup", "friend-1", "ADV")),
        ("/events/invoke", event("purchase", "friend-2", "ADV")),
        ("/events/invoke", event("purchase", "friend-3", "NOPE")),
        ("/events/invoke", event("signup", "friend-4", "NOPE")),
        (
            "/customers",
            json!({"source_id": "x", "referral_code": "ADV"}),
        ),
    ];
    let mut answers = std::collections::BTreeMap::new();
    for key in ["a", "b"] {
        let mut replies = Vec::new();
        for (path, body) in &calls {
            replies.push(post_as(&fake, key, path, body).await);
        }
        answers.insert(key, replies);
    }
    let (a, b) = (&answers["a"], &answers["b"]);

    // The same advocate, linked on each application's own base.
    assert_eq!(a[0].ok(201)["referral_link"], "https://a.test/ref/ADV");
    assert_eq!(b[0].ok(201)["referral_link"], "https://rehook.test/r/ADV");
    // `signup` converts only in b, `purchase` only in a.
    assert_eq!(a[1].ok(200)["referral"], Value::Null);
    assert_eq!(
        b[1].ok(200)["referral"],
        json!({"advocate": "adv", "status": "attributed"})
    );
    assert_eq!(
        a[2].ok(200)["referral"],
        json!({"advocate": "adv", "status": "attributed"})
    );
    assert_eq!(b[2].ok(200)["referral"], Value::Null);
    // An unknown code: a drop answered 200 in a (accept), stored as a plain event in b.
    assert_eq!(
        a[3].ok(200),
        &json!({"status": "dropped", "reason": "REFERRAL_CODE_UNKNOWN"})
    );
    assert_eq!(b[3].ok(200)["status"], "ok");
    assert_eq!(a[4].ok(200)["status"], "ok");
    b[4].error(422, "REFERRAL_CODE_UNKNOWN");
    // A taken code: accepted as a drop in a, refused in b.
    assert_eq!(
        a[5].ok(200),
        &json!({"status": "dropped", "reason": "REFERRAL_CODE_TAKEN"})
    );
    b[5].error(409, "REFERRAL_CODE_TAKEN");

    let mut names = std::collections::BTreeMap::new();
    for key in ["a", "b"] {
        let events = fake.admin_get(&format!("/__admin/events?app={key}")).await;
        let listed: Vec<(String, String)> = events
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["event_name"].as_str().unwrap().to_owned(),
                    e["source_id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        names.insert(key, listed);
    }
    let pair = |n: &str, s: &str| (n.to_owned(), s.to_owned());
    assert_eq!(
        names["a"],
        [
            pair("signup", "friend-1"),
            pair("purchase", "friend-2"),
            pair("signup", "friend-4")
        ]
    );
    assert_eq!(
        names["b"],
        [
            pair("signup", "friend-1"),
            pair("purchase", "friend-2"),
            pair("purchase", "friend-3")
        ]
    );
    for (key, friend, base) in [
        ("a", "friend-2", "https://a.test/ref/"),
        ("b", "friend-1", "https://rehook.test/r/"),
    ] {
        let list = crate::support::send(
            fake.request(reqwest::Method::GET, "/customers/referral/list/adv")
                .header(
                    "authorization",
                    crate::support::basic(key, &format!("secret_{key}")),
                ),
        )
        .await;
        let list = list.ok(200).as_array().unwrap().clone();
        assert_eq!(list.len(), 1, "{key}: {list:?}");
        assert_eq!(list[0]["source_id"], friend, "{key}");
        let code = list[0]["referral_code"].as_str().unwrap();
        assert_eq!(list[0]["referral_link"], format!("{base}{code}"), "{key}");
        let advocate = fake
            .admin_get(&format!("/__admin/customers/adv?app={key}"))
            .await;
        assert_eq!(advocate["referral_count"], 1, "{key}");
        let drops = fake.admin_get(&format!("/__admin/drops?app={key}")).await;
        let drops: Vec<(&str, &Value)> = drops
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["reason"].as_str().unwrap(), &d["status"]))
            .collect();
        assert_eq!(
            drops,
            [
                ("REFERRAL_CODE_UNKNOWN", &json!(422)),
                ("REFERRAL_CODE_TAKEN", &json!(409))
            ],
            "{key}: logged alike, whichever mode answered"
        );
    }
}

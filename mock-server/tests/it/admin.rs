//! Contract section 4: the `/__admin` control plane — inspection, the request journal, reset,
//! configuration, export and import, the admin token and `?app=`.

use std::collections::BTreeSet;

use rehook_mock::{AppConfig, MockRehook};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Fake, basic, bytes, is_utc_timestamp, send, sorted_keys};

fn two_apps() -> rehook_mock::MockRehookBuilder {
    MockRehook::builder()
        .app(AppConfig::new("key_a", "secret_a"))
        .app(AppConfig::new("key_b", "secret_b"))
}

/// POST `body` to `path` as the application `key`/`secret`.
async fn post_as(
    fake: &Fake,
    key: &str,
    secret: &str,
    path: &str,
    body: Value,
) -> crate::support::Reply {
    send(
        fake.request(Method::POST, path)
            .header("authorization", basic(key, secret))
            .json(&body),
    )
    .await
}

fn source_ids(customers: &Value) -> Vec<&str> {
    customers
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["source_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn health_answers_ok_and_the_version() {
    let fake = Fake::start().await;
    assert_eq!(
        fake.admin_get("/__admin/health").await,
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
    );
}

#[tokio::test]
async fn customers_are_listed_sorted_by_source_id_and_found_one_by_one() {
    let fake = Fake::start().await;
    for source_id in ["b", "a", "c", "B", "a-2", "10", "9"] {
        fake.customer(json!({"source_id": source_id})).await;
    }
    let listed = fake.admin_get("/__admin/customers").await;
    assert_eq!(source_ids(&listed), ["10", "9", "B", "a", "a-2", "b", "c"]);
    for customer in listed.as_array().unwrap() {
        let path = format!(
            "/__admin/customers/{}",
            customer["source_id"].as_str().unwrap()
        );
        assert_eq!(&fake.admin_get(&path).await, customer);
    }
    fake.admin(Method::GET, "/__admin/customers/nobody")
        .await
        .error(404, "CUSTOMER_NOT_FOUND");
    let empty = Fake::start().await;
    assert_eq!(empty.admin_get("/__admin/customers").await, json!([]));
}

#[tokio::test]
async fn events_are_listed_in_arrival_order_and_filtered_by_source_id() {
    let fake = Fake::start().await;
    let mut ids = Vec::new();
    for (name, source_id) in [("e1", "u-2"), ("e2", "u-1"), ("e3", "u-2"), ("e4", "u-3")] {
        let reply = fake
            .invoke(json!({"event_name": name, "source_id": source_id}))
            .await;
        ids.push((
            reply.ok(200)["event"]["id"].as_str().unwrap().to_owned(),
            source_id,
        ));
    }
    let all = fake.admin_get("/__admin/events").await;
    let listed: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        ids.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>()
    );
    let names = |events: &Value| -> Vec<String> {
        events
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(&fake.admin_get("/__admin/events?source_id=u-2").await),
        ["e1", "e3"]
    );
    assert_eq!(
        names(&fake.admin_get("/__admin/events?source_id=u-3").await),
        ["e4"]
    );
    assert_eq!(
        fake.admin_get("/__admin/events?source_id=nobody").await,
        json!([])
    );
}

#[tokio::test]
async fn drops_carry_request_id_time_layer_endpoint_reason_status_and_body() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "adv", "referral_code": "ADV"}))
        .await;
    let body = json!({"source_id": "x", "referral_code": "ADV", "unknown": [1]});
    let reply = fake.upsert(body.clone()).await;
    reply.error(409, "REFERRAL_CODE_TAKEN");
    let drops = fake.admin_get("/__admin/drops").await;
    assert_eq!(drops.as_array().unwrap().len(), 1);
    let drop = &drops[0];
    assert!(is_utc_timestamp(drop["at"].as_str().unwrap()));
    let mut expected = json!({
        "request_id": reply.request_id(),
        "layer": "rehook",
        "endpoint": "POST /customers",
        "reason": "REFERRAL_CODE_TAKEN",
        "status": 409,
        "body": body,
    });
    expected["at"] = drop["at"].clone();
    assert_eq!(drop, &expected);
}

#[tokio::test]
async fn drops_can_be_read_for_one_customer_by_source_id() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "adv", "referral_code": "ADV"}))
        .await;
    for source_id in [json!("x"), json!(7), json!("y"), json!("x")] {
        fake.upsert(json!({"source_id": source_id, "referral_code": "ADV"}))
            .await
            .error(409, "REFERRAL_CODE_TAKEN");
    }
    let bodies = |drops: Value| -> Vec<Value> {
        drops
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["body"]["source_id"].clone())
            .collect()
    };
    assert_eq!(
        bodies(fake.admin_get("/__admin/drops?source_id=x").await),
        [json!("x"), json!("x")]
    );
    assert_eq!(
        bodies(fake.admin_get("/__admin/drops?source_id=7").await),
        [json!(7)]
    );
    assert_eq!(
        fake.admin_get("/__admin/drops?source_id=nobody").await,
        json!([])
    );
    assert_eq!(bodies(fake.admin_get("/__admin/drops").await).len(), 4);
}

#[tokio::test]
async fn the_journal_keeps_api_requests_with_redacted_credentials() {
    let fake = Fake::start().await;
    let created = fake.upsert(json!({"source_id": "u-1"})).await;
    let refused = send(
        fake.request(Method::POST, "/customers?x=1")
            .header("authorization", basic("rk_test_key", "hunter2"))
            .json(&json!({"source_id": "u-2"})),
    )
    .await;
    let missing = send(fake.request(Method::GET, "/nope")).await;
    fake.admin_get("/__admin/health").await;
    fake.admin_get("/__admin/customers").await;
    fake.admin(Method::GET, "/__admin/nope").await;

    let journal = fake.admin_get("/__admin/requests").await;
    let entries = journal.as_array().unwrap();
    let ids: Vec<&str> = entries
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            created.request_id(),
            refused.request_id(),
            missing.request_id()
        ],
        "API requests only, oldest first: {journal:#}"
    );
    let first = &entries[0];
    let keys = sorted_keys(first);
    assert_eq!(
        keys,
        [
            "app",
            "at",
            "body",
            "headers",
            "method",
            "path",
            "request_id",
            "response",
            "status"
        ]
    );
    assert_eq!(first["app"], "rk_test_key");
    assert_eq!(first["method"], "POST");
    assert_eq!(first["path"], "/customers");
    assert_eq!(first["status"], 201);
    assert_eq!(first["body"], json!({"source_id": "u-1"}));
    assert_eq!(first["response"], created.body);
    assert_eq!(first["headers"]["authorization"], "Basic [redacted]");
    assert!(is_utc_timestamp(first["at"].as_str().unwrap()));
    assert_eq!(
        entries[1]["app"],
        Value::Null,
        "a 401 belongs to no application"
    );
    assert_eq!(entries[1]["path"], "/customers?x=1");
    assert_eq!(entries[1]["status"], 401);
    assert_eq!(entries[1]["headers"]["authorization"], "Basic [redacted]");
    assert_eq!(entries[2]["app"], Value::Null);
    assert_eq!(entries[2]["status"], 404);
    let text = journal.to_string();
    let leaked = [
        "rk_test_secret".to_owned(),
        fake.auth()[6..].to_owned(),
        "hunter2".to_owned(),
        basic("rk_test_key", "hunter2")[6..].to_owned(),
    ];
    for secret in &leaked {
        assert!(!text.contains(secret), "the journal leaks {secret:?}");
    }
}

#[tokio::test]
async fn unknown_paths_that_only_start_like_the_admin_prefix_are_journaled() {
    let fake = Fake::start().await;
    let mut expected = Vec::new();
    for path in ["/__adminx", "/__admin_", "/__administrator/health"] {
        let reply = fake.admin(Method::GET, path).await;
        reply.error(404, "NOT_FOUND");
        expected.push((reply.request_id().to_owned(), path));
    }
    fake.admin(Method::GET, "/__admin/nope")
        .await
        .error(404, "NOT_FOUND");
    let journal = fake.admin_get("/__admin/requests").await;
    let journaled: Vec<(String, &str)> = journal
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["app"], Value::Null);
            let path = e["path"].as_str().unwrap();
            let path = expected
                .iter()
                .find(|(_, p)| *p == path)
                .map_or("?", |(_, p)| *p);
            (e["request_id"].as_str().unwrap().to_owned(), path)
        })
        .collect();
    assert_eq!(journaled, expected);
}

#[tokio::test]
async fn the_journal_is_capped_and_keeps_the_newest() {
    let fake = Fake::with(MockRehook::builder().journal_capacity(3)).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let reply = fake.upsert(json!({"source_id": format!("u-{i}")})).await;
        ids.push(reply.request_id().to_owned());
    }
    let journal = fake.admin_get("/__admin/requests").await;
    let kept: Vec<&str> = journal
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        kept,
        ids[2..].iter().map(String::as_str).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn the_journal_is_filtered_by_application() {
    let fake = Fake::with(two_apps()).await;
    let a = post_as(
        &fake,
        "key_a",
        "secret_a",
        "/customers",
        json!({"source_id": "u"}),
    )
    .await;
    let b = post_as(
        &fake,
        "key_b",
        "secret_b",
        "/customers",
        json!({"source_id": "u"}),
    )
    .await;
    let anonymous = post_as(
        &fake,
        "key_b",
        "nope",
        "/customers",
        json!({"source_id": "u"}),
    )
    .await;
    let ids = |path: &str| {
        let fake = &fake;
        let path = path.to_owned();
        async move {
            let journal = fake.admin_get(&path).await;
            journal
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["request_id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids("/__admin/requests").await,
        [a.request_id(), b.request_id(), anonymous.request_id()]
    );
    assert_eq!(ids("/__admin/requests?app=key_a").await, [a.request_id()]);
    assert_eq!(ids("/__admin/requests?app=key_b").await, [b.request_id()]);
    fake.admin(Method::GET, "/__admin/requests?app=key_c")
        .await
        .error(404, "APP_NOT_FOUND");
}

#[tokio::test]
async fn reset_empties_one_application_or_all_of_them() {
    let fake = Fake::with(two_apps()).await;
    for (key, secret) in [("key_a", "secret_a"), ("key_b", "secret_b")] {
        post_as(
            &fake,
            key,
            secret,
            "/customers",
            json!({"source_id": "adv", "referral_code": "ADV"}),
        )
        .await
        .ok(201);
        let signup =
            json!({"event_name": "signup", "source_id": "f", "metadata": {"referral_code": "ADV"}});
        post_as(&fake, key, secret, "/events/invoke", signup)
            .await
            .ok(200);
        post_as(
            &fake,
            key,
            secret,
            "/customers",
            json!({"source_id": "x", "referral_code": "ADV"}),
        )
        .await
        .error(409, "REFERRAL_CODE_TAKEN");
    }
    let before = fake.state().await;
    let empty = json!({"customers": [], "referrals": [], "events": [], "drops": [], "deliveries": [], "seen_message_ids": []});

    fake.admin(Method::POST, "/__admin/reset?app=key_b")
        .await
        .ok(200);
    let after = fake.state().await;
    assert_eq!(after["data"]["key_a"], before["data"]["key_a"]);
    assert_eq!(after["data"]["key_b"], empty);
    assert_eq!(
        after["config"], before["config"],
        "reset keeps the settings"
    );
    assert_eq!(
        fake.admin_get("/__admin/requests?app=key_b").await,
        json!([])
    );
    assert_eq!(
        fake.admin_get("/__admin/requests?app=key_a")
            .await
            .as_array()
            .unwrap()
            .len(),
        3
    );
    post_as(
        &fake,
        "key_b",
        "secret_b",
        "/customers",
        json!({"source_id": "x", "referral_code": "ADV"}),
    )
    .await
    .ok(201);

    fake.admin(Method::POST, "/__admin/reset").await.ok(200);
    assert_eq!(
        fake.state().await["data"]["key_a"],
        empty,
        "no ?app= is the default application"
    );
    assert_eq!(
        fake.state().await["data"]["key_b"]["customers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    fake.admin(Method::POST, "/__admin/reset?all=true")
        .await
        .ok(200);
    let state = fake.state().await;
    assert_eq!(state["data"], json!({"key_a": empty, "key_b": empty}));
    assert_eq!(fake.admin_get("/__admin/requests").await, json!([]));
    fake.admin(Method::POST, "/__admin/reset?all=maybe")
        .await
        .error(400, "INVALID_QUERY");
}

#[tokio::test]
async fn codes_stay_unique_after_a_reset_replays_the_seeded_stream() {
    let fake = Fake::with(MockRehook::builder().seed(11)).await;
    let first = fake.customer(json!({"source_id": "a"})).await;
    let first_code = first["referral_code"].as_str().unwrap().to_owned();
    fake.admin(Method::POST, "/__admin/reset").await.ok(200);
    let again = fake.customer(json!({"source_id": "a"})).await;
    assert_eq!(
        again,
        {
            let mut expected = first.clone();
            expected["created_at"] = again["created_at"].clone();
            expected["updated_at"] = again["updated_at"].clone();
            expected
        },
        "a reset re-seeds the generator"
    );
    fake.admin(Method::POST, "/__admin/reset").await.ok(200);
    fake.customer(json!({"source_id": "x", "referral_code": first_code}))
        .await;
    let next = fake.customer(json!({"source_id": "y"})).await;
    assert_ne!(
        next["referral_code"],
        first_code.as_str(),
        "the replayed code is held by x"
    );
}

#[tokio::test]
async fn request_ids_stay_unique_after_a_reset_of_one_application() {
    let fake = Fake::with(two_apps().seed(3)).await;
    for i in 0..3 {
        post_as(
            &fake,
            "key_b",
            "secret_b",
            "/customers",
            json!({"source_id": format!("b-{i}")}),
        )
        .await
        .ok(201);
    }
    fake.admin(Method::POST, "/__admin/reset?app=key_a")
        .await
        .ok(200);
    for i in 0..3 {
        post_as(
            &fake,
            "key_b",
            "secret_b",
            "/customers",
            json!({"source_id": format!("c-{i}")}),
        )
        .await
        .ok(201);
    }
    let journal = fake.admin_get("/__admin/requests").await;
    let ids: Vec<&str> = journal
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "request ids repeat in the journal: {ids:?}"
    );
}

#[tokio::test]
async fn config_shows_secrets_only_when_asked() {
    let fake = Fake::start().await;
    let expected = json!({"applications": [{
        "api_key": "rk_test_key",
        "write_keys": ["wk_test"],
        "conversion_events": ["signup"],
        "drop_mode": "reject",
        "referral_link_base": "https://rehook.test/r",
    }]});
    assert_eq!(fake.admin_get("/__admin/config").await, expected);
    assert_eq!(
        fake.admin_get("/__admin/config?secrets=false").await,
        expected
    );
    let mut with_secret = expected.clone();
    with_secret["applications"][0]["api_secret"] = json!("rk_test_secret");
    assert_eq!(
        fake.admin_get("/__admin/config?secrets=true").await,
        with_secret
    );
    let state = fake.admin_get("/__admin/state").await;
    assert_eq!(state["config"], expected);
    assert!(!state.to_string().contains("rk_test_secret"));
    assert_eq!(fake.state().await["config"], with_secret);
}

#[tokio::test]
async fn config_put_changes_settings_and_keeps_running_secrets() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "adv", "referral_code": "ADV"}))
        .await;
    let doc = json!({"applications": [
        {"api_key": "rk_test_key", "write_keys": ["wk_test"], "conversion_events": ["purchase"],
         "drop_mode": "accept", "referral_link_base": "https://x.test/ref/"},
        {"api_key": "k2", "api_secret": "s2"},
    ]});
    let reply = send(fake.request(Method::PUT, "/__admin/config").json(&doc)).await;
    let shown = reply.ok(200).clone();
    assert_eq!(shown, fake.admin_get("/__admin/config").await);
    assert!(!shown.to_string().contains("s2"));
    assert_eq!(
        shown["applications"][1],
        json!({
            "api_key": "k2", "write_keys": [], "conversion_events": ["signup"],
            "drop_mode": "reject", "referral_link_base": "https://rehook.test/r",
        })
    );

    let adv = fake.get("/customers/adv").await;
    assert_eq!(
        adv.ok(200)["referral_link"],
        "https://x.test/ref/ADV",
        "data kept, new link base"
    );
    let purchase =
        json!({"event_name": "purchase", "source_id": "f", "metadata": {"referral_code": "ADV"}});
    assert_eq!(
        fake.invoke(purchase).await.ok(200)["referral"]["status"],
        "attributed"
    );
    let dropped = fake
        .upsert(json!({"source_id": "x", "referral_code": "ADV"}))
        .await;
    assert_eq!(
        dropped.ok(200),
        &json!({"status": "dropped", "reason": "REFERRAL_CODE_TAKEN"})
    );
    post_as(
        &fake,
        "k2",
        "s2",
        "/customers",
        json!({"source_id": "adv", "referral_code": "ADV"}),
    )
    .await
    .ok(201);

    let without_k2 = json!({"applications": [{"api_key": "rk_test_key"}]});
    send(
        fake.request(Method::PUT, "/__admin/config")
            .json(&without_k2),
    )
    .await
    .ok(200);
    assert_eq!(
        fake.admin_get("/__admin/config").await["applications"],
        json!([{"api_key": "rk_test_key", "write_keys": ["wk_test"],
                "conversion_events": ["purchase"], "drop_mode": "accept",
                "referral_link_base": "https://x.test/ref/"}]),
        "settings left out keep their running values"
    );
    post_as(&fake, "k2", "s2", "/customers", json!({"source_id": "z"}))
        .await
        .error(401, "UNAUTHORIZED");
    fake.get("/events/segment/check-auth").await.ok(200);
    let rotated = json!({"applications": [{"api_key": "rk_test_key", "api_secret": "rotated"}]});
    send(fake.request(Method::PUT, "/__admin/config").json(&rotated))
        .await
        .ok(200);
    fake.get("/events/segment/check-auth")
        .await
        .error(401, "UNAUTHORIZED");
    post_as(
        &fake,
        "rk_test_key",
        "rotated",
        "/customers",
        json!({"source_id": "adv"}),
    )
    .await
    .ok(200);
}

#[tokio::test]
async fn invalid_configs_are_400_invalid_config_and_change_nothing() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "u-1"})).await;
    let config = fake.admin_get("/__admin/config?secrets=true").await;
    let state = fake.state().await;
    let cases = [
        json!({}),
        json!({"applications": []}),
        json!({"applications": {"api_key": "rk_test_key"}}),
        json!({"applications": [{"api_key": "rk_test_key"}, {"api_key": "rk_test_key", "api_secret": "x"}]}),
        json!({"applications": [{"api_key": "new_key"}]}),
        json!({"applications": [{"api_key": "a:b", "api_secret": "s"}]}),
        json!({"applications": [{"api_key": "", "api_secret": "s"}]}),
        json!({"applications": [{"api_key": "k", "api_secret": ""}]}),
        json!({"applications": [{"api_key": 5, "api_secret": "s"}]}),
        json!({"applications": [{"api_secret": "s"}]}),
        json!({"applications": [{"api_key": "rk_test_key", "drop_mode": "maybe"}]}),
        json!({"applications": [{"api_key": "rk_test_key", "conversion_events": "signup"}]}),
        json!({"applications": [{"api_key": "rk_test_key", "conversion_events": [""]}]}),
        json!({"applications": [{"api_key": "rk_test_key", "write_keys": [""]}]}),
        json!({"applications": [{"api_key": "rk_test_key", "colour": "red"}]}),
        json!({"applications": [{"api_key": "rk_test_key"}], "extra": true}),
        json!({"applications": [
            {"api_key": "rk_test_key", "write_keys": ["w"]},
            {"api_key": "k2", "api_secret": "s", "write_keys": ["w"]},
        ]}),
    ];
    for doc in cases {
        let reply = send(fake.request(Method::PUT, "/__admin/config").json(&doc)).await;
        assert_eq!(reply.body["code"], "INVALID_CONFIG", "{doc}: {reply:?}");
        reply.error(400, "INVALID_CONFIG");
    }
    assert_eq!(fake.admin_get("/__admin/config?secrets=true").await, config);
    assert_eq!(fake.state().await, state);
}

/// A fake with customers, a referral, events and a drop.
async fn populated(builder: rehook_mock::MockRehookBuilder) -> Fake {
    let fake = Fake::with(builder).await;
    fake.customer(
        json!({"source_id": "adv", "referral_code": "ADV", "metadata": {"plan": "pro", "n": null}}),
    )
    .await;
    fake.convert("friend", "ADV").await;
    fake.invoke(json!({"event_name": "page", "source_id": "adv", "metadata": {"p": "/"}}))
        .await
        .ok(200);
    fake.upsert(json!({"source_id": "x", "referral_code": "ADV"}))
        .await
        .error(409, "REFERRAL_CODE_TAKEN");
    fake
}

/// Where the default application's data sits in a state document.
const DATA: &str = "/data/rk_test_key";

async fn import(fake: &Fake, doc: &Value) -> crate::support::Reply {
    send(fake.request(Method::PUT, "/__admin/state").json(doc)).await
}

#[tokio::test]
async fn state_export_and_import_round_trip() {
    let source = populated(MockRehook::builder().seed(1)).await;
    let exported = source.state().await;
    assert_eq!(exported["format"], "rehook-mock-state/1");
    let data = &exported["data"]["rk_test_key"];
    assert_eq!(data["customers"].as_array().unwrap().len(), 2);
    assert_eq!(data["referrals"].as_array().unwrap().len(), 1);
    assert_eq!(data["events"].as_array().unwrap().len(), 2);
    assert_eq!(data["drops"].as_array().unwrap().len(), 1);

    let target = Fake::with(MockRehook::builder().seed(2)).await;
    target.customer(json!({"source_id": "old"})).await;
    assert_eq!(
        import(&target, &exported).await.ok(200),
        &json!({"status": "ok"})
    );
    assert_eq!(target.state().await, exported, "import replaces everything");
    target
        .get("/customers/old")
        .await
        .error(404, "CUSTOMER_NOT_FOUND");
    assert_eq!(
        target.get("/customers/adv").await.ok(200),
        source.get("/customers/adv").await.ok(200)
    );
    assert_eq!(
        target.get("/customers/referrals/adv").await.ok(200)[0]["source_id"],
        "friend"
    );

    let doc = json!({"format": "rehook-mock-state/1", "config": {"applications": [
        {"api_key": "other", "api_secret": "other_secret"},
    ]}, "data": {}});
    import(&target, &doc).await.ok(200);
    target
        .get("/events/segment/check-auth")
        .await
        .error(401, "UNAUTHORIZED");
    post_as(
        &target,
        "other",
        "other_secret",
        "/customers",
        json!({"source_id": "n"}),
    )
    .await
    .ok(201);
    import(&target, &exported).await.ok(200);
    assert_eq!(target.state().await, exported);
}

#[tokio::test]
async fn an_import_without_secrets_keeps_the_running_ones() {
    let fake = populated(MockRehook::builder()).await;
    let without = fake.admin_get("/__admin/state").await;
    assert!(
        without["config"]["applications"][0]
            .get("api_secret")
            .is_none()
    );
    fake.admin(Method::POST, "/__admin/reset").await.ok(200);
    import(&fake, &without).await.ok(200);
    fake.get("/customers/adv").await.ok(200);
    assert_eq!(fake.admin_get("/__admin/state").await, without);
}

/// Customers with generated and given codes, an event and a conversion, tagged with `tag`.
async fn some_traffic(fake: &Fake, tag: &str) {
    let a = fake.customer(json!({"source_id": format!("a{tag}")})).await;
    fake.customer(json!({"source_id": format!("b{tag}"), "referral_code": format!("GIVEN{tag}")}))
        .await;
    fake.invoke(json!({"event_name": "e", "source_id": format!("a{tag}")}))
        .await
        .ok(200);
    fake.convert(&format!("f{tag}"), a["referral_code"].as_str().unwrap())
        .await;
}

#[tokio::test]
async fn ids_and_codes_stay_unique_after_an_import_restarts_the_seeded_stream() {
    let fake = Fake::with(MockRehook::builder().seed(9)).await;
    some_traffic(&fake, "1").await;
    let exported = fake.state().await;
    import(&fake, &exported).await.ok(200);
    some_traffic(&fake, "2").await;
    let state = fake.state().await;
    let data = &state["data"]["rk_test_key"];
    let unique =
        |values: Vec<&str>| values.iter().copied().collect::<BTreeSet<_>>().len() == values.len();
    let customers = data["customers"].as_array().unwrap();
    assert_eq!(customers.len(), 6);
    assert!(
        unique(
            customers
                .iter()
                .map(|c| c["id"].as_str().unwrap())
                .collect()
        ),
        "{data:#}"
    );
    assert!(
        unique(
            customers
                .iter()
                .map(|c| c["referral_code"].as_str().unwrap())
                .collect()
        ),
        "{data:#}"
    );
    let events = data["events"].as_array().unwrap();
    assert_eq!(events.len(), 4);
    assert!(
        unique(events.iter().map(|e| e["id"].as_str().unwrap()).collect()),
        "{data:#}"
    );
}

#[tokio::test]
async fn invalid_state_documents_are_400_invalid_state_and_change_nothing() {
    let fake = populated(MockRehook::builder()).await;
    let good = fake.state().await;
    let mutate = |f: fn(&mut Value)| {
        let mut doc = good.clone();
        f(&mut doc);
        doc
    };
    // The good document with the value at `pointer` (a JSON pointer) set to `value`.
    let set = |pointer: &str, value: Value| {
        let mut doc = good.clone();
        let (parent, key) = pointer.rsplit_once('/').expect("a pointer with a key");
        doc.pointer_mut(parent).expect("the parent exists")[key] = value;
        doc
    };
    let cases: Vec<(&str, Value)> = vec![
        ("other format", set("/format", json!("rehook-mock-state/2"))),
        (
            "no format",
            mutate(|d| {
                d.as_object_mut().unwrap().remove("format");
            }),
        ),
        (
            "no config",
            mutate(|d| {
                d.as_object_mut().unwrap().remove("config");
            }),
        ),
        ("unknown top-level key", set("/extra", json!(1))),
        ("config not a config", set("/config", json!({"apps": []}))),
        ("no applications", set("/config/applications", json!([]))),
        (
            "duplicate api keys",
            mutate(|d| {
                let app = d["config"]["applications"][0].clone();
                d["config"]["applications"]
                    .as_array_mut()
                    .unwrap()
                    .push(app);
            }),
        ),
        (
            "new app without secret",
            mutate(|d| {
                d["config"]["applications"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"api_key": "new"}));
            }),
        ),
        ("data for an unlisted app", set("/data/ghost", json!({}))),
        ("unknown data key", set(&format!("{DATA}/extra"), json!([]))),
        (
            "duplicate code",
            mutate(|d| {
                let customers = d.pointer_mut(&format!("{DATA}/customers")).unwrap();
                customers[1]["referral_code"] = customers[0]["referral_code"].clone();
            }),
        ),
        (
            "duplicate source_id",
            mutate(|d| {
                let customers = d.pointer_mut(&format!("{DATA}/customers")).unwrap();
                customers[1]["source_id"] = customers[0]["source_id"].clone();
            }),
        ),
        (
            "duplicate customer id",
            mutate(|d| {
                let customers = d.pointer_mut(&format!("{DATA}/customers")).unwrap();
                customers[1]["id"] = customers[0]["id"].clone();
            }),
        ),
        (
            "invalid code",
            set(&format!("{DATA}/customers/0/referral_code"), json!("A B")),
        ),
        (
            "blank source_id",
            set(&format!("{DATA}/customers/0/source_id"), json!(" ")),
        ),
        (
            "unknown customer field",
            set(&format!("{DATA}/customers/0/x"), json!(1)),
        ),
        (
            "referral against referred_by",
            set(&format!("{DATA}/referrals/0/advocate"), json!("friend")),
        ),
        (
            "referral of an unknown friend",
            set(&format!("{DATA}/referrals/0/friend"), json!("ghost")),
        ),
        (
            "referred_by without referral",
            set(&format!("{DATA}/referrals"), json!([])),
        ),
        (
            "duplicate event id",
            mutate(|d| {
                let events = d.pointer_mut(&format!("{DATA}/events")).unwrap();
                events[1]["id"] = events[0]["id"].clone();
            }),
        ),
        (
            "customers not a list",
            set(&format!("{DATA}/customers"), json!({})),
        ),
        // Regressions: each of these was imported with 200.
        (
            "no data at all (not read as an empty state)",
            mutate(|d| {
                d.as_object_mut().unwrap().remove("data");
            }),
        ),
        (
            "a customer referred by itself",
            mutate(|d| {
                let data = d.pointer_mut(DATA).unwrap();
                let friend = data["referrals"][0]["friend"].clone();
                data["referrals"][0]["advocate"] = friend.clone();
                for c in data["customers"].as_array_mut().unwrap() {
                    if c["source_id"] == friend {
                        c["referred_by"] = friend.clone();
                    }
                }
            }),
        ),
        (
            "a customer id that is not cust_ and 21 alphanumerics",
            set(&format!("{DATA}/customers/0/id"), json!("nope")),
        ),
        (
            "an event id that is not evt_ and 21 alphanumerics",
            set(&format!("{DATA}/events/0/id"), json!("evt_1")),
        ),
        (
            "a created_at that is not a timestamp",
            set(
                &format!("{DATA}/customers/0/created_at"),
                json!("yesterday"),
            ),
        ),
        (
            "a received_at that is not a timestamp",
            set(&format!("{DATA}/events/0/received_at"), json!("")),
        ),
        (
            "a drop with a made-up request id",
            set(&format!("{DATA}/drops/0/request_id"), json!("nope")),
        ),
        (
            "a drop whose time is not a timestamp",
            set(&format!("{DATA}/drops/0/at"), json!("x")),
        ),
        (
            "a drop whose status is not its reason's",
            set(&format!("{DATA}/drops/0/status"), json!(999)),
        ),
        (
            "a drop with an unknown reason",
            set(&format!("{DATA}/drops/0/reason"), json!("NOPE")),
        ),
        (
            "a drop from an unknown layer",
            set(&format!("{DATA}/drops/0/layer"), json!("segment")),
        ),
        (
            "a drop whose body is not an object",
            set(&format!("{DATA}/drops/0/body"), json!([])),
        ),
        (
            "an event with a blank name",
            set(&format!("{DATA}/events/0/event_name"), json!(" ")),
        ),
        (
            "a delivery entry that is not an object",
            set(&format!("{DATA}/deliveries"), json!([1])),
        ),
        (
            "a seen messageId listed twice",
            set(&format!("{DATA}/seen_message_ids"), json!(["m", "m"])),
        ),
        (
            "a customer updated before it was created",
            set(
                &format!("{DATA}/customers/0/updated_at"),
                json!("2000-01-01T00:00:00.000Z"),
            ),
        ),
        (
            "a time with an offset instead of UTC",
            set(
                &format!("{DATA}/events/0/received_at"),
                json!("2026-12-03T18:11:35.043+01:00"),
            ),
        ),
        (
            "an event of somebody who is not a customer",
            set(&format!("{DATA}/events/0/source_id"), json!("ghost")),
        ),
    ];
    for (what, doc) in cases {
        let reply = import(&fake, &doc).await;
        assert_eq!(reply.body["code"], "INVALID_STATE", "{what}: {reply:?}");
        reply.error(400, "INVALID_STATE");
    }
    assert_eq!(fake.state().await, good);
    fake.get("/events/segment/check-auth").await.ok(200);
}

#[tokio::test]
async fn state_imports_are_not_held_to_the_one_mebibyte_limit() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "big"})).await;
    let mut doc = fake.state().await;
    let big = "x".repeat(3 * 1024 * 1024);
    doc["data"]["rk_test_key"]["customers"][0]["metadata"] = json!({"blob": big});
    assert!(bytes(&doc).len() > 3 * 1024 * 1024);
    import(&fake, &doc).await.ok(200);
    assert_eq!(
        fake.get("/customers/big").await.ok(200)["metadata"]["blob"]
            .as_str()
            .unwrap()
            .len(),
        big.len()
    );
}

#[tokio::test]
async fn an_admin_token_requires_a_matching_bearer() {
    let fake = Fake::with(MockRehook::builder().admin_token("t0ken")).await;
    let state = state_with_token(&fake).await;
    for authorization in [
        None,
        Some("Bearer wrong"),
        Some("Bearer"),
        Some("t0ken"),
        Some("Basic dDBrZW46"),
    ] {
        for (method, path) in [
            (Method::GET, "/__admin/health"),
            (Method::GET, "/__admin/customers"),
            (Method::POST, "/__admin/reset?all=true"),
            (Method::PUT, "/__admin/state"),
        ] {
            let mut request = fake.request(method.clone(), path);
            if let Some(value) = authorization {
                request = request.header("authorization", value);
            }
            if method == Method::PUT {
                request = request.json(&json!({"format": "x", "config": {}}));
            }
            let reply = send(request).await;
            assert_eq!(reply.status, 401, "{authorization:?} {method} {path}");
            reply.error(401, "UNAUTHORIZED");
        }
    }
    send(fake.request(Method::GET, "/__admin/nope"))
        .await
        .error(404, "NOT_FOUND");
    send(fake.request(Method::POST, "/__admin/health"))
        .await
        .error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(state_with_token(&fake).await, state);
    fake.get("/events/segment/check-auth").await.ok(200);
    fake.upsert(json!({"source_id": "u"})).await.ok(201);
}

async fn state_with_token(fake: &Fake) -> Value {
    send(
        fake.request(Method::GET, "/__admin/state?secrets=true")
            .header("authorization", "Bearer t0ken"),
    )
    .await
    .ok(200)
    .clone()
}

#[tokio::test]
async fn an_unknown_app_is_404_app_not_found() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "u"})).await;
    let state = fake.state().await;
    for (method, path) in [
        (Method::GET, "/__admin/customers?app=nope"),
        (Method::GET, "/__admin/customers/u?app=nope"),
        (Method::GET, "/__admin/events?app=nope"),
        (Method::GET, "/__admin/drops?app=nope"),
        (Method::GET, "/__admin/deliveries?app=nope"),
        (Method::GET, "/__admin/requests?app=nope"),
        (Method::POST, "/__admin/reset?app=nope"),
        (Method::POST, "/__admin/reset?app=RK_TEST_KEY"),
    ] {
        let reply = fake.admin(method.clone(), path).await;
        let error = reply.error(404, "APP_NOT_FOUND");
        assert!(
            error["message"].as_str().unwrap().contains("nope") || path.contains("RK_"),
            "{error}"
        );
    }
    assert_eq!(fake.state().await, state);
    assert_eq!(
        fake.admin_get("/__admin/customers?app=rk_test_key").await,
        fake.admin_get("/__admin/customers").await
    );
}

/// A body nested exactly [`rehook_mock::body::MAX_DEPTH`] levels deep, `inner` at the bottom.
fn deepest_body(fields: &str, nested_under: &str) -> String {
    // The outer object and the object holding `nested_under` are two levels.
    let arrays = rehook_mock::body::MAX_DEPTH - 2;
    format!(
        "{{{fields}, \"{nested_under}\": {{\"deep\": {}{}}}}}",
        "[".repeat(arrays),
        "]".repeat(arrays)
    )
}

#[tokio::test]
async fn an_export_of_the_deepest_accepted_bodies_imports_again() {
    let fake = Fake::start().await;
    let upsert = deepest_body("\"source_id\": \"deep\"", "metadata");
    send(
        fake.authed(Method::POST, "/customers")
            .header("content-type", "application/json")
            .body(upsert),
    )
    .await
    .ok(201);
    // A refused conversion keeps its whole body in the drop log, one level deeper still.
    let refused = deepest_body(
        "\"source_id\": \"f\", \"event_name\": \"signup\"",
        "metadata",
    )
    .replace("{\"deep\"", "{\"referral_code\": \"NOPE\", \"deep\"");
    send(
        fake.authed(Method::POST, "/events/invoke")
            .header("content-type", "application/json")
            .body(refused),
    )
    .await
    .error(422, "REFERRAL_CODE_UNKNOWN");
    let exported = fake
        .request(Method::GET, "/__admin/state")
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("export body");
    let reply = send(
        fake.request(Method::PUT, "/__admin/state")
            .header("content-type", "application/json")
            .body(exported.clone()),
    )
    .await;
    reply.ok(200);
    let again = fake
        .request(Method::GET, "/__admin/state")
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("export body");
    assert_eq!(again, exported);
}

#[tokio::test]
async fn the_journal_redacts_every_credential_header() {
    // Regression: Proxy-Authorization was journaled in clear.
    let fake = Fake::start().await;
    send(
        fake.authed(Method::GET, "/events/segment/check-auth")
            .header("proxy-authorization", basic("proxy", "s3cret"))
            .header("cookie", "session=s3cret"),
    )
    .await
    .ok(200);
    // Regression: the part before the first space was kept as if it were a scheme.
    send(
        fake.request(Method::GET, "/events/segment/check-auth")
            .header("authorization", "s3cret-token more")
            .header("proxy-authorization", "s3cret-token2 more")
            .header("cookie", "session=s3cret; other=s3cret2"),
    )
    .await
    .error(401, "UNAUTHORIZED");
    let journal = fake.admin_get("/__admin/requests").await;
    let headers = &journal[0]["headers"];
    assert_eq!(headers["authorization"], "Basic [redacted]");
    assert_eq!(headers["proxy-authorization"], "Basic [redacted]");
    assert_eq!(headers["cookie"], "[redacted]");
    let headers = &journal[1]["headers"];
    assert_eq!(headers["authorization"], "[redacted]");
    assert_eq!(headers["proxy-authorization"], "[redacted]");
    assert_eq!(headers["cookie"], "[redacted]");
    assert!(!journal.to_string().contains("s3cret"));
    assert!(!journal.to_string().contains(&basic("proxy", "s3cret")[6..]));
}

#[tokio::test]
async fn the_journal_keeps_only_the_size_of_large_bodies() {
    let fake = Fake::start().await;
    let big = "x".repeat(100 * 1024);
    fake.upsert(json!({"source_id": "u-1", "metadata": {"blob": big}}))
        .await
        .ok(201);
    fake.upsert(json!({"source_id": "u-2"})).await.ok(201);
    let journal = fake.admin_get("/__admin/requests").await;
    let body_len = serde_json::to_vec(&json!({"metadata": {"blob": big}, "source_id": "u-1"}))
        .unwrap()
        .len();
    assert_eq!(
        journal[0]["body"],
        json!({"bytes": body_len, "omitted": "larger than the journal keeps"})
    );
    assert_eq!(
        journal[0]["response"]["omitted"],
        "larger than the journal keeps"
    );
    assert_eq!(journal[1]["body"], json!({"source_id": "u-2"}));
}

#[tokio::test]
async fn reset_refuses_unknown_parameters_and_unknown_apps_even_with_all() {
    // Regression: `?ALL=true` reset only the default application and `?all=true&app=ZZ`
    // reset everything.
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "u-1"})).await;
    fake.admin(Method::POST, "/__admin/reset?ALL=true")
        .await
        .error(400, "INVALID_QUERY");
    fake.admin(Method::POST, "/__admin/reset?all=true&app=ZZ")
        .await
        .error(404, "APP_NOT_FOUND");
    fake.admin(Method::GET, "/__admin/customers?sort=desc")
        .await
        .error(400, "INVALID_QUERY");
    assert_eq!(fake.mock.store().customers(None).unwrap().len(), 1);
    fake.admin(Method::POST, "/__admin/reset?all=true&app=rk_test_key")
        .await
        .ok(200);
    assert!(fake.mock.store().customers(None).unwrap().is_empty());
}

#[tokio::test]
async fn request_ids_stay_unique_after_an_import_into_a_server_with_the_same_seed() {
    // Regression: B (same seed as A) handed out A's request ids again after importing A's
    // export, so B's drop log held one request id twice.
    let drop_once = |fake: &Fake| {
        let body = json!({"source_id": "f", "event_name": "signup", "metadata": {"referral_code": "NOPE"}});
        let request = fake.authed(Method::POST, "/events/invoke").json(&body);
        async move {
            send(request)
                .await
                .error(422, "REFERRAL_CODE_UNKNOWN")
                .clone()
        }
    };
    let a = Fake::with(MockRehook::builder().seed(1)).await;
    for _ in 0..5 {
        drop_once(&a).await;
    }
    let exported = a.admin_get("/__admin/state?secrets=true").await;
    let b = Fake::with(MockRehook::builder().seed(1)).await;
    import(&b, &exported).await.ok(200);
    drop_once(&b).await;
    b.admin(Method::POST, "/__admin/reset?all=true")
        .await
        .ok(200);
    import(&b, &exported).await.ok(200);
    drop_once(&b).await;
    let drops = b.admin_get("/__admin/drops").await;
    let ids: BTreeSet<&str> = drops
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 6, "{drops:#}");
}

/// Every admin route with a request that succeeds as it is: `(method, path, body)`, paths
/// without a query. The PUT bodies put back what is running (the config, the state).
async fn every_admin_route(fake: &Fake) -> Vec<(Method, &'static str, Option<Value>)> {
    let config = fake.admin_get("/__admin/config?secrets=true").await;
    let state = fake.state().await;
    vec![
        (Method::GET, "/__admin/health", None),
        (Method::GET, "/__admin/customers", None),
        (Method::GET, "/__admin/customers/u", None),
        (Method::GET, "/__admin/events", None),
        (Method::GET, "/__admin/drops", None),
        (Method::GET, "/__admin/deliveries", None),
        (Method::GET, "/__admin/requests", None),
        (Method::GET, "/__admin/unknown-sources", None),
        (Method::GET, "/__admin/config", None),
        (Method::GET, "/__admin/state", None),
        (Method::PUT, "/__admin/config", Some(config)),
        (Method::PUT, "/__admin/state", Some(state)),
        // Last: it empties the application the others read.
        (Method::POST, "/__admin/reset", None),
    ]
}

/// Send one of [`every_admin_route`]'s requests with `query` appended.
async fn admin_with_query(
    fake: &Fake,
    (method, path, body): &(Method, &'static str, Option<Value>),
    query: &str,
) -> crate::support::Reply {
    let mut request = fake.request(method.clone(), &format!("{path}{query}"));
    if let Some(body) = body {
        request = request.json(body);
    }
    send(request).await
}

#[tokio::test]
async fn every_admin_route_refuses_unknown_query_parameters_and_changes_nothing() {
    // Regression: only the routes that read a query refused unknown parameters;
    // `/__admin/health?bogus=1`, `/__admin/unknown-sources?ALL=true`, `PUT /__admin/config?bogus=1`
    // and `PUT /__admin/state?x=1` answered 200.
    let fake = Fake::with(two_apps()).await;
    fake.customer(json!({"source_id": "u"})).await;
    let before = fake.state().await;
    let routes = every_admin_route(&fake).await;
    for route in &routes {
        for query in [
            "?bogus=1",
            "?x=1",
            "?ALL=true",
            "?App=key_a",
            "?app=key_a&bogus=1",
            "?bogus",
        ] {
            let reply = admin_with_query(&fake, route, query).await;
            let error = reply.error(400, "INVALID_QUERY");
            assert_eq!(
                error["details"]["query"],
                json!(query.trim_start_matches('?')),
                "{} {}{query}",
                route.0,
                route.1
            );
        }
        // A parameter that cannot be read is refused the same way.
        admin_with_query(&fake, route, "?all=maybe")
            .await
            .error(400, "INVALID_QUERY");
    }
    assert_eq!(
        fake.state().await,
        before,
        "a refused query changes nothing"
    );
    // The same requests without the bad parameter succeed: the query was the only fault.
    for route in &routes {
        let reply = admin_with_query(&fake, route, "").await;
        assert_eq!(reply.status, 200, "{} {}: {reply:?}", route.0, route.1);
    }
}

#[tokio::test]
async fn every_admin_route_refuses_an_app_that_names_no_application() {
    // Regression: health, unknown-sources, config and state ignored `?app=` altogether, so a
    // typo in the key went unnoticed there.
    let fake = Fake::with(two_apps()).await;
    fake.customer(json!({"source_id": "u"})).await;
    let before = fake.state().await;
    let routes = every_admin_route(&fake).await;
    for route in &routes {
        for key in ["nope", "KEY_A", "key_a%20"] {
            let reply = admin_with_query(&fake, route, &format!("?app={key}")).await;
            let error = reply.error(404, "APP_NOT_FOUND");
            assert!(
                error["message"]
                    .as_str()
                    .unwrap()
                    .contains(key.trim_end_matches("%20")),
                "{} {}: {error}",
                route.0,
                route.1
            );
        }
    }
    // A config PUT that would change a setting changes nothing when its `?app=` is unknown.
    let change = json!({"applications": [{"api_key": "key_a", "drop_mode": "accept"}, {"api_key": "key_b"}]});
    send(
        fake.request(Method::PUT, "/__admin/config?app=nope")
            .json(&change),
    )
    .await
    .error(404, "APP_NOT_FOUND");
    assert_eq!(fake.state().await, before, "a refused app changes nothing");
}

#[tokio::test]
async fn server_wide_admin_routes_accept_a_known_app_and_ignore_it() {
    let fake = Fake::with(two_apps()).await;
    post_as(
        &fake,
        "key_b",
        "secret_b",
        "/customers",
        json!({"source_id": "b-1"}),
    )
    .await
    .ok(201);
    for path in [
        "/__admin/health",
        "/__admin/unknown-sources",
        "/__admin/config",
        "/__admin/config?secrets=true",
        "/__admin/state",
        "/__admin/state?secrets=true",
    ] {
        let plain = fake.admin_get(path).await;
        let separator = if path.contains('?') { '&' } else { '?' };
        for key in ["key_a", "key_b"] {
            assert_eq!(
                fake.admin_get(&format!("{path}{separator}app={key}")).await,
                plain,
                "{path} with app={key}"
            );
        }
    }
    let state = fake.state().await;
    let config = fake.admin_get("/__admin/config?secrets=true").await;
    let shown = send(
        fake.request(Method::PUT, "/__admin/config?app=key_b")
            .json(&config),
    )
    .await
    .ok(200)
    .clone();
    assert_eq!(shown, fake.admin_get("/__admin/config").await);
    send(
        fake.request(Method::PUT, "/__admin/state?app=key_b")
            .json(&state),
    )
    .await
    .ok(200);
    assert_eq!(
        fake.state().await,
        state,
        "the whole state was imported, not one application's"
    );
}

#[tokio::test]
async fn the_admin_token_is_checked_before_the_query() {
    let fake = Fake::with(MockRehook::builder().admin_token("t0ken")).await;
    for path in [
        "/__admin/health?bogus=1",
        "/__admin/health?app=nope",
        "/__admin/unknown-sources?ALL=true",
        "/__admin/customers?app=nope",
    ] {
        fake.admin(Method::GET, path)
            .await
            .error(401, "UNAUTHORIZED");
    }
    let with_token = |path: &str| {
        send(
            fake.request(Method::GET, path)
                .header("authorization", "Bearer t0ken"),
        )
    };
    with_token("/__admin/health?bogus=1")
        .await
        .error(400, "INVALID_QUERY");
    with_token("/__admin/health?app=nope")
        .await
        .error(404, "APP_NOT_FOUND");
    with_token("/__admin/health?app=rk_test_key").await.ok(200);
}

#[tokio::test]
async fn admin_401s_carry_a_bearer_challenge_and_the_scheme_name_is_matched_in_any_case() {
    let fake = Fake::with(MockRehook::builder().admin_token("t0ken")).await;
    for authorization in [
        None,
        Some("Bearer wrong"),
        Some("Basic dDBrZW46"),
        Some("Bearert0ken"),
    ] {
        let mut request = fake.request(Method::GET, "/__admin/customers");
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let reply = send(request).await;
        reply.error(401, "UNAUTHORIZED");
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Bearer realm=\"rehook-admin\""),
            "{authorization:?}"
        );
        assert_eq!(
            reply.headers.get_all("www-authenticate").iter().count(),
            1,
            "one challenge"
        );
    }
    let head = send(fake.request(Method::HEAD, "/__admin/health")).await;
    assert_eq!(head.status, 401);
    assert_eq!(
        head.header("www-authenticate"),
        Some("Bearer realm=\"rehook-admin\"")
    );
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let reply = send(
            fake.request(Method::GET, "/__admin/health")
                .header("authorization", format!("{scheme} t0ken")),
        )
        .await;
        assert_eq!(
            reply.ok(200),
            &json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}),
            "{scheme}"
        );
    }
}

#[tokio::test]
async fn unknown_sources_is_an_empty_json_array_and_answers_head() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "u"})).await;
    for path in ["/__admin/unknown-sources", "/__admin/deliveries"] {
        let get = fake.admin(Method::GET, path).await;
        assert_eq!(get.ok(200), &json!([]), "{path}");
        assert!(
            get.header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "{path}: {get:?}"
        );
        let head = fake.admin(Method::HEAD, path).await;
        assert_eq!(head.ok(200), &Value::Null, "HEAD {path} has no body");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "{path}"
        );
        assert_ne!(head.request_id(), get.request_id());
        let unknown = fake.admin(Method::HEAD, &format!("{path}?app=nope")).await;
        assert_eq!(unknown.status, 404, "HEAD {path}?app=nope: {unknown:?}");
        assert_eq!(unknown.body, Value::Null);
    }
}

/// A gzip stream that decodes to `mib` MiB of spaces, built from one compressed MiB repeated
/// (a sync-flushed deflate block sequence can be concatenated), so it stays small and cheap.
fn gzip_of_spaces(mib: usize) -> Vec<u8> {
    use std::io::Write;
    let spaces = vec![b' '; 1 << 20];
    let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    deflate.write_all(&spaces).expect("deflate into memory");
    deflate
        .flush()
        .expect("a sync flush ends on a byte boundary");
    let chunk = deflate.get_ref().clone();
    let mut crc = flate2::Crc::new();
    let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    for _ in 0..mib {
        gz.extend_from_slice(&chunk);
        crc.update(&spaces);
    }
    // The final block: fixed Huffman, empty.
    gz.extend_from_slice(&[0x03, 0x00]);
    gz.extend_from_slice(&crc.sum().to_le_bytes());
    gz.extend_from_slice(&((mib << 20) as u32).to_le_bytes());
    gz
}

#[tokio::test]
async fn state_imports_over_256_mib_decoded_are_413_and_change_nothing() {
    let fake = populated(MockRehook::builder()).await;
    let before = fake.state().await;
    let bomb = gzip_of_spaces(257);
    assert!(bomb.len() < 512 * 1024, "a small body: {}", bomb.len());
    let reply = send(
        fake.request(Method::PUT, "/__admin/state")
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(bomb),
    )
    .await;
    let error = reply.error(413, "PAYLOAD_TOO_LARGE");
    assert!(
        error["message"].as_str().unwrap().contains("268435456"),
        "the message names the limit: {error}"
    );
    assert_eq!(fake.state().await, before);
}

#[tokio::test]
async fn a_plain_state_document_over_8_mib_imports() {
    // Regression: inside the nested admin router the body reader saw `/state`, not
    // `/__admin/state`, and held plain (not gzip) imports to the 8 MiB read cap.
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "big"})).await;
    let mut doc = fake.state().await;
    doc["data"]["rk_test_key"]["customers"][0]["metadata"] =
        json!({"blob": "x".repeat(10 * 1024 * 1024)});
    import(&fake, &doc).await.ok(200);
    assert_eq!(fake.state().await, doc);
}

#[tokio::test]
async fn the_journal_shows_the_size_of_a_body_refused_as_too_large() {
    let fake = Fake::start().await;
    send(
        fake.authed(Method::POST, "/customers")
            .header("content-type", "application/json")
            .body(vec![b' '; 9 * 1024 * 1024]),
    )
    .await
    .error(413, "PAYLOAD_TOO_LARGE");
    let journal = fake.admin_get("/__admin/requests").await;
    assert_eq!(
        journal[0]["body"]["omitted"],
        "larger than the journal keeps"
    );
    assert!(journal[0]["body"]["bytes"].as_u64().unwrap() >= 8 * 1024 * 1024);
}

#[tokio::test]
async fn each_admin_route_refuses_the_parameters_of_other_routes_in_our_words() {
    // Regression: `GET /__admin/deliveries?source_id=x` was answered as if unfiltered, and
    // refusals said "Failed to deserialize query string: ...".
    let fake = Fake::with(two_apps()).await;
    fake.customer(json!({"source_id": "u"})).await;
    let routes = every_admin_route(&fake).await;
    let takes = |method: &Method, path: &str| -> &'static [&'static str] {
        match (method.as_str(), path) {
            ("GET", "/__admin/events" | "/__admin/drops") => &["source_id"],
            ("GET", "/__admin/deliveries") => &["after"],
            ("POST", "/__admin/reset") => &["all"],
            ("GET", "/__admin/config" | "/__admin/state") => &["secrets"],
            _ => &[],
        }
    };
    for route in &routes {
        for (parameter, query) in [
            ("source_id", "?source_id=u"),
            ("after", "?after=0"),
            ("all", "?all=false"),
            ("secrets", "?secrets=false"),
        ] {
            let reply = admin_with_query(&fake, route, query).await;
            let what = format!("{} {}{query}", route.0, route.1);
            if takes(&route.0, route.1).contains(&parameter) {
                assert_eq!(reply.status, 200, "{what}: {reply:?}");
                continue;
            }
            let error = reply.error(400, "INVALID_QUERY");
            assert_eq!(error["details"]["parameter"], parameter, "{what}");
            let message = error["message"].as_str().unwrap();
            assert!(
                message.contains(parameter) && message.contains(route.1),
                "{what}: {message}"
            );
            assert!(!message.contains("deserialize"), "{what}: {message}");
        }
    }
    for (path, parameter) in [
        ("/__admin/reset?all=maybe", "all"),
        ("/__admin/reset?all=true&all=true", "all"),
    ] {
        let error = fake.admin(Method::POST, path).await;
        let error = error.error(400, "INVALID_QUERY");
        assert_eq!(error["details"]["parameter"], parameter, "{path}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(parameter), "{message}");
        assert!(!message.contains("deserialize"), "{message}");
    }
}

/// A delivery-log entry for a hand-made state document.
fn delivery(
    message_id: Option<&str>,
    message_type: Option<&str>,
    action: Option<&str>,
    outcome: &str,
    status: Option<u16>,
    reason: Option<&str>,
) -> Value {
    json!({"message_id": message_id, "type": message_type, "action": action, "outcome": outcome,
           "status": status, "reason": reason, "at": "2026-12-04T00:00:00.000Z"})
}

/// A state document of the default application holding only `deliveries` and `seen`, with
/// custom `mappings` when given.
fn deliveries_state(deliveries: Vec<Value>, seen: &[&str], mappings: Option<Value>) -> Value {
    let mut app = json!({"api_key": "rk_test_key", "api_secret": "rk_test_secret",
                         "write_keys": ["wk_test"]});
    if let Some(mappings) = mappings {
        app["mappings"] = mappings;
    }
    json!({"format": "rehook-mock-state/1", "config": {"applications": [app]},
           "data": {"rk_test_key": {"customers": [], "referrals": [], "events": [], "drops": [],
                                    "deliveries": deliveries, "seen_message_ids": seen}}})
}

/// `n` enabled Track Event mappings firing on every track.
fn track_mappings(n: usize) -> Value {
    json!(
        (0..n)
            .map(
                |i| json!({"name": format!("m{i}"), "subscribe": "type = \"track\"",
                        "action": "track_event",
                        "mapping": {"event_name": {"@path": "$.event"},
                                    "source_id": {"@path": "$.userId"}}})
            )
            .collect::<Vec<_>>()
    )
}

#[tokio::test]
async fn state_imports_take_every_delivery_entry_the_front_door_can_write() {
    let fake = Fake::start().await;
    let good = vec![
        delivery(
            Some("m1"),
            Some("identify"),
            Some("identify_user"),
            "delivered",
            Some(201),
            None,
        ),
        delivery(
            Some("m2"),
            Some("identify"),
            Some("identify_user"),
            "delivered",
            Some(200),
            None,
        ),
        delivery(
            Some("m3"),
            Some("track"),
            Some("track_event"),
            "delivered",
            Some(200),
            None,
        ),
        delivery(Some("m4"), Some("page"), None, "filtered", None, None),
        delivery(
            Some("m5"),
            Some("identify"),
            None,
            "filtered",
            None,
            Some("integrations_disabled"),
        ),
        delivery(
            None,
            Some("track"),
            None,
            "dropped",
            None,
            Some("missing_identity"),
        ),
        delivery(
            Some("x"),
            Some("track"),
            None,
            "dropped",
            None,
            Some("missing_event_name"),
        ),
        delivery(None, None, None, "dropped", None, Some("invalid_type")),
        delivery(
            None,
            Some("Identify"),
            None,
            "dropped",
            None,
            Some("invalid_type"),
        ),
        delivery(
            Some("m1"),
            Some("identify"),
            None,
            "dropped",
            None,
            Some("duplicate_message_id"),
        ),
        delivery(
            None,
            Some("track"),
            Some("track_event"),
            "dropped",
            None,
            Some("anonymous_only"),
        ),
        delivery(
            Some("m6"),
            Some("identify"),
            Some("identify_user"),
            "dropped",
            Some(409),
            Some("REFERRAL_CODE_TAKEN"),
        ),
        delivery(
            Some("m7"),
            Some("track"),
            Some("track_event"),
            "dropped",
            Some(200),
            Some("SELF_REFERRAL"),
        ),
        delivery(
            Some("m8"),
            Some("identify"),
            Some("identify_user"),
            "dropped",
            Some(400),
            Some("INVALID_REFERRAL_CODE"),
        ),
    ];
    let seen = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"];
    let doc = deliveries_state(good.clone(), &seen, None);
    import(&fake, &doc).await.ok(200);
    assert_eq!(
        fake.state().await["data"]["rk_test_key"]["deliveries"],
        json!(good)
    );
    // Two mappings that both fire write two entries for one message.
    let twice = vec![
        delivery(
            Some("t"),
            Some("track"),
            Some("track_event"),
            "delivered",
            Some(200),
            None,
        ),
        delivery(
            Some("t"),
            Some("track"),
            Some("track_event"),
            "delivered",
            Some(200),
            None,
        ),
    ];
    import(
        &fake,
        &deliveries_state(twice, &["t"], Some(track_mappings(2))),
    )
    .await
    .ok(200);
}

/// What a refused import holds: what it shows, the delivery log, the seen messageIds and
/// custom mappings.
type ImportCase = (&'static str, Vec<Value>, Vec<&'static str>, Option<Value>);

#[tokio::test]
async fn state_imports_refuse_delivery_entries_the_front_door_could_never_write() {
    // Regression: each of these was imported with 200.
    let fake = Fake::start().await;
    let before = fake.state().await;
    let delivered = |id: &str| {
        delivery(
            Some(id),
            Some("track"),
            Some("track_event"),
            "delivered",
            Some(200),
            None,
        )
    };
    let cases: Vec<ImportCase> = vec![
        (
            "identify with action track_event (default mappings)",
            vec![delivery(
                Some("m"),
                Some("identify"),
                Some("track_event"),
                "delivered",
                Some(200),
                None,
            )],
            vec!["m"],
            None,
        ),
        (
            "a page with an action (default mappings)",
            vec![delivery(
                Some("m"),
                Some("page"),
                Some("track_event"),
                "delivered",
                Some(200),
                None,
            )],
            vec!["m"],
            None,
        ),
        (
            "an unknown action",
            vec![delivery(
                Some("m"),
                Some("track"),
                Some("send_email"),
                "delivered",
                Some(200),
                None,
            )],
            vec!["m"],
            None,
        ),
        (
            "a drop with an unknown reason",
            vec![delivery(
                Some("m"),
                Some("track"),
                None,
                "dropped",
                None,
                Some("NOPE"),
            )],
            vec![],
            None,
        ),
        (
            "a Rehook code with another rule's status",
            vec![delivery(
                Some("m"),
                Some("identify"),
                Some("identify_user"),
                "dropped",
                Some(422),
                Some("REFERRAL_CODE_TAKEN"),
            )],
            vec!["m"],
            None,
        ),
        (
            "a conversion code refusal of an identify",
            vec![delivery(
                Some("m"),
                Some("identify"),
                Some("identify_user"),
                "dropped",
                Some(422),
                Some("SELF_REFERRAL"),
            )],
            vec!["m"],
            None,
        ),
        (
            "an ingestion reason with an action",
            vec![delivery(
                Some("m"),
                Some("track"),
                Some("track_event"),
                "dropped",
                None,
                Some("missing_identity"),
            )],
            vec!["m"],
            None,
        ),
        (
            "a mapping reason without an action",
            vec![delivery(
                None,
                Some("track"),
                None,
                "dropped",
                None,
                Some("anonymous_only"),
            )],
            vec![],
            None,
        ),
        (
            "invalid_type of a known type",
            vec![delivery(
                None,
                Some("track"),
                None,
                "dropped",
                None,
                Some("invalid_type"),
            )],
            vec![],
            None,
        ),
        (
            "a delivered identify answered 204",
            vec![delivery(
                Some("m"),
                Some("identify"),
                Some("identify_user"),
                "delivered",
                Some(204),
                None,
            )],
            vec!["m"],
            None,
        ),
        (
            "a delivered message with a reason",
            vec![delivery(
                Some("m"),
                Some("track"),
                Some("track_event"),
                "delivered",
                Some(200),
                Some("x"),
            )],
            vec!["m"],
            None,
        ),
        (
            "a filtered message with another reason",
            vec![delivery(
                Some("m"),
                Some("page"),
                None,
                "filtered",
                None,
                Some("not_subscribed"),
            )],
            vec!["m"],
            None,
        ),
        (
            "the same messageId delivered twice (default mappings)",
            vec![delivered("m"), delivered("m")],
            vec!["m"],
            None,
        ),
        (
            "one messageId delivered three times with two mappings",
            vec![delivered("m"), delivered("m"), delivered("m")],
            vec!["m"],
            Some(track_mappings(2)),
        ),
        (
            "one messageId filtered and delivered",
            vec![
                delivery(Some("m"), Some("track"), None, "filtered", None, None),
                delivered("m"),
            ],
            vec!["m"],
            Some(track_mappings(2)),
        ),
        (
            "a duplicate drop of a messageId never seen",
            vec![delivery(
                Some("m"),
                Some("track"),
                None,
                "dropped",
                None,
                Some("duplicate_message_id"),
            )],
            vec![],
            None,
        ),
        (
            "a messageId of \"\"",
            vec![delivery(
                Some(""),
                Some("page"),
                None,
                "filtered",
                None,
                None,
            )],
            vec![""],
            None,
        ),
        ("\"\" among the seen messageIds", vec![], vec![""], None),
    ];
    for (what, deliveries, seen, mappings) in cases {
        let reply = import(&fake, &deliveries_state(deliveries, &seen, mappings)).await;
        assert_eq!(reply.body["code"], "INVALID_STATE", "{what}: {reply:?}");
        reply.error(400, "INVALID_STATE");
    }
    assert_eq!(fake.state().await, before);
}

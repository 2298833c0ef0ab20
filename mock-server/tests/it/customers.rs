//! Contract 2.2 to 2.6: upsert, input coercion, referral codes, lookups, referral lists, and
//! reproducible ids with a seed.

use std::collections::{BTreeMap, BTreeSet};

use rehook_mock::{AppConfig, MockRehook};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{
    Fake, basic, is_generated_code, is_id, is_utc_timestamp, send, sorted_keys, without_drops,
};

/// The nine keys of a customer object.
const CUSTOMER_KEYS: [&str; 9] = [
    "created_at",
    "id",
    "metadata",
    "referral_code",
    "referral_count",
    "referral_link",
    "referred_by",
    "source_id",
    "updated_at",
];

#[track_caller]
fn assert_customer_shape(customer: &Value) {
    let keys = sorted_keys(customer);
    assert_eq!(keys, CUSTOMER_KEYS, "{customer}");
    assert!(
        is_id(customer["id"].as_str().unwrap(), "cust_"),
        "{customer}"
    );
    assert!(customer["metadata"].is_object(), "{customer}");
    assert!(
        is_utc_timestamp(customer["created_at"].as_str().unwrap()),
        "{customer}"
    );
    assert!(
        is_utc_timestamp(customer["updated_at"].as_str().unwrap()),
        "{customer}"
    );
    assert_eq!(
        customer["referral_link"],
        format!(
            "https://rehook.test/r/{}",
            customer["referral_code"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn upsert_creates_with_201_then_updates_with_200() {
    let fake = Fake::start().await;
    let created = fake
        .upsert(json!({"source_id": "u-1", "metadata": {"plan": "pro"}, "ignored": [1, 2]}))
        .await;
    let created = created.ok(201).clone();
    assert_customer_shape(&created);
    assert_eq!(created["source_id"], "u-1");
    assert!(is_generated_code(
        created["referral_code"].as_str().unwrap()
    ));
    assert_eq!(created["metadata"], json!({"plan": "pro"}));
    assert_eq!(created["referral_count"], 0);
    assert_eq!(created["referred_by"], Value::Null);
    assert_eq!(created["created_at"], created["updated_at"]);

    let updated = fake
        .upsert(json!({"source_id": "u-1", "metadata": {"seats": 3}}))
        .await;
    let updated = updated.ok(200).clone();
    assert_customer_shape(&updated);
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["referral_code"], created["referral_code"]);
    assert_eq!(updated["created_at"], created["created_at"]);
    assert_eq!(updated["metadata"], json!({"plan": "pro", "seats": 3}));
    assert!(updated["updated_at"].as_str() >= created["updated_at"].as_str());

    assert_eq!(fake.get("/customers/u-1").await.ok(200), &updated);
    let stored = fake.mock.store().customer(None, "u-1").unwrap().unwrap();
    assert_eq!(json!(stored), updated);
    assert_eq!(fake.mock.store().customers(None).unwrap().len(), 1);
}

#[tokio::test]
async fn metadata_is_merged_shallowly_and_null_values_are_stored() {
    let fake = Fake::start().await;
    let created = fake
        .customer(json!({"source_id": "u-1", "metadata": {"a": 1, "b": {"x": 1, "y": 2}, "c": "keep me?"}}))
        .await;
    assert_eq!(
        created["metadata"],
        json!({"a": 1, "b": {"x": 1, "y": 2}, "c": "keep me?"})
    );
    let updated = fake
        .upsert(json!({"source_id": "u-1", "metadata": {"b": {"y": 3}, "c": null, "d": false}}))
        .await;
    let expected = json!({"a": 1, "b": {"y": 3}, "c": null, "d": false});
    assert_eq!(updated.ok(200)["metadata"], expected);
    for no_properties in [
        json!({"source_id": "u-1"}),
        json!({"source_id": "u-1", "metadata": null}),
        json!({"source_id": "u-1", "metadata": {}}),
    ] {
        let reply = fake.upsert(no_properties.clone()).await;
        assert_eq!(reply.ok(200)["metadata"], expected, "{no_properties}");
    }
    let admin = fake.admin_get("/__admin/customers/u-1").await;
    assert_eq!(admin["metadata"], expected);
}

#[tokio::test]
async fn metadata_is_an_empty_object_when_never_sent() {
    let fake = Fake::start().await;
    for body in [
        json!({"source_id": "a"}),
        json!({"source_id": "b", "metadata": null}),
    ] {
        assert_eq!(fake.upsert(body).await.ok(201)["metadata"], json!({}));
    }
}

#[tokio::test]
async fn numeric_source_ids_are_stored_as_javascript_would_write_them() {
    let fake = Fake::start().await;
    let cases = [
        ("4021", "4021", 201),
        ("4021.0", "4021", 200),
        ("4.021e3", "4021", 200),
        ("4021.5", "4021.5", 201),
        ("1e21", "1e+21", 201),
        ("1000000000000000000000", "1e+21", 200),
        ("123456789012345680000", "123456789012345680000", 201),
        ("0.000001", "0.000001", 201),
        ("1e-7", "1e-7", 201),
        ("-0", "0", 201),
        ("-12", "-12", 201),
        ("18446744073709551615", "18446744073709552000", 201),
    ];
    for (literal, text, status) in cases {
        let body = format!(r#"{{"source_id": {literal}}}"#);
        let reply = send(fake.authed(Method::POST, "/customers").body(body)).await;
        assert_eq!(
            (reply.status, reply.body["source_id"].as_str()),
            (status, Some(text)),
            "{literal}: {reply:?}"
        );
    }
    fake.get("/customers/4021").await.ok(200);
    fake.get("/customers/1e+21").await.ok(200);
}

#[tokio::test]
async fn source_ids_keep_their_white_space_and_case() {
    let fake = Fake::start().await;
    fake.upsert(json!({"source_id": " u-1 "})).await.ok(201);
    fake.upsert(json!({"source_id": "u-1"})).await.ok(201);
    fake.upsert(json!({"source_id": "U-1"})).await.ok(201);
    let reply = fake.get("/customers/%20u-1%20").await;
    assert_eq!(reply.ok(200)["source_id"], " u-1 ");
    assert_eq!(fake.mock.store().customers(None).unwrap().len(), 3);
}

#[tokio::test]
async fn bad_fields_are_400_with_their_own_code_and_change_nothing() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "u-1"})).await;
    let before = fake.state().await;
    let cases = [
        (json!({}), "SOURCE_ID_REQUIRED"),
        (json!({"source_id": null}), "SOURCE_ID_REQUIRED"),
        (json!({"source_id": ""}), "SOURCE_ID_REQUIRED"),
        (json!({"source_id": "   "}), "SOURCE_ID_REQUIRED"),
        (
            json!({"source_id": "\t\n\u{00A0}\u{2003}\u{3000}"}),
            "SOURCE_ID_REQUIRED",
        ),
        (json!({"metadata": {"a": 1}}), "SOURCE_ID_REQUIRED"),
        (json!({"source_id": true}), "INVALID_SOURCE_ID"),
        (json!({"source_id": false}), "INVALID_SOURCE_ID"),
        (json!({"source_id": {}}), "INVALID_SOURCE_ID"),
        (json!({"source_id": {"id": "u-1"}}), "INVALID_SOURCE_ID"),
        (json!({"source_id": []}), "INVALID_SOURCE_ID"),
        (json!({"source_id": ["u-1"]}), "INVALID_SOURCE_ID"),
        (
            json!({"source_id": "u-1", "metadata": 1}),
            "INVALID_METADATA",
        ),
        (
            json!({"source_id": "u-1", "metadata": "a=1"}),
            "INVALID_METADATA",
        ),
        (
            json!({"source_id": "u-1", "metadata": []}),
            "INVALID_METADATA",
        ),
        (
            json!({"source_id": "u-1", "metadata": [{"a": 1}]}),
            "INVALID_METADATA",
        ),
        (
            json!({"source_id": "u-1", "metadata": true}),
            "INVALID_METADATA",
        ),
        (
            json!({"source_id": "u-1", "referral_code": "x".repeat(65)}),
            "INVALID_REFERRAL_CODE",
        ),
        (
            json!({"source_id": "u-1", "referral_code": "A B"}),
            "INVALID_REFERRAL_CODE",
        ),
        (
            json!({"source_id": "u-1", "referral_code": " AB"}),
            "INVALID_REFERRAL_CODE",
        ),
        (
            json!({"source_id": "u-1", "referral_code": "AB\n"}),
            "INVALID_REFERRAL_CODE",
        ),
        (
            json!({"source_id": "u-1", "referral_code": "A\tB"}),
            "INVALID_REFERRAL_CODE",
        ),
        (
            json!({"source_id": "u-1", "referral_code": " "}),
            "INVALID_REFERRAL_CODE",
        ),
        (
            json!({"source_id": "u-1", "referral_code": "A\u{3000}B"}),
            "INVALID_REFERRAL_CODE",
        ),
        (
            json!({"source_id": "u-1", "referral_code": "A\u{0007}B"}),
            "INVALID_REFERRAL_CODE",
        ),
        (
            json!({"source_id": "u-1", "referral_code": "A\u{0000}"}),
            "INVALID_REFERRAL_CODE",
        ),
        (
            json!({"source_id": "u-1", "referral_code": "A\u{007F}"}),
            "INVALID_REFERRAL_CODE",
        ),
        (
            json!({"source_id": "u-1", "referral_code": "A\u{0085}"}),
            "INVALID_REFERRAL_CODE",
        ),
        (
            json!({"source_id": "u-1", "referral_code": {}}),
            "INVALID_REFERRAL_CODE",
        ),
        (
            json!({"source_id": "u-1", "referral_code": ["AB"]}),
            "INVALID_REFERRAL_CODE",
        ),
    ];
    for (body, code) in cases {
        let reply = fake.upsert(body.clone()).await;
        assert_eq!(reply.body["code"], code, "{body}: {reply:?}");
        let error = reply.error(400, code);
        let field = match code {
            "SOURCE_ID_REQUIRED" | "INVALID_SOURCE_ID" => "source_id",
            "INVALID_METADATA" => "metadata",
            _ => "referral_code",
        };
        assert!(
            error["message"].as_str().unwrap().contains(field),
            "the message names {field}: {error}"
        );
    }
    assert_eq!(
        fake.state().await,
        before,
        "400s change nothing, not even the drop log"
    );
}

#[tokio::test]
async fn referral_codes_are_taken_as_text_and_up_to_64_characters() {
    let fake = Fake::start().await;
    let cases = [
        (json!("KBLGPN"), "KBLGPN"),
        (json!("Mixed-Case_Code.1"), "Mixed-Case_Code.1"),
        (json!(12345), "12345"),
        (json!(678.0), "678"),
        (json!(1.5), "1.5"),
        (json!(1e21), "1e+21"),
        (json!(true), "true"),
        (json!(false), "false"),
        (json!("x".repeat(64)), &"x".repeat(64)),
        (json!("é".repeat(64)), &"é".repeat(64)),
        (json!("🎉✓"), "🎉✓"),
    ];
    for (i, (sent, stored)) in cases.into_iter().enumerate() {
        let reply = fake
            .upsert(json!({"source_id": format!("u-{i}"), "referral_code": sent}))
            .await;
        assert_eq!(reply.ok(201)["referral_code"], stored, "{sent}");
        let path = format!("/customers/validate-code/{}", urlencode(stored));
        assert_eq!(fake.get(&path).await.ok(200)["source_id"], format!("u-{i}"));
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn no_code_sent_means_a_generated_one_of_six_letters() {
    let fake = Fake::start().await;
    let mut codes = BTreeSet::new();
    for (i, code) in [None, Some(Value::Null), Some(json!(""))]
        .into_iter()
        .cycle()
        .take(60)
        .enumerate()
    {
        let mut body = json!({"source_id": format!("u-{i}")});
        if let Some(code) = code {
            body["referral_code"] = code;
        }
        let reply = fake.upsert(body).await;
        let code = reply.ok(201)["referral_code"].as_str().unwrap().to_owned();
        assert!(is_generated_code(&code), "{code}");
        assert!(codes.insert(code), "generated codes are unique");
    }
    let before = fake.customer(json!({"source_id": "u-0"})).await;
    for keep in [
        json!({"source_id": "u-0", "referral_code": null}),
        json!({"source_id": "u-0", "referral_code": ""}),
    ] {
        let after = fake.upsert(keep).await;
        assert_eq!(
            after.ok(200)["referral_code"],
            before["referral_code"],
            "no code sent, no change"
        );
    }
}

#[tokio::test]
async fn identify_with_taken_code_changes_nothing() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "owner", "referral_code": "TAKEN"}))
        .await;
    let other = fake
        .customer(json!({"source_id": "other", "metadata": {"plan": "free"}}))
        .await;
    let before = fake.state().await;

    let create = fake
        .upsert(json!({"source_id": "newcomer", "referral_code": "TAKEN", "metadata": {"a": 1}}))
        .await;
    create.error(409, "REFERRAL_CODE_TAKEN");
    let update = fake
        .upsert(
            json!({"source_id": "other", "referral_code": "TAKEN", "metadata": {"plan": "pro"}}),
        )
        .await;
    update.error(409, "REFERRAL_CODE_TAKEN");

    assert_eq!(fake.stored().await, without_drops(before));
    fake.get("/customers/newcomer")
        .await
        .error(404, "CUSTOMER_NOT_FOUND");
    assert_eq!(fake.get("/customers/other").await.ok(200), &other);
    assert_eq!(
        fake.get("/customers/validate-code/TAKEN").await.ok(200)["source_id"],
        "owner"
    );
    let drops = fake.mock.store().drops(None).unwrap();
    assert_eq!(drops.len(), 2);
    for (drop, (reply, body)) in drops.iter().zip([
        (
            &create,
            json!({"source_id": "newcomer", "referral_code": "TAKEN", "metadata": {"a": 1}}),
        ),
        (
            &update,
            json!({"source_id": "other", "referral_code": "TAKEN", "metadata": {"plan": "pro"}}),
        ),
    ]) {
        assert_eq!(drop.request_id, reply.request_id());
        assert_eq!(drop.layer, "rehook");
        assert_eq!(drop.endpoint, "POST /customers");
        assert_eq!(drop.reason, "REFERRAL_CODE_TAKEN");
        assert_eq!(drop.status, 409);
        assert_eq!(drop.body, body);
        assert!(is_utc_timestamp(&drop.at));
    }
}

#[tokio::test]
async fn sending_the_customers_own_code_is_no_change_and_no_conflict() {
    let fake = Fake::start().await;
    let created = fake
        .customer(json!({"source_id": "u-1", "referral_code": "MINE"}))
        .await;
    let again = fake
        .upsert(json!({"source_id": "u-1", "referral_code": "MINE", "metadata": {"k": 1}}))
        .await;
    let again = again.ok(200);
    assert_eq!(again["referral_code"], "MINE");
    assert_eq!(again["id"], created["id"]);
    assert_eq!(again["metadata"], json!({"k": 1}));
    let generated = fake.customer(json!({"source_id": "u-2"})).await;
    let code = generated["referral_code"].clone();
    let again = fake
        .upsert(json!({"source_id": "u-2", "referral_code": code}))
        .await;
    assert_eq!(again.ok(200)["referral_code"], code);
    assert!(fake.mock.store().drops(None).unwrap().is_empty());
}

#[tokio::test]
async fn a_replaced_code_is_freed_and_can_be_claimed_again() {
    let fake = Fake::start().await;
    let first = fake.customer(json!({"source_id": "u-1"})).await;
    let old = first["referral_code"].as_str().unwrap().to_owned();
    let replaced = fake
        .upsert(json!({"source_id": "u-1", "referral_code": "NEWCODE"}))
        .await;
    let replaced = replaced.ok(200);
    assert_eq!(replaced["referral_code"], "NEWCODE");
    assert_eq!(replaced["referral_link"], "https://rehook.test/r/NEWCODE");
    fake.get(&format!("/customers/validate-code/{old}"))
        .await
        .error(404, "REFERRAL_CODE_NOT_FOUND");
    assert_eq!(
        fake.get("/customers/validate-code/NEWCODE").await.ok(200)["source_id"],
        "u-1"
    );
    let claimed = fake
        .upsert(json!({"source_id": "u-2", "referral_code": old}))
        .await;
    assert_eq!(claimed.ok(201)["referral_code"], old.as_str());
    let back = fake
        .upsert(json!({"source_id": "u-1", "referral_code": old}))
        .await;
    back.error(409, "REFERRAL_CODE_TAKEN");
    let swap = fake
        .upsert(json!({"source_id": "u-2", "referral_code": "THIRD"}))
        .await;
    swap.ok(200);
    let back = fake
        .upsert(json!({"source_id": "u-1", "referral_code": old}))
        .await;
    assert_eq!(back.ok(200)["referral_code"], old.as_str());
    fake.get("/customers/validate-code/NEWCODE")
        .await
        .error(404, "REFERRAL_CODE_NOT_FOUND");
}

#[tokio::test]
async fn codes_match_exactly_by_case() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "u-1", "referral_code": "AbCdEf"}))
        .await;
    for other in ["abcdef", "ABCDEF", "AbCdEf "] {
        fake.get(&format!("/customers/validate-code/{}", urlencode(other)))
            .await
            .error(404, "REFERRAL_CODE_NOT_FOUND");
    }
    let upper = fake
        .upsert(json!({"source_id": "u-2", "referral_code": "ABCDEF"}))
        .await;
    assert_eq!(upper.ok(201)["referral_code"], "ABCDEF");
    assert_eq!(
        fake.get("/customers/validate-code/AbCdEf").await.ok(200)["source_id"],
        "u-1"
    );
}

#[tokio::test]
async fn customers_are_found_by_source_id_then_by_id_with_get_or_post() {
    let fake = Fake::start().await;
    let created = fake
        .customer(json!({"source_id": "u-1", "metadata": {"k": "v"}}))
        .await;
    let id = created["id"].as_str().unwrap();
    for method in [Method::GET, Method::POST] {
        for key in ["u-1", id] {
            let reply = send(fake.authed(method.clone(), &format!("/customers/{key}"))).await;
            assert_eq!(reply.ok(200), &created, "{method} {key}");
        }
        let missing = send(fake.authed(method.clone(), "/customers/u-2")).await;
        let error = missing.error(404, "CUSTOMER_NOT_FOUND");
        assert!(
            error["message"].as_str().unwrap().contains("u-2"),
            "{error}"
        );
        send(fake.authed(method, "/customers/cust_000000000000000000000"))
            .await
            .error(404, "CUSTOMER_NOT_FOUND");
    }
}

#[tokio::test]
async fn validate_code_answers_the_advocate_or_404() {
    let fake = Fake::start().await;
    let advocate = fake
        .customer(json!({"source_id": "adv", "referral_code": "GOOD"}))
        .await;
    for method in [Method::GET, Method::POST] {
        let reply = send(fake.authed(method.clone(), "/customers/validate-code/GOOD")).await;
        assert_eq!(reply.ok(200), &advocate);
        let missing = send(fake.authed(method, "/customers/validate-code/NOPE")).await;
        missing.error(404, "REFERRAL_CODE_NOT_FOUND");
    }
}

#[tokio::test]
async fn referral_lists_are_oldest_referral_first() {
    let fake = Fake::start().await;
    let advocate = fake
        .customer(json!({"source_id": "adv", "referral_code": "ADV"}))
        .await;
    fake.customer(json!({"source_id": "f-1"})).await;
    for friend in ["f-3", "f-1", "f-2"] {
        fake.convert(friend, "ADV").await;
    }
    fake.customer(json!({"source_id": "f-1", "metadata": {"touched": true}}))
        .await;
    for path in ["/customers/referral/list/adv", "/customers/referrals/adv"] {
        let list = fake.get(path).await;
        let list = list.ok(200).as_array().unwrap().clone();
        let order: Vec<&str> = list
            .iter()
            .map(|c| c["source_id"].as_str().unwrap())
            .collect();
        assert_eq!(order, ["f-3", "f-1", "f-2"], "{path}");
        for friend in &list {
            assert_customer_shape(friend);
            assert_eq!(friend["referred_by"], "adv");
            assert_eq!(
                friend,
                fake.get(&format!(
                    "/customers/{}",
                    friend["source_id"].as_str().unwrap()
                ))
                .await
                .ok(200)
            );
        }
    }
    let advocate_now = fake.get("/customers/adv").await.ok(200).clone();
    assert_eq!(advocate_now["referral_count"], 3);
    assert_eq!(advocate_now["id"], advocate["id"]);
    assert_eq!(
        fake.get("/customers/referral/list/f-1").await.ok(200),
        &json!([])
    );
    fake.get("/customers/referral/list/nobody")
        .await
        .error(404, "CUSTOMER_NOT_FOUND");
    fake.get("/customers/referrals/nobody")
        .await
        .error(404, "CUSTOMER_NOT_FOUND");
}

/// The same calls against a fresh fake seeded with `seed`; every generated value in order.
async fn generated_values(seed: u64) -> Vec<String> {
    let fake = Fake::with(MockRehook::builder().seed(seed)).await;
    let mut values = Vec::new();
    let mut take = |reply: &crate::support::Reply, fields: &[&str]| {
        values.push(reply.request_id().to_owned());
        for field in fields {
            let pointer = format!("/{}", field.replace('.', "/"));
            values.push(
                reply
                    .body
                    .pointer(&pointer)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    };
    let adv = fake.upsert(json!({"source_id": "adv"})).await;
    take(&adv, &["id", "referral_code"]);
    let code = adv.body["referral_code"].as_str().unwrap().to_owned();
    take(
        &fake
            .upsert(json!({"source_id": "b", "referral_code": "GIVEN"}))
            .await,
        &["id"],
    );
    let conversion =
        json!({"event_name": "signup", "source_id": "friend", "metadata": {"referral_code": code}});
    take(&fake.invoke(conversion).await, &["event.id"]);
    take(
        &fake.get("/customers/friend").await,
        &["id", "referral_code"],
    );
    take(
        &fake
            .invoke(json!({"event_name": "e", "source_id": "adv"}))
            .await,
        &["event.id"],
    );
    values
}

#[tokio::test]
async fn the_same_seed_and_calls_give_the_same_ids_and_codes() {
    let first = generated_values(42).await;
    assert_eq!(first, generated_values(42).await);
    assert_ne!(first, generated_values(43).await);
    assert!(
        is_id(&first[1], "cust_") && is_generated_code(&first[2]),
        "{first:?}"
    );
}

/// What the applications `key_a` and `key_b` of one fake seeded with `seed` generate when
/// only the listed ones are called, in an interleaved order: per application, every
/// generated customer id, code and event id in order (request ids are a server-wide stream
/// and left out).
async fn generated_per_app(seed: u64, called: &[&str]) -> BTreeMap<String, Vec<String>> {
    let fake = Fake::with(
        MockRehook::builder()
            .seed(seed)
            .app(AppConfig::new("key_a", "secret_a"))
            .app(AppConfig::new("key_b", "secret_b")),
    )
    .await;
    let post = |key: &str, path: &str, body: Value| {
        let request = fake
            .request(Method::POST, path)
            .header("authorization", basic(key, &key.replace("key", "secret")))
            .json(&body);
        async move { send(request).await }
    };
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for round in 0..4 {
        for key in called {
            let generated = values.entry((*key).to_owned()).or_default();
            let customer = post(
                key,
                "/customers",
                json!({"source_id": format!("u-{round}")}),
            )
            .await;
            let customer = customer.ok(201);
            generated.push(customer["id"].as_str().unwrap().to_owned());
            generated.push(customer["referral_code"].as_str().unwrap().to_owned());
            let code = customer["referral_code"].as_str().unwrap().to_owned();
            let conversion = json!({"event_name": "signup", "source_id": format!("f-{round}"), "metadata": {"referral_code": code}});
            let event = post(key, "/events/invoke", conversion).await;
            generated.push(event.ok(200)["event"]["id"].as_str().unwrap().to_owned());
            let friend = fake
                .admin_get(&format!("/__admin/customers/f-{round}?app={key}"))
                .await;
            generated.push(friend["id"].as_str().unwrap().to_owned());
            generated.push(friend["referral_code"].as_str().unwrap().to_owned());
        }
    }
    values
}

#[tokio::test]
async fn each_application_draws_ids_and_codes_from_its_own_seeded_stream() {
    let alone_a = generated_per_app(7, &["key_a"]).await;
    let alone_b = generated_per_app(7, &["key_b"]).await;
    let together = generated_per_app(7, &["key_a", "key_b"]).await;
    assert_eq!(
        together["key_a"], alone_a["key_a"],
        "calls to key_b do not shift key_a's ids and codes"
    );
    assert_eq!(
        together["key_b"], alone_b["key_b"],
        "calls to key_a do not shift key_b's ids and codes"
    );
    assert_eq!(together, generated_per_app(7, &["key_a", "key_b"]).await);
    for values in together.values() {
        assert_eq!(values.len(), 4 * 5);
        for (i, value) in values.iter().enumerate() {
            let fine = match i % 5 {
                0 | 3 => is_id(value, "cust_"),
                2 => is_id(value, "evt_"),
                _ => is_generated_code(value),
            };
            assert!(fine, "{i}: {value:?} in {values:?}");
        }
    }
    let distinct: BTreeSet<&String> = together.values().flatten().collect();
    assert_eq!(distinct.len(), 2 * 4 * 5, "{together:?}");
}

//! Contract 2.1 and 2.8: Basic auth of the Rehook API, `check-auth`, and applications that
//! never see each other.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rehook_mock::{AppConfig, MockRehook};
use reqwest::Method;
use reqwest::header::HeaderValue;
use serde_json::json;

use crate::support::{Fake, basic, send};

#[tokio::test]
async fn check_auth_answers_ok_with_valid_credentials() {
    let fake = Fake::start().await;
    for path in [
        "/events/segment/check-auth",
        "/api/events/segment/check-auth",
    ] {
        assert_eq!(fake.get(path).await.ok(200), &json!({"status": "ok"}));
    }
}

/// Every way of not being the default application, as `Authorization` header values.
fn refused_credentials() -> Vec<(&'static str, Option<HeaderValue>)> {
    let b64 = |s: &[u8]| HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(s))).unwrap();
    vec![
        ("missing", None),
        ("scheme only", Some(HeaderValue::from_static("Basic"))),
        ("scheme and space", Some(HeaderValue::from_static("Basic "))),
        (
            "other scheme",
            Some(
                HeaderValue::from_str(&format!(
                    "Bearer {}",
                    STANDARD.encode("rk_test_key:rk_test_secret")
                ))
                .unwrap(),
            ),
        ),
        (
            "bad base64",
            Some(HeaderValue::from_static("Basic !!!not-base64!!!")),
        ),
        (
            "not encoded",
            Some(HeaderValue::from_static("Basic rk_test_key:rk_test_secret")),
        ),
        ("no colon", Some(b64(b"rk_test_keyrk_test_secret"))),
        ("not utf-8", Some(b64(b"rk_test_key:\xFF\xFE"))),
        ("unknown key", Some(b64(b"rk_other_key:rk_test_secret"))),
        (
            "key in other case",
            Some(b64(b"RK_TEST_KEY:rk_test_secret")),
        ),
        ("wrong secret", Some(b64(b"rk_test_key:wrong"))),
        ("secret prefix", Some(b64(b"rk_test_key:rk_test_secre"))),
        (
            "secret with suffix",
            Some(b64(b"rk_test_key:rk_test_secretX")),
        ),
        ("empty secret", Some(b64(b"rk_test_key:"))),
        ("empty key", Some(b64(b":rk_test_secret"))),
        ("swapped", Some(b64(b"rk_test_secret:rk_test_key"))),
        (
            "header not text",
            Some(HeaderValue::from_bytes(b"Basic \xFF").unwrap()),
        ),
    ]
}

#[tokio::test]
async fn bad_credentials_are_401_with_a_basic_challenge_and_change_nothing() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "u-1", "referral_code": "CODE"}))
        .await;
    let before = fake.state().await;
    for (what, value) in refused_credentials() {
        for (method, path, body) in [
            (Method::GET, "/events/segment/check-auth", None),
            (
                Method::POST,
                "/customers",
                Some(json!({"source_id": "new"})),
            ),
            (
                Method::POST,
                "/customers",
                Some(json!({"source_id": "new", "referral_code": "CODE"})),
            ),
            (Method::GET, "/customers/u-1", None),
            (Method::GET, "/customers/validate-code/CODE", None),
            (Method::GET, "/customers/referral/list/u-1", None),
            (
                Method::POST,
                "/events/invoke",
                Some(
                    json!({"event_name": "signup", "source_id": "new", "metadata": {"referral_code": "NOPE"}}),
                ),
            ),
            (
                Method::POST,
                "/api/events/invoke",
                Some(json!({"event_name": "e", "source_id": "new"})),
            ),
        ] {
            let mut request = fake.request(method.clone(), path);
            if let Some(value) = &value {
                request = request.header("authorization", value.clone());
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            let reply = send(request).await;
            assert_eq!(reply.status, 401, "{what}: {method} {path}: {reply:?}");
            reply.error(401, "UNAUTHORIZED");
            assert_eq!(
                reply.header("www-authenticate"),
                Some("Basic realm=\"rehook\""),
                "{what}: {method} {path}"
            );
        }
    }
    assert_eq!(fake.state().await, before, "no drop, no write");
}

#[tokio::test]
async fn the_scheme_name_is_matched_in_any_case() {
    let fake = Fake::start().await;
    let encoded = STANDARD.encode("rk_test_key:rk_test_secret");
    for scheme in ["Basic", "basic", "BASIC", "bAsIc"] {
        let request = fake
            .request(Method::GET, "/events/segment/check-auth")
            .header("authorization", format!("{scheme} {encoded}"));
        send(request).await.ok(200);
    }
}

#[tokio::test]
async fn a_secret_containing_colons_is_split_at_the_first_colon() {
    let fake = Fake::with(MockRehook::builder().app(AppConfig::new("k1", "s:e:c:r:e:t"))).await;
    let ok = fake
        .request(Method::GET, "/events/segment/check-auth")
        .header("authorization", basic("k1", "s:e:c:r:e:t"));
    send(ok).await.ok(200);
    for (key, secret) in [
        ("k1", "s"),
        ("k1", "s:e:c"),
        ("k1", "s:e:c:r:e:t:"),
        ("k1:s", ""),
    ] {
        let request = fake
            .request(Method::GET, "/events/segment/check-auth")
            .header("authorization", basic(key, secret));
        send(request).await.error(401, "UNAUTHORIZED");
    }
    let request = fake
        .request(Method::GET, "/events/segment/check-auth")
        .header("authorization", basic("rk_test_key", "rk_test_secret"));
    send(request).await.error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn unicode_credentials_are_read_as_utf8() {
    let fake = Fake::with(MockRehook::builder().app(AppConfig::new("clé", "sécret✓"))).await;
    let request = fake
        .request(Method::GET, "/events/segment/check-auth")
        .header("authorization", basic("clé", "sécret✓"));
    send(request).await.ok(200);
}

#[tokio::test]
async fn applications_never_see_each_other() {
    let fake = Fake::with(
        MockRehook::builder()
            .app(AppConfig::new("key_a", "secret_a"))
            .app(AppConfig::new("key_b", "secret_b")),
    )
    .await;
    let as_app = |key: &str, secret: &str, method: Method, path: &str| {
        fake.request(method, path)
            .header("authorization", basic(key, secret))
    };
    let a = |method, path: &str| as_app("key_a", "secret_a", method, path);
    let b = |method, path: &str| as_app("key_b", "secret_b", method, path);

    let in_a =
        send(a(Method::POST, "/customers").json(
            &json!({"source_id": "u-1", "referral_code": "SHARED", "metadata": {"app": "a"}}),
        ))
        .await;
    in_a.ok(201);
    send(a(Method::POST, "/customers").json(&json!({"source_id": "only-a"})))
        .await
        .ok(201);
    let in_b =
        send(b(Method::POST, "/customers").json(
            &json!({"source_id": "u-1", "referral_code": "SHARED", "metadata": {"app": "b"}}),
        ))
        .await;
    assert_eq!(
        in_b.ok(201)["metadata"],
        json!({"app": "b"}),
        "same source_id and code, other tenant"
    );
    assert_ne!(in_a.body["id"], in_b.body["id"]);

    send(b(Method::GET, "/customers/only-a"))
        .await
        .error(404, "CUSTOMER_NOT_FOUND");
    let a_id = in_a.body["id"].as_str().unwrap();
    send(b(Method::GET, &format!("/customers/{a_id}")))
        .await
        .error(404, "CUSTOMER_NOT_FOUND");
    let only_a = send(a(Method::GET, "/customers/only-a")).await;
    let only_a_code = only_a.ok(200)["referral_code"].as_str().unwrap().to_owned();
    send(b(
        Method::GET,
        &format!("/customers/validate-code/{only_a_code}"),
    ))
    .await
    .error(404, "REFERRAL_CODE_NOT_FOUND");
    send(b(Method::POST, "/events/invoke").json(&json!({"event_name": "signup", "source_id": "friend", "metadata": {"referral_code": only_a_code}})))
        .await
        .error(422, "REFERRAL_CODE_UNKNOWN");
    send(
        b(Method::POST, "/customers")
            .json(&json!({"source_id": "other", "referral_code": only_a_code})),
    )
    .await
    .ok(201);
    send(a(Method::POST, "/events/invoke").json(&json!({"event_name": "signup", "source_id": "friend", "metadata": {"referral_code": "SHARED"}})))
        .await
        .ok(200);
    send(b(Method::GET, "/customers/friend"))
        .await
        .error(404, "CUSTOMER_NOT_FOUND");
    let a_list = send(a(Method::GET, "/customers/referral/list/u-1")).await;
    assert_eq!(a_list.ok(200).as_array().unwrap().len(), 1);
    let b_list = send(b(Method::GET, "/customers/referral/list/u-1")).await;
    assert_eq!(b_list.ok(200), &json!([]));

    let sources = |app: &str| {
        let fake = &fake;
        let path = format!("/__admin/customers?app={app}");
        async move {
            fake.admin_get(&path)
                .await
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["source_id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(sources("key_a").await, ["friend", "only-a", "u-1"]);
    assert_eq!(sources("key_b").await, ["other", "u-1"]);
    assert_eq!(
        fake.admin_get("/__admin/customers").await,
        fake.admin_get("/__admin/customers?app=key_a").await,
        "the first application is the default"
    );
    let drops_a = fake.admin_get("/__admin/drops?app=key_a").await;
    let drops_b = fake.admin_get("/__admin/drops?app=key_b").await;
    assert_eq!(drops_a, json!([]));
    assert_eq!(drops_b.as_array().unwrap().len(), 1);
    let events_b = fake.admin_get("/__admin/events?app=key_b").await;
    assert_eq!(events_b, json!([]));

    let cross = as_app(
        "key_a",
        "secret_b",
        Method::GET,
        "/events/segment/check-auth",
    );
    send(cross).await.error(401, "UNAUTHORIZED");
}

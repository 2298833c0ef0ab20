//! Contract sections 1 and 6: request ids, error bodies, routing (404/405/HEAD), media types,
//! encodings, JSON reading, size limits, the order of checks, the `/api` aliases, no 5xx.

use std::collections::BTreeSet;

use axum::body::Body;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{
    Fake, Reply, assert_error_shape, basic, bytes, default_auth, gzip, oneshot, raw, send, store,
};

/// A body of exactly `len` bytes: an upsert of `source_id` padded through metadata.
fn padded_upsert(source_id: &str, len: usize) -> Vec<u8> {
    let empty = format!(r#"{{"source_id":"{source_id}","metadata":{{"pad":""}}}}"#);
    let pad = len.checked_sub(empty.len()).expect("len fits the envelope");
    format!(
        r#"{{"source_id":"{source_id}","metadata":{{"pad":"{}"}}}}"#,
        "x".repeat(pad)
    )
    .into_bytes()
}

const MIB: usize = 1024 * 1024;

fn allow_set(reply: &Reply) -> BTreeSet<String> {
    reply
        .header("allow")
        .unwrap_or_else(|| panic!("405 without Allow: {reply:?}"))
        .split(',')
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

fn set(methods: &[&str]) -> BTreeSet<String> {
    methods.iter().map(|m| (*m).to_owned()).collect()
}

#[tokio::test]
async fn every_response_carries_a_request_id_that_error_bodies_repeat() {
    let fake = Fake::start().await;
    let replies = vec![
        fake.get("/events/segment/check-auth").await,
        fake.upsert(json!({"source_id": "u-1"})).await,
        fake.upsert(json!({})).await,
        send(fake.request(Method::GET, "/events/segment/check-auth")).await,
        send(fake.authed(Method::GET, "/nope")).await,
        send(fake.authed(Method::GET, "/customers")).await,
        send(fake.authed(Method::HEAD, "/customers/u-1")).await,
        send(fake.authed(Method::HEAD, "/nope")).await,
        fake.admin(Method::GET, "/__admin/health").await,
        fake.admin(Method::GET, "/__admin/nope").await,
        fake.admin(Method::GET, "/__admin/customers?app=nope").await,
        fake.admin(Method::POST, "/__admin/health").await,
    ];
    let mut ids = BTreeSet::new();
    for reply in &replies {
        let id = reply.request_id().to_owned();
        if reply.status >= 400 && !reply.body.is_null() {
            assert_error_shape(&reply.body, &id);
        }
        assert!(ids.insert(id), "request ids repeat: {replies:#?}");
    }
}

#[tokio::test]
async fn unknown_paths_are_json_404s_without_normalising_the_path() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "u-1"})).await;
    let auth = format!("Authorization: {}", fake.auth());
    for path in [
        "/nope",
        "/customers/",
        "//customers",
        "/customers//u-1",
        "/customers/u-1/",
        "/events/invoke/",
        "/events",
        "/customers/validate-code/",
        "/customers/referral/list/",
        "/api",
        "/api/",
        "/api/customers/",
        "/api//customers",
        "/API/customers",
        "/Customers",
        "/__admin",
        "/__admin/",
        "/__admin/nope",
        "/__admin/health/",
        "/v2/customers",
    ] {
        for method in ["GET", "POST"] {
            for headers in ["", auth.as_str()] {
                let head = if headers.is_empty() {
                    format!("{method} {path} HTTP/1.1")
                } else {
                    format!("{method} {path} HTTP/1.1\r\n{headers}")
                };
                let reply = raw(fake.mock.addr(), &head, b"{}").await;
                assert_eq!(reply.status, 404, "{method} {path}: {reply:?}");
                assert_eq!(reply.body["code"], "NOT_FOUND", "{method} {path}");
                let id = reply.request_id();
                assert_error_shape(&reply.body, id);
                assert!(
                    reply
                        .header("content-type")
                        .unwrap_or("")
                        .starts_with("application/json"),
                    "{path}"
                );
            }
        }
    }
}

#[tokio::test]
async fn wrong_methods_are_405_with_an_allow_header_before_auth() {
    let fake = Fake::start().await;
    let cases: &[(&str, &str, &[&str])] = &[
        ("GET", "/customers", &["POST"]),
        ("PUT", "/customers", &["POST"]),
        ("DELETE", "/customers/u-1", &["GET", "HEAD", "POST"]),
        (
            "PUT",
            "/customers/validate-code/ABC",
            &["GET", "HEAD", "POST"],
        ),
        ("POST", "/customers/referral/list/u-1", &["GET", "HEAD"]),
        ("POST", "/customers/referrals/u-1", &["GET", "HEAD"]),
        ("GET", "/events/invoke", &["POST"]),
        ("POST", "/events/segment/check-auth", &["GET", "HEAD"]),
        ("GET", "/api/customers", &["POST"]),
        ("OPTIONS", "/api/events/invoke", &["POST"]),
        ("POST", "/__admin/health", &["GET", "HEAD"]),
        ("GET", "/__admin/reset", &["POST"]),
        ("DELETE", "/__admin/state", &["GET", "HEAD", "PUT"]),
        ("POST", "/__admin/config", &["GET", "HEAD", "PUT"]),
        ("PATCH", "/__admin/customers", &["GET", "HEAD"]),
    ];
    for (method, path, allowed) in cases {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        for with_auth in [false, true] {
            let request = if with_auth {
                fake.authed(method.clone(), path)
            } else {
                fake.request(method.clone(), path)
            };
            let reply = send(request.header("content-type", "text/plain").body("{")).await;
            reply.error(405, "METHOD_NOT_ALLOWED");
            assert_eq!(allow_set(&reply), set(allowed), "{method} {path}");
        }
    }
    let custom = Method::from_bytes(b"FROB").unwrap();
    let reply = send(fake.authed(custom, "/customers")).await;
    reply.error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(allow_set(&reply), set(&["POST"]));
}

#[tokio::test]
async fn head_works_wherever_get_does() {
    let fake = Fake::start().await;
    let advocate = fake.customer(json!({"source_id": "adv"})).await;
    let code = advocate["referral_code"].as_str().unwrap().to_owned();
    fake.convert("friend", &code).await;
    for path in [
        "/customers/adv".to_owned(),
        "/customers/nobody".to_owned(),
        format!("/customers/validate-code/{code}"),
        "/customers/referral/list/adv".to_owned(),
        "/customers/referrals/adv".to_owned(),
        "/events/segment/check-auth".to_owned(),
        "/api/customers/adv".to_owned(),
        "/__admin/health".to_owned(),
        "/__admin/customers".to_owned(),
        "/__admin/customers/adv".to_owned(),
        "/__admin/events".to_owned(),
        "/__admin/drops".to_owned(),
        "/__admin/deliveries".to_owned(),
        "/__admin/unknown-sources".to_owned(),
        "/__admin/requests".to_owned(),
        "/__admin/config".to_owned(),
        "/__admin/state".to_owned(),
    ] {
        let get = send(fake.authed(Method::GET, &path)).await;
        let head = send(fake.authed(Method::HEAD, &path)).await;
        assert_eq!(head.status, get.status, "HEAD {path}");
        assert!(
            get.status == 200 || get.status == 404,
            "GET {path}: {get:?}"
        );
        assert_eq!(head.body, Value::Null, "HEAD {path} has no body");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "{path}"
        );
        head.request_id();
    }
    let unauthorized = send(fake.request(Method::HEAD, "/customers/adv")).await;
    assert_eq!(unauthorized.status, 401);
    assert_eq!(
        unauthorized.header("www-authenticate"),
        Some("Basic realm=\"rehook\"")
    );
}

#[tokio::test]
async fn json_content_type_is_matched_in_any_case_with_parameters_or_absent() {
    let fake = Fake::start().await;
    let types = [
        Some("application/json"),
        Some("APPLICATION/JSON"),
        Some("Application/Json; charset=UTF-8"),
        Some("application/json;charset=utf-8"),
        Some("application/json ; foo=bar ; q=1"),
        None,
    ];
    for (i, content_type) in types.iter().enumerate() {
        let body = bytes(&json!({"source_id": format!("u-{i}")}));
        let mut request = fake.authed(Method::POST, "/customers").body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", *ct);
        }
        send(request).await.ok(201);
    }
    let mut request = fake
        .authed(Method::POST, "/events/invoke")
        .body(bytes(&json!({"event_name": "e", "source_id": "u-0"})));
    request = request.header("content-type", "application/JSON; charset=utf-8");
    send(request).await.ok(200);
}

#[tokio::test]
async fn other_media_types_are_415_and_change_nothing() {
    let fake = Fake::start().await;
    let before = fake.state().await;
    for content_type in [
        "text/plain",
        "text/plain; charset=utf-8",
        "text/json",
        "application/jsonx",
        "application/json-patch+json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/octet-stream",
    ] {
        for path in ["/customers", "/events/invoke"] {
            let body = bytes(&json!({"event_name": "e", "source_id": "u-1"}));
            let request = fake
                .authed(Method::POST, path)
                .header("content-type", content_type)
                .body(body);
            send(request).await.error(415, "UNSUPPORTED_MEDIA_TYPE");
        }
        let request = fake
            .request(Method::PUT, "/__admin/config")
            .header("content-type", content_type)
            .body(r#"{"applications":[{"api_key":"rk_test_key","drop_mode":"accept"}]}"#);
        send(request).await.error(415, "UNSUPPORTED_MEDIA_TYPE");
    }
    assert_eq!(fake.state().await, before);
}

#[tokio::test]
async fn gzip_bodies_are_accepted_on_every_post_and_put() {
    let fake = Fake::start().await;
    for encoding in ["gzip", "GZIP", "gzip, identity"] {
        let source_id = format!("gz-{encoding}");
        let request = fake
            .authed(Method::POST, "/customers")
            .header("content-type", "application/json")
            .header("content-encoding", encoding)
            .body(gzip(&bytes(
                &json!({"source_id": source_id, "metadata": {"z": 1}}),
            )));
        let created = send(request).await;
        assert_eq!(created.ok(201)["metadata"], json!({"z": 1}), "{encoding}");
    }
    let request = fake
        .authed(Method::POST, "/events/invoke")
        .header("content-encoding", "gzip")
        .body(gzip(&bytes(
            &json!({"event_name": "e", "source_id": "gz-gzip"}),
        )));
    assert_eq!(send(request).await.ok(200)["event"]["event_name"], "e");
    let request = fake
        .request(Method::PUT, "/__admin/config")
        .header("content-encoding", "gzip")
        .body(gzip(&bytes(
            &json!({"applications": [{"api_key": "rk_test_key", "write_keys": ["wk_test"], "drop_mode": "accept"}]}),
        )));
    send(request).await.ok(200);
    assert_eq!(
        fake.admin_get("/__admin/config").await["applications"][0]["drop_mode"],
        "accept"
    );
    let state = fake.state().await;
    let request = fake
        .request(Method::PUT, "/__admin/state")
        .header("content-encoding", "gzip")
        .body(gzip(&bytes(&state)));
    send(request).await.ok(200);
    assert_eq!(fake.state().await, state);
}

#[tokio::test]
async fn identity_encoding_is_accepted() {
    let fake = Fake::start().await;
    let request = fake
        .authed(Method::POST, "/customers")
        .header("content-encoding", "identity")
        .body(bytes(&json!({"source_id": "u-1"})));
    send(request).await.ok(201);
}

#[tokio::test]
async fn other_encodings_are_415_unsupported_encoding_and_change_nothing() {
    let fake = Fake::start().await;
    let before = fake.state().await;
    let body = gzip(&bytes(&json!({"source_id": "u-1"})));
    for encoding in [
        "br",
        "deflate",
        "compress",
        "zstd",
        "gzip, br",
        "x-gzip",
        "gzip, gzip",
    ] {
        let request = fake
            .authed(Method::POST, "/customers")
            .header("content-encoding", encoding)
            .body(body.clone());
        send(request).await.error(415, "UNSUPPORTED_ENCODING");
        let request = fake
            .request(Method::PUT, "/__admin/state")
            .header("content-encoding", encoding)
            .body(body.clone());
        send(request).await.error(415, "UNSUPPORTED_ENCODING");
    }
    assert_eq!(fake.state().await, before);
}

#[tokio::test]
async fn corrupt_gzip_is_400_invalid_body() {
    let fake = Fake::start().await;
    let before = fake.state().await;
    let mut truncated = gzip(&bytes(&json!({"source_id": "u-1"})));
    truncated.truncate(truncated.len() / 2);
    for body in [b"{\"source_id\":\"u-1\"}".to_vec(), truncated, Vec::new()] {
        let request = fake
            .authed(Method::POST, "/customers")
            .header("content-encoding", "gzip")
            .body(body);
        send(request).await.error(400, "INVALID_BODY");
    }
    assert_eq!(fake.state().await, before);
}

#[tokio::test]
async fn a_leading_byte_order_mark_is_skipped() {
    let fake = Fake::start().await;
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend(bytes(&json!({"source_id": "bom"})));
    let request = fake
        .authed(Method::POST, "/customers")
        .header("content-type", "application/json; charset=utf-8")
        .body(body.clone());
    assert_eq!(send(request).await.ok(201)["source_id"], "bom");
    let request = fake
        .authed(Method::POST, "/customers")
        .header("content-encoding", "gzip")
        .body(gzip(&body));
    send(request).await.ok(200);
}

#[tokio::test]
async fn duplicate_keys_keep_the_last_value() {
    let fake = Fake::start().await;
    let body = r#"{"source_id": true, "source_id": "first", "source_id": "dup",
        "metadata": {"k": 1, "k": 2}, "referral_code": "ONE", "referral_code": "TWO"}"#;
    let request = fake.authed(Method::POST, "/customers").body(body);
    let created = send(request).await;
    let created = created.ok(201);
    assert_eq!(created["source_id"], "dup");
    assert_eq!(created["metadata"], json!({"k": 2}));
    assert_eq!(created["referral_code"], "TWO");
    let body = r#"{"event_name": "a", "event_name": "b", "source_id": "dup",
        "metadata": {"k": 1}, "metadata": null}"#;
    let request = fake.authed(Method::POST, "/events/invoke").body(body);
    let invoked = send(request).await;
    assert_eq!(invoked.ok(200)["event"]["event_name"], "b");
    assert_eq!(invoked.body["event"]["metadata"], json!({}));
    let body = r#"{"applications": [], "applications": [{"api_key": "rk_test_key", "drop_mode": "accept"}]}"#;
    send(fake.request(Method::PUT, "/__admin/config").body(body))
        .await
        .ok(200);
}

#[tokio::test]
async fn bodies_that_are_not_json_objects_get_invalid_json_or_invalid_body() {
    let fake = Fake::start().await;
    let before = fake.state().await;
    let cases: &[(&[u8], &str)] = &[
        (b"", "INVALID_BODY"),
        (b"   \n\t\r ", "INVALID_BODY"),
        (b"\xEF\xBB\xBF", "INVALID_BODY"),
        (b"null", "INVALID_BODY"),
        (b"[]", "INVALID_BODY"),
        (b"[{\"source_id\": \"u-1\"}]", "INVALID_BODY"),
        (b"\"x\"", "INVALID_BODY"),
        (b"42", "INVALID_BODY"),
        (b"true", "INVALID_BODY"),
        (b" null ", "INVALID_BODY"),
        (b"{", "INVALID_JSON"),
        (b"}", "INVALID_JSON"),
        (b"nope", "INVALID_JSON"),
        (b"{'source_id': 'u-1'}", "INVALID_JSON"),
        (b"{\"source_id\": \"u-1\",}", "INVALID_JSON"),
        (b"{\"source_id\": \"u-1\"} {}", "INVALID_JSON"),
        (b"{\"source_id\": \"u-1\"}x", "INVALID_JSON"),
        (b"{\"source_id\": NaN}", "INVALID_JSON"),
        (b"{\"source_id\": Infinity}", "INVALID_JSON"),
        (b"{\"source_id\": -Infinity}", "INVALID_JSON"),
        (b"{\"source_id\": 1e400}", "INVALID_JSON"),
        (b"{\"source_id\": -1e999}", "INVALID_JSON"),
        (b"{\"source_id\": \"\xFF\xFE\"}", "INVALID_JSON"),
        (b"{\"source_id\": \"\\ud800\"}", "INVALID_JSON"),
        (b"\xEF\xBB\xBF\xEF\xBB\xBF{}", "INVALID_JSON"),
    ];
    for (body, code) in cases {
        for path in ["/customers", "/events/invoke"] {
            let request = fake
                .authed(Method::POST, path)
                .header("content-type", "application/json")
                .body(body.to_vec());
            let reply = send(request).await;
            assert_eq!(
                reply.body["code"],
                *code,
                "{path} {:?}: {reply:?}",
                String::from_utf8_lossy(body)
            );
            reply.error(400, code);
        }
        let request = fake
            .request(Method::PUT, "/__admin/config")
            .body(body.to_vec());
        send(request).await.error(400, code);
        let request = fake
            .request(Method::PUT, "/__admin/state")
            .body(body.to_vec());
        send(request).await.error(400, code);
    }
    assert_eq!(fake.state().await, before);
}

/// `{"source_id":"deep","metadata":{"a":[[...]]}}` nested `depth` levels in all (the outer
/// object is level 1).
fn nested(depth: usize) -> Vec<u8> {
    let arrays = depth - 2;
    format!(
        r#"{{"source_id":"deep-{depth}","metadata":{{"a":{}{}}}}}"#,
        "[".repeat(arrays),
        "]".repeat(arrays)
    )
    .into_bytes()
}

#[tokio::test]
async fn nesting_up_to_128_levels_is_read_and_deeper_is_invalid_json() {
    let fake = Fake::start().await;
    for depth in [3, 64, 127, 128] {
        let request = fake.authed(Method::POST, "/customers").body(nested(depth));
        send(request).await.ok(201);
    }
    let before = fake.state().await;
    for depth in [129, 130, 1_000, 100_000] {
        let request = fake.authed(Method::POST, "/customers").body(nested(depth));
        send(request).await.error(400, "INVALID_JSON");
    }
    assert_eq!(fake.state().await, before);
}

#[tokio::test]
async fn bodies_up_to_one_mebibyte_decoded_are_read_and_larger_ones_are_413() {
    let fake = Fake::start().await;
    let exact = padded_upsert("exact", MIB);
    assert_eq!(exact.len(), MIB);
    send(fake.authed(Method::POST, "/customers").body(exact.clone()))
        .await
        .ok(201);
    let request = fake
        .authed(Method::POST, "/customers")
        .header("content-encoding", "gzip")
        .body(gzip(&padded_upsert("exact-gz", MIB)));
    send(request).await.ok(201);

    let before = fake.state().await;
    let over = padded_upsert("over", MIB + 1);
    let reply = send(fake.authed(Method::POST, "/customers").body(over.clone())).await;
    reply.error(413, "PAYLOAD_TOO_LARGE");
    assert!(
        reply.body["message"].as_str().unwrap().contains("1048576"),
        "the message names the limit: {}",
        reply.body["message"]
    );
    let bomb = gzip(&padded_upsert("bomb", 4 * MIB));
    assert!(bomb.len() < 64 * 1024, "a highly compressible body");
    let request = fake
        .authed(Method::POST, "/customers")
        .header("content-encoding", "gzip")
        .body(bomb.clone());
    send(request).await.error(413, "PAYLOAD_TOO_LARGE");
    let request = fake
        .authed(Method::POST, "/events/invoke")
        .header("content-encoding", "gzip")
        .body(bomb);
    send(request).await.error(413, "PAYLOAD_TOO_LARGE");
    let config = format!(
        r#"{{"applications":[{{"api_key":"rk_test_key","referral_link_base":"{}"}}]}}"#,
        "x".repeat(MIB)
    );
    send(fake.request(Method::PUT, "/__admin/config").body(config))
        .await
        .error(413, "PAYLOAD_TOO_LARGE");
    assert_eq!(fake.state().await, before);
}

#[tokio::test]
async fn a_body_far_over_every_buffer_is_still_a_json_413() {
    let store = store();
    let request = axum::http::Request::post("/customers")
        .header("authorization", default_auth())
        .body(Body::from(vec![b' '; 9 * MIB]))
        .unwrap();
    let reply = oneshot(&store, request).await;
    reply.error(413, "PAYLOAD_TOO_LARGE");
    let request = axum::http::Request::post("/nope")
        .body(Body::from(vec![b' '; 9 * MIB]))
        .unwrap();
    oneshot(&store, request).await.error(404, "NOT_FOUND");
    let request = axum::http::Request::post("/customers")
        .body(Body::from(vec![b' '; 9 * MIB]))
        .unwrap();
    oneshot(&store, request).await.error(401, "UNAUTHORIZED");
    assert!(store.customers(None).unwrap().is_empty());
}

#[tokio::test]
async fn checks_run_route_then_auth_then_media_type_then_size_then_json_then_fields_then_rules() {
    let fake = Fake::start().await;
    let owner = fake
        .customer(json!({"source_id": "owner", "referral_code": "TAKEN"}))
        .await;
    assert_eq!(owner["referral_code"], "TAKEN");
    let huge_invalid = {
        let mut b = vec![b'{'; MIB + 10];
        b[0] = b'x';
        b
    };
    let bad_auth = crate::support::basic("rk_test_key", "wrong");
    let bad_auth = bad_auth.as_str();
    let post =
        |path: &str, auth: Option<&str>, ct: Option<&str>, enc: Option<&str>, body: Vec<u8>| {
            let mut request = fake.request(Method::POST, path).body(body);
            if let Some(auth) = auth {
                request = request.header("authorization", auth.to_owned());
            }
            if let Some(ct) = ct {
                request = request.header("content-type", ct.to_owned());
            }
            if let Some(enc) = enc {
                request = request.header("content-encoding", enc.to_owned());
            }
            send(request)
        };
    let good = fake.auth();
    let good = Some(good.as_str());
    let before = fake.state().await;
    let fields = |v: Value| bytes(&v);
    // One violation fewer on each row: the first check that still fails answers.
    #[rustfmt::skip]
    let cases = [
        ("/customerz", Some(bad_auth), Some("text/plain"), Some("br"), huge_invalid.clone(), 404, "NOT_FOUND"),
        ("/customers/referrals/x", None, Some("text/plain"), Some("br"), huge_invalid.clone(), 405, "METHOD_NOT_ALLOWED"),
        ("/customers", Some(bad_auth), Some("text/plain"), Some("br"), huge_invalid.clone(), 401, "UNAUTHORIZED"),
        ("/customers", None, Some("text/plain"), None, huge_invalid.clone(), 401, "UNAUTHORIZED"),
        ("/customers", good, Some("text/plain"), Some("gzip"), huge_invalid.clone(), 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("/customers", good, Some("application/json"), Some("br"), huge_invalid.clone(), 415, "UNSUPPORTED_ENCODING"),
        ("/customers", good, Some("application/json"), None, huge_invalid.clone(), 413, "PAYLOAD_TOO_LARGE"),
        ("/customers", good, None, None, b"{\"source_id\": tru".to_vec(), 400, "INVALID_JSON"),
        ("/customers", good, None, None, fields(json!({"source_id": true, "metadata": 1, "referral_code": "TAKEN"})), 400, "INVALID_SOURCE_ID"),
        ("/customers", good, None, None, fields(json!({"metadata": 1, "referral_code": []})), 400, "SOURCE_ID_REQUIRED"),
        ("/customers", good, None, None, fields(json!({"source_id": "x", "metadata": 1, "referral_code": []})), 400, "INVALID_METADATA"),
        ("/customers", good, None, None, fields(json!({"source_id": "x", "metadata": [], "referral_code": "TAKEN"})), 400, "INVALID_METADATA"),
        ("/customers", good, None, None, fields(json!({"source_id": "x", "referral_code": "A B"})), 400, "INVALID_REFERRAL_CODE"),
        ("/events/invoke", good, None, None, fields(json!({"event_name": 5, "metadata": 1})), 400, "SOURCE_ID_REQUIRED"),
        ("/events/invoke", good, None, None, fields(json!({"source_id": "x", "event_name": 5, "metadata": 1})), 400, "INVALID_EVENT_NAME"),
        ("/events/invoke", good, None, None, fields(json!({"source_id": "x", "event_name": "", "metadata": 1})), 400, "EVENT_NAME_REQUIRED"),
        ("/events/invoke", good, None, None, fields(json!({"source_id": "x", "event_name": "signup", "metadata": "TAKEN"})), 400, "INVALID_METADATA"),
    ];
    for (path, auth, ct, enc, body, status, code) in cases {
        post(path, auth, ct, enc, body).await.error(status, code);
    }
    assert_eq!(
        fake.state().await,
        before,
        "no failed check changed anything"
    );
    assert!(
        fake.admin_get("/__admin/drops")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );

    post(
        "/customers",
        good,
        None,
        None,
        fields(json!({"source_id": "x", "referral_code": "TAKEN"})),
    )
    .await
    .error(409, "REFERRAL_CODE_TAKEN");
    post("/events/invoke", good, None, None, fields(json!({"source_id": "owner", "event_name": "signup", "metadata": {"referral_code": "TAKEN"}})))
        .await
        .error(422, "SELF_REFERRAL");
    assert_eq!(fake.stored().await, crate::support::without_drops(before));
}

#[tokio::test]
async fn the_api_prefix_serves_the_same_endpoints_over_the_same_state() {
    let fake = Fake::start().await;
    let created = fake
        .post("/api/customers", &json!({"source_id": "adv"}))
        .await;
    let created = created.ok(201).clone();
    let code = created["referral_code"].as_str().unwrap();
    assert_eq!(fake.get("/customers/adv").await.ok(200), &created);
    assert_eq!(fake.get("/api/customers/adv").await.ok(200), &created);
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        fake.get(&format!("/api/customers/{id}")).await.ok(200),
        &created
    );
    assert_eq!(
        fake.post("/api/customers/adv", &json!({})).await.ok(200),
        &created
    );
    assert_eq!(
        fake.get(&format!("/api/customers/validate-code/{code}"))
            .await
            .ok(200),
        &created
    );
    let invoked = fake
        .post(
            "/api/events/invoke",
            &json!({"event_name": "signup", "source_id": "friend", "metadata": {"referral_code": code}}),
        )
        .await;
    assert_eq!(invoked.ok(200)["referral"]["status"], "attributed");
    for path in [
        "/api/customers/referral/list/adv",
        "/api/customers/referrals/adv",
        "/customers/referral/list/adv",
    ] {
        let list = fake.get(path).await;
        assert_eq!(list.ok(200).as_array().unwrap().len(), 1, "{path}");
        assert_eq!(list.body[0]["source_id"], "friend");
    }
    assert_eq!(
        fake.get("/api/events/segment/check-auth").await.ok(200),
        &json!({"status": "ok"})
    );
    fake.post(
        "/api/customers",
        &json!({"source_id": "x", "referral_code": code}),
    )
    .await
    .error(409, "REFERRAL_CODE_TAKEN");
    let drops = fake.admin_get("/__admin/drops").await;
    assert_eq!(drops[0]["endpoint"], "POST /api/customers");
    send(fake.request(Method::POST, "/api/customers"))
        .await
        .error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn odd_requests_never_get_a_5xx_or_a_redirect() {
    let fake = Fake::start().await;
    let auth = fake.auth();
    let mut replies = Vec::new();
    for path in [
        "/customers/%FF",
        "/customers/%",
        "/customers/%zz",
        "/customers/validate-code/%C3%28",
        "/customers/referrals/%00",
        "/__admin/customers/%FF",
        "/__admin/reset?all=maybe",
        "/__admin/events?app=%FF",
        "/__admin/customers?app=",
        "/customers/a%2Fb",
        "/customers/..%2F..%2Fetc",
    ] {
        for method in ["GET", "POST"] {
            let head = format!("{method} {path} HTTP/1.1\r\nAuthorization: {auth}");
            let reply = raw(fake.mock.addr(), &head, b"").await;
            assert!(
                (400..500).contains(&reply.status) || reply.status == 200,
                "{method} {path}: {reply:?}"
            );
            let id = reply.request_id();
            if reply.status >= 400 {
                assert_error_shape(&reply.body, id);
            }
        }
    }
    let long = format!("/customers/{}", "a".repeat(16 * 1024));
    replies.push(fake.get(&long).await);
    let non_utf8 = reqwest::header::HeaderValue::from_bytes(b"Basic \xFF\xFE").unwrap();
    replies.push(
        send(
            fake.request(Method::GET, "/events/segment/check-auth")
                .header("authorization", non_utf8),
        )
        .await,
    );
    let ct = reqwest::header::HeaderValue::from_bytes(b"application/\xFFjson").unwrap();
    replies.push(
        send(
            fake.authed(Method::POST, "/customers")
                .header("content-type", ct)
                .body("{}"),
        )
        .await,
    );
    let enc = reqwest::header::HeaderValue::from_bytes(b"gz\xFFip").unwrap();
    replies.push(
        send(
            fake.authed(Method::POST, "/customers")
                .header("content-encoding", enc)
                .body("{}"),
        )
        .await,
    );
    replies.push(
        send(
            fake.authed(Method::POST, "/customers")
                .json(&json!({"source_id": "x", "metadata": {"a": [1e308, -1e308, 5e-324]}})),
        )
        .await,
    );
    replies.push(
        send(
            fake.authed(Method::POST, "/customers")
                .json(&json!({"source_id": 1.7976931348623157e308})),
        )
        .await,
    );
    replies.push(
        send(
            fake.authed(Method::POST, "/customers")
                .json(&json!({"source_id": u64::MAX})),
        )
        .await,
    );
    replies.push(
        send(
            fake.authed(Method::POST, "/customers")
                .json(&json!({"source_id": i64::MIN})),
        )
        .await,
    );
    replies.push(
        send(
            fake.authed(Method::POST, "/customers")
                .json(&json!({"source_id": "\u{0000}"})),
        )
        .await,
    );
    replies.push(
        send(
            fake.authed(Method::POST, "/events/invoke")
                .json(&json!({"source_id": "\u{10FFFF}", "event_name": "\u{0000}"})),
        )
        .await,
    );
    replies.push(
        send(
            fake.request(Method::PUT, "/__admin/state")
                .json(&json!({"format": 1})),
        )
        .await,
    );
    replies.push(
        send(
            fake.request(Method::PUT, "/__admin/config")
                .json(&json!({"applications": [{"api_key": 1}]})),
        )
        .await,
    );
    for reply in &replies {
        assert!(reply.status < 500, "{reply:?}");
        assert!(!(300..400).contains(&reply.status), "{reply:?}");
        let id = reply.request_id().to_owned();
        if reply.status >= 400 {
            assert_error_shape(&reply.body, &id);
        }
    }
}

#[tokio::test]
async fn a_body_far_over_every_buffer_gets_its_413_over_a_socket() {
    let fake = Fake::start().await;
    let request = fake
        .authed(Method::POST, "/customers")
        .body(vec![b' '; 9 * MIB]);
    send(request).await.error(413, "PAYLOAD_TOO_LARGE");
    assert!(fake.mock.store().customers(None).unwrap().is_empty());
}

/// Write `request` as-is on a fresh connection and read the whole answer.
async fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("receive");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_malformed_chunked_body_is_400_invalid_body_not_413() {
    // Regression: the chunk says 3 bytes and carries 6; this was answered 413 with a size
    // of 8 MiB although the body was six bytes long.
    let fake = Fake::start().await;
    let request = format!(
        "POST /customers HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",
        fake.auth()
    );
    let answer = exchange(fake.mock.addr(), request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    let body: serde_json::Value =
        serde_json::from_str(answer.split("\r\n\r\n").nth(1).expect("a body")).expect("JSON");
    assert_eq!(body["code"], "INVALID_BODY");
    assert!(fake.mock.store().customers(None).unwrap().is_empty());
}

#[tokio::test]
async fn path_keys_that_are_not_utf8_name_nothing_and_get_the_resource_404() {
    // Regression: these were 400 BAD_REQUEST with a framework message.
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "\u{FFFD}", "referral_code": "X\u{FFFD}"}))
        .await;
    let auth = fake.auth();
    for (path, status, code) in [
        ("/customers/%FF", 404, "CUSTOMER_NOT_FOUND"),
        (
            "/customers/validate-code/X%FF",
            404,
            "REFERRAL_CODE_NOT_FOUND",
        ),
        ("/customers/referral/list/%FF", 404, "CUSTOMER_NOT_FOUND"),
        ("/customers/referrals/%C3%28", 404, "CUSTOMER_NOT_FOUND"),
        ("/__admin/customers/%FF", 404, "CUSTOMER_NOT_FOUND"),
    ] {
        let head = format!("GET {path} HTTP/1.1\r\nAuthorization: {auth}");
        let reply = raw(fake.mock.addr(), &head, b"").await;
        assert_eq!(reply.status, status, "{path}: {reply:?}");
        assert_eq!(reply.body["code"], code, "{path}");
    }
    // The same key, sent as valid UTF-8, is found: only undecodable bytes name nothing.
    fake.get("/customers/%EF%BF%BD").await.ok(200);
}

#[tokio::test]
async fn routes_that_ignore_their_body_still_apply_the_body_rules() {
    // Regression: `br`, text/plain and 2 MiB bodies were answered 200 on these routes.
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "adv", "referral_code": "ADV"}))
        .await;
    let routes = [
        "/customers/adv",
        "/customers/validate-code/ADV",
        "/__admin/reset",
    ];
    for path in routes {
        let post = || fake.authed(Method::POST, path);
        send(post().header("content-encoding", "br").body("{}"))
            .await
            .error(415, "UNSUPPORTED_ENCODING");
        send(post().header("content-type", "text/plain").body("{}"))
            .await
            .error(415, "UNSUPPORTED_MEDIA_TYPE");
        send(post().body(vec![b' '; 2 * 1024 * 1024]))
            .await
            .error(413, "PAYLOAD_TOO_LARGE");
        send(post().body("{oops")).await.error(400, "INVALID_JSON");
        assert_eq!(
            fake.mock.store().customers(None).unwrap().len(),
            1,
            "{path}"
        );
    }
    for path in routes {
        let post = || fake.authed(Method::POST, path);
        send(post()).await.ok(200);
        send(post().header("content-encoding", "gzip").body(gzip(b"[]")))
            .await
            .ok(200);
    }
}

#[tokio::test]
async fn an_empty_body_with_a_gzip_encoding_header_is_just_empty() {
    // Regression: a GET carrying `Content-Encoding: gzip` and no body was 400 INVALID_BODY.
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "u-1"})).await;
    let gz = |request: reqwest::RequestBuilder| request.header("content-encoding", "gzip");
    send(gz(fake.authed(Method::GET, "/customers/u-1")))
        .await
        .ok(200);
    send(gz(fake.authed(Method::POST, "/customers/u-1")))
        .await
        .ok(200);
    send(gz(fake.authed(Method::POST, "/customers")))
        .await
        .error(400, "INVALID_BODY");
    // Regression: a GET with body headers and no body was 415.
    for (name, value) in [("content-type", "text/plain"), ("content-encoding", "br")] {
        send(
            fake.authed(Method::GET, "/customers/u-1")
                .header(name, value),
        )
        .await
        .ok(200);
    }
}

#[tokio::test]
async fn a_client_that_half_closes_after_its_request_still_gets_the_answer() {
    // Regression: requests followed by a shutdown of the client's write side (what
    // `nc -N` and many scripts do) were dropped without an answer.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fake = Fake::start().await;
    let body = br#"{"source_id": "half"}"#;
    let request = format!(
        "POST /customers HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        fake.auth(),
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(fake.mock.addr())
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("head");
    stream.write_all(body).await.expect("body");
    stream.shutdown().await.expect("half-close");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 201 "), "{answer}");
    assert!(fake.mock.store().customer(None, "half").unwrap().is_some());
}

#[tokio::test]
async fn requests_with_many_headers_are_served() {
    let fake = Fake::start().await;
    let mut request = fake.authed(Method::GET, "/events/segment/check-auth");
    for i in 0..200 {
        request = request.header(format!("x-extra-{i}"), "1");
    }
    send(request).await.ok(200);
}

#[tokio::test]
async fn an_answer_that_leaves_the_body_unread_closes_the_connection_and_says_so() {
    // Regression: a 404 to a 100 KB body kept `keep-alive` and the next request on the same
    // connection failed.
    let fake = Fake::start().await;
    let body = vec![b'x'; 100_000];
    // 404, 405 and 401 (no credentials): none of them reads the body.
    for (method, path) in [
        (Method::POST, "/nope"),
        (Method::DELETE, "/customers"),
        (Method::POST, "/customers"),
    ] {
        let reply = send(fake.request(method, path).body(body.clone())).await;
        assert!(reply.status >= 400, "{reply:?}");
        assert_eq!(reply.header("connection"), Some("close"), "{path}");
    }
    // A read body keeps the connection open.
    let reply = send(
        fake.authed(Method::POST, "/customers")
            .json(&json!({"source_id": "kept"})),
    )
    .await;
    reply.ok(201);
    assert_eq!(reply.header("connection"), None);
}

/// Two gzip members, as `(gzip -c a; gzip -c b)` writes them: one body, `a` then `b`.
fn two_gzip_members(first: &str, second: &str) -> Vec<u8> {
    let mut body = gzip(first.as_bytes());
    body.extend(gzip(second.as_bytes()));
    body
}

#[tokio::test]
async fn a_gzip_body_of_several_members_is_decoded_whole() {
    let fake = Fake::start().await;
    let request = fake
        .authed(Method::POST, "/customers")
        .header("content-encoding", "gzip")
        .body(two_gzip_members(r#"{"source_id":"multi-"#, r#"member"}"#));
    assert_eq!(send(request).await.ok(201)["source_id"], "multi-member");
    let request = fake
        .request(Method::POST, "/v1/identify")
        .header(reqwest::header::AUTHORIZATION, basic("wk_test", ""))
        .header("content-encoding", "gzip")
        .body(two_gzip_members(
            r#"{"type":"identify","userId":"multi-"#,
            r#"member-2"}"#,
        ));
    send(request).await.ok(200);
    fake.admin_get("/__admin/customers/multi-member-2").await;
}

#[tokio::test]
async fn bytes_after_a_gzip_stream_are_400_invalid_body_and_change_nothing() {
    let fake = Fake::start().await;
    let before = fake.stored().await;
    for trailing in [&b"garbage"[..], b"{}", b"\x1f"] {
        let mut body = gzip(br#"{"source_id":"u-1"}"#);
        body.extend_from_slice(trailing);
        let request = fake
            .authed(Method::POST, "/customers")
            .header("content-encoding", "gzip")
            .body(body.clone());
        send(request).await.error(400, "INVALID_BODY");
        let mut body = gzip(br#"{"type":"identify","userId":"u-1"}"#);
        body.extend_from_slice(trailing);
        let request = fake
            .request(Method::POST, "/v1/identify")
            .header(reqwest::header::AUTHORIZATION, basic("wk_test", ""))
            .header("content-encoding", "gzip")
            .body(body);
        send(request).await.error(400, "INVALID_BODY");
    }
    assert_eq!(fake.stored().await, before);
}

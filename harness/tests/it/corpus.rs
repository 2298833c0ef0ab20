//! Replaying the wire corpus (`tests/fixtures/node-sdk-referrals.ndjson`, five `/v1/batch`
//! bodies sent by `@segment/analytics-node` 3.1.0) against an in-process fake.
//!
//! Every expectation below was worked out by hand from the contract, message by message; the
//! reasoning is in the comments of `EXPECTED`.

use rehook_harness::client::{Customer, DropEntry, Event};
use rehook_harness::input::{self, Format};
use rehook_harness::replay::{Delivery, Outcome, Report, Summary, replay};
use rehook_mock::{DropMode, MockRehook};
use serde_json::{Value, json};

use crate::support::{client_for, fixture, seeded_fake};

/// line, item, type, user (`anon:` for anonymous-only), action, outcome, status, reason,
/// referral status.
type StaticRow = (
    usize,
    usize,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    Option<u16>,
    Option<&'static str>,
    Option<&'static str>,
);

const ID: Option<&str> = Some("identify_user");
const TE: Option<&str> = Some("track_event");

#[rustfmt::skip]
const EXPECTED: [StaticRow; 31] = [
    // Line 1: identifies. u-001 claims ADAPARK, u-002 gets a generated code, u-003 claims
    // CYTRAN; u-010 asks for ADAPARK, which u-001 owns: 409, nothing created.
    (1, 1, "identify", "u-001", ID, "delivered", Some(201), None, None),
    (1, 2, "identify", "u-002", ID, "delivered", Some(201), None, None),
    (1, 3, "identify", "u-003", ID, "delivered", Some(201), None, None),
    (1, 4, "identify", "u-010", ID, "dropped", Some(409), Some("REFERRAL_CODE_TAKEN"), None),
    // Line 2: signups (the default conversion event). u-101 with ADAPARK and u-102 with
    // CYTRAN are created on the fly and attributed; u-103 sends no code (422 REQUIRED);
    // u-104 sends NOSUCH (422 UNKNOWN); u-001 sends its own code (422 SELF_REFERRAL); none of
    // the three is created. u-101 signs up again with CYTRAN: stored, already referred.
    // The order is not a conversion event: stored, no referral.
    (2, 1, "track", "u-101", TE, "delivered", Some(200), None, Some("attributed")),
    (2, 2, "track", "u-102", TE, "delivered", Some(200), None, Some("attributed")),
    (2, 3, "track", "u-103", TE, "dropped", Some(422), Some("REFERRAL_CODE_REQUIRED"), None),
    (2, 4, "track", "u-104", TE, "dropped", Some(422), Some("REFERRAL_CODE_UNKNOWN"), None),
    (2, 5, "track", "u-001", TE, "dropped", Some(422), Some("SELF_REFERRAL"), None),
    (2, 6, "track", "u-101", TE, "delivered", Some(200), None, Some("already_referred")),
    (2, 7, "track", "u-101", TE, "delivered", Some(200), None, None),
    // Line 3 (answered 500 on the wire, then retried as line 4): u-001 updates its plan;
    // the anonymous identify and track have no userId (anonymous_only); page, screen, group
    // and alias are not subscribed (filtered). All seven pass ingestion, so all seven ids
    // are now seen.
    (3, 1, "identify", "u-001", ID, "delivered", Some(200), None, None),
    (3, 2, "identify", "anon:anon-1", ID, "dropped", None, Some("anonymous_only"), None),
    (3, 3, "track", "anon:anon-1", TE, "dropped", None, Some("anonymous_only"), None),
    (3, 4, "page", "u-001", None, "filtered", None, None, None),
    (3, 5, "screen", "u-002", None, "filtered", None, None, None),
    (3, 6, "group", "u-001", None, "filtered", None, None, None),
    (3, 7, "alias", "u-105", None, "filtered", None, None, None),
    // Line 4: the retry of line 3, same messageIds: every one a duplicate, nothing mapped.
    (4, 1, "identify", "u-001", None, "dropped", None, Some("duplicate_message_id"), None),
    (4, 2, "identify", "anon:anon-1", None, "dropped", None, Some("duplicate_message_id"), None),
    (4, 3, "track", "anon:anon-1", None, "dropped", None, Some("duplicate_message_id"), None),
    (4, 4, "page", "u-001", None, "dropped", None, Some("duplicate_message_id"), None),
    (4, 5, "screen", "u-002", None, "dropped", None, Some("duplicate_message_id"), None),
    (4, 6, "group", "u-001", None, "dropped", None, Some("duplicate_message_id"), None),
    (4, 7, "alias", "u-105", None, "dropped", None, Some("duplicate_message_id"), None),
    // Line 5: Engage sets an audience trait true then false on u-002 (two updates; context
    // stays out). u-003 replaces CYTRAN with CYTRAN2, freeing CYTRAN. A signup with the freed
    // CYTRAN finds no owner (422 UNKNOWN, u-106 not created); u-106 then claims CYTRAN (201).
    // u-107 signs up with CYTRAN2: attributed to u-003.
    (5, 1, "identify", "u-002", ID, "delivered", Some(200), None, None),
    (5, 2, "identify", "u-002", ID, "delivered", Some(200), None, None),
    (5, 3, "identify", "u-003", ID, "delivered", Some(200), None, None),
    (5, 4, "track", "u-106", TE, "dropped", Some(422), Some("REFERRAL_CODE_UNKNOWN"), None),
    (5, 5, "identify", "u-106", ID, "delivered", Some(201), None, None),
    (5, 6, "track", "u-107", TE, "delivered", Some(200), None, Some("attributed")),
];

/// A row as compared: [`StaticRow`] with owned text.
type Row = (
    usize,
    usize,
    String,
    String,
    Option<String>,
    String,
    Option<u16>,
    Option<String>,
    Option<String>,
);

fn owned(r: &StaticRow) -> Row {
    let text = |s: Option<&str>| s.map(str::to_owned);
    (
        r.0,
        r.1,
        r.2.to_owned(),
        r.3.to_owned(),
        text(r.4),
        r.5.to_owned(),
        r.6,
        text(r.7),
        text(r.8),
    )
}

fn row(d: &Delivery) -> Row {
    let user = match (&d.user_id, &d.anonymous_id) {
        (Some(user), _) => user.clone(),
        (None, Some(anonymous)) => format!("anon:{anonymous}"),
        (None, None) => "-".to_owned(),
    };
    (
        d.line,
        d.item.unwrap_or(0),
        d.message_type.clone().unwrap_or_default(),
        user,
        d.action.map(|a| a.as_str().to_owned()),
        d.outcome.as_str().to_owned(),
        d.status,
        d.reason.clone(),
        d.referral.clone(),
    )
}

async fn replay_corpus(client: &rehook_harness::Client) -> Report {
    let parsed = input::read_file(&fixture("node-sdk-referrals.ndjson")).expect("the corpus reads");
    assert_eq!(parsed.format, Format::NdjsonBatches);
    assert!(!parsed.gzip);
    assert_eq!(parsed.messages.len(), 31);
    replay(client, &parsed.messages, |_| {}).await
}

pub(crate) fn expected_summary() -> Summary {
    Summary {
        messages: 31,
        delivered: 13,
        dropped: 14,
        filtered: 4,
        errors: 0,
        accepted: 0,
        identify_created: 4,
        identify_updated: 4,
        events_stored: 5,
        referrals_attributed: 3,
        drops_by_reason: [
            ("REFERRAL_CODE_REQUIRED", 1),
            ("REFERRAL_CODE_TAKEN", 1),
            ("REFERRAL_CODE_UNKNOWN", 2),
            ("SELF_REFERRAL", 1),
            ("anonymous_only", 2),
            ("duplicate_message_id", 7),
        ]
        .into_iter()
        .map(|(reason, n)| (reason.to_owned(), n))
        .collect(),
    }
}

#[tokio::test]
async fn every_corpus_message_gets_the_outcome_the_contract_implies() {
    let (_mock, client) = seeded_fake(7).await;
    let report = replay_corpus(&client).await;

    let got: Vec<Row> = report.messages.iter().map(row).collect();
    assert_eq!(got, EXPECTED.iter().map(owned).collect::<Vec<_>>());
    assert_eq!(
        report.messages.iter().map(|d| d.index).collect::<Vec<_>>(),
        (1..=31).collect::<Vec<_>>()
    );
    assert_eq!(report.summary, expected_summary());
    assert!(report.all_answered());
}

#[tokio::test]
async fn the_retried_batch_is_skipped_as_duplicates_of_the_first_send() {
    let (_mock, client) = seeded_fake(7).await;
    let report = replay_corpus(&client).await;

    let first_send: Vec<_> = report.messages[11..18]
        .iter()
        .map(|d| &d.message_id)
        .collect();
    let retry: Vec<_> = report.messages[18..25]
        .iter()
        .map(|d| &d.message_id)
        .collect();
    assert_eq!(first_send, retry);
    assert!(first_send.iter().all(|id| id.is_some()));
    assert!(
        report.messages[18..25]
            .iter()
            .all(|d| d.outcome == Outcome::Dropped
                && d.reason.as_deref() == Some("duplicate_message_id")
                && d.action.is_none()
                && d.status.is_none())
    );
    assert!(
        report.messages[11..18]
            .iter()
            .all(|d| d.reason.as_deref() != Some("duplicate_message_id"))
    );
}

/// source_id, code when one was given, metadata, referral_count, referred_by.
type ExpectedCustomer = (
    &'static str,
    Option<&'static str>,
    Value,
    u64,
    Option<&'static str>,
);

/// outcome, status, reason, referral status.
type OutcomeRow<'a> = (&'a str, Option<u16>, Option<&'a str>, Option<&'a str>);

fn customer<'a>(customers: &'a [Customer], source_id: &str) -> &'a Customer {
    customers
        .iter()
        .find(|c| c.source_id == source_id)
        .unwrap_or_else(|| panic!("customer {source_id} exists"))
}

fn is_generated_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_uppercase())
}

#[tokio::test]
async fn the_corpus_leaves_exactly_the_customers_the_contract_implies() {
    let (_mock, client) = seeded_fake(7).await;
    replay_corpus(&client).await;
    let customers = client.admin_customers().await.expect("admin customers");

    // Sorted by source_id; u-010, u-103, u-104, u-105 and anon-1 were never created.
    let ids: Vec<&str> = customers.iter().map(|c| c.source_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "u-001", "u-002", "u-003", "u-101", "u-102", "u-106", "u-107"
        ]
    );

    let expected: [ExpectedCustomer; 7] = [
        (
            "u-001",
            Some("ADAPARK"),
            // The whole traits object, then `plan` replaced by the later identify.
            json!({"name": "Ada Park", "email": "ada.park@example.test", "plan": "enterprise",
                   "referral_code": "ADAPARK"}),
            1,
            None,
        ),
        (
            "u-002",
            None,
            // The audience trait was set true then false: `false` is kept; no context.
            json!({"name": "Ben Ortiz", "email": "ben.ortiz@example.test", "plan": "free",
                   "order_completed_last_30days": false}),
            0,
            None,
        ),
        (
            "u-003",
            Some("CYTRAN2"),
            json!({"name": "Cy Tran", "referral_code": "CYTRAN2"}),
            2,
            None,
        ),
        ("u-101", None, json!({}), 0, Some("u-001")),
        ("u-102", None, json!({}), 0, Some("u-003")),
        (
            "u-106",
            Some("CYTRAN"),
            json!({"name": "Fay Lind", "referral_code": "CYTRAN"}),
            0,
            None,
        ),
        ("u-107", None, json!({}), 0, Some("u-003")),
    ];
    for (source_id, code, metadata, referral_count, referred_by) in expected {
        let c = customer(&customers, source_id);
        match code {
            Some(code) => assert_eq!(c.referral_code, code, "{source_id}"),
            None => assert!(
                is_generated_code(&c.referral_code),
                "{source_id} has a generated code, got {}",
                c.referral_code
            ),
        }
        assert_eq!(Value::Object(c.metadata.clone()), metadata, "{source_id}");
        assert_eq!(c.referral_count, referral_count, "{source_id}");
        assert_eq!(c.referred_by.as_deref(), referred_by, "{source_id}");
        assert!(c.id.starts_with("cust_") && c.id.len() == 26, "{}", c.id);
        assert_eq!(
            c.referral_link,
            format!("https://rehook.test/r/{}", c.referral_code)
        );
    }
    let mut codes: Vec<&str> = customers.iter().map(|c| c.referral_code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), 7, "codes are unique");
}

#[tokio::test]
async fn the_corpus_leaves_the_referral_graph_and_codes_the_contract_implies() {
    let (_mock, client) = seeded_fake(7).await;
    replay_corpus(&client).await;

    let referred = |answer: rehook_harness::Answer| -> Vec<String> {
        assert_eq!(answer.status, 200);
        answer
            .body
            .as_array()
            .expect("an array")
            .iter()
            .map(|c| c["source_id"].as_str().expect("source_id").to_owned())
            .collect()
    };
    let list = |id: &'static str| {
        let client = client.clone();
        async move { client.referral_list(id).await.expect("answered") }
    };
    assert_eq!(referred(list("u-001").await), ["u-101"]);
    assert_eq!(referred(list("u-003").await), ["u-102", "u-107"]);
    assert!(referred(list("u-002").await).is_empty());
    assert!(referred(list("u-106").await).is_empty());

    for (code, owner) in [
        ("ADAPARK", "u-001"),
        ("CYTRAN2", "u-003"),
        ("CYTRAN", "u-106"),
    ] {
        let answer = client.validate_code(code).await.expect("answered");
        assert_eq!(answer.status, 200, "{code}");
        assert_eq!(answer.body["source_id"], owner, "{code}");
    }
    let unknown = client.validate_code("NOSUCH").await.expect("answered");
    assert_eq!(
        (unknown.status, unknown.error_code()),
        (404, Some("REFERRAL_CODE_NOT_FOUND"))
    );
    for never_created in ["u-010", "u-103", "u-104", "u-105", "anon-1"] {
        let answer = client.get_customer(never_created).await.expect("answered");
        assert_eq!(
            (answer.status, answer.error_code()),
            (404, Some("CUSTOMER_NOT_FOUND")),
            "{never_created}"
        );
    }
}

#[tokio::test]
async fn the_corpus_stores_five_events_in_arrival_order() {
    let (_mock, client) = seeded_fake(7).await;
    replay_corpus(&client).await;
    let events = client.admin_events().await.expect("admin events");

    let got: Vec<(&str, &str, Value)> = events
        .iter()
        .map(|e: &Event| {
            (
                e.event_name.as_str(),
                e.source_id.as_str(),
                Value::Object(e.metadata.clone()),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "signup",
                "u-101",
                json!({"referral_code": "ADAPARK", "source": "invite-link"})
            ),
            ("signup", "u-102", json!({"referral_code": "CYTRAN"})),
            ("signup", "u-101", json!({"referral_code": "CYTRAN"})),
            (
                "Order Completed",
                "u-101",
                json!({"order_id": "o-1", "total": 42.5, "currency": "EUR",
                       "products": [{"sku": "sku-1", "qty": 2}]})
            ),
            ("signup", "u-107", json!({"referral_code": "CYTRAN2"})),
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e.id.starts_with("evt_") && e.id.len() == 25)
    );
}

#[tokio::test]
async fn the_corpus_logs_five_business_rule_drops_with_the_mapped_bodies() {
    let (_mock, client) = seeded_fake(7).await;
    replay_corpus(&client).await;
    let drops = client.admin_drops().await.expect("admin drops");

    let got: Vec<(&str, u16, &str, &str, &Value)> = drops
        .iter()
        .map(|d: &DropEntry| {
            (
                d.reason.as_str(),
                d.status,
                d.endpoint.as_str(),
                d.layer.as_str(),
                &d.body,
            )
        })
        .collect();
    let expected = [
        (
            "REFERRAL_CODE_TAKEN",
            409,
            "POST /customers",
            json!({"source_id": "u-010", "referral_code": "ADAPARK",
                   "metadata": {"name": "Dee Voss", "city": "Ghent", "referral_code": "ADAPARK"}}),
        ),
        (
            "REFERRAL_CODE_REQUIRED",
            422,
            "POST /events/invoke",
            json!({"event_name": "signup", "source_id": "u-103", "metadata": {"source": "organic"}}),
        ),
        (
            "REFERRAL_CODE_UNKNOWN",
            422,
            "POST /events/invoke",
            json!({"event_name": "signup", "source_id": "u-104",
                   "metadata": {"referral_code": "NOSUCH"}}),
        ),
        (
            "SELF_REFERRAL",
            422,
            "POST /events/invoke",
            json!({"event_name": "signup", "source_id": "u-001",
                   "metadata": {"referral_code": "ADAPARK"}}),
        ),
        (
            "REFERRAL_CODE_UNKNOWN",
            422,
            "POST /events/invoke",
            json!({"event_name": "signup", "source_id": "u-106",
                   "metadata": {"referral_code": "CYTRAN"}}),
        ),
    ];
    let expected: Vec<(&str, u16, &str, &str, &Value)> = expected
        .iter()
        .map(|(reason, status, endpoint, body)| (*reason, *status, *endpoint, "rehook", body))
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn in_drop_mode_accept_the_same_messages_are_dropped_with_status_200() {
    let mock = MockRehook::builder()
        .seed(7)
        .drop_mode(DropMode::Accept)
        .start()
        .await;
    let client = client_for(&mock);
    let report = replay_corpus(&client).await;

    // Rehook refusals answer 200 {"status": "dropped", "reason": CODE}; nothing else changes.
    let expected: Vec<Row> = EXPECTED
        .iter()
        .map(|r| {
            let mut r = owned(r);
            if r.5 == "dropped" && r.6.is_some() {
                r.6 = Some(200);
            }
            r
        })
        .collect();
    let got: Vec<Row> = report.messages.iter().map(row).collect();
    assert_eq!(got, expected);
    assert_eq!(report.summary, expected_summary());
    assert_eq!(client.admin_drops().await.expect("drops").len(), 5);
    assert_eq!(client.admin_customers().await.expect("customers").len(), 7);
}

#[tokio::test]
async fn the_readme_example_file_covers_each_kind_of_outcome() {
    let (_mock, client) = seeded_fake(3).await;
    let parsed = input::read_file(&crate::support::example_file()).expect("the example reads");
    assert_eq!(parsed.format, Format::NdjsonMessages);
    let report = replay(&client, &parsed.messages, |_| {}).await;

    let outcomes: Vec<OutcomeRow<'_>> = report
        .messages
        .iter()
        .map(|d| {
            (
                d.outcome.as_str(),
                d.status,
                d.reason.as_deref(),
                d.referral.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("delivered", Some(201), None, None),
            ("delivered", Some(201), None, None),
            ("delivered", Some(200), None, Some("attributed")),
            ("delivered", Some(200), None, None),
            ("delivered", Some(200), None, None),
            ("dropped", None, Some("duplicate_message_id"), None),
            ("delivered", Some(200), None, Some("attributed")),
            ("delivered", Some(200), None, Some("already_referred")),
            ("dropped", Some(422), Some("REFERRAL_CODE_UNKNOWN"), None),
            ("dropped", Some(422), Some("SELF_REFERRAL"), None),
            ("dropped", Some(409), Some("REFERRAL_CODE_TAKEN"), None),
            ("delivered", Some(201), None, None),
            ("dropped", None, Some("anonymous_only"), None),
            ("filtered", None, None, None),
            ("dropped", None, Some("missing_event_name"), None),
            ("delivered", Some(200), None, None),
        ]
    );
    let customers = client.admin_customers().await.expect("customers");
    let ids: Vec<&str> = customers.iter().map(|c| c.source_id.as_str()).collect();
    // The numeric userId 4021 became the text "4021".
    assert_eq!(ids, ["4021", "ana", "bo", "cleo"]);
    let ana = customer(&customers, "ana");
    assert_eq!(ana.referral_count, 2);
    assert_eq!(ana.metadata["plan"], "pro");
    assert_eq!(
        customer(&customers, "bo").referred_by.as_deref(),
        Some("ana")
    );
    assert_eq!(
        customer(&customers, "cleo").referred_by.as_deref(),
        Some("ana")
    );
}

//! The test-only `faults` feature: each [`Fault`] changes exactly the rule it names.
//!
//! Every test runs one script of calls twice, against a fault-free fake and against one with
//! the fault (same seed, so generated codes agree), and pins both traces: the fault-free one is
//! the contract, the faulty one differs only where the fault says. The faulty fakes are the
//! broken servers the harness's proof-of-power tests must catch.

#![cfg(feature = "faults")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use rehook_mock::{Fault, MockRehook};
use serde_json::{Value, json};

use crate::support::{Fake, Reply, basic, send};

/// A fault-free fake and one running `fault`, with the same seed.
async fn fakes(fault: Fault) -> (Fake, Fake) {
    let clean = Fake::with(MockRehook::builder().seed(7)).await;
    let faulty = Fake::with(MockRehook::builder().seed(7).fault(fault)).await;
    (clean, faulty)
}

/// `script` against the fault-free fake and against the faulty one: the two traces.
async fn traces(fault: Fault, script: impl AsyncFn(&Fake) -> Value) -> (Value, Value) {
    let (clean, faulty) = fakes(fault).await;
    (script(&clean).await, script(&faulty).await)
}

/// An answer as `[status, code]` for errors, `[status, status field]` for invoke answers and
/// `[status, null]` for customers.
fn outcome(reply: &Reply) -> Value {
    if reply.status >= 400 {
        reply.error(reply.status, reply.body["code"].as_str().unwrap_or(""));
        json!([reply.status, reply.body["code"]])
    } else {
        reply.ok(reply.status);
        json!([reply.status, reply.body["status"]])
    }
}

/// The parts of a stored customer the faults touch; `null` when there is none.
async fn customer(fake: &Fake, source_id: &str) -> Value {
    let reply = fake.get(&format!("/customers/{source_id}")).await;
    if reply.status == 404 {
        return Value::Null;
    }
    let c = reply.ok(200);
    json!({
        "referral_code": c["referral_code"],
        "metadata": c["metadata"],
        "referred_by": c["referred_by"],
        "referral_count": c["referral_count"],
    })
}

/// Who owns `code` (validate-code), or the error code.
async fn owner(fake: &Fake, code: &str) -> Value {
    let reply = fake.get(&format!("/customers/validate-code/{code}")).await;
    match reply.status {
        200 => reply.body["source_id"].clone(),
        _ => reply.error(404, "REFERRAL_CODE_NOT_FOUND")["code"].clone(),
    }
}

/// The source_ids of `advocate`'s referral list, in the order served.
async fn referrals(fake: &Fake, advocate: &str) -> Value {
    let list = fake
        .get(&format!("/customers/referral/list/{advocate}"))
        .await;
    let sources: Vec<Value> = list
        .ok(200)
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["source_id"].clone())
        .collect();
    Value::Array(sources)
}

/// The drop log's reasons, in order.
async fn drops(fake: &Fake) -> Value {
    let log = fake.admin_get("/__admin/drops").await;
    let reasons: Vec<Value> = log
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| d["reason"].clone())
        .collect();
    Value::Array(reasons)
}

/// The stored events as `[source_id, event_name]`.
async fn events(fake: &Fake) -> Value {
    let log = fake.admin_get("/__admin/events").await;
    let events: Vec<Value> = log
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| json!([e["source_id"], e["event_name"]]))
        .collect();
    Value::Array(events)
}

async fn upsert(fake: &Fake, body: Value) -> Value {
    outcome(&fake.upsert(body).await)
}

async fn signup(fake: &Fake, source_id: &str, metadata: Value) -> Reply {
    fake.invoke(json!({"event_name": "signup", "source_id": source_id, "metadata": metadata}))
        .await
}

#[tokio::test]
async fn taken_code_claimable_lets_a_second_customer_claim_a_taken_code() {
    let (clean, faulty) = traces(Fault::TakenCodeClaimable, async |fake| {
        json!({
            "a": upsert(fake, json!({"source_id": "a", "referral_code": "ADA"})).await,
            "b": upsert(fake, json!({"source_id": "b", "referral_code": "ADA"})).await,
            "own": upsert(fake, json!({"source_id": "a", "referral_code": "ADA"})).await,
            "stored_a": customer(fake, "a").await["referral_code"],
            "stored_b": customer(fake, "b").await["referral_code"],
            "owner": owner(fake, "ADA").await,
            "drops": drops(fake).await,
        })
    })
    .await;
    assert_eq!(
        clean,
        json!({
            "a": [201, null], "b": [409, "REFERRAL_CODE_TAKEN"],
            "own": [200, null], "stored_a": "ADA", "stored_b": null, "owner": "a",
            "drops": ["REFERRAL_CODE_TAKEN"],
        })
    );
    assert_eq!(
        faulty,
        json!({
            "a": [201, null], "b": [201, null],
            "own": [200, null], "stored_a": "ADA", "stored_b": "ADA", "owner": "b",
            "drops": [],
        }),
        "two owners of one code; validate-code names the latest claimant"
    );
}

#[tokio::test]
async fn metadata_replaced_loses_the_keys_an_update_does_not_send() {
    let (clean, faulty) = traces(Fault::MetadataReplaced, async |fake| {
        json!({
            "create": upsert(fake, json!({"source_id": "u", "metadata": {"a": 1, "b": 1}})).await,
            "created": customer(fake, "u").await["metadata"],
            "update": upsert(fake, json!({"source_id": "u", "metadata": {"b": 2, "c": null}})).await,
            "updated": customer(fake, "u").await["metadata"],
            "none_sent": upsert(fake, json!({"source_id": "u"})).await,
            "kept": customer(fake, "u").await["metadata"],
        })
    })
    .await;
    assert_eq!(
        clean,
        json!({
            "create": [201, null], "created": {"a": 1, "b": 1},
            "update": [200, null], "updated": {"a": 1, "b": 2, "c": null},
            "none_sent": [200, null], "kept": {"a": 1, "b": 2, "c": null},
        })
    );
    assert_eq!(
        faulty,
        json!({
            "create": [201, null], "created": {"a": 1, "b": 1},
            "update": [200, null], "updated": {"b": 2, "c": null},
            "none_sent": [200, null], "kept": {"b": 2, "c": null},
        }),
        "an update without metadata still keeps it"
    );
}

#[tokio::test]
async fn conversion_without_code_accepted_stores_a_codeless_conversion_as_a_plain_event() {
    let (clean, faulty) = traces(Fault::ConversionWithoutCodeAccepted, async |fake| {
        let codeless = signup(fake, "f", json!({"plan": "pro"})).await;
        json!({
            "adv": upsert(fake, json!({"source_id": "adv", "referral_code": "ADV"})).await,
            "codeless": outcome(&codeless),
            "referral": codeless.body.get("referral").cloned(),
            "blank": outcome(&signup(fake, "g", json!({"referral_code": " "})).await),
            "unknown": outcome(&signup(fake, "h", json!({"referral_code": "NOPE"})).await),
            "f": customer(fake, "f").await["referred_by"],
            "events": events(fake).await,
            "drops": drops(fake).await,
            "adv_count": customer(fake, "adv").await["referral_count"],
        })
    })
    .await;
    assert_eq!(
        clean,
        json!({
            "adv": [201, null],
            "codeless": [422, "REFERRAL_CODE_REQUIRED"], "referral": null,
            "blank": [422, "REFERRAL_CODE_REQUIRED"], "unknown": [422, "REFERRAL_CODE_UNKNOWN"],
            "f": null, "events": [],
            "drops": ["REFERRAL_CODE_REQUIRED", "REFERRAL_CODE_REQUIRED", "REFERRAL_CODE_UNKNOWN"],
            "adv_count": 0,
        })
    );
    assert_eq!(
        faulty,
        json!({
            "adv": [201, null],
            "codeless": [200, "ok"], "referral": null,
            "blank": [200, "ok"], "unknown": [422, "REFERRAL_CODE_UNKNOWN"],
            "f": null, "events": [["f", "signup"], ["g", "signup"]],
            "drops": ["REFERRAL_CODE_UNKNOWN"],
            "adv_count": 0,
        }),
        "stored without attribution; an unknown code is still refused"
    );
}

#[tokio::test]
async fn freed_code_still_taken_keeps_a_replaced_code_reserved() {
    let (clean, faulty) = traces(Fault::FreedCodeStillTaken, async |fake| {
        json!({
            "a": upsert(fake, json!({"source_id": "a", "referral_code": "OLD"})).await,
            "replace": upsert(fake, json!({"source_id": "a", "referral_code": "NEW"})).await,
            "a_code": customer(fake, "a").await["referral_code"],
            "new_owner": owner(fake, "NEW").await,
            "old_owner": owner(fake, "OLD").await,
            "claim_old": upsert(fake, json!({"source_id": "b", "referral_code": "OLD"})).await,
            "b": customer(fake, "b").await["referral_code"],
        })
    })
    .await;
    assert_eq!(
        clean,
        json!({
            "a": [201, null], "replace": [200, null], "a_code": "NEW", "new_owner": "a",
            "old_owner": "REFERRAL_CODE_NOT_FOUND", "claim_old": [201, null], "b": "OLD",
        })
    );
    assert_eq!(
        faulty,
        json!({
            "a": [201, null], "replace": [200, null], "a_code": "NEW", "new_owner": "a",
            "old_owner": "a", "claim_old": [409, "REFERRAL_CODE_TAKEN"], "b": null,
        })
    );
}

#[tokio::test]
async fn referred_friend_reattributed_moves_a_friend_to_the_newer_advocate() {
    let (clean, faulty) = traces(Fault::ReferredFriendReattributed, async |fake| {
        upsert(fake, json!({"source_id": "one", "referral_code": "ONE"})).await;
        upsert(fake, json!({"source_id": "two", "referral_code": "TWO"})).await;
        let first = signup(fake, "f", json!({"referral_code": "ONE"})).await;
        let second = signup(fake, "f", json!({"referral_code": "TWO"})).await;
        let third = signup(fake, "f", json!({"referral_code": "TWO"})).await;
        json!({
            "first": first.ok(200)["referral"],
            "second": second.ok(200)["referral"],
            "third": third.ok(200)["referral"],
            "f": customer(fake, "f").await["referred_by"],
            "counts": [customer(fake, "one").await["referral_count"],
                       customer(fake, "two").await["referral_count"]],
            "lists": [referrals(fake, "one").await, referrals(fake, "two").await],
            "events": events(fake).await.as_array().map(Vec::len),
        })
    })
    .await;
    let attributed = |advocate: &str| json!({"advocate": advocate, "status": "attributed"});
    let already = |advocate: &str| json!({"advocate": advocate, "status": "already_referred"});
    assert_eq!(
        clean,
        json!({
            "first": attributed("one"), "second": already("one"), "third": already("one"),
            "f": "one", "counts": [1, 0], "lists": [["f"], []], "events": 3,
        })
    );
    assert_eq!(
        faulty,
        json!({
            "first": attributed("one"), "second": attributed("two"), "third": already("two"),
            "f": "two", "counts": [0, 1], "lists": [[], ["f"]], "events": 3,
        }),
        "the same advocate again is still already_referred"
    );
}

#[tokio::test]
async fn conflict_writes_metadata_merges_metadata_of_a_refused_update() {
    let (clean, faulty) = traces(Fault::ConflictWritesMetadata, async |fake| {
        json!({
            "a": upsert(fake, json!({"source_id": "a", "referral_code": "ADA"})).await,
            "b": upsert(fake, json!({"source_id": "b", "metadata": {"k": 1}})).await,
            "refused": upsert(fake, json!({"source_id": "b", "referral_code": "ADA", "metadata": {"k": 2, "x": true}})).await,
            "stored_b": customer(fake, "b").await,
            "refused_create": upsert(fake, json!({"source_id": "c", "referral_code": "ADA", "metadata": {"k": 3}})).await,
            "c": customer(fake, "c").await,
            "drops": drops(fake).await,
        })
    })
    .await;
    // Same seed, same calls: b's generated code is the same in both.
    let code = clean["stored_b"]["referral_code"].clone();
    assert!(crate::support::is_generated_code(code.as_str().unwrap()));
    let b = |metadata: Value| json!({"referral_code": code, "metadata": metadata, "referred_by": null, "referral_count": 0});
    let taken = json!([409, "REFERRAL_CODE_TAKEN"]);
    assert_eq!(
        clean,
        json!({
            "a": [201, null], "b": [201, null], "refused": taken, "stored_b": b(json!({"k": 1})),
            "refused_create": taken, "c": null,
            "drops": ["REFERRAL_CODE_TAKEN", "REFERRAL_CODE_TAKEN"],
        })
    );
    assert_eq!(
        faulty,
        json!({
            "a": [201, null], "b": [201, null], "refused": taken,
            "stored_b": b(json!({"k": 2, "x": true})),
            "refused_create": taken, "c": null,
            "drops": ["REFERRAL_CODE_TAKEN", "REFERRAL_CODE_TAKEN"],
        }),
        "the code stays, the metadata is written; a refused create still creates nothing"
    );
}

#[tokio::test]
async fn unprocessable_not_logged_answers_422s_but_leaves_them_out_of_the_drop_log() {
    let (clean, faulty) = traces(Fault::UnprocessableNotLogged, async |fake| {
        json!({
            "a": upsert(fake, json!({"source_id": "a", "referral_code": "ADA"})).await,
            "required": outcome(&signup(fake, "f", json!({})).await),
            "unknown": outcome(&signup(fake, "f", json!({"referral_code": "NOPE"})).await),
            "self": outcome(&signup(fake, "a", json!({"referral_code": "ADA"})).await),
            "taken": upsert(fake, json!({"source_id": "b", "referral_code": "ADA"})).await,
            "drops": drops(fake).await,
            "f": customer(fake, "f").await,
            "events": events(fake).await,
        })
    })
    .await;
    let answers = json!({
        "a": [201, null], "required": [422, "REFERRAL_CODE_REQUIRED"],
        "unknown": [422, "REFERRAL_CODE_UNKNOWN"], "self": [422, "SELF_REFERRAL"],
        "taken": [409, "REFERRAL_CODE_TAKEN"], "f": null, "events": [],
    });
    let with_drops = |drops: Value| {
        let mut trace = answers.clone();
        trace["drops"] = drops;
        trace
    };
    assert_eq!(
        clean,
        with_drops(json!([
            "REFERRAL_CODE_REQUIRED",
            "REFERRAL_CODE_UNKNOWN",
            "SELF_REFERRAL",
            "REFERRAL_CODE_TAKEN"
        ]))
    );
    assert_eq!(
        faulty,
        with_drops(json!(["REFERRAL_CODE_TAKEN"])),
        "same answers, same (empty) state; only the 409 is logged"
    );
}

#[tokio::test]
async fn unprocessable_not_logged_also_skips_accepted_drops() {
    let fake = Fake::with(
        MockRehook::builder()
            .drop_mode(rehook_mock::DropMode::Accept)
            .fault(Fault::UnprocessableNotLogged),
    )
    .await;
    let reply = signup(&fake, "f", json!({})).await;
    assert_eq!(
        reply.ok(200),
        &json!({"status": "dropped", "reason": "REFERRAL_CODE_REQUIRED"})
    );
    assert_eq!(drops(&fake).await, json!([]));
    assert_eq!(customer(&fake, "f").await, Value::Null);
}

#[tokio::test]
async fn create_answers_ok_creates_with_200() {
    let (clean, faulty) = traces(Fault::CreateAnswersOk, async |fake| {
        let created = fake.upsert(json!({"source_id": "u", "metadata": {"a": 1}})).await;
        json!({
            "create": outcome(&created),
            "body": customer(fake, "u").await,
            "same_body": created.body["id"] == fake.get("/customers/u").await.body["id"],
            "update": upsert(fake, json!({"source_id": "u", "metadata": {"b": 2}})).await,
            "event_create": outcome(&fake.invoke(json!({"event_name": "e", "source_id": "v"})).await),
            "v": customer(fake, "v").await["referral_code"],
        })
    })
    .await;
    // Same seed, same calls: the generated codes are the same in both.
    let (u, v) = (clean["body"]["referral_code"].clone(), clean["v"].clone());
    assert!(crate::support::is_generated_code(u.as_str().unwrap()) && u != v);
    let expected = |create: u16| {
        json!({
            "create": [create, null],
            "body": {"referral_code": u, "metadata": {"a": 1}, "referred_by": null, "referral_count": 0},
            "same_body": true, "update": [200, null], "event_create": [200, "ok"], "v": v,
        })
    };
    assert_eq!(clean, expected(201));
    assert_eq!(
        faulty,
        expected(200),
        "created all the same; an event still creates its caller"
    );
}

#[tokio::test]
async fn self_referral_accepted_attributes_a_customer_to_itself() {
    let (clean, faulty) = traces(Fault::SelfReferralAccepted, async |fake| {
        upsert(fake, json!({"source_id": "a", "referral_code": "ADA"})).await;
        let own = signup(fake, "a", json!({"referral_code": "ADA"})).await;
        json!({
            "own": outcome(&own),
            "referral": own.body.get("referral").cloned(),
            "a": customer(fake, "a").await,
            "list": referrals(fake, "a").await,
            "drops": drops(fake).await,
            "other": signup(fake, "f", json!({"referral_code": "ADA"})).await.ok(200)["referral"],
        })
    })
    .await;
    assert_eq!(
        clean,
        json!({
            "own": [422, "SELF_REFERRAL"], "referral": null,
            "a": {"referral_code": "ADA", "metadata": {}, "referred_by": null, "referral_count": 0},
            "list": [], "drops": ["SELF_REFERRAL"],
            "other": {"advocate": "a", "status": "attributed"},
        })
    );
    assert_eq!(
        faulty,
        json!({
            "own": [200, "ok"], "referral": {"advocate": "a", "status": "attributed"},
            "a": {"referral_code": "ADA", "metadata": {}, "referred_by": "a", "referral_count": 1},
            "list": ["a"], "drops": [],
            "other": {"advocate": "a", "status": "attributed"},
        })
    );
}

#[tokio::test]
async fn referral_list_newest_first_reverses_the_list_only() {
    let (clean, faulty) = traces(Fault::ReferralListNewestFirst, async |fake| {
        upsert(fake, json!({"source_id": "adv", "referral_code": "ADV"})).await;
        for friend in ["f-2", "f-3", "f-1"] {
            signup(fake, friend, json!({"referral_code": "ADV"}))
                .await
                .ok(200);
        }
        let alias = fake.get("/customers/referrals/adv").await;
        json!({
            "list": referrals(fake, "adv").await,
            "alias": alias.ok(200).as_array().map(|l| l.iter().map(|c| c["source_id"].clone()).collect::<Vec<_>>()),
            "count": customer(fake, "adv").await["referral_count"],
            "empty": referrals(fake, "f-1").await,
        })
    })
    .await;
    assert_eq!(
        clean,
        json!({"list": ["f-2", "f-3", "f-1"], "alias": ["f-2", "f-3", "f-1"], "count": 3, "empty": []})
    );
    assert_eq!(
        faulty,
        json!({"list": ["f-1", "f-3", "f-2"], "alias": ["f-1", "f-3", "f-2"], "count": 3, "empty": []})
    );
}

#[tokio::test]
async fn numeric_source_id_rejected_refuses_numbers_but_not_numeric_text() {
    let (clean, faulty) = traces(Fault::NumericSourceIdRejected, async |fake| {
        let refused = fake.upsert(json!({"source_id": 4021})).await;
        json!({
            "number": outcome(&refused),
            "field": refused.body["details"]["field"],
            "event": outcome(&fake.invoke(json!({"event_name": "e", "source_id": 77})).await),
            "text": upsert(fake, json!({"source_id": "4022"})).await,
            "stored": [customer(fake, "4021").await.is_object(), customer(fake, "77").await.is_object(),
                       customer(fake, "4022").await.is_object()],
            "drops": drops(fake).await,
        })
    })
    .await;
    assert_eq!(
        clean,
        json!({
            "number": [201, null], "field": null, "event": [200, "ok"], "text": [201, null],
            "stored": [true, true, true], "drops": [],
        })
    );
    assert_eq!(
        faulty,
        json!({
            "number": [400, "INVALID_SOURCE_ID"], "field": "source_id",
            "event": [400, "INVALID_SOURCE_ID"], "text": [201, null],
            "stored": [false, false, true], "drops": [],
        })
    );
}

#[tokio::test]
async fn accepted_drop_stored_stores_refused_events_in_accept_mode_only() {
    let script = async |fake: &Fake| {
        upsert(fake, json!({"source_id": "a", "referral_code": "ADA"})).await;
        json!({
            "required": signup(fake, "f", json!({"plan": "pro"})).await.ok(200).clone(),
            "own": signup(fake, "a", json!({"referral_code": "ADA"})).await.ok(200).clone(),
            "taken": fake.upsert(json!({"source_id": "b", "referral_code": "ADA"})).await.ok(200).clone(),
            "f": customer(fake, "f").await,
            "b": customer(fake, "b").await,
            "a_count": customer(fake, "a").await["referral_count"],
            "events": events(fake).await,
            "drops": drops(fake).await,
        })
    };
    let accept = || {
        MockRehook::builder()
            .seed(7)
            .drop_mode(rehook_mock::DropMode::Accept)
    };
    let clean = script(&Fake::with(accept()).await).await;
    let faulty = script(&Fake::with(accept().fault(Fault::AcceptedDropStored)).await).await;
    let dropped = |reason: &str| json!({"status": "dropped", "reason": reason});
    let answers = json!({
        "required": dropped("REFERRAL_CODE_REQUIRED"), "own": dropped("SELF_REFERRAL"),
        "taken": dropped("REFERRAL_CODE_TAKEN"), "b": null, "a_count": 0,
        "drops": ["REFERRAL_CODE_REQUIRED", "SELF_REFERRAL", "REFERRAL_CODE_TAKEN"],
    });
    let with_events = |events: Value, f: Value| {
        let mut trace = answers.clone();
        trace["events"] = events;
        trace["f"] = f;
        trace
    };
    assert_eq!(clean, with_events(json!([]), Value::Null));
    let f = &faulty["f"];
    assert!(crate::support::is_generated_code(
        f["referral_code"].as_str().unwrap_or("")
    ));
    let created = json!({"referral_code": f["referral_code"], "metadata": {}, "referred_by": null, "referral_count": 0});
    assert_eq!(
        faulty,
        with_events(json!([["f", "signup"], ["a", "signup"]]), created),
        "same answers and drop log; the events are stored, without attribution (f exists now, \
         but unreferred); a refused customer is still not created"
    );
    // In drop mode reject the fault changes nothing.
    let (clean, faulty) = traces(Fault::AcceptedDropStored, async |fake| {
        json!({
            "required": outcome(&signup(fake, "f", json!({})).await),
            "events": events(fake).await,
        })
    })
    .await;
    assert_eq!(clean, faulty);
    assert_eq!(
        faulty,
        json!({"required": [422, "REFERRAL_CODE_REQUIRED"], "events": []})
    );
}

#[tokio::test]
async fn code_match_case_insensitive_treats_a_code_in_another_case_as_the_same_code() {
    let (clean, faulty) = traces(Fault::CodeMatchCaseInsensitive, async |fake| {
        json!({
            "a": upsert(fake, json!({"source_id": "a", "referral_code": "CASE"})).await,
            "b": upsert(fake, json!({"source_id": "b", "referral_code": "case"})).await,
            "owner_lower": owner(fake, "case").await,
            "owner_mixed": owner(fake, "Case").await,
            "signup": outcome(&signup(fake, "f", json!({"referral_code": "Case"})).await),
            "f": customer(fake, "f").await["referred_by"],
            "exact": outcome(&signup(fake, "g", json!({"referral_code": "CASE"})).await),
            "drops": drops(fake).await,
        })
    })
    .await;
    assert_eq!(
        clean,
        json!({
            "a": [201, null], "b": [201, null],
            "owner_lower": "b", "owner_mixed": "REFERRAL_CODE_NOT_FOUND",
            "signup": [422, "REFERRAL_CODE_UNKNOWN"], "f": null,
            "exact": [200, "ok"],
            "drops": ["REFERRAL_CODE_UNKNOWN"],
        })
    );
    assert_eq!(
        faulty,
        json!({
            "a": [201, null], "b": [409, "REFERRAL_CODE_TAKEN"],
            "owner_lower": "a", "owner_mixed": "a",
            "signup": [200, "ok"], "f": "a",
            "exact": [200, "ok"],
            "drops": ["REFERRAL_CODE_TAKEN"],
        })
    );
}

#[tokio::test]
async fn an_application_added_later_runs_with_the_servers_fault() {
    let fake = Fake::with(MockRehook::builder().fault(Fault::CreateAnswersOk)).await;
    let config = json!({"applications": [
        {"api_key": "rk_test_key"},
        {"api_key": "second", "api_secret": "s"},
    ]});
    let put = crate::support::send(
        fake.request(reqwest::Method::PUT, "/__admin/config")
            .json(&config),
    )
    .await;
    put.ok(200);
    let created = crate::support::send(
        fake.request(reqwest::Method::POST, "/customers")
            .header("authorization", crate::support::basic("second", "s"))
            .json(&json!({"source_id": "u"})),
    )
    .await;
    assert_eq!(created.status, 200, "{created:?}");
    assert_eq!(
        upsert(&fake, json!({"source_id": "u"})).await,
        json!([200, null])
    );
}

#[test]
fn every_fault_has_its_own_flag_name() {
    let names: Vec<&str> = Fault::all().iter().map(|f| f.name()).collect();
    let unique: std::collections::BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), Fault::all().len(), "{names:?}");
    assert_eq!(
        Fault::TakenCodeClaimable.to_string(),
        "taken-code-claimable"
    );
    assert!(
        names
            .iter()
            .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')),
        "{names:?}"
    );
}

#[tokio::test]
async fn the_binary_runs_with_a_fault_given_by_a_hidden_flag() {
    let help = Command::new(env!("CARGO_BIN_EXE_rehook-mock"))
        .arg("--help")
        .output()
        .expect("run rehook-mock --help");
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--seed") && !help.contains("--fault"),
        "{help}"
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_rehook-mock"))
        .args(["--bind", "127.0.0.1:0", "--fault", "create-answers-ok"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rehook-mock");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let first = stdout.next().expect("a listening line").expect("text");
    let url = first
        .strip_prefix("rehook-mock listening on ")
        .unwrap_or_else(|| panic!("not a listening line: {first:?}"))
        .to_owned();
    let answer = crate::support::client()
        .post(format!("{url}/customers"))
        .header(
            "authorization",
            crate::support::basic("rk_test_key", "rk_test_secret"),
        )
        .json(&json!({"source_id": "u"}))
        .send()
        .await
        .expect("the fake answers");
    let status = answer.status().as_u16();
    let _ = child.kill();
    let output = child.wait_with_output().expect("the binary ends");
    assert_eq!(status, 200, "a create answered 200: the fault is on");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("deliberate fault") && stderr.contains("create-answers-ok"),
        "the start warns about the fault: {stderr}"
    );
}

#[tokio::test]
async fn duplicate_message_id_delivered_makes_the_mapped_call_of_a_repeated_message_again() {
    let (clean, faulty) = traces(Fault::DuplicateMessageIdDelivered, async |fake| {
        let mut outcomes = Vec::new();
        for plan in ["first", "second"] {
            let message = json!({"type": "identify", "userId": "ada", "messageId": "m-1",
                                 "traits": {"plan": plan}});
            let reply = send(
                fake.request(reqwest::Method::POST, "/v1/batch")
                    .header("authorization", basic("wk_test", ""))
                    .json(&json!({"batch": [message]})),
            )
            .await;
            assert_eq!(reply.status, 200, "{:?}", reply.body);
            outcomes.push(reply.body["success"].clone());
        }
        let log = fake.admin_get("/__admin/deliveries").await;
        let entries: Vec<Value> = log
            .as_array()
            .expect("a list")
            .iter()
            .map(|e| json!([e["outcome"], e["status"], e["reason"]]))
            .collect();
        json!({"answers": outcomes, "log": entries,
               "plan": customer(fake, "ada").await["metadata"]["plan"]})
    })
    .await;
    assert_eq!(
        clean,
        json!({"answers": [true, true],
               "log": [["delivered", 201, null], ["dropped", null, "duplicate_message_id"]],
               "plan": "first"})
    );
    assert_eq!(
        faulty,
        json!({"answers": [true, true],
               "log": [["delivered", 201, null], ["delivered", 200, null]],
               "plan": "second"})
    );
}

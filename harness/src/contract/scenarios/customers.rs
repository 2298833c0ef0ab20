//! Contract 2.3 to 2.6: create or update by source_id, merging, codes (generated, taken,
//! replaced, freed), and the reads.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::ctx::{ensure, is_generated_code};
use super::{Ctx, Scenario, Step, scenario};
use crate::contract::target::{Api, Request, path};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(
            "customers",
            create_answers_201_then_update_200,
            "an unknown source_id is created (201, the customer), a known one updated (200); unknown top-level keys are ignored"
        ),
        scenario!(
            "customers",
            metadata_merges_shallowly,
            "an update replaces each sent top-level key (null stored as null) and keeps the keys not sent"
        ),
        scenario!(
            "customers",
            numeric_source_id_is_text,
            "a numeric source_id is stored as its decimal text; 4021 and 4021.0 are the same customer"
        ),
        scenario!(
            "customers",
            source_id_kept_as_sent,
            "a source_id with surrounding white space is stored as sent, not trimmed"
        ),
        scenario!(
            "customers",
            generated_codes_are_six_letters_and_unique,
            "without a code a customer gets six letters A-Z that no other customer holds, and it validates"
        ),
        scenario!(
            "customers",
            taken_code_changes_nothing,
            "a code another customer owns is 409 REFERRAL_CODE_TAKEN: no creation, no metadata or code change"
        ),
        scenario!(
            "customers",
            new_code_replaces_and_frees_the_old,
            "a different code replaces the old one, which no longer validates and can be claimed by another customer"
        ),
        scenario!(
            "customers",
            own_code_is_no_conflict,
            "sending the customer's own code is 200, no change and no conflict; null, \"\" or no code keep it"
        ),
        scenario!(
            "customers",
            numeric_code_is_text,
            "a numeric referral_code is stored as its text and matched exactly"
        ),
        scenario!(
            "customers",
            codes_match_case_sensitively,
            "codes match exactly, case included: a code in another case is a different code (no conflict, 404 on validate-code, REFERRAL_CODE_UNKNOWN on a conversion)"
        ),
        scenario!(
            "customers",
            read_by_source_id_or_id,
            "GET (and POST) /customers/{id} finds by source_id, else by cust_ id; unknown is 404 CUSTOMER_NOT_FOUND"
        ),
        scenario!(
            "customers",
            validate_code_finds_the_owner,
            "validate-code answers the owner (GET and POST); unknown or differently cased is 404 REFERRAL_CODE_NOT_FOUND"
        ),
        scenario!(
            "customers",
            referral_list_of_new_and_unknown,
            "a customer without referrals lists []; an unknown one is 404 CUSTOMER_NOT_FOUND on both list paths"
        ),
    ]
}

async fn create_answers_201_then_update_200(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    let created = cx
        .upsert(json!({"source_id": sid, "metadata": {"plan": "free"}, "unexpected": [1, 2]}))
        .await?;
    created
        .status(201)?
        .customer_shape("")?
        .field("/source_id", sid.as_str())?
        .field("/metadata", json!({"plan": "free"}))?
        .field("/referral_count", 0)?
        .field("/referred_by", Value::Null)?;
    let id = created.text("/id")?;
    let code = created.text("/referral_code")?;
    let updated = cx
        .upsert(json!({"source_id": sid, "metadata": {"plan": "pro"}}))
        .await?;
    updated
        .status(200)?
        .field("/id", id.as_str())?
        .field("/referral_code", code.as_str())?
        .field("/metadata", json!({"plan": "pro"}))?;
    let stored = cx.customer(&sid).await?;
    stored
        .field("/id", id)?
        .field("/metadata", json!({"plan": "pro"}))?
        .holds("no `unexpected` key stored", |c| {
            c.get("unexpected").is_none()
        })?;
    Ok(())
}

async fn metadata_merges_shallowly(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    cx.upsert(json!({"source_id": sid, "metadata": {"plan": "free", "seats": 3, "tags": {"a": 1, "b": 2}}}))
        .await?
        .status(201)?;
    cx.upsert(json!({"source_id": sid, "metadata": {"plan": null, "tags": {"c": 3}, "new": true}}))
        .await?
        .status(200)?
        .field(
            "/metadata",
            json!({"plan": null, "seats": 3, "tags": {"c": 3}, "new": true}),
        )?;
    // No metadata, or null, changes nothing.
    cx.upsert(json!({"source_id": sid})).await?.status(200)?;
    cx.upsert(json!({"source_id": sid, "metadata": null}))
        .await?
        .status(200)?;
    cx.upsert(json!({"source_id": sid, "metadata": {}}))
        .await?
        .status(200)?;
    cx.customer(&sid).await?.field(
        "/metadata",
        json!({"plan": null, "seats": 3, "tags": {"c": 3}, "new": true}),
    )?;
    Ok(())
}

async fn numeric_source_id_is_text(cx: &mut Ctx<'_>) -> Step {
    let n = cx.number("sid");
    let text = n.to_string();
    cx.upsert(json!({"source_id": n}))
        .await?
        .status(201)?
        .field("/source_id", text.as_str())?;
    cx.upsert(json!({"source_id": n as f64, "metadata": {"seen": 2}}))
        .await?
        .status(200)?
        .field("/source_id", text.as_str())?;
    cx.upsert(json!({"source_id": text, "metadata": {"seen": 3}}))
        .await?
        .status(200)?;
    cx.customer(&text).await?.field("/metadata/seen", 3)?;
    Ok(())
}

async fn source_id_kept_as_sent(cx: &mut Ctx<'_>) -> Step {
    let padded = format!("  {}  ", cx.sid("a"));
    cx.upsert(json!({"source_id": padded}))
        .await?
        .status(201)?
        .field("/source_id", padded.as_str())?;
    cx.customer(&padded)
        .await?
        .field("/source_id", padded.as_str())?;
    cx.absent(&cx.sid("a")).await
}

async fn generated_codes_are_six_letters_and_unique(cx: &mut Ctx<'_>) -> Step {
    let mut codes = HashSet::new();
    for tag in ["a", "b", "c", "d", "e"] {
        let sid = cx.sid(tag);
        let created = cx.upsert(json!({"source_id": sid})).await?;
        created.status(201)?.customer_shape("")?;
        let code = created.text("/referral_code")?;
        ensure(is_generated_code(&code), || {
            format!("customer {sid}: expected a generated code of six letters A-Z, got {code:?}")
        })?;
        ensure(codes.insert(code.clone()), || {
            format!("customer {sid}: generated code {code} was already handed out in this scenario")
        })?;
        cx.get(&["customers", "validate-code", &code])
            .await?
            .status(200)?
            .field("/source_id", sid.as_str())?;
        // An update keeps the code.
        cx.upsert(json!({"source_id": sid, "metadata": {"x": 1}}))
            .await?
            .status(200)?
            .field("/referral_code", code.as_str())?;
    }
    Ok(())
}

async fn taken_code_changes_nothing(cx: &mut Ctx<'_>) -> Step {
    let (owner, other, newcomer, code) = (
        cx.sid("owner"),
        cx.sid("other"),
        cx.sid("new"),
        cx.code("A"),
    );
    cx.create(&owner, &code).await?;
    let before = cx
        .upsert(json!({"source_id": other, "metadata": {"plan": "free"}}))
        .await?;
    before.status(201)?;
    let other_code = before.text("/referral_code")?;
    // An existing customer claiming the code: nothing of the call is applied.
    cx.upsert(
        json!({"source_id": other, "referral_code": code, "metadata": {"plan": "pro", "extra": 1}}),
    )
    .await?
    .error(409, "REFERRAL_CODE_TAKEN")?;
    // A new customer claiming it: not created.
    cx.upsert(json!({"source_id": newcomer, "referral_code": code}))
        .await?
        .error(409, "REFERRAL_CODE_TAKEN")?;
    cx.customer(&other)
        .await?
        .field("/referral_code", other_code)?
        .field("/metadata", json!({"plan": "free"}))?;
    cx.absent(&newcomer).await?;
    cx.get(&["customers", "validate-code", &code])
        .await?
        .status(200)?
        .field("/source_id", owner.as_str())?;
    Ok(())
}

async fn new_code_replaces_and_frees_the_old(cx: &mut Ctx<'_>) -> Step {
    let (sid, other) = (cx.sid("a"), cx.sid("b"));
    let (old, new) = (cx.code("OLD"), cx.code("NEW"));
    cx.create(&sid, &old).await?;
    cx.upsert(json!({"source_id": sid, "referral_code": new}))
        .await?
        .status(200)?
        .field("/referral_code", new.as_str())?;
    cx.get(&["customers", "validate-code", &old])
        .await?
        .error(404, "REFERRAL_CODE_NOT_FOUND")?;
    cx.get(&["customers", "validate-code", &new])
        .await?
        .status(200)?
        .field("/source_id", sid.as_str())?;
    // The freed code is anyone's.
    cx.create(&other, &old).await?;
    cx.get(&["customers", "validate-code", &old])
        .await?
        .status(200)?
        .field("/source_id", other.as_str())?;
    cx.customer(&sid).await?.field("/referral_code", new)?;
    Ok(())
}

async fn own_code_is_no_conflict(cx: &mut Ctx<'_>) -> Step {
    let (sid, code) = (cx.sid("a"), cx.code("A"));
    cx.create(&sid, &code).await?;
    cx.upsert(json!({"source_id": sid, "referral_code": code, "metadata": {"k": 1}}))
        .await?
        .status(200)?
        .field("/referral_code", code.as_str())?
        .field("/metadata", json!({"k": 1}))?;
    for none in [Value::Null, json!("")] {
        cx.upsert(json!({"source_id": sid, "referral_code": none}))
            .await?
            .status(200)?
            .field("/referral_code", code.as_str())?;
    }
    cx.upsert(json!({"source_id": sid})).await?.status(200)?;
    cx.customer(&sid).await?.field("/referral_code", code)?;
    Ok(())
}

async fn numeric_code_is_text(cx: &mut Ctx<'_>) -> Step {
    let (sid, friend) = (cx.sid("a"), cx.sid("friend"));
    let n = cx.number("code");
    let text = n.to_string();
    cx.upsert(json!({"source_id": sid, "referral_code": n}))
        .await?
        .status(201)?
        .field("/referral_code", text.as_str())?;
    cx.get(&["customers", "validate-code", &text])
        .await?
        .status(200)?
        .field("/source_id", sid.as_str())?;
    // A conversion may carry the code as a number too.
    cx.convert(&friend, json!(n))
        .await?
        .status(200)?
        .field("/referral/advocate", sid.as_str())?
        .field("/referral/status", "attributed")?;
    Ok(())
}

async fn codes_match_case_sensitively(cx: &mut Ctx<'_>) -> Step {
    let (upper_owner, lower_owner, friend, other_friend) = (
        cx.sid("upper"),
        cx.sid("lower"),
        cx.sid("friend"),
        cx.sid("other-friend"),
    );
    let code = cx.code("Case");
    let (upper, lower) = (code.to_uppercase(), code.to_lowercase());
    cx.create(&upper_owner, &upper).await?;
    cx.get(&["customers", "validate-code", &lower])
        .await?
        .error(404, "REFERRAL_CODE_NOT_FOUND")?;
    cx.convert(&friend, json!(lower))
        .await?
        .error(422, "REFERRAL_CODE_UNKNOWN")?;
    cx.absent(&friend).await?;
    // The other case is free to claim: no conflict with the holder of the first.
    cx.create(&lower_owner, &lower).await?;
    for (held, owner) in [(&upper, &upper_owner), (&lower, &lower_owner)] {
        cx.get(&["customers", "validate-code", held])
            .await?
            .status(200)?
            .field("/source_id", owner.as_str())?;
    }
    cx.convert(&other_friend, json!(lower))
        .await?
        .status(200)?
        .field(
            "/referral",
            json!({"advocate": lower_owner, "status": "attributed"}),
        )?;
    cx.customer(&upper_owner)
        .await?
        .field("/referral_code", upper.as_str())?
        .field("/referral_count", 0)?;
    Ok(())
}

async fn read_by_source_id_or_id(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    let created = cx.upsert(json!({"source_id": sid})).await?;
    created.status(201)?;
    let id = created.text("/id")?;
    cx.customer(&id).await?.field("/source_id", sid.as_str())?;
    cx.send(Request::new(
        "POST",
        Api::Rehook,
        path(&["customers", &sid]),
    ))
    .await?
    .status(200)?
    .field("/id", id.as_str())?;
    cx.absent(&cx.sid("missing")).await?;
    cx.send(Request::new(
        "POST",
        Api::Rehook,
        path(&["customers", &cx.sid("missing")]),
    ))
    .await?
    .error(404, "CUSTOMER_NOT_FOUND")?;
    Ok(())
}

async fn validate_code_finds_the_owner(cx: &mut Ctx<'_>) -> Step {
    let (sid, code) = (cx.sid("a"), cx.code("Mixed"));
    cx.create(&sid, &code).await?;
    cx.get(&["customers", "validate-code", &code])
        .await?
        .status(200)?
        .customer_shape("")?
        .field("/source_id", sid.as_str())?;
    cx.send(Request::new(
        "POST",
        Api::Rehook,
        path(&["customers", "validate-code", &code]),
    ))
    .await?
    .status(200)?
    .field("/source_id", sid.as_str())?;
    for wrong in [code.to_lowercase(), code.to_uppercase(), cx.code("nobody")] {
        cx.get(&["customers", "validate-code", &wrong])
            .await?
            .error(404, "REFERRAL_CODE_NOT_FOUND")?;
    }
    Ok(())
}

async fn referral_list_of_new_and_unknown(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    cx.upsert(json!({"source_id": sid})).await?.status(201)?;
    for list in ["referral/list", "referrals"] {
        let mut segments = vec!["customers"];
        segments.extend(list.split('/'));
        let known = [segments.clone(), vec![&sid]].concat();
        cx.get(&known).await?.status(200)?.field("", json!([]))?;
        let missing = cx.sid("missing");
        let unknown = [segments, vec![&missing]].concat();
        cx.get(&unknown).await?.error(404, "CUSTOMER_NOT_FOUND")?;
    }
    Ok(())
}

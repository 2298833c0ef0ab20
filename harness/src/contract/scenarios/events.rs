//! Contract 2.7: events, conversions and referrals.

use serde_json::{Value, json};

use super::ctx::{ensure, is_generated_code, is_id};
use super::{Ctx, Scenario, Step, scenario};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(
            "events",
            conversion_attributes_the_referral,
            "a conversion with an advocate's code sets referred_by, adds one to referral_count and lists the friend"
        ),
        scenario!(
            "events",
            referral_list_oldest_first,
            "the referral list is oldest referral first, the same at /customers/referrals/{source_id}"
        ),
        scenario!(
            "events",
            already_referred_keeps_the_advocate,
            "a second conversion of a referred customer answers already_referred and changes no referral"
        ),
        scenario!(
            "events",
            self_referral_refused,
            "a conversion with the caller's own code is 422 SELF_REFERRAL and changes nothing"
        ),
        scenario!(
            "events",
            referral_code_required,
            "a conversion without a usable metadata.referral_code is 422 REFERRAL_CODE_REQUIRED and creates nothing"
        ),
        scenario!(
            "events",
            referral_code_unknown,
            "a conversion with a code nobody owns is 422 REFERRAL_CODE_UNKNOWN and creates nothing"
        ),
        scenario!(
            "events",
            other_events_never_attribute,
            "an event that is not a conversion never attributes, even with a referral code"
        ),
        scenario!(
            "events",
            unknown_caller_created_on_the_fly,
            "an event from an unknown source_id creates it (no metadata, a generated code) and answers 200 {status, event, referral}"
        ),
    ]
}

async fn conversion_attributes_the_referral(cx: &mut Ctx<'_>) -> Step {
    let (advocate, friend, code) = (cx.sid("adv"), cx.sid("friend"), cx.code("A"));
    cx.create(&advocate, &code).await?;
    cx.upsert(json!({"source_id": friend, "metadata": {"plan": "free"}}))
        .await?
        .status(201)?;
    let event = cx.conversion().to_owned();
    cx.convert(&friend, json!(code))
        .await?
        .status(200)?
        .field("/status", "ok")?
        .field("/event/event_name", event.as_str())?
        .field("/event/source_id", friend.as_str())?
        .field("/event/metadata", json!({"referral_code": code}))?
        .field(
            "/referral",
            json!({"advocate": advocate, "status": "attributed"}),
        )?;
    cx.customer(&friend)
        .await?
        .field("/referred_by", advocate.as_str())?
        .field("/referral_count", 0)?
        .field("/metadata", json!({"plan": "free"}))?;
    cx.customer(&advocate)
        .await?
        .field("/referral_count", 1)?
        .field("/referred_by", Value::Null)?;
    cx.get(&["customers", "referral", "list", &advocate])
        .await?
        .status(200)?
        .holds("one entry", |b| b.as_array().is_some_and(|a| a.len() == 1))?
        .customer_shape("/0")?
        .field("/0/source_id", friend.as_str())?
        .field("/0/referred_by", advocate.as_str())?;
    Ok(())
}

async fn referral_list_oldest_first(cx: &mut Ctx<'_>) -> Step {
    let (advocate, code) = (cx.sid("adv"), cx.code("A"));
    cx.create(&advocate, &code).await?;
    // Created in one order, referred in another: the list follows the referrals.
    let friends = [cx.sid("f1"), cx.sid("f2"), cx.sid("f3")];
    for friend in &friends {
        cx.upsert(json!({"source_id": friend})).await?.status(201)?;
    }
    let order = [&friends[2], &friends[0], &friends[1]];
    for friend in order {
        cx.convert(friend, json!(code))
            .await?
            .status(200)?
            .field("/referral/status", "attributed")?;
    }
    let expected: Vec<&str> = order.iter().map(|s| s.as_str()).collect();
    for segments in [
        vec!["customers", "referral", "list", &advocate],
        vec!["customers", "referrals", &advocate],
    ] {
        let list = cx.get(&segments).await?;
        list.status(200)?;
        let got: Vec<&str> = list
            .body()
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["source_id"].as_str())
            .collect();
        ensure(got == expected, || {
            format!(
                "referral list of {advocate}: expected {expected:?} (oldest referral first), got {got:?}"
            )
        })?;
    }
    cx.customer(&advocate).await?.field("/referral_count", 3)?;
    Ok(())
}

async fn already_referred_keeps_the_advocate(cx: &mut Ctx<'_>) -> Step {
    let (first, second, friend) = (cx.sid("adv1"), cx.sid("adv2"), cx.sid("friend"));
    let (code1, code2) = (cx.code("A"), cx.code("B"));
    cx.create(&first, &code1).await?;
    cx.create(&second, &code2).await?;
    cx.convert(&friend, json!(code1))
        .await?
        .status(200)?
        .field("/referral/status", "attributed")?;
    for code in [&code2, &code1] {
        cx.convert(&friend, json!(code))
            .await?
            .status(200)?
            .field("/status", "ok")?
            .field("/referral/status", "already_referred")?;
    }
    cx.customer(&friend)
        .await?
        .field("/referred_by", first.as_str())?;
    cx.customer(&first).await?.field("/referral_count", 1)?;
    cx.customer(&second).await?.field("/referral_count", 0)?;
    cx.get(&["customers", "referral", "list", &second])
        .await?
        .status(200)?
        .field("", json!([]))?;
    Ok(())
}

async fn self_referral_refused(cx: &mut Ctx<'_>) -> Step {
    let (sid, code) = (cx.sid("a"), cx.code("A"));
    cx.create(&sid, &code).await?;
    cx.convert(&sid, json!(code))
        .await?
        .error(422, "SELF_REFERRAL")?;
    cx.customer(&sid)
        .await?
        .field("/referred_by", Value::Null)?
        .field("/referral_count", 0)?;
    cx.get(&["customers", "referral", "list", &sid])
        .await?
        .status(200)?
        .field("", json!([]))?;
    Ok(())
}

async fn referral_code_required(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    let event = cx.conversion().to_owned();
    let bodies = [
        json!({"event_name": event, "source_id": sid}),
        json!({"event_name": event, "source_id": sid, "metadata": {}}),
        json!({"event_name": event, "source_id": sid, "metadata": null}),
        json!({"event_name": event, "source_id": sid, "metadata": {"referral_code": null}}),
        json!({"event_name": event, "source_id": sid, "metadata": {"referral_code": ""}}),
        json!({"event_name": event, "source_id": sid, "metadata": {"referral_code": "  "}}),
        json!({"event_name": event, "source_id": sid, "metadata": {"referral_code": true}}),
        json!({"event_name": event, "source_id": sid, "metadata": {"referral_code": {"c": "X"}}}),
    ];
    for body in bodies {
        cx.invoke(body)
            .await?
            .error(422, "REFERRAL_CODE_REQUIRED")?;
    }
    // The caller was not created on the fly.
    cx.absent(&sid).await
}

async fn referral_code_unknown(cx: &mut Ctx<'_>) -> Step {
    let (sid, known, code) = (cx.sid("new"), cx.sid("known"), cx.code("nobody"));
    cx.upsert(json!({"source_id": known})).await?.status(201)?;
    for caller in [&sid, &known] {
        cx.convert(caller, json!(code))
            .await?
            .error(422, "REFERRAL_CODE_UNKNOWN")?;
    }
    cx.absent(&sid).await?;
    cx.customer(&known)
        .await?
        .field("/referred_by", Value::Null)?;
    Ok(())
}

async fn other_events_never_attribute(cx: &mut Ctx<'_>) -> Step {
    let (advocate, friend, code) = (cx.sid("adv"), cx.sid("friend"), cx.code("A"));
    cx.create(&advocate, &code).await?;
    let event = cx.other_event();
    cx.invoke(
        json!({"event_name": event, "source_id": friend, "metadata": {"referral_code": code}}),
    )
    .await?
    .status(200)?
    .field("/status", "ok")?
    .field("/referral", Value::Null)?
    .field("/event/metadata", json!({"referral_code": code}))?;
    cx.customer(&friend)
        .await?
        .field("/referred_by", Value::Null)?;
    cx.customer(&advocate).await?.field("/referral_count", 0)?;
    // The friend can still be referred by a conversion later.
    cx.convert(&friend, json!(code))
        .await?
        .status(200)?
        .field("/referral/status", "attributed")?;
    Ok(())
}

async fn unknown_caller_created_on_the_fly(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    let event = cx.other_event();
    let answer = cx
        .invoke(json!({"event_name": event, "source_id": sid, "metadata": {"page": "/pricing", "n": 2}}))
        .await?;
    answer
        .status(200)?
        .field("/status", "ok")?
        .field("/referral", Value::Null)?
        .field("/event/event_name", event)?
        .field("/event/source_id", sid.as_str())?
        .field("/event/metadata", json!({"page": "/pricing", "n": 2}))?
        .holds("an evt_ id and a received_at time", |b| {
            is_id(&b["event"]["id"], "evt_") && b["event"]["received_at"].is_string()
        })?;
    let customer = cx.customer(&sid).await?;
    customer
        .field("/metadata", json!({}))?
        .field("/referred_by", Value::Null)?
        .field("/referral_count", 0)?;
    let code = customer.text("/referral_code")?;
    ensure(is_generated_code(&code), || {
        format!("customer {sid} created by an event: expected a generated code, got {code:?}")
    })?;
    // Event without metadata is fine too.
    cx.invoke(json!({"event_name": event, "source_id": sid}))
        .await?
        .status(200)?
        .field("/event/metadata", json!({}))?;
    Ok(())
}

//! Contract section 3. When the target has a Segment front door, each message is posted to
//! `POST /v1/batch` and its outcome read from the delivery log ([`Ctx::play`]), then the
//! state it left is read through the Rehook API. Without one, Segment's ingestion and the
//! Rehook destination's default mapping run in the harness (as `rehook-harness replay`
//! does): only the mapped calls' answers and the state are checked, and an outcome decided
//! without a call is shown as `ingestion played by the harness`.

use serde_json::{Value, json};

use super::ctx::ensure;
use super::{Ctx, Scenario, Step, scenario};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(
            "segment",
            identify_upserts_the_customer,
            "identify: source_id from userId, metadata from traits, referral_code from traits.referral_code; 201 then 200"
        ),
        scenario!(
            "segment",
            track_invokes_the_event,
            "track: event_name from event, metadata from properties; a conversion with a code attributes"
        ),
        scenario!(
            "segment",
            unsubscribed_types_are_filtered,
            "page, screen, group and alias are filtered: no call, nothing stored"
        ),
        scenario!(
            "segment",
            anonymous_only_is_dropped,
            "identify and track with only an anonymousId are dropped (anonymous_only); nothing stored"
        ),
        scenario!(
            "segment",
            missing_identity_is_dropped,
            "a message without userId and anonymousId (null and \"\" count as absent) is dropped (missing_identity)"
        ),
        scenario!(
            "segment",
            missing_event_name_is_dropped,
            "a track without a non-empty event is dropped (missing_event_name); no customer created"
        ),
        scenario!(
            "segment",
            duplicate_message_id_is_dropped,
            "a messageId seen before is dropped (duplicate_message_id); messages without one are each delivered"
        ),
        scenario!(
            "segment",
            context_never_enters_metadata,
            "context (Engage's context.personas included) never enters customer or event metadata"
        ),
        scenario!(
            "segment",
            false_traits_are_kept,
            "a trait set to false is stored as false, and a numeric userId as its text"
        ),
        scenario!(
            "segment",
            unknown_type_is_dropped,
            "a message with a missing or unknown type (types are case sensitive) is dropped (invalid_type); nothing stored"
        ),
        scenario!(
            "segment",
            numeric_event_is_text,
            "a track's numeric event is sent as its text, as Segment's validation writes numbers"
        ),
        scenario!(
            "segment",
            refused_call_is_dropped_with_the_code,
            "a mapped call the Rehook API refuses is dropped with its error code and stores nothing"
        ),
    ]
}

async fn identify_upserts_the_customer(cx: &mut Ctx<'_>) -> Step {
    let (sid, code) = (cx.sid("a"), cx.code("A"));
    let first = cx
        .play(
            json!({"type": "identify", "userId": sid, "messageId": cx.sid("m1"),
                     "traits": {"name": "Ada", "plan": "free", "referral_code": code}}),
        )
        .await?;
    first.expect("1", "delivered", None)?.status("1", 201)?;
    if let Some(got) = first.answered() {
        got.field("/source_id", sid.as_str())?
            .field("/referral_code", code.as_str())?
            .field("/metadata/name", "Ada")?;
    }
    let second = cx
        .play(
            json!({"type": "identify", "userId": sid, "messageId": cx.sid("m2"),
                     "traits": {"plan": "pro"}}),
        )
        .await?;
    second.expect("2", "delivered", None)?.status("2", 200)?;
    cx.customer(&sid)
        .await?
        .field("/referral_code", code.as_str())?
        .field("/metadata/name", "Ada")?
        .field("/metadata/plan", "pro")?;
    Ok(())
}

async fn track_invokes_the_event(cx: &mut Ctx<'_>) -> Step {
    let (advocate, friend, code) = (cx.sid("adv"), cx.sid("friend"), cx.code("A"));
    cx.play(json!({"type": "identify", "userId": advocate, "traits": {"referral_code": code}}))
        .await?
        .expect("1", "delivered", None)?;
    let event = cx.conversion().to_owned();
    let converted = cx
        .play(json!({"type": "track", "userId": friend, "event": event,
                     "properties": {"referral_code": code, "plan": "pro"}}))
        .await?;
    converted.expect("2", "delivered", None)?.status("2", 200)?;
    if let Some(got) = converted.answered() {
        got.field("/event/event_name", event.as_str())?
            .field(
                "/event/metadata",
                json!({"referral_code": code, "plan": "pro"}),
            )?
            .field(
                "/referral",
                json!({"advocate": advocate, "status": "attributed"}),
            )?;
    }
    let other = cx.other_event();
    let plain = cx
        .play(json!({"type": "track", "userId": friend, "event": other, "properties": {}}))
        .await?;
    plain.expect("3", "delivered", None)?.status("3", 200)?;
    if let Some(got) = plain.answered() {
        got.field("/event/event_name", other)?
            .field("/referral", Value::Null)?;
    }
    cx.customer(&friend)
        .await?
        .field("/referred_by", advocate.as_str())?;
    cx.customer(&advocate).await?.field("/referral_count", 1)?;
    Ok(())
}

async fn unsubscribed_types_are_filtered(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    for (n, message) in [
        json!({"type": "page", "userId": sid, "name": "Pricing"}),
        json!({"type": "screen", "userId": sid, "name": "Home"}),
        json!({"type": "group", "userId": sid, "groupId": "g-1", "traits": {"plan": "team"}}),
        json!({"type": "alias", "userId": sid, "previousId": cx.sid("old")}),
    ]
    .into_iter()
    .enumerate()
    {
        let played = cx.play(message).await?;
        played.expect(&(n + 1).to_string(), "filtered", None)?;
    }
    cx.absent(&sid).await
}

async fn anonymous_only_is_dropped(cx: &mut Ctx<'_>) -> Step {
    let anonymous = cx.sid("anon");
    let event = cx.conversion().to_owned();
    cx.play(json!({"type": "identify", "anonymousId": anonymous, "traits": {"plan": "free"}}))
        .await?
        .expect("1", "dropped", Some("anonymous_only"))?;
    cx.play(json!({"type": "track", "userId": null, "anonymousId": anonymous, "event": event}))
        .await?
        .expect("2", "dropped", Some("anonymous_only"))?;
    cx.absent(&anonymous).await
}

async fn missing_identity_is_dropped(cx: &mut Ctx<'_>) -> Step {
    cx.play(json!({"type": "identify", "traits": {"plan": "free"}}))
        .await?
        .expect("1", "dropped", Some("missing_identity"))?;
    cx.play(json!({"type": "track", "userId": "", "anonymousId": null, "event": "x"}))
        .await?
        .expect("2", "dropped", Some("missing_identity"))?;
    Ok(())
}

async fn missing_event_name_is_dropped(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    cx.play(json!({"type": "track", "userId": sid, "properties": {"x": 1}}))
        .await?
        .expect("1", "dropped", Some("missing_event_name"))?;
    cx.play(json!({"type": "track", "userId": sid, "event": ""}))
        .await?
        .expect("2", "dropped", Some("missing_event_name"))?;
    cx.absent(&sid).await
}

async fn duplicate_message_id_is_dropped(cx: &mut Ctx<'_>) -> Step {
    let (sid, id) = (cx.sid("a"), cx.sid("m1"));
    cx.play(
        json!({"type": "identify", "userId": sid, "messageId": id, "traits": {"plan": "first"}}),
    )
    .await?
    .expect("1", "delivered", None)?;
    cx.play(
        json!({"type": "identify", "userId": sid, "messageId": id, "traits": {"plan": "second"}}),
    )
    .await?
    .expect("2", "dropped", Some("duplicate_message_id"))?;
    cx.customer(&sid).await?.field("/metadata/plan", "first")?;
    for (n, plan) in [("3", "third"), ("4", "fourth")] {
        cx.play(json!({"type": "identify", "userId": sid, "traits": {"plan": plan}}))
            .await?
            .expect(n, "delivered", None)?;
    }
    cx.customer(&sid).await?.field("/metadata/plan", "fourth")?;
    Ok(())
}

async fn context_never_enters_metadata(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    let context = json!({"ip": "203.0.113.9", "library": {"name": "analytics-node"},
                         "personas": {"computation_key": "vip", "space_id": "spa_1"}});
    let identified = cx
        .play(
            json!({"type": "identify", "userId": sid, "traits": {"plan": "free"}, "context": context}),
        )
        .await?;
    identified
        .expect("1", "delivered", None)?
        .status("1", 201)?;
    if let Some(got) = identified.answered() {
        got.field("/metadata", json!({"plan": "free"}))?;
    }
    let event = cx.other_event();
    let tracked = cx
        .play(json!({"type": "track", "userId": sid, "event": event, "properties": {"n": 1}, "context": context}))
        .await?;
    tracked.expect("2", "delivered", None)?.status("2", 200)?;
    if let Some(got) = tracked.answered() {
        got.field("/event/metadata", json!({"n": 1}))?;
    }
    let customer = cx.customer(&sid).await?;
    customer.field("/metadata", json!({"plan": "free"}))?;
    ensure(
        ["ip", "library", "personas", "context"]
            .iter()
            .all(|k| customer.at("/metadata").get(k).is_none()),
        || {
            format!(
                "customer {sid}: context keys in metadata: {}",
                customer.at("/metadata")
            )
        },
    )
}

async fn false_traits_are_kept(cx: &mut Ctx<'_>) -> Step {
    let n = cx.number("user");
    let text = n.to_string();
    let played = cx
        .play(json!({"type": "identify", "userId": n, "traits": {"newsletter": false, "vip": false, "score": 0}}))
        .await?;
    played.expect("1", "delivered", None)?.status("1", 201)?;
    if let Some(got) = played.answered() {
        got.field("/source_id", text.as_str())?;
    }
    cx.customer(&text)
        .await?
        .field("/metadata/newsletter", false)?
        .field("/metadata/vip", false)?
        .field("/metadata/score", 0)?;
    Ok(())
}

async fn refused_call_is_dropped_with_the_code(cx: &mut Ctx<'_>) -> Step {
    let (owner, other, code) = (cx.sid("owner"), cx.sid("other"), cx.code("A"));
    cx.play(json!({"type": "identify", "userId": owner, "traits": {"referral_code": code}}))
        .await?
        .expect("1", "delivered", None)?;
    cx.play(json!({"type": "identify", "userId": other, "traits": {"referral_code": code}}))
        .await?
        .expect("2", "dropped", Some("REFERRAL_CODE_TAKEN"))?;
    cx.play(json!({"type": "track", "userId": owner, "event": cx.conversion(), "properties": {"referral_code": code}}))
        .await?
        .expect("3", "dropped", Some("SELF_REFERRAL"))?;
    cx.absent(&other).await?;
    cx.customer(&owner)
        .await?
        .field("/referred_by", Value::Null)?;
    Ok(())
}

async fn unknown_type_is_dropped(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    for (n, message) in [
        json!({"userId": sid, "traits": {"plan": "free"}}),
        json!({"type": "Identify", "userId": sid, "traits": {"plan": "free"}}),
        json!({"type": "purchase", "userId": sid}),
    ]
    .into_iter()
    .enumerate()
    {
        cx.play(message)
            .await?
            .expect(&(n + 1).to_string(), "dropped", Some("invalid_type"))?;
    }
    cx.absent(&sid).await
}

async fn numeric_event_is_text(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    let played = cx
        .play(json!({"type": "track", "userId": sid, "event": 404, "properties": {"page": "/x"}}))
        .await?;
    played.expect("1", "delivered", None)?.status("1", 200)?;
    if let Some(got) = played.answered() {
        got.field("/event/event_name", "404")?
            .field("/event/source_id", sid.as_str())?
            .field("/referral", Value::Null)?;
    }
    cx.customer(&sid)
        .await?
        .field("/referred_by", Value::Null)?;
    Ok(())
}

//! Contract 2.9 and the drop log: each business-rule refusal is logged with its reason, and
//! drop mode `accept` answers it with `200 {"status":"dropped"}`. These need the admin API.

use serde_json::{Value, json};

use super::ctx::ensure;
use super::{Ctx, Got, Scenario, Step, scenario};
use crate::contract::target::{Api, Request};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(
            "drops",
            each_refusal_is_logged,
            "409 REFERRAL_CODE_TAKEN and the 422s enter the drop log with reason, status, layer rehook and endpoint; a 400 does not",
            admin
        ),
        scenario!(
            "drops",
            accept_mode_answers_dropped,
            "in drop mode accept each refusal answers 200 {\"status\":\"dropped\",\"reason\"}, stores nothing and is logged",
            admin
        ),
        scenario!(
            "drops",
            events_are_stored_as_sent,
            "stored events (admin) hold name, source_id and metadata as sent ({} when none); refused events are not stored",
            admin
        ),
    ]
}

/// The four business-rule refusals, made fresh for `tag`: (answer, reason, status, endpoint).
async fn refusals(
    cx: &mut Ctx<'_>,
    tag: &str,
) -> Step<Vec<(Got, &'static str, u16, &'static str)>> {
    let (owner, other, code) = (
        cx.sid(&format!("{tag}-owner")),
        cx.sid(&format!("{tag}-other")),
        cx.code(tag),
    );
    cx.create(&owner, &code).await?;
    let taken = cx
        .upsert(json!({"source_id": other, "referral_code": code}))
        .await?;
    let event = cx.conversion().to_owned();
    let required = cx
        .invoke(json!({"event_name": event, "source_id": other}))
        .await?;
    let unknown = cx
        .convert(&other, json!(cx.code(&format!("{tag}-nobody"))))
        .await?;
    let own = cx.convert(&owner, json!(code)).await?;
    Ok(vec![
        (taken, "REFERRAL_CODE_TAKEN", 409, "POST /customers"),
        (
            required,
            "REFERRAL_CODE_REQUIRED",
            422,
            "POST /events/invoke",
        ),
        (unknown, "REFERRAL_CODE_UNKNOWN", 422, "POST /events/invoke"),
        (own, "SELF_REFERRAL", 422, "POST /events/invoke"),
    ])
}

/// Expects the drop-log entry of `got`'s request.
async fn logged(cx: &mut Ctx<'_>, got: &Got, reason: &str, status: u16, endpoint: &str) -> Step {
    let entry = cx.drop_entry(got.request_id()).await?;
    let id = got.request_id().unwrap_or("-").to_owned();
    let Some(entry) = entry else {
        return Err(super::Mismatch(format!(
            "drop log: no entry for request {id} ({reason})"
        )));
    };
    ensure(
        entry["reason"] == reason
            && entry["status"] == status
            && entry["layer"] == "rehook"
            && entry["endpoint"] == endpoint
            && entry["body"].is_object(),
        || {
            format!(
                "drop log entry of {id}: expected reason {reason}, status {status}, layer rehook, \
                 endpoint {endpoint:?} and the body, got {entry}"
            )
        },
    )
}

async fn each_refusal_is_logged(cx: &mut Ctx<'_>) -> Step {
    for (got, reason, status, endpoint) in refusals(cx, "r").await? {
        got.error(status, reason)?;
        logged(cx, &got, reason, status, endpoint).await?;
    }
    let bad = cx.upsert(json!({"source_id": true})).await?;
    bad.error(400, "INVALID_SOURCE_ID")?;
    let entry = cx.drop_entry(bad.request_id()).await?;
    ensure(entry.is_none(), || {
        format!("drop log: a 400 validation error was logged as a drop: {entry:?}")
    })
}

/// `PUT /__admin/config` with `doc`.
async fn put_config(cx: &mut Ctx<'_>, doc: Value) -> Step {
    cx.send(Request::new("PUT", Api::Admin, "/config").json(doc))
        .await?
        .status(200)?;
    Ok(())
}

async fn accept_mode_answers_dropped(cx: &mut Ctx<'_>) -> Step {
    let original = cx.admin_get("/config").await?;
    let mut accepting = original.clone();
    let key = cx.api_key().to_owned();
    let mut found = false;
    let mut was_rejecting = true;
    if let Some(apps) = accepting["applications"].as_array_mut() {
        for app in apps.iter_mut().filter(|a| a["api_key"] == key.as_str()) {
            was_rejecting = app["drop_mode"] == "reject" || app["drop_mode"].is_null();
            app["drop_mode"] = json!("accept");
            found = true;
        }
    }
    ensure(found, || {
        format!("GET /__admin/config lists no application {key}: {original}")
    })?;
    put_config(cx, accepting).await?;
    let checked = accepting_refusals(cx).await;
    // Put the settings back whatever happened.
    let restored = put_config(cx, original).await;
    checked?;
    restored?;
    if !was_rejecting {
        return Ok(());
    }
    // Back in reject mode: refused again.
    let (owner, code) = (cx.sid("after-owner"), cx.code("after"));
    cx.create(&owner, &code).await?;
    cx.upsert(json!({"source_id": cx.sid("after-other"), "referral_code": code}))
        .await?
        .error(409, "REFERRAL_CODE_TAKEN")?;
    Ok(())
}

async fn accepting_refusals(cx: &mut Ctx<'_>) -> Step {
    for (got, reason, status, endpoint) in refusals(cx, "acc").await? {
        got.status(200)?
            .field("", json!({"status": "dropped", "reason": reason}))?;
        logged(cx, &got, reason, status, endpoint).await?;
    }
    // Nothing was stored: the claimant was not created, nobody was referred.
    let (owner, other) = (cx.sid("acc-owner"), cx.sid("acc-other"));
    cx.absent(&other).await?;
    cx.customer(&owner)
        .await?
        .field("/referral_count", 0)?
        .field("/referred_by", Value::Null)?;
    let events = cx
        .admin_get(&format!("/events?source_id={}", query(&owner)))
        .await?;
    ensure(events == json!([]), || {
        format!("events of {owner}: expected none stored by dropped calls, got {events}")
    })
}

/// `text` encoded for a query string.
fn query(text: &str) -> String {
    let url = reqwest::Url::parse_with_params("http://x/", [("v", text)]).expect("valid");
    url.query()
        .unwrap_or("v=")
        .trim_start_matches("v=")
        .to_owned()
}

async fn events_are_stored_as_sent(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    let event = cx.other_event();
    cx.invoke(json!({"event_name": event, "source_id": sid, "metadata": {"n": 1.5, "nested": {"k": [1, null]}}}))
        .await?
        .status(200)?;
    cx.invoke(json!({"event_name": event, "source_id": sid}))
        .await?
        .status(200)?;
    cx.convert(&sid, json!(cx.code("nobody")))
        .await?
        .error(422, "REFERRAL_CODE_UNKNOWN")?;
    let events = cx
        .admin_get(&format!("/events?source_id={}", query(&sid)))
        .await?;
    let got: Vec<(Value, Value, Value)> = events
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let name = e.get("event_name").or_else(|| e.get("name")).cloned();
            (
                name.unwrap_or(Value::Null),
                e["source_id"].clone(),
                e["metadata"].clone(),
            )
        })
        .collect();
    let expected = vec![
        (
            json!(event),
            json!(sid),
            json!({"n": 1.5, "nested": {"k": [1, null]}}),
        ),
        (json!(event), json!(sid), json!({})),
    ];
    ensure(got == expected, || {
        format!("events of {sid}: expected {expected:?} in arrival order, got {events}")
    })
}

//! Contract 2.2 and the order of checks: field validation answers `400` with the first bad
//! field's code, and changes nothing.

use serde_json::{Value, json};

use super::{Ctx, Scenario, Step, scenario};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(
            "validation",
            source_id_required,
            "a source_id that is missing, null, \"\" or blank is 400 SOURCE_ID_REQUIRED, on customers and events"
        ),
        scenario!(
            "validation",
            invalid_source_id,
            "a boolean, object or array source_id is 400 INVALID_SOURCE_ID and creates nothing"
        ),
        scenario!(
            "validation",
            invalid_metadata,
            "metadata that is not an object, null or absent is 400 INVALID_METADATA and creates nothing"
        ),
        scenario!(
            "validation",
            invalid_referral_code,
            "a code over 64 characters, with white space or control characters, or an object is 400 INVALID_REFERRAL_CODE and creates nothing"
        ),
        scenario!(
            "validation",
            event_name_required,
            "an event_name that is missing, null or \"\" is 400 EVENT_NAME_REQUIRED and creates no customer"
        ),
        scenario!(
            "validation",
            invalid_event_name,
            "an event_name that is not a string is 400 INVALID_EVENT_NAME and creates no customer"
        ),
        scenario!(
            "validation",
            first_bad_field_wins,
            "with several bad fields the first in the order source_id, event_name, metadata, referral_code is reported"
        ),
    ]
}

async fn source_id_required(cx: &mut Ctx<'_>) -> Step {
    let bodies: [Value; 4] = [
        json!({"metadata": {"plan": "pro"}}),
        json!({"source_id": null}),
        json!({"source_id": ""}),
        json!({"source_id": " \t "}),
    ];
    for body in bodies {
        cx.upsert(body.clone())
            .await?
            .error(400, "SOURCE_ID_REQUIRED")?;
        let mut event = body;
        event["event_name"] = json!(cx.other_event());
        cx.invoke(event).await?.error(400, "SOURCE_ID_REQUIRED")?;
    }
    Ok(())
}

async fn invalid_source_id(cx: &mut Ctx<'_>) -> Step {
    for bad in [
        json!(true),
        json!({"id": cx.sid("a")}),
        json!([cx.sid("a")]),
    ] {
        cx.upsert(json!({"source_id": bad}))
            .await?
            .error(400, "INVALID_SOURCE_ID")?;
        let event = cx.other_event();
        cx.invoke(json!({"source_id": bad, "event_name": event}))
            .await?
            .error(400, "INVALID_SOURCE_ID")?;
    }
    cx.absent(&cx.sid("a")).await
}

async fn invalid_metadata(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    for bad in [json!("plan=pro"), json!(["pro"]), json!(7), json!(false)] {
        cx.upsert(json!({"source_id": sid, "metadata": bad}))
            .await?
            .error(400, "INVALID_METADATA")?;
        let event = cx.other_event();
        cx.invoke(json!({"source_id": sid, "event_name": event, "metadata": bad}))
            .await?
            .error(400, "INVALID_METADATA")?;
    }
    cx.absent(&sid).await
}

async fn invalid_referral_code(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    let long = "C".repeat(65);
    for bad in [
        json!(long),
        json!("HAS SPACE"),
        json!("TAB\tCODE"),
        json!("NEW\nLINE"),
        json!({"code": "X"}),
        json!(["X"]),
    ] {
        cx.upsert(json!({"source_id": sid, "referral_code": bad}))
            .await?
            .error(400, "INVALID_REFERRAL_CODE")?;
    }
    cx.absent(&sid).await?;
    // 64 characters is still a code.
    let sixty_four = format!("{}-", cx.code("x"));
    let sixty_four = format!("{sixty_four:Z<64}");
    cx.create(&sid, &sixty_four).await?;
    Ok(())
}

async fn event_name_required(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    for body in [
        json!({"source_id": sid}),
        json!({"source_id": sid, "event_name": null}),
        json!({"source_id": sid, "event_name": ""}),
    ] {
        cx.invoke(body).await?.error(400, "EVENT_NAME_REQUIRED")?;
    }
    cx.absent(&sid).await
}

async fn invalid_event_name(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    for bad in [json!(42), json!(true), json!({"name": "x"}), json!(["x"])] {
        cx.invoke(json!({"source_id": sid, "event_name": bad}))
            .await?
            .error(400, "INVALID_EVENT_NAME")?;
    }
    cx.absent(&sid).await
}

async fn first_bad_field_wins(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    cx.invoke(json!({"source_id": true, "event_name": 5, "metadata": 1}))
        .await?
        .error(400, "INVALID_SOURCE_ID")?;
    cx.invoke(json!({"source_id": sid, "event_name": 5, "metadata": 1}))
        .await?
        .error(400, "INVALID_EVENT_NAME")?;
    cx.upsert(json!({"source_id": sid, "metadata": 1, "referral_code": "A B"}))
        .await?
        .error(400, "INVALID_METADATA")?;
    cx.absent(&sid).await
}

//! Contract section 1 on the Rehook API: media types, JSON bodies, unknown paths, wrong
//! methods, and the same routes under `/api`.

use serde_json::json;

use super::{Ctx, Scenario, Step, scenario};
use crate::contract::target::{Api, Auth, Request, path};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(
            "requests",
            invalid_json,
            "a body that is not JSON is 400 INVALID_JSON and creates nothing"
        ),
        scenario!(
            "requests",
            body_not_an_object,
            "valid JSON that is not an object (null, [], \"x\", an empty body) is 400 INVALID_BODY"
        ),
        scenario!(
            "requests",
            unsupported_media_type,
            "a body sent as text/plain or a form is 415 UNSUPPORTED_MEDIA_TYPE; application/json in any case, with parameters, or no Content-Type is read"
        ),
        scenario!(
            "requests",
            unknown_path,
            "an unknown path (also /customers/ with a trailing slash) is 404 NOT_FOUND as JSON, before auth"
        ),
        scenario!(
            "requests",
            wrong_method,
            "a known path with a wrong method is 405 METHOD_NOT_ALLOWED with an Allow header"
        ),
        scenario!(
            "requests",
            every_answer_carries_a_request_id,
            "every answer (success, 4xx, 401, 404, 405, 415) carries x-request-id: req_<alphanumerics>, the same as an error body's request_id"
        ),
        scenario!(
            "requests",
            api_prefix_aliases,
            "every Rehook route is served under /api too, on the same data"
        ),
    ]
}

fn post_customers() -> Request {
    Request::new("POST", Api::Rehook, "/customers")
}

async fn invalid_json(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    for text in [
        format!("{{\"source_id\": \"{sid}\""),
        format!("{{source_id: \"{sid}\"}}"),
        format!("{{\"source_id\": \"{sid}\", \"metadata\": {{\"n\": NaN}}}}"),
    ] {
        cx.send(post_customers().raw(Some("application/json"), &text))
            .await?
            .error(400, "INVALID_JSON")?;
    }
    cx.absent(&sid).await
}

async fn body_not_an_object(cx: &mut Ctx<'_>) -> Step {
    for text in ["null", "[]", "\"x\"", "", "42"] {
        cx.send(post_customers().raw(Some("application/json"), text))
            .await?
            .error(400, "INVALID_BODY")?;
    }
    let invoke = Request::new("POST", Api::Rehook, "/events/invoke");
    cx.send(invoke.raw(Some("application/json"), "[]"))
        .await?
        .error(400, "INVALID_BODY")?;
    Ok(())
}

async fn unsupported_media_type(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    let body = json!({"source_id": sid}).to_string();
    for media in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ] {
        cx.send(post_customers().raw(Some(media), &body))
            .await?
            .error(415, "UNSUPPORTED_MEDIA_TYPE")?;
    }
    cx.absent(&sid).await?;
    for (tag, media) in [
        ("b", Some("APPLICATION/JSON")),
        ("c", Some("application/json; charset=UTF-8")),
        ("d", None),
    ] {
        let sid = cx.sid(tag);
        let body = json!({"source_id": sid}).to_string();
        cx.send(post_customers().raw(media, &body))
            .await?
            .status(201)?
            .field("/source_id", sid)?;
    }
    Ok(())
}

async fn unknown_path(cx: &mut Ctx<'_>) -> Step {
    for p in ["/customers/", "/no-such-route", "/events/invoke/extra"] {
        cx.send(Request::new("GET", Api::Rehook, p).auth(Auth::Missing))
            .await?
            .error(404, "NOT_FOUND")?;
    }
    cx.send(
        Request::new("POST", Api::Rehook, "/customers/").json(json!({"source_id": cx.sid("a")})),
    )
    .await?
    .error(404, "NOT_FOUND")?;
    cx.absent(&cx.sid("a")).await
}

async fn wrong_method(cx: &mut Ctx<'_>) -> Step {
    for (method, p, allowed) in [
        ("DELETE", "/customers".to_owned(), "POST"),
        ("GET", "/customers".to_owned(), "POST"),
        ("PUT", path(&["events", "invoke"]), "POST"),
        ("DELETE", path(&["customers", &cx.sid("a")]), "GET"),
    ] {
        let got = cx.send(Request::new(method, Api::Rehook, p)).await?;
        got.error(405, "METHOD_NOT_ALLOWED")?;
        let allow = got.header_value("allow").unwrap_or_default();
        got.holds(
            &format!("an Allow header naming {allowed} (got {allow:?})"),
            |_| allow.split(',').any(|m| m.trim() == allowed),
        )?;
    }
    Ok(())
}

async fn api_prefix_aliases(cx: &mut Ctx<'_>) -> Step {
    let (advocate, friend, code) = (cx.sid("adv"), cx.sid("friend"), cx.code("A"));
    let created = cx
        .send(
            Request::new("POST", Api::Rehook, "/api/customers")
                .json(json!({"source_id": advocate, "referral_code": code})),
        )
        .await?;
    created
        .status(201)?
        .field("/referral_code", code.as_str())?;
    let event = cx.conversion().to_owned();
    cx.send(
        Request::new("POST", Api::Rehook, "/api/events/invoke").json(
            json!({"event_name": event, "source_id": friend, "metadata": {"referral_code": code}}),
        ),
    )
    .await?
    .status(200)?
    .field("/referral/status", "attributed")?;
    for (segments, pointer, expected) in [
        (
            vec!["api", "customers", &advocate],
            "/referral_count",
            json!(1),
        ),
        (
            vec!["api", "customers", "validate-code", &code],
            "/source_id",
            json!(advocate),
        ),
        (
            vec!["api", "customers", "referral", "list", &advocate],
            "/0/source_id",
            json!(friend),
        ),
        (
            vec!["api", "customers", "referrals", &advocate],
            "/0/source_id",
            json!(friend),
        ),
        (
            vec!["api", "events", "segment", "check-auth"],
            "/status",
            json!("ok"),
        ),
        // And the data is the same at the public paths.
        (vec!["customers", &friend], "/referred_by", json!(advocate)),
    ] {
        cx.get(&segments)
            .await?
            .status(200)?
            .field(pointer, expected)?;
    }
    Ok(())
}

async fn every_answer_carries_a_request_id(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    let requests = [
        post_customers().json(json!({"source_id": sid})),
        post_customers().json(json!({"source_id": sid})),
        Request::new("GET", Api::Rehook, path(&["customers", &sid])),
        post_customers().json(json!({"source_id": null})),
        post_customers()
            .json(json!({"source_id": sid}))
            .auth(Auth::Missing),
        Request::new("GET", Api::Rehook, "/no-such-route"),
        Request::new("DELETE", Api::Rehook, "/customers"),
        post_customers().raw(Some("text/plain"), "{}"),
    ];
    let mut seen = std::collections::HashSet::new();
    for request in requests {
        let got = cx.send(request).await?;
        let id = got.request_id().unwrap_or("").to_owned();
        got.holds(
            &format!("an x-request-id req_<alphanumerics> (got {id:?})"),
            |_| {
                id.strip_prefix("req_").is_some_and(|rest| {
                    !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric())
                })
            },
        )?;
        got.holds(
            &format!("a request id not seen before in this scenario (got {id})"),
            |_| seen.insert(id.clone()),
        )?;
        if got.code() >= 400 {
            got.field("/request_id", id.as_str())?;
        }
    }
    Ok(())
}

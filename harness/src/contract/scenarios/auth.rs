//! Contract 2.1 and 2.8: Basic auth, the `401` and its challenge, check-auth.

use base64::Engine as _;
use serde_json::json;

use super::{Ctx, Scenario, Step, scenario};
use crate::contract::target::{Api, Auth, Request, path};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(
            "auth",
            missing_credentials,
            "a call without Authorization is 401 UNAUTHORIZED with WWW-Authenticate: Basic realm=\"rehook\" and stores nothing"
        ),
        scenario!(
            "auth",
            malformed_credentials,
            "bad base64, no colon, or another scheme is 401 UNAUTHORIZED with the Basic challenge"
        ),
        scenario!(
            "auth",
            unknown_key,
            "an API key no application owns is 401 UNAUTHORIZED with the Basic challenge"
        ),
        scenario!(
            "auth",
            wrong_secret,
            "a known key with a wrong secret is 401 UNAUTHORIZED and stores nothing"
        ),
        scenario!(
            "auth",
            check_auth_accepts_the_credentials,
            "GET /events/segment/check-auth answers 200 {\"status\":\"ok\"} (HEAD too, without a body)"
        ),
    ]
}

const CHALLENGE: &str = "Basic realm=\"rehook\"";

fn basic(credentials: &str) -> Auth {
    Auth::Header(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    ))
}

/// `POST /customers` creating `sid`, with `auth`, expected refused with a 401.
async fn refused_create(cx: &mut Ctx<'_>, sid: &str, auth: Auth) -> Step {
    let request = Request::new("POST", Api::Rehook, "/customers")
        .json(json!({"source_id": sid}))
        .auth(auth);
    cx.send(request)
        .await?
        .error(401, "UNAUTHORIZED")?
        .header("www-authenticate", CHALLENGE)?;
    Ok(())
}

async fn missing_credentials(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    refused_create(cx, &sid, Auth::Missing).await?;
    let check = Request::new(
        "GET",
        Api::Rehook,
        path(&["events", "segment", "check-auth"]),
    )
    .auth(Auth::Missing);
    cx.send(check)
        .await?
        .error(401, "UNAUTHORIZED")?
        .header("www-authenticate", CHALLENGE)?;
    cx.absent(&sid).await
}

async fn malformed_credentials(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    for auth in [
        Auth::Header("Basic !!!not-base64!!!".to_owned()),
        basic("no-colon-at-all"),
        Auth::Header("Bearer rk_test_key".to_owned()),
        Auth::Header("Basic".to_owned()),
    ] {
        refused_create(cx, &sid, auth).await?;
    }
    cx.absent(&sid).await
}

async fn unknown_key(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    let key = format!("{}-unknown-key", cx.sid("k"));
    refused_create(cx, &sid, basic(&format!("{key}:whatever"))).await?;
    cx.absent(&sid).await
}

async fn wrong_secret(cx: &mut Ctx<'_>) -> Step {
    let sid = cx.sid("a");
    let credentials = format!("{}:{}-wrong-secret", cx.api_key(), cx.sid("s"));
    refused_create(cx, &sid, basic(&credentials)).await?;
    cx.absent(&sid).await
}

async fn check_auth_accepts_the_credentials(cx: &mut Ctx<'_>) -> Step {
    cx.get(&["events", "segment", "check-auth"])
        .await?
        .status(200)?
        .field("/status", "ok")?;
    let head = Request::new(
        "HEAD",
        Api::Rehook,
        path(&["events", "segment", "check-auth"]),
    );
    cx.send(head)
        .await?
        .status(200)?
        .holds("an empty body", |b| b.is_null())?;
    Ok(())
}

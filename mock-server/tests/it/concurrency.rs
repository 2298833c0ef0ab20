//! Contract 2.3 step 5 and section 4's reset over real sockets on a multi-thread runtime:
//! one winner per code, no lost update, exact referral counts, and resets and exports that
//! never see half a write.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rehook_mock::store::StateDoc;
use rehook_mock::{Config, MockRehook, Store};
use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::support::{Fake, Reply, basic, client, send};

const N: usize = 64;

/// What a task needs to call the fake on its own.
#[derive(Clone)]
struct Caller {
    http: reqwest::Client,
    base: String,
    auth: String,
}

impl Caller {
    fn of(fake: &Fake) -> Self {
        Self {
            http: client(),
            base: fake.mock.base_url().to_owned(),
            auth: basic(fake.mock.api_key(), fake.mock.api_secret()),
        }
    }

    async fn post(&self, path: &str, body: &Value) -> Reply {
        send(
            self.http
                .post(format!("{}{path}", self.base))
                .header("authorization", &self.auth)
                .json(body),
        )
        .await
    }

    async fn admin(&self, method: reqwest::Method, path: &str) -> Reply {
        send(self.http.request(method, format!("{}{path}", self.base))).await
    }
}

/// Send `bodies` to `path` all at once (released together by a barrier); the replies in order.
async fn all_at_once(fake: &Fake, path: &'static str, bodies: Vec<Value>) -> Vec<Reply> {
    let barrier = Arc::new(Barrier::new(bodies.len()));
    let caller = Caller::of(fake);
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let barrier = barrier.clone();
            let caller = caller.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                caller.post(path, &body).await
            })
        })
        .collect();
    let mut replies = Vec::with_capacity(tasks.len());
    for task in tasks {
        replies.push(task.await.expect("the task finishes"));
    }
    replies
}

fn statuses(replies: &[Reply]) -> BTreeMap<(u16, String), usize> {
    let mut counts = BTreeMap::new();
    for reply in replies {
        let code = reply.body["code"].as_str().unwrap_or("").to_owned();
        *counts.entry((reply.status, code)).or_insert(0) += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_many_concurrent_claims_of_one_code_exactly_one_wins() {
    let fake = Fake::start().await;
    let bodies = (0..N)
        .map(|i| json!({"source_id": format!("u-{i}"), "referral_code": "PRIZE", "metadata": {"i": i}}))
        .collect();
    let replies = all_at_once(&fake, "/customers", bodies).await;
    assert_eq!(
        statuses(&replies),
        BTreeMap::from([
            ((201, String::new()), 1),
            ((409, "REFERRAL_CODE_TAKEN".to_owned()), N - 1),
        ])
    );
    let winner = replies.iter().find(|r| r.status == 201).unwrap();
    for loser in replies.iter().filter(|r| r.status == 409) {
        loser.error(409, "REFERRAL_CODE_TAKEN");
    }
    let owner = fake.get("/customers/validate-code/PRIZE").await;
    assert_eq!(owner.ok(200), &winner.body);
    let customers = fake.mock.store().customers(None).unwrap();
    assert_eq!(customers.len(), 1, "the losers were not created");
    assert_eq!(json!(customers[0]), winner.body);
    assert_eq!(fake.mock.store().drops(None).unwrap().len(), N - 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_many_concurrent_creates_of_one_source_id_one_creates_and_no_update_is_lost() {
    let fake = Fake::start().await;
    let bodies = (0..N)
        .map(|i| json!({"source_id": "same", "metadata": {format!("k{i}"): i}}))
        .collect();
    let replies = all_at_once(&fake, "/customers", bodies).await;
    assert_eq!(
        statuses(&replies),
        BTreeMap::from([((200, String::new()), N - 1), ((201, String::new()), 1)])
    );
    let ids: BTreeSet<&str> = replies
        .iter()
        .map(|r| r.body["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "one customer");
    let codes: BTreeSet<&str> = replies
        .iter()
        .map(|r| r.body["referral_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 1, "one generated code");
    let expected: serde_json::Map<String, Value> =
        (0..N).map(|i| (format!("k{i}"), json!(i))).collect();
    let stored = fake.mock.store().customer(None, "same").unwrap().unwrap();
    assert_eq!(stored.metadata, expected);
    assert_eq!(fake.mock.store().customers(None).unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_conversions_count_each_friend_once() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "adv", "referral_code": "ADV"}))
        .await;
    let friends = N / 2;
    let bodies = (0..N)
        .map(|i| json!({"event_name": "signup", "source_id": format!("f-{}", i % friends), "metadata": {"referral_code": "ADV"}}))
        .collect();
    let replies = all_at_once(&fake, "/events/invoke", bodies).await;
    let mut outcomes = BTreeMap::new();
    for reply in &replies {
        let status = reply.ok(200)["referral"]["status"]
            .as_str()
            .unwrap()
            .to_owned();
        *outcomes.entry(status).or_insert(0) += 1;
    }
    assert_eq!(
        outcomes,
        BTreeMap::from([
            ("already_referred".to_owned(), friends),
            ("attributed".to_owned(), friends)
        ])
    );
    let advocate = fake.get("/customers/adv").await;
    assert_eq!(advocate.ok(200)["referral_count"], friends);
    let list = fake.get("/customers/referrals/adv").await;
    let listed: BTreeSet<&str> = list
        .ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["source_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), friends);
    assert_eq!(fake.mock.store().events(None).unwrap().len(), N);
    assert_eq!(
        fake.mock.store().customers(None).unwrap().len(),
        friends + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_friend_converting_with_two_advocates_at_once_gets_exactly_one() {
    let fake = Fake::start().await;
    fake.customer(json!({"source_id": "adv-1", "referral_code": "ONE"}))
        .await;
    fake.customer(json!({"source_id": "adv-2", "referral_code": "TWO"}))
        .await;
    let bodies = (0..N)
        .map(|i| {
            let code = if i % 2 == 0 { "ONE" } else { "TWO" };
            json!({"event_name": "signup", "source_id": format!("f-{}", i / 2), "metadata": {"referral_code": code}})
        })
        .collect();
    let replies = all_at_once(&fake, "/events/invoke", bodies).await;
    for pair in replies.chunks(2) {
        let mut statuses: Vec<&str> = pair
            .iter()
            .map(|r| r.ok(200)["referral"]["status"].as_str().unwrap())
            .collect();
        statuses.sort_unstable();
        assert_eq!(statuses, ["already_referred", "attributed"]);
        assert_eq!(
            pair[0].body["referral"]["advocate"],
            pair[1].body["referral"]["advocate"]
        );
    }
    let count = |c: &Value| c["referral_count"].as_u64().unwrap() as usize;
    let one = fake.get("/customers/adv-1").await.ok(200).clone();
    let two = fake.get("/customers/adv-2").await.ok(200).clone();
    assert_eq!(count(&one) + count(&two), N / 2);
}

/// A state document must import into an empty store: codes unique, referrals consistent.
fn assert_importable(doc: &Value) {
    let parsed: StateDoc =
        serde_json::from_value(doc.clone()).expect("an export is a state document");
    Store::new(Config::default())
        .import(parsed)
        .unwrap_or_else(|e| panic!("an export does not import: {e}\n{doc:#}"));
}

/// Every writer customer is whole: the code and all three metadata keys of its one write.
fn assert_whole(doc: &Value) {
    let customers = doc["data"]["rk_test_key"]["customers"].as_array().unwrap();
    let mut codes = BTreeSet::new();
    for customer in customers {
        assert!(
            codes.insert(customer["referral_code"].as_str().unwrap()),
            "codes are unique"
        );
        let source_id = customer["source_id"].as_str().unwrap();
        if let Some(rest) = source_id.strip_prefix('w') {
            let (writer, op) = rest.split_once('-').unwrap();
            let op: u64 = op.parse().unwrap();
            assert_eq!(
                customer["referral_code"],
                format!("C{writer}x{op}"),
                "{customer}"
            );
            assert_eq!(
                customer["metadata"],
                json!({"a": op, "b": op, "c": op}),
                "{customer}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resets_and_exports_racing_writes_never_see_half_a_write() {
    let fake = Fake::with(MockRehook::builder()).await;
    let caller = Caller::of(&fake);
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let caller = caller.clone();
            tokio::spawn(async move {
                for op in 0..25 {
                    let code = format!("C{w}x{op}");
                    let upsert = json!({"source_id": format!("w{w}-{op}"), "referral_code": code, "metadata": {"a": op, "b": op, "c": op}});
                    let reply = caller.post("/customers", &upsert).await;
                    assert_eq!(reply.status, 201, "{reply:?}");
                    let signup = json!({"event_name": "signup", "source_id": format!("f{w}-{op}"), "metadata": {"referral_code": code}});
                    let reply = caller.post("/events/invoke", &signup).await;
                    assert!(
                        reply.status == 200 || reply.body["code"] == "REFERRAL_CODE_UNKNOWN",
                        "a conversion is either applied or finds its advocate reset: {reply:?}"
                    );
                }
            })
        })
        .collect();
    let watcher = {
        let caller = caller.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut rounds = 0;
            while !done.load(Ordering::SeqCst) || rounds < 10 {
                let state = caller
                    .admin(reqwest::Method::GET, "/__admin/state?secrets=true")
                    .await;
                assert_whole(state.ok(200));
                assert_importable(&state.body);
                if rounds % 3 == 0 {
                    caller
                        .admin(reqwest::Method::POST, "/__admin/reset")
                        .await
                        .ok(200);
                }
                rounds += 1;
            }
            rounds
        })
    };
    for writer in writers {
        writer.await.expect("a writer finishes");
    }
    done.store(true, Ordering::SeqCst);
    let rounds = watcher.await.expect("the watcher finishes");
    assert!(rounds >= 10);
    let last = fake.state().await;
    assert_whole(&last);
    assert_importable(&last);
}

/// A small deterministic stream of choices, so a failure replays the same traffic.
fn pick(i: usize, salt: usize, n: usize) -> usize {
    (i.wrapping_mul(2_654_435_761)
        .wrapping_add(salt.wrapping_mul(40_503))
        >> 7)
        % n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mixed_writers_on_shared_ids_and_codes_keep_every_invariant() {
    let fake = Fake::start().await;
    let users: Vec<String> = (0..12).map(|i| format!("u{i}")).collect();
    let codes = ["ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO"];
    let mut calls = Vec::new();
    for i in 0..600 {
        let user = &users[pick(i, 1, users.len())];
        let code = codes[pick(i, 2, codes.len())];
        let call = match pick(i, 3, 3) {
            0 => (
                "/customers",
                json!({"source_id": user, "referral_code": code, "metadata": {format!("k{i}"): i}}),
            ),
            1 => (
                "/customers",
                json!({"source_id": user, "metadata": {"last": i}}),
            ),
            _ => (
                "/events/invoke",
                json!({"source_id": user, "event_name": "signup", "metadata": {"referral_code": code}}),
            ),
        };
        calls.push(call);
    }
    let caller = Caller::of(&fake);
    let barrier = Arc::new(Barrier::new(calls.len()));
    let tasks: Vec<_> = calls
        .into_iter()
        .map(|(path, body)| {
            let (caller, barrier) = (caller.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                caller.post(path, &body).await
            })
        })
        .collect();
    for task in tasks {
        let reply = task.await.expect("the task finishes");
        assert!([200, 201, 409, 422].contains(&reply.status), "{reply:?}");
    }

    let customers = fake.admin_get("/__admin/customers").await;
    let customers = customers.as_array().unwrap();
    let mut seen_codes = BTreeSet::new();
    for customer in customers {
        let source_id = customer["source_id"].as_str().unwrap();
        let code = customer["referral_code"].as_str().unwrap();
        assert!(seen_codes.insert(code.to_owned()), "code {code} held twice");
        let owner = fake.get(&format!("/customers/validate-code/{code}")).await;
        assert_eq!(
            owner.ok(200)["source_id"],
            source_id,
            "validate-code agrees"
        );
        assert_ne!(
            customer["referred_by"],
            json!(source_id),
            "no self-referral"
        );
        let friends: Vec<&str> = customers
            .iter()
            .filter(|c| c["referred_by"] == json!(source_id))
            .map(|c| c["source_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            customer["referral_count"],
            json!(friends.len()),
            "{source_id}"
        );
        let listed = fake
            .get(&format!("/customers/referral/list/{source_id}"))
            .await;
        let mut listed: Vec<&str> = listed
            .ok(200)
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["source_id"].as_str().unwrap())
            .collect();
        listed.sort_unstable();
        let mut friends = friends;
        friends.sort_unstable();
        assert_eq!(listed, friends, "the referral list of {source_id}");
    }
    let events = fake.admin_get("/__admin/events").await;
    for event in events.as_array().unwrap() {
        assert!(
            customers
                .iter()
                .any(|c| c["source_id"] == event["source_id"]),
            "every event's sender is a customer"
        );
    }
    let exported = fake.state().await;
    let again = Fake::start().await;
    send(
        again
            .request(reqwest::Method::PUT, "/__admin/state")
            .json(&exported),
    )
    .await
    .ok(200);
    assert_eq!(again.state().await, exported, "the export imports as it is");
}

/// Send `body` to an admin `path` with `method`; the reply.
async fn admin_send(caller: &Caller, method: reqwest::Method, path: &str, body: &Value) -> Reply {
    send(
        caller
            .http
            .request(method, format!("{}{path}", caller.base))
            .json(body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn config_and_state_swaps_racing_api_writes_never_lose_the_application() {
    // Regression: a request authenticated under one look at the applications and wrote under
    // another, so a config or state swap in between answered `404 APP_NOT_FOUND` to a Rehook
    // API call. Every answer must be one the API gives for a request on its own: the write
    // (200/201), a refusal (409/422), or 401 while its application is configured away.
    let fake = Fake::with(
        MockRehook::builder()
            .app(rehook_mock::AppConfig::new("key_a", "secret_a"))
            .app(rehook_mock::AppConfig::new("key_c", "secret_c")),
    )
    .await;
    let base = Caller::of(&fake);
    let as_app = |key: &str| Caller {
        auth: basic(key, &key.replace("key", "secret")),
        ..base.clone()
    };
    for key in ["key_a", "key_c"] {
        let reply = as_app(key)
            .post(
                "/customers",
                &json!({"source_id": "adv", "referral_code": "ADV"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{reply:?}");
    }
    let app = |key: &str| json!({"api_key": key, "api_secret": key.replace("key", "secret")});
    let configs = [
        json!({"applications": [app("key_a"), app("key_c")]}),
        json!({"applications": [app("key_a")]}),
        json!({"applications": [app("key_c"), app("key_a")]}),
        json!({"applications": [app("key_c")]}),
    ];
    let full = fake.state().await;
    let mut without_c = full.clone();
    without_c["config"] = configs[1].clone();
    without_c["data"].as_object_mut().unwrap().remove("key_c");
    let states = [full, without_c];

    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let caller = as_app(if w % 2 == 0 { "key_a" } else { "key_c" });
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for op in 0..40 {
                    let code = format!("C{w}x{op}");
                    let upsert = json!({"source_id": format!("w{w}-{op}"), "referral_code": code, "metadata": {"op": op}});
                    answers.push(caller.post("/customers", &upsert).await);
                    let advocate = if op % 2 == 0 { code } else { "ADV".to_owned() };
                    let signup = json!({"event_name": "signup", "source_id": format!("f{w}-{op}"), "metadata": {"referral_code": advocate}});
                    answers.push(caller.post("/events/invoke", &signup).await);
                    let plain = json!({"event_name": "page", "source_id": format!("w{w}-{op}")});
                    answers.push(caller.post("/events/invoke", &plain).await);
                }
                answers
            })
        })
        .collect();
    let swapper = {
        let caller = base.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut rounds = 0;
            // Bounded: the writers finish, and the swapper stops at the latest after 2,000.
            while (!done.load(Ordering::SeqCst) || rounds < 20) && rounds < 2_000 {
                let reply = if rounds % 5 == 4 {
                    let state = &states[(rounds / 5) % states.len()];
                    admin_send(&caller, reqwest::Method::PUT, "/__admin/state", state).await
                } else {
                    let config = &configs[rounds % configs.len()];
                    admin_send(&caller, reqwest::Method::PUT, "/__admin/config", config).await
                };
                assert_eq!(reply.status, 200, "round {rounds}: {reply:?}");
                rounds += 1;
            }
            rounds
        })
    };
    let mut counts: BTreeMap<(u16, String), usize> = BTreeMap::new();
    for writer in writers {
        for reply in writer.await.expect("a writer finishes") {
            let code = reply.body["code"].as_str().unwrap_or("").to_owned();
            let allowed = match reply.status {
                200 | 201 => true,
                401 => code == "UNAUTHORIZED",
                409 => code == "REFERRAL_CODE_TAKEN",
                422 => code == "REFERRAL_CODE_UNKNOWN",
                _ => false,
            };
            assert!(allowed, "an answer no request on its own gets: {reply:#?}");
            *counts.entry((reply.status, code)).or_insert(0) += 1;
        }
    }
    done.store(true, Ordering::SeqCst);
    let rounds = swapper.await.expect("the swapper finishes");
    assert!(rounds >= 20, "{rounds}");
    assert!(
        counts
            .keys()
            .any(|(status, _)| *status == 200 || *status == 201),
        "some writes went through: {counts:?}"
    );

    // The final state is whole: it imports into a fresh server and into this one unchanged.
    let last = fake.state().await;
    assert_importable(&last);
    admin_send(&base, reqwest::Method::PUT, "/__admin/state", &last)
        .await
        .ok(200);
    assert_eq!(fake.state().await, last, "the export imports as it is");
}

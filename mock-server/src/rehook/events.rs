//! `POST /events/invoke`: store an event; a conversion event attributes a referral.

use dashmap::mapref::entry::Entry;
use serde::Serialize;
use serde_json::{Map, json};

use super::customers::new_record;
use super::fault::fault;
use super::input::{EventInput, conversion_code};
use crate::error::{ApiError, ErrorCode};
use crate::store::app::lock;
use crate::store::{App, Event, Referral};

/// Whether a conversion attributed the caller now or found it already referred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    /// The code's owner became the caller's advocate.
    Attributed,
    /// The caller had an advocate already; nothing about referrals changed.
    AlreadyReferred,
}

/// The referral part of an invoke answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferralOutcome {
    /// The caller's advocate's source_id.
    pub advocate: String,
    /// What happened.
    pub status: ReferralStatus,
}

/// What an invoke did.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoked {
    /// The stored event.
    pub event: Event,
    /// For a conversion event, the referral outcome.
    pub referral: Option<ReferralOutcome>,
}

/// Record an event, one atomic step with the caller's creation and the attribution.
///
/// A conversion event needs a code (`422 REFERRAL_CODE_REQUIRED`) that some customer owns
/// (`422 REFERRAL_CODE_UNKNOWN`) other than the caller (`422 SELF_REFERRAL`); each refusal
/// happens before anything is written.
pub fn invoke(app: &App, input: EventInput, now: &str) -> Result<Invoked, ApiError> {
    let conversion = app.config.is_conversion(&input.event_name);
    record(app, input, now, conversion)
}

/// [`invoke`], with the event taken as a conversion or not as `conversion` says.
pub(crate) fn record(
    app: &App,
    input: EventInput,
    now: &str,
    conversion: bool,
) -> Result<Invoked, ApiError> {
    let data = &app.data;
    let conversion_code = if conversion {
        match conversion_code(input.metadata.as_ref()) {
            Err(_) if fault!(app.config, ConversionWithoutCodeAccepted) => None,
            code => Some(code?),
        }
    } else {
        None
    };
    let entry = data.customers.entry(input.source_id.clone());
    // The caller's entry is held from here to the end: its code and its advocate cannot change
    // under us. The advocate is whoever owns the code at the lookup; that lookup is the point
    // at which the call takes effect.
    let advocate = match &conversion_code {
        None => None,
        Some(code) => {
            let owner = data.codes.get(code).map(|o| o.clone());
            let owner = match owner {
                None if fault!(app.config, CodeMatchCaseInsensitive) => {
                    app.owner_ignoring_case(code)
                }
                owner => owner,
            };
            let owner = owner.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::ReferralCodeUnknown,
                    format!("no customer owns referral_code {code:?}"),
                )
                .with_details(json!({ "field": "metadata.referral_code", "referral_code": code }))
            })?;
            if owner == input.source_id && !fault!(app.config, SelfReferralAccepted) {
                return Err(ApiError::new(
                    ErrorCode::SelfReferral,
                    format!("referral_code {code:?} belongs to the caller itself"),
                )
                .with_details(
                    json!({ "field": "metadata.referral_code", "referral_code": code }),
                ));
            }
            Some(owner)
        }
    };
    let mut record = match entry {
        Entry::Occupied(occupied) => occupied.into_ref(),
        Entry::Vacant(vacant) => {
            vacant.insert(new_record(app, &input.source_id, None, Map::new(), now))
        }
    };
    let referral = advocate.map(|advocate| match &record.referred_by {
        Some(existing)
            if !(fault!(app.config, ReferredFriendReattributed) && *existing != advocate) =>
        {
            ReferralOutcome {
                advocate: existing.clone(),
                status: ReferralStatus::AlreadyReferred,
            }
        }
        _ => {
            // Only a faulty server gets here with an advocate already set: it moves the friend.
            if let Some(old) = record.referred_by.replace(advocate.clone())
                && let Some(mut list) = data.referrals.get_mut(&old)
            {
                list.retain(|r| r.friend != record.source_id);
            }
            record.updated_at = now.to_owned();
            data.referrals
                .entry(advocate.clone())
                .or_default()
                .push(Referral {
                    advocate: advocate.clone(),
                    friend: record.source_id.clone(),
                    at: now.to_owned(),
                });
            ReferralOutcome {
                advocate,
                status: ReferralStatus::Attributed,
            }
        }
    });
    let event = {
        let mut log = lock(&data.events);
        let id = loop {
            let id = app.ids.id("evt_");
            if !log.ids.contains(&id) {
                break id;
            }
        };
        let event = Event {
            id: id.clone(),
            event_name: input.event_name,
            source_id: input.source_id,
            metadata: input.metadata.unwrap_or_default(),
            received_at: now.to_owned(),
        };
        log.ids.insert(id);
        log.list.push(event.clone());
        event
    };
    drop(record);
    Ok(Invoked { event, referral })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::config::AppConfig;
    use crate::rehook::customers::upsert;
    use crate::rehook::input::CustomerInput;

    fn app_with_advocate() -> App {
        let app = App::new(AppConfig::default_app(), Some(5));
        let advocate = CustomerInput {
            source_id: "adv".into(),
            metadata: None,
            referral_code: Some("ADV".into()),
        };
        upsert(&app, advocate, "t0").expect("advocate");
        app
    }

    fn event(name: &str, source_id: &str, metadata: Value) -> EventInput {
        EventInput {
            event_name: name.into(),
            source_id: source_id.into(),
            metadata: metadata.as_object().cloned(),
        }
    }

    #[test]
    fn a_conversion_attributes_once_and_creates_the_caller() {
        let app = app_with_advocate();
        let first = invoke(
            &app,
            event("signup", "f", json!({"referral_code": "ADV"})),
            "t1",
        )
        .unwrap();
        assert_eq!(
            first.referral,
            Some(ReferralOutcome {
                advocate: "adv".into(),
                status: ReferralStatus::Attributed
            })
        );
        let again = invoke(
            &app,
            event("signup", "f", json!({"referral_code": "ADV"})),
            "t2",
        )
        .unwrap();
        assert_eq!(
            again.referral.unwrap().status,
            ReferralStatus::AlreadyReferred
        );
        assert_eq!(
            app.customer("f").unwrap().referred_by.as_deref(),
            Some("adv")
        );
        assert_eq!(app.customer("adv").unwrap().referral_count, 1);
        assert_eq!(app.events(None).len(), 2);
    }

    #[test]
    fn conversion_refusals_store_nothing() {
        let app = app_with_advocate();
        for (metadata, code) in [
            (json!({}), ErrorCode::ReferralCodeRequired),
            (
                json!({"referral_code": "NOPE"}),
                ErrorCode::ReferralCodeUnknown,
            ),
        ] {
            let refused = invoke(&app, event("signup", "f", metadata), "t").unwrap_err();
            assert_eq!(refused.code, code);
        }
        let own = invoke(
            &app,
            event("signup", "adv", json!({"referral_code": "ADV"})),
            "t",
        );
        assert_eq!(own.unwrap_err().code, ErrorCode::SelfReferral);
        assert!(app.customer("f").is_none());
        assert!(app.events(None).is_empty());
        assert_eq!(app.customer("adv").unwrap().referral_count, 0);
    }

    #[test]
    fn other_events_never_attribute_even_with_a_code() {
        let app = app_with_advocate();
        let done = invoke(
            &app,
            event("purchase", "f", json!({"referral_code": "ADV"})),
            "t",
        )
        .unwrap();
        assert_eq!(done.referral, None);
        assert_eq!(app.customer("f").unwrap().referred_by, None);
        assert_eq!(done.event.metadata["referral_code"], "ADV");
        let bare = invoke(&app, event("purchase", "g", Value::Null), "t").unwrap();
        assert!(bare.event.metadata.is_empty());
    }
}

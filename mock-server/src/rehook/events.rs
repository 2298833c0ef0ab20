//! `POST /events/invoke`: store an event; a conversion event attributes a referral.

use dashmap::mapref::entry::Entry;
use serde::Serialize;
use serde_json::json;

use super::customers::new_record;
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
    let data = &app.data;
    let conversion_code = if app.config.is_conversion(&input.event_name) {
        Some(conversion_code(input.metadata.as_ref())?)
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
            let owner = data.codes.get(code).map(|o| o.clone()).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::ReferralCodeUnknown,
                    format!("no customer owns referral_code {code:?}"),
                )
                .with_details(json!({ "field": "metadata.referral_code", "referral_code": code }))
            })?;
            if owner == input.source_id {
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
        Entry::Vacant(vacant) => vacant.insert(new_record(app, &input.source_id, now)),
    };
    let referral = advocate.map(|advocate| match &record.referred_by {
        Some(existing) => ReferralOutcome {
            advocate: existing.clone(),
            status: ReferralStatus::AlreadyReferred,
        },
        None => {
            record.referred_by = Some(advocate.clone());
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

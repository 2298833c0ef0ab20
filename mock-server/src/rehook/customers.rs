//! `POST /customers`: create or update by source_id, claiming, replacing and freeing codes.

use dashmap::mapref::entry::Entry;
use serde_json::{Map, Value, json};

use super::fault::fault;
use super::input::CustomerInput;
use crate::error::{ApiError, ErrorCode};
use crate::store::{App, Customer, CustomerRecord};

/// What an upsert did.
#[derive(Debug, Clone, PartialEq)]
pub enum Upserted {
    /// A new customer (`201`).
    Created(Customer),
    /// An existing customer, updated (`200`).
    Updated(Customer),
}

/// Create or update a customer; one atomic step (see [`crate::store::app`] on locking).
///
/// A code owned by another customer refuses the whole call with `409 REFERRAL_CODE_TAKEN`
/// before anything is written.
pub fn upsert(app: &App, input: CustomerInput, now: &str) -> Result<Upserted, ApiError> {
    let data = &app.data;
    match data.customers.entry(input.source_id.clone()) {
        Entry::Occupied(mut occupied) => {
            let record = occupied.get_mut();
            if let Some(code) = &input.referral_code
                && *code != record.referral_code
            {
                let claimed = claim(app, code, &record.source_id);
                if claimed.is_err()
                    && fault!(app.config, ConflictWritesMetadata)
                    && let Some(metadata) = &input.metadata
                {
                    record.metadata.extend(metadata.clone());
                }
                claimed?;
                let old = std::mem::replace(&mut record.referral_code, code.clone());
                if !fault!(app.config, FreedCodeStillTaken) {
                    data.codes
                        .remove_if(&old, |_, owner| *owner == record.source_id);
                }
            }
            if let Some(metadata) = input.metadata {
                if fault!(app.config, MetadataReplaced) {
                    record.metadata = metadata;
                } else {
                    record.metadata.extend(metadata);
                }
            }
            record.updated_at = now.to_owned();
            Ok(Upserted::Updated(app.render(record)))
        }
        Entry::Vacant(vacant) => {
            if let Some(code) = &input.referral_code {
                claim(app, code, &input.source_id)?;
            }
            let record = new_record(
                app,
                &input.source_id,
                input.referral_code,
                input.metadata.unwrap_or_default(),
                now,
            );
            let customer = app.render(&record);
            vacant.insert(record);
            Ok(Upserted::Created(customer))
        }
    }
}

/// A new record for `source_id`, with `code` (already claimed) or else a generated one
/// (claimed here). Call it only while holding the customer's vacant entry, and insert the
/// record there.
pub(crate) fn new_record(
    app: &App,
    source_id: &str,
    code: Option<String>,
    metadata: Map<String, Value>,
    now: &str,
) -> CustomerRecord {
    CustomerRecord {
        id: new_customer_id(app, source_id),
        source_id: source_id.to_owned(),
        referral_code: code.unwrap_or_else(|| generate_code(app, source_id)),
        metadata,
        referred_by: None,
        created_at: now.to_owned(),
        updated_at: now.to_owned(),
    }
}

/// Take `code` for `owner` if it is free: the check and the write are one `entry` step.
fn claim(app: &App, code: &str, owner: &str) -> Result<(), ApiError> {
    if fault!(app.config, CodeMatchCaseInsensitive)
        && !app.data.codes.contains_key(code)
        && app
            .owner_ignoring_case(code)
            .is_some_and(|holder| holder != owner)
    {
        return Err(ApiError::new(
            ErrorCode::ReferralCodeTaken,
            format!("referral_code {code:?} belongs to another customer"),
        )
        .with_details(json!({ "field": "referral_code", "referral_code": code })));
    }
    match app.data.codes.entry(code.to_owned()) {
        Entry::Occupied(mut taken)
            if taken.get() != owner && fault!(app.config, TakenCodeClaimable) =>
        {
            taken.insert(owner.to_owned());
            Ok(())
        }
        Entry::Occupied(taken) if taken.get() != owner => Err(ApiError::new(
            ErrorCode::ReferralCodeTaken,
            format!("referral_code {code:?} belongs to another customer"),
        )
        .with_details(json!({ "field": "referral_code", "referral_code": code }))),
        Entry::Occupied(_) => Ok(()),
        Entry::Vacant(free) => {
            free.insert(owner.to_owned());
            Ok(())
        }
    }
}

/// A six-letter code no customer of the application holds, claimed for `owner`.
fn generate_code(app: &App, owner: &str) -> String {
    loop {
        let code = app.ids.code();
        if let Entry::Vacant(free) = app.data.codes.entry(code.clone()) {
            free.insert(owner.to_owned());
            return code;
        }
    }
}

/// A `cust_` id not used by any customer of the application, indexed for `owner`.
fn new_customer_id(app: &App, owner: &str) -> String {
    loop {
        let id = app.ids.id("cust_");
        if let Entry::Vacant(free) = app.data.ids.entry(id.clone()) {
            free.insert(owner.to_owned());
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::*;
    use crate::config::AppConfig;

    fn app() -> App {
        App::new(AppConfig::default_app(), Some(3))
    }

    fn input(source_id: &str, metadata: Value, code: Option<&str>) -> CustomerInput {
        CustomerInput {
            source_id: source_id.to_owned(),
            metadata: metadata.as_object().cloned(),
            referral_code: code.map(str::to_owned),
        }
    }

    fn customer(result: Result<Upserted, ApiError>) -> Customer {
        match result.expect("upsert succeeds") {
            Upserted::Created(c) | Upserted::Updated(c) => c,
        }
    }

    #[test]
    fn create_then_update_merges_metadata_shallowly() {
        let app = app();
        let created = upsert(&app, input("u", json!({"a": 1, "b": {"x": 1}}), None), "t1");
        assert!(matches!(created, Ok(Upserted::Created(_))));
        let updated = customer(upsert(
            &app,
            input("u", json!({"b": {"y": 2}, "c": null}), None),
            "t2",
        ));
        let expected: Map<String, Value> = json!({"a": 1, "b": {"y": 2}, "c": null})
            .as_object()
            .cloned()
            .unwrap();
        assert_eq!(updated.metadata, expected);
        assert_eq!(
            (updated.created_at.as_str(), updated.updated_at.as_str()),
            ("t1", "t2")
        );
    }

    #[test]
    fn a_taken_code_refuses_the_whole_call() {
        let app = app();
        customer(upsert(&app, input("a", json!({}), Some("ADV")), "t"));
        customer(upsert(&app, input("b", json!({"k": 1}), None), "t"));
        let refused = upsert(&app, input("b", json!({"k": 2}), Some("ADV")), "t2").unwrap_err();
        assert_eq!(refused.code, ErrorCode::ReferralCodeTaken);
        let b = app.customer("b").unwrap();
        assert_eq!(
            (b.metadata["k"].clone(), b.updated_at.as_str()),
            (json!(1), "t")
        );
        let new = upsert(&app, input("c", json!({}), Some("ADV")), "t").unwrap_err();
        assert_eq!(new.code, ErrorCode::ReferralCodeTaken);
        assert!(app.customer("c").is_none());
        assert_eq!(
            app.data.ids.len(),
            2,
            "no id was spent on the refused create"
        );
    }

    #[test]
    fn a_replaced_code_is_freed_and_sending_ones_own_code_is_no_change() {
        let app = app();
        customer(upsert(&app, input("a", json!({}), Some("OLD")), "t"));
        let same = customer(upsert(&app, input("a", json!({}), Some("OLD")), "t"));
        assert_eq!(same.referral_code, "OLD");
        customer(upsert(&app, input("a", json!({}), Some("NEW")), "t"));
        assert!(app.code_owner("OLD").is_none());
        assert_eq!(app.code_owner("NEW").unwrap().source_id, "a");
        let b = customer(upsert(&app, input("b", json!({}), Some("OLD")), "t"));
        assert_eq!(b.referral_code, "OLD");
    }

    #[test]
    fn generated_codes_are_six_letters_and_never_collide() {
        let app = app();
        let mut codes = std::collections::HashSet::new();
        for i in 0..500 {
            let c = customer(upsert(
                &app,
                input(&format!("u{i}"), Value::Null, None),
                "t",
            ));
            assert!(
                c.referral_code.len() == 6
                    && c.referral_code.bytes().all(|b| b.is_ascii_uppercase())
            );
            assert!(codes.insert(c.referral_code));
        }
        assert_eq!(app.data.codes.len(), 500);
    }
}

//! `POST /customers`: create or update by source_id, claiming, replacing and freeing codes.

use dashmap::mapref::entry::Entry;
use serde_json::json;

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
                claim(app, code, &record.source_id)?;
                let old = std::mem::replace(&mut record.referral_code, code.clone());
                data.codes
                    .remove_if(&old, |_, owner| *owner == record.source_id);
            }
            if let Some(metadata) = input.metadata {
                record.metadata.extend(metadata);
            }
            record.updated_at = now.to_owned();
            Ok(Upserted::Updated(app.render(record)))
        }
        Entry::Vacant(vacant) => {
            let code = match input.referral_code {
                Some(code) => {
                    claim(app, &code, &input.source_id)?;
                    code
                }
                None => generate_code(app, &input.source_id),
            };
            let record = CustomerRecord {
                id: new_customer_id(app, &input.source_id),
                source_id: input.source_id,
                referral_code: code,
                metadata: input.metadata.unwrap_or_default(),
                referred_by: None,
                created_at: now.to_owned(),
                updated_at: now.to_owned(),
            };
            let customer = app.render(&record);
            vacant.insert(record);
            Ok(Upserted::Created(customer))
        }
    }
}

/// Create `source_id` with no metadata and a generated code, if it does not exist yet.
/// Must be called with the customer's entry vacant and held (the caller passes it in).
pub(crate) fn new_record(app: &App, source_id: &str, now: &str) -> CustomerRecord {
    CustomerRecord {
        id: new_customer_id(app, source_id),
        source_id: source_id.to_owned(),
        referral_code: generate_code(app, source_id),
        metadata: Default::default(),
        referred_by: None,
        created_at: now.to_owned(),
        updated_at: now.to_owned(),
    }
}

/// Take `code` for `owner` if it is free: the check and the write are one `entry` step.
fn claim(app: &App, code: &str, owner: &str) -> Result<(), ApiError> {
    match app.data.codes.entry(code.to_owned()) {
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

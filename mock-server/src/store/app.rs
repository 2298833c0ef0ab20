//! One application's data: customers, codes, referrals, events and logs.
//!
//! # Locking
//!
//! Customers live in a `DashMap` keyed by source_id; every write to a customer happens while
//! its entry is held (`customers.entry(source_id)`), which makes the create-or-update of one
//! source_id atomic. Codes live in a second `DashMap` (code -> owner); a code is claimed with
//! `codes.entry(code)` *while the claimant's customer entry is held*, so "is it free?" and
//! "take it" are one step and two claimants can never both win.
//!
//! The lock order is fixed: a `customers` entry first, then any of the leaf locks (`codes`,
//! `ids`, `referrals`, the event log, the id generator). Nothing takes a `customers` lock while
//! holding a leaf, and no code path holds two `customers` entries at once (the advocate's side
//! of a referral lives in `referrals`, not in the advocate's record), so there is no cycle.
//!
//! Resets and imports are excluded by the registry's `RwLock`: every request holds it shared
//! for its whole (synchronous) state access, a reset or import holds it exclusively.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};

use dashmap::DashMap;
use serde::{Deserialize, Serialize};

use super::ids::{IdGen, is_id, is_timestamp, parse_timestamp};
use super::records::{
    Customer, CustomerRecord, DeliveryEntry, DeliveryOutcome, DropEntry, Event, Referral,
};
use crate::config::AppConfig;
use crate::error::ErrorCode;
use crate::segment::IngestDrop;

/// Lock a mutex, recovering from poisoning: every critical section leaves its data whole.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The append-only event log with the set of ids in it (ids stay unique across imports).
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    /// Events in arrival order.
    pub(crate) list: Vec<Event>,
    /// Every id in `list`.
    pub(crate) ids: HashSet<String>,
}

/// Everything one application stores.
#[derive(Debug, Default)]
pub(crate) struct AppData {
    /// Customers by source_id.
    pub(crate) customers: DashMap<String, CustomerRecord>,
    /// `cust_` id -> source_id.
    pub(crate) ids: DashMap<String, String>,
    /// Referral code -> owner's source_id.
    pub(crate) codes: DashMap<String, String>,
    /// Advocate's source_id -> the referrals attributed to it, oldest first.
    pub(crate) referrals: DashMap<String, Vec<Referral>>,
    /// Stored events.
    pub(crate) events: Mutex<EventLog>,
    /// Business-rule refusals, in arrival order.
    pub(crate) drops: Mutex<Vec<DropEntry>>,
    /// Front-door delivery outcomes, in arrival order.
    pub(crate) deliveries: Mutex<Vec<DeliveryEntry>>,
    /// Front-door messageIds already accepted. Checked and marked in one `entry` step
    /// ([`App::mark_message_seen`]), so of two copies of one message only one passes.
    pub(crate) seen_messages: DashMap<String, ()>,
}

/// An application: its settings, its data and its id generator.
#[derive(Debug)]
pub struct App {
    /// Credentials and settings.
    pub(crate) config: AppConfig,
    /// Everything stored.
    pub(crate) data: AppData,
    /// Ids and codes for this application.
    pub(crate) ids: IdGen,
}

/// One application's data as `GET /__admin/state` writes it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppDataDoc {
    /// Customers, sorted by source_id.
    #[serde(default)]
    pub customers: Vec<CustomerRecord>,
    /// Referrals grouped by advocate (sorted by source_id), each group oldest first.
    #[serde(default)]
    pub referrals: Vec<Referral>,
    /// Events in arrival order.
    #[serde(default)]
    pub events: Vec<Event>,
    /// The drop log.
    #[serde(default)]
    pub drops: Vec<DropEntry>,
    /// The delivery log.
    #[serde(default)]
    pub deliveries: Vec<DeliveryEntry>,
    /// Front-door messageIds already seen.
    #[serde(default)]
    pub seen_message_ids: Vec<String>,
}

impl App {
    /// A new, empty application.
    pub(crate) fn new(config: AppConfig, seed: Option<u64>) -> Self {
        let ids = IdGen::new(seed, &config.api_key);
        Self {
            config,
            data: AppData::default(),
            ids,
        }
    }

    /// The application's settings.
    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    /// Render a stored record with its derived fields.
    pub(crate) fn render(&self, record: &CustomerRecord) -> Customer {
        let referral_count = self
            .data
            .referrals
            .get(&record.source_id)
            .map_or(0, |list| list.len() as u64);
        Customer {
            id: record.id.clone(),
            source_id: record.source_id.clone(),
            referral_code: record.referral_code.clone(),
            metadata: record.metadata.clone(),
            referral_count,
            referred_by: record.referred_by.clone(),
            referral_link: format!(
                "{}/{}",
                self.config.referral_link_base.trim_end_matches('/'),
                record.referral_code
            ),
            created_at: record.created_at.clone(),
            updated_at: record.updated_at.clone(),
        }
    }

    /// The customer with this source_id.
    pub fn customer(&self, source_id: &str) -> Option<Customer> {
        let record = self.data.customers.get(source_id)?.clone();
        Some(self.render(&record))
    }

    /// The customer with this source_id, else with this `cust_` id.
    pub fn customer_by_source_or_id(&self, key: &str) -> Option<Customer> {
        if let Some(found) = self.customer(key) {
            return Some(found);
        }
        let source_id = self.data.ids.get(key)?.clone();
        self.customer(&source_id)
    }

    /// The customer who owns `code` (exact match).
    pub fn code_owner(&self, code: &str) -> Option<Customer> {
        let owner = match self.data.codes.get(code) {
            Some(owner) => owner.clone(),
            None if crate::rehook::fault::fault!(self.config, CodeMatchCaseInsensitive) => {
                self.owner_ignoring_case(code)?
            }
            None => return None,
        };
        self.customer(&owner)
    }

    /// The owner of a held code equal to `code` ignoring case (the fault
    /// `code-match-case-insensitive` only). Reads every shard of `codes`: call it while no
    /// guard of `codes` is held.
    pub(crate) fn owner_ignoring_case(&self, code: &str) -> Option<String> {
        let folded = code.to_lowercase();
        self.data
            .codes
            .iter()
            .find(|held| held.key().to_lowercase() == folded)
            .map(|held| held.value().clone())
    }

    /// The customers `advocate` referred, oldest referral first.
    pub fn referred_by(&self, advocate: &str) -> Vec<Customer> {
        let mut friends: Vec<String> = self
            .data
            .referrals
            .get(advocate)
            .map(|list| list.iter().map(|r| r.friend.clone()).collect())
            .unwrap_or_default();
        if crate::rehook::fault::fault!(self.config, ReferralListNewestFirst) {
            friends.reverse();
        }
        friends.iter().filter_map(|f| self.customer(f)).collect()
    }

    /// Every customer, sorted by source_id.
    pub fn customers(&self) -> Vec<Customer> {
        self.sorted_records()
            .iter()
            .map(|r| self.render(r))
            .collect()
    }

    /// Copies of the stored records, sorted by source_id (dashmap iterates in no order).
    fn sorted_records(&self) -> Vec<CustomerRecord> {
        let mut records: Vec<CustomerRecord> = self
            .data
            .customers
            .iter()
            .map(|entry| entry.value().clone())
            .collect();
        records.sort_by(|a, b| a.source_id.cmp(&b.source_id));
        records
    }

    /// Stored events in arrival order, optionally of one source_id.
    pub fn events(&self, source_id: Option<&str>) -> Vec<Event> {
        lock(&self.data.events)
            .list
            .iter()
            .filter(|e| source_id.is_none_or(|s| e.source_id == s))
            .cloned()
            .collect()
    }

    /// The drop log in arrival order.
    pub fn drops(&self) -> Vec<DropEntry> {
        lock(&self.data.drops).clone()
    }

    /// The drop log's entries whose request body names `source_id` (read as the Rehook API
    /// reads it: a number as its text), in arrival order; copies only those.
    pub fn drops_of(&self, source_id: &str) -> Vec<DropEntry> {
        lock(&self.data.drops)
            .iter()
            .filter(|d| {
                d.body
                    .as_object()
                    .and_then(|b| crate::rehook::input::source_id(b).ok())
                    .is_some_and(|s| s == source_id)
            })
            .cloned()
            .collect()
    }

    /// The delivery log in arrival order.
    pub fn deliveries(&self) -> Vec<DeliveryEntry> {
        lock(&self.data.deliveries).clone()
    }

    /// At most `limit` of the delivery log's entries after its first `after` (a reader's
    /// cursor), with the log's length; `Err` with the length when the log holds fewer than
    /// `after`: it was reset or replaced since the cursor was taken. Copies only what is
    /// asked for.
    pub fn deliveries_after(
        &self,
        after: usize,
        limit: usize,
    ) -> Result<(Vec<DeliveryEntry>, usize), usize> {
        let log = lock(&self.data.deliveries);
        let rest = log.get(after..).ok_or(log.len())?;
        Ok((rest[..rest.len().min(limit)].to_vec(), log.len()))
    }

    /// Append to the delivery log.
    pub(crate) fn log_delivery(&self, entry: DeliveryEntry) {
        lock(&self.data.deliveries).push(entry);
    }

    /// Mark a front-door `messageId` as seen; `true` when it had not been. The check and the
    /// mark are one `entry` step, so concurrent copies of one message cannot both pass.
    pub(crate) fn mark_message_seen(&self, message_id: &str) -> bool {
        match self.data.seen_messages.entry(message_id.to_owned()) {
            dashmap::mapref::entry::Entry::Occupied(_) => false,
            dashmap::mapref::entry::Entry::Vacant(free) => {
                free.insert(());
                true
            }
        }
    }

    /// Append to the drop log.
    pub(crate) fn log_drop(&self, entry: DropEntry) {
        lock(&self.data.drops).push(entry);
    }

    /// Empty everything and restart the id stream from the seed.
    pub(crate) fn clear(&mut self) {
        self.data = AppData::default();
        self.ids.reseed();
    }

    /// The data as a document.
    pub(crate) fn export(&self) -> AppDataDoc {
        let customers = self.sorted_records();
        let mut by_advocate: Vec<(String, Vec<Referral>)> = self
            .data
            .referrals
            .iter()
            .map(|e| (e.key().clone(), e.value().clone()))
            .collect();
        by_advocate.sort_by(|a, b| a.0.cmp(&b.0));
        let referrals = by_advocate.into_iter().flat_map(|(_, list)| list).collect();
        let mut seen_message_ids: Vec<String> = self
            .data
            .seen_messages
            .iter()
            .map(|e| e.key().clone())
            .collect();
        seen_message_ids.sort();
        AppDataDoc {
            customers,
            referrals,
            events: lock(&self.data.events).list.clone(),
            drops: self.drops(),
            deliveries: self.deliveries(),
            seen_message_ids,
        }
    }
}

impl AppData {
    /// Build data from a document, checking everything the running store relies on; the
    /// delivery log is checked against what `mappings` (the application's) could write.
    pub(crate) fn import(doc: AppDataDoc, mappings: MappingFacts) -> Result<Self, String> {
        let data = AppData::default();
        for c in doc.customers {
            if c.source_id.trim().is_empty() {
                return Err("a customer has an empty source_id".to_owned());
            }
            if !is_id(&c.id, "cust_") {
                return Err(format!(
                    "customer {:?} has the id {:?}; ids are cust_ and 21 alphanumerics",
                    c.source_id, c.id
                ));
            }
            if !is_timestamp(&c.created_at) || !is_timestamp(&c.updated_at) {
                return Err(format!(
                    "customer {:?} has a created_at or updated_at that is not an RFC 3339 UTC time",
                    c.source_id
                ));
            }
            if parse_timestamp(&c.updated_at) < parse_timestamp(&c.created_at) {
                return Err(format!(
                    "customer {:?} was updated before it was created",
                    c.source_id
                ));
            }
            if c.referred_by.as_deref() == Some(c.source_id.as_str()) {
                return Err(format!("customer {:?} is referred by itself", c.source_id));
            }
            if !crate::rehook::is_valid_code(&c.referral_code) {
                return Err(format!(
                    "customer {:?} has an invalid referral_code {:?}",
                    c.source_id, c.referral_code
                ));
            }
            if data.ids.insert(c.id.clone(), c.source_id.clone()).is_some() {
                return Err(format!("customer id {:?} appears twice", c.id));
            }
            if let Some(other) = data
                .codes
                .insert(c.referral_code.clone(), c.source_id.clone())
            {
                return Err(format!(
                    "referral_code {:?} belongs to both {:?} and {:?}",
                    c.referral_code, other, c.source_id
                ));
            }
            let source_id = c.source_id.clone();
            if data.customers.insert(source_id.clone(), c).is_some() {
                return Err(format!("source_id {source_id:?} appears twice"));
            }
        }
        let mut attributed = HashSet::new();
        for r in doc.referrals {
            let friend_advocate = data
                .customers
                .get(&r.friend)
                .map(|f| f.referred_by.clone())
                .ok_or_else(|| format!("referral of unknown friend {:?}", r.friend))?;
            if !data.customers.contains_key(&r.advocate) {
                return Err(format!("referral by unknown advocate {:?}", r.advocate));
            }
            if friend_advocate.as_deref() != Some(r.advocate.as_str()) {
                return Err(format!(
                    "referral {:?} -> {:?} disagrees with the friend's referred_by",
                    r.advocate, r.friend
                ));
            }
            if !is_timestamp(&r.at) {
                return Err(format!(
                    "referral {:?} -> {:?} has an `at` that is not RFC 3339",
                    r.advocate, r.friend
                ));
            }
            if !attributed.insert(r.friend.clone()) {
                return Err(format!("friend {:?} is referred twice", r.friend));
            }
            data.referrals
                .entry(r.advocate.clone())
                .or_default()
                .push(r);
        }
        for entry in data.customers.iter() {
            if entry.referred_by.is_some() && !attributed.contains(entry.key()) {
                return Err(format!(
                    "customer {:?} has referred_by but no referral entry",
                    entry.key()
                ));
            }
        }
        {
            let mut log = lock(&data.events);
            for e in doc.events {
                if !is_id(&e.id, "evt_") {
                    return Err(format!(
                        "event id {:?} is not evt_ and 21 alphanumerics",
                        e.id
                    ));
                }
                if e.event_name.trim().is_empty() {
                    return Err(format!("event {:?} has a blank event_name", e.id));
                }
                if !is_timestamp(&e.received_at) {
                    return Err(format!(
                        "event {:?} has a received_at that is not RFC 3339",
                        e.id
                    ));
                }
                if !data.customers.contains_key(&e.source_id) {
                    return Err(format!(
                        "event {:?} belongs to {:?}, who is not a customer (events create their sender)",
                        e.id, e.source_id
                    ));
                }
                if !log.ids.insert(e.id.clone()) {
                    return Err(format!("event id {:?} appears twice", e.id));
                }
                log.list.push(e);
            }
        }
        for d in &doc.drops {
            check_drop(d)?;
        }
        for (i, d) in doc.deliveries.iter().enumerate() {
            check_delivery(d, mappings).map_err(|why| format!("delivery log entry {i}: {why}"))?;
        }
        for id in doc.seen_message_ids {
            if id.is_empty() {
                return Err(
                    "seen_message_ids lists \"\", which no message can have as its messageId"
                        .to_owned(),
                );
            }
            if data.seen_messages.insert(id.clone(), ()).is_some() {
                return Err(format!("seen messageId {id:?} is listed twice"));
            }
        }
        // A message that passed ingestion marked its messageId as seen.
        if let Some(unseen) = doc.deliveries.iter().find(|d| {
            passed_ingestion(d)
                && d.message_id
                    .as_ref()
                    .is_some_and(|id| !data.seen_messages.contains_key(id))
        }) {
            return Err(format!(
                "delivery of messageId {:?} passed ingestion, but seen_message_ids does not list it",
                unseen.message_id.as_deref().unwrap_or_default()
            ));
        }
        check_delivery_log(&doc.deliveries, &data.seen_messages, mappings)?;
        *lock(&data.drops) = doc.drops;
        *lock(&data.deliveries) = doc.deliveries;
        Ok(data)
    }
}

/// Whether a delivery-log entry is of a message that passed ingestion: it matched an action
/// or was filtered (ingestion drops have neither).
fn passed_ingestion(d: &DeliveryEntry) -> bool {
    d.action.is_some() || d.outcome == DeliveryOutcome::Filtered
}

/// What the import knows of the mappings that wrote a delivery log: the application's
/// mapping set as the imported config gives it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MappingFacts {
    /// Whether they are the destination's defaults (identify → identify_user, track →
    /// track_event, nothing else), so an entry's action must agree with its type.
    pub(crate) defaults: bool,
    /// How many mappings are enabled: the most entries one message can have.
    pub(crate) enabled: usize,
}

impl MappingFacts {
    /// The facts of `set`.
    pub(crate) fn of(set: &crate::segment::MappingSet) -> Self {
        let defaults = set.is_default();
        // The defaults' two mappings never both fire: identify and track are apart.
        let enabled = if defaults {
            1
        } else {
            set.mappings().iter().filter(|m| m.enabled()).count().max(1)
        };
        Self { defaults, enabled }
    }
}

/// A Rehook code a mapped call can be dropped with (a business rule or a body rule of the
/// two actions), with the action that can earn it (`None`: either). Business-rule codes may
/// also carry `200` (drop mode `accept`).
fn rehook_drop(reason: &str) -> Option<(ErrorCode, Option<&'static str>)> {
    use ErrorCode::*;
    let code = ErrorCode::parse(reason)?;
    let only = match code {
        ReferralCodeTaken | InvalidReferralCode => Some("identify_user"),
        ReferralCodeRequired | ReferralCodeUnknown | SelfReferral | EventNameRequired
        | InvalidEventName => Some("track_event"),
        SourceIdRequired | InvalidSourceId | InvalidMetadata => None,
        _ => return None,
    };
    Some((code, only))
}

/// Whether `reason` is one the mapping writes when a required field resolves to nothing.
fn is_mapping_reason(reason: &str, action: &str) -> bool {
    match reason {
        "anonymous_only" | "missing_user_id" | "missing_required_field:source_id" => true,
        "missing_required_field:event_name" => action == "track_event",
        _ => false,
    }
}

/// A delivery log entry must be one the front door could have written, with `mappings`.
fn check_delivery(d: &DeliveryEntry, mappings: MappingFacts) -> Result<(), String> {
    if !is_timestamp(&d.at) {
        return Err(format!("`at` {:?} is not an RFC 3339 UTC time", d.at));
    }
    if d.message_id.as_deref() == Some("") {
        return Err("message_id is \"\"; a message without one has null".to_owned());
    }
    let action = d.action.as_deref();
    if let Some(action) = action
        && !matches!(action, "identify_user" | "track_event")
    {
        return Err(format!("unknown action {action:?}"));
    }
    let known_type = d
        .message_type
        .as_deref()
        .and_then(crate::segment::MessageType::parse);
    let shape = |why: &str| {
        Err(format!(
            "outcome {} with action {:?}, status {:?} and reason {:?}: {why}",
            d.outcome.as_str(),
            d.action,
            d.status,
            d.reason
        ))
    };
    // The default mappings: identify → Identify User, track → Track Event, nothing else.
    if mappings.defaults && action.is_some() {
        let expected = match known_type {
            Some(crate::segment::MessageType::Identify) => Some("identify_user"),
            Some(crate::segment::MessageType::Track) => Some("track_event"),
            _ => None,
        };
        if action != expected {
            return shape(&format!(
                "the default mappings give a {:?} message no such action",
                d.message_type.as_deref().unwrap_or("(none)")
            ));
        }
    }
    match d.outcome {
        // A delivered message ran its action and was answered 201/200 (identify) or 200.
        DeliveryOutcome::Delivered => {
            let statuses: &[u16] = match action {
                Some("identify_user") => &[200, 201],
                Some(_) => &[200],
                None => return shape("a delivered message ran an action"),
            };
            if !d.status.is_some_and(|s| statuses.contains(&s)) {
                return shape("that action answers a success with 200 or 201 (identify)");
            }
            if d.reason.is_some() {
                return shape("a delivered message has no reason");
            }
        }
        // A filtered message matched no action and made no call; the one reason is a
        // destination turned off by the message's integrations.
        DeliveryOutcome::Filtered => {
            let reason_ok = d
                .reason
                .as_deref()
                .is_none_or(|r| r == crate::segment::INTEGRATIONS_DISABLED);
            if action.is_some() || d.status.is_some() || !reason_ok {
                return shape(
                    "a filtered message has no action, no status, and no reason but integrations_disabled",
                );
            }
            if known_type.is_none() {
                return shape("a message of no known type is dropped invalid_type");
            }
        }
        DeliveryOutcome::Dropped => {
            let Some(reason) = d.reason.as_deref() else {
                return shape("every drop names its reason");
            };
            match (action, d.status) {
                // Ingestion: before any mapping.
                (None, None) => {
                    let Some(drop) = IngestDrop::parse(reason) else {
                        return shape("a drop without an action is one of ingestion's");
                    };
                    let agrees = match drop {
                        IngestDrop::InvalidType => known_type.is_none(),
                        IngestDrop::MissingEventName => {
                            known_type == Some(crate::segment::MessageType::Track)
                        }
                        IngestDrop::DuplicateMessageId => {
                            known_type.is_some() && d.message_id.is_some()
                        }
                        IngestDrop::MissingIdentity => known_type.is_some(),
                    };
                    if !agrees {
                        return shape("the message's type and messageId do not allow that reason");
                    }
                }
                (None, Some(_)) => return shape("a call ran only for a matched action"),
                // The mapping: a required field resolved to nothing.
                (Some(action), None) => {
                    if !is_mapping_reason(reason, action) {
                        return shape("a drop before the call names a required field");
                    }
                }
                // The Rehook API refused the mapped call.
                (Some(action), Some(status)) => {
                    let Some((code, only)) = rehook_drop(reason) else {
                        return shape("not a Rehook API refusal");
                    };
                    let rule_status = code.status().as_u16();
                    let accepted_drop = status == 200 && code.is_business_drop();
                    if status != rule_status && !accepted_drop {
                        return shape(&format!(
                            "{reason} is answered {rule_status} (200 in drop mode accept for business rules)"
                        ));
                    }
                    if only.is_some_and(|only| only != action) {
                        return shape(&format!("{action} never earns {reason}"));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The entries of one message, as the whole log must show them: a message that passed
/// ingestion has one entry (filtered, or one per fired mapping, at most as many as there are
/// enabled mappings); a `duplicate_message_id` drop follows its id being seen.
fn check_delivery_log(
    log: &[DeliveryEntry],
    seen: &DashMap<String, ()>,
    mappings: MappingFacts,
) -> Result<(), String> {
    let mut passed: std::collections::HashMap<&str, (usize, bool)> =
        std::collections::HashMap::new();
    for d in log {
        let Some(id) = d.message_id.as_deref() else {
            continue;
        };
        if d.reason.as_deref() == Some("duplicate_message_id") && !seen.contains_key(id) {
            return Err(format!(
                "messageId {id:?} is dropped as a duplicate, but seen_message_ids does not list it"
            ));
        }
        if !passed_ingestion(d) {
            continue;
        }
        let (count, filtered) = passed.entry(id).or_insert((0, false));
        *count += 1;
        *filtered |= d.outcome == DeliveryOutcome::Filtered;
        if *filtered && *count > 1 {
            return Err(format!(
                "messageId {id:?} is filtered and has other entries; a filtered message has one"
            ));
        }
        if *count > mappings.enabled {
            return Err(if mappings.defaults {
                format!(
                    "messageId {id:?} passed ingestion more than once; the default mappings write one entry per message and a repeat is duplicate_message_id"
                )
            } else {
                format!(
                    "messageId {id:?} has {count} entries past ingestion; with {} enabled mappings a message has at most that many",
                    mappings.enabled
                )
            });
        }
    }
    Ok(())
}

/// A drop log entry must be one the Rehook layer could have written.
fn check_drop(d: &DropEntry) -> Result<(), String> {
    let Some(code) = ErrorCode::parse(&d.reason).filter(|c| c.is_business_drop()) else {
        return Err(format!(
            "drop {:?} has the unknown reason {:?}",
            d.request_id, d.reason
        ));
    };
    let status = code.status().as_u16();
    if d.status != status {
        return Err(format!(
            "drop {:?} ({}) has status {}; that reason is {status}",
            d.request_id, d.reason, d.status
        ));
    }
    if !is_id(&d.request_id, "req_") {
        return Err(format!(
            "drop request_id {:?} is not req_ and 21 alphanumerics",
            d.request_id
        ));
    }
    if !is_timestamp(&d.at) {
        return Err(format!(
            "drop {:?} has an `at` that is not an RFC 3339 UTC time",
            d.request_id
        ));
    }
    if d.layer != "rehook" {
        return Err(format!(
            "drop {:?} has the unknown layer {:?}",
            d.request_id, d.layer
        ));
    }
    if !d.body.is_object() {
        return Err(format!(
            "drop {:?} has a body that is not an object",
            d.request_id
        ));
    }
    Ok(())
}

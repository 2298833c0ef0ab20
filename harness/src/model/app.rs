//! One application's state and the Rehook API's rules over it (contract section 2): upsert
//! with shallow merge and code replacement, conversion events and attribution, the drop log,
//! drop mode, and the reads.
//!
//! Generated codes are symbolic: the model knows that a create without a code gets "a fresh
//! 6-letter A–Z code no one holds", names it with a placeholder ([`fresh_code`]) and learns the
//! server's actual value later ([`App::learn_code`]). Ids and timestamps are not modelled.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::coerce::{self, Invalid};

/// The text that stands for the `k`-th generated code until its value is learned. It can
/// never be a real generated code (those are six letters A–Z).
pub fn fresh_code(k: usize) -> String {
    format!("?fresh{k}")
}

/// Which generated code a placeholder names, if `code` is one.
pub fn fresh_index(code: &str) -> Option<usize> {
    code.strip_prefix("?fresh")?.parse().ok()
}

/// Whether `code` has the shape of a generated code: six letters A–Z.
pub fn is_generated_shape(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// How business-rule refusals are answered (contract 2.9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DropMode {
    /// With their 409 / 422 error.
    #[default]
    Reject,
    /// With `200 {"status": "dropped", "reason": CODE}`.
    Accept,
}

/// The application's settings that change what the rules answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Event names that convert a referral.
    pub conversion_events: BTreeSet<String>,
    /// How drops are answered.
    pub drop_mode: DropMode,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            conversion_events: BTreeSet::from(["signup".to_owned()]),
            drop_mode: DropMode::Reject,
        }
    }
}

/// A customer as the model keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// Its source_id, as sent (or a number's text).
    pub source_id: String,
    /// Its code (a [`fresh_code`] placeholder until learned).
    pub referral_code: String,
    /// Its properties, merged shallowly.
    pub metadata: Map<String, Value>,
    /// Its advocate's source_id.
    pub referred_by: Option<String>,
    /// The customers it referred, oldest first (its `referral_count` is their number).
    pub referrals: Vec<String>,
}

impl Customer {
    /// How many customers it referred.
    pub fn referral_count(&self) -> usize {
        self.referrals.len()
    }
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Its name as sent.
    pub event_name: String,
    /// Its sender.
    pub source_id: String,
    /// Its metadata as sent (`{}` when none).
    pub metadata: Map<String, Value>,
}

/// Which Rehook endpoint a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /customers`.
    Customers,
    /// `POST /events/invoke`.
    EventsInvoke,
}

impl Endpoint {
    /// The path, without any base path.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Customers => "/customers",
            Endpoint::EventsInvoke => "/events/invoke",
        }
    }
}

/// An entry of the drop log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drop {
    /// Where the refused call went.
    pub endpoint: Endpoint,
    /// The rule's code.
    pub reason: &'static str,
    /// The rule's status (409 or 422).
    pub status: u16,
    /// The body as sent.
    pub body: Value,
}

/// `referral` of an event answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    /// The advocate named.
    pub advocate: String,
    /// `true` for `attributed`, `false` for `already_referred`.
    pub attributed: bool,
}

impl Referral {
    /// `attributed` or `already_referred`.
    pub fn status(&self) -> &'static str {
        if self.attributed {
            "attributed"
        } else {
            "already_referred"
        }
    }
}

/// What the model expects a call to be answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// An error answer: its status and `code`.
    Error {
        /// The status.
        status: u16,
        /// The error body's `code`.
        code: &'static str,
    },
    /// A drop answered in drop mode `accept`: `200 {"status": "dropped", "reason": ..}`.
    Dropped {
        /// The rule's code.
        reason: &'static str,
    },
    /// A customer (`201` created, `200` otherwise).
    Customer {
        /// The status.
        status: u16,
        /// The customer after the call.
        customer: Customer,
    },
    /// `200` and the list of referred customers, oldest first.
    Referrals(Vec<Customer>),
    /// `200 {"status": "ok", "event": .., "referral": ..}`.
    Event {
        /// The stored event.
        event: Event,
        /// The referral outcome (`None` for `null`).
        referral: Option<Referral>,
    },
}

impl Reply {
    /// The expected HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Reply::Error { status, .. } | Reply::Customer { status, .. } => *status,
            Reply::Dropped { .. } | Reply::Referrals(_) | Reply::Event { .. } => 200,
        }
    }

    fn error(status: u16, code: &'static str) -> Self {
        Reply::Error { status, code }
    }

    fn invalid(Invalid(code): Invalid) -> Self {
        Reply::error(400, code)
    }
}

/// One application: customers keyed by source_id, code owners, events and the drop log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct App {
    /// The settings.
    pub settings: Settings,
    /// Customers by source_id.
    pub customers: BTreeMap<String, Customer>,
    /// Who holds each code.
    pub owners: BTreeMap<String, String>,
    /// Stored events, in arrival order.
    pub events: Vec<Event>,
    /// The drop log, in arrival order.
    pub drops: Vec<Drop>,
    /// How many codes were generated so far (placeholders `0..generated`).
    pub generated: usize,
    /// The server's values of the generated codes learned so far.
    pub learned: BTreeMap<usize, String>,
}

impl App {
    /// An empty application with `settings`.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            ..Self::default()
        }
    }

    /// The customer `source_id`, if it exists.
    pub fn customer(&self, source_id: &str) -> Option<&Customer> {
        self.customers.get(source_id)
    }

    /// The customer holding `code`, if any.
    pub fn owner_of(&self, code: &str) -> Option<&Customer> {
        self.owners.get(code).and_then(|s| self.customers.get(s))
    }

    /// The `k`-th generated code: its learned value, else its placeholder.
    pub fn generated_code(&self, k: usize) -> String {
        self.learned
            .get(&k)
            .cloned()
            .unwrap_or_else(|| fresh_code(k))
    }

    /// Replaces the placeholder of generated code `k` by the server's value.
    pub fn learn_code(&mut self, k: usize, actual: &str) {
        self.learned.insert(k, actual.to_owned());
        let placeholder = fresh_code(k);
        if let Some(owner) = self.owners.remove(&placeholder) {
            if let Some(customer) = self.customers.get_mut(&owner) {
                customer.referral_code = actual.to_owned();
            }
            self.owners.insert(actual.to_owned(), owner);
        }
    }

    fn generate_code(&mut self) -> String {
        let code = fresh_code(self.generated);
        self.generated += 1;
        code
    }

    fn refuse(
        &mut self,
        endpoint: Endpoint,
        status: u16,
        reason: &'static str,
        body: &Value,
    ) -> Reply {
        self.drops.push(Drop {
            endpoint,
            reason,
            status,
            body: body.clone(),
        });
        match self.settings.drop_mode {
            DropMode::Reject => Reply::error(status, reason),
            DropMode::Accept => Reply::Dropped { reason },
        }
    }

    fn create(&mut self, source_id: &str, code: Option<String>, metadata: Map<String, Value>) {
        let code = code.unwrap_or_else(|| self.generate_code());
        self.owners.insert(code.clone(), source_id.to_owned());
        self.customers.insert(
            source_id.to_owned(),
            Customer {
                source_id: source_id.to_owned(),
                referral_code: code,
                metadata,
                referred_by: None,
                referrals: Vec::new(),
            },
        );
    }

    /// `POST /customers` with `body`.
    pub fn upsert(&mut self, body: &Value) -> Reply {
        let Some(fields) = body.as_object() else {
            return Reply::error(400, "INVALID_BODY");
        };
        let parsed = coerce::source_id(fields).and_then(|source_id| {
            let metadata = coerce::metadata(fields)?;
            let code = coerce::referral_code(fields)?;
            Ok((source_id, metadata, code))
        });
        let (source_id, metadata, code) = match parsed {
            Ok(parsed) => parsed,
            Err(invalid) => return Reply::invalid(invalid),
        };
        if let Some(code) = &code
            && self
                .owners
                .get(code)
                .is_some_and(|owner| *owner != source_id)
        {
            return self.refuse(Endpoint::Customers, 409, "REFERRAL_CODE_TAKEN", body);
        }
        let Some(customer) = self.customers.get_mut(&source_id) else {
            self.create(&source_id, code, metadata.unwrap_or_default());
            let customer = self.customers[&source_id].clone();
            return Reply::Customer {
                status: 201,
                customer,
            };
        };
        customer.metadata.extend(metadata.unwrap_or_default());
        if let Some(code) = code
            && code != customer.referral_code
        {
            let old = std::mem::replace(&mut customer.referral_code, code.clone());
            self.owners.remove(&old);
            self.owners.insert(code, source_id.clone());
        }
        Reply::Customer {
            status: 200,
            customer: self.customers[&source_id].clone(),
        }
    }

    /// `POST /events/invoke` with `body`.
    pub fn invoke(&mut self, body: &Value) -> Reply {
        let Some(fields) = body.as_object() else {
            return Reply::error(400, "INVALID_BODY");
        };
        let parsed = coerce::source_id(fields).and_then(|source_id| {
            let event_name = coerce::event_name(fields)?;
            let metadata = coerce::metadata(fields)?;
            Ok((source_id, event_name, metadata))
        });
        let (source_id, event_name, metadata) = match parsed {
            Ok(parsed) => parsed,
            Err(invalid) => return Reply::invalid(invalid),
        };
        let conversion = self.settings.conversion_events.contains(&event_name);
        let mut advocate = None;
        if conversion {
            let Some(code) = coerce::conversion_code(metadata.as_ref()) else {
                return self.refuse(Endpoint::EventsInvoke, 422, "REFERRAL_CODE_REQUIRED", body);
            };
            let Some(owner) = self.owners.get(&code).cloned() else {
                return self.refuse(Endpoint::EventsInvoke, 422, "REFERRAL_CODE_UNKNOWN", body);
            };
            if owner == source_id {
                return self.refuse(Endpoint::EventsInvoke, 422, "SELF_REFERRAL", body);
            }
            advocate = Some(owner);
        }
        if !self.customers.contains_key(&source_id) {
            self.create(&source_id, None, Map::new());
        }
        let event = Event {
            event_name,
            source_id: source_id.clone(),
            metadata: metadata.unwrap_or_default(),
        };
        self.events.push(event.clone());
        let referral = advocate.map(|advocate| {
            let caller = self.customers.get_mut(&source_id).expect("created above");
            match &caller.referred_by {
                Some(existing) => Referral {
                    advocate: existing.clone(),
                    attributed: false,
                },
                None => {
                    caller.referred_by = Some(advocate.clone());
                    let owner = self
                        .customers
                        .get_mut(&advocate)
                        .expect("owners hold customers");
                    owner.referrals.push(source_id.clone());
                    Referral {
                        advocate,
                        attributed: true,
                    }
                }
            }
        });
        Reply::Event { event, referral }
    }

    /// `GET /customers/{key}`: by source_id, else by `cust_` id (the model knows no ids, so
    /// the caller resolves those to a source_id first).
    pub fn get(&self, source_id: &str) -> Reply {
        match self.customers.get(source_id) {
            Some(customer) => Reply::Customer {
                status: 200,
                customer: customer.clone(),
            },
            None => Reply::error(404, "CUSTOMER_NOT_FOUND"),
        }
    }

    /// `GET /customers/validate-code/{code}`.
    pub fn validate(&self, code: &str) -> Reply {
        match self.owner_of(code) {
            Some(customer) => Reply::Customer {
                status: 200,
                customer: customer.clone(),
            },
            None => Reply::error(404, "REFERRAL_CODE_NOT_FOUND"),
        }
    }

    /// `GET /customers/referral/list/{source_id}`.
    pub fn referral_list(&self, source_id: &str) -> Reply {
        match self.customers.get(source_id) {
            Some(customer) => Reply::Referrals(
                customer
                    .referrals
                    .iter()
                    .map(|s| self.customers[s].clone())
                    .collect(),
            ),
            None => Reply::error(404, "CUSTOMER_NOT_FOUND"),
        }
    }
}

//! The values the store keeps and hands out, in their wire shapes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A customer as the store keeps it (referral count and link are derived when rendered).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerRecord {
    /// `cust_` + 21 alphanumerics.
    pub id: String,
    /// The caller's own id for the customer; the upsert key.
    pub source_id: String,
    /// The customer's unique code within its application.
    pub referral_code: String,
    /// Properties, merged shallowly on every update.
    pub metadata: Map<String, Value>,
    /// The advocate's source_id, once a conversion attributed this customer.
    pub referred_by: Option<String>,
    /// When the customer was created.
    pub created_at: String,
    /// When the customer was last written.
    pub updated_at: String,
}

/// A customer as every door shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// `cust_` + 21 alphanumerics.
    pub id: String,
    /// The caller's own id for the customer.
    pub source_id: String,
    /// The customer's unique code.
    pub referral_code: String,
    /// Properties (`{}` when none were ever sent).
    pub metadata: Map<String, Value>,
    /// How many customers this one referred.
    pub referral_count: u64,
    /// The advocate's source_id, or `null`.
    pub referred_by: Option<String>,
    /// `<referral link base>/<code>`.
    pub referral_link: String,
    /// When the customer was created.
    pub created_at: String,
    /// When the customer was last written.
    pub updated_at: String,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// `evt_` + 21 alphanumerics.
    pub id: String,
    /// The event's name.
    pub event_name: String,
    /// Who sent it.
    pub source_id: String,
    /// Properties as sent (`{}` when none).
    pub metadata: Map<String, Value>,
    /// When the fake received it.
    pub received_at: String,
}

/// One attributed referral: `friend` joined through `advocate`'s code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Referral {
    /// The advocate's source_id.
    pub advocate: String,
    /// The referred customer's source_id.
    pub friend: String,
    /// When the conversion was attributed.
    pub at: String,
}

/// A call refused by a business rule, as the drop log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropEntry {
    /// The `x-request-id` of the refused request.
    pub request_id: String,
    /// When it was refused.
    pub at: String,
    /// The door the call came through at the Rehook level (`"rehook"`).
    pub layer: String,
    /// `"METHOD /path"` of the refused call.
    pub endpoint: String,
    /// The rule's code (`REFERRAL_CODE_TAKEN`, ...).
    pub reason: String,
    /// The rule's status (409 or 422), whichever drop mode answered.
    pub status: u16,
    /// The request body as received.
    pub body: Value,
}

/// What became of one front-door message, as Segment's Event Delivery view says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryOutcome {
    /// The destination's Rehook call ran and succeeded.
    Delivered,
    /// Refused at ingestion, by the mapping, or by the Rehook API.
    Dropped,
    /// No mapping subscribes to the message's type.
    Filtered,
}

impl DeliveryOutcome {
    /// `delivered`, `dropped` or `filtered`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::Dropped => "dropped",
            DeliveryOutcome::Filtered => "filtered",
        }
    }
}

/// One front-door message in the application's delivery log (`GET /__admin/deliveries`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryEntry {
    /// The message's `messageId` as text, or `null` when it had none.
    pub message_id: Option<String>,
    /// The message's `type` as sent (even an unknown one), or `null` when it is not text.
    #[serde(rename = "type")]
    pub message_type: Option<String>,
    /// The destination action that matched (`identify_user`, `track_event`), if any.
    pub action: Option<String>,
    /// What became of the message.
    pub outcome: DeliveryOutcome,
    /// The Rehook API's status for the mapped call, when one ran.
    pub status: Option<u16>,
    /// Why it was dropped: an ingestion or mapping reason, or the Rehook error code.
    pub reason: Option<String>,
    /// When the front door processed it.
    pub at: String,
}

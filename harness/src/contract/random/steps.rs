//! The transitions of the random run: symbolic steps drawn from small pools (four users, six
//! codes of which two differ from two others only in case, three messageIds) so that
//! collisions are common, their generators, their
//! preconditions, and how a step becomes a concrete call.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::model::App;

/// Users in the pool.
pub const USERS: u8 = 4;
/// Explicit codes in the pool: `C0` to `C3`, and `c0`, `c1`, the same as `C0`, `C1` but for
/// case (codes match exactly, so they are other codes).
pub const CODES: u8 = 6;
/// Numeric codes in the pool.
const NUMERIC_CODES: u8 = 2;
/// messageIds in the pool.
const MESSAGE_IDS: u8 = 3;
/// Event names that are never conversion events.
pub const OTHER_EVENTS: [&str; 2] = ["page_view", "order_completed"];

/// Names the ids and codes of one execution: every string id starts with `{base}-`, the
/// numeric user is `base` and the numeric codes `base + 1`, `base + 2`, so that two
/// executions never share an id or a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// A multiple of 10, unique per execution.
    pub base: u64,
    /// The conversion event name.
    pub conversion_event: String,
}

impl Names {
    /// The string source_id of pool user `u`.
    pub fn user(&self, u: u8) -> String {
        format!("{}-u{u}", self.base)
    }

    /// The numeric user's source_id as text.
    pub fn numeric_user(&self) -> String {
        self.base.to_string()
    }

    /// A source_id no step ever creates.
    pub fn nobody(&self) -> String {
        format!("{}-nobody", self.base)
    }

    /// Explicit pool code `c`: `{base}-C0` .. `{base}-C3`, then `{base}-c0`, `{base}-c1`.
    pub fn code(&self, c: u8) -> String {
        match c {
            0..4 => format!("{}-C{c}", self.base),
            _ => format!("{}-c{}", self.base, c - 4),
        }
    }

    /// A code no step ever claims.
    pub fn unknown_code(&self) -> String {
        format!("{}-NOPE", self.base)
    }

    /// Pool messageId `m`.
    pub fn message_id(&self, m: u8) -> String {
        format!("{}-m{m}", self.base)
    }

    /// Whether `source_id` belongs to this execution.
    pub fn owns(&self, source_id: &str) -> bool {
        let base = self.base.to_string();
        source_id == base
            || source_id
                .strip_prefix(&base)
                .is_some_and(|rest| rest.starts_with('-'))
    }
}

/// Who a step names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Pool user `u` (a string source_id).
    User(u8),
    /// The numeric user (sent as a JSON number).
    Numeric,
    /// Someone who never exists.
    Nobody,
}

/// A `source_id` field, valid or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Src {
    /// A real identity.
    Id(Who),
    /// No `source_id` key.
    Missing,
    /// `null`.
    Null,
    /// `""`.
    Empty,
    /// `"  "` (blank after trimming).
    Blank,
    /// `true`.
    Bool,
    /// `{}`.
    Object,
}

/// A code a step names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRef {
    /// Explicit pool code `c`.
    Pool(u8),
    /// Numeric pool code `c` (sent as a JSON number).
    Numeric(u8),
    /// The `k`-th code the server generated (precondition: it exists).
    Generated(usize),
    /// A code no one ever holds.
    Unknown,
}

/// One metadata value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val {
    /// A short string.
    Text(u8),
    /// A small integer.
    Int(u8),
    /// `null` (stored as `null`).
    Null,
    /// `false` (stored as `false`).
    False,
    /// A nested object (replaced whole, never merged).
    Nested(u8),
}

const KEYS: [&str; 4] = ["plan", "n", "ok", "tags"];

/// A metadata (or traits / properties) field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meta {
    /// No key.
    Absent,
    /// `null`.
    Null,
    /// A number (not an object).
    Number,
    /// An array (not an object).
    Array,
    /// An object with keys from the pool, and maybe a `referral_code`.
    Object(Vec<(u8, Val)>, CodeField),
}

/// A `referral_code` field (of a customer body, or inside metadata).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeField {
    /// No key.
    Absent,
    /// `null`.
    Null,
    /// `""`.
    Empty,
    /// `"  "`.
    Blank,
    /// `true`.
    Bool,
    /// 65 characters (too long).
    TooLong,
    /// A code with a space.
    Spaced,
    /// `{}`.
    Object,
    /// A code from the pools.
    Code(CodeRef),
    /// The caller's own current code (precondition: the caller exists).
    Own,
}

/// An `event_name` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventArg {
    /// The conversion event.
    Conversion,
    /// One of [`OTHER_EVENTS`].
    Other(u8),
    /// No key.
    Missing,
    /// `null`.
    Null,
    /// `" "`.
    Blank,
    /// `5` (not a string).
    Numeric,
}

/// A Segment message's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `identify`.
    Identify,
    /// `track`.
    Track,
    /// `page`, `screen`, `group` or `alias`.
    Unsubscribed(u8),
    /// `login` (not a Segment type).
    Unknown,
    /// No `type`.
    Missing,
}

/// A Segment message's `userId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegUser {
    /// A real identity.
    Id(Who),
    /// No key.
    Missing,
    /// `""` (counts as absent).
    Empty,
    /// `null` (counts as absent).
    Null,
}

/// A Segment message, symbolically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its type.
    pub kind: Kind,
    /// Its userId.
    pub user: SegUser,
    /// Whether it has an anonymousId.
    pub anonymous: bool,
    /// Its messageId from the pool.
    pub message_id: Option<u8>,
    /// A track's `event`.
    pub event: EventArg,
    /// `traits` (identify) or `properties` (others).
    pub payload: Meta,
}

/// One step of a sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `POST /customers`.
    Upsert {
        /// `source_id`.
        source: Src,
        /// `metadata`.
        metadata: Meta,
        /// `referral_code`.
        code: CodeField,
    },
    /// `POST /events/invoke`.
    Invoke {
        /// `event_name`.
        event: EventArg,
        /// `source_id`.
        source: Src,
        /// `metadata` (with `referral_code` for conversions).
        metadata: Meta,
    },
    /// `GET /customers/{source_id}`.
    Get(Who),
    /// `GET /customers/{cust_ id}` (precondition: the customer exists).
    GetById(Who),
    /// `GET /customers/validate-code/{code}`.
    Validate(CodeRef),
    /// `GET /customers/referral/list/{source_id}`.
    ReferralList(Who),
    /// A Segment message played through the harness's Segment play.
    Segment(Message),
}

/// A step made concrete.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `POST /customers` with this body.
    Upsert(Value),
    /// `POST /events/invoke` with this body.
    Invoke(Value),
    /// `GET /customers/{key}`; `by_id` when the key is to be the customer's `cust_` id.
    Get {
        /// The source_id.
        source_id: String,
        /// Whether to look it up by its `cust_` id.
        by_id: bool,
    },
    /// `GET /customers/validate-code/{code}`.
    Validate(String),
    /// `GET /customers/referral/list/{source_id}`.
    ReferralList(String),
    /// A Segment message.
    Segment(Value),
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        8 => (0..USERS).prop_map(Who::User),
        1 => Just(Who::Numeric),
    ]
}

fn who_or_nobody() -> impl Strategy<Value = Who> {
    prop_oneof![9 => who(), 1 => Just(Who::Nobody)]
}

fn src() -> impl Strategy<Value = Src> {
    prop_oneof![
        14 => who().prop_map(Src::Id),
        1 => prop_oneof![
            Just(Src::Missing),
            Just(Src::Null),
            Just(Src::Empty),
            Just(Src::Blank),
            Just(Src::Bool),
            Just(Src::Object),
        ],
    ]
}

fn code_ref(generated: usize) -> BoxedStrategy<CodeRef> {
    let pool = prop_oneof![
        6 => (0..CODES).prop_map(CodeRef::Pool),
        1 => (0..NUMERIC_CODES).prop_map(CodeRef::Numeric),
        1 => Just(CodeRef::Unknown),
    ];
    if generated == 0 {
        pool.boxed()
    } else {
        prop_oneof![3 => pool, 1 => (0..generated).prop_map(CodeRef::Generated)].boxed()
    }
}

fn val() -> impl Strategy<Value = Val> {
    prop_oneof![
        3 => (0..2u8).prop_map(Val::Text),
        2 => (0..3u8).prop_map(Val::Int),
        1 => Just(Val::Null),
        1 => Just(Val::False),
        1 => (0..2u8).prop_map(Val::Nested),
    ]
}

fn customer_code(generated: usize) -> BoxedStrategy<CodeField> {
    prop_oneof![
        6 => Just(CodeField::Absent),
        1 => Just(CodeField::Null),
        1 => Just(CodeField::Empty),
        8 => code_ref(generated).prop_map(CodeField::Code),
        1 => prop_oneof![
            Just(CodeField::Blank),
            Just(CodeField::TooLong),
            Just(CodeField::Spaced),
            Just(CodeField::Object),
        ],
    ]
    .boxed()
}

/// A `metadata.referral_code` (or `traits.referral_code`). `true` only where it is never
/// claimed (events): a claimed `"true"` would be shared by every execution.
fn conversion_code(
    generated: usize,
    held: &[CodeRef],
    with_bool: bool,
) -> BoxedStrategy<CodeField> {
    let odd = if with_bool {
        CodeField::Bool
    } else {
        CodeField::Null
    };
    let base = prop_oneof![
        1 => Just(CodeField::Absent),
        1 => prop_oneof![Just(CodeField::Null), Just(CodeField::Blank), Just(odd)],
        5 => code_ref(generated).prop_map(CodeField::Code),
        2 => Just(CodeField::Own),
    ];
    if held.is_empty() {
        base.boxed()
    } else {
        let held = proptest::sample::select(held.to_vec()).prop_map(CodeField::Code);
        prop_oneof![1 => base, 2 => held].boxed()
    }
}

/// The codes someone holds in `app`, as references (so conversions often name a real code).
fn held_codes(app: &App, names: &Names) -> Vec<CodeRef> {
    app.owners
        .keys()
        .filter_map(|code| {
            if let Some(k) = crate::model::app::fresh_index(code) {
                return Some(CodeRef::Generated(k));
            }
            if let Some(k) = app
                .learned
                .iter()
                .find(|(_, v)| *v == code)
                .map(|(k, _)| *k)
            {
                return Some(CodeRef::Generated(k));
            }
            (0..CODES)
                .find(|c| names.code(*c) == *code)
                .map(CodeRef::Pool)
                .or_else(|| {
                    (0..NUMERIC_CODES)
                        .find(|c| (names.base + 1 + u64::from(*c)).to_string() == *code)
                        .map(CodeRef::Numeric)
                })
        })
        .collect()
}

fn meta(code: BoxedStrategy<CodeField>) -> impl Strategy<Value = Meta> {
    prop_oneof![
        3 => Just(Meta::Absent),
        1 => Just(Meta::Null),
        1 => prop_oneof![Just(Meta::Number), Just(Meta::Array)],
        8 => (proptest::collection::vec((0..KEYS.len() as u8, val()), 0..3), code)
            .prop_map(|(keys, code)| Meta::Object(keys, code)),
    ]
}

fn event_arg() -> impl Strategy<Value = EventArg> {
    prop_oneof![
        6 => Just(EventArg::Conversion),
        3 => (0..OTHER_EVENTS.len() as u8).prop_map(EventArg::Other),
        1 => prop_oneof![
            Just(EventArg::Missing),
            Just(EventArg::Null),
            Just(EventArg::Blank),
            Just(EventArg::Numeric),
        ],
    ]
}

fn message(generated: usize, held: &[CodeRef]) -> BoxedStrategy<Message> {
    let kind = prop_oneof![
        5 => Just(Kind::Identify),
        5 => Just(Kind::Track),
        2 => (0..4u8).prop_map(Kind::Unsubscribed),
        1 => prop_oneof![Just(Kind::Unknown), Just(Kind::Missing)],
    ];
    let user = prop_oneof![
        8 => who().prop_map(SegUser::Id),
        1 => Just(SegUser::Missing),
        1 => prop_oneof![Just(SegUser::Empty), Just(SegUser::Null)],
    ];
    let message_id = prop_oneof![2 => Just(None), 3 => (0..MESSAGE_IDS).prop_map(Some)];
    let code = prop_oneof![
        2 => Just(CodeField::Absent),
        4 => conversion_code(generated, held, false),
    ]
    .boxed();
    (
        kind,
        user,
        any::<bool>(),
        message_id,
        event_arg(),
        meta(code),
    )
        .prop_map(
            |(kind, user, anonymous, message_id, event, payload)| Message {
                kind,
                user,
                anonymous,
                message_id,
                event,
                payload,
            },
        )
        .boxed()
}

/// The steps that may follow `app`'s state (named with `names`).
pub fn steps(app: &App, names: &Names) -> BoxedStrategy<Step> {
    let generated = app.generated;
    let held = held_codes(app, names);
    let upsert = (
        src(),
        meta(Just(CodeField::Absent).boxed()),
        customer_code(generated),
    )
        .prop_map(|(source, metadata, code)| Step::Upsert {
            source,
            metadata,
            code,
        });
    let invoke = (
        event_arg(),
        src(),
        meta(conversion_code(generated, &held, true)),
    )
        .prop_map(|(event, source, metadata)| Step::Invoke {
            event,
            source,
            metadata,
        });
    let reads = prop_oneof![
        2 => who_or_nobody().prop_map(Step::Get),
        1 => who().prop_map(Step::GetById),
        2 => code_ref(generated).prop_map(Step::Validate),
        2 => who_or_nobody().prop_map(Step::ReferralList),
    ];
    prop_oneof![
        6 => upsert,
        5 => invoke,
        5 => message(generated, &held).prop_map(Step::Segment),
        2 => reads,
    ]
    .boxed()
}

/// Whether `step` may run in `app`'s state: every generated code it names exists, a
/// customer looked up by id and a caller sending its own code exist.
pub fn precondition(app: &App, names: &Names, step: &Step) -> bool {
    let code_ok = |code: &CodeRef| match code {
        CodeRef::Generated(k) => *k < app.generated,
        _ => true,
    };
    let field_ok = |field: &CodeField, caller: Option<String>| match field {
        CodeField::Code(code) => code_ok(code),
        CodeField::Own => caller.is_some_and(|c| app.customer(&c).is_some()),
        _ => true,
    };
    let meta_ok = |meta: &Meta, caller: Option<String>| match meta {
        Meta::Object(_, field) => field_ok(field, caller),
        _ => true,
    };
    match step {
        Step::Upsert {
            source,
            metadata,
            code,
        } => {
            meta_ok(metadata, src_text(names, *source)) && field_ok(code, src_text(names, *source))
        }
        Step::Invoke {
            source, metadata, ..
        } => meta_ok(metadata, src_text(names, *source)),
        Step::GetById(who) => app.customer(&who_text(names, *who)).is_some(),
        Step::Validate(code) => code_ok(code),
        Step::Get(_) | Step::ReferralList(_) => true,
        Step::Segment(message) => {
            let caller = match message.user {
                SegUser::Id(who) => Some(who_text(names, who)),
                _ => None,
            };
            meta_ok(&message.payload, caller)
        }
    }
}

/// The source_id text of `who`.
pub fn who_text(names: &Names, who: Who) -> String {
    match who {
        Who::User(u) => names.user(u),
        Who::Numeric => names.numeric_user(),
        Who::Nobody => names.nobody(),
    }
}

fn who_json(names: &Names, who: Who) -> Value {
    match who {
        Who::Numeric => json!(names.base),
        other => Value::String(who_text(names, other)),
    }
}

fn src_text(names: &Names, src: Src) -> Option<String> {
    match src {
        Src::Id(who) => Some(who_text(names, who)),
        _ => None,
    }
}

fn code_json(names: &Names, app: &App, code: CodeRef) -> Value {
    match code {
        CodeRef::Pool(c) => Value::String(names.code(c)),
        CodeRef::Numeric(c) => json!(names.base + 1 + u64::from(c)),
        CodeRef::Generated(k) => Value::String(app.generated_code(k)),
        CodeRef::Unknown => Value::String(names.unknown_code()),
    }
}

/// The text of a code reference, as a path segment.
fn code_text(names: &Names, app: &App, code: CodeRef) -> String {
    match code_json(names, app, code) {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn field_json(names: &Names, app: &App, field: CodeField, caller: Option<&str>) -> Option<Value> {
    Some(match field {
        CodeField::Absent => return None,
        CodeField::Null => Value::Null,
        CodeField::Empty => json!(""),
        CodeField::Blank => json!("  "),
        CodeField::Bool => json!(true),
        CodeField::TooLong => json!("X".repeat(65)),
        CodeField::Spaced => json!(format!("{} X", names.code(0))),
        CodeField::Object => json!({}),
        CodeField::Code(code) => code_json(names, app, code),
        CodeField::Own => {
            let caller = caller.and_then(|c| app.customer(c));
            Value::String(caller.map_or_else(|| names.unknown_code(), |c| c.referral_code.clone()))
        }
    })
}

fn val_json(val: Val) -> Value {
    match val {
        Val::Text(i) => json!(["basic", "pro"][usize::from(i)]),
        Val::Int(i) => json!(i),
        Val::Null => Value::Null,
        Val::False => json!(false),
        Val::Nested(i) => json!({ "x": i }),
    }
}

fn meta_json(names: &Names, app: &App, meta: &Meta, caller: Option<&str>) -> Option<Value> {
    Some(match meta {
        Meta::Absent => return None,
        Meta::Null => Value::Null,
        Meta::Number => json!(3),
        Meta::Array => json!(["a"]),
        Meta::Object(keys, code) => {
            let mut map = Map::new();
            for (key, val) in keys {
                map.insert(KEYS[usize::from(*key)].to_owned(), val_json(*val));
            }
            if let Some(code) = field_json(names, app, *code, caller) {
                map.insert("referral_code".to_owned(), code);
            }
            Value::Object(map)
        }
    })
}

fn src_json(names: &Names, src: Src) -> Option<Value> {
    Some(match src {
        Src::Id(who) => who_json(names, who),
        Src::Missing => return None,
        Src::Null => Value::Null,
        Src::Empty => json!(""),
        Src::Blank => json!("  "),
        Src::Bool => json!(true),
        Src::Object => json!({}),
    })
}

fn event_json(names: &Names, event: EventArg) -> Option<Value> {
    Some(match event {
        EventArg::Conversion => Value::String(names.conversion_event.clone()),
        EventArg::Other(i) => json!(OTHER_EVENTS[usize::from(i)]),
        EventArg::Missing => return None,
        EventArg::Null => Value::Null,
        EventArg::Blank => json!(" "),
        EventArg::Numeric => json!(5),
    })
}

/// `step` as a concrete call, with the names of this execution and the codes `app` knows.
pub fn render(names: &Names, app: &App, step: &Step) -> Call {
    let put = |map: &mut Map<String, Value>, key: &str, value: Option<Value>| {
        if let Some(value) = value {
            map.insert(key.to_owned(), value);
        }
    };
    match step {
        Step::Upsert {
            source,
            metadata,
            code,
        } => {
            let caller = src_text(names, *source);
            let mut body = Map::new();
            put(&mut body, "source_id", src_json(names, *source));
            put(
                &mut body,
                "metadata",
                meta_json(names, app, metadata, caller.as_deref()),
            );
            put(
                &mut body,
                "referral_code",
                field_json(names, app, *code, caller.as_deref()),
            );
            Call::Upsert(Value::Object(body))
        }
        Step::Invoke {
            event,
            source,
            metadata,
        } => {
            let caller = src_text(names, *source);
            let mut body = Map::new();
            put(&mut body, "event_name", event_json(names, *event));
            put(&mut body, "source_id", src_json(names, *source));
            put(
                &mut body,
                "metadata",
                meta_json(names, app, metadata, caller.as_deref()),
            );
            Call::Invoke(Value::Object(body))
        }
        Step::Get(who) => Call::Get {
            source_id: who_text(names, *who),
            by_id: false,
        },
        Step::GetById(who) => Call::Get {
            source_id: who_text(names, *who),
            by_id: true,
        },
        Step::Validate(code) => Call::Validate(code_text(names, app, *code)),
        Step::ReferralList(who) => Call::ReferralList(who_text(names, *who)),
        Step::Segment(message) => Call::Segment(message_json(names, app, message)),
    }
}

fn message_json(names: &Names, app: &App, message: &Message) -> Value {
    let mut map = Map::new();
    let kind = match message.kind {
        Kind::Identify => Some("identify"),
        Kind::Track => Some("track"),
        Kind::Unsubscribed(i) => Some(["page", "screen", "group", "alias"][usize::from(i)]),
        Kind::Unknown => Some("login"),
        Kind::Missing => None,
    };
    if let Some(kind) = kind {
        map.insert("type".to_owned(), json!(kind));
    }
    if let Some(id) = message.message_id {
        map.insert("messageId".to_owned(), json!(names.message_id(id)));
    }
    let caller = match message.user {
        SegUser::Id(who) => {
            map.insert("userId".to_owned(), who_json(names, who));
            Some(who_text(names, who))
        }
        SegUser::Missing => None,
        SegUser::Empty => {
            map.insert("userId".to_owned(), json!(""));
            None
        }
        SegUser::Null => {
            map.insert("userId".to_owned(), Value::Null);
            None
        }
    };
    if message.anonymous {
        map.insert(
            "anonymousId".to_owned(),
            json!(format!("{}-anon", names.base)),
        );
    }
    if message.kind == Kind::Track
        && let Some(event) = event_json(names, message.event)
    {
        map.insert("event".to_owned(), event);
    }
    let key = if message.kind == Kind::Identify {
        "traits"
    } else {
        "properties"
    };
    if let Some(payload) = meta_json(names, app, &message.payload, caller.as_deref()) {
        map.insert(key.to_owned(), payload);
    }
    map.insert(
        "context".to_owned(),
        json!({"library": {"name": "rehook-harness"}}),
    );
    Value::Object(map)
}

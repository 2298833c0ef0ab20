//! The request journal: a server-wide ring buffer of the latest requests.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::body::Bytes;
use serde::Serialize;
use serde_json::{Value, json};

use super::app::lock;

/// One journaled request and its answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalEntry {
    /// The `x-request-id` of the answer.
    pub request_id: String,
    /// When the request arrived.
    pub at: String,
    /// The application it belonged to, or `null` (401s, unknown paths).
    pub app: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Path and query as sent.
    pub path: String,
    /// Request headers, with credentials redacted.
    pub headers: serde_json::Map<String, Value>,
    /// The request body; shown as JSON when it parses, else text, else a size note.
    pub body: Captured,
    /// The answer's status.
    pub status: u16,
    /// The answer's body, shown like `body`.
    pub response: Captured,
}

/// A body as the journal holds it until someone reads the journal.
#[derive(Debug, Clone, PartialEq)]
pub enum Captured {
    /// No body (or none was read).
    Nothing,
    /// The bytes, up to [`JOURNAL_BODY_CAP`].
    Bytes(Bytes),
    /// A larger body: only its size is kept.
    Omitted(usize),
}

/// The largest body the journal keeps; larger ones are kept as their size, so a full journal
/// stays small in memory.
pub const JOURNAL_BODY_CAP: usize = 64 * 1024;

impl Captured {
    /// Keep `bytes` if they are small enough.
    pub fn of(bytes: Option<Bytes>) -> Self {
        match bytes {
            None => Captured::Nothing,
            Some(b) if b.is_empty() => Captured::Nothing,
            Some(b) if b.len() > JOURNAL_BODY_CAP => Captured::Omitted(b.len()),
            Some(b) => Captured::Bytes(b),
        }
    }

    /// The body as the journal shows it: JSON when it parses, else text, else its size.
    pub fn to_json(&self) -> Value {
        match self {
            Captured::Nothing => Value::Null,
            Captured::Omitted(len) => {
                json!({ "bytes": len, "omitted": "larger than the journal keeps" })
            }
            Captured::Bytes(bytes) => {
                serde_json::from_slice(bytes).unwrap_or_else(|_| match std::str::from_utf8(bytes) {
                    Ok(text) => Value::String(text.to_owned()),
                    Err(_) => json!({ "bytes": bytes.len() }),
                })
            }
        }
    }
}

/// Bodies are kept as bytes and turned into JSON only when the journal is read.
impl Serialize for Captured {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// A bounded, ordered log of requests; the oldest entry goes when it is full.
#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    entries: Mutex<VecDeque<JournalEntry>>,
}

impl Journal {
    /// A journal keeping at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
        }
    }

    /// Append an entry, dropping the oldest when full.
    pub fn push(&self, entry: JournalEntry) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = lock(&self.entries);
        while entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// Entries oldest first, optionally only those of one application.
    pub fn entries(&self, app: Option<&str>) -> Vec<JournalEntry> {
        lock(&self.entries)
            .iter()
            .filter(|e| app.is_none_or(|a| e.app.as_deref() == Some(a)))
            .cloned()
            .collect()
    }

    /// Forget everything (or only one application's entries).
    pub fn clear(&self, app: Option<&str>) {
        let mut entries = lock(&self.entries);
        match app {
            None => entries.clear(),
            Some(a) => entries.retain(|e| e.app.as_deref() != Some(a)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u16, app: Option<&str>) -> JournalEntry {
        JournalEntry {
            request_id: format!("req_{n}"),
            at: String::new(),
            app: app.map(str::to_owned),
            method: "GET".into(),
            path: "/".into(),
            headers: Default::default(),
            body: Captured::Nothing,
            status: n,
            response: Captured::of(Some(Bytes::from_static(b"{\"ok\":1}"))),
        }
    }

    #[test]
    fn the_default_capacity_keeps_the_last_ten_thousand() {
        let j = Journal::new(crate::config::DEFAULT_JOURNAL_CAPACITY);
        for n in 0..10_001 {
            j.push(entry((n % 600) as u16, None));
        }
        let all = j.entries(None);
        assert_eq!(all.len(), 10_000);
        assert_eq!(all[0].request_id, "req_1", "the oldest went");
    }

    #[test]
    fn large_bodies_are_kept_as_their_size() {
        let big = Bytes::from(vec![b'x'; JOURNAL_BODY_CAP + 1]);
        assert_eq!(
            Captured::of(Some(big)),
            Captured::Omitted(JOURNAL_BODY_CAP + 1)
        );
        assert_eq!(Captured::of(Some(Bytes::new())), Captured::Nothing);
        let text = Captured::of(Some(Bytes::from_static(b"not json")));
        assert_eq!(text.to_json(), json!("not json"));
    }

    #[test]
    fn keeps_the_newest_up_to_capacity_and_filters_by_app() {
        let j = Journal::new(3);
        for n in 0..5 {
            j.push(entry(n, if n % 2 == 0 { Some("a") } else { None }));
        }
        let all: Vec<u16> = j.entries(None).iter().map(|e| e.status).collect();
        assert_eq!(all, vec![2, 3, 4]);
        let a: Vec<u16> = j.entries(Some("a")).iter().map(|e| e.status).collect();
        assert_eq!(a, vec![2, 4]);
        assert_eq!(j.entries(None)[0].response.to_json(), json!({"ok": 1}));
    }
}

//! The request journal: a server-wide ring buffer of the latest requests.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;

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
    /// The request body: JSON when it parses, else text, else a size note.
    pub body: Value,
    /// The answer's status.
    pub status: u16,
    /// The answer's body, as JSON when it is JSON.
    pub response: Value,
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
            body: Value::Null,
            status: n,
            response: Value::Null,
        }
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
    }
}

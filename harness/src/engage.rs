//! `rehook-harness engage`: play Segment Engage syncing an audience to the Rehook destination.
//!
//! Engage computes an audience (say "Power Users") and, on every sync, sends the destination
//! an `identify` call for each user whose membership changed: on the first sync the audience
//! key (the name snake_cased: `power_users`) set to `true` for every member; on each later
//! sync `true` for users who joined, `false` for users who left, nothing for the others. Each
//! call carries `context.personas` (`computation_class: "audience"`, `computation_key`,
//! `computation_id`, `space_id`) and a fresh `messageId`, as Engage's do.
//!
//! The membership file is detected, not declared:
//!
//! - JSON (it starts with `{` or `[`): `{"audience": "Power Users", "syncs": [["u-1", "u-2"],
//!   ["u-2", "u-3"]]}` or just the list of syncs, each the full member list (user ids are
//!   strings, or numbers written as JavaScript writes them);
//! - CSV: a header `sync,user_id`, then one row per member of each sync, in any order; a
//!   sync's label is a whole number, and syncs run in the order of their labels (gaps are
//!   fine: labels only order them); a row with an empty `user_id` names a sync with no
//!   members.
//!
//! A user listed twice in one sync is refused, naming the sync (JSON) or the line (CSV):
//! a membership list names each member once, so a repeat is a mistake in the file.
//!
//! The calls go to a Segment front door (`POST /v1/batch`, write key in Basic auth), one
//! request per sync (split at [`BATCH_SIZE`] messages).

use std::collections::{BTreeMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use rehook_mock::segment::id_text;
use serde::Serialize;

use crate::client::{Client, ClientError};
use serde_json::{Value, json};

/// Messages per `/v1/batch` request (well under the front door's 2,500 and 500 KB).
pub const BATCH_SIZE: usize = 500;

/// The `space_id` every generated call carries.
pub const SPACE_ID: &str = "spa_rehook_harness";

/// The arguments of `rehook-harness engage`.
#[derive(Debug, Clone, clap::Args)]
pub struct EngageArgs {
    /// The membership file: JSON (`{"audience": ..., "syncs": [[user ids], ...]}` or the list
    /// of syncs) or CSV (`sync,user_id` rows).
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,

    /// The audience's name, e.g. "Power Users" (key `power_users`); wins over the file's.
    #[arg(long, value_name = "NAME")]
    pub audience: Option<String>,

    /// The Segment write key (default wk_test).
    #[arg(long, value_name = "K", requires = "base_url")]
    pub write_key: Option<String>,

    /// Print one JSON document (every sync and the calls it sent) instead of lines.
    #[arg(long)]
    pub json: bool,
}

/// Why an engage run cannot start or went wrong.
#[derive(Debug, thiserror::Error)]
pub enum EngageError {
    /// The membership file or the arguments cannot be used (exit 2).
    #[error("{0}")]
    Unusable(String),
}

fn unusable(message: impl Into<String>) -> EngageError {
    EngageError::Unusable(message.into())
}

/// An audience's membership over time, as read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The audience's name, when the file gives one.
    pub audience: Option<String>,
    /// Each sync's full member list, in order (each member once).
    pub syncs: Vec<Vec<String>>,
}

/// The audience key Engage writes for an audience name: lower case, words joined by `_`
/// (`"Power Users"` → `power_users`, `"HighValue Buyers (EU)"` → `high_value_buyers_eu`).
pub fn audience_key(name: &str) -> String {
    let mut key = String::new();
    let mut previous: Option<char> = None;
    for c in name.chars() {
        if c.is_alphanumeric() {
            let boundary =
                c.is_uppercase() && previous.is_some_and(|p| p.is_lowercase() || p.is_numeric());
            if boundary && !key.is_empty() && !key.ends_with('_') {
                key.push('_');
            }
            key.extend(c.to_lowercase());
        } else if !key.is_empty() && !key.ends_with('_') {
            key.push('_');
        }
        previous = Some(c);
    }
    while key.ends_with('_') {
        key.pop();
    }
    key
}

/// One membership change: a user joined (`true`) or left (`false`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The user.
    pub user_id: String,
    /// Whether the user is now a member.
    pub member: bool,
}

/// What a sync sends: every member on the first sync (`previous` is `None`); later, the users
/// who joined (in the sync's order) and then those who left (in the previous sync's order).
pub fn diff(previous: Option<&[String]>, current: &[String]) -> Vec<Change> {
    let Some(previous) = previous else {
        return current
            .iter()
            .map(|u| Change {
                user_id: u.clone(),
                member: true,
            })
            .collect();
    };
    let before: HashSet<&String> = previous.iter().collect();
    let now: HashSet<&String> = current.iter().collect();
    let joined = current
        .iter()
        .filter(|u| !before.contains(u))
        .map(|u| Change {
            user_id: u.clone(),
            member: true,
        });
    let left = previous
        .iter()
        .filter(|u| !now.contains(u))
        .map(|u| Change {
            user_id: u.clone(),
            member: false,
        });
    joined.chain(left).collect()
}

/// Read a membership file's text; the format is detected.
pub fn read_membership(text: &str) -> Result<Membership, EngageError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    match text.trim_start().chars().next() {
        Some('{' | '[') => read_json(text),
        Some(_) => read_csv(text),
        None => Err(unusable("the membership file is empty")),
    }
}

fn read_json(text: &str) -> Result<Membership, EngageError> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| unusable(format!("the membership file is not valid JSON: {e}")))?;
    let (audience, syncs) = match &doc {
        Value::Array(_) => (None, &doc),
        Value::Object(map) => {
            if let Some(unknown) = map
                .keys()
                .find(|k| !matches!(k.as_str(), "audience" | "syncs"))
            {
                return Err(unusable(format!(
                    "the membership file has `audience` and `syncs`, found `{unknown}`"
                )));
            }
            let audience = match map.get("audience") {
                None => None,
                Some(Value::String(name)) => Some(name.clone()),
                Some(other) => {
                    return Err(unusable(format!(
                        "`audience` must be a string, found {other}"
                    )));
                }
            };
            let syncs = map.get("syncs").ok_or_else(|| {
                unusable("the membership file needs `syncs`: a list of member lists")
            })?;
            (audience, syncs)
        }
        _ => {
            return Err(unusable(
                "the membership file must be a JSON object or list",
            ));
        }
    };
    let Some(list) = syncs.as_array() else {
        return Err(unusable("`syncs` must be a list of member lists"));
    };
    let syncs = list
        .iter()
        .enumerate()
        .map(|(i, sync)| {
            let members = sync.as_array().ok_or_else(|| {
                unusable(format!(
                    "sync {} must be a list of user ids, found {sync}",
                    i + 1
                ))
            })?;
            let ids = members
                .iter()
                .map(|m| {
                    id_text(Some(m)).ok_or_else(|| {
                        unusable(format!(
                            "sync {}: {m} is not a user id (a non-empty string or a number)",
                            i + 1
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut seen = HashSet::new();
            if let Some(twice) = ids.iter().find(|id| !seen.insert(*id)) {
                return Err(unusable(format!(
                    "sync {}: the user id {twice:?} is listed twice",
                    i + 1
                )));
            }
            Ok(ids)
        })
        .collect::<Result<Vec<_>, EngageError>>()?;
    finish(audience, syncs)
}

fn read_csv(text: &str) -> Result<Membership, EngageError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(unusable("the membership file is empty"));
    };
    let header: Vec<String> = csv_fields(header)
        .map_err(|e| unusable(format!("line 1: {e}")))?
        .iter()
        .map(|f| f.trim().to_ascii_lowercase())
        .collect();
    if header != ["sync", "user_id"] {
        return Err(unusable(format!(
            "a CSV membership file starts with the header `sync,user_id`, found `{}`",
            header.join(",")
        )));
    }
    // Label → the sync's members, each with the line that listed it.
    let mut syncs: BTreeMap<u64, Vec<(String, usize)>> = BTreeMap::new();
    for (index, line) in lines {
        let number = index + 1;
        let fields = csv_fields(line).map_err(|e| unusable(format!("line {number}: {e}")))?;
        let [sync, user] = fields.as_slice() else {
            return Err(unusable(format!(
                "line {number}: expected two fields `sync,user_id`, found {}",
                fields.len()
            )));
        };
        let label = sync_label(sync.trim()).map_err(|e| unusable(format!("line {number}: {e}")))?;
        let members = syncs.entry(label).or_default();
        let user = user.trim();
        if user.is_empty() {
            continue;
        }
        if let Some((_, first)) = members.iter().find(|(u, _)| u == user) {
            return Err(unusable(format!(
                "line {number}: the user id {user:?} is already in sync {label} (line {first})"
            )));
        }
        members.push((user.to_owned(), number));
    }
    let syncs = syncs
        .into_values()
        .map(|members| members.into_iter().map(|(user, _)| user).collect())
        .collect();
    finish(None, syncs)
}

/// A CSV sync label: a whole number written in digits (`0`, `1`, `12`; `03` is `3`). Labels
/// only order the syncs, so gaps are fine.
fn sync_label(label: &str) -> Result<u64, String> {
    if label.is_empty() {
        return Err("the sync label is empty".to_owned());
    }
    if !label.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "the sync label `{label}` is not a number: labels are 0, 1, 2, ... and order the syncs"
        ));
    }
    label
        .parse()
        .map_err(|_| format!("the sync label `{label}` is too large"))
}

fn finish(audience: Option<String>, syncs: Vec<Vec<String>>) -> Result<Membership, EngageError> {
    if syncs.is_empty() {
        return Err(unusable("the membership file lists no syncs"));
    }
    Ok(Membership { audience, syncs })
}

/// The fields of one CSV line: commas separate, double quotes enclose (`""` is a quote).
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".to_owned());
    }
    fields.push(field);
    Ok(fields)
}

/// Builds the identify calls Engage sends, with messageIds fresh for this run.
#[derive(Debug)]
pub struct Engage {
    /// The audience's name.
    name: String,
    /// Its key (`power_users`).
    key: String,
    /// Makes this run's messageIds its own.
    run: String,
    /// messageIds handed out so far.
    count: u64,
}

impl Engage {
    /// An engage run for the audience `name` (its key must not be empty).
    pub fn new(name: &str) -> Result<Self, EngageError> {
        let key = audience_key(name);
        if key.is_empty() {
            return Err(unusable(format!(
                "the audience name {name:?} has no letters or digits to make a key from"
            )));
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Ok(Self {
            name: name.to_owned(),
            key,
            run: format!("{nanos:x}{:x}", std::process::id()),
            count: 0,
        })
    }

    /// The audience key the calls set.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The audience's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The identify call for one change.
    pub fn message(&mut self, change: &Change) -> Value {
        self.count += 1;
        json!({
            "type": "identify",
            "userId": change.user_id,
            "messageId": format!("engage-{}-{}", self.run, self.count),
            "traits": { self.key.as_str(): change.member },
            "context": {
                "personas": {
                    "computation_class": "audience",
                    "computation_key": self.key,
                    "computation_id": format!("aud_{}", self.key),
                    "space_id": SPACE_ID,
                },
            },
            "integrations": {"All": false, "Rehook": true},
        })
    }
}

/// What one sync sent and how the front door answered.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    /// 1-based.
    pub sync: usize,
    /// Members in this sync.
    pub members: usize,
    /// Users who joined (all members on the first sync).
    pub joined: usize,
    /// Users who left.
    pub left: usize,
    /// The identify calls sent, in order.
    pub messages: Vec<Value>,
    /// The status of each `/v1/batch` request, or the transport error.
    pub answers: Vec<Result<u16, String>>,
}

impl SyncReport {
    /// Whether every request got an answer that is not a 5xx.
    pub fn answered(&self) -> bool {
        self.answers.iter().all(|a| matches!(a, Ok(s) if *s < 500))
    }
}

/// Posts `messages` to the front door of the server behind `client` (`/v1/batch`) in
/// requests of [`BATCH_SIZE`]: each request's status, or why it got none.
pub async fn send(
    client: &Client,
    write_key: &str,
    messages: &[Value],
) -> Vec<Result<u16, String>> {
    let mut answers = Vec::new();
    for chunk in messages.chunks(BATCH_SIZE) {
        let answer = match client
            .front_door("batch", write_key, &json!({ "batch": chunk }))
            .await
        {
            Ok(answer) => Ok(answer.status),
            // An answer whose body is not JSON still has its status.
            Err(ClientError::Body { status, .. }) => Ok(status),
            Err(error) => Err(crate::error_text(&error)),
        };
        answers.push(answer);
    }
    answers
}

/// Plays every sync of `membership` against the front door of the server behind `client`,
/// calling `line` with each line to print.
pub async fn run(
    engage: &mut Engage,
    membership: &Membership,
    client: &Client,
    write_key: &str,
    mut line: impl FnMut(String),
) -> Vec<SyncReport> {
    let mut reports = Vec::new();
    let mut previous: Option<&[String]> = None;
    for (i, members) in membership.syncs.iter().enumerate() {
        let changes = diff(previous, members);
        let messages: Vec<Value> = changes.iter().map(|c| engage.message(c)).collect();
        for (change, message) in changes.iter().zip(&messages) {
            line(format!(
                "sync {:>3}  identify  {:<20}  {}={:<5}  {}",
                i + 1,
                change.user_id,
                engage.key(),
                change.member,
                message["messageId"].as_str().unwrap_or("")
            ));
        }
        let answers = if messages.is_empty() {
            Vec::new()
        } else {
            send(client, write_key, &messages).await
        };
        let joined = changes.iter().filter(|c| c.member).count();
        let report = SyncReport {
            sync: i + 1,
            members: members.len(),
            joined,
            left: changes.len() - joined,
            messages,
            answers,
        };
        let answered: Vec<String> = report
            .answers
            .iter()
            .map(|a| match a {
                Ok(status) => status.to_string(),
                Err(e) => format!("no answer ({e})"),
            })
            .collect();
        line(format!(
            "sync {:>3}: {} members, {} joined, {} left; POST /v1/batch: {}",
            report.sync,
            report.members,
            report.joined,
            report.left,
            if answered.is_empty() {
                "nothing to send".to_owned()
            } else {
                answered.join(", ")
            }
        ));
        reports.push(report);
        previous = Some(members);
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn change(user: &str, member: bool) -> Change {
        Change {
            user_id: user.to_owned(),
            member,
        }
    }

    #[test]
    fn audience_names_become_snake_case_keys() {
        for (name, key) in [
            ("Power Users", "power_users"),
            ("power_users", "power_users"),
            (
                "Order Completed (last 30 days)",
                "order_completed_last_30_days",
            ),
            ("  High-Value   Buyers!  ", "high_value_buyers"),
            ("PowerUsers", "power_users"),
            ("VIP users", "vip_users"),
            ("Plan2Go", "plan2_go"),
            ("Café Fans", "café_fans"),
            ("---", ""),
        ] {
            assert_eq!(audience_key(name), key, "{name:?}");
        }
    }

    #[test]
    fn the_first_sync_adds_everyone_and_later_ones_send_only_changes() {
        let first = ids(&["a", "b"]);
        assert_eq!(diff(None, &first), [change("a", true), change("b", true)]);
        let second = ids(&["b", "c", "d"]);
        assert_eq!(
            diff(Some(&first), &second),
            [change("c", true), change("d", true), change("a", false)]
        );
        assert_eq!(diff(Some(&second), &second), []);
        assert_eq!(
            diff(Some(&second), &[]),
            [change("b", false), change("c", false), change("d", false)]
        );
        assert_eq!(diff(None, &[]), []);
    }

    #[test]
    fn json_files_give_syncs_and_maybe_the_audience() {
        let m = read_membership(r#"{"audience": "Power Users", "syncs": [["a", 7], []]}"#).unwrap();
        assert_eq!(m.audience.as_deref(), Some("Power Users"));
        assert_eq!(m.syncs, [ids(&["a", "7"]), ids(&[])]);
        let m = read_membership("\u{FEFF}[[\"a\"]]").unwrap();
        assert_eq!((m.audience, m.syncs), (None, vec![ids(&["a"])]));
    }

    #[test]
    fn csv_files_group_rows_by_sync_in_the_order_of_their_numeric_labels() {
        let text = "Sync,User_Id\n1,a\n1,b\n2,b\n\"2\",\"c,d\"\n3,\n1,e\n";
        let m = read_membership(text).unwrap();
        assert_eq!(m.audience, None);
        assert_eq!(
            m.syncs,
            [ids(&["a", "b", "e"]), ids(&["b", "c,d"]), ids(&[])]
        );
        let m = read_membership("sync,user_id\n2,u1\n1,u2\n").unwrap();
        assert_eq!(m.syncs, [ids(&["u2"]), ids(&["u1"])]);
        let m = read_membership("sync,user_id\n10,c\n3,b\n 03 ,d\n0,a\n9,\n").unwrap();
        assert_eq!(
            m.syncs,
            [ids(&["a"]), ids(&["b", "d"]), ids(&[]), ids(&["c"])],
            "labels only order the syncs: gaps are fine, 03 is 3"
        );
    }

    #[test]
    fn a_member_listed_twice_in_one_sync_is_refused_naming_it() {
        for (text, message) in [
            (
                r#"{"syncs": [["u1"], ["u2", "u1", "u2"]]}"#,
                "sync 2: the user id \"u2\" is listed twice",
            ),
            (r#"[["7", 7]]"#, "sync 1: the user id \"7\" is listed twice"),
            (
                "sync,user_id\n1,u1\n2,u1\n1,u2\n1,\"u1\"\n",
                "line 5: the user id \"u1\" is already in sync 1 (line 2)",
            ),
            (
                "sync,user_id\n1,u1\n01,u1\n",
                "line 3: the user id \"u1\" is already in sync 1 (line 2)",
            ),
        ] {
            let EngageError::Unusable(got) = read_membership(text).unwrap_err();
            assert_eq!(got, message, "{text:?}");
        }
    }

    #[test]
    fn unusable_files_are_refused_with_a_reason() {
        for (text, message) in [
            ("", "the membership file is empty"),
            ("{", "the membership file is not valid JSON"),
            (
                r#"{"syncs": [["a", true]]}"#,
                "sync 1: true is not a user id",
            ),
            (
                r#"{"syncs": "a"}"#,
                "`syncs` must be a list of member lists",
            ),
            (
                r#"{"audience": 3, "syncs": []}"#,
                "`audience` must be a string, found 3",
            ),
            (
                r#"{"members": []}"#,
                "the membership file has `audience` and `syncs`, found `members`",
            ),
            (r#"{"audience": "x"}"#, "the membership file needs `syncs`"),
            ("[]", "the membership file lists no syncs"),
            (
                "user,sync\n",
                "a CSV membership file starts with the header `sync,user_id`, found `user,sync`",
            ),
            (
                "sync,user_id\n1,a,b\n",
                "line 2: expected two fields `sync,user_id`, found 3",
            ),
            (
                "sync,user_id\n1,\"a\n",
                "line 2: a quoted field is not closed",
            ),
            ("sync,user_id\n,a\n", "line 2: the sync label is empty"),
            (
                "sync,user_id\n1,a\nx,u1\n",
                "line 3: the sync label `x` is not a number: labels are 0, 1, 2, ... and order the syncs",
            ),
            (
                "sync,user_id\n-1,u1\n",
                "line 2: the sync label `-1` is not a number",
            ),
            (
                "sync,user_id\n+1,u1\n",
                "line 2: the sync label `+1` is not a number",
            ),
            (
                "sync,user_id\n1.5,u1\n",
                "line 2: the sync label `1.5` is not a number",
            ),
            (
                "sync,user_id\n99999999999999999999,u1\n",
                "line 2: the sync label `99999999999999999999` is too large",
            ),
            ("sync,user_id\n", "the membership file lists no syncs"),
        ] {
            let EngageError::Unusable(got) = read_membership(text).unwrap_err();
            assert!(got.starts_with(message), "{text:?}: {got}");
        }
    }

    #[test]
    fn messages_are_identify_calls_with_personas_and_fresh_message_ids() {
        let mut engage = Engage::new("Power Users").unwrap();
        let joined = engage.message(&change("u-1", true));
        let left = engage.message(&change("u-1", false));
        assert_eq!(joined["type"], "identify");
        assert_eq!(joined["userId"], "u-1");
        assert_eq!(joined["traits"], json!({"power_users": true}));
        assert_eq!(left["traits"], json!({"power_users": false}));
        assert_eq!(
            joined["context"]["personas"],
            json!({"computation_class": "audience", "computation_key": "power_users",
                   "computation_id": "aud_power_users", "space_id": SPACE_ID})
        );
        assert_ne!(joined["messageId"], left["messageId"]);
        let other_run = Engage::new("Power Users")
            .unwrap()
            .message(&change("u-1", true));
        assert_ne!(other_run["messageId"], joined["messageId"]);
        assert!(Engage::new("!!").is_err());
    }
}

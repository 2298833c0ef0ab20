//! Format detection: every shape of input the replay reads, and the errors that name the file
//! and the line when the input is unusable.

use rehook_harness::input::{self, Format, InputError, InputMessage, parse_bytes};
use serde_json::json;

use crate::support::{TempDir, fixture, gzip};

fn lines(messages: &[InputMessage]) -> Vec<(usize, Option<usize>)> {
    messages
        .iter()
        .map(|m| (m.location.line, m.location.item))
        .collect()
}

fn ids(messages: &[InputMessage]) -> Vec<&str> {
    messages
        .iter()
        .map(|m| m.value["messageId"].as_str().unwrap_or("-"))
        .collect()
}

#[test]
fn ndjson_of_messages_is_one_message_per_line() {
    let text = concat!(
        r#"{"type":"identify","userId":"u-1","messageId":"m-1"}"#,
        "\n\n",
        r#"{"type":"track","userId":"u-1","event":"signup","messageId":"m-2"}"#,
        "\n"
    );
    let parsed = parse_bytes("a.ndjson", text.as_bytes()).expect("parses");
    assert_eq!(parsed.format, Format::NdjsonMessages);
    assert!(!parsed.gzip);
    assert_eq!(ids(&parsed.messages), ["m-1", "m-2"]);
    assert_eq!(lines(&parsed.messages), [(1, None), (3, None)]);
    assert_eq!(parsed.messages[0].location.file, "a.ndjson");
}

#[test]
fn a_single_message_is_ndjson_of_one_line() {
    let parsed = parse_bytes("one.json", br#"{"type":"page","userId":"u"}"#).expect("parses");
    assert_eq!(parsed.format, Format::NdjsonMessages);
    assert_eq!(parsed.messages.len(), 1);
}

#[test]
fn ndjson_of_batch_envelopes_expands_each_batch_in_order() {
    let parsed = input::read_file(&fixture("node-sdk-referrals.ndjson")).expect("parses");
    assert_eq!(parsed.format, Format::NdjsonBatches);
    assert_eq!(parsed.messages.len(), 31);
    let per_line: Vec<usize> = (1..=5)
        .map(|line| {
            parsed
                .messages
                .iter()
                .filter(|m| m.location.line == line)
                .count()
        })
        .collect();
    assert_eq!(per_line, [4, 7, 7, 7, 6]);
    assert_eq!(parsed.messages[4].location.line, 2);
    assert_eq!(parsed.messages[4].location.item, Some(1));
    assert_eq!(parsed.messages[4].value["userId"], "u-101");
    assert!(
        parsed.messages[0]
            .location
            .file
            .ends_with("node-sdk-referrals.ndjson")
    );
}

#[test]
fn a_json_array_of_messages_keeps_the_line_of_each_element() {
    let text = "[\n  {\"type\": \"identify\", \"userId\": \"u-1\", \"messageId\": \"m-1\"},\n\n  {\n    \"type\": \"page\",\n    \"userId\": \"u-1\",\n    \"messageId\": \"m-2\"\n  }\n]\n";
    let parsed = parse_bytes("a.json", text.as_bytes()).expect("parses");
    assert_eq!(parsed.format, Format::JsonArray);
    assert_eq!(ids(&parsed.messages), ["m-1", "m-2"]);
    assert_eq!(lines(&parsed.messages), [(2, Some(1)), (4, Some(2))]);
}

#[test]
fn a_single_pretty_printed_batch_envelope_is_one_batch() {
    let envelope = json!({
        "batch": [
            {"type": "identify", "userId": "u-1", "messageId": "m-1"},
            {"type": "track", "userId": "u-1", "event": "signup", "messageId": "m-2"},
        ],
        "writeKey": "wk_test",
        "sentAt": "2026-01-01T00:00:00Z",
    });
    let text = serde_json::to_string_pretty(&envelope).expect("serialises");
    let parsed = parse_bytes("batch.json", text.as_bytes()).expect("parses");
    assert_eq!(parsed.format, Format::BatchEnvelope);
    assert_eq!(ids(&parsed.messages), ["m-1", "m-2"]);
    assert_eq!(lines(&parsed.messages), [(3, Some(1)), (8, Some(2))]);
}

#[test]
fn lines_of_messages_and_envelopes_together_are_mixed_ndjson() {
    let text = concat!(
        r#"{"batch":[{"type":"page","userId":"u","messageId":"m-1"}]}"#,
        "\n",
        r#"{"type":"page","userId":"u","messageId":"m-2"}"#,
        "\n"
    );
    let parsed = parse_bytes("mixed.ndjson", text.as_bytes()).expect("parses");
    assert_eq!(parsed.format, Format::NdjsonMixed);
    assert_eq!(ids(&parsed.messages), ["m-1", "m-2"]);
    assert_eq!(lines(&parsed.messages), [(1, Some(1)), (2, None)]);
}

#[test]
fn gzip_is_detected_by_its_magic_bytes_whatever_the_file_name() {
    let plain = std::fs::read(fixture("node-sdk-referrals.ndjson")).expect("read fixture");
    let dir = TempDir::new("gzip");
    let packed = dir.file("corpus.data", gzip(&plain));
    let parsed = input::read_file(&packed).expect("parses");
    assert!(parsed.gzip);
    assert_eq!(parsed.format, Format::NdjsonBatches);
    let unpacked = parse_bytes("plain", &plain).expect("parses");
    let values = |p: &input::ParsedFile| {
        p.messages
            .iter()
            .map(|m| m.value.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(values(&parsed), values(&unpacked));
    assert_eq!(lines(&parsed.messages), lines(&unpacked.messages));

    let array = gzip(br#"[{"type":"page","userId":"u"}]"#);
    let parsed = parse_bytes("array.json.gz", &array).expect("parses");
    assert_eq!(
        (parsed.format, parsed.gzip, parsed.messages.len()),
        (Format::JsonArray, true, 1)
    );
}

#[test]
fn concatenated_gzip_members_are_read_as_one_stream() {
    let mut bytes = gzip(b"{\"type\":\"page\",\"userId\":\"u\",\"messageId\":\"m-1\"}\n");
    bytes.extend(gzip(
        b"{\"type\":\"page\",\"userId\":\"u\",\"messageId\":\"m-2\"}\n",
    ));
    let parsed = parse_bytes("two-members.gz", &bytes).expect("parses");
    assert_eq!(ids(&parsed.messages), ["m-1", "m-2"]);
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_fine() {
    let text = "\u{feff}{\"type\":\"page\",\"userId\":\"u\"}\r\n{\"type\":\"screen\",\"userId\":\"u\"}\r\n";
    let parsed = parse_bytes("bom.ndjson", text.as_bytes()).expect("parses");
    assert_eq!(parsed.format, Format::NdjsonMessages);
    assert_eq!(lines(&parsed.messages), [(1, None), (2, None)]);
}

#[test]
fn an_empty_file_has_no_messages() {
    for text in ["", " \n\t\n"] {
        let parsed = parse_bytes("empty", text.as_bytes()).expect("parses");
        assert_eq!((parsed.format, parsed.messages.len()), (Format::Empty, 0));
    }
}

#[test]
fn several_files_are_read_in_the_order_given() {
    let dir = TempDir::new("several");
    let first = dir.file(
        "1.ndjson",
        r#"{"type":"page","userId":"u","messageId":"a"}"#,
    );
    let second = dir.file(
        "2.json",
        r#"[{"type":"page","userId":"u","messageId":"b"}]"#,
    );
    let messages = input::read_files(&[first, second]).expect("parses");
    assert_eq!(ids(&messages), ["a", "b"]);
    assert!(messages[1].location.file.ends_with("2.json"));
}

fn error(text: &[u8]) -> String {
    parse_bytes("bad.ndjson", text)
        .expect_err("unusable input")
        .to_string()
}

#[test]
fn invalid_json_names_the_file_and_the_line() {
    let text = b"{\"type\":\"page\",\"userId\":\"u\"}\n{\"type\":\"page\",\"userId\":\"u\"}\n{\"type\": \"page\",\n";
    let err = parse_bytes("bad.ndjson", text).expect_err("unusable");
    assert!(matches!(err, InputError::Json { line: 3, .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("bad.ndjson:3: invalid JSON: "),
        "{err}"
    );
    assert!(error(b"{\"a\":1}\nnot json\n").starts_with("bad.ndjson:2: invalid JSON"));
    assert!(error(b"[{\"type\":\"page\"},]").starts_with("bad.ndjson:1: invalid JSON"));
    assert!(error(b"{\"type\":\"page\",\"n\":1e999}").starts_with("bad.ndjson:1: invalid JSON"));
}

#[test]
fn a_message_that_is_not_an_object_names_its_line() {
    assert_eq!(
        error(b"{\"type\":\"page\",\"userId\":\"u\"}\n\"identify\"\n"),
        "bad.ndjson:2: the message is a string, not an object"
    );
    assert_eq!(
        error(b"null"),
        "bad.ndjson:1: the message is null, not an object"
    );
    assert_eq!(
        error(b"[\n{\"type\":\"page\"},\n42\n]"),
        "bad.ndjson:3: item 2 of the array is a number, not an object"
    );
    assert_eq!(
        error(b"{\"batch\":[{\"type\":\"page\"}]}\n{\"batch\":[{\"type\":\"page\"},[1]]}\n"),
        "bad.ndjson:2: item 2 of the batch is an array, not an object"
    );
    assert_eq!(
        error(b"{\"type\":\"page\"}\n[{\"type\":\"page\"}]\n"),
        "bad.ndjson:2: this line is an array, not an object"
    );
}

#[test]
fn a_batch_that_is_not_an_array_is_unusable() {
    assert_eq!(
        error(b"\n{\"batch\": {\"type\": \"page\"}}"),
        "bad.ndjson:2: \"batch\" is an object, not an array of messages"
    );
}

#[test]
fn broken_gzip_and_non_utf8_text_are_unusable() {
    let mut truncated = gzip(b"{\"type\":\"page\",\"userId\":\"u\"}");
    truncated.truncate(truncated.len() - 6);
    assert!(matches!(
        parse_bytes("x.gz", &truncated),
        Err(InputError::Gzip { .. })
    ));
    assert!(matches!(
        parse_bytes("x", b"{\"a\":1}\n{\"b\":\"\xff\"}"),
        Err(InputError::Utf8 { line: 2, .. })
    ));
}

#[test]
fn a_missing_file_is_unusable() {
    let dir = TempDir::new("missing");
    let missing = dir.file("present", "").with_file_name("absent.ndjson");
    let err = input::read_file(&missing).expect_err("unusable");
    assert!(matches!(err, InputError::Read { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("absent.ndjson: cannot read the file"),
        "{err}"
    );
}

/// A track whose properties nest so deep that the message has `depth` levels.
fn nested_message(depth: usize) -> String {
    format!(
        r#"{{"type":"track","userId":"u","event":"e","properties":{}{}}}"#,
        r#"{"a":"#.repeat(depth - 2) + "{}",
        "}".repeat(depth - 2)
    )
}

#[test]
fn messages_as_deep_as_the_front_door_takes_are_read_in_every_format() {
    // Regression: a message of 128 levels (the most the front door takes) was refused as
    // "recursion limit exceeded", and a 127-level one inside an envelope too.
    let deep = nested_message(128);
    let text = format!("{deep}\n{{\"batch\": [{deep}]}}\n");
    let parsed = parse_bytes("deep.ndjson", text.as_bytes()).expect("read");
    assert_eq!(parsed.format, Format::NdjsonMixed);
    assert_eq!(parsed.messages.len(), 2);
    assert_eq!(parsed.messages[0].value, parsed.messages[1].value);
    let parsed = parse_bytes("deep.json", format!("[{deep}]").as_bytes()).expect("read");
    assert_eq!(parsed.messages.len(), 1);
}

#[test]
fn input_nested_deeper_than_256_levels_is_refused_naming_its_line() {
    let text = format!("{}\n{}\n", nested_message(3), nested_message(257));
    let error = parse_bytes("deep.ndjson", text.as_bytes()).unwrap_err();
    assert!(
        matches!(&error, InputError::Json { line: 2, reason, .. } if reason.contains("256")),
        "{error}"
    );
}

//! Reading Segment messages from files, whatever shape they come in.
//!
//! The format is detected, not declared:
//!
//! - gzip, by its magic bytes (`1f 8b`), is unpacked first (concatenated members too);
//! - a leading UTF-8 byte-order mark is skipped;
//! - the text is a sequence of JSON values separated by white space. One value that is an
//!   array is a JSON array of messages; every other value must be an object, either a batch
//!   envelope (`{"batch": [...]}`, as `/v1/batch` and the wire corpus carry them) or a single
//!   message. One value per line is NDJSON; a single object is a single message or envelope.
//!
//! Anything unusable (unreadable file, broken gzip or UTF-8, invalid JSON, a message that is
//! not an object, a `batch` that is not an array) is an [`InputError`] naming the file and the
//! line, so the harness can refuse the run before sending anything.

use std::io::Read as _;
use std::path::Path;

use flate2::read::MultiGzDecoder;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// The shape a file was found to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// No JSON value at all (an empty or white-space-only file).
    Empty,
    /// One message per line (or a single message).
    NdjsonMessages,
    /// Two or more batch envelopes, one per line, as the wire corpus is written.
    NdjsonBatches,
    /// Lines of both messages and batch envelopes.
    NdjsonMixed,
    /// One JSON array of messages.
    JsonArray,
    /// A single batch envelope (on one line or pretty-printed over many).
    BatchEnvelope,
}

impl Format {
    /// A short human name: `ndjson messages`, `json array`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Empty => "empty",
            Format::NdjsonMessages => "ndjson messages",
            Format::NdjsonBatches => "ndjson batches",
            Format::NdjsonMixed => "ndjson mixed",
            Format::JsonArray => "json array",
            Format::BatchEnvelope => "batch envelope",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Where a message came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file, as named on the command line.
    pub file: String,
    /// The 1-based line where the message (or its envelope's line, for NDJSON) starts.
    pub line: usize,
    /// The 1-based position inside its array or batch; `None` for a bare message.
    pub item: Option<usize>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if let Some(item) = self.item {
            write!(f, " (item {item})")?;
        }
        Ok(())
    }
}

/// One message read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct InputMessage {
    /// Where it came from.
    pub location: Location,
    /// The message object itself (guaranteed to be a JSON object).
    pub value: Value,
}

/// The messages of one file and the shape they were found in.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFile {
    /// The detected shape.
    pub format: Format,
    /// Whether the file was gzip-compressed.
    pub gzip: bool,
    /// The messages in file order (batches expanded in array order).
    pub messages: Vec<InputMessage>,
}

/// Why a file cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be read.
    #[error("{file}: cannot read the file: {source}")]
    Read {
        /// The file.
        file: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file starts like gzip but does not unpack.
    #[error("{file}: broken gzip data: {source}")]
    Gzip {
        /// The file.
        file: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not UTF-8.
    #[error("{file}:{line}: the text is not valid UTF-8")]
    Utf8 {
        /// The file.
        file: String,
        /// The line of the first invalid byte.
        line: usize,
    },
    /// The text is not JSON.
    #[error("{file}:{line}: invalid JSON: {reason}")]
    Json {
        /// The file.
        file: String,
        /// The line of the error.
        line: usize,
        /// What serde_json found.
        reason: String,
    },
    /// A value that should be a message (or an envelope) is not a JSON object.
    #[error("{file}:{line}: {what} is {found}, not an object")]
    NotAnObject {
        /// The file.
        file: String,
        /// The line where the value starts.
        line: usize,
        /// Which value: `the message`, `item 3 of the batch`, ...
        what: String,
        /// What it is instead: `an array`, `a string`, ...
        found: &'static str,
    },
    /// An envelope whose `batch` is not an array.
    #[error("{file}:{line}: \"batch\" is {found}, not an array of messages")]
    BatchNotAnArray {
        /// The file.
        file: String,
        /// The line of the envelope.
        line: usize,
        /// What it is instead.
        found: &'static str,
    },
}

/// Reads one file and returns its messages.
pub fn read_file(path: &Path) -> Result<ParsedFile, InputError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| InputError::Read {
        file: name.clone(),
        source,
    })?;
    parse_bytes(&name, &bytes)
}

/// Reads several files, in order, and returns all their messages in order. Stops at the first
/// unusable file.
pub fn read_files<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<InputMessage>, InputError> {
    let mut all = Vec::new();
    for path in paths {
        all.extend(read_file(path.as_ref())?.messages);
    }
    Ok(all)
}

/// Parses the bytes of a file named `name` (the name is used in locations and errors).
pub fn parse_bytes(name: &str, bytes: &[u8]) -> Result<ParsedFile, InputError> {
    let gzip = bytes.starts_with(&[0x1f, 0x8b]);
    let unpacked;
    let bytes = if gzip {
        let mut out = Vec::new();
        MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|source| InputError::Gzip {
                file: name.to_owned(),
                source,
            })?;
        unpacked = out;
        &unpacked[..]
    } else {
        bytes
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| InputError::Utf8 {
        file: name.to_owned(),
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count(),
    })?;
    let (format, messages) = Parser::new(name, text).parse()?;
    Ok(ParsedFile {
        format,
        gzip,
        messages,
    })
}

/// What one top-level value turned out to be.
enum TopLevel {
    Message,
    Envelope,
    Array,
}

struct Parser<'t> {
    name: &'t str,
    text: &'t str,
    /// Byte offsets of every `\n`, to turn offsets into line numbers.
    newlines: Vec<usize>,
    messages: Vec<InputMessage>,
}

impl<'t> Parser<'t> {
    fn new(name: &'t str, text: &'t str) -> Self {
        let newlines = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i)
            .collect();
        Self {
            name,
            text,
            newlines,
            messages: Vec::new(),
        }
    }

    fn parse(mut self) -> Result<(Format, Vec<InputMessage>), InputError> {
        if let Some(at) = too_deep(self.text) {
            return Err(InputError::Json {
                file: self.name.to_owned(),
                line: 1 + self.newlines.partition_point(|&n| n < at),
                reason: format!("nested deeper than {MAX_INPUT_DEPTH} levels"),
            });
        }
        let mut kinds = Vec::new();
        let mut stream = deep_stream(self.text);
        loop {
            let start = stream.byte_offset();
            match stream.next() {
                None => break,
                Some(Ok(raw)) => kinds.push(self.top_level(raw)?),
                Some(Err(e)) if e.is_eof() => {
                    // A value cut short: name the line where it starts, not the end of file.
                    let rest = &self.text[start..];
                    let value_start = start + (rest.len() - rest.trim_start().len());
                    let line = 1 + self.newlines.partition_point(|&n| n < value_start);
                    let mut error = self.json_error(1, &e);
                    if let InputError::Json { line: at, .. } = &mut error {
                        *at = line;
                    }
                    return Err(error);
                }
                Some(Err(e)) => return Err(self.json_error(1, &e)),
            }
        }
        let format = match kinds.as_slice() {
            [] => Format::Empty,
            [TopLevel::Array] => Format::JsonArray,
            [TopLevel::Envelope] => Format::BatchEnvelope,
            kinds if kinds.iter().any(|k| matches!(k, TopLevel::Array)) => {
                // Arrays are only a format on their own; find the first one for the error.
                return Err(self.array_among_lines());
            }
            kinds if kinds.iter().all(|k| matches!(k, TopLevel::Message)) => Format::NdjsonMessages,
            kinds if kinds.iter().all(|k| matches!(k, TopLevel::Envelope)) => Format::NdjsonBatches,
            _ => Format::NdjsonMixed,
        };
        Ok((format, self.messages))
    }

    fn array_among_lines(&self) -> InputError {
        let stream = deep_stream(self.text);
        let line = stream
            .flatten()
            .find(|raw| raw.get().starts_with('['))
            .map(|raw| self.line_of(raw))
            .unwrap_or(1);
        InputError::NotAnObject {
            file: self.name.to_owned(),
            line,
            what: "this line".to_owned(),
            found: "an array",
        }
    }

    fn top_level(&mut self, raw: &'t RawValue) -> Result<TopLevel, InputError> {
        let line = self.line_of(raw);
        match raw.get().as_bytes().first() {
            Some(b'[') => {
                let items: Vec<&RawValue> =
                    from_str_deep(raw.get()).map_err(|e| self.json_error(line, &e))?;
                for (i, item) in items.into_iter().enumerate() {
                    let item_line = self.line_of(item);
                    let what = format!("item {} of the array", i + 1);
                    self.push_message(item, item_line, Some(i + 1), what)?;
                }
                Ok(TopLevel::Array)
            }
            Some(b'{') => {
                let envelope: std::collections::BTreeMap<String, &RawValue> =
                    from_str_deep(raw.get()).map_err(|e| self.json_error(line, &e))?;
                match envelope.get("batch") {
                    Some(batch) => {
                        if !batch.get().starts_with('[') {
                            return Err(InputError::BatchNotAnArray {
                                file: self.name.to_owned(),
                                line,
                                found: kind_of_raw(batch),
                            });
                        }
                        let items: Vec<&RawValue> =
                            from_str_deep(batch.get()).map_err(|e| self.json_error(line, &e))?;
                        for (i, item) in items.into_iter().enumerate() {
                            let item_line = self.line_of(item);
                            let what = format!("item {} of the batch", i + 1);
                            self.push_message(item, item_line, Some(i + 1), what)?;
                        }
                        Ok(TopLevel::Envelope)
                    }
                    None => {
                        self.push_message(raw, line, None, "the message".to_owned())?;
                        Ok(TopLevel::Message)
                    }
                }
            }
            _ => Err(InputError::NotAnObject {
                file: self.name.to_owned(),
                line,
                what: "the message".to_owned(),
                found: kind_of_raw(raw),
            }),
        }
    }

    fn push_message(
        &mut self,
        raw: &RawValue,
        line: usize,
        item: Option<usize>,
        what: String,
    ) -> Result<(), InputError> {
        if !raw.get().starts_with('{') {
            return Err(InputError::NotAnObject {
                file: self.name.to_owned(),
                line,
                what,
                found: kind_of_raw(raw),
            });
        }
        let value: Value = from_str_deep(raw.get()).map_err(|e| self.json_error(line, &e))?;
        self.messages.push(InputMessage {
            location: Location {
                file: self.name.to_owned(),
                line,
                item,
            },
            value,
        });
        Ok(())
    }

    /// The line where `raw` starts; `raw` always borrows from `self.text`.
    fn line_of(&self, raw: &RawValue) -> usize {
        let offset = (raw.get().as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        1 + self.newlines.partition_point(|&n| n < offset)
    }

    /// An error of serde_json while reading a value that starts on `base_line`.
    fn json_error(&self, base_line: usize, error: &serde_json::Error) -> InputError {
        // serde_json appends " at line L column C" relative to the text it read; the line is
        // made absolute here, so keep only the description.
        let text = error.to_string();
        let reason = match text.rsplit_once(" at line ") {
            Some((reason, _)) => reason.to_owned(),
            None => text,
        };
        InputError::Json {
            file: self.name.to_owned(),
            line: base_line + error.line().saturating_sub(1),
            reason,
        }
    }
}

fn kind_of_raw(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        _ => "a number",
    }
}

/// The deepest nesting the input reader takes: a message of the front door's 128 levels inside
/// an envelope (two more), with room to spare. serde_json's own limit (127) would refuse
/// messages the front door takes; the bound keeps a hostile file from exhausting the stack.
pub const MAX_INPUT_DEPTH: usize = 256;

/// The byte offset where `text` first nests deeper than [`MAX_INPUT_DEPTH`], brackets inside
/// strings not counted (the server's own scan, [`rehook_mock::body::deeper_than`]).
fn too_deep(text: &str) -> Option<usize> {
    rehook_mock::body::deeper_than(text.as_bytes(), MAX_INPUT_DEPTH)
}

/// The top-level values of `text`, read without serde_json's recursion limit (the text was
/// bounded by [`too_deep`]).
fn deep_stream(
    text: &str,
) -> serde_json::StreamDeserializer<'_, serde_json::de::StrRead<'_>, &RawValue> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer.disable_recursion_limit();
    deserializer.into_iter::<&RawValue>()
}

/// `serde_json::from_str` without its recursion limit (the text was bounded by [`too_deep`]).
fn from_str_deep<'a, T: serde::Deserialize<'a>>(text: &'a str) -> serde_json::Result<T> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer.disable_recursion_limit();
    let value = T::deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

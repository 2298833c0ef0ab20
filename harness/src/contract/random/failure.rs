//! A failed random run, printed as the replayable shortest sequence: one curl command per
//! Rehook API step, one NDJSON line per Segment message, what the model expected and what
//! the server answered.

use std::fmt;

use serde_json::Value;

use super::RandomOptions;
use crate::Client;

/// One call of a sequence.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A Rehook API call.
    Rehook {
        /// `GET` or `POST`.
        method: &'static str,
        /// The path segments after the base URL (each sent percent-encoded).
        segments: Vec<String>,
        /// The JSON body of a `POST`.
        body: Option<Value>,
    },
    /// A Segment message, played by the harness.
    Segment(Value),
}

impl Request {
    /// `GET` of the path `segments`.
    pub fn get(segments: &[&str]) -> Self {
        Request::Rehook {
            method: "GET",
            segments: segments.iter().map(|s| (*s).to_owned()).collect(),
            body: None,
        }
    }

    /// `METHOD /path` (the path percent-encoded), or `segment message` for messages.
    pub fn line(&self) -> String {
        match self {
            Request::Rehook {
                method, segments, ..
            } => format!("{method} {}", path(segments)),
            Request::Segment(_) => "segment message".to_owned(),
        }
    }

    /// A curl command for a Rehook call, authenticated as `api_key` with the secret read from
    /// the shell variable `REHOOK_API_SECRET` (never written out); the NDJSON line for a
    /// message.
    pub fn replayable(&self, base_url: &str, api_key: &str) -> String {
        match self {
            Request::Rehook {
                method,
                segments,
                body,
            } => {
                let url = format!("{base_url}{}", path(segments));
                let auth = format!("{}:\"{SECRET_VARIABLE}\"", quote(api_key));
                match body {
                    Some(body) => format!(
                        "curl -sS -X {method} -u {auth} -H 'content-type: application/json' {} -d {}",
                        quote(&url),
                        quote(&body.to_string())
                    ),
                    None => format!("curl -sS -u {auth} {}", quote(&url)),
                }
            }
            Request::Segment(message) => message.to_string(),
        }
    }
}

/// The rule a random run checks, in one sentence (printed with a failure).
pub const RULE: &str = "every answer, and the customers, codes, referrals, events and drops it leaves, are what the contract's reference model says for the same sequence";

/// How the API secret appears in printed commands: a shell variable the reader sets.
const SECRET_VARIABLE: &str = "$REHOOK_API_SECRET";

/// `/a/b` with each segment percent-encoded (everything but unreserved characters).
fn path(segments: &[String]) -> String {
    let mut out = String::new();
    for segment in segments {
        out.push('/');
        for byte in segment.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                out.push(char::from(byte));
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

/// `text` in single quotes for a POSIX shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// One step that ran: the call, what the model expected, what the server answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 1-based position in the sequence.
    pub step: usize,
    /// The call.
    pub request: Request,
    /// What the model expected, in words.
    pub expected: String,
    /// What the server answered, in words.
    pub actual: String,
}

/// A random run that found a contract violation (or could not start).
#[derive(Debug, Clone, PartialEq)]
pub struct RandomFailure {
    /// The run's seed.
    pub seed: u64,
    /// The server's base URL.
    pub base_url: String,
    /// The API key the curl commands authenticate as (the secret stays `$REHOOK_API_SECRET`).
    pub api_key: String,
    /// The shortest failing sequence found, in order (empty when the run could not start).
    pub steps: Vec<Record>,
    /// What disagreed.
    pub problem: String,
    /// The read-back that disagreed, when the step's own answer was right.
    pub check: Option<Box<Request>>,
}

impl RandomFailure {
    pub(super) fn new(
        options: &RandomOptions,
        client: &Client,
        steps: Vec<Record>,
        problem: String,
        check: Option<Request>,
    ) -> Self {
        Self {
            seed: options.seed,
            base_url: client.base_url().to_owned(),
            api_key: options.api_key.clone(),
            steps,
            problem,
            check: check.map(Box::new),
        }
    }

    pub(super) fn setup(options: &RandomOptions, client: &Client, problem: String) -> Self {
        Self::new(options, client, Vec::new(), problem, None)
    }

    /// Whether the run could not start (no sequence ran).
    pub fn is_setup(&self) -> bool {
        self.steps.is_empty()
    }

    /// The curl commands and NDJSON lines of the sequence, one per step, in order.
    pub fn replay_lines(&self) -> Vec<String> {
        self.steps
            .iter()
            .map(|r| r.request.replayable(&self.base_url, &self.api_key))
            .collect()
    }
}

impl fmt::Display for RandomFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_setup() {
            return write!(f, "random sequences (seed {}): {}", self.seed, self.problem);
        }
        writeln!(
            f,
            "random sequences (seed {}): the contract broke; the shortest sequence found has {} step{}:",
            self.seed,
            self.steps.len(),
            if self.steps.len() == 1 { "" } else { "s" }
        )?;
        writeln!(
            f,
            "(the curl commands read the API secret from REHOOK_API_SECRET: export it first)"
        )?;
        for record in &self.steps {
            writeln!(f)?;
            match &record.request {
                Request::Rehook { .. } => {
                    writeln!(f, "step {}: {}", record.step, record.request.line())?
                }
                Request::Segment(_) => writeln!(
                    f,
                    "step {}: Segment message (played as `rehook-harness replay --via rehook` plays it)",
                    record.step
                )?,
            }
            writeln!(
                f,
                "  {}",
                record.request.replayable(&self.base_url, &self.api_key)
            )?;
            writeln!(f, "  expected: {}", record.expected)?;
            writeln!(f, "  answered: {}", record.actual)?;
        }
        writeln!(f)?;
        writeln!(f, "problem: {}", self.problem)?;
        if let Some(check) = &self.check {
            writeln!(f, "  read back with:")?;
            writeln!(f, "  {}", check.replayable(&self.base_url, &self.api_key))?;
        }
        writeln!(f, "rule: {RULE}")?;
        let messages: Vec<String> = self
            .steps
            .iter()
            .filter(|r| matches!(r.request, Request::Segment(_)))
            .map(|r| r.request.replayable(&self.base_url, &self.api_key))
            .collect();
        if !messages.is_empty() {
            writeln!(f)?;
            writeln!(
                f,
                "the Segment messages as one NDJSON file (`rehook-harness replay FILE --base-url {} --api-key {} --api-secret \"{SECRET_VARIABLE}\"`):",
                quote(&self.base_url),
                quote(&self.api_key)
            )?;
            for line in messages {
                writeln!(f, "{line}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for RandomFailure {}

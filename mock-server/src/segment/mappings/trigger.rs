//! Triggers: the part of Segment's FQL-like subscription language that mappings are written in.
//!
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | "(" expr ")" | compare
//! compare := path ("=" | "!=" | "contains") literal
//! path    := a name with dots: type, event, properties.plan, context.traits.email
//! literal := "a string" | a number | true | false | null
//! ```
//!
//! Keywords are lower case, as Segment writes them. A path reads the message as the action
//! fields do (see [`super::value`]): `userId`, `anonymousId` and a track's `event` as text the
//! way ingestion read them. `=` compares JSON values exactly (`event = "42"` matches a numeric
//! event, because ingestion turned it into text); `!=` is its negation and so holds when the
//! path is absent; `contains` holds when the value is a string holding the literal's text.
//! A parse error names the character position (1-based) and what was expected there.

use serde_json::Value;

use super::value::{Path, resolve};
use crate::segment::Accepted;

/// A parsed trigger, ready to test messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// The text as written, for error messages and `GET /__admin/mappings`.
    source: String,
    /// The parsed expression.
    expr: Expr,
}

/// A trigger expression.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(Path, Op, Value),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Contains,
}

/// Why a trigger did not parse: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerError {
    /// 1-based character position of the offending token (one past the end at the end).
    pub position: usize,
    /// What was expected, and what was found instead.
    pub message: String,
}

impl std::fmt::Display for TriggerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at position {}: {}", self.position, self.message)
    }
}

impl Trigger {
    /// Parse `text`.
    ///
    /// ```
    /// use rehook_mock::segment::Trigger;
    /// let t = Trigger::parse(r#"type = "track" and not (event = "Order Completed" or event contains "Test")"#);
    /// assert!(t.is_ok());
    /// let err = Trigger::parse(r#"type = "track" and"#).unwrap_err();
    /// assert_eq!(err.to_string(), "at position 19: expected a field path, `not` or `(`, found the end of the trigger");
    /// ```
    pub fn parse(text: &str) -> Result<Self, TriggerError> {
        let tokens = lex(text)?;
        let end = text.chars().count() + 1;
        let mut parser = Parser { tokens, at: 0, end };
        let expr = parser.or()?;
        if let Some(token) = parser.peek() {
            return Err(TriggerError {
                position: token.position,
                message: format!(
                    "expected `and`, `or` or the end of the trigger, found {}",
                    token.kind.shown()
                ),
            });
        }
        Ok(Self {
            source: text.to_owned(),
            expr,
        })
    }

    /// The trigger as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `accepted` matches.
    pub fn matches(&self, accepted: &Accepted<'_>) -> bool {
        self.expr.eval(accepted)
    }
}

impl Expr {
    fn eval(&self, accepted: &Accepted<'_>) -> bool {
        match self {
            Expr::And(a, b) => a.eval(accepted) && b.eval(accepted),
            Expr::Or(a, b) => a.eval(accepted) || b.eval(accepted),
            Expr::Not(a) => !a.eval(accepted),
            Expr::Compare(path, op, literal) => {
                let value = resolve(accepted, path);
                match op {
                    Op::Eq => value.as_deref() == Some(literal),
                    Op::Ne => value.as_deref() != Some(literal),
                    Op::Contains => match (value.as_deref(), literal) {
                        (Some(Value::String(hay)), Value::String(needle)) => {
                            hay.contains(needle.as_str())
                        }
                        _ => false,
                    },
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Word(String),
    Literal(Value),
    Eq,
    Ne,
    Open,
    Close,
}

impl Kind {
    fn shown(&self) -> String {
        match self {
            Kind::Word(w) => format!("`{w}`"),
            Kind::Literal(v) => format!("`{v}`"),
            Kind::Eq => "`=`".to_owned(),
            Kind::Ne => "`!=`".to_owned(),
            Kind::Open => "`(`".to_owned(),
            Kind::Close => "`)`".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: Kind,
    /// 1-based character position.
    position: usize,
}

fn lex(text: &str) -> Result<Vec<Token>, TriggerError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let position = i + 1;
        let kind = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => {
                i += 1;
                Kind::Open
            }
            ')' => {
                i += 1;
                Kind::Close
            }
            '=' => {
                i += 1;
                // `==` reads as `=`, as FQL allows.
                if chars.get(i) == Some(&'=') {
                    i += 1;
                }
                Kind::Eq
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                i += 2;
                Kind::Ne
            }
            '"' | '\'' => {
                let (literal, next) = string(&chars, i)?;
                i = next;
                Kind::Literal(Value::String(literal))
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '.' | '-' | '+'))
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                match serde_json::from_str::<serde_json::Number>(&text) {
                    Ok(n) => Kind::Literal(Value::Number(n)),
                    Err(_) => {
                        return Err(TriggerError {
                            position,
                            message: format!("expected a number, found `{text}`"),
                        });
                    }
                }
            }
            c if is_word_char(c) => {
                let start = i;
                while i < chars.len() && (is_word_char(chars[i]) || chars[i] == '.') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                match word.as_str() {
                    "true" => Kind::Literal(Value::Bool(true)),
                    "false" => Kind::Literal(Value::Bool(false)),
                    "null" => Kind::Literal(Value::Null),
                    _ => Kind::Word(word),
                }
            }
            other => {
                return Err(TriggerError {
                    position,
                    message: format!(
                        "expected a field path, a string, an operator or a parenthesis, found `{other}`"
                    ),
                });
            }
        };
        tokens.push(Token { kind, position });
    }
    Ok(tokens)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// A quoted string starting at `chars[start]` (its quote); returns the text and the index
/// after the closing quote. Escapes: `\"`, `\'`, `\\`, `\n`, `\t`.
fn string(chars: &[char], start: usize) -> Result<(String, usize), TriggerError> {
    let quote = chars[start];
    let mut out = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            c if c == quote => return Ok((out, i + 1)),
            '\\' => {
                let escaped = chars.get(i + 1).ok_or(TriggerError {
                    position: i + 2,
                    message:
                        "expected an escaped character after `\\`, found the end of the trigger"
                            .to_owned(),
                })?;
                out.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    other => *other,
                });
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err(TriggerError {
        position: chars.len() + 1,
        message: format!(
            "expected the closing {quote} of the string opened at position {}, found the end of the trigger",
            start + 1
        ),
    })
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// The position reported for "the end of the trigger".
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: Kind::Word(w), .. }) if w == word)
    }

    fn next(&mut self, expected: &str) -> Result<Token, TriggerError> {
        match self.tokens.get(self.at) {
            Some(token) => {
                self.at += 1;
                Ok(token.clone())
            }
            None => Err(TriggerError {
                position: self.end,
                message: format!("expected {expected}, found the end of the trigger"),
            }),
        }
    }

    fn or(&mut self) -> Result<Expr, TriggerError> {
        let mut left = self.and()?;
        while self.is_word("or") {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, TriggerError> {
        let mut left = self.unary()?;
        while self.is_word("and") {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, TriggerError> {
        const EXPECTED: &str = "a field path, `not` or `(`";
        let token = self.next(EXPECTED)?;
        match token.kind {
            Kind::Word(w) if w == "not" => Ok(Expr::Not(Box::new(self.unary()?))),
            Kind::Open => {
                let inner = self.or()?;
                let close = self.next("`)`")?;
                if close.kind != Kind::Close {
                    return Err(TriggerError {
                        position: close.position,
                        message: format!("expected `)`, found {}", close.kind.shown()),
                    });
                }
                Ok(inner)
            }
            Kind::Word(w) if !matches!(w.as_str(), "and" | "or" | "contains") => {
                let path = Path::parse_plain(&w).map_err(|m| TriggerError {
                    position: token.position,
                    message: m,
                })?;
                let op = self.next("`=`, `!=` or `contains`")?;
                let op_kind = match op.kind {
                    Kind::Eq => Op::Eq,
                    Kind::Ne => Op::Ne,
                    Kind::Word(w) if w == "contains" => Op::Contains,
                    other => {
                        return Err(TriggerError {
                            position: op.position,
                            message: format!(
                                "expected `=`, `!=` or `contains` after `{w}`, found {}",
                                other.shown()
                            ),
                        });
                    }
                };
                let literal = self.next("a string, a number, true, false or null")?;
                match literal.kind {
                    Kind::Literal(value) => {
                        if op_kind == Op::Contains && !value.is_string() {
                            return Err(TriggerError {
                                position: literal.position,
                                message: format!(
                                    "expected a string after `contains`, found `{value}`"
                                ),
                            });
                        }
                        Ok(Expr::Compare(path, op_kind, value))
                    }
                    other => Err(TriggerError {
                        position: literal.position,
                        message: format!(
                            "expected a string, a number, true, false or null, found {}",
                            other.shown()
                        ),
                    }),
                }
            }
            other => Err(TriggerError {
                position: token.position,
                message: format!("expected {EXPECTED}, found {}", other.shown()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::json;

    use super::*;
    use crate::segment::ingest;

    fn matches(trigger: &str, message: Value) -> bool {
        let accepted = ingest(&message, &mut HashSet::<String>::new()).expect("accepted");
        Trigger::parse(trigger).expect("parses").matches(&accepted)
    }

    fn error(trigger: &str) -> String {
        Trigger::parse(trigger).unwrap_err().to_string()
    }

    const COMPLEX: &str =
        r#"type = "track" and not (event = "Order Completed" or event contains "Test")"#;

    #[test]
    fn the_complex_example_matches_tracks_that_are_neither_orders_nor_tests() {
        let track = |event: &str| json!({"type": "track", "userId": "u", "event": event});
        assert!(matches(COMPLEX, track("Product Viewed")));
        assert!(!matches(COMPLEX, track("Order Completed")));
        assert!(!matches(COMPLEX, track("A Test Event")));
        assert!(!matches(
            COMPLEX,
            json!({"type": "identify", "userId": "u"})
        ));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let t = r#"type = "page" or type = "track" and event = "x""#;
        assert!(matches(t, json!({"type": "page", "userId": "u"})));
        assert!(!matches(
            t,
            json!({"type": "track", "userId": "u", "event": "y"})
        ));
        assert!(matches(
            t,
            json!({"type": "track", "userId": "u", "event": "x"})
        ));
    }

    #[test]
    fn not_equal_holds_for_absent_paths_and_contains_needs_a_string() {
        let msg = json!({"type": "identify", "userId": "u", "traits": {"plan": "pro", "seats": 3}});
        assert!(matches(r#"traits.plan != "free""#, msg.clone()));
        assert!(matches(r#"traits.missing != "free""#, msg.clone()));
        assert!(!matches(r#"traits.plan != "pro""#, msg.clone()));
        assert!(matches("traits.seats = 3", msg.clone()));
        assert!(!matches(r#"traits.seats = "3""#, msg.clone()));
        assert!(!matches(r#"traits.seats contains "3""#, msg.clone()));
        assert!(matches(r#"traits.plan contains "r""#, msg));
    }

    #[test]
    fn identities_and_events_compare_as_the_text_ingestion_read() {
        assert!(matches(
            r#"userId = "4021" and event = "42""#,
            json!({"type": "track", "userId": 4021, "event": 42})
        ));
        assert!(!matches(
            "userId = null",
            json!({"type": "track", "anonymousId": "a", "event": "e"})
        ));
        assert!(matches(
            r#"userId != "x""#,
            json!({"type": "track", "userId": "", "anonymousId": "a", "event": "e"})
        ));
    }

    #[test]
    fn nested_paths_reach_into_context() {
        let msg = json!({"type": "identify", "userId": "u",
                         "context": {"traits": {"email": "ada@example.com"}}});
        assert!(matches(
            r#"context.traits.email contains "@example.com""#,
            msg
        ));
    }

    #[test]
    fn single_quotes_escapes_and_double_equals_are_read() {
        let msg = json!({"type": "track", "userId": "u", "event": "say \"hi\""});
        assert!(matches(r#"event == 'say "hi"'"#, msg.clone()));
        assert!(matches(r#"event = "say \"hi\"""#, msg));
    }

    #[test]
    fn parse_errors_name_the_position_and_what_was_expected() {
        assert_eq!(
            error(r#"type = "track" and"#),
            "at position 19: expected a field path, `not` or `(`, found the end of the trigger"
        );
        assert_eq!(
            error(r#"type "track""#),
            "at position 6: expected `=`, `!=` or `contains` after `type`, found `\"track\"`"
        );
        assert_eq!(
            error(r#"type = track"#),
            "at position 8: expected a string, a number, true, false or null, found `track`"
        );
        assert_eq!(
            error(r#"(type = "track""#),
            "at position 16: expected `)`, found the end of the trigger"
        );
        assert_eq!(
            error(r#"type = "track" event = "x""#),
            "at position 16: expected `and`, `or` or the end of the trigger, found `event`"
        );
        assert_eq!(
            error(r#"type = "track"#),
            "at position 14: expected the closing \" of the string opened at position 8, found the end of the trigger"
        );
        assert_eq!(
            error("type = \"t\" & x"),
            "at position 12: expected a field path, a string, an operator or a parenthesis, found `&`"
        );
        assert_eq!(
            error("event contains 3"),
            "at position 16: expected a string after `contains`, found `3`"
        );
        assert_eq!(
            error(""),
            "at position 1: expected a field path, `not` or `(`, found the end of the trigger"
        );
        assert_eq!(
            error("and = \"x\""),
            "at position 1: expected a field path, `not` or `(`, found `and`"
        );
        assert_eq!(
            error("properties..plan = 1"),
            "at position 1: the path `properties..plan` has an empty segment"
        );
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        assert_eq!(
            error(r#"event = "é" or"#),
            "at position 15: expected a field path, `not` or `(`, found the end of the trigger"
        );
    }

    #[test]
    fn the_trigger_keeps_its_text() {
        assert_eq!(Trigger::parse(COMPLEX).unwrap().as_str(), COMPLEX);
    }
}

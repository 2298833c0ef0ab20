//! One line of text for an error and all its causes, each cause once.
//!
//! Errors are chained through [`std::error::Error::source`], but some also write their source
//! into their own `Display` (the harness's [`InputError`](crate::InputError) and
//! [`ClientError`](crate::ClientError) do, so that `to_string()` alone says what went wrong).
//! Printing such a chain naively (anyhow's `{:#}`, or `: {source}` at every level) repeats the
//! cause: `cannot read the file: No such file or directory (os error 2): No such file or
//! directory (os error 2)`. [`error_text`] walks the whole chain down to the root cause and
//! skips every cause whose text the line already ends with.

use std::error::Error;

/// `error` and its causes down to the root, joined with `: `, each cause written once.
///
/// A cause is left out when the text so far already ends with it (its parent's `Display`
/// included it).
///
/// ```
/// use rehook_harness::error_text;
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("cannot read the file: {source}")]
/// struct ReadError {
///     source: std::io::Error,
/// }
///
/// let error = ReadError { source: std::io::Error::other("disk on fire") };
/// assert_eq!(error_text(&error), "cannot read the file: disk on fire");
///
/// let error = anyhow::Error::new(error).context("unusable input");
/// assert_eq!(
///     error_text(error.as_ref()),
///     "unusable input: cannot read the file: disk on fire"
/// );
/// ```
pub fn error_text(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let part = error.to_string();
        if !part.is_empty() && !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = error.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    /// An error with a fixed text and an optional source.
    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn Error + 'static))
        }
    }

    fn chain(texts: &[&'static str]) -> Layer {
        texts
            .iter()
            .rev()
            .fold(None, |source, text| Some(Layer(text, source.map(Box::new))))
            .expect("at least one layer")
    }

    #[test]
    fn every_cause_down_to_the_root_is_written_once() {
        assert_eq!(error_text(&chain(&["alone"])), "alone");
        assert_eq!(
            error_text(&chain(&["sending", "tcp connect error", "refused"])),
            "sending: tcp connect error: refused"
        );
        // Each level already writes its source: nothing is added.
        assert_eq!(error_text(&chain(&["a: b: c", "b: c", "c"])), "a: b: c");
        // Only the levels that do not write their source add it.
        assert_eq!(
            error_text(&chain(&["gzip: incomplete", "incomplete", "root"])),
            "gzip: incomplete: root"
        );
        assert_eq!(error_text(&chain(&["top", "", "root"])), "top: root");
    }
}

//! What a check run found: one [`Case`] per scenario (and per randomised and race run), and
//! the ways of writing it down: a line per case, JUnit XML for CI, a JSON summary.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::time::Duration;

use serde::Serialize;

/// What became of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "snake_case")]
pub enum Outcome {
    /// Every expectation held.
    Passed,
    /// An expectation broke: what, and the calls that show it (`curl` lines).
    Failed(String),
    /// Not run, and why (no admin API, filtered out of the run's settings).
    Skipped(String),
}

impl Outcome {
    /// `pass`, `fail` or `skip`.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Passed => "pass",
            Outcome::Failed(_) => "fail",
            Outcome::Skipped(_) => "skip",
        }
    }
}

/// One case of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    /// `group.rule` for scenarios; `random` and `race` for the randomised runs.
    pub name: String,
    /// The group: a scenario group, `random` or `race`.
    pub group: String,
    /// What became of it.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// How long it took.
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// One line: `pass  customers.create_answers_201_then_update_200`, a failure's or skip's
/// reason below it, indented.
impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}  {}", self.outcome.word(), self.name)?;
        match &self.outcome {
            Outcome::Passed => Ok(()),
            Outcome::Skipped(reason) => write!(f, " ({reason})"),
            Outcome::Failed(detail) => {
                for line in detail.lines() {
                    write!(f, "\n      {line}")?;
                }
                Ok(())
            }
        }
    }
}

/// A whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// The server checked (its base URL).
    pub target: String,
    /// The run's seed: rerun with `--seed` to make the same calls.
    pub seed: u64,
    /// The run's id, part of every source_id and code it made: rerun with `--run-id` (and
    /// `--seed`) to make exactly the same calls.
    pub run_id: String,
    /// Every case, in the order run.
    pub cases: Vec<Case>,
}

/// The counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Cases run or skipped.
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
}

impl Counts {
    fn of<'a>(cases: impl IntoIterator<Item = &'a Case>) -> Self {
        let mut counts = Counts::default();
        for case in cases {
            counts.total += 1;
            match case.outcome {
                Outcome::Passed => counts.passed += 1,
                Outcome::Failed(_) => counts.failed += 1,
                Outcome::Skipped(_) => counts.skipped += 1,
            }
        }
        counts
    }
}

impl CheckReport {
    /// The names of the failed cases, in the order run.
    pub fn failed(&self) -> Vec<&str> {
        self.cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Failed(_)))
            .map(|c| c.name.as_str())
            .collect()
    }

    /// The names of the skipped cases, in the order run.
    pub fn skipped(&self) -> Vec<&str> {
        self.cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Skipped(_)))
            .map(|c| c.name.as_str())
            .collect()
    }

    /// Whether no case failed.
    pub fn all_passed(&self) -> bool {
        self.failed().is_empty()
    }

    /// The counts over every case.
    pub fn counts(&self) -> Counts {
        Counts::of(&self.cases)
    }

    /// The case named `name`.
    pub fn case(&self, name: &str) -> Option<&Case> {
        self.cases.iter().find(|c| c.name == name)
    }

    /// Cases by group, groups in the order they first ran.
    fn groups(&self) -> Vec<(&str, Vec<&Case>)> {
        let mut groups: Vec<(&str, Vec<&Case>)> = Vec::new();
        for case in &self.cases {
            match groups.iter_mut().find(|(g, _)| *g == case.group) {
                Some((_, cases)) => cases.push(case),
                None => groups.push((&case.group, vec![case])),
            }
        }
        groups
    }

    /// The summary line: `52 cases: 50 passed, 1 failed, 1 skipped (seed 7, run id 3f2a9c01)`.
    pub fn summary(&self) -> String {
        let c = self.counts();
        let mut line = format!(
            "{} {}: {} passed, {} failed, {} skipped (seed {}, run id {})",
            c.total,
            if c.total == 1 { "case" } else { "cases" },
            c.passed,
            c.failed,
            c.skipped,
            self.seed,
            self.run_id
        );
        let failed = self.failed();
        if !failed.is_empty() {
            let _ = write!(line, "\nfailed: {}", failed.join(", "));
        }
        line
    }

    /// The machine summary `--json` prints: target, seed, counts, counts per group, and every
    /// case with its outcome and detail.
    pub fn to_json(&self) -> serde_json::Value {
        let groups: BTreeMap<&str, Counts> = self
            .groups()
            .into_iter()
            .map(|(g, cases)| (g, Counts::of(cases)))
            .collect();
        serde_json::json!({
            "target": self.target,
            "seed": self.seed,
            "run_id": self.run_id,
            "passed": self.all_passed(),
            "counts": self.counts(),
            "groups": groups,
            "cases": self.cases,
        })
    }

    /// JUnit XML: one `<testsuite>` per group, one `<testcase>` per case, a `<failure>` with
    /// the mismatch as its message and the replayable calls as its text, `<skipped>` with the
    /// reason. The shape CI systems (GitHub Actions reporters, GitLab, Jenkins) read.
    pub fn to_junit(&self) -> String {
        let c = self.counts();
        let total: f64 = self.cases.iter().map(|c| c.duration.as_secs_f64()).sum();
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            xml,
            "<testsuites name=\"rehook-harness check\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{total:.3}\">",
            c.total, c.failed, c.skipped
        );
        for (group, cases) in self.groups() {
            let gc = Counts::of(cases.iter().copied());
            let time: f64 = cases.iter().map(|c| c.duration.as_secs_f64()).sum();
            let _ = writeln!(
                xml,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{time:.3}\">",
                escape(group),
                gc.total,
                gc.failed,
                gc.skipped
            );
            let _ = writeln!(
                xml,
                "    <properties>\n      <property name=\"seed\" value=\"{}\"/>\n      <property name=\"run_id\" value=\"{}\"/>\n    </properties>",
                self.seed,
                escape(&self.run_id)
            );
            for case in cases {
                let _ = write!(
                    xml,
                    "    <testcase name=\"{}\" classname=\"rehook.{}\" time=\"{:.3}\"",
                    escape(&case.name),
                    escape(group),
                    case.duration.as_secs_f64()
                );
                match &case.outcome {
                    Outcome::Passed => xml.push_str("/>\n"),
                    Outcome::Skipped(reason) => {
                        let _ = writeln!(
                            xml,
                            ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                            escape(reason)
                        );
                    }
                    Outcome::Failed(detail) => {
                        let message = detail.lines().next().unwrap_or("failed");
                        let _ = writeln!(
                            xml,
                            ">\n      <failure message=\"{}\" type=\"contract\">{}</failure>\n    </testcase>",
                            escape(message),
                            escape(detail)
                        );
                    }
                }
            }
            xml.push_str("  </testsuite>\n");
        }
        xml.push_str("</testsuites>\n");
        xml
    }
}

/// `text` escaped for XML text and attribute values; characters XML 1.0 cannot hold at all
/// (most control characters) are written as `\u{..}`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case(name: &str, group: &str, outcome: Outcome) -> Case {
        Case {
            name: name.to_owned(),
            group: group.to_owned(),
            outcome,
            duration: Duration::from_millis(12),
        }
    }

    fn report() -> CheckReport {
        CheckReport {
            target: "http://127.0.0.1:9".to_owned(),
            seed: 7,
            run_id: "ab12".to_owned(),
            cases: vec![
                case("auth.a", "auth", Outcome::Passed),
                case(
                    "auth.b",
                    "auth",
                    Outcome::Failed("call 1: expected <201> & got \"200\"\n  curl 'x'".into()),
                ),
                case("drops.c", "drops", Outcome::Skipped("no admin\u{1}".into())),
            ],
        }
    }

    #[test]
    fn failed_names_the_failed_cases_and_the_summary_counts() {
        let r = report();
        assert_eq!(r.failed(), ["auth.b"]);
        assert_eq!(r.skipped(), ["drops.c"]);
        assert!(!r.all_passed());
        assert_eq!(
            r.summary(),
            "3 cases: 1 passed, 1 failed, 1 skipped (seed 7, run id ab12)\nfailed: auth.b"
        );
    }

    #[test]
    fn junit_escapes_and_counts_per_suite() {
        let xml = report().to_junit();
        assert!(xml.contains(
            "<testsuite name=\"auth\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\""
        ));
        assert!(xml.contains(
            "<failure message=\"call 1: expected &lt;201&gt; &amp; got &quot;200&quot;\" type=\"contract\">"
        ));
        assert!(xml.contains("<property name=\"run_id\" value=\"ab12\"/>"));
        assert!(xml.contains("<skipped message=\"no admin\\u{1}\"/>"));
        assert!(!xml.contains('\u{1}'));
    }

    #[test]
    fn case_lines_indent_the_detail() {
        let r = report();
        assert_eq!(r.cases[0].to_string(), "pass  auth.a");
        assert_eq!(
            r.cases[1].to_string(),
            "fail  auth.b\n      call 1: expected <201> & got \"200\"\n        curl 'x'"
        );
        assert_eq!(r.cases[2].to_string(), "skip  drops.c (no admin\u{1})");
    }

    #[test]
    fn json_summary_has_counts_per_group() {
        let v = report().to_json();
        assert_eq!(v["counts"]["failed"], 1);
        assert_eq!(v["groups"]["auth"]["total"], 2);
        assert_eq!(v["cases"][1]["outcome"], "failed");
        assert_eq!(v["passed"], false);
        assert_eq!((&v["seed"], &v["run_id"]), (&json!(7), &json!("ab12")));
    }
}

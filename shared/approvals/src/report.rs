//! What the on-prem processor reports on `POST /approval-requests/{id}/execution`:
//! `{"state": "EXECUTING" | "EXECUTED" | "FAILED" | "REJECTION_RECORDED", "attempt_id", "output"?}`,
//! parsed into what the execution use cases take.

use serde::Deserialize;

use crate::body::{json_body, InvalidJson};
use crate::request::RequestId;
use crate::rules::ExecutionOutcome;

/// Largest executor output accepted (the stored copy is cut to 4 KB).
pub const MAX_OUTPUT_CHARS: usize = 64 * 1024;

/// A report the use cases can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutionReport {
    /// This attempt is about to run the action (the API answers what to run).
    Executing { attempt_id: String },
    /// This attempt ran it, with this result.
    Finished { attempt_id: String, outcome: ExecutionOutcome, output: String },
    /// The processor saw the rejection (no attempt: nothing ran).
    RejectionRecorded,
}

/// Why a report was refused. Never quotes it: the output may hold anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidReport {
    #[error(transparent)]
    Json(#[from] InvalidJson),
    #[error("output is limited to {MAX_OUTPUT_CHARS} characters")]
    OutputTooLong,
    #[error("attempt_id is required: 1-64 characters of A-Z, a-z, 0-9, '-' or '_'")]
    AttemptId,
    #[error("state must be EXECUTING, EXECUTED, FAILED or REJECTION_RECORDED")]
    State,
}

#[derive(Debug, Deserialize)]
struct Raw {
    state: String,
    attempt_id: Option<String>,
    #[serde(default)]
    output: String,
}

impl ExecutionReport {
    pub fn parse(body: &[u8]) -> Result<Self, InvalidReport> {
        let raw: Raw = json_body(body)?;
        if raw.output.chars().count() > MAX_OUTPUT_CHARS {
            return Err(InvalidReport::OutputTooLong);
        }
        // An attempt id keys a condition and a log line: the request id's alphabet.
        let attempt =
            || raw.attempt_id.clone().filter(|a| RequestId::parse(a).is_some()).ok_or(InvalidReport::AttemptId);
        match raw.state.as_str() {
            "EXECUTING" => Ok(Self::Executing { attempt_id: attempt()? }),
            "EXECUTED" => {
                Ok(Self::Finished { attempt_id: attempt()?, outcome: ExecutionOutcome::Executed, output: raw.output })
            }
            "FAILED" => {
                Ok(Self::Finished { attempt_id: attempt()?, outcome: ExecutionOutcome::Failed, output: raw.output })
            }
            "REJECTION_RECORDED" => Ok(Self::RejectionRecorded),
            _ => Err(InvalidReport::State),
        }
    }

    /// The reported state, for log lines (ours, never the sender's text).
    pub fn state(&self) -> &'static str {
        match self {
            Self::Executing { .. } => "EXECUTING",
            Self::Finished { outcome: ExecutionOutcome::Executed, .. } => "EXECUTED",
            Self::Finished { outcome: ExecutionOutcome::Failed, .. } => "FAILED",
            Self::RejectionRecorded => "REJECTION_RECORDED",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<ExecutionReport, InvalidReport> {
        ExecutionReport::parse(body.as_bytes())
    }

    #[test]
    fn each_state_is_read_with_what_it_needs() {
        assert_eq!(
            parse(r#"{"state":"EXECUTING","attempt_id":"a-1"}"#),
            Ok(ExecutionReport::Executing { attempt_id: "a-1".into() })
        );
        let done = parse(r#"{"state":"FAILED","attempt_id":"a-1","output":"exit 3"}"#).unwrap();
        assert_eq!(
            done,
            ExecutionReport::Finished {
                attempt_id: "a-1".into(),
                outcome: ExecutionOutcome::Failed,
                output: "exit 3".into()
            }
        );
        assert_eq!(done.state(), "FAILED");
        assert_eq!(parse(r#"{"state":"REJECTION_RECORDED"}"#), Ok(ExecutionReport::RejectionRecorded));
    }

    #[test]
    fn bad_reports_are_refused_without_echoing_them() {
        assert_eq!(parse(r#"{"state":"EXECUTED"}"#), Err(InvalidReport::AttemptId));
        assert_eq!(parse(r#"{"state":"EXECUTED","attempt_id":"a b"}"#), Err(InvalidReport::AttemptId));
        assert_eq!(parse(r#"{"state":"someone@example.org","attempt_id":"a"}"#), Err(InvalidReport::State));
        let long =
            format!(r#"{{"state":"EXECUTED","attempt_id":"a","output":"{}"}}"#, "x".repeat(MAX_OUTPUT_CHARS + 1));
        assert_eq!(parse(&long), Err(InvalidReport::OutputTooLong));
        let err = parse(r#"{"state": ["someone@example.org"]}"#).unwrap_err().to_string();
        assert!(err.starts_with("invalid JSON body") && !err.contains("someone@"), "{err}");
    }
}

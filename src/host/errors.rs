//! Errors of the Rhai host and how they reach a script.
//!
//! Every failure a host function can have is a [`HostError`]. [`HostError::into_rhai`] turns it
//! into what a script's `catch (e)` sees: a map `#{code, message, request_id, http_status,
//! recommend, advice}` (API errors) or `#{code, message}` (host errors), so
//! `if e.code == "OperationDenied.NoStock"` works for both. An interrupt (Ctrl-C) becomes a
//! non-catchable termination, so a script cannot swallow it.
//!
//! This module formats nothing for a terminal; the runner renders uncaught errors.

use crate::rpc::ApiError;
use rhai::{Dynamic, EvalAltResult, Map, Position};
use std::fmt;

/// Script-visible value of a termination caused by the cancel flag (Ctrl-C).
pub const INTERRUPTED: &str = "interrupted";

#[derive(Debug, Clone)]
pub enum HostError {
    /// The service (or simulator) answered with an error.
    Api(Box<ApiError>),
    /// The request did not get an answer: connection, timeout, bad response body.
    Transport(String),
    /// A function was called with options it does not accept (unknown key, wrong type,
    /// missing required one).
    InvalidOption(String),
    /// The guard or a host policy refused the request (no approval, over budget, UserData,
    /// image_id in create_instance_with_infra, ...); `code` is the refusal's own code
    /// (`Refused.Budget`, `Refused.Policy.UserData`; README "Refusal codes"). Nothing was sent.
    Refused { code: &'static str, message: String },
    /// `call_api` named a product or action that is not valid.
    UnknownAction(String),
    /// A wait ended without reaching the wanted state in time.
    WaitTimeout(String),
    /// A wait saw a terminal state it was not waiting for (Stopped instead of Running, an
    /// invocation that Failed).
    UnexpectedState(String),
    /// A local resource the script named (a `script_path`) could not be read.
    Local(String),
    /// The run was interrupted (Ctrl-C); not catchable by scripts.
    Interrupted,
}

impl HostError {
    /// The code a script branches on (`e.code`).
    pub fn code(&self) -> &str {
        match self {
            HostError::Api(e) => &e.code,
            HostError::Transport(_) => "Transport",
            HostError::InvalidOption(_) => "InvalidOption",
            HostError::Refused { code, .. } => code,
            HostError::UnknownAction(_) => "UnknownAction",
            HostError::WaitTimeout(_) => "WaitTimeout",
            HostError::UnexpectedState(_) => "UnexpectedState",
            HostError::Local(_) => "LocalFile",
            HostError::Interrupted => "Interrupted",
        }
    }

    pub fn message(&self) -> String {
        match self {
            HostError::Api(e) => e.message.clone(),
            HostError::Transport(m)
            | HostError::InvalidOption(m)
            | HostError::Refused { message: m, .. }
            | HostError::UnknownAction(m)
            | HostError::WaitTimeout(m)
            | HostError::UnexpectedState(m)
            | HostError::Local(m) => m.clone(),
            HostError::Interrupted => "the run was interrupted".into(),
        }
    }

    /// Adds context in front of the message of a host error (API errors keep the service's
    /// message untouched, since code and message are what a user looks up).
    pub fn context(self, what: &str) -> HostError {
        match self {
            HostError::Transport(m) => HostError::Transport(format!("{what}: {m}")),
            HostError::WaitTimeout(m) => HostError::WaitTimeout(format!("{what}: {m}")),
            HostError::UnexpectedState(m) => HostError::UnexpectedState(format!("{what}: {m}")),
            other => other,
        }
    }

    /// The value a script's `catch (e)` receives.
    pub fn to_map(&self) -> Map {
        let mut m = Map::new();
        m.insert("code".into(), self.code().into());
        m.insert("message".into(), self.message().into());
        if let HostError::Api(e) = self {
            m.insert(
                "request_id".into(),
                e.request_id.clone().map_or(Dynamic::UNIT, Dynamic::from),
            );
            m.insert("http_status".into(), (e.http_status as i64).into());
            m.insert(
                "recommend".into(),
                e.recommend.clone().map_or(Dynamic::UNIT, Dynamic::from),
            );
            m.insert(
                "advice".into(),
                e.advice()
                    .map_or(Dynamic::UNIT, |a| Dynamic::from(a.to_string())),
            );
        }
        m
    }

    /// Converts to a Rhai error at `pos`. Interrupts terminate the script (not catchable).
    pub fn into_rhai(self, pos: Position) -> Box<EvalAltResult> {
        match self {
            HostError::Interrupted => {
                EvalAltResult::ErrorTerminated(INTERRUPTED.into(), pos).into()
            }
            other => EvalAltResult::ErrorRuntime(other.to_map().into(), pos).into(),
        }
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for HostError {}

impl From<ApiError> for HostError {
    fn from(e: ApiError) -> Self {
        HostError::Api(Box::new(e))
    }
}

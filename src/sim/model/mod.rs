//! The simulator's state model: regions' resources, lifecycles, idempotency. Never sees HTTP.
//!
//! (Interface agreed between the protocol side and the model side; the model helper fills
//! it in.) `World::handle` takes an authenticated [`SimRequest`] and returns the response body
//! (without `RequestId`, which the protocol layer adds) or a [`SimError`].

use super::{SimError, SimRequest};
use serde_json::Value;

/// The whole simulated account.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct World {}

impl World {
    pub fn handle(&mut self, req: &SimRequest) -> Result<Value, SimError> {
        Err(SimError::new(
            404,
            "InvalidAction.NotFound",
            format!("action {} is not implemented yet", req.action),
        ))
    }
}

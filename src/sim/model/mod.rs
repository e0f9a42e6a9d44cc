//! The simulator's state model: regions' resources, lifecycles, idempotency. Never sees HTTP.
//!
//! (Interface agreed between the protocol side and the model side; the model helper fills
//! it in.) `World::handle` takes an authenticated [`SimRequest`] and returns the response body
//! (without `RequestId`, which the protocol layer adds) or a [`SimError`].

use super::{SimError, SimRequest};
use serde_json::Value;

/// How a [`World`] behaves. (Seam placeholder on the protocol branch: the model branch defines
/// the real fields — time mode and command execution — under the same name.)
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorldOptions {}

/// The whole simulated account.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct World {
    no_stock: Vec<(String, String)>,
}

impl World {
    pub fn new(_opts: WorldOptions) -> World {
        World::default()
    }

    /// Replaces the options of a restored world (the command line wins over the snapshot).
    pub fn set_options(&mut self, _opts: WorldOptions) {}

    /// Marks an instance type as out of stock in a zone (`--fault nostock=TYPE@ZONE`).
    pub fn add_no_stock(&mut self, instance_type: &str, zone_id: &str) {
        self.no_stock
            .push((instance_type.to_owned(), zone_id.to_owned()));
    }

    pub fn handle(&mut self, req: &SimRequest) -> Result<Value, SimError> {
        Err(SimError::new(
            404,
            "InvalidAction.NotFound",
            format!("action {} is not implemented yet", req.action),
        ))
    }
}

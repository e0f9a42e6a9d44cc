//! Unit tests of the model, driving World::handle with SimRequests (no HTTP).

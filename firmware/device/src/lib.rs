//! The Sentio device program, as a library so tests drive it on simulated hardware.
//!
//! [`app::run`] is the device loop, generic over the traits of `sentio-hal`; [`hardware`] builds
//! those devices from a board profile (simulated, or real drivers when their features are on);
//! [`events`] are the JSON lines the device reports. `main.rs` only parses options and wires
//! these together. Nothing here prints except through the event callback.

pub mod app;
pub mod beep;
pub mod events;
pub mod hardware;
pub mod link;

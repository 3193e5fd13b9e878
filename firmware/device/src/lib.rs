//! The Sentio device program, as a library so tests drive it on simulated hardware.
//!
//! [`app::run`] is the device loop, generic over the traits of `sentio-hal` and over a
//! [`pipeline::Pipeline`] (what the device does with each frame); [`job::DeviceJob`] runs it on a
//! display; [`setup`] builds the pipelines from a board profile ([`mood`]: faces and [`voice`] fused into
//! one mood, [`music`] that fits it); [`models`] reads and checks the
//! models they run; [`hardware`] builds the devices (simulated, or real drivers when their
//! features are on); [`events`] are the JSON lines the device reports. `main.rs` only parses
//! options and wires these together. Nothing here prints except through the event callback.

pub mod app;
pub mod beep;
pub mod caption;
pub mod events;
pub mod hardware;
pub mod inject;
pub mod job;
pub mod link;
pub mod models;
pub mod mood;
pub mod music;
pub mod pipeline;
pub mod setup;
pub mod sketch;
pub mod voice;

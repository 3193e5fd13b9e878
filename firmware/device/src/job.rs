//! The device's run on a display: the `start` event, then the loop with its pipeline. `main.rs`
//! and the golden-frame tests run the same job, so the tests see what a user sees.

use std::sync::atomic::AtomicBool;

use sentio_hal::{Camera, Clock, Microphone, Speaker};

use crate::app::{self, AppError, AppOptions, Devices, RunSummary};
use crate::events::Event;
use crate::hardware::{DisplayJob, Opened};
use crate::pipeline::DevicePipeline;

/// Everything the loop needs except the display, which [`crate::hardware::with_display`] opens.
pub struct DeviceJob<'a, Clk: Clock + ?Sized> {
    pub board: String,
    pub camera: Opened<Box<dyn Camera + 'a>>,
    pub microphone: Opened<Box<dyn Microphone + 'a>>,
    pub speaker: Opened<Box<dyn Speaker>>,
    pub clock: &'a Clk,
    pub options: AppOptions,
    pub stop: &'a AtomicBool,
    pub pipeline: DevicePipeline,
    /// What setting up the pipeline reported (models loaded or refused): sent right after
    /// `start`, so a reader sees what the device is first.
    pub setup_events: Vec<Event>,
    /// Where events go (stdout and the link in `sentiod`, a list in tests).
    pub emit: &'a mut dyn FnMut(Event),
}

impl<Clk: Clock + ?Sized> DisplayJob for DeviceJob<'_, Clk> {
    type Output = Result<RunSummary, AppError>;

    fn run<D>(mut self, display: &mut D, description: String) -> Self::Output
    where
        D: sentio_hal::Display,
        D::Color: sentio_ui::Palette,
        D::Error: std::fmt::Debug,
    {
        let format = self.camera.device.format();
        let size = display.bounding_box().size;
        let display_out = description.strip_prefix("sim:").map(str::to_string);
        let speaker_out = self
            .speaker
            .description
            .strip_prefix("wav:")
            .map(str::to_string);
        (self.emit)(Event::Start {
            board: self.board.clone(),
            camera: self.camera.description,
            width: format.width,
            height: format.height,
            fps: format.fps,
            microphone: self.microphone.description,
            sample_rate: self.microphone.device.sample_rate(),
            display: description,
            display_width: size.width,
            display_height: size.height,
            display_out,
            speaker_out,
        });
        for event in std::mem::take(&mut self.setup_events) {
            (self.emit)(event);
        }
        let devices = Devices {
            camera: &mut self.camera.device,
            microphone: &mut self.microphone.device,
            speaker: &mut self.speaker.device,
            display,
        };
        app::run(
            devices,
            self.clock,
            &self.options,
            self.stop,
            &mut self.pipeline,
            self.emit,
        )
    }
}

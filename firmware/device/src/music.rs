//! Mood music on the speaker: the `sentio_music` player, told the fused mood and whether
//! someone is speaking (it ducks under speech), with the optional next-track and volume
//! buttons. Its clock is the speaker's samples, which follow the camera's timeline like the
//! microphone's, so a run sounds the same at real time and at fast pace.

use std::path::Path;
use std::time::Duration;

use sentio_hal::PushButton;
use sentio_mood::Mood;
use sentio_music::{MusicConfig, MusicError, Player, SkipReason, TrackEvent};

use crate::events::{Event, TrackInfo};
use crate::pipeline::{StepInput, round3f};

/// Volume change per press of a volume button.
pub const VOLUME_STEP: f32 = 0.1;

/// The buttons of `[gpio]` that control the music (each optional).
#[derive(Default)]
pub struct MusicButtons {
    pub next: Option<Box<dyn PushButton>>,
    pub volume_up: Option<Box<dyn PushButton>>,
    pub volume_down: Option<Box<dyn PushButton>>,
}

/// How the music is set up: the profile's `[music]` and the speaker's format.
pub struct MusicSetup {
    pub config: MusicConfig,
    pub sample_rate: u32,
    pub channels: u16,
    pub buttons: MusicButtons,
}

/// The player and what it was last told.
pub struct Music {
    player: Player,
    mood: Option<Mood>,
    speaking: bool,
    volume: f32,
    buttons: MusicButtons,
    /// Time spent rendering since the stage times were last taken.
    time: Duration,
}

impl Music {
    pub fn new(setup: MusicSetup) -> Result<Self, MusicError> {
        let volume = setup.config.volume;
        let player = Player::new(setup.config, setup.sample_rate, setup.channels)?;
        Ok(Self {
            player,
            mood: None,
            speaking: false,
            volume,
            buttons: setup.buttons,
            time: Duration::ZERO,
        })
    }

    /// Tells the player this frame's mood and voice activity, and reads the buttons.
    pub fn cue(
        &mut self,
        input: &StepInput<'_>,
        mood: Mood,
        speaking: bool,
        emit: &mut dyn FnMut(Event),
    ) {
        if self.mood != Some(mood) {
            self.mood = Some(mood);
            self.player.set_mood(input.media_ms, mood.as_str());
        }
        if self.speaking != speaking {
            self.speaking = speaking;
            self.player.set_speech(input.media_ms, speaking);
        }
        if pressed(&mut self.buttons.next, "next-track button", input, emit) {
            self.player.skip(input.media_ms);
        }
        let mut volume = self.volume;
        if pressed(&mut self.buttons.volume_up, "volume-up button", input, emit) {
            volume += VOLUME_STEP;
        }
        if pressed(
            &mut self.buttons.volume_down,
            "volume-down button",
            input,
            emit,
        ) {
            volume -= VOLUME_STEP;
        }
        let volume = volume.clamp(0.0, 1.0);
        if volume != self.volume {
            self.volume = volume;
            self.player.set_volume(volume);
            emit(Event::Volume {
                frame: input.index,
                t_ms: input.t_ms,
                volume: round3f(volume),
            });
        }
    }

    /// Mixes a prompt (the start-up beep) over the music.
    pub fn prompt(&mut self, samples: &[i16], sample_rate: u32) {
        self.player.play_prompt(samples, sample_rate);
    }

    /// Renders the next `out.len()` samples (interleaved) and reports what the player did.
    pub fn render(&mut self, input: &StepInput<'_>, out: &mut [i16], emit: &mut dyn FnMut(Event)) {
        let t0 = input.clock.now();
        self.player.render_i16(out);
        self.time += input.clock.now() - t0;
        for event in self.player.take_events() {
            emit(track_event(input.index, event));
        }
    }

    /// The title of the track playing (its file name without the extension).
    pub fn title(&self) -> Option<&str> {
        self.player
            .playing()
            .and_then(Path::file_stem)
            .and_then(|s| s.to_str())
    }

    /// Time spent rendering since the last call.
    pub fn take_time(&mut self) -> Duration {
        std::mem::take(&mut self.time)
    }
}

/// Whether `button` was pressed; a button that cannot be read is dropped, said once.
fn pressed(
    button: &mut Option<Box<dyn PushButton>>,
    role: &str,
    input: &StepInput<'_>,
    emit: &mut dyn FnMut(Event),
) -> bool {
    let Some(b) = button.as_mut() else {
        return false;
    };
    match b.pressed(input.now) {
        Ok(pressed) => pressed,
        Err(e) => {
            *button = None;
            emit(Event::refused(role, "gpio", &e));
            false
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

/// The device's `track` event for what the player did.
fn track_event(frame: u64, event: TrackEvent) -> Event {
    let track = |t_ms: u64, action: &str| TrackInfo {
        frame,
        t_ms,
        action: action.into(),
        ..TrackInfo::default()
    };
    Event::Track(match event {
        TrackEvent::Started {
            t_ms,
            track: path,
            mood,
            playlist,
            gain_db,
            ..
        } => TrackInfo {
            track: Some(file_name(&path)),
            mood: Some(mood.clone()),
            detail: (playlist != mood).then(|| format!("from the {playlist} playlist")),
            gain_db: Some(round3f(gain_db)),
            ..track(t_ms, "started")
        },
        TrackEvent::Skipped {
            t_ms,
            track: path,
            why,
        } => {
            let (why, detail, help) = match why {
                SkipReason::EndOfTrack => ("end_of_track", None, None),
                SkipReason::Dwell => ("dwell", None, None),
                SkipReason::Manual => ("manual", None, None),
                SkipReason::DecodeError { detail, help } => ("decode_error", Some(detail), help),
            };
            TrackInfo {
                track: Some(file_name(&path)),
                why: Some(why.into()),
                detail,
                help,
                ..track(t_ms, "skipped")
            }
        }
        TrackEvent::Ended { t_ms, track: path } => TrackInfo {
            track: Some(file_name(&path)),
            ..track(t_ms, "ended")
        },
        TrackEvent::Fallback {
            t_ms,
            mood,
            to,
            reason,
        } => TrackInfo {
            mood: Some(mood),
            detail: Some(format!("{reason}; playing {to} music")),
            ..track(t_ms, "fallback")
        },
        TrackEvent::NothingToPlay { t_ms, mood } => TrackInfo {
            mood: Some(mood),
            detail: Some("no playable track for this mood or the fallback mood".into()),
            ..track(t_ms, "nothing_to_play")
        },
        TrackEvent::CacheReset { reason } => TrackInfo {
            detail: Some(reason),
            ..track(0, "cache_reset")
        },
    })
}

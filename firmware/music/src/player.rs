//! The player: mood playlists, crossfades, ducking, volume and prompts, rendered block by block
//! on the caller's clock.
//!
//! Time is the caller's: the first rendered frame is at 0 ms, every rendered frame advances the
//! clock by `1 / rate`, and `set_mood`, `set_speech` and `skip` take a time on that same clock
//! (a time already rendered counts as now). Nothing here reads a wall clock, so a test can play
//! an hour in a few seconds and get the same samples and events on every machine.

use std::collections::{HashMap, HashSet, VecDeque};
use std::f32::consts::FRAC_PI_2;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::decode::TrackSource;
use crate::library::{Rng, choose, list_tracks};
use crate::loudness::LoudnessCache;
use crate::{MusicConfig, MusicError};

/// Fade-in of a track that starts from silence (nothing to crossfade from), in ms.
pub const START_FADE_MS: u32 = 20;
/// Time a volume change takes, in ms (a ramp, so it does not click).
pub const VOLUME_RAMP_MS: u32 = 50;
/// Fade at both ends of a prompt sound, in ms.
pub const PROMPT_EDGE_MS: u32 = 5;
/// Most frames rendered between two looks at the controls (bounds the decode per step).
const MAX_SEGMENT: usize = 1024;
/// Most tracks tried in one go when files fail to open.
const MAX_ATTEMPTS: usize = 64;

/// Why a track stopped before or at its end.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// It played to its end (the next track crossfades over its last seconds).
    EndOfTrack,
    /// A new mood held for `long_dwell_ms`: crossfade to the new mood's music.
    Dwell,
    /// [`Player::skip`].
    Manual,
    /// The file cannot be decoded (at start or part-way); it is not tried again. `detail` is
    /// the error's message, `help` what to do about the file.
    DecodeError {
        detail: String,
        help: Option<String>,
    },
}

impl SkipReason {
    /// The skip for a track `error` stopped: its message and its help line.
    fn decode_error(error: &MusicError) -> SkipReason {
        SkipReason::DecodeError {
            detail: error.to_string(),
            help: miette::Diagnostic::help(error).map(|h| h.to_string()),
        }
    }
}

/// What the player did, for the device's event stream. `t_ms` is on the caller's clock.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TrackEvent {
    /// A track starts sounding (fading in over `fade_ms`).
    Started {
        t_ms: u64,
        track: PathBuf,
        /// The mood it was chosen for.
        mood: String,
        /// The mood whose folder it came from (differs after a fallback).
        playlist: String,
        /// Loudness normalization applied.
        gain_db: f32,
        fade_ms: u32,
    },
    /// A track is being left (it fades out from now), or could not be played at all.
    Skipped {
        t_ms: u64,
        track: PathBuf,
        why: SkipReason,
    },
    /// A track's last sample was rendered.
    Ended { t_ms: u64, track: PathBuf },
    /// `mood` has nothing to play, so `to` (the fallback mood) plays. Said once until the
    /// mood has tracks again.
    Fallback {
        t_ms: u64,
        mood: String,
        to: String,
        reason: String,
    },
    /// Neither `mood` nor the fallback mood has a playable track: silence until the mood
    /// changes.
    NothingToPlay { t_ms: u64, mood: String },
    /// The loudness cache file could not be read and was started afresh.
    CacheReset { reason: String },
}

enum Control {
    Mood(String),
    Speech(bool),
    Skip,
}

struct Deck {
    track: PathBuf,
    mood: String,
    playlist: String,
    source: TrackSource,
    /// Decoded, resampled frames not played yet (interleaved).
    fifo: VecDeque<f32>,
    scratch: Vec<f32>,
    /// The decoder has nothing more: what is in `fifo` is the rest of the track.
    ended: bool,
    /// Why the decoder stopped early (a [`SkipReason::DecodeError`]).
    error: Option<SkipReason>,
    /// Loudness normalization, linear.
    gain: f32,
    /// The fade runs from position `fade_from` to `fade_to` (0..=1) over `fade_len` frames,
    /// `fade_pos` of them done; the gain at position p is sin(p * pi / 2) (equal power).
    fade_from: f32,
    fade_to: f32,
    fade_pos: usize,
    fade_len: usize,
    leaving: bool,
    /// Frames decoded ahead of playback; grows up to the crossfade length.
    lookahead: usize,
}

impl Deck {
    fn frames(&self, channels: usize) -> usize {
        self.fifo.len() / channels
    }

    /// The fade position now (counted in whole frames, so a fade lasts exactly its length).
    fn position(&self) -> f32 {
        if self.fade_pos >= self.fade_len {
            return self.fade_to;
        }
        let t = self.fade_pos as f32 / self.fade_len as f32;
        self.fade_from + (self.fade_to - self.fade_from) * t
    }

    /// Frames until the fade is done.
    fn fade_left(&self) -> usize {
        self.fade_len.saturating_sub(self.fade_pos)
    }
}

/// A mood music player. See the module documentation for its clock.
pub struct Player {
    config: MusicConfig,
    rate: u32,
    channels: usize,
    frame: u64,
    cache: LoudnessCache,
    rng: Rng,
    history: HashMap<String, VecDeque<PathBuf>>,
    broken: HashSet<PathBuf>,
    fallback_said: HashSet<String>,
    nothing_said: HashSet<String>,
    gave_up_on: Option<String>,
    controls: Vec<(u64, Control)>,
    requested: (String, u64),
    effective: (String, u64),
    skip_pending: bool,
    decks: Vec<Deck>,
    speech: bool,
    duck_db: f32,
    volume_target: f32,
    volume: f32,
    prompts: VecDeque<(Vec<f32>, usize)>,
    mix: Vec<f32>,
    events: Vec<TrackEvent>,
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player")
            .field("rate", &self.rate)
            .field("channels", &self.channels)
            .field("now_ms", &self.now_ms())
            .field("mood", &self.effective.0)
            .field("playing", &self.playing())
            .field("voices", &self.decks.len())
            .finish_non_exhaustive()
    }
}

fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

impl Player {
    /// A player for `config` rendering `rate` Hz with `channels` interleaved channels. It
    /// starts in the fallback mood at 0 ms.
    pub fn new(config: MusicConfig, rate: u32, channels: u16) -> Result<Self, MusicError> {
        config.validate()?;
        if !(8000..=192_000).contains(&rate) || !(1..=8).contains(&channels) {
            return Err(MusicError::InvalidOutput { rate, channels });
        }
        let mut events = Vec::new();
        let cache = match &config.loudness_cache {
            None => LoudnessCache::in_memory(),
            Some(file) => LoudnessCache::load(file).unwrap_or_else(|e| {
                events.push(TrackEvent::CacheReset {
                    reason: e.to_string(),
                });
                LoudnessCache::empty_at(file)
            }),
        };
        let start = (config.fallback_mood.clone(), 0);
        Ok(Player {
            rng: Rng::new(config.seed),
            volume_target: config.volume,
            volume: config.volume,
            rate,
            channels: usize::from(channels),
            frame: 0,
            cache,
            history: HashMap::new(),
            broken: HashSet::new(),
            fallback_said: HashSet::new(),
            nothing_said: HashSet::new(),
            gave_up_on: None,
            controls: Vec::new(),
            requested: start.clone(),
            effective: start,
            skip_pending: false,
            decks: Vec::new(),
            speech: false,
            duck_db: 0.0,
            prompts: VecDeque::new(),
            mix: Vec::new(),
            events,
            config,
        })
    }

    /// The time of the next frame to render, in ms.
    pub fn now_ms(&self) -> u64 {
        self.frame * 1000 / u64::from(self.rate)
    }

    /// The output rate.
    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    /// The output channel count.
    pub fn channels(&self) -> u16 {
        self.channels as u16
    }

    /// The mood the player follows now (after the `min_dwell_ms` flicker filter).
    pub fn mood(&self) -> &str {
        &self.effective.0
    }

    /// The track playing (the incoming one during a crossfade).
    pub fn playing(&self) -> Option<&Path> {
        self.decks
            .iter()
            .rev()
            .find(|d| !d.leaving)
            .map(|d| d.track.as_path())
    }

    /// Tracks sounding now (2 during a crossfade).
    pub fn voices(&self) -> usize {
        self.decks.len()
    }

    /// Decoded frames held ahead of playback, all tracks together. Bounded by about one
    /// crossfade plus one block per sounding track, whatever the tracks' lengths.
    pub fn buffered_frames(&self) -> usize {
        self.decks.iter().map(|d| d.frames(self.channels)).sum()
    }

    /// Files whose loudness was measured (not found in the cache) so far.
    pub fn loudness_measurements(&self) -> usize {
        self.cache.measurements()
    }

    /// The events since the last call.
    pub fn take_events(&mut self) -> Vec<TrackEvent> {
        std::mem::take(&mut self.events)
    }

    fn frame_of(&self, t_ms: u64) -> u64 {
        (u128::from(t_ms) * u128::from(self.rate) / 1000) as u64
    }

    fn frames_of_ms(&self, ms: u32) -> usize {
        (u64::from(ms) * u64::from(self.rate) / 1000) as usize
    }

    fn push_control(&mut self, t_ms: u64, control: Control) {
        let at = self.frame_of(t_ms).max(self.frame);
        let index = self.controls.partition_point(|(f, _)| *f <= at);
        self.controls.insert(index, (at, control));
    }

    /// The fused mood (a `sentio_models::MOOD` label) at `t_ms`.
    pub fn set_mood(&mut self, t_ms: u64, mood: &str) {
        self.push_control(t_ms, Control::Mood(mood.to_string()));
    }

    /// Whether the voice-activity detector hears speech from `t_ms` on.
    pub fn set_speech(&mut self, t_ms: u64, speaking: bool) {
        self.push_control(t_ms, Control::Speech(speaking));
    }

    /// Goes to another track of the mood at `t_ms`, with the short `skip_crossfade_ms`.
    pub fn skip(&mut self, t_ms: u64) {
        self.push_control(t_ms, Control::Skip);
    }

    /// Output volume 0..=1 (clamped), reached over [`VOLUME_RAMP_MS`].
    pub fn set_volume(&mut self, volume: f32) {
        self.volume_target = if volume.is_finite() {
            volume.clamp(0.0, 1.0)
        } else {
            0.0
        };
    }

    /// Queues a prompt sound (mono, at `sample_rate`), mixed over the music at the volume,
    /// after any prompt still playing. It is resampled to the output rate and its first and
    /// last [`PROMPT_EDGE_MS`] are faded so it cannot click.
    pub fn play_prompt(&mut self, samples: &[i16], sample_rate: u32) {
        let mono: Vec<f32> = samples.iter().map(|&s| f32::from(s) / 32768.0).collect();
        let mut mono = sentio_audio::resample(&mono, sample_rate, self.rate);
        let edge = self.frames_of_ms(PROMPT_EDGE_MS).min(mono.len() / 2).max(1);
        let len = mono.len();
        for i in 0..edge.min(len) {
            let g = i as f32 / edge as f32;
            mono[i] *= g;
            mono[len - 1 - i] *= g;
        }
        let interleaved = mono
            .iter()
            .flat_map(|&x| std::iter::repeat_n(x, self.channels))
            .collect();
        self.prompts.push_back((interleaved, 0));
    }

    /// Renders the next `out.len() / channels` frames as 16-bit samples.
    pub fn render_i16(&mut self, out: &mut [i16]) {
        let mut buf = std::mem::take(&mut self.mix);
        buf.clear();
        buf.resize(out.len(), 0.0);
        self.render(&mut buf);
        for (o, &x) in out.iter_mut().zip(&buf) {
            *o = (x * 32767.0).round() as i16;
        }
        self.mix = buf;
    }

    /// Renders the next `out.len() / channels` frames (interleaved, within -1..=1). A trailing
    /// partial frame is set to 0.
    pub fn render(&mut self, out: &mut [f32]) {
        let ch = self.channels;
        let frames = out.len() / ch;
        out[frames * ch..].fill(0.0);
        let mut done = 0;
        while done < frames {
            self.apply_controls();
            self.update_mood();
            // Decode ahead first, so a track's end is known before deciding (the boundary
            // crossfade then starts exactly `crossfade_ms` before the end).
            let most = (frames - done).min(MAX_SEGMENT);
            self.fill_decks(most);
            self.decide();
            let n = most.min(self.frames_to_next_decision());
            // A track started by `decide` is decoded here; the others already hold enough.
            self.fill_decks(n);
            self.mix_segment(&mut out[done * ch..(done + n) * ch]);
            self.frame += n as u64;
            done += n;
            self.retire_decks();
        }
    }

    fn apply_controls(&mut self) {
        while let Some((at, _)) = self.controls.first() {
            if *at > self.frame {
                break;
            }
            let (at, control) = self.controls.remove(0);
            match control {
                Control::Mood(mood) => {
                    if mood != self.requested.0 {
                        self.requested = (mood, at);
                    }
                }
                Control::Speech(speaking) => self.speech = speaking,
                Control::Skip => self.skip_pending = true,
            }
        }
    }

    fn update_mood(&mut self) {
        if self.requested.0 != self.effective.0
            && self.frame >= self.requested.1 + self.frames_of_ms(self.config.min_dwell_ms) as u64
        {
            self.effective = self.requested.clone();
            self.gave_up_on = None;
        }
    }

    fn current(&self) -> Option<usize> {
        self.decks.iter().rposition(|d| !d.leaving)
    }

    fn decide(&mut self) {
        let ch = self.channels;
        let crossfade = self.frames_of_ms(self.config.crossfade_ms);
        let Some(i) = self.current() else {
            self.skip_pending = false;
            if self.gave_up_on.as_deref() != Some(self.effective.0.as_str()) {
                let fade = self.frames_of_ms(START_FADE_MS);
                self.start_track(fade);
            }
            return;
        };
        let crossfading = self.decks.len() > 1;
        if crossfading {
            return;
        }
        if self.skip_pending {
            self.skip_pending = false;
            let fade = self.frames_of_ms(self.config.skip_crossfade_ms);
            self.switch(i, SkipReason::Manual, fade);
            return;
        }
        let deck = &self.decks[i];
        if deck.ended && deck.frames(ch) <= crossfade {
            let why = self.decks[i].error.take().unwrap_or(SkipReason::EndOfTrack);
            let left = self.decks[i].frames(ch);
            self.switch(i, why, left);
            return;
        }
        let long_dwell = self.frames_of_ms(self.config.long_dwell_ms) as u64;
        if deck.mood != self.effective.0 && self.frame >= self.effective.1 + long_dwell {
            let mood = self.effective.0.clone();
            let same_playlist = self
                .playlist_for(&mood)
                .is_some_and(|(playlist, _)| playlist == self.decks[i].playlist);
            if same_playlist {
                // The new mood falls back to the music already playing: nothing to change.
                self.decks[i].mood = mood;
            } else {
                self.switch(i, SkipReason::Dwell, crossfade);
            }
        }
    }

    fn frames_to_next_decision(&self) -> usize {
        let now = self.frame;
        let mut next = u64::MAX;
        if let Some((at, _)) = self.controls.first() {
            next = next.min(*at);
        }
        if self.requested.0 != self.effective.0 {
            next = next.min(self.requested.1 + self.frames_of_ms(self.config.min_dwell_ms) as u64);
        }
        if let Some(i) = self.current() {
            let deck = &self.decks[i];
            let dwell_end = self.effective.1 + self.frames_of_ms(self.config.long_dwell_ms) as u64;
            // A deadline already passed (during a crossfade, which it waits for) is checked at
            // every step anyway; it must not shrink the steps to one frame.
            if deck.mood != self.effective.0 && dwell_end > now {
                next = next.min(dwell_end);
            }
            let crossfade = self.frames_of_ms(self.config.crossfade_ms);
            let left = deck.frames(self.channels);
            if deck.ended && left > crossfade {
                next = next.min(now + (left - crossfade) as u64);
            }
        }
        for deck in &self.decks {
            if deck.leaving {
                next = next.min(now + deck.fade_left() as u64);
            }
        }
        next.saturating_sub(now).max(1).min(usize::MAX as u64) as usize
    }

    /// Starts leaving deck `i` (fading out over `fade` frames, fewer if the track has fewer
    /// left) and starts the next track of the mood crossfading in.
    fn switch(&mut self, i: usize, why: SkipReason, fade: usize) {
        let t_ms = self.now_ms();
        let ch = self.channels;
        let deck = &mut self.decks[i];
        let available = if deck.ended { deck.frames(ch) } else { fade };
        let len = fade.min(available);
        self.events.push(TrackEvent::Skipped {
            t_ms,
            track: deck.track.clone(),
            why,
        });
        if len == 0 {
            let deck = self.decks.remove(i);
            self.events.push(TrackEvent::Ended {
                t_ms,
                track: deck.track,
            });
        } else {
            deck.leaving = true;
            deck.fade_from = deck.position();
            deck.fade_to = 0.0;
            deck.fade_pos = 0;
            deck.fade_len = len;
        }
        let fade = len.max(self.frames_of_ms(START_FADE_MS));
        self.start_track(fade);
    }

    /// The playable tracks for `mood`: its own, else the fallback mood's (saying so once).
    fn playlist_for(&mut self, mood: &str) -> Option<(String, Vec<PathBuf>)> {
        let reason = match self.config.folders.get(mood) {
            None => format!("no folder for {mood} in [music] folders"),
            Some(source) => match list_tracks(source) {
                Ok(tracks) => {
                    let tracks: Vec<PathBuf> = tracks
                        .into_iter()
                        .filter(|t| !self.broken.contains(t))
                        .collect();
                    if !tracks.is_empty() {
                        self.fallback_said.remove(mood);
                        return Some((mood.to_string(), tracks));
                    }
                    format!("{} has no playable track", source.display())
                }
                Err(e) => e.to_string(),
            },
        };
        let fallback = self.config.fallback_mood.clone();
        if mood == fallback {
            return None;
        }
        if self.fallback_said.insert(mood.to_string()) {
            self.events.push(TrackEvent::Fallback {
                t_ms: self.now_ms(),
                mood: mood.to_string(),
                to: fallback.clone(),
                reason,
            });
        }
        self.playlist_for(&fallback)
    }

    fn start_track(&mut self, fade: usize) {
        let mood = self.effective.0.clone();
        let t_ms = self.now_ms();
        for _ in 0..MAX_ATTEMPTS {
            let Some((playlist, tracks)) = self.playlist_for(&mood) else {
                break;
            };
            let recent = self.history.entry(playlist.clone()).or_default();
            let Some(pick) = choose(
                &tracks,
                recent,
                self.config.no_repeat as usize,
                &mut self.rng,
            )
            .cloned() else {
                break;
            };
            match self.open_deck(&pick, &mood, &playlist, fade) {
                Ok(deck) => {
                    let recent = self.history.entry(playlist.clone()).or_default();
                    recent.push_back(pick.clone());
                    while recent.len() > self.config.no_repeat as usize {
                        recent.pop_front();
                    }
                    self.events.push(TrackEvent::Started {
                        t_ms,
                        track: pick,
                        mood: mood.clone(),
                        playlist,
                        gain_db: 20.0 * deck.gain.log10(),
                        fade_ms: (fade as u64 * 1000 / u64::from(self.rate)) as u32,
                    });
                    self.decks.push(deck);
                    self.nothing_said.clear();
                    return;
                }
                Err(e) => {
                    self.broken.insert(pick.clone());
                    self.events.push(TrackEvent::Skipped {
                        t_ms,
                        track: pick,
                        why: SkipReason::decode_error(&e),
                    });
                }
            }
        }
        if self.nothing_said.insert(mood.clone()) {
            self.events.push(TrackEvent::NothingToPlay {
                t_ms,
                mood: mood.clone(),
            });
        }
        self.gave_up_on = Some(mood);
    }

    fn open_deck(
        &mut self,
        path: &Path,
        mood: &str,
        playlist: &str,
        fade: usize,
    ) -> Result<Deck, MusicError> {
        let lufs = self.cache.loudness(path, self.channels)?;
        let gain_db = lufs.map_or(0.0, |l| {
            (f64::from(self.config.target_lufs) - l)
                .clamp(-60.0, f64::from(self.config.max_gain_db))
        });
        let source = TrackSource::open(path, Some(self.rate), self.channels)?;
        Ok(Deck {
            track: path.to_path_buf(),
            mood: mood.to_string(),
            playlist: playlist.to_string(),
            source,
            fifo: VecDeque::new(),
            scratch: Vec::new(),
            ended: false,
            error: None,
            gain: db_to_gain(gain_db as f32),
            fade_from: 0.0,
            fade_to: 1.0,
            fade_pos: 0,
            fade_len: fade.max(1),
            leaving: false,
            lookahead: 0,
        })
    }

    fn fill_decks(&mut self, n: usize) {
        let ch = self.channels;
        for deck in &mut self.decks {
            let want = (n + if deck.leaving { 0 } else { deck.lookahead }) * ch;
            while !deck.ended && deck.fifo.len() < want {
                deck.scratch.clear();
                match deck.source.decode_more(&mut deck.scratch) {
                    Ok(more) => {
                        deck.fifo.extend(deck.scratch.drain(..));
                        deck.ended = !more;
                    }
                    Err(e) => {
                        deck.ended = true;
                        deck.error = Some(SkipReason::decode_error(&e));
                        self.broken.insert(deck.track.clone());
                    }
                }
            }
        }
    }

    fn mix_segment(&mut self, out: &mut [f32]) {
        let ch = self.channels;
        // One frame more than the crossfade is kept decoded, so the end of a track is known
        // while more than a crossfade of it is left.
        let lookahead = self.frames_of_ms(self.config.crossfade_ms) + 1;
        out.fill(0.0);
        for deck in &mut self.decks {
            deck.lookahead = (deck.lookahead + out.len() / ch).min(lookahead);
            for frame in out.chunks_exact_mut(ch) {
                let g = deck.gain * (deck.position() * FRAC_PI_2).sin();
                for y in frame.iter_mut() {
                    *y += deck.fifo.pop_front().unwrap_or(0.0) * g;
                }
                deck.fade_pos += 1;
            }
        }
        let depth = self.config.duck_depth_db;
        let (target, step) = if self.speech {
            (
                depth,
                depth / self.frames_of_ms(self.config.duck_attack_ms).max(1) as f32,
            )
        } else {
            (
                0.0,
                depth / self.frames_of_ms(self.config.duck_release_ms).max(1) as f32,
            )
        };
        let volume_step = 1.0 / self.frames_of_ms(VOLUME_RAMP_MS).max(1) as f32;
        for frame in out.chunks_exact_mut(ch) {
            self.duck_db = if self.duck_db < target {
                (self.duck_db + step).min(target)
            } else {
                (self.duck_db - step).max(target)
            };
            let duck = if self.duck_db > 0.0 {
                db_to_gain(-self.duck_db)
            } else {
                1.0
            };
            let dv = self.volume_target - self.volume;
            self.volume += dv.clamp(-volume_step, volume_step);
            let prompt = self.prompts.front_mut();
            let p: Option<&[f32]> = match prompt {
                Some((samples, pos)) if *pos + ch <= samples.len() => {
                    let s = &samples[*pos..*pos + ch];
                    *pos += ch;
                    Some(s)
                }
                _ => None,
            };
            for (c, y) in frame.iter_mut().enumerate() {
                let p = p.map_or(0.0, |s| s[c]);
                *y = ((*y * duck + p) * self.volume).clamp(-1.0, 1.0);
            }
            if let Some((samples, pos)) = self.prompts.front()
                && *pos + ch > samples.len()
            {
                self.prompts.pop_front();
            }
        }
    }

    fn retire_decks(&mut self) {
        let ch = self.channels;
        let t_ms = self.now_ms();
        let mut i = 0;
        while i < self.decks.len() {
            let deck = &mut self.decks[i];
            let faded_out = deck.leaving && deck.fade_left() == 0;
            let ran_out = deck.ended && deck.frames(ch) == 0;
            if faded_out || ran_out {
                if !deck.leaving {
                    let why = deck.error.take().unwrap_or(SkipReason::EndOfTrack);
                    self.events.push(TrackEvent::Skipped {
                        t_ms,
                        track: deck.track.clone(),
                        why,
                    });
                }
                let deck = self.decks.remove(i);
                self.events.push(TrackEvent::Ended {
                    t_ms,
                    track: deck.track,
                });
            } else {
                i += 1;
            }
        }
    }
}

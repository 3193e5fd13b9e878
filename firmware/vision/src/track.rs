//! Following one face between detections: the device detects every few frames (or at once when
//! it has no face), and in between keeps the largest face's track. Pure logic over boxes and
//! times, deterministic on a virtual clock.

use std::time::Duration;

use crate::face::FaceBox;

/// How the tracker behaves (the board profile's `[faces]` section sets these).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrackerConfig {
    /// Run the detector every this many frames while a face is tracked (1: every frame).
    pub detect_every: u32,
    /// A face not seen by the detector for this long ends its track.
    pub lost_after: Duration,
    /// A detection continues the track when its IoU with the track's box is at least this,
    /// or when its centre lies inside the track's box.
    pub match_iou: f32,
    /// Box smoothing: the new box is `alpha * detected + (1 - alpha) * previous` (1: no
    /// smoothing).
    pub smoothing: f32,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            detect_every: 3,
            lost_after: Duration::from_secs(2),
            match_iou: 0.3,
            smoothing: 0.6,
        }
    }
}

/// The face being followed.
#[derive(Clone, Debug, PartialEq)]
pub struct Track {
    /// Counts up from 1 over the tracker's life.
    pub id: u64,
    /// The smoothed box, in camera pixels.
    pub face: FaceBox,
    /// When the track started and when the detector last saw its face.
    pub started: Duration,
    pub last_seen: Duration,
}

/// What changed in one [`Tracker::update`].
#[derive(Clone, Debug, PartialEq)]
pub enum TrackChange {
    /// A new face is followed.
    Started(Track),
    /// The face of track `id` was not seen for [`TrackerConfig::lost_after`]; `face` is where
    /// it was last.
    Lost {
        id: u64,
        last_seen: Duration,
        face: FaceBox,
    },
}

/// Follows the largest face.
#[derive(Clone, Debug)]
pub struct Tracker {
    config: TrackerConfig,
    track: Option<Track>,
    next_id: u64,
    frames_since_detect: u32,
}

impl Tracker {
    pub fn new(config: TrackerConfig) -> Self {
        Self {
            config,
            track: None,
            next_id: 1,
            frames_since_detect: u32::MAX,
        }
    }

    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// Whether the detector should run on this frame: every [`TrackerConfig::detect_every`]
    /// frames while a face is tracked, and on every frame while none is.
    pub fn wants_detection(&self) -> bool {
        self.track.is_none() || self.frames_since_detect >= self.config.detect_every.max(1)
    }

    /// The face being followed.
    pub fn current(&self) -> Option<&Track> {
        self.track.as_ref()
    }

    /// Takes one frame at `now`: `detections` are the detector's faces when it ran on this
    /// frame, `None` when it did not. Returns what changed (a lost track comes before the
    /// track that replaces it).
    pub fn update(&mut self, now: Duration, detections: Option<&[FaceBox]>) -> Vec<TrackChange> {
        let mut changes = Vec::new();
        match detections {
            None => self.frames_since_detect = self.frames_since_detect.saturating_add(1),
            Some(faces) => {
                self.frames_since_detect = 1;
                let matched = self.track.as_ref().and_then(|t| {
                    faces
                        .iter()
                        .filter(|f| continues(&t.face, f, self.config.match_iou))
                        .max_by(|a, b| t.face.iou(a).total_cmp(&t.face.iou(b)))
                });
                if let (Some(track), Some(face)) = (self.track.as_mut(), matched) {
                    track.face = blend(&track.face, face, self.config.smoothing);
                    track.last_seen = now;
                } else if self.track.is_none()
                    && let Some(largest) = faces.iter().max_by(|a, b| a.area().total_cmp(&b.area()))
                {
                    changes.push(TrackChange::Started(self.start(now, largest)));
                }
            }
        }
        if let Some(track) = &self.track
            && now.saturating_sub(track.last_seen) >= self.config.lost_after
        {
            changes.push(TrackChange::Lost {
                id: track.id,
                last_seen: track.last_seen,
                face: track.face.clone(),
            });
            self.track = None;
        }
        changes
    }

    fn start(&mut self, now: Duration, face: &FaceBox) -> Track {
        let track = Track {
            id: self.next_id,
            face: face.clone(),
            started: now,
            last_seen: now,
        };
        self.next_id += 1;
        self.track = Some(track.clone());
        track
    }
}

/// Whether `face` is the same face as `track` one detection later.
fn continues(track: &FaceBox, face: &FaceBox, min_iou: f32) -> bool {
    let [cx, cy] = face.center();
    track.iou(face) >= min_iou
        || (cx >= track.x && cx <= track.x + track.w && cy >= track.y && cy <= track.y + track.h)
}

fn blend(old: &FaceBox, new: &FaceBox, alpha: f32) -> FaceBox {
    let a = alpha.clamp(0.0, 1.0);
    let mix = |o: f32, n: f32| a * n + (1.0 - a) * o;
    let keypoints = if old.keypoints.len() == new.keypoints.len() {
        old.keypoints
            .iter()
            .zip(&new.keypoints)
            .map(|(o, n)| [mix(o[0], n[0]), mix(o[1], n[1])])
            .collect()
    } else {
        new.keypoints.clone()
    };
    FaceBox {
        x: mix(old.x, new.x),
        y: mix(old.y, new.y),
        w: mix(old.w, new.w),
        h: mix(old.h, new.h),
        score: new.score,
        keypoints,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn face(x: f32, w: f32) -> FaceBox {
        FaceBox::new(x, 50.0, w, w, 1.0)
    }

    #[test]
    fn follows_the_largest_face_and_detects_every_few_frames() {
        let mut t = Tracker::new(TrackerConfig::default());
        assert!(t.wants_detection());
        let changes = t.update(ms(0), Some(&[face(10.0, 20.0), face(200.0, 80.0)]));
        assert!(
            matches!(&changes[..], [TrackChange::Started(tr)] if tr.id == 1 && tr.face.w == 80.0)
        );
        // Between detections the track stays; the detector runs again on the 3rd frame.
        assert!(t.update(ms(66), None).is_empty());
        assert!(!t.wants_detection());
        assert!(t.update(ms(133), None).is_empty());
        assert!(t.wants_detection());
        // The face moved a little: same track, smoothed box.
        assert!(t.update(ms(200), Some(&[face(210.0, 80.0)])).is_empty());
        let tr = t.current().map(|tr| (tr.id, tr.face.x)).unwrap_or_default();
        assert_eq!(tr.0, 1);
        assert!((tr.1 - 206.0).abs() < 1e-4, "{}", tr.1);
    }

    #[test]
    fn a_face_unseen_for_two_seconds_ends_its_track() {
        let mut t = Tracker::new(TrackerConfig::default());
        t.update(ms(0), Some(&[face(100.0, 60.0)]));
        // Missed detections for 1.9 s keep the track.
        for i in 1..=19 {
            assert!(t.update(ms(i * 100), Some(&[])).is_empty(), "at {i}");
        }
        let changes = t.update(ms(2000), Some(&[]));
        assert_eq!(
            changes,
            vec![TrackChange::Lost {
                id: 1,
                last_seen: ms(0),
                face: face(100.0, 60.0),
            }]
        );
        assert!(t.current().is_none() && t.wants_detection());
        // The next face starts track 2.
        let changes = t.update(ms(2100), Some(&[face(300.0, 50.0)]));
        assert!(matches!(&changes[..], [TrackChange::Started(tr)] if tr.id == 2));
    }

    #[test]
    fn another_face_does_not_steal_a_live_track() {
        let mut t = Tracker::new(TrackerConfig::default());
        t.update(ms(0), Some(&[face(100.0, 60.0)]));
        assert!(t.update(ms(500), Some(&[face(400.0, 90.0)])).is_empty());
        assert_eq!(t.current().map(|tr| tr.face.x), Some(100.0));
    }
}

//! `sentio-data`: the datasets the models are trained and evaluated on.
//!
//! - [`synth`]: procedural generators: hand-drawn emoji ([`synth::emoji`], `emoji8`, 64x64)
//!   and faces ([`synth::faces`], `fer7`, 48x48), pure functions of a seed; [`synth::draw_emoji`]
//!   and [`synth::draw_face`] make single images in memory. Speech ([`synth::speech`], `ser8`,
//!   16 kHz WAV) spoken by espeak-ng with per-emotion prosody, many voices and augmentation.
//! - [`import`]: importers for the public formats (FER2013's CSV, any folder of images; the
//!   speech sets RAVDESS, TESS, CREMA-D, SAVEE) and the file-name label mapping of the speech
//!   sets; `docs/datasets.md` spells out every mapping.
//! - [`ImageFolder`]: the one layout every image dataset is stored in
//!   (`DIR/<label>/<stem>.png` + `DIR/dataset.json`), and loading its images as `f32` pixels.
//! - [`AudioFolder`]: the same for speech (`DIR/<label>/<stem>.wav`, 16 kHz mono 16-bit), with
//!   each clip's speaker, and loading clips as 16 kHz `f32` samples. WAV decoding, writing and
//!   resampling are `sentio-audio`'s.
//! - [`SceneSet`]: multi-label image sets (`DIR/labels.jsonl` + `DIR/images/*.png`; the kiosk
//!   scenes of [`synth::scenes`], `anp32`), loading images as planar RGB `f32`.
//! - [`split`]: deterministic stratified splits, and splits by speaker/voice.
//!
//! What it must not do: print or draw progress (callers get a callback), touch the network,
//! depend on system libraries (espeak-ng is an optional program, run only by the speech
//! generator), or panic on any file it reads. A failed or interrupted write
//! leaves no partial dataset behind (datasets are built beside their destination and renamed
//! into place). Training and models live elsewhere (`sentio-train`); label sets are
//! `sentio-models`'s.
//!
//! ```
//! use sentio_data::{ImageFolder, split, synth};
//!
//! let dir = tempfile::tempdir()?;
//! let out = dir.path().join("emoji");
//! let summary = synth::emoji(&out, 3, 42, &mut |_done, _total| {})?;
//! assert_eq!(summary.info.total(), 24);
//!
//! let data = ImageFolder::open(&out)?;
//! assert_eq!(data.labels[1], "heart_eyes");
//! let pixels = data.load_gray(0, 32, 32)?;
//! assert_eq!(pixels.len(), 32 * 32);
//!
//! let parts = split::stratified(&data.targets(), 0.34, 0.34, 7);
//! assert_eq!(parts.train.len() + parts.val.len() + parts.test.len(), 24);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod audiofolder;
mod error;
mod folder;
pub mod import;
pub mod raster;
pub mod rng;
mod sceneset;
pub mod split;
pub mod synth;

use std::path::PathBuf;

pub use audiofolder::{AUDIO_EXTENSIONS, AudioFolder, AudioSample, SAMPLE_RATE, speaker_of};
pub use error::DataError;
pub use folder::ImageDir;
pub use folder::{
    DatasetInfo, IMAGE_EXTENSIONS, INFO_FILE, INFO_VERSION, ImageFolder, Sample, SpeakerInfo,
    gray_to_f32,
};
pub use import::{BadRows, ImportReport, SkippedRow};
pub use sceneset::{LABELS_FILE, SCENE_IMAGES_DIR, SceneSample, SceneSet, rgb_to_planar};

/// What a generator wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetSummary {
    /// The dataset folder.
    pub root: PathBuf,
    /// Its `dataset.json`.
    pub info: DatasetInfo,
}

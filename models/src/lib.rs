//! Model manifests, model bundles and their signing keys.
//!
//! - [`Manifest`]: what a model is (name, version, task, labels, input shape and preprocessing,
//!   precision, the model file's SHA-256 and size, training and evaluation summaries), as JSON
//!   that keeps fields it does not know.
//! - [`Bundle`]: one file carrying manifest + model (+ calibration set), a SHA-256 per section
//!   and an optional ed25519 signature; [`Bundle::pack`], [`sign`], [`BundleView::parse`],
//!   [`verify`], and [`verify_reader`] / [`verify_file`] for files too big to hold twice.
//!   `docs/bundle.md` gives the layout byte by byte.
//! - [`keys`]: key generation and the small text files keys are kept in.
//! - [`labels`]: the label sets ([`EMOJI8`], [`FER7`], [`SER8`]) every model and dataset uses.
//!
//! The host tool packs, signs and inspects bundles with this crate; the device's store verifies
//! them with it before a model may run. What this crate must not do: print, touch the network
//! or any device, or panic on any byte of a bundle or key file (bundles come over a serial line
//! from whoever is at the other end). It only reads files where a function says so
//! ([`verify_file`], [`keys`]).
//!
//! ```
//! use sentio_models::*;
//!
//! let manifest = Manifest::new(
//!     "fer",
//!     "1.0.0",
//!     Task::Fer,
//!     LabelSpec::new("fer7", &["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]),
//!     InputSpec {
//!         shape: vec![1, 1, 48, 48],
//!         dtype: DType::F32,
//!         preprocessing: Preprocessing::gray48(),
//!         extra: Figures::new(),
//!     },
//!     Precision::F32,
//! );
//! let (secret, public) = keys::generate()?;
//! let bundle = Bundle::sign(&Bundle::pack(&manifest, b"onnx bytes", None)?, &secret)?;
//!
//! let view = BundleView::parse(&bundle)?;
//! assert_eq!(view.model(), b"onnx bytes");
//! assert_eq!(view.manifest().model_size, 10);
//! let verified = verify(&view, Some(&public), SignaturePolicy::RequireSigned)?;
//! assert_eq!(verified, Verified::Signed { key_id: KeyId::of(&public) });
//!
//! // The same check, streaming, also gives the SHA-256 a link transfer announces.
//! let checked = verify_reader(&bundle[..], Some(&public), SignaturePolicy::RequireSigned)?;
//! assert_eq!(checked.file_sha256, bundle_sha256(&bundle));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod anp;
mod bundle;
pub mod keys;
pub mod labels;
pub mod manifest;

pub use anp::{ANP32, ANPS, Anp, AnpCategory};
pub use bundle::{
    Bundle, BundleError, BundleView, ENTRY_LEN, FLAG_SIGNED, FORMAT_VERSION, HEADER_LEN,
    HashedPart, MAGIC, MAX_MANIFEST_LEN, MAX_SECTIONS, Section, SectionKind, Sha256Digest,
    SignaturePolicy, SignatureTrailer, TRAILER_LEN, TRAILER_MAGIC, Verified, VerifiedFile,
    bundle_sha256, sha256, sign, verify, verify_file, verify_reader,
};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use keys::{KeyError, KeyId};
pub use labels::{EMOJI8, FER7, LabelSet, MOOD, SER8};
pub use manifest::{
    DType, Figures, InputSpec, LabelSpec, Manifest, ManifestError, Precision, Preprocessing, Task,
};

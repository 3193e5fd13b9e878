//! The bundle: one file carrying a manifest, a model and an optional calibration set, with a
//! SHA-256 per section and an optional ed25519 signature. `docs/bundle.md` gives the layout byte
//! by byte; in short (integers little-endian):
//!
//! ```text
//! header    16 B   "SNTBNDL1", format version u16 (1), section count u16, flags u16, 0u16
//! table     56 B × count: kind u32, 0u32, offset u64, length u64, sha256 [32]
//! index     32 B   sha256(header ‖ table)
//! sections         manifest JSON, model, [calibration], contiguous, in table order
//! trailer   80 B   only if flag SIGNED: "SNTSIG01", key id [8], ed25519 signature [64]
//!                  of sha256(every byte before the trailer)
//! ```
//!
//! [`Bundle::pack`] writes one, [`sign`] adds (or replaces) the signature, [`BundleView::parse`]
//! reads one in memory without copying, [`verify`] checks its hashes and signature, and
//! [`verify_reader`] / [`verify_file`] do both in one streaming pass over a file too big to
//! hold in memory. None of them panics on any input.

use std::fmt;
use std::io::{self, Read};
use std::path::Path;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::keys::KeyId;
use crate::manifest::{Manifest, ManifestError};

/// First 8 bytes of every bundle.
pub const MAGIC: [u8; 8] = *b"SNTBNDL1";
/// The layout version this crate writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Bytes of the fixed header.
pub const HEADER_LEN: usize = 16;
/// Bytes of one section table entry.
pub const ENTRY_LEN: usize = 56;
/// Most sections in a bundle.
pub const MAX_SECTIONS: usize = 16;
/// Largest manifest section, in bytes.
pub const MAX_MANIFEST_LEN: u64 = 1 << 20;
/// First 8 bytes of the signature trailer.
pub const TRAILER_MAGIC: [u8; 8] = *b"SNTSIG01";
/// Bytes of the signature trailer.
pub const TRAILER_LEN: usize = 80;
/// Header flag: a signature trailer follows the sections.
pub const FLAG_SIGNED: u16 = 1;

/// A SHA-256 digest.
pub type Sha256Digest = [u8; 32];

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Sha256Digest {
    Sha256::digest(bytes).into()
}

/// SHA-256 of a whole bundle file: what a link `BeginTransfer` announces and the device checks.
pub fn bundle_sha256(bytes: &[u8]) -> Sha256Digest {
    sha256(bytes)
}

/// What a section holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SectionKind {
    /// The manifest, UTF-8 JSON (kind 1; exactly one, first).
    Manifest,
    /// The model file, e.g. ONNX (kind 2; exactly one).
    Model,
    /// Calibration data for on-device quantization (kind 3; at most one).
    Calibration,
    /// A kind from a newer format: its hash is checked, its bytes are otherwise ignored.
    Unknown(u32),
}

impl SectionKind {
    /// The number in the section table.
    pub const fn code(self) -> u32 {
        match self {
            Self::Manifest => 1,
            Self::Model => 2,
            Self::Calibration => 3,
            Self::Unknown(code) => code,
        }
    }

    /// The kind for a table number.
    pub const fn from_code(code: u32) -> Self {
        match code {
            1 => Self::Manifest,
            2 => Self::Model,
            3 => Self::Calibration,
            other => Self::Unknown(other),
        }
    }
}

impl fmt::Display for SectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Manifest => f.write_str("manifest"),
            Self::Model => f.write_str("model"),
            Self::Calibration => f.write_str("calibration"),
            Self::Unknown(code) => write!(f, "section kind {code}"),
        }
    }
}

/// Which hash failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashedPart {
    /// The index hash over header and section table.
    Index,
    /// A section's hash.
    Section(SectionKind),
}

impl fmt::Display for HashedPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Index => f.write_str("header and section table"),
            Self::Section(kind) => write!(f, "{kind} section"),
        }
    }
}

/// One entry of the section table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    /// What it holds.
    pub kind: SectionKind,
    /// Where it starts, from the start of the file.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u64,
    /// SHA-256 of its bytes.
    pub sha256: Sha256Digest,
}

/// The signature trailer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureTrailer {
    /// Which key signed (first 8 bytes of the SHA-256 of the public key).
    pub key_id: KeyId,
    /// The ed25519 signature of the SHA-256 of every byte before the trailer.
    pub signature: [u8; 64],
}

/// Whether a bundle must be signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignaturePolicy {
    /// Unsigned bundles pass; a signed one is checked when a key is given.
    AllowUnsigned,
    /// The bundle must be signed, with the key given.
    RequireSigned,
}

/// What verification established (every hash matched in each case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verified {
    /// No signature; allowed by the policy.
    Unsigned,
    /// Signed, and the signature verifies with the key given.
    Signed {
        /// The signer.
        key_id: KeyId,
    },
    /// Signed, but no key was given, so the signature was not checked.
    SignedUnchecked {
        /// The key id the trailer names.
        key_id: KeyId,
    },
}

impl fmt::Display for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsigned => f.write_str("hashes OK, unsigned"),
            Self::Signed { key_id } => write!(f, "hashes OK, signature OK (key {key_id})"),
            Self::SignedUnchecked { key_id } => write!(
                f,
                "hashes OK, signed by key {key_id} (signature not checked: no public key given)"
            ),
        }
    }
}

/// Why a bundle was refused.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BundleError {
    /// The file ends before the layout does.
    #[error("bundle truncated: the layout needs {needed} bytes, the file has {have}")]
    #[diagnostic(
        code(data::models::truncated),
        help("copy or flash the whole file again")
    )]
    Truncated {
        /// Bytes the layout needs.
        needed: u64,
        /// Bytes there are.
        have: u64,
    },
    /// Not a bundle at all.
    #[error("not a Sentio bundle (it does not start with \"SNTBNDL1\")")]
    #[diagnostic(
        code(data::models::bad_magic),
        help("pack one with `sentio bundle pack`")
    )]
    BadMagic,
    /// A layout version this crate does not know.
    #[error("bundle format version {version} is not supported (this build reads version 1)")]
    #[diagnostic(code(data::models::unsupported_version), help("update sentio"))]
    UnsupportedVersion {
        /// The version in the header.
        version: u16,
    },
    /// The header or the section table breaks a rule of the layout.
    #[error("malformed bundle: {0}")]
    #[diagnostic(
        code(data::models::layout),
        help("re-pack it with `sentio bundle pack`")
    )]
    Layout(String),
    /// A hash does not match: the bytes were altered or damaged.
    #[error("{part} does not match its SHA-256: the bundle was altered or damaged")]
    #[diagnostic(code(data::models::hash_mismatch), help("re-pack or copy it again"))]
    HashMismatch {
        /// Which hash.
        part: HashedPart,
    },
    /// The manifest is not valid.
    #[error("bundle manifest: {0}")]
    #[diagnostic(code(data::models::manifest))]
    Manifest(
        #[from]
        #[diagnostic_source]
        ManifestError,
    ),
    /// The manifest describes another model than the one in the bundle.
    #[error("the manifest's {field} does not match the model section")]
    #[diagnostic(code(data::models::manifest_mismatch), help("re-pack the bundle"))]
    ManifestMismatch {
        /// `model_sha256` or `model_size`.
        field: &'static str,
    },
    /// The signature does not verify with the key.
    #[error("bad signature: the bundle was altered after signing, or the signature is damaged")]
    #[diagnostic(code(data::models::bad_signature), help("re-pack and sign it"))]
    BadSignature,
    /// Signed with another key than the one given.
    #[error("signed with key {found}, but the key given is {expected}")]
    #[diagnostic(
        code(data::models::unknown_key),
        help("sign it with the right key or give the right public key")
    )]
    UnknownKey {
        /// The key id in the trailer.
        found: KeyId,
        /// The id of the key given.
        expected: KeyId,
    },
    /// Unsigned, and the policy requires a signature.
    #[error("the bundle is not signed and a signature is required")]
    #[diagnostic(
        code(data::models::unsigned_refused),
        help("sign it with `sentio bundle pack --key` or `sentio bundle sign`")
    )]
    UnsignedRefused,
    /// The policy requires a signature but no key was given to check it with.
    #[error("a signature is required but no public key was given to check it")]
    #[diagnostic(code(data::models::key_required), help("pass the public key file"))]
    KeyRequired,
    /// Reading the file failed.
    #[error("reading the bundle failed: {0}")]
    #[diagnostic(code(data::models::io))]
    Io(#[source] io::Error),
}

impl BundleError {
    fn layout(reason: impl Into<String>) -> Self {
        Self::Layout(reason.into())
    }
}

/// Packing bundles.
#[derive(Clone, Copy, Debug)]
pub struct Bundle;

impl Bundle {
    /// An unsigned bundle of `manifest` (its `model_sha256` and `model_size` are filled in from
    /// `model`), `model` and an optional calibration set. Fails only on an invalid manifest.
    pub fn pack(
        manifest: &Manifest,
        model: &[u8],
        calibration: Option<&[u8]>,
    ) -> Result<Vec<u8>, BundleError> {
        let mut manifest = manifest.clone();
        manifest.model_sha256 = sha256(model);
        manifest.model_size = model.len() as u64;
        manifest.validate()?;
        let json = manifest.to_json()?;
        if json.len() as u64 > MAX_MANIFEST_LEN {
            return Err(BundleError::layout(format!(
                "the manifest is {} bytes, at most {MAX_MANIFEST_LEN} are allowed (keep training and eval summaries short)",
                json.len()
            )));
        }
        let mut sections = vec![
            (SectionKind::Manifest, json.as_bytes()),
            (SectionKind::Model, model),
        ];
        if let Some(calibration) = calibration {
            sections.push((SectionKind::Calibration, calibration));
        }
        Ok(write_sections(&sections))
    }

    /// Same as [`sign`].
    pub fn sign(bytes: &[u8], key: &SigningKey) -> Result<Vec<u8>, BundleError> {
        sign(bytes, key)
    }
}

/// Writes a bundle of `sections` (unsigned). The caller puts the manifest first.
pub(crate) fn write_sections(sections: &[(SectionKind, &[u8])]) -> Vec<u8> {
    let count = sections.len();
    let data_start = HEADER_LEN + ENTRY_LEN * count + 32;
    let total = data_start + sections.iter().map(|(_, b)| b.len()).sum::<usize>();
    let mut out = Vec::with_capacity(total + TRAILER_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(count as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    let mut offset = data_start as u64;
    for (kind, bytes) in sections {
        out.extend_from_slice(&kind.code().to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(&sha256(bytes));
        offset += bytes.len() as u64;
    }
    let index = sha256(&out);
    out.extend_from_slice(&index);
    for (_, bytes) in sections {
        out.extend_from_slice(bytes);
    }
    out
}

/// Signs a bundle with `key`: sets the SIGNED flag, then appends the trailer (replacing an
/// existing signature). Checks the bundle's hashes first, so a damaged bundle is never signed.
pub fn sign(bytes: &[u8], key: &SigningKey) -> Result<Vec<u8>, BundleError> {
    let view = BundleView::parse(bytes)?;
    verify(&view, None, SignaturePolicy::AllowUnsigned)?;
    let index_len = view.index_len;
    let mut out = view.body().to_vec();
    let flags = view.flags | FLAG_SIGNED;
    out[12..14].copy_from_slice(&flags.to_le_bytes());
    let index = sha256(&out[..index_len - 32]);
    out[index_len - 32..index_len].copy_from_slice(&index);
    let digest = sha256(&out);
    let signature = key.sign(&digest);
    out.extend_from_slice(&TRAILER_MAGIC);
    out.extend_from_slice(&KeyId::of(&key.verifying_key()).0);
    out.extend_from_slice(&signature.to_bytes());
    Ok(out)
}

/// Reads a little-endian integer of N bytes at `at` of a slice known to be long enough.
fn le<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = bytes.get(at..at + N) {
        out.copy_from_slice(src);
    }
    out
}

/// Checks the fixed header; returns (section count, flags).
fn parse_header(header: &[u8]) -> Result<(usize, u16), BundleError> {
    if header.len() < HEADER_LEN {
        return Err(BundleError::Truncated {
            needed: HEADER_LEN as u64,
            have: header.len() as u64,
        });
    }
    if header[..8] != MAGIC {
        return Err(BundleError::BadMagic);
    }
    let version = u16::from_le_bytes(le(header, 8));
    if version != FORMAT_VERSION {
        return Err(BundleError::UnsupportedVersion { version });
    }
    let count = usize::from(u16::from_le_bytes(le(header, 10)));
    if !(2..=MAX_SECTIONS).contains(&count) {
        return Err(BundleError::layout(format!(
            "{count} sections; 2 to {MAX_SECTIONS} allowed"
        )));
    }
    let flags = u16::from_le_bytes(le(header, 12));
    Ok((count, flags))
}

/// Bytes of header, table and index hash for `count` sections.
const fn index_len(count: usize) -> usize {
    HEADER_LEN + ENTRY_LEN * count + 32
}

/// The checked header and table.
struct Index {
    flags: u16,
    sections: Vec<Section>,
    /// End of the last section: the bytes the signature covers.
    body_len: u64,
}

impl Index {
    fn signed(&self) -> bool {
        self.flags & FLAG_SIGNED != 0
    }

    /// Length of the whole file.
    fn file_len(&self) -> u64 {
        if self.signed() {
            self.body_len + TRAILER_LEN as u64
        } else {
            self.body_len
        }
    }
}

/// Checks header, table and index hash; `bytes` holds exactly `index_len(count)` bytes.
fn parse_index(bytes: &[u8], count: usize, flags: u16) -> Result<Index, BundleError> {
    let table_end = bytes.len().saturating_sub(32);
    if sha256(&bytes[..table_end])[..] != bytes[table_end..] {
        return Err(BundleError::HashMismatch {
            part: HashedPart::Index,
        });
    }
    if flags & !FLAG_SIGNED != 0 {
        return Err(BundleError::layout(format!(
            "unknown header flags {flags:#06x} (written by a newer sentio?)"
        )));
    }
    if u16::from_le_bytes(le(bytes, 14)) != 0 {
        return Err(BundleError::layout(
            "reserved header bytes 14..16 are not 0",
        ));
    }
    let mut sections = Vec::with_capacity(count);
    let mut next = bytes.len() as u64;
    for i in 0..count {
        let at = HEADER_LEN + i * ENTRY_LEN;
        let kind = SectionKind::from_code(u32::from_le_bytes(le(bytes, at)));
        if u32::from_le_bytes(le(bytes, at + 4)) != 0 {
            return Err(BundleError::layout(format!(
                "reserved bytes of section {i} are not 0"
            )));
        }
        let offset = u64::from_le_bytes(le(bytes, at + 8));
        let len = u64::from_le_bytes(le(bytes, at + 16));
        let sha256 = le(bytes, at + 24);
        if offset != next {
            return Err(BundleError::layout(format!(
                "section {i} starts at {offset}, expected {next} (sections are contiguous)"
            )));
        }
        next = offset
            .checked_add(len)
            .ok_or_else(|| BundleError::layout(format!("section {i} length {len} overflows")))?;
        let seen = |k: SectionKind| sections.iter().any(|s: &Section| s.kind == k);
        match kind {
            SectionKind::Manifest if i != 0 => {
                return Err(BundleError::layout(
                    "the manifest must be the first section",
                ));
            }
            SectionKind::Manifest if len > MAX_MANIFEST_LEN => {
                return Err(BundleError::layout(format!(
                    "manifest of {len} bytes, at most {MAX_MANIFEST_LEN} allowed"
                )));
            }
            SectionKind::Model | SectionKind::Calibration if seen(kind) => {
                return Err(BundleError::layout(format!("two {kind} sections")));
            }
            _ if i == 0 && kind != SectionKind::Manifest => {
                return Err(BundleError::layout("the first section is not the manifest"));
            }
            _ => {}
        }
        sections.push(Section {
            kind,
            offset,
            len,
            sha256,
        });
    }
    if !sections.iter().any(|s| s.kind == SectionKind::Model) {
        return Err(BundleError::layout("no model section"));
    }
    if next.checked_add(TRAILER_LEN as u64).is_none() {
        return Err(BundleError::layout("sections too long"));
    }
    Ok(Index {
        flags,
        sections,
        body_len: next,
    })
}

/// A bundle in memory, checked for structure, with its parts as slices of the input.
///
/// [`parse`](Self::parse) checks the header, the section table and its hash, every offset and
/// length, the trailer's presence and the manifest (its hash, then its JSON and rules); the
/// other sections' hashes and the signature are checked by [`verify`].
#[derive(Clone, Debug)]
pub struct BundleView<'a> {
    bytes: &'a [u8],
    flags: u16,
    index_len: usize,
    body_len: usize,
    sections: Vec<Section>,
    manifest_json: &'a [u8],
    manifest: Manifest,
    model: &'a [u8],
    calibration: Option<&'a [u8]>,
    signature: Option<SignatureTrailer>,
}

impl<'a> BundleView<'a> {
    /// Parses `bytes` (see the type's documentation). Never panics.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, BundleError> {
        let have = bytes.len() as u64;
        let (count, flags) = parse_header(bytes)?;
        let index_len = index_len(count);
        let index_bytes = bytes.get(..index_len).ok_or(BundleError::Truncated {
            needed: index_len as u64,
            have,
        })?;
        let index = parse_index(index_bytes, count, flags)?;
        let file_len = index.file_len();
        if have < file_len {
            return Err(BundleError::Truncated {
                needed: file_len,
                have,
            });
        }
        if have > file_len {
            return Err(BundleError::layout(format!(
                "{} bytes after the end of the bundle",
                have - file_len
            )));
        }
        let slice = |s: &Section| -> Result<&'a [u8], BundleError> {
            let start = usize::try_from(s.offset).ok();
            let end = usize::try_from(s.offset.saturating_add(s.len)).ok();
            start
                .zip(end)
                .and_then(|(start, end)| bytes.get(start..end))
                .ok_or(BundleError::Truncated {
                    needed: s.offset.saturating_add(s.len),
                    have,
                })
        };
        let mut manifest_json: &[u8] = &[];
        let mut model: &[u8] = &[];
        let mut calibration = None;
        for section in &index.sections {
            match section.kind {
                SectionKind::Manifest => manifest_json = slice(section)?,
                SectionKind::Model => model = slice(section)?,
                SectionKind::Calibration => calibration = Some(slice(section)?),
                SectionKind::Unknown(_) => {}
            }
        }
        let manifest_section = index.sections.first().copied();
        if manifest_section.is_some_and(|s| sha256(manifest_json) != s.sha256) {
            return Err(BundleError::HashMismatch {
                part: HashedPart::Section(SectionKind::Manifest),
            });
        }
        let manifest = Manifest::from_slice(manifest_json)?;
        let body_len = usize::try_from(index.body_len).map_err(|_| BundleError::Truncated {
            needed: index.body_len,
            have,
        })?;
        let signature = if index.signed() {
            Some(parse_trailer(bytes.get(body_len..).unwrap_or_default())?)
        } else {
            None
        };
        Ok(Self {
            bytes,
            flags,
            index_len,
            body_len,
            sections: index.sections,
            manifest_json,
            manifest,
            model,
            calibration,
            signature,
        })
    }

    /// The whole bundle.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Every byte before the signature trailer (what the signature covers).
    pub fn body(&self) -> &'a [u8] {
        self.bytes.get(..self.body_len).unwrap_or_default()
    }

    /// The layout version.
    pub fn format_version(&self) -> u16 {
        FORMAT_VERSION
    }

    /// The section table.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest as stored (JSON bytes).
    pub fn manifest_json(&self) -> &'a [u8] {
        self.manifest_json
    }

    /// The model bytes.
    pub fn model(&self) -> &'a [u8] {
        self.model
    }

    /// The calibration set, if the bundle has one.
    pub fn calibration(&self) -> Option<&'a [u8]> {
        self.calibration
    }

    /// The signature trailer, if the bundle is signed.
    pub fn signature(&self) -> Option<&SignatureTrailer> {
        self.signature.as_ref()
    }

    /// SHA-256 of the whole file.
    pub fn sha256(&self) -> Sha256Digest {
        sha256(self.bytes)
    }
}

impl fmt::Display for BundleView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.manifest;
        writeln!(
            f,
            "bundle     format {}, {} bytes, sha256 {}",
            FORMAT_VERSION,
            self.bytes.len(),
            hex::encode(self.sha256())
        )?;
        match &self.signature {
            Some(sig) => writeln!(f, "signature  key {}", sig.key_id)?,
            None => writeln!(f, "signature  none (unsigned)")?,
        }
        writeln!(f, "model      {} {} (task {})", m.name, m.version, m.task)?;
        writeln!(
            f,
            "labels     {}: {}",
            m.labels.set,
            m.labels.labels.join(", ")
        )?;
        writeln!(
            f,
            "input      {:?} {:?}, preprocessing {}",
            m.input.shape, m.input.dtype, m.input.preprocessing.kind
        )?;
        writeln!(f, "precision  {:?}", m.precision)?;
        writeln!(f, "sections")?;
        for s in &self.sections {
            writeln!(
                f,
                "  {:<12} offset {:>10}  length {:>10}  sha256 {}",
                s.kind.to_string(),
                s.offset,
                s.len,
                hex::encode(s.sha256)
            )?;
        }
        Ok(())
    }
}

fn parse_trailer(bytes: &[u8]) -> Result<SignatureTrailer, BundleError> {
    if bytes.len() != TRAILER_LEN {
        return Err(BundleError::Truncated {
            needed: TRAILER_LEN as u64,
            have: bytes.len() as u64,
        });
    }
    if bytes[..8] != TRAILER_MAGIC {
        return Err(BundleError::layout(
            "the signature trailer does not start with \"SNTSIG01\"",
        ));
    }
    Ok(SignatureTrailer {
        key_id: KeyId(le(bytes, 8)),
        signature: le(bytes, 16),
    })
}

/// Checks the signature against the policy; `body_digest` is the SHA-256 of the body.
fn check_signature(
    trailer: Option<&SignatureTrailer>,
    body_digest: &Sha256Digest,
    key: Option<&VerifyingKey>,
    policy: SignaturePolicy,
) -> Result<Verified, BundleError> {
    match (trailer, key, policy) {
        (None, _, SignaturePolicy::RequireSigned) => Err(BundleError::UnsignedRefused),
        (None, _, SignaturePolicy::AllowUnsigned) => Ok(Verified::Unsigned),
        (Some(_), None, SignaturePolicy::RequireSigned) => Err(BundleError::KeyRequired),
        (Some(t), None, SignaturePolicy::AllowUnsigned) => {
            Ok(Verified::SignedUnchecked { key_id: t.key_id })
        }
        (Some(t), Some(key), _) => {
            let expected = KeyId::of(key);
            if t.key_id != expected {
                return Err(BundleError::UnknownKey {
                    found: t.key_id,
                    expected,
                });
            }
            key.verify_strict(body_digest, &Signature::from_bytes(&t.signature))
                .map_err(|_| BundleError::BadSignature)?;
            Ok(Verified::Signed { key_id: t.key_id })
        }
    }
}

fn check_manifest_matches(manifest: &Manifest, model: &Section) -> Result<(), BundleError> {
    if manifest.model_sha256 != model.sha256 {
        return Err(BundleError::ManifestMismatch {
            field: "model_sha256",
        });
    }
    if manifest.model_size != model.len {
        return Err(BundleError::ManifestMismatch {
            field: "model_size",
        });
    }
    Ok(())
}

/// Verifies a parsed bundle: the signature (against `key`, under `policy`) first, then every
/// section's hash, then that the manifest names the model it travels with.
pub fn verify(
    view: &BundleView<'_>,
    key: Option<&VerifyingKey>,
    policy: SignaturePolicy,
) -> Result<Verified, BundleError> {
    let verified = check_signature(view.signature.as_ref(), &sha256(view.body()), key, policy)?;
    let mut model = None;
    for section in &view.sections {
        let start = usize::try_from(section.offset).unwrap_or(usize::MAX);
        let end = usize::try_from(section.offset.saturating_add(section.len)).unwrap_or(usize::MAX);
        let bytes = view.bytes.get(start..end).ok_or(BundleError::Truncated {
            needed: section.offset.saturating_add(section.len),
            have: view.bytes.len() as u64,
        })?;
        if sha256(bytes) != section.sha256 {
            return Err(BundleError::HashMismatch {
                part: HashedPart::Section(section.kind),
            });
        }
        if section.kind == SectionKind::Model {
            model = Some(section);
        }
    }
    match model {
        Some(model) => check_manifest_matches(&view.manifest, model)?,
        None => return Err(BundleError::layout("no model section")),
    }
    Ok(verified)
}

/// What a streaming verification found.
#[derive(Clone, Debug)]
pub struct VerifiedFile {
    /// The signature status.
    pub verified: Verified,
    /// The manifest.
    pub manifest: Manifest,
    /// The section table.
    pub sections: Vec<Section>,
    /// SHA-256 of the whole file (compare with the announced one).
    pub file_sha256: Sha256Digest,
    /// Length of the whole file.
    pub file_len: u64,
}

/// Counts and hashes every byte read.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    pos: u64,
}

impl<R: Read> HashingReader<R> {
    /// Fills `buf`, or fails with `Truncated { needed }` at the end of the input.
    fn fill(&mut self, buf: &mut [u8], needed: u64) -> Result<(), BundleError> {
        let mut done = 0;
        while done < buf.len() {
            match self.inner.read(&mut buf[done..]) {
                Ok(0) => {
                    return Err(BundleError::Truncated {
                        needed,
                        have: self.pos,
                    });
                }
                Ok(n) => {
                    let n = n.min(buf.len() - done);
                    self.hasher.update(&buf[done..done + n]);
                    self.pos += n as u64;
                    done += n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(BundleError::Io(e)),
            }
        }
        Ok(())
    }

    /// Whether the input has ended (reads at most one byte).
    fn at_end(&mut self) -> Result<bool, BundleError> {
        let mut byte = [0u8; 1];
        loop {
            match self.inner.read(&mut byte) {
                Ok(0) => return Ok(true),
                Ok(_) => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(BundleError::Io(e)),
            }
        }
    }
}

/// Verifies a bundle read from `reader` in one pass, holding only the manifest and a 64 KiB
/// buffer in memory. Checks what [`BundleView::parse`] and [`verify`] check, and also returns
/// the SHA-256 of the whole file.
pub fn verify_reader<R: Read>(
    reader: R,
    key: Option<&VerifyingKey>,
    policy: SignaturePolicy,
) -> Result<VerifiedFile, BundleError> {
    let mut r = HashingReader {
        inner: reader,
        hasher: Sha256::new(),
        pos: 0,
    };
    let mut header = [0u8; HEADER_LEN];
    r.fill(&mut header, HEADER_LEN as u64)?;
    let (count, flags) = parse_header(&header)?;
    let mut index_bytes = vec![0u8; index_len(count)];
    index_bytes[..HEADER_LEN].copy_from_slice(&header);
    let needed = index_bytes.len() as u64;
    r.fill(&mut index_bytes[HEADER_LEN..], needed)?;
    let index = parse_index(&index_bytes, count, flags)?;
    let file_len = index.file_len();

    let mut body = Sha256::new();
    body.update(&index_bytes);
    let mut buf = vec![0u8; 64 * 1024];
    let mut manifest_json = Vec::new();
    let mut first_mismatch = None;
    for section in &index.sections {
        let mut hasher = Sha256::new();
        let mut left = section.len;
        while left > 0 {
            let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
            let chunk = &mut buf[..n];
            r.fill(chunk, file_len)?;
            hasher.update(&*chunk);
            body.update(&*chunk);
            if section.kind == SectionKind::Manifest {
                manifest_json.extend_from_slice(chunk);
            }
            left -= n as u64;
        }
        let digest: Sha256Digest = hasher.finalize().into();
        if digest != section.sha256 && first_mismatch.is_none() {
            first_mismatch = Some(section.kind);
        }
    }
    let body_digest: Sha256Digest = body.finalize().into();
    let trailer = if index.signed() {
        let mut bytes = [0u8; TRAILER_LEN];
        r.fill(&mut bytes, file_len)?;
        Some(parse_trailer(&bytes)?)
    } else {
        None
    };
    if !r.at_end()? {
        return Err(BundleError::layout("bytes after the end of the bundle"));
    }
    let verified = check_signature(trailer.as_ref(), &body_digest, key, policy)?;
    if let Some(kind) = first_mismatch {
        return Err(BundleError::HashMismatch {
            part: HashedPart::Section(kind),
        });
    }
    let manifest = Manifest::from_slice(&manifest_json)?;
    match index.sections.iter().find(|s| s.kind == SectionKind::Model) {
        Some(model) => check_manifest_matches(&manifest, model)?,
        None => return Err(BundleError::layout("no model section")),
    }
    Ok(VerifiedFile {
        verified,
        manifest,
        sections: index.sections,
        file_sha256: r.hasher.finalize().into(),
        file_len: r.pos,
    })
}

/// [`verify_reader`] over the file at `path`.
pub fn verify_file(
    path: &Path,
    key: Option<&VerifyingKey>,
    policy: SignaturePolicy,
) -> Result<VerifiedFile, BundleError> {
    let file = std::fs::File::open(path).map_err(BundleError::Io)?;
    verify_reader(io::BufReader::new(file), key, policy)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::manifest::tests::sample;

    fn json(manifest: &Manifest) -> Vec<u8> {
        manifest.to_json().unwrap().into_bytes()
    }

    #[test]
    fn unknown_sections_are_skipped_but_hashed() {
        let model = b"onnx bytes".to_vec();
        let mut m = sample();
        m.model_sha256 = sha256(&model);
        m.model_size = model.len() as u64;
        let manifest = json(&m);
        let bytes = write_sections(&[
            (SectionKind::Manifest, &manifest),
            (SectionKind::Unknown(77), b"from the future"),
            (SectionKind::Model, &model),
        ]);
        let view = BundleView::parse(&bytes).unwrap();
        assert_eq!(view.model(), &model[..]);
        assert_eq!(
            verify(&view, None, SignaturePolicy::AllowUnsigned).unwrap(),
            Verified::Unsigned
        );
        let at = view.sections()[1].offset as usize;
        let mut bad = bytes.clone();
        bad[at] ^= 1;
        let view = BundleView::parse(&bad).unwrap();
        assert!(matches!(
            verify(&view, None, SignaturePolicy::AllowUnsigned),
            Err(BundleError::HashMismatch {
                part: HashedPart::Section(SectionKind::Unknown(77))
            })
        ));
    }

    #[test]
    fn layout_rules() {
        let model = b"m".to_vec();
        let mut m = sample();
        m.model_sha256 = sha256(&model);
        m.model_size = 1;
        let manifest = json(&m);
        let refused = [
            write_sections(&[
                (SectionKind::Model, &model),
                (SectionKind::Manifest, &manifest),
            ]),
            write_sections(&[
                (SectionKind::Manifest, &manifest),
                (SectionKind::Calibration, b"c"),
            ]),
            write_sections(&[
                (SectionKind::Manifest, &manifest),
                (SectionKind::Model, &model),
                (SectionKind::Model, &model),
            ]),
        ];
        for bytes in refused {
            assert!(matches!(
                BundleView::parse(&bytes),
                Err(BundleError::Layout(_))
            ));
        }
        // A manifest that names another model.
        let bytes = write_sections(&[
            (SectionKind::Manifest, &manifest),
            (SectionKind::Model, b"x"),
        ]);
        let view = BundleView::parse(&bytes).unwrap();
        assert!(matches!(
            verify(&view, None, SignaturePolicy::AllowUnsigned),
            Err(BundleError::ManifestMismatch {
                field: "model_sha256"
            })
        ));
        assert!(matches!(
            verify_reader(&bytes[..], None, SignaturePolicy::AllowUnsigned),
            Err(BundleError::ManifestMismatch { .. })
        ));
    }
}

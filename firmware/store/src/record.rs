//! The two small records the store keeps, and how their files are named.
//!
//! A record file is one line of JSON, then `sha256 <hex of that line>`: a record whose checksum
//! does not match (damaged by something the store did not do) is treated as unreadable, never
//! as a different record.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The data of the transfer in progress.
pub const STAGING: &str = "staging.part";
/// What the transfer in progress is and how much of it is durable.
pub const STAGING_META: &str = "staging.meta";
/// Suffix of files written and then renamed into place; left over only by a crash.
pub const TMP_SUFFIX: &str = ".tmp";
/// Largest record file read.
pub const MAX_RECORD_LEN: u64 = 64 * 1024;
/// The version of both records' JSON.
pub const RECORD_FORMAT: u32 = 1;

/// What a stored file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// A bundle (manifest + model, maybe signed): verified by structure, hashes and signature.
    Bundle,
    /// A bare model file: verified by its SHA-256 only, so only taken without a public key.
    Model,
}

impl FileKind {
    /// The file name extension.
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Bundle => "bundle",
            Self::Model => "model",
        }
    }
}

impl From<sentio_link::TransferKind> for FileKind {
    fn from(kind: sentio_link::TransferKind) -> Self {
        match kind {
            sentio_link::TransferKind::Model => Self::Model,
            sentio_link::TransferKind::Bundle => Self::Bundle,
        }
    }
}

/// The slot record of one model, `<name>@slots`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotsRecord {
    pub format: u32,
    pub name: String,
    pub active: Option<EntryRecord>,
    pub previous: Option<EntryRecord>,
    /// The previous slot holds a committed version not yet activated.
    pub pending: bool,
}

/// One stored version in a slot record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRecord {
    #[serde(with = "hex32")]
    pub sha256: [u8; 32],
    pub size: u64,
    pub kind: FileKind,
    pub version: String,
}

/// The staging record, `staging.meta`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagingRecord {
    pub format: u32,
    pub name: String,
    pub size: u64,
    #[serde(with = "hex32")]
    pub sha256: [u8; 32],
    pub kind: FileKind,
    pub signed: bool,
    /// Bytes of `staging.part` that were fsynced before this record was written.
    pub durable: u64,
}

/// The bytes of a record file.
pub fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    let json = serde_json::to_string(record).unwrap_or_default();
    let sum = hex::encode(Sha256::digest(json.as_bytes()));
    format!("{json}\nsha256 {sum}\n").into_bytes()
}

/// Reads a record file; the error says what is wrong with it.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
    let (json, rest) = text
        .split_once('\n')
        .ok_or_else(|| "no checksum line (torn write?)".to_owned())?;
    let sum = rest
        .strip_prefix("sha256 ")
        .map(str::trim_end)
        .ok_or_else(|| "no checksum line".to_owned())?;
    if hex::encode(Sha256::digest(json.as_bytes())) != sum {
        return Err("checksum mismatch".into());
    }
    serde_json::from_str(json).map_err(|e| format!("bad record: {e}"))
}

/// The slot record file of `name`.
pub fn record_file(name: &str) -> String {
    format!("{name}@slots")
}

/// The file of a stored version.
pub fn blob_file(name: &str, sha256: &[u8; 32], kind: FileKind) -> String {
    format!("{name}@{}.{}", hex::encode(sha256), kind.extension())
}

/// What a file in the store directory is, by its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileRole {
    /// A slot record of a model.
    Record(String),
    /// A stored version of a model.
    Blob {
        name: String,
        sha256: [u8; 32],
        kind: FileKind,
    },
    /// The staging data.
    Staging,
    /// The staging record.
    StagingMeta,
    /// A leftover temporary file.
    Temp,
    /// Not the store's.
    Other,
}

/// Classifies a file name (model names never contain `@`, so the split is unambiguous).
pub fn classify(file: &str) -> FileRole {
    if file.ends_with(TMP_SUFFIX) {
        return FileRole::Temp;
    }
    match file {
        STAGING => return FileRole::Staging,
        STAGING_META => return FileRole::StagingMeta,
        _ => {}
    }
    let Some((name, rest)) = file.split_once('@') else {
        return FileRole::Other;
    };
    if crate::store::validate_name(name).is_err() {
        return FileRole::Other;
    }
    if rest == "slots" {
        return FileRole::Record(name.to_owned());
    }
    let Some((hex_text, ext)) = rest.split_once('.') else {
        return FileRole::Other;
    };
    let kind = match ext {
        "bundle" => FileKind::Bundle,
        "model" => FileKind::Model,
        _ => return FileRole::Other,
    };
    let mut sha256 = [0u8; 32];
    // Only the lowercase form the store writes counts.
    if hex_text.len() != 64
        || hex_text.bytes().any(|b| b.is_ascii_uppercase())
        || hex::decode_to_slice(hex_text, &mut sha256).is_err()
    {
        return FileRole::Other;
    }
    FileRole::Blob {
        name: name.to_owned(),
        sha256,
        kind,
    }
}

mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(digest: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(digest))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(&text, &mut out).map_err(D::Error::custom)?;
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_detect_damage() {
        let rec = StagingRecord {
            format: RECORD_FORMAT,
            name: "fer".into(),
            size: 10,
            sha256: [7; 32],
            kind: FileKind::Bundle,
            signed: true,
            durable: 4,
        };
        let bytes = encode(&rec);
        assert_eq!(decode::<StagingRecord>(&bytes).unwrap(), rec);
        for len in 0..bytes.len() - 1 {
            assert!(decode::<StagingRecord>(&bytes[..len]).is_err(), "{len}");
        }
        let mut bad = bytes.clone();
        bad[20] ^= 1;
        assert!(decode::<StagingRecord>(&bad).is_err());
    }

    #[test]
    fn file_names() {
        let sha = [0xab; 32];
        assert_eq!(
            classify(&record_file("fer")),
            FileRole::Record("fer".into())
        );
        assert_eq!(
            classify(&blob_file("fer.v2", &sha, FileKind::Model)),
            FileRole::Blob {
                name: "fer.v2".into(),
                sha256: sha,
                kind: FileKind::Model
            }
        );
        assert_eq!(classify("fer@slots.tmp"), FileRole::Temp);
        assert_eq!(classify(STAGING), FileRole::Staging);
        assert_eq!(classify(STAGING_META), FileRole::StagingMeta);
        for other in [
            "notes.txt",
            "..@slots",
            "fer@abc.bundle",
            "fer@x",
            ".x@slots",
        ] {
            assert_eq!(classify(other), FileRole::Other, "{other}");
        }
        let upper = format!("fer@{}.bundle", "AB".repeat(32));
        assert_eq!(classify(&upper), FileRole::Other);
    }
}

//! Ed25519 signing keys for bundles, and the small text files they are kept in.
//!
//! A key file is one line, a header word then 64 hex digits, optionally after `#` comment lines:
//!
//! ```text
//! # sentio bundle signing key, key id 3f0c2a9e81d4b7c6
//! sentio-ed25519-secret-v1 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60
//! ```
//!
//! The public file says `sentio-ed25519-public-v1`. The secret file is created with mode 0600
//! (owner only) on Unix; neither file is ever overwritten.

use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// Header word of a secret key file.
pub const SECRET_HEADER: &str = "sentio-ed25519-secret-v1";
/// Header word of a public key file.
pub const PUBLIC_HEADER: &str = "sentio-ed25519-public-v1";

/// Longest key file read, in bytes (a key file is under 200 bytes; this bounds a wrong path).
const MAX_KEY_FILE: u64 = 64 * 1024;

/// Names a public key: the first 8 bytes of the SHA-256 of its 32 bytes. Bundles carry it next
/// to their signature, so a device can tell "signed with another key" from "altered".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    /// The id of `key`.
    pub fn of(key: &VerifyingKey) -> Self {
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        Self(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// The id of `key` (see [`KeyId`]).
pub fn key_id(key: &VerifyingKey) -> KeyId {
    KeyId::of(key)
}

/// Why a key could not be made, saved or loaded.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum KeyError {
    /// The operating system's random source failed.
    #[error("could not get random bytes from the operating system: {0}")]
    #[diagnostic(code(data::models::random), help("try again"))]
    Random(String),
    /// Reading or writing the file failed.
    #[error("{}: {source}", path.display())]
    #[diagnostic(code(data::models::io), help("check the path and its permissions"))]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The file exists: keys are never overwritten.
    #[error("{} already exists; keys are never overwritten", path.display())]
    #[diagnostic(
        code(data::models::exists),
        help("move it away or choose another path")
    )]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The file is not a key file of the expected kind.
    #[error("{}: {reason}", path.display())]
    #[diagnostic(code(data::models::format))]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
}

/// A new random key pair (32 bytes from the operating system's random source).
pub fn generate() -> Result<(SigningKey, VerifyingKey), KeyError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| KeyError::Random(e.to_string()))?;
    let signing = SigningKey::from_bytes(&secret);
    secret.fill(0);
    let verifying = signing.verifying_key();
    Ok((signing, verifying))
}

/// The text of a secret key file.
pub fn secret_key_text(key: &SigningKey) -> String {
    format!(
        "# sentio bundle signing key, key id {}: keep it secret\n{SECRET_HEADER} {}\n",
        KeyId::of(&key.verifying_key()),
        hex::encode(key.as_bytes())
    )
}

/// The text of a public key file.
pub fn public_key_text(key: &VerifyingKey) -> String {
    format!(
        "# sentio bundle verifying key, key id {}\n{PUBLIC_HEADER} {}\n",
        KeyId::of(key),
        hex::encode(key.as_bytes())
    )
}

/// Writes the secret key to a new file `path` with mode 0600. Refuses an existing file.
pub fn save_secret(path: &Path, key: &SigningKey) -> Result<(), KeyError> {
    write_new(path, &secret_key_text(key), true)
}

/// Writes the public key to a new file `path`. Refuses an existing file.
pub fn save_public(path: &Path, key: &VerifyingKey) -> Result<(), KeyError> {
    write_new(path, &public_key_text(key), false)
}

/// Reads a secret key file.
pub fn load_secret(path: &Path) -> Result<SigningKey, KeyError> {
    let text = read_small(path)?;
    let bytes = parse_key_text(&text, SECRET_HEADER).map_err(|reason| KeyError::Format {
        path: path.to_owned(),
        reason,
    })?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// Reads a public key file.
pub fn load_public(path: &Path) -> Result<VerifyingKey, KeyError> {
    let text = read_small(path)?;
    let format = |reason| KeyError::Format {
        path: path.to_owned(),
        reason,
    };
    let bytes = parse_key_text(&text, PUBLIC_HEADER).map_err(format)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| {
        format(
            "the 32 bytes are not a valid ed25519 public key; regenerate it with `sentio keys gen`"
                .into(),
        )
    })
}

/// Parses key text, expecting the header word `header`. Errors are a sentence saying what is
/// wrong and what to do.
pub fn parse_key_text(text: &str, header: &str) -> Result<[u8; 32], String> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let Some(line) = lines.next() else {
        return Err(format!(
            "no key in the file; expected a line `{header} <64 hex digits>` (make one with `sentio keys gen`)"
        ));
    };
    if lines.next().is_some() {
        return Err("more than one key line; a key file holds exactly one key".into());
    }
    let mut words = line.split_whitespace();
    let found = words.next().unwrap_or_default();
    if found != header {
        let hint = match (found, header) {
            (PUBLIC_HEADER, SECRET_HEADER) => {
                "this is a public key file; signing needs the secret key file".to_owned()
            }
            (SECRET_HEADER, PUBLIC_HEADER) => {
                "this is a SECRET key file; give the public key file (never copy the secret key to a device)".to_owned()
            }
            _ => format!("not a sentio key file: expected a line starting with `{header}`"),
        };
        return Err(hint);
    }
    let Some(hex_text) = words.next() else {
        return Err(format!(
            "`{header}` is not followed by the key's 64 hex digits"
        ));
    };
    if words.next().is_some() {
        return Err("unexpected text after the key".into());
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut bytes).map_err(|e| {
        format!("the key must be 64 hex digits ({e}); the file is damaged: restore it from a copy")
    })?;
    Ok(bytes)
}

fn read_small(path: &Path) -> Result<String, KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.len() > MAX_KEY_FILE {
        return Err(KeyError::Format {
            path: path.to_owned(),
            reason: format!(
                "{} bytes is far too long for a key file; is this the right path?",
                meta.len()
            ),
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    String::from_utf8(bytes).map_err(|_| KeyError::Format {
        path: path.to_owned(),
        reason: "not a text file; is this the right path?".into(),
    })
}

fn write_new(path: &Path, text: &str, secret: bool) -> Result<(), KeyError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists {
                path: path.to_owned(),
            }
        } else {
            KeyError::Io {
                path: path.to_owned(),
                source,
            }
        }
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|source| KeyError::Io {
            path: path.to_owned(),
            source,
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn key_files_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let (sk, vk) = generate().unwrap();
        let (sp, pp) = (dir.path().join("k.secret"), dir.path().join("k.pub"));
        save_secret(&sp, &sk).unwrap();
        save_public(&pp, &vk).unwrap();
        assert_eq!(load_secret(&sp).unwrap().to_bytes(), sk.to_bytes());
        assert_eq!(load_public(&pp).unwrap(), vk);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&sp).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            save_secret(&sp, &sk),
            Err(KeyError::Exists { .. })
        ));
        assert!(matches!(
            save_public(&pp, &vk),
            Err(KeyError::Exists { .. })
        ));
        // The two kinds are not interchangeable, and the message says which is which.
        let err = load_public(&sp).unwrap_err().to_string();
        assert!(err.contains("SECRET"), "{err}");
        let err = load_secret(&pp).unwrap_err().to_string();
        assert!(err.contains("public key file"), "{err}");
        assert!(
            std::fs::read_to_string(&pp)
                .unwrap()
                .contains(&KeyId::of(&vk).to_string())
        );
    }

    #[test]
    fn generated_keys_differ() {
        let (a, _) = generate().unwrap();
        let (b, _) = generate().unwrap();
        assert_ne!(a.to_bytes(), b.to_bytes());
    }

    #[test]
    fn bad_key_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad");
        let good = "ab".repeat(32);
        let cases = [
            String::new(),
            "# only a comment\n".into(),
            format!("{SECRET_HEADER}\n"),
            format!("{SECRET_HEADER} {}\n", &good[..62]),
            format!("{SECRET_HEADER} {}zz\n", &good[..62]),
            format!("{SECRET_HEADER} {good} extra\n"),
            format!("{SECRET_HEADER} {good}\n{SECRET_HEADER} {good}\n"),
            format!("ssh-ed25519 {good}\n"),
        ];
        for text in cases {
            std::fs::write(&path, &text).unwrap();
            let err = load_secret(&path).unwrap_err();
            assert!(matches!(err, KeyError::Format { .. }), "{text:?}: {err}");
            assert!(err.to_string().contains("bad"), "names the file: {err}");
        }
        std::fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
        assert!(matches!(load_public(&path), Err(KeyError::Format { .. })));
        let missing = dir.path().join("missing");
        let err = load_public(&missing).unwrap_err();
        assert!(matches!(err, KeyError::Io { .. }));
        assert!(err.to_string().contains("missing"));
        // With comments and blank lines around it, a key still loads.
        let (sk, _) = generate().unwrap();
        let text = format!(
            "\n# note\n\n  {SECRET_HEADER}   {}  \n\n",
            hex::encode(sk.to_bytes())
        );
        std::fs::write(&path, text).unwrap();
        assert_eq!(load_secret(&path).unwrap().to_bytes(), sk.to_bytes());
    }

    #[test]
    fn key_id_is_sha256_prefix() {
        let vk = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let digest: [u8; 32] = Sha256::digest(vk.as_bytes()).into();
        assert_eq!(KeyId::of(&vk).0, digest[..8]);
        assert_eq!(KeyId::of(&vk).to_string().len(), 16);
    }
}

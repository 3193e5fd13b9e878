//! `sentio bundle pack|inspect|verify` and `sentio keys gen`: thin over `sentio-models`.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use miette::{IntoDiagnostic as _, Result, WrapErr as _, bail};
use sentio_diagnostics::FileContext as _;
use sentio_models::keys;
use sentio_models::{Bundle, BundleView, Manifest, SignaturePolicy, verify, verify_file};

#[derive(Subcommand, Debug)]
pub enum BundleCommand {
    /// Pack a model and its manifest (and a calibration set) into one bundle, signed with --key.
    Pack {
        /// The model manifest (JSON; model_sha256 and model_size are filled in).
        #[arg(long)]
        manifest: PathBuf,
        /// The model file (ONNX).
        #[arg(long)]
        model: PathBuf,
        /// Calibration data to carry along (for int8 quantization on the device).
        #[arg(long)]
        calib: Option<PathBuf>,
        /// Secret key to sign with (from `sentio keys gen`).
        #[arg(long)]
        key: Option<PathBuf>,
        /// Where to write the bundle.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Show what a bundle holds.
    Inspect {
        bundle: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check a bundle's hashes, and its signature against a public key.
    Verify {
        bundle: PathBuf,
        /// Public key to check the signature with.
        #[arg(long)]
        pubkey: Option<PathBuf>,
        /// Refuse an unsigned bundle (as a device with a public key configured does).
        #[arg(long, requires = "pubkey")]
        require_signed: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Generate an ed25519 signing key pair: PREFIX.secret (mode 0600) and PREFIX.pub.
    Gen {
        /// Path prefix of the two files.
        #[arg(long, short)]
        out: PathBuf,
        /// Overwrite existing key files.
        #[arg(long)]
        force: bool,
    },
}

/// What `sentio flash` needs to know of a bundle.
pub struct FlashTarget {
    pub name: String,
    pub signed: bool,
}

/// Parses a bundle and checks its hashes before it is sent anywhere.
pub fn flash_target(bytes: &[u8]) -> Result<FlashTarget> {
    let view = BundleView::parse(bytes)?;
    verify(&view, None, SignaturePolicy::AllowUnsigned)?;
    Ok(FlashTarget {
        name: view.manifest().name.clone(),
        signed: view.signature().is_some(),
    })
}

/// Writes `bytes` to `path` whole or not at all ([`sentio_files::write_bytes_atomically`]).
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    sentio_files::write_bytes_atomically(path, bytes)
        .file_context(|| format!("cannot write {}", path.display()))
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).file_context(|| format!("cannot read the {what} {}", path.display()))
}

pub fn run(command: BundleCommand) -> Result<()> {
    match command {
        BundleCommand::Pack {
            manifest,
            model,
            calib,
            key,
            out,
        } => {
            let text = String::from_utf8(read(&manifest, "manifest")?)
                .into_diagnostic()
                .wrap_err_with(|| {
                    format!("the manifest {} is not UTF-8 text", manifest.display())
                })?;
            let parsed = Manifest::from_json(&text)
                .with_context(|| format!("in the manifest {}", manifest.display()))?;
            let model_bytes = read(&model, "model")?;
            let calib_bytes = calib
                .as_deref()
                .map(|p| read(p, "calibration set"))
                .transpose()?;
            let mut bundle = Bundle::pack(&parsed, &model_bytes, calib_bytes.as_deref())?;
            let mut signer = None;
            if let Some(key_path) = &key {
                let secret = keys::load_secret(key_path)?;
                signer = Some(keys::key_id(&secret.verifying_key()));
                bundle = Bundle::sign(&bundle, &secret)?;
            }
            write_atomically(&out, &bundle)?;
            println!(
                "{}: {} {} ({} bytes, sha256 {}){}",
                out.display(),
                parsed.name,
                parsed.version,
                bundle.len(),
                hex::encode(sentio_models::bundle_sha256(&bundle)),
                match signer {
                    Some(id) => format!(", signed by key {id}"),
                    None => ", unsigned".to_string(),
                }
            );
            Ok(())
        }
        BundleCommand::Inspect { bundle, json } => {
            let bytes = read(&bundle, "bundle")?;
            let view =
                BundleView::parse(&bytes).with_context(|| format!("{}", bundle.display()))?;
            let m = view.manifest();
            let signature = view.signature().map(|s| s.key_id.to_string());
            if json {
                let sections: Vec<_> = view
                    .sections()
                    .iter()
                    .map(|s| serde_json::json!({"kind": s.kind.to_string(), "offset": s.offset, "len": s.len, "sha256": hex::encode(s.sha256)}))
                    .collect();
                let out = serde_json::json!({
                    "file": bundle.display().to_string(),
                    "size": bytes.len(),
                    "sha256": hex::encode(view.sha256()),
                    "format_version": view.format_version(),
                    "manifest": m,
                    "sections": sections,
                    "signed_by": signature,
                });
                println!("{}", serde_json::to_string_pretty(&out).into_diagnostic()?);
                return Ok(());
            }
            println!(
                "bundle     {} ({} bytes, format {})",
                bundle.display(),
                bytes.len(),
                view.format_version()
            );
            println!("sha256     {}", hex::encode(view.sha256()));
            println!(
                "model      {} {} ({}, {:?})",
                m.name,
                m.version,
                m.task.as_str(),
                m.precision
            );
            println!(
                "labels     {}: {}",
                m.labels.set,
                m.labels.labels.join(", ")
            );
            println!("input      {:?} {:?}", m.input.shape, m.input.dtype);
            println!(
                "signature  {}",
                signature.map_or("none".to_string(), |id| format!("key {id}"))
            );
            println!("sections");
            for s in view.sections() {
                println!(
                    "  {:<12} {:>10} bytes at {:>8}  sha256 {}",
                    s.kind.to_string(),
                    s.len,
                    s.offset,
                    &hex::encode(s.sha256)[..16]
                );
            }
            Ok(())
        }
        BundleCommand::Verify {
            bundle,
            pubkey,
            require_signed,
        } => {
            let key = pubkey.as_deref().map(keys::load_public).transpose()?;
            let policy = if require_signed {
                SignaturePolicy::RequireSigned
            } else {
                SignaturePolicy::AllowUnsigned
            };
            let checked = verify_file(&bundle, key.as_ref(), policy)
                .with_context(|| format!("{}", bundle.display()))?;
            println!(
                "{}: {} {}: {}",
                bundle.display(),
                checked.manifest.name,
                checked.manifest.version,
                checked.verified
            );
            Ok(())
        }
    }
}

pub fn run_keys(command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::Gen { out, force } => {
            let with_ext = |ext: &str| {
                let mut p = out.as_os_str().to_owned();
                p.push(ext);
                PathBuf::from(p)
            };
            let (secret_path, public_path) = (with_ext(".secret"), with_ext(".pub"));
            for p in [&secret_path, &public_path] {
                if p.exists() && !force {
                    bail!(
                        code = "usage::keys::exists",
                        help = "pass --force to overwrite it (bundles signed with the old key will \
                                no longer verify against the new one), or choose another --out",
                        "{} exists",
                        p.display()
                    );
                }
            }
            if force {
                // keys::save_* never overwrite; --force means replace.
                for p in [&secret_path, &public_path] {
                    match std::fs::remove_file(p) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            return Err(e)
                                .file_context(|| format!("cannot remove {}", p.display()));
                        }
                        _ => {}
                    }
                }
            }
            let (secret, public) = keys::generate()?;
            keys::save_secret(&secret_path, &secret)?;
            keys::save_public(&public_path, &public)?;
            println!("secret key {} (keep it private)", secret_path.display());
            println!(
                "public key {} (key id {}): give it to devices that must only run your bundles",
                public_path.display(),
                keys::key_id(&public)
            );
            Ok(())
        }
    }
}

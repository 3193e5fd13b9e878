//! Bundles: round trips, damage of every kind, signatures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;

use proptest::prelude::*;
use sentio_models::{
    Bundle, BundleError, BundleView, DType, Figures, HashedPart, InputSpec, KeyId, LabelSpec,
    Manifest, Precision, Preprocessing, SectionKind, SignaturePolicy, SigningKey, Task, Verified,
    bundle_sha256, sha256, sign, verify, verify_file, verify_reader,
};

fn manifest(name: &str, version: &str) -> Manifest {
    let mut m = Manifest::new(
        name,
        version,
        Task::Ser,
        LabelSpec::new(
            "ser8",
            &[
                "neutral",
                "calm",
                "happy",
                "sad",
                "angry",
                "fearful",
                "disgust",
                "surprised",
            ],
        ),
        InputSpec {
            shape: vec![1, 40, 100],
            dtype: DType::F32,
            preprocessing: Preprocessing::mfcc(16_000, 40),
            extra: Figures::new(),
        },
        Precision::Int8,
    );
    m.eval = Some(Figures::from([("accuracy".into(), 0.83.into())]));
    m
}

fn model(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// Parse + verify the way a device does, with `key` if given.
fn check(bytes: &[u8], key: Option<&SigningKey>) -> Result<Verified, BundleError> {
    let vk = key.map(|k| k.verifying_key());
    let policy = if key.is_some() {
        SignaturePolicy::RequireSigned
    } else {
        SignaturePolicy::AllowUnsigned
    };
    let view = BundleView::parse(bytes)?;
    let verified = verify(&view, vk.as_ref(), policy)?;
    // The streaming verifier agrees.
    let streamed = verify_reader(bytes, vk.as_ref(), policy).expect("slice OK but stream not");
    assert_eq!(streamed.verified, verified);
    assert_eq!(streamed.file_sha256, bundle_sha256(bytes));
    Ok(verified)
}

/// Same through the streaming verifier only.
fn check_stream(bytes: &[u8], key: Option<&SigningKey>) -> Result<Verified, BundleError> {
    let vk = key.map(|k| k.verifying_key());
    let policy = if key.is_some() {
        SignaturePolicy::RequireSigned
    } else {
        SignaturePolicy::AllowUnsigned
    };
    verify_reader(bytes, vk.as_ref(), policy).map(|v| v.verified)
}

#[test]
fn pack_parse_round_trip() {
    let m = manifest("ser", "1.2.0");
    let body = model(5000, 1);
    let calib = model(300, 9);
    for calibration in [None, Some(&calib[..])] {
        let bytes = Bundle::pack(&m, &body, calibration).unwrap();
        let view = BundleView::parse(&bytes).unwrap();
        assert_eq!(view.model(), &body[..]);
        assert_eq!(view.calibration(), calibration);
        let mut expected = m.clone();
        expected.model_sha256 = sha256(&body);
        expected.model_size = body.len() as u64;
        assert_eq!(view.manifest(), &expected);
        assert!(view.signature().is_none());
        assert_eq!(check(&bytes, None).unwrap(), Verified::Unsigned);
        assert_eq!(view.sha256(), bundle_sha256(&bytes));
        let kinds: Vec<_> = view.sections().iter().map(|s| s.kind).collect();
        let mut want = vec![SectionKind::Manifest, SectionKind::Model];
        if calibration.is_some() {
            want.push(SectionKind::Calibration);
        }
        assert_eq!(kinds, want);
        let text = view.to_string();
        assert!(
            text.contains("ser 1.2.0") && text.contains("unsigned"),
            "{text}"
        );
    }
}

#[test]
fn packing_refuses_an_invalid_manifest() {
    let mut m = manifest("ser", "1");
    m.name = "../etc".into();
    assert!(matches!(
        Bundle::pack(&m, b"x", None),
        Err(BundleError::Manifest(_))
    ));
}

#[test]
fn header_bytes_are_as_documented() {
    let bytes = Bundle::pack(&manifest("ser", "1"), &model(10, 0), None).unwrap();
    assert_eq!(&bytes[..8], b"SNTBNDL1");
    assert_eq!(&bytes[8..16], &[1, 0, 2, 0, 0, 0, 0, 0]);
    // First entry: the manifest, right after header (16), table (2 × 56) and index hash (32).
    assert_eq!(&bytes[16..24], &[1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(u64::from_le_bytes(bytes[24..32].try_into().unwrap()), 160);
    let manifest_len = u64::from_le_bytes(bytes[32..40].try_into().unwrap());
    // Second entry: the model, right after the manifest.
    assert_eq!(&bytes[72..76], &[2, 0, 0, 0]);
    assert_eq!(
        u64::from_le_bytes(bytes[80..88].try_into().unwrap()),
        160 + manifest_len
    );
    assert_eq!(&bytes[128..160], &sha256(&bytes[..128]));
    assert_eq!(bytes.len() as u64, 160 + manifest_len + 10);
    assert_eq!(bytes[160], b'{');
    let signed = sign(&bytes, &key(1)).unwrap();
    assert_eq!(&signed[12..14], &[1, 0], "flag SIGNED");
    assert_eq!(signed.len(), bytes.len() + 80);
    assert_eq!(&signed[bytes.len()..bytes.len() + 8], b"SNTSIG01");
    assert_eq!(
        &signed[bytes.len() + 8..bytes.len() + 16],
        &KeyId::of(&key(1).verifying_key()).0
    );
}

#[test]
fn every_truncation_is_an_error() {
    let unsigned =
        Bundle::pack(&manifest("ser", "1"), &model(700, 2), Some(&model(40, 3))).unwrap();
    let signed = sign(&unsigned, &key(1)).unwrap();
    for bytes in [&unsigned, &signed] {
        for len in 0..bytes.len() {
            let cut = &bytes[..len];
            assert!(
                BundleView::parse(cut).is_err(),
                "parse accepted {len} bytes"
            );
            assert!(
                check_stream(cut, None).is_err(),
                "stream accepted {len} bytes"
            );
            match check_stream(cut, Some(&key(1))) {
                Err(BundleError::Truncated { .. } | BundleError::UnsignedRefused) => {}
                // A cut inside the header may leave too few bytes to tell what it is.
                Err(BundleError::BadMagic) if len < 8 => {}
                other => panic!("cut at {len}: {other:?}"),
            }
        }
    }
}

#[test]
fn every_single_byte_corruption_is_an_error() {
    let unsigned =
        Bundle::pack(&manifest("ser", "1"), &model(300, 4), Some(&model(20, 5))).unwrap();
    let signed = sign(&unsigned, &key(2)).unwrap();
    for (bytes, key) in [(&unsigned, None), (&signed, Some(&key(2)))] {
        for at in 0..bytes.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = bytes.clone();
                bad[at] ^= flip;
                let slice = BundleView::parse(&bad).and_then(|view| {
                    let vk = key.map(|k| k.verifying_key());
                    let policy = if key.is_some() {
                        SignaturePolicy::RequireSigned
                    } else {
                        SignaturePolicy::AllowUnsigned
                    };
                    verify(&view, vk.as_ref(), policy)
                });
                assert!(slice.is_err(), "byte {at} ^ {flip:#x} accepted: {slice:?}");
                let stream = check_stream(&bad, key);
                assert!(stream.is_err(), "stream: byte {at} ^ {flip:#x} accepted");
            }
        }
    }
}

#[test]
fn damage_is_named() {
    let bytes = Bundle::pack(&manifest("ser", "1"), &model(300, 4), None).unwrap();
    let view = BundleView::parse(&bytes).unwrap();
    let model_at = view.sections()[1].offset as usize;
    let manifest_at = view.sections()[0].offset as usize;
    let damaged = |at: usize| {
        let mut bad = bytes.clone();
        bad[at] ^= 0x20;
        bad
    };
    assert!(matches!(
        check(&damaged(model_at + 5), None),
        Err(BundleError::HashMismatch {
            part: HashedPart::Section(SectionKind::Model)
        })
    ));
    assert!(matches!(
        check(&damaged(manifest_at + 5), None),
        Err(BundleError::HashMismatch {
            part: HashedPart::Section(SectionKind::Manifest)
        })
    ));
    assert!(matches!(
        check(&damaged(40), None),
        Err(BundleError::HashMismatch {
            part: HashedPart::Index
        })
    ));
    assert!(matches!(
        check(&damaged(0), None),
        Err(BundleError::BadMagic)
    ));
    assert!(matches!(
        check(&damaged(8), None),
        Err(BundleError::UnsupportedVersion { version: 33 })
    ));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(check(&longer, None), Err(BundleError::Layout(_))));
    assert!(matches!(
        check_stream(&longer, None),
        Err(BundleError::Layout(_))
    ));
    let err = check(&damaged(model_at + 5), None).unwrap_err();
    assert!(err.to_string().contains("model section"), "{err}");
    let help = miette::Diagnostic::help(&err).map(|h| h.to_string());
    assert!(help.is_some_and(|h| h.contains("again")), "{err}");
}

#[test]
fn signatures() {
    let bytes = Bundle::pack(&manifest("fer", "2"), &model(1000, 7), None).unwrap();
    let (right, wrong) = (key(1), key(2));
    let signed = sign(&bytes, &right).unwrap();
    let id = KeyId::of(&right.verifying_key());
    assert_eq!(
        check(&signed, Some(&right)).unwrap(),
        Verified::Signed { key_id: id }
    );
    assert_eq!(
        check(&signed, None).unwrap(),
        Verified::SignedUnchecked { key_id: id }
    );
    assert!(matches!(
        check(&signed, Some(&wrong)),
        Err(BundleError::UnknownKey { found, .. }) if found == id
    ));
    assert!(matches!(
        check(&bytes, Some(&right)),
        Err(BundleError::UnsignedRefused)
    ));
    let view = BundleView::parse(&signed).unwrap();
    assert!(matches!(
        verify(&view, None, SignaturePolicy::RequireSigned),
        Err(BundleError::KeyRequired)
    ));
    // A damaged signature.
    let mut bad = signed.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(matches!(
        check(&bad, Some(&right)),
        Err(BundleError::BadSignature)
    ));
    // Re-signing replaces the signature.
    let resigned = sign(&signed, &wrong).unwrap();
    assert_eq!(resigned.len(), signed.len());
    assert!(matches!(
        check(&resigned, Some(&wrong)),
        Ok(Verified::Signed { .. })
    ));
    // A damaged bundle is not signed.
    let mut damaged = bytes.clone();
    let at = damaged.len() - 10;
    damaged[at] ^= 1;
    assert!(sign(&damaged, &right).is_err());
}

#[test]
fn a_consistent_forgery_fails_the_signature() {
    // Someone swaps the model and recomputes every hash (which needs no secret), keeping the
    // original signature: only the signature can catch it.
    let right = key(1);
    let original = sign(
        &Bundle::pack(&manifest("fer", "2"), &model(1000, 7), None).unwrap(),
        &right,
    )
    .unwrap();
    let forged_body = sign(
        &Bundle::pack(&manifest("fer", "2"), &model(1000, 8), None).unwrap(),
        &key(3),
    )
    .unwrap();
    let mut forged = forged_body[..forged_body.len() - 80].to_vec();
    forged.extend_from_slice(&original[original.len() - 80..]);
    assert!(matches!(
        check(&forged, None),
        Ok(Verified::SignedUnchecked { .. })
    ));
    assert!(matches!(
        check(&forged, Some(&right)),
        Err(BundleError::BadSignature)
    ));
}

/// A reader that hands out at most 7 bytes per call, with interruptions.
struct Trickle<'a>(&'a [u8], bool);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.1 = !self.1;
        if self.1 {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        let n = buf.len().min(7).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn streaming_verification_of_a_file() {
    let big = model(3 * 1024 * 1024 + 17, 5);
    let bytes = sign(
        &Bundle::pack(&manifest("fer", "3"), &big, Some(&model(70_000, 1))).unwrap(),
        &key(4),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fer.sbundle");
    std::fs::write(&path, &bytes).unwrap();
    let vk = key(4).verifying_key();
    let v = verify_file(&path, Some(&vk), SignaturePolicy::RequireSigned).unwrap();
    assert_eq!(v.file_sha256, bundle_sha256(&bytes));
    assert_eq!(v.file_len, bytes.len() as u64);
    assert_eq!(v.manifest.model_size, big.len() as u64);
    assert!(matches!(v.verified, Verified::Signed { .. }));
    let small = Bundle::pack(&manifest("fer", "3"), &model(500, 1), None).unwrap();
    let v = verify_reader(Trickle(&small, false), None, SignaturePolicy::AllowUnsigned).unwrap();
    assert_eq!(v.file_sha256, bundle_sha256(&small));
    assert!(matches!(
        verify_file(
            &dir.path().join("missing"),
            None,
            SignaturePolicy::AllowUnsigned
        ),
        Err(BundleError::Io(_))
    ));
}

#[test]
fn garbage_never_panics() {
    // Headers that claim huge or odd sizes.
    let mut header = b"SNTBNDL1".to_vec();
    header.extend_from_slice(&[1, 0, 16, 0, 0, 0, 0, 0]);
    header.resize(16 + 16 * 56 + 32, 0xff);
    assert!(BundleView::parse(&header).is_err());
    assert!(check_stream(&header, None).is_err());
    for len in [0usize, 1, 7, 8, 15, 16, 17, 100] {
        let junk: Vec<u8> = (0..len).map(|i| i as u8).collect();
        assert!(BundleView::parse(&junk).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip(
        name in "[a-z0-9][a-z0-9_-]{0,31}",
        version in "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
        body in proptest::collection::vec(any::<u8>(), 0..3000),
        calibration in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..500)),
        signed in any::<bool>(),
        flip in any::<proptest::sample::Index>(),
    ) {
        let m = manifest(&name, &version);
        let mut bytes = Bundle::pack(&m, &body, calibration.as_deref()).unwrap();
        let signer = key(9);
        if signed {
            bytes = sign(&bytes, &signer).unwrap();
        }
        let view = BundleView::parse(&bytes).unwrap();
        prop_assert_eq!(view.model(), &body[..]);
        prop_assert_eq!(view.calibration(), calibration.as_deref());
        prop_assert_eq!(&view.manifest().name, &name);
        let k = signed.then_some(&signer);
        let verified = check(&bytes, k).unwrap();
        prop_assert_eq!(signed, verified != Verified::Unsigned);
        let at = flip.index(bytes.len());
        bytes[at] ^= 0x10;
        let damaged = BundleView::parse(&bytes).and_then(|v| {
            let vk = k.map(|k| k.verifying_key());
            let policy = if signed { SignaturePolicy::RequireSigned } else { SignaturePolicy::AllowUnsigned };
            verify(&v, vk.as_ref(), policy)
        });
        prop_assert!(damaged.is_err());
    }
}

//! Speech sets through their real paths: the importers on small WAV files written here
//! (including a corrupt and a misnamed file), `AudioFolder`, and the espeak-ng generator
//! (skipped with a message when espeak-ng is not installed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use sentio_data::import::{self, BadRows};
use sentio_data::synth::speech::{self, Augmentation, SpeechOptions};
use sentio_data::{AudioFolder, DataError, DatasetInfo, split};

mod common;
use common::files;

fn tone(secs: f32, rate: u32, amp: f32) -> Vec<f32> {
    (0..(secs * rate as f32) as usize)
        .map(|n| amp * (std::f32::consts::TAU * 220.0 * n as f32 / rate as f32).sin())
        .collect()
}

fn mkdirs(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
}

/// A mono 16-bit WAV of a 220 Hz tone.
fn wav(path: &Path, rate: u32, secs: f32) {
    mkdirs(path);
    sentio_audio::write_wav(path, &tone(secs, rate, 0.5), rate).unwrap();
}

/// A stereo 16-bit WAV: the tone at 0.6 left and 0.2 right (0.4 once mixed down).
fn stereo_wav(path: &Path, rate: u32, secs: f32) {
    mkdirs(path);
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for s in tone(secs, rate, 1.0) {
        w.write_sample((s * 0.6 * 32767.0) as i16).unwrap();
        w.write_sample((s * 0.2 * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

fn corrupt(path: &Path) {
    mkdirs(path);
    std::fs::write(path, b"this is not a wave file, just text with a .wav name").unwrap();
}

/// 16 kHz mono 16-bit, and the samples.
fn read_16k_mono(path: &Path) -> Vec<i16> {
    let r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (16_000, 1, 16),
        "{}",
        path.display()
    );
    r.into_samples::<i16>().map(Result::unwrap).collect()
}

/// Nothing but `keep` in `dir` (no output, no hidden staging folder).
fn only(dir: &Path, keep: &[&str]) {
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect();
    assert!(names.is_empty(), "left behind: {names:?}");
}

/// A RAVDESS tree: 3 good files (48 kHz mono, 44.1 kHz stereo, 16 kHz), a corrupt one, one
/// with an unknown emotion code, one not named like RAVDESS, and files to ignore.
fn ravdess_tree(src: &Path) {
    wav(&src.join("Actor_01/03-01-01-01-01-01-01.wav"), 48_000, 0.5);
    stereo_wav(&src.join("Actor_01/03-01-05-02-01-01-01.wav"), 44_100, 0.5);
    wav(&src.join("Actor_02/03-01-08-01-02-02-02.wav"), 16_000, 0.25);
    corrupt(&src.join("Actor_02/03-01-03-01-01-01-02.wav"));
    wav(&src.join("Actor_02/03-01-09-01-01-01-02.wav"), 16_000, 0.1);
    wav(&src.join("Actor_02/hello.wav"), 16_000, 0.1);
    std::fs::write(src.join("README.txt"), "RAVDESS").unwrap();
    wav(&src.join("Actor_02/.03-01-01-01-01-01-02.wav"), 16_000, 0.1);
    std::fs::write(src.join("Actor_01/01-01-01-01-01-01-01.mp4"), "video").unwrap();
}

#[test]
fn ravdess_skip_converts_the_good_files_and_lists_the_bad_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("ravdess-src");
    ravdess_tree(&src);
    let out = tmp.path().join("ravdess");
    let report = import::ravdess(&src, &out, BadRows::Skip).unwrap();
    assert_eq!(report.imported, 3);
    let bad: Vec<(String, String)> = report
        .skipped
        .iter()
        .map(|r| {
            (
                r.path.strip_prefix(&src).unwrap().display().to_string(),
                r.reason.clone(),
            )
        })
        .collect();
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert_eq!(bad[0].0, "Actor_02/03-01-03-01-01-01-02.wav");
    assert!(bad[0].1.contains("not a WAV file"), "{}", bad[0].1);
    assert_eq!(bad[1].0, "Actor_02/03-01-09-01-01-01-02.wav");
    assert!(bad[1].1.contains("emotion 09"), "{}", bad[1].1);
    assert_eq!(bad[2].0, "Actor_02/hello.wav");
    assert!(bad[2].1.contains("not a RAVDESS file name"), "{}", bad[2].1);
    assert!(report.to_string().contains("imported 3 audio files"));
    assert!(report.to_string().contains("hello.wav: not a RAVDESS"));

    let info = DatasetInfo::read(&out).unwrap().unwrap();
    assert_eq!(info, report.info);
    assert_eq!(info.label_set, "ser8");
    assert_eq!(info.per_class, [1, 0, 0, 0, 1, 0, 0, 1]);
    assert_eq!(info.sample_rate, Some(16_000));
    assert_eq!(info.file_names.as_deref(), Some("ravdess"));
    assert_eq!(info.skipped, 3);
    let speakers: Vec<(&str, usize)> = info
        .speakers
        .iter()
        .map(|s| (s.id.as_str(), s.utterances))
        .collect();
    assert_eq!(speakers, [("ravdess-01", 2), ("ravdess-02", 1)]);

    let neutral = read_16k_mono(&out.join("neutral/03-01-01-01-01-01-01.wav"));
    assert!((7990..=8010).contains(&neutral.len()), "{}", neutral.len());
    let angry = read_16k_mono(&out.join("angry/03-01-05-02-01-01-01.wav"));
    let peak = angry.iter().map(|s| s.unsigned_abs()).max().unwrap() as f32 / 32767.0;
    assert!(
        (peak - 0.4).abs() < 0.02,
        "stereo mixed to mono: peak {peak}"
    );
    assert_eq!(
        read_16k_mono(&out.join("surprised/03-01-08-01-02-02-02.wav")).len(),
        4000
    );

    let data = AudioFolder::open(&out).unwrap();
    assert_eq!(data.labels[7], "surprised");
    assert_eq!(data.targets(), [4, 0, 7]);
    assert_eq!(data.speakers(), ["ravdess-01", "ravdess-01", "ravdess-02"]);
    assert_eq!(data.counts(), [1, 0, 0, 0, 1, 0, 0, 1]);
    assert_eq!(data.load(2).unwrap().len(), 4000);
    assert!(matches!(
        data.load(3),
        Err(DataError::NoSuchSample {
            index: 3,
            len: 3,
            ..
        })
    ));
}

#[test]
fn ravdess_fail_stops_at_the_first_bad_file_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    ravdess_tree(&src);
    let out = tmp.path().join("ravdess");
    let e = import::ravdess(&src, &out, BadRows::Fail).unwrap_err();
    match &e {
        DataError::BadRow { path, line, reason } => {
            assert_eq!(path, &src.join("Actor_02/03-01-03-01-01-01-02.wav"));
            assert_eq!(*line, None);
            assert!(reason.contains("not a WAV file"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("03-01-03-01-01-01-02.wav"));
    assert!(e.help().contains("--bad-rows skip"));
    assert!(!out.exists());
    only(tmp.path(), &["src"]);
}

#[test]
fn tess_walks_its_folders_and_drops_identical_copies() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("TESS Toronto emotional speech set data");
    wav(&src.join("OAF_angry/OAF_back_angry.wav"), 24_414, 0.3);
    wav(
        &src.join("YAF_pleasant_surprised/YAF_dog_ps.wav"),
        24_414,
        0.2,
    );
    wav(&src.join("YAF_fear/YAF_bite_fear.wav"), 24_414, 0.2);
    // A second copy of the tree: identical bytes are left out without complaint...
    std::fs::create_dir_all(src.join("nested/OAF_angry")).unwrap();
    std::fs::copy(
        src.join("OAF_angry/OAF_back_angry.wav"),
        src.join("nested/OAF_angry/OAF_back_angry.wav"),
    )
    .unwrap();
    // ...a different recording under a taken name is not.
    wav(&src.join("other/YAF_dog_ps.wav"), 16_000, 0.1);
    wav(&src.join("OAF_calm/OAF_back_calm.wav"), 16_000, 0.1);
    let out = tmp.path().join("tess");
    let report = import::tess(&src, &out, BadRows::Skip).unwrap();
    assert_eq!(report.imported, 3);
    let bad: Vec<String> = report
        .skipped
        .iter()
        .map(|r| format!("{}", r.path.strip_prefix(&src).unwrap().display()))
        .collect();
    assert_eq!(bad, ["OAF_calm/OAF_back_calm.wav", "other/YAF_dog_ps.wav"]);
    assert!(report.skipped[0].reason.contains("emotion `calm`"));
    assert!(report.skipped[1].reason.contains("a different recording"));
    assert_eq!(report.info.per_class, [0, 0, 0, 0, 1, 1, 0, 1]);
    let data = AudioFolder::open(&out).unwrap();
    assert_eq!(data.speakers(), ["tess-OAF", "tess-YAF", "tess-YAF"]);
    assert!(out.join("surprised/YAF_dog_ps.wav").is_file());
    let len = read_16k_mono(&out.join("angry/OAF_back_angry.wav")).len();
    assert!((4790..=4810).contains(&len), "{len}");
}

#[test]
fn cremad_imports_audiowav_and_rejects_unknown_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("CREMA-D");
    wav(&src.join("AudioWAV/1001_DFA_ANG_XX.wav"), 16_000, 0.2);
    wav(&src.join("AudioWAV/1091_IEO_HAP_HI.wav"), 16_000, 0.2);
    wav(&src.join("AudioWAV/1001_DFA_SUR_XX.wav"), 16_000, 0.2);
    let out = tmp.path().join("cremad");
    let report = import::cremad(&src, &out, BadRows::Skip).unwrap();
    assert_eq!(report.imported, 2);
    assert_eq!(report.skipped.len(), 1);
    assert!(report.skipped[0].reason.contains("emotion `SUR`"));
    assert_eq!(report.info.per_class, [0, 0, 1, 0, 1, 0, 0, 0]);
    assert_eq!(
        AudioFolder::open(&out).unwrap().speakers(),
        ["cremad-1001", "cremad-1091"]
    );
    // The generic entry point, with progress over every .wav found.
    let set = import::SpeechSet::from_name("CREMAD").unwrap();
    assert_eq!(set, import::SpeechSet::Cremad);
    assert_eq!(import::SpeechSet::from_name("crema"), None);
    let mut calls = Vec::new();
    let again = import::speech(
        set,
        &src,
        &tmp.path().join("c3"),
        BadRows::Skip,
        &mut |d, t| calls.push((d, t)),
    )
    .unwrap();
    assert_eq!(again.info, {
        let mut info = report.info.clone();
        info.source = again.info.source.clone();
        info
    });
    assert_eq!(calls, [(0, 3), (1, 3), (2, 3), (3, 3)]);
    let e = import::cremad(&src, &tmp.path().join("c2"), BadRows::Fail).unwrap_err();
    assert!(e.to_string().contains("1001_DFA_SUR_XX.wav"), "{e}");
    assert!(!tmp.path().join("c2").exists());
}

#[test]
fn savee_takes_both_layouts_and_names_files_speaker_code() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("SAVEE");
    wav(&src.join("AudioData/DC/a01.wav"), 44_100, 0.2);
    wav(&src.join("AudioData/JK/sa03.wav"), 44_100, 0.2);
    wav(&src.join("AudioData/DC/x01.wav"), 44_100, 0.2);
    wav(&src.join("ALL/KL_su15.wav"), 44_100, 0.2);
    std::fs::copy(src.join("AudioData/DC/a01.wav"), src.join("ALL/DC_a01.wav")).unwrap();
    let out = tmp.path().join("savee");
    let report = import::savee(&src, &out, BadRows::Skip).unwrap();
    assert_eq!(report.imported, 3, "{report}");
    assert_eq!(report.skipped.len(), 1);
    assert!(report.skipped[0].path.ends_with("AudioData/DC/x01.wav"));
    let names: Vec<PathBuf> = files(&out).into_keys().collect();
    assert_eq!(
        names,
        [
            "angry/DC_a01.wav",
            "dataset.json",
            "sad/JK_sa03.wav",
            "surprised/KL_su15.wav"
        ]
        .map(PathBuf::from)
    );
    assert_eq!(
        AudioFolder::open(&out).unwrap().speakers(),
        ["savee-DC", "savee-JK", "savee-KL"]
    );
}

#[test]
fn an_import_of_nothing_usable_fails_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    corrupt(&src.join("03-01-01-01-01-01-01.wav"));
    let out = tmp.path().join("out");
    let e = import::ravdess(&src, &out, BadRows::Skip).unwrap_err();
    assert!(matches!(e, DataError::NotADataset { .. }), "{e:?}");
    assert!(!out.exists());
    only(tmp.path(), &["src"]);
    let e = import::ravdess(&tmp.path().join("missing"), &out, BadRows::Skip).unwrap_err();
    assert!(matches!(e, DataError::NotADataset { .. }), "{e:?}");
}

#[test]
fn audio_folder_without_dataset_json_uses_folders_and_names() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    wav(&dir.join("sad/03-01-04-01-01-01-05.wav"), 8_000, 0.25);
    wav(&dir.join("happy/my recording.wav"), 16_000, 0.1);
    wav(&dir.join("happy/1002_IEO_HAP_LO.wav"), 16_000, 0.1);
    std::fs::write(dir.join("happy/notes.txt"), "not audio").unwrap();
    let data = AudioFolder::open(dir).unwrap();
    assert_eq!(data.labels, ["happy", "sad"]);
    assert_eq!(
        data.speakers(),
        ["cremad-1002", "my recording", "ravdess-05"]
    );
    assert_eq!(
        data.load(2).unwrap().len(),
        4000,
        "8 kHz resampled to 16 kHz"
    );
    assert!(data.info.is_none());
    let e = AudioFolder::open(tmp.path().join("happy")).unwrap_err();
    assert!(matches!(e, DataError::NotADataset { .. }), "{e:?}");
}

#[test]
fn image_dataset_json_reads_as_before() {
    let tmp = tempfile::tempdir().unwrap();
    let json = r#"{"version":1,"generator":"sentio-data 0.1.0 synth emoji","label_set":"emoji8",
        "labels":["a"],"image_size":[64,64],"per_class":[1],"seed":3}"#;
    std::fs::write(tmp.path().join("dataset.json"), json).unwrap();
    let info = DatasetInfo::read(tmp.path()).unwrap().unwrap();
    assert_eq!(info.sample_rate, None);
    assert!(info.speakers.is_empty() && info.file_names.is_none());
    let written = serde_json::to_string(&info).unwrap();
    assert!(!written.contains("sample_rate") && !written.contains("speakers"));
}

// ---- the generator ----

fn espeak_installed() -> bool {
    let ok = std::process::Command::new("espeak-ng")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: espeak-ng is not installed (apt-get install espeak-ng)");
    }
    ok
}

fn small(seed: u64, threads: usize) -> SpeechOptions {
    SpeechOptions {
        per_class: 1,
        seed,
        speakers: 2,
        threads,
        ..SpeechOptions::default()
    }
}

#[test]
fn synth_speech_writes_a_deterministic_ravdess_named_set() {
    if !espeak_installed() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    let mut calls = Vec::new();
    let summary = speech::generate(&a, &small(4, 2), &mut |d, t| calls.push((d, t))).unwrap();
    speech::generate(&b, &small(4, 1), &mut |_, _| {}).unwrap();
    speech::generate(&c, &small(5, 2), &mut |_, _| {}).unwrap();
    assert_eq!(calls.len(), 8);
    assert_eq!(calls.last(), Some(&(8, 8)));

    let (fa, fb, fc) = (files(&a), files(&b), files(&c));
    assert_eq!(fa.len(), 9, "8 WAVs and dataset.json");
    assert_eq!(fa, fb, "same seed, other thread count: byte-identical");
    assert_ne!(fa, fc);
    for (path, _) in fa.iter().filter(|(p, _)| p.extension().is_some()) {
        if path.ends_with("dataset.json") {
            continue;
        }
        let label = path.parent().unwrap().to_str().unwrap();
        let (class, speaker) = import::ravdess_label(path.to_str().unwrap()).unwrap();
        assert_eq!(sentio_models::labels::SER8.labels[class], label);
        assert!(speaker == "ravdess-01", "index 0 is speaker 1: {speaker}");
        let samples = read_16k_mono(&a.join(path));
        let secs = samples.len() as f32 / 16_000.0;
        assert!((0.8..8.0).contains(&secs), "{} {secs} s", path.display());
        let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!(peak > 4000, "{} is nearly silent", path.display());
    }
    assert_eq!(summary.info.sample_rate, Some(16_000));
    assert_eq!(summary.info.file_names.as_deref(), Some("synth"));
    assert_eq!(summary.info.speakers.len(), 1);
    assert_eq!(summary.info.speakers[0].id, "synth-01");
    assert!(
        summary.info.speakers[0]
            .voice
            .as_deref()
            .unwrap()
            .contains("en-us+m3")
    );
    let data = AudioFolder::open(&a).unwrap();
    assert_eq!(data.counts(), [1; 8]);
    assert!(data.speakers().iter().all(|s| s == "synth-01"));

    // One utterance in memory is the file's content.
    let options = small(4, 1);
    let u = speech::plan(&options, 3, 0).unwrap();
    let mem = speech::synthesize(&options, 3, 0).unwrap();
    let file = read_16k_mono(&a.join("sad").join(format!("{}.wav", u.stem())));
    assert_eq!(mem.len(), file.len());
    let worst = mem
        .iter()
        .zip(&file)
        .map(|(m, f)| (m * 32767.0 - f32::from(*f)).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 2.0, "within 16-bit rounding: {worst}");
}

#[test]
fn synth_speech_speakers_split_apart() {
    if !espeak_installed() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let options = SpeechOptions {
        per_class: 3,
        speakers: 3,
        augmentation: Augmentation::none(),
        ..SpeechOptions::default()
    };
    speech::generate(&out, &options, &mut |_, _| {}).unwrap();
    let data = AudioFolder::open(&out).unwrap();
    assert_eq!(data.samples.len(), 24);
    let speakers = data.speakers();
    let parts = split::by_group(&data.targets(), &speakers, 0.34, 0.34, 1);
    let who = |idx: &[usize]| -> std::collections::BTreeSet<String> {
        idx.iter().map(|&i| speakers[i].clone()).collect()
    };
    let (tr, va, te) = (who(&parts.train), who(&parts.val), who(&parts.test));
    assert_eq!(tr.len() + va.len() + te.len(), 3, "{tr:?} {va:?} {te:?}");
    // Without augmentation, the level is the fixed peak.
    let peak = read_16k_mono(&data.samples[0].path)
        .iter()
        .map(|s| s.unsigned_abs())
        .max()
        .unwrap() as f32
        / 32767.0;
    assert!((peak - 0.9).abs() < 0.01, "{peak}");
}

#[test]
fn synth_speech_without_espeak_says_how_to_install_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let options = SpeechOptions {
        espeak: tmp.path().join("no-such-dir/espeak-ng"),
        ..small(0, 1)
    };
    let e = speech::generate(&out, &options, &mut |_, _| {}).unwrap_err();
    assert!(matches!(e, DataError::ProgramMissing { .. }), "{e:?}");
    assert!(e.to_string().ends_with("espeak-ng not found"), "{e}");
    assert!(
        e.help().contains("apt-get install espeak-ng"),
        "{}",
        e.help()
    );
    assert!(!out.exists());
    only(tmp.path(), &[]);
}

#[cfg(unix)]
#[test]
fn a_failing_espeak_run_names_the_voice_and_the_text() {
    use std::os::unix::fs::PermissionsExt;
    if !espeak_installed() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("fake-espeak");
    std::fs::write(
        &fake,
        "#!/bin/sh\ncase \"$1\" in --voices*) exec espeak-ng \"$@\";; esac\n\
         echo 'out of synthesis juice' >&2\nexit 3\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = tmp.path().join("s");
    let options = SpeechOptions {
        espeak: fake,
        ..small(0, 2)
    };
    let e = speech::generate(&out, &options, &mut |_, _| {}).unwrap_err();
    match &e {
        DataError::Synthesis {
            voice,
            text,
            reason,
        } => {
            assert_eq!(voice, "en-us+m3");
            assert!(
                !text.is_empty() && !text.contains('<'),
                "the plain sentence: {text}"
            );
            assert!(reason.contains("out of synthesis juice"), "{reason}");
            assert!(reason.contains("<speak>"), "and the SSML: {reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("en-us+m3"));
    assert!(!out.exists());
    only(tmp.path(), &["fake-espeak"]);
}

//! The speech-emotion datasets' file names: label (`ser8` index) and speaker.
//!
//! `ser8` is RAVDESS's order: 0 neutral, 1 calm, 2 happy, 3 sad, 4 angry, 5 fearful,
//! 6 disgust, 7 surprised. Speaker ids are prefixed with the dataset (`ravdess-12`,
//! `tess-OAF`, `cremad-1001`, `savee-DC`) so that sets can be mixed and split by speaker
//! without two datasets' speakers being taken for one. Each function takes a file name or a
//! path (only the last component is read, except SAVEE's original layout `DC/a01.wav`, where
//! the folder is the speaker); the extension is ignored and matching is case-insensitive.

use crate::DataError;

const NEUTRAL: usize = 0;
#[cfg(test)]
const CALM: usize = 1;
const HAPPY: usize = 2;
const SAD: usize = 3;
const ANGRY: usize = 4;
const FEARFUL: usize = 5;
const DISGUST: usize = 6;
const SURPRISED: usize = 7;

/// Split a path into (parent folder name, file stem), accepting `/` and `\`.
fn parts(name: &str) -> (Option<&str>, &str) {
    let mut components = name.rsplit(['/', '\\']).filter(|c| !c.is_empty());
    let file = components.next().unwrap_or("");
    let parent = components.next();
    let stem = match file.rfind('.') {
        Some(dot) if dot > 0 => &file[..dot],
        _ => file,
    };
    (parent, stem)
}

fn bad(name: &str, dataset: &'static str, reason: impl Into<String>) -> DataError {
    DataError::BadFileName {
        name: name.to_string(),
        dataset,
        reason: reason.into(),
    }
}

/// RAVDESS: `MM-VV-EE-II-SS-RR-AA.wav`, seven 2-digit fields: modality (01 audio-video,
/// 02 video, 03 audio), vocal channel (01 speech, 02 song), **emotion**, intensity (01 normal,
/// 02 strong), statement (01, 02), repetition (01, 02), **actor** (01..24; odd male, even
/// female).
///
/// | emotion field | ser8 |
/// | --- | --- |
/// | 01 neutral | 0 neutral |
/// | 02 calm | 1 calm |
/// | 03 happy | 2 happy |
/// | 04 sad | 3 sad |
/// | 05 angry | 4 angry |
/// | 06 fearful | 5 fearful |
/// | 07 disgust | 6 disgust |
/// | 08 surprised | 7 surprised |
///
/// Speaker: `ravdess-AA`, e.g. `03-01-06-01-02-01-12.wav` -> `(5, "ravdess-12")`.
pub fn ravdess_label(file_name: &str) -> Result<(usize, String), DataError> {
    const DATASET: &str = "RAVDESS";
    let (_, stem) = parts(file_name);
    let fields: Vec<&str> = stem.split('-').collect();
    if fields.len() != 7 {
        return Err(bad(
            file_name,
            DATASET,
            format!("{} `-`-separated fields, 7 expected", fields.len()),
        ));
    }
    let mut numbers = [0u8; 7];
    for (k, field) in fields.iter().enumerate() {
        if field.len() != 2 || !field.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                file_name,
                DATASET,
                format!("field {} `{field}` is not a 2-digit number", k + 1),
            ));
        }
        numbers[k] = field.parse().unwrap_or(0);
    }
    let emotion = numbers[2];
    if !(1..=8).contains(&emotion) {
        return Err(bad(
            file_name,
            DATASET,
            format!("emotion {emotion:02} is out of range 01..08"),
        ));
    }
    if numbers[6] == 0 {
        return Err(bad(file_name, DATASET, "actor 00 does not exist (01..24)"));
    }
    Ok((usize::from(emotion - 1), format!("ravdess-{}", fields[6])))
}

/// TESS (Toronto emotional speech set): `SPEAKER_word_emotion.wav`, speaker `OAF` (older) or
/// `YAF` (younger actress); the emotion is the last `_` field. TESS has no `calm`.
///
/// | TESS | ser8 |
/// | --- | --- |
/// | neutral | 0 neutral |
/// | happy | 2 happy |
/// | sad | 3 sad |
/// | angry | 4 angry |
/// | fear | 5 fearful |
/// | disgust | 6 disgust |
/// | ps (pleasant surprise; also `surprise`, `surprised`) | 7 surprised |
///
/// Speaker: `tess-OAF` / `tess-YAF`, e.g. `OAF_back_angry.wav` -> `(4, "tess-OAF")`.
pub fn tess_label(file_name: &str) -> Result<(usize, String), DataError> {
    const DATASET: &str = "TESS";
    let (_, stem) = parts(file_name);
    let fields: Vec<&str> = stem.split('_').collect();
    if fields.len() < 3 {
        return Err(bad(
            file_name,
            DATASET,
            format!("{} `_`-separated fields, 3 expected", fields.len()),
        ));
    }
    let speaker = fields[0].to_ascii_uppercase();
    if speaker.is_empty() || !speaker.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad(
            file_name,
            DATASET,
            format!("speaker `{}` is not a name", fields[0]),
        ));
    }
    let emotion = fields[fields.len() - 1].to_ascii_lowercase();
    let label = match emotion.as_str() {
        "neutral" => NEUTRAL,
        "happy" => HAPPY,
        "sad" => SAD,
        "angry" => ANGRY,
        "fear" => FEARFUL,
        "disgust" => DISGUST,
        "ps" | "surprise" | "surprised" => SURPRISED,
        other => {
            return Err(bad(
                file_name,
                DATASET,
                format!(
                    "emotion `{other}` is not one of neutral, happy, sad, angry, fear, disgust, ps"
                ),
            ));
        }
    };
    Ok((label, format!("tess-{speaker}")))
}

/// CREMA-D: `ACTOR_SENTENCE_EMOTION_LEVEL.wav`, actor 1001..1091, a 3-letter sentence code,
/// the emotion code, and the level (`LO`, `MD`, `HI`, `XX` unspecified). CREMA-D has no
/// `calm` and no `surprised`.
///
/// | CREMA-D | ser8 |
/// | --- | --- |
/// | NEU | 0 neutral |
/// | HAP | 2 happy |
/// | SAD | 3 sad |
/// | ANG | 4 angry |
/// | FEA | 5 fearful |
/// | DIS | 6 disgust |
///
/// Speaker: `cremad-ACTOR`, e.g. `1001_DFA_ANG_XX.wav` -> `(4, "cremad-1001")`.
pub fn cremad_label(file_name: &str) -> Result<(usize, String), DataError> {
    const DATASET: &str = "CREMA-D";
    let (_, stem) = parts(file_name);
    let fields: Vec<&str> = stem.split('_').collect();
    if fields.len() != 4 {
        return Err(bad(
            file_name,
            DATASET,
            format!("{} `_`-separated fields, 4 expected", fields.len()),
        ));
    }
    let actor = fields[0];
    if actor.is_empty() || !actor.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(
            file_name,
            DATASET,
            format!("actor `{actor}` is not a number"),
        ));
    }
    let label = match fields[2].to_ascii_uppercase().as_str() {
        "NEU" => NEUTRAL,
        "HAP" => HAPPY,
        "SAD" => SAD,
        "ANG" => ANGRY,
        "FEA" => FEARFUL,
        "DIS" => DISGUST,
        other => {
            return Err(bad(
                file_name,
                DATASET,
                format!("emotion `{other}` is not one of ANG, DIS, FEA, HAP, NEU, SAD"),
            ));
        }
    };
    Ok((label, format!("cremad-{actor}")))
}

/// SAVEE (Surrey audio-visual expressed emotion): `SPEAKER_codeNN.wav` (the Kaggle layout) or
/// `SPEAKER/codeNN.wav` (the original `AudioData/DC/a01.wav`), speakers `DC`, `JE`, `JK`, `KL`.
/// SAVEE has no `calm`.
///
/// | code | SAVEE | ser8 |
/// | --- | --- | --- |
/// | n | neutral | 0 neutral |
/// | h | happiness | 2 happy |
/// | sa | sadness | 3 sad |
/// | a | anger | 4 angry |
/// | f | fear | 5 fearful |
/// | d | disgust | 6 disgust |
/// | su | surprise | 7 surprised |
///
/// Speaker: `savee-DC`, e.g. `DC_a01.wav` -> `(4, "savee-DC")`.
pub fn savee_label(file_name: &str) -> Result<(usize, String), DataError> {
    const DATASET: &str = "SAVEE";
    let (parent, stem) = parts(file_name);
    let (speaker, code) = match stem.split_once('_') {
        Some((speaker, code)) => (speaker, code),
        None => match parent {
            Some(folder) => (folder, stem),
            None => {
                return Err(bad(
                    file_name,
                    DATASET,
                    "no speaker: expected SPEAKER_codeNN or SPEAKER/codeNN",
                ));
            }
        },
    };
    if speaker.is_empty() || !speaker.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(bad(
            file_name,
            DATASET,
            format!("speaker `{speaker}` is not a name"),
        ));
    }
    let letters = code.trim_end_matches(|c: char| c.is_ascii_digit());
    if letters.len() == code.len() {
        return Err(bad(
            file_name,
            DATASET,
            format!("`{code}` has no sentence number (e.g. a01)"),
        ));
    }
    let label = match letters.to_ascii_lowercase().as_str() {
        "n" => NEUTRAL,
        "h" => HAPPY,
        "sa" => SAD,
        "a" => ANGRY,
        "f" => FEARFUL,
        "d" => DISGUST,
        "su" => SURPRISED,
        other => {
            return Err(bad(
                file_name,
                DATASET,
                format!("emotion code `{other}` is not one of a, d, f, h, n, sa, su"),
            ));
        }
    };
    Ok((label, format!("savee-{}", speaker.to_ascii_uppercase())))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use sentio_models::labels::SER8;

    #[test]
    fn the_constants_are_ser8() {
        for (i, name) in [
            (NEUTRAL, "neutral"),
            (CALM, "calm"),
            (HAPPY, "happy"),
            (SAD, "sad"),
            (ANGRY, "angry"),
            (FEARFUL, "fearful"),
            (DISGUST, "disgust"),
            (SURPRISED, "surprised"),
        ] {
            assert_eq!(SER8.labels[i], name);
        }
    }

    #[test]
    fn ravdess_names() {
        assert_eq!(
            ravdess_label("03-01-06-01-02-01-12.wav").unwrap(),
            (5, "ravdess-12".into())
        );
        assert_eq!(
            ravdess_label("Actor_01/03-01-01-01-01-01-01.wav").unwrap(),
            (0, "ravdess-01".into())
        );
        assert_eq!(ravdess_label("03-02-02-02-01-02-24.WAV").unwrap().0, CALM);
        assert_eq!(ravdess_label("03-01-08-01-01-01-03").unwrap().0, SURPRISED);
        for bad_name in [
            "03-01-09-01-02-01-12.wav",
            "03-01-00-01-02-01-12.wav",
            "03-01-06-01-02-01.wav",
            "03-01-x6-01-02-01-12.wav",
            "03-01-6-01-02-01-12.wav",
            "03-01-06-01-02-01-00.wav",
            "",
        ] {
            let e = ravdess_label(bad_name).unwrap_err();
            assert!(
                matches!(
                    e,
                    DataError::BadFileName {
                        dataset: "RAVDESS",
                        ..
                    }
                ),
                "{bad_name}"
            );
        }
    }

    #[test]
    fn tess_names() {
        assert_eq!(
            tess_label("OAF_back_angry.wav").unwrap(),
            (ANGRY, "tess-OAF".into())
        );
        assert_eq!(
            tess_label("YAF_youth_ps.wav").unwrap(),
            (SURPRISED, "tess-YAF".into())
        );
        assert_eq!(tess_label("OAF_Fear/OAF_bite_fear.wav").unwrap().0, FEARFUL);
        assert_eq!(
            tess_label("yaf_dog_Neutral.wav").unwrap(),
            (NEUTRAL, "tess-YAF".into())
        );
        assert_eq!(tess_label("OAF_base_disgust.wav").unwrap().0, DISGUST);
        assert_eq!(tess_label("OAF_bath_happy.wav").unwrap().0, HAPPY);
        assert_eq!(tess_label("OAF_bean_sad.wav").unwrap().0, SAD);
        assert!(tess_label("OAF_back_calm.wav").is_err());
        assert!(tess_label("OAF_angry.wav").is_err());
    }

    #[test]
    fn cremad_names() {
        assert_eq!(
            cremad_label("1001_DFA_ANG_XX.wav").unwrap(),
            (ANGRY, "cremad-1001".into())
        );
        assert_eq!(cremad_label("1091_WSI_dis_HI.wav").unwrap().0, DISGUST);
        for (code, want) in [
            ("FEA", FEARFUL),
            ("HAP", HAPPY),
            ("NEU", NEUTRAL),
            ("SAD", SAD),
        ] {
            assert_eq!(
                cremad_label(&format!("1002_IEO_{code}_LO.wav")).unwrap().0,
                want
            );
        }
        assert!(cremad_label("1001_DFA_SUR_XX.wav").is_err());
        assert!(cremad_label("10a1_DFA_ANG_XX.wav").is_err());
        assert!(cremad_label("1001_DFA_ANG.wav").is_err());
    }

    #[test]
    fn savee_names() {
        assert_eq!(
            savee_label("DC_a01.wav").unwrap(),
            (ANGRY, "savee-DC".into())
        );
        assert_eq!(
            savee_label("AudioData/JK/sa03.wav").unwrap(),
            (SAD, "savee-JK".into())
        );
        assert_eq!(savee_label("KL_su15.wav").unwrap().0, SURPRISED);
        for (code, want) in [("d", DISGUST), ("f", FEARFUL), ("h", HAPPY), ("n", NEUTRAL)] {
            assert_eq!(savee_label(&format!("JE_{code}07.wav")).unwrap().0, want);
        }
        assert!(savee_label("a01.wav").is_err());
        assert!(savee_label("DC_x01.wav").is_err());
        assert!(savee_label("DC_sa.wav").is_err());
    }
}

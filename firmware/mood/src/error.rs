//! `MoodError`: what can go wrong building a table or an engine, or feeding it scores. Every
//! message says what is wrong; its help line says what to do.

use crate::Mood;

/// The mood names, comma-separated, for "valid: ..." lists.
pub(crate) fn mood_names() -> String {
    Mood::ALL.map(Mood::as_str).join(", ")
}

/// A problem with a mood table, a [`MoodConfig`](crate::MoodConfig) or a reading.
#[derive(Debug, Clone, PartialEq, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum MoodError {
    /// A label of the model has no mood: neither the built-in table nor an override maps it.
    #[error("label {label:?} of the {table} model maps to no mood")]
    #[diagnostic(
        code(data::mood::unmapped_label),
        help(
            "add `{label} = \"<mood>\"` under [mood.{table}] (valid moods: {moods})",
            moods = mood_names()
        )
    )]
    UnmappedLabel { table: String, label: String },

    /// An override (or `idle_mood`) names something that is not a mood.
    #[error("{setting}: {mood:?} is not a mood")]
    #[diagnostic(
        code(data::mood::unknown_mood),
        help("use one of: {moods}", moods = mood_names())
    )]
    UnknownMood { setting: String, mood: String },

    /// An override names a label the model's label list does not have.
    #[error("[mood.{table}] overrides {label:?}, which is not a label of the {table} model")]
    #[diagnostic(
        code(data::mood::unknown_label),
        help("remove it or use one of: {labels}", labels = labels.join(", "))
    )]
    UnknownLabel {
        table: String,
        label: String,
        labels: Vec<String>,
    },

    /// The model's label list names a label twice or is empty.
    #[error("the {table} model's label list {problem}")]
    #[diagnostic(
        code(data::mood::bad_labels),
        help("fix the labels in the model's manifest (one label per output, no repeats)")
    )]
    BadLabels { table: String, problem: String },

    /// A reading has more or fewer scores than the model has labels.
    #[error(
        "{source_name}: {got} scores for {want} labels ({labels})",
        labels = labels.join(", ")
    )]
    #[diagnostic(
        code(data::mood::score_count),
        help("pass the model's whole output, in the order of its manifest's labels")
    )]
    ScoreCount {
        source_name: String,
        got: usize,
        want: usize,
        labels: Vec<String>,
    },

    /// A score is NaN, infinite, negative or above 1.
    #[error(
        "{source_name}: score {index} ({label}) is {value}; scores must be probabilities from 0 to 1"
    )]
    #[diagnostic(
        code(data::mood::bad_score),
        help("apply softmax to logits; NaN means the model or its input is broken")
    )]
    BadScore {
        source_name: String,
        index: usize,
        label: String,
        value: f32,
    },

    /// A [`MoodConfig`](crate::MoodConfig) value is outside its range.
    #[error("mood.{key} = {value} is out of range (allowed: {allowed})")]
    #[diagnostic(code(data::mood::out_of_range))]
    OutOfRange {
        key: &'static str,
        value: String,
        allowed: String,
        /// What the key does (from `MoodConfig::key_help`): what to set it to.
        #[help]
        help: &'static str,
    },

    /// Every modality weight is zero.
    #[error(
        "face_weight, voice_weight and emoji_weight are all 0, so nothing could ever move the mood"
    )]
    #[diagnostic(
        code(data::mood::no_weight),
        help("give at least one a weight above 0 (the default is 1.0)")
    )]
    NoWeight,
}

/// The help line of `e` (every variant has one), for the tests.
#[cfg(test)]
pub(crate) fn help(e: &MoodError) -> String {
    miette::Diagnostic::help(e)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

//! A sentence as a list of tokens, and its rendering: articles are resolved only here, by the
//! word that ends up after them, so the template never has to know which adjective a noun got.

/// One token of a sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    Word(&'static str),
    /// The plural of a noun (the noun and an "s"; every noun the template makes plural takes it).
    Plural(&'static str),
    /// "a" or "an", whichever the next word needs.
    Article,
    /// A comma after the previous word.
    Comma,
}

/// `word`'s indefinite article: "an" before a vowel sound, else "a". Decided by spelling, with
/// the usual exceptions (a vowel letter sounding like "y" or "w", a silent "h").
pub(crate) fn article_for(word: &str) -> &'static str {
    let w = word.to_ascii_lowercase();
    const CONSONANT_SOUND: [&str; 5] = ["one", "once", "uni", "use", "eu"];
    const SILENT_H: [&str; 4] = ["hour", "honest", "honour", "heir"];
    if CONSONANT_SOUND.iter().any(|p| w.starts_with(p)) {
        return "a";
    }
    if SILENT_H.iter().any(|p| w.starts_with(p)) {
        return "an";
    }
    match w.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// The sentence `toks` spells: words separated by one space, commas attached to the word before
/// them, the first letter capitalised and a full stop at the end.
pub(crate) fn render(toks: &[Tok]) -> String {
    let mut out = String::new();
    for (i, tok) in toks.iter().enumerate() {
        let word = match *tok {
            Tok::Comma => {
                // Never a comma at the start or two in a row.
                if !out.is_empty() && !out.ends_with(',') {
                    out.push(',');
                }
                continue;
            }
            Tok::Word(w) | Tok::Plural(w) => w,
            Tok::Article => match toks[i + 1..].iter().find_map(|t| match t {
                Tok::Word(w) | Tok::Plural(w) => Some(*w),
                _ => None,
            }) {
                Some(next) => article_for(next),
                // An article with nothing after it says nothing; the template never makes one.
                None => continue,
            },
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        if matches!(tok, Tok::Plural(_)) {
            out.push('s');
        }
    }
    // A closing comma of an aside that nothing follows.
    if out.ends_with(',') {
        out.pop();
    }
    let mut chars = out.chars();
    let mut sentence = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    sentence.push('.');
    sentence
}

#[cfg(test)]
mod tests {
    use super::Tok::*;
    use super::*;

    #[test]
    fn articles_follow_the_sound() {
        for (word, article) in [
            ("empty", "an"),
            ("angry", "an"),
            ("anxious", "an"),
            ("astonished", "an"),
            ("person", "a"),
            ("cheerful", "a"),
            ("unicorn", "a"),
            ("umbrella", "an"),
            ("hour", "an"),
            ("hall", "a"),
            ("one", "a"),
            ("Orange", "an"),
        ] {
            assert_eq!(article_for(word), article, "{word}");
        }
    }

    #[test]
    fn rendering_spaces_commas_and_capitals() {
        let toks = [
            Word("two"),
            Word("people"),
            Comma,
            Word("one"),
            Word("wearing"),
            Article,
            Word("orange"),
            Word("shirt"),
            Comma,
            Word("in"),
            Article,
            Word("room"),
        ];
        assert_eq!(
            render(&toks),
            "Two people, one wearing an orange shirt, in a room."
        );
        assert_eq!(
            render(&[Article, Word("empty"), Word("hall"), Comma]),
            "An empty hall."
        );
        assert_eq!(render(&[Word("smiling"), Plural("face")]), "Smiling faces.");
        assert_eq!(
            render(&[Comma, Word("a"), Comma, Comma, Word("b")]),
            "A, b."
        );
        assert_eq!(render(&[]), ".");
    }
}

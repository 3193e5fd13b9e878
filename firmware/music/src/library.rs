//! Which files a mood's folder or playlist holds, and which one plays next.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use crate::MusicError;

/// File name endings of the formats the player decodes.
pub const EXTENSIONS: &[&str] = &["ogg", "oga", "mp3", "flac", "wav"];

/// The tracks of a folder (files with a known ending, sorted by name, not recursive) or of an
/// M3U playlist (`.m3u`/`.m3u8`: one path per line, `#` lines ignored, relative paths taken
/// from the playlist's folder, URLs skipped).
pub fn list_tracks(source: &Path) -> Result<Vec<PathBuf>, MusicError> {
    let is_playlist = source
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("m3u") || e.eq_ignore_ascii_case("m3u8"));
    if is_playlist {
        let text = std::fs::read_to_string(source).map_err(|source_err| MusicError::Io {
            action: "read",
            path: source.to_path_buf(),
            source: source_err,
        })?;
        let dir = source.parent().unwrap_or(Path::new(""));
        return Ok(parse_m3u(&text, dir));
    }
    let entries = std::fs::read_dir(source).map_err(|err| MusicError::Io {
        action: "list",
        path: source.to_path_buf(),
        source: err,
    })?;
    let mut tracks: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file() && has_known_extension(path))
        .collect();
    tracks.sort();
    Ok(tracks)
}

fn has_known_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|k| e.eq_ignore_ascii_case(k)))
}

/// The entries of an M3U playlist, relative ones joined to `dir`.
pub fn parse_m3u(text: &str, dir: &Path) -> Vec<PathBuf> {
    text.lines()
        .map(|line| line.trim().trim_start_matches('\u{feff}'))
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.contains("://"))
        .map(|line| {
            let path = PathBuf::from(line);
            if path.is_relative() {
                dir.join(path)
            } else {
                path
            }
        })
        .collect()
}

/// The player's generator: sentio-rng's SplitMix64 (same numbers everywhere). [`choose`] draws
/// with [`Rng::below_wide`], as this crate always has, so a seed still gives the same playlist.
pub use sentio_rng::SplitMix64 as Rng;

/// Picks the next track of a mood: uniformly among `tracks` except the last `no_repeat` picks
/// (at most `tracks.len() - 1` of them, so there is always a choice). Pure, for unit tests.
pub fn choose<'a>(
    tracks: &'a [PathBuf],
    recent: &VecDeque<PathBuf>,
    no_repeat: usize,
    rng: &mut Rng,
) -> Option<&'a PathBuf> {
    if tracks.is_empty() {
        return None;
    }
    let exclude = no_repeat.min(tracks.len() - 1);
    let excluded: Vec<&PathBuf> = recent.iter().rev().take(exclude).collect();
    let allowed: Vec<&PathBuf> = tracks.iter().filter(|t| !excluded.contains(t)).collect();
    // `recent` may name tracks no longer in the list; then `allowed` is still non-empty.
    let pool = if allowed.is_empty() {
        tracks.iter().collect()
    } else {
        allowed
    };
    Some(pool[rng.below_wide(pool.len())])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn m3u_skips_comments_blank_lines_and_urls_and_resolves_relative_paths() {
        let text = "#EXTM3U\n#EXTINF:123,Someone - Song\nsongs/a.ogg\n\n/abs/b.mp3\r\nhttp://radio/stream\n";
        assert_eq!(
            parse_m3u(text, Path::new("lists")),
            vec![
                PathBuf::from("lists/songs/a.ogg"),
                PathBuf::from("/abs/b.mp3")
            ]
        );
    }

    #[test]
    fn no_track_among_the_last_n_is_chosen_again() {
        let tracks: Vec<PathBuf> = (0..6).map(|i| PathBuf::from(format!("t{i}.ogg"))).collect();
        let mut rng = Rng::new(7);
        let mut recent = VecDeque::new();
        let mut picks = Vec::new();
        for _ in 0..500 {
            let pick = choose(&tracks, &recent, 4, &mut rng).unwrap().clone();
            assert!(
                !recent.iter().rev().take(4).any(|r| *r == pick),
                "{pick:?} repeats within {recent:?}"
            );
            recent.push_back(pick.clone());
            picks.push(pick);
        }
        // Every track gets played.
        for t in &tracks {
            assert!(picks.contains(t));
        }
    }

    #[test]
    fn the_shuffle_is_deterministic_for_a_seed() {
        let tracks: Vec<PathBuf> = (0..10).map(|i| PathBuf::from(format!("{i}"))).collect();
        let run = |seed| {
            let mut rng = Rng::new(seed);
            (0..20)
                .map(|_| {
                    choose(&tracks, &VecDeque::new(), 0, &mut rng)
                        .unwrap()
                        .clone()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn a_single_track_is_still_chosen_with_no_repeat() {
        let tracks = vec![PathBuf::from("only.wav")];
        let recent: VecDeque<PathBuf> = tracks.iter().cloned().collect();
        assert_eq!(
            choose(&tracks, &recent, 3, &mut Rng::new(0)),
            Some(&tracks[0])
        );
    }
}

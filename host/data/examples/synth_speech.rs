//! Generate the procedural speech set and say how long it took:
//! `cargo run -p sentio-data --release --example synth_speech -- OUT [PER_CLASS] [SEED] [SPEAKERS]
//! [THREADS] [clean]` (what `sentio data synth speech` does, without the CLI; `clean` turns the
//! noise, room and random level off).

use std::time::Instant;

use sentio_data::synth::speech::{self, Augmentation, SpeechOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        return Err(
            "usage: synth_speech OUT [PER_CLASS] [SEED] [SPEAKERS] [THREADS] [clean]".into(),
        );
    };
    let number = |i: usize, default: usize| -> Result<usize, Box<dyn std::error::Error>> {
        Ok(match args.get(i) {
            Some(s) => s.parse()?,
            None => default,
        })
    };
    let options = SpeechOptions {
        per_class: number(1, speech::DEFAULT_PER_CLASS)?,
        seed: number(2, 0)? as u64,
        speakers: number(3, speech::DEFAULT_SPEAKERS)?,
        threads: number(4, 0)?,
        augmentation: if args.get(5).is_some_and(|a| a == "clean") {
            Augmentation::none()
        } else {
            Augmentation::default()
        },
        ..SpeechOptions::default()
    };
    let start = Instant::now();
    let mut last = 0;
    let result = speech::generate(out.as_ref(), &options, &mut |done, total| {
        if done * 10 / total != last {
            last = done * 10 / total;
            eprintln!("{done}/{total}  {:.1} s", start.elapsed().as_secs_f32());
        }
    });
    match result {
        Ok(summary) => {
            println!(
                "{} utterances, {} speakers, in {:.1} s -> {}",
                summary.info.total(),
                summary.info.speakers.len(),
                start.elapsed().as_secs_f32(),
                summary.root.display()
            );
            Ok(())
        }
        // Rendered by sentio's one renderer: the message, then the help line.
        Err(e) => {
            let report = sentio_diagnostics::Report::new(e);
            let style = sentio_diagnostics::Style::for_stderr();
            Err(sentio_diagnostics::render("synth_speech", &report, style).into())
        }
    }
}

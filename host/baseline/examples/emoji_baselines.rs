//! The baselines on the procedural emoji set, as reported in docs/benchmarks.md:
//!
//! ```text
//! cargo run --release -p sentio-baseline --example emoji_baselines -- [PER_CLASS] [SEED] [hog|pixels] [THREADS]
//! ```
//!
//! Draws `PER_CLASS` (500) images of each `emoji8` class in memory with
//! `sentio_data::synth::draw_emoji` (image `i` of class `c` from `image_seed(SEED, c, i)`,
//! exactly what `sentio data synth emoji --seed SEED` writes), splits them 80/10/10 with
//! `sentio_data::split::stratified` (seed SEED), fits every baseline on the training part and
//! prints the table for the test part. Features: HOG (default; 64x64, 8 px cells, 9 bins,
//! 2x2 blocks: 1764 values) or pixels (32x32 area-downsampled: 1024 values).

use std::process::ExitCode;
use std::time::Instant;

use sentio_baseline::{Dataset, Event, FeatureKind, Options, TrainTest, run};
use sentio_data::{split, synth};
use sentio_models::labels::EMOJI8;

fn main() -> ExitCode {
    match main_() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main_() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let per_class: usize = args.first().map_or(Ok(500), |a| a.parse())?;
    let seed: u64 = args.get(1).map_or(Ok(42), |a| a.parse())?;
    let kind = match args.get(2).map_or("hog", String::as_str) {
        "hog" => FeatureKind::hog(synth::EMOJI_SIZE),
        "pixels" => FeatureKind::Pixels { side: 32 },
        other => return Err(format!("unknown features `{other}`: hog or pixels").into()),
    };
    let threads: usize = args.get(3).map_or(Ok(0), |a| a.parse())?;

    let started = Instant::now();
    let labels: Vec<String> = EMOJI8.labels.iter().map(|l| l.to_string()).collect();
    let mut x = Vec::new();
    let mut y = Vec::new();
    for class in 0..labels.len() {
        for i in 0..per_class {
            let image = synth::draw_emoji(class, synth::image_seed(seed, class, i));
            x.extend(kind.extract(&image)?);
            y.push(class);
        }
    }
    let data = Dataset::new(x, kind.n_features()?, y, labels)?;
    let parts = split::stratified(data.targets(), 0.1, 0.1, seed);
    let split = TrainTest::from(&parts);
    eprintln!(
        "{} images drawn and featurized ({}) in {:.1} s; train {}, val {} (unused), test {}",
        data.len(),
        kind.describe(),
        started.elapsed().as_secs_f64(),
        parts.train.len(),
        parts.val.len(),
        parts.test.len()
    );

    let options = Options {
        seed,
        threads,
        ..Options::default()
    };
    let mut last_percent = usize::MAX;
    let table = run(&data, &split, &options, &mut |event| match event {
        Event::Started { model, .. } => {
            last_percent = usize::MAX;
            eprint!("{} ...", model.name());
        }
        Event::Progress { done, total, .. } => {
            let percent = 100 * done / total.max(1);
            if percent / 25 != last_percent / 25 {
                eprint!(" {percent}%");
                last_percent = percent;
            }
        }
        Event::Finished(r) => eprintln!(" {:.2}% in {:.1} s", 100.0 * r.accuracy, r.fit_seconds),
        Event::Prepared { .. } => {}
    })?;
    println!("Features: {}\n", kind.describe());
    println!("{}", table.to_markdown());
    Ok(())
}

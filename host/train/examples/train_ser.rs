//! Trains the speech-emotion model on a speech folder and prints the progress, with the
//! learning rate of every epoch (for trying recipes; users run `sentio train ser`):
//! `cargo build --workspace --examples && target/debug/examples/train_ser DATA OUT [EPOCHS] [SEED]
//! [--pooling last|last_and_stats|stats] [--head N] [--dropout P] [--hidden H] [--lr LR]
//! [--masks TIME_MASKS,MAX_TIME,FEATURE_MASKS,MAX_FEATURES] [--resume]`. Options left out keep
//! the recipe of `SerOptions::new`.

use std::time::Instant;

use sentio_train::ser::Masking;
use sentio_train::ser::job::{SerOptions, train_ser};
use sentio_train::{EpochRecord, TrainProgress};

struct Print(Instant);

impl TrainProgress for Print {
    fn stage(&mut self, text: &str) {
        eprintln!("[{:7.1}s] {text}", self.0.elapsed().as_secs_f32());
    }
    fn epoch_end(&mut self, r: &EpochRecord) {
        eprintln!(
            "[{:7.1}s] epoch {:3}  loss {:.4}  acc {:.4}  val_loss {:.4}  val_acc {:.4}  lr {:.2e}  {:.1}s{}",
            self.0.elapsed().as_secs_f32(),
            r.epoch,
            r.train_loss,
            r.train_accuracy,
            r.val_loss,
            r.val_accuracy,
            r.learning_rate,
            r.seconds,
            if r.best { "  *" } else { "" }
        );
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut positional = Vec::new();
    let mut flags = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--resume" {
            flags.push(("resume".to_owned(), String::new()));
        } else if let Some(name) = arg.strip_prefix("--") {
            let value = args.next().ok_or(format!("--{name} needs a value"))?;
            flags.push((name.to_owned(), value));
        } else {
            positional.push(arg);
        }
    }
    let (Some(data), Some(out)) = (positional.first(), positional.get(1)) else {
        return Err(
            "usage: train_ser DATA OUT [EPOCHS] [SEED] [--pooling P] [--head N] \
                    [--dropout P] [--hidden H] [--lr LR] [--masks T,MAXT,F,MAXF] [--resume]"
                .into(),
        );
    };
    let mut options = SerOptions::new(data, out);
    if let Some(epochs) = positional.get(2) {
        options.train.epochs = epochs.parse()?;
    }
    if let Some(seed) = positional.get(3) {
        options.train.seed = seed.parse()?;
    }
    for (name, value) in &flags {
        let net = &mut options.network;
        match name.as_str() {
            "pooling" => net.pooling = value.parse()?,
            "head" => net.head = value.parse()?,
            "dropout" => net.dropout = value.parse()?,
            "hidden" => net.hidden = value.parse()?,
            "lr" => options.train.learning_rate = value.parse()?,
            // Continue from OUT/checkpoint; after the last epoch this only evaluates, exports
            // and writes the files again.
            "resume" => options.train.resume = true,
            "masks" => {
                let v: Vec<usize> = value.split(',').map(str::parse).collect::<Result<_, _>>()?;
                let [time_masks, max_time, feature_masks, max_features] = v[..] else {
                    return Err(
                        "--masks takes TIME_MASKS,MAX_TIME,FEATURE_MASKS,MAX_FEATURES".into(),
                    );
                };
                options.masking = Masking {
                    time_masks,
                    max_time,
                    feature_masks,
                    max_features,
                };
            }
            other => return Err(format!("unknown option --{other}").into()),
        }
    }
    eprintln!(
        "masking {:?}, learning rate {:e}, {} epochs, seed {}",
        options.masking, options.train.learning_rate, options.train.epochs, options.train.seed
    );
    let net = &options.network;
    eprintln!(
        "network {:?}: {} parameters, {} MACs per window",
        net,
        net.parameters(),
        net.macs()
    );
    let report = train_ser(&options, &mut Print(Instant::now()))?;
    println!(
        "test accuracy {:.4} (burn), split {:?}, export max diff {:e}, onnx {} bytes, {:.0} s",
        report.test_accuracy,
        report.split,
        report.export_max_diff,
        report.onnx_size,
        report.seconds
    );
    for c in &report.per_class {
        println!(
            "  {:10} precision {:.3} recall {:.3} f1 {:.3} support {}",
            c.label, c.precision, c.recall, c.f1, c.support
        );
    }
    Ok(())
}

//! Trains the speech-emotion model on a speech folder and prints the progress, with the
//! learning rate of every epoch (for trying recipes; users run `sentio train ser`):
//! `cargo build --workspace --examples && target/debug/examples/train_ser DATA OUT [EPOCHS] [SEED]`.

use std::time::Instant;

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(data), Some(out)) = (args.first(), args.get(1)) else {
        return Err("usage: train_ser DATA OUT [EPOCHS] [SEED]".into());
    };
    let mut options = SerOptions::new(data, out);
    if let Some(epochs) = args.get(2) {
        options.train.epochs = epochs.parse()?;
    }
    if let Some(seed) = args.get(3) {
        options.train.seed = seed.parse()?;
    }
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

//! Progress bars for flashing: one bar per port, drawn by indicatif (hidden when stderr is not a
//! terminal, so logs and CI stay clean; the summary lines are printed either way).

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use sentio_flash::{FlashOutcome, FlashReport, Progress};

pub struct BarProgress {
    bar: ProgressBar,
    port: String,
}

impl BarProgress {
    pub fn new(multi: &MultiProgress, port: &str) -> Self {
        let bar = multi.add(ProgressBar::new(0));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>14} {msg:<12} [{bar:30}] {bytes:>9}/{total_bytes:<9} {binary_bytes_per_sec:>11} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(port.to_string());
        BarProgress {
            bar,
            port: port.to_string(),
        }
    }
}

impl Progress for BarProgress {
    fn begin(&mut self, name: &str, total_bytes: u64) {
        self.bar.reset();
        self.bar.set_length(total_bytes);
        self.bar.set_message(name.to_string());
    }

    fn advance(&mut self, bytes_done: u64) {
        self.bar.set_position(bytes_done);
    }

    fn message(&mut self, text: &str) {
        self.bar.println(format!("{}: {text}", self.port));
    }

    fn finish(&mut self, outcome: Result<&FlashReport, &sentio_flash::Error>) {
        match outcome {
            Ok(r) if r.outcome == FlashOutcome::Skipped => {
                self.bar.finish_with_message("unchanged")
            }
            Ok(_) => self.bar.finish_with_message("done"),
            Err(_) => self.bar.abandon_with_message("failed"),
        }
    }
}

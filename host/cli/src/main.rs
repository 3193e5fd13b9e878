//! `sentio`: the Sentio host tool. Thin: clap parses, the commands call the libraries
//! (`sentio-models` for bundles and keys, `sentio-flash` for devices) and draw their progress.

mod baseline;
mod bundle;
mod data;
mod device;
mod eval;
mod faces;
mod features;
mod hil;
mod infer;
mod manifest;
mod progress;
mod sketch;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "sentio",
    version,
    about = "Sentio host tool: bundles, keys, flashing and monitoring devices"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List serial ports, with USB vendor/product ids where the OS knows them.
    Devices(device::DevicesArgs),
    /// Connect to a device and show what it is and which models it holds.
    Info(device::InfoArgs),
    /// Flash bundles to one or more devices (in parallel, one progress bar each).
    Flash(device::FlashArgs),
    /// Show a device's live events and stats.
    Monitor(device::MonitorArgs),
    /// Make the previously active version of a model active again.
    Rollback(device::ModelArgs),
    /// Delete a model (both slots) from a device.
    Delete(device::ModelArgs),
    /// Signed model bundles: pack, inspect, verify.
    #[command(subcommand)]
    Bundle(bundle::BundleCommand),
    /// Signing keys.
    #[command(subcommand)]
    Keys(bundle::KeysCommand),
    /// Datasets: procedural generators and importers for public formats.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Train a model (burn, CPU): ONNX + manifest + history + curves in --out.
    #[command(subcommand)]
    Train(train::TrainCommand),
    /// Model manifests: write one for a model trained elsewhere.
    #[command(subcommand)]
    Manifest(manifest::ManifestCommand),
    /// Run an ONNX model once on an .npy tensor or an image; print its outputs and top-k.
    Run(infer::RunArgs),
    /// Time an ONNX model: latency p50/p90/p99, throughput, peak memory, load time.
    Bench(infer::BenchArgs),
    /// Quantize an f32 ONNX model to int8 from a calibration set; report size, accuracy, latency.
    Quantize(infer::QuantizeArgs),
    /// Evaluate a model on labelled images: accuracy, per-class table, confusion matrix, worst
    /// examples (markdown, JSON and PNG with --report).
    Eval(eval::EvalArgs),
    /// Classical baselines (SVM, random forest, AdaBoost, decision tree, gradient boosting) on
    /// the training split, as one table (with the CNN beside them given --model).
    Baseline(baseline::BaselineArgs),
    /// Find faces in images with the device's detectors; print boxes (and expressions with --fer)
    Faces(faces::FacesArgs),
    /// Read hand-drawn emoji as the device's sketch mode does: cards in camera frames, touch
    /// stroke files; with --data the accuracy on labelled frames
    Sketch(sketch::SketchArgs),
    /// Print the feature matrix (MFCC, ZCR, chroma, log-mel per frame) the device computes for
    /// WAV clips, or with --manifest the window a speech model sees.
    Features(features::FeaturesArgs),
    /// Hardware-in-the-loop: run case files (inputs streamed in, events expected) on boards.
    #[command(subcommand)]
    Hil(hil::HilCommand),
}

fn main() -> ExitCode {
    exit_quietly_on_broken_pipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Devices(a) => device::devices(&a),
        Command::Info(a) => device::info(&a),
        Command::Flash(a) => device::flash(&a),
        Command::Monitor(a) => device::monitor(&a),
        Command::Rollback(a) => device::rollback(&a),
        Command::Delete(a) => device::delete(&a),
        Command::Bundle(c) => bundle::run(c),
        Command::Keys(c) => bundle::run_keys(c),
        Command::Data(c) => data::run(c),
        Command::Train(c) => train::run(c),
        Command::Manifest(c) => manifest::run(c),
        Command::Run(a) => infer::run(&a),
        Command::Bench(a) => infer::bench(&a),
        Command::Quantize(a) => infer::quantize_cmd(&a),
        Command::Eval(a) => eval::run(&a),
        Command::Baseline(a) => baseline::run(&a),
        Command::Faces(a) => faces::run(&a),
        Command::Sketch(a) => sketch::run(&a),
        Command::Features(a) => features::run(&a),
        Command::Hil(c) => hil::run(c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sentio: error: {}", report(&e));
            ExitCode::FAILURE
        }
    }
}

/// `sentio run ... | head` closes stdout before sentio is done: Rust's `print!` then panics
/// with "Broken pipe". A Unix tool ends as if killed by SIGPIPE instead (status 128 + 13), with
/// nothing on stderr.
fn exit_quietly_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

/// The error with its causes, and the help line of a flashing, inference or .npy error last.
pub fn report(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    if let Some(flash) = e
        .chain()
        .find_map(|c| c.downcast_ref::<sentio_flash::Error>())
    {
        let help = flash.help();
        if !help.is_empty() && !text.contains(&help) {
            text = format!("{text}\n  help: {help}");
        }
    }
    let infer_help = e.chain().find_map(|c| {
        c.downcast_ref::<sentio_infer::Error>()
            .map(sentio_infer::Error::help)
            .or_else(|| {
                c.downcast_ref::<sentio_infer::npy::NpyError>()
                    .map(sentio_infer::npy::NpyError::help)
            })
    });
    if let Some(help) = infer_help
        && !text.contains(&help)
    {
        text = format!("{text}\n  help: {help}");
    }
    text
}

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

use clap::{CommandFactory, Parser, Subcommand};
use miette::IntoDiagnostic as _;
use sentio_diagnostics::FileContext as _;

#[derive(Parser, Debug)]
#[command(
    name = "sentio",
    version,
    about = "Sentio host tool: bundles, keys, flashing and monitoring devices"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log more on stderr: -v info, -vv debug, -vvv trace (RUST_LOG overrides).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Log less on stderr: -q errors only, -qq nothing (RUST_LOG overrides).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    quiet: u8,
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
    /// Print a shell completion script: `sentio completions bash > /etc/bash_completion.d/sentio`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Write the man pages (sentio.1 and one per command) to a folder, or sentio.1 to stdout.
    Man {
        /// Folder for sentio.1, sentio-flash.1, ...; left out, sentio.1 goes to stdout.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

fn main() -> ExitCode {
    exit_quietly_on_broken_pipe();
    let cli = Cli::parse();
    sentio_diagnostics::init_logs(sentio_diagnostics::Verbosity {
        default: 0,
        verbose: cli.verbose,
        quiet: cli.quiet,
    });
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
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "sentio", &mut std::io::stdout());
            Ok(())
        }
        Command::Man { out } => man_pages(out.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => sentio_diagnostics::report("sentio", &e),
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

/// `sentio man`: the top page, and with a folder one page per command (`sentio-flash.1`, ...).
fn man_pages(out: Option<&std::path::Path>) -> miette::Result<()> {
    let command = Cli::command();
    let Some(dir) = out else {
        return clap_mangen::Man::new(command)
            .render(&mut std::io::stdout())
            .into_diagnostic();
    };
    std::fs::create_dir_all(dir).file_context(|| format!("cannot create {}", dir.display()))?;
    let mut pages = vec![("sentio".to_string(), command.clone())];
    for sub in command.get_subcommands() {
        pages.push((format!("sentio-{}", sub.get_name()), sub.clone()));
    }
    for (name, page) in pages {
        let mut bytes = Vec::new();
        clap_mangen::Man::new(page)
            .title(name.to_uppercase())
            .render(&mut bytes)
            .into_diagnostic()?;
        let path = dir.join(format!("{name}.1"));
        sentio_files::write_bytes_atomically(&path, &bytes)
            .file_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("man pages written to {}", dir.display());
    Ok(())
}

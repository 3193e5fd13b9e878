//! `sentio bench`: load a model (quantizing it first from `--calib` for `--precision int8`), time
//! it with `sentio_infer::bench` and print latency, throughput, memory and, with `--profile`,
//! where the time goes.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use miette::{IntoDiagnostic as _, Result, bail};
use sentio_infer::bench::{self as timing, BenchOptions, Budget, Latencies, ModelBench};
use sentio_infer::quantize::{self, Observer};
use sentio_infer::{Isa, KernelsMode, Model, NodeTime};
use serde_json::{Value, json};

use super::{ModelArgs, load_options, model_name, ms, npy_samples, read_model, show};

/// Which precision `sentio bench` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    F32,
    Int8,
}

/// `sentio bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Threads for one inference.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub threads: usize,
    /// Precision to run (default: the model's own). `int8` on an f32 model quantizes it first
    /// from --calib.
    #[arg(long, value_enum)]
    pub precision: Option<PrecisionArg>,
    /// Calibration inputs for `--precision int8` on an f32 model: an .npy of shape [N, ...input].
    #[arg(long, value_name = "FILE.npy")]
    pub calib: Option<PathBuf>,
    /// Untimed runs first.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub warmup: usize,
    /// Timed runs (default 200).
    #[arg(long, value_name = "N", conflicts_with = "seconds")]
    pub runs: Option<usize>,
    /// Run for this many seconds instead of a number of runs.
    #[arg(long, value_name = "S")]
    pub seconds: Option<f64>,
    /// Whose plan runs: `auto` (what the device does: Sentio's plan and tract's are timed at
    /// load and the faster kept), `sentio` (tract plus Sentio's kernels for the ops tract is
    /// slow at) or `tract` (tract's plan exactly as tract makes it).
    #[arg(long, visible_alias = "lowering", value_enum, default_value_t = LoweringArg::Auto)]
    pub kernels: LoweringArg,
    /// The instruction set Sentio's kernels use at most: avx512, avx2+fma, neon or portable
    /// (default: the best this CPU has). To time on one machine what a smaller CPU runs; set
    /// `TRACT_CPU_ISA` (e.g. `-avx512f`) to limit tract's kernels the same way.
    #[arg(long, value_name = "ISA", value_parser = parse_isa)]
    pub isa: Option<Isa>,
    /// Also time every node of the plan over this many extra runs (after the timed runs) and
    /// show where the time goes.
    #[arg(long, value_name = "RUNS", num_args = 0..=1, default_missing_value = "50")]
    pub profile: Option<usize>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

fn parse_isa(text: &str) -> std::result::Result<Isa, String> {
    Isa::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Isa::ALL.iter().map(|i| i.name()).collect();
        format!("no instruction set {text:?}; one of {}", names.join(", "))
    })
}

/// Whose plan `sentio bench` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LoweringArg {
    /// The faster of Sentio's plan and tract's, timed at load (what the device runs).
    Auto,
    /// tract plus Sentio's kernels and measured choices.
    Sentio,
    /// tract's plan as tract makes it.
    Tract,
}

pub fn bench(args: &BenchArgs) -> Result<()> {
    let path = &args.model.model;
    let (options, _manifest) = load_options(&args.model, args.threads)?;
    let mut options = options.kernels(match args.kernels {
        LoweringArg::Auto => KernelsMode::Auto,
        LoweringArg::Sentio => KernelsMode::Sentio,
        LoweringArg::Tract => KernelsMode::Tract,
    });
    if let Some(isa) = args.isa {
        options = options.isa(isa);
    }
    let mut bytes = read_model(path)?;
    let file_bytes = bytes.len();
    let already_int8 = quantize::is_quantized(&bytes);
    let mut quantize_time = None;
    let precision = match (args.precision, already_int8) {
        (Some(PrecisionArg::F32), true) => bail!(
            code = "usage::bench::already_int8",
            help = "bench the f32 model it came from for f32",
            "{} is already an int8 model",
            path.display()
        ),
        (Some(PrecisionArg::Int8), false) => {
            let Some(calib) = &args.calib else {
                bail!(
                    code = "usage::bench::no_calibration",
                    help = "give --calib FILE.npy of shape [N, ...input shape], or quantize it \
                            once with `sentio quantize` and bench the int8 file",
                    "{} is an f32 model: --precision int8 quantizes it first and needs \
                     calibration inputs",
                    path.display()
                );
            };
            let probe = Model::load(&bytes, &options)?;
            let samples = npy_samples(calib, probe.input_shape())?;
            let start = Instant::now();
            let q = quantize::quantize_model(&probe, &bytes, &samples, Observer::MinMax)?;
            quantize_time = Some(start.elapsed());
            bytes = q.model;
            "int8"
        }
        (_, true) => "int8",
        (_, false) => "f32",
    };
    let budget = match (args.runs, args.seconds) {
        (Some(n), _) => Budget::Runs(n.max(1)),
        (None, Some(s)) if s > 0.0 && s.is_finite() => Budget::Time(Duration::from_secs_f64(s)),
        (None, Some(s)) => bail!(
            code = "usage::bench::seconds",
            help = "give a positive number of seconds",
            "--seconds {s}"
        ),
        (None, None) => Budget::Runs(200),
    };
    let bench_options = BenchOptions {
        warmup: args.warmup,
        budget,
        profile: args.profile,
    };
    let measured = timing::bench_model(&bytes, &options, &bench_options)?;
    let ModelBench {
        latencies,
        memory,
        lowering,
        ..
    } = &measured;

    let doc = json!({
        "model": show(path),
        "name": model_name(path),
        "precision": precision,
        "quantized_here": quantize_time.is_some(),
        "threads": options.thread_count(),
        "input_shape": measured.input_shape,
        "file_bytes": file_bytes,
        "model_bytes": bytes.len(),
        "load_ms": ms(measured.load),
        "quantize_ms": quantize_time.map(ms),
        "warmup": args.warmup,
        "runs": latencies.runs(),
        "seconds": latencies.wall().as_secs_f64(),
        "latency_ms": latencies_json(latencies),
        "throughput_per_s": latencies.throughput(),
        "memory": {
            "method": memory.method(),
            "baseline_rss_bytes": memory.baseline_rss,
            "rss_after_load_bytes": memory.rss_after_load,
            "peak_bytes": memory.peak,
            "model_bytes": memory.model_bytes(),
        },
        "tract_onnx": sentio_infer::TRACT_VERSION,
        "lowering": {
            "mode": format!("{:?}", args.kernels).to_lowercase(),
            "plan": {
                "chosen": lowering.plan.chosen.name(),
                "reason": lowering.plan.reason.name(),
                "isa": lowering.plan.isa.name(),
                "times_ms": lowering.plan.times.iter()
                    .map(|(k, t)| (k.name().to_string(), json!(ms(*t))))
                    .collect::<serde_json::Map<_, _>>(),
            },
            "flat_convs": lowering.flat_convs,
            "row_convs": lowering.row_convs,
            "row_max_pools": lowering.max_pools,
            "sequence_lstms": lowering.lstms,
            "conv_choice": lowering.conv_choice.as_ref().map(|c| json!({
                "direct_spatial": c.direct_spatial,
                "direct_spatial_ms": ms(c.direct_spatial_time),
                "im2col_ms": ms(c.im2col_time),
            })),
        },
        "nodes": measured.nodes.as_ref().map(|nodes| nodes_json(nodes)),
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&doc).into_diagnostic()?);
        return Ok(());
    }
    let mib = |b: Option<u64>| {
        b.map_or_else(
            || "n/a".to_owned(),
            |b| format!("{:.1} MiB", b as f64 / 1048576.0),
        )
    };
    println!(
        "model      {} ({precision}, {} bytes{}), {} thread(s)",
        path.display(),
        bytes.len(),
        if quantize_time.is_some() {
            ", quantized from --calib"
        } else {
            ""
        },
        options.thread_count()
    );
    if let Some(q) = quantize_time {
        println!("quantize   {:.1} ms", ms(q));
    }
    println!("load       {:.1} ms", ms(measured.load));
    let replaced = !(lowering.flat_convs.is_empty()
        && lowering.row_convs.is_empty()
        && lowering.max_pools == 0
        && lowering.lstms.is_empty());
    if replaced {
        let named = |names: &[String]| {
            if names.is_empty() {
                String::new()
            } else {
                format!(" ({})", names.join(", "))
            }
        };
        println!(
            "lowering   Sentio kernels: {} flat conv(s){}, {} row conv(s){}, {} row max pool(s), \
             {} whole-sequence LSTM(s){}",
            lowering.flat_convs.len(),
            named(&lowering.flat_convs),
            lowering.row_convs.len(),
            named(&lowering.row_convs),
            lowering.max_pools,
            lowering.lstms.len(),
            named(&lowering.lstms)
        );
    }
    println!("plan       {}", lowering.plan);
    if let Some(choice) = &lowering.conv_choice {
        println!("lowering   {choice}");
    }
    println!(
        "latency    p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  mean {:.3} ms  ({} runs after {} warm-up)",
        ms(latencies.percentile(50.0)),
        ms(latencies.percentile(90.0)),
        ms(latencies.percentile(99.0)),
        ms(latencies.mean()),
        latencies.runs(),
        args.warmup
    );
    println!("throughput {:.1} inferences/s", latencies.throughput());
    println!(
        "memory     peak RSS {}, model's share {} (peak after runs - RSS before load)",
        mib(memory.peak),
        mib(memory.model_bytes())
    );
    if let (Some(nodes), Some(runs)) = (&measured.nodes, args.profile) {
        print_node_profile(nodes, runs);
    }
    Ok(())
}

fn latencies_json(latencies: &Latencies) -> Value {
    json!({
        "p50": ms(latencies.percentile(50.0)),
        "p90": ms(latencies.percentile(90.0)),
        "p99": ms(latencies.percentile(99.0)),
        "mean": ms(latencies.mean()),
        "min": ms(latencies.min()),
        "max": ms(latencies.max()),
    })
}

fn nodes_json(nodes: &[NodeTime]) -> Value {
    nodes
        .iter()
        .map(|n| {
            json!({
                "id": n.id,
                "name": n.name,
                "op": n.op,
                "output_shape": n.output_shape,
                "info": n.info,
                "mean_ms": ms(n.mean),
            })
        })
        .collect()
}

/// The nodes in plan order with their share of the total, then the time per operator.
fn print_node_profile(nodes: &[NodeTime], runs: usize) {
    let total: Duration = nodes.iter().map(|n| n.mean).sum();
    let share = |d: Duration| 100.0 * d.as_secs_f64() / total.as_secs_f64().max(1e-12);
    println!(
        "profile    {:.3} ms per run summed over {} nodes (mean of {} runs; each node timed alone)",
        ms(total),
        nodes.len(),
        runs.max(1)
    );
    for n in nodes {
        println!(
            "  {:>8.3} ms {:>5.1}%  {:<22} {:<28} {:<16} {}",
            ms(n.mean),
            share(n.mean),
            n.op,
            n.name,
            n.output_shape,
            timing::implementation(n)
        );
    }
    println!("by operator");
    for op in timing::by_operator(nodes) {
        println!(
            "  {:>8.3} ms {:>5.1}%  {} x{}",
            ms(op.time),
            share(op.time),
            op.op,
            op.nodes
        );
    }
}

//! Timing and memory of model runs: the one timing loop of the project ([`time`], and
//! [`time_rounds`] for candidates timed in turn), nearest-rank percentiles ([`Latencies`]),
//! and the peak resident memory of this process ([`Memory`]).
//!
//! `sentio bench` ([`bench_model`]), `sentio quantize` ([`quick_p50`]), the plan choice at load
//! ([`crate::lowering::plan`]) and the host tools that time a detector or a feature extractor
//! all measure through here, so a p50 means the same everywhere. Nothing here prints.

use std::time::{Duration, Instant};

use crate::error::Result;
use crate::lowering::Lowering;
use crate::model::{LoadOptions, Model, NodeTime};

/// Latencies of timed runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Latencies {
    /// Sorted, fastest first.
    sorted: Vec<Duration>,
    /// Wall time of all timed runs.
    wall: Duration,
}

impl Latencies {
    /// The latencies `times` (in any order) of runs that took `wall` in all.
    pub fn new(mut times: Vec<Duration>, wall: Duration) -> Latencies {
        times.sort();
        Latencies {
            sorted: times,
            wall,
        }
    }

    /// Every latency, fastest first.
    pub fn sorted(&self) -> &[Duration] {
        &self.sorted
    }

    /// How many runs were timed.
    pub fn runs(&self) -> usize {
        self.sorted.len()
    }

    /// Wall time of all timed runs.
    pub fn wall(&self) -> Duration {
        self.wall
    }

    /// Nearest-rank percentile (so p50 <= p90 <= p99 always holds); zero when nothing was timed.
    pub fn percentile(&self, p: f64) -> Duration {
        let rank = ((p / 100.0) * self.sorted.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.sorted.len().max(1)) - 1;
        self.sorted.get(index).copied().unwrap_or_default()
    }

    /// The median ([`percentile`](Self::percentile) 50).
    pub fn p50(&self) -> Duration {
        self.percentile(50.0)
    }

    /// The mean latency.
    pub fn mean(&self) -> Duration {
        let n = u32::try_from(self.sorted.len().max(1)).unwrap_or(u32::MAX);
        self.sorted.iter().sum::<Duration>() / n
    }

    /// The fastest run.
    pub fn min(&self) -> Duration {
        self.sorted.first().copied().unwrap_or_default()
    }

    /// The slowest run.
    pub fn max(&self) -> Duration {
        self.sorted.last().copied().unwrap_or_default()
    }

    /// Runs per second of wall time.
    pub fn throughput(&self) -> f64 {
        self.sorted.len() as f64 / self.wall.as_secs_f64().max(1e-12)
    }
}

/// When to stop timing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Budget {
    /// This many runs (at least 1).
    Runs(usize),
    /// Runs until this much time has passed (at least 1 run).
    Time(Duration),
    /// This many runs, or fewer (at least 1) when the time is up first.
    RunsWithin(usize, Duration),
}

impl Budget {
    /// Whether `runs` runs that started `elapsed` ago are enough.
    fn spent(self, runs: usize, elapsed: Duration) -> bool {
        match self {
            Budget::Runs(n) => runs >= n.max(1),
            Budget::Time(t) => runs > 0 && elapsed >= t,
            Budget::RunsWithin(n, t) => runs >= n.max(1) || (runs > 0 && elapsed >= t),
        }
    }
}

/// `warmup` untimed calls of `run`, then timed calls until `budget` is spent; the first error
/// ends the timing and is returned.
pub fn time<T, E>(
    mut run: impl FnMut() -> Result<T, E>,
    warmup: usize,
    budget: Budget,
) -> Result<Latencies, E> {
    for _ in 0..warmup {
        run()?;
    }
    let mut times = Vec::new();
    let start = Instant::now();
    while !budget.spent(times.len(), start.elapsed()) {
        let t = Instant::now();
        run()?;
        times.push(t.elapsed());
    }
    Ok(Latencies::new(times, start.elapsed()))
}

/// Times `candidates` alternatives in turn: `warmup` untimed rounds, then `rounds` timed rounds,
/// each running every candidate once (so a burst of load on the machine hits all alike). A run
/// of candidate `i` is `setup(i)` (untimed, e.g. a fresh state) and then `run(i, state)`
/// (timed). Each candidate's wall time is the sum of its timed runs.
pub fn time_rounds<S, E>(
    candidates: usize,
    warmup: usize,
    rounds: usize,
    mut setup: impl FnMut(usize) -> Result<S, E>,
    mut run: impl FnMut(usize, S) -> Result<(), E>,
) -> Result<Vec<Latencies>, E> {
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(rounds); candidates];
    for round in 0..warmup + rounds {
        for (i, times) in times.iter_mut().enumerate() {
            let state = setup(i)?;
            let start = Instant::now();
            run(i, state)?;
            if round >= warmup {
                times.push(start.elapsed());
            }
        }
    }
    Ok(times
        .into_iter()
        .map(|t| {
            let wall = t.iter().sum();
            Latencies::new(t, wall)
        })
        .collect())
}

/// A deterministic input in [0, 1) (where images land after scaling): the same for every run
/// and every precision, so f32 and int8 are timed on the same data.
pub fn input(len: usize) -> Vec<f32> {
    crate::onnx::SplitMix64::new(0x5e_4710).vec(len, 0.0, 1.0)
}

/// The short benchmark `sentio quantize` reports: p50 over 50 runs after 5 warm-up runs, or
/// fewer runs when they take more than 2 seconds.
pub fn quick_p50(model: &mut Model) -> Result<Duration> {
    let input = input(model.input_shape().iter().product());
    let budget = Budget::RunsWithin(50, Duration::from_secs(2));
    Ok(time(|| model.run(&input), 5, budget)?.p50())
}

/// A field of /proc/self/status in bytes (`VmHWM`, `VmRSS`); None where there is no procfs.
fn proc_status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line
        .trim_start_matches(field)
        .trim_start_matches(':')
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

/// This process's resident memory now, in bytes (None where there is no procfs).
pub fn rss_bytes() -> Option<u64> {
    proc_status_bytes("VmRSS")
}

/// This process's peak resident memory, in bytes (None where there is no procfs).
pub fn peak_rss_bytes() -> Option<u64> {
    proc_status_bytes("VmHWM")
}

/// Resets the peak resident memory to the current one (Linux >= 4.0: writing 5 to clear_refs),
/// so a peak measured later is what came after and not before (e.g. calibration); false when it
/// could not be reset.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// What [`bench_model`] does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BenchOptions {
    /// Untimed runs first.
    pub warmup: usize,
    /// When to stop timing.
    pub budget: Budget,
    /// Also time every node of the plan over this many extra runs (after the timed runs).
    pub profile: Option<usize>,
}

/// Memory taken by loading and running a model (VmHWM and VmRSS of /proc/self/status).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    /// Whether the peak could be reset to the current RSS just before loading.
    pub peak_reset: bool,
    /// RSS before loading.
    pub baseline_rss: Option<u64>,
    /// Peak RSS before loading (after the reset).
    pub baseline_peak: Option<u64>,
    /// RSS after loading.
    pub rss_after_load: Option<u64>,
    /// Peak RSS after the timed runs.
    pub peak: Option<u64>,
}

impl Memory {
    /// What loading and running this model took: the peak after the runs minus the peak before
    /// loading.
    pub fn model_bytes(&self) -> Option<u64> {
        match (self.peak, self.baseline_peak) {
            (Some(p), Some(b)) => Some(p.saturating_sub(b)),
            _ => None,
        }
    }

    /// How the figures were measured.
    pub fn method(&self) -> &'static str {
        if self.peak_reset {
            "VmHWM from /proc/self/status, reset to the current RSS (clear_refs 5) before loading; \
             model_bytes = peak after the runs - RSS before loading"
        } else {
            "VmHWM from /proc/self/status before loading and after the runs (peak could not be \
             reset: model_bytes is 0 when an earlier peak was higher)"
        }
    }
}

/// What [`bench_model`] measured.
#[derive(Clone, Debug)]
pub struct ModelBench {
    /// Time to load the model (parse, optimize, choose the plan, smoke run).
    pub load: Duration,
    /// The input shape the model was run with.
    pub input_shape: Vec<usize>,
    /// The timed runs of the whole [`Model::run`] (input copy, inference, output copy: what a
    /// caller waits for).
    pub latencies: Latencies,
    /// Memory taken by loading and running it.
    pub memory: Memory,
    /// What Sentio's lowering did to the plan.
    pub lowering: Lowering,
    /// Every node's mean time, with [`BenchOptions::profile`].
    pub nodes: Option<Vec<NodeTime>>,
}

/// Loads `model` (ONNX bytes) with `options` and times it on [`input`]: `sentio bench`.
///
/// The peak RSS is reset to the current RSS just before loading and read after the timed runs;
/// the increase is what loading and running this model took.
pub fn bench_model(
    model: &[u8],
    options: &LoadOptions,
    bench: &BenchOptions,
) -> Result<ModelBench> {
    let peak_reset = reset_peak_rss();
    let baseline_peak = peak_rss_bytes();
    let baseline_rss = rss_bytes();
    let load_start = Instant::now();
    let mut loaded = Model::load(model, options)?;
    let load = load_start.elapsed();
    let rss_after_load = rss_bytes();
    let input_shape = loaded.input_shape().to_vec();
    let input = input(input_shape.iter().product());
    let latencies = time(|| loaded.run(&input), bench.warmup, bench.budget)?;
    let peak = peak_rss_bytes();
    let nodes = match bench.profile {
        Some(runs) => Some(loaded.profile_nodes(&input, runs)?),
        None => None,
    };
    Ok(ModelBench {
        load,
        input_shape,
        latencies,
        memory: Memory {
            peak_reset,
            baseline_rss,
            baseline_peak,
            rss_after_load,
            peak,
        },
        lowering: loaded.lowering().clone(),
        nodes,
    })
}

/// The loops one of Sentio's ops runs (the last parenthesis of its info, e.g. `avx512 8x48` or
/// `neon stride-2 pool`); empty for tract's ops.
pub fn implementation(node: &NodeTime) -> &str {
    let info = node.info.first().map(String::as_str).unwrap_or("");
    match (node.op.starts_with("Sentio"), info.rfind('(')) {
        (true, Some(open)) if info.ends_with(')') => {
            info.get(open + 1..info.len() - 1).unwrap_or("")
        }
        _ => "",
    }
}

/// The time of one operator summed over its nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpTime {
    /// tract's operator name.
    pub op: String,
    /// The mean times of its nodes, summed.
    pub time: Duration,
    /// How many nodes run it.
    pub nodes: usize,
}

/// The nodes' times summed per operator, slowest first (operators of equal time in plan order).
pub fn by_operator(nodes: &[NodeTime]) -> Vec<OpTime> {
    let mut by_op: Vec<OpTime> = Vec::new();
    for n in nodes {
        match by_op.iter_mut().find(|o| o.op == n.op) {
            Some(o) => {
                o.time += n.mean;
                o.nodes += 1;
            }
            None => by_op.push(OpTime {
                op: n.op.clone(),
                time: n.mean,
                nodes: 1,
            }),
        }
    }
    by_op.sort_by_key(|o| std::cmp::Reverse(o.time));
    by_op
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn percentiles_are_ordered_nearest_rank() {
        let lat = Latencies::new((1..=100).rev().map(ms).collect(), Duration::from_secs(5));
        assert_eq!(lat.percentile(50.0), ms(50));
        assert_eq!(lat.percentile(90.0), ms(90));
        assert_eq!(lat.percentile(99.0), ms(99));
        assert_eq!(lat.throughput(), 20.0);
        assert_eq!((lat.min(), lat.max(), lat.runs()), (ms(1), ms(100), 100));
        let one = Latencies::new(vec![ms(3)], ms(3));
        assert_eq!(one.percentile(50.0), one.percentile(99.0));
        // 15 rounds (the plan choice's): the nearest-rank median is the 8th.
        let fifteen = Latencies::new((1..=15).map(ms).collect(), ms(120));
        assert_eq!(fifteen.p50(), ms(8));
        let none = Latencies::default();
        assert_eq!(
            (none.p50(), none.mean(), none.max()),
            (Duration::ZERO, Duration::ZERO, Duration::ZERO)
        );
    }

    #[test]
    fn budgets_stop_where_they_say_and_errors_stop_the_timing() {
        let mut calls = 0;
        let lat = time(
            || {
                calls += 1;
                Ok::<_, ()>(())
            },
            3,
            Budget::Runs(7),
        );
        assert_eq!(lat.map(|l| l.runs()), Ok(7));
        assert_eq!(calls, 10);
        // Zero runs still times one; a time budget of zero too.
        assert_eq!(
            time(|| Ok::<_, ()>(()), 0, Budget::Runs(0)).map(|l| l.runs()),
            Ok(1)
        );
        assert_eq!(
            time(|| Ok::<_, ()>(()), 0, Budget::Time(Duration::ZERO)).map(|l| l.runs()),
            Ok(1)
        );
        assert_eq!(
            time(
                || Ok::<_, ()>(()),
                0,
                Budget::RunsWithin(1000, Duration::ZERO)
            )
            .map(|l| l.runs()),
            Ok(1)
        );
        let mut left = 4;
        let failing = time(
            || {
                left -= 1;
                if left == 0 { Err("boom") } else { Ok(()) }
            },
            1,
            Budget::Runs(10),
        );
        assert_eq!(failing, Err("boom"));
    }

    #[test]
    fn rounds_run_every_candidate_in_turn_with_untimed_setup() {
        let mut order = Vec::new();
        let lat = time_rounds(
            2,
            1,
            3,
            |i| Ok::<_, ()>(i * 10),
            |i, state| {
                order.push((i, state));
                Ok(())
            },
        );
        let lat = lat.unwrap_or_default();
        assert_eq!(lat.iter().map(Latencies::runs).collect::<Vec<_>>(), [3, 3]);
        assert_eq!(order, [(0, 0), (1, 10)].repeat(4));
    }

    #[test]
    fn operators_sum_their_nodes_slowest_first() {
        let node = |op: &str, mean: u64, info: &str| NodeTime {
            id: 0,
            name: String::new(),
            op: op.into(),
            output_shape: String::new(),
            info: vec![info.into()],
            mean: ms(mean),
        };
        let nodes = [
            node("Conv", 2, ""),
            node("SentioFlatConv", 3, "8 -> 16 (avx2 8x8)"),
            node("Conv", 2, "(not ours)"),
        ];
        let ops = by_operator(&nodes);
        assert_eq!(
            ops.iter()
                .map(|o| (o.op.as_str(), o.time, o.nodes))
                .collect::<Vec<_>>(),
            [("Conv", ms(4), 2), ("SentioFlatConv", ms(3), 1)]
        );
        assert_eq!(implementation(&nodes[1]), "avx2 8x8");
        assert_eq!(implementation(&nodes[2]), "");
    }

    #[test]
    fn memory_is_the_increase_of_the_peak() {
        let m = Memory {
            peak_reset: true,
            baseline_peak: Some(100),
            peak: Some(350),
            ..Memory::default()
        };
        assert_eq!(m.model_bytes(), Some(250));
        assert!(m.method().contains("VmHWM"));
        assert_eq!(Memory::default().model_bytes(), None);
    }
}

//! Loading an ONNX model into an optimized tract plan with a fixed input shape, and running it.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use prost::Message;
use sentio_models::{DType, Manifest};
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::runtime::RunOptions;
use tract_onnx::tract_core::tract_linalg::multithread::Executor;

use crate::cache::{CacheStatus, PlanCache, machine_key};
use crate::error::{Error, Result};
use crate::lowering::{self, ChoiceReason, KernelsMode, Lowering};
use sentio_kernels::Isa;

type Plan = TypedSimplePlan;
type State = TypedSimpleState;

/// How to load a model: its name (for errors), the manifest it ships with, an explicit shape.
///
/// The input shape is taken from, in order: the explicit [`shape`](Self::shape), the manifest's
/// `input.shape`, the model's declared input shape (a symbolic first dimension, the batch, is
/// taken as 1). Whichever is used must agree with the model's fixed dimensions.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    name: Option<String>,
    manifest_shape: Option<Vec<usize>>,
    manifest_dtype: Option<DType>,
    labels: Option<Vec<String>>,
    shape: Option<Vec<usize>>,
    smoke_run: bool,
    threads: usize,
    cache: Option<PlanCache>,
    /// Off only for calibration, which needs every intermediate value tract's optimizer fuses.
    unoptimized: bool,
    /// Whose plan runs: Sentio's kernels, tract's own, or the faster of the two.
    kernels: KernelsMode,
    /// The instruction set Sentio's kernels may use at most (default: the best this CPU has).
    isa: Option<Isa>,
}

impl LoadOptions {
    /// No manifest, no explicit shape, a smoke run after loading.
    pub fn new() -> Self {
        Self {
            smoke_run: true,
            ..Self::default()
        }
    }

    /// The name errors and reports use (default: the manifest's name, the file's stem, `model`).
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Takes the input shape, element type, labels and name from `manifest`.
    pub fn manifest(mut self, manifest: &Manifest) -> Self {
        if self.name.is_none() {
            self.name = Some(manifest.name.clone());
        }
        self.manifest_shape = Some(manifest.input.shape.clone());
        self.manifest_dtype = Some(manifest.input.dtype);
        self.labels = Some(manifest.labels.labels.clone());
        self
    }

    /// Labels for [`Outputs::top_k`] when there is no manifest.
    pub fn labels(mut self, labels: &[&str]) -> Self {
        self.labels = Some(labels.iter().map(|l| (*l).to_owned()).collect());
        self
    }

    /// An explicit input shape (overrides the manifest's, e.g. `sentio run --shape`).
    pub fn shape(mut self, shape: &[usize]) -> Self {
        self.shape = Some(shape.to_vec());
        self
    }

    /// Whether to run a zero input through the model after loading (default: yes).
    pub fn smoke_run(mut self, on: bool) -> Self {
        self.smoke_run = on;
        self
    }

    /// Threads for one inference (the board profile's `runtime.threads`; default 1, which is
    /// tract's own default: a single-threaded executor).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Runs tract's plan exactly as tract optimizes it, without Sentio's kernels and measured
    /// choices (`kernels(KernelsMode::Tract)`; off: `KernelsMode::Sentio`). For comparisons.
    pub fn tract_only(mut self, on: bool) -> Self {
        self.kernels = if on {
            KernelsMode::Tract
        } else {
            KernelsMode::Sentio
        };
        self
    }

    /// Whose plan runs (a profile's `runtime.kernels`; default [`KernelsMode::Auto`]: Sentio's
    /// plan and tract's are timed at load and the faster is kept, the choice cached with the
    /// plan when there is a [`cache`](Self::cache)).
    pub fn kernels(mut self, mode: KernelsMode) -> Self {
        self.kernels = mode;
        self
    }

    /// Sentio's kernels use at most `isa` (the best this CPU has up to it, [`Isa::capped`]):
    /// to time on one machine what a CPU without AVX-512 runs (`sentio bench --isa`).
    pub fn isa(mut self, isa: Isa) -> Self {
        self.isa = Some(isa);
        self
    }

    /// The instruction set Sentio's kernels will run with.
    pub fn kernel_isa(&self) -> Isa {
        self.isa.map_or_else(Isa::detected, Isa::capped)
    }

    /// Keeps the decluttered plan in `cache` so the next load of the same model skips parsing
    /// and decluttering.
    pub fn cache(mut self, cache: PlanCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The same options without labels (a calibration probe's outputs are not classes).
    pub(crate) fn without_labels(mut self) -> Self {
        self.labels = None;
        self
    }

    /// Types the model without optimizing it, so every node's output stays observable.
    pub(crate) fn unoptimized(mut self) -> Self {
        self.unoptimized = true;
        self
    }

    /// The name this model will be reported by before a file name is known.
    pub(crate) fn model_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| "model".to_owned())
    }

    /// The thread count asked for (0 and 1 both mean one).
    pub fn thread_count(&self) -> usize {
        self.threads.max(1)
    }
}

/// Time spent in each stage of one [`Model::run`], like Edge Impulse's `--profiling`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    /// Checking the input and copying it into the input tensor.
    pub preprocess: Duration,
    /// tract running the plan.
    pub infer: Duration,
    /// Copying the output tensors out.
    pub postprocess: Duration,
}

impl Profile {
    /// The sum of the stages.
    pub fn total(&self) -> Duration {
        self.preprocess + self.infer + self.postprocess
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "preprocess {:.3} ms, infer {:.3} ms, postprocess {:.3} ms (total {:.3} ms)",
            ms(self.preprocess),
            ms(self.infer),
            ms(self.postprocess),
            ms(self.total())
        )
    }
}

/// One output tensor, as f32.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputTensor {
    /// The output's name in the graph.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub data: Vec<f32>,
}

/// One class of a [`Outputs::top_k`] answer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction<'a> {
    /// Index along the output's last axis.
    pub index: usize,
    /// Its label, when the model has labels.
    pub label: Option<&'a str>,
    /// The output value (a probability when the model ends in a softmax).
    pub score: f32,
}

/// What one [`Model::run`] returns.
#[derive(Clone, Debug)]
pub struct Outputs {
    /// The output tensors, in graph order.
    pub tensors: Vec<OutputTensor>,
    /// Time per stage.
    pub profile: Profile,
    labels: Option<Arc<[String]>>,
}

impl Outputs {
    /// The `k` highest values of the first output (flattened), best first, with their labels.
    /// Ties keep the lower index first; NaN sorts last.
    pub fn top_k(&self, k: usize) -> Vec<Prediction<'_>> {
        let Some(first) = self.tensors.first() else {
            return Vec::new();
        };
        let mut order: Vec<usize> = (0..first.data.len()).collect();
        order.sort_by(|a, b| {
            let (x, y) = (first.data[*a], first.data[*b]);
            match (x.is_nan(), y.is_nan()) {
                (true, false) => std::cmp::Ordering::Greater,
                (false, true) => std::cmp::Ordering::Less,
                _ => y.total_cmp(&x).then(a.cmp(b)),
            }
        });
        order
            .into_iter()
            .take(k)
            .map(|index| Prediction {
                index,
                label: self
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(index))
                    .map(String::as_str),
                score: first.data[index],
            })
            .collect()
    }
}

/// A loaded, optimized model with a fixed input shape, ready to [`run`](Self::run).
pub struct Model {
    name: String,
    sha256: [u8; 32],
    input_name: String,
    input_shape: Vec<usize>,
    input_len: usize,
    output_names: Vec<String>,
    output_shapes: Vec<Vec<usize>>,
    labels: Option<Arc<[String]>>,
    plan: Arc<Plan>,
    state: State,
    /// The input tensor, reused across runs when tract has let go of it.
    input: Arc<Tensor>,
    input_allocations: u64,
    runs: u64,
    cache_status: CacheStatus,
    lowering: Lowering,
    /// Some op keeps state between runs (tract's Scan, i.e. LSTM/GRU, carries its hidden state
    /// into the next run of the same `SimpleState`): such plans get a fresh state every run.
    stateful: bool,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.name)
            .field("sha256", &hex::encode(self.sha256))
            .field("input_shape", &self.input_shape)
            .field("output_shapes", &self.output_shapes)
            .finish_non_exhaustive()
    }
}

fn onnx() -> &'static tract_onnx::Onnx {
    static ONNX: OnceLock<tract_onnx::Onnx> = OnceLock::new();
    ONNX.get_or_init(tract_onnx::onnx)
}

fn f32_vec(t: &Tensor) -> TractResult<Vec<f32>> {
    Ok(t.try_as_plain_ram()?.as_slice::<f32>()?.to_vec())
}

/// tract's error chain on one line (it names the failing node and operator).
fn chain(e: &TractError) -> String {
    format!("{e:#}")
}

impl Model {
    /// Loads a model file.
    pub fn load_path(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Self> {
        let path = path.as_ref();
        let name = options.name.clone().unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "model".to_owned())
        });
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            model: name.clone(),
            path: path.to_owned(),
            source,
        })?;
        Self::load_named(&bytes, options, name)
    }

    /// Loads a model from the bytes of an ONNX file.
    pub fn load(bytes: &[u8], options: &LoadOptions) -> Result<Self> {
        let name = options.model_name();
        Self::load_named(bytes, options, name)
    }

    fn load_named(bytes: &[u8], options: &LoadOptions, name: String) -> Result<Self> {
        let model = name;
        if bytes.is_empty() {
            return Err(Error::Empty { model });
        }
        let mut proto = pb::ModelProto::decode(bytes).map_err(|e| Error::Corrupt {
            model: model.clone(),
            len: bytes.len(),
            detail: e.to_string(),
        })?;
        if let Some(graph) = proto.graph.as_mut() {
            fix::constant_of_shape_values(graph);
        }
        let Some(graph) = proto.graph.as_ref() else {
            return Err(Error::NoGraph { model });
        };
        let input = check::single_input(&model, graph)?;
        check::outputs_defined(&model, graph)?;
        check::operators(&model, graph, &onnx().op_register)?;
        check::finite_weights(&model, graph)?;
        check::raw_tensor_types(&model, graph)?;
        let (input_name, declared) = check::input_type(&model, input)?;
        if !matches!(options.manifest_dtype, None | Some(DType::F32)) {
            return Err(Error::UnsupportedInputType {
                model,
                input: input_name,
                dtype: format!("{:?} (in the manifest)", options.manifest_dtype),
            });
        }
        let input_shape = check::resolve_shape(&model, &input_name, &declared, options)?;
        let input_len = input_shape.iter().product();

        let sha256 = sentio_models::sha256(bytes);
        let optimize_err = |stage: &'static str| {
            let model = model.clone();
            move |e: TractError| Error::Optimize {
                model,
                stage,
                detail: chain(&e),
            }
        };
        let cached = match &options.cache {
            Some(cache) if !options.unoptimized => cache.load(&sha256, &input_shape),
            _ => None,
        };
        let mut cache_status = if options.cache.is_some() && !options.unoptimized {
            CacheStatus::Hit
        } else {
            CacheStatus::Disabled
        };
        let decluttered = match cached {
            Some(m) => m,
            None => {
                let inference = onnx()
                    .model_for_proto_model(&proto)
                    .map_err(optimize_err("parse"))?
                    .with_input_fact(0, f32::fact(input_shape.iter().copied()).into())
                    .map_err(optimize_err("type"))?;
                if options.unoptimized {
                    inference.into_typed().map_err(optimize_err("type"))?
                } else {
                    let m = inference
                        .into_typed()
                        .and_then(|m| m.into_decluttered())
                        .map_err(optimize_err("declutter"))?;
                    if let Some(cache) = &options.cache {
                        cache_status = match cache.store(&sha256, &input_shape, &m) {
                            Ok(()) => CacheStatus::Stored,
                            Err(reason) => CacheStatus::StoreFailed(reason),
                        };
                    }
                    m
                }
            }
        };
        let run_options = RunOptions {
            executor: (options.thread_count() > 1)
                .then(|| Executor::multithread(options.thread_count())),
            ..RunOptions::default()
        };
        let isa = options.kernel_isa();
        // (what a cached plan choice is keyed by besides the model: only read with a cache)
        let machine = || machine_key(isa, options.thread_count());
        // Calibration observes every tensor of the graph by name: it gets tract's typed graph
        // unchanged.
        let (typed, lowering) = if options.unoptimized {
            (decluttered, Lowering::default())
        } else {
            let cached = match (&options.cache, options.kernels) {
                (Some(cache), KernelsMode::Auto) => {
                    cache.load_choice(&sha256, &input_shape, &machine())
                }
                _ => None,
            };
            let request = lowering::PlanRequest {
                input_shape: &input_shape,
                run_options: &run_options,
                mode: options.kernels,
                isa,
                cached,
            };
            let (typed, lowering) =
                lowering::plan(decluttered, &request).map_err(optimize_err("optimize"))?;
            if let (Some(cache), ChoiceReason::Measured) = (&options.cache, &lowering.plan.reason)
                && options.kernels == KernelsMode::Auto
            {
                // Best effort, as the plan: a choice not stored is timed again next time.
                let _ = cache.store_choice(&sha256, &input_shape, &machine(), &lowering.plan);
            }
            (typed, lowering)
        };
        let mut output_names = Vec::new();
        let mut output_shapes = Vec::new();
        for (ix, outlet) in typed.output_outlets().unwrap_or(&[]).iter().enumerate() {
            let fact = typed.outlet_fact(*outlet).map_err(|e| Error::Optimize {
                model: model.clone(),
                stage: "type",
                detail: chain(&e),
            })?;
            let shape = fact
                .shape
                .as_concrete()
                .map(<[usize]>::to_vec)
                .ok_or_else(|| Error::Optimize {
                    model: model.clone(),
                    stage: "type",
                    detail: format!("output {ix} has a symbolic shape {:?}", fact.shape),
                })?;
            output_names.push(
                graph
                    .output
                    .get(ix)
                    .map(|o| o.name.clone())
                    .unwrap_or_else(|| format!("output_{ix}")),
            );
            output_shapes.push(shape);
        }
        let labels = options.labels.clone().filter(|l| !l.is_empty());
        if let (Some(labels), Some(shape)) = (&labels, output_shapes.first()) {
            let classes = shape.last().copied().unwrap_or(1);
            if classes != labels.len() {
                return Err(Error::LabelMismatch {
                    model,
                    labels: labels.len(),
                    output: output_names.first().cloned().unwrap_or_default(),
                    classes,
                    shape: shape.clone(),
                });
            }
        }
        let plan = typed
            .into_runnable_with_options(&run_options)
            .map_err(|e| Error::Optimize {
                model: model.clone(),
                stage: "plan",
                detail: chain(&e),
            })?;
        let state = plan.spawn().map_err(|e| Error::Optimize {
            model: model.clone(),
            stage: "plan",
            detail: chain(&e),
        })?;
        let stateful = state.op_states.iter().any(Option::is_some);
        let input = Arc::new(
            Tensor::zero::<f32>(&input_shape).map_err(|e| Error::Optimize {
                model: model.clone(),
                stage: "plan",
                detail: chain(&e),
            })?,
        );
        let mut loaded = Self {
            name: model,
            sha256,
            cache_status,
            input_name,
            input_shape,
            input_len,
            output_names,
            output_shapes,
            labels: labels.map(Arc::from),
            plan,
            state,
            input,
            input_allocations: 0,
            runs: 0,
            stateful,
            lowering,
        };
        if options.smoke_run {
            loaded.smoke_run()?;
        }
        Ok(loaded)
    }

    /// Runs a zero input through the model; fails on a tract error or a non-finite output.
    pub fn smoke_run(&mut self) -> Result<()> {
        let zeros = vec![0.0; self.input_len];
        let out = self.run(&zeros).map_err(|e| Error::SmokeRun {
            model: self.name.clone(),
            detail: e.to_string(),
        })?;
        for t in &out.tensors {
            if let Some((i, v)) = t.data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(Error::SmokeRun {
                    model: self.name.clone(),
                    detail: format!(
                        "output `{}` holds {v} at index {i} for a zero input",
                        t.name
                    ),
                });
            }
        }
        Ok(())
    }

    /// Runs the model on `input` (row-major, [`input_shape`](Self::input_shape)).
    ///
    /// The input tensor is allocated once and reused: tract drops its reference at the end of a
    /// run, so the next call writes into the same buffer
    /// ([`input_allocations`](Self::input_allocations) counts the times it could not).
    pub fn run(&mut self, input: &[f32]) -> Result<Outputs> {
        let start = Instant::now();
        if input.len() != self.input_len {
            return Err(Error::InputLength {
                model: self.name.clone(),
                expected: self.input_len,
                got: input.len(),
                shape: self.input_shape.clone(),
            });
        }
        let run_err = |e: TractError, name: &str| Error::Run {
            model: name.to_owned(),
            detail: chain(&e),
        };
        match Arc::get_mut(&mut self.input) {
            Some(tensor) => tensor
                .try_as_plain_ram_mut()
                .and_then(|mut view| {
                    view.as_slice_mut::<f32>()?.copy_from_slice(input);
                    Ok(())
                })
                .map_err(|e| run_err(e, &self.name))?,
            None => {
                self.input_allocations += 1;
                self.input = Arc::new(
                    Tensor::from_shape(&self.input_shape, input)
                        .map_err(|e| run_err(e, &self.name))?,
                );
            }
        }
        let prepared = Instant::now();
        if self.stateful {
            // Each run is a whole inference: don't let a recurrent state leak into the next.
            self.state = self.plan.spawn().map_err(|e| run_err(e, &self.name))?;
        }
        let outputs = self
            .state
            .run(tvec![TValue::from_const(self.input.clone())])
            .map_err(|e| run_err(e, &self.name))?;
        let inferred = Instant::now();
        let mut tensors = Vec::with_capacity(outputs.len());
        for (ix, value) in outputs.into_iter().enumerate() {
            let data = if value.datum_type() == f32::datum_type() {
                f32_vec(&value)
            } else {
                value.cast_to::<f32>().and_then(|t| f32_vec(&t))
            }
            .map_err(|e| run_err(e, &self.name))?;
            tensors.push(OutputTensor {
                name: self.output_names.get(ix).cloned().unwrap_or_default(),
                shape: value.shape().to_vec(),
                data,
            });
        }
        let done = Instant::now();
        self.runs += 1;
        Ok(Outputs {
            tensors,
            profile: Profile {
                preprocess: prepared - start,
                infer: inferred - prepared,
                postprocess: done - inferred,
            },
            labels: self.labels.clone(),
        })
    }

    /// The model's name (from the options, the manifest or the file name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// SHA-256 of the model file.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// The input's name in the graph.
    pub fn input_name(&self) -> &str {
        &self.input_name
    }

    /// The fixed input shape.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// The output shapes, in graph order.
    pub fn output_shapes(&self) -> &[Vec<usize>] {
        &self.output_shapes
    }

    /// Values in the first output (a classifier's number of classes); 0 without outputs.
    pub fn first_output_len(&self) -> usize {
        self.output_shapes
            .first()
            .map(|s| s.iter().product())
            .unwrap_or(0)
    }

    /// Runs the model and keeps only its first output's values (a classifier's scores).
    pub fn run_first(&mut self, input: &[f32]) -> Result<Vec<f32>> {
        Ok(self
            .run(input)?
            .tensors
            .into_iter()
            .next()
            .map(|t| t.data)
            .unwrap_or_default())
    }

    /// The labels of the first output's classes, if known.
    pub fn labels(&self) -> Option<&[String]> {
        self.labels.as_deref()
    }

    /// How many times `run` has completed.
    pub fn runs(&self) -> u64 {
        self.runs
    }

    /// How many runs had to allocate a new input tensor (0 when tract always let go of it).
    pub fn input_allocations(&self) -> u64 {
        self.input_allocations
    }

    /// Whether some op of the plan keeps state between runs (recurrent models); such a model
    /// gets a fresh tract state, a few small allocations, on every run.
    pub fn is_stateful(&self) -> bool {
        self.stateful
    }

    /// Every node of the optimized plan with the element types it reads and writes, e.g.
    /// `OptMatMul(i8, i8) -> i32`: the way to see that an int8 model runs integer kernels rather
    /// than f32 ones between fake-quantization nodes.
    pub fn plan_nodes(&self) -> Vec<PlanNode> {
        let model = self.plan.model();
        model
            .nodes()
            .iter()
            .map(|n| PlanNode {
                op: n.op.name().into_owned(),
                inputs: n
                    .inputs
                    .iter()
                    .map(|o| {
                        model
                            .outlet_fact(*o)
                            .map(|f| format!("{:?}", f.datum_type))
                            .unwrap_or_default()
                    })
                    .collect(),
                outputs: n
                    .outputs
                    .iter()
                    .map(|o| format!("{:?}", o.fact.datum_type))
                    .collect(),
            })
            .collect()
    }

    /// Times every node of the optimized plan over `runs` runs of `input` (after one untimed
    /// run), like tract's `--profile` or SSCMA's perf record: where a model spends its time.
    /// Nodes come in plan order; [`NodeTime::mean`] is the mean over the runs. Profiling goes
    /// around each node, so the nodes' sum is a little above [`run`](Self::run)'s time.
    pub fn profile_nodes(&mut self, input: &[f32], runs: usize) -> Result<Vec<NodeTime>> {
        // Checks the length and warms caches and allocations up, as a timed run would.
        self.run(input)?;
        let runs = runs.max(1);
        let model = self.plan.model();
        let mut totals = vec![Duration::ZERO; model.nodes().len()];
        let run_err = |e: TractError, name: &str| Error::Run {
            model: name.to_owned(),
            detail: chain(&e),
        };
        let tensor =
            Tensor::from_shape(&self.input_shape, input).map_err(|e| run_err(e, &self.name))?;
        let value = TValue::from_const(Arc::new(tensor));
        for _ in 0..runs {
            let mut state = self.plan.spawn().map_err(|e| run_err(e, &self.name))?;
            state
                .run_plan_with_eval(tvec![value.clone()], |session, op_state, node, inputs| {
                    let start = Instant::now();
                    let out = tract_onnx::tract_core::plan::eval(session, op_state, node, inputs);
                    totals[node.id] += start.elapsed();
                    out
                })
                .map_err(|e| run_err(e, &self.name))?;
        }
        let model = self.plan.model();
        let order = self.plan.order_without_consts();
        Ok(order
            .iter()
            .map(|&id| {
                let node = model.node(id);
                NodeTime {
                    id,
                    name: node.name.clone(),
                    op: node.op.name().into_owned(),
                    output_shape: node
                        .outputs
                        .first()
                        .map(|o| format!("{:?}", o.fact.shape))
                        .unwrap_or_default(),
                    info: node.op.info().unwrap_or_default(),
                    mean: totals[id] / runs as u32,
                }
            })
            .collect())
    }

    /// The graph rewrites applied before tract parsed the model, and the convolution lowering
    /// chosen by measurement.
    pub fn lowering(&self) -> &Lowering {
        &self.lowering
    }

    /// What the plan cache did when this model was loaded.
    pub fn cache_status(&self) -> &CacheStatus {
        &self.cache_status
    }

    /// The operator of every node of the optimized plan, in node order (to check, e.g., that an
    /// int8 model really runs integer kernels).
    pub fn plan_ops(&self) -> Vec<String> {
        self.plan
            .model()
            .nodes()
            .iter()
            .map(|n| n.op.name().into_owned())
            .collect()
    }
}

/// One node of an optimized plan (see [`Model::plan_nodes`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanNode {
    /// tract's operator name (`OptMatMul`, `QuantizeLinearI8`, ...).
    pub op: String,
    /// Element type of each input (`F32`, `I8`, `I32`, ...).
    pub inputs: Vec<String>,
    /// Element type of each output.
    pub outputs: Vec<String>,
}

impl fmt::Display for PlanNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}({}) -> {}",
            self.op,
            self.inputs.join(", "),
            self.outputs.join(", ")
        )
    }
}

/// One node's share of a run (see [`Model::profile_nodes`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeTime {
    /// The node's id in the optimized plan.
    pub id: usize,
    /// The node's name (tract keeps the ONNX node names, with suffixes for the nodes it splits).
    pub name: String,
    /// tract's operator name (`Conv`, `OptMatMul`, `MaxPool`, ...).
    pub op: String,
    /// The shape of its first output.
    pub output_shape: String,
    /// What tract says about the op (for a matrix product: m, k, n and the kernel it picked).
    pub info: Vec<String>,
    /// Mean time per run.
    pub mean: Duration,
}

/// Holds the active model and replaces it only with one that loaded and passed its smoke run: a
/// bad model file never takes the device's running model down.
#[derive(Debug, Default)]
pub struct ModelSlot {
    current: Option<Model>,
    swaps: u64,
}

impl ModelSlot {
    /// An empty slot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads `bytes`; on success the new model replaces the active one, on failure the active
    /// one stays and the error is returned.
    pub fn load(&mut self, bytes: &[u8], options: &LoadOptions) -> Result<&mut Model> {
        let model = Model::load(bytes, &options.clone().smoke_run(true))?;
        Ok(self.swap_in(model))
    }

    /// Like [`load`](Self::load), from a file.
    pub fn load_path(
        &mut self,
        path: impl AsRef<Path>,
        options: &LoadOptions,
    ) -> Result<&mut Model> {
        let model = Model::load_path(path, &options.clone().smoke_run(true))?;
        Ok(self.swap_in(model))
    }

    fn swap_in(&mut self, model: Model) -> &mut Model {
        self.swaps += 1;
        self.current.insert(model)
    }

    /// The active model.
    pub fn model(&self) -> Option<&Model> {
        self.current.as_ref()
    }

    /// The active model, mutably (to run it).
    pub fn model_mut(&mut self) -> Option<&mut Model> {
        self.current.as_mut()
    }

    /// How many models have been swapped in.
    pub fn swaps(&self) -> u64 {
        self.swaps
    }
}

/// Omissions in the ONNX protobuf that the standard gives a default for and tract does not,
/// filled in before tract sees the graph (same values as onnxruntime computes).
mod fix {
    use super::*;
    use tract_onnx::pb::attribute_proto::AttributeType;

    /// Gives every `ConstantOfShape` without a `value` attribute an explicit one-element f32 0,
    /// the ONNX default; tract otherwise takes an f64 0 and fails to type the graph ("Impossible
    /// to unify F32 with F64", e.g. BlazeFace's channel padding). Returns how many it changed,
    /// subgraphs included.
    pub(super) fn constant_of_shape_values(graph: &mut pb::GraphProto) -> usize {
        let mut fixed = 0;
        for node in &mut graph.node {
            if node.op_type == "ConstantOfShape"
                && node.domain.is_empty()
                && !node.attribute.iter().any(|a| a.name == "value")
            {
                node.attribute.push(pb::AttributeProto {
                    name: "value".to_owned(),
                    r#type: AttributeType::Tensor as i32,
                    t: Some(crate::onnx::f32_tensor("value", &[1], &[0.0])),
                    ..Default::default()
                });
                fixed += 1;
            }
            for attr in &mut node.attribute {
                for g in attr.g.iter_mut().chain(attr.graphs.iter_mut()) {
                    fixed += constant_of_shape_values(g);
                }
            }
        }
        fixed
    }

    #[cfg(test)]
    #[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    mod tests {
        use super::*;
        use crate::onnx::{Attr, GraphBuilder};

        /// `x [1, 2, 2, 2]` + ConstantOfShape([1, 2, 2, 2]) with no `value`, then that zero block
        /// concatenated after `x` on the channels (BlazeFace's channel padding).
        fn zeros_without_value() -> GraphBuilder {
            let mut g = GraphBuilder::new("constant_of_shape_default");
            g.input("x", &[1, 2, 2, 2])
                .initializer_i64("shape", &[4], &[1, 2, 2, 2])
                .node("ConstantOfShape", &["shape"], &["zeros"], &[])
                .node("Add", &["x", "zeros"], &["sum"], &[])
                .node(
                    "Concat",
                    &["sum", "zeros"],
                    &["y"],
                    &[("axis", Attr::Int(1))],
                )
                .output("y", &[1, 4, 2, 2]);
            g
        }

        #[test]
        fn a_constant_of_shape_without_value_gets_an_f32_zero() {
            let mut model = zeros_without_value().model();
            let graph = model.graph.as_mut().unwrap();
            assert_eq!(constant_of_shape_values(graph), 1);
            let value = graph.node[0]
                .attribute
                .iter()
                .find(|a| a.name == "value")
                .unwrap();
            let t = value.t.as_ref().unwrap();
            assert_eq!(
                (t.data_type, t.dims.as_slice()),
                (DataType::Float as i32, &[1][..])
            );
            assert_eq!(t.raw_data, 0f32.to_le_bytes());
            // A second pass changes nothing; an explicit value is left alone.
            assert_eq!(constant_of_shape_values(graph), 0);
        }

        #[test]
        fn a_model_with_that_omission_loads_and_runs() {
            let bytes = zeros_without_value().to_bytes();
            let mut model = Model::load(&bytes, &LoadOptions::new())
                .unwrap_or_else(|e| panic!("the model should load: {e}"));
            let x: Vec<f32> = (1..=8).map(|v| v as f32).collect();
            let out = model.run(&x).unwrap();
            let y = &out.tensors[0];
            assert_eq!(y.shape, [1, 4, 2, 2]);
            let mut want = x.clone();
            want.extend([0.0; 8]);
            assert_eq!(y.data, want);
        }
    }
}

/// Checks on the ONNX protobuf, before tract sees it: they give errors that name the node,
/// operator or weight.
mod check {
    use super::*;
    use tract_onnx::model::OnnxOpRegister;
    use tract_onnx::pb::tensor_shape_proto::dimension;

    pub(super) fn single_input<'g>(
        model: &str,
        graph: &'g pb::GraphProto,
    ) -> Result<&'g pb::ValueInfoProto> {
        let inits: std::collections::HashSet<&str> =
            graph.initializer.iter().map(|t| t.name.as_str()).collect();
        let inputs: Vec<&pb::ValueInfoProto> = graph
            .input
            .iter()
            .filter(|i| !inits.contains(i.name.as_str()))
            .collect();
        match inputs.as_slice() {
            [] => Err(Error::NoInput {
                model: model.to_owned(),
            }),
            [one] => Ok(one),
            many => Err(Error::TooManyInputs {
                model: model.to_owned(),
                inputs: many.iter().map(|i| i.name.clone()).collect(),
            }),
        }
    }

    /// Every graph output is something the graph defines: tract-onnx indexes its name table
    /// with each output's name and panics on one it does not hold.
    pub(super) fn outputs_defined(model: &str, graph: &pb::GraphProto) -> Result<()> {
        let defined: std::collections::HashSet<&str> = graph
            .input
            .iter()
            .map(|i| i.name.as_str())
            .chain(graph.initializer.iter().map(|t| t.name.as_str()))
            .chain(
                graph
                    .node
                    .iter()
                    .flat_map(|n| n.output.iter().map(String::as_str)),
            )
            .collect();
        match graph
            .output
            .iter()
            .find(|o| !defined.contains(o.name.as_str()))
        {
            None => Ok(()),
            Some(o) => Err(Error::UndefinedOutput {
                model: model.to_owned(),
                output: o.name.clone(),
            }),
        }
    }

    pub(super) fn operators(
        model: &str,
        graph: &pb::GraphProto,
        register: &OnnxOpRegister,
    ) -> Result<()> {
        for node in &graph.node {
            if !register.0.contains_key(&node.op_type) {
                return Err(Error::UnsupportedOperator {
                    model: model.to_owned(),
                    node: node_name(node),
                    op: node.op_type.clone(),
                    domain: node.domain.clone(),
                });
            }
            for attr in &node.attribute {
                for g in attr.g.iter().chain(attr.graphs.iter()) {
                    operators(model, g, register)?;
                }
            }
        }
        Ok(())
    }

    fn node_name(node: &pb::NodeProto) -> String {
        if !node.name.is_empty() {
            node.name.clone()
        } else {
            node.output.first().cloned().unwrap_or_default()
        }
    }

    pub(super) fn finite_weights(model: &str, graph: &pb::GraphProto) -> Result<()> {
        for t in &graph.initializer {
            finite_tensor(model, &t.name, t)?;
        }
        for node in &graph.node {
            for attr in &node.attribute {
                if let Some(t) = &attr.t {
                    finite_tensor(model, &node_name(node), t)?;
                }
                for g in attr.g.iter().chain(attr.graphs.iter()) {
                    finite_weights(model, g)?;
                }
            }
        }
        Ok(())
    }

    /// Tensors stored as raw bytes have an element type tract can load that way: tract-onnx
    /// hits `unimplemented!` (a panic) on any other (string, complex, bfloat16, ...).
    pub(super) fn raw_tensor_types(model: &str, graph: &pb::GraphProto) -> Result<()> {
        let check = |name: &str, t: &pb::TensorProto| -> Result<()> {
            if t.raw_data.is_empty() {
                return Ok(());
            }
            let loadable = matches!(
                DataType::try_from(t.data_type),
                Ok(DataType::Float
                    | DataType::Uint8
                    | DataType::Int8
                    | DataType::Uint16
                    | DataType::Int16
                    | DataType::Int32
                    | DataType::Int64
                    | DataType::Bool
                    | DataType::Float16
                    | DataType::Double
                    | DataType::Uint32
                    | DataType::Uint64)
            );
            if loadable {
                return Ok(());
            }
            Err(Error::UnsupportedTensorType {
                model: model.to_owned(),
                tensor: name.to_owned(),
                dtype: DataType::try_from(t.data_type)
                    .map(|d| d.as_str_name().to_owned())
                    .unwrap_or_else(|_| format!("{} (unknown)", t.data_type)),
            })
        };
        for t in &graph.initializer {
            check(&t.name, t)?;
        }
        for node in &graph.node {
            for attr in &node.attribute {
                for t in attr.t.iter().chain(attr.tensors.iter()) {
                    check(&node_name(node), t)?;
                }
                for g in attr.g.iter().chain(attr.graphs.iter()) {
                    raw_tensor_types(model, g)?;
                }
            }
        }
        Ok(())
    }

    fn finite_tensor(model: &str, name: &str, t: &pb::TensorProto) -> Result<()> {
        if t.data_type != DataType::Float as i32 {
            return Ok(());
        }
        let from_raw = t
            .raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let values = t.float_data.iter().copied().chain(from_raw);
        let mut first = None;
        let mut count = 0;
        for (i, v) in values.enumerate() {
            if !v.is_finite() {
                count += 1;
                first.get_or_insert((i, v));
            }
        }
        match first {
            None => Ok(()),
            Some((index, value)) => Err(Error::NonFiniteWeights {
                model: model.to_owned(),
                tensor: name.to_owned(),
                index,
                value,
                count,
            }),
        }
    }

    /// The input's name and declared dims (`None` for a symbolic or missing dim).
    pub(super) fn input_type(
        model: &str,
        input: &pb::ValueInfoProto,
    ) -> Result<(String, Vec<Option<i64>>)> {
        let name = input.name.clone();
        let Some(pb::type_proto::Value::TensorType(tensor)) =
            input.r#type.as_ref().and_then(|t| t.value.as_ref())
        else {
            return Err(Error::InvalidShape {
                model: model.to_owned(),
                input: name,
                shape: "(none)".into(),
                reason: "the input declares no tensor type".into(),
            });
        };
        if tensor.elem_type != DataType::Float as i32 {
            let dtype = DataType::try_from(tensor.elem_type)
                .map(|d| format!("{d:?}"))
                .unwrap_or_else(|_| format!("type {}", tensor.elem_type));
            return Err(Error::UnsupportedInputType {
                model: model.to_owned(),
                input: name,
                dtype,
            });
        }
        let dims = tensor
            .shape
            .as_ref()
            .map(|s| {
                s.dim
                    .iter()
                    .map(|d| match d.value {
                        Some(dimension::Value::DimValue(v)) => Some(v),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok((name, dims))
    }

    fn show(dims: &[Option<i64>]) -> String {
        let parts: Vec<String> = dims
            .iter()
            .map(|d| d.map_or_else(|| "?".to_owned(), |v| v.to_string()))
            .collect();
        format!("[{}]", parts.join(", "))
    }

    pub(super) fn resolve_shape(
        model: &str,
        input: &str,
        declared: &[Option<i64>],
        options: &LoadOptions,
    ) -> Result<Vec<usize>> {
        let invalid = |shape: String, reason: &str| Error::InvalidShape {
            model: model.to_owned(),
            input: input.to_owned(),
            shape,
            reason: reason.to_owned(),
        };
        if let Some(bad) = declared.iter().flatten().find(|d| **d <= 0) {
            return Err(invalid(
                show(declared),
                &format!("the model declares a dimension of {bad}"),
            ));
        }
        let asked = options
            .shape
            .as_ref()
            .map(|s| (s, "explicit shape"))
            .or(options.manifest_shape.as_ref().map(|s| (s, "manifest")));
        let Some((asked, source_name)) = asked else {
            // From the model: a symbolic batch dimension is 1; any other must be given.
            let mut shape = Vec::with_capacity(declared.len());
            for (axis, d) in declared.iter().enumerate() {
                match (d, axis) {
                    (Some(v), _) => shape.push(*v as usize),
                    (None, 0) => shape.push(1),
                    (None, _) => {
                        return Err(invalid(
                            show(declared),
                            &format!("dimension {axis} is symbolic and no shape was given"),
                        ));
                    }
                }
            }
            if shape.is_empty() {
                return Err(invalid(show(declared), "the input declares no shape"));
            }
            return Ok(shape);
        };
        if asked.is_empty() || asked.contains(&0) {
            return Err(invalid(
                format!("{asked:?} ({source_name})"),
                "every dimension must be at least 1",
            ));
        }
        let fits = declared.is_empty()
            || (declared.len() == asked.len()
                && declared
                    .iter()
                    .zip(asked.iter())
                    .all(|(d, a)| d.is_none_or(|d| d as usize == *a)));
        if !fits {
            return Err(Error::ShapeMismatch {
                model: model.to_owned(),
                input: input.to_owned(),
                model_shape: show(declared),
                expected: asked.clone(),
                source_name,
            });
        }
        Ok(asked.clone())
    }
}

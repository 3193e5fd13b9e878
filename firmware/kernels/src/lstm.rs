//! One step of an f32 LSTM cell (ONNX's, without peepholes), for a runtime that runs the whole
//! sequence as one op.
//!
//! The input projection `Xt·Wᵀ` of every step is one big matrix product the caller makes
//! before the loop; a step adds the bias and `Ht-1·Rᵀ` to it and applies the cell. `Rᵀ` is held
//! packed so a step is `H` multiply-adds of a 4H-wide row kept in registers, block by block,
//! streaming through memory in order (R is 64 KB for hidden 64: more than the L1 cache, read
//! once per step); the cell is applied in the same pass over the hidden units with a
//! branch-free sigmoid and tanh (within 3e-7 of the exact ones).
//!
//! Implementations: AVX-512 and AVX2+FMA run the portable loops compiled for AVX2 + FMA; NEON
//! and portable run them for the target's baseline. Timings are measured in docs/benchmarks.md
//! (the SER CNN-LSTM in the inference table, tests/bench/bench_inference.py).

use std::hash::{Hash, Hasher};

use crate::util::{check_isa, check_len, hash_bits, same_bits, volume};
use crate::{Isa, KernelError};

const KERNEL: &str = "lstm";

/// One LSTM cell's recurrent weight, packed once, and the instruction set its steps run with.
///
/// Contract of [`LstmCell::step`], shared by every implementation: for one sequence of the
/// batch, `gates` (4H) holds `Xt·Wᵀ` on entry, `bias` (4H) the sum of the biases, `h` and `c`
/// (H each) the previous hidden and cell states (else [`KernelError::Length`], nothing
/// changed). With the gates in ONNX's order i, o, f, c, `gates` becomes
/// `Xt·Wᵀ + bias + Ht-1·Rᵀ`, then `c` becomes `Ct = σ(f)·Ct-1 + σ(i)·tanh(g)` and `h`
/// `Ht = σ(o)·tanh(Ct)` ([`crate::reference::lstm_step`]), with σ and tanh within 3e-7 of the
/// exact functions.
#[derive(Clone)]
pub struct LstmCell {
    hidden: usize,
    /// `Rᵀ` ([H, 4H]) packed by [`pack_columns`].
    r_t: Vec<f32>,
    isa: Isa,
}

impl LstmCell {
    /// The cell of `hidden` units with recurrent weight `r_t` = `Rᵀ`, [H, 4H] row-major (the
    /// columns in gate order i, o, f, c), packed here; refused when `hidden` is 0, `r_t` has
    /// another length, or this CPU cannot run `isa`.
    pub fn new(hidden: usize, r_t: &[f32], isa: Isa) -> Result<Self, KernelError> {
        let len = volume(KERNEL, "Rᵀ", &[hidden, 4, hidden])?;
        check_len(KERNEL, "Rᵀ", len, r_t.len())?;
        Ok(Self {
            hidden,
            r_t: pack_columns(r_t, 4 * hidden),
            isa: check_isa(KERNEL, isa)?,
        })
    }

    /// Hidden units, H.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// The instruction set the steps run with.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// Which loops run: for reports (`sentio bench --profile`).
    pub fn implementation(&self) -> &'static str {
        match self.isa {
            Isa::Avx512 | Isa::Avx2Fma => "avx2+fma lstm step",
            Isa::Neon => "portable lstm step (neon baseline)",
            Isa::Portable => "portable lstm step",
        }
    }

    /// One step of one sequence (the contract is on [`LstmCell`]).
    pub fn step(
        &self,
        gates: &mut [f32],
        bias: &[f32],
        h: &mut [f32],
        c: &mut [f32],
    ) -> Result<(), KernelError> {
        check_len(KERNEL, "gates", 4 * self.hidden, gates.len())?;
        check_len(KERNEL, "bias", 4 * self.hidden, bias.len())?;
        check_len(KERNEL, "h", self.hidden, h.len())?;
        check_len(KERNEL, "c", self.hidden, c.len())?;
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `new` refuses an instruction set this CPU lacks.
            Isa::Avx512 | Isa::Avx2Fma => unsafe { step_avx2_fma(gates, bias, &self.r_t, h, c) },
            Isa::Neon | Isa::Portable => step_portable::<HAS_FMA>(gates, bias, &self.r_t, h, c),
            // (never: `new` refuses an instruction set this CPU lacks)
            #[cfg(not(target_arch = "x86_64"))]
            Isa::Avx512 | Isa::Avx2Fma => step_portable::<HAS_FMA>(gates, bias, &self.r_t, h, c),
        }
        Ok(())
    }
}

/// Bits of the weights, so two cells are equal (and hash alike) when they compute the same
/// function bit for bit.
impl PartialEq for LstmCell {
    fn eq(&self, other: &Self) -> bool {
        self.hidden == other.hidden && self.isa == other.isa && same_bits(&self.r_t, &other.r_t)
    }
}

impl Eq for LstmCell {}

impl Hash for LstmCell {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.hidden.hash(state);
        self.isa.hash(state);
        hash_bits(&self.r_t, state);
    }
}

/// The size and instruction set (the weights are not printed).
impl std::fmt::Debug for LstmCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LstmCell")
            .field("hidden", &self.hidden)
            .field("r_t", &format_args!("[{} f32, packed]", self.r_t.len()))
            .field("isa", &self.isa)
            .finish()
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn step_avx2_fma(gates: &mut [f32], bias: &[f32], r_t: &[f32], h: &mut [f32], c: &mut [f32]) {
    step_portable::<true>(gates, bias, r_t, h, c);
}

/// Whether the target always has a fused multiply-add (aarch64; x86_64 built with `fma`). The
/// portable loops multiply and add separately without one: `f32::mul_add` there is a library
/// call per value (173 ms for the SER model's LSTM instead of a few).
const HAS_FMA: bool = cfg!(any(target_arch = "aarch64", target_feature = "fma"));

/// `a·b + c`, fused when `FMA`.
#[inline(always)]
fn mul_add<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// One step: `gates += bias + h·Rᵀ` (`r_t` packed by [`pack_columns`]), then the cell
/// (multiply-adds fused when `FMA`).
#[inline(always)]
fn step_portable<const FMA: bool>(
    gates: &mut [f32],
    bias: &[f32],
    r_t: &[f32],
    h: &mut [f32],
    c: &mut [f32],
) {
    gates.iter_mut().zip(bias).for_each(|(g, b)| *g += b);
    add_vec_mat_portable::<FMA>(h, r_t, gates);
    let hidden = h.len();
    let (i, rest) = gates.split_at(hidden);
    let (o, rest) = rest.split_at(hidden);
    let (f, g) = rest.split_at(hidden);
    let cells = h.iter_mut().zip(c.iter_mut());
    for ((((h, c), i), o), (f, g)) in cells.zip(i).zip(o).zip(f.iter().zip(g)) {
        let c_new = sigmoid::<FMA>(*f) * *c + sigmoid::<FMA>(*i) * tanh::<FMA>(*g);
        *c = c_new;
        *h = sigmoid::<FMA>(*o) * tanh::<FMA>(c_new);
    }
}

/// `e^x` for `x <= 0` (Cephes' expf: `x = k·ln 2 + r`, a degree-7 polynomial for `e^r`, `2^k`
/// from the exponent bits): within 2e-7 relative; below -87 it gives ~1e-38 instead of
/// underflowing. Branch-free, so loops of it vectorize.
#[inline(always)]
fn exp_non_positive<const FMA: bool>(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.max(-87.0);
    let k = (x * std::f32::consts::LOG2_E).round_ties_even();
    let fma = mul_add::<FMA>;
    let r = fma(k, -LN2_LO, fma(k, -LN2_HI, x));
    let p = fma(1.987_569_2e-4, r, 1.398_2e-3);
    let p = fma(p, r, 8.333_452e-3);
    let p = fma(p, r, 4.166_579_6e-2);
    let p = fma(p, r, 0.166_666_65);
    let p = fma(p, r, 0.5);
    let e_r = fma(p * r, r, r) + 1.0;
    // k is in -126..=0: a normal power of two.
    e_r * f32::from_bits(((k as i32 + 127) as u32) << 23)
}

/// The logistic function, `1 / (1 + e^-x)`, from `e^-|x|` (no overflow either side).
#[inline(always)]
fn sigmoid<const FMA: bool>(x: f32) -> f32 {
    let e = exp_non_positive::<FMA>(-x.abs());
    let positive = 1.0 / (1.0 + e);
    if x >= 0.0 { positive } else { e * positive }
}

/// `tanh x = (1 - e^-2|x|) / (1 + e^-2|x|)` with the sign of x: within 3e-7 absolute.
#[inline(always)]
fn tanh<const FMA: bool>(x: f32) -> f32 {
    let e = exp_non_positive::<FMA>(-2.0 * x.abs());
    ((1.0 - e) / (1.0 + e)).copysign(x)
}

/// Columns of the product kept in registers while the rows stream by (8 AVX registers).
const BLOCK: usize = 64;

/// The column blocks `(start, len)` of a `width`-wide product: blocks of [`BLOCK`], then of 8,
/// then single columns.
fn column_blocks(width: usize) -> impl Iterator<Item = (usize, usize)> {
    let wide = width / BLOCK * BLOCK;
    let narrow = wide + (width - wide) / 8 * 8;
    let wide_blocks = (0..wide).step_by(BLOCK).map(|s| (s, BLOCK));
    let narrow_blocks = (wide..narrow).step_by(8).map(|s| (s, 8));
    wide_blocks
        .chain(narrow_blocks)
        .chain((narrow..width).map(|s| (s, 1)))
}

/// `m` (row-major, rows of `width`) reordered block by block as [`add_vec_mat_portable`] reads
/// it: each column block's rows one after the other, so the kernel streams through memory in
/// order.
fn pack_columns(m: &[f32], width: usize) -> Vec<f32> {
    let rows = m.len() / width.max(1);
    let mut packed = Vec::with_capacity(m.len());
    for (start, len) in column_blocks(width) {
        for k in 0..rows {
            packed.extend_from_slice(&m[k * width + start..][..len]);
        }
    }
    packed
}

/// `acc += v · m` for `m` of `v.len()` rows of `acc.len()` values packed by [`pack_columns`].
#[inline(always)]
fn add_vec_mat_portable<const FMA: bool>(v: &[f32], packed: &[f32], acc: &mut [f32]) {
    let rows = v.len();
    for (start, len) in column_blocks(acc.len()) {
        let block = &packed[start * rows..][..len * rows];
        let acc = &mut acc[start..start + len];
        match len {
            BLOCK => add_block::<BLOCK, FMA>(v, block, acc),
            8 => add_block::<8, FMA>(v, block, acc),
            _ => add_block::<1, FMA>(v, block, acc),
        }
    }
}

/// `acc += v · block` for a block of `v.len()` rows of N columns, the N sums held in a local
/// array the compiler keeps in registers.
#[inline(always)]
fn add_block<const N: usize, const FMA: bool>(v: &[f32], block: &[f32], acc: &mut [f32]) {
    let mut sums = [0.0f32; N];
    sums.copy_from_slice(acc);
    for (vk, row) in v.iter().zip(block.chunks_exact(N)) {
        for (s, r) in sums.iter_mut().zip(row) {
            *s = mul_add::<FMA>(*vk, *r, *s);
        }
    }
    acc.copy_from_slice(&sums);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_matrix_product_equals_the_definition_for_any_width() {
        for (rows, width) in [(64, 256), (16, 64), (12, 48), (5, 72), (3, 13), (1, 1)] {
            let v: Vec<f32> = (0..rows).map(|i| (i as f32 * 0.37).sin()).collect();
            let m: Vec<f32> = (0..rows * width)
                .map(|i| ((i * 7919) % 1009) as f32 / 500.0 - 1.0)
                .collect();
            let start: Vec<f32> = (0..width).map(|j| j as f32 * 0.01).collect();
            let mut acc = start.clone();
            add_vec_mat_portable::<HAS_FMA>(&v, &pack_columns(&m, width), &mut acc);
            for (j, got) in acc.iter().enumerate() {
                let expected = start[j] + (0..rows).map(|k| v[k] * m[k * width + j]).sum::<f32>();
                assert!((got - expected).abs() < 1e-4, "{rows}x{width} column {j}");
            }
        }
    }

    #[test]
    fn sigmoid_and_tanh_are_within_3e_7_of_the_exact_functions() {
        let mut worst = (0.0f64, 0.0f64);
        for i in -400_000..=400_000 {
            let x = i as f32 * 5e-5;
            for x in [x, x * 2000.0] {
                let exact_sigmoid = 1.0 / (1.0 + (-(x as f64)).exp());
                let exact_tanh = (x as f64).tanh();
                worst.0 = worst
                    .0
                    .max((sigmoid::<HAS_FMA>(x) as f64 - exact_sigmoid).abs());
                worst.1 = worst.1.max((tanh::<HAS_FMA>(x) as f64 - exact_tanh).abs());
            }
        }
        assert!(worst.0 < 3e-7 && worst.1 < 3e-7, "{worst:?}");
        assert!(sigmoid::<HAS_FMA>(-200.0) < 1e-37 && sigmoid::<HAS_FMA>(200.0) == 1.0);
        assert_eq!(
            (
                tanh::<HAS_FMA>(-50.0),
                tanh::<HAS_FMA>(50.0),
                tanh::<HAS_FMA>(0.0)
            ),
            (-1.0, 1.0, 0.0)
        );
    }
}

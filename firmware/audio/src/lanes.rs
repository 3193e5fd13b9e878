//! The feature extractor's main path: frames computed a block at a time, one frame per vector
//! lane.
//!
//! The signal is transposed once by hops (see `transpose_hops`) so that sample `n` of `FL`
//! consecutive frames is one contiguous run of `FL` values: one vector. Every step after that
//! (window, FFT, power, filter banks, decibels, DCT) is the same scalar sequence of operations
//! applied to every lane, written once over the vector traits of [`crate::simd`] (AVX-512 and
//! AVX2 intrinsics on x86_64, plain arrays elsewhere, which LLVM vectorizes for SSE2 and NEON):
//! `FL` = 8 f64 lanes with AVX-512, 4 with AVX2, 2 elsewhere. Nothing needs shuffling (a
//! one-frame FFT spends its late stages on shuffles, and a one-frame filter bank on horizontal
//! sums), and the lane width changes no result: a frame's numbers do not depend on its lane, its
//! block or the CPU, so the dispatched and the portable builds agree bit for bit (tested, also
//! for aarch64 under qemu in CI).
//!
//! The FFT is in f64 like librosa's (see [`crate::stft`] for why: an f32 one puts up to 7e-4 dB
//! of error on quiet mel bands); after the power spectrum everything is f32 in blocks of
//! `PL = 2 * FL` frames, as many f32 lanes as one vector register holds. Multiply-adds are fused
//! (`mul_add`, one rounding): the same bits on every CPU with FMA (every aarch64, x86_64 since
//! 2013, which the dispatch uses); an x86_64 build without FMA gets the same bits from libm's
//! software fma, slowly (only the portable-build test runs it there). Where the time goes:
//! docs/benchmarks.md ("Audio features vs librosa").

use crate::chroma::{ChromaFilterbank, SCALE as CHROMA_SCALE};
use crate::features::{CHROMA_BINS, FeatureConfig, FeatureMatrix};
use crate::mel::{AMIN, MelFilterbank, clip_to_top_db};
use crate::simd::{F32s, F64s};
use crate::stft::{POWER_FLUSH, hann_periodic};

/// librosa's zero-crossing threshold (see [`crate::zcr`]).
const ZERO_THRESHOLD: f32 = 1e-10;

/// One radix-4 decimation-in-frequency pass over sub-transforms of `len` points.
struct Radix4Pass {
    len: usize,
    /// Per butterfly `j < len / 4`: `w^j`, `w^2j`, `w^3j` as (re, im) pairs, `w = exp(-2 pi i /
    /// len)`.
    twiddles: Vec<[f64; 6]>,
}

/// Everything that depends only on the config, built once.
pub(crate) struct LanePlan {
    n_fft: usize,
    /// Complex FFT points: `n_fft / 2` (the real frame is packed as even + i * odd samples).
    points: usize,
    hop: usize,
    win_length: usize,
    n_mels: usize,
    n_mfcc: usize,
    top_db: Option<f32>,
    /// The Hann window over the whole `n_fft` frame (zero outside `win_length`).
    window: Vec<f64>,
    /// Packed points `window_points.0..window_points.1` hold the window; the others are zero.
    window_points: (usize, usize),
    passes: Vec<Radix4Pass>,
    /// A radix-2 pass ends the FFT when `points` is not a power of 4.
    radix2_last: bool,
    /// Where the FFT leaves frequency `k` (its output is in digit-reversed order).
    order: Vec<usize>,
    /// `-i exp(-2 pi i k / n_fft)` for `k < points`: the real-split twiddles.
    split: Vec<[f64; 2]>,
    /// Mel filters: first bin and the packed weights' range.
    mel_first: Vec<usize>,
    mel_ranges: Vec<(usize, usize)>,
    mel_weights: Vec<f32>,
    /// Chroma rows as (bins, weights times [`CHROMA_SCALE`]), zero weights dropped.
    chroma_rows: Vec<(Vec<u32>, Vec<f32>)>,
    /// DCT-II rows `k >= 1` over the folded inputs: `(x[n] +- x[N-1-n])` for `n < N/2`, and the
    /// middle value for odd `N`. Row-major [n_mfcc - 1, fold_len].
    dct_rows: Vec<f32>,
    fold_len: usize,
    c0_scale: f64,
}

/// Whether [`LanePlan`] can compute `config` (the FFT size must be a power of two).
pub(crate) fn supports(config: &FeatureConfig) -> bool {
    (config.n_fft / 2).is_power_of_two()
}

/// `pos(k)` for a DIF FFT of `n` points done as radix-4 passes (and one radix-2 pass last when
/// `n` is not a power of 4): each pass sends frequency `4q + r` to quarter `r`.
fn output_position(k: usize, n: usize) -> usize {
    match n {
        0 | 1 => 0,
        2 => k,
        _ => (k % 4) * (n / 4) + output_position(k / 4, n / 4),
    }
}

impl LanePlan {
    /// `config` must be valid and [`supports`]-ed.
    pub(crate) fn new(
        config: &FeatureConfig,
        mel: &MelFilterbank,
        chroma: &ChromaFilterbank,
    ) -> Self {
        let n_fft = config.n_fft;
        let points = n_fft / 2;
        let win_offset = (n_fft - config.win_length) / 2;
        let mut window = vec![0.0; n_fft];
        window[win_offset..win_offset + config.win_length]
            .copy_from_slice(&hann_periodic(config.win_length));
        let window_points = (win_offset / 2, (win_offset + config.win_length).div_ceil(2));

        let mut passes = Vec::new();
        let mut len = points;
        while len >= 4 {
            let twiddles = (0..len / 4)
                .map(|j| {
                    let angle = |times: usize| {
                        -2.0 * std::f64::consts::PI * (times * j) as f64 / len as f64
                    };
                    let (a1, a2, a3) = (angle(1), angle(2), angle(3));
                    [a1.cos(), a1.sin(), a2.cos(), a2.sin(), a3.cos(), a3.sin()]
                })
                .collect();
            passes.push(Radix4Pass { len, twiddles });
            len /= 4;
        }
        let split = (0..points)
            .map(|k| {
                let angle = -2.0 * std::f64::consts::PI * k as f64 / n_fft as f64;
                // -i (cos + i sin) = sin - i cos
                [angle.sin(), -angle.cos()]
            })
            .collect();

        let (mut mel_first, mut mel_ranges, mut mel_weights) = (Vec::new(), Vec::new(), vec![]);
        for (first, weights) in mel.filters() {
            mel_first.push(first);
            let start = mel_weights.len();
            mel_weights.extend(weights.iter().map(|&w| w as f32));
            mel_ranges.push((start, mel_weights.len()));
        }
        let bins = points + 1;
        let chroma_rows = chroma
            .weights()
            .chunks_exact(bins)
            .map(|row| {
                row.iter()
                    .enumerate()
                    .filter(|&(_, &w)| w >= ChromaFilterbank::DROP_BELOW)
                    .map(|(k, &w)| (k as u32, w as f32 * CHROMA_SCALE))
                    .unzip()
            })
            .collect();

        let n = config.n_mels;
        let fold_len = n.div_ceil(2);
        let dct_rows = (1..config.n_mfcc)
            .flat_map(|k| {
                (0..fold_len).map(move |i| {
                    let angle = std::f64::consts::PI * (k * (2 * i + 1)) as f64 / (2 * n) as f64;
                    ((2.0 / n as f64).sqrt() * angle.cos()) as f32
                })
            })
            .collect();

        LanePlan {
            n_fft,
            points,
            hop: config.hop_length,
            win_length: config.win_length,
            n_mels: config.n_mels,
            n_mfcc: config.n_mfcc,
            top_db: config.top_db,
            window,
            window_points,
            passes,
            radix2_last: len == 2,
            order: (0..points).map(|k| output_position(k, points)).collect(),
            split,
            mel_first,
            mel_ranges,
            mel_weights,
            chroma_rows,
            dct_rows,
            fold_len,
            c0_scale: (1.0 / n as f64).sqrt(),
        }
    }
}

/// Work buffers, grown to the longest clip seen and then reused.
#[derive(Default)]
pub(crate) struct LaneBuffers {
    /// The signal in f64 with `n_fft / 2` zeros before it and enough after it for a whole block.
    padded: Vec<f64>,
    /// `padded` transposed by hops (see `transpose_hops`).
    columns: Vec<f64>,
    /// The ZCR's edge-padded sign bits and sign changes (see `zcr_flags`).
    signs: Vec<u8>,
    flags: Vec<u8>,
    /// FFT real and imaginary parts, `points` rows of `FL` lanes (stored flat).
    re: Vec<f64>,
    im: Vec<f64>,
    /// One block's power spectrum, `bins` rows of `PL` lanes.
    power: Vec<f32>,
    /// The clip's mel powers then dB values: per block, `n_mels` rows of `PL` lanes.
    mel: Vec<f32>,
    /// Per block: the zcr and chroma rows (`PL` lanes each).
    extras: Vec<f32>,
    /// The DCT's folded inputs and the coefficients (rows of `PL` lanes).
    scratch: Vec<f32>,
}

/// Features of `samples` into `out` with `V` (f64 lanes) for the FFT and `W` (twice as many f32
/// lanes) after it. Inlined into each instruction-set entry point of
/// [`crate::FeatureExtractor`].
#[inline(always)]
pub(crate) fn extract<V: F64s, W: F32s>(
    plan: &LanePlan,
    buffers: &mut LaneBuffers,
    samples: &[f32],
    out: &mut FeatureMatrix,
) {
    let (fl, pl) = (V::LANES, W::LANES);
    assert!(pl == 2 * fl && pl <= MAX_LANES);
    let (n_mfcc, n_mels) = (plan.n_mfcc, plan.n_mels);
    let dims = n_mfcc + 1 + CHROMA_BINS + n_mels;
    let frames = crate::stft::frame_count(samples.len(), plan.n_fft, plan.hop);
    out.frames = frames;
    out.dims = dims;
    out.data.clear();
    if frames == 0 {
        return;
    }
    out.data.reserve(frames * dims);
    let blocks = frames.div_ceil(pl);
    let bins = plan.points + 1;

    // The signal centred (n_fft / 2 zeros on the left, librosa's constant padding) and long enough
    // for the last block's unused lanes, which see only zeros.
    let half = plan.n_fft / 2;
    // Whole hops, a multiple of `fl` of them, covering the last block's last frame.
    let rows = ((blocks * pl - 1) * plan.hop + plan.n_fft)
        .max(half + samples.len())
        .div_ceil(plan.hop)
        .next_multiple_of(fl);
    buffers.padded.clear();
    buffers.padded.resize(rows * plan.hop, 0.0);
    for (slot, &x) in buffers.padded[half..].iter_mut().zip(samples) {
        *slot = f64::from(x);
    }
    zcr_flags(
        samples,
        plan.win_length,
        &mut buffers.signs,
        &mut buffers.flags,
    );
    transpose_hops::<V>(&buffers.padded, plan.hop, rows, &mut buffers.columns);

    let LaneBuffers {
        columns,
        flags,
        re,
        im,
        power,
        mel,
        extras,
        scratch,
        ..
    } = buffers;
    // Per block: the zcr row, then the 12 chroma rows.
    let extra_rows = 1 + CHROMA_BINS;
    extras.clear();
    extras.resize(blocks * extra_rows * pl, 0.0);
    re.clear();
    re.resize(plan.points * fl, 0.0);
    im.clear();
    im.resize(plan.points * fl, 0.0);
    power.clear();
    power.resize(bins * pl, 0.0);
    mel.clear();
    mel.resize(blocks * n_mels * pl, 0.0);
    scratch.clear();
    scratch.resize((2 * plan.fold_len + n_mfcc.max(1)) * pl, 0.0);

    // Pass 1, per block: spectrum -> mel power, chroma, zcr.
    for block in 0..blocks {
        let first_frame = block * pl;
        let valid = (frames - first_frame).min(pl);
        for half_block in 0..2 {
            let first = first_frame + half_block * fl;
            load_frames::<V>(plan, columns, rows, first, re, im);
            fft::<V>(plan, re, im);
            split_power::<V>(plan, re, im, power, pl, half_block * fl);
        }
        let mel_block = &mut mel[block * n_mels * pl..(block + 1) * n_mels * pl];
        apply_mel::<W>(plan, power, mel_block);
        let extras = &mut extras[block * extra_rows * pl..(block + 1) * extra_rows * pl];
        let (zcr, chroma_rows) = extras.split_at_mut(pl);
        for (values, row) in apply_chroma::<W>(plan, power)
            .iter()
            .zip(chroma_rows.chunks_exact_mut(pl))
        {
            values.store(row);
        }
        for (lane, zcr) in zcr[..valid].iter_mut().enumerate() {
            let start = (first_frame + lane) * plan.hop;
            let count: u32 = flags[start + 1..start + plan.win_length]
                .iter()
                .map(|&f| u32::from(f))
                .sum();
            *zcr = count as f32 / plan.win_length as f32;
        }
    }
    // Pass 2, over the clip: dB with the top-dB clip relative to the clip's maximum (the unused
    // lanes of the last block are silence, at the floor, so they never set the maximum).
    crate::kernels::power_to_db_in_place(mel, AMIN);
    clip_to_top_db(mel, plan.top_db);
    // Pass 3, per block: MFCCs from the log-mel, and both into the rows.
    for block in 0..blocks {
        let first_frame = block * pl;
        let valid = (frames - first_frame).min(pl);
        let mel_block = &mel[block * n_mels * pl..(block + 1) * n_mels * pl];
        let (folds, mfcc) = scratch.split_at_mut(2 * plan.fold_len * pl);
        dct::<W>(plan, mel_block, folds, mfcc);
        let extras = &extras[block * extra_rows * pl..(block + 1) * extra_rows * pl];
        // The block's rows, [mfcc, zcr, chroma, log-mel] per frame: feature by feature, each a
        // run of `pl` lanes spread over the rows (which stay in L1).
        let base = out.data.len();
        out.data.resize(base + valid * dims, 0.0);
        let rows = &mut out.data[base..];
        let features = mfcc[..n_mfcc * pl]
            .chunks_exact(pl)
            .chain(extras.chunks_exact(pl))
            .chain(mel_block.chunks_exact(pl));
        for (d, lanes) in features.enumerate() {
            for (lane, &value) in lanes[..valid].iter().enumerate() {
                rows[lane * dims + d] = value;
            }
        }
    }
    debug_assert_eq!(out.data.len(), frames * dims);
}

/// Widest f32 vector: 16 lanes (AVX-512).
const MAX_LANES: usize = 16;

/// `flags[i]` = 1 where sample `i` of the signal edge-padded by `frame_length / 2` on both sides
/// (librosa's ZCR framing) is on the other side of zero than sample `i - 1`; a frame starting
/// at padded sample `s` has `sum(flags[s + 1..s + frame_length])` crossings.
fn zcr_flags(samples: &[f32], frame_length: usize, signs: &mut Vec<u8>, flags: &mut Vec<u8>) {
    let pad = frame_length / 2;
    signs.clear();
    flags.clear();
    let (Some(&first), Some(&last)) = (samples.first(), samples.last()) else {
        return;
    };
    let negative = |x: f32| u8::from(x < -ZERO_THRESHOLD);
    signs.resize(pad, negative(first));
    signs.extend(samples.iter().map(|&x| negative(x)));
    signs.resize(signs.len() + pad + frame_length, negative(last));
    flags.push(0);
    flags.extend(signs.windows(2).map(|pair| pair[0] ^ pair[1]));
}

/// `columns[c * rows + r]` = `padded[r * hop + c]`: the padded signal cut into rows of one hop
/// and transposed, so that sample `n` of frames `t..t + fl` (which start one hop apart) is one
/// contiguous run, `columns[(n % hop) * rows + t + n / hop..][..fl]`. Each sample is transposed
/// once here instead of once per frame that holds it (2.5 times at hop 160 and 400-sample
/// windows), `fl` rows by `fl` samples at a time in registers. `padded.len()` must be
/// `rows * hop` with `rows` a multiple of `V::LANES`.
#[inline(always)]
fn transpose_hops<V: F64s>(padded: &[f64], hop: usize, rows: usize, columns: &mut Vec<f64>) {
    let fl = V::LANES;
    assert!(padded.len() == rows * hop && rows.is_multiple_of(fl));
    columns.clear();
    columns.resize(hop * rows, 0.0);
    let mut block = [V::splat(0.0); MAX_LANES / 2];
    let block = &mut block[..fl];
    let whole = hop / fl * fl;
    for r0 in (0..rows).step_by(fl) {
        for c0 in (0..whole).step_by(fl) {
            V::load_columns(&padded[r0 * hop + c0..], hop, block);
            for (j, column) in block.iter().enumerate() {
                column.store(&mut columns[(c0 + j) * rows + r0..]);
            }
        }
        for c in whole..hop {
            for r in r0..r0 + fl {
                columns[c * rows + r] = padded[r * hop + c];
            }
        }
    }
}

/// Windows frames `first..first + V::LANES` into the packed FFT input: point `m` of lane `l`
/// holds samples `2m` (re) and `2m + 1` (im) of frame `first + l` (see [`transpose_hops`]).
#[inline(always)]
fn load_frames<V: F64s>(
    plan: &LanePlan,
    columns: &[f64],
    rows: usize,
    first: usize,
    re: &mut [f64],
    im: &mut [f64],
) {
    let fl = V::LANES;
    let hop = plan.hop;
    let (lo, hi) = plan.window_points;
    // The FFT works in place, so the points outside the window must be zeroed again each time.
    re[..lo * fl].fill(0.0);
    im[..lo * fl].fill(0.0);
    re[hi * fl..].fill(0.0);
    im[hi * fl..].fill(0.0);
    assert!(first + (2 * hi - 1) / hop + fl <= rows && columns.len() >= hop * rows);
    assert!(re.len() >= hi * fl && im.len() >= hi * fl && plan.window.len() >= 2 * hi);
    let columns = columns.as_ptr();
    let (re, im) = (re.as_mut_ptr(), im.as_mut_ptr());
    // Column by column: the 2-3 samples of a column (one hop apart) read overlapping runs of
    // the same cache lines.
    for c in 0..hop {
        let mut n = c;
        while n < 2 * hi {
            if n >= 2 * lo {
                // SAFETY: n < 2 hi, so the run ends by row first + (2 hi - 1) / hop + fl <= rows
                // (asserted above); point n / 2 < hi rows of fl values in re and im.
                unsafe {
                    let value = V::load_ptr(columns.add(c * rows + first + n / hop))
                        .mul(V::splat(*plan.window.get_unchecked(n)));
                    let half = if n % 2 == 0 { re } else { im };
                    value.store_ptr(half.add(n / 2 * fl));
                }
            }
            n += hop;
        }
    }
}

/// `b * w` for complex `b` and twiddle `w = (wr, wi)`.
#[inline(always)]
fn twiddle<V: F64s>(br: V, bi: V, wr: f64, wi: f64) -> (V, V) {
    // -(bi wi) as bi (-wi): negation is exact.
    let re = br.mul_add(V::splat(wr), bi.mul(V::splat(-wi)));
    (re, br.mul_add(V::splat(wi), bi.mul(V::splat(wr))))
}

/// In-place complex FFT of every lane, output in [`LanePlan::order`].
#[inline(always)]
fn fft<V: F64s>(plan: &LanePlan, re: &mut [f64], im: &mut [f64]) {
    let fl = V::LANES;
    for pass in &plan.passes {
        let quarter = pass.len / 4;
        let span = quarter * fl;
        for (re, im) in re
            .chunks_exact_mut(pass.len * fl)
            .zip(im.chunks_exact_mut(pass.len * fl))
        {
            // Raw pointers: bounds checks on the 16 loads and stores of each butterfly cost more
            // than its arithmetic. SAFETY: each chunk holds `4 * span` values; quarter `q`
            // starts at `q * span` and `j * fl + fl <= span` for every `j < quarter`.
            let (re, im) = (re.as_mut_ptr(), im.as_mut_ptr());
            for j in 0..quarter {
                let at = j * fl;
                unsafe {
                    let (p0, p1, p2, p3) = (
                        re.add(at),
                        re.add(at + span),
                        re.add(at + 2 * span),
                        re.add(at + 3 * span),
                    );
                    let (q0, q1, q2, q3) = (
                        im.add(at),
                        im.add(at + span),
                        im.add(at + 2 * span),
                        im.add(at + 3 * span),
                    );
                    let (a0r, a0i) = (V::load_ptr(p0), V::load_ptr(q0));
                    let (a1r, a1i) = (V::load_ptr(p1), V::load_ptr(q1));
                    let (a2r, a2i) = (V::load_ptr(p2), V::load_ptr(q2));
                    let (a3r, a3i) = (V::load_ptr(p3), V::load_ptr(q3));
                    let (t0r, t0i) = (a0r.add(a2r), a0i.add(a2i));
                    let (t1r, t1i) = (a0r.sub(a2r), a0i.sub(a2i));
                    let (t2r, t2i) = (a1r.add(a3r), a1i.add(a3i));
                    let (dr, di) = (a1r.sub(a3r), a1i.sub(a3i));
                    // y0 = t0 + t2; y1 = t1 - i d; y2 = t0 - t2; y3 = t1 + i d; then twiddled.
                    t0r.add(t2r).store_ptr(p0);
                    t0i.add(t2i).store_ptr(q0);
                    let (y1r, y1i) = (t1r.add(di), t1i.sub(dr));
                    let (y2r, y2i) = (t0r.sub(t2r), t0i.sub(t2i));
                    let (y3r, y3i) = (t1r.sub(di), t1i.add(dr));
                    let ((y1r, y1i), (y2r, y2i), (y3r, y3i)) = if quarter == 1 {
                        // The last pass: every twiddle is 1.
                        ((y1r, y1i), (y2r, y2i), (y3r, y3i))
                    } else {
                        let [w1r, w1i, w2r, w2i, w3r, w3i] = pass.twiddles[j];
                        (
                            twiddle(y1r, y1i, w1r, w1i),
                            twiddle(y2r, y2i, w2r, w2i),
                            twiddle(y3r, y3i, w3r, w3i),
                        )
                    };
                    y1r.store_ptr(p1);
                    y1i.store_ptr(q1);
                    y2r.store_ptr(p2);
                    y2i.store_ptr(q2);
                    y3r.store_ptr(p3);
                    y3i.store_ptr(q3);
                }
            }
        }
    }
    if plan.radix2_last {
        for (re, im) in re.chunks_exact_mut(2 * fl).zip(im.chunks_exact_mut(2 * fl)) {
            let (r0, r1) = re.split_at_mut(fl);
            let (i0, i1) = im.split_at_mut(fl);
            let (a0r, a0i, a1r, a1i) = (V::load(r0), V::load(i0), V::load(r1), V::load(i1));
            a0r.add(a1r).store(r0);
            a0i.add(a1i).store(i0);
            a0r.sub(a1r).store(r1);
            a0i.sub(a1i).store(i1);
        }
    }
}

/// The power spectrum of the real frames from the packed FFT `z` (see
/// [`crate::stft`]'s `split_real_power` for the algebra), into lanes `lane0..lane0 + V::LANES`
/// of `power` (rows of `pl` lanes). Powers below [`POWER_FLUSH`] are written as 0.
#[inline(always)]
fn split_power<V: F64s>(
    plan: &LanePlan,
    re: &[f64],
    im: &[f64],
    power: &mut [f32],
    pl: usize,
    lane0: usize,
) {
    let fl = V::LANES;
    let n = plan.points;
    // No closures here or below: an intrinsic called from a closure is not always inlined
    // (the closure lacks the caller's target features), and a call per vector op is slow.
    assert!(re.len() >= n * fl && im.len() >= n * fl && plan.order.len() >= n);
    assert!(power.len() >= (n + 1) * pl && lane0 + fl <= pl);
    let (re, im) = (re.as_ptr(), im.as_ptr());
    let power = power.as_mut_ptr();
    // SAFETY (every block below): `order` is a permutation of 0..n, so each row read is one of
    // the n rows of `fl` values asserted above; each row written is one of the n + 1 rows of
    // `pl` values, at lanes lane0..lane0 + fl <= pl.
    let row = |k: usize| unsafe { plan.order.get_unchecked(k) } * fl;
    let store = |k: usize| unsafe { power.add(k * pl + lane0) };
    unsafe {
        let (z0r, z0i) = (V::load_ptr(re.add(row(0))), V::load_ptr(im.add(row(0))));
        let (sum, diff) = (z0r.add(z0i), z0r.sub(z0i));
        sum.mul(sum).store_f32_flushed_ptr(POWER_FLUSH, store(0));
        diff.mul(diff).store_f32_flushed_ptr(POWER_FLUSH, store(n));
    }
    let quarter = V::splat(0.25);
    for k in 1..n {
        // `split[k]` holds -i exp(-2 pi i k / n_fft) (see `LanePlan::new`).
        let [c, s] = plan.split[k];
        let (c, s, minus_s) = (V::splat(c), V::splat(s), V::splat(-s));
        unsafe {
            let (ar, ai) = (V::load_ptr(re.add(row(k))), V::load_ptr(im.add(row(k))));
            let (br, bi) = (
                V::load_ptr(re.add(row(n - k))),
                V::load_ptr(im.add(row(n - k))),
            );
            // 2x = (a + conj b) + w' (a - conj b), w' = -i w: the halves of the textbook
            // form go into one exact quarter of the power.
            let (er, ei) = (ar.add(br), ai.sub(bi));
            let (dr, di) = (ar.sub(br), ai.add(bi));
            let xr = dr.mul_add(c, di.mul_add(minus_s, er));
            let xi = di.mul_add(c, dr.mul_add(s, ei));
            xr.mul_add(xr, xi.mul(xi))
                .mul(quarter)
                .store_f32_flushed_ptr(POWER_FLUSH, store(k));
        }
    }
}

#[inline(always)]
fn apply_mel<W: F32s>(plan: &LanePlan, power: &[f32], mel: &mut [f32]) {
    let pl = W::LANES;
    for ((out, &first), &(start, end)) in mel
        .chunks_exact_mut(pl)
        .zip(&plan.mel_first)
        .zip(&plan.mel_ranges)
    {
        let weights = &plan.mel_weights[start..end];
        let mut acc = W::splat(0.0);
        for (&w, p) in weights.iter().zip(power[first * pl..].chunks_exact(pl)) {
            acc = W::splat(w).mul_add(W::load(p), acc);
        }
        acc.store(out);
    }
}

/// The 12 chroma values of every lane, each normalized by the lane's largest (librosa's
/// `norm=inf`; see [`ChromaFilterbank::apply`] for the scale and the silence rule).
#[inline(always)]
fn apply_chroma<W: F32s>(plan: &LanePlan, power: &[f32]) -> [W; CHROMA_BINS] {
    let pl = W::LANES;
    let mut chroma = [W::splat(0.0); CHROMA_BINS];
    // Every chroma bin is <= points (`LanePlan::new` takes them from rows of points + 1 bins),
    // so one check of the power rows here covers every load below.
    assert!(power.len() >= (plan.points + 1) * pl);
    let power = power.as_ptr();
    for (out, (bins, weights)) in chroma.iter_mut().zip(&plan.chroma_rows) {
        // Four independent sums: one chain of ~150 dependent adds would be latency-bound.
        let mut acc = [W::splat(0.0); 4];
        let (bin_chunks, bin_tail) = bins.as_chunks::<4>();
        let (weight_chunks, weight_tail) = weights.as_chunks::<4>();
        for (b, w) in bin_chunks.iter().zip(weight_chunks) {
            for part in 0..4 {
                // SAFETY: b[part] <= points (see above).
                let row = unsafe { W::load_ptr(power.add(b[part] as usize * pl)) };
                acc[part] = W::splat(w[part]).mul_add(row, acc[part]);
            }
        }
        for (&b, &w) in bin_tail.iter().zip(weight_tail) {
            // SAFETY: as above.
            let row = unsafe { W::load_ptr(power.add(b as usize * pl)) };
            acc[0] = W::splat(w).mul_add(row, acc[0]);
        }
        *out = acc[0].add(acc[1]).add(acc[2].add(acc[3]));
    }
    let mut max = W::splat(0.0);
    for class in &chroma {
        max = class.abs().max(max);
    }
    let divisor = max.or_below(
        W::splat(f32::MIN_POSITIVE * CHROMA_SCALE),
        W::splat(CHROMA_SCALE),
    );
    for class in chroma.iter_mut() {
        *class = class.div(divisor);
    }
    chroma
}

/// The orthonormal DCT-II's first `n_mfcc` coefficients of every lane's log-mel frame (`mel`:
/// `n_mels` rows), into `mfcc` (`n_mfcc` rows); `folds` holds `2 * fold_len` rows of scratch.
/// DCT-II rows are even or odd about the middle input, so coefficient `k` only needs the `N/2`
/// sums (even k) or differences (odd k) of mirrored inputs: half the multiply-adds. c0, the
/// largest (~ -800 for a quiet frame), is summed in f64.
#[inline(always)]
fn dct<W: F32s>(plan: &LanePlan, mel: &[f32], folds: &mut [f32], mfcc: &mut [f32]) {
    let pl = W::LANES;
    let n = plan.n_mels;
    let fold = plan.fold_len;
    let (sums, diffs) = folds.split_at_mut(fold * pl);
    for i in 0..n / 2 {
        let (a, b) = (W::load(&mel[i * pl..]), W::load(&mel[(n - 1 - i) * pl..]));
        a.add(b).store(&mut sums[i * pl..]);
        a.sub(b).store(&mut diffs[i * pl..]);
    }
    if n % 2 == 1 {
        let middle = W::load(&mel[n / 2 * pl..]);
        middle.store(&mut sums[(fold - 1) * pl..]);
        middle.store(&mut diffs[(fold - 1) * pl..]);
    }
    for (k, (out, row)) in mfcc
        .chunks_exact_mut(pl)
        .skip(1)
        .zip(plan.dct_rows.chunks_exact(fold))
        .enumerate()
    {
        // `k` counts from coefficient 1: odd `k` is an even coefficient.
        let inputs: &[f32] = if k % 2 == 1 { sums } else { diffs };
        // Two sums of half the terms each: shorter dependency chains.
        let (mut even, mut odd) = (W::splat(0.0), W::splat(0.0));
        let (pairs, tail) = row.as_chunks::<2>();
        for (w, x) in pairs.iter().zip(inputs.chunks_exact(2 * pl)) {
            even = W::splat(w[0]).mul_add(W::load(x), even);
            odd = W::splat(w[1]).mul_add(W::load(&x[pl..]), odd);
        }
        if let Some(&w) = tail.first() {
            even = W::splat(w).mul_add(W::load(&inputs[(fold - 1) * pl..]), even);
        }
        even.add(odd).store(out);
    }
    {
        let mut total = [0.0f64; MAX_LANES];
        for row in mel.chunks_exact(pl) {
            for (sum, &value) in total.iter_mut().zip(row) {
                *sum += f64::from(value);
            }
        }
        for (slot, sum) in mfcc[..pl].iter_mut().zip(total) {
            *slot = (plan.c0_scale * sum) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::output_position;

    #[test]
    fn output_positions_are_a_permutation() {
        for n in [1usize, 2, 4, 8, 16, 32, 64, 256, 512] {
            let mut seen = vec![false; n];
            for k in 0..n {
                let p = output_position(k, n);
                assert!(!seen[p], "n {n}: position {p} twice");
                seen[p] = true;
            }
        }
        // Radix-4 digit reversal for 16 points: 1 -> 4, 4 -> 1, 6 = (1,2) -> (2,1) = 9.
        assert_eq!(output_position(1, 16), 4);
        assert_eq!(output_position(6, 16), 9);
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod stage_times {
    use super::*;
    use crate::simd::x86::{F32x16, F64x8};
    use std::time::Instant;

    #[target_feature(enable = "avx512f")]
    fn stages(plan: &LanePlan, samples: &[f32]) -> [f64; 7] {
        type V = F64x8;
        type W = F32x16;
        let (fl, pl) = (8, 16);
        let mut best = [f64::INFINITY; 7];
        let mut buffers = LaneBuffers::default();
        let mut out = FeatureMatrix::default();
        extract::<V, W>(plan, &mut buffers, samples, &mut out);
        let frames = out.frames;
        let blocks = frames.div_ceil(pl);
        let rows = buffers.padded.len() / plan.hop;
        let runs = 60;
        for _ in 0..runs {
            let mut t = [0.0f64; 7];
            let mut lap = Instant::now();
            let mut tick = |i: usize, lap: &mut Instant| {
                t[i] += lap.elapsed().as_secs_f64();
                *lap = Instant::now();
            };
            zcr_flags(
                samples,
                plan.win_length,
                &mut buffers.signs,
                &mut buffers.flags,
            );
            tick(0, &mut lap);
            for block in 0..blocks {
                for half in 0..2 {
                    let first = block * pl + half * fl;
                    load_frames::<V>(
                        plan,
                        &buffers.columns,
                        rows,
                        first,
                        &mut buffers.re,
                        &mut buffers.im,
                    );
                    tick(1, &mut lap);
                    fft::<V>(plan, &mut buffers.re, &mut buffers.im);
                    tick(2, &mut lap);
                    split_power::<V>(
                        plan,
                        &buffers.re,
                        &buffers.im,
                        &mut buffers.power,
                        pl,
                        half * fl,
                    );
                    tick(3, &mut lap);
                }
                let mel_block = &mut buffers.mel[block * plan.n_mels * pl..][..plan.n_mels * pl];
                apply_mel::<W>(plan, &buffers.power, mel_block);
                tick(4, &mut lap);
                std::hint::black_box(apply_chroma::<W>(plan, &buffers.power));
                tick(5, &mut lap);
            }
            let (folds, mfcc) = buffers.scratch.split_at_mut(2 * plan.fold_len * pl);
            for block in 0..blocks {
                let mel_block = &buffers.mel[block * plan.n_mels * pl..][..plan.n_mels * pl];
                dct::<W>(plan, mel_block, folds, mfcc);
            }
            tick(6, &mut lap);
            for (b, t) in best.iter_mut().zip(t) {
                *b = b.min(t);
            }
        }
        // The whole extraction, for what the stages leave out (dB, the rows' assembly).
        let mut whole = f64::INFINITY;
        for _ in 0..runs {
            let t0 = Instant::now();
            extract::<V, W>(plan, &mut buffers, samples, &mut out);
            whole = whole.min(t0.elapsed().as_secs_f64());
        }
        println!(
            "whole extract: {:.3} us per frame",
            whole * 1e6 / frames as f64
        );
        let mut db = f64::INFINITY;
        for _ in 0..runs {
            let mut mel = buffers.mel.clone();
            let t0 = Instant::now();
            crate::kernels::power_to_db_in_place(&mut mel, AMIN);
            clip_to_top_db(&mut mel, plan.top_db);
            db = db.min(t0.elapsed().as_secs_f64());
        }
        println!("dB + clip: {:.3} us per frame", db * 1e6 / frames as f64);
        // The fastest run of each stage: the machine may be shared.
        best.map(|s| s * 1e6 / frames as f64)
    }

    #[test]
    #[ignore = "timing: cargo test --release --lib stage_times -- --ignored --nocapture"]
    fn print_stage_times() {
        if !std::arch::is_x86_feature_detected!("avx512f") {
            println!("no AVX-512 here: nothing timed");
            return;
        }
        let samples: Vec<f32> = (0..160_000)
            .map(|i| (i as f32 * 0.0863).sin() * 0.3 + (i as f32 * 0.734).sin() * 0.1)
            .collect();
        let config = crate::FeatureConfig::default();
        let mel = MelFilterbank::new(16_000, 512, 64, 0.0, 8_000.0);
        let chroma = ChromaFilterbank::new(16_000, 512);
        let plan = LanePlan::new(&config, &mel, &chroma);
        // SAFETY: AVX-512F checked above.
        let t = unsafe { stages(&plan, &samples) };
        println!(
            "us per frame: zcr+transpose {:.3} load {:.3} fft {:.3} split {:.3} mel {:.3} chroma {:.3} \
             dct {:.3}",
            t[0], t[1], t[2], t[3], t[4], t[5], t[6]
        );
    }
}

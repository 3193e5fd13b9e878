//! The quantization arithmetic, as small pure functions: scales and zero points, per-channel
//! weights, int32 biases, and the percentile observer's histogram.

/// Affine int8 parameters: `real = scale * (q - zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QParams {
    /// Step between two neighbouring int8 values, in real units.
    pub scale: f32,
    /// The int8 value that stands for real 0.
    pub zero_point: i8,
}

/// The smallest scale we write: a tensor that is constant 0 over the whole calibration set still
/// needs a positive scale (ONNX requires it), and the value does not matter for it.
const MIN_SCALE: f32 = 1e-8;

/// Asymmetric int8 parameters for an activation observed in `[min, max]`.
///
/// The range is widened to hold 0 so that real zero (padding, ReLU's floor) is exact, as both
/// onnxruntime and tract assume for zero padding.
pub fn activation_params(min: f32, max: f32) -> QParams {
    let lo = min.min(0.0);
    let hi = max.max(0.0);
    let scale = ((hi - lo) / 255.0).max(MIN_SCALE);
    let zero_point = (-128.0 - lo / scale).round().clamp(-128.0, 127.0) as i8;
    QParams { scale, zero_point }
}

/// Rounds half away from zero, then saturates to int8.
pub fn quantize_value(x: f32, p: QParams) -> i8 {
    (x / p.scale + f32::from(p.zero_point))
        .round()
        .clamp(-128.0, 127.0) as i8
}

/// The real value an int8 stands for.
pub fn dequantize_value(q: i8, p: QParams) -> f32 {
    p.scale * (f32::from(q) - f32::from(p.zero_point))
}

/// Per-output-channel symmetric int8 weights (zero point 0, values in -127..=127).
///
/// `weights` is laid out with the output channel as the outermost axis (`channels` rows of equal
/// length), as ONNX Conv weights `[M, C/group, kH, kW]` are. Returns the int8 weights and one
/// scale per channel.
pub fn per_channel_weights(weights: &[f32], channels: usize) -> (Vec<i8>, Vec<f32>) {
    let per = weights.len().checked_div(channels).unwrap_or(0);
    let mut scales = Vec::with_capacity(channels);
    let mut q = Vec::with_capacity(weights.len());
    for row in weights.chunks(per.max(1)).take(channels) {
        let max_abs = row.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        // -127..=127, not -128: a symmetric range keeps `-w` representable.
        let scale = (max_abs / 127.0).max(MIN_SCALE);
        scales.push(scale);
        q.extend(
            row.iter()
                .map(|w| (w / scale).round().clamp(-127.0, 127.0) as i8),
        );
    }
    (q, scales)
}

/// A bias in int32 at the accumulator's scale `input_scale * weight_scale[c]`, as QLinearConv
/// wants it.
pub fn bias_i32(bias: &[f32], input_scale: f32, weight_scales: &[f32]) -> Vec<i32> {
    bias.iter()
        .zip(weight_scales)
        .map(|(b, ws)| {
            let s = f64::from(input_scale) * f64::from(*ws);
            (f64::from(*b) / s)
                .round()
                .clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
        })
        .collect()
}

/// A histogram over a fixed range, for the percentile observer.
#[derive(Clone, Debug)]
pub struct Histogram {
    lo: f32,
    hi: f32,
    bins: Vec<u64>,
    total: u64,
}

impl Histogram {
    /// `bins` equal bins over `[lo, hi]`.
    pub fn new(lo: f32, hi: f32, bins: usize) -> Self {
        Self {
            lo,
            hi: if hi > lo { hi } else { lo + MIN_SCALE },
            bins: vec![0; bins.max(1)],
            total: 0,
        }
    }

    /// Counts the values (values outside the range land in the end bins).
    pub fn add(&mut self, values: &[f32]) {
        let n = self.bins.len();
        let width = (self.hi - self.lo) / n as f32;
        for v in values {
            let i = ((v - self.lo) / width).floor();
            let i = if i.is_nan() {
                0
            } else {
                (i.max(0.0) as usize).min(n - 1)
            };
            self.bins[i] += 1;
        }
        self.total += values.len() as u64;
    }

    /// The range that keeps `percentile` % of the values, clipping the same share from both
    /// tails (e.g. 99.99 clips 0.005 % below and 0.005 % above).
    pub fn clip_range(&self, percentile: f32) -> (f32, f32) {
        let n = self.bins.len();
        let width = (self.hi - self.lo) / n as f32;
        let tail = ((100.0 - percentile.clamp(0.0, 100.0)) / 200.0 * self.total as f32) as u64;
        let mut seen = 0;
        let mut low_bin = 0;
        for (i, c) in self.bins.iter().enumerate() {
            seen += c;
            if seen > tail {
                low_bin = i;
                break;
            }
        }
        seen = 0;
        let mut high_bin = n - 1;
        for (i, c) in self.bins.iter().enumerate().rev() {
            seen += c;
            if seen > tail {
                high_bin = i;
                break;
            }
        }
        let lo = self.lo + low_bin as f32 * width;
        let hi = self.lo + (high_bin + 1) as f32 * width;
        (lo, hi.max(lo))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relu_range_puts_zero_at_minus_128() {
        let p = activation_params(0.0, 6.0);
        assert_eq!(p.zero_point, -128);
        assert!((p.scale - 6.0 / 255.0).abs() < 1e-9);
        assert_eq!(quantize_value(0.0, p), -128);
        assert_eq!(quantize_value(6.0, p), 127);
        assert_eq!(quantize_value(-1.0, p), -128, "saturates");
    }

    #[test]
    fn zero_is_exact_for_any_range() {
        for (lo, hi) in [
            (-1.0, 3.0),
            (-5.0, -1.0),
            (0.5, 2.0),
            (-0.3, 0.2),
            (0.0, 0.0),
        ] {
            let p = activation_params(lo, hi);
            assert_eq!(
                dequantize_value(quantize_value(0.0, p), p),
                0.0,
                "{lo}..{hi}"
            );
        }
    }

    #[test]
    fn round_trip_error_is_at_most_half_a_step() {
        let p = activation_params(-2.0, 3.0);
        for i in 0..=100 {
            let x = -2.0 + 5.0 * i as f32 / 100.0;
            let back = dequantize_value(quantize_value(x, p), p);
            assert!((back - x).abs() <= p.scale / 2.0 + 1e-6, "{x} -> {back}");
        }
    }

    #[test]
    fn per_channel_scales_follow_each_channel() {
        let w = [0.5, -1.0, 0.25, 0.01, -0.02, 0.005];
        let (q, s) = per_channel_weights(&w, 2);
        assert_eq!(s.len(), 2);
        assert!((s[0] - 1.0 / 127.0).abs() < 1e-9);
        assert!((s[1] - 0.02 / 127.0).abs() < 1e-9);
        assert_eq!(q[1], -127);
        assert_eq!(q[4], -127);
        // The small channel keeps its resolution: a per-tensor scale would round it all to 0.
        assert!((63..=64).contains(&q[3]), "{}", q[3]);
    }

    #[test]
    fn bias_is_at_the_accumulator_scale() {
        let b = bias_i32(&[0.5, -0.25], 0.01, &[0.1, 0.05]);
        assert_eq!(b, vec![500, -500]);
    }

    #[test]
    fn percentile_clips_outliers_from_both_tails() {
        let mut h = Histogram::new(-100.0, 100.0, 2000);
        let mut values: Vec<f32> = (0..10_000)
            .map(|i| (i % 200) as f32 / 100.0 - 1.0)
            .collect();
        values.push(100.0);
        values.push(-100.0);
        h.add(&values);
        let (lo, hi) = h.clip_range(99.9);
        assert!((-1.2..=-0.9).contains(&lo), "{lo}");
        assert!((0.9..=1.2).contains(&hi), "{hi}");
        let (lo, hi) = h.clip_range(100.0);
        assert_eq!((lo, hi), (-100.0, 100.0));
    }
}

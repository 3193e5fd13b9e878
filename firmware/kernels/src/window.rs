//! Which outputs of a window op a tap reaches, so the kernels walk each tap over the span of
//! outputs where it lands inside the input, with no bounds check in the inner loop.

use std::ops::Range;

/// The outputs `o` of one axis of a window op (`len` inputs, `out` outputs) whose tap `k`
/// lands inside the input: `0 <= o * stride + k - pad < len`. `stride` must not be 0.
pub(crate) fn span(len: usize, out: usize, k: usize, stride: usize, pad: usize) -> Range<usize> {
    // First o with o * stride + k >= pad.
    let first = pad.saturating_sub(k).div_ceil(stride);
    // Last o with o * stride + k - pad <= len - 1, i.e. o * stride <= len - 1 + pad - k.
    let end = match (len + pad).checked_sub(k + 1) {
        Some(top) => (top / stride + 1).min(out),
        None => 0,
    };
    first.min(end)..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_keeps_the_taps_inside_the_row() {
        // w = 5, 3 taps, stride 2, pad 1: outputs 0..3 read x = 2o + k - 1.
        assert_eq!(span(5, 3, 0, 2, 1), 1..3);
        assert_eq!(span(5, 3, 1, 2, 1), 0..3);
        assert_eq!(span(5, 3, 2, 2, 1), 0..2);
        // A tap entirely in the padding of a 1-wide row.
        assert_eq!(span(1, 1, 2, 1, 1), 0..0);
    }

    #[test]
    fn span_is_the_definition() {
        for len in 1..8 {
            for out in 0..8 {
                for k in 0..4 {
                    for stride in 1..4 {
                        for pad in 0..4 {
                            let inside: Vec<usize> = (0..out)
                                .filter(|o| (pad..pad + len).contains(&(o * stride + k)))
                                .collect();
                            let got: Vec<usize> = span(len, out, k, stride, pad).collect();
                            assert_eq!(got, inside, "{len} {out} {k} {stride} {pad}");
                        }
                    }
                }
            }
        }
    }
}

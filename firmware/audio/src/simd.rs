//! The vector types of the lane-parallel extractor ([`crate::lanes`]): one trait per element
//! type, implemented with AVX-512 and AVX2 intrinsics on x86_64 and with plain arrays elsewhere
//! (which LLVM vectorizes for SSE2 and NEON). Every operation is lane-wise and rounds as the
//! scalar operation does (the multiply-add is fused everywhere), so each implementation gives the
//! same bits; the generic code in `lanes.rs` is written once over these traits.
//!
//! Loads and stores take slices and read or write the first `LANES` values (checked: a short
//! slice panics, it is never read past).

/// `LANES` f64 values.
pub(crate) trait F64s: Copy {
    const LANES: usize;
    fn splat(x: f64) -> Self;
    fn load(from: &[f64]) -> Self;
    fn store(self, to: &mut [f64]);
    /// `LANES` vectors (into `out[..LANES]`), vector `j` lane `l` = `from[l * stride + j]`:
    /// `LANES` rows of `from` transposed into columns.
    fn load_columns(from: &[f64], stride: usize, out: &mut [Self]);
    /// [`F64s::load`] without the length check.
    ///
    /// # Safety
    /// `from` must be valid for reading `LANES` values.
    unsafe fn load_ptr(from: *const f64) -> Self;
    /// [`F64s::store`] without the length check.
    ///
    /// # Safety
    /// `to` must be valid for writing `LANES` values.
    unsafe fn store_ptr(self, to: *mut f64);
    fn add(self, b: Self) -> Self;
    fn sub(self, b: Self) -> Self;
    fn mul(self, b: Self) -> Self;
    /// `self * b + c` with one rounding.
    fn mul_add(self, b: Self, c: Self) -> Self;
    /// Writes `LANES` f32: each value rounded to f32, or 0 where it is below `flush`.
    ///
    /// # Safety
    /// `to` must be valid for writing `LANES` f32 values.
    unsafe fn store_f32_flushed_ptr(self, flush: f64, to: *mut f32);
}

/// `LANES` f32 values.
pub(crate) trait F32s: Copy {
    const LANES: usize;
    fn splat(x: f32) -> Self;
    fn load(from: &[f32]) -> Self;
    fn store(self, to: &mut [f32]);
    /// [`F32s::load`] without the length check.
    ///
    /// # Safety
    /// `from` must be valid for reading `LANES` values.
    unsafe fn load_ptr(from: *const f32) -> Self;
    fn add(self, b: Self) -> Self;
    fn sub(self, b: Self) -> Self;
    /// `self * b + c` with one rounding.
    fn mul_add(self, b: Self, c: Self) -> Self;
    fn div(self, b: Self) -> Self;
    fn abs(self) -> Self;
    /// `if self > b { self } else { b }` per lane.
    fn max(self, b: Self) -> Self;
    /// `if self >= threshold { self } else { other }` per lane.
    fn or_below(self, threshold: Self, other: Self) -> Self;
}

/// Plain arrays: the portable implementation.
#[derive(Clone, Copy)]
pub(crate) struct Lanes<T, const N: usize>([T; N]);

macro_rules! lanewise {
    ($n:expr, |$i:ident| $body:expr) => {
        Lanes(std::array::from_fn::<_, $n, _>(|$i| $body))
    };
}

impl<const N: usize> F64s for Lanes<f64, N> {
    const LANES: usize = N;
    #[inline(always)]
    fn load_columns(from: &[f64], stride: usize, out: &mut [Self]) {
        for (j, column) in out[..N].iter_mut().enumerate() {
            *column = lanewise!(N, |l| from[l * stride + j]);
        }
    }
    #[inline(always)]
    unsafe fn load_ptr(from: *const f64) -> Self {
        // SAFETY: the caller promises N readable values.
        Lanes(unsafe { from.cast::<[f64; N]>().read_unaligned() })
    }
    #[inline(always)]
    unsafe fn store_ptr(self, to: *mut f64) {
        // SAFETY: the caller promises N writable values.
        unsafe { to.cast::<[f64; N]>().write_unaligned(self.0) }
    }
    #[inline(always)]
    fn splat(x: f64) -> Self {
        Lanes([x; N])
    }
    #[inline(always)]
    fn load(from: &[f64]) -> Self {
        let mut lanes = [0.0; N];
        lanes.copy_from_slice(&from[..N]);
        Lanes(lanes)
    }
    #[inline(always)]
    fn store(self, to: &mut [f64]) {
        to[..N].copy_from_slice(&self.0);
    }
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        lanewise!(N, |l| self.0[l] + b.0[l])
    }
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        lanewise!(N, |l| self.0[l] - b.0[l])
    }
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        lanewise!(N, |l| self.0[l] * b.0[l])
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        lanewise!(N, |l| self.0[l].mul_add(b.0[l], c.0[l]))
    }
    #[inline(always)]
    unsafe fn store_f32_flushed_ptr(self, flush: f64, to: *mut f32) {
        let values: [f32; N] = std::array::from_fn(|l| {
            let x = self.0[l];
            if x < flush { 0.0 } else { x as f32 }
        });
        // SAFETY: the caller promises N writable values.
        unsafe { to.cast::<[f32; N]>().write_unaligned(values) }
    }
}

impl<const N: usize> F32s for Lanes<f32, N> {
    const LANES: usize = N;
    #[inline(always)]
    unsafe fn load_ptr(from: *const f32) -> Self {
        // SAFETY: the caller promises N readable values.
        Lanes(unsafe { from.cast::<[f32; N]>().read_unaligned() })
    }
    #[inline(always)]
    fn splat(x: f32) -> Self {
        Lanes([x; N])
    }
    #[inline(always)]
    fn load(from: &[f32]) -> Self {
        let mut lanes = [0.0; N];
        lanes.copy_from_slice(&from[..N]);
        Lanes(lanes)
    }
    #[inline(always)]
    fn store(self, to: &mut [f32]) {
        to[..N].copy_from_slice(&self.0);
    }
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        lanewise!(N, |l| self.0[l] + b.0[l])
    }
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        lanewise!(N, |l| self.0[l] - b.0[l])
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        lanewise!(N, |l| self.0[l].mul_add(b.0[l], c.0[l]))
    }
    #[inline(always)]
    fn div(self, b: Self) -> Self {
        lanewise!(N, |l| self.0[l] / b.0[l])
    }
    #[inline(always)]
    fn abs(self) -> Self {
        lanewise!(N, |l| self.0[l].abs())
    }
    #[inline(always)]
    fn max(self, b: Self) -> Self {
        lanewise!(N, |l| if self.0[l] > b.0[l] {
            self.0[l]
        } else {
            b.0[l]
        })
    }
    #[inline(always)]
    fn or_below(self, threshold: Self, other: Self) -> Self {
        lanewise!(N, |l| if self.0[l] >= threshold.0[l] {
            self.0[l]
        } else {
            other.0[l]
        })
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod x86 {
    //! The intrinsics are only reached from functions compiled with the matching target
    //! features (`features.rs` checks the CPU before calling them), which is what makes each
    //! `unsafe` block sound; the slice length checks make the unaligned loads and stores sound.
    use std::arch::x86_64::*;

    use super::{F32s, F64s};

    #[derive(Clone, Copy)]
    pub(crate) struct F64x8(__m512d);
    #[derive(Clone, Copy)]
    pub(crate) struct F32x16(__m512);
    #[derive(Clone, Copy)]
    pub(crate) struct F64x4(__m256d);
    #[derive(Clone, Copy)]
    pub(crate) struct F32x8(__m256);

    impl F64s for F64x8 {
        const LANES: usize = 8;
        #[inline(always)]
        fn load_columns(from: &[f64], stride: usize, out: &mut [Self]) {
            assert!(from.len() >= 7 * stride + 8 && out.len() >= 8);
            unsafe {
                let p = from.as_ptr();
                // No closures: an intrinsic inside one may not be inlined.
                let row = |l: usize| p.add(l * stride);
                let r = [
                    _mm512_loadu_pd(row(0)),
                    _mm512_loadu_pd(row(1)),
                    _mm512_loadu_pd(row(2)),
                    _mm512_loadu_pd(row(3)),
                    _mm512_loadu_pd(row(4)),
                    _mm512_loadu_pd(row(5)),
                    _mm512_loadu_pd(row(6)),
                    _mm512_loadu_pd(row(7)),
                ];
                // Pairs of rows interleaved, then 128-bit quarters gathered twice.
                let t = [
                    _mm512_unpacklo_pd(r[0], r[1]),
                    _mm512_unpackhi_pd(r[0], r[1]),
                    _mm512_unpacklo_pd(r[2], r[3]),
                    _mm512_unpackhi_pd(r[2], r[3]),
                    _mm512_unpacklo_pd(r[4], r[5]),
                    _mm512_unpackhi_pd(r[4], r[5]),
                    _mm512_unpacklo_pd(r[6], r[7]),
                    _mm512_unpackhi_pd(r[6], r[7]),
                ];
                // u[0]: columns 0/4 of rows 0-3, u[1]: 2/6, u[2]: 1/5, u[3]: 3/7; u[4..]: rows 4-7.
                let u = [
                    _mm512_shuffle_f64x2::<0x88>(t[0], t[2]),
                    _mm512_shuffle_f64x2::<0xDD>(t[0], t[2]),
                    _mm512_shuffle_f64x2::<0x88>(t[1], t[3]),
                    _mm512_shuffle_f64x2::<0xDD>(t[1], t[3]),
                    _mm512_shuffle_f64x2::<0x88>(t[4], t[6]),
                    _mm512_shuffle_f64x2::<0xDD>(t[4], t[6]),
                    _mm512_shuffle_f64x2::<0x88>(t[5], t[7]),
                    _mm512_shuffle_f64x2::<0xDD>(t[5], t[7]),
                ];
                out[0] = Self(_mm512_shuffle_f64x2::<0x88>(u[0], u[4]));
                out[4] = Self(_mm512_shuffle_f64x2::<0xDD>(u[0], u[4]));
                out[2] = Self(_mm512_shuffle_f64x2::<0x88>(u[1], u[5]));
                out[6] = Self(_mm512_shuffle_f64x2::<0xDD>(u[1], u[5]));
                out[1] = Self(_mm512_shuffle_f64x2::<0x88>(u[2], u[6]));
                out[5] = Self(_mm512_shuffle_f64x2::<0xDD>(u[2], u[6]));
                out[3] = Self(_mm512_shuffle_f64x2::<0x88>(u[3], u[7]));
                out[7] = Self(_mm512_shuffle_f64x2::<0xDD>(u[3], u[7]));
            }
        }
        #[inline(always)]
        unsafe fn load_ptr(from: *const f64) -> Self {
            unsafe { Self(_mm512_loadu_pd(from)) }
        }
        #[inline(always)]
        unsafe fn store_ptr(self, to: *mut f64) {
            unsafe { _mm512_storeu_pd(to, self.0) }
        }
        #[inline(always)]
        fn splat(x: f64) -> Self {
            unsafe { Self(_mm512_set1_pd(x)) }
        }
        #[inline(always)]
        fn load(from: &[f64]) -> Self {
            assert!(from.len() >= 8);
            unsafe { Self(_mm512_loadu_pd(from.as_ptr())) }
        }
        #[inline(always)]
        fn store(self, to: &mut [f64]) {
            assert!(to.len() >= 8);
            unsafe { _mm512_storeu_pd(to.as_mut_ptr(), self.0) }
        }
        #[inline(always)]
        fn add(self, b: Self) -> Self {
            unsafe { Self(_mm512_add_pd(self.0, b.0)) }
        }
        #[inline(always)]
        fn sub(self, b: Self) -> Self {
            unsafe { Self(_mm512_sub_pd(self.0, b.0)) }
        }
        #[inline(always)]
        fn mul(self, b: Self) -> Self {
            unsafe { Self(_mm512_mul_pd(self.0, b.0)) }
        }
        #[inline(always)]
        fn mul_add(self, b: Self, c: Self) -> Self {
            unsafe { Self(_mm512_fmadd_pd(self.0, b.0, c.0)) }
        }
        #[inline(always)]
        unsafe fn store_f32_flushed_ptr(self, flush: f64, to: *mut f32) {
            unsafe {
                let below = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(self.0, _mm512_set1_pd(flush));
                let kept = _mm512_mask_blend_pd(below, self.0, _mm512_setzero_pd());
                _mm256_storeu_ps(to, _mm512_cvtpd_ps(kept));
            }
        }
    }

    impl F32s for F32x16 {
        const LANES: usize = 16;
        #[inline(always)]
        unsafe fn load_ptr(from: *const f32) -> Self {
            unsafe { Self(_mm512_loadu_ps(from)) }
        }
        #[inline(always)]
        fn splat(x: f32) -> Self {
            unsafe { Self(_mm512_set1_ps(x)) }
        }
        #[inline(always)]
        fn load(from: &[f32]) -> Self {
            assert!(from.len() >= 16);
            unsafe { Self(_mm512_loadu_ps(from.as_ptr())) }
        }
        #[inline(always)]
        fn store(self, to: &mut [f32]) {
            assert!(to.len() >= 16);
            unsafe { _mm512_storeu_ps(to.as_mut_ptr(), self.0) }
        }
        #[inline(always)]
        fn add(self, b: Self) -> Self {
            unsafe { Self(_mm512_add_ps(self.0, b.0)) }
        }
        #[inline(always)]
        fn sub(self, b: Self) -> Self {
            unsafe { Self(_mm512_sub_ps(self.0, b.0)) }
        }
        #[inline(always)]
        fn mul_add(self, b: Self, c: Self) -> Self {
            unsafe { Self(_mm512_fmadd_ps(self.0, b.0, c.0)) }
        }
        #[inline(always)]
        fn div(self, b: Self) -> Self {
            unsafe { Self(_mm512_div_ps(self.0, b.0)) }
        }
        #[inline(always)]
        fn abs(self) -> Self {
            unsafe { Self(_mm512_abs_ps(self.0)) }
        }
        #[inline(always)]
        fn max(self, b: Self) -> Self {
            // maxps returns the second operand unless the first is greater: the scalar rule.
            unsafe { Self(_mm512_max_ps(self.0, b.0)) }
        }
        #[inline(always)]
        fn or_below(self, threshold: Self, other: Self) -> Self {
            unsafe {
                let keep = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(self.0, threshold.0);
                Self(_mm512_mask_blend_ps(keep, other.0, self.0))
            }
        }
    }

    impl F64s for F64x4 {
        const LANES: usize = 4;
        #[inline(always)]
        fn load_columns(from: &[f64], stride: usize, out: &mut [Self]) {
            assert!(from.len() >= 3 * stride + 4 && out.len() >= 4);
            unsafe {
                let p = from.as_ptr();
                let r = [
                    _mm256_loadu_pd(p),
                    _mm256_loadu_pd(p.add(stride)),
                    _mm256_loadu_pd(p.add(2 * stride)),
                    _mm256_loadu_pd(p.add(3 * stride)),
                ];
                let t0 = _mm256_unpacklo_pd(r[0], r[1]);
                let t1 = _mm256_unpackhi_pd(r[0], r[1]);
                let t2 = _mm256_unpacklo_pd(r[2], r[3]);
                let t3 = _mm256_unpackhi_pd(r[2], r[3]);
                out[0] = Self(_mm256_permute2f128_pd::<0x20>(t0, t2));
                out[2] = Self(_mm256_permute2f128_pd::<0x31>(t0, t2));
                out[1] = Self(_mm256_permute2f128_pd::<0x20>(t1, t3));
                out[3] = Self(_mm256_permute2f128_pd::<0x31>(t1, t3));
            }
        }
        #[inline(always)]
        unsafe fn load_ptr(from: *const f64) -> Self {
            unsafe { Self(_mm256_loadu_pd(from)) }
        }
        #[inline(always)]
        unsafe fn store_ptr(self, to: *mut f64) {
            unsafe { _mm256_storeu_pd(to, self.0) }
        }
        #[inline(always)]
        fn splat(x: f64) -> Self {
            unsafe { Self(_mm256_set1_pd(x)) }
        }
        #[inline(always)]
        fn load(from: &[f64]) -> Self {
            assert!(from.len() >= 4);
            unsafe { Self(_mm256_loadu_pd(from.as_ptr())) }
        }
        #[inline(always)]
        fn store(self, to: &mut [f64]) {
            assert!(to.len() >= 4);
            unsafe { _mm256_storeu_pd(to.as_mut_ptr(), self.0) }
        }
        #[inline(always)]
        fn add(self, b: Self) -> Self {
            unsafe { Self(_mm256_add_pd(self.0, b.0)) }
        }
        #[inline(always)]
        fn sub(self, b: Self) -> Self {
            unsafe { Self(_mm256_sub_pd(self.0, b.0)) }
        }
        #[inline(always)]
        fn mul(self, b: Self) -> Self {
            unsafe { Self(_mm256_mul_pd(self.0, b.0)) }
        }
        #[inline(always)]
        fn mul_add(self, b: Self, c: Self) -> Self {
            unsafe { Self(_mm256_fmadd_pd(self.0, b.0, c.0)) }
        }
        #[inline(always)]
        unsafe fn store_f32_flushed_ptr(self, flush: f64, to: *mut f32) {
            unsafe {
                let below = _mm256_cmp_pd::<_CMP_LT_OQ>(self.0, _mm256_set1_pd(flush));
                let kept = _mm256_andnot_pd(below, self.0);
                _mm_storeu_ps(to, _mm256_cvtpd_ps(kept));
            }
        }
    }

    impl F32s for F32x8 {
        const LANES: usize = 8;
        #[inline(always)]
        unsafe fn load_ptr(from: *const f32) -> Self {
            unsafe { Self(_mm256_loadu_ps(from)) }
        }
        #[inline(always)]
        fn splat(x: f32) -> Self {
            unsafe { Self(_mm256_set1_ps(x)) }
        }
        #[inline(always)]
        fn load(from: &[f32]) -> Self {
            assert!(from.len() >= 8);
            unsafe { Self(_mm256_loadu_ps(from.as_ptr())) }
        }
        #[inline(always)]
        fn store(self, to: &mut [f32]) {
            assert!(to.len() >= 8);
            unsafe { _mm256_storeu_ps(to.as_mut_ptr(), self.0) }
        }
        #[inline(always)]
        fn add(self, b: Self) -> Self {
            unsafe { Self(_mm256_add_ps(self.0, b.0)) }
        }
        #[inline(always)]
        fn sub(self, b: Self) -> Self {
            unsafe { Self(_mm256_sub_ps(self.0, b.0)) }
        }
        #[inline(always)]
        fn mul_add(self, b: Self, c: Self) -> Self {
            unsafe { Self(_mm256_fmadd_ps(self.0, b.0, c.0)) }
        }
        #[inline(always)]
        fn div(self, b: Self) -> Self {
            unsafe { Self(_mm256_div_ps(self.0, b.0)) }
        }
        #[inline(always)]
        fn abs(self) -> Self {
            unsafe { Self(_mm256_andnot_ps(_mm256_set1_ps(-0.0), self.0)) }
        }
        #[inline(always)]
        fn max(self, b: Self) -> Self {
            unsafe { Self(_mm256_max_ps(self.0, b.0)) }
        }
        #[inline(always)]
        fn or_below(self, threshold: Self, other: Self) -> Self {
            unsafe {
                let keep = _mm256_cmp_ps::<_CMP_GE_OQ>(self.0, threshold.0);
                Self(_mm256_blendv_ps(other.0, self.0, keep))
            }
        }
    }
}

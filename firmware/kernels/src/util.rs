//! Checks and comparisons the plans share.

use std::hash::{Hash, Hasher};

use crate::{Isa, KernelError};

/// `Err` unless `got == expected`.
pub(crate) fn check_len(
    kernel: &'static str,
    slice: &'static str,
    expected: usize,
    got: usize,
) -> Result<(), KernelError> {
    if got == expected {
        Ok(())
    } else {
        Err(KernelError::Length {
            kernel,
            slice,
            expected,
            got,
        })
    }
}

/// `Err` unless this CPU runs `isa`: the plans only ever hold an instruction set the CPU has,
/// which is what makes running its implementation sound.
pub(crate) fn check_isa(kernel: &'static str, isa: Isa) -> Result<Isa, KernelError> {
    if isa.is_available() {
        Ok(isa)
    } else {
        Err(KernelError::IsaUnavailable { kernel, isa })
    }
}

/// The product of `dims`, or `Err` when a dim is 0 or the product overflows.
pub(crate) fn volume(
    kernel: &'static str,
    what: &str,
    dims: &[usize],
) -> Result<usize, KernelError> {
    if dims.contains(&0) {
        return Err(KernelError::Geometry {
            kernel,
            reason: format!("{what} {dims:?} has a zero size"),
        });
    }
    dims.iter()
        .try_fold(1usize, |v, d| v.checked_mul(*d))
        .ok_or_else(|| KernelError::Geometry {
            kernel,
            reason: format!("{what} {dims:?} holds more values than memory can"),
        })
}

/// Whether `a` and `b` hold the same values bit for bit (a NaN equals itself), so a plan that
/// holds weights can be `Eq`.
pub(crate) fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Hashes `values` by their bits (consistent with [`same_bits`]).
pub(crate) fn hash_bits<H: Hasher>(values: &[f32], state: &mut H) {
    values.len().hash(state);
    for x in values {
        x.to_bits().hash(state);
    }
}

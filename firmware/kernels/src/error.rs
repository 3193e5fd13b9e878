//! The kernels' one error type: a plan refused when it is made, or slices a plan cannot run on.

use std::fmt;

use crate::Isa;

/// Why a kernel refused a plan or a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KernelError {
    /// The geometry or weights given to a plan do not add up; `reason` says which part.
    Geometry {
        kernel: &'static str,
        reason: String,
    },
    /// A slice handed to a plan's run does not hold the values the plan was made for.
    Length {
        kernel: &'static str,
        slice: &'static str,
        expected: usize,
        got: usize,
    },
    /// The plan was asked for an instruction set this CPU cannot run.
    IsaUnavailable { kernel: &'static str, isa: Isa },
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelError::Geometry { kernel, reason } => write!(f, "{kernel}: {reason}"),
            KernelError::Length {
                kernel,
                slice,
                expected,
                got,
            } => write!(
                f,
                "{kernel}: the {slice} holds {got} values where the plan needs {expected}; \
                 make a plan for this shape"
            ),
            KernelError::IsaUnavailable { kernel, isa } => write!(
                f,
                "{kernel}: this CPU cannot run the {isa} implementation; ask for \
                 Isa::detected(), or Isa::capped({isa}) for the best this CPU has up to it"
            ),
        }
    }
}

impl std::error::Error for KernelError {}

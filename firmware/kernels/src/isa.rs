//! The instruction sets Sentio's kernels have implementations for, and which of them this CPU
//! can run.

use std::fmt;
use std::sync::OnceLock;

/// One column of the kernels' table of implementations: every kernel has a copy of its loops
/// for each (a kernel without a copy of its own for an instruction set runs the next one down,
/// and its plan's `implementation()` says which loops run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Isa {
    /// Plain Rust loops written so the compiler vectorizes them for the target's baseline
    /// (SSE2 on x86_64, NEON on aarch64).
    Portable,
    /// aarch64 Advanced SIMD intrinsics (every aarch64 board has it).
    Neon,
    /// x86_64 AVX2 and FMA (the portable loops compiled for them, 8 lanes).
    Avx2Fma,
    /// x86_64 AVX-512 F intrinsics (16 lanes, masked loads and stores).
    Avx512,
}

impl Isa {
    /// Every instruction set, best first.
    pub const ALL: [Isa; 4] = [Isa::Avx512, Isa::Avx2Fma, Isa::Neon, Isa::Portable];

    /// The name used in reports, profiles and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Neon => "neon",
            Isa::Avx2Fma => "avx2+fma",
            Isa::Avx512 => "avx512",
        }
    }

    /// The instruction set named `name` ([`Isa::name`]; `avx2` and `avx512f` too).
    pub fn parse(name: &str) -> Option<Isa> {
        match name.trim().to_ascii_lowercase().as_str() {
            "portable" => Some(Isa::Portable),
            "neon" => Some(Isa::Neon),
            "avx2+fma" | "avx2" | "avx2,fma" => Some(Isa::Avx2Fma),
            "avx512" | "avx512f" | "avx-512" => Some(Isa::Avx512),
            _ => None,
        }
    }

    /// Whether this CPU can run the implementation.
    pub fn is_available(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The best instruction set this CPU runs (detected once).
    pub fn detected() -> Isa {
        static DETECTED: OnceLock<Isa> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            Isa::ALL
                .into_iter()
                .find(|isa| isa.is_available())
                .unwrap_or(Isa::Portable)
        })
    }

    /// Every instruction set this CPU runs, best first (always ends with [`Isa::Portable`]).
    pub fn available() -> Vec<Isa> {
        Isa::ALL
            .into_iter()
            .filter(|isa| isa.is_available())
            .collect()
    }

    /// The best instruction set this CPU runs that is no more than `limit`: `limit` itself when
    /// the CPU has it, else the next one down its architecture's ladder (AVX-512, AVX2+FMA,
    /// portable; NEON, portable). What a benchmark asks for to time a smaller CPU.
    pub fn capped(limit: Isa) -> Isa {
        let ladder: &[Isa] = match limit {
            Isa::Avx512 => &[Isa::Avx512, Isa::Avx2Fma, Isa::Portable],
            Isa::Avx2Fma => &[Isa::Avx2Fma, Isa::Portable],
            Isa::Neon => &[Isa::Neon, Isa::Portable],
            Isa::Portable => &[Isa::Portable],
        };
        ladder
            .iter()
            .copied()
            .find(|isa| isa.is_available())
            .unwrap_or(Isa::Portable)
    }

    /// Lanes of f32 in one of its vectors.
    pub fn f32_lanes(self) -> usize {
        match self {
            Isa::Avx512 => 16,
            Isa::Avx2Fma => 8,
            Isa::Neon | Isa::Portable => 4,
        }
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The CPU features that change which kernels run (Sentio's or tract's), as
/// `feature,feature,...` in a fixed order: part of the key a measured plan choice is cached
/// under, so a plan timed on one CPU is never reused on another.
pub fn cpu_features() -> String {
    #[allow(unused_mut)]
    let mut present: Vec<&str> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! x86 {
            ($($f:tt),*) => {$(
                if std::arch::is_x86_feature_detected!($f) {
                    present.push($f);
                }
            )*};
        }
        x86!(
            "sse4.1",
            "avx",
            "avx2",
            "fma",
            "f16c",
            "avx512f",
            "avx512bw",
            "avx512vl",
            "avx512vnni",
            "avx512fp16"
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        macro_rules! arm {
            ($($f:tt),*) => {$(
                if std::arch::is_aarch64_feature_detected!($f) {
                    present.push($f);
                }
            )*};
        }
        arm!("neon", "fp16", "dotprod", "i8mm", "sve", "sve2");
    }
    format!("{}:{}", std::env::consts::ARCH, present.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for isa in Isa::ALL {
            assert_eq!(Isa::parse(isa.name()), Some(isa));
        }
        assert_eq!(Isa::parse("AVX2"), Some(Isa::Avx2Fma));
        assert_eq!(Isa::parse("sse"), None);
    }

    #[test]
    fn detection_is_consistent() {
        let available = Isa::available();
        assert_eq!(available.first(), Some(&Isa::detected()));
        assert_eq!(available.last(), Some(&Isa::Portable));
        for isa in Isa::ALL {
            let capped = Isa::capped(isa);
            assert!(capped.is_available() && capped <= isa, "{isa} -> {capped}");
        }
        assert_eq!(Isa::capped(Isa::Portable), Isa::Portable);
        // No machine runs both architectures' SIMD.
        assert!(!(Isa::Neon.is_available() && Isa::Avx2Fma.is_available()));
        assert!(cpu_features().starts_with(std::env::consts::ARCH));
    }
}

//! Simulated devices: files in, files out, deterministic.

//! Real Linux drivers (placeholder until written).

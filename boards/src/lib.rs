//! Board profiles (placeholder until written).

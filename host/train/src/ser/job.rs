//! The `ser` job (filled in below).

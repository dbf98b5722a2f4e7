//! The fuzz targets' shared entry points (see `entries.rs`); each binary in `targets/` is one
//! libFuzzer target calling one of them.

#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod entries;

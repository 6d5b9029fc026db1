//! Paths of the fixture components built by `tests/build.rs`.
include!(concat!(env!("OUT_DIR"), "/gen.rs"));

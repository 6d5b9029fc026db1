//! Integration tests: the real `tailmcp` binary, real components, real clients.

mod bad_input;
mod busy;
mod clients;
mod compose;
mod conformance;
mod faults;
mod first_hour;
mod host;
mod identity;
mod layout;
mod modern;
mod policy;
mod protocol;
mod reload;
mod replicas;
mod security;
mod security_budget;
mod security_identity;
mod security_output;
mod security_precompiled;
mod sse;

/// Every fixture component in `tests/fixtures/src/bin` has a test of its name.
mod fixture_tests {
    pub use crate::busy::*;
    pub use crate::conformance::*;
    pub use crate::faults::*;
    pub use crate::identity::*;
    pub use crate::reload::*;
    pub use crate::security::*;
    pub use crate::security_output::*;
}

macro_rules! assert_test_exists {
    ($name:ident) => {
        #[allow(unused_imports, reason = "only checks that the test exists")]
        use crate::fixture_tests::$name as _;
    };
}
tailmcp_tests::foreach_fixture!(assert_test_exists);

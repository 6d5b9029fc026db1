//! Fuzzes `Tailscale-App-Capabilities` parsing: any text either parses into
//! capability → grant objects, or is refused with a reason; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../host/src/identity/mod.rs"]
#[allow(dead_code, reason = "only the decoding functions are fuzzed")]
mod identity;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match identity::parse_capabilities(text) {
        Ok(capabilities) => {
            for grants in capabilities.values() {
                assert!(grants.iter().all(serde_json::Value::is_object));
            }
        }
        Err(reason) => assert!(!reason.is_empty()),
    }
});

//! Fuzzes the identity path: arbitrary `Tailscale-*` header values (and
//! others) through `take_identity`, as they would arrive from a client that
//! reached the host directly. Nothing may panic, no `Tailscale-*` header may
//! survive (nor a look-alike), and a decoded user always has a login free of
//! control characters.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

#[path = "../../host/src/identity/mod.rs"]
#[allow(dead_code, reason = "only the decoding functions are fuzzed")]
mod identity;

const NAMES: [&str; 10] = [
    "tailscale-user-login",
    "tailscale-user-name",
    "tailscale-user-profile-pic",
    "tailscale-app-capabilities",
    "tailscale-funnel-request",
    "tailscale-headers-info",
    "tailscale_user_login",
    "x-tailscale-user-login",
    "x-forwarded-for",
    "x-other",
];

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    // Each 0xff-separated chunk is one header value; its first byte picks the name.
    for chunk in data.split(|b| *b == 0xff) {
        let Some((which, value)) = chunk.split_first() else {
            continue;
        };
        let name = HeaderName::from_static(NAMES[*which as usize % NAMES.len()]);
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.append(name, value);
        }
    }
    let identity = identity::take_identity(&mut headers, identity::Trust::Honour);
    assert!(headers.keys().all(|k| {
        let name = k.as_str().replace('_', "-");
        !name.trim_start_matches("x-").starts_with("tailscale-")
    }));
    if let Some(user) = &identity.caller.user {
        assert!(!user.login.is_empty());
        // No control character reaches a login or a name.
        for text in [&user.login, &user.display_name] {
            assert!(!text.chars().any(|c| c < ' ' || c == '\x7f'));
        }
    }
    for grants in identity.caller.capabilities.values() {
        assert!(grants.iter().all(serde_json::Value::is_object));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = identity::rfc2047::decode_header(text);
    }
});

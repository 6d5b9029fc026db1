//! Q-encoding of header values exactly as tailscale serve does it: Go's
//! `mime.QEncoding.Encode("utf-8", v)` (several words when long).

/// Go's `maxEncodedWordLen`.
const MAX_WORD_LEN: usize = 75;
const PREFIX: &str = "=?utf-8?q?";
const SUFFIX: &str = "?=";

/// Encodes `value` like Go's `mime.QEncoding.Encode("utf-8", value)`.
pub fn q_encode(value: &str) -> String {
    let needs = value
        .bytes()
        .any(|b| !(b' '..=b'~').contains(&b) && b != b'\t');
    if !needs {
        return value.to_string();
    }
    let budget = MAX_WORD_LEN - PREFIX.len() - SUFFIX.len();
    let mut words = Vec::new();
    let mut word = String::new();
    for ch in value.chars() {
        let mut buf = [0u8; 4];
        let encoded: String = ch.encode_utf8(&mut buf).bytes().map(encode_byte).collect();
        if !word.is_empty() && word.len() + encoded.len() > budget {
            words.push(std::mem::take(&mut word));
        }
        word.push_str(&encoded);
    }
    words.push(word);
    words
        .iter()
        .map(|w| format!("{PREFIX}{w}{SUFFIX}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn encode_byte(b: u8) -> String {
    match b {
        b' ' => "_".to_string(),
        b'=' | b'?' | b'_' => format!("={b:02X}"),
        b'!'..=b'~' => (b as char).to_string(),
        _ => format!("={b:02X}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors were made by Go's encoder (see host/src/identity/testdata).
    #[test]
    fn matches_go_vectors() {
        let vectors: serde_json::Value = serde_json::from_str(include_str!(
            "../../host/src/identity/testdata/rfc2047-vectors.json"
        ))
        .unwrap();
        let mut checked = 0;
        for v in vectors["vectors"].as_array().unwrap() {
            let note = v["note"].as_str().unwrap();
            if note.starts_with("invalid UTF-8") {
                continue; // not representable as a Rust &str
            }
            let value = v["value"].as_str().unwrap();
            assert_eq!(q_encode(value), v["header"].as_str().unwrap(), "{note}");
            checked += 1;
        }
        assert!(checked >= 13);
    }
}

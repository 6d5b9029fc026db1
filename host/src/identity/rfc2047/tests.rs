use super::*;

#[test]
fn decodes_like_go() {
    let cases = [
        ("ascii passes through", "Alice Example", "Alice Example"),
        ("empty", "", ""),
        ("lone =? is plain text", "what=?", "what=?"),
        (
            "q word",
            "=?utf-8?q?Zo=C3=AB_=C3=9Cn=C3=AFcode?=",
            "Zoë Ünïcode",
        ),
        ("uppercase Q and charset", "=?UTF-8?Q?caf=C3=A9?=", "café"),
        ("lowercase hex digits", "=?utf-8?q?caf=c3=a9?=", "café"),
        (
            "q keeps other printable ascii",
            "=?utf-8?q?a?b{\"c\"}?=",
            "a?b{\"c\"}",
        ),
        ("q text may contain a space (Go)", "=?utf-8?q?a b?=", "a b"),
        ("empty text", "=?utf-8?q??=", ""),
        ("b word", "=?utf-8?b?Y2Fmw6k=?=", "café"),
        ("uppercase B", "=?UTF-8?B?SGVsbG8=?=", "Hello"),
        ("b without padding needed", "=?utf-8?b?YWJj?=", "abc"),
        ("b ignores unused bits", "=?utf-8?b?YR==?=", "a"),
        (
            "words joined across a space",
            "=?utf-8?q?a?= =?utf-8?q?b?=",
            "ab",
        ),
        (
            "words joined across tabs",
            "=?utf-8?q?a?=\t\t=?utf-8?b?Yg==?=",
            "ab",
        ),
        (
            "words joined across folding",
            "=?utf-8?q?a?=\r\n =?utf-8?q?b?=",
            "ab",
        ),
        (
            "words joined when touching",
            "=?utf-8?q?a?==?utf-8?q?b?=",
            "ab",
        ),
        (
            "character split across words",
            "=?utf-8?q?=C3?= =?utf-8?q?=A9?=",
            "é",
        ),
        ("word between plain text", "a =?utf-8?q?b?= c", "a b c"),
        ("word inside a token", "x=?utf-8?q?y?=z", "xyz"),
        (
            "text between words kept",
            "=?utf-8?q?a?= and =?utf-8?q?b?=",
            "a and b",
        ),
        ("iso-8859-1", "=?iso-8859-1?q?Zo=EB?=", "Zoë"),
        ("iso-8859-1 in b", "=?ISO-8859-1?b?Wm/r?=", "Zoë"),
        ("us-ascii", "=?us-ascii?q?hi?=", "hi"),
        (
            "us-ascii high byte replaced",
            "=?US-ASCII?q?a=FFb?=",
            "a\u{FFFD}b",
        ),
        ("malformed: missing ?=", "=?utf-8?q?abc", "=?utf-8?q?abc"),
        ("malformed: bad hex", "=?utf-8?q?=ZZ?=", "=?utf-8?q?=ZZ?="),
        (
            "malformed: truncated escape",
            "=?utf-8?q?a=4?=",
            "=?utf-8?q?a=4?=",
        ),
        (
            "malformed: raw non-ascii in q",
            "=?utf-8?q?é?=",
            "=?utf-8?q?é?=",
        ),
        (
            "malformed: bad base64",
            "=?utf-8?b?!!!!?=",
            "=?utf-8?b?!!!!?=",
        ),
        (
            "malformed: missing padding",
            "=?utf-8?b?YQ?=",
            "=?utf-8?b?YQ?=",
        ),
        (
            "malformed: data after padding",
            "=?utf-8?b?YQ==YQ==?=",
            "=?utf-8?b?YQ==YQ==?=",
        ),
        (
            "malformed: unknown encoding",
            "=?utf-8?x?abc?=",
            "=?utf-8?x?abc?=",
        ),
        (
            "malformed charset not checked",
            "=?koi8-r?q?=ZZ?=",
            "=?koi8-r?q?=ZZ?=",
        ),
        (
            "malformed word kept, later word decoded",
            "=?utf-8?q?=ZZ?= =?utf-8?q?b?=",
            "=?utf-8?q?=ZZ?= b",
        ),
        (
            "two-letter encoding stops the scan (Go)",
            "=?utf-8?qq?a?= =?utf-8?q?b?=",
            "=?utf-8?qq?a?= =?utf-8?q?b?=",
        ),
    ];
    for (name, input, want) in cases {
        assert_eq!(decode_header(input).as_deref(), Ok(want), "{name}");
    }
}

#[test]
fn rejects_like_go() {
    let unknown = |c: &str| DecodeError::UnknownCharset(c.to_owned());
    let cases = [
        ("unknown charset", "=?koi8-r?q?abc?=", unknown("koi8-r")),
        (
            "unknown charset after text",
            "name: =?x?b?YQ==?=",
            unknown("x"),
        ),
        (
            "empty charset (Go: unhandled charset)",
            "=??q?abc?=",
            unknown(""),
        ),
        (
            "invalid utf-8 in q",
            "=?utf-8?q?=FF?=",
            DecodeError::InvalidUtf8,
        ),
        (
            "invalid utf-8 in b",
            "=?utf-8?b?/w==?=",
            DecodeError::InvalidUtf8,
        ),
        (
            "truncated character",
            "=?utf-8?q?a=C3?=",
            DecodeError::InvalidUtf8,
        ),
    ];
    for (name, input, want) in cases {
        assert_eq!(decode_header(input), Err(want), "{name}");
    }
}

#[test]
fn error_messages() {
    let err = DecodeError::UnknownCharset("koi8-r".to_owned());
    assert_eq!(
        err.to_string(),
        "unknown charset \"koi8-r\" in an encoded word"
    );
    let err = DecodeError::InvalidUtf8;
    assert_eq!(err.to_string(), "encoded words decode to invalid UTF-8");
}

/// The Go vectors: `value` and the `header` serve sent for it.
fn go_vectors() -> Vec<serde_json::Value> {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../testdata/rfc2047-vectors.json"))
            .expect("vectors are JSON");
    let vectors = doc["vectors"].as_array().expect("a vectors array").clone();
    assert!(vectors.len() >= 15);
    vectors
}

/// `encode` writes what Go's `mime.QEncoding.Encode("utf-8", v)` wrote.
#[test]
fn encodes_like_go() {
    for vector in go_vectors() {
        let field = |key: &str| vector[key].as_str().expect("string fields");
        let note = field("note");
        if note.starts_with("invalid UTF-8") {
            continue; // not a Rust &str; serve sends "" for it
        }
        assert_eq!(encode(field("value")), field("header"), "{note}");
    }
}

/// What the host takes from each header serve produced is the value serve was given,
/// even where Go's own decoder says otherwise (an ASCII value that looks encoded).
#[test]
fn serve_values_come_back_exactly() {
    let mut literal_look_alikes = 0;
    for vector in go_vectors() {
        let field = |key: &str| vector[key].as_str().expect("string fields");
        let (note, header) = (field("note"), field("header"));
        let want = if note.starts_with("invalid UTF-8") {
            "" // serve sent an empty header
        } else {
            field("value")
        };
        assert_eq!(decode_serve_value(header), want, "{note}");
        if want != field("decoded_by_go") {
            literal_look_alikes += 1;
        }
    }
    assert!(literal_look_alikes >= 1, "the vectors hold a look-alike");
}

#[test]
fn decodings_serve_could_not_have_sent_are_literal() {
    let cases = [
        (
            "ascii login that looks encoded",
            "=?utf-8?q?ops=40example.com?=",
            "=?utf-8?q?ops=40example.com?=",
        ),
        (
            "encoded word inside ascii text",
            "ops =?utf-8?q?=C3=A9?=",
            "ops =?utf-8?q?=C3=A9?=",
        ),
        (
            "grant gaining a field",
            r#"{"c/x":[{"role":"viewer","n":"=?utf-8?q?=22,=22role=22:=22admin?="}]}"#,
            r#"{"c/x":[{"role":"viewer","n":"=?utf-8?q?=22,=22role=22:=22admin?="}]}"#,
        ),
        (
            "uppercase charset and Q",
            "=?UTF-8?Q?caf=C3=A9?=",
            "=?UTF-8?Q?caf=C3=A9?=",
        ),
        (
            "lowercase hex",
            "=?utf-8?q?caf=c3=a9?=",
            "=?utf-8?q?caf=c3=a9?=",
        ),
        ("b encoding", "=?utf-8?b?Y2Fmw6k=?=", "=?utf-8?b?Y2Fmw6k=?="),
        (
            "other charset",
            "=?iso-8859-1?q?Zo=EB?=",
            "=?iso-8859-1?q?Zo=EB?=",
        ),
        ("unknown charset", "=?koi8-r?q?abc?=", "=?koi8-r?q?abc?="),
        ("invalid utf-8", "=?utf-8?q?=FF?=", "=?utf-8?q?=FF?="),
        (
            "encoded space where Go writes _",
            "=?utf-8?q?caf=C3=A9=20x?=",
            "=?utf-8?q?caf=C3=A9=20x?=",
        ),
        (
            "split where Go would not split",
            "=?utf-8?q?caf?= =?utf-8?q?=C3=A9?=",
            "=?utf-8?q?caf?= =?utf-8?q?=C3=A9?=",
        ),
        (
            "two spaces between words",
            "=?utf-8?q?=C3=A9?=  =?utf-8?q?=C3=A9?=",
            "=?utf-8?q?=C3=A9?=  =?utf-8?q?=C3=A9?=",
        ),
        // What serve does send is decoded.
        ("serve's encoding", "=?utf-8?q?caf=C3=A9_x?=", "café x"),
        ("serve's encoded newline", "=?utf-8?q?a=0Ab?=", "a\nb"),
        ("plain ascii", "alice@example.com", "alice@example.com"),
    ];
    for (name, header, want) in cases {
        assert_eq!(decode_serve_value(header), want, "{name}");
    }
}

/// Header values that `tailscale serve` produced, decoded by Go's `DecodeHeader`.
#[test]
fn matches_go_vectors() {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../testdata/rfc2047-vectors.json"))
            .expect("vectors are JSON");
    let vectors = doc["vectors"].as_array().expect("a vectors array");
    assert!(!vectors.is_empty());
    for vector in vectors {
        let field = |key: &str| vector[key].as_str().expect("string fields");
        let (note, header) = (field("note"), field("header"));
        let want = field("decoded_by_go");
        assert_eq!(decode_header(header).as_deref(), Ok(want), "{note}");
    }
}

use super::*;
use serde_json::json;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

fn user(login: &str, name: &str, pic: Option<&str>) -> Option<User> {
    Some(User {
        login: login.into(),
        display_name: name.into(),
        profile_pic_url: pic.map(Into::into),
    })
}

#[test]
fn named_cases() {
    struct Case {
        name: &'static str,
        headers: &'static [(&'static str, &'static str)],
        trust: Trust,
        user: Option<User>,
        capabilities: serde_json::Value,
        peer: Option<&'static str>,
        funnel: bool,
        warnings: usize,
    }
    let cases = [
        Case {
            name: "request-from-user",
            headers: &[
                ("Tailscale-User-Login", "alice@example.com"),
                ("Tailscale-User-Name", "Alice Example"),
                ("Tailscale-User-Profile-Pic", "https://example.com/a.png"),
            ],
            trust: Trust::Honour,
            user: user(
                "alice@example.com",
                "Alice Example",
                Some("https://example.com/a.png"),
            ),
            capabilities: json!({}),
            peer: None,
            funnel: false,
            warnings: 0,
        },
        Case {
            name: "non-ascii-name-q-encoded",
            headers: &[
                ("Tailscale-User-Login", "zoe@example.com"),
                (
                    "Tailscale-User-Name",
                    "=?utf-8?q?Zo=C3=AB_=C3=9Cn=C3=AFcode?=",
                ),
            ],
            trust: Trust::Honour,
            user: user("zoe@example.com", "Zoë Ünïcode", None),
            capabilities: json!({}),
            peer: None,
            funnel: false,
            warnings: 0,
        },
        Case {
            name: "tagged-device-with-capabilities",
            headers: &[(
                "Tailscale-App-Capabilities",
                r#"{"example.com/cap/mcp":[{"tools":["greet"]},{"role":"admin"}]}"#,
            )],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({"example.com/cap/mcp":[{"tools":["greet"]},{"role":"admin"}]}),
            peer: None,
            funnel: false,
            warnings: 0,
        },
        Case {
            name: "capabilities-split-across-encoded-words",
            headers: &[(
                "Tailscale-App-Capabilities",
                "=?utf-8?q?{\"example.com/cap/mcp\":[{\"role\":\"=F0=9F=91=91\"},{\"role\":\"viewer?= =?utf-8?q?\"}]}?=",
            )],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({"example.com/cap/mcp":[{"role":"👑"},{"role":"viewer"}]}),
            peer: None,
            funnel: false,
            warnings: 0,
        },
        Case {
            name: "untrusted-listener-ignores-all-but-funnel",
            headers: &[
                ("Tailscale-User-Login", "mallory@example.com"),
                (
                    "Tailscale-App-Capabilities",
                    r#"{"example.com/cap/mcp":[{}]}"#,
                ),
                ("X-Forwarded-For", "100.64.0.7"),
                ("Tailscale-Funnel-Request", "?1"),
            ],
            trust: Trust::Ignore,
            user: None,
            capabilities: json!({}),
            peer: None,
            funnel: true,
            warnings: 0,
        },
        Case {
            name: "untrusted-listener-without-funnel",
            headers: &[("Tailscale-User-Login", "mallory@example.com")],
            trust: Trust::Ignore,
            user: None,
            capabilities: json!({}),
            peer: None,
            funnel: false,
            warnings: 0,
        },
        Case {
            name: "funnel",
            headers: &[("Tailscale-Funnel-Request", "?1")],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({}),
            peer: None,
            funnel: true,
            warnings: 0,
        },
        Case {
            name: "invalid-capabilities-json",
            headers: &[
                ("Tailscale-User-Login", "alice@example.com"),
                ("Tailscale-App-Capabilities", "{not json"),
            ],
            trust: Trust::Honour,
            user: user("alice@example.com", "alice@example.com", None),
            capabilities: json!({}),
            peer: None,
            funnel: false,
            warnings: 1,
        },
        Case {
            name: "capability-not-a-list",
            headers: &[(
                "Tailscale-App-Capabilities",
                r#"{"example.com/cap/mcp":"admin"}"#,
            )],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({}),
            peer: None,
            funnel: false,
            warnings: 1,
        },
        Case {
            // serve never sends another charset: this was sent as it is.
            name: "unknown-charset-is-literal",
            headers: &[("Tailscale-User-Login", "=?koi8-r?q?abc?=")],
            trust: Trust::Honour,
            user: user("=?koi8-r?q?abc?=", "=?koi8-r?q?abc?=", None),
            capabilities: json!({}),
            peer: None,
            funnel: false,
            warnings: 0,
        },
        Case {
            name: "ascii-login-that-looks-encoded-is-literal",
            headers: &[
                ("Tailscale-User-Login", "=?utf-8?q?ops=40example.com?="),
                ("Tailscale-User-Name", "=?utf-8?q?Mallory?="),
            ],
            trust: Trust::Honour,
            user: user("=?utf-8?q?ops=40example.com?=", "=?utf-8?q?Mallory?=", None),
            capabilities: json!({}),
            peer: None,
            funnel: false,
            warnings: 0,
        },
        Case {
            name: "ascii-grant-with-an-encoded-word-is-literal",
            headers: &[(
                "Tailscale-App-Capabilities",
                r#"{"c.example/cap/x":[{"role":"viewer","n":"=?utf-8?q?=22,=22role=22:=22admin?="}]}"#,
            )],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({"c.example/cap/x":[{"role":"viewer","n":"=?utf-8?q?=22,=22role=22:=22admin?="}]}),
            peer: None,
            funnel: false,
            warnings: 0,
        },
        Case {
            name: "encoded-newline-in-login-is-no-identity",
            headers: &[
                (
                    "Tailscale-User-Login",
                    "=?utf-8?q?ops@example.com=0Aforged_line?=",
                ),
                (
                    "Tailscale-App-Capabilities",
                    r#"{"example.com/cap/mcp":[{"role":"admin"}]}"#,
                ),
            ],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({}),
            peer: None,
            funnel: false,
            warnings: 1,
        },
        Case {
            name: "escape-sequence-in-name-is-no-identity",
            headers: &[
                ("Tailscale-User-Login", "eve@example.com"),
                ("Tailscale-User-Name", "=?utf-8?q?Eve=1B[2J?="),
            ],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({}),
            peer: None,
            funnel: false,
            warnings: 1,
        },
        Case {
            // Go does not encode a tab, so it arrives raw.
            name: "tab-in-name-is-no-identity",
            headers: &[
                ("Tailscale-User-Login", "eve@example.com"),
                ("Tailscale-User-Name", "Eve\tExample"),
            ],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({}),
            peer: None,
            funnel: false,
            warnings: 1,
        },
        Case {
            name: "delete-in-login-is-no-identity",
            headers: &[("Tailscale-User-Login", "=?utf-8?q?eve=7F?=")],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({}),
            peer: None,
            funnel: false,
            warnings: 1,
        },
        Case {
            name: "look-alike-header-names-are-stripped-not-read",
            headers: &[
                ("Tailscale_User_Login", "mallory@example.com"),
                ("X-Tailscale-User-Login", "mallory@example.com"),
                (
                    "x_tailscale_app_capabilities",
                    r#"{"c.example/cap/x":[{}]}"#,
                ),
                ("X-X-Tailscale-Funnel-Request", "?1"),
            ],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({}),
            peer: None,
            funnel: false,
            warnings: 0,
        },
        Case {
            name: "tagged-device-peer-address",
            headers: &[
                ("Tailscale-App-Capabilities", r#"{"c.example/cap/x":[{}]}"#),
                ("X-Forwarded-For", "100.64.0.7"),
            ],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({"c.example/cap/x":[{}]}),
            peer: Some("100.64.0.7"),
            funnel: false,
            warnings: 0,
        },
        Case {
            name: "mapped-peer-address-is-ipv4",
            headers: &[("X-Forwarded-For", "::ffff:100.64.0.7")],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({}),
            peer: Some("100.64.0.7"),
            funnel: false,
            warnings: 0,
        },
        Case {
            name: "ipv6-peer-address",
            headers: &[("X-Forwarded-For", "fd7a:115c:a1e0::1")],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({}),
            peer: Some("fd7a:115c:a1e0::1"),
            funnel: false,
            warnings: 0,
        },
        Case {
            // serve sets one address; a list came from somewhere else.
            name: "forwarded-for-list-is-no-peer",
            headers: &[("X-Forwarded-For", "100.64.0.7, 100.64.0.8")],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({}),
            peer: None,
            funnel: false,
            warnings: 1,
        },
        Case {
            name: "forwarded-for-twice-is-no-peer",
            headers: &[
                ("X-Forwarded-For", "100.64.0.7"),
                ("X-Forwarded-For", "100.64.0.8"),
            ],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({}),
            peer: None,
            funnel: false,
            warnings: 1,
        },
        Case {
            name: "empty-login-is-absent",
            headers: &[
                ("Tailscale-User-Login", ""),
                ("Tailscale-User-Name", "Nobody"),
            ],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({}),
            peer: None,
            funnel: false,
            warnings: 0,
        },
        Case {
            name: "duplicate-login-is-absent",
            headers: &[
                ("Tailscale-User-Login", "alice@example.com"),
                ("Tailscale-User-Login", "mallory@example.com"),
            ],
            trust: Trust::Honour,
            user: None,
            capabilities: json!({}),
            peer: None,
            funnel: false,
            warnings: 1,
        },
    ];
    for case in cases {
        let mut map = headers(case.headers);
        map.insert("x-other", HeaderValue::from_static("kept"));
        let identity = take_identity(&mut map, case.trust);
        assert_eq!(identity.caller.user, case.user, "{}", case.name);
        assert_eq!(
            serde_json::to_value(&identity.caller.capabilities).unwrap(),
            case.capabilities,
            "{}",
            case.name
        );
        assert_eq!(
            identity.caller.peer,
            case.peer.map(|p| p.parse().unwrap()),
            "{}",
            case.name
        );
        assert_eq!(identity.funnel, case.funnel, "{}", case.name);
        assert_eq!(
            identity.warnings.len(),
            case.warnings,
            "{}: {:?}",
            case.name,
            identity.warnings
        );
        let left: Vec<&str> = map.keys().map(HeaderName::as_str).collect();
        let forwarded = case
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("x-forwarded-for"));
        let want: &[&str] = if forwarded {
            &["x-forwarded-for", "x-other"]
        } else {
            &["x-other"]
        };
        let mut left_sorted = left.clone();
        left_sorted.sort_unstable();
        assert_eq!(left_sorted, want, "{}: only these are left", case.name);
    }
}

#[test]
fn strips_every_tailscale_header_and_look_alike_in_any_case() {
    let mut map = headers(&[
        ("TAILSCALE-USER-LOGIN", "a@b"),
        ("tailscale-headers-info", "x"),
        ("Tailscale-Anything-New", "x"),
        ("Tailscale-Anything-New", "y"),
        ("x-tailscale-user-login", "an adapter may read it"),
        (
            "Tailscale_User_Login",
            "CGI reads it as HTTP_TAILSCALE_USER_LOGIN",
        ),
        ("tailscale-_user", "x"),
        ("x_Tailscale-user-name", "x"),
        ("x-tailscalefoo", "kept: not a Tailscale- name"),
        ("my-tailscale-user-login", "kept"),
    ]);
    take_identity(&mut map, Trust::Ignore);
    let mut left = map.keys().map(|k| k.as_str()).collect::<Vec<_>>();
    left.sort_unstable();
    assert_eq!(left, ["my-tailscale-user-login", "x-tailscalefoo"]);
}

#[test]
fn escapes_log_text() {
    let cases = [
        ("plain", "alice@example.com", "alice@example.com"),
        ("non-ascii kept", "Zoë 🚀", "Zoë 🚀"),
        ("newline", "a\nINFO forged", "a\\nINFO forged"),
        ("carriage return and tab", "a\r\tb", "a\\r\\tb"),
        ("escape sequence", "\u{1b}[2J", "\\u{1b}[2J"),
        ("delete and C1", "\u{7f}\u{85}", "\\u{7f}\\u{85}"),
        ("line separator", "a\u{2028}b", "a\\u{2028}b"),
        (
            "bidi override",
            "\u{202e}moc.elpmaxe",
            "\\u{202e}moc.elpmaxe",
        ),
        ("backslash, so escapes are unambiguous", "a\\nb", "a\\\\nb"),
    ];
    for (name, text, want) in cases {
        assert_eq!(escape(text), want, "{name}");
    }
    assert!(matches!(escape("plain"), Cow::Borrowed(_)));
}

#[test]
fn non_ascii_header_bytes_are_absent() {
    let mut map = HeaderMap::new();
    map.insert(USER_LOGIN, HeaderValue::from_bytes(b"al\xffce").unwrap());
    let identity = take_identity(&mut map, Trust::Honour);
    assert_eq!(identity.caller.user, None);
    assert_eq!(identity.warnings.len(), 1);
}

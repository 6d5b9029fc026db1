//! Where identity is decoded: the only place `Tailscale-*` headers are read.
//!
//! [`take_identity`] removes every `Tailscale-*` header from a request first
//! (so none can reach the component, forged or not), and only then, if the
//! listener is one that only `tailscale serve` can reach, decodes what
//! `tailscale serve` put there into a typed [`Caller`]. The Funnel marker is
//! read on every listener: forging it can only get a request refused.

pub mod rfc2047;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

/// `Tailscale-User-Login`: the user's login name, Q-encoded if not ASCII.
pub const USER_LOGIN: HeaderName = HeaderName::from_static("tailscale-user-login");
/// `Tailscale-User-Name`: the display name, Q-encoded if not ASCII.
pub const USER_NAME: HeaderName = HeaderName::from_static("tailscale-user-name");
/// `Tailscale-User-Profile-Pic`: a URL, never encoded.
pub const USER_PROFILE_PIC: HeaderName = HeaderName::from_static("tailscale-user-profile-pic");
/// `Tailscale-App-Capabilities`: JSON `{"<cap>": [<grant>, ...]}`, Q-encoded if not ASCII.
pub const APP_CAPABILITIES: HeaderName = HeaderName::from_static("tailscale-app-capabilities");
/// `Tailscale-Funnel-Request`: set on requests from the public internet through Funnel.
pub const FUNNEL_REQUEST: HeaderName = HeaderName::from_static("tailscale-funnel-request");
/// `X-Forwarded-For`: serve sets it to the tailnet address of the device it proxies for.
pub const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

const PREFIX: &str = "tailscale-";

/// Who is calling.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Caller {
    /// `None` for tagged devices and requests that did not come through `tailscale serve`.
    pub user: Option<User>,
    /// App capabilities: capability name → every grant object (the union of all grants).
    pub capabilities: BTreeMap<String, Vec<Value>>,
    /// The device's tailnet address, from serve's `X-Forwarded-For` on a
    /// trusted listener; `None` if it sent none (or it could not be believed).
    pub peer: Option<IpAddr>,
}

/// A Tailscale user.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub login: String,
    pub display_name: String,
    pub profile_pic_url: Option<String>,
}

impl Caller {
    /// The login for log lines (escaped): the user's, or a note of who else it is.
    pub fn describe(&self) -> String {
        match (&self.user, self.capabilities.is_empty()) {
            (Some(user), _) => escape(&user.login).into_owned(),
            (None, false) => "tagged-device".to_string(),
            (None, true) => "-".to_string(),
        }
    }
}

/// Whether identity headers on a listener can be believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// A unix socket or loopback address: only `tailscale serve` (or the
    /// machine's own processes) can connect, so the headers are serve's.
    Honour,
    /// Any other address: tailnet peers could connect directly and forge
    /// headers, so identity headers are stripped and ignored (all but the
    /// Funnel marker, which can only refuse).
    Ignore,
}

/// What the identity headers of one request said.
#[derive(Debug, Default, PartialEq)]
pub struct Identity {
    pub caller: Caller,
    /// The request came from the public internet through Tailscale Funnel.
    pub funnel: bool,
    /// Header values that were present but unusable, for the log. They name
    /// the header and the problem, never the value.
    pub warnings: Vec<String>,
}

/// Removes every `Tailscale-*` header (and look-alikes) from `headers` and,
/// if `trust` allows, decodes the identity they carried.
pub fn take_identity(headers: &mut HeaderMap, trust: Trust) -> Identity {
    let taken = strip(headers);
    // Read whatever the listener: refusing Funnel traffic must not depend on
    // trust, and a forged marker only gets the forger refused.
    let funnel = taken.contains_key(FUNNEL_REQUEST);
    if trust == Trust::Ignore {
        return Identity {
            funnel,
            ..Identity::default()
        };
    }
    let mut warnings = Vec::new();
    let mut text = |name: &HeaderName, encoded: bool| -> Option<String> {
        let values = taken.get_all(name).iter().collect::<Vec<_>>();
        match values.as_slice() {
            [] => None,
            [value] => match decode(value, encoded) {
                Ok(text) if !text.is_empty() => Some(text),
                Ok(_) => None,
                Err(why) => {
                    warnings.push(format!("{name}: {why}; treated as absent"));
                    None
                }
            },
            _ => {
                warnings.push(format!(
                    "{name}: sent {} times; treated as absent",
                    values.len()
                ));
                None
            }
        }
    };
    let login = text(&USER_LOGIN, true);
    let display_name = text(&USER_NAME, true);
    let profile_pic_url = text(&USER_PROFILE_PIC, false);
    let capabilities = text(&APP_CAPABILITIES, true);
    let user = login.map(|login| User {
        display_name: display_name.unwrap_or_else(|| login.clone()),
        login,
        profile_pic_url,
    });
    // A control character in a login or name is never a real identity, and
    // would end a log line early or forge one; believe nothing of this caller.
    if let Some(user) = &user {
        let fields = [(&USER_LOGIN, &user.login), (&USER_NAME, &user.display_name)];
        if let Some((name, _)) = fields.into_iter().find(|(_, value)| has_control(value)) {
            warnings.push(format!(
                "{name}: holds a control character; identity treated as absent"
            ));
            return Identity {
                funnel,
                warnings,
                ..Identity::default()
            };
        }
    }
    let peer = forwarded_for(headers, &mut warnings);
    let capabilities = match capabilities.map(|json| parse_capabilities(&json)) {
        None => BTreeMap::new(),
        Some(Ok(capabilities)) => capabilities,
        Some(Err(why)) => {
            warnings.push(format!(
                "{APP_CAPABILITIES}: {why}; no capabilities granted"
            ));
            BTreeMap::new()
        }
    };
    Identity {
        caller: Caller {
            user,
            capabilities,
            peer,
        },
        funnel,
        warnings,
    }
}

/// The address serve put in `X-Forwarded-For`: it sets exactly one. Anything
/// else did not come from serve, and is not used.
fn forwarded_for(headers: &HeaderMap, warnings: &mut Vec<String>) -> Option<IpAddr> {
    let values = headers.get_all(FORWARDED_FOR).iter().collect::<Vec<_>>();
    let [value] = values.as_slice() else {
        if !values.is_empty() {
            warnings.push(format!(
                "{FORWARDED_FOR}: sent {} times; no peer address",
                values.len()
            ));
        }
        return None;
    };
    let parsed = value
        .to_str()
        .ok()
        .and_then(|text| text.trim().parse::<IpAddr>().ok());
    if parsed.is_none() {
        warnings.push(format!(
            "{FORWARDED_FOR}: not one IP address; no peer address"
        ));
    }
    // `::ffff:a.b.c.d` and `a.b.c.d` are one device.
    parsed.map(|ip| ip.to_canonical())
}

/// U+0000 to U+001F (tab included) and U+007F: never in a login or a name.
fn has_control(text: &str) -> bool {
    text.chars().any(|c| matches!(c, '\0'..='\x1f' | '\x7f'))
}

/// Caller-controlled text made safe for a log line: control characters,
/// Unicode line separators, bidirectional overrides and `\` become Rust
/// escapes (`\n`, `\u{202e}`), so no value can end a line, forge one, or
/// make it read differently from what it holds.
pub fn escape(text: &str) -> Cow<'_, str> {
    fn needs_escape(c: char) -> bool {
        c.is_control()
            || matches!(
                c,
                '\\'
                    | '\u{061c}'
                    | '\u{200e}'
                    | '\u{200f}'
                    | '\u{2028}'
                    | '\u{2029}'
                    | '\u{202a}'..='\u{202e}'
                    | '\u{2066}'..='\u{2069}'
            )
    }
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Removes and returns every header whose name starts with `Tailscale-`, or
/// would once an adapter has rewritten it (see [`is_identity_name`]).
fn strip(headers: &mut HeaderMap) -> HeaderMap {
    let names: Vec<HeaderName> = headers
        .keys()
        .filter(|name| is_identity_name(name.as_str()))
        .cloned()
        .collect();
    let mut taken = HeaderMap::new();
    for name in names {
        // `remove` returns only the first value; drain them all.
        if let http::header::Entry::Occupied(entry) = headers.entry(&name) {
            for value in entry.remove_entry_mult().1 {
                taken.append(name.clone(), value);
            }
        }
    }
    taken
}

/// Whether a component, or an adapter in front of one, could read `name`
/// (lowercase) as a `Tailscale-*` header: CGI-style gateways turn `-` and `_`
/// alike into `_` (`Tailscale_User_Login` is `HTTP_TAILSCALE_USER_LOGIN`),
/// and some frameworks look under `X-Tailscale-*` too.
fn is_identity_name(name: &str) -> bool {
    let name = name.replace('_', "-");
    let mut rest = name.as_str();
    while let Some(unprefixed) = rest.strip_prefix("x-") {
        rest = unprefixed;
    }
    rest.starts_with(PREFIX)
}

fn decode(value: &HeaderValue, encoded: bool) -> Result<String, String> {
    // tailscale serve sends visible ASCII only (non-ASCII is Q-encoded).
    let raw = value
        .to_str()
        .map_err(|_| "not visible ASCII".to_string())?;
    if !encoded {
        return Ok(raw.to_string());
    }
    // Decoded only where serve encoded the whole value; otherwise literal.
    Ok(rfc2047::decode_serve_value(raw))
}

/// Parses the `Tailscale-App-Capabilities` JSON: an object of capability
/// name → array of grant objects.
pub fn parse_capabilities(json: &str) -> Result<BTreeMap<String, Vec<Value>>, String> {
    let parsed: BTreeMap<String, Value> =
        serde_json::from_str(json).map_err(|e| format!("not a JSON object: {e}"))?;
    parsed
        .into_iter()
        .map(|(name, grants)| match grants {
            Value::Array(grants) if grants.iter().all(Value::is_object) => Ok((name, grants)),
            Value::Null => Ok((name, Vec::new())),
            _ => Err(format!(
                "capability {name:?} is not a list of grant objects"
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
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
}

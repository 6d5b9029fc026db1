//! Where identity is decoded: the only place `Tailscale-*` headers are read.
//!
//! [`take_identity`] removes every `Tailscale-*` header from a request first
//! (so none can reach the component, forged or not), and only then, if the
//! listener is one that only `tailscale serve` can reach, decodes what
//! `tailscale serve` put there into a typed [`Caller`].

pub mod rfc2047;
// The WIT glue needs wasmtime; fuzz targets include this file without it.
#[cfg(not(fuzzing))]
pub mod wit;

use std::collections::BTreeMap;

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

const PREFIX: &str = "tailscale-";

/// Who is calling.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Caller {
    /// `None` for tagged devices and requests that did not come through `tailscale serve`.
    pub user: Option<User>,
    /// App capabilities: capability name → every grant object (the union of all grants).
    pub capabilities: BTreeMap<String, Vec<Value>>,
}

/// A Tailscale user.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub login: String,
    pub display_name: String,
    pub profile_pic_url: Option<String>,
}

impl Caller {
    /// The login for log lines: the user's, or a note of who else it is.
    pub fn describe(&self) -> String {
        match (&self.user, self.capabilities.is_empty()) {
            (Some(user), _) => user.login.clone(),
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
    /// headers, so identity headers are stripped and ignored.
    Ignore,
}

/// What the identity headers of one request said.
#[derive(Debug, Default, PartialEq)]
pub struct Identity {
    pub caller: Caller,
    /// The request came from the public internet through Tailscale Funnel.
    pub funnel: bool,
    /// Header values that were present but unusable, for the log.
    pub warnings: Vec<String>,
}

/// Removes every `Tailscale-*` header from `headers` and, if `trust` allows,
/// decodes the identity they carried.
pub fn take_identity(headers: &mut HeaderMap, trust: Trust) -> Identity {
    let taken = strip(headers);
    if trust == Trust::Ignore {
        return Identity::default();
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
    let funnel = taken.contains_key(FUNNEL_REQUEST);
    let user = login.map(|login| User {
        display_name: display_name.unwrap_or_else(|| login.clone()),
        login,
        profile_pic_url,
    });
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
        caller: Caller { user, capabilities },
        funnel,
        warnings,
    }
}

/// Removes and returns every header whose name starts with `Tailscale-`.
fn strip(headers: &mut HeaderMap) -> HeaderMap {
    let names: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with(PREFIX))
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

fn decode(value: &HeaderValue, encoded: bool) -> Result<String, String> {
    // tailscale serve sends visible ASCII only (non-ASCII is Q-encoded).
    let raw = value
        .to_str()
        .map_err(|_| "not visible ASCII".to_string())?;
    if !encoded {
        return Ok(raw.to_string());
    }
    rfc2047::decode_header(raw).map_err(|e| e.to_string())
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
                funnel: false,
                warnings: 0,
            },
            Case {
                name: "untrusted-listener-ignores-everything",
                headers: &[
                    ("Tailscale-User-Login", "mallory@example.com"),
                    (
                        "Tailscale-App-Capabilities",
                        r#"{"example.com/cap/mcp":[{}]}"#,
                    ),
                    ("Tailscale-Funnel-Request", "?1"),
                ],
                trust: Trust::Ignore,
                user: None,
                capabilities: json!({}),
                funnel: false,
                warnings: 0,
            },
            Case {
                name: "funnel",
                headers: &[("Tailscale-Funnel-Request", "?1")],
                trust: Trust::Honour,
                user: None,
                capabilities: json!({}),
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
                funnel: false,
                warnings: 1,
            },
            Case {
                name: "unknown-charset-is-absent",
                headers: &[("Tailscale-User-Login", "=?koi8-r?q?abc?=")],
                trust: Trust::Honour,
                user: None,
                capabilities: json!({}),
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
            assert_eq!(identity.funnel, case.funnel, "{}", case.name);
            assert_eq!(
                identity.warnings.len(),
                case.warnings,
                "{}: {:?}",
                case.name,
                identity.warnings
            );
            assert_eq!(map.len(), 1, "{}: only x-other is left", case.name);
        }
    }

    #[test]
    fn strips_every_tailscale_header_in_any_case() {
        let mut map = headers(&[
            ("TAILSCALE-USER-LOGIN", "a@b"),
            ("tailscale-headers-info", "x"),
            ("Tailscale-Anything-New", "x"),
            ("Tailscale-Anything-New", "y"),
            ("x-tailscale-user-login", "not ours"),
        ]);
        take_identity(&mut map, Trust::Ignore);
        assert_eq!(
            map.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
            ["x-tailscale-user-login"]
        );
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

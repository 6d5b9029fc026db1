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
    let mut text =
        |name: &HeaderName, encoded: bool| header_text(&taken, name, encoded, &mut warnings);
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

/// The text of header `name` among the `taken` ones, decoded if `encoded`:
/// absent (with a warning) when it is sent more than once or cannot be read.
fn header_text(
    taken: &HeaderMap,
    name: &HeaderName,
    encoded: bool,
    warnings: &mut Vec<String>,
) -> Option<String> {
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
mod tests;

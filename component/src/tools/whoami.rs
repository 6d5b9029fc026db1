//! `whoami`: everything the host vouches for about the caller, including the
//! app capabilities (grants) the tailnet policy gives them. The example of a
//! tool that reads grants itself; see `greet.rs` for the simplest tool.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Caller, Tool, ToolDefinition, no_arguments, read_only, schema, structured};
use rmcp::model::CallToolResult;

pub struct Whoami;

/// `whoami` takes no arguments.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {}

impl Tool for Whoami {
    const NAME: &'static str = "whoami";
    type Args = Args;

    fn definition() -> ToolDefinition {
        ToolDefinition::new(
            Self::NAME,
            "Returns the caller's full Tailscale identity: login, display name, profile \
             picture, and the app capabilities (grants) the tailnet policy gives them. \
             Works for tagged devices too, which have capabilities but no user.",
            no_arguments(),
        )
        .with_title("Who am I?")
        .with_annotations(read_only())
        .with_raw_output_schema(schema(json!({
            "type": "object",
            "properties": {
                "login": { "type": ["string", "null"], "description": "Tailscale login, or null for a tagged device" },
                "name": { "type": ["string", "null"], "description": "Display name" },
                "profilePicUrl": { "type": ["string", "null"] },
                "taggedDevice": { "type": "boolean", "description": "No user identity: a tagged device, or not via tailscale serve" },
                "capabilities": {
                    "type": "object",
                    "description": "Capability name -> every grant object for it",
                    "additionalProperties": { "type": "array", "items": { "type": "object" } }
                }
            },
            "required": ["login", "name", "taggedDevice", "capabilities"],
            "additionalProperties": false
        })))
    }

    fn call(caller: &Caller, _args: Args) -> CallToolResult {
        let user = caller.user.as_ref();
        let who = match user {
            Some(user) => format!("You are {} ({}).", user.login, user.display_name),
            None => "You have no Tailscale user identity (a tagged device, or a request that \
                     did not come through tailscale serve)."
                .to_string(),
        };
        let grants: Vec<String> = caller
            .capabilities
            .iter()
            .map(|(name, grants)| {
                let n = grants.as_array().map_or(0, Vec::len);
                format!("{name} ({n} grant{})", if n == 1 { "" } else { "s" })
            })
            .collect();
        let text = if grants.is_empty() {
            format!("{who} No app capabilities are granted to you.")
        } else {
            format!("{who} Granted: {}.", grants.join(", "))
        };
        structured(
            text,
            json!({
                "login": user.map(|u| u.login.clone()),
                "name": user.map(|u| u.display_name.clone()),
                "profilePicUrl": user.and_then(|u| u.profile_pic_url.clone()),
                "taggedDevice": user.is_none(),
                "capabilities": Value::Object(caller.capabilities.clone()),
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::User;

    #[test]
    fn reports_identity_and_grants() {
        let mut caller = Caller {
            user: Some(User {
                login: "alice@example.com".into(),
                display_name: "Alice".into(),
                profile_pic_url: None,
            }),
            ..Caller::default()
        };
        caller.capabilities.insert(
            "example.com/cap/mcp".into(),
            json!([{"role": "admin"}, {"tools": ["greet"]}]),
        );
        let result = serde_json::to_value(Whoami::call(&caller, Args {})).unwrap();
        assert_eq!(
            result["content"][0]["text"],
            "You are alice@example.com (Alice). Granted: example.com/cap/mcp (2 grants)."
        );
        assert_eq!(
            result["structuredContent"]["capabilities"]["example.com/cap/mcp"][1]["tools"][0],
            "greet"
        );
        assert_eq!(result["structuredContent"]["taggedDevice"], false);
    }

    #[test]
    fn tagged_device() {
        let result = serde_json::to_value(Whoami::call(&Caller::default(), Args {})).unwrap();
        assert_eq!(result["structuredContent"]["login"], Value::Null);
        assert_eq!(result["structuredContent"]["taggedDevice"], true);
        assert_eq!(result["isError"], false);
    }
}

//! `greet`: says hello to whoever is calling, by their Tailscale identity.

use serde::Deserialize;
use serde_json::json;

use super::{Caller, Tool, ToolDefinition, error, no_arguments, read_only, schema, structured};
use rmcp::model::CallToolResult;

pub struct Greet;

/// `greet` takes no arguments; anything passed is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {}

impl Tool for Greet {
    const NAME: &'static str = "greet";
    type Args = Args;

    fn definition() -> ToolDefinition {
        ToolDefinition::new(
            Self::NAME,
            "Greets the caller by name and says which Tailscale login they are using. \
             Use it to check who this server thinks you are.",
            no_arguments(),
        )
        .with_title("Greet me")
        .with_annotations(read_only())
        .with_raw_output_schema(schema(json!({
            "type": "object",
            "properties": {
                "login": { "type": "string", "description": "Tailscale login name" },
                "name": { "type": "string", "description": "Display name" },
                "profilePicUrl": { "type": "string", "description": "Profile picture URL" }
            },
            "required": ["login", "name"],
            "additionalProperties": false
        })))
    }

    fn call(caller: &Caller, _args: Args) -> CallToolResult {
        let Some(user) = &caller.user else {
            return error(
                "No Tailscale user identity on this request. Either it came from a tagged \
                 device (tailscale serve sends no user identity for tagged devices), or it \
                 did not come through tailscale serve.",
            );
        };
        let mut content = json!({ "login": user.login, "name": user.display_name });
        if let Some(url) = &user.profile_pic_url {
            content["profilePicUrl"] = json!(url);
        }
        structured(
            format!(
                "Hello, {}! You are logged in as {}.",
                user.display_name, user.login
            ),
            content,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::User;

    fn alice() -> Caller {
        Caller {
            user: Some(User {
                login: "alice@example.com".into(),
                display_name: "Zoë Ünïcode".into(),
                profile_pic_url: None,
            }),
            ..Caller::default()
        }
    }

    #[test]
    fn greets_the_user() {
        let result = Greet::call(&alice(), Args {});
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(
            json["content"][0]["text"],
            "Hello, Zoë Ünïcode! You are logged in as alice@example.com."
        );
        assert_eq!(
            json["structuredContent"],
            json!({"login": "alice@example.com", "name": "Zoë Ünïcode"})
        );
        assert_eq!(result.is_error, Some(false));
    }

    #[test]
    fn no_user_is_a_tool_error() {
        let result = Greet::call(&Caller::default(), Args {});
        assert_eq!(result.is_error, Some(true));
        let text = serde_json::to_value(&result).unwrap()["content"][0]["text"].clone();
        assert!(text.as_str().unwrap().contains("tagged device"));
    }
}

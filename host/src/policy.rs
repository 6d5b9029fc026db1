//! The optional tool policy: which callers may see and call which tools,
//! decided by the host from the caller's login and Tailscale app
//! capabilities (grants), so a buggy component cannot skip it.
//!
//! ```toml
//! # Everyone with a login may use the read-only tools.
//! [[allow]]
//! tools = ["greet", "whoami"]
//! logins = ["*"]
//!
//! # Callers granted role "admin" in example.com/cap/tailmcp may use every tool.
//! [[allow]]
//! tools = ["*"]
//! capability = "example.com/cap/tailmcp"
//! grant = { role = "admin" }
//!
//! # Callers (tagged devices too) may use the tools their grants list under "tools".
//! [[allow]]
//! capability = "example.com/cap/tailmcp"
//! tools_from_grant = "tools"
//! ```
//!
//! A `grant` field's value is a string, or a list of strings meaning "any
//! of these": `grant = { role = ["admin", "ops"] }` matches a grant whose
//! `role` is `admin` or `ops` (or a list holding either).
//!
//! A tool is allowed when any rule allows it; with a policy, everything else
//! is denied. Within one rule every condition it names must hold: a rule
//! with both `logins` and `capability` allows only those logins, and only
//! while they hold the capability.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::identity::Caller;

/// A parsed policy file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    allow: Vec<Rule>,
    /// Which file and version this is, for `/healthz` (set by [`Policy::load`]).
    #[serde(skip)]
    pub source: Option<Source>,
}

/// Where a loaded policy came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub path: String,
    pub sha256: String,
    pub loaded_at: std::time::SystemTime,
}

/// A `grant` field's wanted value: one string, or any of several.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Want {
    One(String),
    AnyOf(Vec<String>),
}

impl Want {
    fn values(&self) -> &[String] {
        match self {
            Want::One(value) => std::slice::from_ref(value),
            Want::AnyOf(values) => values,
        }
    }
}

/// One `[[allow]]` rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    /// Tool names this rule allows; `*` for all.
    #[serde(default)]
    tools: Vec<String>,
    /// Logins this rule applies to; `*` for anyone with a login.
    #[serde(default)]
    logins: Vec<String>,
    /// An app capability the caller must hold.
    capability: Option<String>,
    /// Fields one of the capability's grant objects must have (a string
    /// field equal to the value, or a list containing it); a list of
    /// values means any of them.
    #[serde(default)]
    grant: BTreeMap<String, Want>,
    /// A grant field listing the tools this caller may use.
    tools_from_grant: Option<String>,
}

impl Policy {
    /// Reads and checks a policy file; errors name the file and the line.
    pub fn load(path: &Path) -> Result<Policy, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read policy `{}`: {e}", path.display()))?;
        let mut policy =
            Policy::parse(&text).map_err(|e| format!("policy `{}`: {e}", path.display()))?;
        policy.source = Some(Source {
            path: path.display().to_string(),
            sha256: crate::digest::sha256_hex(text.as_bytes()),
            loaded_at: std::time::SystemTime::now(),
        });
        Ok(policy)
    }

    /// How many `[[allow]]` rules it has.
    pub fn rules(&self) -> usize {
        self.allow.len()
    }

    /// Mistakes that parse but cannot be meant: tool names no component
    /// offers (`known`, when given) and rules that can never match. One
    /// line per finding, naming the rule.
    pub fn check(&self, known: Option<&[String]>) -> Vec<String> {
        let mut findings = Vec::new();
        for (n, rule) in self.allow.iter().enumerate() {
            let which = format!("rule {}", n + 1);
            if let Some(known) = known {
                for tool in &rule.tools {
                    if tool != "*" && !known.contains(tool) {
                        findings.push(format!(
                            "{which}: unknown tool `{tool}` (the component offers: {})",
                            known.join(", ")
                        ));
                    }
                }
            }
            for (field, want) in &rule.grant {
                if want.values().is_empty() {
                    findings.push(format!(
                        "{which}: `grant.{field} = []` lists no value, so the rule never matches"
                    ));
                }
            }
            if rule.logins.iter().any(|login| login.trim().is_empty()) {
                findings.push(format!("{which}: an empty login never matches"));
            }
            if let Some(capability) = &rule.capability
                && !capability.contains('/')
            {
                findings.push(format!(
                    "{which}: capability `{capability}` is not a Tailscale app capability \
                     name (domain/path, e.g. example.com/cap/tailmcp), so no grant carries it"
                ));
            }
        }
        findings
    }

    /// For each of `tools`: the number (from 1) of the first rule that lets
    /// `caller` use it, or `None` when no rule does.
    pub fn explain<'t>(
        &self,
        caller: &Caller,
        tools: &'t [String],
    ) -> Vec<(&'t str, Option<usize>)> {
        tools
            .iter()
            .map(|tool| {
                let rule = self.allow.iter().position(|rule| rule.allows(caller, tool));
                (tool.as_str(), rule.map(|i| i + 1))
            })
            .collect()
    }

    pub fn parse(text: &str) -> Result<Policy, String> {
        let policy: Policy = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
            match line {
                Some(line) => format!("line {line}: {}", e.message()),
                None => e.message().to_string(),
            }
        })?;
        for (n, rule) in policy.allow.iter().enumerate() {
            let which = format!("rule {} ([[allow]] number {})", n + 1, n + 1);
            if rule.logins.is_empty() && rule.capability.is_none() {
                return Err(format!("{which}: needs `logins` or `capability`"));
            }
            if rule.tools.is_empty() && rule.tools_from_grant.is_none() {
                return Err(format!("{which}: needs `tools` or `tools_from_grant`"));
            }
            if rule.capability.is_none()
                && (!rule.grant.is_empty() || rule.tools_from_grant.is_some())
            {
                return Err(format!(
                    "{which}: `grant` and `tools_from_grant` need a `capability`"
                ));
            }
        }
        Ok(policy)
    }

    /// Whether `caller` may see and call `tool`.
    pub fn allows(&self, caller: &Caller, tool: &str) -> bool {
        self.allow.iter().any(|rule| rule.allows(caller, tool))
    }
}

impl Rule {
    /// Every condition the rule names must hold: one of its `logins` (when
    /// it names any) and its `capability` with a matching grant (when it
    /// names one). Rules are alternatives; conditions within one are not.
    fn allows(&self, caller: &Caller, tool: &str) -> bool {
        let login_matches = self.logins.is_empty()
            || caller
                .user
                .as_ref()
                .is_some_and(|user| self.logins.iter().any(|l| l == "*" || l == &user.login));
        let tool_allowed = match &self.capability {
            Some(_) => self.by_capability(caller, tool),
            None => self.names(tool),
        };
        login_matches && tool_allowed
    }

    fn names(&self, tool: &str) -> bool {
        self.tools.iter().any(|t| t == "*" || t == tool)
    }

    fn by_capability(&self, caller: &Caller, tool: &str) -> bool {
        let Some(capability) = &self.capability else {
            return false;
        };
        let Some(grants) = caller.capabilities.get(capability) else {
            return false;
        };
        grants.iter().any(|grant| {
            let fields_match = self
                .grant
                .iter()
                .all(|(field, want)| want.values().iter().any(|w| has(grant.get(field), w)));
            let tool_named = match &self.tools_from_grant {
                Some(field) => has(grant.get(field), tool) || has(grant.get(field), "*"),
                None => self.names(tool),
            };
            fields_match && tool_named
        })
    }
}

/// A grant field equals `want`, or is a list containing it.
fn has(field: Option<&Value>, want: &str) -> bool {
    match field {
        Some(Value::String(s)) => s == want,
        Some(Value::Array(items)) => items.iter().any(|item| item.as_str() == Some(want)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::User;
    use serde_json::json;

    const POLICY: &str = r#"
[[allow]]
tools = ["greet", "whoami"]
logins = ["*"]

[[allow]]
tools = ["*"]
capability = "example.com/cap/tailmcp"
grant = { role = "admin" }

[[allow]]
capability = "example.com/cap/tailmcp"
tools_from_grant = "tools"

[[allow]]
tools = ["deploy"]
logins = ["ops@example.com"]
"#;

    fn caller(login: Option<&str>, caps: Value) -> Caller {
        Caller {
            user: login.map(|l| User {
                login: l.into(),
                display_name: l.into(),
                profile_pic_url: None,
            }),
            capabilities: serde_json::from_value(caps).unwrap(),
            peer: None,
        }
    }

    #[test]
    fn rules() {
        let policy = Policy::parse(POLICY).unwrap();
        let alice = caller(Some("alice@example.com"), json!({}));
        assert!(policy.allows(&alice, "greet"));
        assert!(!policy.allows(&alice, "deploy"));
        let admin = caller(
            Some("root@example.com"),
            json!({"example.com/cap/tailmcp": [{"role": "viewer"}, {"role": ["admin"]}]}),
        );
        assert!(policy.allows(&admin, "deploy"), "union of grants");
        let ci = caller(
            None,
            json!({"example.com/cap/tailmcp": [{"tools": ["build"]}]}),
        );
        assert!(policy.allows(&ci, "build"));
        assert!(!policy.allows(&ci, "greet"), "tagged devices have no login");
        assert!(policy.allows(&caller(Some("ops@example.com"), json!({})), "deploy"));
        assert!(!policy.allows(&caller(None, json!({})), "greet"));
        let wrong_cap = caller(None, json!({"other.example/cap": [{"role": "admin"}]}));
        assert!(!policy.allows(&wrong_cap, "deploy"));
    }

    #[test]
    fn every_condition_of_a_rule_must_hold() {
        let policy = Policy::parse(
            "[[allow]]\ntools = [\"deploy\"]\nlogins = [\"ops@example.com\"]\n\
             capability = \"example.com/cap/mcp\"\ngrant = { role = \"oncall\" }\n",
        )
        .unwrap();
        let cap = json!({"example.com/cap/mcp": [{"role": "oncall"}]});
        assert!(policy.allows(&caller(Some("ops@example.com"), cap.clone()), "deploy"));
        assert!(!policy.allows(&caller(Some("ops@example.com"), json!({})), "deploy"));
        assert!(!policy.allows(&caller(Some("eve@example.com"), cap.clone()), "deploy"));
        assert!(!policy.allows(&caller(None, cap), "deploy"));
        let off_duty = json!({"example.com/cap/mcp": [{"role": "viewer"}]});
        assert!(!policy.allows(&caller(Some("ops@example.com"), off_duty), "deploy"));
    }

    #[test]
    fn grant_value_lists_mean_any_of() {
        let policy = Policy::parse(
            "[[allow]]\ntools = [\"deploy\"]\ncapability = \"example.com/cap/mcp\"\n\
             grant = { role = [\"admin\", \"ops\"] }\n",
        )
        .unwrap();
        let with = |role: Value| caller(None, json!({"example.com/cap/mcp": [{"role": role}]}));
        assert!(policy.allows(&with(json!("ops")), "deploy"));
        assert!(policy.allows(&with(json!("admin")), "deploy"));
        assert!(policy.allows(&with(json!(["viewer", "ops"])), "deploy"));
        assert!(!policy.allows(&with(json!("viewer")), "deploy"));
    }

    #[test]
    fn check_and_explain() {
        let policy = Policy::parse(
            "[[allow]]\ntools = [\"greet\", \"gret\"]\nlogins = [\"*\"]\n\
             [[allow]]\ntools = [\"whoami\"]\ncapability = \"mcp\"\ngrant = { role = [] }\n",
        )
        .unwrap();
        let known = ["greet".to_string(), "whoami".to_string()];
        let findings = policy.check(Some(&known));
        assert_eq!(findings.len(), 3, "{findings:?}");
        assert!(findings[0].contains("unknown tool `gret`"), "{findings:?}");
        assert!(findings[1].contains("never matches"), "{findings:?}");
        assert!(
            findings[2].contains("not a Tailscale app capability"),
            "{findings:?}"
        );
        let alice = caller(Some("alice@example.com"), json!({}));
        assert_eq!(
            policy.explain(&alice, &known),
            vec![("greet", Some(1)), ("whoami", None)]
        );
    }

    #[test]
    fn errors_name_the_line() {
        let err = Policy::parse("[[allow]]\ntools = [\"greet\"]\nlogin = [\"*\"]\n").unwrap_err();
        assert!(err.starts_with("line 3:"), "{err}");
        let err = Policy::parse("[[allow]]\ntools = [\"greet\"]\n").unwrap_err();
        assert!(err.contains("needs `logins` or `capability`"), "{err}");
        let err = Policy::parse("[[allow]]\nlogins = [\"*\"]\ntools = 5\n").unwrap_err();
        assert!(err.starts_with("line 3:"), "{err}");
    }
}

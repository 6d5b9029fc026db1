//! The command line: `tailmcp serve`, `health`, `compile` and `policy`.
//! Every flag has an environment variable fallback, so containers can be
//! configured with env. `serve`'s flags are in `serve.rs`, and made into a
//! [`Config`](crate::Config) in `validate.rs`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

mod serve;
mod validate;

pub use serve::ServeArgs;

use crate::config::{self, parse_duration};
use crate::identity::{Caller, User};
use crate::listen::Listen;

/// tailmcp: an identity-aware MCP server for Tailscale networks.
///
/// Serves a WebAssembly component as an MCP Streamable HTTP endpoint at
/// /mcp, behind `tailscale serve`, and tells each tool who is calling.
#[derive(Debug, Parser)]
#[command(version, about, long_about, after_help = ENV_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Shown after `--help`: what every flag's environment variable accepts,
/// and the log filter, which is not a flag.
const ENV_HELP: &str = "\
Every flag can also be set by its environment variable (shown as [env: ...]).
On/off flags take 1/0, true/false, yes/no or on/off there.
Durations: 250ms, 30s, 2m, 1h, 1m30s (a unit is required).
Sizes: 65536, 512KiB, 64MiB, 1GiB.
Logging: RUST_LOG sets the log filter (default: info), e.g. RUST_LOG=debug or
RUST_LOG=info,tailmcp::access=warn to hide the per-request access lines.";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the MCP endpoint (/mcp) and a health check (/healthz).
    #[command(after_help = ENV_HELP)]
    Serve(Box<ServeArgs>),
    /// Probe a running server's /healthz; exit 0 if it is healthy, 1 if not.
    Health(HealthArgs),
    /// Precompile a .wasm component to a .cwasm that `serve
    /// --allow-precompiled` loads in about a millisecond (same tailmcp
    /// version and engine settings only).
    Compile(CompileArgs),
    /// Check a tool policy file, or explain what it lets one caller do.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Report mistakes: wrong value types (with line numbers), tool names
    /// the component does not offer, rules that can never match. Exit 0
    /// only when there are none.
    Check {
        /// The policy file (TOML).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The component whose tools/list names the known tools.
        /// Default: the built-in greet component.
        #[arg(long, value_name = "PATH")]
        component: Option<PathBuf>,
    },
    /// Print which tools a caller sees and which rule allows each.
    Explain {
        /// The policy file (TOML).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The component whose tools to go through. Default: the built-in one.
        #[arg(long, value_name = "PATH")]
        component: Option<PathBuf>,
        /// The caller's login.
        #[arg(long = "as", value_name = "LOGIN", required_unless_present = "tagged")]
        login: Option<String>,
        /// The caller's display name (default: the login).
        #[arg(long, value_name = "NAME", requires = "login")]
        name: Option<String>,
        /// The caller's capabilities, as JSON in the
        /// Tailscale-App-Capabilities form.
        #[arg(long, value_name = "JSON")]
        grant: Option<String>,
        /// The caller is a tagged device: no user, only --grant.
        #[arg(long, conflicts_with = "login", requires = "grant")]
        tagged: bool,
    },
}

impl PolicyCommand {
    /// The caller `explain` is about.
    pub fn caller(
        login: Option<String>,
        name: Option<String>,
        grant: Option<&str>,
    ) -> Result<Caller, String> {
        let capabilities = match grant {
            Some(json) => {
                crate::identity::parse_capabilities(json).map_err(|e| format!("--grant: {e}"))?
            }
            None => Default::default(),
        };
        Ok(Caller {
            user: login.map(|login| User {
                display_name: name.unwrap_or_else(|| login.clone()),
                login,
                profile_pic_url: None,
            }),
            capabilities,
            peer: None,
        })
    }
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The server's address: HOST:PORT, or unix:/path/to/socket.
    #[arg(long, env = "TAILMCP_LISTEN", value_name = "ADDR", default_value = config::DEFAULT_LISTEN)]
    pub listen: Listen,

    /// Give up after this long.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// The .wasm component to compile.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,

    /// Where to write the .cwasm (its name must end in .cwasm). Default:
    /// INPUT with the extension .cwasm.
    #[arg(short, long, value_name = "OUTPUT")]
    pub output: Option<PathBuf>,
}

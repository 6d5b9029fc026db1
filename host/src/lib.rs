//! tailmcp: an identity-aware MCP server for Tailscale networks.
//!
//! The host serves a WebAssembly component (world `tailmcp:host/mcp-server`
//! in `wit/world.wit`) behind `tailscale serve`. Where to find things:
//!
//! | what                                   | file                 |
//! |----------------------------------------|----------------------|
//! | flags and env vars                     | `cli.rs`, `config.rs`|
//! | accept loop, shutdown                  | `server.rs`          |
//! | one request's path (routing, logging)  | `request.rs`         |
//! | where identity is decoded              | `identity/mod.rs`    |
//! | identity handed to the component       | `identity/wit.rs`    |
//! | Origin / public-name checks            | `checks.rs`          |
//! | engine, linker, loading a component    | `engine.rs`          |
//! | one request in a fresh instance        | `instance.rs`        |
//! | what a request's store holds           | `state.rs`           |
//! | `/healthz` and `tailmcp health`        | `health.rs`          |

pub mod bindings;
pub mod checks;
pub mod cli;
pub mod config;
pub mod engine;
pub mod health;
pub mod identity;
pub mod instance;
pub mod listen;
pub mod request;
pub mod server;
pub mod state;

pub use config::Config;
pub use server::serve;

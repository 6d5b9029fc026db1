//! The MCP method handlers, one file per method family. Each turns its
//! params into a [`rmcp::model::ServerResult`]; [`crate::dispatch`] picks the
//! handler and [`crate::shape`] writes the result for the request's era.

pub mod completion;
pub mod lifecycle;
pub mod params;
pub mod prompts;
pub mod resources;
pub mod tools;

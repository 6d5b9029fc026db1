//! `greet` as a native rmcp server: the baseline tailmcp is compared with in
//! `benches/run.sh`. Stateless (no `Mcp-Session-Id`), JSON responses, the
//! identity read straight from the `Tailscale-User-*` headers (no RFC 2047
//! decoding, no stripping: only what the benchmark needs).
//!
//! Run: `native-rmcp-greet 127.0.0.1:PORT`

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolResult, ContentBlock, ServerCapabilities, ServerConfig};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler, tool, tool_handler, tool_router};
use serde_json::json;

#[derive(Clone)]
struct Greet {
    tool_router: ToolRouter<Greet>,
}

fn header(parts: Option<&http::request::Parts>, name: &str) -> Option<String> {
    parts?
        .headers
        .get(name)?
        .to_str()
        .ok()
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

#[tool_router]
impl Greet {
    fn new() -> Greet {
        Greet {
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "Greets the caller by name and says which Tailscale login they are using.",
        annotations(title = "Greet me", read_only_hint = true)
    )]
    fn greet(&self, ctx: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        let parts = ctx.extensions.get::<http::request::Parts>();
        let Some(login) = header(parts, "tailscale-user-login") else {
            return Ok(CallToolResult::error(vec![ContentBlock::text(
                "No Tailscale user identity on this request.",
            )]));
        };
        let name = header(parts, "tailscale-user-name").unwrap_or_else(|| login.clone());
        let mut result = CallToolResult::success(vec![ContentBlock::text(format!(
            "Hello, {name}! You are logged in as {login}."
        ))]);
        result.structured_content = Some(json!({ "login": login, "name": name }));
        Ok(result)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Greet {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".into());
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(["127.0.0.1", "localhost"]);
    let service = StreamableHttpService::new(
        || Ok(Greet::new()),
        NeverSessionManager::default().into(),
        config,
    );
    let app = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .expect("cannot bind");
    eprintln!("native rmcp greet listening on http://{addr}/mcp");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .expect("server failed");
}

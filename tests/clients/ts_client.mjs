#!/usr/bin/env node
// Drives a tailmcp server with the official TypeScript SDK over Streamable HTTP.
// Usage: node ts_client.mjs URL
// Env:   TAILMCP_TEST_HEADERS  JSON object of extra HTTP headers sent on every request
//        TAILMCP_TEST_TOOL     tool to call (default "greet")
//        TAILMCP_TEST_ARGS     JSON arguments for it (default {})
// On success prints ONE JSON line on stdout and exits 0; otherwise stderr + exit 1.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";

function fail(err) {
  const code = err && err.code !== undefined ? ` (code ${err.code})` : "";
  // fetch() hides the useful part (ECONNREFUSED, ...) in err.cause.
  const cause = err && err.cause ? `\ncaused by: ${err.cause}` : "";
  process.stderr.write(`ts_client: ${err && err.stack ? err.stack : err}${code}${cause}\n`);
  process.exit(1);
}

// A hung server must fail the test, not hang it.
setTimeout(() => fail(new Error("timed out after 60 s")), 60_000).unref();

async function main() {
  const url = process.argv[2];
  if (!url) throw new Error("usage: ts_client.mjs URL");
  const headers = JSON.parse(process.env.TAILMCP_TEST_HEADERS || "{}");
  const tool = process.env.TAILMCP_TEST_TOOL || "greet";
  const args = JSON.parse(process.env.TAILMCP_TEST_ARGS || "{}");

  // TAILMCP_TEST_TRANSPORT=sse: the legacy HTTP+SSE transport (URL is the /sse endpoint).
  const legacy = process.env.TAILMCP_TEST_TRANSPORT === "sse";
  const transport = legacy
    ? new SSEClientTransport(new URL(url), {
        requestInit: { headers },
        eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...init?.headers, ...headers } }) },
      })
    : new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name: "tailmcp-test-ts", version: "1.0.0" });
  await client.connect(transport); // initialize + notifications/initialized

  const { tools } = await client.listTools();
  const result = await client.callTool({ name: tool, arguments: args });

  process.stdout.write(JSON.stringify({
    transport: legacy ? "sse" : "streamable-http",
    protocolVersion: transport.protocolVersion,
    serverInfo: client.getServerVersion(),
    instructions: client.getInstructions(),
    tools,
    greet: result,
  }) + "\n");
  await client.close();
}

main().then(() => process.exit(0), fail);

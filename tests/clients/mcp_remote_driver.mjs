#!/usr/bin/env node
// Drives a tailmcp server through mcp-remote, the stdio<->HTTP bridge that Claude
// Desktop launches, speaking to it the way Claude Desktop does (NDJSON JSON-RPC).
// Usage: node mcp_remote_driver.mjs URL
// Env:   TAILMCP_TEST_HEADERS  JSON object of extra headers, passed as --header "Name: value"
//        TAILMCP_TEST_TOOL     tool to call (default "greet")
//        TAILMCP_TEST_ARGS     JSON arguments for it (default {})
// On success prints ONE JSON line on stdout and exits 0; otherwise stderr + exit 1.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const url = process.argv[2];
if (!url) { process.stderr.write("usage: mcp_remote_driver.mjs URL\n"); process.exit(1); }
const headers = JSON.parse(process.env.TAILMCP_TEST_HEADERS || "{}");
const tool = process.env.TAILMCP_TEST_TOOL || "greet";
const toolArgs = JSON.parse(process.env.TAILMCP_TEST_ARGS || "{}");

// Plain `npx mcp-remote URL`, as in Claude Desktop's config. With cwd = this directory npx
// resolves the pinned copy in node_modules/.bin without touching the network. If that copy
// is missing, npx (non-TTY) would silently download the latest mcp-remote instead, so refuse.
if (!existsSync(join(here, "node_modules", ".bin", "mcp-remote"))) {
  process.stderr.write(`mcp_remote_driver: mcp-remote not installed; run \`npm ci\` in ${here}\n`);
  process.exit(1);
}
const args = ["mcp-remote", url];
// TAILMCP_TEST_TRANSPORT=sse-only: mcp-remote's legacy HTTP+SSE mode (URL is the /sse endpoint).
if (process.env.TAILMCP_TEST_TRANSPORT) args.push("--transport", process.env.TAILMCP_TEST_TRANSPORT);
for (const [name, value] of Object.entries(headers)) args.push("--header", `${name}: ${value}`);

// Fresh config dir: no OAuth tokens or client registrations leak in from ~/.mcp-auth.
const configDir = mkdtempSync(join(tmpdir(), "tailmcp-mcp-remote-"));
const child = spawn("npx", args, {
  cwd: here,
  // Own process group, so killing it also kills the node that npx starts.
  detached: true,
  stdio: ["pipe", "pipe", "pipe"],
  env: { ...process.env, MCP_REMOTE_CONFIG_DIR: configDir, npm_config_update_notifier: "false" },
});

let done = false;
function finish(code, message) {
  if (done) return;
  done = true;
  if (message) process.stderr.write(`mcp_remote_driver: ${message}\n`);
  try { process.kill(-child.pid, "SIGKILL"); } catch { /* already gone */ }
  rmSync(configDir, { recursive: true, force: true });
  process.exit(code);
}

createInterface({ input: child.stderr }).on("line", (l) => process.stderr.write(`[mcp-remote] ${l}\n`));
child.on("error", (e) => finish(1, `spawn failed: ${e}`));
child.on("exit", (code, sig) => finish(1, `mcp-remote exited early (code ${code}, signal ${sig})`));
setTimeout(() => finish(1, "timed out after 60 s"), 60_000);

const pending = new Map();
let nextId = 0;
const send = (msg) => child.stdin.write(JSON.stringify({ jsonrpc: "2.0", ...msg }) + "\n");
function request(method, params) {
  const id = nextId++;
  send({ id, method, params });
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
}

createInterface({ input: child.stdout }).on("line", (line) => {
  if (!line.trim()) return;
  let msg;
  try { msg = JSON.parse(line); } catch { return finish(1, `non-JSON on mcp-remote stdout: ${line}`); }
  if (msg.method !== undefined) {
    // Server-initiated request: answer pings like a host would, refuse the rest.
    if (msg.id !== undefined) {
      send(msg.method === "ping" ? { id: msg.id, result: {} }
        : { id: msg.id, error: { code: -32601, message: `unsupported: ${msg.method}` } });
    }
    return;
  }
  const p = pending.get(msg.id);
  if (!p) return;
  pending.delete(msg.id);
  if (msg.error) p.reject(new Error(`${p.method} failed: ${JSON.stringify(msg.error)}`));
  else p.resolve(msg.result);
});

try {
  const init = await request("initialize", {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "claude-ai", version: "0.1.0" },
  });
  send({ method: "notifications/initialized" });
  const { tools } = await request("tools/list", {});
  const result = await request("tools/call", { name: tool, arguments: toolArgs });
  process.stdout.write(JSON.stringify({
    transport: "mcp-remote",
    protocolVersion: init.protocolVersion,
    serverInfo: init.serverInfo,
    instructions: init.instructions,
    tools,
    greet: result,
  }) + "\n", () => finish(0));
} catch (e) {
  finish(1, String(e));
}

#!/usr/bin/env python3
"""Drives a tailmcp server with the official Python MCP SDK over Streamable HTTP.

Usage: python3 py_client.py URL
Env:   TAILMCP_TEST_HEADERS  JSON object of extra HTTP headers sent on every request
       TAILMCP_TEST_TOOL     tool to call (default "greet")
       TAILMCP_TEST_ARGS     JSON arguments for it (default {})
On success prints ONE JSON line on stdout and exits 0; otherwise stderr + exit 1.
"""

import json
import os
import sys
import traceback

import anyio
from mcp import ClientSession, types

# mcp 2.x dropped the old `streamablehttp_client(url, headers=...)`; headers now go on the
# HTTP client. This spelling also works on mcp >= 1.24, so the pin can move either way.
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def dump(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def run(url: str) -> dict:
    headers = json.loads(os.environ.get("TAILMCP_TEST_HEADERS") or "{}")
    tool = os.environ.get("TAILMCP_TEST_TOOL") or "greet"
    args = json.loads(os.environ.get("TAILMCP_TEST_ARGS") or "{}")
    info = types.Implementation(name="tailmcp-test-py", version="1.0.0")
    async with (
        create_mcp_http_client(headers=headers) as http,
        streamable_http_client(url, http_client=http) as (read, write, *_),
        ClientSession(read, write, client_info=info) as session,
    ):
        # Dumped at once: 1.x spells fields camelCase, 2.x snake_case; the wire names agree.
        init = dump(await session.initialize())  # also sends notifications/initialized
        tools = await session.list_tools()
        result = await session.call_tool(tool, args)
    return {
        "transport": "streamable-http",
        "protocolVersion": init["protocolVersion"],
        "serverInfo": init["serverInfo"],
        "instructions": init.get("instructions"),
        "tools": [dump(t) for t in tools.tools],
        "greet": dump(result),
    }


async def main(url: str) -> dict:
    # A hung server must fail the test, not hang it.
    with anyio.fail_after(60):
        return await run(url)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: py_client.py URL")
    try:
        out = anyio.run(main, sys.argv[1])
    except BaseException:  # anyio wraps failures in ExceptionGroups; show them all
        print("py_client: " + traceback.format_exc(), file=sys.stderr, end="")
        sys.exit(1)
    print(json.dumps(out, separators=(",", ":")), flush=True)

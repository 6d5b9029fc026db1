"""The original Python example, as the benchmark's baseline: a FastMCP server
with one `greet` tool that reads the identity `tailscale serve` sends.

    python benches/python_greet.py PORT             # as the example runs: sessions, SSE replies
    python benches/python_greet.py PORT --stateless # stateless, JSON replies (like tailmcp)
"""

import sys

from fastmcp import FastMCP
from fastmcp.server.dependencies import get_http_headers

mcp = FastMCP("greet")


@mcp.tool
def greet() -> str:
    """Greets the caller by name and says which Tailscale login they are using."""
    headers = get_http_headers()
    login = headers.get("tailscale-user-login")
    if not login:
        return "No Tailscale user identity on this request."
    name = headers.get("tailscale-user-name") or login
    return f"Hello, {name}! You are logged in as {login}."


if __name__ == "__main__":
    stateless = "--stateless" in sys.argv
    mcp.run(
        transport="http",
        host="127.0.0.1",
        port=int(sys.argv[1]),
        stateless_http=stateless,
        json_response=stateless,
    )

-- wrk script for benches/run.sh: POST `tools/call greet` with the identity
-- headers `tailscale serve` would add, and count a response as good only if
-- it is a 200 whose body holds the expected greeting.
--
--   wrk ... -s benches/greet.lua URL [-- SESSION_ID]
--
-- Prints one JSON line at the end (latencies in microseconds).

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
wrk.headers["Tailscale-User-Login"] = "alice@example.com"
wrk.headers["Tailscale-User-Name"] = "Alice"

local expected = "Hello, Alice! You are logged in as alice@example.com."
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("first_id", #threads * 1000000000)
end

function init(args)
  good = 0
  bad = 0
  next_id = first_id
  if args[1] ~= nil and args[1] ~= "" then
    wrk.headers["Mcp-Session-Id"] = args[1]
  end
end

-- Every request gets its own JSON-RPC id: ids must not repeat within a
-- session, and a server with sessions matches answers to requests by id.
function request()
  next_id = next_id + 1
  return wrk.format(nil, nil, nil,
    '{"jsonrpc":"2.0","id":' .. next_id .. ',"method":"tools/call","params":{"name":"greet","arguments":{}}}')
end

function response(status, headers, body)
  if status == 200 and body ~= nil and string.find(body, expected, 1, true) then
    good = good + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local good_total, bad_total = 0, 0
  for _, t in ipairs(threads) do
    good_total = good_total + t:get("good")
    bad_total = bad_total + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    '\n{"duration_us":%d,"requests":%d,"good":%d,"bad":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"p999_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.duration, summary.requests, good_total, bad_total, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end

-- wrk script for bench/load.sh: cycles through the paths in the file $LOAD_PATHS (one a line), sends
-- the session cookie $LOAD_COOKIE, and counts every answer that is not 2xx as an error (wrk itself
-- lets 3xx pass, and a redirect to the login page is a failure here).

local threads = {}
local started = 0

function setup(thread)
  started = started + 1
  thread:set("id", started)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(os.getenv("LOAD_PATHS")) do
    if line ~= "" then
      table.insert(paths, line)
    end
  end
  headers = { ["Cookie"] = os.getenv("LOAD_COOKIE") }
  position = (id * 7) % #paths
  non2xx = 0
end

function request()
  position = position % #paths + 1
  return wrk.format("GET", paths[position], headers)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
  end
  local e = summary.errors
  local socket = e.connect + e.read + e.write + e.timeout
  local seconds = summary.duration / 1e6
  io.write(string.format("requests: %d in %.1f s, %.1f per second\n", summary.requests, seconds, summary.requests / seconds))
  io.write(string.format("latency: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("errors: %d non-2xx, %d socket (connect %d, read %d, write %d, timeout %d)\n",
    bad, socket, e.connect, e.read, e.write, e.timeout))
  local rps, p99, errors = summary.requests / seconds, latency:percentile(99) / 1000, bad + socket
  -- Issue 13's target for the mixed load on 100k sessions: 120 requests/s, p99 500 ms, no error.
  local function verdict(ok, text) return (ok and "PASS " or "MISS ") .. text end
  io.write("issue 13: " .. table.concat({
    verdict(rps >= 120, string.format("%.1f >= 120 requests/s", rps)) .. (rps >= 120 and "" or string.format(" (%.1fx short)", 120 / rps)),
    verdict(p99 <= 500, string.format("p99 %.0f <= 500 ms", p99)) .. (p99 <= 500 and "" or string.format(" (%.1fx over)", p99 / 500)),
    verdict(errors == 0, string.format("%d errors", errors)),
  }, " | ") .. "\n")
  io.write(string.format("RESULT requests=%d rps=%.1f p50_ms=%.1f p99_ms=%.1f errors=%d\n", summary.requests,
    rps, latency:percentile(50) / 1000, p99, errors))
end

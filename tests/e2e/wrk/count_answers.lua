-- wrk script for the fault tests: counts answers by status and X-Cache across all threads and
-- prints one JSON line ("wrk-counts: {...}") that the test parses. wrk's own summary still
-- reports socket errors (connect, read, write, timeout).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counts = {}
end

function response(status, headers, body)
  local key = tostring(status) .. " " .. (headers["X-Cache"] or headers["x-cache"] or "-")
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local counted = thread:get("counts")
    for key, n in pairs(counted) do
      total[key] = (total[key] or 0) + n
    end
  end
  local parts = {}
  for key, n in pairs(total) do
    table.insert(parts, string.format('"%s": %d', key, n))
  end
  io.write("wrk-counts: {" .. table.concat(parts, ", ") .. "}\n")
end

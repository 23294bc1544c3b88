-- What every wrk script of bench.run shares: per-thread state, counting answers by HTTP status
-- and by error code, and one JSON line at the end (wrk's own report has no status counts and
-- rounds its percentiles). Loaded with dofile() by earn.lua and spend.lua.

local threads = {}

statuses = {}   -- HTTP status -> answers, in each thread
codes = {}      -- "status code" (such as "409 insufficient_points") -> answers

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_index", #threads)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status >= 300 then
      local code = status .. " " .. (body:match('"code"%s*:%s*"([%w_.]+)"') or "?")
      codes[code] = (codes[code] or 0) + 1
   end
end

local function object(t)
   local parts = {}
   for k, v in pairs(t) do
      parts[#parts + 1] = string.format('"%s": %d', tostring(k), v)
   end
   return "{" .. table.concat(parts, ", ") .. "}"
end

local function add(total, t)
   for k, v in pairs(t) do total[k] = (total[k] or 0) + v end
end

function done(summary, latency, requests)
   local all_statuses, all_codes = {}, {}
   for _, thread in ipairs(threads) do
      add(all_statuses, thread:get("statuses"))
      add(all_codes, thread:get("codes"))
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"duration_us": %d, "requests": %d, "socket_errors": {"connect": %d, "read": %d, '
         .. '"write": %d, "timeout": %d}, "latency_us": {"p50": %d, "p90": %d, "p99": %d, '
         .. '"max": %d, "mean": %.1f}, "statuses": %s, "codes": %s}\n',
      summary.duration, summary.requests, e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean, object(all_statuses), object(all_codes)))
end

-- HTTP earn: one new order.placed event per POST /v1/events.
-- wrk -s earn.lua URL -- API_KEY RUN_TAG OCCURRED_AT MEMBER_POOL
--
-- The body is order.json.tmpl (shared with bench/batch.py): three lines whose prices add up to
-- the total. `prefix .. counter` makes the event id and the order id unique; the member is an
-- external id drawn from the pool, so customers are enrolled by their first order and reused.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")
local file = assert(io.open(here .. "order.json.tmpl"))
local TEMPLATE = file:read("*l")
file:close()

function init(args)
   headers = {["Authorization"] = "Bearer " .. args[1], ["Content-Type"] = "application/json"}
   prefix = args[2] .. "-" .. thread_index .. "-"   -- unique per run and per wrk thread
   occurred_at, pool = args[3], tonumber(args[4])
   counter = 0
   math.randomseed(os.time() * 64 + thread_index)
end

function request()
   counter = counter + 1
   local id = prefix .. counter
   local body = string.format(TEMPLATE, id, math.random(pool), occurred_at, id)
   return wrk.format("POST", "/v1/events", headers, body)
end

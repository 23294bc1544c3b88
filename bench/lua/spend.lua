-- Hot-member contention: every connection spends 1 point of the same member, each request with
-- its own Idempotency-Key, so none is a replay.
-- wrk -s spend.lua URL -- API_KEY RUN_TAG MEMBER_ID

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local BODY = '{"points": 1, "reason": "bench contention"}'

function init(args)
   auth = "Bearer " .. args[1]
   prefix = args[2] .. "-" .. thread_index .. "-"
   path = "/v1/members/" .. args[3] .. "/spend"
   counter = 0
end

function request()
   counter = counter + 1
   local headers = {
      ["Authorization"] = auth,
      ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = prefix .. counter,
   }
   return wrk.format("POST", path, headers, BODY)
end

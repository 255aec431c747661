-- wrk script for order intake: every request a new order with its own id.
--
--   wrk -t2 -c128 -d15s --latency -s bench/load/wrk_orders.lua URL -- KEY PREFIX OUT
--
-- KEY: the platform key sent as "Authorization: Bearer KEY". PREFIX: starts every
-- order id ("w1-" gives w1-1-000000001, thread 1's first order), so two runs on one
-- center never reuse an id. OUT: a file the ids answered 201 are written to, one a
-- line, when wrk is done (empty string: none written), for the driver's lost-order
-- check. The body has the shape of bench/load/burst.py's order_body. The driver
-- (bench/load/wrk.py) reads the JSON line this prints last.

local threads = {}
local counter = 1

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

local skills = { '"pre"', '"post"', "null" }

function init(args)
   key, prefix, out = args[1], args[2] or "w", args[3] or ""
   headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. key,
   }
   math.randomseed(tid * 7919)
   seq = 0
   acked = {}  -- the ids answered 201 (the noop's answers carry none)
   nacked = 0
   statuses = {}
end

function request()
   seq = seq + 1
   local id = string.format("%s%d-%09d", prefix, tid, seq)
   local priority = 0
   if math.random() >= 0.9 then priority = 2 end
   local body = string.format(
      '{"id":"%s","skill":%s,"priority":%d,"payload":{"channel":"chat","customer":"c%06d"}}',
      id, skills[math.random(3)], priority, math.random(0, 999999))
   return wrk.format("POST", nil, headers, body)
end

function response(status, hdrs, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status == 201 then
      local id = body:match('"id":"([^"]*)"')
      if id then
         nacked = nacked + 1
         acked[nacked] = id
      end
   end
end

function done(summary, latency, requests)
   local status_counts, n_acked = {}, 0
   local file = nil
   local path = threads[1]:get("out")  -- done() runs in the main state: init's args are the threads'
   if path ~= nil and path ~= "" then file = assert(io.open(path, "w")) end
   for _, t in ipairs(threads) do
      for code, n in pairs(t:get("statuses")) do
         status_counts[tostring(code)] = (status_counts[tostring(code)] or 0) + n
      end
      local ids = t:get("acked")
      for i = 1, t:get("nacked") do
         if file then file:write(ids[i], "\n") end
         n_acked = n_acked + 1
      end
   end
   if file then file:close() end
   local parts = {}
   for code, n in pairs(status_counts) do
      table.insert(parts, string.format('"%s":%d', code, n))
   end
   local e = summary.errors
   io.write(string.format(
      '{"requests":%d,"duration_us":%d,"bytes":%d,"statuses":{%s},"acked_ids":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p99.9":%d,"max":%d,"mean":%.1f}}\n',
      summary.requests, summary.duration, summary.bytes, table.concat(parts, ","), n_acked,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max, latency.mean))
end

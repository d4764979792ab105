-- bench/wrk/bulk.lua - wrk script for bench/50-server.sh: POSTs _bulk
-- bodies built from a template in which every _id (and the document's own
-- "id") carries the placeholder @@ID@@. Each request replaces it with a
-- tag unique to the run, the thread and the request (RUNTAG.THREAD.N), so
-- every request inserts documents that are new to the index: identical
-- re-puts are no-ops in ferry and would flatter it. Where the placeholder
-- sits decides the key order: "<uuid>-@@ID@@" spreads a request's ids over
-- the whole key space like random UUIDs, "@@ID@@-<uuid>" keeps them
-- adjacent like time-ordered ids. The template is split at the
-- placeholder once; a body is then one table.concat.
--
--   wrk -t1 -c4 -d10s -s bench/wrk/bulk.lua URL -- TEMPLATE RUNTAG [PATH]
--
-- Every response is checked: status 200 and "errors":false, else it is
-- counted as bad. done() prints one line for the stage to parse:
--   wrk-bulk requests=N duration_us=N bad=N socket_errors=N p50_us=N p99_us=N

local PLACEHOLDER = "@@ID@@"
local threads = {}
local next_tid = 1

function setup(thread)
	thread:set("tid", next_tid)
	next_tid = next_tid + 1
	table.insert(threads, thread)
end

-- Globals of a thread (read back by done() with thread:get).
bad = 0
sent = 0

local parts, prefix, path
local headers = { ["Content-Type"] = "application/x-ndjson" }

local function split_plain(text, sep)
	local out, pos = {}, 1
	while true do
		local s, e = string.find(text, sep, pos, true)
		if not s then
			out[#out + 1] = string.sub(text, pos)
			return out
		end
		out[#out + 1] = string.sub(text, pos, s - 1)
		pos = e + 1
	end
end

function init(args)
	local f = io.open(args[1] or "", "rb")
	if not f then
		error("bulk.lua: cannot read the template '" .. tostring(args[1]) ..
			"' (give it after --)")
	end
	local text = f:read("*a")
	f:close()
	parts = split_plain(text, PLACEHOLDER)
	if #parts < 2 then
		error("bulk.lua: the template has no " .. PLACEHOLDER .. " placeholder")
	end
	prefix = (args[2] or "r") .. "." .. tid .. "."
	path = args[3] or "/_bulk"
end

function request()
	sent = sent + 1
	local body = table.concat(parts, prefix .. sent)
	return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, body)
	if status ~= 200 or not string.find(body, '"errors":false', 1, true) then
		bad = bad + 1
	end
end

function done(summary, latency, requests)
	local nbad = 0
	for _, t in ipairs(threads) do
		nbad = nbad + t:get("bad")
	end
	local e = summary.errors
	io.write(string.format("wrk-bulk requests=%d duration_us=%d bad=%d " ..
		"socket_errors=%d p50_us=%d p99_us=%d\n",
		summary.requests, summary.duration, nbad,
		e.connect + e.read + e.write + e.timeout,
		latency:percentile(50), latency:percentile(99)))
end

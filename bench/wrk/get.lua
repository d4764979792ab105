-- bench/wrk/get.lua - wrk script for bench/50-server.sh: GET /INDEX/_doc/ID
-- cycling through a file of known ids, one a line (the stage shuffles
-- it, so the order is random). Each thread starts at its own offset in
-- the list. Non-2xx answers (a 404 for a missing id) are counted by wrk
-- itself in summary.errors.status.
--
--   wrk -t1 -c16 -d10s --latency -s bench/wrk/get.lua URL -- IDS [INDEX [THREADS]]
--
-- done() prints one line for the stage to parse:
--   wrk-get requests=N duration_us=N non2xx=N socket_errors=N p50_us=N p99_us=N

local threads = {}
local next_tid = 1

function setup(thread)
	thread:set("tid", next_tid)
	next_tid = next_tid + 1
	table.insert(threads, thread)
end

-- The ids stay in one string (the file as read) and a request takes the
-- line after the previous one: a table of a million small strings would
-- make every LuaJIT GC cycle walk them all, and those pauses showed up as
-- a p99 of 100+ ms that was wrk's, not the server's.
local blob, pos, base

function init(args)
	local f = io.open(args[1] or "", "rb")
	if not f then
		error("get.lua: cannot read the id list '" .. tostring(args[1]) ..
			"' (give it after --)")
	end
	blob = f:read("*a")
	f:close()
	if not string.find(blob, "[^\n]") then
		error("get.lua: the id list '" .. args[1] .. "' is empty")
	end
	if string.sub(blob, -1) ~= "\n" then
		blob = blob .. "\n"
	end
	base = "/" .. (args[2] or "profile") .. "/_doc/"
	-- thread k of T starts (k-1)/T of the way into the list, at a line start
	pos = math.floor((tid - 1) * #blob / (tonumber(args[3]) or 1)) + 1
	if pos > 1 then
		pos = string.find(blob, "\n", pos - 1, true) + 1
		if pos > #blob then pos = 1 end
	end
end

function request()
	local e = string.find(blob, "\n", pos, true)
	while e == pos do -- an empty line
		pos = pos + 1
		if pos > #blob then pos = 1 end
		e = string.find(blob, "\n", pos, true)
	end
	local id = string.sub(blob, pos, e - 1)
	pos = e + 1
	if pos > #blob then pos = 1 end
	return wrk.format("GET", base .. id)
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("wrk-get requests=%d duration_us=%d non2xx=%d " ..
		"socket_errors=%d p50_us=%d p99_us=%d\n",
		summary.requests, summary.duration, e.status,
		e.connect + e.read + e.write + e.timeout,
		latency:percentile(50), latency:percentile(99)))
end

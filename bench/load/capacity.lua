-- wrk script of the capacity phases of `stockline bench load` (bench/load/wrk.py runs it).
--
-- LOAD_WRK_FLOW=bare: GET the URL (/bench/bare) flat out; response() only counts statuses
-- (latencies are wrk's own histogram).
--
-- LOAD_WRK_FLOW=orders: wrk -t N -c N -s capacity.lua URL. One connection per thread, one
-- signed-in customer per connection. Each customer fills a 3-line cart (POST /api/cart: 1, 2
-- and 3 units of three different SKUs picked at random), checks out (POST /api/checkout
-- with an Idempotency-Key of its own), and again, flat out.
-- A checkout refused (409 insufficient_stock, or anything unexpected) is followed by
-- DELETE /api/cart, so the next round starts from an empty cart, as the Locust buyer did.
--
-- Environment (set by wrk.py): LOAD_WRK_FLOW, LOAD_WRK_TOKENS_FILE (a bearer token a line, one
-- per thread), LOAD_WRK_SKUS_FILE (a SKU id a line), LOAD_WRK_NONCE (makes the keys unique per run),
-- LOAD_WRK_OUT (the JSON file done() writes).
--
-- Every response is counted per request name and status, and its latency (0.1 ms buckets)
-- per name, in flat tables (wrk copies only flat tables from a thread: `name|status`,
-- `name|bucket`). The names are the Locust scenario's: business outcomes under a name of
-- their own ("POST /api/checkout [409 insufficient_stock]"), anything else unexpected
-- counted as a failure under the plain name with its status and error code.
--
-- The state only moves on in response(): wrk calls request() again after it reconnected a
-- broken connection, and that must send the step that is still due (a checkout sent again
-- carries the same key: its answer is the first one's order, 200). Such a request that got
-- no answer is counted under "<name> [no response, sent again]" (status 0), and as a
-- failure when it happens twice in a row. wrk also calls request() once on thread 1 before
-- the run, from its main OS thread, to check for pipelining: that call is recognised by
-- the OS thread (init() runs there too) and changes nothing.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } stockline_timespec;
int clock_gettime(int clock_id, stockline_timespec *tp);
unsigned long pthread_self(void);
]]
local clock = ffi.new("stockline_timespec")
local CLOCK_MONOTONIC = 1

local function now_us()
    ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
    return tonumber(clock.tv_sec) * 1000000 + tonumber(clock.tv_nsec) / 1000
end

local function lines(path)
    local found = {}
    if path then
        for line in io.lines(path) do
            if line ~= "" then
                found[#found + 1] = line
            end
        end
    end
    return found
end

-- main state: hand every thread its customer --------------------------------------------

local FLOW = os.getenv("LOAD_WRK_FLOW") or "orders"
local threads = {}
local TOKENS = lines(os.getenv("LOAD_WRK_TOKENS_FILE"))

function setup(thread)
    local number = #threads + 1
    threads[number] = thread
    thread:set("id", number)
    if #TOKENS > 0 then
        thread:set("token", TOKENS[(number - 1) % #TOKENS + 1])
    end
end

-- each thread: one customer (orders), or counts only (bare) --------------------------------

local CART, CHECKOUT, CLEAR = "POST /api/cart", "POST /api/checkout", "DELETE /api/cart"
local BARE = "GET /bench/bare"
local skus, step, lines_ok, key, checkouts, sent_at = {}, 1, 0, "", 0, 0
local main_thread, lost_in_a_row = nil, 0
awaiting = false -- a request is out without its answer (read by done(): in flight at the end)
local picked, nonce = {}, os.getenv("LOAD_WRK_NONCE") or "0"
local json_headers, plain_headers = {}, {}
counts, latencies, reasons = {}, {}, {} -- flat tables, read by done() through thread:get

local function pick()
    picked = {}
    local taken = {}
    while #picked < 3 do
        local sku = skus[math.random(#skus)]
        if not taken[sku] then
            taken[sku] = true
            picked[#picked + 1] = sku
        end
    end
    lines_ok = 0
end

local function add(tbl, name, by)
    tbl[name] = (tbl[name] or 0) + (by or 1)
end

local function record(name, status, elapsed_us)
    add(counts, name .. "|" .. status)
    add(latencies, name .. "|" .. math.floor(elapsed_us / 100 + 0.5))
end

local function error_code(status, body) -- the "code" of an error body (nil below 400, or without one)
    if status >= 400 and body then
        return string.match(body, '"code"%s*:%s*"([^"]*)"')
    end
end

local function fail(name, status, code, elapsed_us)
    record(name, status, elapsed_us)
    add(counts, name .. "|failed")
    add(reasons, name .. "|" .. status .. (code and (" " .. code) or ""))
end

local function step_name()
    return (step <= 3 and CART) or (step == 4 and CHECKOUT) or CLEAR
end

if FLOW == "bare" then
    function response(status, _headers, body)
        add(counts, BARE .. "|" .. status)
        if status ~= 200 then
            local code = error_code(status, body)
            add(counts, BARE .. "|failed")
            add(reasons, BARE .. "|" .. status .. (code and (" " .. code) or ""))
        end
    end
else
    function init(_args)
        for _, value in ipairs(lines(os.getenv("LOAD_WRK_SKUS_FILE"))) do
            skus[#skus + 1] = tonumber(value)
        end
        math.randomseed(id * 7919 + tonumber(string.sub(nonce, 1, 6), 16))
        plain_headers = {["Authorization"] = "Bearer " .. token}
        json_headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
        pick()
        main_thread = ffi.C.pthread_self()
    end

    function request()
        if ffi.C.pthread_self() ~= main_thread then -- not wrk's check before the run
            if awaiting then -- the connection broke before the answer; wrk reconnected
                lost_in_a_row = lost_in_a_row + 1
                if lost_in_a_row == 1 then
                    add(counts, step_name() .. " [no response, sent again]|0")
                else
                    add(counts, step_name() .. "|0")
                    add(counts, step_name() .. "|failed")
                    add(reasons, step_name() .. "|0 no response (twice in a row)")
                end
            end
            awaiting = true
        end
        sent_at = now_us()
        if step <= 3 then
            return wrk.format("POST", "/api/cart", json_headers,
                string.format('{"sku_id":%d,"quantity":%d}', picked[step], step))
        elseif step == 4 then
            return wrk.format("POST", "/api/checkout", {["Authorization"] = plain_headers["Authorization"],
                ["Idempotency-Key"] = key})
        end
        return wrk.format("DELETE", "/api/cart", plain_headers)
    end

    function response(status, _headers, body)
        local elapsed = now_us() - sent_at
        awaiting, lost_in_a_row = false, 0
        local code = error_code(status, body)
        if step <= 3 then
            if status == 200 then
                record(CART, status, elapsed)
                lines_ok = lines_ok + 1
            elseif status == 409 and code == "insufficient_stock" then
                record(CART .. " [409 insufficient_stock]", status, elapsed)
            else
                fail(CART, status, code, elapsed)
            end
            step = step + 1
            if step == 4 then
                if lines_ok == 0 then -- nothing to order: a new round
                    step = 1
                    pick()
                else
                    checkouts = checkouts + 1
                    key = string.format("wrk-%s-%d-%d", nonce, id, checkouts)
                end
            end
        elseif step == 4 then
            if status == 201 then
                record(CHECKOUT, status, elapsed)
                step = 1
            elseif status == 200 then -- sent again after a broken connection: the first order
                record(CHECKOUT .. " [200 sent again, same key]", status, elapsed)
                step = 1
            elseif status == 409 and code == "insufficient_stock" then
                record(CHECKOUT .. " [409 insufficient_stock]", status, elapsed)
                step = 5
            else
                fail(CHECKOUT, status, code, elapsed)
                step = 5
            end
            if step == 1 then
                pick()
            end
        else
            if status == 200 or status == 204 then
                record(CLEAR, status, elapsed)
            else
                fail(CLEAR, status, code, elapsed)
            end
            step = 1
            pick()
        end
    end
end

-- main state: everything to one JSON file -------------------------------------------------

local function json_string(text)
    return '"' .. string.gsub(tostring(text), '[%c"\\]', function(char)
        return string.format("\\u%04x", string.byte(char))
    end) .. '"'
end

local function json_object(tbl)
    local parts = {}
    for name, value in pairs(tbl) do
        parts[#parts + 1] = json_string(name) .. ":" .. (type(value) == "string" and value or
            string.format("%.17g", value))
    end
    return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, _requests)
    local per_thread = {}
    for number, thread in ipairs(threads) do
        per_thread[number] = json_object({counts = json_object(thread:get("counts") or {}),
            in_flight = thread:get("awaiting") and 1 or 0,
            latencies = json_object(thread:get("latencies") or {}),
            reasons = json_object(thread:get("reasons") or {})})
    end
    local out = assert(io.open(os.getenv("LOAD_WRK_OUT"), "w"))
    out:write(json_object({
        duration_us = summary.duration, requests = summary.requests, bytes = summary.bytes,
        errors = json_object(summary.errors),
        latency = json_object({mean = latency.mean, max = latency.max, p50 = latency:percentile(50),
            p95 = latency:percentile(95), p99 = latency:percentile(99)}),
        threads = "[" .. table.concat(per_thread, ",") .. "]"}))
    out:close()
end

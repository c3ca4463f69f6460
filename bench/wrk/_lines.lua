-- Shared by every path script under bench/wrk/ (loaded with dofile): sends the requests listed in
-- the file named by BENCH_WRK_LINES and reports what came back.
--
-- The file holds one request per line, fields separated by tabs:
--   METHOD <tab> PATH <tab> BODY (may be empty) <tab> Header: value <tab> Header: value ...
--
-- MODE (set by the path script before loading this file):
--   "cycle" - every connection sends the next line, wrapping around, until wrk's -d ends;
--   "once"  - each line is sent exactly once (fixtures a request consumes: applications,
--             confirms, repayments). A thread takes every BENCH_WRK_THREADS-th line; once all of
--             its lines are sent its idle connections wait (delay) instead of sending anything
--             else, and the thread stops when the last answer is in, so wrk's requests and
--             latency cover exactly those requests. wrk itself sleeps for the whole -d, so each
--             thread also leaves marks in BENCH_WRK_MARKS (a directory): "start-<n>" when it
--             starts, "done-<n>" when its last answer is in. bench/http.py times the run from
--             those files' modification times and interrupts wrk once every thread is done.
--             It also marks "answered-<n>" at its first answer, so that a run that stalls (no
--             answer at all) can be cut short. If the run ends first, the answers still missing
--             are reported as "unanswered". Idle connections may be closed by the server
--             (keep-alive timeout) and reconnect: wrk counts those as read errors, harmless here.
--
-- done() prints one line "BENCH_RESULT {json}" that bench/http.py reads.

local IDLE_MS = 3600 * 1000  -- longer than any -d: an idle connection never sends again

local function mark(name)
  local marks = os.getenv("BENCH_WRK_MARKS")
  if marks then
    local file = assert(io.open(marks .. "/" .. name .. "-" .. tid, "w"))
    file:close()
  end
end

local function split(line, separator)
  local fields, start = {}, 1
  while true do
    local at = string.find(line, separator, start, true)
    if not at then
      fields[#fields + 1] = string.sub(line, start)
      return fields
    end
    fields[#fields + 1] = string.sub(line, start, at - 1)
    start = at + 1
  end
end

local function load_requests(path)
  local requests = {}
  for line in io.lines(path) do
    if line ~= "" then
      local f = split(line, "\t")
      local headers = {}
      for i = 4, #f do
        local name, value = string.match(f[i], "^([^:]+):%s*(.*)$")
        if name then headers[name] = value end
      end
      local body = nil
      if f[3] ~= nil and f[3] ~= "" then
        body = f[3]
        headers["Content-Type"] = headers["Content-Type"] or "application/json"
      end
      requests[#requests + 1] = wrk.format(f[1], f[2], headers, body)
    end
  end
  return requests
end

-- main state: remember the threads, to collect their counts in done()
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  threads[#threads + 1] = thread
end

-- thread state
function init(args)
  local path = os.getenv("BENCH_WRK_LINES")
  local nthreads = tonumber(os.getenv("BENCH_WRK_THREADS") or "1")
  assert(path, "BENCH_WRK_LINES names the file of request lines")
  local all = load_requests(path)
  mine = {}
  if MODE == "once" then
    for i, r in ipairs(all) do
      if (i - 1) % nthreads == tid then mine[#mine + 1] = r end
    end
  else
    -- every thread cycles through all lines, starting at its own offset
    local offset = math.floor(#all * tid / nthreads)
    for i = 1, #all do mine[i] = all[(i - 1 + offset) % #all + 1] end
  end
  assert(#mine > 0, "no request lines for this thread")
  total = #mine
  sent, answered, reserved, fillers, position = 0, 0, 0, 0, 0
  statuses = {}
  filler = wrk.format("GET", "/healthz", {}, nil)
  finished, verified = false, false
  mark("start")
end

if MODE == "once" then
  -- called before each request: go ahead only while this thread has a line nobody took yet
  function delay()
    if reserved < total then
      reserved = reserved + 1
      return 0
    end
    return IDLE_MS
  end

  function request()
    if sent >= reserved then
      if reserved == 0 and not verified then
        -- wrk calls request() once at start-up only to check the request parses: not sent
        verified = true
        return mine[1]
      end
      -- a call delay() did not clear (after a reconnect): never send a fixture twice
      fillers = fillers + 1
      return filler
    end
    sent = sent + 1
    return mine[sent]
  end
else
  delay = nil

  function request()
    position = position % total + 1
    sent = sent + 1
    return mine[position]
  end
end

function response(status, headers, body)
  if answered == 0 then mark("answered") end
  answered = answered + 1
  statuses[status] = (statuses[status] or 0) + 1
  if MODE == "once" and not finished and answered >= total + fillers then
    finished = true
    mark("done")
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local sent_all, answered_all, fillers_all, statuses_all = 0, 0, 0, {}
  for _, thread in ipairs(threads) do
    sent_all = sent_all + (thread:get("sent") or 0)
    answered_all = answered_all + (thread:get("answered") or 0)
    fillers_all = fillers_all + (thread:get("fillers") or 0)
    for code, count in pairs(thread:get("statuses") or {}) do
      statuses_all[code] = (statuses_all[code] or 0) + count
    end
  end
  local codes = {}
  for code, count in pairs(statuses_all) do
    codes[#codes + 1] = string.format('"%d": %d', code, count)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"mode": "%s", "duration_us": %d, "requests": %d, "bytes": %d, ' ..
    '"sent": %d, "answered": %d, "fillers": %d, "statuses": {%s}, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    MODE, summary.duration, summary.requests, summary.bytes,
    sent_all, answered_all, fillers_all, table.concat(codes, ", "),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end

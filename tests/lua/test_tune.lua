-- `septune tune` end to end on tiny models: the table, --json, --report,
-- one database record per distinct shape, injected crashing and wrong
-- candidates recorded and skipped, a bad model file, and a tune killed with
-- SIGKILL that leaves a loadable database holding every finished shape.
local t = require("testlib")
local bin = assert(os.getenv("SEPTUNE_BIN"), "SEPTUNE_BIN must name the septune executable")

-- Runs septune with `args` (and an optional environment prefix); returns
-- exit status, stdout, stderr.
local function septune(args, env)
  local base = t.scratch("tune_out")
  local cmd = string.format("%s %s %s >%s.out 2>%s.err; echo $? >%s.rc", env or "", bin, args, base, base, base)
  os.execute(cmd)
  local status = tonumber(t.read_file(base .. ".rc"))
  local out, err = t.read_file(base .. ".out") or "", t.read_file(base .. ".err") or ""
  os.remove(base .. ".out")
  os.remove(base .. ".err")
  os.remove(base .. ".rc")
  return status, out, err
end

-- A small JSON reader: objects, arrays, strings, numbers, true/false/null.
local function json_decode(s)
  local pos = 1
  local function ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local value
  local function str()
    local out, i = {}, pos + 1
    while true do
      local c = s:sub(i, i)
      if c == "" then error("unterminated string") end
      if c == '"' then break end
      if c == "\\" then
        local e = s:sub(i + 1, i + 1)
        local map = { n = "\n", t = "\t", r = "\r", b = "\b", f = "\f", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }
        if e == "u" then
          out[#out + 1] = string.char(tonumber(s:sub(i + 2, i + 5), 16) % 256)
          i = i + 6
        else
          out[#out + 1] = assert(map[e], "bad escape")
          i = i + 2
        end
      else
        out[#out + 1] = c
        i = i + 1
      end
    end
    pos = i + 1
    return table.concat(out)
  end
  function value()
    ws()
    local c = s:sub(pos, pos)
    if c == "{" then
      local obj = {}
      pos = pos + 1
      ws()
      if s:sub(pos, pos) == "}" then pos = pos + 1 return obj end
      while true do
        ws()
        assert(s:sub(pos, pos) == '"', "object key expected at " .. pos)
        local k = str()
        ws()
        assert(s:sub(pos, pos) == ":", "':' expected at " .. pos)
        pos = pos + 1
        obj[k] = value()
        ws()
        local d = s:sub(pos, pos)
        pos = pos + 1
        if d == "}" then return obj end
        assert(d == ",", "',' or '}' expected at " .. pos)
      end
    elseif c == "[" then
      local arr = {}
      pos = pos + 1
      ws()
      if s:sub(pos, pos) == "]" then pos = pos + 1 return arr end
      while true do
        arr[#arr + 1] = value()
        ws()
        local d = s:sub(pos, pos)
        pos = pos + 1
        if d == "]" then return arr end
        assert(d == ",", "',' or ']' expected at " .. pos)
      end
    elseif c == '"' then
      return str()
    elseif s:sub(pos, pos + 3) == "true" then pos = pos + 4 return true
    elseif s:sub(pos, pos + 4) == "false" then pos = pos + 5 return false
    elseif s:sub(pos, pos + 3) == "null" then pos = pos + 4 return nil
    else
      local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      assert(num and #num > 0, "unexpected character at " .. pos)
      pos = pos + #num
      return assert(tonumber(num))
    end
  end
  local v = value()
  ws()
  assert(pos > #s, "trailing characters at " .. pos)
  return v
end

-- Records in a database file, by counting its record lines.
local function db_records(path)
  local s = t.read_file(path) or ""
  local n = 0
  for _ in s:gmatch("septune%-db/%d+\t") do n = n + 1 end
  return n
end

local tmp = t.scratch("tune")
local model = tmp .. "_tiny.txt"
t.write_file(model, table.concat({
  "# two distinct shapes, one of them twice",
  "dw name=a.dw h=14 w=14 c=32 k=3 s=1 pad=same act=relu6",
  "pw name=a.pw h=14 w=14 ci=32 co=16 act=none",
  "dw name=b.dw h=14 w=14 c=32 k=3 s=1 pad=same act=relu6",
  "",
}, "\n"))

-- The table.
local db = tmp .. "_a.db"
local status, out, err = septune(string.format("tune %s --budget 1.5 --db %s --seed 3", model, db))
t.check(status == 0, "tune of the tiny model exits 0: " .. out .. err)
t.check(out:find("default us", 1, true) and out:find("speed-up", 1, true) and out:find("%roof", 1, true),
  "the table has the time, speed-up and roofline columns: " .. out)
for _, name in ipairs({ "a.dw", "a.pw", "b.dw" }) do
  t.check(out:find("\n" .. name:gsub("%.", "%%.") .. " ") ~= nil, "the table lists " .. name .. ": " .. out)
end
t.check(out:find("same shape as a.dw", 1, true) ~= nil, "the duplicate is tuned once: " .. out)
t.check(out:find("FMA peak", 1, true) and out:find("GB/s", 1, true), "the header gives both ceilings: " .. out)
t.check(out:match("geomean speed%-up over 3 layers: %d+%.%d+x") ~= nil, "the geomean speed-up is printed: " .. out)
t.check(db_records(db) == 2, "the database has one record per distinct shape: " .. (t.read_file(db) or "none"))
local ls, lout, lerr = septune("db list --db " .. db)
t.check(ls == 0 and lerr == "" and lout:find("2 records", 1, true), "septune db list loads it: " .. lout .. lerr)

-- JSON and the roofline chart; the database keeps one record per shape
-- when the same shapes are tuned again.
local svg = tmp .. "_roof.svg"
status, out, err = septune(string.format("tune %s --budget 1.5 --db %s --json --report %s", model, db, svg))
t.check(status == 0, "tune --json exits 0: " .. err)
local ok, doc = pcall(json_decode, out)
t.check(ok, "--json prints one JSON document: " .. tostring(doc) .. "\n" .. out)
if ok then
  t.check(#doc.layers == 3, "three layers in the JSON")
  t.check(doc.layers[3].same_as == "a.dw", "the third layer is marked as the first's shape")
  t.check(doc.totals.shapes == 2 and doc.totals.tuned_layers == 3, "totals: 2 shapes, 3 tuned layers")
  t.check(type(doc.totals.geomean_speedup) == "number" and doc.totals.geomean_speedup > 0, "a geomean speed-up")
  t.check(doc.ceilings.peak_gflops > 0 and doc.ceilings.bw_l2_gbs > 0, "the ceilings are measured")
  local l = doc.layers[1]
  t.check(l.tuned and l.tuned_us > 0 and l.default_us > 0 and l.candidates >= 1 and l.roofline_pct > 0,
    "a layer has its times, candidates and roofline share")
end
t.check(db_records(db) == 2, "re-tuning replaces the records: " .. (t.read_file(db) or "none"))
local chart = t.read_file(svg) or ""
t.check(chart:find("^<%?xml") and chart:find("<svg", 1, true) and chart:find("</svg>%s*$"),
  "--report writes a standalone SVG document")
t.check(chart:find("a.dw", 1, true) and chart:find("FMA peak", 1, true), "the chart labels layers and ceilings")

-- Injected broken candidates: recorded with their reasons, never chosen.
status, out, err = septune(string.format("tune %s --budget 6 --db '' --json --max-candidates 6", model),
  "SEPTUNE_TUNE_INJECT=crash=1,wrong=2")
t.check(status == 0, "a tune with a crashing and a wrong candidate finishes: " .. err)
ok, doc = pcall(json_decode, out)
t.check(ok, "and prints JSON: " .. tostring(doc))
if ok then
  local l = doc.layers[1]
  local crashed, wrong
  for _, r in ipairs(l.rejected) do
    if r.reason == "crashed (SIGSEGV)" then crashed = r end
    if r.outcome == "wrong" and r.reason:find("wrong answer", 1, true) then wrong = r end
  end
  t.check(crashed ~= nil, "the crashing candidate is recorded as crashed (SIGSEGV)")
  t.check(wrong ~= nil, "the wrong candidate is recorded as a wrong answer")
  t.check(l.tuned and crashed and wrong and l.knobs ~= crashed.knobs and l.knobs ~= wrong.knobs,
    "neither is chosen")
end

-- A block: its band knob tuned and stored, then taken by `septune run`.
local blocks = tmp .. "_blocks.txt"
t.write_file(blocks, "ir name=b h=12 w=12 ci=8 t=4 co=8 k=3 pad=same act=relu6 bias=1 residual=1\n")
local bdb = tmp .. "_blocks.db"
os.remove(bdb)
status, out, err = septune(string.format("tune %s --budget 1 --db %s", blocks, bdb))
t.check(status == 0 and out:match("\nb +ir 12x12 8%->32%->8 k3 s1 +%S+ +band=%d+") ~= nil,
  "a block is tuned (its band): " .. out .. err)
t.check(db_records(bdb) == 1 and (t.read_file(bdb) or ""):find("\top=ir n=1 h=12 ", 1, true) ~= nil
  and (t.read_file(bdb) or ""):find("\tknobs=band=%d+\t") ~= nil, "its record: " .. (t.read_file(bdb) or "none"))
status, out, err = septune(string.format("run %s", blocks), "SEPTUNE_DB=" .. bdb)
t.check(status == 0 and out:find("tuned", 1, true) and out:find(" ok", 1, true), "run takes the tuned band: " .. out .. err)

-- A bad model file: exit 2, the message names the path and the line.
local bad = tmp .. "_bad.txt"
t.write_file(bad, "dw h=8 w=8 c=8 k=3\ndw h=8 w=8 c=0 k=3\n")
status, out, err = septune(string.format("tune %s --db ''", bad))
t.check(status == 2 and err:find(bad .. ":2:", 1, true), "a bad line exits 2 naming path:line: " .. err)
status, out, err = septune("tune " .. tmp .. "_missing.txt --db ''")
t.check(status == 2 and err:find("_missing.txt", 1, true), "a missing model exits 2 naming it: " .. err)
status, out, err = septune(string.format("tune %s --budget soon", model))
t.check(status == 2 and err:find("--budget", 1, true), "a bad --budget exits 2: " .. err)

-- Killed mid-tune: the database loads and holds every finished shape.
local long = tmp .. "_long.txt"
local lines = {}
for i = 1, 12 do
  lines[#lines + 1] = string.format("dw name=l%d h=%d w=%d c=%d k=3 s=1 pad=same", i, 8 + i, 8 + i, 16 * (1 + i % 3))
end
t.write_file(long, table.concat(lines, "\n") .. "\n")
local kdb, kerr, kpid = tmp .. "_kill.db", tmp .. "_kill.err", tmp .. "_kill.pid"
os.execute(string.format("sh -c '%s tune %s --budget 30 --db %s >/dev/null 2>%s & echo $! >%s'", bin, long, kdb,
  kerr, kpid))
local pid = tonumber(t.read_file(kpid))
local waited = 0
while db_records(kdb) < 1 and waited < 200 do
  os.execute("sleep 0.05")
  waited = waited + 1
end
os.execute("sleep 0.4") -- let it get into the middle of another shape
os.execute("kill -9 " .. pid)
while os.execute("kill -0 " .. pid .. " 2>/dev/null") == 0 or os.execute("kill -0 " .. pid .. " 2>/dev/null") == true do
  os.execute("sleep 0.05")
end
local finished = {}
for name in (t.read_file(kerr) or ""):gmatch("tune: %d+/%d+ (l%d+):") do finished[#finished + 1] = name end
local n = db_records(kdb)
t.check(n >= 1 and n < 12, "the killed tune stored some shapes, not all: " .. n)
t.check(n >= #finished, "every shape reported finished is in the database: " .. n .. " vs " .. #finished)
ls, lout, lerr = septune("db list --db " .. kdb)
t.check(ls == 0 and lerr == "", "the database left by the kill loads without a warning: " .. lerr)
for _, name in ipairs(finished) do
  local i = tonumber(name:sub(2))
  local h = 8 + i
  t.check(lout:find(string.format("h=%d w=%d c=%d ", h, h, 16 * (1 + i % 3)), 1, true) ~= nil,
    "finished shape " .. name .. " is listed")
end

for _, f in ipairs({ model, bad, long, db, db .. ".lock", svg, kdb, kdb .. ".lock", kerr, kpid }) do os.remove(f) end
t.finish()

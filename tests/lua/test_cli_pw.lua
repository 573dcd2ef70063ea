-- The septune command on pointwise layer lines: a good line runs, passes its
-- check against the reference and reports a time; a bad one exits 2 with one
-- line naming the key; `septune source pw` prints C whose header names the
-- shape and the knobs.
local t = require("testlib")
local bin = assert(os.getenv("SEPTUNE_BIN"), "SEPTUNE_BIN must name the septune executable")

-- Runs septune with `args`; returns exit status, stdout+stderr.
local function septune(args)
  return t.capture(string.format("%s %s 2>&1", bin, args))
end

local status, out = septune("run pw h=14 w=14 ci=384 co=64 act=relu6 --ms 5")
t.check(status == 0, "a good pw line runs: " .. out)
t.check(out:find("pw n=1 h=14 w=14 ci=384 co=64 act=relu6 bias=0", 1, true) ~= nil,
  "and prints the canonical layer line: " .. out)
t.check(out:find("check   ok", 1, true) ~= nil, "and passes its check against the reference: " .. out)
t.check(out:match("time%s+median [%d.]+ us") ~= nil, "and reports a median time: " .. out)
t.check(out:find("GFLOP/s", 1, true) ~= nil, "and GFLOP/s: " .. out)

-- Odd sizes, bias and a clamp, on the portable C kernel and on SSE (which
-- every x86-64 CPU has).
for _, isa in ipairs({ "scalar", "sse" }) do
  local s, o = septune("run pw n=2 h=3 w=5 ci=17 co=31 bias=1 'act=clamp(-0.5,0.25)' --ms 2 --isa " .. isa)
  t.check(s == 0 and o:find("check   ok", 1, true) ~= nil, "an odd pw layer passes on " .. isa .. ": " .. o)
  t.check(o:find("kernel  " .. isa, 1, true) ~= nil, "on the ISA asked for (" .. isa .. "): " .. o)
end

local bad = {
  { "run pw h=14 w=14 ci=0 co=64", "ci" },
  { "run pw h=14 w=14 ci=384 co=abc", "co" },
  { "run pw h=14 w=14 ci=384 co=64 zap=1", "zap" },
  { "run pw h=14 w=14 ci=384 co=64 k=3", "k" },
  { "run pw h=14 w=14 ci=384", "co" },
  { "run pw h=14 w=14 ci=384 co=64 'act=clamp(1,-1)'", "act" },
  { "run pw h=4 w=4 ci=8 co=8 --knobs zz=1", "zz" },
  { "source pw h=4 w=4 ci=-3 co=8", "ci" },
}
for _, case in ipairs(bad) do
  local s, o = septune(case[1])
  t.check(s == 2, "'" .. case[1] .. "' exits 2 (got " .. tostring(s) .. "): " .. o)
  local lines = select(2, o:gsub("\n", "\n"))
  t.check(lines == 1, "'" .. case[1] .. "' prints one line: " .. o)
  t.check(o:find(case[2], 1, true) ~= nil, "'" .. case[1] .. "' names " .. case[2] .. ": " .. o)
end

status, out = septune("source pw h=14 w=14 ci=384 co=64 act=relu6")
t.check(status == 0, "source pw exits 0: " .. out:sub(1, 300))
local header = out:match("^/%*.-%*/") or ""
t.check(header:find("pw n=1 h=14 w=14 ci=384 co=64 act=relu6 bias=0", 1, true) ~= nil,
  "its header comment names the shape: " .. header)
t.check(header:find("knobs: ", 1, true) ~= nil, "and the knobs: " .. header)

-- Rendering needs no CPU support: AVX-512 source on any machine.
status, out = septune("source pw h=7 w=7 ci=33 co=17 bias=1 --isa avx512")
t.check(status == 0 and out:find("vfmadd231ps", 1, true) ~= nil,
  "source pw --isa avx512 prints AVX-512 code with mnemonics beside the bytes")

t.finish()

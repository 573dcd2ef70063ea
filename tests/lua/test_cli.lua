-- The septune command on good and malformed layer lines: a good line runs and
-- passes its check; a bad one exits 2 with one line naming the key.
local t = require("testlib")
local bin = assert(os.getenv("SEPTUNE_BIN"), "SEPTUNE_BIN must name the septune executable")

-- Runs septune with `args`; returns exit status, stdout+stderr.
local function septune(args)
  return t.capture(string.format("%s %s 2>&1", bin, args))
end

local status, out = septune("run dw h=9 w=9 c=20 k=3 s=1 pad=same act=relu6 --ms 5")
t.check(status == 0, "a good dw line runs: " .. out)
t.check(out:find("check   ok", 1, true) ~= nil, "and passes its check against the reference: " .. out)
t.check(out:find("GFLOP/s", 1, true) ~= nil, "and reports GFLOP/s: " .. out)

-- Large kernels (kh 8..31, strips, dilation) run with the default knobs on
-- every ISA: the x86 ones through the kernel-row loop, whatever this CPU
-- has (a forced ISA it lacks is refused, and said so).
for _, isa in ipairs({ "scalar", "sse", "avx2", "avx512" }) do
  for _, layer in ipairs({ "dw h=9 w=11 c=20 k=31 pad=same bias=1", "dw h=12 w=16 c=21 kh=21 kw=1 pad=same act=relu6",
                           "dw h=16 w=12 c=19 kh=8 kw=13 d=2 pad=same act=hswish" }) do
    local s, o = septune("run " .. layer .. " --isa " .. isa .. " --ms 1")
    if not o:find("cannot run isa", 1, true) then
      t.check(s == 0 and o:find("check   ok", 1, true) ~= nil and o:find("(default knobs)", 1, true) ~= nil,
        "'" .. layer .. "' on " .. isa .. " runs with the default knobs and passes its check: " .. o)
    end
  end
end

local bad = {
  { "run dw h=0 w=5 c=3 k=3", "h" },
  { "run dw h=5 w=5 c=abc k=3", "c" },
  { "run dw h=5 w=5 c=3 k=3 foo=1", "foo" },
  { "run dw h=5 w=5 c=3 k=3 pad=1,2,3", "pad" },
  { "run dw h=5 w=5 c=3 k=3 act=swish", "act: 'swish' is not an activation (none, relu, relu6, hswish, hsigmoid, "
    .. "sigmoid, silu, gelu, gelu_tanh, clamp(min,max))" },
  { "run dw h=5 w=5 c=3 k=3 h=6", "h" },
  { "run xx h=5", "xx" },
  { "run dw h=5 w=5 c=3 k=3 --isa avx9", "avx9" },
  { "run dw h=5 w=5 c=3 k=3 --knobs ct=1,nope=3", "nope" },
  { "run", "layer" },
  { "frobnicate", "frobnicate" },
}
for _, case in ipairs(bad) do
  local s, o = septune(case[1])
  t.check(s == 2, "'" .. case[1] .. "' exits 2 (got " .. tostring(s) .. "): " .. o)
  local lines = select(2, o:gsub("\n", "\n"))
  t.check(lines == 1, "'" .. case[1] .. "' prints one line: " .. o)
  t.check(o:find(case[2], 1, true) ~= nil, "'" .. case[1] .. "' names " .. case[2] .. ": " .. o)
end

s, out = septune("source dw h=5 w=6 c=20 k=3 pad=same --isa avx512")
t.check(s == 0 and out:find("vfmadd231ps", 1, true) ~= nil,
  "source prints AVX-512 code with mnemonics beside the bytes, whatever this CPU has")
t.check(out:find("knobs: ct=", 1, true) ~= nil, "and a header comment naming the knobs")

t.finish()

-- test_lua_module.lua — septune's Lua modules.
--   require "septune": plans created and run through the FFI match the
--   reference, with libseptune_rt.so under plain luajit (generic kernels)
--   and, when this file runs itself under `septune lua`, with the JIT
--   library of the septune executable (ffi.C); errors carry the library's
--   message; PyTorch weights reach the canonical layout.
--   require "septune.generator": a rendered kernel is the one `septune
--   source` prints, and a knob space lists the default knobs.
-- Run by ctest (tests/cmake/lua_module.cmake) with SEPTUNE_RT_LIBRARY and
-- SEPTUNE_BIN set.
local t = require("testlib")
local septune = require("septune")
local ffi = require("ffi")
local have_gen, gen = pcall(require, "septune.generator")

local bin = assert(os.getenv("SEPTUNE_BIN"), "SEPTUNE_BIN must name the septune executable")
local inside = septune.library == "this process"
local where = inside and "inside septune lua" or "luajit + " .. septune.library

-- Reproducible data in [-1, 1).
local seed = 12345
local function next_value()
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 1073741824 - 1
end

-- 1 when every element of got is within a few ulps per summed term of want
-- (the tolerance of runtime/src/check.c), else nil and the first bad index.
local function matches(want, got, n, terms)
  local rel = 4 * 1.1920929e-7 * (terms + 2)
  for i = 0, n - 1 do
    if not (math.abs(got[i] - want[i]) <= rel * (1 + math.abs(want[i]))) then return nil, i end
  end
  return true
end

local layers = {
  { "dw h=9 w=11 c=19 k=3 s=2 pad=same act=relu6 bias=1", 9 },
  { "dw h=8 w=7 c=5 kh=5 kw=3 d=2 m=2 pad=same act=hswish", 15 },
  { "pw n=2 h=3 w=5 ci=13 co=21 act=clamp(-0.5,0.25) bias=1", 13 },
}
for _, case in ipairs(layers) do
  local line, terms = case[1], case[2]
  local op = septune.op(line)
  local n_in, n_out, n_w, n_b = septune.sizes(op)
  local w, b = septune.floats(n_w, next_value), septune.floats(n_b, next_value)
  local input = septune.floats(n_in, next_value)
  local plan = septune.plan(op, w, b)
  local got = plan:execute(input, septune.floats(n_out))
  local want = septune.reference(op, w, b, input, septune.floats(n_out))
  local ok, bad = matches(want, got, n_out, terms)
  t.check(ok, string.format("%s: %s matches the reference (%s)", where, line,
    ok and "" or string.format("index %d: %g, want %g", bad, got[bad], want[bad])))
  local info = plan:info()
  t.check(info.op == septune.line(line), "plan:info() names the op: " .. info.op)
  t.check(info.build == (inside and "jit" or "library"), where .. ": the build is " .. tostring(info.build))
  t.check((plan:source() ~= nil) == inside, where .. ": a JIT plan has a source, a generic one none")
  plan:destroy()
end

-- A block: its long canonical line, run fused against the reference.
do
  local line = "ir h=9 w=8 ci=5 t=3 co=5 k=3 pad=same act=clamp(-0.75,0.5) project.act=gelu_tanh bias=1 residual=1"
  local op = septune.op(line)
  local n_in, n_out, n_w, n_b = septune.sizes(op)
  local w, b = septune.floats(n_w, next_value), septune.floats(n_b, next_value)
  local input = septune.floats(n_in, next_value)
  local plan = septune.plan(op, w, b, { knobs = "band=2" })
  local got = plan:execute(input, septune.floats(n_out))
  local want = septune.reference(op, w, b, input, septune.floats(n_out))
  local ok, bad = matches(want, got, n_out, 5 * 9 * 15)
  t.check(ok, where .. ": " .. line .. " matches the reference" .. (ok and "" or " (index " .. bad .. ")"))
  t.check(plan:info().op == septune.line(line), where .. ": plan:info() names the block: " .. plan:info().op)
  plan:destroy()
  -- a canonical line longer than 256 characters
  local long = "ir n=1000 h=1000 w=1000 ci=3 mid=123456 co=765432 k=3 pad=same residual=0"
    .. " expand.act=clamp(-0.123456789,0.987654321) dw.act=clamp(-1.23456789e-30,2.5e+30)"
    .. " project.act=clamp(-3.25,7.125) bias=1"
  t.check(#septune.line(long) > 256, "septune.line of a long block: " .. septune.line(long))
end

-- Threads: a plan of 3 threads says so and gives the very bits of a plan
-- of 1.
do
  local line = "pw n=2 h=14 w=14 ci=64 co=72 act=relu6 bias=1"
  local n_in, n_out, n_w, n_b = septune.sizes(line)
  local w, b = septune.floats(n_w, next_value), septune.floats(n_b, next_value)
  local input = septune.floats(n_in, next_value)
  local one, three = septune.plan(line, w, b, { threads = 1 }), septune.plan(line, w, b, { threads = 3 })
  local a = one:execute(input, septune.floats(n_out))
  local c = three:execute(input, septune.floats(n_out))
  t.check(three:info().threads == 3 and three:info().wake >= 1 and three:info().work >= 1,
    where .. ": plan:info() says the threads: " .. tostring(three:info().threads))
  t.check(ffi.string(a, n_out * 4) == ffi.string(c, n_out * 4),
    where .. ": 3 threads give the bits of 1")
  t.check(t.error_of(septune.plan, line, w, b, { threads = -1 }) ~= nil, "threads = -1 is an error")
  -- t.finish exits without closing the Lua state: no finalizer would run
  one:destroy()
  three:destroy()
end

-- Knobs: the JIT builds them; libseptune_rt cannot without an emitted table.
local dw = "dw h=8 w=8 c=16 k=3 s=1 pad=same"
local knob_err = t.error_of(septune.plan, dw, septune.floats(144), nil, { knobs = "ct=1,wt=4" })
if inside then
  t.check(knob_err == nil, "inside septune lua, a plan takes knobs: " .. tostring(knob_err))
else
  t.check(knob_err and knob_err:find("septune.plan: ", 1, true), "libseptune_rt refuses knobs: " .. tostring(knob_err))
end
local parse_err = t.error_of(septune.op, "dw h=8 w=8 c=0 k=3")
t.check(parse_err and parse_err:find("c:", 1, true), "a bad line names the key: " .. tostring(parse_err))
t.check(t.error_of(septune.plan, dw, septune.floats(144), nil, { isa = "mmx" }) ~= nil, "an unknown ISA is an error")

-- PyTorch's pointwise [co][ci][1][1] becomes [ci][co].
local pw = septune.op("pw h=1 w=1 ci=3 co=2")
local torch = septune.floats(6, function(i) return i end)
local canon = septune.weights_from_pytorch(pw, torch)
t.check(canon[0 * 2 + 1] == torch[1 * 3 + 0] and canon[2 * 2 + 1] == torch[1 * 3 + 2],
  "weights_from_pytorch: w[ci][co] = torch[co][ci]")

-- The generator module renders what `septune source` prints, for layers
-- whose every field differs from its neighbour (a swapped field shows).
local asymmetric = {
  "dw h=10 w=13 c=21 kh=5 kw=3 sh=2 sw=1 dh=2 dw=1 pad=same m=2 act=hswish bias=1",
  "pw n=2 h=7 w=5 ci=24 co=40 act=clamp(-1,3) bias=1",
}
if not have_gen then
  -- outside the septune executable the generator has no runtime to host it
  t.check(not inside and tostring(gen):find("septune lua", 1, true),
    where .. ": require \"septune.generator\" says it needs septune lua: " .. tostring(gen))
else
for _, isa in ipairs({ "avx2", "sse" }) do
  for _, line in ipairs(asymmetric) do
    local source, symbol, knobs = gen.render(line, isa)
    -- quoted: the shell would read clamp(...)'s parentheses
    local status, printed = t.capture(string.format("%s source '%s' --isa %s 2>/dev/null", bin, line, isa))
    t.check(status == 0 and printed == source, string.format("%s: render(%s, %s) is septune source's output", where, line, isa))
    t.check(source:find(symbol, 1, true) and knobs == gen.default_knobs(line, isa),
      "render returns the kernel's name and the default knobs: " .. knobs)
  end
end
local space = gen.space(dw, "avx512")
local default = gen.default_knobs(dw, "avx512")
-- the space lists the knobs without the work split, which a render fills in
local function same_but_split(full, k) return full == k or full:sub(1, #k + 1) == k .. "," end
local has_default = false
for _, k in ipairs(space) do has_default = has_default or same_but_split(default, k) end
t.check(#space > 1 and has_default, string.format("the avx512 space of %s lists %d configs, the default among them", dw, #space))
local _, _, chosen = gen.render(dw, "avx512", space[#space])
t.check(same_but_split(chosen, space[#space]), "render keeps knobs from the space: " .. tostring(chosen))
local knob_msg = t.error_of(gen.render, dw, "avx2", "nosuchknob=1")
t.check(knob_msg and knob_msg:find("nosuchknob", 1, true), "bad knobs are named: " .. tostring(knob_msg))
end

-- The same checks inside the septune executable, and its exit statuses.
if not inside then
  local status, out = t.capture(string.format("%s lua %s 2>&1", bin, arg[0]))
  t.check(status == 0 and out:find("passed, 0 failed", 1, true), "under septune lua: " .. out)
  local script = t.scratch("lua_module") .. ".lua"
  t.write_file(script, 'assert(select("#", ...) == 2 and arg[2] == "b")\nerror("stop here")\n')
  status, out = t.capture(string.format("%s lua %s a b 2>&1", bin, script))
  t.check(status == 1 and out:find("stop here", 1, true) and out:find("traceback", 1, true),
    "a script's error: status 1, the message and a traceback: " .. out)
  os.remove(script)
  status, out = t.capture(string.format("%s lua %s 2>&1", bin, script))
  t.check(status == 2 and out:find("cannot open", 1, true), "a missing script: status 2: " .. out)
end

t.finish()

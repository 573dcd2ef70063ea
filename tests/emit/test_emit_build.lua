-- The emitted MobileNetV2 kernels with one layer per smooth activation
-- (tests/data/activations.txt), those of tests/data/emit_large_kernels.txt
-- (the kernel-row loop, strips, dilation), and those of the blocks of
-- tests/data/bench_network_tiny.txt (the layers their plans run their stages
-- on: band shapes), for every x86 ISA, build warning-free
-- (-Wall -Wextra -Werror) with gcc, clang and tcc (those on PATH), and every
-- build gives bit-identical output to the JIT (test_emit_check).
--
-- Environment (tests/cmake/emit_build.cmake): SEPTUNE_BIN, SEPTUNE_EMIT_CHECK,
-- SEPTUNE_SOURCE_DIR, SEPTUNE_TMPDIR.
local t = require("testlib")

local bin = assert(os.getenv("SEPTUNE_BIN"), "SEPTUNE_BIN not set")
local checker = assert(os.getenv("SEPTUNE_EMIT_CHECK"), "SEPTUNE_EMIT_CHECK not set")
local src = assert(os.getenv("SEPTUNE_SOURCE_DIR"), "SEPTUNE_SOURCE_DIR not set")
local dir = t.scratch("emit_build")
assert(t.run("mkdir -p " .. dir))
-- one model file: MobileNetV2's layers, then the activations'
local models = { mv2 = dir .. "/mv2_act.txt", lk = src .. "/tests/data/emit_large_kernels.txt",
                 blk = src .. "/tests/data/bench_network_tiny.txt" }
assert(t.run(string.format("cat %s/models/mobilenet_v2.txt %s/tests/data/activations.txt > %s", src, src, models.mv2)))

local function have(prog) return t.run("command -v " .. prog .. " >/dev/null 2>&1") end

local compilers = {}
for _, cc in ipairs({ "gcc", "clang", "tcc" }) do
  if have(cc) then compilers[#compilers + 1] = cc else print("skipped: " .. cc .. " not on PATH") end
end
t.check(#compilers > 0 and compilers[1] == "gcc", "gcc is on PATH")

-- One emitted set per ISA, so every template family is built.
-- $SEPTUNE_EMIT_ISAS (space-separated) narrows the list: the sanitizer pass
-- of .ci/run builds two, since the compilers it runs are the first pass's.
local isas = { "avx512", "avx2", "sse", "scalar" }
if os.getenv("SEPTUNE_EMIT_ISAS") then
  isas = {}
  for isa in os.getenv("SEPTUNE_EMIT_ISAS"):gmatch("%S+") do isas[#isas + 1] = isa end
  t.check(#isas > 0, "SEPTUNE_EMIT_ISAS names an ISA")
end
local jobs, libs = {}, {}
for _, isa in ipairs(isas) do
  -- both models' kernels in one library per ISA and compiler
  local outs, names, emitted = {}, {}, true
  for _, tag in ipairs({ "mv2", "lk", "blk" }) do
    local out, name = dir .. "/" .. tag .. "_" .. isa, tag .. "_" .. isa
    local ok = t.run(string.format("%s emit --model %s --isa %s --name %s --out %s > %s.log 2>&1",
                                   bin, models[tag], isa, name, out, out))
    if not t.check(ok, "emit " .. tag .. " --isa " .. isa .. " (see " .. out .. ".log)") then
      print(t.read_file(out .. ".log") or "")
      emitted = false
    end
    outs[#outs + 1] = out .. "/*.c"
    names[#names + 1] = name
  end
  if emitted then
    for _, cc in ipairs(compilers) do
      local lib = string.format("%s/%s_%s.so", dir, isa, cc)
      local flags = cc == "tcc" and "-Wall -Wextra -Werror -shared"
                                 or "-O2 -Wall -Wextra -Werror -fPIC -shared"
      jobs[#jobs + 1] = { label = isa .. "/" .. cc, lib = lib,
                          cmd = string.format("%s %s -o %s %s > %s.log 2>&1", cc, flags, lib, table.concat(outs, " "),
                                              lib) }
      for _, name in ipairs(names) do
        libs[#libs + 1] = string.format("%s/%s=%s:%s_kernels", isa, cc, lib, name)
      end
    end
  end
end

-- Two compiles at a time: the machine has two cores.
local script = {}
for i, j in ipairs(jobs) do
  script[#script + 1] = string.format("(%s; echo $? > %s.rc) &", j.cmd, j.lib)
  if i % 2 == 0 then script[#script + 1] = "wait" end
end
script[#script + 1] = "wait"
t.run(table.concat(script, "\n"))
for _, j in ipairs(jobs) do
  local rc = (t.read_file(j.lib .. ".rc") or ""):match("%d+")
  if not t.check(rc == "0", j.label .. " builds with -Wall -Wextra -Werror") then
    print((t.read_file(j.lib .. ".log") or ""):sub(1, 3000))
  end
end

if t.failed == 0 then
  local ok = t.run(string.format("SEPTUNE_EMIT_LIBS='%s' %s", table.concat(libs, ";"), checker))
  t.check(ok, "every emitted kernel is bit-identical to the JIT's build of it")
end

if t.failed == 0 then t.run("rm -rf " .. dir) end
print(string.format("%d passed, %d failed", t.passed, t.failed))
os.exit(t.failed == 0 and 0 or 1)

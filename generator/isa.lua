-- isa.lua — the instruction sets the generator targets, each fact once:
-- vector width, register file, and the mnemonics and idioms the machine
-- code uses. The x86 code generators (x86_dw.lua, x86_pw.lua,
-- x86_activation.lua), the depthwise geometry and the knob spaces read them
-- here.
local Host = require("septune_host")

local M = {}

-- Depthwise weight rows, and the zero row's slack, are padded to this many
-- floats so that a full vector of any ISA loads at the channel tail. The
-- runtime packs those weights: the number is its SEPTUNE_KERNEL_PACK_LANES.
M.PACK_LANES = Host.pack_lanes

local function zero2(r) return string.format("xorps %s, %s", r, r) end

-- name       what `isa` strings say
-- lanes      floats per vector; bytes per vector
-- registers  vector registers, named "%<reg><n>"
-- vex        VEX/EVEX encoded: three-operand forms, FMA, unaligned memory
--            operands, and a block ends with vzeroupper; else legacy SSE:
--            two-operand forms (`legacy` names them) whose memory operands
--            must be aligned, so they go through a temporary
-- mask       how a partial vector is loaded and stored: "opmask" (%k1,
--            zeroing loads), "vector" (vmaskmovps with a mask in a vector
--            register), nil (none: SSE does the last lanes one at a time)
-- bcast      suffix of an embedded broadcast from a float in memory
-- zero(r)    the zeroing idiom, an instruction that sets r to 0
M.scalar = { name = "scalar", lanes = 1, registers = 0 }
M.sse = {
  name = "sse", lanes = 4, bytes = 16, registers = 16, reg = "xmm",
  legacy = { mov = "movups", mul = "mulps", add = "addps", max = "maxps", min = "minps", copy = "movaps" },
  zero = zero2,
}
-- SSE's channel tail: one-lane "vectors", the scalar forms of SSE.
M.sse1 = {
  name = "sse1", lanes = 1, bytes = 4, registers = 16, reg = "xmm",
  legacy = { mov = "movss", mul = "mulss", add = "addss", max = "maxss", min = "minss", copy = "movaps" },
  zero = zero2,
}
M.avx2 = {
  name = "avx2", lanes = 8, bytes = 32, registers = 16, reg = "ymm", vex = true, mask = "vector",
  zero = function(r) return string.format("vxorps %s, %s, %s", r, r, r) end,
}
M.avx512 = {
  name = "avx512", lanes = 16, bytes = 64, registers = 32, reg = "zmm", vex = true, mask = "opmask",
  bcast = "{1to16}",
  zero = function(r) return string.format("vpxord %s, %s, %s", r, r, r) end,
}

-- The vector ISAs, narrowest first, and the widest vector in floats.
M.VECTOR = { "sse", "avx2", "avx512" }
M.WIDEST_LANES = M.avx512.lanes

-- The description of `name`; an error for a name that is none.
function M.get(name)
  local d = M[name]
  if type(d) ~= "table" or d.lanes == nil then
    error("isa: no instruction set '" .. tostring(name) .. "'", 0)
  end
  return d
end

-- Vector register i of ISA description d, e.g. "%ymm3".
function M.vreg(d, i)
  return "%" .. d.reg .. i
end

-- The names of vector registers first..last as the C compiler knows them
-- in a clobber list ("xmm0" stands for ymm0 and zmm0 too).
function M.clobber_names(first, last)
  local t = {}
  for i = first, last do t[#t + 1] = "xmm" .. i end
  return t
end

return M

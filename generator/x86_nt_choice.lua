-- x86_nt_choice.lua — C text every x86 kernel family emits the same way: the
-- clobber lists of its asm statements and, for nt=1, the choice between the
-- streaming-store kernel and the plain one.
local M = {}

local function quoted(list)
  local t = {}
  for _, r in ipairs(list) do t[#t + 1] = '"' .. r .. '"' end
  return table.concat(t, ", ")
end

-- Sets params.gpr_clobbers (the GPRs a family's blocks touch) and
-- params.vclobbers16 / vclobbers32 (xmm0-15, xmm16-31) for the templates.
function M.clobbers(params, gprs)
  local lo, hi = {}, {}
  for i = 0, 15 do lo[#lo + 1] = "xmm" .. i end
  for i = 16, 31 do hi[#hi + 1] = "xmm" .. i end
  params.gpr_clobbers = quoted(gprs)
  params.vclobbers16 = quoted(lo)
  params.vclobbers32 = quoted(hi)
end

local ARGS = "const float *in, float *out, const float *packed, const float *zero_row, float *scratch"

-- The source of knobs k. Non-temporal stores need an aligned output, so
-- with nt=1 the source holds the kernel twice, <symbol>_nt with them and
-- <symbol>_st without, and <symbol> picks one by the output's address.
-- `forward(symbol)` returns further C the family needs at <symbol> (e.g.
-- its packer, taken from the _st copy).
function M.render(render_one, op, isa, k, symbol, forward)
  if k.nt ~= 1 then return render_one(op, isa, k, symbol) end
  local plain = {}
  for n, v in pairs(k) do plain[n] = v end
  plain.nt = 0
  return table.concat({
    render_one(op, isa, k, symbol .. "_nt"),
    render_one(op, isa, plain, symbol .. "_st"),
    "/* nt=1: streaming stores when the output is 64-byte aligned */",
    forward and forward(symbol) or "",
    string.format("void %s(%s)\n{\n  if (((unsigned long)out & 63) == 0)\n"
      .. "    %s_nt(in, out, packed, zero_row, scratch);\n  else\n"
      .. "    %s_st(in, out, packed, zero_row, scratch);\n}\n", symbol, ARGS, symbol, symbol),
  }, "\n")
end

return M

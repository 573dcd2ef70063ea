-- pointwise.lua — the pointwise (1x1) kernel family: a GEMM of the pixels'
-- input channels with packed weight panels. Derives the blocking from the
-- shape and knobs, and renders the template for an ISA.
local T = require("template")
local K = require("knobs")
local CA = require("c_activation")
local NT = require("x86_nt_choice")
local ABI = require("kernel_abi")
local I = require("isa")
local space = require("pointwise_knobs")

local M = { space = space }

-- The blocking of op for isa and knobs k:
--   M, K, N       pixels, input channels, output channels
--   panels        weight panels: { count, first_col, cols, width, mr }
--   bias_floats   floats before the first panel in the packed buffer
--   ntot          packed columns of all panels
-- The packed weights follow the order the kernel reads them: K block after
-- K block, and within one K block of len channels panel after panel, each
-- [len][width]; so one call streams them from memory in one sequence.
--   packed_floats total floats of the packed buffer
--   row_groups    { count, first, rows, block }: M blocks of equal size, the
--                 first's index `block`
--   k_groups      { count, first, len, init, final }: K blocks of equal role
--   split         the work items of one image (pointwise_knobs.items)
-- M counts the pixels of one image: a kernel is generated for n = 1.
function M.derive(op, isa, k)
  local g = { M = op.h * op.w, K = op.ci, N = op.co }
  local lanes = I.get(isa).lanes
  local nr = k.nr
  local full = math.floor(g.N / nr)
  local tail = g.N - full * nr
  g.nr = nr
  g.full_cols = full * nr
  g.panels = {}
  -- the bias row padded to whole vectors of the widest ISA
  local P = I.WIDEST_LANES
  local packed = math.ceil(g.N / P) * P
  if isa ~= "scalar" then packed = math.ceil((full * nr + math.ceil(tail / lanes) * lanes) / P) * P end
  g.bias_floats = packed
  -- packed columns of all panels (the tail panel padded to whole vectors)
  g.ntot = isa == "scalar" and g.N or full * nr + (tail > 0 and math.ceil(tail / lanes) * lanes or 0)
  if isa ~= "scalar" then
    local X86 = require("x86_pw")
    if full > 0 then
      g.panels[#g.panels + 1] = { index = 0, count = full, first_col = 0, cols = nr, width = nr, mr = k.mr }
    end
    if tail > 0 then
      local width = math.ceil(tail / lanes) * lanes
      local nvec = #X86.panel_vectors(isa, tail)
      g.panels[#g.panels + 1] = { index = full, count = 1, first_col = full * nr, cols = tail, width = width,
                                  mr = X86.tile_rows(isa, k.mr, nvec) }
    end
  end
  g.packed_floats = packed + g.K * g.ntot

  g.split = space.items(op, isa, k)
  local mc = g.split.mc
  g.mc = mc
  g.row_groups = {}
  local nfull = math.floor(g.M / mc)
  if nfull > 0 then g.row_groups[#g.row_groups + 1] = { count = nfull, first = 0, rows = mc, block = 0 } end
  if g.M - nfull * mc > 0 then
    g.row_groups[#g.row_groups + 1] = { count = 1, first = nfull * mc, rows = g.M - nfull * mc, block = nfull }
  end

  local kc = k.kc == 0 and g.K or k.kc
  g.kc = kc
  local nkb = math.ceil(g.K / kc)
  local first_init = op.bias == 1 and "bias" or "zero"
  if nkb == 1 then
    g.k_groups = { { count = 1, first = 0, len = g.K, init = first_init, final = true } }
  else
    g.k_groups = { { count = 1, first = 0, len = kc, init = first_init, final = false } }
    if nkb > 2 then
      g.k_groups[#g.k_groups + 1] = { count = nkb - 2, first = kc, len = kc, init = "load", final = false }
    end
    g.k_groups[#g.k_groups + 1] = { count = 1, first = (nkb - 1) * kc, len = g.K - (nkb - 1) * kc,
                                    init = "load", final = true }
  end
  return g
end

-- names: see x86_nt_choice.render.
local function render_one(op, isa, k, names)
  local g = M.derive(op, isa, k)
  local params = {
    op = op, g = g, isa = isa, k = k, symbol = names.kernel, linkage = names.linkage, extras = names.extras,
    abi = ABI, shape = op.line, knobs = K.format(space, k),
    act_c = CA.statements(op, "o[c]", "        ", names.kernel .. "_act"),
    act_defs = CA.definitions(op, names.kernel .. "_act"),
  }
  if isa == "scalar" then return T.render("pointwise_c.c.in", params) end

  local X86 = require("x86_pw")
  -- blocks[row group][k group][panel] = .byte text
  params.blocks = {}
  local lanes = I.get(isa).lanes
  local mask_lanes = 0
  for ri, rg in ipairs(g.row_groups) do
    params.blocks[ri] = {}
    for ki, kg in ipairs(g.k_groups) do
      params.blocks[ri][ki] = {}
      for pi, pg in ipairs(g.panels) do
        local B = {
          isa = isa, act = op.act, lda = g.K, ldc = g.N, width = pg.width, cols = pg.cols,
          rows = rg.rows, mr = pg.mr, ksteps = kg.len, ku = math.min(k.ku, kg.len),
          init = kg.init, final = kg.final, pf = k.pf, mask_lanes = pg.cols % lanes,
          nt = k.nt == 1,
        }
        if k.pf >= 2 and (pi < #g.panels or pg.count > 1) then B.pf_next = kg.len * pg.width * 4 end
        if pg.cols % lanes ~= 0 then mask_lanes = pg.cols % lanes end
        params.blocks[ri][ki][pi] = X86.block(B):to_c_bytes("")
      end
    end
  end
  params.mask_lanes = I.get(isa).mask == "vector" and mask_lanes or 0
  return T.render("pointwise_x86.c.in", params)
end

-- Returns the source for a valid op/isa/knobs (knobs already complete).
function M.render(op, isa, k, symbol)
  return NT.render(render_one, op, isa, k, symbol)
end

return M

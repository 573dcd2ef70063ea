-- depthwise.lua — the depthwise kernel family: picks the template for an
-- ISA, derives its parameters from the shape and knobs, renders the source.
local T = require("template")
local G = require("dw_geometry")
local K = require("knobs")
local CA = require("c_activation")
local NT = require("x86_nt_choice")
local ABI = require("kernel_abi")
local I = require("isa")
local space = require("depthwise_knobs")

local M = { space = space }

-- names: see x86_nt_choice.render.
local function render_one(op, isa, k, names)
  local g = G.derive(op)
  local params = {
    op = op, g = g, isa = isa, k = k, symbol = names.kernel, linkage = names.linkage, extras = names.extras,
    abi = ABI,
    shape = op.line, knobs = K.format(space, k),
    act_c = CA.statements(op, "acc", "            ", names.kernel .. "_act"),
    act_defs = CA.definitions(op, names.kernel .. "_act"),
    split = space.items(op, isa, k),
  }
  if isa == "scalar" then
    return T.render("depthwise_c.c.in", params)
  end
  local X86 = require("x86_dw")
  local P = { op = op, g = g, k = k, isa = isa }
  local L = X86.layout(P)
  -- The channel tiles of a row, in order: kinds of { index = the first
  -- tile's (in the split's count), count, first = its first channel, floats
  -- from one tile to the next, asm }.
  local tiles = {}
  if k.loop == 0 then
    params.row_asm = X86.row_block(P):to_c_bytes("")
  else
    -- one block for the full tiles, one for the rest
    if L.tiles > 0 then
      tiles[#tiles + 1] = { index = 0, count = L.tiles, first = 0, floats = k.ct * L.lanes,
                            asm = X86.row_block(P, { nv = k.ct, partial = false }):to_c_bytes("") }
    end
    if L.rest_vectors > 0 then
      tiles[#tiles + 1] = { index = L.tiles, count = 1, first = L.tiles * k.ct * L.lanes, floats = 0,
                            asm = X86.row_block(P, { nv = L.rest_vectors, partial = L.masked_tail }):to_c_bytes("") }
    end
  end
  params.tile_blocks = tiles
  if L.lane_tail > 0 then
    -- few lanes, weights from memory: the accumulators must leave room for
    -- the temporaries
    local regs = I.sse1.registers - 4
    local kt = { ct = L.lane_tail, wt = math.min(k.wt, math.floor(regs / L.lane_tail)), wreg = 0,
                 order = k.kloop == 1 and 2 or 0, pf = 0, loop = k.loop, kloop = k.kloop }
    local PT = { op = op, g = g, k = kt, isa = isa }
    params.tail_asm = X86.row_block(PT, { nv = L.lane_tail, partial = false, vec = "sse1" }):to_c_bytes("")
    -- with loop=1 a tile of its own (the last), with loop=0 part of the one
    params.tail_index = k.loop == 1 and L.tiles + (L.rest_vectors > 0 and 1 or 0) or 0
  end
  params.covered = L.covered
  params.mask_lanes = L.vector_mask_lanes
  return T.render("depthwise_x86.c.in", params)
end

-- Returns the source for a valid op/isa/knobs (knobs already complete).
function M.render(op, isa, k, symbol)
  return NT.render(render_one, op, isa, k, symbol)
end

return M

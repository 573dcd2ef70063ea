-- depthwise_knobs.lua — the tuning space of the depthwise templates
-- (depthwise_x86.c.in, depthwise_c.c.in), each knob with its validity rule,
-- and the heuristic default that makes an untuned plan good.
--
--   ct     channel tile: vectors of channels computed per pass over a row
--   wt     output columns per register tile in the interior loop
--   wreg   1: the tile's kh*kw*ct weight vectors stay in registers for the
--          whole row; 0: every FMA reads its weight from memory
--   order  0: tap-outer (all accumulators advance one tap at a time, the
--          chains interleave); 1: column-outer (one column's taps at a time);
--          2: input-stationary (each input vector loaded once into a register
--          and multiplied into every column that reads it; needs wreg=1)
--   pf     1: prefetch the input row the next output row will need (one
--          prefetch per pixel, unrolled: rows of at most PF_MAX_WIDTH)
--   loop   0: output rows outer, channel tiles inside the machine code;
--          1: channel tiles outer, so a tile's input rows stay in L1 from one
--          output row to the next
--   nt     1: non-temporal (streaming) stores of the output when its address
--          is aligned: no read-for-ownership of output lines, which saves a
--          third of the memory traffic of a layer too big for L2; but the
--          output then leaves the caches, so the next layer reads it from
--          memory. Never the default; the tuner measures it per layer.
local G = require("dw_geometry")
local I = require("isa")
local ABI = require("kernel_abi")

local S = {}

S.knobs = {
  { name = "ct",    values = { 1, 2, 3, 4 } },
  { name = "wt",    values = { 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14 } },
  { name = "wreg",  values = { 0, 1 } },
  { name = "order", values = { 0, 1, 2 } },
  { name = "pf",    values = { 0, 1 } },
  { name = "loop",  values = { 0, 1 } },
  { name = "nt",    values = { 0, 1 } },
}

-- Vector registers a configuration needs: accumulators, weights if held,
-- temporaries (an input or activation temporary; legacy SSE has no FMA and
-- no unaligned memory operands, so it needs two; a tail masked by a vector
-- register (AVX2) needs that register).
function S.vector_registers(op, isa, k)
  local g = G.derive(op)
  local V = I.get(isa)
  local n = k.ct * k.wt
  if k.wreg == 1 then n = n + g.taps * k.ct end
  local temps = 1
  if not V.vex then temps = 2 end
  if V.mask == "vector" and g.co % V.lanes ~= 0 then temps = 2 end
  return n + temps
end

S.PF_MAX_WIDTH = 1024

-- The machine code reaches rows, weights and the strides between rows with
-- 32-bit displacements and immediates; keep clear of 2 GiB by the vectors
-- a block adds to them.
local DISP_MAX = 2 ^ 31 - 4096

-- nil when the x86 kernels can serve op on isa whatever the knobs, else
-- why not, naming the dimension.
function S.unsupported(op, isa)
  if isa == "scalar" then return nil end
  local g = G.derive(op)
  local in_row = op.w * g.ci * 4
  if (op.sh + 1) * in_row > DISP_MAX then
    return string.format("w=%.0f with c*m=%.0f channels and stride %.0f: an input row of %.0f bytes and the row a "
      .. "stride below it are beyond the 2 GiB the x86 kernels address (isa=scalar has no such limit)",
      op.w, g.ci, op.sh, in_row)
  end
  if g.ow * g.co * 4 > DISP_MAX then
    return string.format("output width ow=%.0f with c*m=%.0f channels: an output row of %.0f bytes is beyond the "
      .. "2 GiB the x86 kernels address (isa=scalar has no such limit)", g.ow, g.co, g.ow * g.co * 4)
  end
  if (g.taps + 1) * g.co_pad * 4 > DISP_MAX then
    return string.format("kh*kw=%.0f taps of c*m=%.0f channels: %.0f bytes of weights are beyond the 2 GiB the "
      .. "x86 kernels address (isa=scalar has no such limit)", g.taps, g.co, (g.taps + 1) * g.co_pad * 4)
  end
  return nil
end

function S.valid(op, isa, k)
  if isa == "scalar" then
    -- The portable template has no knobs of its own: only the default point.
    if k.ct ~= 1 or k.wt ~= 1 or k.wreg ~= 0 or k.order ~= 0 or k.pf ~= 0 or k.loop ~= 0 or k.nt ~= 0 then
      return false, "the scalar template takes only ct=1,wt=1,wreg=0,order=0,pf=0,loop=0,nt=0"
    end
    return true
  end
  local g = G.derive(op)
  local V = I.get(isa)
  local lanes = V.lanes
  local vectors = math.ceil(g.co / lanes)
  if k.ct > vectors then
    return false, string.format("ct=%d exceeds the %d vectors of %d channels", k.ct, vectors, g.co)
  end
  if k.order == 2 and (k.wreg ~= 1 or not V.vex) then
    return false, "order=2 keeps inputs in a register and needs wreg=1 and FMA (not sse)"
  end
  local row_regs = #ABI.REGS.dw.tap_rows
  if op.kh > row_regs then
    return false, string.format("kh > %d needs more row registers than x86-64 has", row_regs)
  end
  if k.nt == 1 and (not V.vex or g.co % lanes ~= 0) then
    return false, string.format("nt=1 needs avx2/avx512 and whole vectors of channels (co=%d)", g.co)
  end
  local need, have = S.vector_registers(op, isa, k), V.registers
  if need > have then
    return false, string.format("needs %d vector registers, %s has %d", need, isa, have)
  end
  if k.wt > g.ow then
    return false, string.format("wt=%d exceeds the %d output columns", k.wt, g.ow)
  end
  if k.pf == 1 and op.w > S.PF_MAX_WIDTH then
    return false, string.format("pf=1 prefetches each of the w=%.0f input pixels of a row: w <= %d", op.w,
      S.PF_MAX_WIDTH)
  end
  return true
end

-- The heuristic default for the caches `hw` (septune_gen.lua): enough
-- independent accumulators to hide the FMA latency (two FMA ports x four
-- cycles), weights in registers when they fit, each input vector loaded
-- once (order=2) when the weights are in registers, and channel tiles
-- outermost when the layer's tensors stay in L2 (hw.resident), so a tile's
-- rows stay in L1 (rows outermost streams big layers better).
function S.default(op, isa, hw)
  if isa == "scalar" then return { ct = 1, wt = 1, wreg = 0, order = 0, pf = 0, loop = 0, nt = 0 } end
  local g = G.derive(op)
  local V = I.get(isa)
  local vectors = math.ceil(g.co / V.lanes)
  local bytes = 4 * op.n * (op.h * op.w * g.ci + g.oh * g.ow * g.co)
  local loop = bytes <= hw.resident and 1 or 0
  local candidates = {
    { ct = 2, wt = 4, wreg = 1 }, { ct = 2, wt = 3, wreg = 1 },
    { ct = 1, wt = 8, wreg = 1 }, { ct = 1, wt = 6, wreg = 1 }, { ct = 1, wt = 4, wreg = 1 },
    { ct = 2, wt = 4, wreg = 0 }, { ct = 1, wt = 8, wreg = 0 },
  }
  for _, c in ipairs(candidates) do
    for wt = c.wt, 1, -1 do
      local k = { ct = math.min(c.ct, vectors), wt = wt, wreg = c.wreg, pf = 0, loop = loop, nt = 0 }
      k.order = (c.wreg == 1 and V.vex) and 2 or 0
      if S.valid(op, isa, k) then return k end
    end
  end
  return { ct = 1, wt = 1, wreg = 0, order = 0, pf = 0, loop = loop, nt = 0 }
end

return S

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
--          and multiplied into every column that reads it; needs wreg=1);
--          3: rolling (the whole row as one wavefront: kernel rows lagged so
--          that each accumulator gets one FMA per step, the live columns
--          rotating through kh*kw/sw accumulator sets; needs wreg=1, FMA,
--          kloop=0, and takes wt=1: the row is the tile)
--   pf     1: prefetch the input row the next output row will need (one
--          prefetch per pixel, unrolled: rows of at most PF_MAX_WIDTH)
--   loop   0: output rows outer, channel tiles inside the machine code;
--          1: channel tiles outer, so a tile's input rows stay in L1 from one
--          output row to the next
--   kloop  1: the kernel rows are a machine-code loop (one input row
--          pointer, the weights of one kernel row at a time: in registers
--          with wreg=1, else memory operands), each input vector loaded once
--          per kernel row and multiplied into every column that reads it;
--          any kh, kernel rows in the padding skipped. 0: every tap row has
--          its own register (kh <= 7) and wreg=1 holds the whole kernel.
--          kloop=1 takes order=2 (its only order) and pf=0.
--   nt     1: non-temporal (streaming) stores of the output when its address
--          is aligned: no read-for-ownership of output lines, which saves a
--          third of the memory traffic of a layer too big for L2; but the
--          output then leaves the caches, so the next layer reads it from
--          memory. Never the default; the tuner measures it per layer.
--
-- The work split (threads; see the end of this file): rb, cb, th.
local G = require("dw_geometry")
local I = require("isa")
local ABI = require("kernel_abi")

local S = {}

S.knobs = {
  { name = "ct",    values = { 1, 2, 3, 4 } },
  { name = "wt",    values = { 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16 } },
  { name = "wreg",  values = { 0, 1 } },
  { name = "order", values = { 0, 1, 2, 3 } },
  { name = "pf",    values = { 0, 1 } },
  { name = "loop",  values = { 0, 1 } },
  { name = "nt",    values = { 0, 1 } },
  { name = "kloop", values = { 0, 1 } },
}

-- Vector registers a configuration needs: accumulators, weights if held,
-- temporaries (an input or activation temporary; legacy SSE has no FMA and
-- no unaligned memory operands, so it needs two; a tail masked by a vector
-- register (AVX2) needs that register).
function S.vector_registers(op, isa, k)
  local g = G.derive(op)
  local V = I.get(isa)
  local n = k.ct * (k.order == 3 and require("x86_dw").rolling_slots(op) or k.wt)
  if k.wreg == 1 then n = n + (k.kloop == 1 and op.kw or g.taps) * k.ct end
  local temps = 1
  if not V.vex then temps = 2 end
  if V.mask == "vector" and g.co % V.lanes ~= 0 then temps = 2 end
  return n + temps
end

S.PF_MAX_WIDTH = 1024
S.KLOOP0_MAX_TAPS = 49

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
  if op.kh > #ABI.REGS.dw.tap_rows and op.dil_h * in_row > DISP_MAX then
    return string.format("kh=%.0f with dilation dh=%.0f over input rows of %.0f bytes: the kernel-row loop steps "
      .. "beyond the 2 GiB the x86 kernels address (isa=scalar has no such limit)", op.kh, op.dil_h, in_row)
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
    if k.ct ~= 1 or k.wt ~= 1 or k.wreg ~= 0 or k.order ~= 0 or k.pf ~= 0 or k.loop ~= 0 or k.nt ~= 0
        or k.kloop ~= 0 then
      return false, "the scalar template takes only ct=1,wt=1,wreg=0,order=0,pf=0,loop=0,nt=0,kloop=0"
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
  if k.kloop == 1 then
    if k.order ~= 2 or k.pf ~= 0 then
      return false, "kloop=1 has one order and no prefetch: it takes order=2,pf=0"
    end
    if op.dil_h * op.w * g.ci * 4 > DISP_MAX then
      return false, "kloop=1 steps from one kernel row to the next by an immediate: dh*w*c*m*4 < 2 GiB"
    end
  else
    if k.order == 3 and k.wt ~= 1 then
      return false, "order=3 computes the whole row as one tile: it takes wt=1"
    end
    if k.order >= 2 and (k.wreg ~= 1 or not V.vex) then
      return false, "order=2 and 3 keep inputs in a register and need wreg=1 and FMA (not sse)"
    end
    local row_regs = #ABI.REGS.dw.tap_rows
    if op.kh > row_regs then
      return false, string.format("kh > %d needs more row registers than x86-64 has (kloop=1 takes any kh)",
        row_regs)
    end
    -- every border column unrolls all its taps: megabytes of code for a
    -- 7x31 kernel, which kloop=1 serves with one kernel row of code
    if g.taps > S.KLOOP0_MAX_TAPS then
      return false, string.format("kloop=0 takes kh*kw <= %d (kloop=1 takes any kernel)", S.KLOOP0_MAX_TAPS)
    end
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
-- cycles); the whole kernel's weights in registers with each input vector
-- loaded once (order=2) when they fit, else the kernel-row loop (kloop=1),
-- which holds one kernel row's weights (or reads them from memory) and
-- serves any kh; channel tiles outermost when the layer's tensors stay in
-- L2 (hw.resident), so a tile's rows stay in L1 (rows outermost streams big
-- layers better).
local SCALAR_DEFAULT = { ct = 1, wt = 1, wreg = 0, order = 0, pf = 0, loop = 0, nt = 0, kloop = 0 }

function S.default(op, isa, hw)
  if isa == "scalar" then return SCALAR_DEFAULT end
  local g = G.derive(op)
  local V = I.get(isa)
  local vectors = math.ceil(g.co / V.lanes)
  local bytes = 4 * op.n * (op.h * op.w * g.ci + g.oh * g.ow * g.co)
  local loop = bytes <= hw.resident and 1 or 0
  -- Twelve accumulators or more where they fit: each input vector feeds up
  -- to kw of them one after the other, so with eight (ct=2,wt=4) an FMA
  -- often waits for the one before it (llvm-mca's Zen 4 model, ymm for
  -- Zen 5's zmm: 3x3 stride 1 at 14 columns, act=none, 1.76 FMA/cycle with
  -- wt=4, 1.96 with wt=6, of 2). Stride 2 loads two input columns per
  -- output column: five columns leave the weights a register more; but
  -- below 28 output columns four did better (MobileNetV2 b6, 28x28x192 s2:
  -- wt=5 ran 0.79x of wt=4 in bench_layers, and tune picks wt=4).
  local wide = op.sw == 1 and 6 or (g.ow >= 28 and 5 or 4)
  local big = { { ct = 2, wt = wide, wreg = 1, kloop = 0, least = math.min(wide, 5) },
                { ct = 1, wt = 12, wreg = 1, kloop = 0, least = 10 } }
  local small = { { ct = 2, wt = 4, wreg = 1, kloop = 0 }, { ct = 2, wt = 3, wreg = 1, kloop = 0 },
                  { ct = 1, wt = 8, wreg = 1, kloop = 0 }, { ct = 1, wt = 6, wreg = 1, kloop = 0 },
                  { ct = 1, wt = 4, wreg = 1, kloop = 0 } }
  -- the kernel-row loop: a tile narrower than `least` columns loads too
  -- many weights per FMA; try the next candidate
  local rows = { { ct = 4, wt = 6, wreg = 1, kloop = 1, least = 4 }, -- kw <= 2: wide tiles of channels
                 { ct = 2, wt = 8, wreg = 1, kloop = 1, least = 6 }, { ct = 1, wt = 16, wreg = 1, kloop = 1, least = 8 } }
  -- weights from memory (kernel rows too wide for registers: 13x13 on
  -- narrow rows, 27x27 to 31x31): four vectors of channels over seven
  -- columns beat two over eight on avx512 (bench_knobs, 7x7x1024 k13 1.3x,
  -- 14x14x512 k27 1.5x, 28x28x256 k29 1.4x); on avx2 the 29 registers do
  -- not fit, and narrower ct=4 tiles were not measured: least=7. At 56
  -- columns (56x56x128 k31) runs disagreed both ways: rows of at most 28.
  local from_memory = { { ct = 4, wt = 7, wreg = 0, kloop = 1, least = 7, widest = 28 },
                        { ct = 2, wt = 8, wreg = 0, kloop = 1 },
                        { ct = 1, wt = 12, wreg = 0, kloop = 1 } }
  -- Up to 3x3 a few accumulators with the whole kernel in registers do as
  -- well as the kernel-row loop; from 5x5 on the whole kernel leaves room
  -- for six (one chain of 25 FMAs each): the loop's twelve to sixteen do
  -- better (5x5 stride 1, 14 and 28 columns, relu6: 1.35 -> 1.7-1.8
  -- FMA/cycle in the same model; avx2: 0.94 -> 1.6-1.8).
  local order = g.taps <= 9 and { big, small, rows, from_memory } or { big, rows, small, from_memory }
  local candidates = {}
  for _, list in ipairs(order) do
    for _, c in ipairs(list) do candidates[#candidates + 1] = c end
  end
  local wt_values = {}
  for _, v in ipairs(S.knobs[2].values) do wt_values[v] = true end
  for _, c in ipairs(candidates) do
    -- a tile of fewer vectors is another candidate's
    local fits = c.ct <= vectors and g.ow <= (c.widest or math.huge)
    for wt = math.min(c.wt, g.ow), fits and (c.least or 1) or math.huge, -1 do
      local k = { ct = c.ct, wt = wt, wreg = c.wreg, pf = 0, loop = loop, nt = 0, kloop = c.kloop }
      k.order = (c.kloop == 1 or (c.wreg == 1 and V.vex)) and 2 or 0
      if wt_values[wt] and S.valid(op, isa, k) then return k end
    end
  end
  -- one accumulator, weights from memory: valid for every shape the x86
  -- kernels address
  return { ct = 1, wt = 1, wreg = 0, order = 2, pf = 0, loop = loop, nt = 0, kloop = 1 }
end

-- ---- the work split -----------------------------------------------------
-- A kernel's work per image is cut into items, each run by one thread:
-- a band of output rows times a block of channel tiles. Every output element
-- is computed inside one item in the same order whatever the split, so the
-- output does not depend on it (nor on the thread count).
--   rb   output rows per band; 0: all the rows of an image in one band
--   cb   channel tiles (of ct vectors; the last tile and SSE's lane tail
--        count as one each) per block; 0: all of them. Needs loop=1 (with
--        loop=0 the machine code walks every tile of a row itself)
--   th   the most threads worth waking: a layer too small to pay for more
--        runs on fewer (the runtime uses min(th, its threads, items))
local Host = require("septune_host")
local ROWS_MAX = 2 ^ 31 - 1
S.knobs[#S.knobs + 1] = { name = "rb", range = { 0, ROWS_MAX }, split = true }
S.knobs[#S.knobs + 1] = { name = "cb", range = { 0, ROWS_MAX }, split = true }
S.knobs[#S.knobs + 1] = { name = "th", range = { 1, Host.threads_max }, split = true }

-- The channel tiles a block of cb counts in: the full tiles of ct vectors,
-- the last (partial) tile and SSE's lane tail (x86_dw.layout). loop=0 and
-- the scalar template have one (the whole row).
function S.channel_tiles(op, isa, k)
  if isa == "scalar" or k.loop == 0 then return 1 end
  local L = require("x86_dw").layout({ op = op, g = G.derive(op), k = k, isa = isa })
  return L.tiles + (L.rest_vectors > 0 and 1 or 0) + (L.lane_tail > 0 and 1 or 0)
end

-- The items of one image: { bands, rows (per band), blocks, tiles (per
-- block), ntiles, work = bands * blocks }.
function S.items(op, isa, k)
  local g = G.derive(op)
  local ntiles = S.channel_tiles(op, isa, k)
  local rows = k.rb == 0 and g.oh or k.rb
  local tiles = k.cb == 0 and ntiles or k.cb
  local s = { rows = rows, bands = math.ceil(g.oh / rows), tiles = tiles, ntiles = ntiles,
              blocks = math.ceil(ntiles / tiles) }
  s.work = s.bands * s.blocks
  return s
end

function S.valid_split(op, isa, k)
  local g = G.derive(op)
  if k.rb ~= 0 and k.rb >= g.oh then
    return false, string.format("rb=%d must be 0 or split the %d output rows", k.rb, g.oh)
  end
  if k.cb ~= 0 then
    if isa == "scalar" or k.loop == 0 then return false, "cb needs loop=1 (and an x86 ISA): use cb=0" end
    local ntiles = S.channel_tiles(op, isa, k)
    if k.cb >= ntiles then
      return false, string.format("cb=%d must be 0 or split the %d channel tiles", k.cb, ntiles)
    end
  end
  if S.items(op, isa, k).work > ROWS_MAX then return false, "more work items than a 32-bit count holds" end
  return true
end

-- Splits worth trying for `threads` threads: each a table { rb, cb }. Bands
-- and blocks in counts that share the work out evenly (1 .. 4 per thread).
function S.split_candidates(op, isa, k, threads)
  local g = G.derive(op)
  local ntiles = S.channel_tiles(op, isa, k)
  local list, seen = {}, {}
  local function add(rb, cb)
    if rb >= g.oh then rb = 0 end
    if cb >= ntiles then cb = 0 end
    local key = rb .. "," .. cb
    if not seen[key] then seen[key] = true; list[#list + 1] = { rb = rb, cb = cb } end
  end
  local most = 4 * threads
  for bands = 1, math.min(g.oh, most) do
    for blocks = 1, math.min(ntiles, most) do
      if bands * blocks <= most then add(math.ceil(g.oh / bands), math.ceil(ntiles / blocks)) end
    end
  end
  return list
end

-- The heuristic split for `ctx.threads` threads. One thread: one item per
-- image (today's loops). More: the threads the layer's work pays for
-- (Host.threads_worth), and the split whose busiest thread has the least to
-- do; a band re-reads the input rows its neighbour reads too, so channel
-- blocks are preferred, and fewer items among equals.
function S.default_split(op, isa, k, ctx)
  local threads = ctx.threads or 1
  local g = G.derive(op)
  local flops = 2 * g.oh * g.ow * g.co * g.taps
  local th = threads > 1 and Host.threads_worth(flops, threads) or 1
  if th <= 1 then return { rb = 0, cb = 0, th = 1 } end
  local K = require("knobs")
  local ntiles = S.channel_tiles(op, isa, k)
  local function with(c)
    local full = {}
    for n, v in pairs(k) do full[n] = v end
    full.rb, full.cb = c.rb, c.cb
    return full
  end
  local best = K.cheapest_split(S, op, isa, k, S.split_candidates(op, isa, k, th), function(c)
    local s = S.items(op, isa, with(c))
    local per = math.ceil(s.work / math.min(th, s.work))
    local share = per * (s.rows / g.oh) * (s.tiles / ntiles)
    -- a band reads kh - sh input rows more than its share
    local halo = s.bands > 1 and math.max(0, op.kh - op.sh) / (s.rows * op.sh) or 0
    return share * (1 + 0.5 * halo) + 1e-3 * s.work
  end) or { rb = 0, cb = 0 }
  local work = S.items(op, isa, with(best)).work
  return { rb = best.rb, cb = best.cb, th = math.max(1, math.min(th, work)) }
end

return S

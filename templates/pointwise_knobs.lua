-- pointwise_knobs.lua — the tuning space of the pointwise templates
-- (pointwise_x86.c.in, pointwise_c.c.in), each knob with its validity rule,
-- and the heuristic default that makes an untuned plan good.
--
-- The kernel is a GEMM: out[M pixels][N=co] = in[M][K=ci] x W[K][N].
--   mr   pixels (rows of the output) per register tile
--   nr   output channels per register tile, in floats: nr/lanes vectors,
--        and the width of one packed weight panel
--   kc   K block (input channels summed per pass; 0 = all of K). Smaller
--        blocks keep a panel's kc x nr weights in L1 across the row tiles
--        but reload and re-store the partial sums between blocks
--   pf   bit 0: prefetch the output tile's lines before its K loop;
--        bit 1: prefetch the weights two panels ahead into L2 during the
--        K loop (for weights read from memory: too big for L2, or cold)
--   ku   K-loop unroll: steps of K per iteration of the machine-code loop
--   nt   1: non-temporal stores of the output when its address is aligned
--        (no read-for-ownership: less memory traffic for a layer too big
--        for L2, but the output leaves the caches for the next layer).
--        Needs whole vectors of co and one K block. Never the default.
--
-- The work split (threads): an item is an M block of one image times a
-- group of panels, with the whole K loop inside, so each output element is
-- summed by one thread in one order whatever the split (the output does not
-- depend on it, nor on the thread count):
--   mc   M block in pixels (0 = all the pixels of an image; rounded down to
--        a multiple of mr): the rows one machine-code call sweeps for one
--        panel, kept in L1/L2 while the panels of the item go by; each
--        thread's block sized to its own L2
--   np   weight panels per item (0 = all)
--   th   the most threads worth waking: a layer too small to pay for more
--        runs on fewer (the runtime uses min(th, its threads, items))
local I = require("isa")
local Host = require("septune_host")

local S = {}

S.knobs = {
  { name = "mr", values = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 20, 24, 28 } },
  { name = "nr", values = { 4, 8, 12, 16, 24, 32, 48, 64, 80, 96 } },
  { name = "kc", values = { 0, 32, 64, 128, 192, 256, 384, 512 } },
  { name = "pf", values = { 0, 1, 2, 3 } },
  { name = "ku", values = { 1, 2, 4, 8 } },
  { name = "nt", values = { 0, 1 } },
  { name = "mc", range = { 0, 2 ^ 31 - 1 }, split = true },
  { name = "np", range = { 0, 2 ^ 31 - 1 }, split = true },
  { name = "th", range = { 1, Host.threads_max }, split = true },
}

-- Vector registers a tile of `rows` x `vectors` needs: one accumulator per
-- row and vector, plus
--   VEX/EVEX:   the tile's weight vectors and one broadcast input (with a
--               single vector AVX-512 folds the broadcast into the FMA,
--               but the activation still wants a temporary);
--   legacy SSE: no FMA, weights read from memory: a broadcast input and a
--               product temporary.
function S.vector_registers(isa, rows, vectors)
  if not I.get(isa).vex then return rows * vectors + 2 end
  return rows * vectors + vectors + 1
end

-- The most rows a tile of `vectors` vectors can have on isa (0 if none fit).
function S.max_rows(isa, vectors)
  local have = I.get(isa).registers
  local rows = 0
  while S.vector_registers(isa, rows + 1, vectors) <= have do rows = rows + 1 end
  return rows
end

local SCALAR_DEFAULT = { mr = 1, nr = 4, kc = 0, pf = 0, ku = 1, nt = 0 }

-- The pixels of one image: a kernel is generated for one (n = 1).
local function pixels(op) return op.h * op.w end

-- The largest declared value of knob `name`.
local function largest(name)
  for _, d in ipairs(S.knobs) do
    if d.name == name then return math.max(unpack(d.values)) end
  end
end

-- The machine code reaches a row tile, the panels two ahead (pf bit 1) and
-- the strides between them with 32-bit displacements and immediates, and
-- counts row tiles in a 32-bit register.
local DISP_MAX = 2 ^ 31 - 4096
local COUNT_MAX = 2 ^ 31 - 1

-- nil when the x86 kernels can serve op on isa whatever the knobs, else
-- why not, naming the dimension.
function S.unsupported(op, isa)
  if isa == "scalar" then return nil end
  local rows, width = largest("mr"), largest("nr")
  if rows * math.max(op.ci, op.co) * 4 > DISP_MAX then
    return string.format("ci=%.0f, co=%.0f: a tile of %d rows spans more than the 2 GiB the x86 kernels address "
      .. "(isa=scalar has no such limit)", op.ci, op.co, rows)
  end
  if 3 * op.ci * width * 4 > DISP_MAX then
    return string.format("ci=%.0f: three weight panels of %d columns span more than the 2 GiB the x86 kernels "
      .. "address (isa=scalar has no such limit)", op.ci, width)
  end
  return nil
end

-- Few pixels use each weight few times, so the kernel reads its weights
-- faster than the hardware prefetchers fetch them from memory, where an
-- inference's weights are (the network's do not fit L2). Prefetching the
-- panels ahead (pf bit 1) took MobileNetV2's 7x7 layers 1.12-1.33x faster
-- with cold caches (320->1280: 296 to 222 us, bench_knobs --cold 1024) and
-- moved them within 2.3% hot; on 14x14 and larger images the gain was
-- within 1.5%, and 28x28 192->32 lost 5%. True when op is such a layer.
local function streams_weights(op, hw)
  return pixels(op) <= 64 and 4 * op.ci * op.co > hw.panel
end

-- The configurations the tuner searches, among the valid ones. A tune times
-- its candidates with hot caches, where the weight prefetch of a layer that
-- streams its weights neither wins nor loses, so it would keep it or drop it
-- by chance; it keeps it, for the inference's cold caches.
function S.searched(op, isa, k)
  if isa == "scalar" or not streams_weights(op, Host.hw) then return true end
  return math.floor(k.pf / 2) % 2 == 1
end

function S.valid(op, isa, k)
  if isa == "scalar" then
    for name, v in pairs(SCALAR_DEFAULT) do
      if k[name] ~= v then return false, "the scalar template takes only mr=1,nr=4,kc=0,pf=0,ku=1,nt=0" end
    end
    return true
  end
  local V = I.get(isa)
  local lanes = V.lanes
  if k.nr % lanes ~= 0 then return false, string.format("nr=%d is not a multiple of %d lanes", k.nr, lanes) end
  local vectors = k.nr / lanes
  if vectors > 6 then return false, string.format("nr=%d is more than 6 vectors", k.nr) end
  -- a panel much wider than the layer only pads: allow one vector of slack
  if k.nr - lanes >= op.co then
    return false, string.format("nr=%d is wider than co=%d needs", k.nr, op.co)
  end
  local need, have = S.vector_registers(isa, k.mr, vectors), V.registers
  if need > have then
    return false, string.format("mr=%d x nr=%d needs %d vector registers, %s has %d", k.mr, k.nr, need, isa, have)
  end
  local M = pixels(op)
  if k.mr > M then return false, string.format("mr=%d exceeds the %d pixels", k.mr, M) end
  if k.kc ~= 0 and k.kc >= op.ci then
    return false, string.format("kc=%d does not split ci=%d (use kc=0)", k.kc, op.ci)
  end
  if k.nt == 1 and (not V.vex or op.co % lanes ~= 0 or k.kc ~= 0) then
    return false, string.format("nt=1 needs avx2/avx512, whole vectors of co=%d and kc=0", op.co)
  end
  local kc = k.kc == 0 and op.ci or k.kc
  if k.ku > kc then return false, string.format("ku=%d exceeds the K block of %d", k.ku, kc) end
  return true
end

-- The heuristic default for the caches `hw` (septune_gen.lua). The FMA
-- ports want >= 8 independent accumulators and as few loads per FMA as
-- possible, so the tile is as large as the register file allows; among
-- those, the best by the runtime's tile score (runtime/internal/cache_budget.h:
-- least waste on the channel and pixel remainders, few loads per FMA). The
-- weights of a K block stay in L1 (the panel budget) and a row block of the
-- input in L2 (the M-block budget).
function S.default(op, isa, hw)
  if isa == "scalar" then
    local k = {}
    for n, v in pairs(SCALAR_DEFAULT) do k[n] = v end
    return k
  end
  local lanes = I.get(isa).lanes
  local M = pixels(op)
  local best, best_score
  local mrs = S.knobs[1].values
  -- When input and output stream from beyond L2, tiles of more than 8 rows
  -- measured slower (112x112 32->32: 7 rows 1.2x faster than 14), though
  -- they win when the layer is cache resident.
  -- Streaming layers also want each output row written in one pass: one
  -- panel as wide as co when it fits the registers (112x112 16->96: one
  -- 96-wide panel of 4-row tiles 1.3x faster than two 48-wide ones).
  local streaming = 4 * M * (op.ci + op.co) > hw.resident
  for vectors = 1, 6 do
    local nr = vectors * lanes
    local single = nr >= op.co
    local rows = math.min(S.max_rows(isa, vectors), M, streaming and 8 or 28)
    if vectors > 4 and not (streaming and single) then rows = 0 end
    local declared = false
    for _, v in ipairs(S.knobs[2].values) do declared = declared or v == nr end
    if not declared then rows = 0 end
    -- the largest row counts that fit; the one with the least pixel
    -- remainder wins (ties: more rows)
    for i = #mrs, 1, -1 do
      local mr = mrs[i]
      if mr <= rows and mr > rows - 4 and nr - lanes < op.co then
        local score = Host.pw_tile_score(M, op.co, mr, vectors, nr, streaming)
        if not best_score or score > best_score + 1e-9 then best, best_score = { mr = mr, nr = nr }, score end
      end
    end
  end
  if not best then best = { mr = 1, nr = lanes } end
  local k = { mr = best.mr, nr = best.nr, kc = 0, pf = 0, ku = 4, nt = 0 }
  -- K block: the panel's kc x nr floats within the panel budget of L1
  local kc_max = math.floor(hw.panel / (4 * k.nr))
  if op.ci > kc_max then
    for _, v in ipairs({ 512, 384, 256, 192, 128, 64, 32 }) do
      if v <= kc_max and v < op.ci then k.kc = v; break end
    end
  end
  if streams_weights(op, hw) then k.pf = 2 end
  local kc = k.kc == 0 and op.ci or k.kc
  while k.ku > kc do k.ku = k.ku / 2 end
  local ok = S.valid(op, isa, k)
  if not ok then k.kc = 0; k.ku = 1 end
  return k
end

-- ---- the work split -------------------------------------------------------

-- The weight panels of a layer with nr-wide panels: the full ones and a
-- narrower last one (scalar: none, the weights are one block).
function S.panels(op, isa, k)
  if isa == "scalar" then return 1 end
  return math.ceil(op.co / k.nr)
end

-- The items of one image: { mc (pixels per M block, the last may be
-- fewer), mblocks, np (panels per group), groups, panels, work }.
function S.items(op, isa, k)
  local M = pixels(op)
  local mc = k.mc == 0 and M or math.floor(k.mc / k.mr) * k.mr
  local panels = S.panels(op, isa, k)
  local np = k.np == 0 and panels or k.np
  local s = { mc = mc, mblocks = math.ceil(M / mc), np = np, groups = math.ceil(panels / np), panels = panels }
  s.work = s.mblocks * s.groups
  return s
end

function S.valid_split(op, isa, k)
  local M = pixels(op)
  if k.mc ~= 0 and (k.mc < 2 * k.mr or k.mc >= M) then
    return false, string.format("mc=%d must be 0 or hold >= 2 row tiles of mr=%d and split the %.0f pixels",
      k.mc, k.mr, M)
  end
  if isa ~= "scalar" and k.mc == 0 and M / k.mr > COUNT_MAX then
    return false, string.format("mc=0 sweeps the %.0f pixels in one block of more row tiles than a 32-bit count "
      .. "holds: give mc", M)
  end
  local panels = S.panels(op, isa, k)
  if k.np ~= 0 and k.np >= panels then
    return false, string.format("np=%d must be 0 or split the %d weight panels of nr=%d", k.np, panels, k.nr)
  end
  if S.items(op, isa, k).work > COUNT_MAX then return false, "more work items than a 32-bit count holds" end
  return true
end

-- The M block of one thread's work: the input rows of a block (mc x kc
-- floats) within the M-block budget of its own L2 (0: all the pixels).
local function cache_mc(op, isa, k, hw)
  local M = pixels(op)
  if isa == "scalar" then return 0 end
  local kc = k.kc == 0 and op.ci or k.kc
  local mc_max = math.floor(hw.m_block / (4 * kc))
  local mc = 0
  if M > mc_max and op.co > k.nr then
    for _, v in ipairs({ 1536, 768, 384, 192, 96, 48 }) do
      if v <= mc_max and v >= 2 * k.mr and v < M then mc = v; break end
    end
  end
  -- every block's row tiles counted in 32 bits
  if mc == 0 and M / k.mr > COUNT_MAX then mc = 1536 end
  return mc
end

-- Splits worth trying for `threads` threads: each a table { mc, np }, M
-- blocks no larger than `most_mc` (0: any) and both counts sharing the work
-- out evenly (1 .. 4 items per thread); without most_mc the cache-sized M
-- blocks too.
function S.split_candidates(op, isa, k, threads, most_mc)
  local M = pixels(op)
  local panels = S.panels(op, isa, k)
  local mr = isa == "scalar" and 1 or k.mr
  local list, seen = {}, {}
  local mcs = { most_mc or 0 }
  for j = 1, math.min(4 * threads, math.floor(M / mr)) do
    local mc = math.ceil(math.ceil(M / j) / mr) * mr
    if mc >= M then mc = 0 end
    if (most_mc or 0) == 0 or (mc ~= 0 and mc <= most_mc) then mcs[#mcs + 1] = mc end
  end
  if not most_mc then
    for _, v in ipairs({ 48, 96, 192, 384, 768, 1536 }) do mcs[#mcs + 1] = math.floor(v / mr) * mr end
  end
  for _, mc in ipairs(mcs) do
    for j = 1, math.min(panels, 4 * threads) do
      local np = math.ceil(panels / j)
      if np >= panels then np = 0 end
      local key = mc .. "," .. np
      if not seen[key] then seen[key] = true; list[#list + 1] = { mc = mc, np = np } end
    end
  end
  return list
end

-- The heuristic split for `ctx.threads` threads. One thread: the M block of
-- the cache budget and every panel in one item. More: the threads the
-- layer's work pays for (Host.threads_worth), M blocks no larger than the
-- cache's, and the split whose busiest thread has the least to do, counting
-- what each item reads and writes (input rows, the group's panels, output)
-- beside its multiply-adds; fewer items among equals.
function S.default_split(op, isa, k, ctx)
  local threads = ctx.threads or 1
  local hw = ctx.hw or Host.hw
  local mc = cache_mc(op, isa, k, hw)
  local M = pixels(op)
  local th = threads > 1 and Host.threads_worth(2 * M * op.ci * op.co, threads) or 1
  if th <= 1 then return { mc = mc, np = 0, th = 1 } end
  local K = require("knobs")
  local FLOAT_COST = 8 -- multiply-adds' flops one float moved costs, roughly
  local nr = isa == "scalar" and op.co or k.nr
  local best = K.cheapest_split(S, op, isa, k, S.split_candidates(op, isa, k, th, mc), function(c)
    local full = {}
    for n, v in pairs(k) do full[n] = v end
    full.mc, full.np = c.mc, c.np
    local s = S.items(op, isa, full)
    local per = math.ceil(s.work / math.min(th, s.work))
    local cols = math.min(op.co, s.np * nr)
    local item = 2 * s.mc * op.ci * cols + FLOAT_COST * (s.mc * op.ci + op.ci * cols + s.mc * cols)
    return per * item * (1 + 1e-3 * s.work)
  end) or { mc = mc, np = 0 }
  local full = {}
  for n, v in pairs(k) do full[n] = v end
  full.mc, full.np = best.mc, best.np
  return { mc = best.mc, np = best.np, th = math.max(1, math.min(th, S.items(op, isa, full).work)) }
end

return S

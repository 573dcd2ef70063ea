-- x86_pw.lua — the machine code of the pointwise GEMM for SSE, AVX2 and
-- AVX-512, built with the x86asm assembler.
--
-- One block sweeps the rows of an M block for one weight panel and one K
-- block: row tiles of mr pixels x the panel's vectors, each with its K loop
-- inside the block. It reads the pointwise argument record (kernel_abi.lua)
-- at %rdi: the M block's input rows and output rows, the panel's packed
-- weights at the K block, the panel's bias, and the constant rows.
--
-- Registers (kernel_abi.REGS.pw): `in_tile` the input row tile, `panel`
-- the panel, `out` the output row tile, `bias` the bias; inside a tile `a`
-- and `b` walk the input rows and the panel through K, `ksteps` counts
-- K-loop iterations, `tiles` row tiles.
local X = require("x86asm")
local S = require("pointwise_knobs")
local I = require("isa")
local A = require("kernel_abi")
local Act = require("x86_activation")

local M = {}

local R = A.REGS.pw
local RD = A.RECORD_REG

local function mem(disp, base) return string.format("%d(%s)", disp, base) end

-- How a panel `cols` channels wide splits into vectors: a list of
-- { off = first channel in the panel, kind = "full" | "mask" | "lane" }.
-- AVX-512 and AVX2 end with one masked vector; SSE, which has no masked
-- moves, ends with single lanes done by scalar instructions.
function M.panel_vectors(isa, cols)
  local V = I.get(isa)
  local vecs = {}
  local full = math.floor(cols / V.lanes)
  for v = 0, full - 1 do vecs[#vecs + 1] = { off = v * V.lanes, kind = "full" } end
  local rest = cols - full * V.lanes
  if rest > 0 then
    if not V.mask then
      for j = 0, rest - 1 do vecs[#vecs + 1] = { off = full * V.lanes + j, kind = "lane" } end
    else
      vecs[#vecs + 1] = { off = full * V.lanes, kind = "mask" }
    end
  end
  return vecs
end

-- The rows of a tile of `nvec` vectors on isa: mr, or fewer when the
-- panel's vectors do not leave room (SSE's lane tail can need more
-- accumulators per row than a full panel).
function M.tile_rows(isa, mr, nvec)
  return math.max(1, math.min(mr, S.max_rows(isa, nvec)))
end

-- Builds one block. B = {
--   isa, act, lda, ldc (floats per input/output pixel),
--   width   floats per packed panel row (the B row stride),
--   cols    channels of this panel,
--   rows    pixels the block sweeps, mr (rows per tile),
--   ksteps  K steps of the block, ku (unroll),
--   init    "bias" | "zero" | "load" (partial sums of an earlier K block),
--   final   true: apply the activation (last K block),
--   pf      bit 0: prefetch the output tile first,
--   nt      true: non-temporal stores of whole vectors (aligned output),
--   pf_next bytes from this panel to the next (the one after it is prefetched
--           during the K loop), or nil,
--   mask_lanes  AVX-512: lanes of the masked vector }
function M.block(B)
  local isa = B.isa
  local V = I.get(isa)
  local L, L1 = V.legacy, I.sse1.legacy -- SSE: packed forms, and the one-lane forms of a lane tail
  local b = X.block()
  local function e(fmt, ...) b:emit(string.format(fmt, ...)) end
  local function vr(i) return I.vreg(V, i) end
  local vecs = M.panel_vectors(isa, B.cols)
  local nv = #vecs
  local lda4, ldc4, w4 = B.lda * 4, B.ldc * 4, B.width * 4
  local embedded = V.bcast ~= nil and nv == 1

  -- registers: accumulators, then weights (VEX), then temporaries
  local function acc(i, v) return vr(i * nv + v - 1) end
  local function breg(v, rows) return vr(rows * nv + v - 1) end
  local function temps(rows)
    local base = rows * nv + (L and 0 or nv)
    return vr(base), vr(base + 1)
  end

  local function row(name) return mem(A.const_offset(name, B.act), RD) end
  local function const(name) return row(name) .. (V.bcast or "") end

  local label_id = 0
  local function fresh(name) label_id = label_id + 1; return name .. label_id end

  local function load_acc(Acc, src, v, maskreg)
    if v.kind == "lane" then
      e("%s %s, %s", L1.mov, src, Acc)
    elseif L then
      e("%s %s, %s", L.mov, src, Acc)
    elseif v.kind == "mask" and V.mask == "vector" then
      e("vmaskmovps %s, %s, %s", src, maskreg, Acc)
    elseif v.kind == "mask" then
      e("vmovups %s, %s{%%k1}{z}", src, Acc)
    else
      e("vmovups %s, %s", src, Acc)
    end
  end

  -- One K step u (0-based within the unrolled body) for `rows` rows.
  local function kstep(rows, u)
    local boff = u * w4
    if L then
      local AV, T = temps(rows)
      for i = 0, rows - 1 do
        e("%s %s, %s", L1.mov, mem(i * lda4 + u * 4, R.a), AV)
        if vecs[1].kind == "full" then e("shufps $0, %s, %s", AV, AV) end
        for v, vec in ipairs(vecs) do
          local F = vec.kind == "lane" and L1 or L
          e("%s %s, %s", L.copy, AV, T)
          e("%s %s, %s", F.mul, mem(boff + vec.off * 4, R.b), T)
          e("%s %s, %s", F.add, T, acc(i, v))
        end
      end
      return
    end
    for v, vec in ipairs(vecs) do e("vmovups %s, %s", mem(boff + vec.off * 4, R.b), breg(v, rows)) end
    if B.pf_next then
      -- two panels ahead, into L2: the HW prefetchers already stream the next
      for off = 0, w4 - 1, 64 do e("prefetcht1 %s", mem(2 * B.pf_next + boff + off, R.b)) end
    end
    local AV = temps(rows)
    for i = 0, rows - 1 do
      local src = mem(i * lda4 + u * 4, R.a)
      if embedded then
        e("vfmadd231ps %s%s, %s, %s", src, V.bcast, breg(1, rows), acc(i, 1))
      else
        e("vbroadcastss %s, %s", src, AV)
        for v = 1, nv do e("vfmadd231ps %s, %s, %s", breg(v, rows), AV, acc(i, v)) end
      end
    end
  end

  -- One row tile of `rows` pixels, from the input and output row tiles.
  local function tile(rows)
    local T1, T2 = temps(rows)
    local maskreg = breg(1, rows) -- AVX2: the weight registers are free outside the K loop
    local has_mask = false
    for _, v in ipairs(vecs) do if v.kind == "mask" then has_mask = true end end
    local vector_mask = V.mask == "vector" and has_mask
    if vector_mask then e("vmovups %s, %s", mem(A.const_offset("mask"), RD), maskreg) end
    if B.pf % 2 == 1 then
      for i = 0, rows - 1 do
        for off = 0, B.cols * 4 - 1, 64 do e("prefetcht0 %s", mem(i * ldc4 + off, R.out)) end
      end
    end
    for i = 0, rows - 1 do
      for v, vec in ipairs(vecs) do
        local Acc = acc(i, v)
        if B.init == "zero" then
          e("%s", V.zero(Acc))
        elseif B.init == "bias" then
          local F = vec.kind == "lane" and L1 or L
          e("%s %s, %s", F and F.mov or "vmovups", mem(vec.off * 4, R.bias), Acc)
        else
          load_acc(Acc, mem(i * ldc4 + vec.off * 4, R.out), vec, maskreg)
        end
      end
    end
    e("mov %s, %s", R.in_tile, R.a)
    e("mov %s, %s", R.panel, R.b)
    local iters = math.floor(B.ksteps / B.ku)
    local rest = B.ksteps - iters * B.ku
    if iters > 0 then
      local top = fresh("k")
      if iters > 1 then
        e("mov $%d, %s", iters, A.reg32(R.ksteps))
        b:label(top)
      end
      for u = 0, B.ku - 1 do kstep(rows, u) end
      if iters > 1 or rest > 0 then
        e("add $%d, %s", B.ku * 4, R.a)
        e("add $%d, %s", B.ku * w4, R.b)
      end
      if iters > 1 then
        e("dec %s", A.reg32(R.ksteps))
        e("jnz %s", top)
      end
    end
    for u = 0, rest - 1 do kstep(rows, u) end
    if vector_mask then e("vmovups %s, %s", mem(A.const_offset("mask"), RD), maskreg) end
    -- The activation (SSE's packed forms also on a lane accumulator, whose
    -- other lanes are never stored) may use every register past the
    -- accumulators but AVX2's mask.
    local items, free = {}, {}
    for r = rows * nv, V.registers - 1 do
      if not (vector_mask and vr(r) == maskreg) then free[#free + 1] = vr(r) end
    end
    for i = 0, rows - 1 do
      for v, vec in ipairs(vecs) do
        local Acc = acc(i, v)
        local dst = mem(i * ldc4 + vec.off * 4, R.out)
        local function store()
          if vec.kind == "lane" then
            e("%s %s, %s", L1.mov, Acc, dst)
          elseif L then
            e("%s %s, %s", L.mov, Acc, dst)
          elseif vec.kind == "mask" and V.mask == "vector" then
            e("vmaskmovps %s, %s, %s", Acc, maskreg, dst)
          elseif vec.kind == "mask" then
            e("vmovups %s, %s{%%k1}", Acc, dst)
          elseif B.nt then
            e("vmovntps %s, %s", Acc, dst)
          else
            e("vmovups %s, %s", Acc, dst)
          end
        end
        items[#items + 1] = { acc = Acc, store = store }
      end
    end
    Act.store_all(e, B.final and B.act or "none", items,
      { T1 = T1, T2 = T2, const = const, row = row, free = free }, V)
  end

  e("mov %s, %s", mem(A.offset("pw", "in"), RD), R.in_tile)
  e("mov %s, %s", mem(A.offset("pw", "weights"), RD), R.panel)
  e("mov %s, %s", mem(A.offset("pw", "out"), RD), R.out)
  e("mov %s, %s", mem(A.offset("pw", "bias"), RD), R.bias)
  if V.mask == "opmask" and vecs[nv].kind == "mask" then
    e("mov $%d, %s", bit.lshift(1, B.mask_lanes) - 1, A.reg32(R.tiles))
    e("kmovw %s, %%k1", A.reg32(R.tiles))
  end
  local mr = B.mr
  local tiles = math.floor(B.rows / mr)
  local rest = B.rows - tiles * mr
  if tiles > 0 then
    local top = fresh("rows")
    if tiles > 1 then
      e("mov $%d, %s", tiles, A.reg32(R.tiles))
      b:label(top)
    end
    tile(mr)
    if tiles > 1 or rest > 0 then
      e("add $%d, %s", mr * lda4, R.in_tile)
      e("add $%d, %s", mr * ldc4, R.out)
    end
    if tiles > 1 then
      e("dec %s", A.reg32(R.tiles))
      e("jnz %s", top)
    end
  end
  if rest > 0 then tile(rest) end
  if B.nt then e("sfence") end
  if V.vex then e("vzeroupper") end
  return b
end

return M

-- x86_pw.lua — the machine code of the pointwise GEMM for SSE, AVX2 and
-- AVX-512, built with the x86asm assembler.
--
-- One block sweeps the rows of an M block for one weight panel and one K
-- block: row tiles of mr pixels x the panel's vectors, each with its K loop
-- inside the block. It reads an argument record at %rdi laid out by
-- templates/pointwise_x86.c.in:
--    0   input: first row of the M block, at the K block's first channel
--    8   packed weights: the panel's rows [k][width], at the K block
--   16   output: first row of the M block, at the panel's first channel
--   24   bias of the panel's channels (zero padded to the panel width)
--  128 + 64*i   constant rows of 16 floats: see CONST below
--
-- Registers: %r8 the input row tile, %r9 the panel, %rax the output row
-- tile, %r10 the bias; inside a tile %rsi and %rdx walk the input rows and
-- the panel through K, %ecx counts K-loop iterations, %r11d row tiles.
local X = require("x86asm")
local S = require("pointwise_knobs")
local Act = require("x86_activation")

-- SSE's two-operand forms for the activation; packed also on a lane
-- accumulator, whose other lanes are never stored.
local SSE_PACKED = { mov = "movups", max = "maxps", min = "minps", add = "addps", mul = "mulps" }

local M = {}

M.CONST = { zero = 128, lo = 192, hi = 256, three = 320, sixth = 384, mask = 448 }

M.GPR_CLOBBERS = { "rax", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11" }

local VEC = {
  avx512 = { lanes = 16, bytes = 64, name = "zmm", bcast = "{1to16}" },
  avx2   = { lanes = 8,  bytes = 32, name = "ymm" },
  sse    = { lanes = 4,  bytes = 16, name = "xmm" },
}

local function mem(disp, base) return string.format("%d(%s)", disp, base) end

-- How a panel `cols` channels wide splits into vectors: a list of
-- { off = first channel in the panel, kind = "full" | "mask" | "lane" }.
-- AVX-512 and AVX2 end with one masked vector; SSE, which has no masked
-- moves, ends with single lanes done by scalar instructions.
function M.panel_vectors(isa, cols)
  local V = VEC[isa]
  local vecs = {}
  local full = math.floor(cols / V.lanes)
  for v = 0, full - 1 do vecs[#vecs + 1] = { off = v * V.lanes, kind = "full" } end
  local rest = cols - full * V.lanes
  if rest > 0 then
    if isa == "sse" then
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
  local V = assert(VEC[isa], "x86_pw: no vector ISA " .. tostring(isa))
  local b = X.block()
  local function e(fmt, ...) b:emit(string.format(fmt, ...)) end
  local function vr(i) return "%" .. V.name .. i end
  local vecs = M.panel_vectors(isa, B.cols)
  local nv = #vecs
  local lda4, ldc4, w4 = B.lda * 4, B.ldc * 4, B.width * 4
  local embedded = isa == "avx512" and nv == 1

  -- registers: accumulators, then weights (AVX), then temporaries
  local function acc(i, v) return vr(i * nv + v - 1) end
  local function breg(v, rows) return vr(rows * nv + v - 1) end
  local function temps(rows)
    local base = rows * nv + (isa == "sse" and 0 or nv)
    return vr(base), vr(base + 1)
  end

  local function const(name)
    if isa == "avx512" then return mem(M.CONST[name], "%rdi") .. V.bcast end
    return mem(M.CONST[name], "%rdi")
  end

  local label_id = 0
  local function fresh(name) label_id = label_id + 1; return name .. label_id end

  local function load_acc(A, src, v, maskreg)
    if v.kind == "lane" then
      e("movss %s, %s", src, A)
    elseif isa == "sse" then
      e("movups %s, %s", src, A)
    elseif v.kind == "mask" and isa == "avx2" then
      e("vmaskmovps %s, %s, %s", src, maskreg, A)
    elseif v.kind == "mask" then
      e("vmovups %s, %s{%%k1}{z}", src, A)
    else
      e("vmovups %s, %s", src, A)
    end
  end

  local function zero(A)
    if isa == "sse" then e("xorps %s, %s", A, A)
    elseif isa == "avx512" then e("vpxord %s, %s, %s", A, A, A)
    else e("vxorps %s, %s, %s", A, A, A) end
  end

  local function activate(A, T1, T2)
    Act.emit(e, B.act, A, T1, T2, const, isa == "sse" and SSE_PACKED or nil)
  end

  -- One K step u (0-based within the unrolled body) for `rows` rows.
  local function kstep(rows, u)
    local boff = u * w4
    if isa == "sse" then
      local AV, T = temps(rows)
      for i = 0, rows - 1 do
        e("movss %s, %s", mem(i * lda4 + u * 4, "%rsi"), AV)
        if vecs[1].kind == "full" then e("shufps $0, %s, %s", AV, AV) end
        for v, vec in ipairs(vecs) do
          e("movaps %s, %s", AV, T)
          if vec.kind == "lane" then
            e("mulss %s, %s", mem(boff + vec.off * 4, "%rdx"), T)
            e("addss %s, %s", T, acc(i, v))
          else
            e("mulps %s, %s", mem(boff + vec.off * 4, "%rdx"), T)
            e("addps %s, %s", T, acc(i, v))
          end
        end
      end
      return
    end
    for v, vec in ipairs(vecs) do e("vmovups %s, %s", mem(boff + vec.off * 4, "%rdx"), breg(v, rows)) end
    if B.pf_next then
      -- two panels ahead, into L2: the HW prefetchers already stream the next
      for off = 0, w4 - 1, 64 do e("prefetcht1 %s", mem(2 * B.pf_next + boff + off, "%rdx")) end
    end
    local AV = temps(rows)
    for i = 0, rows - 1 do
      local src = mem(i * lda4 + u * 4, "%rsi")
      if embedded then
        e("vfmadd231ps %s%s, %s, %s", src, V.bcast, breg(1, rows), acc(i, 1))
      else
        e("vbroadcastss %s, %s", src, AV)
        for v = 1, nv do e("vfmadd231ps %s, %s, %s", breg(v, rows), AV, acc(i, v)) end
      end
    end
  end

  -- One row tile of `rows` pixels, from %r8 (input) and %rax (output).
  local function tile(rows)
    local T1, T2 = temps(rows)
    local maskreg = breg(1, rows) -- AVX2: the weight registers are free outside the K loop
    local has_mask = false
    for _, v in ipairs(vecs) do if v.kind == "mask" then has_mask = true end end
    if isa == "avx2" and has_mask then e("vmovups %s, %s", mem(M.CONST.mask, "%rdi"), maskreg) end
    if B.pf % 2 == 1 then
      for i = 0, rows - 1 do
        for off = 0, B.cols * 4 - 1, 64 do e("prefetcht0 %s", mem(i * ldc4 + off, "%rax")) end
      end
    end
    for i = 0, rows - 1 do
      for v, vec in ipairs(vecs) do
        local A = acc(i, v)
        if B.init == "zero" then
          zero(A)
        elseif B.init == "bias" then
          if vec.kind == "lane" then e("movss %s, %s", mem(vec.off * 4, "%r10"), A)
          elseif isa == "sse" then e("movups %s, %s", mem(vec.off * 4, "%r10"), A)
          else e("vmovups %s, %s", mem(vec.off * 4, "%r10"), A) end
        else
          load_acc(A, mem(i * ldc4 + vec.off * 4, "%rax"), vec, maskreg)
        end
      end
    end
    e("mov %%r8, %%rsi")
    e("mov %%r9, %%rdx")
    local iters = math.floor(B.ksteps / B.ku)
    local rest = B.ksteps - iters * B.ku
    if iters > 0 then
      local top = fresh("k")
      if iters > 1 then
        e("mov $%d, %%ecx", iters)
        b:label(top)
      end
      for u = 0, B.ku - 1 do kstep(rows, u) end
      if iters > 1 or rest > 0 then
        e("add $%d, %%rsi", B.ku * 4)
        e("add $%d, %%rdx", B.ku * w4)
      end
      if iters > 1 then
        e("dec %%ecx")
        e("jnz %s", top)
      end
    end
    for u = 0, rest - 1 do kstep(rows, u) end
    if isa == "avx2" and has_mask then e("vmovups %s, %s", mem(M.CONST.mask, "%rdi"), maskreg) end
    for i = 0, rows - 1 do
      for v, vec in ipairs(vecs) do
        local A = acc(i, v)
        if B.final then activate(A, T1, T2) end
        local dst = mem(i * ldc4 + vec.off * 4, "%rax")
        if vec.kind == "lane" then
          e("movss %s, %s", A, dst)
        elseif isa == "sse" then
          e("movups %s, %s", A, dst)
        elseif vec.kind == "mask" and isa == "avx2" then
          e("vmaskmovps %s, %s, %s", A, maskreg, dst)
        elseif vec.kind == "mask" then
          e("vmovups %s, %s{%%k1}", A, dst)
        elseif B.nt then
          e("vmovntps %s, %s", A, dst)
        else
          e("vmovups %s, %s", A, dst)
        end
      end
    end
  end

  e("mov 0(%%rdi), %%r8")
  e("mov 8(%%rdi), %%r9")
  e("mov 16(%%rdi), %%rax")
  e("mov 24(%%rdi), %%r10")
  if isa == "avx512" and vecs[nv].kind == "mask" then
    e("mov $%d, %%r11d", bit.lshift(1, B.mask_lanes) - 1)
    e("kmovw %%r11d, %%k1")
  end
  local mr = B.mr
  local tiles = math.floor(B.rows / mr)
  local rest = B.rows - tiles * mr
  if tiles > 0 then
    local top = fresh("rows")
    if tiles > 1 then
      e("mov $%d, %%r11d", tiles)
      b:label(top)
    end
    tile(mr)
    if tiles > 1 or rest > 0 then
      e("add $%d, %%r8", mr * lda4)
      e("add $%d, %%rax", mr * ldc4)
    end
    if tiles > 1 then
      e("dec %%r11d")
      e("jnz %s", top)
    end
  end
  if rest > 0 then tile(rest) end
  if B.nt then e("sfence") end
  if isa ~= "sse" then e("vzeroupper") end
  return b
end

return M

-- x86_dw.lua — the machine code of one depthwise output row, for SSE, AVX2
-- and AVX-512, built with the x86asm assembler.
--
-- The block computes one output row for every channel (minus the SSE tail,
-- which the C scaffolding does). It reads an argument record at %rdi laid out
-- by templates/depthwise_x86.c.in:
--    0 + 8*ky   input row pointer of tap row ky (or the zero row)
--   64          output row pointer
--   72          packed weights: [bias][kh*kw taps], co_pad floats each
--   80          one-tile blocks: output rows to compute (counted down)
--  128 + 64*i   constant rows of 16 floats: see CONST below
--
-- Registers: one GPR per tap row (kh <= 7), %rax output, %r14 weights; the
-- three advance by one channel tile per pass of the tile loop (%r15 counts
-- the passes). In the interior column loop %rbx and %r12 are the input and
-- output column offsets and %rcx counts the column groups.
local X = require("x86asm")
local G = require("dw_geometry")
local Act = require("x86_activation")

local M = {}

local ROW_REGS = { "%rsi", "%rdx", "%r8", "%r9", "%r10", "%r11", "%r13" }

-- Byte offsets of the constant rows in the argument record; they follow the
-- order of the union in templates/depthwise_x86.c.in (zero, lo, hi, 3, 1/6, mask).
M.CONST = { zero = 128, lo = 192, hi = 256, three = 320, sixth = 384, mask = 448 }
-- Byte offset of the row count of a one-tile block (`rows` in the record).
M.ROWS = 80

-- What differs between the three vector ISAs.
local VEC = {
  avx512 = { lanes = 16, bytes = 64, name = "zmm", bcast = "{1to16}" },
  avx2   = { lanes = 8,  bytes = 32, name = "ymm" },
  sse    = { lanes = 4,  bytes = 16, name = "xmm", legacy = true,
             mov = "movups", mul = "mulps", add = "addps", max = "maxps", min = "minps" },
  -- SSE's channel tail: each "vector" is one lane, scalar instructions
  sse1   = { lanes = 1,  bytes = 4,  name = "xmm", legacy = true,
             mov = "movss", mul = "mulss", add = "addss", max = "maxss", min = "minss" },
}

local function addr(disp, base, index)
  if index then return string.format("%d(%s,%s,1)", disp, base, index) end
  return string.format("%d(%s)", disp, base)
end

-- Builds the row block. P carries op (the shape), g (dw_geometry.derive),
-- k (knobs) and isa. Without `only` the block loops over every channel tile
-- of the row; with only = { nv =, partial = } it computes one tile of nv
-- vectors (the last one partial) and the scaffolding loops over tiles.
function M.row_block(P, only)
  local op, g, k, isa = P.op, P.g, P.k, P.isa
  local V = assert(VEC[only and only.vec or isa], "x86_dw: no vector ISA " .. tostring(isa))
  local b = X.block()
  local function e(fmt, ...) b:emit(string.format(fmt, ...)) end
  local function vr(i) return "%" .. V.name .. i end

  local in_px = g.ci * 4          -- bytes per input pixel
  local out_px = g.co * 4         -- bytes per output pixel
  local tap_bytes = g.co_pad * 4  -- bytes per tap row of packed weights

  -- Vector register allocation: accumulators, then weights, then temps.
  local nacc = k.ct * k.wt
  local function acc(j, v) return vr(j * k.ct + v) end
  local wbase = nacc
  local function wreg(t, v) return vr(wbase + t * k.ct + v) end
  local nw = (k.wreg == 1) and g.taps * k.ct or 0
  local T1 = vr(nacc + nw)
  local T2 = vr(nacc + nw + 1)
  local MASK = T2 -- AVX2 tail mask shares the second temporary's slot

  local function const(name)
    if isa == "avx512" then return string.format("%d(%%rdi)%s", M.CONST[name], V.bcast) end
    return string.format("%d(%%rdi)", M.CONST[name])
  end

  -- One group: `cols` output columns computed together, each described by
  -- { j = register column, taps = { {ky, kx, in_disp}, ... }, out_disp },
  -- addressed from the row registers plus optional index registers.
  local function group(cols, nv, partial, in_index, out_index)
    local masked_last = partial and isa == "avx512"
    local function vmask(v) return (masked_last and v == nv - 1) and "{%k1}" or "" end
    local function is_tail(v) return partial and v == nv - 1 end
    -- accumulators start at the bias (or zero)
    for _, c in ipairs(cols) do
      for v = 0, nv - 1 do
        if op.bias == 1 then
          local mov = V.legacy and V.mov or "vmovups"
          e("%s %s, %s", mov, addr(v * V.bytes, "%r14"), acc(c.j, v))
        elseif V.legacy then
          e("xorps %s, %s", acc(c.j, v), acc(c.j, v))
        elseif isa == "avx512" then
          e("vpxord %s, %s, %s", acc(c.j, v), acc(c.j, v), acc(c.j, v))
        else
          e("vxorps %s, %s, %s", acc(c.j, v), acc(c.j, v), acc(c.j, v))
        end
      end
    end
    -- the multiply-adds
    local function fma(c, tap, v)
      local src = addr(tap.disp + v * V.bytes, ROW_REGS[tap.ky + 1], in_index)
      local t = tap.ky * op.kw + tap.kx
      local wmem = addr((1 + t) * tap_bytes + v * V.bytes, "%r14")
      local A = acc(c.j, v)
      if V.legacy then
        e(V.mov .. " %s, %s", src, T1)
        e(V.mul .. " %s, %s", k.wreg == 1 and wreg(t, v) or wmem, T1)
        e(V.add .. " %s, %s", T1, A)
      elseif isa == "avx2" and is_tail(v) then
        e("vmaskmovps %s, %s, %s", src, MASK, T1)
        e("vfmadd231ps %s, %s, %s", k.wreg == 1 and wreg(t, v) or wmem, T1, A)
      elseif k.wreg == 1 then
        e("vfmadd231ps %s, %s, %s%s", src, wreg(t, v), A, vmask(v))
      else
        e("vmovups %s, %s%s", src, T1, masked_last and v == nv - 1 and "{%k1}{z}" or "")
        e("vfmadd231ps %s, %s, %s", wmem, T1, A)
      end
    end
    if k.order == 0 then
      for ky = 0, op.kh - 1 do
        for kx = 0, op.kw - 1 do
          for _, c in ipairs(cols) do
            for _, tap in ipairs(c.taps) do
              if tap.ky == ky and tap.kx == kx then
                for v = 0, nv - 1 do fma(c, tap, v) end
              end
            end
          end
        end
      end
    elseif k.order == 1 then
      for _, c in ipairs(cols) do
        for _, tap in ipairs(c.taps) do
          for v = 0, nv - 1 do fma(c, tap, v) end
        end
      end
    else
      -- Input-stationary: load each input vector once and apply it to every
      -- column whose window holds it (3 columns for a 3-wide stride-1
      -- kernel), so loads drop and the FMA ports set the pace.
      local uses, order_keys = {}, {}
      for _, c in ipairs(cols) do
        for _, tap in ipairs(c.taps) do
          local key = tap.ky * 1e9 + tap.disp
          if not uses[key] then uses[key] = {}; order_keys[#order_keys + 1] = key end
          table.insert(uses[key], { c = c, tap = tap })
        end
      end
      table.sort(order_keys)
      for _, key in ipairs(order_keys) do
        local list = uses[key]
        local tap0 = list[1].tap
        for v = 0, nv - 1 do
          local src = addr(tap0.disp + v * V.bytes, ROW_REGS[tap0.ky + 1], in_index)
          if isa == "avx2" and is_tail(v) then
            e("vmaskmovps %s, %s, %s", src, MASK, T1)
          else
            e("vmovups %s, %s%s", src, T1, masked_last and v == nv - 1 and "{%k1}{z}" or "")
          end
          for _, u in ipairs(list) do
            e("vfmadd231ps %s, %s, %s", T1, wreg(u.tap.ky * op.kw + u.tap.kx, v), acc(u.c.j, v))
          end
        end
      end
    end
    -- activation and store
    for _, c in ipairs(cols) do
      for v = 0, nv - 1 do
        local A = acc(c.j, v)
        Act.emit(e, op.act, A, T1, T2, const, V.legacy and V or nil)
        if V.legacy then
          e(V.mov .. " %s, %s", A, addr(c.out_disp + v * V.bytes, "%rax", out_index))
        else
          local dst = addr(c.out_disp + v * V.bytes, "%rax", out_index)
          if isa == "avx2" and is_tail(v) then
            e("vmaskmovps %s, %s, %s", A, MASK, dst)
          elseif k.nt == 1 and vmask(v) == "" then
            e("vmovntps %s, %s", A, dst)
          else
            e("vmovups %s, %s%s", A, dst, vmask(v))
          end
        end
      end
    end
  end

  -- Output columns ox0 .. ox0+width-1 addressed absolutely (no index
  -- registers), each with its taps that fall inside the row: the border
  -- columns share a group with their neighbours, so a border costs no more
  -- than an interior column and keeps as many accumulators in flight.
  local function absolute_group(ox0, width)
    local cols = {}
    for j = 0, width - 1 do
      local ox, taps = ox0 + j, {}
      for ky = 0, op.kh - 1 do
        for kx = 0, op.kw - 1 do
          local ix = G.input_col(op, ox, kx)
          if ix then taps[#taps + 1] = { ky = ky, kx = kx, disp = ix * in_px } end
        end
      end
      cols[#cols + 1] = { j = j, taps = taps, out_disp = ox * out_px }
    end
    return cols
  end

  -- Columns j of an interior group relative to the column offset registers;
  -- the group's first column is output column `ox0` when the offsets are 0.
  local function interior_group(ox0, width)
    local cols = {}
    for j = 0, width - 1 do
      local taps = {}
      for ky = 0, op.kh - 1 do
        for kx = 0, op.kw - 1 do
          local ix = (ox0 + j) * op.sw - op.pl + kx * op.dil_w
          taps[#taps + 1] = { ky = ky, kx = kx, disp = ix * in_px }
        end
      end
      cols[#cols + 1] = { j = j, taps = taps, out_disp = (ox0 + j) * out_px }
    end
    return cols
  end

  local label_id = 0
  local function fresh(name) label_id = label_id + 1; return name .. label_id end

  -- One pass over the row for a tile of nv vectors (the last partial when
  -- `partial`); pointers are tile-relative.
  local function tile(nv, partial, row_loop)
    if k.wreg == 1 then
      for t = 0, g.taps - 1 do
        for v = 0, nv - 1 do
          local mov = V.legacy and V.mov or "vmovups"
          e("%s %s, %s", mov, addr((1 + t) * tap_bytes + v * V.bytes, "%r14"), wreg(t, v))
        end
      end
    end
    if isa == "avx2" and partial then e("vmovups %d(%%rdi), %s", M.CONST.mask, MASK) end
    if row_loop then b:label("rows") end
    -- groups of wt columns from column 0; a run of groups whose columns
    -- are all interior is a loop over the column offset registers
    local ox = 0
    while ox < g.ow do
      local run = 0
      if g.n_int > 0 and ox >= g.int_lo then run = math.floor((g.int_hi - ox + 1) / k.wt) end
      if run >= 2 then
        e("xor %%ebx, %%ebx")
        e("xor %%r12d, %%r12d")
        local top = fresh("cols")
        e("mov $%d, %%ecx", run)
        b:label(top)
        group(interior_group(ox, k.wt), nv, partial, "%rbx", "%r12")
        e("add $%d, %%rbx", k.wt * op.sw * in_px)
        e("add $%d, %%r12", k.wt * out_px)
        e("dec %%ecx")
        e("jnz %s", top)
        ox = ox + run * k.wt
      else
        local width = math.min(k.wt, g.ow - ox)
        group(absolute_group(ox, width), nv, partial)
        ox = ox + width
      end
    end
    if k.pf == 1 then
      -- Touch the input row that enters the window at the next output row,
      -- one line per 64 bytes of this tile, so it is in L1 when needed.
      local next_row = op.sh * op.w * in_px
      local last = ROW_REGS[op.kh]
      for px = 0, op.w - 1 do
        for off = 0, nv * V.bytes - 1, 64 do
          e("prefetcht0 %d(%s)", next_row + px * in_px + off, last)
        end
      end
    end
    if row_loop then
      -- the next output row: every tap row moves down by the stride
      for ky = 0, op.kh - 1 do e("add $%d, %s", op.sh * op.w * in_px, ROW_REGS[ky + 1]) end
      e("add $%d, %%rax", g.ow * out_px)
      e("decq %d(%%rdi)", M.ROWS)
      e("jnz rows")
    end
  end

  for ky = 0, op.kh - 1 do e("mov %d(%%rdi), %s", 8 * ky, ROW_REGS[ky + 1]) end
  e("mov 64(%%rdi), %%rax")
  e("mov 72(%%rdi), %%r14")
  local L = M.layout(P)
  local want_mask = L.masked_tail and (only == nil or only.partial)
  if isa == "avx512" and want_mask then
    e("mov $%d, %%r15d", bit.lshift(1, L.tail_lanes) - 1)
    e("kmovw %%r15d, %%k1")
  end

  if only then
    -- One tile over a run of output rows (the count at M.ROWS(%rdi));
    -- the scaffolding loops over tiles (knob loop=1).
    tile(only.nv, only.partial, true)
  else
    local function advance(bytes)
      for ky = 0, op.kh - 1 do e("add $%d, %s", bytes, ROW_REGS[ky + 1]) end
      e("add $%d, %%rax", bytes)
      e("add $%d, %%r14", bytes)
    end
    if L.tiles > 0 then
      if L.tiles > 1 then
        e("mov $%d, %%r15d", L.tiles)
        b:label("tiles")
      end
      tile(k.ct, false)
      if L.tiles > 1 or L.rest_vectors > 0 then advance(L.step) end
      if L.tiles > 1 then
        e("dec %%r15d")
        e("jnz tiles")
      end
    end
    if L.rest_vectors > 0 then tile(L.rest_vectors, L.masked_tail) end
  end
  if k.nt == 1 then e("sfence") end
  if isa ~= "sse" then e("vzeroupper") end
  return b
end

-- How a row splits into channel tiles: `tiles` full tiles of ct vectors,
-- then `rest_vectors` (the last masked when `masked_tail`); channels from
-- `covered` on are left to the scaffolding's scalar tail (SSE only).
function M.layout(P)
  local g, k, V = P.g, P.k, VEC[P.isa]
  local L = { lanes = V.lanes, vector_bytes = V.bytes }
  L.full_vectors = math.floor(g.co / V.lanes)
  L.tail_lanes = g.co % V.lanes
  L.masked_tail = L.tail_lanes > 0 and P.isa ~= "sse"
  L.covered = L.full_vectors * V.lanes + (L.masked_tail and L.tail_lanes or 0)
  -- SSE has no masked loads: its last channels are a tile of one-lane vectors
  L.lane_tail = P.isa == "sse" and L.tail_lanes or 0
  L.tiles = math.floor(L.full_vectors / k.ct)
  L.rest_vectors = L.full_vectors - L.tiles * k.ct + (L.masked_tail and 1 or 0)
  L.step = k.ct * V.bytes
  return L
end

-- The clobber list of a row block: every GPR it may touch.
M.GPR_CLOBBERS = { "rax", "rbx", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" }

return M

-- x86_dw.lua — the machine code of one depthwise output row, for SSE, AVX2
-- and AVX-512, built with the x86asm assembler.
--
-- The block computes one output row for every channel (minus the SSE tail,
-- which the C scaffolding does). It reads the depthwise argument record
-- (kernel_abi.lua) at %rdi: the tap rows' input rows, the output row, the
-- packed weights ([bias][kh*kw taps], co_pad floats each), for one-tile
-- blocks the count of output rows, and the constant rows.
--
-- Registers (kernel_abi.REGS.dw): one GPR per tap row (kh <= 7), `out` the
-- output row, `weights` the weights; the three advance by one channel tile
-- per pass of the tile loop (`tiles` counts the passes). In the interior
-- column loop `col_in` and `col_out` are the input and output column
-- offsets and `cols` counts the column groups.
local X = require("x86asm")
local G = require("dw_geometry")
local I = require("isa")
local A = require("kernel_abi")
local Act = require("x86_activation")

local M = {}

local R = A.REGS.dw
local RD = A.RECORD_REG

-- A border run of columns that read the same taps becomes a loop from this
-- many columns on; shorter ones, the borders of any usual padding and
-- dilation, are unrolled: they share groups with their neighbours and need
-- no counter.
M.BORDER_LOOP_COLUMNS = 32

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
  local V = I.get(only and only.vec or isa)
  local b = X.block()
  local function e(fmt, ...) b:emit(string.format(fmt, ...)) end
  local function vr(i) return I.vreg(V, i) end
  local L = V.legacy                          -- SSE's two-operand forms, or nil
  local mov = L and L.mov or "vmovups"

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

  local function row(name) return addr(A.const_offset(name, op.act), RD) end
  local function const(name) return row(name) .. (V.bcast or "") end

  -- What the activation may use at a group's stores: the accumulators the
  -- group leaves unused (a border group may have one column), the registers
  -- past the weights (T1, T2 unless it holds AVX2's tail mask, and those no
  -- knob took), and the weights held in registers, reloaded from the packed
  -- weights if borrowed.
  local function act_registers(cols, nv, partial)
    local free, used = {}, {}
    for _, c in ipairs(cols) do
      for v = 0, nv - 1 do used[acc(c.j, v)] = true end
    end
    for i = 0, nacc - 1 do
      if not used[vr(i)] then free[#free + 1] = vr(i) end
    end
    for i = nacc + nw, V.registers - 1 do
      if vr(i) ~= MASK or not (V.mask == "vector" and partial) then free[#free + 1] = vr(i) end
    end
    local lend = {}
    if k.wreg == 1 then
      for t = 0, g.taps - 1 do
        for v = 0, nv - 1 do
          local r = wreg(t, v)
          lend[#lend + 1] = { reg = r, restore = function()
            e("%s %s, %s", mov, addr((1 + t) * tap_bytes + v * V.bytes, R.weights), r)
          end }
        end
      end
    end
    return { T1 = T1, T2 = T2, const = const, row = row, free = free, lend = lend }
  end

  -- One group: `cols` output columns computed together, each described by
  -- { j = register column, taps = { {ky, kx, in_disp}, ... }, out_disp },
  -- addressed from the row registers plus optional index registers.
  local function group(cols, nv, partial, in_index, out_index)
    local masked_last = partial and V.mask == "opmask"
    local function vmask(v) return (masked_last and v == nv - 1) and "{%k1}" or "" end
    local function is_tail(v) return partial and v == nv - 1 end
    -- accumulators start at the bias (or zero)
    for _, c in ipairs(cols) do
      for v = 0, nv - 1 do
        if op.bias == 1 then
          e("%s %s, %s", mov, addr(v * V.bytes, R.weights), acc(c.j, v))
        else
          e("%s", V.zero(acc(c.j, v)))
        end
      end
    end
    -- the multiply-adds
    local function fma(c, tap, v)
      local src = addr(tap.disp + v * V.bytes, R.tap_rows[tap.ky + 1], in_index)
      local t = tap.ky * op.kw + tap.kx
      local wmem = addr((1 + t) * tap_bytes + v * V.bytes, R.weights)
      local Acc = acc(c.j, v)
      if L then
        e(L.mov .. " %s, %s", src, T1)
        e(L.mul .. " %s, %s", k.wreg == 1 and wreg(t, v) or wmem, T1)
        e(L.add .. " %s, %s", T1, Acc)
      elseif V.mask == "vector" and is_tail(v) then
        e("vmaskmovps %s, %s, %s", src, MASK, T1)
        e("vfmadd231ps %s, %s, %s", k.wreg == 1 and wreg(t, v) or wmem, T1, Acc)
      elseif k.wreg == 1 then
        e("vfmadd231ps %s, %s, %s%s", src, wreg(t, v), Acc, vmask(v))
      else
        e("vmovups %s, %s%s", src, T1, masked_last and v == nv - 1 and "{%k1}{z}" or "")
        e("vfmadd231ps %s, %s, %s", wmem, T1, Acc)
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
          local key = tap.ky * 2 ^ 32 + tap.disp -- displacements stay below 2^31
          if not uses[key] then uses[key] = {}; order_keys[#order_keys + 1] = key end
          table.insert(uses[key], { c = c, tap = tap })
        end
      end
      table.sort(order_keys)
      for _, key in ipairs(order_keys) do
        local list = uses[key]
        local tap0 = list[1].tap
        for v = 0, nv - 1 do
          local src = addr(tap0.disp + v * V.bytes, R.tap_rows[tap0.ky + 1], in_index)
          if V.mask == "vector" and is_tail(v) then
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
    local items = {}
    for _, c in ipairs(cols) do
      for v = 0, nv - 1 do
        local Acc = acc(c.j, v)
        local dst = addr(c.out_disp + v * V.bytes, R.out, out_index)
        local function store()
          if L then
            e(L.mov .. " %s, %s", Acc, dst)
          elseif V.mask == "vector" and is_tail(v) then
            e("vmaskmovps %s, %s, %s", Acc, MASK, dst)
          elseif k.nt == 1 and vmask(v) == "" then
            e("vmovntps %s, %s", Acc, dst)
          else
            e("vmovups %s, %s%s", Acc, dst, vmask(v))
          end
        end
        items[#items + 1] = { acc = Acc, store = store }
      end
    end
    Act.store_all(e, op.act, items, act_registers(cols, nv, partial), V)
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

  -- Columns j of a group in a run of columns that read taps `kxs`,
  -- relative to the column offset registers; the group's first column is
  -- output column `ox0` when the offsets are 0.
  local function run_group(ox0, width, kxs)
    local cols = {}
    for j = 0, width - 1 do
      local taps = {}
      for ky = 0, op.kh - 1 do
        for _, kx in ipairs(kxs) do
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
          e("%s %s, %s", mov, addr((1 + t) * tap_bytes + v * V.bytes, R.weights), wreg(t, v))
        end
      end
    end
    if V.mask == "vector" and partial then e("vmovups %s, %s", addr(A.const_offset("mask"), RD), MASK) end
    if row_loop then b:label("rows") end
    -- Groups of wt columns from column 0. Groups whose columns all read
    -- the same taps are a loop over the column offset registers: the
    -- interior when it has two groups or more, a border run (of huge
    -- padding or dilation) when it spans M.BORDER_LOOP_COLUMNS; the rest
    -- are addressed absolutely. So the code is a few groups long, however
    -- wide the row.
    local ox, r = 0, 1
    while ox < g.ow do
      while g.col_runs[r].hi < ox do r = r + 1 end
      local run = g.col_runs[r]
      local span = run.hi - ox + 1
      local groups = math.floor(span / k.wt)
      if groups >= 2 and (#run.kx == op.kw or span >= M.BORDER_LOOP_COLUMNS) then
        local reads = #run.kx > 0 -- columns all in the padding read nothing
        if reads then e("xor %s, %s", A.reg32(R.col_in), A.reg32(R.col_in)) end
        e("xor %s, %s", A.reg32(R.col_out), A.reg32(R.col_out))
        local top = fresh("cols")
        e("mov $%d, %s", groups, A.reg32(R.cols))
        b:label(top)
        group(run_group(ox, k.wt, run.kx), nv, partial, R.col_in, R.col_out)
        if reads then e("add $%d, %s", k.wt * op.sw * in_px, R.col_in) end
        e("add $%d, %s", k.wt * out_px, R.col_out)
        e("dec %s", A.reg32(R.cols))
        e("jnz %s", top)
        ox = ox + groups * k.wt
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
      local last = R.tap_rows[op.kh]
      for px = 0, op.w - 1 do
        for off = 0, nv * V.bytes - 1, 64 do
          e("prefetcht0 %d(%s)", next_row + px * in_px + off, last)
        end
      end
    end
    if row_loop then
      -- the next output row: every tap row moves down by the stride
      for ky = 0, op.kh - 1 do e("add $%d, %s", op.sh * op.w * in_px, R.tap_rows[ky + 1]) end
      e("add $%d, %s", g.ow * out_px, R.out)
      e("decq %s", addr(A.offset("dw", "rows"), RD))
      e("jnz rows")
    end
  end

  for ky = 0, op.kh - 1 do e("mov %s, %s", addr(A.offset("dw", "tap_row", ky), RD), R.tap_rows[ky + 1]) end
  e("mov %s, %s", addr(A.offset("dw", "out_row"), RD), R.out)
  e("mov %s, %s", addr(A.offset("dw", "weights"), RD), R.weights)
  local Lay = M.layout(P)
  local want_mask = Lay.masked_tail and (only == nil or only.partial)
  if V.mask == "opmask" and want_mask then
    e("mov $%d, %s", bit.lshift(1, Lay.tail_lanes) - 1, A.reg32(R.tiles))
    e("kmovw %s, %%k1", A.reg32(R.tiles))
  end

  if only then
    -- One tile over a run of output rows (the record's `rows`); the
    -- scaffolding loops over tiles (knob loop=1).
    tile(only.nv, only.partial, true)
  else
    local function advance(bytes)
      for ky = 0, op.kh - 1 do e("add $%d, %s", bytes, R.tap_rows[ky + 1]) end
      e("add $%d, %s", bytes, R.out)
      e("add $%d, %s", bytes, R.weights)
    end
    if Lay.tiles > 0 then
      if Lay.tiles > 1 then
        e("mov $%d, %s", Lay.tiles, A.reg32(R.tiles))
        b:label("tiles")
      end
      tile(k.ct, false)
      if Lay.tiles > 1 or Lay.rest_vectors > 0 then advance(Lay.step) end
      if Lay.tiles > 1 then
        e("dec %s", A.reg32(R.tiles))
        e("jnz tiles")
      end
    end
    if Lay.rest_vectors > 0 then tile(Lay.rest_vectors, Lay.masked_tail) end
  end
  if k.nt == 1 then e("sfence") end
  if V.vex then e("vzeroupper") end
  return b
end

-- How a row splits into channel tiles: `tiles` full tiles of ct vectors,
-- then `rest_vectors` (the last masked when `masked_tail`); channels from
-- `covered` on are left to the scaffolding's scalar tail (SSE only).
function M.layout(P)
  local g, k, V = P.g, P.k, I.get(P.isa)
  local L = { lanes = V.lanes, vector_bytes = V.bytes }
  L.full_vectors = math.floor(g.co / V.lanes)
  L.tail_lanes = g.co % V.lanes
  L.masked_tail = L.tail_lanes > 0 and V.mask ~= nil
  L.covered = L.full_vectors * V.lanes + (L.masked_tail and L.tail_lanes or 0)
  -- SSE has no masked loads: its last channels are a tile of one-lane vectors
  L.lane_tail = V.mask == nil and L.tail_lanes or 0
  L.tiles = math.floor(L.full_vectors / k.ct)
  L.rest_vectors = L.full_vectors - L.tiles * k.ct + (L.masked_tail and 1 or 0)
  L.step = k.ct * V.bytes
  -- AVX2's tail mask: lanes set in the record's mask row
  L.vector_mask_lanes = V.mask == "vector" and L.tail_lanes or 0
  return L
end

return M

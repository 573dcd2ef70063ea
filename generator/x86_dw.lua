-- x86_dw.lua — the machine code of one depthwise output row, for SSE, AVX2
-- and AVX-512, built with the x86asm assembler.
--
-- The block computes one output row for every channel (minus the SSE tail,
-- which the C scaffolding does). It reads the depthwise argument record
-- (kernel_abi.lua) at %rdi: the tap rows' input rows, the output row, the
-- packed weights ([bias][kh*kw taps], co_pad floats each), for one-tile
-- blocks the count of output rows, and the constant rows.
--
-- Registers (kernel_abi.REGS.dw): one GPR per tap row (kloop=0, kh <= 7),
-- or with kloop=1 one input row `in_row` (the first kernel row inside the
-- input) that each column group walks with `krow`, `wrow` and `krows`
-- from `wfirst`; `out` the output row, `weights` the weights; rows, out and
-- weights advance by one channel tile per pass of the tile loop (`tiles`
-- counts the passes). In the interior column loop `col_in` and `col_out`
-- are the input and output column offsets and `cols` counts the column
-- groups (order=3: the passes of the rolling row).
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
  local nacc = k.ct * (k.order == 3 and M.rolling_slots(op) or k.wt)
  local function acc(j, v) return vr(j * k.ct + v) end
  local wbase = nacc
  local function wreg(t, v) return vr(wbase + t * k.ct + v) end
  local nw = (k.wreg == 1) and (k.kloop == 1 and op.kw or g.taps) * k.ct or 0
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
    -- order=3 keeps the other columns' partial sums live in the idle slots
    if k.order ~= 3 then
      for i = 0, nacc - 1 do
        if not used[vr(i)] then free[#free + 1] = vr(i) end
      end
    end
    for i = nacc + nw, V.registers - 1 do
      if vr(i) ~= MASK or not (V.mask == "vector" and partial) then free[#free + 1] = vr(i) end
    end
    local lend = {}
    if k.wreg == 1 then
      -- kloop=1 holds one kernel row, reloaded at every pass of its loop
      for t = 0, (k.kloop == 1 and op.kw or g.taps) - 1 do
        for v = 0, nv - 1 do
          local r = wreg(t, v)
          lend[#lend + 1] = { reg = r, restore = function()
            if k.kloop ~= 1 then e("%s %s, %s", mov, addr((1 + t) * tap_bytes + v * V.bytes, R.weights), r) end
          end }
        end
      end
    end
    return { T1 = T1, T2 = T2, const = const, row = row, free = free, lend = lend }
  end

  -- kernel rows the code addresses at once: all of them, or (kloop=1) one
  -- at a time
  local tap_rows = k.kloop == 1 and 1 or op.kh

  -- One group: `cols` output columns computed together, each described by
  -- { j = register column, taps = { {ky, kx, in_disp}, ... }, out_disp },
  -- addressed from the row registers plus optional index registers.
  -- The accumulators of `cols` start at the bias (or zero).
  local function start(cols, nv)
    for _, c in ipairs(cols) do
      for v = 0, nv - 1 do
        if op.bias == 1 then
          e("%s %s, %s", mov, addr(v * V.bytes, R.weights), acc(c.j, v))
        else
          e("%s", V.zero(acc(c.j, v)))
        end
      end
    end
  end

  -- The activation and the store of the accumulators of `cols`.
  local function finish(cols, nv, partial, out_index)
    local masked_last = partial and V.mask == "opmask"
    local items = {}
    for _, c in ipairs(cols) do
      for v = 0, nv - 1 do
        local Acc = acc(c.j, v)
        local dst = addr(c.out_disp + v * V.bytes, R.out, out_index)
        local tail = partial and v == nv - 1
        local function store()
          if L then
            e(L.mov .. " %s, %s", Acc, dst)
          elseif V.mask == "vector" and tail then
            e("vmaskmovps %s, %s, %s", Acc, MASK, dst)
          elseif k.nt == 1 and not (masked_last and tail) then
            e("vmovntps %s, %s", Acc, dst)
          else
            e("vmovups %s, %s%s", Acc, dst, (masked_last and tail) and "{%k1}" or "")
          end
        end
        items[#items + 1] = { acc = Acc, store = store }
      end
    end
    Act.store_all(e, op.act, items, act_registers(cols, nv, partial), V)
  end

  -- Loads input vector v at `src` into T1 (masked for a partial tail).
  local function load_input(src, v, nv, partial)
    if L then
      e(L.mov .. " %s, %s", src, T1)
    elseif V.mask == "vector" and partial and v == nv - 1 then
      e("vmaskmovps %s, %s, %s", src, MASK, T1)
    else
      e("vmovups %s, %s%s", src, T1, (partial and v == nv - 1 and V.mask == "opmask") and "{%k1}{z}" or "")
    end
  end

  local function group(cols, nv, partial, in_index, out_index)
    local masked_last = partial and V.mask == "opmask"
    local function vmask(v) return (masked_last and v == nv - 1) and "{%k1}" or "" end
    local function is_tail(v) return partial and v == nv - 1 end
    start(cols, nv)
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
          load_input(addr(tap0.disp + v * V.bytes, R.tap_rows[tap0.ky + 1], in_index), v, nv, partial)
          for _, u in ipairs(list) do
            e("vfmadd231ps %s, %s, %s", T1, wreg(u.tap.ky * op.kw + u.tap.kx, v), acc(u.c.j, v))
          end
        end
      end
    end
    finish(cols, nv, partial, out_index)
  end

  local label_id = 0
  local function fresh(name) label_id = label_id + 1; return name .. label_id end

  -- kloop=1: a group whose kernel rows are a machine-code loop. `cols` hold
  -- the taps of one kernel row ({ kx, disp } from the row pointer); each
  -- pass of the loop loads that row's weights (wreg=1) or reads them as
  -- memory operands, loads each input vector once and multiplies it into
  -- every column that reads it, then steps the row and weight pointers to
  -- the next kernel row. So every accumulator still sums bias, then the taps
  -- in [ky][kx] order, whatever kh is; kernel rows in the padding are
  -- skipped (the record's krow_first and krows).
  local function kloop_group(cols, nv, partial, in_index, out_index)
    start(cols, nv)
    local uses, disps, kxs = {}, {}, {}
    for _, c in ipairs(cols) do
      for _, tap in ipairs(c.taps) do
        if not uses[tap.disp] then uses[tap.disp] = {}; disps[#disps + 1] = tap.disp end
        table.insert(uses[tap.disp], { c = c, kx = tap.kx })
        kxs[tap.kx] = true
      end
    end
    if #disps > 0 then
      table.sort(disps)
      local top, skip = fresh("krow"), fresh("krows_done")
      e("mov %s, %s", R.in_row, R.krow)
      e("mov %s, %s", R.wfirst, R.wrow)
      e("mov %s, %s", addr(A.offset("dw", "krows"), RD), A.reg32(R.krows))
      e("test %s, %s", A.reg32(R.krows), A.reg32(R.krows))
      e("jz %s", skip)
      b:label(top)
      local function wmem(kx, v) return addr((1 + kx) * tap_bytes + v * V.bytes, R.wrow) end
      if k.wreg == 1 then
        for kx = 0, op.kw - 1 do
          if kxs[kx] then
            for v = 0, nv - 1 do e("%s %s, %s", mov, wmem(kx, v), wreg(kx, v)) end
          end
        end
      end
      for _, disp in ipairs(disps) do
        local list = uses[disp]
        for v = 0, nv - 1 do
          load_input(addr(disp + v * V.bytes, R.krow, in_index), v, nv, partial)
          for i, u in ipairs(list) do
            local w = k.wreg == 1 and wreg(u.kx, v) or wmem(u.kx, v)
            local Acc = acc(u.c.j, v)
            if L then
              -- two-operand forms: the last use may consume the input
              local T = T1
              if i < #list then e(L.copy .. " %s, %s", T1, T2); T = T2 end
              e(L.mul .. " %s, %s", w, T)
              e(L.add .. " %s, %s", T, Acc)
            else
              e("vfmadd231ps %s, %s, %s", w, T1, Acc)
            end
          end
        end
      end
      e("add $%d, %s", op.dil_h * op.w * in_px, R.krow)
      e("add $%d, %s", op.kw * tap_bytes, R.wrow)
      e("dec %s", A.reg32(R.krows))
      e("jnz %s", top)
      b:label(skip)
    end
    finish(cols, nv, partial, out_index)
  end

  -- Output columns ox0 .. ox0+width-1 addressed absolutely (no index
  -- registers), each with its taps that fall inside the row: the border
  -- columns share a group with their neighbours, so a border costs no more
  -- than an interior column and keeps as many accumulators in flight.
  local function absolute_group(ox0, width)
    local cols = {}
    for j = 0, width - 1 do
      local ox, taps = ox0 + j, {}
      for ky = 0, tap_rows - 1 do
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
      for ky = 0, tap_rows - 1 do
        for _, kx in ipairs(kxs) do
          local ix = (ox0 + j) * op.sw - op.pl + kx * op.dil_w
          taps[#taps + 1] = { ky = ky, kx = kx, disp = ix * in_px }
        end
      end
      cols[#cols + 1] = { j = j, taps = taps, out_disp = (ox0 + j) * out_px }
    end
    return cols
  end

  local emit_group = k.kloop == 1 and kloop_group or group

  -- order=3: one output row as a rolling wavefront. Step t reads input
  -- column t - ky*lag - pl of every kernel row ky (lag = the kernel's
  -- width in input columns) and multiplies it into every column that
  -- reads it there; column c starts at step c*sw and is stored after step
  -- c*sw + span - 1. So an accumulator gets one FMA per step, a step apart
  -- (each step multiplies kh*kw/sw*ct input vectors: enough independent
  -- chains to cover the FMA latency), in [ky][kx] order, and each input
  -- vector is loaded once; the live columns rotate through `slots`
  -- accumulator sets. The steps whose pattern repeats are a loop over the
  -- column offset registers, `slots` columns per pass; the rest unrolled.
  local function rolling_row(nv, partial)
    local lag = (op.kw - 1) * op.dil_w + 1
    local span = op.kh * lag
    local slots = M.rolling_slots(op)
    local period = slots * op.sw
    local steps = (g.ow - 1) * op.sw + span
    local function targets(t, ky)
      local u = t - ky * lag
      local list = {}
      for kx = 0, op.kw - 1 do
        local d = u - kx * op.dil_w
        if d % op.sw == 0 then list[#list + 1] = { c = d / op.sw, kx = kx } end
      end
      return u - op.pl, list
    end
    local function born(t) return t % op.sw == 0 and t / op.sw or nil end
    local function done(t)
      local f = t - span + 1
      return (f >= 0 and f % op.sw == 0) and f / op.sw or nil
    end
    local function steady(t)
      for ky = 0, op.kh - 1 do
        local x, list = targets(t, ky)
        if x < 0 or x >= op.w then return false end
        for _, tg in ipairs(list) do if tg.c < 0 or tg.c >= g.ow then return false end end
      end
      local c = born(t)
      if c and c >= g.ow then return false end
      if t - span + 1 < 0 then return false end
      c = done(t)
      return not (c and c >= g.ow)
    end
    -- step t with the column offset registers `shift` input columns (and
    -- shift / sw output columns) along
    local function step(t, shift)
      local c = born(t)
      if c and c < g.ow then start({ { j = c % slots } }, nv) end
      for ky = 0, op.kh - 1 do
        local x, list = targets(t, ky)
        local live = {}
        for _, tg in ipairs(list) do if tg.c >= 0 and tg.c < g.ow then live[#live + 1] = tg end end
        if x >= 0 and x < op.w and #live > 0 then
          for v = 0, nv - 1 do
            load_input(addr((x - shift) * in_px + v * V.bytes, R.tap_rows[ky + 1], R.col_in), v, nv, partial)
            for _, tg in ipairs(live) do
              e("vfmadd231ps %s, %s, %s", T1, wreg(ky * op.kw + tg.kx, v), acc(tg.c % slots, v))
            end
          end
        end
      end
      c = done(t)
      if c and c < g.ow then
        finish({ { j = c % slots, out_disp = (c - shift / op.sw) * out_px } }, nv, partial, R.col_out)
      end
    end
    local lo = 0
    while lo < steps and not steady(lo) do lo = lo + 1 end
    local hi = lo
    while hi + 1 < steps and steady(hi + 1) do hi = hi + 1 end
    local passes = lo < steps and math.floor((hi - lo + 1) / period) or 0
    e("xor %s, %s", A.reg32(R.col_in), A.reg32(R.col_in))
    e("xor %s, %s", A.reg32(R.col_out), A.reg32(R.col_out))
    if passes < 2 then
      for t = 0, steps - 1 do step(t, 0) end
      return
    end
    for t = 0, lo - 1 do step(t, 0) end
    local top = fresh("roll")
    e("mov $%d, %s", passes, A.reg32(R.cols))
    b:label(top)
    for t = lo, lo + period - 1 do step(t, 0) end
    e("add $%d, %s", period * in_px, R.col_in)
    e("add $%d, %s", slots * out_px, R.col_out)
    e("dec %s", A.reg32(R.cols))
    e("jnz %s", top)
    for t = lo + passes * period, steps - 1 do step(t, passes * period) end
  end
  -- the registers holding input rows: one per tap row, or kloop's one
  local row_regs = {}
  if k.kloop == 1 then row_regs[1] = R.in_row else for ky = 1, op.kh do row_regs[ky] = R.tap_rows[ky] end end

  -- One pass over the row for a tile of nv vectors (the last partial when
  -- `partial`); pointers are tile-relative.
  local function tile(nv, partial, row_loop)
    if k.kloop == 1 then
      -- the weights of the first kernel row inside the input
      e("imul $%d, %s, %s", op.kw * tap_bytes, addr(A.offset("dw", "krow_first"), RD), R.wfirst)
      e("add %s, %s", R.weights, R.wfirst)
    elseif k.wreg == 1 then
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
    if k.order == 3 then
      rolling_row(nv, partial)
      ox = g.ow
    end
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
        emit_group(run_group(ox, k.wt, run.kx), nv, partial, R.col_in, R.col_out)
        if reads then e("add $%d, %s", k.wt * op.sw * in_px, R.col_in) end
        e("add $%d, %s", k.wt * out_px, R.col_out)
        e("dec %s", A.reg32(R.cols))
        e("jnz %s", top)
        ox = ox + groups * k.wt
      else
        local width = math.min(k.wt, g.ow - ox)
        emit_group(absolute_group(ox, width), nv, partial)
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
      for _, r in ipairs(row_regs) do e("add $%d, %s", op.sh * op.w * in_px, r) end
      e("add $%d, %s", g.ow * out_px, R.out)
      e("decq %s", addr(A.offset("dw", "rows"), RD))
      e("jnz rows")
    end
  end

  for i, r in ipairs(row_regs) do e("mov %s, %s", addr(A.offset("dw", "tap_row", i - 1), RD), r) end
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
      for _, r in ipairs(row_regs) do e("add $%d, %s", bytes, r) end
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

-- order=3: the columns a rolling row keeps live (accumulator sets).
function M.rolling_slots(op)
  local span = op.kh * ((op.kw - 1) * op.dil_w + 1)
  return math.ceil(span / op.sw)
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

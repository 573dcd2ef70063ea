-- x86_activation.lua — the fused activation applied to an accumulator before its
-- store, shared by the depthwise and pointwise machine code.
--
-- emit(e, act, A, T1, T2, const, V, row): the activations of one or two
--   temporaries (none, relu, relu6, clamp, hswish, hsigmoid).
--   e(fmt, ...) emits one instruction; A is the accumulator; T1 and T2 are
--   free vector registers (T2 only for legacy hswish); const(name) is the
--   operand of a constant row ("zero", "lo", "hi", "three", "sixth"),
--   row(name) the row as a plain memory operand (no broadcast).
--   V is the ISA description (isa.lua): VEX/EVEX get the three-operand
--   forms with memory operands; legacy SSE its two-operand forms (packed
--   or scalar, V.legacy), whose constants are loaded into a temporary first
--   because legacy SSE memory operands must be aligned.
--
-- store_all(e, act, items, R, V): every accumulator of a register tile,
--   activated and stored in order (see there); the sigmoid-based
--   activations need more temporaries than a tile leaves free, and borrow
--   registers for them.
local ABI = require("kernel_abi")

local M = {}

function M.emit(e, act, A, T1, T2, const, V, row)
  if act == "none" then return end
  local L = V.legacy
  if L then
    if act == "relu" or act == "relu6" or act == "clamp" then
      e(L.mov .. " %s, %s", const(act == "relu" and "zero" or "lo"), T1)
      e(L.max .. " %s, %s", T1, A)
    end
    if act == "relu6" or act == "clamp" then
      e(L.mov .. " %s, %s", const("hi"), T1)
      e(L.min .. " %s, %s", T1, A)
    end
    if act == "hswish" then
      e(L.mov .. " %s, %s", const("three"), T2)
      e(L.copy .. " %s, %s", A, T1)
      e(L.add .. " %s, %s", T2, T1)
      e("%s", V.zero(T2))
      e(L.max .. " %s, %s", T2, T1)
      e(L.mov .. " %s, %s", const("hi"), T2)
      e(L.min .. " %s, %s", T2, T1)
      e(L.mov .. " %s, %s", const("sixth"), T2)
      e(L.mul .. " %s, %s", T2, T1)
      e(L.mul .. " %s, %s", T1, A)
    end
    if act == "hsigmoid" then
      -- max(x + 3, 0) with x + 3 as the source operand, which maxps returns
      -- when either is NaN; likewise the min: NaN stays NaN
      e(L.mov .. " %s, %s", const("three"), T1)
      e(L.add .. " %s, %s", T1, A)
      e("%s", V.zero(T1))
      e(L.max .. " %s, %s", A, T1)
      e(L.mov .. " %s, %s", const("hi"), A)
      e(L.min .. " %s, %s", T1, A)
      e(L.mov .. " %s, %s", const("sixth"), T1)
      e(L.mul .. " %s, %s", T1, A)
    end
    return
  end
  if act == "relu" then
    e("vmaxps %s, %s, %s", const("zero"), A, A)
  elseif act == "relu6" or act == "clamp" then
    e("vmaxps %s, %s, %s", const("lo"), A, A)
    e("vminps %s, %s, %s", const("hi"), A, A)
  elseif act == "hswish" then
    e("vaddps %s, %s, %s", const("three"), A, T1)
    e("vmaxps %s, %s, %s", const("zero"), T1, T1)
    e("vminps %s, %s, %s", const("hi"), T1, T1)
    e("vmulps %s, %s, %s", const("sixth"), T1, T1)
    e("vmulps %s, %s, %s", T1, A, A)
  elseif act == "hsigmoid" then
    -- the bounds in T1 and x + 3 as the last source, which max and min
    -- return when either is NaN
    e("vaddps %s, %s, %s", const("three"), A, A)
    e("%s", V.zero(T1))
    e("vmaxps %s, %s, %s", A, T1, A)
    e("vbroadcastss %s, %s", row("hi"), T1)
    e("vminps %s, %s, %s", A, T1, A)
    e("vmulps %s, %s, %s", const("sixth"), A, A)
  end
end

-- ---- the sigmoid family -------------------------------------------------------
--
-- sigmoid, silu, gelu and gelu_tanh are x * sigmoid(w) (sigmoid: sigmoid(w))
-- for w = x, x (c1 + c3 x^2) (gelu_tanh) or x R(min(x^2, 36)) (gelu, R the
-- polynomial of scripts/fit_activations.py). With K = 32 (act_consts.h
-- "scale" = 2^K) and e = 2^K exp(-|w|):
--
--   sigmoid(w) = num / den,  num = (w < 0 ? e : 2^K),  den = 2^K + e
--
-- neither of which over- or underflows before the result does, so a
-- sigmoid below 2^-126 is rounded once (by the division) and x * num, which
-- is normal wherever x * sigmoid(w) is, keeps silu's tail exact. The steps:
--
--   z   = max(zmin, w | -0)        -|w|, NaN kept; 2^(n+K) is 0 below zmin
--   nb  = z log2e + magic          n + 127 + K in the low bits (n = round(z log2 e))
--   s   = nb << 23                 2^(n+K), the exponent bits alone
--   n   = nb - magic
--   t   = z + n nln2_hi + n nln2_lo    in [-ln2/2, ln2/2]; the first product exact
--   p   = c1 + t (c2 + ... + t c6)
--   e   = (t s) p + s              2^K exp(z)
--   num = max(e, min(x big, 2^K))  x big >= 2^K wherever w > 0 makes e < 2^K,
--                                  and <= 0 for w <= 0 (w has x's sign)
--   sigmoid:  num / den
--   times x:  y = clamp(x, -huge, huge) num / den, then max(y, x - 1): beyond
--             huge, where x * 2^K would overflow, x - 1 (= x) wins, and below
--             it x - 1 < x sigmoid(w) always (clamping x also makes
--             -inf * 0 a -0).
-- A NaN x gives a NaN den, so NaN out; +-inf give the limits.
-- VEX/EVEX use FMA for the multiply-adds; SSE multiplies, then adds.

local SIGMOID_FAMILY = { sigmoid = true, silu = true, gelu = true, gelu_tanh = true }

-- true when act is computed by store_all's borrowed registers (the sigmoid
-- family), false when emit serves it with the caller's T1 and T2.
function M.borrows(act)
  return SIGMOID_FAMILY[act] == true
end

-- Vector temporaries the sigmoid family takes on ISA V.
function M.temps(V)
  return V.legacy and 4 or 3
end

-- x sigmoid(w) of accumulator X into X with temporaries T[1..3], VEX/EVEX.
-- c(name) is a constant row as a memory operand, ld(name, r) loads one.
local function vex_sigmoid(e, act, X, T, c, ld)
  local T1, T2, T3 = T[1], T[2], T[3]
  local W = X
  if act == "gelu_tanh" then
    e("vmulps %s, %s, %s", X, X, T1)
    ld("gelu_tanh_c3", T2)
    e("vfmadd213ps %s, %s, %s", c("gelu_tanh_c1"), T1, T2)
    e("vmulps %s, %s, %s", X, T2, T2)
    W = T2
  elseif act == "gelu" then
    e("vmulps %s, %s, %s", X, X, T1)
    e("vminps %s, %s, %s", c("gelu_x2max"), T1, T1)
    ld("gelu_r7", T2)
    for i = 6, 0, -1 do e("vfmadd213ps %s, %s, %s", c("gelu_r" .. i), T1, T2) end
    e("vmulps %s, %s, %s", X, T2, T2)
    W = T2
  end
  e("vorps %s, %s, %s", c("sign"), W, T1)                 -- z = -|w|
  ld("zmin", T2)
  e("vmaxps %s, %s, %s", T1, T2, T2)                      -- max(zmin, z): z when NaN
  ld("magic", T1)
  e("vfmadd231ps %s, %s, %s", c("log2e"), T2, T1)         -- nb
  e("vpslld $23, %s, %s", T1, T3)                         -- s = 2^(n+K)
  e("vsubps %s, %s, %s", c("magic"), T1, T1)              -- n
  e("vfmadd231ps %s, %s, %s", c("nln2_hi"), T1, T2)
  e("vfmadd231ps %s, %s, %s", c("nln2_lo"), T1, T2)       -- t
  ld("exp_c6", T1)
  for i = 5, 1, -1 do e("vfmadd213ps %s, %s, %s", c("exp_c" .. i), T2, T1) end -- p
  e("vmulps %s, %s, %s", T3, T2, T2)                      -- t s
  e("vfmadd231ps %s, %s, %s", T1, T2, T3)                 -- e
  e("vaddps %s, %s, %s", c("scale"), T3, T1)              -- den
  e("vmulps %s, %s, %s", c("big"), X, T2)
  e("vminps %s, %s, %s", c("scale"), T2, T2)
  e("vmaxps %s, %s, %s", T2, T3, T3)                      -- num
  if act == "sigmoid" then
    e("vdivps %s, %s, %s", T1, T3, X)
    return
  end
  e("vmaxps %s, %s, %s", c("nhuge"), X, T2)
  e("vminps %s, %s, %s", c("huge"), T2, T2)
  e("vmulps %s, %s, %s", T3, T2, T2)
  e("vdivps %s, %s, %s", T1, T2, T2)                      -- y
  e("vsubps %s, %s, %s", c("one"), X, X)
  e("vmaxps %s, %s, %s", X, T2, X)                        -- max(y, x - 1)
end

-- The same with legacy SSE's two-operand packed forms and temporaries
-- T[1..4]; every constant goes through a temporary (ld).
local function sse_sigmoid(e, act, X, T, ld)
  local T1, T2, T3, T4 = T[1], T[2], T[3], T[4]
  if act == "gelu_tanh" then
    e("movaps %s, %s", X, T1)
    e("mulps %s, %s", X, T1)
    ld("gelu_tanh_c3", T2)
    e("mulps %s, %s", T2, T1)
    ld("gelu_tanh_c1", T2)
    e("addps %s, %s", T2, T1)
    e("mulps %s, %s", X, T1)                              -- w
    ld("sign", T2)
    e("orps %s, %s", T2, T1)
  elseif act == "gelu" then
    e("movaps %s, %s", X, T1)
    e("mulps %s, %s", X, T1)
    ld("gelu_x2max", T2)
    e("minps %s, %s", T2, T1)
    ld("gelu_r7", T2)
    for i = 6, 0, -1 do
      e("mulps %s, %s", T1, T2)
      ld("gelu_r" .. i, T3)
      e("addps %s, %s", T3, T2)
    end
    e("mulps %s, %s", X, T2)                              -- w
    ld("sign", T1)
    e("orps %s, %s", T2, T1)
  else
    ld("sign", T1)
    e("orps %s, %s", X, T1)
  end
  ld("zmin", T2)
  e("maxps %s, %s", T1, T2)                               -- max(zmin, z): z when NaN
  ld("log2e", T1)
  e("mulps %s, %s", T2, T1)
  ld("magic", T3)
  e("addps %s, %s", T3, T1)                               -- nb
  e("movaps %s, %s", T1, T4)
  e("pslld $23, %s", T4)                                  -- s
  e("subps %s, %s", T3, T1)                               -- n
  for _, part in ipairs({ "nln2_hi", "nln2_lo" }) do
    ld(part, T3)
    e("mulps %s, %s", T1, T3)
    e("addps %s, %s", T3, T2)
  end                                                     -- t
  ld("exp_c6", T1)
  for i = 5, 1, -1 do
    e("mulps %s, %s", T2, T1)
    ld("exp_c" .. i, T3)
    e("addps %s, %s", T3, T1)
  end                                                     -- p
  e("mulps %s, %s", T4, T2)
  e("mulps %s, %s", T1, T2)
  e("addps %s, %s", T2, T4)                               -- e
  ld("scale", T1)
  e("addps %s, %s", T4, T1)                               -- den
  ld("big", T2)
  e("mulps %s, %s", X, T2)
  ld("scale", T3)
  e("minps %s, %s", T3, T2)
  e("maxps %s, %s", T2, T4)                               -- num
  if act == "sigmoid" then
    e("divps %s, %s", T1, T4)
    e("movaps %s, %s", T4, X)
    return
  end
  ld("nhuge", T2)
  e("maxps %s, %s", X, T2)
  ld("huge", T3)
  e("minps %s, %s", T3, T2)
  e("mulps %s, %s", T4, T2)
  e("divps %s, %s", T1, T2)                               -- y
  ld("one", T3)
  e("subps %s, %s", T3, X)
  e("maxps %s, %s", T2, X)                                -- max(x - 1, y)
end

-- Applies act to accumulator X with temporaries T (M.temps of them);
-- row(name) is constant row `name` as a plain memory operand.
local function sigmoid_family(e, act, X, T, row, V)
  if V.legacy then
    sse_sigmoid(e, act, X, T, function(name, r) e("movups %s, %s", row(name), r) end)
  else
    vex_sigmoid(e, act, X, T, function(name) return row(name) .. (V.bcast or "") end,
      function(name, r) e("vbroadcastss %s, %s", row(name), r) end)
  end
end

-- Activates and stores the accumulators of a register tile, in order.
--   items  { { acc = register, store = function() emits the store end }, ... }
--   R      { T1, T2 = emit's temporaries, const = emit's const,
--            free = registers free throughout (T1 and T2 among them when
--                   free), beside the accumulators,
--            lend = { { reg =, restore = function() end }, ... } registers
--                   the code may borrow when free and the accumulators
--                   are too few, each restored after the last store,
--            row = function(name): constant row `name` (kernel_abi's rows
--                  for act) as a plain memory operand }
-- The sigmoid family takes M.temps(V) temporaries: from `free`, then from
-- the accumulators stored last, saved in the record's spill rows until
-- their turn (each stored accumulator frees its register for the next),
-- then from `lend`.
function M.store_all(e, act, items, R, V)
  if not M.borrows(act) then
    for _, it in ipairs(items) do
      M.emit(e, act, it.acc, R.T1, R.T2, R.const, V, R.row)
      it.store()
    end
    return
  end
  local mov = V.legacy and "movups" or "vmovups"
  local need = M.temps(V)
  local pool = {}
  for _, r in ipairs(R.free) do pool[#pool + 1] = r end
  local saved, borrowed = {}, {} -- saved[i]: the spill row holding accumulator i
  local last, spills = #items, 0
  while #pool < need and last > 1 and spills < ABI.SPILL_ROWS do
    saved[last] = R.row("spill" .. spills)
    spills = spills + 1
    e("%s %s, %s", mov, items[last].acc, saved[last])
    pool[#pool + 1] = items[last].acc
    last = last - 1
  end
  for _, l in ipairs(R.lend or {}) do
    if #pool >= need then break end
    pool[#pool + 1] = l.reg
    borrowed[#borrowed + 1] = l
  end
  assert(#pool >= need, "x86_activation: too few registers for " .. act)
  for i, it in ipairs(items) do
    local temps = {}
    for _, r in ipairs(pool) do
      if r ~= it.acc and #temps < need then temps[#temps + 1] = r end
    end
    if saved[i] then e("%s %s, %s", mov, saved[i], it.acc) end
    sigmoid_family(e, act, it.acc, temps, R.row, V)
    it.store()
    if not saved[i] then pool[#pool + 1] = it.acc end
  end
  for _, l in ipairs(borrowed) do l.restore() end
end

return M

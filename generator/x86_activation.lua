-- x86_activation.lua — the fused activation applied to an accumulator before its
-- store, shared by the depthwise and pointwise machine code.
--
-- emit(e, act, A, T1, T2, const, V):
--   e(fmt, ...) emits one instruction; A is the accumulator; T1 and T2 are
--   free vector registers (T2 only for legacy hswish); const(name) is the
--   operand of a constant row ("zero", "lo", "hi", "three", "sixth").
--   V is the ISA description (isa.lua): VEX/EVEX get the three-operand
--   forms with memory operands; legacy SSE its two-operand forms (packed
--   or scalar, V.legacy), whose constants are loaded into a temporary first
--   because legacy SSE memory operands must be aligned.
local M = {}

function M.emit(e, act, A, T1, T2, const, V)
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
  end
end

return M

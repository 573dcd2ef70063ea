-- c_activation.lua — an op's fused activation as C, for the portable
-- templates: statements on the float accumulator, and for the sigmoid
-- family (sigmoid, silu, gelu, gelu_tanh) a function they call.
local C = require("c_literal")
local ABI = require("kernel_abi")

local M = {}

local FAMILY = { sigmoid = true, silu = true, gelu = true, gelu_tanh = true }

-- C statements applying op's activation to the float lvalue `x`, in the
-- order the vector code uses; `fn` names the function definitions(op, fn)
-- defines, which the sigmoid family calls.
function M.statements(op, x, indent, fn)
  local lo, hi = 0, 6
  if op.act == "clamp" then lo, hi = op.act_min, op.act_max end
  local s
  if op.act == "none" then
    return indent .. "/* no activation */"
  elseif op.act == "relu" then
    s = string.format("%s = %s > 0.0f ? %s : 0.0f;", x, x, x)
  elseif op.act == "relu6" or op.act == "clamp" then
    s = string.format("%s = %s > %s ? %s : %s; %s = %s < %s ? %s : %s;",
      x, x, C.float(lo), x, C.float(lo), x, x, C.float(hi), x, C.float(hi))
  elseif op.act == "hswish" then
    s = string.format("{ float t_ = %s + 3.0f; t_ = t_ > 0.0f ? t_ : 0.0f; t_ = t_ < 6.0f ? t_ : 6.0f;"
      .. " %s = %s * (t_ * (1.0f / 6.0f)); }", x, x, x)
  elseif op.act == "hsigmoid" then
    -- the comparisons false for a NaN, which stays
    s = string.format("{ float t_ = %s + 3.0f; t_ = t_ < 0.0f ? 0.0f : t_; t_ = t_ > 6.0f ? 6.0f : t_;"
      .. " %s = t_ * (1.0f / 6.0f); }", x, x)
  elseif FAMILY[op.act] then
    s = string.format("%s = %s(%s);", x, fn, x)
  else
    error("c_activation: unknown activation '" .. tostring(op.act) .. "'", 0)
  end
  return indent .. s
end

-- The definition of `static float fn(float x)` for the sigmoid family (nil
-- for the other activations): the steps of x86_activation.lua's, the
-- multiply-adds unfused (a compiler may fuse them), the constants of
-- runtime/internal/act_consts.h.
function M.definitions(op, fn)
  if not FAMILY[op.act] then return nil end
  local function k(name) return C.float(ABI.act_const(name)) end
  local L = {
    string.format("/* %s: x * sigmoid(w) as generator/x86_activation.lua computes it */", op.act),
    string.format("static float %s(float x)", fn),
    "{",
    "  union { float f; unsigned int u; } b;",
    "  float w, z, nb, s, n, t, p, e, den, num, h;",
  }
  local function add(fmt, ...) L[#L + 1] = "  " .. string.format(fmt, ...) end
  if op.act == "gelu_tanh" then
    add("w = x * x;")
    add("w = w * %s + %s;", k("gelu_tanh_c3"), k("gelu_tanh_c1"))
    add("w = w * x;")
  elseif op.act == "gelu" then
    add("h = x * x;")
    add("h = h < %s ? h : %s;", k("gelu_x2max"), k("gelu_x2max"))
    add("w = %s;", k("gelu_r7"))
    for i = 6, 0, -1 do add("w = w * h + %s;", k("gelu_r" .. i)) end
    add("w = w * x;")
  else
    add("w = x;")
  end
  add("b.f = w;")
  add("b.u |= 0x80000000u;")
  add("z = b.f < %s ? %s : b.f; /* -|w|, a NaN kept */", k("zmin"), k("zmin"))
  add("nb = z * %s + %s;", k("log2e"), k("magic"))
  add("b.f = nb;")
  add("b.u <<= 23;")
  add("s = b.f; /* 2^(n + K) */")
  add("n = nb - %s;", k("magic"))
  add("t = z + n * %s;", k("nln2_hi"))
  add("t = t + n * %s;", k("nln2_lo"))
  add("p = %s;", k("exp_c6"))
  for i = 5, 1, -1 do add("p = p * t + %s;", k("exp_c" .. i)) end
  add("e = (t * s) * p + s; /* 2^K e^z */")
  add("den = e + %s;", k("scale"))
  add("h = x * %s;", k("big"))
  add("h = h < %s ? h : %s;", k("scale"), k("scale"))
  add("num = e > h ? e : h;")
  if op.act == "sigmoid" then
    add("return num / den;")
  else
    add("h = x > %s ? x : %s;", k("nhuge"), k("nhuge"))
    add("h = h < %s ? h : %s;", k("huge"), k("huge"))
    add("h = h * num / den;")
    add("return h > x - 1.0f ? h : x - 1.0f; /* x - 1 when NaN */")
  end
  L[#L + 1] = "}"
  return table.concat(L, "\n")
end

return M

-- c_activation.lua — an op's fused activation as C statements, for the
-- portable templates and the scalar channel tails of the x86 ones.
local C = require("c_literal")

local M = {}

-- C statements applying op's activation to the float lvalue `x`, in the
-- order the vector code uses, so scalar tails agree with the vector body.
function M.statements(op, x, indent)
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
  else
    error("c_activation: unknown activation '" .. tostring(op.act) .. "'", 0)
  end
  return indent .. s
end

return M

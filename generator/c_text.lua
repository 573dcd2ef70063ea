-- c_text.lua — small pieces of C text shared by the templates.
local M = {}

-- A float literal that every C compiler reads back exactly.
function M.float(v)
  if v ~= v then error("c_text: NaN has no C literal", 0) end
  if v == math.huge then return "(1.0f / 0.0f)" end
  if v == -math.huge then return "(-1.0f / 0.0f)" end
  return string.format("%.9ef", v)
end

-- C statements applying op's activation to the float lvalue `x`, in the
-- order the vector code uses, so scalar tails agree with the vector body.
function M.activation(op, x, indent)
  local lo, hi = 0, 6
  if op.act == "clamp" then lo, hi = op.act_min, op.act_max end
  local s
  if op.act == "none" then
    return indent .. "/* no activation */"
  elseif op.act == "relu" then
    s = string.format("%s = %s > 0.0f ? %s : 0.0f;", x, x, x)
  elseif op.act == "relu6" or op.act == "clamp" then
    s = string.format("%s = %s > %s ? %s : %s; %s = %s < %s ? %s : %s;",
      x, x, M.float(lo), x, M.float(lo), x, x, M.float(hi), x, M.float(hi))
  elseif op.act == "hswish" then
    s = string.format("{ float t_ = %s + 3.0f; t_ = t_ > 0.0f ? t_ : 0.0f; t_ = t_ < 6.0f ? t_ : 6.0f;"
      .. " %s = %s * (t_ * (1.0f / 6.0f)); }", x, x, x)
  else
    error("c_text: unknown activation '" .. tostring(op.act) .. "'", 0)
  end
  return indent .. s
end

return M

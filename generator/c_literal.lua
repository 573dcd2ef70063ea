-- c_literal.lua — numbers as C literals that every C compiler (gcc, clang,
-- tcc) reads back exactly.
local M = {}

-- A float literal.
function M.float(v)
  if v ~= v then error("c_literal: NaN has no C literal", 0) end
  if v == math.huge then return "(1.0f / 0.0f)" end
  if v == -math.huge then return "(-1.0f / 0.0f)" end
  return string.format("%.9ef", v)
end

return M

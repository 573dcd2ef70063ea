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

-- An integer literal: its exact decimal digits, never an exponent. No
-- suffix: a decimal literal beyond int takes the first of long and long
-- long that holds it (C99 6.4.4.1; gcc, clang and tcc alike), so its value
-- is right as it stands, and a template writes "L" after one where it wants
-- the arithmetic around it in long. Lua numbers are doubles, exact below
-- 2^53: a value that is not an integer there has no literal.
function M.int(v)
  if type(v) ~= "number" or v ~= math.floor(v) or math.abs(v) >= 2 ^ 53 then
    error("c_literal: " .. tostring(v) .. " is not an integer below 2^53", 0)
  end
  return string.format("%.0f", v)
end

return M

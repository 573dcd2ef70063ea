-- knobs.lua — knob strings ("ct=2,wt=4") and knob spaces.
--
-- A space is a list of knob declarations { name=, values={...}, doc= } plus a
-- `valid(op, isa, k)` rule returning true or false, reason. Errors about a
-- knob string start with "knobs: " so the runtime reports them as an
-- unsupported configuration rather than as a generator fault.

local M = {}

local function fail(fmt, ...)
  error("knobs: " .. string.format(fmt, ...), 0)
end

-- Parses "a=1,b=2" into { a=1, b=2 } against the declarations of `space`.
function M.parse(space, s)
  local k = {}
  if s == nil or s == "" then return k end
  for item in (s .. ","):gmatch("([^,]*),") do
    local name, value = item:match("^%s*([%a_][%w_]*)%s*=%s*(-?%d+)%s*$")
    if not name then fail("malformed item '%s' in '%s' (expected name=integer)", item, s) end
    local decl
    for _, d in ipairs(space.knobs) do if d.name == name then decl = d end end
    if not decl then
      local names = {}
      for _, d in ipairs(space.knobs) do names[#names + 1] = d.name end
      fail("unknown knob '%s' (this op has: %s)", name, table.concat(names, ", "))
    end
    if k[name] ~= nil then fail("knob '%s' given twice", name) end
    k[name] = tonumber(value)
  end
  return k
end

-- Canonical text of a knob table in declaration order.
function M.format(space, k)
  local parts = {}
  for _, d in ipairs(space.knobs) do
    if k[d.name] ~= nil then parts[#parts + 1] = d.name .. "=" .. string.format("%d", k[d.name]) end
  end
  return table.concat(parts, ",")
end

-- Fills the knobs not given from `defaults` and checks every value against
-- its declared range and the space's validity rule.
function M.complete(space, op, isa, given, defaults)
  local k = {}
  for _, d in ipairs(space.knobs) do
    local v = given[d.name]
    if v == nil then v = defaults[d.name] end
    local ok = false
    for _, allowed in ipairs(d.values) do if allowed == v then ok = true end end
    if not ok then
      fail("%s=%s is outside {%s}", d.name, tostring(v), table.concat(d.values, ","))
    end
    k[d.name] = v
  end
  local ok, why = space.valid(op, isa, k)
  if not ok then fail("%s invalid for %s on %s: %s", M.format(space, k), op.line or op.kind, isa, why) end
  return k
end

-- Every valid configuration of the space, in declaration order (odometer).
function M.enumerate(space, op, isa)
  local out, cur = {}, {}
  local function rec(i)
    if i > #space.knobs then
      local copy = {}
      for n, v in pairs(cur) do copy[n] = v end
      if space.valid(op, isa, copy) then out[#out + 1] = copy end
      return
    end
    local d = space.knobs[i]
    for _, v in ipairs(d.values) do
      cur[d.name] = v
      rec(i + 1)
    end
  end
  rec(1)
  return out
end

return M

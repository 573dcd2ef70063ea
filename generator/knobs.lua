-- knobs.lua — knob strings ("ct=2,wt=4") and knob spaces.
--
-- A space is a list of knob declarations plus a `valid(op, isa, k)` rule
-- returning true or false, reason. A declaration is { name=, values={...} }
-- (the values the tuner searches) or { name=, range={lo, hi} } (any integer
-- in [lo, hi], for knobs whose good values follow the shape). A declaration
-- with split = true is a knob of the work split (how a kernel's work is cut
-- into items for threads): the space's `default_split(op, isa, k, ctx)`
-- fills those the caller did not give, once the others are known, and its
-- `valid_split(op, isa, k)` checks them. They are declared after the
-- others, so a knob string without its tail of split knobs is the space's
-- line of the same configuration. The search space the tuner walks first
-- (enumerate) leaves them out: it searches them on their own
-- (`split_space`). Errors about a knob string start with "knobs: " so the
-- runtime reports them as an unsupported configuration rather than as a
-- generator fault.

local M = {}

local function fail(fmt, ...)
  error("knobs: " .. string.format(fmt, ...), 0)
end

-- The declaration of knob `name` in space, or nil.
function M.declaration(space, name)
  for _, d in ipairs(space.knobs) do if d.name == name then return d end end
  return nil
end

-- Parses "a=1,b=2" into { a=1, b=2 } against the declarations of `space`.
function M.parse(space, s)
  local k = {}
  if s == nil or s == "" then return k end
  for item in (s .. ","):gmatch("([^,]*),") do
    local name, value = item:match("^%s*([%a_][%w_]*)%s*=%s*(-?%d+)%s*$")
    if not name then fail("malformed item '%s' in '%s' (expected name=integer)", item, s) end
    if not M.declaration(space, name) then
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

-- k without its split knobs.
function M.without_split(space, k)
  local out = {}
  for _, d in ipairs(space.knobs) do
    if not d.split then out[d.name] = k[d.name] end
  end
  return out
end

-- nil when v is a value declaration d admits, else what it admits.
local function outside(d, v)
  if d.range then
    if type(v) == "number" and v == math.floor(v) and v >= d.range[1] and v <= d.range[2] then return nil end
    return string.format("[%.0f, %.0f]", d.range[1], d.range[2])
  end
  for _, allowed in ipairs(d.values) do if allowed == v then return nil end end
  return "{" .. table.concat(d.values, ",") .. "}"
end

local function check(space, op, isa, k)
  for _, d in ipairs(space.knobs) do
    local admits = outside(d, k[d.name])
    if admits then fail("%s=%s is outside %s", d.name, tostring(k[d.name]), admits) end
  end
  local ok, why = space.valid(op, isa, k)
  if ok and space.valid_split then ok, why = space.valid_split(op, isa, k) end
  if not ok then fail("%s invalid for %s on %s: %s", M.format(space, k), op.line or op.kind, isa, why) end
end

-- Fills the knobs not given: the split knobs from
-- space.default_split(op, isa, k, ctx) once the others are known, the others
-- from `defaults`; then checks every value against its declaration and the
-- space's validity rules. ctx carries what the split depends on besides the
-- shape: { hw = cache budgets, threads = the plan's thread count }.
function M.complete(space, op, isa, given, defaults, ctx)
  local k = {}
  for _, d in ipairs(space.knobs) do
    if not d.split then
      local v = given[d.name]
      if v == nil then v = defaults[d.name] end
      k[d.name] = v
    end
  end
  local split
  for _, d in ipairs(space.knobs) do
    if d.split then
      local v = given[d.name]
      if v == nil then
        split = split or space.default_split(op, isa, k, ctx or {})
        v = split[d.name]
      end
      k[d.name] = v
    end
  end
  check(space, op, isa, k)
  return k
end

-- Every valid configuration of the space's knobs other than the split ones,
-- in declaration order (odometer).
function M.enumerate(space, op, isa)
  local out, cur = {}, {}
  local decls = {}
  for i, d in ipairs(space.knobs) do
    if not d.split then decls[#decls + 1] = d end
    assert(d.split or i == #decls, "knobs: the split knobs must be declared after the others")
  end
  local function rec(i)
    if i > #decls then
      if space.valid(op, isa, cur) then
        local copy = {}
        for n, v in pairs(cur) do copy[n] = v end
        out[#out + 1] = copy
      end
      return
    end
    local d = decls[i]
    for _, v in ipairs(d.values) do
      cur[d.name] = v
      rec(i + 1)
    end
  end
  rec(1)
  return out
end

-- The value of a split among `candidates` (a list of tables of split knobs)
-- with the least cost(c), ties to the earlier one; the candidates the
-- space's valid_split refuses for op, isa and the other knobs k are skipped.
function M.cheapest_split(space, op, isa, k, candidates, cost)
  local best, best_cost
  for _, c in ipairs(candidates) do
    local full = {}
    for n, v in pairs(k) do full[n] = v end
    for n, v in pairs(c) do full[n] = v end
    if space.valid_split(op, isa, full) then
      local x = cost(c)
      if not best_cost or x < best_cost - 1e-12 then best, best_cost = c, x end
    end
  end
  return best
end

return M

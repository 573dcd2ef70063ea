-- septune_gen.lua — the generator's entry point, called by the runtime
-- (runtime/src/generator.c) and the tuner: op table + ISA + knob string in,
-- C source out.
--
-- op is a table with the fields of septune.h: kind ("dw" | "pw"), n h w,
-- dw: c kh kw sh sw dil_h dil_w pt pl pb pr m, pw: ci co, and bias (0|1),
-- act ("none" | "relu" | "relu6" | "clamp" | "hswish"), act_min, act_max,
-- line (the canonical layer line).
--
-- A kernel is generated for one image: op.n is taken as 1 whatever it is
-- (the runtime passes the layer with n = 1, and its line), and the kernel
-- runs any batch as more work items (kernel_abi.lua).
--
-- opts, the last argument of every function, carries
--   hw      the target's caches as runtime/internal/cache_budget.h budgets them:
--           { l1d, l2, l3, resident, panel, m_block } in bytes; the default
--           knobs follow them
--   threads the thread count of the plan (default 1): the default work
--           split (knobs rb, cb, th / mc, np, th) follows it
--   resplit true: the split knobs of the knob string are dropped and the
--           default split for `threads` takes their place (a record tuned
--           for another thread count)
--   prefix  the first part of the kernel's symbols (a C identifier;
--           default "septune")
--
-- The generator runs hosted by the runtime: generator.c preloads the module
-- "septune_host" (the runtime's numbers, see isa.lua and the knob spaces).
local K = require("knobs")
local ABI = require("kernel_abi")

local M = {}

-- Bumped whenever a template change alters generated code, so tuning records
-- of older kernels are not reused for newer ones: generator/template_version.lua,
-- which the runtime reads too.
M.TEMPLATE_VERSION = require("template_version")

local families = { dw = "depthwise", pw = "pointwise" }

local function family(op)
  local name = families[op.kind]
  if not name then error("generator: no kernel family for op kind '" .. tostring(op.kind) .. "'", 0) end
  return require(name)
end

-- FNV-1a, 32 bits: a short stable name for a kernel.
local function hash(s)
  local h = 2166136261
  for i = 1, #s do
    h = bit.bxor(h, s:byte(i))
    h = bit.tobit(h * 16777619 % 4294967296)
  end
  return bit.tohex(h)
end

-- Lua computes in doubles, exact for integers below 2^53: sizes beyond
-- would print wrong into the C source. An error starting "unsupported: "
-- reaches the caller as SEPTUNE_ERR_UNSUPPORTED.
local EXACT = 2 ^ 53

local function unsupported(op, isa, why)
  error(string.format("unsupported: %s on %s: %s", tostring(op.line or op.kind), isa, why), 0)
end

-- The element counts of op's tensors for one image, each with what it is.
local function tensor_sizes(op)
  if op.kind == "pw" then
    local px = op.h * op.w
    return { { px * op.ci, "h*w*ci" }, { px * op.co, "h*w*co" }, { op.ci * op.co, "ci*co" } }
  end
  local g = require("dw_geometry").derive(op)
  return { { op.h * op.w * g.ci, "h*w*c*m" }, { g.oh * g.ow * g.co, "oh*ow*c*m" },
           { (g.taps + 1) * g.co_pad, "(kh*kw+1)*c*m" } }
end

-- op's integer fields and their names in a layer line
local DIMENSIONS = { { "h" }, { "w" }, { "c" }, { "kh" }, { "kw" }, { "sh" }, { "sw" }, { "dil_h", "dh" },
                     { "dil_w", "dw" }, { "pt", "pad top" }, { "pl", "pad left" }, { "pb", "pad bottom" },
                     { "pr", "pad right" }, { "m" }, { "ci" }, { "co" } }

-- Raises "unsupported: ..." when the generator cannot serve op on isa.
local function check_supported(fam, op, isa)
  for _, d in ipairs(DIMENSIONS) do
    local v = op[d[1]]
    if v and v >= EXACT then
      unsupported(op, isa, string.format("%s=%.0f is more than the generator counts exactly (2^53)", d[2] or d[1], v))
    end
  end
  for _, t in ipairs(tensor_sizes(op)) do
    if t[1] >= EXACT then
      unsupported(op, isa, string.format("%s = %.0f elements, more than the generator counts exactly (2^53)",
        t[2], t[1]))
    end
  end
  local why = fam.space.unsupported(op, isa)
  if why then unsupported(op, isa, why) end
end

local function hw_of(opts)
  local hw = opts and opts.hw
  if type(hw) ~= "table" then error("generator: opts.hw (the target's cache budgets) is missing", 0) end
  return hw
end

local function threads_of(opts)
  local t = opts and opts.threads or 1
  if type(t) ~= "number" or t < 1 or t ~= math.floor(t) then
    error("generator: opts.threads must be a whole number >= 1, not " .. tostring(t), 0)
  end
  return t
end

-- op with n = 1 (and its canonical line, which starts "<kind> n=<n> "):
-- what a kernel is generated for.
local function one_image(op)
  if op.n == 1 then return op end
  local copy = {}
  for key, v in pairs(op) do copy[key] = v end
  copy.n = 1
  if type(op.line) == "string" then copy.line = op.line:gsub("^(%a+) n=%d+ ", "%1 n=1 ", 1) end
  return copy
end

local function resolve(op, isa, knob_string, opts)
  local fam = family(op)
  op = one_image(op)
  check_supported(fam, op, isa)
  local given = K.parse(fam.space, knob_string)
  if opts and opts.resplit then given = K.without_split(fam.space, given) end
  local hw = hw_of(opts)
  local k = K.complete(fam.space, op, isa, given, fam.space.default(op, isa, hw), { hw = hw, threads = threads_of(opts) })
  return fam, k, op
end

-- Returns the source, the kernel's symbol, the canonical knob string, and
-- what the source exports: { { role =, name =, declaration = }, ... }, the
-- kernel first (kernel_abi.exports).
function M.render(op, isa, knob_string, opts)
  local fam, k
  fam, k, op = resolve(op, isa, knob_string, opts)
  local knobs = K.format(fam.space, k)
  local prefix = opts.prefix or "septune"
  if type(prefix) ~= "string" or not prefix:match("^[%a_][%w_]*$") then
    error("generator: symbol prefix '" .. tostring(prefix) .. "' is not a C identifier", 0)
  end
  local symbol = string.format("%s_%s_%s_%s", prefix, op.kind, isa,
    hash(tostring(op.line) .. "|" .. isa .. "|" .. knobs .. "|" .. M.TEMPLATE_VERSION))
  local source = fam.render(op, isa, k, symbol)
  return source, symbol, knobs, ABI.exports(op.kind, symbol)
end

-- The canonical default knob string for op on isa.
function M.default_knobs(op, isa, _, opts)
  local fam, k = resolve(op, isa, nil, opts)
  return K.format(fam.space, k)
end

-- Every knob string of the space the tuner searches, one per line, without
-- the split knobs (a plan completes them with the default split for its
-- threads): the valid ones, less those the family's `searched` leaves out.
function M.space(op, isa)
  local fam = family(op)
  op = one_image(op)
  check_supported(fam, op, isa)
  local lines = {}
  local searched = fam.space.searched or function() return true end
  for _, k in ipairs(K.enumerate(fam.space, op, isa)) do
    if searched(op, isa, k) then lines[#lines + 1] = K.format(fam.space, k) end
  end
  return table.concat(lines, "\n")
end

-- The splits worth trying for opts.threads threads with the other knobs of
-- `knob_string` (their split knobs ignored): complete knob strings, one per
-- line, the default split first; th is every count from 1 to the threads
-- the layer could use.
function M.split_space(op, isa, knob_string, opts)
  local fam, k
  fam, k, op = resolve(op, isa, knob_string, { hw = hw_of(opts), threads = threads_of(opts), resplit = true })
  local S = fam.space
  local threads = threads_of(opts)
  local lines, seen = {}, {}
  local function add(full)
    local text = K.format(S, full)
    if not seen[text] then seen[text] = true; lines[#lines + 1] = text end
  end
  add(k)
  for _, c in ipairs(S.split_candidates(op, isa, k, threads)) do
    local full = {}
    for n, v in pairs(k) do full[n] = v end
    for n, v in pairs(c) do full[n] = v end
    if S.valid_split(op, isa, full) then
      local work = S.items(op, isa, full).work
      for th = 1, math.min(threads, work) do
        full.th = th
        add(full)
      end
    end
  end
  return table.concat(lines, "\n")
end

function M.template_version()
  return tostring(M.TEMPLATE_VERSION)
end

return M

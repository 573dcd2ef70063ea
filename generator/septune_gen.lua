-- septune_gen.lua — the generator's entry point, called by the runtime
-- (runtime/src/generator.c) and the tuner: op table + ISA + knob string in,
-- C source out.
--
-- op is a table with the fields of septune.h: kind ("dw" | "pw"), n h w,
-- dw: c kh kw sh sw dil_h dil_w pt pl pb pr m, pw: ci co, and bias (0|1),
-- act ("none" | "relu" | "relu6" | "clamp" | "hswish"), act_min, act_max,
-- line (the canonical layer line).
--
-- opts, the last argument of every function, carries
--   hw      the target's caches as runtime/internal/cache_budget.h budgets them:
--           { l1d, l2, l3, resident, panel, m_block } in bytes; the default
--           knobs follow them
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

-- The element counts of op's tensors, each with what it is.
local function tensor_sizes(op)
  if op.kind == "pw" then
    local px = op.n * op.h * op.w
    return { { px * op.ci, "n*h*w*ci" }, { px * op.co, "n*h*w*co" }, { op.ci * op.co, "ci*co" } }
  end
  local g = require("dw_geometry").derive(op)
  return { { op.n * op.h * op.w * g.ci, "n*h*w*c*m" }, { op.n * g.oh * g.ow * g.co, "n*oh*ow*c*m" },
           { (g.taps + 1) * g.co_pad, "(kh*kw+1)*c*m" } }
end

-- op's integer fields and their names in a layer line
local DIMENSIONS = { { "n" }, { "h" }, { "w" }, { "c" }, { "kh" }, { "kw" }, { "sh" }, { "sw" }, { "dil_h", "dh" },
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

local function resolve(op, isa, knob_string, opts)
  local fam = family(op)
  check_supported(fam, op, isa)
  local given = K.parse(fam.space, knob_string)
  local k = K.complete(fam.space, op, isa, given, fam.space.default(op, isa, hw_of(opts)))
  return fam, k
end

-- Returns the source, the kernel's symbol, the canonical knob string, and
-- what the source exports: { { role =, name =, declaration = }, ... }, the
-- kernel first (kernel_abi.exports).
function M.render(op, isa, knob_string, opts)
  local fam, k = resolve(op, isa, knob_string, opts)
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

-- Every valid knob string of the space, one per line.
function M.space(op, isa)
  local fam = family(op)
  check_supported(fam, op, isa)
  local lines = {}
  for _, k in ipairs(K.enumerate(fam.space, op, isa)) do lines[#lines + 1] = K.format(fam.space, k) end
  return table.concat(lines, "\n")
end

function M.template_version()
  return tostring(M.TEMPLATE_VERSION)
end

return M

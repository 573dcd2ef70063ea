-- septune/generator.lua — the kernel generator for LuaJIT scripts: the C
-- source of a layer's kernel, and its knob space. A thin layer over
-- generator/septune_gen.lua, which the runtime and the tuner call.
--
--   local gen = require "septune.generator"
--   local source, symbol, knobs = gen.render("dw h=56 w=56 c=144 k=3 s=1 pad=same", "avx2", "ct=2")
--   for _, k in ipairs(gen.space("pw h=14 w=14 ci=384 co=64", "avx512")) do print(k) end
--
-- The module runs inside `septune lua`: the generator takes some numbers
-- from the runtime that hosts it (the pack width, the pointwise tile score,
-- this CPU's cache budgets: the Lua module "septune_host", which the septune
-- executable preloads), so that it renders exactly what plans and `septune
-- source` render. Under a plain luajit, requiring it raises an error that
-- says so.
--
-- layer: a layer line (the model-file format) or a septune_op cdata; lines
-- are parsed by septune's C parser through require "septune". isa: "scalar",
-- "sse", "avx2", "avx512", or nil/"auto" for the best this CPU runs; any ISA
-- can be rendered on any machine. Errors (a bad line, knobs invalid for the
-- shape) are raised as Lua errors with the parser's or generator's message.
--
-- The generator and templates are read from gen.root: $SEPTUNE_LUA_ROOT when
-- set, else the directory holding this module's lua/ folder (the source tree,
-- or share/septune when installed). Loading this module puts
-- root/generator/?.lua and root/templates/?.lua first on package.path and sets
-- the global SEPTUNE_LUA_ROOT that the template engine reads.
local ffi = require("ffi")
local septune = require("septune")

local C = septune.C
local M = {}

-- This module's lua/ folder, then the directory holding it.
local lua_dir = debug.getinfo(1, "S").source:match("^@(.*)/septune/[^/]*$") or "lua"
local env_root = os.getenv("SEPTUNE_LUA_ROOT")
M.root = (env_root and env_root ~= "") and env_root or lua_dir:match("^(.+)/[^/]+$") or "."

package.path = string.format("%s/generator/?.lua;%s/templates/?.lua;%s", M.root, M.root, package.path)
SEPTUNE_LUA_ROOT = M.root
local have_host, host = pcall(require, "septune_host")
if not have_host then
  error("septune.generator: runs inside `septune lua` (the generator needs the runtime that hosts it: "
    .. "the septune executable preloads septune_host)", 0)
end
local gen = require("septune_gen")
local opts = { hw = host.hw }

local function isa_name(isa)
  if isa == nil or isa == "auto" then return septune.best_isa() end
  return isa
end

-- The op table septune_gen reads: the fields of septune.h under the names
-- runtime/src/generator.c gives them, and the canonical line.
function M.op(layer)
  local op = septune.op(layer)
  local t
  if op.kind ~= C.SEPTUNE_OP_DEPTHWISE and op.kind ~= C.SEPTUNE_OP_POINTWISE then
    error("septune.generator: a block (sep, ir) has no kernel of its own: its plan runs its stages' kernels", 2)
  end
  if op.kind == C.SEPTUNE_OP_DEPTHWISE then
    local d = op.u.dw
    t = {
      kind = "dw", n = d.n, h = d.h, w = d.w, c = d.c, kh = d.kh, kw = d.kw,
      sh = d.stride_h, sw = d.stride_w, dil_h = d.dilation_h, dil_w = d.dilation_w,
      pt = d.pad_top, pl = d.pad_left, pb = d.pad_bottom, pr = d.pad_right,
      m = d.multiplier, bias = d.has_bias, act = d.act, act_min = d.act_min, act_max = d.act_max,
    }
  else
    local p = op.u.pw
    t = {
      kind = "pw", n = p.n, h = p.h, w = p.w, ci = p.ci, co = p.co,
      bias = p.has_bias, act = p.act, act_min = p.act_min, act_max = p.act_max,
    }
  end
  -- Lua numbers, as generator.c pushes them (int64_t fields are cdata here).
  for k, v in pairs(t) do
    if type(v) ~= "string" then t[k] = tonumber(v) end
  end
  t.act = ffi.string(C.septune_activation_name(t.act))
  -- a kernel is for one image, as the runtime asks for it
  t.n = 1
  if op.kind == C.SEPTUNE_OP_DEPTHWISE then op.u.dw.n = 1 else op.u.pw.n = 1 end
  t.line = septune.line(op)
  return t
end

-- The kernel's C source, its function's name, the canonical knob string
-- (knobs nil or "" for the heuristic default) and what the source exports
-- ({ { role =, name =, declaration = }, ... }, the kernel first).
function M.render(layer, isa, knobs)
  if knobs == "" then knobs = nil end
  return gen.render(M.op(layer), isa_name(isa), knobs, opts)
end

-- The default knob string for the layer on isa.
function M.default_knobs(layer, isa)
  return gen.default_knobs(M.op(layer), isa_name(isa), nil, opts)
end

-- Every valid knob string of the layer's search space on isa, as an array.
function M.space(layer, isa)
  local list = {}
  for k in gen.space(M.op(layer), isa_name(isa)):gmatch("[^\n]+") do list[#list + 1] = k end
  return list
end

-- The template version: tuning records of other versions are not reused.
function M.template_version()
  return gen.template_version()
end

return M

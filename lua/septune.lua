-- septune.lua — septune's C API (runtime/include/septune.h) for LuaJIT
-- scripts, through the FFI.
--
--   local septune = require "septune"
--   local op = septune.op("dw h=56 w=56 c=144 k=3 s=1 pad=same act=relu6")
--   local n_in, n_out, n_w = septune.sizes(op)
--   local plan = septune.plan(op, septune.floats(n_w, weights_table))
--   local input, output = septune.floats(n_in), septune.floats(n_out)
--   plan:execute(input, output)
--   print(plan:info().build)                     -- "jit", "emitted" or "library"
--
-- Where the C functions come from (septune.library names it):
--   1. this process, when it exports the API: inside `septune lua SCRIPT`
--      that is the executable's libseptune (JIT, tuning database, any knobs);
--   2. $SEPTUNE_RT_LIBRARY, the path of a libseptune_rt.so;
--   3. the libseptune_rt.so installed with this module;
--   4. libseptune_rt.so.MAJOR.MINOR through the dynamic loader's search path.
-- libseptune_rt serves emitted tables and its generic kernels; it cannot
-- JIT, so plans with knobs fail there unless an emitted table has them.
--
-- The declarations are septune.h itself, read when the module loads: from
-- the installed include directory next to an installed module, else from
-- runtime/include of the source tree holding lua/septune.lua. Every
-- function and constant of the header is in septune.C (septune.C.SEPTUNE_OK,
-- septune.C.septune_plan_create, ...); the functions below wrap the common
-- path and raise a Lua error carrying the library's message on failure.
local ffi = require("ffi")

local M = {}

-- This file's directory ("lua/" of the source tree, or share/septune/lua).
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."

-- Where an installed copy finds the header and the library, relative to
-- `here` unless absolute (written by cmake/Install.cmake; absent in the
-- source tree).
local layout_chunk = loadfile(here .. "/septune/install_layout.lua")
local layout = layout_chunk and layout_chunk()

local function from_here(path)
  if path:sub(1, 1) == "/" then return path end
  return here .. "/" .. path
end

local include_dir = layout and from_here(layout.include_dir) or here .. "/../runtime/include"

-- The header as ffi.cdef text: comments and declarations kept, integer
-- #defines as static const ints, quoted #includes inlined, C++-only blocks
-- and every other preprocessor line dropped.
local function cdef_text(file)
  local f, why = io.open(include_dir .. "/" .. file, "r")
  if not f then error("septune: cannot read the API header: " .. why, 0) end
  local out, cplusplus_depth = {}, 0
  for line in f:lines() do
    local directive = line:match("^%s*#%s*(%a+)")
    if cplusplus_depth > 0 then
      if directive == "if" or directive == "ifdef" or directive == "ifndef" then
        cplusplus_depth = cplusplus_depth + 1
      elseif directive == "endif" then
        cplusplus_depth = cplusplus_depth - 1
      end
    elseif directive == "ifdef" and line:match("__cplusplus") then
      cplusplus_depth = 1
    elseif directive == "define" then
      -- an integer, optionally followed by a /* comment */
      local name, value, rest = line:match("^%s*#%s*define%s+([%w_]+)%s+(%d+)%s*(.-)%s*$")
      if name and (rest == "" or rest:match("^/%*.*%*/$")) then out[#out + 1] = string.format("static const int %s = %s;", name, value) end
    elseif directive == "include" then
      local inner = line:match('^%s*#%s*include%s+"([^"]+)"')
      if inner then out[#out + 1] = cdef_text(inner) end
    elseif not directive then
      out[#out + 1] = line
    end
  end
  f:close()
  return table.concat(out, "\n")
end

ffi.cdef(cdef_text("septune.h"))

local function exported_by_process()
  return pcall(function() return ffi.C.septune_plan_create end)
end

local C
if exported_by_process() then
  C, M.library = ffi.C, "this process"
else
  local version = ffi.C.SEPTUNE_VERSION_MAJOR .. "." .. ffi.C.SEPTUNE_VERSION_MINOR
  local soname = "libseptune_rt.so." .. version
  local path = os.getenv("SEPTUNE_RT_LIBRARY")
  if not path or path == "" then
    path = layout and from_here(layout.library_dir) .. "/" .. soname or soname
  end
  local ok, lib = pcall(ffi.load, path)
  if not ok then
    error("septune: cannot load libseptune_rt (" .. tostring(lib) .. "); set SEPTUNE_RT_LIBRARY to its path, " ..
          "or run the script with `septune lua`", 0)
  end
  C, M.library = lib, path
end

-- The C namespace: every function and constant of septune.h.
M.C = C

M.version = string.format("%d.%d.%d", ffi.C.SEPTUNE_VERSION_MAJOR, ffi.C.SEPTUNE_VERSION_MINOR,
                          ffi.C.SEPTUNE_VERSION_PATCH)

local function fail(what, err)
  error(string.format("septune.%s: %s", what, ffi.string(err.message)), 3)
end

local function isa_value(name)
  if name == nil then return C.SEPTUNE_ISA_AUTO end
  local isa = ffi.new("septune_isa[1]")
  if C.septune_isa_from_name(name, isa, nil) ~= C.SEPTUNE_OK then
    error(string.format("septune: unknown ISA '%s' (auto scalar sse avx2 avx512)", tostring(name)), 3)
  end
  return isa[0]
end

-- An op (septune_op cdata) from a layer line such as
-- "pw h=14 w=14 ci=384 co=64 act=relu6" (the model-file format); an op is
-- returned as it is. Also returns the line's name= ("" when none).
function M.op(line_or_op)
  if type(line_or_op) ~= "string" then return line_or_op, "" end
  local layer, err = ffi.new("septune_layer"), ffi.new("septune_error")
  if C.septune_layer_parse(line_or_op, layer, err) ~= C.SEPTUNE_OK then fail("op", err) end
  return ffi.new("septune_op", layer.op), ffi.string(layer.name)
end

-- The canonical layer line of an op (or of a line).
function M.line(op)
  op = M.op(op)
  local size = C.SEPTUNE_OP_LINE_SIZE
  local buf = ffi.new("char[?]", size)
  local n = C.septune_op_format(op, buf, size)
  if n < 0 or n >= size then error("septune.line: the op is invalid", 2) end
  return ffi.string(buf, n)
end

-- Element counts of the op's input, output, weights and bias, as numbers.
function M.sizes(op)
  op = M.op(op)
  local s, err = ffi.new("size_t[4]"), ffi.new("septune_error")
  if C.septune_op_tensor_sizes(op, s, s + 1, s + 2, s + 3, err) ~= C.SEPTUNE_OK then fail("sizes", err) end
  return tonumber(s[0]), tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
end

-- A float[n] array, zeroed, or filled from a Lua table (values[1] first) or
-- by calling values(i) for i = 0 .. n-1.
function M.floats(n, values)
  local a = ffi.new("float[?]", n)
  if type(values) == "table" then
    for i = 1, math.min(n, #values) do a[i - 1] = values[i] end
  elseif type(values) == "function" then
    for i = 0, n - 1 do a[i] = values(i) end
  end
  return a
end

-- Weights in PyTorch's layout ([c*m][1][kh][kw] or [co][ci][1][1]) converted
-- to the canonical one, in a new array.
function M.weights_from_pytorch(op, src)
  op = M.op(op)
  local _, _, n = M.sizes(op)
  local dst, err = M.floats(n), ffi.new("septune_error")
  if C.septune_weights_from_pytorch(op, src, dst, err) ~= C.SEPTUNE_OK then fail("weights_from_pytorch", err) end
  return dst
end

-- The plain-C reference kernel into output.
function M.reference(op, weights, bias, input, output)
  op = M.op(op)
  local err = ffi.new("septune_error")
  if C.septune_reference_execute(op, weights, bias, input, output, err) ~= C.SEPTUNE_OK then
    fail("reference", err)
  end
  return output
end

-- The widest ISA this CPU runs, as a name.
function M.best_isa()
  return ffi.string(C.septune_isa_name(C.septune_cpu_best_isa()))
end

local plan_methods = {}

-- Runs the plan; input and output are float arrays of the op's sizes.
function plan_methods:execute(input, output)
  local err = ffi.new("septune_error")
  if C.septune_execute(self, input, output, err) ~= C.SEPTUNE_OK then fail("execute", err) end
  return output
end

local source_names = { [0] = "default", "forced", "tuned", "generic" }
local build_names = { [0] = "jit", "emitted", "library" }

-- What the plan got: { op = canonical line, isa = "avx2", source = "default"
-- | "forced" | "tuned" | "generic", build = "jit" | "emitted" | "library",
-- knobs = "...", table = emitted table's name or "", threads = the plan's
-- thread count, work = work items per image, wake = the most threads an
-- execution wakes }.
function plan_methods:info()
  local info = ffi.new("septune_plan_info")
  C.septune_plan_get_info(self, info)
  return {
    op = M.line(ffi.new("septune_op", info.op)),
    isa = ffi.string(C.septune_isa_name(info.isa)),
    source = source_names[tonumber(info.source)],
    build = build_names[tonumber(info.build)],
    knobs = ffi.string(info.knobs),
    table = ffi.string(info.table),
    threads = tonumber(info.threads),
    work = tonumber(info.work),
    wake = tonumber(info.wake),
  }
end

-- The JIT-compiled kernel's C source, or nil (emitted or generic kernel).
function plan_methods:source()
  local s = C.septune_plan_source(self)
  return s ~= nil and ffi.string(s) or nil
end

-- Frees the plan now rather than when it is collected.
function plan_methods:destroy()
  C.septune_plan_destroy(ffi.gc(self, nil))
end

ffi.metatype("struct septune_plan", { __index = plan_methods })

-- A plan for op (an op or a layer line) with canonical weights and bias
-- (float arrays; bias nil when the op has none). options, all optional:
-- isa ("auto", "avx2", ...), knobs ("ct=2,wt=4"), db (tuning database path;
-- "" for none), kernels (a septune_kernel_table * of emitted kernels),
-- threads (the threads to split each execution across; 0 or nil: the CPUs
-- this process may run on), pool (a pthreadpool_t to run on).
-- Freed when collected, or by plan:destroy().
function M.plan(op, weights, bias, options)
  op = M.op(op)
  options = options or {}
  local opts = ffi.new("septune_plan_options")
  opts.isa = isa_value(options.isa)
  opts.knobs = options.knobs
  opts.db_path = options.db
  opts.kernels = options.kernels
  opts.threads = options.threads or 0
  opts.pool = options.pool
  local out, err = ffi.new("septune_plan *[1]"), ffi.new("septune_error")
  if C.septune_plan_create(op, weights, bias, opts, out, err) ~= C.SEPTUNE_OK then fail("plan", err) end
  return ffi.gc(out[0], C.septune_plan_destroy)
end

return M

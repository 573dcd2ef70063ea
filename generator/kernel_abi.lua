-- kernel_abi.lua — the interfaces of a generated kernel, each described
-- once:
--   * the C functions a kernel source exports (the kernel, and for
--     pointwise its packer), their signatures and names;
--   * the argument record the C scaffolding fills and the machine code
--     reads at %rdi: fields, C types, byte offsets, and the rows of
--     constants after them;
--   * the registers each family's machine code works in, hence the clobber
--     lists of its asm statements.
-- The templates print the signatures, the record and its offset checks from
-- here; x86_dw.lua and x86_pw.lua take every offset and register from here.
-- (runtime/include/septune_kernel_table.h states the same signatures for
-- the C callers; an emitted table does not compile if the two disagree.)
local I = require("isa")
local CL = require("c_literal")

local M = {}

-- ---- the exported functions ---------------------------------------------

-- role -> return type, name suffix, parameters, and the arguments that
-- forward the parameters. A kernel is generated for one image (the layer
-- with n = 1) and cuts its work per image into `work()` items; a call runs
-- items [begin, end) of n images' n * work() (item i belongs to image
-- i / work()), so threads can share a layer and a batch is any n.
-- `threads()` is the most threads worth waking for the layer (knob th).
M.FUNCTIONS = {
  kernel = { ret = "void", suffix = "",
             params = "const float *in, float *out, const float *packed, const float *zero_row, float *scratch, "
                      .. "long begin, long end",
             args = "in, out, packed, zero_row, scratch, begin, end" },
  work = { ret = "long", suffix = "_work", params = "void", args = "" },
  threads = { ret = "long", suffix = "_threads", params = "void", args = "" },
  packed_floats = { ret = "long", suffix = "_packed_floats", params = "void", args = "" },
  pack = { ret = "void", suffix = "_pack", params = "const float *w, const float *bias, float *packed",
           args = "w, bias, packed" },
}

-- The functions each kernel family exports, in this order.
M.EXPORTS = { dw = { "kernel", "work", "threads" }, pw = { "kernel", "work", "threads", "packed_floats", "pack" } }

-- The definitions of the `work` and `threads` functions of the kernel
-- named `symbol`: `work` items per image, at most `threads` threads.
function M.split_c(symbol, work, threads)
  return table.concat({
    "/* Work items per image: a call of the kernel runs items [begin, end) of n images' n * work. */",
    M.declaration("work", symbol), "{", string.format("  return %dL;", work), "}", "",
    "/* The most threads worth waking for this layer (knob th). */",
    M.declaration("threads", symbol), "{", string.format("  return %dL;", threads), "}",
  }, "\n")
end

-- The name of function `role` of the kernel named `symbol`.
function M.name(role, symbol)
  return symbol .. M.FUNCTIONS[role].suffix
end

-- "void <name>(<params>)": the head of a definition or a declaration.
function M.declaration(role, symbol)
  local f = M.FUNCTIONS[role]
  return string.format("%s %s(%s)", f.ret, M.name(role, symbol), f.params)
end

-- A call of function `role` of `symbol` with the parameters of the same role.
function M.call(role, symbol)
  return string.format("%s(%s)", M.name(role, symbol), M.FUNCTIONS[role].args)
end

-- What the source of kind's kernel `symbol` exports:
-- { { role =, name =, declaration = }, ... } in M.EXPORTS order.
function M.exports(kind, symbol)
  local list = {}
  for _, role in ipairs(M.EXPORTS[kind]) do
    list[#list + 1] = { role = role, name = M.name(role, symbol), declaration = M.declaration(role, symbol) }
  end
  return list
end

-- ---- the argument record ----------------------------------------------------

-- The record's pointer: the one input operand of every asm statement.
M.RECORD_REG = "%rdi"
M.RECORD_CONSTRAINT = "D"

-- Fields of each family's record, in memory order, each 8 bytes
-- (`count` of them for an array).
M.FIELDS = {
  dw = {
    { name = "tap_row", ctype = "const float *", count = 8,
      doc = "input row of tap row ky, at the tile's channel; the zero row in the padding" },
    { name = "out_row", ctype = "float *", doc = "output row, at the tile's channel" },
    { name = "weights", ctype = "const float *", doc = "packed weights at the tile's channel: [bias][kh*kw taps]" },
    { name = "rows", ctype = "long", doc = "one-tile blocks: output rows to compute, counted down" },
    { name = "krow_first", ctype = "long", doc = "kloop=1: first kernel row inside the input (tap_row[0] is its row)" },
    { name = "krows", ctype = "long", doc = "kloop=1: kernel rows inside the input, from krow_first on" },
  },
  pw = {
    { name = "in", ctype = "const float *", doc = "first row of the M block, at the K block's first channel" },
    { name = "weights", ctype = "const float *", doc = "the panel's packed rows [k][width], at the K block" },
    { name = "out", ctype = "float *", doc = "first row of the M block, at the panel's first channel" },
    { name = "bias", ctype = "const float *", doc = "bias of the panel's channels, zero padded to its width" },
  },
}

-- Rows of constants, as wide as the widest vector, after the fields: the
-- memory operands of the activation (x86_activation.lua) and AVX2's tail
-- mask. They start at CONST_OFFSET in every family's record, so one table
-- of operands serves both.
M.CONSTS = { "zero", "lo", "hi", "three", "sixth", "mask" }
M.CONST_OFFSET = 128
M.CONST_FLOATS = I.WIDEST_LANES

-- The rows the sigmoid-based activations add after M.CONSTS, by activation:
-- their constants (values: runtime/internal/act_consts.h, handed over as
-- septune_host.act_consts; x86_activation.lua says what each is for), then
-- SPILL_ROWS rows the machine code saves accumulators in while it borrows
-- their registers. Records of the other activations end at M.CONSTS.
local SIGMOID = { "sign", "zmin", "log2e", "magic", "nln2_hi", "nln2_lo", "exp_c1", "exp_c2", "exp_c3",
                  "exp_c4", "exp_c5", "exp_c6", "scale", "big" }
local TIMES_X = { "huge", "nhuge", "one" }
local function rows(...)
  local t = {}
  for _, list in ipairs({ ... }) do
    for _, name in ipairs(list) do t[#t + 1] = name end
  end
  return t
end
M.SPILL_ROWS = 3
local SPILL = {}
for i = 1, M.SPILL_ROWS do SPILL[i] = "spill" .. (i - 1) end
M.ACT_CONSTS = {
  sigmoid = rows(SIGMOID, SPILL),
  silu = rows(SIGMOID, TIMES_X, SPILL),
  gelu_tanh = rows({ "gelu_tanh_c1", "gelu_tanh_c3" }, SIGMOID, TIMES_X, SPILL),
  gelu = rows({ "gelu_r0", "gelu_r1", "gelu_r2", "gelu_r3", "gelu_r4", "gelu_r5", "gelu_r6", "gelu_r7",
                "gelu_x2max" }, SIGMOID, TIMES_X, SPILL),
}

-- The constant rows of the record of a kernel with activation `act`.
function M.const_rows(act)
  return rows(M.CONSTS, M.ACT_CONSTS[act] or {})
end

local SLOT = 8 -- bytes of a pointer or a long on x86-64

-- Byte offset of `field` (element `index`, default 0) in kind's record.
function M.offset(kind, field, index)
  local at = 0
  for _, f in ipairs(M.FIELDS[kind]) do
    local count = f.count or 1
    if f.name == field then
      index = index or 0
      assert(index >= 0 and index < count, "kernel_abi: " .. field .. "[" .. tostring(index) .. "] out of range")
      return at + index * SLOT
    end
    at = at + count * SLOT
  end
  error("kernel_abi: the " .. kind .. " record has no field '" .. tostring(field) .. "'", 0)
end

-- Byte offset of constant row `name` (its first float) in the record of a
-- kernel with activation `act` (the rows of M.CONSTS are at the same offset
-- whatever the activation).
function M.const_offset(name, act)
  for i, n in ipairs(M.const_rows(act)) do
    if n == name then return M.CONST_OFFSET + (i - 1) * M.CONST_FLOATS * 4 end
  end
  error("kernel_abi: no constant row '" .. tostring(name) .. "' for activation " .. tostring(act), 0)
end

local function fields_end(kind)
  local at = 0
  for _, f in ipairs(M.FIELDS[kind]) do at = at + (f.count or 1) * SLOT end
  assert(at <= M.CONST_OFFSET, "kernel_abi: the " .. kind .. " record's fields overrun its constant rows")
  return at
end

-- The C typedef of kind's record named `typename` for activation `act`,
-- each member with its offset in a comment.
function M.record_c(kind, typename, act)
  local lines = { "typedef struct " .. typename .. " {" }
  local function member(decl, at, doc)
    lines[#lines + 1] = string.format("  %-26s /* %3d: %s */", decl, at, doc)
  end
  for _, f in ipairs(M.FIELDS[kind]) do
    local star = f.ctype:sub(-1) == "*"
    local decl = f.ctype .. (star and "" or " ") .. f.name .. (f.count and "[" .. f.count .. "]" or "") .. ";"
    member(decl, M.offset(kind, f.name), f.doc)
  end
  local gap = M.CONST_OFFSET - fields_end(kind)
  if gap > 0 then
    member("char unused[" .. gap .. "];", fields_end(kind), "the constant rows start at " .. M.CONST_OFFSET)
  end
  local names = M.const_rows(act)
  local rows = string.format("[%d][%d]", #names, M.CONST_FLOATS)
  lines[#lines + 1] = "  union {"
  lines[#lines + 1] = string.format("    %-24s /* %s */", "float f" .. rows .. ";", table.concat(names, ", "))
  lines[#lines + 1] = string.format("    %-24s /* the same as bits (mask) */", "unsigned int u" .. rows .. ";")
  member("} c;", M.CONST_OFFSET, "constant rows of " .. M.CONST_FLOATS .. " floats")
  lines[#lines + 1] = "} " .. typename .. ";"
  return table.concat(lines, "\n")
end

-- Compile-time checks that the C compiler lays the record out at the
-- offsets the machine code uses (gcc and clang in C11, and tcc).
function M.record_checks(kind, typename)
  local lines = { "#if defined(__TINYC__) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L)" }
  local function check(member, at)
    lines[#lines + 1] = string.format('_Static_assert(__builtin_offsetof(%s, %s) == %d, "%s.%s: the machine code reads it at %d(%s)");',
      typename, member, at, typename, member, at, M.RECORD_REG)
  end
  for _, f in ipairs(M.FIELDS[kind]) do check(f.name, M.offset(kind, f.name)) end
  check("c", M.CONST_OFFSET)
  lines[#lines + 1] = "#endif"
  return table.concat(lines, "\n")
end

-- C statements filling the constant rows of record variable `var` for op
-- (an AVX2 tail of `mask_lanes` lanes), with `i` a free long. The spill
-- rows are the machine code's own.
function M.consts_c(var, op, mask_lanes, indent)
  local lo, hi = 0, 6
  if op.act == "clamp" then lo, hi = op.act_min, op.act_max end
  local value = {
    zero = "0.0f", lo = CL.float(lo), hi = CL.float(hi), three = "3.0f", sixth = "1.0f / 6.0f",
    mask = string.format("i < %d ? 0xffffffffu : 0u", mask_lanes),
  }
  local lines = { string.format("for (i = 0; i < %d; i++) {", M.CONST_FLOATS) }
  for r, name in ipairs(M.const_rows(op.act)) do
    local v = value[name]
    if v == nil and not name:match("^spill") then v = CL.float(M.act_const(name)) end
    if v then
      lines[#lines + 1] = string.format("  %s.c.%s[%d][i] = %s;", var, name == "mask" and "u" or "f", r - 1, v)
    end
  end
  lines[#lines + 1] = "}"
  return indent .. table.concat(lines, "\n" .. indent)
end

-- The value of activation constant `name` (runtime/internal/act_consts.h).
function M.act_const(name)
  local v = require("septune_host").act_consts[name]
  if v == nil then error("kernel_abi: septune_host has no activation constant '" .. tostring(name) .. "'", 0) end
  return v
end

-- ---- registers ------------------------------------------------------------

-- The general-purpose registers each family's machine code works in, by
-- role (x86_dw.lua and x86_pw.lua say what each holds), by their 64-bit
-- names (reg32 gives the 32-bit ones).
M.REGS = {
  dw = {
    tap_rows = { "%rsi", "%rdx", "%r8", "%r9", "%r10", "%r11", "%r13" }, -- one per tap row: kh <= 7
    out = "%rax", weights = "%r14", tiles = "%r15",
    col_in = "%rbx", col_out = "%r12", cols = "%rcx",
    -- kloop=1 (any kh) needs no tap row registers: it walks the kernel rows
    -- with one input row pointer and one weight row pointer
    in_row = "%rsi", krow = "%rdx", wrow = "%r8", krows = "%r9", wfirst = "%r10",
  },
  pw = {
    in_tile = "%r8", panel = "%r9", out = "%rax", bias = "%r10",
    a = "%rsi", b = "%rdx", ksteps = "%rcx", tiles = "%r11",
  },
}

-- The 32-bit name of a 64-bit general-purpose register ("%rcx" -> "%ecx",
-- "%r11" -> "%r11d"); a 32-bit name is returned as it is.
function M.reg32(r)
  if r:match("^%%r%d+$") then return r .. "d" end
  if r:match("^%%r%a%a$") then return "%e" .. r:sub(3) end
  return r
end

local GPR_ORDER = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" }

-- The clobber list of kind's asm statements: every register of M.REGS[kind]
-- by its 64-bit name, in encoding order, quoted for C.
function M.gpr_clobbers(kind)
  local used = {}
  local function mark(r) used[r:sub(2)] = true end
  for _, r in pairs(M.REGS[kind]) do
    if type(r) == "table" then for _, x in ipairs(r) do mark(x) end else mark(r) end
  end
  local list = {}
  for _, name in ipairs(GPR_ORDER) do
    if used[name] then list[#list + 1] = '"' .. name .. '"' end
  end
  return table.concat(list, ", ")
end

-- The vector clobbers: registers 0-15 (every vector ISA has them) and
-- 16-31 (known to the compiler only when it targets AVX-512), quoted for C.
function M.vector_clobbers()
  local function quoted(t)
    for i, r in ipairs(t) do t[i] = '"' .. r .. '"' end
    return table.concat(t, ", ")
  end
  return quoted(I.clobber_names(0, 15)), quoted(I.clobber_names(16, I.avx512.registers - 1))
end

return M

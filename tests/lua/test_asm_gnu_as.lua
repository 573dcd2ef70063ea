-- The Lua assembler against GNU as: a generated matrix of instruction forms
-- (every mnemonic x register classes and numbers x addressing forms x
-- masks/broadcast, GPR forms), jumps around the rel8/rel32 boundary, and a
-- kernel-like block round-tripped through b:to_att(). Each instruction's bytes
-- must be identical to what `as --64` makes of our canonical text.
local X = require("x86asm")
local L = require("testlib")

local fmt = string.format

---------------------------------------------------------------------------
-- Running GNU as
---------------------------------------------------------------------------

-- Assembles AT&T text; returns the .text bytes, or nil and as's messages.
local function gnu_as(src, stem)
  local base = L.scratch(stem)
  L.write_file(base .. ".s", src)
  local ok = L.run(fmt("as --64 -o '%s.o' '%s.s' 2> '%s.err' && objcopy -O binary -j .text '%s.o' '%s.bin' 2>> '%s.err'",
    base, base, base, base, base, base))
  local bin = ok and L.read_file(base .. ".bin") or nil
  local err = L.read_file(base .. ".err") or ""
  for _, ext in ipairs({ ".s", ".o", ".err", ".bin" }) do os.remove(base .. ext) end
  return bin, err
end

if not L.run("as --version > /dev/null 2>&1") then
  L.check(false, "GNU as not found on PATH")
  L.finish()
end

---------------------------------------------------------------------------
-- The matrix
---------------------------------------------------------------------------

local seen, matrix = {}, {}

local function add(text)
  local ok, res = pcall(function()
    local b = X.block()
    b:emit(text)
    return b:instructions()[1]
  end)
  if not ok then
    L.check(false, "Lua assembler rejected '" .. text .. "': " .. tostring(res))
    return
  end
  if not seen[res.text] then
    seen[res.text] = true
    matrix[#matrix + 1] = res
  end
end

-- Addressing forms: every special case of ModRM/SIB encoding.
local MEM = {
  "(%rax)", "(%rcx)", "(%rsp)", "(%rbp)", "(%r12)", "(%r13)", "(%r8)", "(%r15)", "0(%rbp)", "0(%r13)",
  "8(%rax)", "-8(%rdi)", "0x7f(%rsi)", "0x80(%rsi)", "-0x80(%rdx)", "-0x81(%rdx)", "0x12345(%r9)",
  "-0x80000000(%rbx)", "0x7fffffff(%r11)", "8(%rsp)", "-8(%r12)", "8(%rbp)", "0x100(%r13)",
  "(%rax,%rcx)", "(%rax,%rcx,1)", "(%rax,%rcx,2)", "(%rsi,%rdx,4)", "(%rdi,%r8,8)", "(%r10,%r11,4)",
  "(%r14,%r15,8)", "(%rsp,%rax,4)", "(%r12,%r12,2)", "(%rbp,%rcx,4)", "(%r13,%rbp,8)",
  "0x40(%rax,%rcx,4)", "-0x40(%r8,%r9,2)", "0x1000(%rsp,%rbp,1)", "0x40(,%rcx,4)", "(,%r11,8)",
  "-4(,%rax,2)", "0(,%r12,1)", "0x1000", "64(%rax)", "-64(%rax)", "8192(%rax)", "8256(%rax)",
}
-- A shorter list where the matrix would otherwise explode.
local MEM_SHORT = {
  "(%rax)", "(%rsp)", "(%rbp)", "(%r12)", "(%r13)", "8(%r8)", "-0x81(%rdx)", "0x12345(%r9)",
  "(%rsi,%rdx,4)", "0x40(%r10,%r11,8)", "(%rbp,%r12,2)", "0x40(,%rcx,4)", "0x1000",
}

-- EVEX disp8*N boundaries for scale n: multiples of n just inside and
-- outside the disp8 range, and a non-multiple that must stay disp32.
local function disp8n(n)
  return { n, -n, 127 * n, 128 * n, -128 * n, -129 * n, n / 2, 1, 3 * n }
end
local function evex_mems(n)
  local t = {}
  for _, d in ipairs(disp8n(n)) do
    for _, base in ipairs({ "(%rax)", "(%r13)", "(%rsp,%rcx,4)", "(,%r9,8)" }) do
      t[#t + 1] = d .. base
    end
  end
  return t
end

local VEXR = { 0, 1, 7, 8, 9, 15 }
local EVR = { 0, 3, 8, 15, 16, 20, 24, 31 }
local WIDTHS = { "xmm", "ymm", "zmm" }
local VBYTES = { xmm = 16, ymm = 32, zmm = 64 }
local NBCST = { xmm = 4, ymm = 8, zmm = 16 }

local function vr(w, n) return "%" .. w .. n end

-- Packed arithmetic: op src2, src1, dst.
local ARITH = { "vaddps", "vmulps", "vsubps", "vminps", "vmaxps", "vdivps", "vxorps", "vorps", "vfmadd231ps",
  "vfmadd213ps", "vpxord" }
for _, mn in ipairs(ARITH) do
  for _, w in ipairs(WIDTHS) do
    local regs = EVR
    for _, r in ipairs(regs) do
      add(fmt("%s %s, %s, %s", mn, vr(w, r), vr(w, 2), vr(w, 3)))
      add(fmt("%s %s, %s, %s", mn, vr(w, 1), vr(w, r), vr(w, 3)))
      add(fmt("%s %s, %s, %s", mn, vr(w, 1), vr(w, 2), vr(w, r)))
      add(fmt("%s %s, %s, %s", mn, vr(w, r), vr(w, 31 - r), vr(w, (r + 9) % 32)))
    end
    if w ~= "zmm" then
      for _, a in ipairs(VEXR) do
        for _, c in ipairs({ 0, 9 }) do
          add(fmt("%s %s, %s, %s", mn, vr(w, a), vr(w, c), vr(w, 15 - a)))
        end
      end
    end
    for _, m in ipairs(MEM) do
      add(fmt("%s %s, %s, %s", mn, m, vr(w, 1), vr(w, 2)))
    end
    for _, m in ipairs(MEM_SHORT) do
      add(fmt("%s %s, %s, %s", mn, m, vr(w, 9), vr(w, 12)))
      add(fmt("%s %s, %s, %s", mn, m, vr(w, 17), vr(w, 30)))
      add(fmt("%s %s, %s, %s{%%k1}", mn, m, vr(w, 4), vr(w, 5)))
      add(fmt("%s %s{1to%d}, %s, %s", mn, m, NBCST[w], vr(w, 6), vr(w, 7)))
    end
    for _, m in ipairs(evex_mems(VBYTES[w])) do
      add(fmt("%s %s, %s, %s{%%k2}", mn, m, vr(w, 1), vr(w, 2)))
    end
    for _, m in ipairs(evex_mems(4)) do
      add(fmt("%s %s{1to%d}, %s, %s", mn, m, NBCST[w], vr(w, 1), vr(w, 25)))
    end
    for k = 1, 7 do
      add(fmt("%s %s, %s, %s{%%k%d}", mn, vr(w, k), vr(w, 2 * k), vr(w, 3 * k), k))
      add(fmt("%s %s, %s, %s{%%k%d}{z}", mn, vr(w, 30 - k), vr(w, k), vr(w, 17), k))
    end
    add(fmt("%s 0x40(%%rax){1to%d}, %s, %s{%%k3}{z}", mn, NBCST[w], vr(w, 20), vr(w, 21)))
  end
end
for _, w in ipairs(WIDTHS) do
  for _, imm in ipairs({ 0, 0x1b, 0x80, 0xff }) do
    add(fmt("vshufps $%d, %s, %s, %s", imm, vr(w, 1), vr(w, 9), vr(w, 17)))
    add(fmt("vshufps $%d, %s, %s, %s", imm, vr(w, 8), vr(w, 2), vr(w, 3)))
    add(fmt("vshufps $%d, 0x40(%%rax), %s, %s", imm, vr(w, 2), vr(w, 3)))
    add(fmt("vshufps $%d, 4(%%rax){1to%d}, %s, %s{%%k1}", imm, NBCST[w], vr(w, 2), vr(w, 3)))
  end
end

-- Lane shifts by an immediate: every register class in either operand,
-- masks, and the immediates around the sign bit of imm8.
for _, w in ipairs(WIDTHS) do
  for _, imm in ipairs({ 0, 1, 23, 31, 0x7f, 0x80, 0xff }) do
    for _, a in ipairs(EVR) do
      add(fmt("vpslld $%d, %s, %s", imm, vr(w, a), vr(w, 31 - a)))
      add(fmt("vpslld $%d, %s, %s", imm, vr(w, 2), vr(w, a)))
    end
    if w ~= "zmm" then
      for _, a in ipairs(VEXR) do
        for _, c in ipairs(VEXR) do add(fmt("vpslld $%d, %s, %s", imm, vr(w, a), vr(w, c))) end
      end
    end
    add(fmt("vpslld $%d, %s, %s{%%k1}", imm, vr(w, 3), vr(w, 4)))
    add(fmt("vpslld $%d, %s, %s{%%k7}{z}", imm, vr(w, 20), vr(w, 9)))
  end
end

-- Full-vector moves: every VEX register pair (the 2-byte-prefix operand swap),
-- EVEX pairs, loads, stores, masking.
for _, mn in ipairs({ "vmovups", "vmovaps" }) do
  for _, w in ipairs(WIDTHS) do
    if w ~= "zmm" then
      for a = 0, 15 do
        for c = 0, 15 do add(fmt("%s %s, %s", mn, vr(w, a), vr(w, c))) end
      end
    end
    for _, a in ipairs(EVR) do
      for _, c in ipairs(EVR) do add(fmt("%s %s, %s", mn, vr(w, a), vr(w, c))) end
    end
    for _, m in ipairs(MEM) do
      add(fmt("%s %s, %s", mn, m, vr(w, 0)))
      add(fmt("%s %s, %s", mn, vr(w, 1), m))
    end
    for _, m in ipairs(MEM_SHORT) do
      for _, r in ipairs({ 8, 15, 16, 31 }) do
        add(fmt("%s %s, %s", mn, m, vr(w, r)))
        add(fmt("%s %s, %s", mn, vr(w, r), m))
      end
      add(fmt("%s %s, %s{%%k1}", mn, m, vr(w, 2)))
      add(fmt("%s %s, %s{%%k2}{z}", mn, m, vr(w, 18)))
      add(fmt("%s %s, %s{%%k7}", mn, vr(w, 29), m))
    end
    for _, m in ipairs(evex_mems(VBYTES[w])) do
      add(fmt("%s %s, %s", mn, m, vr(w, 17)))
      add(fmt("%s %s, %s{%%k5}", mn, vr(w, 3), m))
    end
    add(fmt("%s %s, %s{%%k4}{z}", mn, vr(w, 8), vr(w, 9)))
    add(fmt("%s %s, %s{%%k6}", mn, vr(w, 25), vr(w, 1)))
  end
end

-- Scalar moves: loads, stores, the three-operand register merge.
for _, m in ipairs(MEM) do
  for _, r in ipairs({ 1, 9, 17, 31 }) do
    add(fmt("vmovss %s, %%xmm%d", m, r))
    add(fmt("vmovss %%xmm%d, %s", r, m))
  end
end
for _, m in ipairs(evex_mems(4)) do
  add(fmt("vmovss %s, %%xmm20", m))
  add(fmt("vmovss %s, %%xmm2{%%k1}{z}", m))
  add(fmt("vmovss %%xmm2, %s{%%k1}", m))
end
for _, a in ipairs(VEXR) do
  for _, b in ipairs(VEXR) do
    for _, c in ipairs(VEXR) do add(fmt("vmovss %%xmm%d, %%xmm%d, %%xmm%d", a, b, c)) end
  end
end
for _, a in ipairs(EVR) do
  add(fmt("vmovss %%xmm%d, %%xmm%d, %%xmm%d", a, 17, 3))
  add(fmt("vmovss %%xmm%d, %%xmm%d, %%xmm%d{%%k2}", 31 - a, a, 30))
end

-- Broadcasts: memory (disp8 scale 4 at every width) and xmm sources.
for _, w in ipairs(WIDTHS) do
  for _, m in ipairs(MEM) do
    add(fmt("vbroadcastss %s, %s", m, vr(w, 3)))
    add(fmt("vbroadcastss %s, %s", m, vr(w, 11)))
    add(fmt("vbroadcastss %s, %s", m, vr(w, 27)))
  end
  for _, m in ipairs(evex_mems(4)) do
    add(fmt("vbroadcastss %s, %s{%%k1}", m, vr(w, 2)))
  end
  for _, s in ipairs(EVR) do
    for _, d in ipairs(EVR) do add(fmt("vbroadcastss %%xmm%d, %s", s, vr(w, d))) end
  end
  add(fmt("vbroadcastss %%xmm1, %s{%%k3}{z}", vr(w, 2)))
end

-- AVX2 masked moves for channel remainders.
for _, w in ipairs({ "xmm", "ymm" }) do
  for _, m in ipairs(MEM) do
    add(fmt("vmaskmovps %s, %s, %s", m, vr(w, 1), vr(w, 2)))
    add(fmt("vmaskmovps %s, %s, %s", vr(w, 2), vr(w, 1), m))
  end
  for _, a in ipairs(VEXR) do
    for _, c in ipairs(VEXR) do
      add(fmt("vmaskmovps (%%r9), %s, %s", vr(w, a), vr(w, c)))
      add(fmt("vmaskmovps %s, %s, 8(%%r10,%%rcx,4)", vr(w, a), vr(w, c)))
    end
  end
end

-- Opmask moves.
local G32 = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
  "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d" }
local G64 = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
  "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" }
for _, g in ipairs(G32) do
  for _, k in ipairs({ 0, 1, 7 }) do
    add(fmt("kmovw %%%s, %%k%d", g, k))
    add(fmt("kmovw %%k%d, %%%s", k, g))
  end
end
for a = 0, 7 do
  for c = 0, 7 do add(fmt("kmovw %%k%d, %%k%d", a, c)) end
end
for _, m in ipairs(MEM_SHORT) do
  add(fmt("kmovw %s, %%k1", m))
  add(fmt("kmovw %%k6, %s", m))
end

add("vzeroupper")
for _, mn in ipairs({ "prefetcht0", "prefetcht1", "prefetcht2", "prefetchnta" }) do
  for _, m in ipairs(MEM) do add(mn .. " " .. m) end
end

-- Legacy SSE.
local LEG = { 0, 1, 6, 7, 8, 9, 14, 15 }
for _, mn in ipairs({ "movups", "movaps", "movss", "addps", "mulps", "subps", "minps", "maxps", "divps", "xorps",
  "orps" }) do
  for _, a in ipairs(LEG) do
    for _, c in ipairs(LEG) do add(fmt("%s %%xmm%d, %%xmm%d", mn, a, c)) end
  end
  for _, m in ipairs(MEM) do
    add(fmt("%s %s, %%xmm%d", mn, m, 3))
    add(fmt("%s %s, %%xmm%d", mn, m, 12))
    if mn:find("^mov") then
      add(fmt("%s %%xmm%d, %s", mn, 5, m))
      add(fmt("%s %%xmm%d, %s", mn, 10, m))
    end
  end
end
for _, imm in ipairs({ 0, 1, 0x1b, 0x7f, 0x80, 0xff }) do
  for _, a in ipairs({ 0, 9 }) do
    for _, c in ipairs({ 1, 15 }) do add(fmt("shufps $%d, %%xmm%d, %%xmm%d", imm, a, c)) end
  end
  add(fmt("shufps $%d, 0x10(%%rax,%%rcx,4), %%xmm10", imm))
end

for _, imm in ipairs({ 0, 1, 23, 31, 0x7f, 0x80, 0xff }) do
  for _, a in ipairs(LEG) do add(fmt("pslld $%d, %%xmm%d", imm, a)) end
end

-- General-purpose forms.
local GSAMPLE64 = { "rax", "rcx", "rsp", "rbp", "rsi", "r8", "r12", "r13", "r15" }
local GSAMPLE32 = { "eax", "ecx", "esp", "ebp", "esi", "r8d", "r12d", "r13d", "r15d" }
local IMMS = { 0, 1, 127, 128, -128, -129, 1000, 0x7fffffff, -0x80000000 }
local ALU = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" }
for _, mn in ipairs(ALU) do
  for _, set in ipairs({ GSAMPLE64, GSAMPLE32 }) do
    for _, a in ipairs(set) do
      for _, c in ipairs(set) do add(fmt("%s %%%s, %%%s", mn, a, c)) end
    end
  end
  for _, m in ipairs(MEM_SHORT) do
    for _, r in ipairs({ "rax", "r9", "edx", "r14d" }) do
      add(fmt("%s %s, %%%s", mn, m, r))
      add(fmt("%s %%%s, %s", mn, r, m))
    end
    add(fmt("%sq $1000, %s", mn, m))
    add(fmt("%sl $-3, %s", mn, m))
  end
  for _, v in ipairs(IMMS) do
    for _, r in ipairs({ "rax", "rbx", "r8", "eax", "ebx", "r9d", "rsp", "r15" }) do
      add(fmt("%s $%d, %%%s", mn, v, r))
    end
  end
  add(fmt("%s $0xffffffff, %%eax", mn))
  add(fmt("%s $0xffffff80, %%ecx", mn))
  add(fmt("%s $0xffffffffffffff80, %%rdx", mn))
end
for _, a in ipairs(GSAMPLE64) do
  for _, c in ipairs(GSAMPLE64) do add(fmt("mov %%%s, %%%s", a, c)) end
end
for _, a in ipairs(GSAMPLE32) do
  for _, c in ipairs(GSAMPLE32) do add(fmt("mov %%%s, %%%s", a, c)) end
end
for _, m in ipairs(MEM) do
  for _, r in ipairs({ "rax", "r11", "ecx", "r13d" }) do
    add(fmt("mov %s, %%%s", m, r))
    add(fmt("mov %%%s, %s", r, m))
  end
  add(fmt("lea %s, %%rax", m))
  add(fmt("lea %s, %%r14", m))
  add(fmt("lea %s, %%edx", m))
  add(fmt("movq $-1, %s", m))
  add(fmt("movl $0x80000000, %s", m))
end
local MOVIMMS = { "0", "1", "-1", "0x7fffffff", "0x80000000", "0xffffffff", "-0x80000000", "-0x80000001",
  "0x100000000", "0x123456789abcdef0", "0xffffffff80000000", "0xffffffffffffffff", "0x8000000000000000",
  "-0x8000000000000000", "9007199254740993" }
for _, v in ipairs(MOVIMMS) do
  for _, r in ipairs(G64) do add(fmt("mov $%s, %%%s", v, r)) end
  for _, r in ipairs({ "rax", "r9" }) do add(fmt("movabs $%s, %%%s", v, r)) end
end
for _, v in ipairs({ "0", "1", "-1", "0x7fffffff", "0x80000000", "0xffffffff" }) do
  for _, r in ipairs(G32) do add(fmt("mov $%s, %%%s", v, r)) end
end
for _, set in ipairs({ GSAMPLE64, GSAMPLE32 }) do
  for _, a in ipairs(set) do
    for _, c in ipairs(set) do
      add(fmt("imul %%%s, %%%s", a, c))
      add(fmt("test %%%s, %%%s", a, c))
    end
    for _, v in ipairs({ 1, 127, 128, -128, -129, 100000 }) do
      add(fmt("imul $%d, %%%s, %%%s", v, a, set[#set]))
      add(fmt("imul $%d, %%%s", v, a))
      add(fmt("test $%d, %%%s", v, a))
    end
    for _, m in ipairs(MEM_SHORT) do
      add(fmt("imul %s, %%%s", m, a))
      add(fmt("imul $7, %s, %%%s", m, a))
      add(fmt("test %s, %%%s", m, a))
      add(fmt("test %%%s, %s", a, m))
    end
  end
end
for _, set in ipairs({ G64, G32 }) do
  for _, r in ipairs(set) do
    for _, mn in ipairs({ "inc", "dec" }) do add(fmt("%s %%%s", mn, r)) end
    for _, mn in ipairs({ "shl", "shr", "sar", "sal" }) do
      for _, c in ipairs({ "$1", "$2", "$31", "$63", "%cl" }) do add(fmt("%s %s, %%%s", mn, c, r)) end
    end
  end
end
for _, m in ipairs(MEM_SHORT) do
  for _, mn in ipairs({ "incq", "decq", "incl", "decl" }) do add(mn .. " " .. m) end
  add("testq $5, " .. m)
  add("shlq $3, " .. m)
  add("sarl $1, " .. m)
end
for _, r in ipairs(G64) do
  add("push %" .. r)
  add("pop %" .. r)
end
add("nop")
add("ret")

---------------------------------------------------------------------------
-- Compare the matrix with GNU as. Each instruction gets its own 16-byte slot
-- (.p2align 4 with 0xcc fill), so one wrong length cannot shift the rest.
---------------------------------------------------------------------------

local t0 = os.clock()
local src = { ".text" }
for _, ins in ipairs(matrix) do
  src[#src + 1] = "\t.p2align 4, 0xcc"
  src[#src + 1] = "\t" .. ins.text
end
src[#src + 1] = "\t.p2align 4, 0xcc"
src[#src + 1] = ""
local bin, err = gnu_as(table.concat(src, "\n"), "x86asm_matrix")
if not bin then
  L.check(false, "GNU as failed on the matrix:\n" .. err)
  L.finish()
end
L.check(#bin == 16 * #matrix, fmt("as output is %d bytes, expected %d slots", #bin, #matrix))

local identical, shown = 0, 0
for i, ins in ipairs(matrix) do
  local slot = bin:sub((i - 1) * 16 + 1, i * 16)
  local theirs = slot:gsub("\204+$", "")
  local ok = slot:sub(1, #ins.bytes) == ins.bytes and slot:sub(#ins.bytes + 1) == string.rep("\204", 16 - #ins.bytes)
  -- The canonical text must assemble (in Lua too) to the same bytes.
  local again = X.assemble_one(ins.text)
  if ok and again == ins.bytes then
    identical = identical + 1
  elseif shown < 40 then
    shown = shown + 1
    print(fmt("MISMATCH %-50s lua: %s  as: %s%s", ins.text, L.hex(ins.bytes), L.hex(theirs),
      again ~= ins.bytes and ("  lua(canonical): " .. L.hex(again)) or ""))
  end
end
print(fmt("x86asm vs GNU as: %d instruction forms, %d identical", #matrix, identical))
L.check(identical == #matrix, "every matrix form identical to GNU as")
L.check(#matrix >= 2000, "matrix has at least 2000 distinct forms")

---------------------------------------------------------------------------
-- Blocks with labels: as assembles b:to_att(), which must equal b:bytes().
---------------------------------------------------------------------------

local function compare_block(b, stem, what)
  local theirs, msg = gnu_as(".text\n" .. b:to_att(), stem)
  if not theirs then
    L.check(false, what .. ": GNU as failed:\n" .. msg)
    return
  end
  local ours = b:bytes()
  if theirs == ours then
    L.check(true, what)
    return
  end
  local pos = 0
  for _, ins in ipairs(b:instructions()) do
    local t = theirs:sub(pos + 1, pos + #ins.bytes)
    if t ~= ins.bytes then
      print(fmt("%s: first difference at offset %d, %s  lua: %s  as: %s",
        what, pos, ins.text, L.hex(ins.bytes), L.hex(t)))
      break
    end
    pos = pos + #ins.bytes
  end
  L.check(false, fmt("%s: to_att() through GNU as (%d bytes) equals bytes() (%d bytes)", what, #theirs, #ours))
end

-- Jumps at the rel8 limits: backward rel8 reaches -128, forward +127.
do
  local b = X.block()
  local n = 0
  local function label()
    n = n + 1
    return "L" .. n
  end
  for _, j in ipairs({ "jmp", "jnz", "jz", "jl", "jge" }) do
    for fill = 120, 132 do
      local back = label()
      b:label(back)
      for _ = 1, fill do b:emit("nop") end
      b:emit(j .. " " .. back)
      local fwd = label()
      b:emit(j .. " " .. fwd)
      for _ = 1, fill do b:emit("nop") end
      b:label(fwd)
    end
  end
  local far = label()
  b:emit("jle " .. far)
  for _ = 1, 300 do b:emit("vfmadd231ps 0x40(%rax,%rcx,4), %zmm1, %zmm2") end
  b:label(far)
  b:emit("jmp " .. far)
  compare_block(b, "x86asm_jumps", "jumps at the rel8/rel32 boundary")

  -- Which jumps became rel32 must follow from the distances alone.
  local sizes = {}
  for _, ins in ipairs(b:instructions()) do
    if ins.text:match("^j") then sizes[#sizes + 1] = #ins.bytes end
  end
  -- First pair: fill 120 -> back rel = -(120+2) fits; forward rel 120 fits.
  L.check(sizes[1] == 2 and sizes[2] == 2, "short jumps at small distances")
end

-- Interleaved jumps whose sizes depend on each other: the fixed point must be
-- GNU as's (start short, grow what does not reach).
do
  local seed = 12345
  local function rnd(n)
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  end
  local JCC = { "jmp", "jz", "jnz", "jl", "jle", "jg", "jge", "jb", "jbe", "ja", "jae", "js", "jns", "je", "jne" }
  local FILL = { "nop", "add $1, %rax", "vmovups (%rsi,%rcx,4), %zmm0", "vfmadd231ps 64(%rax){1to16}, %zmm1, %zmm2{%k1}",
    "mov $0x123456789, %r11", "dec %r9" }
  for round = 1, 6 do
    local b = X.block()
    local nlabels = 40
    local placed = {}
    for i = 1, 400 do
      if rnd(8) == 0 then
        local l = rnd(nlabels) + 1
        if not placed[l] then
          placed[l] = true
          b:label("T" .. l)
        end
      end
      if rnd(3) == 0 then
        b:emit(JCC[rnd(#JCC) + 1] .. " T" .. (rnd(nlabels) + 1))
      else
        b:emit(FILL[rnd(#FILL) + 1])
      end
    end
    for l = 1, nlabels do
      if not placed[l] then b:label("T" .. l) end
      b:emit("nop")
    end
    compare_block(b, "x86asm_relax" .. round, "random jump layout " .. round)
  end
end

-- A kernel-like block: a 3x3 depthwise tap loop with an AVX-512 channel loop,
-- a masked remainder and a long-enough body that one jump needs rel32.
local kernel = X.block()
kernel:emit([[
  mov %rdi, %r10            # input row pointer
  mov $3, %r9d
row_loop:
  xor %ecx, %ecx
ch_loop:
  vmovups (%rdx,%rcx,4), %zmm0
  vmovups 64(%rdx,%rcx,4), %zmm1
]])
for t = 0, 8 do
  kernel:emit(fmt("vfmadd231ps %d(%%r10,%%rcx,4), %%zmm%d, %%zmm0", t * 64, 16 + t))
  kernel:emit(fmt("vfmadd231ps %d(%%r10,%%rcx,4), %%zmm%d, %%zmm1", t * 64 + 64, 16 + t))
  kernel:emit(fmt("vbroadcastss %d(%%r8), %%zmm%d", t * 4 + 1024, 2 + (t % 4)))
end
kernel:emit([[
  prefetcht0 512(%r10,%rcx,4)
  vmaxps %zmm30, %zmm0, %zmm0
  vminps %zmm31, %zmm1, %zmm1
  vmovups %zmm0, (%rsi,%rcx,4)
  vmovups %zmm1, 64(%rsi,%rcx,4)
  add $32, %rcx
  cmp %r11, %rcx
  jl ch_loop
  test %eax, %eax
  jz no_tail
  kmovw %eax, %k1
  vmovups (%rdx,%rcx,4), %zmm0{%k1}{z}
  vfmadd231ps (%r10,%rcx,4), %zmm16, %zmm0{%k1}
  vfmadd231ps 4(%r10){1to16}, %zmm0, %zmm0{%k1}
  vmovups %zmm0, (%rsi,%rcx,4){%k1}
no_tail:
  lea (%r10,%r12,4), %r10
  lea 0x100(%rsi), %rsi
  dec %r9d
  jnz row_loop
  vzeroupper
]])
compare_block(kernel, "x86asm_kernel", "kernel block: to_att() through GNU as equals bytes()")

do
  local ins = kernel:instructions()
  local far = false
  for _, i in ipairs(ins) do
    if i.text == "jl ch_loop" then far = (#i.bytes == 6) end
  end
  L.check(far, "the long channel loop needs a rel32 jl")
  local c = kernel:to_c_bytes("    ")
  local k, ok_lines, labels = 0, true, 0
  for line in c:gmatch("([^\n]*)\n") do
    if line:match("^    /%* [%w_]+: %*/$") then
      labels = labels + 1
    else
      k = k + 1
      local list, text = line:match('^    "%.byte ([0-9a-fx,]+)\\n\\t"  /%* (.-) %*/$')
      local bytes = list and list:gsub("0x(%x%x),?", function(h) return string.char(tonumber(h, 16)) end)
      if not (list and ins[k] and text == ins[k].text and bytes == ins[k].bytes) then
        ok_lines = false
        print("bad C line: " .. line)
      end
    end
  end
  L.check(ok_lines and k == #ins, "to_c_bytes: one .byte line per instruction with its AT&T comment")
  L.check(labels == 3, "to_c_bytes: labels appear as comments")
  L.check(c:find('/* vfmadd231ps 0x4(%r10){1to16}, %zmm0, %zmm0{%k1} */', 1, true) ~= nil,
    "to_c_bytes comment carries the canonical instruction")
end

-- The example from the API description.
L.check(L.hex(X.assemble_one("vfmadd231ps 64(%rax){1to16}, %zmm1, %zmm2{%k1}")) == "62 f2 75 59 b8 50 10",
  "assemble_one of the API example")

print(fmt("(%.2f s)", os.clock() - t0))
L.finish()

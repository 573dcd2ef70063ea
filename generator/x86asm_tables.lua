-- Instruction forms of the x86-64 subset, as data. Adding a mnemonic is a line.
--
-- A form is { "<operand tokens>", opcode, field = ... }. Tokens are written in
-- AT&T operand order, each a class letter followed by a role letter.
--   classes: V vector register of the instruction's width   W V or memory
--            X xmm register whatever the width (broadcast sources)   M memory
--            K opmask register   D 32-bit GPR   G GPR of the operand size
--            E G or memory   A the accumulator (%rax/%eax)   C %cl   O the immediate 1
--            b imm8, sign-extended   u imm8 taken as is (counts, shuffle selectors)
--            d imm32, sign-extended to 64 bits for 64-bit operations   q imm64
--   roles:   r ModRM.reg   m ModRM.rm   x both reg and rm   v VEX/EVEX.vvvv
--            o added to the opcode byte   i immediate   - implied by the opcode
-- Entry fields (shared by the forms of one mnemonic unless a form overrides):
--   enc  "L" legacy, "V" VEX only, "E" EVEX only, "VE" VEX when possible else EVEX
--   pp   mandatory prefix 0x66/0xF3/0xF2 (VEX/EVEX fold it into pp)
--   map  nil (one-byte opcodes), "0F" or "0F38"
--   w    VEX/EVEX.W (0 when omitted: GNU as encodes WIG as W0)
--   vl   vector lengths allowed: x=128 y=256 z=512 (scalar and k ops: "x", L=0)
--   bc   element bytes an EVEX {1toN} broadcast replicates; nil = cannot broadcast
--   t8   EVEX disp8*N rule: "fv" N = vector bytes (element bytes when broadcasting),
--        "t1s" N = element bytes (4: the scalar loads and vbroadcastss)
--   gpr  operand size comes from GPR operands or a q/l suffix; W from it
--   swap opcode of the reversed-direction form GNU as switches to when that lets
--        a reg-reg VEX move use the 2-byte prefix
--   digit  ModRM.reg opcode extension; modrm  a fixed ModRM byte (sfence);
--   sz: operand size the form is limited to;
--   now  64-bit default operand size, no REX.W (push/pop)
local T = { insns = {}, jumps = {} }

local function parse_tokens(s)
  local toks = {}
  for tok in s:gmatch("[^,%s]+") do
    local cls, role = tok:sub(1, 1), tok:sub(2, 2)
    assert(#tok == 2 and role:match("[rmxvoi%-]"), "bad token " .. tok)
    local immsize = ({ b = 1, u = 1, d = 4, q = 8 })[cls]
    toks[#toks + 1] = { cls = cls, role = role, immsize = immsize }
  end
  return toks
end

local entry_fields = { "enc", "pp", "map", "w", "vl", "bc", "t8", "gpr" }

local function def(name, common, forms)
  local entry = { name = name, forms = {} }
  for _, k in ipairs(entry_fields) do entry[k] = common[k] end
  entry.vl = entry.vl or "xyz"
  for i, f in ipairs(forms) do
    local form = { ops = parse_tokens(f[1]), op = f[2] }
    for k, v in pairs(common) do form[k] = v end
    for k, v in pairs(f) do if type(k) == "string" then form[k] = v end end
    entry.forms[i] = form
  end
  T.insns[name] = entry
end

-- Vector moves, VEX or EVEX.
def("vmovups", { enc = "VE", map = "0F", t8 = "fv" }, { { "Wm,Vr", 0x10, swap = 0x11 }, { "Vr,Mm", 0x11 } })
def("vmovaps", { enc = "VE", map = "0F", t8 = "fv" }, { { "Wm,Vr", 0x28, swap = 0x29 }, { "Vr,Mm", 0x29 } })
def("vmovss", { enc = "VE", pp = 0xF3, map = "0F", vl = "x", t8 = "t1s" },
  { { "Mm,Vr", 0x10 }, { "Vr,Mm", 0x11 }, { "Vm,Vv,Vr", 0x10, swap = 0x11 } })
-- Non-temporal store (aligned): output that would only evict other data.
def("vmovntps", { enc = "VE", map = "0F", t8 = "fv" }, { { "Vr,Mm", 0x2B } })
def("vbroadcastss", { enc = "VE", pp = 0x66, map = "0F38", t8 = "t1s" }, { { "Mm,Vr", 0x18 }, { "Xm,Vr", 0x18 } })

-- Packed single arithmetic: AT&T "op src2, src1, dst".
local arith_ps = { vaddps = 0x58, vmulps = 0x59, vsubps = 0x5C, vminps = 0x5D, vdivps = 0x5E, vmaxps = 0x5F, vxorps = 0x57,
                   vorps = 0x56 }
for name, op in pairs(arith_ps) do
  def(name, { enc = "VE", map = "0F", bc = 4, t8 = "fv" }, { { "Wm,Vv,Vr", op } })
end
def("vshufps", { enc = "VE", map = "0F", bc = 4, t8 = "fv" }, { { "ui,Wm,Vv,Vr", 0xC6 } })
def("vfmadd231ps", { enc = "VE", pp = 0x66, map = "0F38", bc = 4, t8 = "fv" }, { { "Wm,Vv,Vr", 0xB8 } })
def("vfmadd213ps", { enc = "VE", pp = 0x66, map = "0F38", bc = 4, t8 = "fv" }, { { "Wm,Vv,Vr", 0xA8 } })
-- Shift of each 32-bit lane left by an immediate (the activations' 2^n from
-- its exponent bits): the destination is VEX/EVEX.vvvv, the source ModRM.rm.
def("vpslld", { enc = "VE", pp = 0x66, map = "0F", bc = 4, t8 = "fv" }, { { "ui,Vm,Vv", 0x72, digit = 6 } })
def("vpxord", { enc = "E", pp = 0x66, map = "0F", bc = 4, t8 = "fv" }, { { "Wm,Vv,Vr", 0xEF } })

-- VEX-only: AVX2 masked moves for channel remainders, vzeroupper, opmask moves.
def("vmaskmovps", { enc = "V", pp = 0x66, map = "0F38", vl = "xy" }, { { "Mm,Vv,Vr", 0x2C }, { "Vr,Vv,Mm", 0x2E } })
def("vzeroupper", { enc = "V", map = "0F", vl = "x" }, { { "", 0x77 } })
def("kmovw", { enc = "V", map = "0F", vl = "x" },
  { { "Dm,Kr", 0x92 }, { "Km,Dr", 0x93 }, { "Km,Kr", 0x90 }, { "Mm,Kr", 0x90 }, { "Kr,Mm", 0x91 } })

-- Legacy SSE for the SSE kernels.
def("movups", { enc = "L", map = "0F", vl = "x" }, { { "Wm,Vr", 0x10 }, { "Vr,Mm", 0x11 } })
def("movaps", { enc = "L", map = "0F", vl = "x" }, { { "Wm,Vr", 0x28 }, { "Vr,Mm", 0x29 } })
def("movss", { enc = "L", pp = 0xF3, map = "0F", vl = "x" }, { { "Wm,Vr", 0x10 }, { "Vr,Mm", 0x11 } })
local sse_ps = { addps = 0x58, mulps = 0x59, subps = 0x5C, minps = 0x5D, divps = 0x5E, maxps = 0x5F, xorps = 0x57,
                 orps = 0x56 }
for name, op in pairs(sse_ps) do
  def(name, { enc = "L", map = "0F", vl = "x" }, { { "Wm,Vr", op } })
end
def("shufps", { enc = "L", map = "0F", vl = "x" }, { { "ui,Wm,Vr", 0xC6 } })
def("pslld", { enc = "L", pp = 0x66, map = "0F", vl = "x" }, { { "ui,Vm", 0x72, digit = 6 } })
-- Scalar single: the SSE kernels' channel tail, one lane at a time.
local sse_ss = { addss = 0x58, mulss = 0x59, minss = 0x5D, maxss = 0x5F }
for name, op in pairs(sse_ss) do
  def(name, { enc = "L", pp = 0xF3, map = "0F", vl = "x" }, { { "Wm,Vr", op } })
end

local prefetch = { prefetchnta = 0, prefetcht0 = 1, prefetcht1 = 2, prefetcht2 = 3 }
for name, digit in pairs(prefetch) do
  def(name, { enc = "L", map = "0F", vl = "x" }, { { "Mm", 0x18, digit = digit } })
end

-- General-purpose instructions. Form order is GNU as's preference: the first
-- form that accepts the operands wins (imm8 before the rax short form before imm32).
local G = { enc = "L", gpr = true }
local alu = { add = 0, ["or"] = 1, adc = 2, sbb = 3, ["and"] = 4, sub = 5, xor = 6, cmp = 7 }
for name, n in pairs(alu) do
  def(name, G, {
    { "Gr,Em", n * 8 + 1 },
    { "Mm,Gr", n * 8 + 3 },
    { "bi,Em", 0x83, digit = n },
    { "di,A-", n * 8 + 5 },
    { "di,Em", 0x81, digit = n },
  })
end
def("mov", G, {
  { "Gr,Em", 0x89 },
  { "Mm,Gr", 0x8B },
  { "di,Go", 0xB8, sz = 32 },
  { "di,Em", 0xC7, digit = 0 },
  { "qi,Go", 0xB8, sz = 64 },
})
def("movabs", G, { { "qi,Go", 0xB8, sz = 64 } })
def("lea", G, { { "Mm,Gr", 0x8D } })
def("imul", G, {
  { "Em,Gr", 0xAF, map = "0F" },
  { "bi,Em,Gr", 0x6B },
  { "di,Em,Gr", 0x69 },
  { "bi,Gx", 0x6B },
  { "di,Gx", 0x69 },
})
def("inc", G, { { "Em", 0xFF, digit = 0 } })
def("dec", G, { { "Em", 0xFF, digit = 1 } })
def("test", G, {
  { "Gr,Em", 0x85 },
  { "Mm,Gr", 0x85 },
  { "di,A-", 0xA9 },
  { "di,Em", 0xF7, digit = 0 },
})
local shifts = { shl = 4, sal = 4, shr = 5, sar = 7 }
for name, n in pairs(shifts) do
  def(name, G, { { "O-,Em", 0xD1, digit = n }, { "ui,Em", 0xC1, digit = n }, { "C-,Em", 0xD3, digit = n } })
end
def("push", G, { { "Go", 0x50, sz = 64, now = true } })
def("pop", G, { { "Go", 0x58, sz = 64, now = true } })
def("nop", G, { { "", 0x90 } })
-- Orders the kernel's non-temporal stores before whatever the caller does next.
def("sfence", { enc = "L", map = "0F", vl = "x" }, { { "", 0xAE, modrm = 0xF8 } })
def("ret", G, { { "", 0xC3 } })

-- Jumps to labels: condition code of each jcc (nil for jmp).
T.jumps.jmp = false
local cc = {
  o = 0, no = 1, b = 2, c = 2, nae = 2, ae = 3, nb = 3, nc = 3, e = 4, z = 4, ne = 5, nz = 5,
  be = 6, na = 6, a = 7, nbe = 7, s = 8, ns = 9, p = 10, pe = 10, np = 11, po = 11,
  l = 12, nge = 12, ge = 13, nl = 13, le = 14, ng = 14, g = 15, nle = 15,
}
for suffix, code in pairs(cc) do T.jumps["j" .. suffix] = code end

return T

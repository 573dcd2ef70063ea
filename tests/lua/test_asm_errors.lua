-- Every error of the assembler: raised as "x86asm: '<instruction>': <reason>",
-- quoting the offending instruction as written.
local X = require("x86asm")
local L = require("testlib")

-- Assembling `text` must fail with a message that starts with x86asm:, quotes
-- the instruction, and mentions `why`.
local function bad(text, why, quoted)
  quoted = quoted or text
  local err = L.error_of(X.assemble_one, text)
  if not L.check(err ~= nil, "'" .. text .. "' must be rejected") then return end
  L.check(err:sub(1, 8) == "x86asm: ", "message starts with x86asm: -- " .. err)
  L.check(err:find("'" .. quoted .. "'", 1, true) ~= nil, "message quotes '" .. quoted .. "' -- " .. err)
  L.check(err:find(why, 1, true) ~= nil, "message for '" .. text .. "' mentions '" .. why .. "' -- " .. err)
end

-- Unknown things and operand counts.
bad("vfoo %xmm1", "unknown mnemonic 'vfoo'")
bad("vmovups %zmm1, %zmm2, %zmm3", "no form of vmovups takes 3 operands")
bad("vzeroupper %xmm16", "no form of vzeroupper takes 1 operand")
bad("nop %rax", "no form of nop takes 1 operand")
bad("vaddps %xmm32, %xmm1, %xmm2", "unknown register '%xmm32'")
bad("mov %foo, %rax", "unknown register")
bad("add $x, %rax", "bad immediate")
bad("mov foo, %rax", "labels are jump targets")
bad("vaddps %k1, %xmm1, %xmm2", "does not fit any form of vaddps")

-- Register classes against the encoding an instruction has.
bad("addps %zmm1, %xmm2", "zmm register in an SSE instruction")
bad("mulps %ymm3, %xmm2", "ymm register in an SSE instruction")
bad("movups (%rax), %xmm16", "needs EVEX")
bad("addps %xmm1, %xmm2{%k1}", "write mask on an SSE instruction")
bad("movss (%rax){1to4}, %xmm1", "broadcast {1to4} on an SSE instruction")
bad("vmaskmovps (%rax), %ymm17, %ymm2", "needs EVEX")
bad("vmaskmovps (%rax), %ymm1, %ymm2{%k1}", "write mask on a VEX-only instruction")
bad("vmaskmovps (%rax), %zmm1, %zmm2", "zmm register in a VEX-only instruction")
bad("kmovw %eax, %k1{%k2}", "write mask on a VEX-only instruction")
bad("kmovw %rax, %k1", "must be a 32-bit register")
bad("vmovss (%rax), %ymm1", "vmovss does not take ymm registers")
bad("vaddps %ymm1, %zmm2, %zmm3", "operand widths differ")
bad("vbroadcastss %ymm1, %zmm2", "must be an xmm register")

-- Masks and broadcasts.
bad("vaddps %zmm1, %zmm2, %zmm3{%k0}", "%k0 cannot be a write mask")
bad("vmovups (%rax), %zmm0{z}", "{z} needs a write mask")
bad("vmovups %zmm0, (%rax){%k1}{z}", "zeroing-masking {z} is not allowed on a memory destination")
bad("vaddps %zmm1{%k1}, %zmm2, %zmm3", "destination")
bad("vmovups (%rax), %zmm0{%k9}", "bad write mask")
bad("vmovups (%rax), %zmm0{y}", "bad decorator")
bad("vmovups (%rax){1to16}, %zmm0", "vmovups cannot broadcast")
bad("vbroadcastss (%rax){1to16}, %zmm0", "vbroadcastss cannot broadcast")
bad("vfmadd231ps (%rax){1to8}, %zmm1, %zmm2", "{1to8} does not match zmm (needs {1to16})")
bad("vfmadd231ps (%rax){1to16}, %xmm1, %xmm2", "{1to16} does not match xmm (needs {1to4})")
bad("vaddps %zmm1{1to16}, %zmm2, %zmm3", "needs a memory operand")
bad("add $1, %rax{%k1}", "need an EVEX instruction")

-- Immediates.
bad("add $0x80000000, %rax", "immediate $0x80000000 out of range")
bad("add $0xffffffff, %rax", "out of range")
bad("mov $0x100000000, %eax", "out of range")
bad("imul $0x80000000, %rax, %rbx", "out of range")
bad("shufps $256, %xmm1, %xmm2", "immediate $0x100 out of range")
bad("vshufps $-129, %zmm1, %zmm2, %zmm3", "out of range")
bad("shl $256, %rax", "out of range")
bad("mov $0x10000000000000000, %rax", "does not fit in 64 bits")

-- Addressing.
bad("vmovups (%rax,%rcx,3), %zmm0", "bad scale")
bad("mov (%rax,%rsp,2), %rax", "%rsp cannot be an index register")
bad("mov (%rax,,4), %rax", "scale without an index")
bad("mov (%eax), %rax", "only 64-bit address registers")
bad("mov (%xmm1), %rax", "cannot be a base register")
bad("mov 0x80000000(%rax), %rax", "out of range")
bad("mov (), %rax", "empty address")

-- Operand sizes of GPR instructions.
bad("mov %eax, %rbx", "operand size mismatch")
bad("addl %eax, %rbx", "operand size mismatch")
bad("inc (%rax)", "operand size is ambiguous")
bad("movabs $1, %eax", "64-bit operands")

-- Jumps and labels.
bad("jmp %rax", "jump target must be a label")
bad("jnz", "jnz takes one label operand")
bad("jnz nowhere", "undefined label 'nowhere'")
do
  local b = X.block()
  b:emit("loop: dec %r9")
  local err = L.error_of(b.label, b, "loop")
  L.check(err and err:find("^x86asm: 'loop:': duplicate label 'loop'"), "duplicate label via label(): " .. tostring(err))
  err = L.error_of(b.emit, b, "nop\nloop:\nnop")
  L.check(err and err:find("^x86asm: 'loop:': duplicate label 'loop'"), "duplicate label via emit(): " .. tostring(err))
  err = L.error_of(b.label, b, "1abc")
  L.check(err and err:find("^x86asm: '1abc:': bad label name"), "bad label name: " .. tostring(err))
  -- An undefined label is only known when the block is resolved.
  b:emit("jnz done")
  err = L.error_of(b.bytes, b)
  L.check(err and err:find("^x86asm: 'jnz done': undefined label 'done'"), "undefined label at bytes(): " .. tostring(err))
  b:label("done")
  L.check(#b:bytes() > 0, "defining the label later resolves the jump")
end

-- In multi-instruction text the message names the instruction that failed.
do
  local err = L.error_of(function() X.block():emit("nop; vaddps %zmm1, %zmm2, %zmm3{%k0} # comment\nret") end)
  L.check(err and err:find("^x86asm: 'vaddps %%zmm1, %%zmm2, %%zmm3{%%k0}': "), "multi-line emit names the failing line: " .. tostring(err))
end

-- Errors are plain strings without a Lua position prefix.
do
  local ok, err = pcall(X.assemble_one, "vfoo")
  L.check(not ok and type(err) == "string" and err == "x86asm: 'vfoo': unknown mnemonic 'vfoo'", "exact message: " .. tostring(err))
end

L.finish()

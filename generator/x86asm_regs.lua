-- Register names of the x86-64 subset the assembler knows.
-- Each entry: kind ("gpr", "vec", "k"), num (encoding number), size (bits).
local regs = {}

local low64 = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi" }
local low32 = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" }
for i = 0, 7 do
  regs[low64[i + 1]] = { kind = "gpr", size = 64, num = i, name = low64[i + 1] }
  regs[low32[i + 1]] = { kind = "gpr", size = 32, num = i, name = low32[i + 1] }
end
for i = 8, 15 do
  regs["r" .. i] = { kind = "gpr", size = 64, num = i, name = "r" .. i }
  regs["r" .. i .. "d"] = { kind = "gpr", size = 32, num = i, name = "r" .. i .. "d" }
end
-- Only shift counts use an 8-bit register, so %cl is the one 8-bit name.
regs.cl = { kind = "gpr", size = 8, num = 1, name = "cl" }

local vsize = { xmm = 128, ymm = 256, zmm = 512 }
for prefix, size in pairs(vsize) do
  for i = 0, 31 do
    local name = prefix .. i
    regs[name] = { kind = "vec", size = size, num = i, name = name }
  end
end
for i = 0, 7 do
  regs["k" .. i] = { kind = "k", size = 16, num = i, name = "k" .. i }
end

return regs

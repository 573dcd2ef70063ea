-- Form selection and byte encoding (legacy/REX, VEX, EVEX) of one instruction.
-- The choices follow GNU as 2.40 with default options, so the bytes match what
-- `as --64` makes of the same text.
local bit = require("bit")
local P = require("x86asm_operand")
local T = require("x86asm_tables")

local fail = P.fail
local char, floor = string.char, math.floor

local E = {}

local MAP_BYTES = { ["0F"] = "\15", ["0F38"] = "\15\56" }
local MAP_CODE = { ["0F"] = 1, ["0F38"] = 2 }
local PP_CODE = { [0x66] = 1, [0xF3] = 2, [0xF2] = 3 }
local SS = { [1] = 0, [2] = 1, [4] = 2, [8] = 3 }
local VL_LETTER = { [128] = "x", [256] = "y", [512] = "z" }
local VL_NAME = { [128] = "xmm", [256] = "ymm", [512] = "zmm" }
local LL = { [128] = 0, [256] = 1, [512] = 2 }

-- Little-endian two's complement bytes of an integer (Lua number or int64 cdata).
local function le(v, n)
  if n == 8 then
    if type(v) ~= "number" then
      local t = {}
      for i = 0, 7 do t[i + 1] = tonumber(bit.band(bit.rshift(v, 8 * i), 0xff)) end
      return char(unpack(t))
    end
    return le(v % 2 ^ 32, 4) .. le(floor(v / 2 ^ 32) % 2 ^ 32, 4)
  end
  v = v % 2 ^ (8 * n)
  local t = {}
  for i = 1, n do
    t[i] = v % 256
    v = floor(v / 256)
  end
  return char(unpack(t))
end

local function fits8(v) return v >= -128 and v <= 127 end

-- GNU as reads a 32-bit operation's immediate modulo 2^32, so $0xffffffff is -1 there.
local function norm_imm(v, size)
  if size == 32 and type(v) == "number" and v >= 2 ^ 31 and v < 2 ^ 32 then return v - 2 ^ 32 end
  return v
end

local imm_fits = {
  b = function(v, size)
    v = norm_imm(v, size)
    return type(v) == "number" and fits8(v)
  end,
  u = function(v) return type(v) == "number" and v >= -128 and v <= 255 end,
  d = function(v, size)
    if type(v) ~= "number" then return false end
    return v >= -2 ^ 31 and v < (size == 32 and 2 ^ 32 or 2 ^ 31)
  end,
  q = function() return true end,
}

-- ModRM, SIB and displacement of a memory operand; n is the EVEX disp8 scale.
local function modrm_mem(reg3, m, n)
  local disp, base, index = m.disp, m.base, m.index
  local ss = SS[m.scale]
  local idx3 = index and index.num % 8 or 4
  if not base then
    -- mod=00 with SIB base=101 is the only base-less form: always disp32.
    return char(reg3 * 8 + 4, ss * 64 + idx3 * 8 + 5) .. le(disp, 4)
  end
  local b3 = base.num % 8
  local mod, tail
  -- rbp/r13 with mod=00 would mean "no base", so they need an explicit disp8 of 0.
  if disp == 0 and b3 ~= 5 then
    mod, tail = 0, ""
  elseif disp % n == 0 and fits8(disp / n) then
    mod, tail = 1, le(disp / n, 1)
  else
    mod, tail = 2, le(disp, 4)
  end
  -- rm=100 means "SIB follows", so rsp/r12 as a base always take a SIB byte.
  if index or b3 == 4 then
    return char(mod * 64 + reg3 * 8 + 4, ss * 64 + idx3 * 8 + b3) .. tail
  end
  return char(mod * 64 + reg3 * 8 + b3) .. tail
end

-- Returns true, or a failure strength (0 wrong kind of operand, 1 right kind
-- but unusable) with a reason, so errors can name the most telling problem.
local function check_operand(tok, o, size)
  local c = tok.cls
  if c == "V" or c == "X" then
    if o.t ~= "reg" or o.r.kind ~= "vec" then return 0 end
    if c == "X" and o.r.size ~= 128 then return 1, "%" .. o.r.name .. " must be an xmm register here" end
    return true
  elseif c == "W" then
    if o.t == "mem" or (o.t == "reg" and o.r.kind == "vec") then return true end
    return 0
  elseif c == "M" then
    return o.t == "mem" or 0
  elseif c == "K" then
    return (o.t == "reg" and o.r.kind == "k") or 0
  elseif c == "D" then
    if o.t ~= "reg" or o.r.kind ~= "gpr" then return 0 end
    if o.r.size ~= 32 then return 1, "%" .. o.r.name .. " must be a 32-bit register here" end
    return true
  elseif c == "G" or c == "E" or c == "A" then
    if o.t == "mem" and c == "E" then return true end
    if o.t ~= "reg" or o.r.kind ~= "gpr" or o.r.size ~= size then return 0 end
    if c == "A" and o.r.num ~= 0 then return 0 end
    return true
  elseif c == "C" then
    return (o.t == "reg" and o.r.name == "cl") or 0
  elseif c == "O" then
    return (o.t == "imm" and o.val == 1) or 0
  end
  if o.t ~= "imm" then return 0 end
  if imm_fits[c](o.val, size) then return true end
  return 1, "immediate $" .. P.hex(o.val) .. " out of range"
end

local function lookup(mn)
  local e = T.insns[mn]
  if e then return e end
  local base, suffix = mn:match("^(.-)([lq])$")
  e = base and T.insns[base]
  if e and e.gpr then return e, (suffix == "q" and 64 or 32) end
  if T.jumps[mn] ~= nil then fail("'" .. mn .. "' needs a label") end
  fail("unknown mnemonic '" .. mn .. "'")
end

local function gpr_size(mn, ops, size)
  for _, o in ipairs(ops) do
    if o.mask or o.zero or o.bcst then fail("masks and broadcasts need an EVEX instruction, not " .. mn) end
    if o.t == "reg" and o.r.kind == "gpr" and o.r.size ~= 8 then
      if size and size ~= o.r.size then
        fail("operand size mismatch: %" .. o.r.name .. " is not " .. size .. "-bit")
      end
      size = o.r.size
    end
  end
  if not size then
    for _, o in ipairs(ops) do
      if o.t == "mem" then fail("operand size is ambiguous: use a q or l suffix") end
    end
  end
  return size
end

local function vector_checks(entry, mn, ops)
  local enc = entry.enc
  local what = (enc == "L" and "an SSE instruction") or (enc == "V" and "a VEX-only instruction") or nil
  for i, o in ipairs(ops) do
    if o.mask or o.zero then
      if what then fail("write mask on " .. what .. " (" .. mn .. " has no EVEX form)") end
      if i ~= #ops then fail("a write mask goes on the destination (last) operand") end
      if not o.mask then fail("{z} needs a write mask {%k1}..{%k7}") end
      if o.mask == 0 then fail("%k0 cannot be a write mask") end
      if o.zero and o.t == "mem" then fail("zeroing-masking {z} is not allowed on a memory destination") end
    end
    if o.bcst then
      if what then fail("broadcast {1to" .. o.bcst .. "} on " .. what) end
      if not entry.bc then fail(mn .. " cannot broadcast {1to" .. o.bcst .. "}") end
    end
    if o.t == "reg" and o.r.kind == "vec" then
      if enc == "L" and o.r.size > 128 then fail(VL_NAME[o.r.size] .. " register in an SSE instruction") end
      if enc == "V" and o.r.size == 512 then fail("zmm register in a VEX-only instruction") end
      if what and o.r.num >= 16 then
        fail("%" .. o.r.name .. " needs EVEX, and " .. mn .. " is " .. what)
      end
    end
  end
end

local function select_form(entry, mn, ops, size)
  local best_score, best_reason, best_i = -1, nil, nil
  for _, f in ipairs(entry.forms) do
    if #f.ops == #ops then
      local ok = true
      if f.sz and f.sz ~= size then
        ok = false
        if best_score < 0 then best_reason = mn .. " here needs " .. f.sz .. "-bit operands" end
      else
        for i, tok in ipairs(f.ops) do
          local r, why = check_operand(tok, ops[i], size)
          if r ~= true then
            ok = false
            local score = (i - 1) * 2 + r
            if score > best_score then best_score, best_reason, best_i = score, why, i end
            break
          end
        end
      end
      if ok then return f end
    end
  end
  if best_reason then fail(best_reason) end
  fail("operand " .. best_i .. " ('" .. P.format_operand(ops[best_i]) .. "') does not fit any form of " .. mn)
end

local function vector_length(entry, mn, f, ops)
  local vl
  for i, tok in ipairs(f.ops) do
    local o = ops[i]
    if (tok.cls == "V" or tok.cls == "W") and o.t == "reg" then
      if vl and vl ~= o.r.size then fail("operand widths differ (%" .. o.r.name .. ")") end
      vl = o.r.size
    end
  end
  vl = vl or 128
  if not entry.vl:find(VL_LETTER[vl], 1, true) then fail(mn .. " does not take " .. VL_NAME[vl] .. " registers") end
  for i, o in ipairs(ops) do
    if o.bcst then
      if f.ops[i].cls ~= "W" then fail("broadcast {1to" .. o.bcst .. "} is only for a memory source") end
      local n = vl / (f.bc * 8)
      if o.bcst ~= n then
        fail("{1to" .. o.bcst .. "} does not match " .. VL_NAME[vl] .. " (needs {1to" .. n .. "})")
      end
    end
  end
  return vl
end

local function needs_evex(vl, ops)
  if vl == 512 then return true end
  for _, o in ipairs(ops) do
    if o.mask or o.zero or o.bcst then return true end
    if o.t == "reg" and o.r.kind == "vec" and o.r.num >= 16 then return true end
  end
  return false
end

local function emit(f, ops, size, vl, enc)
  local reg, rmnum, mem, vvvv, imm, immsize, opreg = f.digit or 0, nil, nil, 0, nil, nil, nil
  local mask, zero, bcst = 0, 0, 0
  for i, tok in ipairs(f.ops) do
    local o, role = ops[i], tok.role
    if role == "r" then reg = o.r.num
    elseif role == "m" or role == "x" then
      if o.t == "mem" then mem = o else rmnum = o.r.num end
      if role == "x" then reg = o.r.num end
    elseif role == "v" then vvvv = o.r.num
    elseif role == "o" then opreg = o.r.num
    elseif role == "i" then imm, immsize = norm_imm(o.val, size), tok.immsize
    end
    if o.mask then mask = o.mask end
    if o.zero then zero = 1 end
    if o.bcst then bcst = 1 end
  end
  local op, w = f.op, f.w or 0
  -- GNU as turns a reg-reg VEX move whose source needs VEX.B into the
  -- store-direction opcode, putting that register in ModRM.reg (VEX.R), so the
  -- 2-byte C5 prefix suffices.
  if enc == "V" and f.swap and rmnum and rmnum >= 8 and reg < 8 and w == 0 and f.map == "0F" then
    local a, z = ops[1], ops[#ops]
    if a.t == "reg" and z.t == "reg" and a.r.kind == z.r.kind and a.r.size == z.r.size then
      reg, rmnum, op = rmnum, reg, f.swap
    end
  end

  local R, Rh = floor(reg / 8) % 2, floor(reg / 16) % 2
  local X, B = 0, 0
  if mem then
    X = mem.index and floor(mem.index.num / 8) or 0
    B = mem.base and floor(mem.base.num / 8) or 0
  elseif rmnum then
    B = floor(rmnum / 8) % 2
    if enc == "E" then X = floor(rmnum / 16) % 2 end
  elseif opreg then
    B = floor(opreg / 8)
  end
  local n = 1
  local prefix
  if enc == "L" then
    local W = (f.gpr and size == 64 and not f.now) and 1 or 0
    local rex = W * 8 + R * 4 + X * 2 + B
    prefix = (f.pp and char(f.pp) or "") .. (rex > 0 and char(0x40 + rex) or "") .. (MAP_BYTES[f.map] or "")
  elseif enc == "V" then
    local L, pp = (vl == 256) and 1 or 0, PP_CODE[f.pp] or 0
    if X == 0 and B == 0 and w == 0 and f.map == "0F" then
      prefix = char(0xC5, (1 - R) * 128 + (15 - vvvv) * 8 + L * 4 + pp)
    else
      prefix = char(0xC4, (1 - R) * 128 + (1 - X) * 64 + (1 - B) * 32 + MAP_CODE[f.map],
        w * 128 + (15 - vvvv) * 8 + L * 4 + pp)
    end
  else
    local pp = PP_CODE[f.pp] or 0
    local vlo, vhi = vvvv % 16, floor(vvvv / 16)
    prefix = char(0x62,
      (1 - R) * 128 + (1 - X) * 64 + (1 - B) * 32 + (1 - Rh) * 16 + MAP_CODE[f.map],
      w * 128 + (15 - vlo) * 8 + 4 + pp,
      zero * 128 + LL[vl] * 32 + bcst * 16 + (1 - vhi) * 8 + mask)
    if f.t8 == "t1s" then n = 4
    elseif bcst == 1 then n = f.bc
    else n = vl / 8 end
  end
  local modrm = ""
  if mem then modrm = modrm_mem(reg % 8, mem, n)
  elseif rmnum then modrm = char(0xC0 + (reg % 8) * 8 + rmnum % 8)
  elseif f.modrm then modrm = char(f.modrm) end
  return prefix .. char(op + (opreg and opreg % 8 or 0)) .. modrm .. (imm and le(imm, immsize) or "")
end

-- Bytes of one non-jump instruction given its parsed mnemonic and operands.
function E.assemble(mn, ops)
  local entry, suffix = lookup(mn)
  local found = false
  for _, f in ipairs(entry.forms) do
    if #f.ops == #ops then found = true break end
  end
  if not found then
    fail("no form of " .. mn .. " takes " .. #ops .. " operand" .. (#ops == 1 and "" or "s"))
  end
  for _, o in ipairs(ops) do
    if o.t == "label" then fail("'" .. o.name .. "' is not an operand of " .. mn .. " (labels are jump targets)") end
  end
  local size
  if entry.gpr then
    size = gpr_size(mn, ops, suffix)
  else
    vector_checks(entry, mn, ops)
  end
  local f = select_form(entry, mn, ops, size)
  local vl = 128
  local enc = entry.enc
  if not entry.gpr then
    vl = vector_length(entry, mn, f, ops)
    if enc == "VE" then enc = needs_evex(vl, ops) and "E" or "V" end
  end
  return emit(f, ops, size, vl, enc)
end

-- Jump encodings: short (rel8) and near (rel32) opcode bytes.
function E.jump_opcodes(cc)
  if cc then return char(0x70 + cc), char(0x0F, 0x80 + cc) end
  return "\235", "\233"
end
E.le = le

return E

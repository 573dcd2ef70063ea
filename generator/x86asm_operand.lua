-- AT&T operand syntax: parsing an instruction line into a mnemonic and operand
-- records, and printing operand records back as canonical GNU as text.
--
-- Operand records:
--   { t = "reg",   r = <register entry> }
--   { t = "imm",   val = <integer> }
--   { t = "mem",   base = <reg>|nil, index = <reg>|nil, scale = 1|2|4|8, disp = <integer> }
--   { t = "label", name = <string> }
-- plus the EVEX decorations mask (0..7), zero (true) and bcst (N of {1toN}).
-- Integers are Lua numbers, except 64-bit immediates beyond 2^53 which stay
-- int64_t cdata so movabs gets every bit exactly.
local bit = require("bit")
local ffi = require("ffi")
local regs = require("x86asm_regs")

local M = {}

-- Reasons are raised as tables so the caller can prefix the instruction text.
local function fail(reason)
  error({ x86asm_reason = reason }, 0)
end
M.fail = fail

local TWO53 = 2 ^ 53
local i64 = ffi.typeof("int64_t")

-- GNU as number syntax: 0x hex, 0b binary, leading 0 octal, else decimal.
-- Values wrap like as does in 64 bits, so 0xffffffffffffff80 means -128.
function M.parse_int(s)
  local neg = false
  local c = s:sub(1, 1)
  if c == "-" or c == "+" then
    neg = (c == "-")
    s = s:sub(2)
  end
  local base, digits
  if s:match("^0[xX]%x+$") then base, digits = 16, s:sub(3)
  elseif s:match("^0[bB][01]+$") then base, digits = 2, s:sub(3)
  elseif s:match("^0[0-7]*$") then base, digits = 8, s
  elseif s:match("^[1-9]%d*$") then base, digits = 10, s
  else return nil end
  local v = tonumber(digits, base)
  if v < TWO53 then
    return neg and -v or v
  end
  local acc = 0ULL
  local limit = 0xffffffffffffffffULL
  for i = 1, #digits do
    local d = tonumber(digits:sub(i, i), base)
    if acc > (limit - d) / base then fail("number '" .. s .. "' does not fit in 64 bits") end
    acc = acc * base + d
  end
  local sv = ffi.cast(i64, acc)
  if neg then sv = -sv end
  if sv > -TWO53 and sv < TWO53 then return tonumber(sv) end
  return sv
end

-- Hex with a sign, the way objdump-like listings read best: 0x40, -0x80.
function M.hex(v)
  if type(v) == "number" then
    if v < 0 then return string.format("-0x%x", -v) end
    return string.format("0x%x", v)
  end
  local neg = v < 0
  local h = bit.tohex(neg and -v or v):gsub("^0+", "")
  if h == "" then h = "0" end
  return (neg and "-0x" or "0x") .. h
end

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end
M.trim = trim

local function lookup_reg(name)
  local r = regs[name:lower()]
  if not r then fail("unknown register '%" .. name .. "'") end
  return r
end

local function addr_reg(s, what)
  local name = s:match("^%%(%w+)$")
  if not name then fail("bad " .. what .. " register '" .. s .. "'") end
  local r = lookup_reg(name)
  if r.kind ~= "gpr" then fail("%" .. r.name .. " cannot be a " .. what .. " register") end
  if r.size ~= 64 then fail("%" .. r.name .. ": only 64-bit address registers are supported") end
  return r
end

local function parse_mem(disp_s, inner)
  local o = { t = "mem", scale = 1, disp = 0 }
  disp_s = trim(disp_s)
  if disp_s ~= "" then
    o.disp = M.parse_int(disp_s)
    if not o.disp then fail("bad displacement '" .. disp_s .. "'") end
  end
  local parts = {}
  for p in (inner .. ","):gmatch("([^,]*),") do parts[#parts + 1] = trim(p) end
  if #parts > 3 then fail("too many fields in '(" .. inner .. ")'") end
  if parts[1] ~= "" then o.base = addr_reg(parts[1], "base") end
  if parts[2] and parts[2] ~= "" then
    o.index = addr_reg(parts[2], "index")
    if o.index.num == 4 then fail("%rsp cannot be an index register") end
  end
  if parts[3] and parts[3] ~= "" then
    if not o.index then fail("scale without an index register") end
    local sc = M.parse_int(parts[3])
    if sc ~= 1 and sc ~= 2 and sc ~= 4 and sc ~= 8 then
      fail("bad scale '" .. parts[3] .. "' (must be 1, 2, 4 or 8)")
    end
    o.scale = sc
  end
  if not o.base and not o.index then fail("empty address '(" .. inner .. ")'") end
  return o
end

local function check_disp(o)
  if type(o.disp) ~= "number" or o.disp < -2 ^ 31 or o.disp >= 2 ^ 31 then
    fail("displacement " .. M.hex(o.disp) .. " out of range (signed 32 bits)")
  end
  return o
end

function M.parse_operand(s)
  s = trim(s)
  local mask, zero, bcst
  while s:sub(-1) == "}" do
    local rest, d = s:match("^(.*){([^{}]*)}$")
    if not rest then fail("unbalanced braces in '" .. s .. "'") end
    s = trim(rest)
    d = trim(d)
    if d == "z" then
      zero = true
    elseif d:match("^%%") then
      local r = regs[d:sub(2):lower()]
      if not r or r.kind ~= "k" then fail("bad write mask '{" .. d .. "}'") end
      if mask then fail("two write masks") end
      mask = r.num
    elseif d:match("^1to%d+$") then
      bcst = tonumber(d:sub(4))
    else
      fail("bad decorator '{" .. d .. "}'")
    end
  end
  if s == "" then fail("empty operand") end
  local o
  local c = s:sub(1, 1)
  if c == "$" then
    local v = M.parse_int(trim(s:sub(2)))
    if not v then fail("bad immediate '" .. s .. "'") end
    o = { t = "imm", val = v }
  elseif c == "%" then
    local name = s:match("^%%(%w+)$")
    if not name then fail("bad register '" .. s .. "'") end
    o = { t = "reg", r = lookup_reg(name) }
  elseif s:find("(", 1, true) then
    local d, inner = s:match("^([^()]*)%(([^()]*)%)$")
    if not d then fail("bad memory operand '" .. s .. "'") end
    o = check_disp(parse_mem(d, inner))
  elseif M.parse_int(s) then
    -- A bare number is an absolute address (disp32 through a SIB byte).
    o = check_disp({ t = "mem", scale = 1, disp = M.parse_int(s) })
  elseif s:match("^[%a_][%w_.]*$") then
    o = { t = "label", name = s }
  else
    fail("bad operand '" .. s .. "'")
  end
  if (mask or zero) and o.t ~= "reg" and o.t ~= "mem" then
    fail("write mask on a " .. (o.t == "imm" and "immediate" or "label"))
  end
  if bcst and o.t ~= "mem" then fail("broadcast {1to" .. bcst .. "} needs a memory operand") end
  o.mask, o.zero, o.bcst = mask, zero, bcst
  return o
end

-- Splits "mnemonic op, op, ..." at commas outside parentheses.
function M.parse(text)
  local mn, rest = text:match("^(%S+)%s*(.-)$")
  if not mn then fail("empty instruction") end
  local ops = {}
  if rest ~= "" then
    local depth, start = 0, 1
    for i = 1, #rest do
      local ch = rest:sub(i, i)
      if ch == "(" then depth = depth + 1
      elseif ch == ")" then depth = depth - 1
      elseif ch == "," and depth == 0 then
        ops[#ops + 1] = M.parse_operand(rest:sub(start, i - 1))
        start = i + 1
      end
    end
    ops[#ops + 1] = M.parse_operand(rest:sub(start))
  end
  return mn:lower(), ops
end

function M.format_operand(o)
  local s
  if o.t == "reg" then
    s = "%" .. o.r.name
  elseif o.t == "imm" then
    s = "$" .. M.hex(o.val)
  elseif o.t == "mem" then
    if o.base or o.index then
      s = (o.disp ~= 0 and M.hex(o.disp) or "") .. "(" ..
          (o.base and "%" .. o.base.name or "") ..
          (o.index and (",%" .. o.index.name .. "," .. o.scale) or "") .. ")"
    else
      s = M.hex(o.disp)
    end
    if o.bcst then s = s .. "{1to" .. o.bcst .. "}" end
  else
    s = o.name
  end
  if o.mask then s = s .. "{%k" .. o.mask .. "}" end
  if o.zero then s = s .. "{z}" end
  return s
end

function M.format(mn, ops)
  if #ops == 0 then return mn end
  local parts = {}
  for i = 1, #ops do parts[i] = M.format_operand(ops[i]) end
  return mn .. " " .. table.concat(parts, ", ")
end

return M

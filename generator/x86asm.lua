-- x86-64 assembler for the kernel templates: GNU AT&T syntax in, machine code
-- out, byte-identical to GNU as 2.40 for the subset in x86asm_tables.lua.
--
--   local X = require("x86asm")
--   local b = X.block()
--   b:emit("vfmadd231ps 64(%rax){1to16}, %zmm1, %zmm2{%k1}")
--   b:label("loop"); b:emit("dec %r9; jnz loop")
--   b:bytes()          machine code, labels resolved
--   b:to_c_bytes(ind)  ".byte ...\n\t" lines with the instruction as a comment
--   b:to_att()         AT&T text that `as --64` assembles to b:bytes()
--   b:instructions()   { {text=, bytes=}, ... } per instruction
--   X.assemble_one(s)  bytes of one instruction
--
-- Every error is error("x86asm: '<instruction>': <reason>", 0).
local P = require("x86asm_operand")
local E = require("x86asm_encode")
local T = require("x86asm_tables")

local X = {}

local LABEL_PAT = "^[%a_][%w_.]*$"

local function raise(text, reason)
  error("x86asm: '" .. text .. "': " .. reason, 0)
end

-- Runs fn(text); turns reasons raised by the parser/encoder into x86asm errors
-- that quote the instruction.
local function guarded(fn, text)
  local ok, res = pcall(fn, text)
  if ok then return res end
  if type(res) == "table" and res.x86asm_reason then raise(text, res.x86asm_reason) end
  error(res, 0)
end

local function make_item(text)
  local mn, ops = P.parse(text)
  local cc = T.jumps[mn]
  if cc ~= nil then
    if #ops ~= 1 then P.fail(mn .. " takes one label operand") end
    if ops[1].t ~= "label" then P.fail("jump target must be a label of the block") end
    return { kind = "jump", cc = cc or nil, label = ops[1].name, text = mn .. " " .. ops[1].name, src = text }
  end
  return { kind = "ins", text = P.format(mn, ops), bytes = E.assemble(mn, ops), src = text }
end

local Block = {}
Block.__index = Block

function X.block()
  return setmetatable({ items = {}, labels = {} }, Block)
end

function Block:label(name)
  if type(name) ~= "string" or not name:match(LABEL_PAT) then
    raise(tostring(name) .. ":", "bad label name (want [A-Za-z_][A-Za-z0-9_.]*)")
  end
  if self.labels[name] then raise(name .. ":", "duplicate label '" .. name .. "'") end
  self.labels[name] = true
  self.items[#self.items + 1] = { kind = "label", name = name }
  self.resolved = nil
  return self
end

-- Accepts one instruction, several separated by ';' or newlines, "name:"
-- label definitions, and '#' comments.
function Block:emit(text)
  if type(text) ~= "string" then raise(tostring(text), "emit expects a string of instructions") end
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    line = line:gsub("#.*$", "")
    for stmt in (line .. ";"):gmatch("([^;]*);") do
      stmt = P.trim(stmt)
      while true do
        local name, rest = stmt:match("^([%a_][%w_.]*)%s*:%s*(.*)$")
        if not name then break end
        self:label(name)
        stmt = rest
      end
      if stmt ~= "" then
        self.items[#self.items + 1] = guarded(make_item, stmt)
        self.resolved = nil
      end
    end
  end
  return self
end

-- Jump sizing as GNU as relaxes: every jump starts short (rel8) and only
-- grows to rel32 while its target is out of reach; repeat to a fixed point.
local function resolve(self)
  if self.resolved then return self.resolved end
  local items = self.items
  for _, it in ipairs(items) do
    if it.kind == "jump" and not self.labels[it.label] then
      raise(it.src, "undefined label '" .. it.label .. "'")
    end
  end
  local long, addr, at = {}, {}, {}
  local function layout()
    local pos = 0
    for i, it in ipairs(items) do
      if it.kind == "label" then
        addr[it.name] = pos
      elseif it.kind == "ins" then
        pos = pos + #it.bytes
      else
        at[i] = pos
        pos = pos + (long[i] and (it.cc and 6 or 5) or 2)
      end
    end
  end
  repeat
    layout()
    local grew = false
    for i, it in ipairs(items) do
      if it.kind == "jump" and not long[i] then
        local rel = addr[it.label] - (at[i] + 2)
        if rel < -128 or rel > 127 then
          long[i] = true
          grew = true
        end
      end
    end
  until not grew
  local out = {}
  for i, it in ipairs(items) do
    if it.kind == "ins" then
      out[#out + 1] = { text = it.text, bytes = it.bytes }
    elseif it.kind == "jump" then
      local short, near = E.jump_opcodes(it.cc)
      local b
      if long[i] then
        b = near .. E.le(addr[it.label] - (at[i] + #near + 4), 4)
      else
        b = short .. E.le(addr[it.label] - (at[i] + 2), 1)
      end
      out[#out + 1] = { text = it.text, bytes = b }
    else
      out[#out + 1] = { label = it.name }
    end
  end
  self.resolved = out
  return out
end

function Block:instructions()
  local list = {}
  for _, r in ipairs(resolve(self)) do
    if not r.label then list[#list + 1] = { text = r.text, bytes = r.bytes } end
  end
  return list
end

function Block:bytes()
  local parts = {}
  for _, r in ipairs(resolve(self)) do
    if not r.label then parts[#parts + 1] = r.bytes end
  end
  return table.concat(parts)
end

local function byte_list(s)
  local t = {}
  for i = 1, #s do t[i] = string.format("0x%02x", s:byte(i)) end
  return table.concat(t, ",")
end

function Block:to_c_bytes(indent)
  if type(indent) == "number" then indent = string.rep(" ", indent) end
  indent = indent or ""
  local lines = {}
  for _, r in ipairs(resolve(self)) do
    if r.label then
      lines[#lines + 1] = indent .. "/* " .. r.label .. ": */"
    else
      lines[#lines + 1] = indent .. '".byte ' .. byte_list(r.bytes) .. '\\n\\t"  /* ' .. r.text .. " */"
    end
  end
  return #lines > 0 and table.concat(lines, "\n") .. "\n" or ""
end

function Block:to_att()
  local lines = {}
  for _, r in ipairs(resolve(self)) do
    lines[#lines + 1] = r.label and (r.label .. ":") or ("\t" .. r.text)
  end
  return #lines > 0 and table.concat(lines, "\n") .. "\n" or ""
end

function X.assemble_one(text)
  return X.block():emit(text):bytes()
end

return X

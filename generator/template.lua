-- template.lua — the template engine: C text with Lua in it.
--
-- A template line whose first non-blank character is `$` is Lua code; every
-- other line is output text in which `${expr}` is replaced by the value of a
-- Lua expression (the style of XNNPACK's xngen). A line that holds nothing but
-- `${expr}` re-indents every line of a multi-line value to its own indentation,
-- so a whole machine-code block can be spliced in readably.
--
-- An integer value is written as its exact digits (c_literal.int), any
-- other value by tostring. Each template line compiles to exactly one Lua
-- line, so a Lua error's line number is the template's line number; errors
-- are reported as "templates/<name>:<line>: <message>".
--
--   local T = require("template")
--   local src = T.render("depthwise_x86.c.in", { op = op, g = g, ..., shape = op.line, knobs = "ct=2,wt=4" })
--
-- The source starts with a header comment naming the template, the shape
-- and the knobs (params.shape, params.knobs).

local CL = require("c_literal")

local M = {}

local root = rawget(_G, "SEPTUNE_LUA_ROOT") or os.getenv("SEPTUNE_LUA_ROOT") or "."
local template_dir = root .. "/templates"
local cache = {}

-- Where templates are read from (default: $SEPTUNE_LUA_ROOT/templates).
function M.set_dir(dir)
  template_dir = dir
  cache = {}
end

-- Lua's %q escapes a newline as backslash-newline, which would add a Lua line
-- and break the template-line = Lua-line mapping; escape by hand instead.
local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' or c == "\\" then return "\\" .. c end
    return string.format("\\%03d", c:byte())
  end) .. '"'
end

-- Splits one text line into literal and `${expr}` pieces, matching braces so
-- that an expression may itself contain a table constructor.
local function split_line(line, where)
  local pieces = {}
  local pos = 1
  while true do
    local s = line:find("${", pos, true)
    if not s then
      pieces[#pieces + 1] = { lit = line:sub(pos) }
      return pieces
    end
    pieces[#pieces + 1] = { lit = line:sub(pos, s - 1) }
    local depth, i = 1, s + 2
    while i <= #line and depth > 0 do
      local c = line:sub(i, i)
      if c == "{" then depth = depth + 1 elseif c == "}" then depth = depth - 1 end
      i = i + 1
    end
    if depth > 0 then
      error(where .. ": unterminated '${' in: " .. line, 0)
    end
    local expr = line:sub(s + 2, i - 2)
    if expr:match("^%s*$") then
      error(where .. ": empty '${}' in: " .. line, 0)
    end
    pieces[#pieces + 1] = { expr = expr }
    pos = i
  end
end

local function compile(name, text)
  local chunkname = "templates/" .. name
  local out = { "local _out, _val, _indent = ... " }
  local lineno = 0
  -- Normalise the last line so every template line ends in "\n".
  if text:sub(-1) ~= "\n" then text = text .. "\n" end
  for line in text:gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    local where = chunkname .. ":" .. lineno
    local lead = line:match("^%s*%$(.*)$")
    local code
    if lead and lead:sub(1, 1) ~= "{" then
      code = lead
    else
      local indent, sole = line:match("^(%s*)%${(.*)}%s*$")
      if sole and not sole:find("}", 1, true) then
        code = string.format("_indent(%s, %s, %d, %s)", quote(indent), sole, lineno, quote(sole))
      else
        local parts = {}
        for _, p in ipairs(split_line(line, where)) do
          if p.lit then
            if p.lit ~= "" then parts[#parts + 1] = quote(p.lit) end
          else
            parts[#parts + 1] = string.format("_val(%s, %d, %s)", p.expr, lineno, quote(p.expr))
          end
        end
        parts[#parts + 1] = '"\\n"'
        code = "_out(" .. table.concat(parts, " .. ") .. ")"
      end
    end
    -- The first Lua line carries the prologue; later ones stand alone.
    if lineno == 1 then out[1] = out[1] .. code else out[#out + 1] = code end
  end
  local fn, err = loadstring(table.concat(out, "\n"), "=" .. chunkname)
  if not fn then error(err, 0) end
  return fn
end

local function read_template(name)
  if name:find("..", 1, true) then
    error("template: name '" .. name .. "' must not contain '..'", 0)
  end
  local path = template_dir .. "/" .. name
  local f, err = io.open(path, "rb")
  if not f then error("template: cannot open " .. path .. ": " .. tostring(err), 0) end
  local text = f:read("*a")
  f:close()
  return text
end

-- Formats a value for C text: an integer as its exact digits (c_literal;
-- an error when it is beyond the integers Lua holds exactly).
local function to_text(v)
  if type(v) == "number" and v == math.floor(v) then return CL.int(v) end
  return tostring(v)
end

-- Canonical "key=value,..." of a knob table, keys sorted.
function M.format_knobs(knobs)
  if type(knobs) ~= "table" then return tostring(knobs or "") end
  local keys = {}
  for k in pairs(knobs) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. to_text(knobs[k]) end
  return table.concat(parts, ",")
end

-- Renders template `name` with `params` (readable as globals by the template,
-- falling back to Lua's globals). Returns the C source, starting with a
-- header comment naming the template, params.shape and params.knobs.
function M.render(name, params)
  params = params or {}
  local fn = cache[name]
  if not fn then
    fn = compile(name, read_template(name))
    cache[name] = fn
  end
  local buf = {}
  local chunkname = "templates/" .. name
  local function val(v, lineno, expr)
    if v == nil then
      error(chunkname .. ":" .. lineno .. ": ${" .. expr .. "} is nil", 0)
    end
    return to_text(v)
  end
  local function out(s) buf[#buf + 1] = s end
  local function indent(prefix, v, lineno, expr)
    local s = val(v, lineno, expr):gsub("\n$", "")
    buf[#buf + 1] = prefix .. s:gsub("\n", "\n" .. prefix) .. "\n"
  end
  local env = setmetatable({}, { __index = function(_, k)
    local v = params[k]
    if v ~= nil then return v end
    return _G[k]
  end })
  setfenv(fn, env)
  local ok, err = pcall(fn, out, val, indent)
  if not ok then
    err = tostring(err)
    if not err:find("^templates/") then err = chunkname .. ": " .. err end
    error(err, 0)
  end
  local header = string.format("/* Generated by septune from templates/%s.\n * shape: %s\n * knobs: %s\n */\n",
    name, tostring(params.shape or "-"), M.format_knobs(params.knobs))
  return header .. table.concat(buf)
end

return M

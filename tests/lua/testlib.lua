-- Tiny helpers shared by the Lua tests: counted checks, a scratch directory,
-- shell commands, and the final "N passed, M failed" line with the exit code.
local M = { passed = 0, failed = 0 }

function M.check(cond, msg)
  if cond then
    M.passed = M.passed + 1
  else
    M.failed = M.failed + 1
    print("FAIL: " .. tostring(msg))
  end
  return cond
end

-- Like pcall(fn, ...) but returns the error message (nil when fn succeeded).
function M.error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then return nil end
  return tostring(err)
end

-- SEPTUNE_TMPDIR when ctest sets it, else the directory os.tmpname() uses.
function M.tmpdir()
  local d = os.getenv("SEPTUNE_TMPDIR")
  if d and d ~= "" then return d end
  local f = os.tmpname()
  os.remove(f)
  return f:match("^(.*)/[^/]*$") or "."
end

-- A fresh path prefix in the scratch directory, distinct between concurrent runs.
function M.scratch(stem)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  return string.format("%s/%s_%d_%06d", M.tmpdir(), stem, os.time(), math.random(0, 999999))
end

-- Runs a shell command; true when it exited with status 0.
function M.run(cmd)
  local r = os.execute(cmd)
  return r == 0 or r == true
end

-- Runs a shell command; returns its exit status and stdout (with stderr too
-- unless the command redirects it).
function M.capture(cmd)
  local p = io.popen(cmd .. "; echo \"exit=$?\"")
  local out = p:read("*a")
  p:close()
  local status = tonumber(out:match("exit=(%d+)%s*$"))
  return status, (out:gsub("exit=%d+%s*$", ""))
end

function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function M.write_file(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

function M.hex(s)
  return (s:gsub(".", function(c) return string.format("%02x ", c:byte()) end):gsub(" $", ""))
end

-- Decodes one JSON document strictly (RFC 8259: no trailing commas, no
-- control characters or invalid UTF-8 in strings, nothing after the value).
-- Returns the value (objects and arrays as tables, null as M.null), or nil
-- and a message with the byte offset.
M.null = setmetatable({}, { __tostring = function() return "null" end })

local function utf8_ok(s)
  local i, n = 1, #s
  while i <= n do
    local c = s:byte(i)
    local len, lo, hi = 1, 0x80, 0xbf
    if c < 0x80 then len = 1
    elseif c >= 0xc2 and c <= 0xdf then len = 2
    elseif c >= 0xe0 and c <= 0xef then
      len = 3
      if c == 0xe0 then lo = 0xa0 elseif c == 0xed then hi = 0x9f end
    elseif c >= 0xf0 and c <= 0xf4 then
      len = 4
      if c == 0xf0 then lo = 0x90 elseif c == 0xf4 then hi = 0x8f end
    else return false end
    if len > 1 then
      local b = s:byte(i + 1)
      if not b or b < lo or b > hi then return false end
      for k = i + 2, i + len - 1 do
        local x = s:byte(k)
        if not x or x < 0x80 or x > 0xbf then return false end
      end
    end
    i = i + len
  end
  return true
end

-- The UTF-8 encoding of code point cp.
function M.utf8_char(cp)
  local function b(x) return string.char(x) end
  if cp < 0x80 then return b(cp) end
  if cp < 0x800 then return b(0xc0 + math.floor(cp / 64)) .. b(0x80 + cp % 64) end
  if cp < 0x10000 then
    return b(0xe0 + math.floor(cp / 4096)) .. b(0x80 + math.floor(cp / 64) % 64) .. b(0x80 + cp % 64)
  end
  return b(0xf0 + math.floor(cp / 262144)) .. b(0x80 + math.floor(cp / 4096) % 64) ..
         b(0x80 + math.floor(cp / 64) % 64) .. b(0x80 + cp % 64)
end

function M.json_decode(text)
  local pos = 1
  local function fail(what) error({ msg = string.format("%s at byte %d", what, pos) }) end
  local function ws() pos = text:find("[^ \t\r\n]", pos) or #text + 1 end
  local value
  local function str()
    pos = pos + 1
    local parts = {}
    while true do
      local c = text:sub(pos, pos)
      if c == "" then fail("unterminated string") end
      if c == '"' then pos = pos + 1 break end
      if c:byte() < 0x20 then fail("control character in a string") end
      if c == "\\" then
        local e = text:sub(pos + 1, pos + 1)
        local map = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
        if map[e] then parts[#parts + 1] = map[e]; pos = pos + 2
        elseif e == "u" and text:sub(pos + 2, pos + 5):match("^%x%x%x%x$") then
          local cp = tonumber(text:sub(pos + 2, pos + 5), 16)
          pos = pos + 6
          local lo = text:match("^\\u(%x%x%x%x)", pos)
          if cp >= 0xd800 and cp <= 0xdbff and lo and tonumber(lo, 16) >= 0xdc00 and tonumber(lo, 16) <= 0xdfff then
            cp = 0x10000 + (cp - 0xd800) * 0x400 + (tonumber(lo, 16) - 0xdc00)
            pos = pos + 6
          elseif cp >= 0xd800 and cp <= 0xdfff then
            fail("lone surrogate")
          end
          parts[#parts + 1] = M.utf8_char(cp)
        else fail("bad escape") end
      else
        local run = text:match('^[^"\\%c]+', pos)
        if not run then fail("control character in a string") end
        parts[#parts + 1] = run
        pos = pos + #run
      end
    end
    local s = table.concat(parts)
    if not utf8_ok(s) then fail("invalid UTF-8 in a string") end
    return s
  end
  function value()
    ws()
    local c = text:sub(pos, pos)
    if c == "{" then
      pos = pos + 1
      local t = {}
      ws()
      if text:sub(pos, pos) == "}" then pos = pos + 1 return t end
      while true do
        ws()
        if text:sub(pos, pos) ~= '"' then fail("expected a key") end
        local k = str()
        ws()
        if text:sub(pos, pos) ~= ":" then fail("expected ':'") end
        pos = pos + 1
        t[k] = value()
        ws()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "}" then return t end
        if d ~= "," then fail("expected ',' or '}'") end
      end
    elseif c == "[" then
      pos = pos + 1
      local t = {}
      ws()
      if text:sub(pos, pos) == "]" then pos = pos + 1 return t end
      while true do
        t[#t + 1] = value()
        ws()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "]" then return t end
        if d ~= "," then fail("expected ',' or ']'") end
      end
    elseif c == '"' then
      return str()
    end
    for word, v in pairs({ ["true"] = true, ["false"] = false, ["null"] = M.null }) do
      if text:sub(pos, pos + #word - 1) == word then pos = pos + #word return v end
    end
    local num = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
    if not num or not num:match("^-?0[%.eE]") and num:match("^-?0%d") then fail("expected a value") end
    if not num:match("^-?%d+$") and not num:match("^-?%d+%.%d+$") and not num:match("^-?%d+%.?%d*[eE][-+]?%d+$") then
      fail("malformed number '" .. num .. "'")
    end
    pos = pos + #num
    return tonumber(num)
  end
  local ok, v = pcall(function()
    local r = value()
    ws()
    if pos <= #text then fail("text after the document") end
    return r
  end)
  if ok then return v end
  return nil, type(v) == "table" and v.msg or tostring(v)
end

function M.finish()
  print(string.format("%d passed, %d failed", M.passed, M.failed))
  os.exit(M.failed > 0 and 1 or 0)
end

return M

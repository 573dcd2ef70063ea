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

function M.finish()
  print(string.format("%d passed, %d failed", M.passed, M.failed))
  os.exit(M.failed > 0 and 1 or 0)
end

return M

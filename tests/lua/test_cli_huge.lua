-- `septune source` on layers far wider and taller than any image answers at
-- once: with the source, or, for an ISA whose kernels cannot address such
-- rows, with exit 2 and a message naming the dimension. Every command runs
-- under `timeout`, the guard against a generator whose work grows with the
-- image (status 124 when it strikes).
local t = require("testlib")
local bin = assert(os.getenv("SEPTUNE_BIN"), "SEPTUNE_BIN must name the septune executable")

local function source(line, isa)
  return t.capture(string.format("timeout 60 %s source '%s' --isa %s 2>&1", bin, line, isa))
end

local WIDE = "dw h=1 w=99999999999 c=1 k=1"
local s, out = source(WIDE, "scalar")
t.check(s == 0 and out:find("99999999999", 1, true) ~= nil, "the portable kernel renders: " .. s)
for _, isa in ipairs({ "sse", "avx2", "avx512" }) do
  s, out = source(WIDE, isa)
  t.check(s == 2 and out:find("unsupported", 1, true) ~= nil and out:find("w=99999999999", 1, true) ~= nil,
    isa .. " refuses it naming w (" .. s .. "): " .. out)
end

for _, case in ipairs({
  { "dw h=99999999999 w=5 c=3 k=3 pad=same act=relu6", "avx2" },
  { "dw h=2 w=50000000 c=1 kh=1 kw=3 d=20000000 pad=same", "avx512" },
  { "pw h=1 w=99999999999 ci=3 co=5", "sse" },
}) do
  s, out = source(case[1], case[2])
  t.check(s == 0 and #out < 200000, case[1] .. " on " .. case[2] .. " renders, a few blocks long (" .. s .. ", "
    .. #out .. " bytes)")
end

-- Sizes are exact integers in the source; what Lua cannot count exactly
-- is refused rather than written as 1e+17.
s, out = source("pw h=1 w=100000000000000 ci=3 co=5", "scalar")
t.check(s == 0 and out:find("100000000000000L", 1, true) ~= nil and not out:find("e+", 1, true),
  "1e14 pixels are written as digits")
s, out = source("pw h=1000 w=100000000000000 ci=3 co=5", "scalar")
t.check(s == 2 and out:find("h*w*ci", 1, true) ~= nil, "1e17 elements are refused: " .. out)

t.finish()

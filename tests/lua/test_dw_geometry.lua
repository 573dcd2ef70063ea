-- Tests of generator/dw_geometry.lua: the closed-form interior rows and
-- columns and the column runs agree with a column-by-column and row-by-row
-- walk on many random shapes, and huge widths and heights cost nothing.
local t = require("testlib")

-- dw_geometry reads the pack width through isa.lua from the runtime, which
-- hosts the generator; here the test stands in for it.
package.preload.septune_host = function() return { pack_lanes = 16 } end
local G = require("dw_geometry")

local function op_of(v)
  local op = { kind = "dw", n = 1, c = 1, m = 1, bias = 0, act = "none" }
  for k, x in pairs(v) do op[k] = x end
  return op
end

-- The walk the closed forms replace.
local function walk(op, g)
  local want = { row_lo = g.oh, row_hi = -1, n_int = 0 }
  for oy = 0, g.oh - 1 do
    local first = oy * op.sh - op.pt
    if first >= 0 and first + (op.kh - 1) * op.dil_h < op.h then
      want.row_lo = math.min(want.row_lo, oy)
      want.row_hi = oy
    end
  end
  for ox = 0, g.ow - 1 do
    local all = true
    for kx = 0, op.kw - 1 do all = all and G.input_col(op, ox, kx) ~= nil end
    if all then
      want.int_lo = want.int_lo or ox
      want.int_hi = ox
      want.n_int = want.n_int + 1
    end
  end
  return want
end

math.randomseed(tonumber(os.getenv("SEPTUNE_TEST_SEED") or "") or 20240611)
local bad = 0
for i = 1, 3000 do
  local r = math.random
  local op = op_of({ h = r(1, 40), w = r(1, 40), kh = r(1, 7), kw = r(1, 7), sh = r(1, 4), sw = r(1, 4),
                     dil_h = r(1, 5), dil_w = r(1, 5), pt = r(0, 9), pl = r(0, 9), pb = r(0, 9), pr = r(0, 9) })
  local g = G.derive(op)
  if g.oh >= 1 and g.ow >= 1 then
    local want = walk(op, g)
    local ok = g.row_lo == want.row_lo and g.row_hi == want.row_hi and g.int_lo == want.int_lo
               and g.int_hi == want.int_hi and g.n_int == want.n_int
    -- runs: cover 0..ow-1 in order, each column reads exactly its run's taps
    local next_col = 0
    for _, run in ipairs(g.col_runs) do
      ok = ok and run.lo == next_col and run.hi >= run.lo
      next_col = run.hi + 1
      local reads = {}
      for _, kx in ipairs(run.kx) do reads[kx] = true end
      for _, ox in ipairs({ run.lo, math.floor((run.lo + run.hi) / 2), run.hi }) do
        for kx = 0, op.kw - 1 do ok = ok and ((G.input_col(op, ox, kx) ~= nil) == (reads[kx] == true)) end
      end
    end
    ok = ok and next_col == g.ow and #g.col_runs <= 2 * op.kw + 1
    if not ok and bad < 5 then
      bad = bad + 1
      t.check(false, string.format("shape %d: h=%d w=%d k=%dx%d s=%d,%d d=%d,%d pad=%d,%d,%d,%d", i, op.h, op.w,
        op.kh, op.kw, op.sh, op.sw, op.dil_h, op.dil_w, op.pt, op.pl, op.pb, op.pr))
    end
  end
end
t.check(bad == 0, "closed forms agree with the walk on 3000 random shapes")

-- A width and height of 1e11 derive at once, with the interior in the middle.
local huge = op_of({ h = 99999999999, w = 99999999999, kh = 3, kw = 3, sh = 1, sw = 1, dil_h = 1, dil_w = 1,
                     pt = 1, pl = 1, pb = 1, pr = 1 })
local g = G.derive(huge)
t.check(g.oh == 99999999999 and g.int_lo == 1 and g.int_hi == 99999999997 and g.row_hi == 99999999997,
  "a 1e11 x 1e11 image: interior 1..w-2")
t.check(#g.col_runs == 3, "three column runs: left border, interior, right border")

t.finish()

-- dw_geometry.lua — what every depthwise template derives from the shape:
-- output size, the channel count the vector code sees, and which output
-- columns and rows read only real input (the interior) versus padding (the
-- borders). Everything in closed form: the cost does not grow with the
-- image, however wide or tall.
local I = require("isa")

local M = {}

-- The output indices o in [0, n) with lo <= o*stride <= hi, as a range
-- first..last (first > last: none).
local function within(n, stride, lo, hi)
  return math.max(0, math.ceil(lo / stride)), math.min(n - 1, math.floor(hi / stride))
end

-- Output columns whose tap kx reads an input column: first..last.
local function tap_columns(op, ow, kx)
  local shift = op.pl - kx * op.dil_w
  return within(ow, op.sw, shift, op.w - 1 + shift)
end

-- The templates ask for the geometry of one shape many times over (every
-- member of a knob space checks its validity against it): a small cache,
-- keyed by every field derive reads, so a changed op is never served stale.
-- Callers must treat the table they get as read-only.
local cache, cached = {}, 0
local derive

function M.derive(op)
  local key = table.concat({ op.h, op.w, op.c, op.m, op.kh, op.kw, op.sh, op.sw, op.dil_h, op.dil_w,
    op.pt, op.pl, op.pb, op.pr }, ",")
  local g = cache[key]
  if g then return g end
  if cached >= 64 then cache, cached = {}, 0 end
  g = derive(op)
  cache[key], cached = g, cached + 1
  return g
end

derive = function(op)
  local g = {}
  g.oh = math.floor((op.h + op.pt + op.pb - op.dil_h * (op.kh - 1) - 1) / op.sh) + 1
  g.ow = math.floor((op.w + op.pl + op.pr - op.dil_w * (op.kw - 1) - 1) / op.sw) + 1
  g.co = op.c * op.m
  -- With a multiplier the kernel reads an input expanded to co channels.
  g.ci = g.co
  -- one packing serves every ISA: [bias][kh*kw taps], co_pad floats each
  g.co_pad = math.ceil(g.co / I.PACK_LANES) * I.PACK_LANES
  g.taps = op.kh * op.kw
  -- Columns whose every tap lands inside the input row: those of the first
  -- tap's range that the last tap's range holds too.
  local lo = tap_columns(op, g.ow, 0)
  local _, hi = tap_columns(op, g.ow, op.kw - 1)
  if lo <= hi then
    g.int_lo, g.int_hi = lo, hi
  end                                    -- nil when no column is interior
  g.n_int = g.int_lo and (hi - lo + 1) or 0
  -- Output rows whose every tap row lies inside the input: a run the
  -- machine code walks by itself (row_lo > row_hi when there is none).
  local rlo, rhi = within(g.oh, op.sh, op.pt, op.h - 1 + op.pt - (op.kh - 1) * op.dil_h)
  if rlo <= rhi then
    g.row_lo, g.row_hi = rlo, rhi
  else
    g.row_lo, g.row_hi = g.oh, -1
  end
  g.col_runs = M.column_runs(op, g.ow)
  return g
end

-- The output columns split into runs in which the same taps kx read input:
-- { { lo =, hi =, kx = { kx, ... } }, ... } in column order, at most
-- 2*kw + 1 runs. The interior is the run whose kx lists every tap.
function M.column_runs(op, ow)
  local cuts, seen = { 0 }, { [0] = true }
  local ranges = {}
  for kx = 0, op.kw - 1 do
    local first, last = tap_columns(op, ow, kx)
    ranges[kx] = { first, last }
    for _, c in ipairs({ first, last + 1 }) do
      if c > 0 and c < ow and not seen[c] then cuts[#cuts + 1] = c; seen[c] = true end
    end
  end
  table.sort(cuts)
  local runs = {}
  for i, lo in ipairs(cuts) do
    local run = { lo = lo, hi = (cuts[i + 1] or ow) - 1, kx = {} }
    for kx = 0, op.kw - 1 do
      if ranges[kx][1] <= lo and lo <= ranges[kx][2] then run.kx[#run.kx + 1] = kx end
    end
    runs[#runs + 1] = run
  end
  return runs
end

-- Input column of output column ox, tap kx; nil when it falls in padding.
function M.input_col(op, ox, kx)
  local ix = ox * op.sw - op.pl + kx * op.dil_w
  if ix < 0 or ix >= op.w then return nil end
  return ix
end

return M

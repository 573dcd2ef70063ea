-- dw_geometry.lua — what every depthwise template derives from the shape:
-- output size, the channel count the vector code sees, and which output
-- columns read only real input (the interior) versus padding (the borders).

local I = require("isa")

local M = {}

function M.derive(op)
  local g = {}
  g.oh = math.floor((op.h + op.pt + op.pb - op.dil_h * (op.kh - 1) - 1) / op.sh) + 1
  g.ow = math.floor((op.w + op.pl + op.pr - op.dil_w * (op.kw - 1) - 1) / op.sw) + 1
  g.co = op.c * op.m
  -- With a multiplier the kernel reads an input expanded to co channels.
  g.ci = g.co
  -- one packing serves every ISA: [bias][kh*kw taps], co_pad floats each
  g.co_pad = math.ceil(g.co / I.PACK_LANES) * I.PACK_LANES
  g.taps = op.kh * op.kw
  -- Columns whose every tap lands inside the input row.
  local lo, hi = nil, nil
  for ox = 0, g.ow - 1 do
    local first = ox * op.sw - op.pl
    local last = first + (op.kw - 1) * op.dil_w
    if first >= 0 and last < op.w then
      lo = lo or ox
      hi = ox
    end
  end
  g.int_lo, g.int_hi = lo, hi            -- nil when no column is interior
  g.n_int = lo and (hi - lo + 1) or 0
  -- Output rows whose every tap row lies inside the input: a run the
  -- machine code walks by itself (row_lo > row_hi when there is none).
  g.row_lo, g.row_hi = g.oh, -1
  for oy = 0, g.oh - 1 do
    local first = oy * op.sh - op.pt
    if first >= 0 and first + (op.kh - 1) * op.dil_h < op.h then
      g.row_lo = math.min(g.row_lo, oy)
      g.row_hi = oy
    end
  end
  return g
end

-- Input column of output column ox, tap kx; nil when it falls in padding.
function M.input_col(op, ox, kx)
  local ix = ox * op.sw - op.pl + kx * op.dil_w
  if ix < 0 or ix >= op.w then return nil end
  return ix
end

return M

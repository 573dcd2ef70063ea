-- x86_nt_choice.lua — the source of an x86 kernel with knob nt=1.
-- Non-temporal stores need an aligned output, so the source holds the
-- kernel twice, <symbol>_nt with them and <symbol>_st without (both
-- static), and <symbol> picks one by the output's address; the functions
-- besides the kernel (the packer, work, threads), the same for both, come
-- with the _st copy under the kernel's own name.
local A = require("kernel_abi")

local M = {}

-- render_one(op, isa, k, names) renders one copy of the kernel, names =
-- { kernel = function name, linkage = "" | "static ", extras = the name
-- the functions besides the kernel are exported under (kernel_abi.EXPORTS),
-- or nil for none }.
function M.render(render_one, op, isa, k, symbol)
  if k.nt ~= 1 then return render_one(op, isa, k, { kernel = symbol, linkage = "", extras = symbol }) end
  local plain = {}
  for n, v in pairs(k) do plain[n] = v end
  plain.nt = 0
  return table.concat({
    render_one(op, isa, k, { kernel = symbol .. "_nt", linkage = "static " }),
    render_one(op, isa, plain, { kernel = symbol .. "_st", linkage = "static ", extras = symbol }),
    "/* nt=1: streaming stores when the output is 64-byte aligned */",
    string.format("%s\n{\n  if (((unsigned long)out & 63) == 0)\n    %s;\n  else\n    %s;\n}\n",
      A.declaration("kernel", symbol), A.call("kernel", symbol .. "_nt"), A.call("kernel", symbol .. "_st")),
  }, "\n")
end

return M

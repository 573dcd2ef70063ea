-- Model files and layers that once got through or hung (issue 12): lines of
-- any length, a NUL byte, a directory, a FIFO, /dev/zero and a file over the
-- size cap, in run, tune and emit alike; layer names that are not UTF-8 in
-- JSON; the kernel label of a database-tuned layer; identifiers derived
-- from an odd model name; and a layer too large for this machine's memory.
-- Every command that once hung runs under `timeout`.
local t = require("testlib")
local bin = assert(os.getenv("SEPTUNE_BIN"), "SEPTUNE_BIN must name the septune executable")
local base = t.scratch("cli_model")
local errfile = base .. ".stderr"

-- Runs septune with `args` under a 60 s timeout (124: it hung); returns exit
-- status, stdout, stderr. `env`: assignments such as "SEPTUNE_DB=x".
local function septune(args, env)
  local status, out = t.capture(string.format("%s timeout 60 %s %s 2>%s </dev/null", env or "", bin, args,
                                              errfile))
  return status, out, t.read_file(errfile) or ""
end
local function has(s, word) return s:find(word, 1, true) ~= nil end

local DW = "dw h=5 w=5 c=3 k=3 pad=same"
local PW = "pw h=2 w=2 ci=3 co=5"

-- The kernel files `emit --list` names for a model.
local function kernels(model)
  local s, out, err = septune("emit --model " .. model .. " --list")
  local n = 0
  for _ in out:gmatch("_k%d+%.c") do n = n + 1 end
  return s, n, out .. err
end

-- A comment of 1023 characters then a layer's text on the same line: a
-- reader in 1024-byte chunks took the tail for a layer.
local long_comment = base .. "_long_comment.txt"
t.write_file(long_comment, "#" .. ("c"):rep(1022) .. PW .. "\n" .. DW .. "\n")
local s, n, out = kernels(long_comment)
t.check(s == 0 and n == 1, "a long comment stays a comment (1 kernel): " .. tostring(s) .. " " .. n .. " " .. out)

-- A layer line with a comment of 3000 characters after it: one line.
local long_line = base .. "_long_line.txt"
t.write_file(long_line, DW .. " # " .. ("x"):rep(3000) .. "\n")
s, n, out = kernels(long_line)
t.check(s == 0 and n == 1, "a 3000-character line is one line: " .. tostring(s) .. " " .. out)

-- A NUL byte hid the rest of its line.
local nul = base .. "_nul.txt"
t.write_file(nul, DW .. "\0 bogus=1\n")
s, n, out = kernels(nul)
t.check(s == 2 and has(out, nul .. ":1:") and has(out, "NUL"), "a NUL byte is refused naming path and line: " .. out)

-- Non-regular files, in run, tune and emit.
local dir = base .. "_dir"
assert(t.run("mkdir -p " .. dir))
local fifo = base .. "_fifo"
assert(t.run("mkfifo " .. fifo))
for _, path in ipairs({ dir, fifo, "/dev/zero" }) do
  for _, cmd in ipairs({ "run --model " .. path, "tune " .. path .. " --db ''", "emit --model " .. path .. " --list" }) do
    local st, o, e = septune(cmd)
    t.check(st == 2 and has(e, path) and has(e, "not a regular file"),
      "'" .. cmd .. "' exits 2 naming the file (status " .. tostring(st) .. "): " .. o .. e)
  end
end
os.remove(fifo)
os.remove(dir)

-- Over the size cap: refused before it is parsed.
local big = base .. "_big.txt"
local f = assert(io.open(big, "wb"))
local chunk = ("#" .. ("-"):rep(1022) .. "\n"):rep(1024)
for _ = 1, 4 do f:write(chunk) end
f:write(DW .. "\n")
f:close()
local st, o, e = septune("run --model " .. big)
t.check(st == 2 and has(e, big) and has(e, "4 MiB"), "a model over 4 MiB is refused: " .. o .. e)
os.remove(big)

-- Layer names that are not UTF-8 stay valid JSON.
local odd = base .. "_latin1.txt"
t.write_file(odd, DW .. " name=caf\233\n" .. PW .. " name=\255\254x\n")
st, o, e = septune("tune " .. odd .. " --json --db '' --max-candidates 1 --budget 5")
local doc, why = t.json_decode(o)
t.check(st == 0 and doc ~= nil, "tune --json with non-UTF-8 names is valid JSON: " .. tostring(why) .. " " .. e)
t.check(doc and doc.layers and doc.layers[1].name == "caf\239\191\189", "the bad byte is U+FFFD: " .. o)

-- The label of a kernel from a tuning-database record.
local LAYER = "dw h=9 w=9 c=16 k=3 pad=same act=relu6"
st, o, e = septune("run " .. LAYER .. " --ms 5", "SEPTUNE_DB=")
local isa, knobs = o:match("kernel  (%S+) (%S+) %(")
t.check(st == 0 and knobs ~= nil and has(o, "default knobs"), "without a database: default knobs: " .. o .. e)
st, o = septune("db list --db " .. base .. "_none.db")
local cpu, tv = o:match("# this CPU: (%S+)"), o:match("# template version: (%d+)")
local db = base .. "_tuned.db"
t.write_file(db, table.concat({ "septune-db/1", "cpu=" .. tostring(cpu), "threads=1", "tv=" .. tostring(tv),
  "isa=" .. tostring(isa), "op=" .. LAYER, "knobs=" .. tostring(knobs), "median_us=1", "min_us=1", "gflops=1",
  "default_us=2", "date=2026-01-01T00:00:00Z" }, "\t") .. "\n")
st, o, e = septune("run " .. LAYER .. " --ms 5", "SEPTUNE_DB=" .. db)
t.check(st == 0 and has(o, "tuned knobs") and not has(o, "default knobs"),
  "a database-tuned kernel is labelled tuned: " .. o .. e)
os.remove(db)

-- Identifiers from a model named "..x.txt": none reserved (a leading '_',
-- or "__" anywhere).
local dots = base .. "_dots"
assert(t.run("mkdir -p " .. dots))
t.write_file(dots .. "/..x.txt", DW .. "\n")
st, o, e = septune("emit --model " .. dots .. "/..x.txt --list")
t.check(st == 0 and has(o, "x.h") and not o:find("^_") and not o:find("\n_") and not has(o, "__"),
  "a model named ..x.txt makes no reserved identifier: " .. o .. e)
st, o, e = septune("emit --model " .. dots .. "/..x.txt --list --name __x")
t.check(st == 2 and has(e, "__x"), "--name __x is refused: " .. o .. e)

-- A layer whose tensors exceed the memory available: refused up front,
-- in run and in tune, before anything is allocated or tuned.
local HUGE = "pw h=100000 w=100000 ci=1000 co=1000"
st, o, e = septune("run " .. HUGE)
t.check(st == 2 and has(e, "TiB") and has(e, "available"), "run refuses a layer larger than memory: " .. o .. e)
local huge = base .. "_huge.txt"
t.write_file(huge, DW .. "\n" .. HUGE .. "\n")
st, o, e = septune("tune " .. huge .. " --db '' --budget 5")
t.check(st == 2 and has(e, huge .. ":2:") and has(e, "available") and not has(e, "1/2"),
  "tune refuses it before tuning any layer: " .. o .. e)

for _, p in ipairs({ long_comment, long_line, nul, odd, huge, errfile }) do os.remove(p) end
t.finish()

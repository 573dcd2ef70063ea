-- The septune command's conventions: --help on every subcommand and
-- `septune help CMD`, --version, --opt=value and "--", the model file given
-- the same way to run, tune and emit, a JSON document with its format
-- version from every --json, --report checked before a tune starts, and the
-- exit statuses (0 ok, 1 failure while working, 2 bad usage or input).
local t = require("testlib")
local bin = assert(os.getenv("SEPTUNE_BIN"), "SEPTUNE_BIN must name the septune executable")
local base = t.scratch("cli_conv")
local errfile = base .. ".stderr"

local function septune(args, env)
  local status, out = t.capture(string.format("%s timeout 120 %s %s 2>%s </dev/null", env or "SEPTUNE_DB=", bin,
                                              args, errfile))
  return status, out, t.read_file(errfile) or ""
end
local function has(s, word) return s:find(word, 1, true) ~= nil end

-- Help.
for _, cmd in ipairs({ "run", "source", "tune", "db", "emit" }) do
  local s, out = septune(cmd .. " --help")
  t.check(s == 0 and has(out, "usage: septune " .. cmd), cmd .. " --help prints its usage, exit 0: " .. out)
  local s2, out2 = septune("help " .. cmd)
  t.check(s2 == 0 and out2 == out, "septune help " .. cmd .. " prints the same: " .. out2)
  local s3, out3 = septune(cmd .. " -h")
  t.check(s3 == 0 and out3 == out, cmd .. " -h prints the same")
end
local s, out, err = septune("db list --help")
t.check(s == 0 and has(out, "usage: septune db list"), "db list --help: " .. out .. err)
s, out = septune("help")
t.check(s == 0 and has(out, "septune help COMMAND"), "septune help lists the commands: " .. out)
s, out, err = septune("help frobnicate")
t.check(s == 2 and has(err, "frobnicate"), "help of an unknown command exits 2 naming it: " .. err)
s, out, err = septune("")
t.check(s == 2 and has(err, "usage"), "no command: usage on stderr, exit 2: " .. err)

-- Version.
s, out = septune("--version")
local version = out:match("^septune (%d+%.%d+%.%d+)\n$")
t.check(s == 0 and version ~= nil, "--version prints septune MAJOR.MINOR.PATCH: " .. out)

-- Option forms.
local DW = "dw h=6 w=6 c=16 k=3 pad=same"
s, out, err = septune("run " .. DW .. " --ms=5 --isa=scalar")
t.check(s == 0 and has(out, "kernel  scalar"), "--opt=value: " .. out .. err)
s, out, err = septune("run --ms 5 --isa scalar -- " .. DW)
t.check(s == 0 and has(out, "kernel  scalar"), "options, then --, then the layer: " .. out .. err)
s, out, err = septune("run --isa " .. DW)
t.check(s == 2 and has(err, "ISA 'dw'"), "--isa takes the next argument as its value: " .. err)
s, out, err = septune("run " .. DW .. " --ms")
t.check(s == 2 and has(err, "--ms needs a value"), "a missing value: " .. err)
s, out, err = septune("run " .. DW .. " --frobnicate")
t.check(s == 2 and has(err, "unknown option '--frobnicate'") and has(err, "septune help run"),
  "an unknown option names itself and the help: " .. err)
s, out, err = septune("run " .. DW .. " --json=1")
t.check(s == 2 and has(err, "--json takes no value"), "a value for a flag: " .. err)
s, out, err = septune("source " .. DW .. " --json")
t.check(s == 2 and has(err, "--json"), "source has no --json: " .. err)

-- The model file: positional or --model, in run, tune and emit alike.
local model = base .. "_model.txt"
t.write_file(model, "# two layers\n" .. DW .. " name=a\npw h=4 w=4 ci=8 co=16 name=b\n")
local runs = {}
for _, form in ipairs({ model, "--model " .. model, "--model=" .. model }) do
  s, out, err = septune("run " .. form .. " --ms 5 --isa scalar")
  t.check(s == 0 and has(out, "2 layers"), "run " .. form .. ": " .. out .. err)
  s, out, err = septune("emit " .. form .. " --list --name m")
  t.check(s == 0 and has(out, "m_k01.c"), "emit " .. form .. " --list: " .. out .. err)
  runs[#runs + 1] = out
end
t.check(runs[1] == runs[2] and runs[2] == runs[3], "every form lists the same files")
s, out, err = septune("emit " .. model .. " --model " .. model .. " --list")
t.check(s == 2 and has(err, "once"), "a model given twice exits 2: " .. err)
s, out, err = septune("tune " .. model .. " " .. model .. " --db ''")
t.check(s == 2 and has(err, "one model file"), "two models exit 2: " .. err)
s, out, err = septune("run " .. base .. "_missing.txt")
t.check(s == 2 and has(err, "_missing.txt"), "a missing model file exits 2 naming it: " .. err)

-- --report is checked before any tuning.
for _, bad in ipairs({ base .. "_chart.png", base .. "_nodir/chart.svg", model .. "/chart.svg" }) do
  s, out, err = septune("tune " .. model .. " --db '' --budget 60 --report " .. bad)
  t.check(s == 2 and has(err, "--report") and not has(err, "tune: 1/"),
    "--report " .. bad .. " exits 2 before tuning: " .. err)
end

-- Every --json is one valid document with its format and format version.
local function json_of(args, kind, env)
  local st, o, e = septune(args, env)
  local doc, why = t.json_decode(o)
  t.check(doc ~= nil, args .. ": valid JSON (" .. tostring(why) .. "): " .. o .. e)
  t.check(doc and doc.format == "septune-" .. kind and doc.format_version == 1,
    args .. ": format septune-" .. kind .. ", format_version 1: " .. o)
  return st, doc or {}, e
end
local db = base .. ".db"
local st, doc = json_of("tune " .. model .. " --json --db " .. db .. " --max-candidates 2 --budget 10", "tune")
t.check(st == 0 and #doc.layers == 2, "tune --json: two layers")
st, doc = json_of("run " .. DW .. " --ms 5 --json", "run")
t.check(st == 0 and #doc.layers == 1 and doc.layers[1].ok == true and doc.layers[1].source == "default",
  "run LAYER --json: one layer, checked, default knobs")
st, doc = json_of("run " .. model .. " --ms 5 --json", "run", "SEPTUNE_DB=" .. db)
t.check(st == 0 and #doc.layers == 2 and doc.layers[1].source == "tuned" and doc.layers[2].name == "b",
  "run MODEL --json: both layers, the tuned knobs of the database")
st, doc = json_of("db list --db " .. db .. " --json", "db-list")
t.check(st == 0 and #doc.records == 2 and doc.records[1].foreign == false, "db list --json: the two records")
st, doc = json_of("db show " .. DW .. " --db " .. db .. " --json", "db-show")
t.check(st == 0 and #doc.records == 1 and has(doc.records[1].op, "c=16"), "db show --json: the record")
st, doc = json_of("db show dw h=7 w=7 c=8 k=3 --db " .. db .. " --json", "db-show")
t.check(st == 1 and #doc.records == 0, "db show --json of no record: exit 1, no record")
st, doc = json_of("db list --json", "db-list", "SEPTUNE_DB=")
t.check(st == 0 and #doc.records == 0, "db list --json without a database: no record")
st, doc = json_of("emit " .. model .. " --list --json --name m", "emit")
t.check(st == 0 and doc.written == false and #doc.files == 4 and doc.files[1] == "m.h", "emit --list --json: the files")
local out_dir = base .. "_gen"
st, doc = json_of("emit " .. model .. " --json --db " .. db .. " --out " .. out_dir, "emit")
t.check(st == 0 and doc.written == true and #doc.layers == 2 and doc.layers[1].source == "tuned",
  "emit --json: the layers and where their knobs came from")
assert(t.run("rm -rf " .. out_dir))

for _, p in ipairs({ model, db, db .. ".lock", errfile }) do os.remove(p) end
t.finish()

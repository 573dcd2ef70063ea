-- `septune import` and ONNX files in run, tune and emit, on the models
-- make_models.py exported ($SEPTUNE_ONNX_MODELS): the model file import
-- writes, the skipped nodes it lists, every MobileNetV2 layer run on the
-- model's own weights and checked, a tune and an emit of the ONNX file, and
-- every bad file refused with exit status 2 and a message (never a crash:
-- a signal would be a status over 128).
local t = require("testlib")
local bin = assert(os.getenv("SEPTUNE_BIN"), "SEPTUNE_BIN must name the septune executable")
local models = assert(os.getenv("SEPTUNE_ONNX_MODELS"), "SEPTUNE_ONNX_MODELS must name make_models.py's folder")
local base = t.scratch("cli_import")
local errfile = base .. ".stderr"

local function septune(args)
  local status, out = t.capture(string.format("timeout 300 %s %s 2>%s </dev/null", bin, args, errfile))
  return status, out, t.read_file(errfile) or ""
end
local function has(s, word) return s:find(word, 1, true) ~= nil end
local function count(s, pattern)
  local n = 0
  for _ in s:gmatch(pattern) do n = n + 1 end
  return n
end
local mnv2 = models .. "/mobilenet_v2.onnx"

-- import: the model file on stdout and with -o, the skipped nodes on stderr.
local st, out, err = septune("import " .. mnv2)
t.check(st == 0 and count(out, "\n[dp]w ") == 51, "import writes MobileNetV2's 51 layers: " .. tostring(st) .. err)
t.check(has(out, "pytorch 1.13") and has(out, "input.1 1x3x224x224"), "the header names the exporter and input: " .. out)
t.check(has(err, "(Gemm)") and has(err, "(GlobalAveragePool)") and has(err, "full 3x3 convolution"),
  "the nodes it cannot serve are listed with their reasons: " .. err)
local txt = base .. "_mnv2.txt"
st, out, err = septune("import " .. mnv2 .. " -o " .. txt)
local written = t.read_file(txt) or ""
t.check(st == 0 and out == "" and count(written, "\n[dp]w ") == 51, "import -o writes the file: " .. err)
st, out, err = septune("emit " .. txt .. " --list")
t.check(st == 0 and has(out, "_mnv2_k00.c"), "the file written is a model file emit reads: " .. out .. err)
st, out, err = septune("import --out=" .. txt .. " " .. models .. "/bad_no_conv.onnx")
t.check(st == 2 and t.read_file(txt) == written, "a failed import leaves the output file as it was: " .. err)

-- run: every layer on the model's weights, each checked against the reference.
st, out, err = septune("run --model " .. mnv2 .. " --ms 1")
t.check(st == 0 and count(out, " ok\n") == 51 and has(out, "model's own weights"),
  "run --model MODEL.onnx checks all 51 layers on the model's weights: " .. out .. err)
t.check(has(err, "51 layers imported, 15 nodes skipped"), "run says how many nodes it skipped: " .. err)
st, out, err = septune("run " .. models .. "/torch_hardswish_opset13.onnx --ms 1 --json")
local doc = t.json_decode(out)
local l = doc and doc.layers[1] or {}
t.check(st == 0 and #doc.layers == 1 and l.ok and l.weights == "model" and l.node == 1 and l.name == "/0/Conv",
  "run --json says the layer ran on the model's weights and names its node: " .. out .. err)

-- tune and emit take the ONNX file.
local db = base .. ".db"
st, out, err = septune("tune " .. mnv2 .. " --budget 1 --max-candidates 1 --db " .. db)
t.check(st == 0 and has(out, "51 of 51 layers tuned (29 distinct shapes)"), "tune MODEL.onnx tunes every layer: "
  .. out .. err)
local gen = base .. "_gen"
st, out, err = septune("emit --model " .. mnv2 .. " --db " .. db .. " --out " .. gen)
t.check(st == 0 and has(out, "29 kernels (29 tuned") and t.read_file(gen .. "/mobilenet_v2_table.c"),
  "emit --model MODEL.onnx writes the kernels, named after the file: " .. out .. err)
st, out, err = septune("emit " .. models .. "/mobilenet_v3_large.onnx --list")
t.check(st == 0 and has(out, "mobilenet_v3_large_k00.c"), "emit MODEL.onnx --list: " .. out .. err)

-- Files that must be refused: exit status 2 and a message naming the file.
local bad = {
  { models .. "/bad_no_conv.onnx", "no depthwise or 1x1 convolution" },
  { models .. "/bad_external.onnx", "external data" },
  { models .. "/bad_absurd_input.onnx", "absurd dimension" },
  { models .. "/bad_absurd_weights.onnx", "absurd dimensions" },
  { models .. "/bad_absurd_layer.onnx", "overflows" },
  { models .. "/bad_short_weights.onnx", "holds 16 bytes" },
  { models .. "/bad_symbolic_size.onnx", "symbolic" },
}
local mnv2_bytes = assert(t.read_file(mnv2))
local truncated = base .. "_truncated.onnx"
t.write_file(truncated, mnv2_bytes:sub(1, math.floor(#mnv2_bytes / 2)))
bad[#bad + 1] = { truncated, "does not parse" }
local corrupt = base .. "_corrupt.onnx"
t.write_file(corrupt, "\15" .. mnv2_bytes:sub(2))
bad[#bad + 1] = { corrupt, "does not parse" }
local text = base .. "_text.onnx"
t.write_file(text, "# a model file named .onnx\npw h=2 w=2 ci=3 co=5\n")
bad[#bad + 1] = { text, "does not parse" }
local empty = base .. "_empty.onnx"
t.write_file(empty, "")
bad[#bad + 1] = { empty, "no graph" }
for _, b in ipairs(bad) do
  for _, cmd in ipairs({ "import ", "run --ms 1 --model ", "tune --db '' ", "emit --list " }) do
    st, out, err = septune(cmd .. b[1])
    t.check(st == 2 and has(err, b[1]) and has(err, b[2]),
      string.format("'%s%s' exits 2 saying '%s' (status %s): %s", cmd, b[1], b[2], tostring(st), err))
  end
end
-- import reads a file as ONNX whatever its name: a text model file is not one.
st, out, err = septune("import " .. (os.getenv("SEPTUNE_SOURCE_DIR") or ".") .. "/models/mobilenet_v1.txt")
t.check(st == 2 and has(err, "does not parse as an ONNX model"), "import refuses a text model file: " .. err)

-- The command's conventions.
st, out, err = septune("import --help")
local st2, out2 = septune("help import")
t.check(st == 0 and has(out, "usage: septune import") and st2 == 0 and out2 == out, "--help and help import: " .. err)
st, out, err = septune("import")
t.check(st == 2 and has(err, "no ONNX file given"), "import without a file exits 2: " .. err)
st, out, err = septune("import " .. mnv2 .. " --bogus")
t.check(st == 2 and has(err, "--bogus"), "an unknown option exits 2: " .. err)
st, out, err = septune("import " .. mnv2 .. " " .. mnv2)
t.check(st == 2 and has(err, "one model file only"), "two files exit 2: " .. err)
st, out, err = septune("import " .. base .. "_missing.onnx")
t.check(st == 2 and has(err, "_missing.onnx"), "a missing file exits 2 naming it: " .. err)

os.execute("rm -rf " .. gen)
for _, p in ipairs({ txt, db, db .. ".lock", truncated, corrupt, text, empty, errfile }) do os.remove(p) end
t.finish()

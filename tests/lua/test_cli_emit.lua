-- `septune emit` on a model made here (dw and pw layers, a repeated shape, a
-- pw layer with bias, a dw layer with multiplier 2): the files match --list,
-- each compiles warning-free with gcc, clang and tcc (those on PATH), a
-- program linking them finds every entry in the table and gets the
-- reference's answers from the kernels; a database record makes its entry
-- tuned, --cpu takes another CPU's records; bad input fails with the path in
-- the message and leaves the output directory as it was; a re-emit of a
-- smaller model removes the kernel files it no longer has.
local t = require("testlib")
local bin = assert(os.getenv("SEPTUNE_BIN"), "SEPTUNE_BIN must name the septune executable")
local root = os.getenv("SEPTUNE_LUA_ROOT") or "."
local base = t.scratch("cli_emit")
local errfile = base .. ".stderr"

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Runs septune with `args`, no tuning database unless `env` names one;
-- returns exit status, stdout, stderr.
local function septune(args, env)
  local status, out = t.capture(string.format("SEPTUNE_DB= %s %s %s 2>%s", env or "", bin, args, errfile))
  return status, out, t.read_file(errfile) or ""
end

local function has(s, word) return s:find(word, 1, true) ~= nil end

-- Every name in dir (hidden ones too), sorted; {} when dir is missing.
local function listing(dir)
  local p = io.popen("ls -A " .. sh_quote(dir) .. " 2>/dev/null")
  local names = {}
  for name in p:read("*a"):gmatch("[^\n]+") do names[#names + 1] = name end
  p:close()
  table.sort(names)
  return names
end

local function lines_of(s)
  local r = {}
  for l in s:gmatch("[^\n]+") do r[#r + 1] = l end
  return r
end

local function sorted(list)
  local c = {}
  for i, v in ipairs(list) do c[i] = v end
  table.sort(c)
  return c
end

local function same(a, b) return table.concat(a, "\n") == table.concat(b, "\n") end

local function on_path(cmd) return t.run("command -v " .. cmd .. " >/dev/null 2>&1") end

local compilers = {}
for _, c in ipairs({ { "gcc", "gcc -Wall -Wextra -Werror" }, { "clang", "clang -Wall -Wextra -Werror" },
                     { "tcc", "tcc -Wall -Werror" } }) do
  if on_path(c[1]) then compilers[#compilers + 1] = c end
end
t.check(#compilers > 0, "no C compiler on PATH: gcc, clang and tcc checks skipped")

-- The model: 5 layers, 4 distinct ops (a.dw and b.dw are one shape).
local model = base .. "_model.txt"
local DW = "dw n=1 h=14 w=14 c=32 kh=3 kw=3 sh=1 sw=1 dh=1 dw=1 pad=1,1,1,1 m=1 act=relu6 bias=0"
local PWB = "pw n=1 h=14 w=14 ci=32 co=40 act=relu6 bias=1"
local DWM = "dw n=1 h=14 w=14 c=16 kh=3 kw=3 sh=2 sw=2 dh=1 dw=1 pad=0,0,1,1 m=2 act=none bias=0"
local PW = "pw n=1 h=7 w=7 ci=32 co=64 act=none bias=0"
t.write_file(model, table.concat({
  "# a small net for septune emit",
  "dw name=a.dw h=14 w=14 c=32 k=3 s=1 pad=same act=relu6",
  "pw name=a.pw h=14 w=14 ci=32 co=40 act=relu6 bias=1",
  "",
  "dw name=b.dw h=14 w=14 c=32 k=3 s=1 pad=same act=relu6",
  "dw name=c.dw h=14 w=14 c=16 k=3 s=2 pad=same m=2 act=none",
  "pw h=7 w=7 ci=32 co=64 act=none",
}, "\n") .. "\n")

local out = base .. "_out"
local s, o, e = septune("emit --model " .. model .. " --out " .. out .. " --name tnet")
t.check(s == 0, "emit exits 0: " .. o .. e)
t.check(has(o, "wrote 4 kernels (0 tuned, 4 default) for 5 layers to " .. out), "summary: " .. o)
t.check(has(o, "a.dw") and has(o, "b.dw") and has(o, "c.dw") and has(o, "line 7"),
  "one line per layer, unnamed layers by line: " .. o)
t.check(has(o, "none ($SEPTUNE_DB is empty)"), "says there is no database: " .. o)

-- --list: the files, header first, then the table and the kernels in order
local ls, lo, le = septune("emit --model " .. model .. " --name tnet --list")
local list = lines_of(lo)
t.check(ls == 0 and same(list, { "tnet.h", "tnet_table.c", "tnet_k00.c", "tnet_k01.c", "tnet_k02.c", "tnet_k03.c" }),
  "--list names header, table, kernels: " .. lo .. le)
t.check(same(sorted(list), listing(out)), "the directory holds exactly the listed files: "
  .. table.concat(listing(out), " "))
s, o = septune("emit --model " .. model .. " --list --db " .. base .. "_no_such.db")
t.check(s == 0 and has(o, "_model.h"), "--list reads no database: " .. o)

-- the default name: the model's base name made into an identifier
os.execute("mkdir -p " .. sh_quote(base .. "_d"))
local oddmodel = base .. "_d/9my-net.v2.txt"
t.write_file(oddmodel, "pw h=2 w=2 ci=4 co=4\n")
s, o = septune("emit --model " .. oddmodel .. " --list")
t.check(s == 0 and has(o, "m_9my_net_v2.h\nm_9my_net_v2_table.c\nm_9my_net_v2_k00.c\n"),
  "the default name is the model's base name as an identifier: " .. o)

-- the header carries septune_kernel_table.h verbatim, the table the count
local header = t.read_file(out .. "/tnet.h") or ""
local table_h = t.read_file(root .. "/runtime/include/septune_kernel_table.h")
t.check(table_h and has(header, table_h), "tnet.h holds septune_kernel_table.h verbatim")
t.check(has(header, "extern const septune_kernel_table tnet_kernels;"), "tnet.h declares the table")
t.check(has(header, "septune_register_kernels(&tnet_kernels, &err)"), "tnet.h says how to use it")
local tabtext = t.read_file(out .. "/tnet_table.c") or ""
t.check(tabtext:match("SEPTUNE_KERNEL_TABLE_ABI, %d+, \"tnet\", \"\", (%d+), tnet_entries") == "4",
  "the table counts 4 entries: " .. tabtext)
local k02 = t.read_file(out .. "/tnet_k00.c") or ""
t.check(has(k02, "a.dw, b.dw") and has(k02, DW) and has(k02, "#include \"tnet.h\""),
  "a kernel file names its layers and op and includes the header")
t.check(not has(k02, "septune_dw_") and has(k02, "tnet_dw_"), "kernel symbols are renamed to tnet_")

-- every file compiles without warnings
for _, c in ipairs(compilers) do
  for _, f in ipairs(list) do
    if f:match("%.c$") then
      local cmd = string.format("cd %s && %s -c %s -o %s 2>&1", sh_quote(out), c[2], f, sh_quote(base .. "_obj.o"))
      local status, text = t.capture(cmd)
      t.check(status == 0 and not text:match("warning"), c[1] .. " compiles " .. f .. ": " .. text)
    end
  end
end
os.remove(base .. "_obj.o")

-- A program linking the table and the kernels: prints the table, then runs
-- every entry it knows the shape of against a plain-C reference.
local check_c = [[
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tnet.h"

typedef struct dwcase { const char *op; int h, w, c, m, k, s, pt, pl, oh, ow, relu6; } dwcase;
typedef struct pwcase { const char *op; int pixels, ci, co, bias, relu6; } pwcase;
static const dwcase dws[] = { { "DW", 14, 14, 32, 1, 3, 1, 1, 1, 14, 14, 1 },
                              { "DWM", 14, 14, 16, 2, 3, 2, 0, 0, 7, 7, 0 } };
static const pwcase pws[] = { { "PWB", 196, 32, 40, 1, 1 }, { "PW", 49, 32, 64, 0, 0 } };

static float act(float x, int relu6) { return relu6 ? (x < 0 ? 0 : x > 6 ? 6 : x) : x; }
static float draw(unsigned *s) { *s = *s * 1103515245u + 12345u; return (float)((*s >> 16) % 2001) / 1000.0f - 1.0f; }
static int close_to(float a, float b) { return fabsf(a - b) <= 1e-4f * (1.0f + fabsf(b)); }

static const septune_kernel_entry *find(const char *op)
{
  long i;
  for (i = 0; i < tnet_kernels.count; i++)
    if (!strcmp(tnet_kernels.entries[i].op, op)) return &tnet_kernels.entries[i];
  return NULL;
}

static int check_dw(const dwcase *d)
{
  const septune_kernel_entry *e = find(d->op);
  int P = SEPTUNE_KERNEL_PACK_LANES, co = d->c * d->m, copad = (co + P - 1) / P * P, y, x, o, ky, kx, bad = 0;
  unsigned seed = 1;
  float *in = malloc(sizeof(float) * d->h * d->w * d->c), *rep = malloc(sizeof(float) * d->h * d->w * co);
  float *wt = malloc(sizeof(float) * d->k * d->k * co), *packed = calloc((size_t)(1 + d->k * d->k) * copad, sizeof(float));
  float *zero = calloc((size_t)d->w * co + P, sizeof(float)), *out = malloc(sizeof(float) * d->oh * d->ow * co);
  if (!e) return 1;
  for (x = 0; x < d->h * d->w * d->c; x++) in[x] = draw(&seed);
  for (x = 0; x < d->k * d->k * co; x++) wt[x] = draw(&seed);
  for (x = 0; x < d->h * d->w * co; x++) rep[x] = in[x / co * d->c + x % co / d->m];
  for (x = 0; x < d->k * d->k; x++) memcpy(packed + (1 + x) * copad, wt + x * co, sizeof(float) * co);
  /* one work item per call, as threads would take them */
  for (x = 0; x < e->work(); x++) e->kernel(rep, out, packed, zero, NULL, x, x + 1);
  if (e->threads() < 1) return 1;
  for (y = 0; y < d->oh; y++)
    for (x = 0; x < d->ow; x++)
      for (o = 0; o < co; o++) {
        float sum = 0;
        for (ky = 0; ky < d->k; ky++)
          for (kx = 0; kx < d->k; kx++) {
            int iy = y * d->s + ky - d->pt, ix = x * d->s + kx - d->pl;
            if (iy >= 0 && iy < d->h && ix >= 0 && ix < d->w)
              sum += in[(iy * d->w + ix) * d->c + o / d->m] * wt[(ky * d->k + kx) * co + o];
          }
        bad += !close_to(out[(y * d->ow + x) * co + o], act(sum, d->relu6));
      }
  printf("checked %s: %s\n", d->op, bad ? "WRONG" : "ok");
  return bad != 0;
}

static int check_pw(const pwcase *c)
{
  const septune_kernel_entry *e = find(c->op);
  int p, i, o, bad = 0;
  unsigned seed = 2;
  float *in, *w, *b, *packed, *out;
  if (!e || !e->pack || !e->packed_floats) return 1;
  in = malloc(sizeof(float) * c->pixels * c->ci);
  w = malloc(sizeof(float) * c->ci * c->co);
  b = malloc(sizeof(float) * c->co);
  packed = malloc(sizeof(float) * (size_t)e->packed_floats());
  out = malloc(sizeof(float) * c->pixels * c->co);
  for (i = 0; i < c->pixels * c->ci; i++) in[i] = draw(&seed);
  for (i = 0; i < c->ci * c->co; i++) w[i] = draw(&seed);
  for (i = 0; i < c->co; i++) b[i] = draw(&seed);
  e->pack(w, c->bias ? b : NULL, packed);
  for (i = 0; i < e->work(); i++) e->kernel(in, out, packed, NULL, NULL, i, i + 1);
  if (e->threads() < 1) return 1;
  for (p = 0; p < c->pixels; p++)
    for (o = 0; o < c->co; o++) {
      float sum = c->bias ? b[o] : 0;
      for (i = 0; i < c->ci; i++) sum += in[p * c->ci + i] * w[i * c->co + o];
      bad += !close_to(out[p * c->co + o], act(sum, c->relu6));
    }
  printf("checked %s: %s\n", c->op, bad ? "WRONG" : "ok");
  return bad != 0;
}

int main(int argc, char **argv)
{
  long i;
  int bad = 0;
  printf("abi %d name %s cpu [%s] count %ld\n", tnet_kernels.abi, tnet_kernels.name, tnet_kernels.cpu,
         tnet_kernels.count);
  for (i = 0; i < tnet_kernels.count; i++) {
    const septune_kernel_entry *e = &tnet_kernels.entries[i];
    printf("entry %ld isa=%d tuned=%d knobs=%s symbol=%s op=%s\n", i, e->isa, e->tuned, e->knobs, e->symbol, e->op);
  }
  (void)argv;
  if (argc > 1) {
    for (i = 0; i < 2; i++) bad |= check_dw(&dws[i]);
    for (i = 0; i < 2; i++) bad |= check_pw(&pws[i]);
  }
  return bad;
}
]]
check_c = check_c:gsub('"DWM"', '"' .. DWM .. '"'):gsub('"DW"', '"' .. DW .. '"')
                 :gsub('"PWB"', '"' .. PWB .. '"'):gsub('"PW"', '"' .. PW .. '"')
local check_src = base .. "_check.c"
t.write_file(check_src, check_c)

-- Builds the check program against the files in dir with compiler c;
-- returns its output and exit status (nil when it did not build). run: also run the kernels.
local function run_check(c, dir, run)
  local exe = base .. "_check_" .. c[1]
  local cmd = string.format("%s -I %s %s %s/*.c -o %s -lm 2>&1", c[2], sh_quote(dir), sh_quote(check_src),
    sh_quote(dir), sh_quote(exe))
  local status, text = t.capture(cmd)
  if not t.check(status == 0, c[1] .. " builds the check program: " .. text) then return nil end
  status, text = t.capture(sh_quote(exe) .. (run and " run" or ""))
  os.remove(exe)
  return text, status
end

local function entries(text)
  local r = {}
  for i, isa, tuned, knobs, op in text:gmatch("entry (%d+) isa=(%d) tuned=(%d) knobs=(%S*) symbol=%S+ op=([^\n]+)") do
    r[#r + 1] = { i = tonumber(i), isa = tonumber(isa), tuned = tonumber(tuned), knobs = knobs, op = op }
  end
  return r
end

for _, c in ipairs(compilers) do
  local text, status = run_check(c, out, true)
  if text then
    t.check(text:match("count (%d+)") == "4" and text:match("abi 2 name tnet cpu %[%]"), c[1] .. ": table: " .. text)
    local es = entries(text)
    t.check(#es == 4 and es[1].op == DW and es[2].op == PWB and es[3].op == DWM and es[4].op == PW,
      c[1] .. ": the entries in model order: " .. text)
    local n_ok = select(2, text:gsub("checked [^\n]*: ok", ""))
    t.check(n_ok == 4 and status == 0, c[1] .. ": every kernel matches the reference: " .. text)
  end
end

-- A database record (SSE, so that any x86-64 runs it) for the pw layer with
-- bias, and another CPU's record for the dw layer with multiplier 2.
local _, dbl = septune("db list --db " .. base .. "_none.db")
local cpu = dbl:match("# this CPU: (%S+)") or "unknown"
local tv = dbl:match("# template version: (%d+)") or "1"
local OTHER = "OtherVendor:1.2.3:Other_CPU:sse:l1d=32K,l2=256K,l3=0K"
local function record(c, isa, op, knobs, median)
  return table.concat({ "septune-db/1", "cpu=" .. c, "threads=1", "tv=" .. tv, "isa=" .. isa, "op=" .. op,
    "knobs=" .. knobs, "median_us=" .. median, "min_us=1", "gflops=1", "date=2026-11-22T10:00:00Z" }, "\t")
end
local PW_KNOBS = "mr=2,nr=4,kc=0,pf=0,ku=1,nt=0,mc=0,np=0,th=1"
local DWM_KNOBS = "ct=1,wt=5,wreg=1,order=0,pf=0,loop=1,nt=0,kloop=0,rb=0,cb=0,th=1"
local db = base .. "_tuned.db"
t.write_file(db, table.concat({
  "# septune tuning database, format 1",
  record(cpu, "sse", PWB, PW_KNOBS, "12.5"),
  "not a record",
  record(OTHER, "sse", DWM, DWM_KNOBS, "3.25"),
}, "\n") .. "\n")
local tuned_out = base .. "_tuned"
s, o, e = septune("emit --model " .. model .. " --out " .. tuned_out .. " --name tnet --threads 1 --db " .. db)
t.check(s == 0 and has(o, "(1 tuned, 3 default)"), "emit with a database: one tuned: " .. o .. e)
t.check(has(e, db .. ":3:"), "the bad database line is a warning naming it: " .. e)
local k01 = t.read_file(tuned_out .. "/tnet_k01.c") or ""
t.check(has(k01, "tuned   median 12.5 us") and has(k01, PW_KNOBS), "the tuned kernel's file says so: " .. k01:sub(1, 600))
for _, c in ipairs(compilers) do
  local text = run_check(c, tuned_out, true)
  if text then
    local es = entries(text)
    t.check(es[2] and es[2].tuned == 1 and es[2].knobs == PW_KNOBS and es[2].isa == 2,
      c[1] .. ": the pw entry is tuned, with the record's knobs, on sse: " .. text)
    t.check(es[1] and es[1].tuned == 0 and es[3].tuned == 0 and es[4].tuned == 0, c[1] .. ": the rest default: " .. text)
    t.check(text:match("cpu %[" .. cpu:gsub("%p", "%%%0") .. "%]"), c[1] .. ": the table names the CPU: " .. text)
    t.check(select(2, text:gsub("checked [^\n]*: ok", "")) == 4, c[1] .. ": tuned kernels are right too: " .. text)
  end
end

-- --cpu: the other CPU's records, and defaults for its ISA (sse)
local other_out = base .. "_other"
s, o, e = septune("emit --model " .. model .. " --out " .. other_out .. " --name tnet --threads 1 --db " .. db .. " --cpu " .. OTHER)
t.check(s == 0 and has(o, "(1 tuned, 3 default)"), "emit --cpu: the other CPU's record: " .. o .. e)
if compilers[1] then
  local text = run_check(compilers[1], other_out, false) or ""
  local es = entries(text)
  t.check(es[3] and es[3].tuned == 1 and es[3].knobs == DWM_KNOBS and es[2].tuned == 0,
    "--cpu: the dw m=2 entry is tuned, the pw one is not: " .. text)
  t.check(#es == 4 and es[1].isa == 2 and es[4].isa == 2, "--cpu: defaults for the signature's ISA: " .. text)
end
-- --threads 2: the 1-thread record's knobs with the default split for 2
-- (the kernels are still right, whatever their split)
local split_out = base .. "_split"
s, o, e = septune("emit --model " .. model .. " --out " .. split_out .. " --name tnet --threads 2 --db " .. db)
t.check(s == 0 and has(o, "(1 tuned, 3 default)") and has(o, "# threads: 2"), "emit --threads 2: " .. o .. e)
if compilers[1] then
  local text = run_check(compilers[1], split_out, true) or ""
  local es = entries(text)
  t.check(es[2] and es[2].tuned == 1 and es[2].knobs:sub(1, 24) == PW_KNOBS:sub(1, 24), "--threads 2: the record's knobs: " .. text)
  t.check(select(2, text:gsub("checked [^\n]*: ok", "")) == 4, "--threads 2: every kernel matches: " .. text)
end
s, o, e = septune("emit --model " .. model .. " --out " .. split_out .. " --threads 0")
t.check(s == 2 and has(e, "--threads"), "emit --threads 0 is a usage error: " .. e)

-- --isa selects among records: no avx512 record exists, so all default
s, o = septune("emit --model " .. model .. " --out " .. other_out .. " --name tnet --db " .. db .. " --isa avx512")
t.check(s == 0 and has(o, "(0 tuned, 4 default)") and has(o, "avx512"), "--isa without a record of it: " .. o)

-- --no-db: the default knobs whatever $SEPTUNE_DB holds; not with --db
s, o = septune("emit --model " .. model .. " --out " .. other_out .. " --name tnet --no-db", "SEPTUNE_DB=" .. db)
t.check(s == 0 and has(o, "(0 tuned, 4 default)") and has(o, "--no-db"), "--no-db ignores $SEPTUNE_DB: " .. o)
s, o, e = septune("emit --model " .. model .. " --out " .. other_out .. " --name tnet --no-db --db " .. db)
t.check(s == 2 and has(e, "--no-db"), "--no-db with --db is a usage error: " .. e)

-- Errors: non-zero exit, the culprit in the message, the output directory
-- as it was (no new file, no staging directory), a missing one not made.
local before = listing(out)
local fresh = base .. "_fresh/sub"
local notdir = base .. "_notdir"
t.write_file(notdir, "x\n")
local badmodel = base .. "_bad.txt"
t.write_file(badmodel, "pw h=4 w=4 ci=4 co=4\n\npw h=4 w=4 ci=0 co=4\n")
local empty = base .. "_empty.txt"
t.write_file(empty, "# no layers\n")
local cases = {
  { "emit --model " .. model .. " --out %s --name tnet --db " .. base .. "_missing.db", base .. "_missing.db" },
  { "emit --model " .. base .. "_nomodel.txt --out %s --name tnet", base .. "_nomodel.txt" },
  { "emit --model " .. badmodel .. " --out %s --name tnet", badmodel .. ":3:" },
  { "emit --model " .. empty .. " --out %s --name tnet", empty },
  { "emit --model " .. model .. " --out %s --name 9lives", "9lives" },
  { "emit --model " .. model .. " --out %s --name bad-name", "bad-name" },
  { "emit --model " .. model .. " --out %s --name tnet --db " .. out, out },
}
for _, c in ipairs(cases) do
  for _, dir in ipairs({ out, fresh }) do
    s, o, e = septune(c[1]:format(dir))
    t.check(s ~= 0 and s ~= nil and has(e, c[2]), "fails naming " .. c[2] .. ": " .. c[1]:format(dir) .. " -> " .. e)
    t.check(#lines_of(e) == 1, "one line of message: " .. e)
  end
  t.check(same(listing(out), before), "the output directory is as it was after: " .. c[1])
  t.check(#listing(base .. "_fresh") == 0, "no output directory made after: " .. c[1])
end
for _, dir in ipairs({ notdir, notdir .. "/sub" }) do
  s, o, e = septune("emit --model " .. model .. " --out " .. dir .. " --name tnet")
  t.check(s == 2 and has(e, dir), "--out " .. dir .. " (a file in the way) fails naming it: " .. e)
end
t.check(t.read_file(notdir) == "x\n", "the file in the way is untouched")

-- A write that fails half-way (a file size limit; SIGXFSZ ignored, so write
-- returns EFBIG): the staged files and the staging directory go, and so do
-- the directories the emit made.
for _, dir in ipairs({ out, fresh }) do
  local status, text = t.capture(string.format("sh -c \"trap '' XFSZ; ulimit -f 8; SEPTUNE_DB= exec %s emit --model %s"
    .. " --out %s --name tnet\" 2>%s", bin, model, dir, errfile))
  e = t.read_file(errfile) or ""
  t.check(status == 1 and has(e, "File too large"), "a failed write exits 1: " .. text .. e)
  t.check(same(listing(out), before) and #listing(base .. "_fresh") == 0,
    "and leaves no file and no staging directory: " .. table.concat(listing(out), " "))
end

-- Re-emit a smaller model: the kernels it no longer has go, other files stay.
t.write_file(out .. "/tnet_notes.txt", "mine\n")
t.write_file(out .. "/tnet_k17.c", "/* stale */\n")
local small = base .. "_small.txt"
t.write_file(small, "pw name=x h=7 w=7 ci=32 co=64 act=none\n")
s, o, e = septune("emit --model " .. small .. " --out " .. out .. " --name tnet")
t.check(s == 0 and has(o, "wrote 1 kernel (0 tuned, 1 default) for 1 layer"), "emit of a 1-layer model: " .. o .. e)
t.check(same(listing(out), { "tnet.h", "tnet_k00.c", "tnet_notes.txt", "tnet_table.c" }),
  "stale kernel files are removed, others kept: " .. table.concat(listing(out), " "))

os.execute("rm -rf " .. sh_quote(split_out) .. " " .. sh_quote(out) .. " " .. sh_quote(tuned_out) .. " " .. sh_quote(other_out) .. " "
  .. sh_quote(base .. "_fresh") .. " " .. sh_quote(base .. "_d"))
for _, f in ipairs({ model, oddmodel, check_src, db, notdir, badmodel, empty, small, errfile }) do os.remove(f) end
t.finish()

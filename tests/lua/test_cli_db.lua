-- `septune db list|show|merge|prune` on database files made here: records of
-- this CPU, of another CPU and of another template version, a corrupt line
-- reported with its line number, duplicates, merges that keep the faster
-- record, prunes that report each dropped line, and the exit codes.
local t = require("testlib")
local bin = assert(os.getenv("SEPTUNE_BIN"), "SEPTUNE_BIN must name the septune executable")
local base = t.scratch("cli_db")
local errfile = base .. ".stderr"

-- Runs septune with `args` (and env assignments `env`, e.g. "SEPTUNE_DB=x");
-- returns exit status, stdout, stderr.
local function septune(args, env)
  local status, out = t.capture(string.format("%s %s %s 2>%s", env or "", bin, args, errfile))
  return status, out, t.read_file(errfile) or ""
end

local function has(s, word) return s:find(word, 1, true) ~= nil end
local function count(s, word)
  local n, i = 0, 1
  while true do
    local a, b = s:find(word, i, true)
    if not a then return n end
    n, i = n + 1, b + 1
  end
end

-- The 1-based number of the first line of text containing word.
local function line_of(text, word)
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if has(line, word) then return n end
  end
end

-- This machine's CPU signature and template version, from an empty list.
local db = base .. "_main.db"
local s, out, err = septune("db list --db " .. db)
t.check(s == 0 and has(out, "no records"), "list of a missing file: empty, exit 0: " .. out .. err)
local cpu = out:match("# this CPU: (%S+)")
local tv = tonumber(out:match("# template version: (%d+)"))
t.check(cpu ~= nil and tv ~= nil, "list names this CPU and the template version: " .. out)
cpu, tv = cpu or "unknown", tv or 1

local PW = "pw h=56 w=56 ci=144 co=24 act=none"
local DW = "dw h=28 w=28 c=96 k=3 s=2 pad=same act=relu6"
local function record(f)
  return table.concat({ "septune-db/1", "cpu=" .. (f.cpu or cpu), "threads=1", "tv=" .. (f.tv or tv),
    "isa=" .. (f.isa or "sse"), "op=" .. f.op, "knobs=" .. (f.knobs or "ct=1"),
    "median_us=" .. (f.median or "10"), "min_us=9", "gflops=50", "default_us=" .. (f.default or "15"),
    "date=2026-11-22T10:00:00Z" }, "\t")
end

local lines = {
  "# septune tuning database, format 1",                             -- 1
  record({ op = PW, knobs = "mr=4,nr=32", median = "12.5" }),          -- 2 superseded by 6
  record({ op = PW, cpu = "OtherVendor:1.2.3:Other_CPU:sse:l1d=32K,l2=256K,l3=0K", knobs = "mr=2" }), -- 3 foreign
  record({ op = DW, tv = tv + 7, knobs = "ct=3" }),                    -- 4 stale
  record({ op = DW, median = "abc" }),                                 -- 5 corrupt
  record({ op = PW, knobs = "mr=6,nr=64", median = "8.25" }),          -- 6 good
  "septune-db/7\tcpu=x\tsomething=new",                              -- 7 newer format
}
t.write_file(db, table.concat(lines, "\n") .. "\n")

-- list
s, out, err = septune("db list --db " .. db)
t.check(s == 0, "list exits 0 despite a bad line: " .. err)
t.check(has(err, db .. ":5: field median_us"), "the corrupt line is reported with its number: " .. err)
t.check(has(err, db .. ":2: superseded by line 6"), "the duplicate is reported: " .. err)
t.check(has(err, db .. ":7: format version 7 is newer"), "the newer-format line is reported: " .. err)
t.check(not has(err, ":1:") and not has(err, ":3:") and not has(err, ":4:") and not has(err, ":6:"),
  "good lines are not reported: " .. err)
t.check(has(out, "# " .. db .. ": 3 records"), "3 records: " .. out)
t.check(has(out, "mr=6,nr=64") and not has(out, "mr=4,nr=32"), "the later duplicate wins: " .. out)
t.check(has(out, "8.25") and has(out, "1.82x"), "median and speed-up over the default: " .. out)
t.check(count(out, "foreign") == 1 and count(out, "stale") == 1, "one foreign, one stale record: " .. out)
t.check(has(out, "pw n=1 h=56 w=56 ci=144 co=24 act=none bias=0"), "the canonical layer line: " .. out)

-- SEPTUNE_DB instead of --db
s, out = septune("db list", "SEPTUNE_DB=" .. db)
t.check(s == 0 and has(out, "3 records"), "SEPTUNE_DB names the database: " .. out)
s, out = septune("db list", "SEPTUNE_DB=")
t.check(s == 0 and has(out, "no database"), "an empty SEPTUNE_DB is no database: " .. out)

-- show
s, out = septune("db show " .. PW .. " --db " .. db)
t.check(s == 0 and has(out, "mr=6,nr=64") and has(out, "mr=2") and has(out, "usable on this CPU"),
  "show lists this CPU's and the foreign record of the layer: " .. out)
t.check(not has(out, "ct=3"), "and no record of another layer: " .. out)
s, out, err = septune("db show pw h=3 w=3 ci=3 co=3 --db " .. db)
t.check(s == 1 and has(err, "no record"), "show of a layer without records exits 1: " .. err)
s, out, err = septune("db show pw h=3 w=3 ci=0 co=3 --db " .. db)
t.check(s == 2 and has(err, "ci"), "show of a bad layer line exits 2 naming the key: " .. err)
s, out, err = septune("db show --db " .. db)
t.check(s == 2, "show without a layer exits 2: " .. err)

-- merge: a faster record replaces, a slower one does not, a new one is added
local other = base .. "_other.db"
t.write_file(other, table.concat({
  record({ op = PW, knobs = "mr=8,nr=16", median = "9" }),             -- slower than 8.25: ignored
  record({ op = DW, knobs = "ct=4", median = "3.5" }),                 -- new key (this tv)
  record({ op = PW, isa = "avx2", knobs = "mr=8,nr=32", median = "7" }), -- new key (isa)
  "broken line",
}, "\n"))
s, out, err = septune("db merge " .. other .. " --db " .. db)
t.check(s == 0, "merge exits 0: " .. out .. err)
t.check(has(out, "2 added") and has(out, "0 replaced") and has(out, "1 kept"), "merge counts: " .. out)
t.check(has(err, other .. ":4:"), "a bad line of the merged file is reported: " .. err)
local text = t.read_file(db)
t.check(has(text, "knobs=ct=4") and has(text, "knobs=mr=8,nr=32") and not has(text, "mr=8,nr=16"),
  "merged records are in the file, the slower one is not")
t.check(has(text, "septune-db/7\tcpu=x\tsomething=new\n"), "the newer-format line survives the merge")
local faster = base .. "_faster.db"
t.write_file(faster, record({ op = PW, knobs = "mr=1,nr=1", median = "2" }) .. "\n")
s, out = septune("db merge " .. faster .. " --db " .. db)
t.check(s == 0 and has(out, "1 replaced"), "a faster record replaces: " .. out)
s, out = septune("db show " .. PW .. " --db " .. db)
t.check(has(out, "mr=1,nr=1") and not has(out, "mr=6,nr=64"), "show has the faster one: " .. out)
local fresh = base .. "_sub/dir/fresh.db"
s, out = septune("db merge " .. faster .. " --db " .. fresh)
t.check(s == 0 and has(out, "1 added") and t.read_file(fresh) ~= nil, "merge creates a new database: " .. out)
-- Several files at once: per key the fastest of all inputs, in either order.
local slow_in, fast_in = base .. "_slow_in.db", base .. "_fast_in.db"
t.write_file(slow_in, record({ op = DW, isa = "avx2", knobs = "ct=1,wt=1", median = "6" }) .. "\n")
t.write_file(fast_in, record({ op = DW, isa = "avx2", knobs = "ct=2,wt=2", median = "4" }) .. "\n")
for _, order in ipairs({ slow_in .. " " .. fast_in, fast_in .. " " .. slow_in }) do
  local both = base .. "_both.db"
  os.remove(both)
  s, out = septune("db merge " .. order .. " --db " .. both)
  text = t.read_file(both) or ""
  t.check(s == 0 and has(out, "merged 1 record") and has(text, "knobs=ct=2,wt=2") and not has(text, "ct=1,wt=1"),
    "merging " .. order .. " keeps the faster record of the key: " .. out)
end
s, out, err = septune("db merge " .. base .. "_missing.db --db " .. db)
t.check(s == 2 and has(err, "_missing.db"), "merge of a missing file exits 2 naming it: " .. err)
s, out, err = septune("db merge --db " .. db)
t.check(s == 2, "merge without files exits 2: " .. err)

-- prune
text = t.read_file(db)
local corrupt, newer = line_of(text, "median_us=abc"), line_of(text, "septune-db/7")
s, out, err = septune("db prune --dry-run --db " .. db)
t.check(s == 0 and has(out, db .. ":" .. corrupt .. ": would drop unreadable: field median_us"),
  "prune --dry-run reports the corrupt line: " .. out)
t.check(has(err, db .. ":" .. newer .. ": format version 7") and has(err, "kept"),
  "and keeps the newer-format line: " .. err)
t.check(not has(out, "foreign") and not has(out, "stale"), "foreign and stale only on request: " .. out)
t.check(t.read_file(db) == text, "--dry-run changes nothing")
s, out = septune("db prune --foreign --stale --db " .. db)
t.check(s == 0 and has(out, "drop foreign") and has(out, "drop stale") and has(out, "drop unreadable"),
  "prune drops foreign, stale and unreadable lines: " .. out)
s, out, err = septune("db list --db " .. db)
t.check(s == 0 and not has(out, "foreign") and not has(out, "stale"), "none left: " .. out)
t.check(select(2, err:gsub("\n", "\n")) == 1
  and has(err, db .. ":" .. line_of(t.read_file(db), "septune-db/7") .. ": format version 7"),
  "only the newer-format line is still reported: " .. err)
t.check(not has(err, ":5:") and not has(err, "superseded"), "corrupt and duplicate lines are gone: " .. err)
t.check(has(out, "3 records"), "3 records of this CPU remain: " .. out)
s, out = septune("db prune --db " .. base .. "_nothing.db")
t.check(s == 0 and has(out, "nothing to prune"), "prune of a missing database: " .. out)

-- usage errors
local bad = { "db", "db frobnicate", "db list --bogus", "db list extra --db " .. db, "db list --db",
  "db prune --dry-run extra --db " .. db, "db show --stale " .. PW .. " --db " .. db }
for _, args in ipairs(bad) do
  s, out, err = septune(args)
  t.check(s == 2, "'" .. args .. "' exits 2: " .. out .. err)
  t.check(select(2, err:gsub("\n", "\n")) == 1 and has(err, "septune: "), "'" .. args .. "' says why in one line: " .. err)
end
s, out, err = septune("db merge " .. other, "SEPTUNE_DB=")
t.check(s == 2 and has(err, "SEPTUNE_DB"), "merge with an empty SEPTUNE_DB exits 2: " .. err)
os.execute("mkdir -p " .. base .. "_dir_as_db")
s, out, err = septune("db list --db " .. base .. "_dir_as_db")
t.check(s == 2 and has(err, "_dir_as_db"), "a directory as database exits 2 naming it: " .. err)

os.execute(string.format("rm -rf %s_* %s", base, errfile))
t.finish()

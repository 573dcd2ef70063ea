-- The files septune writes and reads, through the command, where others can
-- write: a link planted at the report's old temporary name
-- ("<report>.tmp.<pid>") and at the report itself, the user's own link as
-- the report, a FIFO as the database of db list, db prune, tune, run and emit
-- (each under `timeout`, so a regression fails instead of hanging), a
-- directory as the database (refused, no stray lock file), a database an
-- unprivileged user cannot write (refused before any tuning), and db list
-- naming the CPU of a foreign record.
--
-- The other user is uid 65534 by setpriv; as a non-root user, or without
-- setpriv, those checks are skipped with a message.
local t = require("testlib")
local bin = assert(os.getenv("SEPTUNE_BIN"), "SEPTUNE_BIN must name the septune executable")
local base = t.scratch("cli_files")
local errfile = base .. ".stderr"
local TIMEOUT = "timeout 60"  -- a guard against hangs, not a time limit of the checks
local HUNG = 124              -- timeout's status when it had to stop the command
local OTHER = "setpriv --reuid=65534 --regid=65534 --clear-groups"

local function has(s, word) return s:find(word, 1, true) ~= nil end
local function sh(cmd) return t.run(cmd) end
local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Runs `cmd` (a shell command line whose stderr is not redirected); returns
-- exit status, stdout, stderr.
local function capture(cmd)
  local status, out = t.capture(string.format("%s 2>%s", cmd, errfile))
  return status, out, t.read_file(errfile) or ""
end

local function septune(args, env)
  return capture(string.format("%s %s %s %s", env or "", TIMEOUT, bin, args))
end

local function is_link(path) return sh("test -L " .. q(path)) end
local function exists(path) return sh("test -e " .. q(path) .. " || test -L " .. q(path)) end

local id_status, uid = t.capture("id -u")
local can_switch = id_status == 0 and uid:match("^0%s") ~= nil and sh(OTHER .. " true")
if not can_switch then print("SKIP: not root or no setpriv: the checks as another user are skipped") end
-- A clone inside a 0700 directory (mktemp -d) is out of the other user's reach.
if can_switch and not sh(string.format("%s test -x %s -a -x %s", OTHER, q(bin), q(base:match("^(.*)/") or "."))) then
  can_switch = false
  print("SKIP: the other user cannot reach the septune binary or the scratch directory: the checks as another user are skipped")
end

sh("mkdir -p " .. q(base) .. " && chmod 0755 " .. q(base))
local model = base .. "/tiny.txt"
t.write_file(model, "pw name=p h=7 w=7 ci=8 co=8 act=none\n")
local TUNE = "tune " .. q(model) .. " --budget 1 --db ''"

-- ---- F1: the report ---------------------------------------------------------
if can_switch then
  -- A directory of the other user; a file of root's it must not reach.
  local dir, precious = base .. "/theirs", base .. "/precious"
  sh(string.format("mkdir %s && chown 65534:65534 %s", q(dir), q(dir)))
  t.write_file(precious, "root's data\n")
  sh("chmod 0600 " .. q(precious))

  -- The name the old code wrote through: "<report>.tmp.<pid>", planted for
  -- the pid septune will have (the shell's, which exec keeps).
  local report = dir .. "/r.svg"
  local status, out, err = capture(string.format(
    "%s sh -c %s", TIMEOUT, q(string.format("%s ln -s %s %s.tmp.$$ && exec %s %s --report %s", OTHER, q(precious),
      q(report), bin, TUNE, q(report)))))
  t.check(status == 0, "tune --report next to a planted link exits 0: " .. err)
  t.check(t.read_file(precious) == "root's data\n", "the file behind the planted link is untouched")
  t.check(not is_link(report) and has(t.read_file(report) or "", "<svg"), "the report is a new regular file")

  -- The report itself a link of the other user: refused, its target untouched.
  local planted = dir .. "/planted.svg"
  sh(string.format("%s ln -s %s %s", OTHER, q(precious), q(planted)))
  status, out, err = septune(TUNE .. " --report " .. q(planted))
  t.check(status == 1 and has(err, "symbolic link") and has(err, planted),
    "a report name that is another user's link is refused: " .. status .. " " .. err)
  t.check(t.read_file(precious) == "root's data\n" and is_link(planted), "and the link and its target stay")
end

-- The user's own link: the report goes to its target, the link stays.
local mine, real = base .. "/mine.svg", base .. "/real.svg"
sh(string.format("ln -s real.svg %s", q(mine)))
local status, out, err = septune(TUNE .. " --report " .. q(mine))
t.check(status == 0, "tune --report through one's own link exits 0: " .. err)
t.check(is_link(mine) and has(t.read_file(real) or "", "<svg"), "the report is written where the link points")

-- ---- F4: a FIFO as the database ----------------------------------------------
local fifo = base .. "/fifo.db"
sh("mkfifo " .. q(fifo))
status, out, err = septune("db list --db " .. q(fifo))
t.check(status == 2 and has(err, "FIFO") and has(err, fifo), "db list of a FIFO exits 2 naming it: " .. status .. " " .. err)
status, out, err = septune("db prune --db " .. q(fifo))
t.check(status ~= 0 and status ~= HUNG and has(err, "FIFO"), "db prune of a FIFO fails: " .. status .. " " .. err)
t.check(not exists(fifo .. ".lock"), "and makes no lock file")
status, out, err = septune(string.format("tune %s --budget 1 --db %s", q(model), q(fifo)))
t.check(status == 2 and has(err, "FIFO") and not has(err, "candidates"),
  "tune --db FIFO exits 2 before tuning: " .. status .. " " .. err)
status, out, err = septune("run pw h=7 w=7 ci=8 co=8", "SEPTUNE_DB=" .. q(fifo))
t.check(status == 0, "a plan under SEPTUNE_DB=FIFO ignores the database: " .. status .. " " .. err)
status, out, err = septune(string.format("emit --model %s --db %s --out %s", q(model), q(fifo), q(base .. "/gen")))
t.check(status == 2 and has(err, "FIFO"), "emit --db FIFO exits 2: " .. status .. " " .. err)

-- ---- a directory as the database: refused, no stray lock file -------------------
local folder = base .. "/folder.db"
sh("mkdir " .. q(folder))
local empty = base .. "/empty.db"
t.write_file(empty, "")
for _, cmd in ipairs({ "db merge " .. q(empty) .. " --db " .. q(folder), "db prune --db " .. q(folder),
                       string.format("tune %s --budget 1 --db %s", q(model), q(folder)) }) do
  status, out, err = septune(cmd)
  t.check(status ~= 0 and status ~= HUNG and has(err, "directory"), cmd .. ": refused: " .. status .. " " .. err)
  t.check(not exists(folder .. ".lock"), cmd .. ": no lock file made")
end

-- ---- a database the user cannot write: refused before tuning ------------------
if can_switch then
  local locked = base .. "/root-only"
  sh(string.format("mkdir %s && chmod 0755 %s", q(locked), q(locked)))
  status, out, err = capture(string.format("%s %s %s tune %s --budget 1 --db %s", OTHER, TIMEOUT, bin, q(model),
    q(locked .. "/tuning.db")))
  t.check(status == 2 and has(err, locked), "tune --db in a directory it cannot write exits 2 naming it: "
    .. status .. " " .. err)
  t.check(not has(err, "candidates") and not has(err, "tune: 1/1"), "before tuning anything: " .. err)
end

-- ---- db list names a foreign record's CPU -------------------------------------
local sig = "OtherVendor:1.2.3:Other_CPU:sse:l1d=32K,l2=256K,l3=0K"
local listed = base .. "/foreign.db"
t.write_file(listed, table.concat({ "septune-db/1", "cpu=" .. sig, "threads=1", "tv=1", "isa=sse",
  "op=pw h=7 w=7 ci=8 co=8", "knobs=mr=1", "median_us=10", "min_us=9", "gflops=5", "date=2026-11-22T10:00:00Z" },
  "\t") .. "\n")
status, out, err = septune("db list --db " .. q(listed))
t.check(status == 0 and has(out, "foreign") and has(out, "cpu=" .. sig),
  "db list shows the signature emit --cpu takes: " .. out .. err)

sh("rm -rf " .. q(base) .. " " .. q(errfile))
t.finish()

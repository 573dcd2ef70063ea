/*
 * main.c — the septune command: dispatches to a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: septune <command> [arguments]\n"
    "\n"
    "  run LAYER... [--isa ISA] [--knobs K] [--ms T]\n"
    "        compile the kernel for one layer line (e.g. dw h=56 w=56 c=144 k=3 s=1\n"
    "        pad=same act=relu6), check it against the reference, print its time\n"
    "  run --model FILE [--isa ISA] [--ms T]\n"
    "        the same for every layer of a model file, as a table\n"
    "  source LAYER... [--isa ISA] [--knobs K]\n"
    "        print the generated C source of the kernel\n"
    "  tune MODEL [--budget S] [--layer-budget S] [--max-candidates N] [--seed N]\n"
    "             [--isa ISA] [--db FILE] [--json] [--report FILE.svg]\n"
    "        search, check and time kernels for every distinct layer of a model file\n"
    "        within S seconds in all (default 90) or per layer, store the fastest in the\n"
    "        tuning database (default $SEPTUNE_DB, else ~/.cache/septune/tuning.db),\n"
    "        print a table of speed-ups over the default knobs and roofline shares\n"
    "\n"
    "  db list [--db FILE]\n"
    "        the tuning database as a table (foreign: another CPU's record;\n"
    "        stale: an older template version's; plans use neither)\n"
    "  db show LAYER... [--db FILE]\n"
    "        every record of one layer line; exit 1 when there is none\n"
    "  db merge FILE... [--db FILE]\n"
    "        add the records of other database files; on the same key the faster wins\n"
    "  db prune [--db FILE] [--foreign] [--stale] [--dry-run]\n"
    "        drop duplicate and unreadable lines, and other CPUs' (--foreign) or\n"
    "        older template versions' (--stale) records\n"
    "\n"
    "  emit --model MODEL --out DIR [--db FILE] [--name NAME] [--isa ISA] [--cpu SIG]\n"
    "       [--no-db] [--list]\n"
    "        write the kernel of every distinct layer (the database's tuned knobs, else\n"
    "        the default) as C that needs only libc: DIR/NAME.h, NAME_table.c (the\n"
    "        table for septune_register_kernels) and NAME_kNN.c; NAME defaults to the\n"
    "        model file's name. --cpu: use the records of that CPU signature (as\n"
    "        `db list` prints it) instead of this machine's; --no-db: default knobs\n"
    "        only (a reproducible build); --list: print the file names only\n"
    "\n"
    "  ISA: auto scalar sse avx2 avx512; K: knob string such as ct=2,wt=4\n"
    "  database: --db FILE, else $SEPTUNE_DB, else $XDG_CACHE_HOME/septune/tuning.db\n"
    "  (or ~/.cache/septune/tuning.db)\n";

int main(int argc, char **argv)
{
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_USAGE : CLI_OK;
  }
  if (!strcmp(argv[1], "run")) return cmd_run(argc - 2, argv + 2);
  if (!strcmp(argv[1], "source")) return cmd_source(argc - 2, argv + 2);
  if (!strcmp(argv[1], "tune")) return cmd_tune(argc - 2, argv + 2);
  if (!strcmp(argv[1], "db")) return cmd_db(argc - 2, argv + 2);
  if (!strcmp(argv[1], "emit")) return cmd_emit(argc - 2, argv + 2);
  cli_error("unknown command '%s' (try septune --help)", argv[1]);
  return CLI_USAGE;
}

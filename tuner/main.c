/*
 * main.c — the septune command: dispatches to a subcommand, and answers
 * --help, --version and `septune help CMD`.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *help;
} command;

static const command commands[] = {
  { "run", cmd_run, cli_run_help },
  { "source", cmd_source, cli_source_help },
  { "tune", cmd_tune, cli_tune_help },
  { "db", cmd_db, cli_db_help },
  { "emit", cmd_emit, cli_emit_help },
  { "import", cmd_import, cli_import_help },
  { "lua", cmd_lua, cli_lua_help },
};

static const char usage[] =
    "usage: septune COMMAND [ARGUMENTS]\n"
    "\n"
    "  run      compile, check and time the kernel of a layer line or of every layer\n"
    "           of a model file\n"
    "  source   print the generated C source of a layer's kernel\n"
    "  tune     search, check and time kernels for every layer of a model file and\n"
    "           store the fastest in the tuning database\n"
    "  db       list, show, merge and prune the tuning database\n"
    "  emit     write the kernels of a model's layers as static C sources\n"
    "  import   write the depthwise and 1x1 convolutions of an ONNX model as a model\n"
    "           file (run, tune and emit also take the ONNX file itself)\n"
    "  lua      run a LuaJIT script using septune's Lua modules (the C API by the FFI)\n"
    "  help     septune help COMMAND: the options of one command\n"
    "\n"
    "septune COMMAND --help is the same as septune help COMMAND; septune --version\n"
    "prints the version. Exit status: 0 success, 1 a failure while working, 2 bad\n"
    "usage or input.\n";

static const command *find_command(const char *name)
{
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(commands[i].name, name)) return &commands[i];
  return NULL;
}

static int help(int argc, char **argv)
{
  if (argc < 1) {
    fputs(usage, stdout);
    return CLI_OK;
  }
  const command *c = find_command(argv[0]);
  if (!c) {
    cli_error("help: unknown command '%s' (try septune help)", argv[0]);
    return CLI_USAGE;
  }
  fputs(c->help, stdout);
  return CLI_OK;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fputs(usage, stderr);
    return CLI_USAGE;
  }
  const char *name = argv[1];
  if (!strcmp(name, "-h") || !strcmp(name, "--help")) return help(0, NULL);
  if (!strcmp(name, "help")) return help(argc - 2, argv + 2);
  if (!strcmp(name, "--version")) {
    printf("septune %s\n", septune_version());
    return CLI_OK;
  }
  const command *c = find_command(name);
  if (!c) {
    cli_error("unknown command '%s' (try septune help)", name);
    return CLI_USAGE;
  }
  /* The subcommand sees its own name as argv[0], as getopt_long wants. */
  return c->run(argc - 1, argv + 1);
}

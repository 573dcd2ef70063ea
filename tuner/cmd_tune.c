/*
 * cmd_tune.c — `septune tune MODEL`: search, check and time kernels for every
 * layer of a model and store the fastest in the tuning database.
 */
#include "cli.h"

int cmd_tune(int argc, char **argv)
{
  (void)argc; (void)argv;
  cli_error("tune: not implemented yet");
  return CLI_FAILED;
}

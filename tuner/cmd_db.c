/*
 * cmd_db.c — `septune db list|show|merge|prune`: inspect and maintain the
 * tuning database.
 */
#include "cli.h"

int cmd_db(int argc, char **argv)
{
  (void)argc; (void)argv;
  cli_error("db: not implemented yet");
  return CLI_FAILED;
}

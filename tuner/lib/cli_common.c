/*
 * cli_common.c — what the septune command's subcommands share: the one-line
 * error message and reading a model file with its problems reported. In the
 * library because emit's file-set writer reports through cli_error too.
 */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fputs("septune: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static void report_bad_line(void *ctx, const char *path, int lineno, const char *why)
{
  (void)ctx;
  cli_error("%s:%d: %s", path, lineno, why);
}

int cli_read_model(const char *path, model_file *m)
{
  char why[SEPTUNE_ERROR_MESSAGE_SIZE + 4096];
  model_file_status st = model_file_read(path, m, report_bad_line, NULL, why, sizeof why);
  if (st != MODEL_FILE_OK) {
    cli_error("%s", why);
    return st == MODEL_FILE_NO_MEMORY ? CLI_FAILED : CLI_USAGE;
  }
  if (m->bad_lines || m->n == 0) {
    if (!m->bad_lines) cli_error("%s: no dw or pw layer in the model file", path);
    model_file_free(m);
    return CLI_USAGE;
  }
  return CLI_OK;
}

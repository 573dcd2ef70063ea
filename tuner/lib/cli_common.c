/*
 * cli_common.c — what the septune command's subcommands share: the one-line
 * error message, option parsing, and reading a model file with its problems
 * reported. In the library because emit's file-set writer reports through
 * cli_error too.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  if (m->skipped_nodes)
    cli_error("%s: %zu layers imported, %zu nodes skipped (septune import %s lists them)", path, m->n, m->skipped_nodes,
              path);
  return CLI_OK;
}

void cli_getopt_start(void)
{
  optind = 0; /* glibc: 0 starts over, re-reading the environment */
  opterr = 0; /* the messages are cli_option_error's */
}

int cli_option_error(const char *cmd, int c, char *const argv[])
{
  const char *arg = optind > 0 ? argv[optind - 1] : "?";
  char short_opt[3] = { '-', (char)optopt, 0 };
  /* An unknown short option inside a group ("-xq") is not argv[optind-1]. */
  if (optopt && strncmp(arg, "--", 2) != 0) arg = short_opt;
  if (c == ':') cli_error("%s: %s needs a value", cmd, arg);
  else if (optopt && !strncmp(arg, "--", 2) && strchr(arg, '='))
    cli_error("%s: %.*s takes no value", cmd, (int)(strchr(arg, '=') - arg), arg);
  else cli_error("%s: unknown option '%s' (try septune help %.*s)", cmd, arg, (int)strcspn(cmd, " "), cmd);
  return CLI_USAGE;
}

char *cli_join(char *const args[], int n)
{
  size_t len = 1;
  for (int i = 0; i < n; i++) len += strlen(args[i]) + 1;
  char *s = malloc(len), *p = s;
  if (!s) {
    cli_error("out of memory");
    return NULL;
  }
  *p = 0;
  for (int i = 0; i < n; i++) {
    if (i) *p++ = ' ';
    size_t k = strlen(args[i]);
    memcpy(p, args[i], k + 1);
    p += k;
  }
  return s;
}

int cli_is_layer_line(const char *arg)
{
  arg += strspn(arg, " \t");
  return (!strncmp(arg, "dw", 2) || !strncmp(arg, "pw", 2)) && (arg[2] == 0 || arg[2] == ' ' || arg[2] == '\t');
}

int cli_model_arg(const char *cmd, const char *option, char *const pos[], int npos, const char **model)
{
  if (option && npos > 0) {
    cli_error("%s: give the model file once (--model %s and '%s')", cmd, option, pos[0]);
    return CLI_USAGE;
  }
  if (npos > 1) {
    cli_error("%s: one model file only (got '%s' and '%s')", cmd, pos[0], pos[1]);
    return CLI_USAGE;
  }
  *model = option ? option : npos ? pos[0] : NULL;
  return CLI_OK;
}

int cli_parse_threads(const char *cmd, const char *value, int *threads)
{
  char *end;
  errno = 0;
  long t = strtol(value, &end, 10);
  if (errno || end == value || *end || t < 1 || t > SEPTUNE_MAX_THREADS) {
    cli_error("%s: --threads: '%s' is not a whole number from 1 to %d", cmd, value, SEPTUNE_MAX_THREADS);
    return CLI_USAGE;
  }
  *threads = (int)t;
  return CLI_OK;
}

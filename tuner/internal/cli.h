/*
 * cli.h — what the septune command's subcommands share.
 */
#ifndef SEPTUNE_CLI_H
#define SEPTUNE_CLI_H

#include "model_file.h"
#include "septune.h"

/* Exit codes: 0 success, 1 a failure while working (a kernel that does not
 * match the reference, a compile error), 2 bad usage or input. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

int cmd_run(int argc, char **argv);
int cmd_source(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_emit(int argc, char **argv);

/* Prints "septune: <message>" on stderr, one line. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads a model file for run, tune and emit. Every bad line is reported as
 * "septune: PATH:LINE: why". Returns CLI_OK with at least one layer in *m,
 * CLI_USAGE when the file cannot be used (unreadable, not a regular file,
 * too large, a bad line, no layer: the message names the path), CLI_FAILED
 * on out of memory; *m holds nothing to free unless CLI_OK. */
int cli_read_model(const char *path, model_file *m);

#endif

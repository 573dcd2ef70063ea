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

/* Returned by a subcommand's option parser when it has answered already
 * (--help): the command then exits with CLI_OK. Never an exit status. */
#define CLI_DONE (-1)

/* The subcommands. argv[0] is the subcommand's name, as getopt_long wants;
 * each returns the exit status. */
int cmd_run(int argc, char **argv);
int cmd_source(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_emit(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_lua(int argc, char **argv);

/* What `septune CMD --help` and `septune help CMD` print. */
extern const char cli_run_help[], cli_source_help[], cli_tune_help[], cli_db_help[], cli_emit_help[], cli_import_help[],
    cli_lua_help[];

/* Every subcommand parses its options with getopt_long, whose optstring
 * starts with ':' (a missing value is told apart from an unknown option):
 * long options as "--opt value" or "--opt=value", "--" ending the options,
 * options and other arguments in any order. CLI_HELP is the value of the
 * --help (-h) entry every subcommand has. */
#define CLI_HELP 'h'
#define CLI_HELP_OPTION { "help", no_argument, NULL, CLI_HELP }

/* Starts a getopt_long pass (it keeps its state in globals). */
void cli_getopt_start(void);

/* Reports what getopt_long's ':' or '?' result `c` means, for the
 * subcommand `cmd` ("run", "db list"); returns CLI_USAGE. */
int cli_option_error(const char *cmd, int c, char *const argv[]);

/* The n arguments joined by single spaces, malloc'd; NULL when out of
 * memory (reported). */
char *cli_join(char *const args[], int n);

/* 1 when `arg` starts a layer line: its first word is dw or pw. */
int cli_is_layer_line(const char *arg);

/* The model file of run, tune and emit: --model FILE or the positional
 * argument, never both, never two. Returns CLI_OK with *model set (NULL
 * when neither was given), else reports and returns CLI_USAGE. */
int cli_model_arg(const char *cmd, const char *option, char *const pos[], int npos, const char **model);
/* --threads T of run, tune and emit: a whole number from 1 to
 * SEPTUNE_MAX_THREADS. Returns CLI_OK with *threads set, else reports
 * ("cmd: --threads: ...") and returns CLI_USAGE. */
int cli_parse_threads(const char *cmd, const char *value, int *threads);

/* Prints "septune: <message>" on stderr, one line. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads a model file or an ONNX file (model_file.h) for run, tune and emit.
 * Every bad line is reported as "septune: PATH:LINE: why"; of an ONNX file,
 * the count of skipped nodes is said. Returns CLI_OK with at least one
 * layer in *m, CLI_USAGE when the file cannot be used (unreadable, not a
 * regular file, too large, a bad line, no layer, an ONNX file that cannot
 * be imported: the message names the path), CLI_FAILED on out of memory;
 * *m holds nothing to free unless CLI_OK. */
int cli_read_model(const char *path, model_file *m);

#endif

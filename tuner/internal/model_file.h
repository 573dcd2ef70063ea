/*
 * model_file.h — reading a model file (one layer line per line, blank lines
 * and # comments ignored) for `septune run`, `tune` and `emit` and for the
 * benchmarks.
 *
 * A model file is a regular file of at most MODEL_FILE_MAX_BYTES; its lines
 * may be of any length, and a NUL byte anywhere makes its line bad. Nothing
 * here prints: bad lines go to the caller's callback, other problems to a
 * message.
 */
#ifndef SEPTUNE_MODEL_FILE_H
#define SEPTUNE_MODEL_FILE_H

#include <stddef.h>

#include "septune.h"

/* The largest model file read: 4 MiB, some 50,000 layer lines, far more
 * than any network has. A larger file (or /dev/zero) is refused before it
 * is read. */
#define MODEL_FILE_MAX_BYTES (4 << 20)

typedef struct model_layer {
  septune_layer layer;
  int lineno; /* 1-based line in the file */
} model_layer;

typedef struct model_file {
  model_layer *layers; /* the good lines, in file order */
  size_t n;
  int bad_lines; /* lines that did not parse (each reported) */
} model_file;

typedef enum model_file_status {
  MODEL_FILE_OK = 0,
  MODEL_FILE_UNREADABLE, /* cannot be opened or read, not a regular file, too large */
  MODEL_FILE_NO_MEMORY
} model_file_status;

/* Called once per bad line, in file order: `why` says what is wrong
 * (e.g. "unknown key 'foo'", "NUL byte at column 12"). */
typedef void (*model_file_bad_line)(void *ctx, const char *path, int lineno, const char *why);

/* Reads every layer of `path`; each bad line goes to bad_line (may be NULL)
 * and is skipped. Returns MODEL_FILE_OK when the file was read (then check
 * m->bad_lines), else MODEL_FILE_UNREADABLE or MODEL_FILE_NO_MEMORY with a
 * one-line message naming the path in why; *m then holds nothing to free. */
model_file_status model_file_read(const char *path, model_file *m, model_file_bad_line bad_line, void *ctx, char *why,
                                  size_t why_size);

void model_file_free(model_file *m);

#endif

/*
 * model_file.h — reading a model file (one layer line per line, blank lines
 * and # comments ignored) for `septune run --model` and `septune tune`.
 */
#ifndef SEPTUNE_MODEL_FILE_H
#define SEPTUNE_MODEL_FILE_H

#include <stddef.h>

#include "septune.h"

typedef struct model_layer {
  septune_layer layer;
  int lineno;          /* 1-based line in the file */
} model_layer;

typedef struct model_file {
  model_layer *layers; /* the good lines, in file order */
  size_t n;
  int bad_lines;       /* lines that did not parse (each reported) */
} model_file;

/* Reads every layer of `path`. Each bad line is reported on stderr as
 * "septune: PATH:LINE: message" and skipped. Returns CLI_OK when the file
 * was read (check m->bad_lines), CLI_USAGE when it cannot be opened (message
 * names the path), CLI_FAILED on out of memory. */
int model_file_read(const char *path, model_file *m);

void model_file_free(model_file *m);

#endif

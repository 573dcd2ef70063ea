/*
 * model_file.h — reading a model file (one layer line per line, blank lines
 * and # comments ignored) or an ONNX model for `septune run`, `tune`, `emit`
 * and `import` and for the benchmarks.
 *
 * A model file is a regular file of at most MODEL_FILE_MAX_BYTES; its lines
 * may be of any length, and a NUL byte anywhere makes its line bad. An ONNX
 * file (a name ending in .onnx, or a first byte 0x08: the field ir_version
 * that ONNX writers put first) may have up to ONNX_IMPORT_MAX_FILE_BYTES
 * and is imported (onnx_import.h): its layers come with the model's own
 * weights. Nothing here prints: bad lines go to the caller's callback,
 * other problems to a message.
 */
#ifndef SEPTUNE_MODEL_FILE_H
#define SEPTUNE_MODEL_FILE_H

#include <stddef.h>

#include "onnx_import.h"
#include "septune.h"

/* The largest model file read: 4 MiB, some 50,000 layer lines, far more
 * than any network has. A larger file (or /dev/zero) is refused before it
 * is read. */
#define MODEL_FILE_MAX_BYTES (4 << 20)

typedef struct model_layer {
  septune_layer layer;
  int lineno;     /* 1-based line in the file; of an ONNX file, the 1-based index of the layer's Conv node */
  float *weights; /* of an ONNX file: the model's weights (canonical layout, batch norm folded in); else NULL */
  float *bias;    /* of an ONNX file: the model's bias, NULL when the layer has none; else NULL */
} model_layer;

typedef struct model_file {
  model_layer *layers; /* the good lines, in file order */
  size_t n;
  int bad_lines;        /* lines that did not parse (each reported) */
  int onnx;             /* 1 when read from an ONNX file */
  size_t skipped_nodes; /* of an ONNX file: the nodes neither imported nor folded into a layer */
} model_file;

typedef enum model_file_status {
  MODEL_FILE_OK = 0,
  MODEL_FILE_UNREADABLE, /* cannot be opened or read, not a regular file, too large */
  MODEL_FILE_INVALID,    /* an ONNX file that cannot be imported (malformed, not ONNX, no layer, ...) */
  MODEL_FILE_NO_MEMORY
} model_file_status;

/* Called once per bad line, in file order: `why` says what is wrong
 * (e.g. "unknown key 'foo'", "NUL byte at column 12"). */
typedef void (*model_file_bad_line)(void *ctx, const char *path, int lineno, const char *why);

/* Reads every layer of `path`, a model file or an ONNX file; each bad line
 * goes to bad_line (may be NULL) and is skipped. Returns MODEL_FILE_OK when
 * the file was read (then check m->bad_lines), else MODEL_FILE_UNREADABLE,
 * MODEL_FILE_INVALID or MODEL_FILE_NO_MEMORY with a one-line message naming
 * the path in why; *m then holds nothing to free. */
model_file_status model_file_read(const char *path, model_file *m, model_file_bad_line bad_line, void *ctx, char *why,
                                  size_t why_size);

void model_file_free(model_file *m);

/* Reads `path` as an ONNX file, whatever its name and first byte, and
 * imports it into *om. Returns as model_file_read; *om holds nothing to
 * free unless MODEL_FILE_OK. */
model_file_status model_file_read_onnx(const char *path, onnx_model *om, char *why, size_t why_size);

#endif

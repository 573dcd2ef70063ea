/*
 * fuzz_model_file.c — the model-file reader of `septune run`, `tune` and
 * `emit` (model_file_read, behind cli_read_model), on the input written to a
 * file.
 *
 * The reader's answer is compared, line by line, with a plain reading of
 * the same bytes: lines end at '\n' (a '\r' before it is dropped), a line
 * holding a NUL byte is bad, any other line is what septune_layer_parse
 * says (blank and comment lines are skipped). Every good line must come back
 * as a layer with its line number, name and op; every bad one must reach
 * the callback once, in order, with a message. Input whose first byte is
 * 0x08 is left to fuzz_onnx: the reader takes such a file for ONNX.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "model_file.h"
#include "septune.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  return 0;
}

typedef struct bad_lines {
  int *line;
  size_t n, cap;
  const char *path;
} bad_lines;

static void on_bad_line(void *ctx, const char *path, int lineno, const char *why)
{
  bad_lines *b = ctx;
  FUZZ_CHECK(path && strcmp(path, b->path) == 0, "bad line reported for path '%s'", path ? path : "(null)");
  FUZZ_CHECK(why && why[0], "bad line %d without a reason", lineno);
  FUZZ_CHECK(b->n == 0 || lineno > b->line[b->n - 1], "bad line %d reported after line %d", lineno, b->line[b->n - 1]);
  if (b->n == b->cap) {
    b->cap = b->cap ? 2 * b->cap : 16;
    b->line = realloc(b->line, b->cap * sizeof *b->line);
    FUZZ_CHECK(b->line != NULL, "out of memory");
  }
  b->line[b->n++] = lineno;
}

static int same_layer(const septune_layer *a, const septune_layer *b)
{
  char x[SEPTUNE_OP_LINE_SIZE], y[SEPTUNE_OP_LINE_SIZE];
  return strcmp(a->name, b->name) == 0 && septune_op_format(&a->op, x, sizeof x) > 0 &&
         septune_op_format(&b->op, y, sizeof y) > 0 && strcmp(x, y) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > MODEL_FILE_MAX_BYTES || (size > 0 && data[0] == 0x08)) return 0;
  bad_lines bad = { NULL, 0, 0, fuzz_write_file("model.txt", data, size) };
  model_file m;
  char why[1024];
  model_file_status st = model_file_read(bad.path, &m, on_bad_line, &bad, why, sizeof why);
  FUZZ_CHECK(st == MODEL_FILE_OK, "a regular file of %zu bytes was not read: %s", size, why);
  FUZZ_CHECK(m.bad_lines >= 0 && (size_t)m.bad_lines == bad.n, "bad_lines %d, %zu reported", m.bad_lines, bad.n);

  /* The plain reading, line by line. */
  size_t next_layer = 0, next_bad = 0;
  int lineno = 0;
  for (size_t pos = 0; pos < size;) {
    const uint8_t *nl = memchr(data + pos, '\n', size - pos);
    size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
    size_t end = pos + len;
    lineno++;
    if (len && data[end - 1] == '\r') len--;
    char *line = fuzz_string(data + pos, len);
    septune_layer layer;
    septune_error err;
    int is_bad, is_layer = 0;
    if (memchr(data + pos, '\0', len)) {
      is_bad = 1;
    } else {
      septune_status ps = septune_layer_parse(line, &layer, &err);
      int skipped = ps == SEPTUNE_ERR_PARSE && strcmp(err.message, "empty line") == 0;
      is_layer = ps == SEPTUNE_OK;
      is_bad = !is_layer && !skipped;
    }
    if (is_bad) {
      FUZZ_CHECK(next_bad < bad.n && bad.line[next_bad] == lineno, "line %d ('%.80s') is bad but was not reported",
                 lineno, line);
      next_bad++;
    } else {
      FUZZ_CHECK(next_bad >= bad.n || bad.line[next_bad] != lineno, "line %d ('%.80s') was reported bad", lineno, line);
    }
    if (is_layer) {
      FUZZ_CHECK(next_layer < m.n && m.layers[next_layer].lineno == lineno, "line %d ('%.80s') is missing", lineno,
                 line);
      FUZZ_CHECK(same_layer(&m.layers[next_layer].layer, &layer), "line %d ('%.80s') read as another layer", lineno,
                 line);
      next_layer++;
    }
    free(line);
    pos = end + 1;
  }
  FUZZ_CHECK(next_layer == m.n, "%zu layers read, %zu lines are layers", m.n, next_layer);
  FUZZ_CHECK(next_bad == bad.n, "%zu bad lines reported, %zu lines are bad", bad.n, next_bad);
  model_file_free(&m);
  free(bad.line);
  return 0;
}

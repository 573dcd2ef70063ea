/*
 * model_file.c — reads a model file or an ONNX file into layers (see
 * model_file.h).
 *
 * The file is checked to be a regular file before anything is read (opened
 * without blocking, so a FIFO cannot hang the command), read whole up to
 * the size cap of its kind, then cut into lines: no line is too long, and a
 * NUL byte cannot hide the rest of its line. An ONNX file goes to the
 * importer instead.
 */
#include "model_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

void model_file_free(model_file *m)
{
  for (size_t i = 0; i < m->n; i++) {
    free(m->layers[i].weights);
    free(m->layers[i].bias);
  }
  free(m->layers);
  memset(m, 0, sizeof *m);
}

static const char *kind_of(mode_t mode)
{
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

/* An ONNX file by its name (.onnx) or its first byte: 0x08 is field 1
 * (ir_version) as a varint, which ONNX writers put first; no text model
 * file starts with a backspace. */
static int looks_like_onnx(const char *path, int fd)
{
  size_t n = strlen(path);
  unsigned char first;
  if (n >= 5 && !strcasecmp(path + n - 5, ".onnx")) return 1;
  return pread(fd, &first, 1, 0) == 1 && first == 0x08;
}

/* The whole file in a malloc'd buffer of *len bytes (plus a NUL). *onnx
 * says whether it is an ONNX file (always when force_onnx), whose cap is
 * ONNX_IMPORT_MAX_FILE_BYTES instead of MODEL_FILE_MAX_BYTES. */
static model_file_status slurp(const char *path, int force_onnx, char **text, size_t *len, int *onnx, char *why,
                               size_t why_size)
{
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    snprintf(why, why_size, "cannot open model file %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return MODEL_FILE_UNREADABLE;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(why, why_size, "cannot read model file %s: %s, not a regular file", path, kind_of(st.st_mode));
    close(fd);
    return MODEL_FILE_UNREADABLE;
  }
  *onnx = force_onnx || looks_like_onnx(path, fd);
  size_t cap = *onnx ? ONNX_IMPORT_MAX_FILE_BYTES : MODEL_FILE_MAX_BYTES;
  char too_large[256];
  snprintf(too_large, sizeof too_large, "%s %s is larger than %zu MiB, the most %s may have",
           *onnx ? "ONNX file" : "model file", path, cap >> 20, *onnx ? "an ONNX file septune reads" : "a model file");
  if ((unsigned long long)st.st_size > cap) {
    close(fd);
    snprintf(why, why_size, "%s", too_large);
    return MODEL_FILE_UNREADABLE;
  }
  /* Read one byte past the cap: a file that grew since fstat is caught too. */
  size_t want = (size_t)st.st_size + 1;
  char *buf = malloc(want + 1);
  size_t n = 0;
  if (!buf) {
    close(fd);
    snprintf(why, why_size, "%s: out of memory reading the model", path);
    return MODEL_FILE_NO_MEMORY;
  }
  for (;;) {
    if (n == want) {
      if (want > cap) break;
      size_t grown_size = want * 2 < cap + 1 ? want * 2 : cap + 1;
      char *grown = realloc(buf, grown_size + 1);
      if (!grown) {
        free(buf);
        close(fd);
        snprintf(why, why_size, "%s: out of memory reading the model", path);
        return MODEL_FILE_NO_MEMORY;
      }
      buf = grown;
      want = grown_size;
    }
    ssize_t r = read(fd, buf + n, want - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      snprintf(why, why_size, "cannot read model file %s: %s", path, strerror(errno));
      free(buf);
      close(fd);
      return MODEL_FILE_UNREADABLE;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  if (n > cap) {
    snprintf(why, why_size, "%s", too_large);
    free(buf);
    return MODEL_FILE_UNREADABLE;
  }
  buf[n] = 0;
  *text = buf;
  *len = n;
  return MODEL_FILE_OK;
}

/* Imports the ONNX file read into buf; the message names the path. */
static model_file_status import_buffer(const char *path, const char *buf, size_t len, onnx_model *om, char *why,
                                       size_t why_size)
{
  char msg[SEPTUNE_ERROR_MESSAGE_SIZE + 256];
  onnx_import_status st = onnx_import(buf, len, om, msg, sizeof msg);
  if (st == ONNX_IMPORT_OK) return MODEL_FILE_OK;
  snprintf(why, why_size, "%s: %s", path, msg);
  return st == ONNX_IMPORT_NO_MEMORY ? MODEL_FILE_NO_MEMORY : MODEL_FILE_INVALID;
}

model_file_status model_file_read_onnx(const char *path, onnx_model *om, char *why, size_t why_size)
{
  char *buf;
  size_t len;
  int onnx;
  memset(om, 0, sizeof *om);
  model_file_status st = slurp(path, 1, &buf, &len, &onnx, why, why_size);
  if (st != MODEL_FILE_OK) return st;
  st = import_buffer(path, buf, len, om, why, why_size);
  free(buf);
  return st;
}

/* The imported layers as a model file's, their weights handed over. */
static model_file_status from_onnx(const char *path, onnx_model *om, model_file *m, char *why, size_t why_size)
{
  m->layers = calloc(om->n_layers, sizeof *m->layers);
  if (!m->layers) {
    onnx_model_free(om);
    snprintf(why, why_size, "%s: out of memory reading the model", path);
    return MODEL_FILE_NO_MEMORY;
  }
  for (size_t i = 0; i < om->n_layers; i++) {
    onnx_layer *l = &om->layers[i];
    m->layers[i] = (model_layer){ .layer = l->layer, .lineno = l->node, .weights = l->weights, .bias = l->bias };
    l->weights = l->bias = NULL;
  }
  m->n = om->n_layers;
  m->onnx = 1;
  m->skipped_nodes = om->n_skipped;
  onnx_model_free(om);
  return MODEL_FILE_OK;
}

static int add_layer(model_file *m, size_t *cap, const septune_layer *layer, int lineno)
{
  if (m->n == *cap) {
    size_t ncap = *cap ? 2 * *cap : 64;
    model_layer *grown = realloc(m->layers, ncap * sizeof *grown);
    if (!grown) return -1;
    m->layers = grown;
    *cap = ncap;
  }
  m->layers[m->n++] = (model_layer){ .layer = *layer, .lineno = lineno };
  return 0;
}

model_file_status model_file_read(const char *path, model_file *m, model_file_bad_line bad_line, void *ctx, char *why,
                                  size_t why_size)
{
  char *text;
  size_t len, cap = 0;
  int onnx;
  memset(m, 0, sizeof *m);
  model_file_status st = slurp(path, 0, &text, &len, &onnx, why, why_size);
  if (st != MODEL_FILE_OK) return st;
  if (onnx) {
    onnx_model om;
    st = import_buffer(path, text, len, &om, why, why_size);
    free(text);
    return st == MODEL_FILE_OK ? from_onnx(path, &om, m, why, why_size) : st;
  }
  int lineno = 0;
  for (char *line = text; line < text + len;) {
    char *end = memchr(line, '\n', (size_t)(text + len - line));
    char *next = end ? end + 1 : text + len;
    if (!end) end = text + len;
    lineno++;
    if (end > line && end[-1] == '\r') end--;
    char *nul = memchr(line, '\0', (size_t)(end - line));
    *end = 0;
    septune_layer layer;
    septune_error err;
    septune_status ps = SEPTUNE_OK;
    if (nul) {
      ps = SEPTUNE_ERR_PARSE;
      snprintf(err.message, sizeof err.message, "NUL byte at column %zu", (size_t)(nul - line) + 1);
    } else {
      ps = septune_layer_parse(line, &layer, &err);
      if (ps == SEPTUNE_ERR_PARSE && !strcmp(err.message, "empty line")) {
        line = next;
        continue;
      }
    }
    if (ps != SEPTUNE_OK) {
      if (bad_line) bad_line(ctx, path, lineno, err.message);
      m->bad_lines++;
    } else if (add_layer(m, &cap, &layer, lineno) != 0) {
      free(text);
      model_file_free(m);
      snprintf(why, why_size, "%s: out of memory reading the model", path);
      return MODEL_FILE_NO_MEMORY;
    }
    line = next;
  }
  free(text);
  return MODEL_FILE_OK;
}

/*
 * model_file.c — reads a model file into layers (see model_file.h).
 *
 * The file is checked to be a regular file before anything is read (opened
 * without blocking, so a FIFO cannot hang the command), read whole up to
 * the size cap, then cut into lines: no line is too long, and a NUL byte
 * cannot hide the rest of its line.
 */
#include "model_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void model_file_free(model_file *m)
{
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

/* The whole file in a malloc'd buffer of *len bytes (plus a NUL). */
static model_file_status slurp(const char *path, char **text, size_t *len, char *why, size_t why_size)
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
  if ((unsigned long long)st.st_size > MODEL_FILE_MAX_BYTES) {
    close(fd);
    snprintf(why, why_size, "model file %s is larger than %d MiB, the most a model file may have", path,
             MODEL_FILE_MAX_BYTES >> 20);
    return MODEL_FILE_UNREADABLE;
  }
  /* Read one byte past the cap: a file that grew since fstat is caught too. */
  size_t cap = MODEL_FILE_MAX_BYTES, want = (size_t)st.st_size + 1;
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
    snprintf(why, why_size, "model file %s is larger than %d MiB, the most a model file may have", path,
             MODEL_FILE_MAX_BYTES >> 20);
    free(buf);
    return MODEL_FILE_UNREADABLE;
  }
  buf[n] = 0;
  *text = buf;
  *len = n;
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
  m->layers[m->n].layer = *layer;
  m->layers[m->n].lineno = lineno;
  m->n++;
  return 0;
}

model_file_status model_file_read(const char *path, model_file *m, model_file_bad_line bad_line, void *ctx, char *why,
                                  size_t why_size)
{
  char *text;
  size_t len, cap = 0;
  memset(m, 0, sizeof *m);
  model_file_status st = slurp(path, &text, &len, why, why_size);
  if (st != MODEL_FILE_OK) return st;
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

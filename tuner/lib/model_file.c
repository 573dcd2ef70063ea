/*
 * model_file.c — reads a model file into layers (see model_file.h).
 */
#include "model_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void model_file_free(model_file *m)
{
  free(m->layers);
  memset(m, 0, sizeof *m);
}

int model_file_read(const char *path, model_file *m)
{
  memset(m, 0, sizeof *m);
  FILE *f = fopen(path, "r");
  if (!f) {
    cli_error("cannot open model file %s: %s", path, strerror(errno));
    return CLI_USAGE;
  }
  char line[1024];
  int lineno = 0;
  size_t cap = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    septune_layer layer;
    septune_error err;
    line[strcspn(line, "\r\n")] = 0;
    septune_status st = septune_layer_parse(line, &layer, &err);
    if (st == SEPTUNE_ERR_PARSE && !strcmp(err.message, "empty line")) continue;
    if (st != SEPTUNE_OK) {
      cli_error("%s:%d: %s", path, lineno, err.message);
      m->bad_lines++;
      continue;
    }
    if (m->n == cap) {
      size_t ncap = cap ? 2 * cap : 64;
      model_layer *grown = realloc(m->layers, ncap * sizeof *grown);
      if (!grown) {
        fclose(f);
        model_file_free(m);
        cli_error("%s: out of memory reading the model", path);
        return CLI_FAILED;
      }
      m->layers = grown;
      cap = ncap;
    }
    m->layers[m->n].layer = layer;
    m->layers[m->n].lineno = lineno;
    m->n++;
  }
  fclose(f);
  return CLI_OK;
}

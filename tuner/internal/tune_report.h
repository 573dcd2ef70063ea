/*
 * tune_report.h — what `septune tune` prints: the per-layer table with
 * totals, the same as one JSON document, and the roofline chart.
 */
#ifndef SEPTUNE_TUNE_REPORT_H
#define SEPTUNE_TUNE_REPORT_H

#include <stdio.h>

#include "model_file.h"
#include "roofline.h"
#include "tune_layer.h"

/* One distinct layer shape of the model, tuned once. */
typedef struct tune_shape {
  septune_op op;
  char line[SEPTUNE_OP_LINE_SIZE]; /* canonical layer line: the identity of the shape */
  size_t first_layer;      /* index of the first model layer with this shape */
  int tuned;               /* tune_layer ran (0: the budget ended first) */
  tune_result res;
  int stored;              /* its database record was written */
} tune_shape;

typedef struct tune_run {
  const char *model;       /* the model file's path */
  const model_file *m;
  size_t *shape_of;        /* per model layer: index into shapes */
  tune_shape *shapes;
  size_t n_shapes;
  roofline rf;
  char cpu[256];
  septune_isa isa;
  int threads;             /* tuned for */
  unsigned long long seed;
  double budget_s;
  double wall_s;           /* the whole command so far */
  const char *db_path;     /* "" when no database is written */
} tune_run;

typedef struct tune_totals {
  size_t layers, tuned_layers, candidates, rejected;
  double default_us, tuned_us; /* sums over the tuned layers (each model layer counted) */
  double geomean_speedup;      /* over the tuned layers with a default time; 0 if none */
  double flops;
} tune_totals;

void tune_compute_totals(const tune_run *run, tune_totals *t);

/* The table on f: a header with the ceilings, one row per model layer,
 * totals. */
void tune_print_table(FILE *f, const tune_run *run);

/* One JSON document (json.h, kind "tune") on f. Returns 0, or -1 when
 * writing failed. */
int tune_print_json(FILE *f, const tune_run *run);

/* The roofline chart of the distinct shapes. Returns 0 or -1 with why. */
int tune_write_svg(const tune_run *run, const char *path, char *why, size_t why_size);

#endif

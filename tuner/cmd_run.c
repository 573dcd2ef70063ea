/*
 * cmd_run.c — `septune run` and `septune source`: one layer (or every layer
 * of a model file) through plan creation, a check against the reference, and
 * a timing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "generator.h"
#include "cli.h"
#include "layer_data.h"
#include "model_file.h"
#include "timing.h"

typedef struct run_options {
  char line[1024];        /* the layer line assembled from the arguments */
  const char *model;      /* --model FILE */
  septune_plan_options plan;
  double ms;              /* minimum measuring time per layer */
} run_options;

/* Reads options and joins the other arguments into one layer line. */
static int parse_args(int argc, char **argv, run_options *o)
{
  memset(o, 0, sizeof *o);
  o->ms = 200;
  size_t len = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--isa") || !strcmp(a, "--knobs") || !strcmp(a, "--model") || !strcmp(a, "--ms")) {
      if (i + 1 >= argc) {
        cli_error("%s needs a value", a);
        return CLI_USAGE;
      }
      const char *v = argv[++i];
      if (!strcmp(a, "--isa")) {
        if (septune_isa_from_name(v, &o->plan.isa) != SEPTUNE_OK) {
          cli_error("--isa: unknown ISA '%s' (auto scalar sse avx2 avx512)", v);
          return CLI_USAGE;
        }
      } else if (!strcmp(a, "--knobs")) {
        o->plan.knobs = v;
      } else if (!strcmp(a, "--model")) {
        o->model = v;
      } else {
        char *end;
        errno = 0;
        o->ms = strtod(v, &end);
        if (errno || *end || !(o->ms > 0 && o->ms <= 60000)) {
          cli_error("--ms: '%s' is not a duration in (0, 60000] ms", v);
          return CLI_USAGE;
        }
      }
      continue;
    }
    if (a[0] == '-' && a[1] == '-') {
      cli_error("unknown option '%s'", a);
      return CLI_USAGE;
    }
    size_t n = strlen(a);
    if (len + n + 2 > sizeof o->line) {
      cli_error("layer line longer than %zu characters", sizeof o->line - 1);
      return CLI_USAGE;
    }
    if (len) o->line[len++] = ' ';
    memcpy(o->line + len, a, n + 1);
    len += n;
  }
  if (!o->model && !len) {
    cli_error("no layer given (e.g. septune run dw h=56 w=56 c=144 k=3 s=1 pad=same act=relu6)");
    return CLI_USAGE;
  }
  if (o->model && len) {
    cli_error("give either a layer line or --model, not both");
    return CLI_USAGE;
  }
  return CLI_OK;
}

typedef struct run_ctx {
  const septune_plan *plan;
  layer_data *data;
} run_ctx;

static int run_once(void *p)
{
  run_ctx *c = p;
  return septune_execute(c->plan, c->data->in, c->data->got, NULL) == SEPTUNE_OK ? 0 : 1;
}

typedef struct layer_result {
  septune_plan_info info;
  septune_check_result check;
  int ok;
  bench_stats time;
  double gflops;
} layer_result;

/* Plans, checks and times one op. Returns CLI_OK, or prints why not. */
static int run_layer(const septune_op *op, const run_options *o, const char *what, layer_result *r)
{
  layer_data d;
  septune_error err;
  septune_plan *plan = NULL;
  memset(r, 0, sizeof *r);
  if (layer_data_make(op, &d, &err) != SEPTUNE_OK) {
    cli_error("%s: %s", what, err.message);
    return CLI_FAILED;
  }
  int rc = CLI_FAILED;
  if (septune_plan_create(op, d.weights, d.bias, &o->plan, &plan, &err) != SEPTUNE_OK) {
    cli_error("%s: %s", what, err.message);
    if (err.status == SEPTUNE_ERR_INVALID_ARGUMENT || err.status == SEPTUNE_ERR_UNSUPPORTED) rc = CLI_USAGE;
  } else if (septune_execute(plan, d.in, d.got, &err) != SEPTUNE_OK) {
    cli_error("%s: execute: %s", what, err.message);
  } else {
    septune_plan_get_info(plan, &r->info);
    r->ok = septune_check_output(op, d.want, d.got, d.n_out, &r->check);
    run_ctx ctx = { plan, &d };
    if (bench_measure(run_once, &ctx, o->ms, &r->time) != 0) {
      cli_error("%s: execute failed while timing", what);
    } else {
      r->gflops = septune_op_flops(op) / (r->time.median_us * 1e3);
      rc = r->ok ? CLI_OK : CLI_FAILED;
      if (!r->ok)
        cli_error("%s: output differs from the reference: max |error| %.3g at element %zu", what,
                  r->check.max_abs_error, r->check.worst_index);
    }
  }
  septune_plan_destroy(plan);
  layer_data_free(&d);
  return rc;
}

static int run_one(const run_options *o)
{
  septune_layer layer;
  septune_error err;
  if (septune_layer_parse(o->line, &layer, &err) != SEPTUNE_OK) {
    cli_error("%s", err.message);
    return CLI_USAGE;
  }
  layer_result r;
  int rc = run_layer(&layer.op, o, "run", &r);
  if (rc != CLI_OK && !r.info.knobs[0]) return rc;
  char canon[256];
  septune_op_format(&layer.op, canon, sizeof canon);
  printf("%s\n", canon);
  printf("  kernel  %s %s (%s)\n", septune_isa_name(r.info.isa), r.info.knobs,
         r.info.source == SEPTUNE_KERNEL_FORCED ? "forced knobs" : "default knobs");
  printf("  check   %s: max |error| %.3g vs the reference\n", r.ok ? "ok" : "MISMATCH", r.check.max_abs_error);
  printf("  time    median %.2f us (min %.2f, %d samples), %.1f GFLOP/s\n", r.time.median_us, r.time.min_us,
         r.time.samples, r.gflops);
  return rc;
}

static int run_model(const run_options *o)
{
  model_file m;
  int rc = cli_read_model(o->model, &m);
  if (rc != CLI_OK) return rc;
  int layers = 0;
  double total_us = 0, total_flops = 0;
  printf("%-14s %-48s %-7s %-34s %10s %8s  %s\n", "layer", "shape", "isa", "knobs", "median us", "GFLOP/s",
         "check");
  for (size_t i = 0; i < m.n; i++) {
    const septune_layer *layer = &m.layers[i].layer;
    char what[128], shape[256];
    snprintf(what, sizeof what, "%s:%d (%s)", o->model, m.layers[i].lineno, layer->name);
    septune_op_format(&layer->op, shape, sizeof shape);
    layer_result r;
    int lrc = run_layer(&layer->op, o, what, &r);
    if (lrc != CLI_OK) {
      rc = CLI_FAILED;
      if (!r.info.knobs[0]) continue;
    }
    printf("%-14s %-48.48s %-7s %-34s %10.2f %8.1f  %s\n", layer->name, shape, septune_isa_name(r.info.isa),
           r.info.knobs, r.time.median_us, r.gflops, r.ok ? "ok" : "MISMATCH");
    fflush(stdout);
    layers++;
    total_us += r.time.median_us;
    total_flops += septune_op_flops(&layer->op);
  }
  model_file_free(&m);
  if (layers) printf("%d layers: %.1f us in all, %.1f GFLOP/s overall\n", layers, total_us,
                     total_flops / (total_us * 1e3));
  return rc;
}

int cmd_run(int argc, char **argv)
{
  run_options o;
  int rc = parse_args(argc, argv, &o);
  if (rc != CLI_OK) return rc;
  return o.model ? run_model(&o) : run_one(&o);
}

int cmd_source(int argc, char **argv)
{
  run_options o;
  int rc = parse_args(argc, argv, &o);
  if (rc != CLI_OK) return rc;
  if (o.model) {
    cli_error("source takes one layer line, not --model");
    return CLI_USAGE;
  }
  septune_layer layer;
  septune_error err;
  if (septune_layer_parse(o.line, &layer, &err) != SEPTUNE_OK) {
    cli_error("%s", err.message);
    return CLI_USAGE;
  }
  /* Rendering needs no CPU support for the ISA: sources for another machine
   * can be generated here. */
  septune_isa isa = o.plan.isa == SEPTUNE_ISA_AUTO ? septune_cpu_best_isa() : o.plan.isa;
  septune_kernel_source_text text;
  if (septune_gen_render(&layer.op, isa, o.plan.knobs, &text, &err) != SEPTUNE_OK) {
    cli_error("%s", err.message);
    return err.status == SEPTUNE_ERR_UNSUPPORTED ? CLI_USAGE : CLI_FAILED;
  }
  fputs(text.source, stdout);
  septune_gen_free(&text);
  return fflush(stdout) == 0 ? CLI_OK : CLI_FAILED;
}

/*
 * cmd_run.c — `septune run` and `septune source`: one layer (or every layer
 * of a model file) through plan creation, a check against the reference, and
 * a timing; or the generated source of one layer's kernel.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "generator.h"
#include "json.h"
#include "layer_data.h"
#include "model_file.h"
#include "timing.h"

const char cli_run_help[] =
    "usage: septune run LAYER... [--isa ISA] [--knobs K] [--threads T] [--ms T] [--json]\n"
    "       septune run MODEL [--isa ISA] [--threads T] [--ms T] [--json]\n"
    "\n"
    "Compiles the kernel of one layer line (e.g. dw h=56 w=56 c=144 k=3 s=1 pad=same\n"
    "act=relu6), or of every layer of a model file, checks it against the reference\n"
    "and prints its time, as a table for a model.\n"
    "\n"
    "  --isa ISA     auto scalar sse avx2 avx512 (default auto: the best this CPU has)\n"
    "  --knobs K     a knob string such as ct=2,wt=4 (default: the tuning database's\n"
    "                record for the layer, else the heuristic default)\n"
    "  --threads T   split each layer across T threads (default: the CPUs this\n"
    "                process may run on); the knobs are the ones for T threads\n"
    "  --ms T        minimum measuring time per layer in ms (default 200)\n"
    "  --json        one JSON document on stdout instead of the text\n"
    "\n"
    "The kernel line says where its knobs came from: tuned (a tuning-database\n"
    "record), default, forced (--knobs), emitted (a registered kernel table) or\n"
    "generic. A layer whose tensors do not fit in the memory available is refused.\n"
    "Exit status: 0 ok, 1 a kernel failed its check or could not be built, 2 bad\n"
    "usage, a bad layer line or model file.\n";

const char cli_source_help[] =
    "usage: septune source LAYER... [--isa ISA] [--knobs K] [--threads T]\n"
    "\n"
    "Prints the generated C source of the kernel of one layer line, for any ISA\n"
    "whether this CPU runs it or not.\n"
    "\n"
    "  --isa ISA     auto scalar sse avx2 avx512 (default auto: the best this CPU has)\n"
    "  --knobs K     a knob string such as ct=2,wt=4 (default: the heuristic default)\n"
    "  --threads T   the thread count the default work split is for (default 1)\n";

typedef struct run_options {
  char *line;             /* the layer line joined from the arguments (malloc'd) */
  const char *model;      /* MODEL or --model MODEL */
  septune_plan_options plan;
  double ms;              /* minimum measuring time per layer */
  int json;
} run_options;

/* Reads the options; the other arguments are a layer line or one model file.
 * `cmd` is "run" or "source" (which takes no model and no --json). */
static int parse_args(int argc, char **argv, run_options *o)
{
  enum { OPT_ISA = 256, OPT_KNOBS, OPT_MODEL, OPT_MS, OPT_JSON, OPT_THREADS };
  static const struct option options[] = {
    { "isa", required_argument, NULL, OPT_ISA },
    { "knobs", required_argument, NULL, OPT_KNOBS },
    { "model", required_argument, NULL, OPT_MODEL },
    { "ms", required_argument, NULL, OPT_MS },
    { "json", no_argument, NULL, OPT_JSON },
    { "threads", required_argument, NULL, OPT_THREADS },
    CLI_HELP_OPTION,
    { NULL, 0, NULL, 0 },
  };
  const char *cmd = argv[0], *model = NULL;
  int source = !strcmp(cmd, "source"), c;
  memset(o, 0, sizeof *o);
  o->ms = 200;
  cli_getopt_start();
  while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
    switch (c) {
      case CLI_HELP:
        fputs(source ? cli_source_help : cli_run_help, stdout);
        return CLI_DONE;
      case OPT_ISA:
        if (septune_isa_from_name(optarg, &o->plan.isa) != SEPTUNE_OK) {
          cli_error("%s: --isa: unknown ISA '%s' (auto scalar sse avx2 avx512)", cmd, optarg);
          return CLI_USAGE;
        }
        break;
      case OPT_KNOBS:
        o->plan.knobs = optarg;
        break;
      case OPT_THREADS:
        if (cli_parse_threads(cmd, optarg, &o->plan.threads) != CLI_OK) return CLI_USAGE;
        break;
      case OPT_MODEL:
      case OPT_JSON:
        if (source) return cli_option_error(cmd, '?', argv);
        if (c == OPT_MODEL) model = optarg;
        else o->json = 1;
        break;
      case OPT_MS: {
        char *end;
        errno = 0;
        o->ms = strtod(optarg, &end);
        if (errno || end == optarg || *end || !(o->ms > 0 && o->ms <= 60000)) {
          cli_error("%s: --ms: '%s' is not a duration in (0, 60000] ms", cmd, optarg);
          return CLI_USAGE;
        }
        break;
      }
      default:
        return cli_option_error(cmd, c, argv);
    }
  }
  char **pos = argv + optind;
  int npos = argc - optind;
  if (!model && npos == 1 && !cli_is_layer_line(pos[0]) && !source) {
    /* Not a layer line: a model file, the same as --model. */
    if (cli_model_arg(cmd, NULL, pos, npos, &o->model) != CLI_OK) return CLI_USAGE;
    return CLI_OK;
  }
  if (model && npos > 0) {
    cli_error("%s: give either a layer line or a model file, not both", cmd);
    return CLI_USAGE;
  }
  o->model = model;
  if (!model && npos == 0) {
    cli_error("%s: no layer given (e.g. septune %s dw h=56 w=56 c=144 k=3 s=1 pad=same act=relu6)", cmd, cmd);
    return CLI_USAGE;
  }
  if (npos > 0 && !(o->line = cli_join(pos, npos))) return CLI_FAILED;
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
  int planned;            /* info is filled */
  septune_check_result check;
  int ok;
  bench_stats time;
  double gflops;
} layer_result;

/* Where the kernel's knobs came from, as septune_plan_get_info says. */
static const char *source_name(const septune_plan_info *info)
{
  switch (info->source) {
    case SEPTUNE_KERNEL_TUNED: return "tuned";
    case SEPTUNE_KERNEL_FORCED: return "forced";
    case SEPTUNE_KERNEL_GENERIC: return "generic";
    default: return "default";
  }
}

static const char *build_name(const septune_plan_info *info)
{
  return info->build == SEPTUNE_BUILD_EMITTED ? "emitted" : info->build == SEPTUNE_BUILD_LIBRARY ? "library" : "jit";
}

/* "tuned knobs", "emitted kernel of table t, default knobs", "generic kernel". */
static void kernel_label(const septune_plan_info *info, char *buf, size_t n)
{
  if (info->source == SEPTUNE_KERNEL_GENERIC) snprintf(buf, n, "generic kernel");
  else if (info->build == SEPTUNE_BUILD_EMITTED)
    snprintf(buf, n, "emitted kernel of table %s, %s knobs", info->table, source_name(info));
  else if (info->source == SEPTUNE_KERNEL_TUNED && info->tuned_threads != info->threads)
    snprintf(buf, n, "tuned knobs of the %d-thread record, the default split for %d", info->tuned_threads,
             info->threads);
  else snprintf(buf, n, "%s knobs", source_name(info));
}

/* Plans, checks and times one op, on the given weights and bias (an ONNX
 * model's) or random ones (NULL). Returns CLI_OK, or prints why not. */
static int run_layer(const septune_op *op, const float *weights, const float *bias, const run_options *o,
                     const char *what, layer_result *r)
{
  layer_data d;
  septune_error err;
  septune_plan *plan = NULL;
  memset(r, 0, sizeof *r);
  if (layer_data_make_with(op, weights, bias, &d, &err) != SEPTUNE_OK) {
    cli_error("%s: %s", what, err.message);
    return err.status == SEPTUNE_ERR_UNSUPPORTED ? CLI_USAGE : CLI_FAILED;
  }
  int rc = CLI_FAILED;
  if (septune_plan_create(op, d.weights, d.bias, &o->plan, &plan, &err) != SEPTUNE_OK) {
    cli_error("%s: %s", what, err.message);
    if (err.status == SEPTUNE_ERR_INVALID_ARGUMENT || err.status == SEPTUNE_ERR_UNSUPPORTED) rc = CLI_USAGE;
  } else if (septune_execute(plan, d.in, d.got, &err) != SEPTUNE_OK) {
    cli_error("%s: execute: %s", what, err.message);
  } else {
    septune_plan_get_info(plan, &r->info);
    r->planned = 1;
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

/* One layer of the JSON document. */
static void json_layer(json_writer *w, const septune_layer *layer, int lineno, int onnx, const layer_result *r)
{
  char line[SEPTUNE_OP_LINE_SIZE];
  septune_op_format(&layer->op, line, sizeof line);
  json_object_begin(w);
  json_key_string(w, "name", layer->name);
  if (lineno) json_key_int(w, onnx ? "node" : "line", lineno);
  json_key_string(w, "weights", onnx ? "model" : "random");
  json_key_string(w, "op", line);
  json_key_string(w, "isa", septune_isa_name(r->info.isa));
  json_key_string(w, "knobs", r->info.knobs);
  json_key_string(w, "source", source_name(&r->info));
  json_key_string(w, "build", build_name(&r->info));
  json_key_string(w, "table", r->info.build == SEPTUNE_BUILD_EMITTED ? r->info.table : NULL);
  json_key_int(w, "threads", r->info.threads);
  json_key_int(w, "tuned_threads", r->info.tuned_threads);
  json_key_int(w, "work", r->info.work);
  json_key_int(w, "wake", r->info.wake);
  json_key_bool(w, "ok", r->ok);
  json_key_number(w, "max_abs_error", r->check.max_abs_error);
  json_key_number(w, "median_us", r->time.median_us);
  json_key_number(w, "min_us", r->time.min_us);
  json_key_int(w, "samples", r->time.samples);
  json_key_number(w, "gflops", r->gflops);
  json_object_end(w);
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
  int rc = run_layer(&layer.op, NULL, NULL, o, "run", &r);
  if (!r.planned) return rc;
  if (o->json) {
    json_writer w;
    json_document_begin(&w, stdout, "run");
    json_key(&w, "layers");
    json_array_begin(&w);
    json_layer(&w, &layer, 0, 0, &r);
    json_array_end(&w);
    json_document_end(&w);
    return rc;
  }
  char canon[SEPTUNE_OP_LINE_SIZE], label[128];
  septune_op_format(&layer.op, canon, sizeof canon);
  kernel_label(&r.info, label, sizeof label);
  printf("%s\n", canon);
  printf("  kernel  %s %s (%s)\n", septune_isa_name(r.info.isa), r.info.knobs, label);
  printf("  threads %d: %ld work item%s per image, at most %d thread%s woken\n", r.info.threads, r.info.work,
         r.info.work == 1 ? "" : "s", r.info.wake, r.info.wake == 1 ? "" : "s");
  printf("  check   %s: max |error| %.3g vs the reference\n", r.ok ? "ok" : "MISMATCH", r.check.max_abs_error);
  printf("  time    median %.2f us (min %.2f, %d samples), %.1f GFLOP/s\n", r.time.median_us, r.time.min_us,
         r.time.samples, r.gflops);
  return rc;
}

static int run_model(const run_options *o)
{
  model_file m;
  json_writer w;
  int rc = cli_read_model(o->model, &m);
  if (rc != CLI_OK) return rc;
  int layers = 0;
  double total_us = 0, total_flops = 0;
  if (o->json) {
    json_document_begin(&w, stdout, "run");
    json_key_string(&w, "model", o->model);
    json_key(&w, "layers");
    json_array_begin(&w);
  } else {
    if (m.onnx) printf("every layer on the model's own weights, batch norm folded in\n");
    printf("%-14s %-48s %-7s %-8s %-34s %10s %8s  %s\n", "layer", "shape", "isa", "source", "knobs", "median us",
           "GFLOP/s", "check");
  }
  for (size_t i = 0; i < m.n; i++) {
    const septune_layer *layer = &m.layers[i].layer;
    char what[128], shape[SEPTUNE_OP_LINE_SIZE];
    if (m.onnx) snprintf(what, sizeof what, "%s: node %d (%s)", o->model, m.layers[i].lineno, layer->name);
    else snprintf(what, sizeof what, "%s:%d (%s)", o->model, m.layers[i].lineno, layer->name);
    septune_op_format(&layer->op, shape, sizeof shape);
    layer_result r;
    int lrc = run_layer(&layer->op, m.layers[i].weights, m.layers[i].bias, o, what, &r);
    if (lrc != CLI_OK) {
      rc = rc == CLI_USAGE ? rc : lrc;
      if (!r.planned) continue;
    }
    if (o->json) json_layer(&w, layer, m.layers[i].lineno, m.onnx, &r);
    else
      printf("%-14s %-48.48s %-7s %-8s %-34s %10.2f %8.1f  %s\n", layer->name, shape, septune_isa_name(r.info.isa),
             r.info.build == SEPTUNE_BUILD_EMITTED ? "emitted" : source_name(&r.info), r.info.knobs,
             r.time.median_us, r.gflops, r.ok ? "ok" : "MISMATCH");
    fflush(stdout);
    layers++;
    total_us += r.time.median_us;
    total_flops += septune_op_flops(&layer->op);
  }
  model_file_free(&m);
  if (o->json) {
    json_array_end(&w);
    json_key(&w, "totals");
    json_object_begin(&w);
    json_key_int(&w, "layers", layers);
    json_key_number(&w, "median_us", total_us);
    json_key_number(&w, "gflops", layers ? total_flops / (total_us * 1e3) : NAN);
    json_object_end(&w);
    json_document_end(&w);
  } else if (layers) {
    printf("%d layers: %.1f us in all, %.1f GFLOP/s overall\n", layers, total_us, total_flops / (total_us * 1e3));
  }
  return rc;
}

int cmd_run(int argc, char **argv)
{
  run_options o;
  int rc = parse_args(argc, argv, &o);
  if (rc == CLI_OK) rc = o.model ? run_model(&o) : run_one(&o);
  free(o.line);
  if (rc == CLI_DONE) return CLI_OK;
  return rc == CLI_OK && fflush(stdout) != 0 ? CLI_FAILED : rc;
}

int cmd_source(int argc, char **argv)
{
  run_options o;
  int rc = parse_args(argc, argv, &o);
  if (rc != CLI_OK) {
    free(o.line);
    return rc == CLI_DONE ? CLI_OK : rc;
  }
  septune_layer layer;
  septune_error err;
  septune_status st = septune_layer_parse(o.line, &layer, &err);
  free(o.line);
  if (st != SEPTUNE_OK) {
    cli_error("%s", err.message);
    return CLI_USAGE;
  }
  /* Rendering needs no CPU support for the ISA: sources for another machine
   * can be generated here. */
  septune_isa isa = o.plan.isa == SEPTUNE_ISA_AUTO ? septune_cpu_best_isa() : o.plan.isa;
  septune_kernel_source_text text;
  septune_gen_request req = { o.plan.knobs, NULL, NULL, o.plan.threads > 0 ? o.plan.threads : 1, 0 };
  if (septune_gen_render_request(&layer.op, isa, &req, &text, &err) != SEPTUNE_OK) {
    cli_error("%s", err.message);
    return err.status == SEPTUNE_ERR_UNSUPPORTED ? CLI_USAGE : CLI_FAILED;
  }
  fputs(text.source, stdout);
  septune_gen_free(&text);
  return fflush(stdout) == 0 ? CLI_OK : CLI_FAILED;
}

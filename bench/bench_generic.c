/*
 * bench_generic — the generic kernels of libseptune_rt against the JIT's
 * default kernels, layer by layer over a model file, single thread.
 *
 *   bench_generic [options] [MODEL.txt]   (default: models/mobilenet_v2.txt)
 *     --op dw|pw|all  which layers (default all)
 *     --isa NAME      ISA for both (default auto: the best the CPU has)
 *     --rounds N      interleaved rounds per layer (default 15)
 *     --round-ms MS   repetitions per kernel per round (default 2 ms)
 *     --cpu K         pin to CPU K (default: the CPU the program starts on)
 *     --seed S        random data seed (default 1)
 *
 * Per layer: random input, weights and bias in 64-byte aligned buffers
 * shared by both kernels; the generic kernel's variant from
 * septune_generic_select(isa) with weights packed as generic.h says, the
 * JIT's plan from septune_plan_create with default options and no tuning
 * database (db_path ""), so its heuristic default kernel. Both outputs are
 * checked against the reference, then both are timed with
 * bench_measure_interleaved (median of rounds).
 *
 * ratio = generic time / JIT time: < 1 means the generic kernel is faster.
 * The footer gives the geometric mean of the ratios per op (and for
 * pointwise layers with ci >= 64 on their own).
 *
 * Exit status: 0 both kernels agreed with the reference on every layer;
 * 1 one disagreed or failed; 2 usage, file or setup error.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "generic.h"
#include "septune.h"
#include "timing.h"

#define PROG "bench_generic"
#define TOL 1e-4

#ifndef SEPTUNE_BENCH_DEFAULT_MODEL
#define SEPTUNE_BENCH_DEFAULT_MODEL "models/mobilenet_v2.txt"
#endif

typedef struct options {
  const char *model;
  int dw, pw;
  septune_isa isa;
  int rounds;
  double round_ms;
  int cpu;
  unsigned long long seed;
} options;

static void usage(FILE *f)
{
  fprintf(f, "usage: " PROG " [--op dw|pw|all] [--isa NAME] [--rounds N] [--round-ms MS] [--cpu K]\n"
             "                     [--seed S] [MODEL.txt]\n");
}

static int parse_number(const char *opt, const char *s, double lo, double hi, double *out)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= lo && v <= hi)) {
    fprintf(stderr, PROG ": %s: '%s' is not a number in [%g, %g]\n", opt, s, lo, hi);
    return -1;
  }
  *out = v;
  return 0;
}

/* Returns 0, 1 for --help, -1 for a usage error (reported). */
static int parse_args(int argc, char **argv, options *o)
{
  *o = (options){ .model = SEPTUNE_BENCH_DEFAULT_MODEL, .dw = 1, .pw = 1, .isa = SEPTUNE_ISA_AUTO,
                  .rounds = 15, .round_ms = 2.0, .cpu = -1, .seed = 1 };
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    double x;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) return 1;
    if (a[0] != '-') {
      o->model = a;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, PROG ": unknown option or missing value: %s\n", a);
      return -1;
    }
    v = argv[++i];
    if (!strcmp(a, "--op")) {
      o->dw = !strcmp(v, "dw") || !strcmp(v, "all");
      o->pw = !strcmp(v, "pw") || !strcmp(v, "all");
      if (!o->dw && !o->pw) {
        fprintf(stderr, PROG ": --op: '%s' is not dw, pw or all\n", v);
        return -1;
      }
    } else if (!strcmp(a, "--isa")) {
      if (septune_isa_from_name(v, &o->isa) != SEPTUNE_OK) {
        fprintf(stderr, PROG ": --isa: unknown ISA '%s'\n", v);
        return -1;
      }
    } else if (!strcmp(a, "--rounds")) {
      if (parse_number(a, v, 1, 100000, &x)) return -1;
      o->rounds = (int)x;
    } else if (!strcmp(a, "--round-ms")) {
      if (parse_number(a, v, 0.001, 60000, &o->round_ms)) return -1;
    } else if (!strcmp(a, "--cpu")) {
      if (parse_number(a, v, 0, 65535, &x)) return -1;
      o->cpu = (int)x;
    } else if (!strcmp(a, "--seed")) {
      if (parse_number(a, v, 0, 1e18, &x)) return -1;
      o->seed = (unsigned long long)x;
    } else {
      fprintf(stderr, PROG ": unknown option %s\n", a);
      return -1;
    }
  }
  return 0;
}

/* ---- the two kernels behind timing callbacks ------------------------------------ */

/* This CPU's cache budgets, which the generic kernels' blocking follows. */
static const septune_cache_budget *cpu_budget(void)
{
  static septune_cache_budget b;
  static int ready;
  if (!ready) septune_cpu_cache_budget(&b), ready = 1;
  return &b;
}

typedef struct generic_run {
  const septune_generic_kernels *k;
  const septune_op *op;
  const float *packed, *in;
  float *out;
} generic_run;

static int generic_call(void *p)
{
  generic_run *g = p;
  if (g->op->kind == SEPTUNE_OP_DEPTHWISE)
    g->k->dw(&g->op->u.dw, cpu_budget(), 1, g->packed, g->in, g->out, 0,
             (long)g->op->u.dw.n * g->k->dw_work(&g->op->u.dw, cpu_budget(), 1));
  else
    g->k->pw(&g->op->u.pw, cpu_budget(), 1, g->packed, g->in, g->out, 0,
             (long)g->op->u.pw.n * g->k->pw_work(&g->op->u.pw, cpu_budget(), 1));
  return 0;
}

typedef struct jit_run {
  const septune_plan *plan;
  const float *in;
  float *out;
} jit_run;

static int jit_call(void *p)
{
  jit_run *j = p;
  return septune_execute(j->plan, j->in, j->out, NULL) == SEPTUNE_OK ? 0 : 1;
}

/* ---- one layer ------------------------------------------------------------------------ */

typedef struct tensors {
  float *in, *w, *b, *ref, *out, *packed;
  size_t n_in, n_out, n_w, n_b;
} tensors;

static float *alloc_floats(size_t n)
{
  void *p = NULL;
  if (posix_memalign(&p, 64, (n ? n : 1) * sizeof(float)) != 0) return NULL;
  return p;
}

static void tensors_free(tensors *t)
{
  free(t->in), free(t->w), free(t->b), free(t->ref), free(t->out), free(t->packed);
  memset(t, 0, sizeof *t);
}

/* The depthwise layout of generic.h: bias row then tap rows of
 * round_up(c, SEPTUNE_KERNEL_PACK_LANES). */
static float *pack_dw(const septune_depthwise_desc *d, const float *w, const float *b)
{
  size_t c = (size_t)d->c, taps = (size_t)(d->kh * d->kw);
  size_t cpad = (c + SEPTUNE_KERNEL_PACK_LANES - 1) / SEPTUNE_KERNEL_PACK_LANES * SEPTUNE_KERNEL_PACK_LANES;
  float *p = alloc_floats((1 + taps) * cpad);
  if (!p) return NULL;
  memset(p, 0, (1 + taps) * cpad * sizeof(float));
  for (size_t x = 0; x < c; x++) {
    if (b) p[x] = b[x];
    for (size_t t = 0; t < taps; t++) p[(1 + t) * cpad + x] = w[t * c + x];
  }
  return p;
}

static int op_has_bias(const septune_op *op)
{
  return op->kind == SEPTUNE_OP_DEPTHWISE ? op->u.dw.has_bias : op->u.pw.has_bias;
}

/* Data, reference output and the generic kernel's packed weights. */
static int tensors_make(const septune_op *op, const septune_generic_kernels *k, const options *o, size_t index,
                        tensors *t, const char *where)
{
  septune_error err;
  bench_rng rng;
  memset(t, 0, sizeof *t);
  if (septune_op_tensor_sizes(op, &t->n_in, &t->n_out, &t->n_w, &t->n_b, &err) != SEPTUNE_OK) {
    fprintf(stderr, PROG ": %s: %s\n", where, err.message);
    return -1;
  }
  t->in = alloc_floats(t->n_in), t->w = alloc_floats(t->n_w), t->b = alloc_floats(t->n_b);
  t->ref = alloc_floats(t->n_out), t->out = alloc_floats(t->n_out);
  if (!t->in || !t->w || !t->b || !t->ref || !t->out) goto oom;
  bench_rng_seed(&rng, o->seed, index);
  bench_fill(&rng, t->in, t->n_in, 2.0f);
  bench_fill(&rng, t->w, t->n_w, 1.0f);
  bench_fill(&rng, t->b, t->n_b, 1.0f);
  const float *bias = op_has_bias(op) ? t->b : NULL;
  if (septune_reference_execute(op, t->w, bias, t->in, t->ref, &err) != SEPTUNE_OK) {
    fprintf(stderr, PROG ": %s: reference: %s\n", where, err.message);
    tensors_free(t);
    return -1;
  }
  if (op->kind == SEPTUNE_OP_DEPTHWISE) {
    t->packed = pack_dw(&op->u.dw, t->w, bias);
  } else {
    t->packed = alloc_floats(k->pw_packed_floats(&op->u.pw, cpu_budget()));
    if (t->packed) k->pw_pack(&op->u.pw, cpu_budget(), t->w, bias, t->packed);
  }
  if (!t->packed) goto oom;
  return 0;
oom:
  fprintf(stderr, PROG ": %s: out of memory\n", where);
  tensors_free(t);
  return -1;
}

/* Runs fn once into a NaN-filled output; returns 1 if it matches ref. */
static int agrees(int (*fn)(void *), void *ctx, float *out, const tensors *t, double *max_rel)
{
  double max_abs;
  for (size_t i = 0; i < t->n_out; i++) out[i] = NAN;
  if (fn(ctx) != 0) return 0;
  bench_compare(out, t->ref, t->n_out, &max_abs, max_rel);
  return *max_rel <= TOL;
}

typedef struct row {
  double generic_us, jit_us, ratio; /* ratio 0: not measured */
} row;

/* Checks and times one layer; prints its line. Returns 0, 1 for a wrong or
 * failed kernel, -1 for a setup error. */
static int run_layer(const bench_layer_entry *e, size_t index, const options *o, const septune_generic_kernels *k,
                     row *r)
{
  const septune_op *op = &e->layer.op;
  septune_plan_options popts = { .isa = o->isa, .db_path = "", .threads = 1 };
  septune_plan *plan = NULL;
  septune_error err;
  tensors t;
  char shape[64], name[64];
  double rel_g = 0, rel_j = 0;
  int rc = 0;

  memset(r, 0, sizeof *r);
  bench_shape_string(op, 0, shape, sizeof shape);
  snprintf(name, sizeof name, "%s", e->layer.name[0] ? e->layer.name : "-");
  if (op->kind == SEPTUNE_OP_DEPTHWISE && op->u.dw.multiplier != 1) {
    printf("%-12s %-24s  skipped: the generic kernel takes multiplier 1 (the plan expands)\n", name, shape);
    return 0;
  }
  if (tensors_make(op, k, o, index, &t, e->where) != 0) return -1;
  if (septune_plan_create(op, t.w, op_has_bias(op) ? t.b : NULL, &popts, &plan, &err) != SEPTUNE_OK) {
    printf("%-12s %-24s  JIT plan failed: %s\n", name, shape, err.message);
    tensors_free(&t);
    return 1;
  }
  generic_run g = { k, op, t.packed, t.in, t.out };
  jit_run j = { plan, t.in, t.out };
  int ok_g = agrees(generic_call, &g, t.out, &t, &rel_g), ok_j = agrees(jit_call, &j, t.out, &t, &rel_j);
  if (!ok_g || !ok_j) {
    printf("%-12s %-24s  wrong: generic max rel %.3g, JIT max rel %.3g (tolerance %g)\n", name, shape, rel_g,
           rel_j, TOL);
    rc = 1;
  } else {
    bench_fn fns[2] = { generic_call, jit_call };
    void *ctxs[2] = { &g, &j };
    bench_stats st[2];
    if (bench_measure_interleaved(2, fns, ctxs, o->rounds, o->round_ms, st) != 0) {
      printf("%-12s %-24s  a run failed while timing\n", name, shape);
      rc = 1;
    } else {
      double gf = septune_op_flops(op) * 1e-3;
      r->generic_us = st[0].median_us;
      r->jit_us = st[1].median_us;
      r->ratio = r->generic_us / r->jit_us;
      septune_plan_info info;
      septune_plan_get_info(plan, &info);
      printf("%-12s %-24s %10.2f %8.1f %10.2f %8.1f %7.2f  %s\n", name, shape, r->generic_us,
             gf / r->generic_us, r->jit_us, gf / r->jit_us, r->ratio, info.knobs);
    }
  }
  fflush(stdout);
  septune_plan_destroy(plan);
  tensors_free(&t);
  return rc;
}

/* ---- summary ----------------------------------------------------------------------------- */

typedef struct geomean {
  double log_sum;
  int n;
} geomean;

static void geomean_add(geomean *g, double ratio)
{
  if (ratio > 0) g->log_sum += log(ratio), g->n++;
}

static void geomean_print(const char *what, const geomean *g)
{
  if (g->n) printf("geomean ratio %-22s %6.2f  (%d layers)\n", what, exp(g->log_sum / g->n), g->n);
}

int main(int argc, char **argv)
{
  options o;
  int prc = parse_args(argc, argv, &o), rc = 0;
  if (prc != 0) {
    usage(prc > 0 ? stdout : stderr);
    return prc > 0 ? 0 : 2;
  }
  if (o.isa != SEPTUNE_ISA_AUTO && !septune_cpu_has_isa(o.isa)) {
    fprintf(stderr, PROG ": this CPU cannot run %s\n", septune_isa_name(o.isa));
    return 2;
  }
  bench_layer_list list = { 0 };
  if (bench_layer_list_read(&list, o.model, PROG) != 0) return 2;
  int pinned = bench_pin_cpu(o.cpu);
  if (o.cpu >= 0 && pinned != o.cpu) {
    fprintf(stderr, PROG ": cannot pin to CPU %d\n", o.cpu);
    bench_layer_list_free(&list);
    return 2;
  }
  const septune_generic_kernels *k = septune_generic_select(o.isa);
  printf("generic variant %s vs JIT default (isa %s, no tuning database); ", septune_isa_name(k->isa),
         septune_isa_name(o.isa));
  if (pinned >= 0) printf("pinned to CPU %d, single thread\n", pinned);
  else printf("not pinned, single thread\n");
  printf("model %s; median of %d interleaved rounds of >= %g ms per kernel\n\n", o.model, o.rounds, o.round_ms);
  printf("%-12s %-24s %10s %8s %10s %8s %7s  %s\n", "layer", "shape", "generic us", "GFLOP/s", "JIT us",
         "GFLOP/s", "ratio", "JIT knobs");

  geomean dw = { 0, 0 }, pw = { 0, 0 }, pw64 = { 0, 0 };
  for (size_t i = 0; i < list.n; i++) {
    const septune_op *op = &list.v[i].layer.op;
    int is_dw = op->kind == SEPTUNE_OP_DEPTHWISE;
    row r;
    if (is_dw ? !o.dw : !o.pw) continue;
    int lrc = run_layer(&list.v[i], i, &o, k, &r);
    if (lrc < 0) {
      rc = 2;
      break;
    }
    if (lrc > 0) rc = 1;
    if (is_dw) geomean_add(&dw, r.ratio);
    else {
      geomean_add(&pw, r.ratio);
      if (op->u.pw.ci >= 64) geomean_add(&pw64, r.ratio);
    }
  }
  printf("\nratio = generic time / JIT time (< 1: generic faster)\n");
  geomean_print("dw", &dw);
  geomean_print("pw", &pw);
  geomean_print("pw with ci >= 64", &pw64);
  bench_layer_list_free(&list);
  return rc;
}

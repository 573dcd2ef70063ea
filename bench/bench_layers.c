/*
 * bench_layers — septune against the peer libraries (XNNPACK, oneDNN), layer
 * by layer over a model file, side by side, on one thread or on T.
 *
 *   bench_layers [options] MODEL.txt
 *     --op dw|pw|all  which layers to run (default dw)
 *     --threads T     every library on T threads (default 1): septune plans
 *                     of T threads, XNNPACK on a pthreadpool of T, oneDNN
 *                     with T OpenMP threads; pinned to T CPUs. With T > 1
 *                     septune also runs on 1 thread in the same rounds
 *                     ("septune/1"), for the scaling column
 *     --rounds N      interleaved rounds per layer (default 15)
 *     --round-ms MS   repetitions per library per round (default 2 ms)
 *     --cpu K         pin to CPU K (default: the CPU the program starts on;
 *                     one thread only)
 *     --tol T         relative tolerance of the output check (default 1e-4)
 *     --seed S        random data seed (default 1)
 *     --json FILE     also write the numbers as JSON
 *     --strict        a peer that disagrees with the reference fails the run too
 *
 * Per layer: random input, weights and bias (fixed seed) in 64-byte aligned
 * buffers; one input and one output buffer shared by every library, so no
 * library gains or loses by alignment or by where its buffers sit in cache.
 * septune gets a plan with default options (the tuning database's record
 * when $SEPTUNE_DB has one, else the heuristic default; the kernel column
 * says "tuned" or "default"), each peer its operator. Every
 * library's output is checked against septune_reference_execute with
 * peer_check's measure (|got - ref| / max(|ref|, 1)); then all the libraries
 * that agree are timed with bench_measure_interleaved (median of rounds).
 *
 * speed-up = time of the faster peer / time of septune: > 1 means septune is
 * faster. scaling = time of septune on 1 thread / time on T. A library that
 * declines a layer (septune's SEPTUNE_ERR_UNSUPPORTED, a peer whose create
 * returns NULL) shows "-" and a note. With T > 1 every library's round
 * starts after a 50 ms pause, so that the previous library's pool has
 * stopped spinning (pthreadpool's threads spin ~25 ms after a job). The
 * ceilings printed first are measured on the pinned CPU; with T > 1 also
 * on each of the T CPUs alone, and %peak is of the sum of their peaks.
 *
 * Exit status: 0 septune agreed with the reference on every layer it ran;
 * 1 septune disagreed, failed to plan (other than "unsupported") or to run;
 * 2 usage, file or setup error. A peer that disagrees or fails is reported
 * and left out of the comparison; it changes the exit status (to 1) only
 * with --strict (peer_check is the program that holds the peers to account).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "json.h"
#include "peers.h"
#include "roofline.h"
#include "septune.h"
#include "timing.h"

#define PROG "bench_layers"
#define MAX_LIBS 8 /* septune (on T threads and on 1) + peers */
#define SETTLE_MS 50 /* pause before each round with threads */

enum { OP_DW = 1, OP_PW = 2, OP_ALL = 3 };

typedef struct options {
  const char *model;
  const char *json;
  int ops; /* OP_DW | OP_PW */
  int strict; /* a wrong or failed peer makes the exit status 1 */
  int rounds;
  double round_ms;
  int cpu;
  int threads;
  double tol;
  unsigned long long seed;
} options;

/* One library on one layer. */
typedef enum lib_state {
  LIB_UNSUPPORTED = 0, /* declined the layer: "-" */
  LIB_OK = 1,          /* agreed with the reference and was timed */
  LIB_WRONG = 2,       /* output differs from the reference */
  LIB_FAILED = 3       /* plan/create error other than unsupported, or a run failed */
} lib_state;

typedef struct lib_result {
  lib_state state;
  double max_abs, max_rel;
  bench_stats t;
  char impl[256]; /* the peer's implementation, or septune's "isa knobs" */
  char note[SEPTUNE_ERROR_MESSAGE_SIZE]; /* why it is not LIB_OK */
} lib_result;

typedef struct layer_row {
  char name[64];
  char shape[64];
  double flops;
  lib_result r[MAX_LIBS]; /* [0] septune, [1..] the peers */
  int have_info;
  septune_plan_info info;
  int best_peer;          /* index into r of the faster peer; 0 when none ran */
  double speedup;         /* r[best_peer] time / septune time; 0 when not comparable */
  double scaling;         /* septune on 1 thread / on T; 0 when not measured */
} layer_row;

/* The libraries of this run: septune on T threads first, then (T > 1)
 * septune on 1, then bench_peers_all. */
typedef struct libs {
  int n;
  const char *name[MAX_LIBS];
  const bench_peer_vtbl *peer[MAX_LIBS]; /* NULL for septune */
  int threads[MAX_LIBS];                 /* septune's plan threads */
  int single;                            /* index of septune on 1 thread; 0 when none */
} libs;

/* ---- options ------------------------------------------------------------- */

static void usage(FILE *f)
{
  fprintf(f,
          "usage: " PROG " [--op dw|pw|all] [--threads T] [--rounds N] [--round-ms MS] [--cpu K]\n"
          "                    [--tol T] [--seed S] [--json FILE] [--strict] MODEL.txt\n");
}

/* Strict number parsing: the whole argument must be a number in [lo, hi]. */
static int parse_double(const char *opt, const char *s, double lo, double hi, double *out)
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

static int parse_int(const char *opt, const char *s, long lo, long hi, long *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) {
    fprintf(stderr, PROG ": %s: '%s' is not an integer in [%ld, %ld]\n", opt, s, lo, hi);
    return -1;
  }
  *out = v;
  return 0;
}

/* Returns 0, 1 for --help (exit 0), or -1 for a usage error. */
static int parse_args(int argc, char **argv, options *o)
{
  *o = (options){.ops = OP_DW, .rounds = 15, .round_ms = 2.0, .cpu = -1, .tol = 1e-4, .seed = 1, .threads = 1};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) return 1;
    if (!strcmp(a, "--strict")) {
      o->strict = 1;
      continue;
    }
    if (a[0] != '-') {
      if (o->model) {
        fprintf(stderr, PROG ": one model file only ('%s' and '%s')\n", o->model, a);
        return -1;
      }
      o->model = a;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, PROG ": unknown option or missing value: %s\n", a);
      return -1;
    }
    const char *v = argv[++i];
    long l;
    if (!strcmp(a, "--op")) {
      if (!strcmp(v, "dw")) o->ops = OP_DW;
      else if (!strcmp(v, "pw")) o->ops = OP_PW;
      else if (!strcmp(v, "all")) o->ops = OP_ALL;
      else {
        fprintf(stderr, PROG ": --op: '%s' is not dw, pw or all\n", v);
        return -1;
      }
    } else if (!strcmp(a, "--rounds")) {
      if (parse_int(a, v, 1, 100000, &l)) return -1;
      o->rounds = (int)l;
    } else if (!strcmp(a, "--round-ms")) {
      if (parse_double(a, v, 0.001, 60000, &o->round_ms)) return -1;
    } else if (!strcmp(a, "--cpu")) {
      if (parse_int(a, v, 0, 65535, &l)) return -1;
      o->cpu = (int)l;
    } else if (!strcmp(a, "--threads")) {
      if (parse_int(a, v, 1, SEPTUNE_MAX_THREADS, &l)) return -1;
      o->threads = (int)l;
    } else if (!strcmp(a, "--tol")) {
      if (parse_double(a, v, 0, 1, &o->tol)) return -1;
    } else if (!strcmp(a, "--seed")) {
      char *end;
      errno = 0;
      o->seed = strtoull(v, &end, 0);
      if (errno || end == v || *end || v[0] == '-') {
        fprintf(stderr, PROG ": --seed: '%s' is not a non-negative integer\n", v);
        return -1;
      }
    } else if (!strcmp(a, "--json")) {
      o->json = v;
    } else {
      fprintf(stderr, PROG ": unknown option %s\n", a);
      return -1;
    }
  }
  if (!o->model) {
    fprintf(stderr, PROG ": no model file given\n");
    return -1;
  }
  if (o->cpu >= 0 && o->threads > 1) {
    fprintf(stderr, PROG ": --cpu pins one thread: not with --threads %d\n", o->threads);
    return -1;
  }
  return 0;
}

/* ---- one library behind one callback ---------------------------------------- */

/* What the timing callback needs: septune's plan or a peer's operator. */
typedef struct candidate {
  const bench_peer_vtbl *peer; /* NULL: septune */
  septune_plan *plan;
  bench_peer *inst;
  const float *in;
  float *out;
  int failed; /* set by candidate_run when a call fails */
} candidate;

static int candidate_run(void *p)
{
  candidate *c = p;
  int rc;
  if (c->peer) rc = c->peer->run(c->inst, c->in, c->out);
  else rc = septune_execute(c->plan, c->in, c->out, NULL) == SEPTUNE_OK ? 0 : 1;
  if (rc) c->failed = rc;
  return rc;
}

static void candidate_destroy(candidate *c)
{
  if (c->peer && c->inst) c->peer->destroy(c->inst);
  septune_plan_destroy(c->plan);
  c->inst = NULL, c->plan = NULL;
}

/* Creates library `li` for op. On failure leaves the candidate empty and
 * sets r->state and r->note. */
static void candidate_create(const libs *L, int li, const septune_op *op, const float *w,
                             const float *b, candidate *c, lib_result *r, layer_row *row)
{
  memset(c, 0, sizeof *c);
  c->peer = L->peer[li];
  if (c->peer) {
    c->inst = c->peer->create(op, w, b, r->note, sizeof r->note);
    if (!c->inst) {
      r->state = LIB_UNSUPPORTED; /* the peer's `why` is already in note */
      return;
    }
    snprintf(r->impl, sizeof r->impl, "%s", c->peer->impl(c->inst));
  } else {
    septune_error err;
    /* Default options but the threads: what a user gets — the tuning
     * database's record when $SEPTUNE_DB (or the default database) has one
     * for this shape, CPU and thread count, else the 1-thread record's knobs
     * with the default split, else the heuristic knobs. The kernel column
     * says which. */
    septune_plan_options opts = { .threads = L->threads[li] };
    septune_status st = septune_plan_create(op, w, b, &opts, &c->plan, &err);
    if (st != SEPTUNE_OK) {
      r->state = st == SEPTUNE_ERR_UNSUPPORTED ? LIB_UNSUPPORTED : LIB_FAILED;
      snprintf(r->note, sizeof r->note, "%s", err.message);
      return;
    }
    septune_plan_info info;
    septune_plan_get_info(c->plan, &info);
    if (li == 0) {
      row->info = info;
      row->have_info = 1;
    }
    const char *source = info.source != SEPTUNE_KERNEL_TUNED      ? "default"
                         : info.tuned_threads == info.threads ? "tuned"
                                                              : "tuned-1t";
    snprintf(r->impl, sizeof r->impl, "%s %s %s", septune_isa_name(info.isa), source, info.knobs);
  }
  r->state = LIB_OK; /* until the check says otherwise */
}

/* Runs c once into a NaN-filled output and compares with ref. */
static void candidate_check(candidate *c, const float *ref, size_t n_out, double tol,
                            lib_result *r)
{
  for (size_t i = 0; i < n_out; i++) c->out[i] = NAN; /* a skipped element shows as NaN */
  int rc = candidate_run(c);
  if (rc) {
    r->state = LIB_FAILED;
    snprintf(r->note, sizeof r->note, "run failed (%d)", rc);
    return;
  }
  bench_compare(c->out, ref, n_out, &r->max_abs, &r->max_rel);
  if (!(r->max_rel <= tol)) {
    r->state = LIB_WRONG;
    snprintf(r->note, sizeof r->note, "output differs from the reference: max rel %.3g > %.3g",
             r->max_rel, tol);
  }
}

/* ---- one layer --------------------------------------------------------------- */

typedef struct tensors {
  float *in, *w, *b, *ref, *out;
  size_t n_in, n_out, n_w, n_b;
} tensors;

static void tensors_free(tensors *t)
{
  free(t->in), free(t->w), free(t->b), free(t->ref), free(t->out);
  memset(t, 0, sizeof *t);
}

static int op_has_bias(const septune_op *op)
{
  return op->kind == SEPTUNE_OP_DEPTHWISE ? op->u.dw.has_bias : op->u.pw.has_bias;
}

/* Allocates (bench_peer_alloc: 64-byte aligned, slack for XNNPACK's
 * over-reads) and fills the tensors; computes the reference output. */
static int tensors_make(const septune_op *op, const options *o, size_t layer_index, tensors *t,
                        const char *where)
{
  septune_error err;
  memset(t, 0, sizeof *t);
  if (septune_op_tensor_sizes(op, &t->n_in, &t->n_out, &t->n_w, &t->n_b, &err) != SEPTUNE_OK) {
    fprintf(stderr, PROG ": %s: %s\n", where, err.message);
    return -1;
  }
  t->in = bench_peer_alloc(t->n_in * sizeof(float));
  t->w = bench_peer_alloc(t->n_w * sizeof(float));
  t->b = bench_peer_alloc((t->n_b ? t->n_b : 1) * sizeof(float));
  t->ref = bench_peer_alloc(t->n_out * sizeof(float));
  t->out = bench_peer_alloc(t->n_out * sizeof(float));
  if (!t->in || !t->w || !t->b || !t->ref || !t->out) {
    fprintf(stderr, PROG ": %s: out of memory\n", where);
    tensors_free(t);
    return -1;
  }
  bench_rng rng;
  bench_rng_seed(&rng, o->seed, layer_index);
  bench_fill(&rng, t->in, t->n_in, 2.0f); /* [-2, 2): relu6 and hswish see both bends */
  bench_fill(&rng, t->w, t->n_w, 1.0f);
  bench_fill(&rng, t->b, t->n_b, 1.0f);
  if (septune_reference_execute(op, t->w, op_has_bias(op) ? t->b : NULL, t->in, t->ref, &err) != SEPTUNE_OK) {
    fprintf(stderr, PROG ": %s: reference: %s\n", where, err.message);
    tensors_free(t);
    return -1;
  }
  return 0;
}

/* Times every library in state LIB_OK, interleaved. */
static void time_layer(const libs *L, candidate *c, layer_row *row, const options *o)
{
  bench_fn fns[MAX_LIBS];
  void *ctxs[MAX_LIBS];
  bench_stats st[MAX_LIBS];
  int idx[MAX_LIBS], k = 0;
  for (int li = 0; li < L->n; li++) {
    if (row->r[li].state != LIB_OK) continue;
    fns[k] = candidate_run;
    ctxs[k] = &c[li];
    idx[k++] = li;
  }
  if (k == 0) return;
  if (bench_measure_interleaved_settled((size_t)k, fns, ctxs, o->rounds, o->round_ms,
                                        o->threads > 1 ? SETTLE_MS : 0, st) == 0) {
    for (int j = 0; j < k; j++) row->r[idx[j]].t = st[j];
    return;
  }
  /* The helper stops at the first failing call; the callbacks say whose. */
  for (int j = 0; j < k; j++) {
    lib_result *r = &row->r[idx[j]];
    if (c[idx[j]].failed) {
      r->state = LIB_FAILED;
      snprintf(r->note, sizeof r->note, "run failed while timing (%d)", c[idx[j]].failed);
    } else {
      r->state = LIB_FAILED;
      snprintf(r->note, sizeof r->note, "not timed: another library failed");
    }
  }
}

/* Picks the faster peer and the speed-up, and septune's scaling. */
static void compare_layer(const libs *L, layer_row *row)
{
  row->best_peer = 0;
  row->speedup = 0;
  row->scaling = 0;
  if (L->single && row->r[0].state == LIB_OK && row->r[L->single].state == LIB_OK && row->r[0].t.median_us > 0)
    row->scaling = row->r[L->single].t.median_us / row->r[0].t.median_us;
  for (int li = 1; li < L->n; li++) {
    if (!L->peer[li] || row->r[li].state != LIB_OK) continue;
    if (!row->best_peer || row->r[li].t.median_us < row->r[row->best_peer].t.median_us)
      row->best_peer = li;
  }
  if (row->best_peer && row->r[0].state == LIB_OK && row->r[0].t.median_us > 0)
    row->speedup = row->r[row->best_peer].t.median_us / row->r[0].t.median_us;
}

/* Creates, checks and times every library on one layer. Returns -1 on a
 * setup error (already reported), else 0; row holds the outcome. */
static int run_layer(const libs *L, const bench_layer_entry *e, size_t layer_index,
                     const options *o, layer_row *row)
{
  const septune_op *op = &e->layer.op;
  tensors t;
  candidate c[MAX_LIBS];
  memset(row, 0, sizeof *row);
  if (e->layer.name[0]) snprintf(row->name, sizeof row->name, "%s", e->layer.name);
  else snprintf(row->name, sizeof row->name, "#%zu", layer_index + 1);
  bench_shape_string(op, 0, row->shape, sizeof row->shape);
  row->flops = septune_op_flops(op);
  if (tensors_make(op, o, layer_index, &t, e->where) != 0) return -1;

  const float *bias = op_has_bias(op) ? t.b : NULL;
  for (int li = 0; li < L->n; li++) {
    candidate_create(L, li, op, t.w, bias, &c[li], &row->r[li], row);
    c[li].in = t.in; /* the same buffers for everyone */
    c[li].out = t.out;
    if (row->r[li].state == LIB_OK) candidate_check(&c[li], t.ref, t.n_out, o->tol, &row->r[li]);
  }
  time_layer(L, c, row, o);
  compare_layer(L, row);
  for (int li = 0; li < L->n; li++) candidate_destroy(&c[li]);
  tensors_free(&t);
  return 0;
}

/* ---- the table ------------------------------------------------------------------ */

#define CELL_W 17 /* "%9.2f %7.1f" */

static void print_header(const libs *L)
{
  printf("%-12s %-22s", "", "");
  for (int li = 0; li < L->n; li++) printf(" | %-*s", CELL_W, L->name[li]);
  printf(" | %6s %-16s", "", "speed-up");
  if (L->single) printf(" %-8s", "scaling");
  printf(" | %s\n", "septune kernel");
  printf("%-12s %-22s", "layer", "shape");
  for (int li = 0; li < L->n; li++) printf(" | %9s %7s", "us", "GFLOP/s");
  printf(" | %6s %-16s", "%peak", "(vs faster peer)");
  if (L->single) printf(" %-8s", "(1t/Tt)");
  printf(" | %s\n", "(isa source knobs)");
}

static void print_row(const libs *L, const layer_row *row, double peak)
{
  printf("%-12s %-22s", row->name, row->shape);
  for (int li = 0; li < L->n; li++) {
    const lib_result *r = &row->r[li];
    if (r->state == LIB_OK) printf(" | %9.2f %7.1f", r->t.median_us, row->flops / (r->t.median_us * 1e3));
    else printf(" | %9s %7s", r->state == LIB_UNSUPPORTED ? "-" : "FAIL", "-");
  }
  if (row->r[0].state == LIB_OK && peak > 0)
    printf(" | %5.1f%%", 100.0 * row->flops / (row->r[0].t.median_us * 1e3) / peak);
  else printf(" | %6s", "-");
  if (row->speedup > 0) {
    char s[32];
    snprintf(s, sizeof s, "%.2fx %s", row->speedup, L->name[row->best_peer]);
    printf(" %-16s", s);
  } else printf(" %-16s", "-");
  if (L->single) {
    if (row->scaling > 0) printf(" %6.2fx ", row->scaling);
    else printf(" %-8s", "-");
  }
  printf(" | %s\n", row->have_info ? row->r[0].impl : "-");
  /* Why a library is missing from this row. */
  for (int li = 0; li < L->n; li++) {
    const lib_result *r = &row->r[li];
    if (r->state == LIB_OK) continue;
    const char *what = r->state == LIB_UNSUPPORTED ? "unsupported" : r->state == LIB_WRONG ? "WRONG" : "FAILED";
    printf("    note: %s %s: %s\n", L->name[li], what, r->note);
  }
  fflush(stdout);
}

typedef struct summary {
  int rows, compared;           /* layers run; layers with a speed-up */
  double log_sum;               /* sum of log(speed-up) */
  double min_speedup;
  int min_row;                  /* index of the minimum, -1 when none */
  double total_us[MAX_LIBS];    /* sum of medians per library */
  int total_n[MAX_LIBS];        /* layers each library was timed on */
  double best_peer_us, septune_us_compared; /* over the compared layers */
  int septune_bad;              /* layers where septune was wrong or failed */
  int peer_bad;                 /* (peer, layer) pairs wrong or failed */
  int below;                    /* layers with a speed-up below 0.9 */
  /* scaling: septune on 1 thread / on T */
  int scaled, scaled_wide;      /* layers with a scaling; of them pointwise with ci, co >= 64 */
  double scale_log, scale_log_wide, min_scaling;
  int min_scale_row;            /* -1 when none */
} summary;

/* A pointwise layer with ci and co >= 64: the ones the scaling target is for. */
static int wide_pointwise(const septune_op *op)
{
  return op->kind == SEPTUNE_OP_POINTWISE && op->u.pw.ci >= 64 && op->u.pw.co >= 64;
}

static void summarize(const libs *L, const layer_row *rows, const septune_op *const ops[], int n, summary *s)
{
  memset(s, 0, sizeof *s);
  s->rows = n;
  s->min_row = -1;
  s->min_scale_row = -1;
  for (int i = 0; i < n; i++) {
    const layer_row *row = &rows[i];
    if (row->scaling > 0) {
      s->scaled++;
      s->scale_log += log(row->scaling);
      if (wide_pointwise(ops[i])) s->scaled_wide++, s->scale_log_wide += log(row->scaling);
      if (s->min_scale_row < 0 || row->scaling < s->min_scaling) s->min_scaling = row->scaling, s->min_scale_row = i;
    }
    for (int li = 0; li < L->n; li++) {
      const lib_result *r = &row->r[li];
      if (r->state == LIB_OK) s->total_us[li] += r->t.median_us, s->total_n[li]++;
      if (r->state == LIB_WRONG || r->state == LIB_FAILED) {
        if (!L->peer[li]) s->septune_bad++;
        else s->peer_bad++;
      }
    }
    if (row->speedup > 0) {
      s->compared++;
      s->log_sum += log(row->speedup);
      s->best_peer_us += row->r[row->best_peer].t.median_us;
      s->septune_us_compared += row->r[0].t.median_us;
      if (s->min_row < 0 || row->speedup < s->min_speedup) s->min_speedup = row->speedup, s->min_row = i;
      s->below += row->speedup < 0.9;
    }
  }
}

static void print_footer(const libs *L, const layer_row *rows, const summary *s)
{
  printf("\n");
  if (s->compared > 0) {
    printf("speed-up, geometric mean over %d layer%s: %.3fx\n", s->compared,
           s->compared == 1 ? "" : "s", exp(s->log_sum / s->compared));
    printf("speed-up, minimum: %.3fx at %s (%s); %d layer%s below 0.9x\n", s->min_speedup, rows[s->min_row].name,
           rows[s->min_row].shape, s->below, s->below == 1 ? "" : "s");
    printf("speed-up of the sums (faster peer per layer %.1f us / septune %.1f us): %.3fx\n",
           s->best_peer_us, s->septune_us_compared, s->best_peer_us / s->septune_us_compared);
  } else {
    printf("speed-up: no layer where septune and a peer both ran\n");
  }
  if (s->scaled > 0) {
    printf("scaling (septune on 1 thread / on %d), geometric mean over %d layer%s: %.3fx\n", L->threads[0],
           s->scaled, s->scaled == 1 ? "" : "s", exp(s->scale_log / s->scaled));
    if (s->scaled_wide > 0)
      printf("scaling, geometric mean over the %d pointwise layer%s with ci and co >= 64: %.3fx\n", s->scaled_wide,
             s->scaled_wide == 1 ? "" : "s", exp(s->scale_log_wide / s->scaled_wide));
    printf("scaling, minimum: %.3fx at %s (%s)\n", s->min_scaling, rows[s->min_scale_row].name,
           rows[s->min_scale_row].shape);
  }
  printf("total us (sum of medians):");
  for (int li = 0; li < L->n; li++) {
    printf("  %s %.1f", L->name[li], s->total_us[li]);
    if (s->total_n[li] != s->rows) printf(" (%d of %d layers)", s->total_n[li], s->rows);
  }
  printf("\n");
  if (s->peer_bad) printf("WARNING: %d peer result%s wrong or failed (left out; see the notes)\n",
                          s->peer_bad, s->peer_bad == 1 ? " was" : "s were");
  if (s->septune_bad) printf("FAIL: septune was wrong or failed on %d layer%s\n", s->septune_bad,
                             s->septune_bad == 1 ? "" : "s");
}

/* ---- JSON ------------------------------------------------------------------------ */

static const char *state_name(lib_state s)
{
  switch (s) {
  case LIB_OK: return "ok";
  case LIB_WRONG: return "wrong";
  case LIB_FAILED: return "failed";
  default: return "unsupported";
  }
}

static void json_lib(json_writer *w, const layer_row *row, const lib_result *r)
{
  json_object_begin(w);
  json_key_string(w, "status", state_name(r->state));
  if (r->state == LIB_OK) {
    json_key_number(w, "median_us", r->t.median_us);
    json_key_number(w, "min_us", r->t.min_us);
    json_key_number(w, "max_us", r->t.max_us);
    json_key_number(w, "gflops", row->flops / (r->t.median_us * 1e3));
    json_key_number(w, "max_rel_err", r->max_rel);
  }
  if (r->impl[0]) json_key_string(w, "impl", r->impl);
  if (r->state != LIB_OK) json_key_string(w, "note", r->note);
  json_object_end(w);
}

static void json_row(json_writer *w, const libs *L, const layer_row *row, double peak)
{
  json_object_begin(w);
  json_key_string(w, "name", row->name);
  json_key_string(w, "shape", row->shape);
  json_key_number(w, "flops", row->flops);
  json_key(w, "libs");
  json_object_begin(w);
  for (int li = 0; li < L->n; li++) {
    json_key(w, L->name[li]);
    json_lib(w, row, &row->r[li]);
  }
  json_object_end(w);
  if (row->have_info) {
    json_key(w, "kernel");
    json_object_begin(w);
    json_key_string(w, "isa", septune_isa_name(row->info.isa));
    json_key_string(w, "knobs", row->info.knobs);
    json_key_int(w, "threads", row->info.threads);
    json_key_int(w, "tuned_threads", row->info.tuned_threads);
    json_key_int(w, "wake", row->info.wake);
    json_object_end(w);
  }
  if (row->r[0].state == LIB_OK && peak > 0)
    json_key_number(w, "peak_pct", 100.0 * row->flops / (row->r[0].t.median_us * 1e3) / peak);
  if (row->speedup > 0) {
    json_key_number(w, "speedup", row->speedup);
    json_key_string(w, "faster_peer", L->name[row->best_peer]);
  }
  if (row->scaling > 0) json_key_number(w, "scaling", row->scaling);
  json_object_end(w);
}

static int write_json(const options *o, const libs *L, const layer_row *rows, int n,
                      const summary *s, const char *cpu_model, double peak, int pinned)
{
  FILE *f = fopen(o->json, "w");
  json_writer w;
  if (!f) {
    fprintf(stderr, PROG ": %s: %s\n", o->json, strerror(errno));
    return -1;
  }
  json_document_begin(&w, f, "bench-layers");
  json_key_string(&w, "model", o->model);
  json_key(&w, "cpu");
  json_object_begin(&w);
  json_key_string(&w, "model", cpu_model);
  json_key_string(&w, "best_isa", septune_isa_name(septune_cpu_best_isa()));
  json_key_int(&w, "pinned", pinned);
  json_key_number(&w, "fma_peak_gflops", peak);
  json_object_end(&w);
  json_key_int(&w, "threads", o->threads);
  json_key_int(&w, "rounds", o->rounds);
  json_key_number(&w, "round_ms", o->round_ms);
  json_key_uint(&w, "seed", o->seed);
  json_key_number(&w, "tol", o->tol);
  json_key(&w, "layers");
  json_array_begin(&w);
  for (int i = 0; i < n; i++) json_row(&w, L, &rows[i], peak);
  json_array_end(&w);
  json_key(&w, "summary");
  json_object_begin(&w);
  json_key_int(&w, "compared", s->compared);
  if (s->compared > 0) {
    json_key_number(&w, "geomean_speedup", exp(s->log_sum / s->compared));
    json_key_number(&w, "min_speedup", s->min_speedup);
    json_key_string(&w, "min_layer", rows[s->min_row].name);
    json_key_int(&w, "below_0_9", s->below);
  }
  if (s->scaled > 0) {
    json_key_number(&w, "geomean_scaling", exp(s->scale_log / s->scaled));
    if (s->scaled_wide > 0) json_key_number(&w, "geomean_scaling_pw_64", exp(s->scale_log_wide / s->scaled_wide));
    json_key_number(&w, "min_scaling", s->min_scaling);
    json_key_string(&w, "min_scaling_layer", rows[s->min_scale_row].name);
  }
  json_key(&w, "total_us");
  json_object_begin(&w);
  for (int li = 0; li < L->n; li++) json_key_number(&w, L->name[li], s->total_us[li]);
  json_object_end(&w);
  json_key_int(&w, "septune_bad", s->septune_bad);
  json_key_int(&w, "peer_bad", s->peer_bad);
  json_object_end(&w);
  int bad = json_document_end(&w) != 0;
  if (fclose(f) != 0 || bad) {
    fprintf(stderr, PROG ": %s: write error\n", o->json);
    return -1;
  }
  return 0;
}

/* ---- main --------------------------------------------------------------------------- */

/* The "model name" line of /proc/cpuinfo, or "unknown" (e.g. not Linux). */
static void cpu_model_name(char *buf, size_t n)
{
  snprintf(buf, n, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) != 0) continue;
    const char *p = strchr(line, ':');
    if (!p) break;
    p++;
    while (*p == ' ' || *p == '\t') p++;
    snprintf(buf, n, "%s", p);
    buf[strcspn(buf, "\n")] = 0;
    break;
  }
  fclose(f);
}

static int wanted(const options *o, const septune_op *op)
{
  return (op->kind == SEPTUNE_OP_DEPTHWISE && (o->ops & OP_DW)) ||
         (op->kind == SEPTUNE_OP_POINTWISE && (o->ops & OP_PW));
}

int main(int argc, char **argv)
{
  options o;
  int prc = parse_args(argc, argv, &o);
  if (prc != 0) {
    usage(prc > 0 ? stdout : stderr);
    return prc > 0 ? 0 : 2;
  }
  bench_layer_list list = {0};
  if (bench_layer_list_read(&list, o.model, PROG) != 0) return 2;

  libs L = {.n = 1, .name = {"septune"}, .peer = {NULL}, .threads = {o.threads}};
  if (o.threads > 1) {
    L.single = L.n;
    L.threads[L.n] = 1;
    L.name[L.n++] = "septune/1";
  }
  bench_peers_set_threads(o.threads);
  for (int i = 0; bench_peers_all[i] && L.n < MAX_LIBS; i++) {
    L.peer[L.n] = bench_peers_all[i];
    L.name[L.n++] = bench_peers_all[i]->name;
  }

  /* Pin before measuring the peak so that both see the same core (with
   * threads: T cores, the threads every library makes inherit them). */
  int pinned = o.threads > 1 ? bench_pin_cpus(o.threads) : bench_pin_cpu(o.cpu);
  if (o.cpu >= 0 && pinned != o.cpu) {
    fprintf(stderr, PROG ": cannot pin to CPU %d\n", o.cpu);
    bench_layer_list_free(&list);
    return 2;
  }
  char cpu_model[160];
  cpu_model_name(cpu_model, sizeof cpu_model);
  /* The ceilings of this run: a layer's share of the peak means little
   * without the bandwidths that bound the layers whose bytes leave L2. */
  roofline rf;
  roofline_measure(&rf);
  double peak = rf.peak_gflops;
  const char *peak_isa = rf.peak_isa ? rf.peak_isa : "none";
  printf("CPU: %s; septune best ISA %s; ", cpu_model, septune_isa_name(septune_cpu_best_isa()));
  if (o.threads > 1 && pinned > 0)
    printf("pinned to %d CPU%s, %d threads per library%s\n", pinned, pinned == 1 ? "" : "s", o.threads,
           pinned < o.threads ? " (more threads than CPUs)" : "");
  else if (pinned >= 0) printf("pinned to CPU %d, single thread\n", pinned);
  else printf("not pinned (sched_setaffinity failed), %d thread%s\n", o.threads, o.threads == 1 ? "" : "s");
  printf("FMA peak of this core: %.1f GFLOP/s (%s)", peak, peak_isa);
  if (o.threads > 1) {
    int cores = pinned > 0 && pinned < o.threads ? pinned : o.threads;
    printf("\n");
    double each = bench_print_cpu_ceilings();
    /* %peak: of the cores the threads have */
    peak = each > 0 ? each : peak * cores;
    printf("%%peak below is of %d cores, %.1f GFLOP/s", cores, peak);
  }
  printf("\ncopy bandwidth of this core (read+write): %.1f GB/s within L2 (%zu KiB), %.1f GB/s beyond it",
         rf.bw_l2_gbs, rf.l2_bytes / 1024, rf.bw_far_gbs);
  printf("\nmodel %s, %s layers; median of %d interleaved rounds of >= %g ms per library%s\n", o.model,
         o.ops == OP_ALL ? "all" : o.ops == OP_DW ? "dw" : "pw", o.rounds, o.round_ms,
         o.threads > 1 ? ", each round after a 50 ms pause (thread pools stop spinning)" : "");
  if (L.n == 1) printf("no peer library in this build (install libxnnpack-dev / libdnnl-dev)\n");
  printf("\n");

  layer_row *rows = calloc(list.n ? list.n : 1, sizeof *rows);
  const septune_op **ops = calloc(list.n ? list.n : 1, sizeof *ops);
  if (!rows || !ops) {
    fprintf(stderr, PROG ": out of memory\n");
    bench_layer_list_free(&list);
    return 2;
  }
  int nrows = 0, rc = 0;
  print_header(&L);
  for (size_t i = 0; i < list.n; i++) {
    if (!wanted(&o, &list.v[i].layer.op)) continue;
    if (run_layer(&L, &list.v[i], i, &o, &rows[nrows]) != 0) {
      rc = 2;
      break;
    }
    print_row(&L, &rows[nrows], peak);
    ops[nrows] = &list.v[i].layer.op;
    nrows++;
  }

  summary s;
  summarize(&L, rows, ops, nrows, &s);
  print_footer(&L, rows, &s);
  if (rc == 0 && nrows == 0) {
    fprintf(stderr, PROG ": %s has no layer of the kind asked for (--op)\n", o.model);
    rc = 2;
  }
  if (rc == 0 && o.json && write_json(&o, &L, rows, nrows, &s, cpu_model, peak, pinned) != 0) rc = 2;
  if (rc == 0 && (s.septune_bad || (o.strict && s.peer_bad))) rc = 1;
  free(rows);
  free(ops);
  bench_layer_list_free(&list);
  return rc;
}

/*
 * test_pointwise.c — generated pointwise (1x1) kernels against the reference
 * on randomized shapes, for every ISA this CPU has, plus fixed edge cases.
 *
 * Each random shape is checked with the default knobs (one thread) and with
 * one knob set drawn from the shape's search space (when it has more than
 * one member: scalar's has one) for 1 to 3 threads, half the time with a
 * work split drawn from its split space (scalar: a drawn split of its one
 * knob set), run on those threads.
 * SEPTUNE_TEST_SEED and SEPTUNE_TEST_SHAPES override the seed and the number
 * of shapes; a failure prints the seed, the layer line, the ISA and the knobs
 * to reproduce it, and a crash prints the case it was running. The seed
 * printed for a shape, given as SEPTUNE_TEST_SEED with SEPTUNE_TEST_SHAPES=1,
 * reruns that shape with the same data (the drawn knobs may differ: pass
 * those printed to `septune run ... --knobs`).
 *
 * The shape distribution (per ISA, 1,000 shapes by default):
 *   ci, co       40% from EDGE_CHANNELS (primes, multiples of 16 +-1 for every
 *                vector width, MobileNet widths, 1299/1300), 30% uniform in
 *                1..64 (the tails of every vector and register tile), 30%
 *                uniform in 1..1300;
 *   pixels       n*h*w, drawn the same way from EDGE_PIXELS, 1..64 and
 *                1..5000; n in 1..3 divides it and h is a random divisor of
 *                the rest, so prime pixel counts give 1 x p images;
 *   work cap     pixels*ci*co (the cost of the reference and of the scalar
 *                kernel, which libtcc compiles without optimisation) is kept
 *                <= 1e6 for 3 shapes in 4 and <= 4e7 for the rest: while a
 *                draw is over its cap, one of the three (at random) is redrawn
 *                below cap / (the other two). About 1.5e6 multiply-adds per
 *                shape on average; each range end (pixels 5000, ci 1300,
 *                co 1300) comes up about 5-10 times per 1,000 shapes;
 *   the rest     bias 0/1 (no bias passes a NULL bias pointer), every
 *                activation, clamp bounds random on the scale of the outputs
 *                (sometimes equal, so the clamp is a constant).
 * Input and output end flush against an unreadable page (every other shape
 * 64-byte aligned, the others wherever the end puts them), so a kernel that
 * reads or writes past its tensor crashes here instead of somewhere else.
 */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "generator.h"
#include "septune.h"
#include "test_guard.h"
#include "test_random.h"
#include "test_split.h"
#include "test_ops.h"

#define SMALL_CAP 1e6
#define LARGE_CAP 4e7
#define MAX_PIXELS 5000
#define MAX_CHANNELS 1300

static const int64_t EDGE_CHANNELS[] = {
  1, 2, 3, 4, 5, 7, 8, 13, 15, 16, 17, 24, 31, 32, 33, 37, 40, 47, 48, 49, 61, 63, 64, 65,
  72, 95, 96, 97, 112, 120, 127, 128, 129, 144, 160, 192, 240, 255, 256, 257, 320, 384, 480,
  576, 960, 1031, 1280, 1297, 1299, 1300,
};
static const int64_t EDGE_PIXELS[] = {
  1, 2, 3, 4, 5, 7, 9, 13, 16, 17, 31, 49, 64, 97, 196, 784, 1024, 3136, 4096, 4999, 5000,
};

/* Uniform in [0, 1). */
static double unit(void) { return (double)(rng() >> 11) * (1.0 / 9007199254740992.0); }

/* One of the edges <= hi (1 is always there), a small value or any value in
 * 1..hi: see the distribution in the comment at the top. */
static int64_t pick_dim(const int64_t *edges, size_t n_edges, int64_t hi)
{
  uint64_t r = rng() % 10;
  if (r < 4) {
    size_t fit = 0;
    while (fit < n_edges && edges[fit] <= hi) fit++;
    return edges[rng() % fit];
  }
  if (r < 7) return pick(1, hi < 64 ? hi : 64);
  return pick(1, hi);
}

/* Sets n, h, w so that n*h*w == pixels: n in 1..3 dividing it, h a random
 * divisor of the rest. */
static void split_pixels(septune_pointwise_desc *p, int64_t pixels)
{
  int64_t ns[3], count = 0;
  for (int64_t n = 1; n <= 3; n++)
    if (pixels % n == 0) ns[count++] = n;
  p->n = ns[rng() % (uint64_t)count];
  int64_t hw = pixels / p->n, divisors[128], nd = 0;
  for (int64_t d = 1; d <= hw && nd < 128; d++)
    if (hw % d == 0) divisors[nd++] = d;
  p->h = divisors[rng() % (uint64_t)nd];
  p->w = hw / p->h;
}

/* A random valid pointwise op within the work caps. */
static void random_op(septune_op *op)
{
  static const septune_activation acts[] = { SEPTUNE_ACT_NONE, SEPTUNE_ACT_RELU, SEPTUNE_ACT_RELU6,
                                             SEPTUNE_ACT_CLAMP, SEPTUNE_ACT_HSWISH, SEPTUNE_ACT_HSIGMOID,
                                             SEPTUNE_ACT_SIGMOID, SEPTUNE_ACT_SILU, SEPTUNE_ACT_GELU,
                                             SEPTUNE_ACT_GELU_TANH };
  const size_t nc = sizeof EDGE_CHANNELS / sizeof EDGE_CHANNELS[0];
  const size_t np = sizeof EDGE_PIXELS / sizeof EDGE_PIXELS[0];
  double cap = (rng() % 4) ? SMALL_CAP : LARGE_CAP;
  int64_t v[3] = { pick_dim(EDGE_PIXELS, np, MAX_PIXELS), pick_dim(EDGE_CHANNELS, nc, MAX_CHANNELS),
                   pick_dim(EDGE_CHANNELS, nc, MAX_CHANNELS) };
  while ((double)v[0] * (double)v[1] * (double)v[2] > cap) {
    int k = (int)(rng() % 3);
    double others = (double)v[0] * (double)v[1] * (double)v[2] / (double)v[k];
    int64_t max = k == 0 ? MAX_PIXELS : MAX_CHANNELS;
    double hi = cap / others < (double)max ? cap / others : (double)max;
    /* When even 1 does not fit, shrink this one anyway; the others follow. */
    if (hi < 1) v[k] = pick(1, 64);
    else if (k == 0) v[k] = pick_dim(EDGE_PIXELS, np, (int64_t)hi);
    else v[k] = pick_dim(EDGE_CHANNELS, nc, (int64_t)hi);
  }
  *op = make_pw(1, 1, v[1], v[2]);
  septune_pointwise_desc *p = &op->u.pw;
  split_pixels(p, v[0]);
  p->has_bias = (int)(rng() & 1);
  p->act = acts[rng() % (sizeof acts / sizeof acts[0])];
  /* Outputs are sums of ci products of values in [-1, 1): about
   * 0.33*sqrt(ci) wide. Bounds on that scale clip both sides sometimes. */
  double scale = 0.33 * sqrt((double)p->ci) + 0.1;
  p->act_min = (float)(scale * (unit() * 2.0 - 1.5));
  p->act_max = (rng() % 8) ? (float)(p->act_min + scale * unit() * 2.0) : p->act_min;
  assert_int_equal(septune_op_validate(op, NULL), SEPTUNE_OK);
}

/* ---- one shape: tensors, the reference, and any number of plans --------- */

typedef struct shape_data {
  septune_op op;
  char line[256];
  size_t ni, no, nw, nb;
  float *w, *bias; /* bias NULL when the op has none */
  float *in, *want, *got;
  int aligned;     /* in and got start on 64 bytes */
  guarded g_in, g_got;
} shape_data;

static void shape_make(shape_data *s, const septune_op *op, unsigned long long seed, int aligned)
{
  septune_error err;
  memset(s, 0, sizeof *s);
  s->op = *op;
  septune_op_format(op, s->line, sizeof s->line);
  assert_int_equal(septune_op_tensor_sizes(op, &s->ni, &s->no, &s->nw, &s->nb, &err), SEPTUNE_OK);
  s->aligned = aligned || (s->ni % 16 == 0 && s->no % 16 == 0);
  s->w = malloc(s->nw * sizeof(float));
  s->want = malloc(s->no * sizeof(float));
  assert_non_null(s->w);
  assert_non_null(s->want);
  s->in = guarded_alloc(&s->g_in, s->ni, aligned);
  s->got = guarded_alloc(&s->g_got, s->no, aligned);
  unsigned long long r = seed | 1;
  septune_fill_random(s->in, s->ni, &r);
  septune_fill_random(s->w, s->nw, &r);
  if (op->u.pw.has_bias) {
    s->bias = malloc(s->nb * sizeof(float));
    assert_non_null(s->bias);
    septune_fill_random(s->bias, s->nb, &r);
  }
  if (septune_reference_execute(op, s->w, s->bias, s->in, s->want, &err) != SEPTUNE_OK) {
    print_error("reference failed for '%s': %s\n", s->line, err.message);
    fail();
  }
}

static void shape_free(shape_data *s)
{
  free(s->w);
  free(s->bias);
  free(s->want);
  guarded_free(&s->g_in);
  guarded_free(&s->g_got);
}

/* Executes a created plan on the shape, compares with the reference and
 * destroys the plan; returns 1 if it matches and the plan reports the ISA
 * and knobs it was asked for (knobs NULL: any). */
static int run_plan(shape_data *s, septune_plan *plan, septune_isa isa, const char *knobs,
                    unsigned long long seed)
{
  septune_error err;
  septune_plan_info info;
  int ok = 0;
  assert_int_equal(septune_plan_get_info(plan, &info), SEPTUNE_OK);
  snprintf(current_case, sizeof current_case, "seed %llu: '%s' isa=%s knobs=%s (tensors %saligned)", seed,
           s->line, septune_isa_name(isa), info.knobs, s->aligned ? "" : "un");
  for (size_t i = 0; i < s->no; i++) s->got[i] = 12345.0f; /* every element must be written */
  if (septune_execute(plan, s->in, s->got, &err) != SEPTUNE_OK) {
    print_error("%s: execute failed: %s\n", current_case, err.message);
  } else if (info.isa != isa || (knobs && !knobs_as_asked(info.knobs, knobs))) {
    print_error("%s: the plan reports isa=%s knobs=%s, asked for knobs=%s\n", current_case,
                septune_isa_name(info.isa), info.knobs, knobs);
  } else {
    septune_check_result r;
    ok = septune_check_output(&s->op, s->want, s->got, s->no, &r);
    if (!ok)
      print_error("%s: element %zu (pixel %zu, co %zu) got %g want %g (max |error| %.3g)\n", current_case,
                  r.worst_index, r.worst_index / (size_t)s->op.u.pw.co, r.worst_index % (size_t)s->op.u.pw.co,
                  (double)s->got[r.worst_index], (double)s->want[r.worst_index], r.max_abs_error);
  }
  septune_plan_destroy(plan);
  return ok;
}

/* plan_create on the shape for `threads` threads; *st gets its status. */
static septune_plan *create(shape_data *s, septune_isa isa, const char *knobs, int threads, septune_status *st,
                            septune_error *err)
{
  /* db_path "": no tuning database, so "default" is the heuristic's */
  septune_plan_options opts = { .isa = isa, .knobs = knobs, .db_path = "", .threads = threads };
  septune_plan *plan = NULL;
  *st = septune_plan_create(&s->op, s->w, s->bias, &opts, &plan, err);
  return plan;
}

/* Runs the shape with `knobs` (NULL: default) on `isa` and `threads`
 * threads; returns 1 if it matches the reference. */
static int check_plan(shape_data *s, septune_isa isa, const char *knobs, int threads, unsigned long long seed)
{
  septune_error err;
  septune_status st;
  snprintf(current_case, sizeof current_case, "seed %llu: '%s' isa=%s knobs=%s threads=%d (tensors %saligned)", seed,
           s->line, septune_isa_name(isa), knobs ? knobs : "(default)", threads, s->aligned ? "" : "un");
  septune_plan *plan = create(s, isa, knobs, threads, &st, &err);
  if (st != SEPTUNE_OK) {
    print_error("%s: plan_create failed: %s\n", current_case, err.message);
    return 0;
  }
  return run_plan(s, plan, isa, knobs, seed);
}

/* ---- knob sets drawn from the search space ------------------------------ */

/* Listing a shape's space enumerates every combination of knob values (tens
 * of milliseconds), too slow to do for thousands of shapes. But knob
 * validity compares knob values with the shape's sizes, so a shape's space
 * holds the space of every shape no larger in pixels, ci and co. The spaces
 * of a few "ceiling" shapes (each size rounded up to 16, 128 or the range
 * maximum) are listed once per ISA, when first needed; a shape's knob set is
 * drawn from its ceiling's space by trying members in random order (without
 * repeats) with plan_create, which refuses a member invalid for the shape as
 * UNSUPPORTED before rendering anything. The first it accepts is a uniform
 * draw from the shape's space. After MAX_TRIES refusals (or if the premise
 * ever fails) the shape's own space is listed and drawn from instead. */
#define MAX_TRIES 1000

static const int64_t CEIL_PIXELS[] = { 16, 128, MAX_PIXELS };
static const int64_t CEIL_CHANNELS[] = { 16, 128, MAX_CHANNELS };

typedef struct superset {
  char *text;      /* the space listing, lines cut at '\n'; NULL until listed */
  char **lines;
  size_t count;
} superset;

typedef struct supersets {
  septune_isa isa;
  superset by_ceiling[3][3][3]; /* [pixels][ci][co] */
  int listed;                   /* spaces listed so far */
} supersets;

/* Lists op's space on isa. The listing runs in a child process: it walks
 * every combination of knob values, and what LuaJIT compiles while doing so
 * stays in the generator's state, where each later render's full garbage
 * collection walks it (a failing render goes from ~25 us to ~1 ms). */
static char *space_of(const septune_op *op, septune_isa isa)
{
  int fd[2];
  assert_int_equal(pipe(fd), 0);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char *space = NULL;
    septune_error err;
    close(fd[0]);
    if (septune_gen_call("space", op, isa, NULL, &space, &err) != SEPTUNE_OK) {
      fprintf(stderr, "space: %s\n", err.message);
      _exit(1);
    }
    size_t len = strlen(space), done = 0;
    while (done < len) {
      ssize_t w = write(fd[1], space + done, len - done);
      if (w <= 0) _exit(1);
      done += (size_t)w;
    }
    _exit(0);
  }
  close(fd[1]);
  size_t len = 0, cap = 1 << 16;
  char *text = malloc(cap);
  assert_non_null(text);
  for (;;) {
    if (len + 1 == cap) {
      text = realloc(text, cap *= 2);
      assert_non_null(text);
    }
    ssize_t r = read(fd[0], text + len, cap - 1 - len);
    if (r <= 0) break;
    len += (size_t)r;
  }
  text[len] = 0;
  close(fd[0]);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    print_error("listing the space of a pointwise op on %s failed\n", septune_isa_name(isa));
    fail();
  }
  return text;
}

/* Cuts text into lines in place; returns their count (0 for ""). */
static size_t split_lines(char *text, char ***lines)
{
  size_t count = 0, cap = 1;
  for (char *p = text; *p; p++) cap += *p == '\n';
  *lines = malloc(cap * sizeof **lines);
  assert_non_null(*lines);
  for (char *p = text; *p;) {
    (*lines)[count++] = p;
    char *nl = strchr(p, '\n');
    if (!nl) break;
    *nl = 0;
    p = nl + 1;
  }
  return count;
}

static int ceiling(const int64_t *ceils, int64_t v)
{
  int i = 0;
  while (ceils[i] < v) i++;
  return i;
}

/* The superset for op's shape, listed on first use. */
static superset *superset_for(supersets *all, const septune_op *op)
{
  const septune_pointwise_desc *p = &op->u.pw;
  int ip = ceiling(CEIL_PIXELS, p->n * p->h * p->w), ic = ceiling(CEIL_CHANNELS, p->ci),
      io = ceiling(CEIL_CHANNELS, p->co);
  superset *u = &all->by_ceiling[ip][ic][io];
  if (!u->text) {
    septune_op top = make_pw(1, CEIL_PIXELS[ip], CEIL_CHANNELS[ic], CEIL_CHANNELS[io]);
    u->text = space_of(&top, all->isa);
    u->count = split_lines(u->text, &u->lines);
    all->listed++;
  }
  return u;
}

static void supersets_free(supersets *all)
{
  for (int i = 0; i < 27; i++) {
    superset *u = &all->by_ceiling[i / 9][i / 3 % 3][i % 3];
    free(u->text);
    free(u->lines);
  }
  memset(all, 0, sizeof *all);
}

/* Checks the shape with one knob set drawn from its space (see above);
 * returns 1 if it matches. *drawn is set to the checks made (0 or 1);
 * *tries counts plan_create calls, *own the shapes whose own space had to
 * be listed. */
static int check_random_knobs(shape_data *s, supersets *all, unsigned long long seed, int *drawn,
                              unsigned long long *tries, int *own)
{
  septune_error err;
  septune_status st;
  superset *u = superset_for(all, &s->op);
  int threads = (int)pick(1, 3);
  *drawn = 0;
  for (size_t t = 0; t < MAX_TRIES && t < u->count; t++) {
    /* one step of a Fisher-Yates shuffle: lines[t] becomes a random unused one */
    size_t j = t + (size_t)(rng() % (u->count - t));
    char *tmp = u->lines[t];
    u->lines[t] = u->lines[j];
    u->lines[j] = tmp;
    (*tries)++;
    septune_plan *plan = create(s, all->isa, u->lines[t], threads, &st, &err);
    if (st == SEPTUNE_ERR_UNSUPPORTED) continue;
    *drawn = 1;
    if (st != SEPTUNE_OK) {
      print_error("seed %llu: '%s' isa=%s knobs=%s: plan_create failed: %s\n", seed, s->line,
                  septune_isa_name(all->isa), u->lines[t], err.message);
      return 0;
    }
    /* half the time the default split for the threads, else a drawn one */
    char *split = rng() % 2 ? random_split(&s->op, all->isa, u->lines[t], threads) : NULL;
    if (!split) return run_plan(s, plan, all->isa, u->lines[t], seed);
    septune_plan_destroy(plan);
    int ok = check_plan(s, all->isa, split, threads, seed);
    free(split);
    return ok;
  }
  (*own)++;
  char *text = space_of(&s->op, all->isa), **lines;
  size_t count = split_lines(text, &lines);
  int ok = 1;
  if (count > 1) {
    *drawn = 1;
    ok = check_plan(s, all->isa, lines[rng() % count], threads, seed);
  }
  free(lines);
  free(text);
  return ok;
}

static void random_shapes(septune_isa isa)
{
  if (!septune_cpu_has_isa(isa)) {
    print_message("skipped: this CPU has no %s\n", septune_isa_name(isa));
    skip();
  }
  catch_crashes();
  unsigned long long seed = env_ull("SEPTUNE_TEST_SEED", 20261207ull + (unsigned)isa);
  unsigned long long shapes = env_ull("SEPTUNE_TEST_SHAPES", 1000);
  int failures = 0, own = 0;
  unsigned long long configs = 0, tries = 0;
  double macs = 0;
  int64_t max_pixels = 0, max_ci = 0, max_co = 0;
  supersets all;
  memset(&all, 0, sizeof all);
  all.isa = isa;
  /* a space of one member (scalar's) is the default, checked anyway */
  septune_op largest = make_pw(1, MAX_PIXELS, MAX_CHANNELS, MAX_CHANNELS);
  int one_config = superset_for(&all, &largest)->count <= 1;
  rng_state = seed;
  for (unsigned long long i = 0; i < shapes && failures < 5; i++) {
    unsigned long long shape_seed = rng_state;
    septune_op op;
    random_op(&op);
    const septune_pointwise_desc *p = &op.u.pw;
    int64_t pixels = p->n * p->h * p->w;
    macs += (double)pixels * (double)p->ci * (double)p->co;
    if (pixels > max_pixels) max_pixels = pixels;
    if (p->ci > max_ci) max_ci = p->ci;
    if (p->co > max_co) max_co = p->co;
    shape_data s;
    shape_make(&s, &op, shape_seed, (int)(i & 1));
    failures += !check_plan(&s, isa, NULL, 1, shape_seed);
    configs++;
    if (!one_config) {
      int drawn;
      failures += !check_random_knobs(&s, &all, shape_seed, &drawn, &tries, &own);
      configs += (unsigned long long)drawn;
    } else {
      /* one knob set: a drawn work split of it */
      int threads = (int)pick(1, 3);
      char *split = random_split(&op, isa, NULL, threads);
      if (split) failures += !check_plan(&s, isa, split, threads, shape_seed), configs++;
      free(split);
    }
    shape_free(&s);
    rng_state = shape_seed;
    random_op(&op); /* keep the stream independent of how many knobs were drawn */
  }
  int listed = all.listed;
  supersets_free(&all);
  if (failures)
    print_error("%s: %d failing cases; rerun with SEPTUNE_TEST_SEED=%llu\n", septune_isa_name(isa), failures,
                seed);
  assert_int_equal(failures, 0);
  print_message("%s: %llu random shapes, %llu configs match the reference (seed %llu). %.3g multiply-adds "
                "per shape on average; largest pixels %lld, ci %lld, co %lld; %.1f plan_create tries per knob "
                "draw, %d ceiling and %d shape spaces listed\n",
                septune_isa_name(isa), shapes, configs, seed, macs / (double)(shapes ? shapes : 1),
                (long long)max_pixels, (long long)max_ci, (long long)max_co,
                (double)tries / (double)(configs > shapes ? configs - shapes : 1), listed, own);
}

static void random_scalar(void **state) { (void)state; random_shapes(SEPTUNE_ISA_SCALAR); }
static void random_sse(void **state) { (void)state; random_shapes(SEPTUNE_ISA_SSE); }
static void random_avx2(void **state) { (void)state; random_shapes(SEPTUNE_ISA_AVX2); }
static void random_avx512(void **state) { (void)state; random_shapes(SEPTUNE_ISA_AVX512); }

static const septune_isa ALL_ISAS[] = { SEPTUNE_ISA_SCALAR, SEPTUNE_ISA_SSE, SEPTUNE_ISA_AVX2,
                                        SEPTUNE_ISA_AVX512 };

/* Checks op on every ISA present, with the default knobs; returns failures. */
static int check_everywhere(const septune_op *op, unsigned long long seed)
{
  int failures = 0;
  for (size_t j = 0; j < sizeof ALL_ISAS / sizeof ALL_ISAS[0]; j++) {
    if (!septune_cpu_has_isa(ALL_ISAS[j])) continue;
    for (int aligned = 0; aligned <= 1; aligned++) {
      shape_data s;
      shape_make(&s, op, seed, aligned);
      failures += !check_plan(&s, ALL_ISAS[j], NULL, 1, seed);
      shape_free(&s);
    }
  }
  return failures;
}

/* Shapes at the edges of the ranges, checked on every ISA present. */
static void edge_cases(void **state)
{
  (void)state;
  static const char *lines[] = {
    "pw h=1 w=1 ci=1 co=1",
    "pw h=1 w=1 ci=1300 co=1 bias=1",                 /* co=1 under the longest K */
    "pw h=7 w=7 ci=1300 co=1 act=relu",
    "pw h=50 w=100 ci=1 co=17 act=relu6",             /* 5000 pixels, K=1 */
    "pw h=50 w=100 ci=1 co=1300 bias=1",              /* 5000 pixels, the widest N */
    "pw h=50 w=100 ci=1300 co=1",                     /* 5000 pixels, the longest K */
    "pw h=1 w=3 ci=1297 co=1297 bias=1",              /* prime ci=co, few pixels */
    "pw n=2 h=1 w=1 ci=1297 co=1297 act=hswish",
    "pw h=1 w=1 ci=1300 co=64 act=relu6",             /* large K, tiny M */
    "pw h=1 w=2 ci=1300 co=1300 bias=1",
    "pw n=3 h=1 w=1 ci=1300 co=33",
    "pw h=1 w=4999 ci=3 co=5",                        /* a prime pixel count */
    "pw n=3 h=5 w=7 ci=17 co=31 bias=1 act=clamp(-0.3,0.2)",
    "pw h=14 w=14 ci=384 co=64 act=relu6",            /* MobileNetV2 */
    "pw h=7 w=7 ci=960 co=320",
    "pw h=7 w=7 ci=320 co=1280 act=relu6 bias=1",
    "pw h=56 w=56 ci=24 co=144 act=relu6",
    "pw h=28 w=28 ci=15 co=16 bias=1",                /* vector widths +-1 */
    "pw h=9 w=9 ci=17 co=15 bias=1",
    "pw h=9 w=9 ci=33 co=31 bias=1",
    "pw h=9 w=9 ci=63 co=65 bias=1",
    "pw h=9 w=9 ci=97 co=95 bias=1",
    "pw h=9 w=9 ci=49 co=47 act=clamp(0,0)",          /* a constant output */
  };
  int failures = 0;
  catch_crashes();
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    septune_layer layer;
    septune_error err;
    if (septune_layer_parse(lines[i], &layer, &err) != SEPTUNE_OK) {
      print_error("'%s': %s\n", lines[i], err.message);
      fail();
    }
    failures += check_everywhere(&layer.op, 7 + i);
  }
  assert_int_equal(failures, 0);
}

/* Every activation on one shape, clamp with finite and infinite bounds. */
static void every_activation(void **state)
{
  (void)state;
  static const struct { septune_activation act; float lo, hi; } acts[] = {
    { SEPTUNE_ACT_NONE, 0, 0 },      { SEPTUNE_ACT_RELU, 0, 0 },
    { SEPTUNE_ACT_RELU6, 0, 0 },     { SEPTUNE_ACT_HSWISH, 0, 0 },
    { SEPTUNE_ACT_HSIGMOID, 0, 0 },  { SEPTUNE_ACT_SIGMOID, 0, 0 },
    { SEPTUNE_ACT_SILU, 0, 0 },      { SEPTUNE_ACT_GELU, 0, 0 },
    { SEPTUNE_ACT_GELU_TANH, 0, 0 },
    { SEPTUNE_ACT_CLAMP, -0.5f, 0.75f }, { SEPTUNE_ACT_CLAMP, 1.0f, 1.0f },
    { SEPTUNE_ACT_CLAMP, -INFINITY, 0.25f }, { SEPTUNE_ACT_CLAMP, -0.25f, INFINITY },
    { SEPTUNE_ACT_CLAMP, -INFINITY, INFINITY },
  };
  int failures = 0;
  catch_crashes();
  for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
    for (int bias = 0; bias <= 1; bias++) {
      /* ci=200: outputs up to about +-8, past relu6's and hswish's bends */
      septune_op op = make_pw(3, 11, 200, 37);
      op.u.pw.n = 2;
      op.u.pw.has_bias = bias;
      op.u.pw.act = acts[i].act;
      op.u.pw.act_min = acts[i].lo;
      op.u.pw.act_max = acts[i].hi;
      failures += check_everywhere(&op, 100 + i);
    }
  assert_int_equal(failures, 0);
}

/* The reference itself: every element is the float sum over ci in
 * ascending order, then bias, then the activation — checked bit for bit
 * against the loop written the obvious way (when the compiler cannot fuse
 * multiply-adds, which would legitimately change the last bits). */
static void reference_sums_in_ci_order(void **state)
{
  (void)state;
  static const int64_t shapes[][3] = { { 1, 1, 1 }, { 3, 5, 7 }, { 17, 1300, 3 }, { 2, 31, 1300 }, { 40, 64, 65 } };
  for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
    septune_op op = make_pw(1, shapes[k][0], shapes[k][1], shapes[k][2]);
    op.u.pw.has_bias = 1;
    op.u.pw.act = SEPTUNE_ACT_RELU;
    shape_data s;
    shape_make(&s, &op, 5 + k, 1);
    size_t mismatches = 0;
    for (int64_t px = 0; px < op.u.pw.w; px++)
      for (int64_t o = 0; o < op.u.pw.co; o++) {
        float acc = 0.0f;
        for (int64_t i = 0; i < op.u.pw.ci; i++) acc += s.in[px * op.u.pw.ci + i] * s.w[i * op.u.pw.co + o];
        acc += s.bias[o];
        acc = acc < 0.0f ? 0.0f : acc;
        float got = s.want[px * op.u.pw.co + o];
#if defined(__x86_64__) && !defined(__FMA__)
        mismatches += got != acc;
#else
        mismatches += fabsf(got - acc) > 1e-4f * (1.0f + fabsf(acc));
#endif
      }
    if (mismatches) print_error("'%s': %zu elements differ from the obvious loop\n", s.line, mismatches);
    assert_int_equal(mismatches, 0);
    shape_free(&s);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(reference_sums_in_ci_order),
    cmocka_unit_test(edge_cases),
    cmocka_unit_test(every_activation),
    cmocka_unit_test(random_scalar),
    cmocka_unit_test(random_sse),
    cmocka_unit_test(random_avx2),
    cmocka_unit_test(random_avx512),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

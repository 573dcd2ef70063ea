/*
 * test_generic.c — the generic kernels of libseptune_rt (generic.h) against
 * the reference, for every variant this CPU can run, on random shapes and
 * fixed edge cases; and the variant selection.
 *
 * Each variant is forced with septune_generic_select(isa) for every ISA
 * septune_cpu_has_isa accepts. Per variant, by default:
 *   depthwise  1500 shapes: h, w 1..40, c 1..70 (half of the draws from the
 *              vector widths +-1), kh and kw 1..5 each (3x3 for a quarter
 *              of the shapes: the kernels have their own code for it),
 *              stride 1..3 and dilation 1..2 per axis, each padding
 *              0..reach+1 (sometimes beyond, so some outputs have no tap at
 *              all), n 1..2;
 *   pointwise  600 shapes: pixels 1..3000, ci and co 1..300 (40% from the
 *              widths +-1), n 1..3; pixels*ci*co <= 1e6 for 3 shapes in 4,
 *              <= 2e7 for the rest;
 * each with a random activation (clamp bounds on the scale of the outputs)
 * and bias or none. SEPTUNE_TEST_SHAPES overrides both counts,
 * SEPTUNE_TEST_SEED the seed; a failure prints the shape's own seed, which
 * with SEPTUNE_TEST_SHAPES=1 reruns just that shape.
 *
 * Input, output and packed weights end flush against a PROT_NONE page (every
 * other shape starts them on 64 bytes instead, a few bytes short of the
 * page), so a kernel that reads or writes past a tensor crashes here; a
 * crash prints the case it was running. Outputs start as NaN, so an element
 * never written fails the check.
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
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "generic.h"
#include "septune.h"
#include "test_guard.h"
#include "test_random.h"

#define DW_SHAPES 1500
#define PW_SHAPES 600
#define MAX_REPORTS 10 /* failures printed per test */

static const septune_isa ISAS[] = { SEPTUNE_ISA_SCALAR, SEPTUNE_ISA_SSE, SEPTUNE_ISA_AVX2,
                                    SEPTUNE_ISA_AVX512 };
static const septune_activation ACTS[] = { SEPTUNE_ACT_NONE,    SEPTUNE_ACT_RELU,    SEPTUNE_ACT_RELU6,
                                           SEPTUNE_ACT_CLAMP,   SEPTUNE_ACT_HSWISH,  SEPTUNE_ACT_HSIGMOID,
                                           SEPTUNE_ACT_SIGMOID, SEPTUNE_ACT_SILU,    SEPTUNE_ACT_GELU,
                                           SEPTUNE_ACT_GELU_TANH };

/* ---- the variants to test -------------------------------------------------- */

/* The distinct variants this CPU runs, each forced through select. */
static size_t runnable_variants(const septune_generic_kernels *out[4])
{
  size_t n = 0;
  for (size_t i = 0; i < sizeof ISAS / sizeof ISAS[0]; i++) {
    if (!septune_cpu_has_isa(ISAS[i])) continue;
    const septune_generic_kernels *k = septune_generic_select(ISAS[i]);
    assert_non_null(k);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    /* every variant is built on x86-64 */
    assert_int_equal(k->isa, ISAS[i]);
#endif
    if (n == 0 || out[n - 1] != k) out[n++] = k;
  }
  return n;
}

/* ---- one shape --------------------------------------------------------------- */

typedef struct shape {
  septune_op op;
  char line[256];
  size_t ni, no, nw, nb;
  float *w, *bias, *want; /* bias NULL when the op has none */
  float *in, *got, *packed;
  int aligned;
  guarded g_in, g_got, g_packed;
} shape;

/* Tensors, random data and the reference output of op. */
static void shape_make(shape *s, const septune_op *op, unsigned long long seed, int aligned)
{
  septune_error err;
  int has_bias = op->kind == SEPTUNE_OP_DEPTHWISE ? op->u.dw.has_bias : op->u.pw.has_bias;
  unsigned long long r = seed | 1;
  memset(s, 0, sizeof *s);
  s->op = *op;
  s->aligned = aligned;
  septune_op_format(op, s->line, sizeof s->line);
  assert_int_equal(septune_op_tensor_sizes(op, &s->ni, &s->no, &s->nw, &s->nb, &err), SEPTUNE_OK);
  s->w = malloc(s->nw * sizeof(float));
  s->want = malloc(s->no * sizeof(float));
  assert_non_null(s->w);
  assert_non_null(s->want);
  s->in = guarded_alloc(&s->g_in, s->ni, aligned);
  s->got = guarded_alloc(&s->g_got, s->no, aligned);
  septune_fill_random(s->in, s->ni, &r);
  septune_fill_random(s->w, s->nw, &r);
  if (has_bias) {
    s->bias = malloc(s->nb * sizeof(float));
    assert_non_null(s->bias);
    septune_fill_random(s->bias, s->nb, &r);
  }
  if (septune_reference_execute(op, s->w, s->bias, s->in, s->want, &err) != SEPTUNE_OK) {
    print_error("reference failed for '%s': %s\n", s->line, err.message);
    fail();
  }
}

static void shape_free(shape *s)
{
  free(s->w);
  free(s->bias);
  free(s->want);
  guarded_free(&s->g_in);
  guarded_free(&s->g_got);
  guarded_free(&s->g_packed);
}

/* The cache budgets a shape runs with: this CPU's for even seeds, a small
 * machine's (16 KiB L1d, 256 KiB L2) for odd ones, so that blocking and
 * tile choices for streaming layers are exercised on small shapes too. */
static const septune_cache_budget *budget_for(unsigned long long seed)
{
  static septune_cache_budget b[2];
  static int ready;
  if (!ready) {
    septune_caches small = { 16 * 1024, 256 * 1024, 0 };
    septune_cpu_cache_budget(&b[0]);
    septune_cache_budget_of(&small, &b[1]);
    ready = 1;
  }
  return &b[seed & 1];
}

/* The depthwise layout generic.h documents: rows of
 * round_up(c, SEPTUNE_KERNEL_PACK_LANES) floats, the bias (zeros when none)
 * then one per tap in [kh][kw] order, zero past c. */
static void pack_dw(shape *s)
{
  const septune_depthwise_desc *d = &s->op.u.dw;
  size_t c = (size_t)d->c, taps = (size_t)(d->kh * d->kw);
  size_t cpad = (c + SEPTUNE_KERNEL_PACK_LANES - 1) / SEPTUNE_KERNEL_PACK_LANES * SEPTUNE_KERNEL_PACK_LANES;
  s->packed = guarded_alloc(&s->g_packed, (1 + taps) * cpad, s->aligned);
  memset(s->packed, 0, (1 + taps) * cpad * sizeof(float));
  for (size_t x = 0; x < c; x++) {
    if (s->bias) s->packed[x] = s->bias[x];
    for (size_t t = 0; t < taps; t++) s->packed[(1 + t) * cpad + x] = s->w[t * c + x];
  }
}

static void pack_pw(shape *s, const septune_generic_kernels *k, const septune_cache_budget *b)
{
  size_t n = k->pw_packed_floats(&s->op.u.pw, b);
  s->packed = guarded_alloc(&s->g_packed, n, s->aligned);
  for (size_t i = 0; i < n; i++) s->packed[i] = NAN; /* the packer must write every float */
  k->pw_pack(&s->op.u.pw, b, s->w, s->bias, s->packed);
}

/* Runs variant k on the shape and compares with the reference; returns 1
 * if it matches. The work is split for 1 to 4 threads (by the seed) and run
 * in chunks of random length, as threads would take it. */
static int run_shape(shape *s, const septune_generic_kernels *k, unsigned long long seed, int *reports)
{
  septune_check_result r;
  const septune_cache_budget *b = budget_for(seed);
  int threads = 1 + (int)(seed % 4);
  unsigned long long chunks = seed ^ 0x9e3779b97f4a7c15ull;
  snprintf(current_case, sizeof current_case, "seed %llu: '%s' variant %s, split for %d threads (tensors %saligned)",
           seed, s->line, septune_isa_name(k->isa), threads, s->aligned ? "" : "un");
  for (size_t i = 0; i < s->no; i++) s->got[i] = NAN;
  int dw = s->op.kind == SEPTUNE_OP_DEPTHWISE;
  if (dw) pack_dw(s);
  else pack_pw(s, k, b);
  long total = dw ? (long)s->op.u.dw.n * k->dw_work(&s->op.u.dw, b, threads)
                  : (long)s->op.u.pw.n * k->pw_work(&s->op.u.pw, b, threads);
  for (long begin = 0, end; begin < total; begin = end) {
    end = begin + 1 + (long)(septune_random_next(&chunks) % 4);
    if (end > total) end = total;
    if (dw) k->dw(&s->op.u.dw, b, threads, s->packed, s->in, s->got, begin, end);
    else k->pw(&s->op.u.pw, b, threads, s->packed, s->in, s->got, begin, end);
  }
  if (septune_check_output(&s->op, s->want, s->got, s->no, &r)) return 1;
  if ((*reports)++ < MAX_REPORTS)
    print_error("%s: element %zu got %g want %g (max |error| %.3g, %d not finite)\n", current_case,
                r.worst_index, (double)s->got[r.worst_index], (double)s->want[r.worst_index], r.max_abs_error,
                r.non_finite);
  return 0;
}

/* ---- random shapes -------------------------------------------------------------- */

static const int64_t EDGE_DW_C[] = { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 24, 25,
                                     31, 32, 33, 47, 48, 49, 63, 64, 65, 70 };
static const int64_t EDGE_PW_C[] = { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 47,
                                     48, 49, 63, 64, 65, 95, 96, 97, 127, 128, 129, 143, 144, 145, 191,
                                     192, 193, 255, 256, 257, 299, 300 };
static const int64_t EDGE_PIXELS[] = { 1, 2, 3, 5, 7, 13, 16, 17, 31, 49, 64, 97, 196, 784, 1024, 2999, 3000 };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Uniform in [0, 1). */
static double unit(void) { return (double)(rng() >> 11) * (1.0 / 9007199254740992.0); }

/* From the edges (those <= hi), small, or anything in 1..hi. */
static int64_t pick_dim(const int64_t *edges, size_t n_edges, int64_t hi, int edge_percent)
{
  uint64_t r = rng() % 100;
  if (r < (uint64_t)edge_percent) {
    size_t fit = 0;
    while (fit < n_edges && edges[fit] <= hi) fit++;
    return edges[rng() % fit];
  }
  if (r < (uint64_t)edge_percent + 30) return pick(1, hi < 64 ? hi : 64);
  return pick(1, hi);
}

/* A random activation; clamp bounds on the outputs' scale (`scale`). */
static void pick_act(septune_activation *act, float *lo, float *hi, double scale)
{
  *act = ACTS[rng() % COUNT(ACTS)];
  *lo = (float)(scale * (unit() * 2.0 - 1.5));
  *hi = (rng() % 8) ? (float)(*lo + scale * unit() * 2.0) : *lo;
}

static void random_dw(septune_op *op)
{
  memset(op, 0, sizeof *op);
  op->kind = SEPTUNE_OP_DEPTHWISE;
  septune_depthwise_desc *d = &op->u.dw;
  do {
    septune_depthwise_desc_init(d);
    d->n = pick(1, 2);
    d->h = pick(1, 40);
    d->w = pick(1, 40);
    d->c = pick_dim(EDGE_DW_C, COUNT(EDGE_DW_C), 70, 50);
    d->kh = pick(1, 5);
    d->kw = rng() % 3 ? pick(1, 5) : d->kh;
    if (rng() % 4 == 0) d->kh = d->kw = 3; /* the kernels' own 3x3 code */
    d->stride_h = pick(1, 3);
    d->stride_w = pick(1, 3);
    d->dilation_h = pick(1, 2);
    d->dilation_w = pick(1, 2);
    int64_t rh = d->dilation_h * (d->kh - 1), rw = d->dilation_w * (d->kw - 1);
    int extra = rng() % 10 == 0 ? 3 : 1; /* sometimes padding beyond the reach */
    d->pad_top = pick(0, rh + extra);
    d->pad_bottom = pick(0, rh + extra);
    d->pad_left = pick(0, rw + extra);
    d->pad_right = pick(0, rw + extra);
    d->has_bias = (int)(rng() & 1);
    pick_act(&d->act, &d->act_min, &d->act_max, 0.33 * sqrt((double)(d->kh * d->kw)) + 0.1);
  } while (septune_op_validate(op, NULL) != SEPTUNE_OK);
}

/* n in 1..3 dividing pixels, h a divisor of the rest. */
static void split_pixels(septune_pointwise_desc *p, int64_t pixels)
{
  int64_t ns[3], count = 0, divisors[128], nd = 0;
  for (int64_t n = 1; n <= 3; n++)
    if (pixels % n == 0) ns[count++] = n;
  p->n = ns[rng() % (uint64_t)count];
  int64_t hw = pixels / p->n;
  for (int64_t d = 1; d <= hw && nd < 128; d++)
    if (hw % d == 0) divisors[nd++] = d;
  p->h = divisors[rng() % (uint64_t)nd];
  p->w = hw / p->h;
}

static void random_pw(septune_op *op)
{
  double cap = (rng() % 4) ? 1e6 : 2e7;
  int64_t v[3] = { pick_dim(EDGE_PIXELS, COUNT(EDGE_PIXELS), 3000, 40),
                   pick_dim(EDGE_PW_C, COUNT(EDGE_PW_C), 300, 40), pick_dim(EDGE_PW_C, COUNT(EDGE_PW_C), 300, 40) };
  /* over the cap: redraw one of the three below cap / (the other two) */
  while ((double)v[0] * (double)v[1] * (double)v[2] > cap) {
    int i = (int)(rng() % 3);
    double hi = cap * (double)v[i] / ((double)v[0] * (double)v[1] * (double)v[2]);
    int64_t top = i == 0 ? 3000 : 300;
    if (hi < 1) v[i] = pick(1, 16);
    else if (i == 0) v[i] = pick_dim(EDGE_PIXELS, COUNT(EDGE_PIXELS), hi < top ? (int64_t)hi : top, 40);
    else v[i] = pick_dim(EDGE_PW_C, COUNT(EDGE_PW_C), hi < top ? (int64_t)hi : top, 40);
  }
  memset(op, 0, sizeof *op);
  op->kind = SEPTUNE_OP_POINTWISE;
  septune_pointwise_desc *p = &op->u.pw;
  septune_pointwise_desc_init(p);
  split_pixels(p, v[0]);
  p->ci = v[1];
  p->co = v[2];
  p->has_bias = (int)(rng() & 1);
  pick_act(&p->act, &p->act_min, &p->act_max, 0.33 * sqrt((double)p->ci) + 0.1);
  assert_int_equal(septune_op_validate(op, NULL), SEPTUNE_OK);
}

/* Runs `shapes` random ops from `draw` on every variant; each shape gets
 * its own seed (printed on failure). */
static void random_shapes(void (*draw)(septune_op *), unsigned long long count, const char *what)
{
  const septune_generic_kernels *ks[4];
  size_t nk = runnable_variants(ks);
  unsigned long long base = env_ull("SEPTUNE_TEST_SEED", 20240611), shapes = env_ull("SEPTUNE_TEST_SHAPES", count);
  int failures = 0, reports = 0;
  catch_crashes();
  for (size_t v = 0; v < nk; v++) {
    int before = failures;
    for (unsigned long long i = 0; i < shapes; i++) {
      unsigned long long seed = base + i * 0x9e3779b97f4a7c15ull;
      septune_op op;
      shape s;
      rng_state = seed | 1;
      draw(&op);
      shape_make(&s, &op, seed, (int)(i & 1));
      failures += !run_shape(&s, ks[v], seed, &reports);
      shape_free(&s);
    }
    printf("generic %s: %llu %s shapes, %d wrong\n", septune_isa_name(ks[v]->isa), shapes, what,
           failures - before);
  }
  assert_int_equal(failures, 0);
}

static void test_dw_random(void **state)
{
  (void)state;
  random_shapes(random_dw, DW_SHAPES, "depthwise");
}

static void test_pw_random(void **state)
{
  (void)state;
  random_shapes(random_pw, PW_SHAPES, "pointwise");
}

/* ---- fixed edge cases ------------------------------------------------------------------ */

static const char *const EDGE_LINES[] = {
  "dw h=1 w=1 c=1 k=1",
  "dw h=1 w=1 c=17 k=5 pad=2,2,2,2 bias=1 act=relu",
  "dw h=3 w=3 c=5 k=3 pad=4,4,4,4 bias=1 act=hswish",   /* border outputs with no tap */
  "dw h=2 w=40 c=33 kh=5 kw=5 pad=same act=relu6",
  "dw n=2 h=7 w=7 c=960 k=3 s=1 pad=same act=relu6 bias=1",
  "dw h=40 w=40 c=70 kh=1 kw=5 sh=3 sw=1 d=2 pad=0,3,1,0 act=clamp(-0.2,0.3)",
  "pw h=1 w=1 ci=1 co=1",
  "pw h=37 w=1 ci=1100 co=33 bias=1 act=relu6",  /* K blocks on every variant */
  "pw h=5 w=1 ci=1300 co=17 act=hswish",
  "pw n=3 h=40 w=25 ci=300 co=65 bias=1 act=clamp(-1,1)", /* M blocks */
  "pw h=7 w=7 ci=320 co=1280 act=relu6",
};

static void test_edge_cases(void **state)
{
  (void)state;
  const septune_generic_kernels *ks[4];
  size_t nk = runnable_variants(ks);
  int failures = 0, reports = 0;
  catch_crashes();
  for (size_t v = 0; v < nk; v++)
    for (size_t i = 0; i < COUNT(EDGE_LINES); i++) {
      septune_layer layer;
      septune_error err;
      shape s;
      if (septune_layer_parse(EDGE_LINES[i], &layer, &err) != SEPTUNE_OK) {
        print_error("'%s': %s\n", EDGE_LINES[i], err.message);
        fail();
      }
      shape_make(&s, &layer.op, 7 + i, (int)(i & 1));
      failures += !run_shape(&s, ks[v], 7 + i, &reports);
      shape_free(&s);
    }
  assert_int_equal(failures, 0);
}

/* ---- selection ------------------------------------------------------------------------- */

static void test_select_never_null(void **state)
{
  (void)state;
  for (int isa = -1; isa <= 6; isa++) {
    const septune_generic_kernels *k = septune_generic_select((septune_isa)isa);
    assert_non_null(k);
    assert_non_null(k->dw);
    assert_non_null(k->pw);
    assert_non_null(k->pw_pack);
    assert_non_null(k->pw_packed_floats);
    assert_true(septune_cpu_has_isa(k->isa));
    if (isa >= SEPTUNE_ISA_SCALAR && isa <= SEPTUNE_ISA_AVX512) assert_true((int)k->isa <= isa);
  }
  /* AUTO: the widest the CPU runs (every variant is built on x86-64) */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  assert_int_equal(septune_generic_select(SEPTUNE_ISA_AUTO)->isa, septune_cpu_best_isa());
#endif
}

static void test_select_max_isa(void **state)
{
  (void)state;
  const char *old = getenv("SEPTUNE_MAX_ISA");
  char *saved = old ? strdup(old) : NULL;
  assert_int_equal(setenv("SEPTUNE_MAX_ISA", "sse", 1), 0);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  assert_int_equal(septune_generic_select(SEPTUNE_ISA_AUTO)->isa, SEPTUNE_ISA_SSE);
  assert_int_equal(septune_generic_select(SEPTUNE_ISA_AVX512)->isa, SEPTUNE_ISA_SSE);
#else
  assert_int_equal(septune_generic_select(SEPTUNE_ISA_AUTO)->isa, SEPTUNE_ISA_SCALAR);
#endif
  assert_int_equal(setenv("SEPTUNE_MAX_ISA", "scalar", 1), 0);
  assert_int_equal(septune_generic_select(SEPTUNE_ISA_AUTO)->isa, SEPTUNE_ISA_SCALAR);
  if (saved) setenv("SEPTUNE_MAX_ISA", saved, 1);
  else unsetenv("SEPTUNE_MAX_ISA");
  free(saved);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_select_never_null),
    cmocka_unit_test(test_select_max_isa),
    cmocka_unit_test(test_edge_cases),
    cmocka_unit_test(test_dw_random),
    cmocka_unit_test(test_pw_random),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_activation_sweep.c — the accuracy septune.h states for the
 * activations that are not exact (hswish, hsigmoid, sigmoid, silu, gelu,
 * gelu_tanh), measured over the whole float range for every implementation
 * this CPU runs: the JIT's kernels of every ISA (the portable C template
 * under libtcc for scalar, the machine code for sse, avx2, avx512) and the
 * generic kernels of libseptune_rt, each variant.
 *
 * The inputs are every STRIDE-th float bit pattern (SEPTUNE_SWEEP_STRIDE,
 * default 61: about 70 million floats of every sign, exponent and low-bit
 * pattern; 1 sweeps all 2^32), the first chunk led by the special values
 * (+-0, +-inf, NaNs, subnormals, +-FLT_MAX and the thresholds of the
 * method). Each goes through a 1x1 depthwise layer of 64 channels whose
 * weights are 1 and whose bias is -0, so the accumulator is the input
 * itself (-0 included) and the output is the activation of it. A sparser
 * sweep (every 64th of those) runs the channel tails: 67 channels (AVX2 and
 * AVX-512 masked vectors, SSE's one-lane tail) and a pointwise layer ci = co
 * = 1 (masked and one-lane panels, register tiles that spill).
 *
 * Each output is checked against septune_activation_exact, the exact
 * function in double: NaN where it is NaN, the exact infinity where it is
 * infinite, -0 for -0 where the function keeps its sign, else
 * |got - exact| <= rel * max(|exact|, floor) (septune_activation_accuracy).
 * The test prints the largest error found per activation and
 * implementation, in units of 2^-23 * max(|exact|, floor), beside the bound.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache_budget.h"
#include "check.h"
#include "generic.h"
#include "internal.h"
#include "septune.h"
#include "test_random.h"

#define CHUNK (1 << 20) /* floats per kernel run */
#define CHANNELS 64
#define ULP 0x1p-23

static const septune_activation ACTS[] = { SEPTUNE_ACT_HSWISH, SEPTUNE_ACT_HSIGMOID, SEPTUNE_ACT_SIGMOID,
                                           SEPTUNE_ACT_SILU,   SEPTUNE_ACT_GELU,     SEPTUNE_ACT_GELU_TANH };
#define NACTS (sizeof ACTS / sizeof ACTS[0])
static const septune_isa ISAS[] = { SEPTUNE_ISA_SCALAR, SEPTUNE_ISA_SSE, SEPTUNE_ISA_AVX2, SEPTUNE_ISA_AVX512 };

static float f_of_bits(uint32_t u)
{
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* Where the method changes course, and the float specials. */
static const float SPECIALS[] = {
  0.0f, INFINITY, FLT_MIN, FLT_MAX, 0x1p-149f, 0x1p-127f, 1.0f, 0.5f, 3.0f, 6.0f, 2.5f, 1e-7f, 0x1p-25f, 0x1p-26f,
  0x1p-27f, 0x1.5p-24f, 17.0f, 17.5f, 36.0f, 5.9f, 6.1f, 13.0f, 20.0f, 30.0f, 87.3f, 87.34f, 88.0f, 88.5f, 88.73f,
  89.0f, 92.0f, 103.9f, 104.0f, 104.3f, 104.4f, 109.0f, 109.9f, 110.0f, 110.5f, 111.0f, 150.0f, 1e10f, 0x1p60f,
  0x1p89f, 0x1p90f, 0x1p91f, 0x1p96f, 0x1p104f, 0x1p105f, 0x1p127f, 1e-30f, 1e-38f,
};

/* A kernel under test: a plan of the JIT or a generic variant. */
typedef struct impl {
  char name[48];
  septune_plan *plan;                   /* the JIT's, or NULL */
  const septune_generic_kernels *gen;   /* else this generic variant */
  float *packed;                        /* its packed weights */
} impl;

typedef struct worst {
  double units; /* largest error in units of 2^-23 * max(|exact|, floor) */
  float x;
  long failures;
} worst;

static septune_cache_budget budget;

static void make_op(septune_op *op, int pointwise, int64_t channels, int64_t pixels, septune_activation act)
{
  memset(op, 0, sizeof *op);
  if (pointwise) {
    op->kind = SEPTUNE_OP_POINTWISE;
    septune_pointwise_desc_init(&op->u.pw);
    op->u.pw.w = pixels;
    op->u.pw.ci = op->u.pw.co = 1;
    op->u.pw.has_bias = 1;
    op->u.pw.act = act;
  } else {
    op->kind = SEPTUNE_OP_DEPTHWISE;
    septune_depthwise_desc_init(&op->u.dw);
    op->u.dw.w = pixels;
    op->u.dw.c = channels;
    op->u.dw.has_bias = 1;
    op->u.dw.act = act;
  }
}

/* Every implementation of op this CPU runs; returns their count. */
static size_t make_impls(const septune_op *op, impl *out)
{
  size_t n = 0, channels = op->kind == SEPTUNE_OP_POINTWISE ? 1 : (size_t)op->u.dw.c;
  float *w = malloc(channels * sizeof(float)), *bias = malloc(channels * sizeof(float));
  assert_non_null(w);
  assert_non_null(bias);
  for (size_t i = 0; i < channels; i++) w[i] = 1.0f, bias[i] = -0.0f;
  const septune_generic_kernels *last = NULL;
  for (size_t i = 0; i < sizeof ISAS / sizeof ISAS[0]; i++) {
    if (!septune_cpu_has_isa(ISAS[i])) continue;
    septune_plan_options opts = { .isa = ISAS[i], .db_path = "" };
    septune_error err;
    impl *m = &out[n++];
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "JIT %s", septune_isa_name(ISAS[i]));
    if (septune_plan_create(op, w, bias, &opts, &m->plan, &err) != SEPTUNE_OK) fail_msg("%s: %s", m->name, err.message);
    const septune_generic_kernels *g = septune_generic_select(ISAS[i]);
    if (g == last) continue;
    last = g;
    m = &out[n++];
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "generic %s", septune_isa_name(g->isa));
    m->gen = g;
    if (op->kind == SEPTUNE_OP_POINTWISE) {
      m->packed = malloc(g->pw_packed_floats(&op->u.pw, &budget) * sizeof(float));
      assert_non_null(m->packed);
      g->pw_pack(&op->u.pw, &budget, w, bias, m->packed);
    } else {
      /* the bias row, then the one tap's, each padded to the pack width */
      size_t pad = (channels + SEPTUNE_KERNEL_PACK_LANES - 1) / SEPTUNE_KERNEL_PACK_LANES * SEPTUNE_KERNEL_PACK_LANES;
      m->packed = calloc(2 * pad, sizeof(float));
      assert_non_null(m->packed);
      memcpy(m->packed, bias, channels * sizeof(float));
      memcpy(m->packed + pad, w, channels * sizeof(float));
    }
  }
  free(w);
  free(bias);
  return n;
}

static void run_impl(const impl *m, const septune_op *op, const float *in, float *out)
{
  if (m->plan) {
    septune_error err;
    assert_int_equal(septune_execute(m->plan, in, out, &err), SEPTUNE_OK);
  } else if (op->kind == SEPTUNE_OP_POINTWISE) {
    /* one thread, every work item */
    long items = (long)op->u.pw.n * m->gen->pw_work(&op->u.pw, &budget, 1);
    m->gen->pw(&op->u.pw, &budget, 1, m->packed, in, out, 0, items);
  } else {
    long items = (long)op->u.dw.n * m->gen->dw_work(&op->u.dw, &budget, 1);
    m->gen->dw(&op->u.dw, &budget, 1, m->packed, in, out, 0, items);
  }
}

static void free_impls(impl *m, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    septune_plan_destroy(m[i].plan);
    free(m[i].packed);
  }
}

/* Whether f(-0) is -0: the activations that are x times a factor. */
static int keeps_negative_zero(septune_activation act)
{
  return act == SEPTUNE_ACT_HSWISH || act == SEPTUNE_ACT_SILU || act == SEPTUNE_ACT_GELU ||
         act == SEPTUNE_ACT_GELU_TANH;
}

/* Checks got[i] against exact[i] for inputs x[i]; updates *w. */
static void check_outputs(septune_activation act, const char *name, const float *x, const double *exact,
                          const float *got, size_t n, worst *w)
{
  double rel, floor_;
  septune_activation_accuracy(act, &rel, &floor_, NULL);
  for (size_t i = 0; i < n; i++) {
    double want = exact[i], g = got[i], units;
    int bad;
    if (isnan(want)) {
      bad = !isnan(g), units = 0;
    } else if (isinf(want) || isnan(g)) {
      bad = g != want, units = bad ? INFINITY : 0;
    } else {
      units = fabs(g - want) / fmax(fabs(want), floor_) / ULP;
      bad = units > rel / ULP;
      if (x[i] == 0 && signbit(x[i]) && keeps_negative_zero(act) && !signbit(g)) bad = 1;
    }
    if (units > w->units) w->units = units, w->x = x[i];
    if (bad && w->failures++ < 5)
      print_error("%s %s: x = %a (%.9g): got %a (%.9g), exact %.17g\n", septune_activation_name(act), name,
                  (double)x[i], (double)x[i], g, g, want);
  }
}

/* Sweeps the bit patterns 0, stride, 2*stride, ... < 2^32 (the specials
 * first) through every implementation of the layer (pointwise or a
 * depthwise of `channels`), for every activation. */
static void sweep(int pointwise, int64_t channels, uint64_t stride)
{
  const size_t per_chunk = CHUNK / (size_t)channels * (size_t)channels;
  float *in = malloc(per_chunk * sizeof(float)), *out = malloc(per_chunk * sizeof(float));
  double *exact = malloc(per_chunk * sizeof(double));
  assert_non_null(in);
  assert_non_null(out);
  assert_non_null(exact);
  impl impls[NACTS][8];
  size_t nimpl[NACTS];
  septune_op ops[NACTS];
  worst worst_of[NACTS][8];
  memset(worst_of, 0, sizeof worst_of);
  for (size_t a = 0; a < NACTS; a++) {
    make_op(&ops[a], pointwise, channels, (int64_t)(per_chunk / (size_t)channels), ACTS[a]);
    nimpl[a] = make_impls(&ops[a], impls[a]);
  }
  uint64_t u = 0, total = 0;
  int first = 1;
  while (u < (1ull << 32)) {
    size_t n = 0;
    if (first) {
      for (size_t i = 0; i < sizeof SPECIALS / sizeof SPECIALS[0]; i++) {
        in[n++] = SPECIALS[i];
        in[n++] = -SPECIALS[i];
      }
      in[n++] = NAN;
      in[n++] = -NAN;
      in[n++] = f_of_bits(0x7f800001u); /* signaling */
      in[n++] = f_of_bits(0xffc12345u);
      first = 0;
    }
    for (; n < per_chunk && u < (1ull << 32); n++, u += stride) in[n] = f_of_bits((uint32_t)u);
    /* a short last chunk repeats its last input: the layer's width is fixed */
    for (size_t i = n; i < per_chunk; i++) in[i] = in[n - 1];
    total += n;
    for (size_t a = 0; a < NACTS; a++) {
      for (size_t i = 0; i < n; i++) exact[i] = septune_activation_exact(ACTS[a], 0, 0, in[i]);
      for (size_t m = 0; m < nimpl[a]; m++) {
        for (size_t i = 0; i < per_chunk; i++) out[i] = 12345.0f;
        run_impl(&impls[a][m], &ops[a], in, out);
        check_outputs(ACTS[a], impls[a][m].name, in, exact, out, n, &worst_of[a][m]);
      }
    }
  }
  char layer[64];
  snprintf(layer, sizeof layer, pointwise ? "pw ci=co=1" : "dw 1x1 c=%lld", (long long)channels);
  printf("%s, %llu inputs (every %llu-th float and the specials):\n", layer, (unsigned long long)total,
         (unsigned long long)stride);
  long failures = 0;
  for (size_t a = 0; a < NACTS; a++) {
    double rel, floor_;
    septune_activation_accuracy(ACTS[a], &rel, &floor_, NULL);
    for (size_t m = 0; m < nimpl[a]; m++) {
      worst *w = &worst_of[a][m];
      printf("  %-9s %-15s max error %5.2f (bound %.0f) x 2^-23 max(|f(x)|, %s) at x = %.9g%s\n",
             septune_activation_name(ACTS[a]), impls[a][m].name, w->units, rel / ULP,
             floor_ == 1 ? "1" : "2^-126", (double)w->x, w->failures ? "  FAILED" : "");
      failures += w->failures;
    }
    free_impls(impls[a], nimpl[a]);
  }
  fflush(stdout);
  free(in);
  free(out);
  free(exact);
  assert_int_equal(failures, 0);
}

static uint64_t stride(void)
{
  uint64_t s = env_ull("SEPTUNE_SWEEP_STRIDE", 61);
  return s ? s : 1;
}

static void test_full_vectors(void **state)
{
  (void)state;
  sweep(0, CHANNELS, stride());
}

static void test_channel_tails(void **state)
{
  (void)state;
  sweep(0, CHANNELS + 3, stride() * 64);
}

static void test_pointwise_panels(void **state)
{
  (void)state;
  sweep(1, 1, stride() * 64);
}

int main(void)
{
  septune_cpu_cache_budget(&budget);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_full_vectors),
    cmocka_unit_test(test_channel_tails),
    cmocka_unit_test(test_pointwise_panels),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_depthwise.c — generated depthwise kernels against the reference on
 * randomized shapes, for every ISA this CPU has, plus fixed edge cases.
 *
 * Each random shape is checked with the default knobs (one thread) and with
 * one knob set drawn from the shape's search space and a work split drawn
 * from its split space for 1 to 3 threads, run on them (the edge cases:
 * the default, and a split for 3 threads). SEPTUNE_TEST_SEED and
 * SEPTUNE_TEST_SHAPES override the seed and the number of shapes; a failure
 * prints the seed, the layer line, the ISA and the knobs to reproduce it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "generator.h"
#include "septune.h"
#include "test_random.h"
#include "test_split.h"

/* Small values are where the borders and tails are: draw half the time from
 * the low end of the range. */
static int64_t pick_dim(int64_t lo, int64_t hi, int64_t small)
{
  return (rng() & 1) ? pick(lo, small < hi ? small : hi) : pick(lo, hi);
}

/* Runs op with `knobs` on `isa` and `threads` threads; returns 1 if it
 * matches the reference. */
static int check_op(const septune_op *op, septune_isa isa, const char *knobs, int threads, unsigned long long seed)
{
  size_t ni, no, nw, nb;
  septune_error err;
  assert_int_equal(septune_op_tensor_sizes(op, &ni, &no, &nw, &nb, &err), SEPTUNE_OK);
  float *in = malloc(ni * sizeof(float)), *w = malloc(nw * sizeof(float));
  float *bias = malloc((nb + 1) * sizeof(float)), *want = malloc(no * sizeof(float));
  float *got = malloc(no * sizeof(float));
  assert_non_null(in); assert_non_null(w); assert_non_null(bias); assert_non_null(want); assert_non_null(got);
  unsigned long long s = seed | 1;
  septune_fill_random(in, ni, &s);
  septune_fill_random(w, nw, &s);
  septune_fill_random(bias, nb, &s);
  for (size_t i = 0; i < no; i++) got[i] = 12345.0f; /* every element must be written */
  assert_int_equal(septune_reference_execute(op, w, bias, in, want, &err), SEPTUNE_OK);

  septune_plan_options opts = { .isa = isa, .knobs = knobs, .threads = threads };
  septune_plan *plan = NULL;
  char line[256];
  septune_op_format(op, line, sizeof line);
  septune_status st = septune_plan_create(op, w, bias, &opts, &plan, &err);
  int ok = 0;
  if (st != SEPTUNE_OK) {
    print_error("seed %llu: plan_create failed for '%s' isa=%s knobs=%s threads=%d: %s\n", seed, line,
                septune_isa_name(isa), knobs ? knobs : "(default)", threads, err.message);
  } else {
    assert_int_equal(septune_execute(plan, in, got, &err), SEPTUNE_OK);
    septune_check_result r;
    ok = septune_check_output(op, want, got, no, &r);
    if (!ok) {
      septune_plan_info info;
      septune_plan_get_info(plan, &info);
      print_error("seed %llu: '%s' isa=%s knobs=%s threads=%d: element %zu got %g want %g (max |error| %.3g)\n",
                  seed, line, septune_isa_name(isa), info.knobs, threads, r.worst_index, (double)got[r.worst_index],
                  (double)want[r.worst_index], r.max_abs_error);
    }
  }
  septune_plan_destroy(plan);
  free(in); free(w); free(bias); free(want); free(got);
  return ok;
}

/* A random valid depthwise op whose reference work stays small enough for a
 * thousand of them to run in seconds. */
static void random_op(septune_op *op)
{
  static const septune_activation acts[] = { SEPTUNE_ACT_NONE, SEPTUNE_ACT_RELU, SEPTUNE_ACT_RELU6,
                                             SEPTUNE_ACT_CLAMP, SEPTUNE_ACT_HSWISH, SEPTUNE_ACT_HSIGMOID,
                                             SEPTUNE_ACT_SIGMOID, SEPTUNE_ACT_SILU, SEPTUNE_ACT_GELU,
                                             SEPTUNE_ACT_GELU_TANH };
  for (;;) {
    memset(op, 0, sizeof *op);
    op->kind = SEPTUNE_OP_DEPTHWISE;
    septune_depthwise_desc *d = &op->u.dw;
    septune_depthwise_desc_init(d);
    d->n = pick(1, 3);
    d->h = pick_dim(1, 130, 12);
    d->w = pick_dim(1, 130, 12);
    d->c = pick_dim(1, 1100, 40);
    /* a quarter of the kernels large (up to 31: RepLKNet), some strips */
    d->kh = (rng() % 4) ? pick(1, 7) : pick(8, 31);
    d->kw = (rng() % 3) ? d->kh : (rng() % 2) ? pick(1, 7) : pick(1, 31);
    d->stride_h = pick(1, 3);
    d->stride_w = (rng() % 3) ? d->stride_h : pick(1, 3);
    d->dilation_h = (rng() % 3) ? 1 : pick(1, 3);
    d->dilation_w = (rng() % 3) ? d->dilation_h : pick(1, 3);
    d->multiplier = (rng() % 4) ? 1 : pick(1, 4);
    d->has_bias = (int)(rng() & 1);
    d->act = acts[rng() % (sizeof acts / sizeof acts[0])];
    d->act_min = -0.5f;
    d->act_max = 0.75f;
    if (rng() % 2) {
      septune_depthwise_pad_same(d, NULL);
    } else {
      d->pad_top = pick(0, d->kh);
      d->pad_bottom = pick(0, d->kh);
      d->pad_left = pick(0, d->kw);
      d->pad_right = pick(0, d->kw);
    }
    if (septune_op_validate(op, NULL) != SEPTUNE_OK) continue;
    size_t no;
    septune_op_tensor_sizes(op, NULL, &no, NULL, NULL, NULL);
    if ((double)no * (double)(d->kh * d->kw) > 1.5e6) continue;
    return;
  }
}

/* A random member of the op's search space on isa (NULL if the space has
 * just the default). The returned string is malloc'd. */
static char *random_knobs(const septune_op *op, septune_isa isa)
{
  char *space = NULL;
  septune_error err;
  if (septune_gen_call("space", op, isa, NULL, &space, &err) != SEPTUNE_OK) {
    print_error("space: %s\n", err.message);
    fail();
  }
  size_t lines = 1;
  for (char *p = space; *p; p++) lines += *p == '\n';
  size_t want = (size_t)(rng() % lines);
  char *line = space;
  for (size_t i = 0; i < want; i++) line = strchr(line, '\n') + 1;
  size_t len = strcspn(line, "\n");
  char *knobs = malloc(len + 1);
  memcpy(knobs, line, len);
  knobs[len] = 0;
  free(space);
  return knobs;
}

static void random_shapes(septune_isa isa)
{
  if (!septune_cpu_has_isa(isa)) {
    print_message("skipped: this CPU has no %s\n", septune_isa_name(isa));
    skip();
  }
  unsigned long long seed = env_ull("SEPTUNE_TEST_SEED", 20261122ull + (unsigned)isa);
  unsigned long long shapes = env_ull("SEPTUNE_TEST_SHAPES", 1000);
  int failures = 0;
  rng_state = seed;
  for (unsigned long long i = 0; i < shapes && failures < 5; i++) {
    unsigned long long shape_seed = rng_state;
    septune_op op;
    random_op(&op);
    if (!check_op(&op, isa, NULL, 1, shape_seed)) failures++;
    /* random knobs (scalar has one configuration: the default) and a
     * random split of the work for 1 to 3 threads */
    int threads = (int)pick(1, 3);
    char *knobs = isa != SEPTUNE_ISA_SCALAR ? random_knobs(&op, isa) : NULL;
    char *split = random_split(&op, isa, knobs, threads);
    if (!check_op(&op, isa, split ? split : knobs, threads, shape_seed)) failures++;
    free(split);
    free(knobs);
    rng_state = shape_seed;
    random_op(&op); /* keep the stream independent of how many knobs were drawn */
  }
  if (failures)
    print_error("%s: %d failing cases; rerun with SEPTUNE_TEST_SEED=%llu\n", septune_isa_name(isa), failures,
                seed);
  assert_int_equal(failures, 0);
  print_message("%s: %llu random shapes x 2 configs and splits match the reference (seed %llu)\n",
                septune_isa_name(isa), shapes, seed);
}

static void random_scalar(void **state) { (void)state; random_shapes(SEPTUNE_ISA_SCALAR); }
static void random_sse(void **state) { (void)state; random_shapes(SEPTUNE_ISA_SSE); }
static void random_avx2(void **state) { (void)state; random_shapes(SEPTUNE_ISA_AVX2); }
static void random_avx512(void **state) { (void)state; random_shapes(SEPTUNE_ISA_AVX512); }

/* Shapes at the edges of the semantics, checked on every ISA present. */
static void edge_cases(void **state)
{
  (void)state;
  static const char *lines[] = {
    "dw h=4 w=4 c=3 k=3 pad=5,5,5,5 act=none",          /* padding larger than the kernel */
    "dw h=9 w=9 c=17 k=2 s=3 pad=valid bias=1",         /* stride larger than the kernel */
    "dw h=10 w=10 c=33 k=1 s=3 pad=valid act=relu",
    "dw h=3 w=3 c=20 k=3 pad=valid act=relu6",          /* output of size 1 */
    "dw h=1 w=1 c=1 k=1 pad=valid",
    "dw h=1 w=1 c=1100 k=7 pad=3,3,3,3 act=hswish bias=1",
    "dw h=112 w=112 c=32 k=3 s=2 pad=same act=relu6",   /* asymmetric same padding */
    "dw h=8 w=130 c=5 k=7 s=1 d=3 pad=same act=clamp(-0.25,0.5) m=3",
    "dw n=3 h=5 w=6 c=19 kh=1 kw=7 sh=2 sw=1 pad=0,3,0,3 m=4 bias=1",
    "dw h=9 w=40 c=21 k=31 s=2 pad=same act=relu bias=1",  /* kernel larger than the image */
    "dw h=12 w=30 c=35 kh=1 kw=21 pad=same bias=1",          /* SegNeXt's strips */
    "dw h=30 w=12 c=35 kh=21 kw=1 pad=same act=hswish",
    "dw h=6 w=6 c=5 kh=11 kw=3 pad=12,1,12,1",               /* output rows that read no input row */
    "dw h=20 w=20 c=19 kh=9 kw=5 d=2 pad=same act=relu6",
  };
  static const septune_isa isas[] = { SEPTUNE_ISA_SCALAR, SEPTUNE_ISA_SSE, SEPTUNE_ISA_AVX2, SEPTUNE_ISA_AVX512 };
  int failures = 0;
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    septune_layer layer;
    septune_error err;
    if (septune_layer_parse(lines[i], &layer, &err) != SEPTUNE_OK) {
      print_error("'%s': %s\n", lines[i], err.message);
      fail();
    }
    for (size_t j = 0; j < sizeof isas / sizeof isas[0]; j++) {
      if (!septune_cpu_has_isa(isas[j])) continue;
      failures += !check_op(&layer.op, isas[j], NULL, 1, 7 + i);
      char *split = random_split(&layer.op, isas[j], NULL, 3);
      failures += !check_op(&layer.op, isas[j], split, 3, 7 + i);
      free(split);
    }
  }
  assert_int_equal(failures, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(edge_cases),
    cmocka_unit_test(random_scalar),
    cmocka_unit_test(random_sse),
    cmocka_unit_test(random_avx2),
    cmocka_unit_test(random_avx512),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_plan.c — the plan API's contract: every bad argument gets its status
 * and a message naming it, forced ISAs and knobs are honoured or refused,
 * and one plan serves several threads at once.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "septune.h"

static septune_op layer(const char *line)
{
  septune_layer l;
  septune_error err;
  assert_int_equal(septune_layer_parse(line, &l, &err), SEPTUNE_OK);
  return l.op;
}

static float weights[7 * 7 * 64], bias[64];

static void null_arguments(void **state)
{
  (void)state;
  septune_op op = layer("dw h=8 w=8 c=16 k=3 pad=same bias=1");
  septune_plan *plan = (septune_plan *)&op; /* must be reset to NULL on failure */
  septune_error err;
  assert_int_equal(septune_plan_create(NULL, weights, bias, NULL, &plan, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_null(plan);
  assert_non_null(strstr(err.message, "op"));
  assert_int_equal(septune_plan_create(&op, NULL, bias, NULL, &plan, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "weights"));
  assert_int_equal(septune_plan_create(&op, weights, NULL, NULL, &plan, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "bias"));
  assert_int_equal(septune_plan_create(&op, weights, bias, NULL, NULL, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "plan"));
  op.u.dw.c = 0;
  assert_int_equal(septune_plan_create(&op, weights, bias, NULL, &plan, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "c "));

  op.u.dw.c = 16;
  assert_int_equal(septune_plan_create(&op, weights, bias, NULL, &plan, NULL), SEPTUNE_OK);
  float in[8 * 8 * 16], out[8 * 8 * 16];
  assert_int_equal(septune_execute(NULL, in, out, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "plan"));
  assert_int_equal(septune_execute(plan, NULL, out, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "input"));
  assert_int_equal(septune_execute(plan, in, NULL, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "output"));
  assert_int_equal(septune_plan_get_info(NULL, NULL), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_null(septune_plan_source(NULL));
  septune_plan_destroy(plan);
  septune_plan_destroy(NULL);
}

static void knobs_and_isa(void **state)
{
  (void)state;
  septune_op op = layer("dw h=9 w=10 c=40 k=3 pad=same act=relu");
  septune_plan *plan = NULL;
  septune_error err;
  septune_plan_info info;
  septune_isa best = septune_cpu_best_isa();

  /* the default: the best ISA, knobs named */
  assert_int_equal(septune_plan_create(&op, weights, NULL, NULL, &plan, &err), SEPTUNE_OK);
  assert_int_equal(septune_plan_get_info(plan, &info), SEPTUNE_OK);
  assert_int_equal(info.isa, best);
  assert_int_equal(info.source, SEPTUNE_KERNEL_DEFAULT);
  assert_non_null(strstr(info.knobs, "ct="));
  assert_non_null(strstr(septune_plan_source(plan), info.knobs));
  septune_plan_destroy(plan);

  /* forced knobs are used and reported */
  if (best != SEPTUNE_ISA_SCALAR) {
    septune_plan_options o = { .isa = best, .knobs = "ct=1,wt=2,wreg=0,order=1" };
    assert_int_equal(septune_plan_create(&op, weights, NULL, &o, &plan, &err), SEPTUNE_OK);
    septune_plan_get_info(plan, &info);
    assert_int_equal(info.source, SEPTUNE_KERNEL_FORCED);
    assert_non_null(strstr(info.knobs, "ct=1,wt=2,wreg=0,order=1"));
    septune_plan_destroy(plan);
  }

  /* malformed and out-of-space knobs name the knob */
  static const struct { const char *knobs, *needle; } bad[] = {
    { "ct=2,zz=1", "zz" }, { "ct", "ct" }, { "wt=999", "wt" }, { "ct=1,ct=2", "ct" }, { "ct=3,wt=14", "register" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    septune_plan_options o = { .isa = best == SEPTUNE_ISA_SCALAR ? SEPTUNE_ISA_AUTO : best, .knobs = bad[i].knobs };
    assert_int_equal(septune_plan_create(&op, weights, NULL, &o, &plan, &err), SEPTUNE_ERR_UNSUPPORTED);
    assert_null(plan);
    if (!strstr(err.message, bad[i].needle)) print_error("knobs '%s': %s\n", bad[i].knobs, err.message);
    assert_non_null(strstr(err.message, bad[i].needle));
  }

  /* an ISA above SEPTUNE_MAX_ISA is refused, naming it */
  setenv("SEPTUNE_MAX_ISA", "scalar", 1);
  septune_plan_options o = { .isa = SEPTUNE_ISA_SSE, .knobs = NULL };
  assert_int_equal(septune_plan_create(&op, weights, NULL, &o, &plan, &err), SEPTUNE_ERR_UNSUPPORTED);
  assert_non_null(strstr(err.message, "sse"));
  o.isa = (septune_isa)42;
  assert_int_equal(septune_plan_create(&op, weights, NULL, &o, &plan, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "isa"));
  unsetenv("SEPTUNE_MAX_ISA");

  /* a depthwise knob given to a pointwise plan is refused, naming it */
  septune_op pw = layer("pw h=4 w=4 ci=8 co=8");
  septune_plan_options dwk = { .isa = SEPTUNE_ISA_AUTO, .knobs = "ct=1" };
  assert_int_equal(septune_plan_create(&pw, weights, NULL, &dwk, &plan, &err), SEPTUNE_ERR_UNSUPPORTED);
  assert_non_null(strstr(err.message, "ct"));
  assert_null(plan);
}

typedef struct worker {
  const septune_plan *plan;
  const septune_op *op;
  const float *want;
  int ok;
} worker;

static void *execute_many(void *p)
{
  worker *w = p;
  size_t ni, no;
  septune_op_tensor_sizes(w->op, &ni, &no, NULL, NULL, NULL);
  float *in = malloc(ni * sizeof(float)), *out = malloc(no * sizeof(float));
  unsigned long long seed = 1;
  septune_fill_random(in, ni, &seed);
  w->ok = 1;
  for (int i = 0; i < 200 && w->ok; i++) {
    memset(out, 0, no * sizeof(float));
    if (septune_execute(w->plan, in, out, NULL) != SEPTUNE_OK) w->ok = 0;
    if (memcmp(out, w->want, no * sizeof(float)) != 0) w->ok = 0;
  }
  free(in);
  free(out);
  return NULL;
}

/* One plan of `line`, 8 threads executing it at once, every result
 * identical to a single-threaded run. */
static void check_concurrent(const char *line)
{
  septune_op op = layer(line);
  septune_plan *plan = NULL;
  assert_int_equal(septune_plan_create(&op, weights, bias, NULL, &plan, NULL), SEPTUNE_OK);
  size_t ni, no;
  septune_op_tensor_sizes(&op, &ni, &no, NULL, NULL, NULL);
  float *in = malloc(ni * sizeof(float)), *want = malloc(no * sizeof(float));
  unsigned long long seed = 1;
  septune_fill_random(in, ni, &seed);
  assert_int_equal(septune_execute(plan, in, want, NULL), SEPTUNE_OK);

  pthread_t t[8];
  worker w[8];
  for (int i = 0; i < 8; i++) {
    w[i] = (worker){ plan, &op, want, 0 };
    assert_int_equal(pthread_create(&t[i], NULL, execute_many, &w[i]), 0);
  }
  for (int i = 0; i < 8; i++) {
    pthread_join(t[i], NULL);
    assert_true(w[i].ok);
  }
  septune_plan_destroy(plan);
  free(in);
  free(want);
}

/* Depthwise with multiplier 2: the per-call scratch path too. */
static void concurrent_execute(void **state)
{
  (void)state;
  check_concurrent("dw h=17 w=19 c=24 k=3 s=2 pad=same m=2 act=relu6 bias=1");
}

/* Pointwise: bad descriptors are refused by plan_create naming the field
 * (as for depthwise), NULL tensors name the argument, and knobs that do not
 * fit the shape are UNSUPPORTED naming the knob. */
static void pointwise_contract(void **state)
{
  (void)state;
  static const struct { const char *field; int64_t h, w, ci, co; int has_bias, act; float lo, hi; } bad[] = {
    { "ci", 4, 4, 0, 8, 0, SEPTUNE_ACT_NONE, 0, 0 },
    { "co", 4, 4, 8, 0, 0, SEPTUNE_ACT_NONE, 0, 0 },
    { "h", -1, 4, 8, 8, 0, SEPTUNE_ACT_NONE, 0, 0 },
    { "has_bias", 4, 4, 8, 8, 2, SEPTUNE_ACT_NONE, 0, 0 },
    { "act_min", 4, 4, 8, 8, 0, SEPTUNE_ACT_CLAMP, 1.0f, -1.0f },
    { "NaN", 4, 4, 8, 8, 0, SEPTUNE_ACT_CLAMP, 0.0f, NAN },
    { "size_t", (int64_t)1 << 31, (int64_t)1 << 31, (int64_t)1 << 20, (int64_t)1 << 20, 0, SEPTUNE_ACT_NONE, 0, 0 },
  };
  septune_plan *plan = NULL;
  septune_error err;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    septune_op op = layer("pw h=4 w=4 ci=8 co=8");
    op.u.pw.h = bad[i].h;
    op.u.pw.w = bad[i].w;
    op.u.pw.ci = bad[i].ci;
    op.u.pw.co = bad[i].co;
    op.u.pw.has_bias = bad[i].has_bias;
    op.u.pw.act = (septune_activation)bad[i].act;
    op.u.pw.act_min = bad[i].lo;
    op.u.pw.act_max = bad[i].hi;
    plan = (septune_plan *)&op;
    assert_int_equal(septune_plan_create(&op, weights, bias, NULL, &plan, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
    assert_null(plan);
    if (!strstr(err.message, bad[i].field)) print_error("bad %s: '%s'\n", bad[i].field, err.message);
    assert_non_null(strstr(err.message, bad[i].field));
  }

  septune_op op = layer("pw h=5 w=3 ci=24 co=40 bias=1 act=relu6");
  assert_int_equal(septune_plan_create(&op, NULL, bias, NULL, &plan, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "weights"));
  assert_int_equal(septune_plan_create(&op, weights, NULL, NULL, &plan, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "bias"));
  assert_null(plan);
  op.u.pw.has_bias = 0; /* then bias may be NULL */
  assert_int_equal(septune_plan_create(&op, weights, NULL, NULL, &plan, &err), SEPTUNE_OK);
  septune_plan_info info;
  assert_int_equal(septune_plan_get_info(plan, &info), SEPTUNE_OK);
  assert_int_equal(info.op.kind, SEPTUNE_OP_POINTWISE);
  assert_true(info.knobs[0] != 0);
  assert_non_null(septune_plan_source(plan));
  assert_non_null(strstr(septune_plan_source(plan), info.knobs));
  float in[5 * 3 * 24], out[5 * 3 * 40];
  memset(in, 0, sizeof in);
  assert_int_equal(septune_execute(plan, NULL, out, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "input"));
  assert_int_equal(septune_execute(plan, in, NULL, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "output"));
  assert_int_equal(septune_execute(plan, in, out, &err), SEPTUNE_OK);
  for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) assert_true(out[i] == 0.0f); /* relu6(0), no bias */
  septune_plan_destroy(plan);

  /* Knobs: unknown, outside a knob's values, or invalid for this shape (a
   * register tile of more rows than the 2 pixels, a K block that does not
   * split ci=8). Scalar has one configuration: any knob but its own is
   * refused there too. */
  static const struct { const char *knobs, *needle; } knobs[] = {
    { "zz=1", "zz" }, { "mr=100000", "mr" }, { "mr=4", "mr" }, { "kc=64", "kc" }, { "mr", "mr" }, { "nr=8,nr=8", "nr" },
  };
  septune_op tiny = layer("pw h=1 w=2 ci=8 co=8");
  for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++) {
    septune_plan_options o = { .isa = SEPTUNE_ISA_AUTO, .knobs = knobs[i].knobs, .db_path = "" };
    plan = (septune_plan *)&op;
    assert_int_equal(septune_plan_create(&tiny, weights, NULL, &o, &plan, &err), SEPTUNE_ERR_UNSUPPORTED);
    assert_null(plan);
    if (!strstr(err.message, knobs[i].needle)) print_error("knobs '%s': %s\n", knobs[i].knobs, err.message);
    assert_non_null(strstr(err.message, knobs[i].needle));
  }
}

/* Input and output must not share a byte (the kernels read input they
 * have already written over otherwise): refused before anything is
 * written; tensors that merely touch are fine. */
static void check_overlap(const char *line)
{
  septune_op op = layer(line);
  septune_plan *plan = NULL;
  septune_error err;
  size_t n_in, n_out;
  assert_int_equal(septune_op_tensor_sizes(&op, &n_in, &n_out, NULL, NULL, NULL), SEPTUNE_OK);
  assert_int_equal(septune_plan_create(&op, weights, bias, NULL, &plan, &err), SEPTUNE_OK);
  size_t n = n_in + n_out;
  float *buf = malloc(n * sizeof *buf);
  assert_non_null(buf);
  static const struct { long in, out; int ok; } at[] = {
    { 0, 0, 0 },  /* septune_execute(plan, buf, buf) */
    { 0, -1, 0 }, /* output ends one float into the input (-1: n_in - 1) */
    { -2, 0, 0 }, /* input ends one float into the output (-2: n_out - 1) */
    { 0, -3, 1 }, /* output right after the input (-3: n_in) */
    { -4, 0, 1 }, /* input right after the output (-4: n_out) */
  };
  for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
    size_t in = at[i].in == -2 ? n_out - 1 : at[i].in == -4 ? n_out : 0;
    size_t out = at[i].out == -1 ? n_in - 1 : at[i].out == -3 ? n_in : 0;
    for (size_t j = 0; j < n; j++) buf[j] = (float)(j % 7);
    septune_status st = septune_execute(plan, buf + in, buf + out, &err);
    if (at[i].ok) {
      assert_int_equal(st, SEPTUNE_OK);
      for (size_t j = 0; j < n_in; j++) assert_true(buf[in + j] == (float)((in + j) % 7)); /* input intact */
    } else {
      assert_int_equal(st, SEPTUNE_ERR_INVALID_ARGUMENT);
      assert_non_null(strstr(err.message, "overlap"));
      for (size_t j = 0; j < n; j++) assert_true(buf[j] == (float)(j % 7)); /* nothing written */
    }
  }
  free(buf);
  septune_plan_destroy(plan);
}

static void overlapping_tensors(void **state)
{
  (void)state;
  check_overlap("dw h=8 w=8 c=16 k=3 pad=same bias=1");
  check_overlap("dw h=7 w=6 c=3 k=3 s=2 m=2");
  check_overlap("pw h=5 w=3 ci=24 co=40 bias=1");
}

static void concurrent_execute_pointwise(void **state)
{
  (void)state;
  check_concurrent("pw n=2 h=7 w=5 ci=37 co=61 act=hswish bias=1");
}

int main(void)
{
  unsigned long long seed = 3;
  septune_fill_random(weights, sizeof weights / sizeof weights[0], &seed);
  septune_fill_random(bias, 64, &seed);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(null_arguments),
    cmocka_unit_test(knobs_and_isa),
    cmocka_unit_test(concurrent_execute),
    cmocka_unit_test(pointwise_contract),
    cmocka_unit_test(concurrent_execute_pointwise),
    cmocka_unit_test(overlapping_tensors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

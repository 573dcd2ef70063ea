/*
 * test_tables.c — plans and emitted kernel tables, built twice: against
 * libseptune_rt (test_tables_rt) and against libseptune
 * (test_tables_jit, SEPTUNE_TEST_JIT defined).
 *
 * The tables here hold tiny hand-written "kernels" that leave a mark in the
 * output, so each test can tell which kernel a plan called: a table entry,
 * a JIT kernel or a generic one. `septune emit` tables are checked against
 * the JIT elsewhere (tests/emit).
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "check.h"
#include "septune.h"

#define DW_OUT 128 /* 4x4x8 */
#define PW_PIXELS 4
#define PW_CO 5

static char dw_line[512], pw_line[512], other_line[512];

static septune_op dw_op(void)
{
  septune_layer l;
  assert_int_equal(septune_layer_parse("dw h=4 w=4 c=8 k=3 s=1 pad=same act=none", &l, NULL), SEPTUNE_OK);
  return l.op;
}

static septune_op pw_op(void)
{
  septune_layer l;
  assert_int_equal(septune_layer_parse("pw h=2 w=2 ci=3 co=5 act=none bias=1", &l, NULL), SEPTUNE_OK);
  return l.op;
}

/* In no table: served by the JIT default or the generic kernel. */
static septune_op other_op(void)
{
  septune_layer l;
  assert_int_equal(septune_layer_parse("dw h=9 w=7 c=21 k=3 s=2 pad=same act=relu6 m=2 bias=1", &l, NULL),
                   SEPTUNE_OK);
  return l.op;
}

/* Every mark kernel has one work item per image and wants one thread. */
static long one(void) { return 1; }

static void dw_mark_scalar(const float *in, float *out, const float *packed, const float *zero_row, float *scratch,
                           long begin, long end)
{
  (void)packed, (void)zero_row, (void)scratch, (void)begin, (void)end;
  for (int i = 0; i < DW_OUT; i++) out[i] = in[i] + 1000.0f;
}

static void dw_mark_avx512(const float *in, float *out, const float *packed, const float *zero_row,
                           float *scratch, long begin, long end)
{
  (void)packed, (void)zero_row, (void)scratch, (void)begin, (void)end;
  for (int i = 0; i < DW_OUT; i++) out[i] = in[i] + 2000.0f;
}

static long pw_floats(void) { return PW_CO; }

static void pw_pack(const float *w, const float *bias, float *packed)
{
  (void)w;
  for (int o = 0; o < PW_CO; o++) packed[o] = bias[o] + 500.0f;
}

static void pw_mark(const float *in, float *out, const float *packed, const float *zero_row, float *scratch,
                    long begin, long end)
{
  (void)in, (void)zero_row, (void)scratch, (void)begin, (void)end;
  for (int p = 0; p < PW_PIXELS; p++)
    for (int o = 0; o < PW_CO; o++) out[p * PW_CO + o] = packed[o];
}

static septune_kernel_entry entries[3];
static septune_kernel_table table = { SEPTUNE_KERNEL_TABLE_ABI, 2, "marks", "", 3, entries };

static int setup(void **state)
{
  (void)state;
  septune_op op = dw_op();
  septune_op_format(&op, dw_line, sizeof dw_line);
  op = pw_op();
  septune_op_format(&op, pw_line, sizeof pw_line);
  op = other_op();
  septune_op_format(&op, other_line, sizeof other_line);
  entries[0] = (septune_kernel_entry){ dw_line, SEPTUNE_ISA_SCALAR, 0, "ct=1", "dw_mark_scalar", dw_mark_scalar,
                                       one, one, NULL, NULL };
  entries[1] = (septune_kernel_entry){ dw_line, SEPTUNE_ISA_AVX512, 1, "ct=2", "dw_mark_avx512", dw_mark_avx512,
                                       one, one, NULL, NULL };
  entries[2] = (septune_kernel_entry){ pw_line, SEPTUNE_ISA_SCALAR, 1, "mr=1", "pw_mark", pw_mark, one, one,
                                       pw_floats, pw_pack };
  unsetenv("SEPTUNE_MAX_ISA");
  return 0;
}

static float weights[1024], bias[64], input[4096], output[4096];

static septune_plan *plan_for(const septune_op *op, const septune_plan_options *opts)
{
  septune_plan *plan = NULL;
  septune_error err;
  septune_status st = septune_plan_create(op, weights, bias, opts, &plan, &err);
  if (st != SEPTUNE_OK) fail_msg("plan_create: %s", err.message);
  return plan;
}

/* Runs the plan on input 0, 1, 2, ... and returns output[0]. */
static float run(septune_plan *plan)
{
  for (int i = 0; i < 4096; i++) input[i] = (float)i;
  assert_int_equal(septune_execute(plan, input, output, NULL), SEPTUNE_OK);
  return output[0];
}

static void test_check_rejects_bad_tables(void **state)
{
  (void)state;
  septune_error err;
  assert_int_equal(septune_kernel_table_check(&table, &err), SEPTUNE_OK);
  assert_int_equal(septune_kernel_table_check(NULL, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_int_equal(septune_register_kernels(NULL, &err), SEPTUNE_ERR_INVALID_ARGUMENT);

  septune_kernel_table bad = table;
  bad.abi = SEPTUNE_KERNEL_TABLE_ABI + 1;
  assert_int_equal(septune_kernel_table_check(&bad, &err), SEPTUNE_ERR_UNSUPPORTED);
  assert_non_null(strstr(err.message, "ABI"));

  septune_kernel_entry e[1];
  bad = table;
  bad.count = 1;
  bad.entries = e;
  e[0] = entries[0];
  e[0].op = "dw h=4 w=4 c=8 k=3"; /* a valid layer, but not canonical: could never match */
  assert_int_equal(septune_kernel_table_check(&bad, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "canonical"));
  e[0].op = "dw h=0";
  assert_int_equal(septune_kernel_table_check(&bad, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "entry 0"));
  e[0] = entries[0];
  e[0].isa = 9;
  assert_int_equal(septune_kernel_table_check(&bad, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  e[0] = entries[0];
  e[0].kernel = NULL;
  assert_int_equal(septune_kernel_table_check(&bad, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  e[0] = entries[2];
  e[0].pack = NULL;
  assert_int_equal(septune_kernel_table_check(&bad, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "pack"));
  e[0] = entries[0];
  e[0].work = NULL;
  assert_int_equal(septune_kernel_table_check(&bad, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "work or threads"));
  e[0] = entries[0];
  e[0].threads = NULL;
  assert_int_equal(septune_kernel_table_check(&bad, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  /* an entry is for one image: n=1 in its line */
  char batch_line[512];
  septune_op batch = dw_op();
  batch.u.dw.n = 2;
  septune_op_format(&batch, batch_line, sizeof batch_line);
  e[0] = entries[0];
  e[0].op = batch_line;
  assert_int_equal(septune_kernel_table_check(&bad, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "n other than 1"));

  /* A plan given a bad table fails, naming it, instead of ignoring it. */
  septune_op op = dw_op();
  septune_plan_options opts = { .db_path = "", .kernels = &bad };
  septune_plan *plan = (septune_plan *)&opts;
  assert_int_equal(septune_plan_create(&op, weights, bias, &opts, &plan, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_null(plan);
  assert_non_null(strstr(err.message, "options.kernels"));
}

static void test_entry_kernels_are_called(void **state)
{
  (void)state;
  septune_plan_options opts = { .db_path = "", .kernels = &table };
  septune_plan_info info;
  septune_op op = dw_op();
  septune_plan *plan = plan_for(&op, &opts);
  assert_int_equal(septune_plan_get_info(plan, &info), SEPTUNE_OK);
  assert_int_equal(info.build, SEPTUNE_BUILD_EMITTED);
  assert_string_equal(info.table, "marks");
  assert_null(septune_plan_source(plan));
  /* The widest ISA the CPU runs wins. */
  if (septune_cpu_has_isa(SEPTUNE_ISA_AVX512)) {
    assert_float_equal(run(plan), 2000.0f, 0);
    assert_int_equal(info.source, SEPTUNE_KERNEL_TUNED);
    assert_string_equal(info.knobs, "ct=2");
  } else {
    assert_float_equal(run(plan), 1000.0f, 0);
    assert_int_equal(info.source, SEPTUNE_KERNEL_DEFAULT);
  }
  septune_plan_destroy(plan);

  /* A forced ISA takes only its own entries. */
  opts.isa = SEPTUNE_ISA_SCALAR;
  plan = plan_for(&op, &opts);
  assert_float_equal(run(plan), 1000.0f, 0);
  septune_plan_get_info(plan, &info);
  assert_int_equal(info.isa, SEPTUNE_ISA_SCALAR);
  septune_plan_destroy(plan);

  /* An entry the CPU cannot run (capped here) is skipped. */
  opts.isa = SEPTUNE_ISA_AUTO;
  setenv("SEPTUNE_MAX_ISA", "avx2", 1);
  plan = plan_for(&op, &opts);
  assert_float_equal(run(plan), 1000.0f, 0);
  septune_plan_destroy(plan);
  unsetenv("SEPTUNE_MAX_ISA");

  /* Pointwise: the entry's packer packs, its kernel reads the result. */
  op = pw_op();
  for (int o = 0; o < PW_CO; o++) bias[o] = (float)o;
  plan = plan_for(&op, &opts);
  run(plan);
  for (int p = 0; p < PW_PIXELS; p++)
    for (int o = 0; o < PW_CO; o++) assert_float_equal(output[p * PW_CO + o], 500.0f + o, 0);
  septune_plan_destroy(plan);
}

/* A layer no table has: the JIT default in libseptune, the generic kernel
 * in libseptune_rt; both agree with the reference. */
static void test_other_layers(void **state)
{
  (void)state;
  septune_plan_options opts = { .db_path = "", .kernels = &table };
  septune_op op = other_op();
  size_t n_in, n_out, n_w, n_b;
  assert_int_equal(septune_op_tensor_sizes(&op, &n_in, &n_out, &n_w, &n_b, NULL), SEPTUNE_OK);
  float *w = malloc(n_w * sizeof *w), *b = malloc(n_b * sizeof *b), *in = malloc(n_in * sizeof *in);
  float *want = malloc(n_out * sizeof *want), *got = malloc(n_out * sizeof *got);
  for (size_t i = 0; i < n_w; i++) w[i] = (float)((i * 7) % 11) / 11.0f - 0.5f;
  for (size_t i = 0; i < n_b; i++) b[i] = (float)i / 10.0f;
  for (size_t i = 0; i < n_in; i++) in[i] = (float)((i * 5) % 13) / 13.0f - 0.3f;
  assert_int_equal(septune_reference_execute(&op, w, b, in, want, NULL), SEPTUNE_OK);

  septune_plan *plan = NULL;
  septune_error err;
  if (septune_plan_create(&op, w, b, &opts, &plan, &err) != SEPTUNE_OK) fail_msg("%s", err.message);
  assert_int_equal(septune_execute(plan, in, got, NULL), SEPTUNE_OK);
  septune_check_result r;
  assert_true(septune_check_output(&op, want, got, n_out, &r));
  septune_plan_info info;
  septune_plan_get_info(plan, &info);
#ifdef SEPTUNE_TEST_JIT
  assert_int_equal(info.build, SEPTUNE_BUILD_JIT);
  assert_int_equal(info.source, SEPTUNE_KERNEL_DEFAULT);
  assert_non_null(septune_plan_source(plan));
#else
  assert_int_equal(info.build, SEPTUNE_BUILD_LIBRARY);
  assert_int_equal(info.source, SEPTUNE_KERNEL_GENERIC);
  assert_string_equal(info.knobs, "");
  assert_null(septune_plan_source(plan));
#endif
  septune_plan_destroy(plan);
  free(w), free(b), free(in), free(want), free(got);
}

static void test_knobs(void **state)
{
  (void)state;
  septune_plan_options opts = { .db_path = "", .kernels = &table, .knobs = "ct=1" };
  septune_op op = dw_op();
  septune_plan_info info;
  septune_plan *plan = plan_for(&op, &opts);
  septune_plan_get_info(plan, &info);
  assert_int_equal(info.source, SEPTUNE_KERNEL_FORCED);
#ifdef SEPTUNE_TEST_JIT
  /* libseptune generates what it is asked for, table or not. */
  assert_int_equal(info.build, SEPTUNE_BUILD_JIT);
#else
  /* libseptune_rt can only serve knobs some entry has. */
  assert_int_equal(info.build, SEPTUNE_BUILD_EMITTED);
  assert_float_equal(run(plan), 1000.0f, 0);
  septune_plan_destroy(plan);
  opts.knobs = "ct=3";
  septune_error err;
  plan = (septune_plan *)&opts;
  assert_int_equal(septune_plan_create(&op, weights, bias, &opts, &plan, &err), SEPTUNE_ERR_UNSUPPORTED);
  assert_null(plan);
  assert_non_null(strstr(err.message, "ct=3"));
#endif
  septune_plan_destroy(plan);
}

/* Registered tables serve plans that name no table. */
static void test_registry(void **state)
{
  (void)state;
  septune_plan_options opts = { .db_path = "" };
  septune_op op = pw_op();
  septune_plan_info info;
  septune_plan *plan = plan_for(&op, &opts);
  septune_plan_get_info(plan, &info);
  assert_int_not_equal(info.build, SEPTUNE_BUILD_EMITTED);
  septune_plan_destroy(plan);

  assert_int_equal(septune_register_kernels(&table, NULL), SEPTUNE_OK);
  assert_int_equal(septune_register_kernels(&table, NULL), SEPTUNE_OK); /* twice: no-op */
  plan = plan_for(&op, &opts);
  septune_plan_get_info(plan, &info);
  assert_int_equal(info.build, SEPTUNE_BUILD_EMITTED);
  run(plan);
  assert_float_equal(output[PW_CO + 1], 501.0f, 0);
  septune_plan_destroy(plan);
  /* NULL options: the registered tables too. */
  plan = plan_for(&op, NULL);
  septune_plan_get_info(plan, &info);
  assert_int_equal(info.build, SEPTUNE_BUILD_EMITTED);
  septune_plan_destroy(plan);
}

/* ---- an entry that splits its work: threads through the library ---------- */

#define ITEMS 16 /* work items per image */

static pthread_t item_thread[2 * ITEMS];
static int arrived; /* runs that have started */

static long items(void) { return ITEMS; }
static long four(void) { return 4; }

/* Item i of image i / ITEMS writes out[i] = in[i] + 1 and says which thread
 * ran it. A run of 4 (each a fourth of the items) waits at its start until
 * four runs have started (10 s at most): pthreadpool lets a thread that is
 * done take the others' items, and without the wait the calling thread
 * could do them all before a worker wakes. */
static void split_mark(const float *in, float *out, const float *packed, const float *zero_row, float *scratch,
                       long begin, long end)
{
  (void)packed, (void)zero_row, (void)scratch;
  if (begin % (2 * ITEMS / 4) == 0) {
    time_t give_up = time(NULL) + 10;
    __atomic_add_fetch(&arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < 4 && time(NULL) < give_up) sched_yield();
  }
  for (long i = begin; i < end; i++) {
    out[i] = in[i] + 1.0f;
    item_thread[i] = pthread_self();
  }
}

/* A plan of an emitted entry whose kernel cuts the work into items runs
 * them on the plan's threads, each item once, a batch being more items. */
static void test_entries_run_on_threads(void **state)
{
  (void)state;
  septune_op op = dw_op();
  op.u.dw.n = 2;
  septune_kernel_entry split[1] = { { dw_line, SEPTUNE_ISA_SCALAR, 1, "rb=1", "split_mark", split_mark, items, four,
                                      NULL, NULL } };
  septune_kernel_table t = { SEPTUNE_KERNEL_TABLE_ABI, 2, "split", "", 1, split };
  septune_plan_options opts = { .db_path = "", .kernels = &t, .threads = 4 };
  septune_plan *plan = plan_for(&op, &opts);
  septune_plan_info info;
  septune_plan_get_info(plan, &info);
  assert_int_equal(info.build, SEPTUNE_BUILD_EMITTED);
  assert_int_equal(info.threads, 4);
  assert_int_equal(info.work, ITEMS);
  assert_int_equal(info.wake, 4);
  memset(item_thread, 0, sizeof item_thread);
  arrived = 0;
  for (int i = 0; i < 4096; i++) output[i] = -1.0f;
  run(plan);
  int threads = 0;
  for (int i = 0; i < 2 * ITEMS; i++) {
    assert_float_equal(output[i], input[i] + 1.0f, 0);
    int seen = 0;
    for (int j = 0; j < i; j++) seen |= pthread_equal(item_thread[j], item_thread[i]);
    threads += !seen;
  }
  assert_float_equal(output[2 * ITEMS], -1.0f, 0); /* nothing past n * work items */
  /* 2 x 16 items in 4 runs: four threads took part (on any number of cores) */
  assert_int_equal(threads, 4);
  septune_plan_destroy(plan);

  /* one thread: one call on the calling thread */
  opts.threads = 1;
  plan = plan_for(&op, &opts);
  arrived = 4;
  run(plan);
  for (int i = 0; i < 2 * ITEMS; i++) assert_true(pthread_equal(item_thread[i], pthread_self()));
  septune_plan_destroy(plan);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_check_rejects_bad_tables),
      cmocka_unit_test(test_entry_kernels_are_called),
      cmocka_unit_test(test_other_layers),
      cmocka_unit_test(test_knobs),
      cmocka_unit_test(test_registry),
      cmocka_unit_test(test_entries_run_on_threads),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}

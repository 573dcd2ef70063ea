/*
 * test_plan_db.c — plans take their knobs from the tuning database: a record
 * for this op (any batch), CPU, thread count and template version gives a
 * TUNED kernel with the record's knobs, failing that the 1-thread record's
 * knobs with the default split for the plan's threads; anything else (no record, another CPU, an older template
 * version, knobs that no longer build, an unreadable or disabled database,
 * forced knobs) gives the kernel septune_plan_get_info reports, and every
 * kernel still matches the reference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "db.h"
#include "internal.h"
#include "septune.h"

static char dir[] = "/tmp/septune_test_plan_db_XXXXXX";
static char db_path[256];

static septune_op pw_op(void)
{
  septune_op op;
  op.kind = SEPTUNE_OP_POINTWISE;
  septune_pointwise_desc_init(&op.u.pw);
  op.u.pw.h = 5;
  op.u.pw.w = 7;
  op.u.pw.ci = 37;
  op.u.pw.co = 45;
  op.u.pw.has_bias = 1;
  op.u.pw.act = SEPTUNE_ACT_RELU6;
  return op;
}

/* Large enough to pay for two threads (its default split for 2 differs). */
static septune_op big_pw_op(void)
{
  septune_op op = pw_op();
  op.u.pw.h = 28;
  op.u.pw.w = 28;
  op.u.pw.ci = 64;
  op.u.pw.co = 96;
  return op;
}

/* A record for op on this CPU at the current template version. */
static septune_db_record record_for(const septune_op *op, septune_isa isa, const char *knobs)
{
  septune_db_record r;
  memset(&r, 0, sizeof r);
  septune_cpu_signature(r.cpu, sizeof r.cpu);
  r.threads = 1;
  assert_int_equal(septune_db_template_version(&r.template_version, NULL), SEPTUNE_OK);
  r.op = *op;
  r.isa = isa;
  snprintf(r.knobs, sizeof r.knobs, "%s", knobs);
  r.median_us = r.min_us = 10.0;
  r.gflops = 1.0;
  r.date = (long long)time(NULL);
  return r;
}

static void store(const septune_db_record *r)
{
  septune_error err;
  unlink(db_path);
  if (septune_db_store(db_path, r, 1, &err) != SEPTUNE_OK) fail_msg("store: %s", err.message);
}

/* Creates a plan for op with opts, checks it against the reference and
 * returns its info. */
static septune_plan_info plan_info(const septune_op *op, const septune_plan_options *opts)
{
  size_t ni, no, nw, nb;
  septune_error err;
  assert_int_equal(septune_op_tensor_sizes(op, &ni, &no, &nw, &nb, &err), SEPTUNE_OK);
  float *in = malloc(ni * sizeof(float)), *w = malloc(nw * sizeof(float)), *b = malloc(nb * sizeof(float));
  float *want = malloc(no * sizeof(float)), *got = malloc(no * sizeof(float));
  assert_true(in && w && b && want && got);
  unsigned long long seed = 7;
  septune_fill_random(in, ni, &seed);
  septune_fill_random(w, nw, &seed);
  septune_fill_random(b, nb, &seed);
  septune_plan *plan = NULL;
  if (septune_plan_create(op, w, b, opts, &plan, &err) != SEPTUNE_OK) fail_msg("plan_create: %s", err.message);
  assert_int_equal(septune_execute(plan, in, got, &err), SEPTUNE_OK);
  assert_int_equal(septune_reference_execute(op, w, b, in, want, &err), SEPTUNE_OK);
  assert_true(septune_check_output(op, want, got, no, NULL));
  septune_plan_info info;
  assert_int_equal(septune_plan_get_info(plan, &info), SEPTUNE_OK);
  septune_plan_destroy(plan);
  free(in); free(w); free(b); free(want); free(got);
  return info;
}

static void tuned_record_is_used(void **state)
{
  (void)state;
  septune_op op = pw_op();
  septune_isa isa = septune_cpu_has_isa(SEPTUNE_ISA_AVX2) ? SEPTUNE_ISA_AVX2 : SEPTUNE_ISA_SCALAR;
  const char *knobs = isa == SEPTUNE_ISA_AVX2 ? "mr=3,nr=16,kc=32,pf=1,ku=2,nt=0,mc=0,np=0,th=1"
                                              : "mr=1,nr=4,kc=0,pf=0,ku=1,nt=0,mc=0,np=0,th=1";
  septune_db_record r = record_for(&op, isa, knobs);
  store(&r);
  septune_plan_options opts = { .isa = SEPTUNE_ISA_AUTO, .knobs = NULL, .db_path = db_path, .threads = 1 };
  septune_plan_info info = plan_info(&op, &opts);
  assert_int_equal(info.source, SEPTUNE_KERNEL_TUNED);
  assert_int_equal(info.isa, isa);
  assert_string_equal(info.knobs, knobs);
  assert_int_equal(info.threads, 1);
  assert_int_equal(info.tuned_threads, 1);

  /* the record (for one image) serves any batch */
  septune_op batch = op;
  batch.u.pw.n = 3;
  info = plan_info(&batch, &opts);
  assert_int_equal(info.source, SEPTUNE_KERNEL_TUNED);
  assert_string_equal(info.knobs, knobs);

  /* the same record through $SEPTUNE_DB and a NULL db_path */
  setenv("SEPTUNE_DB", db_path, 1);
  septune_plan_options env_opts = { .isa = SEPTUNE_ISA_AUTO, .knobs = NULL, .db_path = NULL };
  assert_int_equal(plan_info(&op, &env_opts).source, SEPTUNE_KERNEL_TUNED);
  setenv("SEPTUNE_DB", "", 1);
  assert_int_equal(plan_info(&op, &env_opts).source, SEPTUNE_KERNEL_DEFAULT);
}

static void other_cases_use_the_default(void **state)
{
  (void)state;
  septune_op op = pw_op();
  const char *knobs = "mr=1,nr=4,kc=0,pf=0,ku=1,nt=0,mc=0,np=0,th=1";
  septune_plan_options opts = { .isa = SEPTUNE_ISA_SCALAR, .knobs = NULL, .db_path = db_path, .threads = 1 };

  /* a record for another CPU */
  septune_db_record r = record_for(&op, SEPTUNE_ISA_SCALAR, knobs);
  snprintf(r.cpu, sizeof r.cpu, "OtherVendor:1.2.3:Some_CPU:avx2:l1d=32K,l2=256K,l3=8192K");
  store(&r);
  assert_int_equal(plan_info(&op, &opts).source, SEPTUNE_KERNEL_DEFAULT);

  /* a record of an older template version */
  r = record_for(&op, SEPTUNE_ISA_SCALAR, knobs);
  r.template_version -= 1;
  store(&r);
  assert_int_equal(plan_info(&op, &opts).source, SEPTUNE_KERNEL_DEFAULT);

  /* knobs this version cannot build for the shape */
  r = record_for(&op, SEPTUNE_ISA_SCALAR, "mr=9,nr=4,kc=0,pf=0,ku=1,nt=0,mc=0,np=0,th=1");
  store(&r);
  assert_int_equal(plan_info(&op, &opts).source, SEPTUNE_KERNEL_DEFAULT);

  /* a record for another shape */
  septune_op other = op;
  other.u.pw.co = 46;
  r = record_for(&other, SEPTUNE_ISA_SCALAR, knobs);
  store(&r);
  assert_int_equal(plan_info(&op, &opts).source, SEPTUNE_KERNEL_DEFAULT);

  /* a good record, but the database disabled, unreadable, or knobs forced */
  r = record_for(&op, SEPTUNE_ISA_SCALAR, knobs);
  store(&r);
  assert_int_equal(plan_info(&op, &opts).source, SEPTUNE_KERNEL_TUNED);
  septune_plan_options none = { .isa = SEPTUNE_ISA_SCALAR, .knobs = NULL, .db_path = "" };
  assert_int_equal(plan_info(&op, &none).source, SEPTUNE_KERNEL_DEFAULT);
  septune_plan_options missing = { .isa = SEPTUNE_ISA_SCALAR, .knobs = NULL, .db_path = "/nonexistent/septune/tuning.db" };
  assert_int_equal(plan_info(&op, &missing).source, SEPTUNE_KERNEL_DEFAULT);
  septune_plan_options a_dir = { .isa = SEPTUNE_ISA_SCALAR, .knobs = NULL, .db_path = dir };
  assert_int_equal(plan_info(&op, &a_dir).source, SEPTUNE_KERNEL_DEFAULT);
  septune_plan_options forced = { .isa = SEPTUNE_ISA_SCALAR, .knobs = knobs, .db_path = db_path };
  assert_int_equal(plan_info(&op, &forced).source, SEPTUNE_KERNEL_FORCED);

  /* a forced ISA only takes a record of that ISA */
  if (septune_cpu_has_isa(SEPTUNE_ISA_SSE)) {
    septune_plan_options sse = { .isa = SEPTUNE_ISA_SSE, .knobs = NULL, .db_path = db_path };
    septune_plan_info info = plan_info(&op, &sse);
    assert_int_equal(info.source, SEPTUNE_KERNEL_DEFAULT);
    assert_int_equal(info.isa, SEPTUNE_ISA_SSE);
  }
}

/* A plan of T threads takes the record for T; without one, the 1-thread
 * record's knobs with the default split for T; a record for another T
 * (neither 1 nor the plan's) is not for it. */
static void records_by_thread_count(void **state)
{
  (void)state;
  septune_op op = big_pw_op();
  septune_isa isa = septune_cpu_best_isa();
  septune_plan_options def = { .isa = isa, .db_path = "", .threads = 2 }, one = def;
  one.threads = 1;
  septune_plan_info d2 = plan_info(&op, &def), d1 = plan_info(&op, &one);
  /* the default split for 2 threads is not the one for 1 */
  assert_string_not_equal(d2.knobs, d1.knobs);
  assert_int_equal(d2.threads, 2);

  /* a 1-thread record with the non-split knobs of the 1-thread default and
   * ku=1, so that it shows */
  char rec1[SEPTUNE_KNOBS_SIZE], prefix[SEPTUNE_KNOBS_SIZE];
  snprintf(rec1, sizeof rec1, "%s", d1.knobs);
  char *ku = strstr(rec1, "ku=");
  assert_non_null(ku);
  ku[3] = '1';
  snprintf(prefix, sizeof prefix, "%s", rec1);
  *strstr(prefix, ",mc=") = 0;
  septune_db_record r = record_for(&op, isa, rec1);
  store(&r);
  septune_plan_options two = { .isa = isa, .db_path = db_path, .threads = 2 };
  septune_plan_info info = plan_info(&op, &two);
  assert_int_equal(info.source, SEPTUNE_KERNEL_TUNED);
  assert_int_equal(info.tuned_threads, 1);
  assert_int_equal(info.threads, 2);
  /* the record's knobs, the default split for 2 */
  assert_int_equal(strncmp(info.knobs, prefix, strlen(prefix)), 0);
  assert_string_equal(strstr(info.knobs, ",mc="), strstr(d2.knobs, ",mc="));

  /* records for 1 and for 2 threads: each plan takes its own */
  septune_db_record recs[2] = { r, record_for(&op, isa, d2.knobs) };
  recs[1].threads = 2;
  septune_error err;
  unlink(db_path);
  assert_int_equal(septune_db_store(db_path, recs, 2, &err), SEPTUNE_OK);
  info = plan_info(&op, &two);
  assert_int_equal(info.tuned_threads, 2);
  assert_string_equal(info.knobs, d2.knobs);
  septune_plan_options single = { .isa = isa, .db_path = db_path, .threads = 1 };
  info = plan_info(&op, &single);
  assert_int_equal(info.tuned_threads, 1);
  assert_string_equal(info.knobs, rec1);
  /* 3 threads: no record for 3, so the 1-thread one resplit, not the 2-thread one */
  septune_plan_options three = { .isa = isa, .db_path = db_path, .threads = 3 };
  info = plan_info(&op, &three);
  assert_int_equal(info.tuned_threads, 1);
  assert_int_equal(strncmp(info.knobs, prefix, strlen(prefix)), 0);
}

static int setup(void **state)
{
  (void)state;
  if (!mkdtemp(dir)) return -1;
  snprintf(db_path, sizeof db_path, "%s/tuning.db", dir);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  char path[300];
  unlink(db_path);
  snprintf(path, sizeof path, "%s.lock", db_path);
  unlink(path);
  rmdir(dir);
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(tuned_record_is_used),
    cmocka_unit_test(other_cases_use_the_default),
    cmocka_unit_test(records_by_thread_count),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

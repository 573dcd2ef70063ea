/*
 * test_premise.c — the premise of the tuner: a generated kernel built by
 * libtcc and the same source built by the system compiler give bit-identical
 * results, for every ISA this CPU has.
 *
 * The system compiler's builds come from cmake/PremiseKernels.cmake, which
 * ran `septune source` at build time; here the source is rendered again (it
 * must be the same text), JIT-compiled through a plan, and both builds run on
 * the same input with the plan's packed weights.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "plan.h"
#include "premise_kernels.h"
#include "septune.h"

static char *read_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
    free(s);
    s = NULL;
  }
  if (s) s[n] = 0;
  fclose(f);
  return s;
}

static void check_kernel(const struct premise_kernel *pk)
{
  septune_isa isa;
  septune_layer layer;
  septune_error err;
  assert_int_equal(septune_isa_from_name(pk->isa, &isa), SEPTUNE_OK);
  if (!septune_cpu_has_isa(isa)) {
    print_message("skipped %s on %s: this CPU has no %s\n", pk->line, pk->isa, pk->isa);
    return;
  }
  assert_int_equal(septune_layer_parse(pk->line, &layer, &err), SEPTUNE_OK);

  size_t ni, no, nw, nb;
  assert_int_equal(septune_op_tensor_sizes(&layer.op, &ni, &no, &nw, &nb, &err), SEPTUNE_OK);
  float *in = malloc(ni * sizeof(float)), *w = malloc(nw * sizeof(float));
  float *bias = malloc((nb + 1) * sizeof(float));
  float *out_tcc = malloc(no * sizeof(float)), *out_gcc = malloc(no * sizeof(float));
  assert_true(in && w && bias && out_tcc && out_gcc);
  unsigned long long seed = 99;
  septune_fill_random(in, ni, &seed);
  septune_fill_random(w, nw, &seed);
  septune_fill_random(bias, nb, &seed);
  memset(out_tcc, 0xAB, no * sizeof(float));
  memset(out_gcc, 0xCD, no * sizeof(float));

  septune_plan_options opts = { .isa = isa, .knobs = NULL, .threads = 1 }; /* septune source renders for 1 */
  septune_plan *plan = NULL;
  assert_int_equal(septune_plan_create(&layer.op, w, bias, &opts, &plan, &err), SEPTUNE_OK);

  /* the JIT compiled exactly the text the system compiler built */
  char *built = read_file(pk->path);
  assert_non_null(built);
  assert_string_equal(septune_plan_source(plan), built);
  free(built);

  void *sym = dlsym(RTLD_DEFAULT, septune_plan_symbol(plan));
  if (!sym) print_error("%s: gcc build of %s not linked in\n", pk->line, septune_plan_symbol(plan));
  assert_non_null(sym);
  septune_kernel_fn gcc_kernel;
  memcpy(&gcc_kernel, &sym, sizeof sym);

  assert_int_equal(septune_execute(plan, in, out_tcc, &err), SEPTUNE_OK);
  assert_int_equal(septune_plan_execute_with(plan, gcc_kernel, in, out_gcc, &err), SEPTUNE_OK);
  if (memcmp(out_tcc, out_gcc, no * sizeof(float)) != 0) {
    for (size_t i = 0; i < no; i++)
      if (memcmp(&out_tcc[i], &out_gcc[i], sizeof(float))) {
        print_error("%s on %s: element %zu: libtcc %a, gcc %a\n", pk->line, pk->isa, i, (double)out_tcc[i],
                    (double)out_gcc[i]);
        break;
      }
    fail();
  }
  print_message("%-58s %-7s libtcc == gcc, %zu floats bit-identical\n", pk->line, pk->isa, no);

  /* and both agree with the reference */
  float *want = malloc(no * sizeof(float));
  assert_non_null(want);
  assert_int_equal(septune_reference_execute(&layer.op, w, bias, in, want, &err), SEPTUNE_OK);
  assert_true(septune_check_output(&layer.op, want, out_tcc, no, NULL));
  free(want);

  septune_plan_destroy(plan);
  free(in); free(w); free(bias); free(out_tcc); free(out_gcc);
}

static void each_isa(const char *isa)
{
  int seen = 0;
  septune_isa id;
  assert_int_equal(septune_isa_from_name(isa, &id), SEPTUNE_OK);
  if (!septune_cpu_has_isa(id)) {
    print_message("skipped: this CPU has no %s\n", isa);
    skip();
  }
  for (size_t i = 0; i < PREMISE_KERNEL_COUNT; i++) {
    if (strcmp(premise_kernels[i].isa, isa)) continue;
    check_kernel(&premise_kernels[i]);
    seen++;
  }
  assert_true(seen > 0);
}

static void premise_scalar(void **s) { (void)s; each_isa("scalar"); }
static void premise_sse(void **s) { (void)s; each_isa("sse"); }
static void premise_avx2(void **s) { (void)s; each_isa("avx2"); }
static void premise_avx512(void **s) { (void)s; each_isa("avx512"); }

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(premise_scalar),
    cmocka_unit_test(premise_sse),
    cmocka_unit_test(premise_avx2),
    cmocka_unit_test(premise_avx512),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_tune_compile.c — a candidate that libtcc rejects is recorded as a
 * compile failure with tcc's message and never chosen, while the layer's
 * tune finishes with the candidates that do compile.
 *
 * The generator runs from a scratch copy of generator/ and templates/
 * (SEPTUNE_LUA_ROOT, read when the Lua state is created) whose depthwise
 * template emits a line that is not C for every configuration with pf=1.
 * A process of its own, because the Lua state lives for the whole process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tune_layer.h"

static char root[128];

static int make_broken_tree(void **state)
{
  (void)state;
  snprintf(root, sizeof root, "/tmp/septune_tune_compile_%ld", (long)getpid());
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "rm -rf '%s' && mkdir -p '%s' && cp -r '%s/generator' '%s/templates' '%s/' && "
           "printf '$ if k.pf == 1 then\\nthis is not C;\\n$ end\\n' >> '%s/templates/depthwise_x86.c.in'",
           root, root, SEPTUNE_LUA_ROOT, SEPTUNE_LUA_ROOT, root, root);
  if (system(cmd) != 0) return -1;
  return setenv("SEPTUNE_LUA_ROOT", root, 1);
}

static int remove_tree(void **state)
{
  (void)state;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  return system(cmd) == 0 ? 0 : -1;
}

static void compile_failure_recorded(void **state)
{
  (void)state;
  septune_layer l;
  septune_error err;
  assert_int_equal(septune_layer_parse("dw h=10 w=10 c=32 k=3 s=1 pad=same", &l, &err), SEPTUNE_OK);
  septune_isa isa = septune_cpu_best_isa();
  if (isa == SEPTUNE_ISA_SCALAR) skip(); /* the portable template has no pf knob */

  tune_options o;
  tune_options_default(&o);
  o.isa = isa;
  /* max_candidates bounds the work; the budget only stops a machine so
   * loaded that 30 candidates take longer, so that a few candidates with
   * pf=1 are always among those measured, whatever the load. */
  o.budget_s = 10;
  o.exhaustive_max = 0;
  o.max_candidates = 30;
  tune_result r;
  assert_int_equal(tune_layer(&l.op, &o, &r), 0);
  assert_true(r.ok);
  size_t compile_failures = 0;
  for (size_t i = 0; i < r.n_cands; i++) {
    const tune_candidate *c = &r.cands[i];
    int pf1 = strstr(c->knobs, "pf=1") != NULL;
    if (pf1) {
      assert_int_equal(c->outcome, MEASURE_COMPILE);
      assert_non_null(strstr(c->reason, "compile failed"));
      compile_failures++;
    }
  }
  assert_true(compile_failures > 0);
  assert_null(strstr(r.knobs, "pf=1"));
  assert_true(r.rejected >= compile_failures);
  tune_result_free(&r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(compile_failure_recorded, make_broken_tree, remove_tree),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

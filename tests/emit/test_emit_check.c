/*
 * test_emit_check.c — every kernel of an emitted table, built by the system
 * compilers, gives bit-identical output to the same kernel compiled by the
 * JIT, and both match the reference.
 *
 * Driven by test_emit_build.lua, which emits, builds one shared object per
 * (table, compiler) and passes them in SEPTUNE_EMIT_LIBS as
 * "label=path:table_symbol;..." (label e.g. "avx2/clang").
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
#include "septune.h"

static float *alloc_floats(size_t n)
{
  void *p = NULL;
  /* 64-byte aligned like a caller that wants non-temporal stores; both
   * builds then take the same store path. */
  if (posix_memalign(&p, 64, (n ? n : 1) * sizeof(float)) != 0) return NULL;
  return p;
}

/* The JIT's kernel and the emitted one on the same data; returns 1 when
 * they agree bit for bit and match the reference. */
static int check_entry(const char *label, const septune_kernel_table *table, const septune_kernel_entry *e)
{
  septune_layer layer;
  septune_error err;
  size_t ni, no, nw, nb;
  if (septune_layer_parse(e->op, &layer, &err) != SEPTUNE_OK ||
      septune_op_tensor_sizes(&layer.op, &ni, &no, &nw, &nb, &err) != SEPTUNE_OK) {
    print_error("%s: %s: %s\n", label, e->op, err.message);
    return 0;
  }
  float *in = alloc_floats(ni), *w = alloc_floats(nw), *bias = alloc_floats(nb ? nb : 1);
  float *out_emit = alloc_floats(no), *out_jit = alloc_floats(no), *want = alloc_floats(no);
  assert_true(in && w && bias && out_emit && out_jit && want);
  unsigned long long seed = 2026;
  septune_fill_random(in, ni, &seed);
  septune_fill_random(w, nw, &seed);
  septune_fill_random(bias, nb ? nb : 1, &seed);
  memset(out_emit, 0xAB, no * sizeof(float));
  memset(out_jit, 0xCD, no * sizeof(float));

  septune_plan_options emitted = { .isa = (septune_isa)e->isa, .db_path = "", .kernels = table };
  septune_plan_options jit = { .isa = (septune_isa)e->isa, .knobs = e->knobs, .db_path = "" };
  septune_plan *pe = NULL, *pj = NULL;
  septune_plan_info info;
  int ok = 1;
  if (septune_plan_create(&layer.op, w, bias, &emitted, &pe, &err) != SEPTUNE_OK ||
      septune_plan_create(&layer.op, w, bias, &jit, &pj, &err) != SEPTUNE_OK) {
    print_error("%s: %s: %s\n", label, e->op, err.message);
    ok = 0;
  }
  if (ok) {
    septune_plan_get_info(pe, &info);
    if (info.build != SEPTUNE_BUILD_EMITTED || strcmp(info.knobs, e->knobs) != 0) {
      print_error("%s: %s: the plan did not take the emitted kernel\n", label, e->op);
      ok = 0;
    }
  }
  if (ok) {
    assert_int_equal(septune_execute(pe, in, out_emit, NULL), SEPTUNE_OK);
    assert_int_equal(septune_execute(pj, in, out_jit, NULL), SEPTUNE_OK);
    assert_int_equal(septune_reference_execute(&layer.op, w, bias, in, want, NULL), SEPTUNE_OK);
    for (size_t i = 0; i < no && ok; i++)
      if (memcmp(&out_emit[i], &out_jit[i], sizeof(float)) != 0) {
        print_error("%s: %s (%s %s): element %zu: emitted %a, JIT %a\n", label, e->op, septune_isa_name(e->isa),
                    e->knobs, i, (double)out_emit[i], (double)out_jit[i]);
        ok = 0;
      }
    if (ok && !septune_check_output(&layer.op, want, out_jit, no, NULL)) {
      print_error("%s: %s: the kernel does not match the reference\n", label, e->op);
      ok = 0;
    }
  }
  septune_plan_destroy(pe);
  septune_plan_destroy(pj);
  free(in), free(w), free(bias), free(out_emit), free(out_jit), free(want);
  return ok;
}

/* One "label=path:symbol" item. */
static void check_library(const char *item)
{
  char label[128], path[1024], symbol[128];
  const char *eq = strchr(item, '='), *colon = strrchr(item, ':');
  assert_true(eq && colon && colon > eq);
  snprintf(label, sizeof label, "%.*s", (int)(eq - item), item);
  snprintf(path, sizeof path, "%.*s", (int)(colon - eq - 1), eq + 1);
  snprintf(symbol, sizeof symbol, "%s", colon + 1);

  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) fail_msg("%s: dlopen: %s", label, dlerror());
  const septune_kernel_table *table = dlsym(lib, symbol);
  if (!table) fail_msg("%s: %s has no symbol %s", label, path, symbol);
  septune_error err;
  if (septune_kernel_table_check(table, &err) != SEPTUNE_OK) fail_msg("%s: %s", label, err.message);
  assert_true(table->count > 0);

  int bad = 0, skipped = 0;
  for (long i = 0; i < table->count; i++) {
    if (!septune_cpu_has_isa((septune_isa)table->entries[i].isa)) {
      skipped++;
      continue;
    }
    bad += !check_entry(label, table, &table->entries[i]);
  }
  print_message("%-14s %ld kernels: %ld bit-identical to the JIT, %d differ, %d skipped (ISA)\n", label,
                table->count, table->count - bad - skipped, bad, skipped);
  /* the table stays registered nowhere; the library may go */
  dlclose(lib);
  assert_int_equal(bad, 0);
}

static void test_libraries(void **state)
{
  (void)state;
  const char *libs = getenv("SEPTUNE_EMIT_LIBS");
  if (!libs || !*libs) fail_msg("SEPTUNE_EMIT_LIBS is not set (run through test_emit_build.lua)");
  char *copy = strdup(libs), *save = NULL;
  assert_non_null(copy);
  int n = 0;
  for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save), n++)
    check_library(item);
  free(copy);
  assert_true(n > 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = { cmocka_unit_test(test_libraries) };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_generator.c — the generator bridge (runtime/src/generator.c): the
 * exports and the symbol prefix of a render, default knobs that follow the
 * target's caches, the weight prefetch the default and the search keep on
 * small images, and shapes at the edge of what the generator serves:
 * huge widths and heights render in bounded time (ctest's TIMEOUT is the
 * guard: tests/cmake/generator.cmake) or are refused naming the dimension,
 * and huge sizes are written as exact integers that libtcc compiles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache_budget.h"
#include "generator.h"
#include "internal.h"
#include "jit.h"
#include "septune.h"

static septune_op op_of(const char *line)
{
  septune_layer layer;
  septune_error err;
  if (septune_layer_parse(line, &layer, &err) != SEPTUNE_OK) fail_msg("%s: %s", line, err.message);
  return layer.op;
}

static septune_status render(const char *line, septune_isa isa, const septune_gen_request *req,
                             septune_kernel_source_text *text, septune_error *err)
{
  septune_op op = op_of(line);
  return septune_gen_render_request(&op, isa, req, text, err);
}

/* Compiles text's source with libtcc and finds each export in it. */
static void compiles_with_exports(const septune_kernel_source_text *text)
{
  char msg[1024];
  septune_jit *jit = NULL;
  if (septune_jit_compile(text->source, text->symbol, &jit, msg, sizeof msg) != 0) fail_msg("libtcc: %s", msg);
  for (size_t i = 0; i < text->nexports; i++) assert_non_null(septune_jit_symbol(jit, text->exports[i].name));
  septune_jit_free(jit);
}

static void test_exports_and_prefix(void **state)
{
  (void)state;
  static const struct {
    const char *line;
    septune_isa isa;
    const char *knobs;
  } cases[] = {
    { "dw h=9 w=9 c=20 k=3 pad=same act=relu6", SEPTUNE_ISA_SSE, NULL },
    { "dw h=9 w=9 c=32 k=3 pad=same", SEPTUNE_ISA_AVX2, "nt=1" },
    { "dw h=9 w=9 c=5 k=3", SEPTUNE_ISA_SCALAR, NULL },
    { "pw h=7 w=7 ci=20 co=33 act=hswish bias=1", SEPTUNE_ISA_AVX512, NULL },
    { "pw h=7 w=7 ci=16 co=32", SEPTUNE_ISA_AVX2, "nt=1" },
    { "pw h=3 w=3 ci=5 co=3", SEPTUNE_ISA_SCALAR, NULL },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    septune_kernel_source_text text;
    septune_error err;
    septune_gen_request req = { cases[i].knobs, "net_a1", NULL, 1, 0 };
    int pw = cases[i].line[0] == 'p';
    if (render(cases[i].line, cases[i].isa, &req, &text, &err) != SEPTUNE_OK) fail_msg("%s", err.message);
    assert_int_equal(strncmp(text.symbol, pw ? "net_a1_pw_" : "net_a1_dw_", 10), 0);
    assert_null(strstr(text.source, "septune_"));
    assert_int_equal(text.nexports, pw ? 5 : 3);
    assert_int_equal(text.exports[0].role, SEPTUNE_GEN_KERNEL);
    assert_string_equal(text.exports[0].name, text.symbol);
    assert_non_null(strstr(text.exports[0].declaration, text.symbol));
    assert_non_null(strstr(text.exports[0].declaration, "long begin, long end)"));
    /* every kernel says how it splits its work */
    const septune_gen_export *work = septune_gen_export_of(&text, SEPTUNE_GEN_WORK);
    const septune_gen_export *threads = septune_gen_export_of(&text, SEPTUNE_GEN_THREADS);
    char want_work[SEPTUNE_SYMBOL_SIZE + 16], want_threads[SEPTUNE_SYMBOL_SIZE + 16];
    snprintf(want_work, sizeof want_work, "%s_work", text.symbol);
    snprintf(want_threads, sizeof want_threads, "%s_threads", text.symbol);
    assert_non_null(work);
    assert_non_null(threads);
    assert_string_equal(work->name, want_work);
    assert_string_equal(threads->name, want_threads);
    const septune_gen_export *pack = septune_gen_export_of(&text, SEPTUNE_GEN_PACK);
    const septune_gen_export *floats = septune_gen_export_of(&text, SEPTUNE_GEN_PACKED_FLOATS);
    if (pw) {
      char want[SEPTUNE_SYMBOL_SIZE + 16];
      assert_non_null(pack);
      assert_non_null(floats);
      snprintf(want, sizeof want, "%s_pack", text.symbol);
      assert_string_equal(pack->name, want);
      assert_non_null(strstr(pack->declaration, "_pack(const float *w, const float *bias, float *packed)"));
      assert_non_null(strstr(floats->declaration, "long "));
    } else {
      assert_null(pack);
      assert_null(floats);
    }
    /* Every function with external linkage is an export (nt=1's two copies
     * are static); libtcc finds each. */
    compiles_with_exports(&text);
    septune_gen_free(&text);
  }
  /* Prefixes that are no identifier are the caller's mistake. */
  static const char *const bad[] = { "", "9net", "net-a", "a b",
                                     "a234567890123456789012345678901234567890123456789012345678901234" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    septune_kernel_source_text text;
    septune_error err;
    septune_gen_request req = { NULL, bad[i], NULL, 1, 0 };
    assert_int_equal(render("dw h=5 w=5 c=4 k=3", SEPTUNE_ISA_SSE, &req, &text, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "prefix"));
  }
}

/* The default knobs follow the caches given: a layer that stays in a big L2
 * streams through a small one. */
static void test_default_follows_caches(void **state)
{
  (void)state;
  septune_caches big = { 48 * 1024, 64 * 1024 * 1024, 0 }, small = { 32 * 1024, 256 * 1024, 0 };
  septune_cache_budget b_big, b_small;
  septune_cache_budget_of(&big, &b_big);
  septune_cache_budget_of(&small, &b_small);
  static const char *const lines[] = { "dw h=56 w=56 c=48 k=3 pad=same act=relu6",
                                       "pw h=56 w=56 ci=24 co=144 act=relu6" };
  for (size_t i = 0; i < 2; i++) {
    septune_kernel_source_text a, b;
    septune_error err;
    septune_gen_request ra = { NULL, NULL, &b_big, 1, 0 }, rb = { NULL, NULL, &b_small, 1, 0 };
    if (render(lines[i], SEPTUNE_ISA_AVX512, &ra, &a, &err) != SEPTUNE_OK) fail_msg("%s", err.message);
    if (render(lines[i], SEPTUNE_ISA_AVX512, &rb, &b, &err) != SEPTUNE_OK) fail_msg("%s", err.message);
    print_message("%s: big L2 %s, small L2 %s\n", lines[i], a.knobs, b.knobs);
    assert_string_not_equal(a.knobs, b.knobs);
    septune_gen_free(&a);
    septune_gen_free(&b);
  }
}

/* A pointwise layer of few pixels and weights beyond L1 streams its weights
 * from memory in an inference: its default prefetches them (pf=2), and the
 * space the tuner searches keeps that prefetch (a hot tune would drop it by
 * chance). A larger image searches both. */
static void test_weight_prefetch_kept(void **state)
{
  (void)state;
  static const struct {
    const char *line;
    const char *default_pf;
    int searches_pf0;
  } cases[] = {
    { "pw h=7 w=7 ci=320 co=1280 act=relu6", "pf=2,", 0 },
    { "pw h=8 w=8 ci=96 co=576", "pf=2,", 0 },
    { "pw h=14 w=14 ci=96 co=576", "pf=0,", 1 },
    { "pw h=7 w=7 ci=16 co=16", "pf=0,", 1 }, /* weights that fit L1 */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    septune_op op = op_of(cases[i].line);
    septune_error err;
    char *knobs = NULL, *space = NULL;
    if (septune_gen_call("default_knobs", &op, SEPTUNE_ISA_AVX512, NULL, &knobs, &err) != SEPTUNE_OK ||
        septune_gen_call("space", &op, SEPTUNE_ISA_AVX512, NULL, &space, &err) != SEPTUNE_OK)
      fail_msg("%s: %s", cases[i].line, err.message);
    print_message("%s: default %s\n", cases[i].line, knobs);
    assert_non_null(strstr(knobs, cases[i].default_pf));
    assert_non_null(strstr(space, "pf=2,"));
    int pf0 = strstr(space, "pf=0,") != NULL, pf1 = strstr(space, "pf=1,") != NULL;
    assert_int_equal(pf0, cases[i].searches_pf0);
    assert_int_equal(pf1, cases[i].searches_pf0);
    free(knobs);
    free(space);
  }
}

/* Widths and heights far beyond any image render at once: the generator's
 * work does not grow with them (this test times out otherwise). */
static void test_huge_shapes_render(void **state)
{
  (void)state;
  static const struct {
    const char *line;
    septune_isa isa;
  } ok[] = {
    { "dw h=1 w=99999999999 c=1 k=1", SEPTUNE_ISA_SCALAR },
    { "dw h=99999999999 w=5 c=3 k=3 pad=same act=relu6", SEPTUNE_ISA_AVX2 },
    { "dw h=99999999999 w=5 c=3 k=3 pad=same act=relu6", SEPTUNE_ISA_SSE },
    { "dw h=3 w=100000000 c=1 k=3 pad=same", SEPTUNE_ISA_AVX512 },
    /* border runs millions of columns wide: huge dilation and padding */
    { "dw h=2 w=50000000 c=1 kh=1 kw=3 d=20000000 pad=same", SEPTUNE_ISA_AVX512 },
    { "dw h=2 w=40 c=8 kh=1 kw=3 pad=0,20000000,0,10000000", SEPTUNE_ISA_AVX2 },
    { "pw h=1 w=99999999999 ci=3 co=5", SEPTUNE_ISA_AVX512 },
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    septune_kernel_source_text text;
    septune_error err;
    if (render(ok[i].line, ok[i].isa, &(septune_gen_request){ 0 }, &text, &err) != SEPTUNE_OK)
      fail_msg("%s on %s: %s", ok[i].line, septune_isa_name(ok[i].isa), err.message);
    /* a few blocks of machine code, not a block per column or row */
    assert_true(strlen(text.source) < 200000);
    compiles_with_exports(&text);
    septune_gen_free(&text);
  }
}

/* What 32-bit displacements cannot reach, and what Lua cannot count
 * exactly, is refused as unsupported with the dimension named; plans
 * refuse it the same way, before allocating anything. */
static void test_huge_shapes_refused(void **state)
{
  (void)state;
  static const struct {
    const char *line;
    septune_isa isa;
    const char *names;
  } bad[] = {
    { "dw h=1 w=99999999999 c=1 k=1", SEPTUNE_ISA_AVX512, "w=99999999999" },
    { "dw h=1 w=99999999999 c=1 k=1", SEPTUNE_ISA_SSE, "w=99999999999" },
    { "dw h=4 w=4 c=300000000 k=3", SEPTUNE_ISA_AVX2, "c*m=300000000" },
    { "pw h=2 w=2 ci=30000000 co=5", SEPTUNE_ISA_AVX2, "ci=30000000" },
    { "pw h=1000 w=100000000000000 ci=3 co=5", SEPTUNE_ISA_SCALAR, "h*w*ci" },
    { "dw h=1 w=1 c=1 kh=1 kw=3 d=1000000000000000000 pad=1,1000000000000000000,0,1000000000000000000",
      SEPTUNE_ISA_SCALAR, "dh=1000000000000000000" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    septune_kernel_source_text text;
    septune_error err;
    assert_int_equal(render(bad[i].line, bad[i].isa, &(septune_gen_request){ 0 }, &text, &err),
                     SEPTUNE_ERR_UNSUPPORTED);
    print_message("%s\n", err.message);
    assert_non_null(strstr(err.message, bad[i].names));
  }
  septune_op op = op_of("dw h=1 w=99999999999 c=1 k=1");
  float w = 1.0f;
  septune_plan *plan = NULL;
  septune_error err;
  septune_plan_options opts = { 0 };
  opts.isa = SEPTUNE_ISA_SSE;
  assert_int_equal(septune_plan_create(&op, &w, NULL, &opts, &plan, &err), SEPTUNE_ERR_UNSUPPORTED);
  assert_null(plan);
  assert_non_null(strstr(err.message, "w=99999999999"));
}

/* Sizes of 1e14 and more are written as digits, not as "1e+14", and the
 * source compiles. */
static void test_exact_integers(void **state)
{
  (void)state;
  static const char *const lines[] = { "pw h=1 w=100000000000000 ci=3 co=5", "dw h=1 w=100000000000000 c=2 k=1" };
  for (size_t i = 0; i < 2; i++) {
    septune_kernel_source_text text;
    septune_error err;
    if (render(lines[i], SEPTUNE_ISA_SCALAR, &(septune_gen_request){ 0 }, &text, &err) != SEPTUNE_OK)
      fail_msg("%s: %s", lines[i], err.message);
    assert_null(strstr(text.source, "e+"));
    assert_non_null(strstr(text.source, i == 0 ? "100000000000000L" : "200000000000000L"));
    compiles_with_exports(&text);
    septune_gen_free(&text);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_exports_and_prefix),
    cmocka_unit_test(test_default_follows_caches),
    cmocka_unit_test(test_weight_prefetch_kept),
    cmocka_unit_test(test_huge_shapes_render),
    cmocka_unit_test(test_huge_shapes_refused),
    cmocka_unit_test(test_exact_integers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

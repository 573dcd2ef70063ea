/*
 * test_cpu.c — ISA detection, the SEPTUNE_MAX_ISA cap, ISA names, the CPU
 * signature, the cache sizes (and SEPTUNE_CACHES) and their budgets.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache_budget.h"
#include "internal.h"
#include "septune.h"

static const septune_isa all_isas[] = {SEPTUNE_ISA_SCALAR, SEPTUNE_ISA_SSE, SEPTUNE_ISA_AVX2,
                                       SEPTUNE_ISA_AVX512};
#define NUM_ISAS (sizeof(all_isas) / sizeof(all_isas[0]))

static int clear_env(void **state)
{
  (void)state;
  unsetenv(SEPTUNE_MAX_ISA_ENV);
  unsetenv(SEPTUNE_CACHES_ENV);
  return 0;
}

static void test_names(void **state)
{
  static const char *const names[] = {"auto", "scalar", "sse", "avx2", "avx512"};
  septune_isa isa;
  int i;
  (void)state;
  for (i = 0; i < 5; i++) {
    assert_string_equal(septune_isa_name((septune_isa)i), names[i]);
    assert_int_equal(septune_isa_from_name(names[i], &isa), SEPTUNE_OK);
    assert_int_equal(isa, i);
  }
  assert_string_equal(septune_isa_name((septune_isa)5), "unknown");
  assert_string_equal(septune_isa_name((septune_isa)-1), "unknown");
  assert_int_equal(septune_isa_from_name("AVX2", &isa), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_int_equal(septune_isa_from_name("avx", &isa), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_int_equal(septune_isa_from_name("", &isa), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_int_equal(septune_isa_from_name(NULL, &isa), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_int_equal(septune_isa_from_name("sse", NULL), SEPTUNE_ERR_INVALID_ARGUMENT);
}

static void test_best_consistent(void **state)
{
  septune_isa best = septune_cpu_best_isa();
  size_t i;
  (void)state;
  assert_true(best >= SEPTUNE_ISA_SCALAR && best <= SEPTUNE_ISA_AVX512);
  assert_int_equal(septune_cpu_has_isa(SEPTUNE_ISA_AUTO), 1);
  assert_int_equal(septune_cpu_has_isa(SEPTUNE_ISA_SCALAR), 1);
  assert_int_equal(septune_cpu_has_isa((septune_isa)17), 0);
  assert_int_equal(septune_cpu_has_isa((septune_isa)-1), 0);
  /* best is supported, nothing wider is, and the ISAs nest. */
  for (i = 0; i < NUM_ISAS; i++) {
    int has = septune_cpu_has_isa(all_isas[i]);
    if (all_isas[i] <= best)
      assert_int_equal(has, 1);
    else
      assert_int_equal(has, 0);
  }
#if defined(__x86_64__)
  assert_int_equal(septune_cpu_has_isa(SEPTUNE_ISA_SSE), 1);   /* x86-64 baseline */
  assert_true(best >= SEPTUNE_ISA_SSE);
#else
  assert_int_equal(best, SEPTUNE_ISA_SCALAR);
#endif
  print_message("best ISA: %s\n", septune_isa_name(best));
}

static void test_max_isa_caps(void **state)
{
  septune_isa hw_best = septune_cpu_best_isa();
  size_t i, j;
  (void)state;
  for (i = 0; i < NUM_ISAS; i++) {
    septune_isa cap = all_isas[i];
    septune_isa want = hw_best < cap ? hw_best : cap;
    assert_int_equal(setenv(SEPTUNE_MAX_ISA_ENV, septune_isa_name(cap), 1), 0);
    assert_int_equal(septune_cpu_best_isa(), want);
    for (j = 0; j < NUM_ISAS; j++) {
      septune_isa isa = all_isas[j];
      assert_int_equal(septune_cpu_has_isa(isa), isa <= want);
      /* The hardware answer ignores the cap. */
      assert_int_equal(septune_cpu_hw_has_isa(isa), isa <= hw_best);
    }
    assert_int_equal(septune_cpu_has_isa(SEPTUNE_ISA_AUTO), 1);
  }
  /* auto, empty or unknown values mean no cap. */
  assert_int_equal(setenv(SEPTUNE_MAX_ISA_ENV, "auto", 1), 0);
  assert_int_equal(septune_cpu_best_isa(), hw_best);
  assert_int_equal(setenv(SEPTUNE_MAX_ISA_ENV, "", 1), 0);
  assert_int_equal(septune_cpu_best_isa(), hw_best);
  assert_int_equal(setenv(SEPTUNE_MAX_ISA_ENV, "neon", 1), 0);
  assert_int_equal(septune_cpu_best_isa(), hw_best);
  unsetenv(SEPTUNE_MAX_ISA_ENV);
  assert_int_equal(septune_cpu_best_isa(), hw_best);
}

static void test_signature(void **state)
{
  char sig[512], small[8];
  size_t len, len2;
  char want[32];
  (void)state;
  len = septune_cpu_signature(sig, sizeof(sig));
  print_message("signature: %s\n", sig);
  assert_true(len > 0 && len < sizeof(sig));
  assert_int_equal(len, strlen(sig));
  assert_null(strchr(sig, ' '));
  assert_null(strchr(sig, '#'));
  assert_null(strchr(sig, '\n'));
  snprintf(want, sizeof(want), ":%s:l1d=", septune_isa_name(septune_cpu_best_isa()));
  assert_non_null(strstr(sig, want));
  assert_non_null(strstr(sig, ",l2="));
  assert_non_null(strstr(sig, ",l3="));
  /* Stable, and snprintf-like on a short buffer. */
  len2 = septune_cpu_signature(small, sizeof(small));
  assert_int_equal(len2, len);
  assert_int_equal(strlen(small), sizeof(small) - 1);
  assert_memory_equal(small, sig, sizeof(small) - 1);
  assert_int_equal(septune_cpu_signature(NULL, 0), len);
  /* The cap shows in the signature. */
  assert_int_equal(setenv(SEPTUNE_MAX_ISA_ENV, "scalar", 1), 0);
  septune_cpu_signature(sig, sizeof(sig));
  assert_non_null(strstr(sig, ":scalar:l1d="));
  unsetenv(SEPTUNE_MAX_ISA_ENV);
#if defined(__x86_64__)
  /* Five ':'-separated fields: vendor, f.m.s, brand, isa, caches. */
  {
    int colons = 0;
    const char *p;
    for (p = sig; *p != '\0'; p++) colons += *p == ':';
    assert_int_equal(colons, 4);
  }
#endif
}

/* The first calls race to read CPUID (once per process): every thread gets
 * the whole signature, the one later calls give. Runs first, before any
 * other test has read the CPU. */
#define SIG_THREADS 8
static void *signature_of_thread(void *buf)
{
  septune_cpu_signature(buf, 512);
  return NULL;
}

static void test_signature_threads(void **state)
{
  pthread_t th[SIG_THREADS];
  char sig[SIG_THREADS][512], again[512];
  (void)state;
  for (int i = 0; i < SIG_THREADS; i++) assert_int_equal(pthread_create(&th[i], NULL, signature_of_thread, sig[i]), 0);
  for (int i = 0; i < SIG_THREADS; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
  septune_cpu_signature(again, sizeof again);
  assert_true(strlen(again) > 0);
  for (int i = 0; i < SIG_THREADS; i++) assert_string_equal(sig[i], again);
}

static void test_caches_parse(void **state)
{
  septune_caches c = {1, 2, 3};
  (void)state;
  assert_int_equal(septune_caches_parse("l1d=32K,l2=1024K", &c), 0);
  assert_int_equal(c.l1d, 32 * 1024);
  assert_int_equal(c.l2, 1024 * 1024);
  assert_int_equal(c.l3, 3); /* not named: kept */
  assert_int_equal(septune_caches_parse("l3=0K,l1d=48K", &c), 0);
  assert_int_equal(c.l3, 0);
  assert_int_equal(c.l1d, 48 * 1024);
  /* Malformed lists leave everything as it was. */
  static const char *const bad[] = {"l2=12", "l2=K", "l4=8K", "l2=8K,", "l2=8K;l3=1K", "l1=32K", "l2=-1K",
                                    "l2=99999999999999999999K"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    septune_caches d = c;
    assert_int_equal(septune_caches_parse(bad[i], &d), -1);
    assert_memory_equal(&d, &c, sizeof c);
  }
}

static void test_caches(void **state)
{
  septune_caches hw, over;
  char sig[512], sig_over[512];
  (void)state;
  septune_cpu_caches(&hw);
  print_message("caches: l1d %zu, l2 %zu, l3 %zu bytes\n", hw.l1d, hw.l2, hw.l3);
#if defined(__x86_64__)
  /* Intel's leaf 4 or AMD's leaves: every x86-64 CPU reports L1d and L2. */
  assert_true(hw.l1d >= 8 * 1024);
  assert_true(hw.l2 >= 64 * 1024);
#endif
  septune_cpu_signature(sig, sizeof sig);
  assert_int_equal(setenv(SEPTUNE_CACHES_ENV, "l2=256K", 1), 0);
  septune_cpu_caches(&over);
  assert_int_equal(over.l2, 256 * 1024);
  assert_int_equal(over.l1d, hw.l1d);
  assert_int_equal(over.l3, hw.l3);
  /* The override serves the heuristics; the signature names the hardware. */
  septune_cpu_signature(sig_over, sizeof sig_over);
  assert_string_equal(sig_over, sig);
  assert_int_equal(setenv(SEPTUNE_CACHES_ENV, "l2=lots", 1), 0);
  septune_cpu_caches(&over);
  assert_int_equal(over.l2, hw.l2);
}

static void test_cache_budget(void **state)
{
  septune_caches none = {0, 0, 0}, small = {32 * 1024, 1024 * 1024, 0};
  septune_cache_budget b;
  (void)state;
  /* Unknown sizes: the measured machine's, whose budgets these are. */
  septune_cache_budget_of(&none, &b);
  assert_int_equal(b.resident, 1536 * 1024);
  assert_int_equal(b.panel, 32 * 1024);
  assert_int_equal(b.m_block, 256 * 1024);
  assert_int_equal(b.dw_band, 512 * 1024);
  septune_cache_budget_of(&small, &b);
  assert_int_equal(b.caches.l2, 1024 * 1024);
  assert_true(b.caches.l3 > 0);
  assert_int_equal(b.resident, 768 * 1024);
  assert_true(b.panel < 32 * 1024);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_signature_threads, clear_env, clear_env),
    cmocka_unit_test_setup_teardown(test_names, clear_env, clear_env),
    cmocka_unit_test_setup_teardown(test_best_consistent, clear_env, clear_env),
    cmocka_unit_test_setup_teardown(test_max_isa_caps, clear_env, clear_env),
    cmocka_unit_test_setup_teardown(test_signature, clear_env, clear_env),
    cmocka_unit_test_setup_teardown(test_caches_parse, clear_env, clear_env),
    cmocka_unit_test_setup_teardown(test_caches, clear_env, clear_env),
    cmocka_unit_test_setup_teardown(test_cache_budget, clear_env, clear_env),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

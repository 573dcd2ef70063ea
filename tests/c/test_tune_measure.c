/*
 * test_tune_measure.c — the tuner's measurement, search and per-layer tune:
 * a good candidate is timed; a crashing, a wrong and a hanging one are each
 * recorded with their reason and never chosen while the layer's tune
 * finishes; the search is reproducible for a seed and honours its limits.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "measure.h"
#include "search.h"
#include "timing.h"
#include "tune_layer.h"

static septune_op layer(const char *line)
{
  septune_layer l;
  septune_error err;
  assert_int_equal(septune_layer_parse(line, &l, &err), SEPTUNE_OK);
  return l.op;
}

/* ------------------------------------------------------------------------ */
/* Spaces */

static void space_parse(void **state)
{
  (void)state;
  search_space s;
  char why[256];
  assert_int_equal(search_space_parse("a=1,b=2\na=1,b=3\n\na=2,b=3\n", &s, why, sizeof why), 0);
  assert_int_equal(s.n, 3);
  assert_int_equal(s.n_knobs, 2);
  assert_string_equal(s.names[1], "b");
  assert_int_equal(s.values[2 * 2 + 0], 2);
  assert_int_equal(search_space_find(&s, "a=1,b=3"), 1);
  assert_int_equal(search_space_find(&s, "a=9,b=3"), -1);
  assert_int_equal(search_space_distance(&s, 0, 1), 1);
  assert_int_equal(search_space_distance(&s, 0, 2), 2);
  assert_int_equal(search_space_add(&s, "a=1,b=3"), 1);
  assert_int_equal(search_space_add(&s, "a=5,b=5"), 3);
  assert_int_equal(s.n, 4);
  assert_int_equal(search_space_add(&s, "a=5,c=5"), -1);
  search_space_free(&s);

  assert_int_equal(search_space_parse("a=1,b=2\na=1,c=3\n", &s, why, sizeof why), -1);
  assert_non_null(strstr(why, "a=1,c=3"));
  assert_int_equal(search_space_parse("a=1,b\n", &s, why, sizeof why), -1);
  assert_non_null(strstr(why, "malformed"));
  assert_int_equal(search_space_parse("a=x\n", &s, why, sizeof why), -1);
}

/* ------------------------------------------------------------------------ */
/* Search with a synthetic cost: reproducible, limits honoured. */

/* A 4-knob grid of 8^4 = 4096 points; the cost is a bowl around (5,2,6,3)
 * with a failing stripe (k0 == 1). */
static char *grid_listing(void)
{
  char *buf = malloc(4096 * 32);
  size_t len = 0;
  for (int a = 0; a < 8; a++)
    for (int b = 0; b < 8; b++)
      for (int c = 0; c < 8; c++)
        for (int d = 0; d < 8; d++) len += (size_t)sprintf(buf + len, "k0=%d,k1=%d,k2=%d,k3=%d\n", a, b, c, d);
  return buf;
}

typedef struct synth {
  const search_space *s;
  size_t calls, budget_calls;
} synth;

static double synth_cost(void *p, size_t i)
{
  synth *z = p;
  z->calls++;
  const int *v = z->s->values + i * z->s->n_knobs;
  static const int target[4] = { 5, 2, 6, 3 };
  if (v[0] == 1) return INFINITY;
  double c = 1;
  for (size_t j = 0; j < z->s->n_knobs && j < 4; j++) c += (v[j] - target[j]) * (v[j] - target[j]);
  return c;
}

static double synth_spent(void *p)
{
  synth *z = p;
  return (double)z->calls / (double)z->budget_calls;
}

static void run_synth(const search_space *s, const search_options *o, size_t budget_calls, search_trace *t)
{
  synth z = { s, 0, budget_calls };
  search_callbacks cb = { synth_cost, synth_spent, &z };
  assert_int_equal(search_run(s, o, &cb, t), 0);
  assert_int_equal(z.calls, t->n);
}

static void search_reproducible(void **state)
{
  (void)state;
  search_space s;
  char why[128];
  char *listing = grid_listing();
  assert_int_equal(search_space_parse(listing, &s, why, sizeof why), 0);
  free(listing);
  assert_int_equal(s.n, 4096);

  search_options o = { 7, 100, 0, 48, 0 };
  search_trace a, b, c;
  run_synth(&s, &o, 300, &a);
  run_synth(&s, &o, 300, &b);
  assert_int_equal(a.exhaustive, 0);
  assert_int_equal(a.order[0], 100);           /* the start comes first */
  assert_int_equal(a.n, 300);                  /* the budget is honoured */
  assert_int_equal(a.n, b.n);                  /* same seed: same visits */
  assert_memory_equal(a.order, b.order, a.n * sizeof *a.order);
  assert_true(a.climbs >= 1);
  /* Every configuration is evaluated at most once. */
  unsigned char *seen = calloc(s.n, 1);
  for (size_t i = 0; i < a.n; i++) {
    assert_int_equal(seen[a.order[i]], 0);
    seen[a.order[i]] = 1;
  }
  free(seen);
  /* Sampling then climbing reaches the bottom of the bowl. */
  double best = INFINITY;
  for (size_t i = 0; i < a.n; i++) best = fmin(best, a.costs[i]);
  assert_true(best == 1.0);

  o.seed = 8; /* another seed, another path */
  run_synth(&s, &o, 300, &c);
  assert_true(c.n != a.n || memcmp(a.order, c.order, a.n * sizeof *a.order) != 0);

  search_trace_free(&a);
  search_trace_free(&b);
  search_trace_free(&c);

  /* The candidate limit counts the start. */
  o.max_candidates = 40;
  run_synth(&s, &o, 100000, &a);
  assert_int_equal(a.n, 40);
  search_trace_free(&a);

  /* A budget spent before the start still evaluates the start, and only it. */
  o.max_candidates = 0;
  run_synth(&s, &o, 0, &a);
  assert_int_equal(a.n, 1);
  assert_int_equal(a.order[0], 100);
  search_trace_free(&a);
  search_space_free(&s);
}

static void search_exhaustive(void **state)
{
  (void)state;
  search_space s;
  char why[128];
  assert_int_equal(search_space_parse("x=1\nx=2\nx=3\nx=4\nx=5\n", &s, why, sizeof why), 0);
  search_options o = { 3, 2, 0, 48, 0 };
  search_trace t;
  run_synth(&s, &o, 1000, &t);
  assert_int_equal(t.exhaustive, 1);
  assert_int_equal(t.n, 5);
  assert_int_equal(t.order[0], 2);
  search_trace_free(&t);
  search_space_free(&s);
}

/* ------------------------------------------------------------------------ */
/* Measurement in a child process */

static void measure_outcomes(void **state)
{
  (void)state;
  septune_op op = layer("dw h=12 w=12 c=32 k=3 s=1 pad=same act=relu6");
  layer_data d;
  septune_error err;
  assert_int_equal(layer_data_make(&op, &d, &err), SEPTUNE_OK);
  septune_isa isa = septune_cpu_best_isa();
  measure_options mo = { 2, 0, 3000, MEASURE_INJECT_NONE, 1 };
  measure_result r;

  measure_candidate(&op, isa, NULL, &d, &mo, &r);
  assert_int_equal(r.outcome, MEASURE_OK);
  assert_true(r.time.median_us > 0 && r.time.samples >= 5);

  mo.inject = MEASURE_INJECT_CRASH;
  measure_candidate(&op, isa, NULL, &d, &mo, &r);
  assert_int_equal(r.outcome, MEASURE_CRASHED);
  assert_string_equal(r.reason, "crashed (SIGSEGV)");

  mo.inject = MEASURE_INJECT_WRONG;
  measure_candidate(&op, isa, NULL, &d, &mo, &r);
  assert_int_equal(r.outcome, MEASURE_WRONG);
  assert_non_null(strstr(r.reason, "wrong answer"));

  mo.inject = MEASURE_INJECT_HANG;
  mo.timeout_ms = 200;
  measure_candidate(&op, isa, NULL, &d, &mo, &r);
  assert_int_equal(r.outcome, MEASURE_TIMEOUT);
  assert_non_null(strstr(r.reason, "timeout"));

  /* Knobs the space refuses. */
  mo.inject = MEASURE_INJECT_NONE;
  mo.timeout_ms = 3000;
  measure_candidate(&op, isa, "ct=1,wt=99", &d, &mo, &r);
  assert_int_equal(r.outcome, MEASURE_UNSUPPORTED);
  assert_non_null(strstr(r.reason, "wt"));

  /* A limit no kernel can meet prunes it after its first calls. */
  mo.prune_us = 1e-6;
  measure_candidate(&op, isa, NULL, &d, &mo, &r);
  assert_int_equal(r.outcome, MEASURE_SLOW);
  assert_true(r.time.median_us > 0);

  /* The tuner survives all of that and still measures. */
  mo.prune_us = 0;
  measure_candidate(&op, isa, NULL, &d, &mo, &r);
  assert_int_equal(r.outcome, MEASURE_OK);
  layer_data_free(&d);
}

static void finalists_interleaved(void **state)
{
  (void)state;
  septune_op op = layer("dw h=10 w=10 c=16 k=3 s=1 pad=same");
  layer_data d;
  septune_error err;
  assert_int_equal(layer_data_make(&op, &d, &err), SEPTUNE_OK);
  septune_plan *p[2];
  assert_int_equal(septune_plan_create(&op, d.weights, d.bias, NULL, &p[0], &err), SEPTUNE_OK);
  assert_int_equal(septune_plan_create(&op, d.weights, d.bias, NULL, &p[1], &err), SEPTUNE_OK);
  bench_stats out[2];
  char why[256];
  assert_int_equal(measure_finalists((const septune_plan *const *)p, 2, &d, 5, 0.5, 5000, out, why, sizeof why),
                   MEASURE_OK);
  assert_true(out[0].median_us > 0 && out[1].median_us > 0);
  assert_int_equal(out[0].samples, 5);
  assert_int_equal(measure_finalists((const septune_plan *const *)p, 0, &d, 5, 0.5, 5000, out, why, sizeof why),
                   MEASURE_ERROR);
  septune_plan_destroy(p[0]);
  septune_plan_destroy(p[1]);
  layer_data_free(&d);
}

/* Cold timing: one call per candidate and round, each after the flush; a
 * failing callback stops it with its result. */
typedef struct counted {
  int calls, fail_at;
} counted;

static int count_call(void *p)
{
  counted *c = p;
  c->calls++;
  return c->fail_at && c->calls == c->fail_at ? 7 : 0;
}

static void cold_one_call_per_round(void **state)
{
  (void)state;
  counted a = { 0, 0 }, b = { 0, 0 };
  bench_fn fns[2] = { count_call, count_call };
  void *ctxs[2] = { &a, &b };
  bench_stats out[2];
  assert_int_equal(bench_measure_cold(2, fns, ctxs, 5, 1, out), 0);
  assert_int_equal(a.calls, 5);
  assert_int_equal(b.calls, 5);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(out[i].samples, 5);
    assert_int_equal(out[i].reps, 1);
    assert_true(out[i].min_us <= out[i].median_us && out[i].median_us <= out[i].max_us);
  }
  b.calls = 0, b.fail_at = 3;
  assert_int_equal(bench_measure_cold(2, fns, ctxs, 5, 1, out), 7);
  assert_int_equal(b.calls, 3);
}

/* ------------------------------------------------------------------------ */
/* A whole layer: broken candidates recorded, never chosen. */

static void tune_skips_broken_candidates(void **state)
{
  (void)state;
  septune_op op = layer("dw h=14 w=14 c=48 k=3 s=1 pad=same act=relu6");
  tune_options o;
  tune_options_default(&o);
  o.budget_s = 2; /* the 12 candidates end it sooner on a quiet machine */
  o.max_candidates = 12;
  o.inject_crash_at = 1;
  o.inject_wrong_at = 2;
  tune_result r;
  assert_int_equal(tune_layer(&op, &o, &r), 0);
  assert_true(r.ok);
  assert_true(r.n_cands >= 3 && r.n_cands <= 12);
  assert_int_equal(r.cands[0].outcome, MEASURE_OK); /* the default */
  assert_string_equal(r.cands[0].knobs, r.default_knobs);
  assert_int_equal(r.cands[1].outcome, MEASURE_CRASHED);
  assert_string_equal(r.cands[1].reason, "crashed (SIGSEGV)");
  assert_int_equal(r.cands[2].outcome, MEASURE_WRONG);
  assert_non_null(strstr(r.cands[2].reason, "wrong answer"));
  assert_true(r.rejected >= 2);
  /* The choice is one of the good candidates. */
  assert_string_not_equal(r.knobs, r.cands[1].knobs);
  assert_string_not_equal(r.knobs, r.cands[2].knobs);
  int found = 0;
  for (size_t i = 0; i < r.n_cands; i++)
    if (!strcmp(r.cands[i].knobs, r.knobs)) found = r.cands[i].outcome == MEASURE_OK;
  assert_true(found);
  assert_true(r.tuned_time.median_us > 0 && r.default_time.median_us > 0);
  tune_result_free(&r);
}

static void tune_reports_untunable(void **state)
{
  (void)state;
  /* An ISA this build has no template family for is refused cleanly: the
   * 0x7 bit pattern is not a septune_isa. */
  septune_op op = layer("dw h=6 w=6 c=8 k=3 pad=same");
  tune_options o;
  tune_options_default(&o);
  o.budget_s = 0.2;
  o.isa = (septune_isa)7;
  tune_result r;
  assert_int_equal(tune_layer(&op, &o, &r), 0);
  assert_false(r.ok);
  assert_non_null(strstr(r.why, "not tunable"));
  tune_result_free(&r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(space_parse),
    cmocka_unit_test(search_reproducible),
    cmocka_unit_test(search_exhaustive),
    cmocka_unit_test(measure_outcomes),
    cmocka_unit_test(finalists_interleaved),
    cmocka_unit_test(cold_one_call_per_round),
    cmocka_unit_test(tune_skips_broken_candidates),
    cmocka_unit_test(tune_reports_untunable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

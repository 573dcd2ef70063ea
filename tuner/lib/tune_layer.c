/*
 * tune_layer.c — search, check and time the kernels of one layer shape (see
 * tune_layer.h).
 */
#include "tune_layer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator.h"
#include "layer_data.h"

void tune_options_default(tune_options *o)
{
  memset(o, 0, sizeof *o);
  o->isa = septune_cpu_best_isa();
  o->threads = 1;
  o->budget_s = 2;
  o->seed = 1;
  o->exhaustive_max = 48;
  o->screen_ms = 3;
  o->prune_factor = 2;
  o->timeout_ms = 2000;
  o->finalists = 3;
}

void tune_result_free(tune_result *r)
{
  if (!r) return;
  free(r->cands);
  r->cands = NULL;
  r->n_cands = 0;
}

typedef struct tuner {
  const septune_op *op;
  const tune_options *o;
  tune_result *r;
  const layer_data *d;
  const search_space *s;    /* the space being searched */
  size_t space_total;       /* configurations of both spaces, for the progress */
  double t0_us, t1_us;      /* the current search's span of the clock */
  double best_us;           /* best screening median so far */
} tuner;

static measure_inject inject_for(const tuner *t, size_t ordinal)
{
  if (t->op->kind != SEPTUNE_OP_DEPTHWISE || ordinal == 0) return MEASURE_INJECT_NONE;
  if (ordinal == t->o->inject_crash_at) return MEASURE_INJECT_CRASH;
  if (ordinal == t->o->inject_wrong_at) return MEASURE_INJECT_WRONG;
  if (ordinal == t->o->inject_hang_at) return MEASURE_INJECT_HANG;
  return MEASURE_INJECT_NONE;
}

/* search_callbacks.cost: one candidate from plan to screening time. */
static double candidate_cost(void *p, size_t i)
{
  tuner *t = p;
  tune_result *r = t->r;
  /* The split search starts from the split the first search measured: the
   * same kernel, not measured (nor counted) twice. */
  for (size_t j = 0; j < r->n_cands; j++)
    if (!strcmp(r->cands[j].knobs, t->s->text[i])) return r->cands[j].median_us;
  measure_options mo = { t->o->screen_ms, 0, t->o->timeout_ms, inject_for(t, r->n_cands), t->o->threads };
  if (t->o->prune_factor > 1 && isfinite(t->best_us)) mo.prune_us = t->best_us * t->o->prune_factor;
  measure_result mr;
  measure_candidate(t->op, t->o->isa, t->s->text[i], t->d, &mo, &mr);

  tune_candidate *c = &r->cands[r->n_cands++];
  /* the complete knobs (the split the plan filled in), else as asked */
  snprintf(c->knobs, sizeof c->knobs, "%s", mr.knobs[0] ? mr.knobs : t->s->text[i]);
  c->outcome = mr.outcome;
  snprintf(c->reason, sizeof c->reason, "%s", mr.reason);
  c->median_us = mr.outcome == MEASURE_OK || mr.outcome == MEASURE_SLOW ? mr.time.median_us : INFINITY;
  if (mr.outcome != MEASURE_OK) r->rejected++;
  if (mr.outcome == MEASURE_OK && c->median_us < t->best_us) t->best_us = c->median_us;
  if (t->o->progress) t->o->progress(t->o->progress_ctx, r->n_cands, t->space_total, c);
  return c->median_us;
}

static double budget_spent(void *p)
{
  tuner *t = p;
  double span = t->t1_us - t->t0_us;
  return span > 0 ? (bench_now_us() - t->t0_us) / span : 1;
}

/* Cuts the knob string s after its first n items: a default's knobs
 * without the split ones, which the knob spaces declare last. */
static void keep_items(char *s, size_t n)
{
  for (char *p = s; n > 0 && (p = strchr(p, ',')); p++)
    if (--n == 0) *p = 0;
}

/* The fastest candidate measured ok; NULL when none. */
static const tune_candidate *fastest(const tune_result *r)
{
  const tune_candidate *best = NULL;
  for (size_t i = 0; i < r->n_cands; i++)
    if (r->cands[i].outcome == MEASURE_OK && (!best || r->cands[i].median_us < best->median_us)) best = &r->cands[i];
  return best;
}

/* The second search: the work splits of the fastest candidate so far, for
 * the tune's threads, until t->t1_us. Returns 0, or -1 on out of memory. */
static int search_splits(tuner *t, search_trace *trace)
{
  tune_result *r = t->r;
  const tune_candidate *best = fastest(r);
  if (!best) return 0;
  char *listing = NULL, why[256];
  septune_error err;
  septune_gen_request req = { best->knobs, NULL, NULL, t->o->threads, 0 };
  search_space space = { 0 };
  int rc = 0;
  if (septune_gen_call("split_space", t->op, t->o->isa, &req, &listing, &err) != SEPTUNE_OK ||
      search_space_parse(listing, &space, why, sizeof why) != 0 || space.n == 0) {
    free(listing);
    search_space_free(&space);
    return 0; /* the first search's result stands */
  }
  free(listing);
  tune_candidate *grown = realloc(r->cands, (r->n_cands + space.n) * sizeof *grown);
  if (!grown) {
    search_space_free(&space);
    return -1;
  }
  r->cands = grown;
  r->split_space_size = space.n;
  r->space_size += space.n;
  t->space_total = r->space_size;
  t->s = &space;
  /* the first line is the split the first search measured: the start */
  search_options so = { t->o->seed, 0, 0, t->o->exhaustive_max, 0 };
  if (t->o->max_candidates) so.max_candidates = t->o->max_candidates > r->n_cands ? t->o->max_candidates - r->n_cands : 1;
  search_callbacks cb = { candidate_cost, budget_spent, t };
  if (search_run(&space, &so, &cb, trace) != 0) rc = -1;
  t->s = NULL;
  search_space_free(&space);
  return rc;
}

static int by_median(const void *a, const void *b)
{
  const tune_candidate *x = *(const tune_candidate *const *)a, *y = *(const tune_candidate *const *)b;
  return (x->median_us > y->median_us) - (x->median_us < y->median_us);
}

/* Re-measures the default and the fastest few candidates interleaved and
 * chooses the fastest. Falls back to the screening times when the final
 * measurement fails. */
static void choose(tuner *t, int rounds, double round_ms)
{
  tune_result *r = t->r;
  const tune_candidate *def = r->n_cands && r->cands[0].outcome == MEASURE_OK ? &r->cands[0] : NULL;
  const tune_candidate *sorted[MEASURE_MAX_FINALISTS];
  size_t k = 0, want = t->o->finalists + (def ? 1 : 0);
  if (want > MEASURE_MAX_FINALISTS) want = MEASURE_MAX_FINALISTS;
  if (def) sorted[k++] = def;
  /* Fastest first among the ok candidates other than the default. */
  const tune_candidate **ok = malloc(r->n_cands * sizeof *ok);
  size_t n_ok = 0;
  for (size_t i = 1; ok && i < r->n_cands; i++)
    if (r->cands[i].outcome == MEASURE_OK) ok[n_ok++] = &r->cands[i];
  if (ok) qsort(ok, n_ok, sizeof *ok, by_median);
  for (size_t i = 0; i < n_ok && k < want; i++) sorted[k++] = ok[i];
  free(ok);
  if (k == 0) return;

  septune_plan *plans[MEASURE_MAX_FINALISTS] = { 0 };
  bench_stats times[MEASURE_MAX_FINALISTS];
  size_t built = 0;
  for (; built < k; built++) {
    septune_plan_options po = { .isa = t->o->isa, .knobs = sorted[built]->knobs, .db_path = "",
                                .threads = t->o->threads };
    if (septune_plan_create(t->op, t->d->weights, t->d->bias, &po, &plans[built], NULL) != SEPTUNE_OK) break;
  }
  char why[256];
  measure_outcome mo = MEASURE_ERROR;
  if (built == k)
    mo = measure_finalists((const septune_plan *const *)plans, k, t->d, rounds, round_ms, 10 * t->o->timeout_ms,
                           times, why, sizeof why);
  for (size_t i = 0; i < built; i++) septune_plan_destroy(plans[i]);
  if (mo != MEASURE_OK) {
    /* Screening numbers: noisier, but measured the same way for all. */
    for (size_t i = 0; i < k; i++) {
      memset(&times[i], 0, sizeof times[i]);
      times[i].median_us = times[i].min_us = sorted[i]->median_us;
    }
  }
  size_t best = 0;
  for (size_t i = 1; i < k; i++)
    if (times[i].median_us < times[best].median_us) best = i;
  r->ok = 1;
  snprintf(r->knobs, sizeof r->knobs, "%s", sorted[best]->knobs);
  r->tuned_time = times[best];
  if (def) r->default_time = times[0];
}

int tune_layer(const septune_op *op, const tune_options *o, tune_result *r)
{
  if (op->kind == SEPTUNE_OP_SEPARABLE || op->kind == SEPTUNE_OP_INVERTED_RESIDUAL) return tune_block(op, o, r);
  memset(r, 0, sizeof *r);
  double start_us = bench_now_us();
  tuner t = { op, o, r, NULL, NULL, 0, start_us, 0, INFINITY };
  r->isa = o->isa;
  r->threads = o->threads;
  layer_data d;
  septune_error err;
  char *def_knobs = NULL, *listing = NULL;
  search_space space = { 0 };
  search_trace trace = { 0 };
  int rc = 0;

  if (layer_data_make(op, &d, &err) != SEPTUNE_OK) {
    snprintf(r->why, sizeof r->why, "%.300s", err.message);
    r->seconds = (bench_now_us() - start_us) / 1e6;
    return err.status == SEPTUNE_ERR_OUT_OF_MEMORY ? -1 : 0;
  }
  t.d = &d;
  septune_gen_request req = { NULL, NULL, NULL, o->threads, 0 };
  if (septune_gen_call("default_knobs", op, o->isa, &req, &def_knobs, &err) != SEPTUNE_OK ||
      septune_gen_call("space", op, o->isa, &req, &listing, &err) != SEPTUNE_OK) {
    snprintf(r->why, sizeof r->why, "not tunable: %.300s", err.message);
    goto done;
  }
  snprintf(r->default_knobs, sizeof r->default_knobs, "%s", def_knobs);
  char why[256];
  if (search_space_parse(listing, &space, why, sizeof why) != 0) {
    snprintf(r->why, sizeof r->why, "not tunable: the generator's space: %s", why);
    goto done;
  }
  /* The space lists the knobs without the split, the default's line too:
   * the plans complete it with the default split for the threads. The
   * default is a member by the spaces' contract; add it if a space ever
   * forgets, so the speed-up is always measured against it. */
  char def_rest[SEPTUNE_KNOBS_SIZE];
  snprintf(def_rest, sizeof def_rest, "%s", def_knobs);
  keep_items(def_rest, space.n_knobs);
  long start = search_space_add(&space, def_rest);
  if (start < 0) {
    snprintf(r->why, sizeof r->why, "not tunable: default knobs '%s' do not fit the space", def_knobs);
    goto done;
  }
  r->space_size = space.n;
  t.space_total = space.n;
  r->cands = calloc(space.n, sizeof *r->cands);
  if (!r->cands) {
    rc = -1;
    goto done;
  }
  t.s = &space;

  /* Keep time for the finals: k+1 plans built, warmed (5 ms) and measured
   * rounds x round_ms each. Short budgets get a shorter final. The rest:
   * 70% for the knobs, 30% for the split. */
  int rounds = o->budget_s >= 1 ? 15 : 7;
  double round_ms = o->budget_s >= 1 ? 2 : 1;
  double finals_s = (double)(o->finalists + 1) * (0.015 + rounds * round_ms / 1000);
  if (finals_s > 0.5 * o->budget_s) finals_s = 0.5 * o->budget_s;
  double search_end_us = start_us + (o->budget_s - finals_s) * 1e6;
  t.t1_us = start_us + 0.7 * (search_end_us - start_us);

  search_options so = { o->seed, (size_t)start, o->max_candidates, o->exhaustive_max, 0 };
  search_callbacks cb = { candidate_cost, budget_spent, &t };
  if (search_run(&space, &so, &cb, &trace) != 0) {
    rc = -1;
    goto done;
  }
  r->exhaustive = trace.exhaustive;
  search_trace_free(&trace);
  t.t0_us = bench_now_us();
  t.t1_us = search_end_us;
  if (!(o->max_candidates && r->n_cands >= o->max_candidates) && search_splits(&t, &trace) != 0) {
    rc = -1;
    goto done;
  }
  t.s = &space;
  choose(&t, rounds, round_ms);
  if (!r->ok) {
    const char *reason = r->n_cands ? r->cands[0].reason : "no candidate measured within the budget";
    snprintf(r->why, sizeof r->why, "not tunable: %s", reason);
  }
done:
  search_trace_free(&trace);
  search_space_free(&space);
  free(def_knobs);
  free(listing);
  layer_data_free(&d);
  r->seconds = (bench_now_us() - start_us) / 1e6;
  return rc;
}

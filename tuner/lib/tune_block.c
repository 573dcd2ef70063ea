/*
 * tune_block.c — tuning a block (separable, inverted residual): its band
 * knob. The candidates are the default band, 0 (layer by layer, as is a
 * band of the whole height), and the powers of two and their halfway
 * points below the output height; each is a plan made in this process
 * (the stages' kernels are the library's, already checked), run once
 * against the reference, then timed; the fastest three are re-measured
 * interleaved with the default and the fastest of those chosen. Its record (knobs band=R) is
 * what a block's plan takes from the tuning database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layer_data.h"
#include "tune_layer.h"

#define FINALISTS 3
#define FINAL_ROUNDS 15
#define FINAL_ROUND_MS 2.0

typedef struct candidate_run {
  septune_plan *plan;
  const layer_data *d;
} candidate_run;

static int run_plan(void *p)
{
  candidate_run *c = p;
  return septune_execute(c->plan, c->d->in, c->d->got, NULL) != SEPTUNE_OK;
}

/* The candidate bands: default, 0, 1, 2, 3, 4, 6, 8, 12, ... below oh,
 * without repeats, the default first. Returns their count. */
static size_t candidate_bands(int64_t def, int64_t oh, int64_t *out, size_t max)
{
  size_t n = 0;
  out[n++] = def;
  int64_t list[64];
  size_t m = 0;
  list[m++] = 0;
  for (int64_t p = 1; p < oh && m + 2 < sizeof list / sizeof list[0]; p *= 2) {
    list[m++] = p;
    if (p + p / 2 < oh && p > 1) list[m++] = p + p / 2;
  }
  for (size_t i = 0; i < m && n < max; i++) {
    size_t j = 0;
    while (j < n && out[j] != list[i]) j++;
    if (j == n) out[n++] = list[i];
  }
  return n;
}

static septune_plan *make_plan(const septune_op *op, const tune_options *o, const layer_data *d, const char *knobs,
                               septune_error *err)
{
  septune_plan_options opts = { .isa = o->isa, .knobs = knobs, .db_path = "", .threads = o->threads };
  septune_plan *plan = NULL;
  if (septune_plan_create(op, d->weights, d->bias, &opts, &plan, err) != SEPTUNE_OK) return NULL;
  return plan;
}

int tune_block(const septune_op *op, const tune_options *o, tune_result *r)
{
  double start = bench_now_us();
  septune_error err;
  layer_data d;
  memset(r, 0, sizeof *r);
  r->isa = o->isa;
  r->threads = o->threads;
  if (layer_data_make(op, &d, &err) != SEPTUNE_OK) {
    snprintf(r->why, sizeof r->why, "%.300s", err.message);
    return err.status == SEPTUNE_ERR_OUT_OF_MEMORY ? -1 : 0;
  }
  septune_plan *def = make_plan(op, o, &d, NULL, &err);
  septune_plan_info info;
  int64_t oh = 1;
  long band = 0;
  if (!def) {
    snprintf(r->why, sizeof r->why, "not tunable: %.300s", err.message);
    layer_data_free(&d);
    return 0;
  }
  septune_plan_get_info(def, &info);
  septune_plan_destroy(def);
  snprintf(r->default_knobs, sizeof r->default_knobs, "%s", info.knobs);
  sscanf(info.knobs, "band=%ld", &band);
  septune_op_output_size(op, &oh, NULL, NULL);

  int64_t bands[80];
  size_t n = candidate_bands(band, oh, bands, o->max_candidates ? o->max_candidates : 80);
  r->cands = calloc(n, sizeof *r->cands);
  if (!r->cands) {
    layer_data_free(&d);
    return -1;
  }
  r->space_size = n;
  r->exhaustive = 1;
  double best_us[FINALISTS + 1];
  size_t best[FINALISTS + 1], n_best = 0;
  for (size_t i = 0; i < n; i++) {
    /* the default always; the others while the budget lasts */
    if (i > 0 && (bench_now_us() - start) / 1e6 > o->budget_s) break;
    tune_candidate *c = &r->cands[r->n_cands++];
    snprintf(c->knobs, sizeof c->knobs, "band=%ld", (long)bands[i]);
    septune_plan *plan = make_plan(op, o, &d, c->knobs, &err);
    septune_check_result check;
    if (!plan) {
      c->outcome = MEASURE_ERROR;
      snprintf(c->reason, sizeof c->reason, "%.250s", err.message);
    } else if (septune_execute(plan, d.in, d.got, &err) != SEPTUNE_OK) {
      c->outcome = MEASURE_ERROR;
      snprintf(c->reason, sizeof c->reason, "%.250s", err.message);
    } else if (!septune_check_output(op, d.want, d.got, d.n_out, &check)) {
      c->outcome = MEASURE_WRONG;
      snprintf(c->reason, sizeof c->reason, "element %zu differs from the reference", check.worst_index);
    } else {
      candidate_run run = { plan, &d };
      bench_stats stats;
      if (bench_measure(run_plan, &run, o->screen_ms, &stats) != 0) {
        c->outcome = MEASURE_ERROR;
        snprintf(c->reason, sizeof c->reason, "execute failed while timed");
      } else {
        c->outcome = MEASURE_OK;
        c->median_us = stats.median_us;
        /* keep the fastest FINALISTS after the default (index 0) */
        if (i > 0) {
          size_t at = n_best;
          while (at > 0 && best_us[at - 1] > c->median_us) at--;
          if (at < FINALISTS) {
            for (size_t k = n_best < FINALISTS ? n_best : FINALISTS - 1; k > at; k--)
              best[k] = best[k - 1], best_us[k] = best_us[k - 1];
            best[at] = r->n_cands - 1;
            best_us[at] = c->median_us;
            if (n_best < FINALISTS) n_best++;
          }
        }
      }
    }
    if (c->outcome != MEASURE_OK) r->rejected++;
    septune_plan_destroy(plan);
    if (o->progress) o->progress(o->progress_ctx, r->n_cands, n, c);
  }
  if (r->cands[0].outcome != MEASURE_OK) {
    snprintf(r->why, sizeof r->why, "the default band failed: %.280s", r->cands[0].reason);
    layer_data_free(&d);
    r->seconds = (bench_now_us() - start) / 1e6;
    return 0;
  }
  /* the default and the finalists, interleaved */
  size_t k = 0, which[FINALISTS + 1];
  candidate_run runs[FINALISTS + 1];
  bench_fn fns[FINALISTS + 1];
  void *ctxs[FINALISTS + 1];
  bench_stats final[FINALISTS + 1];
  which[k++] = 0;
  for (size_t i = 0; i < n_best; i++) which[k++] = best[i];
  int ok = 1;
  for (size_t i = 0; i < k; i++) {
    runs[i].plan = make_plan(op, o, &d, r->cands[which[i]].knobs, &err);
    runs[i].d = &d;
    fns[i] = run_plan;
    ctxs[i] = &runs[i];
    if (!runs[i].plan) ok = 0;
  }
  if (ok && bench_measure_interleaved(k, fns, ctxs, FINAL_ROUNDS, FINAL_ROUND_MS, final) == 0) {
    size_t pick = 0;
    for (size_t i = 1; i < k; i++)
      if (final[i].median_us < final[pick].median_us) pick = i;
    r->ok = 1;
    r->default_time = final[0];
    r->tuned_time = final[pick];
    snprintf(r->knobs, sizeof r->knobs, "%s", r->cands[which[pick]].knobs);
  } else {
    snprintf(r->why, sizeof r->why, "the final measurement failed");
  }
  for (size_t i = 0; i < k; i++) septune_plan_destroy(runs[i].plan);
  layer_data_free(&d);
  r->seconds = (bench_now_us() - start) / 1e6;
  return 0;
}

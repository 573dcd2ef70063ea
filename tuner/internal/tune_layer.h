/*
 * tune_layer.h — tuning one layer shape on one ISA for a thread count: the
 * default config, a search over the knob space (each candidate with the
 * default work split for the threads), then a search over the work splits
 * of the fastest (knobs rb, cb, th / mc, np, th); each candidate generated,
 * compiled, checked against the reference and timed with its threads
 * (measure.h); the fastest few re-measured interleaved with the default,
 * and the fastest of those chosen.
 */
#ifndef SEPTUNE_TUNE_LAYER_H
#define SEPTUNE_TUNE_LAYER_H

#include <stddef.h>

#include "measure.h"
#include "search.h"
#include "septune.h"
#include "timing.h"

typedef struct tune_candidate {
  char knobs[SEPTUNE_KNOBS_SIZE];
  measure_outcome outcome;
  char reason[256];       /* "" when ok */
  double median_us;       /* screening median (rough for "slow") */
} tune_candidate;

typedef struct tune_options {
  septune_isa isa;            /* not AUTO */
  int threads;                /* the thread count to tune for (>= 1); the caller pins the
                                 process to that many CPUs: the children inherit it */
  double budget_s;            /* wall-clock seconds for the whole shape */
  size_t max_candidates;      /* 0: no limit */
  unsigned long long seed;
  size_t exhaustive_max;      /* spaces up to this size are searched entirely */
  double screen_ms;           /* timing per candidate (measure_options) */
  double prune_factor;        /* prune a candidate slower than this x the best; <= 1: none */
  double timeout_ms;          /* per candidate child */
  size_t finalists;           /* re-measured besides the default (1..MEASURE_MAX_FINALISTS-1) */
  /* Test hooks (depthwise only): the n-th candidate after the default
   * (1-based; 0 = none) is replaced by a crashing / wrong / hanging kernel. */
  size_t inject_crash_at, inject_wrong_at, inject_hang_at;
  /* Called after each candidate; may be NULL. */
  void (*progress)(void *ctx, size_t done, size_t space, const tune_candidate *last);
  void *progress_ctx;
} tune_options;

/* Fills *o with the defaults: 2 s, no candidate limit, seed 1, exhaustive up
 * to 48 configurations, 3 ms screening, prune at 2x, 2 s timeout, 3
 * finalists, the best ISA of this CPU, one thread. */
void tune_options_default(tune_options *o);

typedef struct tune_result {
  int ok;                     /* a kernel was chosen */
  char why[320];              /* when !ok: why the layer could not be tuned */
  septune_isa isa;
  int threads;                /* what it was tuned for */
  char default_knobs[SEPTUNE_KNOBS_SIZE];
  char knobs[SEPTUNE_KNOBS_SIZE];            /* the chosen config (may equal the default) */
  bench_stats default_time;   /* interleaved final measurement */
  bench_stats tuned_time;
  size_t space_size;          /* configurations of the knob space and of the split space */
  size_t split_space_size;    /* of them the split space's */
  int exhaustive;             /* strategy used */
  tune_candidate *cands;      /* every candidate in the order measured */
  size_t n_cands;
  size_t rejected;            /* candidates not ok */
  double seconds;             /* wall time spent on the shape */
} tune_result;

/* Tunes op (a block: tune_block). Returns 0 and fills *r (r->ok says
 * whether a kernel was chosen; when not, r->why says why), or -1 on out of
 * memory. */
int tune_layer(const septune_op *op, const tune_options *o, tune_result *r);

/* Tunes a block's band knob (tune_block.c): candidate bands made into plans
 * in this process (the stages' kernels are the library's), checked against
 * the reference, timed, the fastest re-measured interleaved with the
 * default. Returns as tune_layer; r->knobs is "band=R". */
int tune_block(const septune_op *op, const tune_options *o, tune_result *r);

void tune_result_free(tune_result *r);

#endif

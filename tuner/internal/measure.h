/*
 * measure.h — checking and timing one candidate kernel for the tuner, in a
 * child process so that a kernel that crashes or hangs cannot take the tuner
 * down with it.
 *
 * The plan (render, JIT, packing) is built in the tuner process; the child
 * is forked after that and only runs the kernel, compares its output with
 * the reference (layer_data.want) and times it. It never touches Lua or
 * libtcc. Results come back through a pipe; the parent waits with a timeout.
 */
#ifndef SEPTUNE_MEASURE_H
#define SEPTUNE_MEASURE_H

#include <stddef.h>

#include "layer_data.h"
#include "plan.h"
#include "septune.h"
#include "timing.h"

typedef enum measure_outcome {
  MEASURE_OK = 0,
  MEASURE_UNSUPPORTED,  /* the generator refused the knobs for this shape/ISA */
  MEASURE_COMPILE,      /* render or libtcc failed */
  MEASURE_WRONG,        /* output differs from the reference */
  MEASURE_CRASHED,      /* the child died (SIGSEGV, SIGILL, SIGFPE, ...) */
  MEASURE_TIMEOUT,      /* the child did not answer in time and was killed */
  MEASURE_SLOW,         /* pruned: far slower than the best so far */
  MEASURE_ERROR         /* anything else (fork failed, execute refused, ...) */
} measure_outcome;

/* "ok", "unsupported", "compile", "wrong", "crashed", "timeout", "slow", "error". */
const char *measure_outcome_name(measure_outcome o);

typedef struct measure_result {
  measure_outcome outcome;
  char reason[256];       /* one line; "" when ok */
  char knobs[SEPTUNE_KNOBS_SIZE]; /* measure_candidate: the plan's complete knobs (the split
                                     filled in); "" when no plan was made */
  bench_stats time;       /* when ok (and a rough median_us when slow) */
  double max_abs_error;   /* of the checked output */
} measure_result;

/* The test-only stand-ins for a kernel: a crash (a store to an unmapped
 * address), a wrong answer (writes nothing), and a hang (never returns).
 * They are run with a depthwise plan's packed data through
 * septune_plan_execute_with. */
typedef enum measure_inject {
  MEASURE_INJECT_NONE = 0,
  MEASURE_INJECT_CRASH,
  MEASURE_INJECT_WRONG,
  MEASURE_INJECT_HANG
} measure_inject;

typedef struct measure_options {
  double screen_ms;     /* minimum timing duration (bench_measure); <= 0: 3 ms */
  double prune_us;      /* > 0: a candidate whose first calls all take longer
                           than this per call is stopped as MEASURE_SLOW */
  double timeout_ms;    /* kill the child after this long; <= 0: 2000 ms */
  measure_inject inject;/* test hook, depthwise only; NONE in real tunes */
  int threads;          /* measure_candidate: the plan's threads (its knobs are for
                           them, it runs on them); <= 0: 1 */
} measure_options;

/* Checks and times `plan` on d's tensors in a child process. Always fills
 * *r; r->outcome says what happened and r->reason why (e.g. "crashed
 * (SIGSEGV)", "wrong answer: max |error| 1.2 at element 17"). */
void measure_plan(const septune_plan *plan, const layer_data *d, const measure_options *o, measure_result *r);

/* Builds the plan for (op, isa, knobs, o->threads) and measures it as
 * measure_plan: the plan is made here, its threads in the child that runs
 * it (the library makes its pools again after fork). Build failures come
 * back as MEASURE_UNSUPPORTED or MEASURE_COMPILE with the library's
 * message. d must have been made for op. */
void measure_candidate(const septune_op *op, septune_isa isa, const char *knobs, const layer_data *d,
                       const measure_options *o, measure_result *r);

/* Re-measures k (<= MEASURE_MAX_FINALISTS) plans interleaved, round by
 * round, in one child (each checked once more before timing), so that noise
 * falls on all of them alike. rounds/round_ms as bench_measure_interleaved.
 * Fills out[0..k) and returns MEASURE_OK, or the outcome that stopped it
 * with the reason in `why`. */
#define MEASURE_MAX_FINALISTS 8
measure_outcome measure_finalists(const septune_plan *const plans[], size_t k, const layer_data *d, int rounds,
                                  double round_ms, double timeout_ms, bench_stats out[], char *why,
                                  size_t why_size);

#endif

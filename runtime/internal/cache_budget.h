/*
 * cache_budget.h — the numbers the tiling heuristics decide by: how much of
 * each cache a layer, a weight panel or a band of rows may take, and the
 * score of a pointwise register tile, and how many threads a layer pays
 * for. The generator's default knobs (Lua, handed these by generator.c) and
 * the generic kernels (generic_kernels.c) read them here, so both decide
 * alike on the same machine.
 */
#ifndef SEPTUNE_CACHE_BUDGET_H
#define SEPTUNE_CACHE_BUDGET_H

#include <stddef.h>

#include "internal.h"

typedef struct septune_cache_budget {
  septune_caches caches;  /* the sizes the budgets below come from */
  size_t resident;  /* a layer whose tensors take at most this stays in L2: 3/4 of L2 */
  size_t panel;     /* pointwise: one weight panel's K block, kept in L1: 2/3 of L1d */
  size_t m_block;   /* pointwise: the input rows of one M block, kept in L2: 1/8 of L2 */
  size_t dw_band;   /* generic depthwise: a band's input and output rows, in L2: 1/4 of L2 */
} septune_cache_budget;

/* The budgets for `caches`, sizes it does not know (0) taken from the
 * machine the shares were measured on (L1d 48 KiB, L2 2 MiB, L3 32 MiB):
 * there they give 1.5 MiB, 32 KiB, 256 KiB and 512 KiB. */
void septune_cache_budget_of(const septune_caches *caches, septune_cache_budget *budget);

/* The budgets of this CPU (septune_cpu_caches). */
void septune_cpu_cache_budget(septune_cache_budget *budget);

/* The score of a pointwise register tile of mr rows x `vectors` vectors
 * (nr floats) on a layer of `pixels` pixels and co output channels; the
 * best tile has the highest. The share of the padded work that is real,
 * lowered by loads per FMA above 0.45 (the FMA ports want few), raised by a
 * tenth for a layer that streams from beyond L2 (`streaming`) when one panel
 * covers co, so each output row is written in one pass. */
static inline double septune_pw_tile_score(double pixels, double co, double mr, double vectors, double nr,
                                           int streaming)
{
  double fill_co = co / ((double)(long long)((co + nr - 1) / nr) * nr);
  double fill_px = pixels / ((double)(long long)((pixels + mr - 1) / mr) * mr);
  double loads = (mr + vectors) / (mr * vectors);
  double score = fill_co * fill_px * (1.0 - 0.25 * (loads > 0.45 ? loads - 0.45 : 0.0));
  if (streaming && nr >= co) score *= 1.1;
  return score;
}

/* Floating-point operations a woken thread must get to pay for waking it
 * and waiting for it. Measured on a 2-vCPU Zen 5 VM with each CPU kept
 * awake (bench_knobs --threads 2, th=1 against th=2): a split costs about
 * 2.4 us (pw 14x14 192>64: 22.7 us -> 13.9 us), a depthwise layer of 0.5
 * MFLOP ran 2% slower on 2 threads and one of 1.35 MFLOP 1.26x faster; but
 * in bench_layers, between the peers' runs, the 14x14 and 7x7 depthwise
 * layers (0.5-1.35 MFLOP, 5-8 us) ran 1.2-4x slower split than not, the
 * other vCPU late to join. So 2 threads from 2 MFLOP (about 10 us of one
 * core's work) on: a layer split on T threads must not be slower than on 1. */
#define SEPTUNE_FLOPS_PER_THREAD 1000000.0

/* The threads worth waking for a layer of `flops` on a plan of `threads`:
 * one per SEPTUNE_FLOPS_PER_THREAD, at least 1, at most `threads`. The
 * generator's default split (knob th) and the generic kernels decide by it. */
static inline int septune_threads_worth(double flops, int threads)
{
  double worth = flops / SEPTUNE_FLOPS_PER_THREAD;
  if (threads < 1) return 1;
  if (worth >= (double)threads) return threads;
  return worth < 1.0 ? 1 : (int)worth;
}

#endif /* SEPTUNE_CACHE_BUDGET_H */

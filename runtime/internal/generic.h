/*
 * generic.h — the generic kernels of libseptune_rt: one depthwise and one
 * pointwise kernel for any shape, built by the system compiler once per x86
 * ISA (and once portable), for layers no emitted table covers.
 */
#ifndef SEPTUNE_GENERIC_H
#define SEPTUNE_GENERIC_H

#include <stddef.h>

#include "cache_budget.h"
#include "septune.h"

/* Like the generated kernels (septune_kernel_table.h), each kernel cuts an
 * image's work into items for a plan of `threads` threads and runs items
 * [begin, end) of the d->n images' d->n * work; the output does not depend
 * on how the items are shared out. Call work and the kernel with the same
 * d (but for n), b and threads. */
typedef struct septune_generic_kernels {
  septune_isa isa; /* the ISA this variant was compiled for */

  /* Depthwise on a multiplier-1 view: d->multiplier is 1 and d->c is the
   * layer's c*m (the plan expands the input). packed: rows of
   * co_pad = round_up(d->c, SEPTUNE_KERNEL_PACK_LANES) floats, the bias
   * (zeros when none) then one row per tap in [kh][kw] order
   * (septune_kernel_table.h). */
  long (*dw_work)(const septune_depthwise_desc *d, const septune_cache_budget *b, int threads);
  void (*dw)(const septune_depthwise_desc *d, const septune_cache_budget *b, int threads, const float *packed,
             const float *in, float *out, long begin, long end);

  /* Pointwise: the variant's own packed layout, which depends on the
   * budgets: pack and run with the same b. */
  size_t (*pw_packed_floats)(const septune_pointwise_desc *d, const septune_cache_budget *b);
  void (*pw_pack)(const septune_pointwise_desc *d, const septune_cache_budget *b, const float *weights,
                  const float *bias /* NULL: none */, float *packed);
  long (*pw_work)(const septune_pointwise_desc *d, const septune_cache_budget *b, int threads);
  void (*pw)(const septune_pointwise_desc *d, const septune_cache_budget *b, int threads, const float *packed,
             const float *in, float *out, long begin, long end);
} septune_generic_kernels;

/* The widest variant built into this library that the CPU can run and that
 * is not wider than `isa` (AUTO: the best). Never NULL: the portable variant
 * serves every CPU. */
const septune_generic_kernels *septune_generic_select(septune_isa isa);

#endif /* SEPTUNE_GENERIC_H */
